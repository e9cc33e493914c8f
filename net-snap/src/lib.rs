//! net-snap: every socket of the system and the processes that hold it, as
//! `socket` records (JSON Lines) or a netstat-like table.
//!
//! Sockets come from sock_diag netlink on the live system (what `ss` reads),
//! per table falling back to /proc/net/* when the kernel refuses a dump (no
//! raw_diag, say); under `--root DIR` from DIR/proc/net/* only. Owners come
//! from one pass over /proc/*/fd, run on a second thread while the tables
//! are read. `--all-netns` adds the tables of every other network namespace
//! through /proc/PID/net of a process living in it.

pub mod diag;
pub mod owners;
pub mod procnet;
pub mod sock;

use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};

use common::cli::{self, Format};
use common::names::Names;
use common::partial::{Noun, Partial, Reason};
use common::{Error, Out, Result, Root, Status};

use crate::diag::{Diag, ALL_STATES};
use crate::owners::Owners;
use crate::sock::{Addr, Context, Family, Proto, Socket};

/// The command line.
pub fn command() -> Command {
    let flag = |id: &'static str, short: char, long: &'static str, help: &'static str| {
        Arg::new(id)
            .short(short)
            .long(long)
            .action(ArgAction::SetTrue)
            .help(help)
    };
    cli::command(
        "net-snap",
        env!("CARGO_PKG_VERSION"),
        "Snapshot every socket (TCP, UDP, raw, Unix) and the processes that hold it",
    )
    .long_about(
        "Snapshot every socket of the system - TCP, UDP and raw over IPv4 and IPv6, and \
         Unix-domain sockets - with its state, owner uid and every process holding it, as \
         `socket` records (JSON Lines) or a netstat-like table. Without selection flags \
         everything `netstat -an` shows is listed (listening, connected, unconnected, \
         TIME_WAIT). Selection flags combine as in ss: protocol flags add up, -4/-6 restrict \
         the inet families, -l keeps listeners and unconnected sockets.",
    )
    .arg(flag("tcp", 't', "tcp", "Show TCP sockets"))
    .arg(flag("udp", 'u', "udp", "Show UDP sockets"))
    .arg(flag("raw", 'w', "raw", "Show raw IP sockets"))
    .arg(flag("unix", 'x', "unix", "Show Unix-domain sockets"))
    .arg(flag(
        "listening",
        'l',
        "listening",
        "Show only sockets waiting for peers: LISTEN, and UNCONN datagram, raw and Unix sockets (as ss -l)",
    ))
    .arg(flag(
        "ipv4",
        '4',
        "ipv4",
        "Show only IPv4 sockets (no Unix sockets unless -x is given too)",
    ))
    .arg(flag(
        "ipv6",
        '6',
        "ipv6",
        "Show only IPv6 sockets (no Unix sockets unless -x is given too)",
    ))
    .arg(flag(
        "all",
        'a',
        "all",
        "Accepted for habit (ss -a, netstat -a): every state is always shown",
    ))
    .arg(flag(
        "numeric",
        'n',
        "numeric",
        "Accepted for habit (ss -n, netstat -n): addresses and ports are always numeric",
    ))
    .arg(flag(
        "processes",
        'p',
        "processes",
        "Accepted for habit (ss -p, netstat -p): owning processes are always shown",
    ))
    .arg(
        Arg::new("all_netns")
            .long("all-netns")
            .action(ArgAction::SetTrue)
            .help(
                "Also list the sockets of every other network namespace found under \
                 /proc/*/ns/net (containers), read through /proc/PID/net of a process in it",
            ),
    )
    .arg(cli::root_arg())
    .arg(cli::format_arg())
    .after_help(
        "Examples:\n  \
         net-snap > before.json                      # everything, with owners\n  \
         net-snap -tul --format text                 # listeners, like netstat -tulnp\n  \
         net-snap -l --all-netns | jq -c 'select(.proto==\"tcp\") | [.netns, .local_port, .processes[]?.comm]'",
    )
}

/// Which sockets to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Select {
    pub tcp: bool,
    pub udp: bool,
    pub raw: bool,
    pub unix: bool,
    pub inet: bool,
    pub inet6: bool,
    pub listening: bool,
}

