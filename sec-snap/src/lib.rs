//! sec-snap: one `setting` record per security setting in force, for the
//! patch-day snapshot before and after the patches (`sec-snap >
//! before-sec.json`, later `sec-snap | snap-diff before-sec.json -`), so
//! that a patch that turns a kernel parameter, adds a setuid binary,
//! changes a firewall rule, an AppArmor profile's mode or an sshd default
//! is seen.
//!
//! One module per area: [`sysctl`], [`files`] (with [`caps`] and
//! [`owners`]), [`lsm`], [`firewall`], [`sshd`]. This file holds the
//! options, runs the areas (the file walk beside the rest) and writes the
//! records once every area is read, so trouble never leaves half a
//! snapshot behind.

pub mod caps;
pub mod files;
pub mod firewall;
pub mod lsm;
pub mod owners;
pub mod sshd;
pub mod sysctl;

use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::Value;

use common::bytes::{bytes_value, display_value};
use common::cli::{self, Format};
use common::names::Names;
use common::records::setting::{Detail, Setting, AREAS};
use common::{Error, Out, Result, Root, Status};

/// The `sec-snap` binary.
pub fn main() -> ExitCode {
    common::run("sec-snap", || {
        let m = cli::parse(command())?;
        run(&m)
    })
}

/// The command line.
pub fn command() -> Command {
    cli::command(
        "sec-snap",
        env!("CARGO_PKG_VERSION"),
        "Snapshot the security settings in force as JSON Lines: kernel parameters, \
         privileged files, MAC, firewall, sshd",
    )
    .long_about(
        "Write one `setting` record per security setting as JSON Lines: every kernel \
         parameter under /proc/sys as `sysctl -a` shows it, with the value sysctl.d \
         configures for the next boot and whether the two differ (sysctl); every \
         setuid or setgid file and every executable with file capabilities on the \
         root file system, with owner, mode, capabilities as getcap prints them and \
         the package that owns it (file); the security modules, SELinux's mode or \
         AppArmor's profiles (lsm); the nftables ruleset, one record per chain and \
         rule, and legacy iptables rules where in use (firewall); the effective ssh \
         daemon configuration from `sshd -T` (sshd). Take one before and one after \
         the patches and compare them with snap-diff.",
    )
    .arg(cli::root_arg().long_help(
        "Read the system under DIR instead of /: the configured kernel parameters \
         (DIR/etc/sysctl.d, ...), the privileged files under DIR (on DIR's file \
         system), the SELinux configuration and the sshd configuration files. \
         Running kernel parameters, security modules, the firewall and `sshd -T` \
         need a live system: under DIR they are read only from DIR/proc/sys and \
         DIR/sys where those exist, and otherwise written with a null value and \
         the reason",
    ))
    .arg(cli::format_arg())
    .arg(
        Arg::new("area")
            .short('a')
            .long("area")
            .value_name("AREA,...")
            .value_delimiter(',')
            .action(ArgAction::Append)
            .value_parser(AREAS)
            .help(
                "Read only these areas: sysctl, file, lsm, firewall, sshd \
                 (comma-separated or repeated; default all)",
            ),
    )
    .arg(
        Arg::new("counters")
            .long("counters")
            .action(ArgAction::SetTrue)
            .help(
                "Also write the kernel's statistics under /proc/sys that change by \
                 themselves (fs.file-nr, fs.dentry-state, kernel.random.uuid, ...), \
                 which are left out by default",
            ),
    )
    .after_help(
        "Examples:\n  \
         sec-snap > before-sec.json                  # before the patches\n  \
         sec-snap | snap-diff before-sec.json -      # what the patches changed\n  \
         sec-snap -a sysctl | jq -r 'select(.differs) | .name'\n  \
         sec-snap -a file --format text              # setuid, setgid, capabilities\n  \
         sec-snap --root /mnt -a sysctl,file,sshd    # a mounted system, offline",
    )
}

/// The selection and output options.
#[derive(Debug, Clone)]
pub struct Opts {
    pub format: Format,
    pub areas: Vec<String>,
    pub counters: bool,
}

impl Opts {
    fn wants(&self, area: &str) -> bool {
        self.areas.iter().any(|a| a == area)
    }
}

/// Run with parsed arguments.
pub fn run(m: &ArgMatches) -> Result<Status> {
    let root = cli::root_of(m)?;
    let mut areas: Vec<String> = match m.get_many::<String>("area") {
        Some(v) => v.cloned().collect(),
        None => AREAS.iter().map(|s| (*s).to_owned()).collect(),
    };
    areas.sort_by_key(|a| AREAS.iter().position(|x| x == a));
    areas.dedup();
    let opts = Opts {
        format: cli::format_of(m),
        areas,
        counters: m.get_flag("counters"),
    };
    let (settings, notes) = snapshot(&root, &opts)?;
    let mut out = Out::stdout();
    write(&settings, opts.format, &mut out)?;
    out.finish()?;
    for n in notes {
        eprintln!("sec-snap: {n}");
    }
    Ok(Status::Ok)
}

/// At most this many walker threads.
const MAX_THREADS: usize = 4;

/// Every setting of the chosen areas, in area order, and the summary
/// lines of what could not be read.
pub fn snapshot(root: &Root, opts: &Opts) -> Result<(Vec<Setting>, Vec<String>)> {
    let host = root.hostname();
    let mut notes = Vec::new();
    // The file walk is the long part: the other areas are read beside it.
    let (file_part, rest) = std::thread::scope(|s| {
        let walker = opts
            .wants("file")
            .then(|| s.spawn(|| file_settings(root, &host)));
        let rest = other_settings(root, &host, opts);
        let file_part = walker.map(|h| {
            h.join()
                .unwrap_or_else(|_| Err(Error::new("the file walk failed")))
        });
        (file_part, rest)
    });
    let mut rest = rest?;
    let mut all = Vec::new();
    all.append(&mut rest.0);
    if let Some(f) = file_part {
        let (mut files, note) = f?;
        all.append(&mut files);
        notes.extend(note);
    }
    all.append(&mut rest.1);
    Ok((all, notes))
}

