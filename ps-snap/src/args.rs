//! The command line: the options and what they select. `command()` is the
//! one definition (`--help`, the man-page test and the completions use
//! it); [`Options`] is what it resolves to, and nothing past the entry
//! point sees the argument parser.

use clap::{Arg, ArgAction, ArgMatches, Command};

use common::cli::{self, Format};
use common::names::Names;
use common::{Error, Result, Root};

/// What the command line asked for, resolved.
#[derive(Debug)]
pub struct Options {
    pub root: Root,
    pub format: Format,
    /// `--deleted`: only what runs old code, and the kernel.
    pub deleted_only: bool,
    /// `--no-maps`: /proc/PID/maps is not read.
    pub no_maps: bool,
    /// `--pid`: only these (None: every process).
    pub pids: Option<Vec<u32>>,
    /// `--user`, names resolved to uids: only processes of these.
    pub users: Option<Vec<u32>>,
}

impl Options {
    /// The options of this process's command line; bad ones (and a user
    /// name the user database does not know) are exit 2.
    pub fn from_args() -> Result<Options> {
        Options::from_matches(&cli::parse(command())?)
    }

    fn from_matches(m: &ArgMatches) -> Result<Options> {
        let root = cli::root_of(m)?;
        let users = uids(m.get_many::<String>("user"), &root)?;
        Ok(Options {
            format: cli::format_of(m),
            deleted_only: m.get_flag("deleted"),
            no_maps: m.get_flag("no-maps"),
            pids: m.get_many::<u32>("pid").map(|v| v.copied().collect()),
            users,
            root,
        })
    }
}

/// The uids of `--user` values: numbers as they are, names from the user
/// database of `root` (read once, and only if a name is given).
fn uids<'a>(
    values: Option<impl Iterator<Item = &'a String>>,
    root: &Root,
) -> Result<Option<Vec<u32>>> {
    let Some(values) = values else {
        return Ok(None);
    };
    let mut ids = Vec::new();
    // Read the user database once, and only if a name is given.
    let mut names: Option<Names> = None;
    for v in values {
        let id = match v.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => names.get_or_insert_with(|| Names::new(root)).uid_of(v),
        };
        let Some(id) = id else {
            return Err(Error::new(format!(
                "--user {v}: no such user (give a name from {} or a numeric uid)",
                if root.is_live() {
                    "the user database".to_owned()
                } else {
                    root.path("/etc/passwd").display().to_string()
                }
            )));
        };
        ids.push(id);
    }
    Ok(Some(ids))
}

/// The command line.
pub fn command() -> Command {
    cli::command(
        "ps-snap",
        env!("CARGO_PKG_VERSION"),
        "Snapshot every process as JSON Lines, with the deleted code each still runs",
    )
    .long_about(
        "Write one `process` record per process (kernel threads and zombies \
         included, in pid order, ps-snap itself left out) as JSON Lines: ids and \
         names, state, tty, start time, argv argument by argument, executable, \
         cgroup and systemd unit, memory and CPU time, and the code the process \
         still runs although it was deleted or replaced on disk since it \
         started: its executable, every file it mapped with execute permission \
         (wherever it lives, /tmp and /dev/shm included; data files, fonts and \
         shared memory are no code), and the script a python, perl, ruby or \
         shell (sh, bash, dash, zsh, ksh, mksh) interpreter runs; for each, \
         the package that owns its path now (dpkg). The file now at a path is \
         looked up in the process's own root, so containers are judged by \
         their own files. Take one before and one after the patches and \
         compare them with snap-diff.",
    )
    .arg(cli::root_arg())
    .arg(cli::format_arg())
    .arg(
        Arg::new("deleted")
            .long("deleted")
            .action(ArgAction::SetTrue)
            .help(
                "Show only what runs old code: processes whose executable, mapped \
                 code or script was deleted or replaced since they started, with \
                 what to restart (`restart`), and a `kernel` record when the \
                 running kernel is older than the one the boot loader starts next \
                 (boot-check's reading of the default entry) or was removed. The \
                 text view groups them by what to restart, with the command to \
                 type. Exit status 1 when anything is listed, 0 when nothing runs \
                 old code",
            ),
    )
    .arg(
        Arg::new("no-maps")
            .long("no-maps")
            .action(ArgAction::SetTrue)
            .conflicts_with("deleted")
            .help(
                "Do not read /proc/PID/maps: faster, but deleted_maps and \
                 stale_files are null in every record",
            ),
    )
    .arg(
        Arg::new("pid")
            .short('p')
            .long("pid")
            .value_name("PID,...")
            .value_delimiter(',')
            .action(ArgAction::Append)
            .value_parser(clap::value_parser!(u32))
            .help("Show only these process ids (comma-separated or repeated)"),
    )
    .arg(
        Arg::new("user")
            .short('u')
            .long("user")
            .value_name("USER,...")
            .value_delimiter(',')
            .action(ArgAction::Append)
            .help(
                "Show only processes whose effective user is one of these names or \
                 numeric uids (comma-separated or repeated)",
            ),
    )
    .after_help(
        "Examples:\n  \
         ps-snap > before.json                      # snapshot before the patches\n  \
         ps-snap --deleted --format text            # what still runs old code, by unit\n  \
         ps-snap --deleted | jq -r '.restart.command // empty | @sh' | sort -u\n  \
         ps-snap --deleted >/dev/null || echo 'something runs old code'\n\n\
         Exit status: 0 success (with --deleted: nothing runs old code), 1 with\n\
         --deleted: something runs old code, 2 trouble.\n\n\
         Under --root, clock ticks are taken as 100 per second and pages as 4096 bytes;\n\
         there is no running kernel to judge, and stale paths are looked up in DIR.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(root: &std::path::Path, args: &[&str]) -> Result<Options> {
        let m = cli::parse_from(
            command(),
            ["ps-snap".as_ref(), "--root".as_ref(), root.as_os_str()]
                .into_iter()
                .chain(args.iter().map(std::ffi::OsStr::new)),
        )?;
        Options::from_matches(&m)
    }

    #[test]
    fn users_by_number_or_by_name_of_the_roots_passwd() {
        let dir = std::env::temp_dir().join(format!("ps-snap-args-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("etc")).expect("mkdir");
        std::fs::write(
            dir.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33::/var/www:/bin/sh\n",
        )
        .expect("passwd");
        let o = parse(&dir, &["-u", "www,7", "--user=root", "-p", "3,1"]).expect("parse");
        assert_eq!(o.users, Some(vec![33, 7, 0]));
        assert_eq!(o.pids, Some(vec![3, 1]));
        assert!(!o.deleted_only && !o.no_maps);
        assert_eq!(o.format, Format::Json);
        let e = parse(&dir, &["-u", "nobody"]).expect_err("unknown user");
        assert_eq!(e.code(), 2);
        assert!(
            e.message().starts_with("--user nobody: no such user"),
            "{e:?}"
        );
        assert!(e.message().contains("etc/passwd"), "{e:?}");
        let o = parse(&dir, &["--deleted", "--format", "text"]).expect("parse");
        assert!(o.deleted_only && o.users.is_none() && o.pids.is_none());
        assert_eq!(
            parse(&dir, &["--deleted", "--no-maps"])
                .expect_err("conflict")
                .code(),
            2
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
