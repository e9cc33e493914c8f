//! The command line: one clap definition ([`command`], which the man-page
//! test and the completions also use), read once into [`Options`]. Past
//! [`Options::from_args`] nothing sees the argument parser: paths are
//! system paths (raw bytes, absolute, normalized), IDs are checked, the
//! format is an enum.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};
use common::bytes::display;
use common::cli::{self, format_arg, root_arg, Format};
use common::{Error, Result, Root};

use crate::model::normalize;
use crate::store;

/// What the command line asked for, resolved.
#[derive(Debug)]
pub struct Options {
    pub store: StoreDir,
    pub root: Root,
    pub format: Format,
    pub command: Cmd,
}

/// Where the backups are, and whether the user named it (`--store` or
/// CFG_BACKUP_STORE), so that a suggested undo command names it too.
#[derive(Debug, Clone)]
pub struct StoreDir {
    pub dir: PathBuf,
    pub given: bool,
}

/// The subcommand and its own options.
#[derive(Debug)]
pub enum Cmd {
    Save(SaveArgs),
    List,
    Show(Selection),
    Diff(Selection),
    Verify(VerifyArgs),
    Restore(RestoreArgs),
}

/// `save`.
#[derive(Debug)]
pub struct SaveArgs {
    /// `--package NAME`, each once, in the order given.
    pub packages: Vec<String>,
    pub with_related: bool,
    pub label: Option<String>,
    pub keep_going: bool,
    /// The paths to walk, as system paths (not yet resolved through the
    /// live system's symlinks: that is the save's work).
    pub paths: Vec<Vec<u8>>,
}

/// `[ID] [PATH]...` of `show`, `diff` and `restore`.
#[derive(Debug, Default)]
pub struct Selection {
    /// A valid backup ID or prefix; `None`: the newest.
    pub id: Option<String>,
    /// System paths; empty: all.
    pub paths: Vec<Vec<u8>>,
}

/// `verify`.
#[derive(Debug)]
pub struct VerifyArgs {
    pub all: bool,
    pub id: Option<String>,
}

/// `restore`.
#[derive(Debug)]
pub struct RestoreArgs {
    pub select: Selection,
    pub to: Option<PathBuf>,
    pub dry_run: bool,
}

impl Options {
    /// The options of this process's command line; bad ones are exit 2.
    pub fn from_args() -> Result<Options> {
        Options::from_matches(&cli::parse(command())?)
    }

    /// The options of explicit arguments (tests).
    #[cfg(test)]
    fn from_iter<I, T>(args: I) -> Result<Options>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        Options::from_matches(&cli::parse_from(command(), args)?)
    }

    fn from_matches(m: &ArgMatches) -> Result<Options> {
        let Some((sub, sm)) = m.subcommand() else {
            return Err(Error::new("no subcommand; see cfg-backup --help"));
        };
        let root = cli::root_of(sm)?;
        let format = cli::format_of(sm);
        let store = match sm.get_one::<PathBuf>("store") {
            Some(d) if !d.as_os_str().is_empty() => StoreDir {
                dir: d.clone(),
                given: true,
            },
            given => StoreDir {
                dir: store::default_dir()?,
                given: given.is_some(),
            },
        };
        let command = match sub {
            "save" => Cmd::Save(SaveArgs::from_matches(sm, &root)?),
            "list" => Cmd::List,
            // `show` reads only the store: its paths are the live system's.
            "show" => Cmd::Show(Selection::from_matches(sm, &Root::live())?),
            "diff" => Cmd::Diff(Selection::from_matches(sm, &root)?),
            "verify" => Cmd::Verify(VerifyArgs {
                all: sm.get_flag("all"),
                id: sm.get_one::<String>("id").cloned(),
            }),
            "restore" => Cmd::Restore(RestoreArgs {
                select: Selection::from_matches(sm, &root)?,
                to: sm.get_one::<PathBuf>("to").cloned(),
                dry_run: sm.get_flag("dry-run"),
            }),
            other => return Err(Error::new(format!("unknown subcommand {other}"))),
        };
        Ok(Options {
            store,
            root,
            format,
            command,
        })
    }
}

impl SaveArgs {
    fn from_matches(sm: &ArgMatches, root: &Root) -> Result<SaveArgs> {
        let mut packages: Vec<String> = Vec::new();
        for n in sm.get_many::<String>("package").into_iter().flatten() {
            if !packages.contains(n) {
                packages.push(n.clone());
            }
        }
        let paths = sm
            .get_many::<OsString>("paths")
            .into_iter()
            .flatten()
            .map(|a| system_path(a, root))
            .collect::<Result<Vec<_>>>()?;
        Ok(SaveArgs {
            packages,
            with_related: sm.get_flag("with-related"),
            label: sm.get_one::<String>("label").cloned(),
            keep_going: sm.get_flag("keep-going"),
            paths,
        })
    }
}