impl Select {
    /// From the flags: protocol flags add up (none: all protocols); -4/-6
    /// restrict the inet families, and without a protocol flag they also
    /// leave Unix sockets out, as `ss -4` does.
    pub fn from_matches(m: &ArgMatches) -> Select {
        let f = |id: &str| m.get_flag(id);
        let any_proto = f("tcp") || f("udp") || f("raw") || f("unix");
        let any_family = f("ipv4") || f("ipv6");
        Select {
            tcp: f("tcp") || !any_proto,
            udp: f("udp") || !any_proto,
            raw: f("raw") || !any_proto,
            unix: f("unix") || (!any_proto && !any_family),
            inet: f("ipv4") || !any_family,
            inet6: f("ipv6") || !any_family,
            listening: f("listening"),
        }
    }

    fn proto(&self, p: Proto) -> bool {
        match p {
            Proto::Tcp => self.tcp,
            Proto::Udp => self.udp,
            Proto::Raw => self.raw,
            Proto::Unix => self.unix,
        }
    }

    /// The inet tables to read, in output order.
    fn inet_tables(&self) -> Vec<(Proto, Family)> {
        let mut v = Vec::new();
        for p in [Proto::Tcp, Proto::Udp, Proto::Raw] {
            for f in [Family::Inet, Family::Inet6] {
                let fam = if f == Family::Inet {
                    self.inet
                } else {
                    self.inet6
                };
                if self.proto(p) && fam {
                    v.push((p, f));
                }
            }
        }
        v
    }

    /// The state mask for an inet dump: with -l only what -l keeps.
    fn states(&self, p: Proto) -> u32 {
        match (self.listening, p) {
            (false, _) => ALL_STATES,
            (true, Proto::Tcp) => 1 << 10,
            (true, _) => 1 << 7,
        }
    }
}

/// The /proc/net file of an inet table.
fn table_file(p: Proto, f: Family) -> &'static str {
    match (p, f) {
        (Proto::Tcp, Family::Inet) => "tcp",
        (Proto::Tcp, _) => "tcp6",
        (Proto::Udp, Family::Inet) => "udp",
        (Proto::Udp, _) => "udp6",
        (Proto::Raw, Family::Inet) => "raw",
        _ => "raw6",
    }
}

/// Read one /proc/net file; a missing one (a kernel without IPv6) is an
/// empty table.
fn read_proc_file(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, &e)),
    }
}

/// Lines of one /proc/net table that did not parse and were skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLines {
    pub path: PathBuf,
    pub count: usize,
    /// The first of them, numbered from 1 (the header).
    pub first: usize,
}

/// Read one /proc/net table (`None`: the Unix one) into `out`, noting the
/// lines that did not parse in `bad`.
fn read_table(
    net_dir: &Path,
    table: Option<(Proto, Family)>,
    out: &mut Vec<Socket>,
    bad: &mut Vec<BadLines>,
) -> Result<()> {
    let path = net_dir.join(table.map_or("unix", |(p, f)| table_file(p, f)));
    let Some(b) = read_proc_file(&path)? else {
        return Ok(());
    };
    let parsed = match table {
        Some((p, f)) => procnet::parse_inet(&b, p, f),
        None => procnet::parse_unix(&b),
    };
    out.extend(parsed.sockets);
    if let Some(first) = parsed.first_bad {
        bad.push(BadLines {
            path,
            count: parsed.bad,
            first,
        });
    }
    Ok(())
}

/// Every selected table of one namespace from a /proc/net directory.
pub fn read_proc_net(net_dir: &Path, sel: &Select, bad: &mut Vec<BadLines>) -> Result<Vec<Socket>> {
    let mut out = Vec::new();
    for t in sel.inet_tables() {
        read_table(net_dir, Some(t), &mut out, bad)?;
    }
    if sel.unix {
        read_table(net_dir, None, &mut out, bad)?;
    }
    Ok(out)
}

/// Every selected table of our own namespace on the live system: netlink
/// per table, /proc/net where a dump is refused.
fn read_live(sel: &Select, bad: &mut Vec<BadLines>) -> Result<Vec<Socket>> {
    let net_dir = Path::new("/proc/net");
    let mut diag = Diag::open().ok();
    let mut out = Vec::new();
    for (p, f) in sel.inet_tables() {
        match diag.as_mut().map(|d| d.inet(p, f, sel.states(p))) {
            Some(Ok(v)) => out.extend(v),
            _ => read_table(net_dir, Some((p, f)), &mut out, bad)?,
        }
    }
    if sel.unix {
        match diag.as_mut().map(Diag::unix) {
            Some(Ok(v)) => out.extend(v),
            _ => read_table(net_dir, None, &mut out, bad)?,
        }
    }
    Ok(out)
}

