//! The socket tables: sock_diag netlink on the live system, /proc/net
//! under `--root` and where a dump is refused.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use common::{Error, Result};

use crate::args::Select;
use crate::diag::Diag;
use crate::sock::{Family, Proto, Socket};
use crate::{owners, procnet};

/// The /proc/net file of an inet table.
pub(crate) fn table_file(p: Proto, f: Family) -> &'static str {
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
pub(crate) fn read_proc_file(path: &Path) -> Result<Option<Vec<u8>>> {
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
pub(crate) fn read_table(
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
pub(crate) fn read_live(sel: &Select, bad: &mut Vec<BadLines>) -> Result<Vec<Socket>> {
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
pub(crate) fn netns_of(proc_pid: &Path) -> Option<u64> {
    let l = std::fs::read_link(proc_pid.join("ns/net")).ok()?;
    owners::ns_inode(std::os::unix::ffi::OsStrExt::as_bytes(l.as_os_str()))
}