impl Selection {
    /// Split `[ID] [PATH]...`: the first argument is an ID unless it
    /// starts with `/`.
    fn from_matches(sm: &ArgMatches, root: &Root) -> Result<Selection> {
        let args: Vec<&OsString> = sm
            .get_many::<OsString>("args")
            .map(Iterator::collect)
            .unwrap_or_default();
        let mut id = None;
        let mut rest = &args[..];
        if let Some(first) = args.first() {
            if first.as_bytes().first() != Some(&b'/') {
                id = Some(
                    first
                        .to_str()
                        .filter(|s| store::valid_id(s))
                        .ok_or_else(|| {
                            Error::new(format!(
                                "{}: not a backup ID (paths must be absolute, IDs look like 20261126-070000)",
                                display(first.as_bytes())
                            ))
                        })?
                        .to_owned(),
                );
                rest = &args[1..];
            }
        }
        let paths = rest
            .iter()
            .map(|p| system_path(p, root))
            .collect::<Result<Vec<_>>>()?;
        Ok(Selection { id, paths })
    }
}

/// A path from the command line as a normalized system path. Relative
/// paths are taken from the working directory on the live system only.
fn system_path(arg: &OsString, root: &Root) -> Result<Vec<u8>> {
    let raw = arg.as_bytes();
    let abs = if raw.first() == Some(&b'/') {
        raw.to_vec()
    } else if root.is_live() {
        let cwd = std::env::current_dir()
            .map_err(|e| Error::new(format!("the working directory: {e}")))?;
        let mut v = cwd.as_os_str().as_bytes().to_vec();
        v.push(b'/');
        v.extend_from_slice(raw);
        v
    } else {
        return Err(Error::new(format!(
            "{}: under --root give absolute system paths (like /etc/ssh)",
            display(raw)
        )));
    };
    normalize(&abs).map_err(|why| Error::new(format!("{}: {why}", display(raw))))
}

fn id_and_paths(help_paths: &'static str) -> Arg {
    Arg::new("args")
        .value_name("ID|PATH")
        .num_args(0..)
        .value_parser(value_parser!(OsString))
        .help(help_paths)
}