/// The network namespace of a process directory (`/proc/self`, ...).
fn netns_of(proc_pid: &Path) -> Option<u64> {
    let l = std::fs::read_link(proc_pid.join("ns/net")).ok()?;
    owners::ns_inode(std::os::unix::ffi::OsStrExt::as_bytes(l.as_os_str()))
}

/// The whole snapshot: sockets in output order, and the owner pass.
pub struct Snapshot {
    pub sockets: Vec<Socket>,
    pub owners: Owners,
    pub host_netns: Option<u64>,
    /// Other namespaces whose tables could not be read.
    pub netns_unreadable: usize,
    /// /proc/net lines that did not parse (skipped).
    pub bad_lines: Vec<BadLines>,
}

/// Take the snapshot.
pub fn snapshot(root: &Root, sel: &Select, all_netns: bool) -> Result<Snapshot> {
    let proc_dir = root.path("/proc");
    let net_dir = root.path("/proc/net");
    if !root.is_live() && !net_dir.is_dir() {
        return Err(Error::new(format!(
            "{}: no such directory (is --root the top of a system tree with /proc?)",
            net_dir.display()
        )));
    }
    let host_netns = netns_of(&root.path("/proc/self"));
    let mut bad_lines = Vec::new();
    let (tables, owners) = std::thread::scope(|s| {
        let scan = s.spawn(|| owners::scan(&proc_dir, all_netns, root.is_live()));
        let tables = if root.is_live() {
            read_live(sel, &mut bad_lines)
        } else {
            read_proc_net(&net_dir, sel, &mut bad_lines)
        };
        // Sort while the scan still runs: it is the longer of the two.
        // A dump racing with socket churn can report a socket twice (the
        // kernel walks hash buckets without a global lock): drop exact
        // repeats.
        let tables = tables.map(|mut v| {
            v.sort_by(Socket::cmp_key);
            v.dedup();
            v
        });
        let owners = match scan.join() {
            Ok(r) => r,
            Err(_) => Err(Error::new("the /proc scan for socket owners failed")),
        };
        (tables, owners)
    });
    let mut sockets = tables?;
    let owners = owners?;
    for s in &mut sockets {
        s.netns = host_netns;
    }
    let mut netns_unreadable = 0;
    if all_netns {
        for &(ns, pid) in &owners.netns {
            if Some(ns) == host_netns {
                continue;
            }
            let dir = proc_dir.join(pid.to_string()).join("net");
            // A process that exited since the scan leaves no directory;
            // its missing files must not read as empty tables.
            if !dir.is_dir() {
                netns_unreadable += 1;
                continue;
            }
            match read_proc_net(&dir, sel, &mut bad_lines) {
                Ok(mut v) => {
                    for s in &mut v {
                        s.netns = Some(ns);
                    }
                    sockets.extend(v);
                }
                Err(_) => netns_unreadable += 1,
            }
        }
    }
    resolve_unix_peers(&mut sockets);
    if sel.listening {
        sockets.retain(Socket::is_listening);
    }
    if all_netns {
        // The host's namespace first, then the others by inode number.
        let rank = |s: &Socket| (s.netns != host_netns, s.netns);
        sockets.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp_key(b)));
    }
    Ok(Snapshot {
        sockets,
        owners,
        host_netns,
        netns_unreadable,
        bad_lines,
    })
}

/// A connected Unix socket's remote address is its peer's name, when the
/// peer is known (netlink) and bound to one.
fn resolve_unix_peers(sockets: &mut [Socket]) {
    let names: HashMap<(Option<u64>, u64), Addr> = sockets
        .iter()
        .filter(|s| s.proto == Proto::Unix)
        .filter_map(|s| Some(((s.netns, s.inode?), s.local.clone()?)))
        .collect();
    if names.is_empty() {
        return;
    }
    for s in sockets.iter_mut().filter(|s| s.proto == Proto::Unix) {
        if let Some(p) = s.peer_inode {
            s.remote = names.get(&(s.netns, p)).cloned();
        }
    }
}