/// sysctl (before the files) and lsm, firewall, sshd (after them).
type Split = (Vec<Setting>, Vec<Setting>);

fn other_settings(root: &Root, host: &Option<String>, opts: &Opts) -> Result<Split> {
    let mut before = Vec::new();
    let mut after = Vec::new();
    if opts.wants("sysctl") {
        before = sysctl::settings(root, host, opts.counters)?;
    }
    if opts.wants("lsm") {
        after.extend(lsm::settings(root, host));
    }
    if opts.wants("firewall") {
        after.extend(firewall::settings(host, root.is_live()));
    }
    if opts.wants("sshd") {
        after.extend(sshd::settings(root, host)?);
    }
    Ok((before, after))
}

fn file_settings(root: &Root, host: &Option<String>) -> Result<(Vec<Setting>, Option<String>)> {
    let top = root.path("/");
    // Asking how many CPUs we may use reads the live /proc/self, which
    // --root promises not to touch; a mounted system is still worth two.
    let threads = if root.is_live() {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_THREADS)
    } else {
        2
    };
    let (found, unread) = files::walk(&top, threads).map_err(|e| {
        Error::io(&top, &e).context("cannot walk the file system for privileged files")
    })?;
    let sys_paths: Vec<Vec<u8>> = found
        .iter()
        .map(|f| {
            root.system_path(&f.path)
                .map_or_else(|| owners::bytes_of(&f.path), |p| owners::bytes_of(&p))
        })
        .collect();
    let owners = owners::owners(root, &sys_paths);
    let mut names = Names::new(root);
    let known = caps::known_caps(root.is_live());
    let mut out = Vec::with_capacity(found.len());
    for (f, path) in found.iter().zip(&sys_paths) {
        let capabilities = f.caps.as_deref().map(|raw| match caps::decode(raw) {
            Some(c) => c.to_text(known),
            None => format!("(not a capability set: {} bytes)", raw.len()),
        });
        out.push(Setting::new(
            host.clone(),
            bytes_value(path),
            Value::from(files::mode_string(f.mode)),
            Detail::File {
                mode: Some(format!("{:04o}", f.mode & 0o7777)),
                uid: Some(f.uid),
                gid: Some(f.gid),
                user: names.user(f.uid),
                group: names.group(f.gid),
                setuid: f.mode & 0o4000 != 0,
                setgid: f.mode & 0o2000 != 0,
                capabilities,
                package: owners.get(path).cloned(),
            },
        ));
    }
    let note = (unread.dirs + unread.entries > 0).then(|| {
        let why = unread
            .errno
            .map(|e| common::error::describe_io(&std::io::Error::from_raw_os_error(e)))
            .unwrap_or_else(|| "unknown error".into());
        format!(
            "partial file walk: {} directories and {} files could not be read ({why}); \
             privileged files there are missing",
            unread.dirs, unread.entries
        )
    });
    Ok((out, note))
}

/// Write the settings as JSON Lines or text.
pub fn write<W: std::io::Write>(
    settings: &[Setting],
    format: Format,
    out: &mut Out<W>,
) -> Result<()> {
    let mut buf = Vec::with_capacity(512);
    for s in settings {
        buf.clear();
        match format {
            Format::Json => {
                serde_json::to_writer(&mut buf, s)
                    .map_err(|e| Error::new(format!("encoding a record: {e}")))?;
                buf.push(b'\n');
            }
            Format::Text => {
                buf.extend_from_slice(text_line(s).as_bytes());
                buf.push(b'\n');
            }
        }
        out.raw(&buf)?;
    }
    Ok(())
}

/// One line for people: `AREA NAME VALUE` and what the area adds.
pub fn text_line(s: &Setting) -> String {
    let name = display_value(&s.name);
    let value = match &s.value {
        Value::Null => format!("- ({})", s.reason.as_deref().unwrap_or("unknown")),
        v => display_value(v),
    };
    let mut line = format!("{:<8} {name} = {value}", s.area());
    match &s.detail {
        Detail::Sysctl {
            configured: Some(c),
            configured_file,
            configured_line,
            differs,
        } => {
            let file = configured_file
                .as_ref()
                .map(display_value)
                .unwrap_or_default();
            line.push_str(&format!(
                "  [boot: {c} from {file}:{}{}]",
                configured_line.unwrap_or(0),
                if *differs == Some(true) {
                    ", DIFFERS"
                } else {
                    ""
                }
            ));
        }
        Detail::File {
            user,
            group,
            uid,
            gid,
            capabilities,
            package,
            ..
        } => {
            let who = |n: &Option<String>, id: &Option<u32>| {
                n.clone()
                    .or_else(|| id.map(|i| i.to_string()))
                    .unwrap_or_else(|| "-".into())
            };
            line.push_str(&format!("  {} {}", who(user, uid), who(group, gid)));
            if let Some(c) = capabilities {
                line.push_str(&format!("  {c}"));
            }
            line.push_str(&format!(
                "  [{}]",
                package.as_deref().unwrap_or("no package")
            ));
        }
        Detail::Sshd {
            configured_file: Some(f),
            configured_line,
            ..
        } => line.push_str(&format!(
            "  [{}:{}]",
            display_value(f),
            configured_line.unwrap_or(0)
        )),
        _ => {}
    }
    line.replace('\n', "\\n")
}