/// The command line.
pub fn command() -> Command {
    let store = Arg::new("store")
        .long("store")
        .value_name("DIR")
        .env("CFG_BACKUP_STORE")
        .global(true)
        .value_parser(value_parser!(PathBuf))
        .help("Keep backups in DIR (default /var/backups/cfg-backup for root, $XDG_STATE_HOME/cfg-backup or ~/.local/state/cfg-backup otherwise); it is not under --root");
    cli::command(
        "cfg-backup",
        env!("CARGO_PKG_VERSION"),
        "Save configuration files before a patch, show what it changed, put them back",
    )
    .subcommand_required(true)
    .arg(store)
    .arg(root_arg().global(true))
    .arg(format_arg().global(true))
    .after_help(
        "Examples:\n  cfg-backup save --package openssh-server --label 'before CVE fix'\n  cfg-backup diff --format text\n  cfg-backup restore --dry-run 20261126-0700 /etc/ssh/sshd_config",
    )
    .subcommand(
        Command::new("save")
            .about("Copy files, directories and packages' configuration files into the store as one backup")
            .arg(
                Arg::new("package")
                    .long("package")
                    .short('p')
                    .value_name("NAME")
                    .action(ArgAction::Append)
                    .help("Save the configuration files of package NAME (dpkg conffiles, ucf registry, rpm -qc) and record its version; repeatable"),
            )
            .arg(
                Arg::new("with-related")
                    .long("with-related")
                    .action(ArgAction::SetTrue)
                    .requires("package")
                    .help("With --package NAME, also save the configuration files of the installed packages built from the same source as NAME or that NAME depends on directly (nginx's are nginx-common's), and record their versions"),
            )
            .arg(
                Arg::new("label")
                    .long("label")
                    .value_name("TEXT")
                    .help("Describe the backup (shown by list), e.g. the patch it precedes"),
            )
            .arg(
                Arg::new("keep-going")
                    .long("keep-going")
                    .action(ArgAction::SetTrue)
                    .help("Save what can be read and name what was left out, instead of failing on the first unreadable file"),
            )
            .arg(
                Arg::new("paths")
                    .value_name("PATH")
                    .num_args(0..)
                    .value_parser(value_parser!(OsString))
                    .help("Files and directories to save (directories are walked; symlinks are saved, not followed)"),
            ),
    )
    .subcommand(Command::new("list").about("Print the backup record of every backup, oldest first"))
    .subcommand(
        Command::new("show")
            .about("Print a backup's record and its file records")
            .arg(id_and_paths("Backup ID or unique prefix (default: the newest backup made by save), then paths to show (default: all)")),
    )
    .subcommand(
        Command::new("diff")
            .about("Compare a backup with the files as they are now; exit 1 when something changed")
            .arg(id_and_paths("Backup ID or unique prefix (default: the newest backup made by save), then paths to compare (default: all); an argument starting with / is a path")),
    )
    .subcommand(
        Command::new("verify")
            .about("Check that every stored file still hashes to what its manifest says; exit 1 otherwise")
            .arg(
                Arg::new("all")
                    .long("all")
                    .action(ArgAction::SetTrue)
                    .help("Verify every backup in the store, not just one"),
            )
            .arg(
                Arg::new("id")
                    .value_name("ID")
                    .help("Backup ID or unique prefix (default: the newest backup made by save)"),
            ),
    )
    .subcommand(
        Command::new("restore")
            .about("Put saved files back byte for byte, after saving the current state as a new backup")
            .arg(
                Arg::new("to")
                    .long("to")
                    .value_name("DIR")
                    .value_parser(value_parser!(PathBuf))
                    .help("Restore into the tree under DIR (created if missing) instead of --root or /, for a side-by-side look"),
            )
            .arg(
                Arg::new("dry-run")
                    .long("dry-run")
                    .short('n')
                    .action(ArgAction::SetTrue)
                    .help("Print what would be restored and change nothing"),
            )
            .arg(id_and_paths("Backup ID or unique prefix (default: the newest backup made by save), then paths to restore (default: all; a directory restores what lies below it)")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    #[test]
    fn subcommands_resolve_to_typed_options() {
        let o = Options::from_iter([
            "cfg-backup",
            "--store",
            "/s",
            "save",
            "-p",
            "nginx",
            "--package",
            "nginx",
            "-p",
            "ssh",
            "--label",
            "x",
            "/etc//ssh/",
        ])
        .expect("parse");
        assert_eq!(o.store.dir, PathBuf::from("/s"));
        assert!(o.store.given);
        assert_eq!(o.format, Format::Json);
        let Cmd::Save(s) = o.command else {
            panic!("not save: {:?}", o.command)
        };
        assert_eq!(s.packages, ["nginx", "ssh"]);
        assert_eq!(s.label.as_deref(), Some("x"));
        assert_eq!(s.paths, [b"/etc/ssh".to_vec()]);
        assert!(!s.with_related && !s.keep_going);

        let o = Options::from_iter([
            "cfg-backup",
            "restore",
            "--store",
            "/s",
            "--format",
            "text",
            "-n",
            "--to",
            "/t",
            "20261126",
            "/etc/a",
        ])
        .expect("parse");
        assert_eq!(o.format, Format::Text);
        let Cmd::Restore(r) = o.command else {
            panic!("not restore")
        };
        assert!(r.dry_run);
        assert_eq!(r.to, Some(PathBuf::from("/t")));
        assert_eq!(r.select.id.as_deref(), Some("20261126"));
        assert_eq!(r.select.paths, [b"/etc/a".to_vec()]);
    }

    #[test]
    fn paths_and_ids_are_checked_at_the_entry() {
        let e = Options::from_iter(["cfg-backup", "--store", "/s", "diff", "etc/x"])
            .expect_err("an ID that is no ID");
        assert!(e.to_string().contains("not a backup ID"), "{e}");
        // Under --root a relative path has no meaning.
        let tmp = std::env::temp_dir();
        let e = Options::from_iter([
            OsString::from("cfg-backup"),
            "--store".into(),
            "/s".into(),
            "--root".into(),
            tmp.into_os_string(),
            "diff".into(),
            "20261126".into(),
            "etc/x".into(),
        ])
        .expect_err("relative under --root");
        assert!(e.to_string().contains("absolute system paths"), "{e}");
        let e = Options::from_iter(["cfg-backup", "--store", "/s", "show", "/etc/../x"])
            .expect_err("..");
        assert!(e.to_string().contains("`..`"), "{e}");
        // A path that is not UTF-8 is a path like any other.
        let arg = OsString::from_vec(b"/etc/caf\xe9".to_vec());
        let o = Options::from_iter([
            OsString::from("cfg-backup"),
            OsString::from("--store"),
            OsString::from("/s"),
            OsString::from("save"),
            arg,
        ])
        .expect("parse");
        let Cmd::Save(s) = o.command else {
            panic!("not save")
        };
        assert_eq!(s.paths, [b"/etc/caf\xe9".to_vec()]);
    }
}