/// Write the records or the table.
pub fn write(snap: &Snapshot, root: &Root, format: Format, all_netns: bool) -> Result<()> {
    let mut out = Out::stdout();
    match format {
        Format::Json => {
            let host = root.hostname();
            let mut names = Names::new(root);
            let mut users: HashMap<u32, Option<String>> = HashMap::new();
            let mut buf = Vec::with_capacity(64 * 1024);
            for s in &snap.sockets {
                let user = match s.uid {
                    Some(u) => users.entry(u).or_insert_with(|| names.user(u)).as_deref(),
                    None => None,
                };
                let cx = Context {
                    host: host.as_deref(),
                    user,
                    processes: snap.owners.of(s.inode),
                };
                sock::write_record(&mut buf, s, cx);
                if buf.len() >= 60 * 1024 {
                    out.raw(&buf)?;
                    buf.clear();
                }
            }
            out.raw(&buf)?;
        }
        Format::Text => {
            for line in text_table(snap, all_netns) {
                out.line(&line)?;
            }
        }
    }
    out.finish()
}

/// The netstat-like table, columns sized to their content.
pub fn text_table(snap: &Snapshot, all_netns: bool) -> Vec<String> {
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(snap.sockets.len() + 1);
    let mut head = vec![
        "Proto",
        "Recv-Q",
        "Send-Q",
        "Local Address",
        "Foreign Address",
        "State",
        "PID/Program",
    ];
    if all_netns {
        head.insert(0, "Netns");
    }
    rows.push(head.into_iter().map(str::to_owned).collect());
    let dash = |v: Option<u32>| v.map_or_else(|| "-".to_owned(), |n| n.to_string());
    for s in &snap.sockets {
        let proto = match (s.proto, s.family, s.sock_type) {
            (Proto::Unix, _, Some("stream")) => "u_str".to_owned(),
            (Proto::Unix, _, Some("dgram")) => "u_dgr".to_owned(),
            (Proto::Unix, _, Some("seqpacket")) => "u_seq".to_owned(),
            (p, Family::Inet6, _) => format!("{}6", p.name()),
            (p, _, _) => p.name().to_owned(),
        };
        let procs = match snap.owners.of(s.inode) {
            None => "?".to_owned(),
            Some(v) if v.is_empty() => "-".to_owned(),
            Some(v) => v
                .iter()
                .map(|(pid, comm)| match comm {
                    Some(c) => format!("{pid}/{}", common::bytes::display(c)),
                    None => pid.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
        };
        let mut row = vec![
            proto,
            dash(s.recv_q),
            dash(s.send_q),
            sock::endpoint_text(s.family, &s.local, s.local_port),
            sock::endpoint_text(s.family, &s.remote, s.remote_port),
            s.state.unwrap_or("-").to_owned(),
            procs,
        ];
        if all_netns {
            row.insert(0, s.netns.map_or_else(|| "-".to_owned(), |n| n.to_string()));
        }
        rows.push(row);
    }
    let cols = rows[0].len();
    let mut width = vec![0usize; cols];
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    rows.iter()
        .map(|r| {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate() {
                if i + 1 == cols {
                    line.push_str(c);
                } else {
                    line.push_str(&format!("{c:<w$} ", w = width[i]));
                }
            }
            line
        })
        .collect()
}

/// The one summary line of what could not be read (RECORDS.md: at most
/// one line, never one per item): the parts of processes (fd tables:
/// owners; namespace links: netns), the tables of other network
/// namespaces, and table lines that did not parse, each with its count and
/// reason. Even root can be refused (a hardened or sandboxed pid 1); the
/// line says which case this is, so the hint to run as root is only given
/// where it helps.
pub fn partial_line(snap: &Snapshot, as_root: bool) -> Option<String> {
    const PREFIX: &str = "partial snapshot: ";
    let mut netns = Partial::default();
    netns.add(
        "sockets",
        snap.netns_unreadable,
        Reason::Text("their processes exited or are not readable"),
    );
    let bad = (!snap.bad_lines.is_empty()).then(|| {
        let n: usize = snap.bad_lines.iter().map(|b| b.count).sum();
        let files: Vec<String> = snap
            .bad_lines
            .iter()
            .map(|b| match b.count {
                1 => format!("{}:{}", b.path.display(), b.first),
                c => format!("{}:{} and {} more", b.path.display(), b.first, c - 1),
            })
            .collect();
        format!(
            "{PREFIX}{n} malformed {} skipped ({})",
            if n == 1 { "line" } else { "lines" },
            files.join(", ")
        )
    });
    let parts: Vec<String> = [
        snap.owners
            .partial
            .summary(Noun("process", "processes"), &["owners", "netns"], as_root),
        netns.summary(
            Noun("network namespace", "network namespaces"),
            &[],
            as_root,
        ),
        bad,
    ]
    .into_iter()
    .flatten()
    .map(|l| {
        l.strip_prefix(PREFIX)
            .map_or_else(|| l.clone(), str::to_owned)
    })
    .collect();
    (!parts.is_empty()).then(|| format!("{PREFIX}{}", parts.join("; ")))
}

fn body() -> Result<Status> {
    let m = cli::parse(command())?;
    let root = cli::root_of(&m)?;
    let format = cli::format_of(&m);
    let sel = Select::from_matches(&m);
    let all_netns = m.get_flag("all_netns");
    let snap = snapshot(&root, &sel, all_netns)?;
    write(&snap, &root, format, all_netns)?;
    if let Some(line) = partial_line(&snap, nix::unistd::geteuid().is_root()) {
        common::warn!("net-snap: {line}");
    }
    Ok(Status::Ok)
}

/// Entry point of the `net-snap` binary.
pub fn main() -> ExitCode {
    common::run("net-snap", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(args: &[&str]) -> Select {
        let m = cli::parse_from(
            command(),
            std::iter::once("net-snap").chain(args.iter().copied()),
        )
        .expect("parse");
        Select::from_matches(&m)
    }

    #[test]
    fn partial_line_is_one_line_for_every_kind_of_trouble() {
        let mut snap = Snapshot {
            sockets: Vec::new(),
            owners: Owners::default(),
            host_netns: None,
            netns_unreadable: 0,
            bad_lines: Vec::new(),
        };
        assert_eq!(partial_line(&snap, false), None);
        let denied = Reason::Errno(nix::errno::Errno::EACCES);
        snap.owners.partial.add("owners", 1, denied);
        assert_eq!(
            partial_line(&snap, false).as_deref(),
            Some(
                "partial snapshot: owners of 1 process unreadable (permission denied; run as root)"
            )
        );
        snap.netns_unreadable = 2;
        assert_eq!(
            partial_line(&snap, false).as_deref(),
            Some("partial snapshot: owners of 1 process unreadable (permission denied; run as root); \
                  sockets of 2 network namespaces unreadable (their processes exited or are not readable)")
        );
        snap.owners.partial.add("owners", 2, denied);
        snap.netns_unreadable = 1;
        snap.bad_lines.push(BadLines {
            path: PathBuf::from("/r/proc/net/udp"),
            count: 1,
            first: 4,
        });
        assert_eq!(
            partial_line(&snap, true).as_deref(),
            Some("partial snapshot: owners of 3 processes unreadable (permission denied, even to root); \
                  sockets of 1 network namespace unreadable (their processes exited or are not readable); \
                  1 malformed line skipped (/r/proc/net/udp:4)")
        );
    }

    #[test]
    fn selection_combines_like_ss() {
        let all = sel(&[]);
        assert!(all.tcp && all.udp && all.raw && all.unix && all.inet && all.inet6);
        let tu = sel(&["-tu"]);
        assert!(tu.tcp && tu.udp && !tu.raw && !tu.unix);
        let four = sel(&["-4"]);
        assert!(four.tcp && four.udp && four.raw && !four.unix && four.inet && !four.inet6);
        let x4 = sel(&["-x", "-4"]);
        assert!(x4.unix && !x4.tcp);
        let tl6 = sel(&["-tl6"]);
        assert!(tl6.listening && tl6.tcp && !tl6.inet && tl6.inet6);
        assert_eq!(tl6.inet_tables(), vec![(Proto::Tcp, Family::Inet6)]);
        let habit = sel(&["-tuanp"]);
        assert!(habit.tcp && habit.udp && !habit.listening);
    }
}
