//! Who holds which socket: one pass over /proc/*/fd, the way `ss -p` and
//! `netstat -p` find owners, built to be cheap because with thousands of
//! sockets this pass is most of the work.
//!
//! /proc is listed once; for each process its fd directory is opened once,
//! listed into a reused buffer and every entry read with one readlinkat(2)
//! relative to that directory into a stack buffer (no path walk from /, no
//! stat, no allocation per fd). Only `socket:[N]` targets matter. Listing
//! /proc yields thread-group leaders only, so threads are never counted
//! twice. `comm` is read once per process that holds a socket.

use std::collections::HashMap;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::{openat, readlinkat_raw, Mode, OFlags, RawDir, CWD};
use rustix::io::Errno;

use common::partial::{Partial, Reason};
use common::{Error, Result};

/// What the pass found.
#[derive(Debug, Default)]
pub struct Owners {
    /// Socket inode -> pids holding it, ascending, each pid once.
    pub by_inode: HashMap<u64, Vec<u32>>,
    /// comm of each pid in `by_inode` (`None`: it exited before we read it).
    pub comm: HashMap<u32, Option<Vec<u8>>>,
    /// Processes whose fd table could not be read (permission).
    pub unreadable: usize,
    /// What could not be read, per process, for the summary line: `owners`
    /// (the fd table) and, with `want_netns`, `netns` (the namespace link:
    /// a namespace only such processes live in is missed).
    pub partial: Partial,
    /// With `want_netns`: each network namespace seen, with the first pid
    /// (lowest) found in it.
    pub netns: Vec<(u64, u32)>,
}

impl Owners {
    /// The owners of `inode` as the record reports them: the known holders;
    /// `[]` when the whole pass was readable and nobody holds it; `None`
    /// (unknown) when nobody readable holds it but some fd tables were not
    /// readable.
    pub fn of(&self, inode: Option<u64>) -> crate::sock::Holders<'_> {
        let Some(ino) = inode else {
            // No inode, no file: nothing can hold it, whatever we could read.
            return Some(Vec::new());
        };
        match self.by_inode.get(&ino) {
            Some(pids) => Some(
                pids.iter()
                    .map(|&p| (p, self.comm.get(&p).and_then(|c| c.as_deref())))
                    .collect(),
            ),
            None if self.unreadable == 0 => Some(Vec::new()),
            None => None,
        }
    }
}

/// `socket:[12345]` -> 12345.
fn socket_inode(link: &[u8]) -> Option<u64> {
    let rest = link.strip_prefix(b"socket:[")?;
    let digits = rest.strip_suffix(b"]")?;
    parse_u64(digits)
}

fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    b.iter().try_fold(0u64, |acc, &c| {
        c.is_ascii_digit()
            .then_some(())
            .and_then(|_| acc.checked_mul(10)?.checked_add(u64::from(c - b'0')))
    })
}

/// `net:[4026531840]` -> 4026531840.
pub fn ns_inode(link: &[u8]) -> Option<u64> {
    parse_u64(link.strip_prefix(b"net:[")?.strip_suffix(b"]")?)
}

/// Scan `proc_dir` (`/proc`, or DIR/proc under `--root`). `live` allows
/// several threads: how many CPUs we may use is read from the running
/// system (/proc/self, the cgroup's CPU quota), which a `--root` run must
/// not consult; a tree on disk is read on one.
pub fn scan(proc_dir: &Path, want_netns: bool, live: bool) -> Result<Owners> {
    let proc_fd = openat(
        CWD,
        proc_dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::io(proc_dir, &e.into()))?;

    let mut pids = Vec::with_capacity(512);
    let mut dbuf: Vec<MaybeUninit<u8>> = vec![MaybeUninit::uninit(); 64 * 1024];
    {
        let mut dir = RawDir::new(&proc_fd, &mut dbuf);
        while let Some(ent) = dir.next() {
            let ent = ent.map_err(|e| Error::io(proc_dir, &e.into()))?;
            if let Some(pid) = parse_u64(ent.file_name().to_bytes()) {
                if let Ok(pid) = u32::try_from(pid) {
                    pids.push(pid);
                }
            }
        }
    }
    pids.sort_unstable();

    // Reading fd links is kernel work that scales with cores: split the
    // processes over a few threads (interleaved, so that neighbouring pids
    // of one busy service land on different threads), then merge.
    let workers = common::par::workers(live, pids.len(), 64, 4);
    if workers == 1 {
        return Ok(scan_pids(&proc_fd, &pids, want_netns, &mut dbuf));
    }
    drop(dbuf);
    let parts: Option<Vec<Owners>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let mine: Vec<u32> = pids.iter().skip(w).step_by(workers).copied().collect();
                let proc_fd = &proc_fd;
                s.spawn(move || {
                    let mut dbuf: Vec<MaybeUninit<u8>> = vec![MaybeUninit::uninit(); 64 * 1024];
                    scan_pids(proc_fd, &mine, want_netns, &mut dbuf)
                })
            })
            .collect();
        // A lost worker must not pass for "nobody holds these sockets".
        handles.into_iter().map(|h| h.join().ok()).collect()
    });
    parts
        .map(merge)
        .ok_or_else(|| Error::new("scanning /proc for socket owners failed"))
}

/// Merge the findings of several workers: pids ascending and unique per
/// socket, the lowest pid per namespace.
fn merge(parts: Vec<Owners>) -> Owners {
    let mut o = Owners::default();
    for p in parts {
        for (ino, pids) in p.by_inode {
            o.by_inode.entry(ino).or_default().extend(pids);
        }
        o.comm.extend(p.comm);
        o.unreadable += p.unreadable;
        o.partial.merge(p.partial);
        o.netns.extend(p.netns);
    }
    for v in o.by_inode.values_mut() {
        if v.len() > 1 {
            v.sort_unstable();
            v.dedup();
        }
    }
    o.netns.sort_unstable_by_key(|&(ns, pid)| (ns, pid));
    o.netns.dedup_by_key(|&mut (ns, _)| ns);
    o
}

/// One worker's share: the fd tables of `pids` (ascending).
fn scan_pids(
    proc_fd: &OwnedFd,
    pids: &[u32],
    want_netns: bool,
    dbuf: &mut [MaybeUninit<u8>],
) -> Owners {
    let mut o = Owners::default();
    let mut link = [0u8; 64];
    let mut path = String::with_capacity(32);
    for &pid in pids {
        let mut seen = false;
        match scan_pid(proc_fd, pid, dbuf, &mut link, &mut path, &mut o) {
            Ok(()) | Err(Errno::NOENT) | Err(Errno::SRCH) | Err(Errno::NOTDIR) => {}
            Err(e) => {
                o.unreadable += 1;
                o.partial.note(&mut seen, "owners", reason(e));
            }
        }
        if want_netns {
            path.clear();
            path.push_str(&pid.to_string());
            path.push_str("/ns/net");
            match readlinkat_raw(proc_fd, path.as_str(), &mut link) {
                Ok(n) => {
                    if let Some(ns) = ns_inode(&link[..n]) {
                        if !o.netns.iter().any(|&(x, _)| x == ns) {
                            o.netns.push((ns, pid));
                        }
                    }
                }
                // Exited, or not a process directory.
                Err(Errno::NOENT) | Err(Errno::SRCH) | Err(Errno::NOTDIR) => {}
                Err(e) => o.partial.note(&mut seen, "netns", reason(e)),
            }
        }
    }
    o
}

/// The fd table of one process into `o` (and its comm when it holds a
/// socket). `path` is scratch space.
fn scan_pid(
    proc_fd: &OwnedFd,
    pid: u32,
    dbuf: &mut [MaybeUninit<u8>],
    link: &mut [u8; 64],
    path: &mut String,
    o: &mut Owners,
) -> std::result::Result<(), Errno> {
    path.clear();
    path.push_str(&pid.to_string());
    path.push_str("/fd");
    let fd_dir = openat(
        proc_fd,
        path.as_str(),
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    if scan_fds(&fd_dir, dbuf, link, pid, &mut o.by_inode)? {
        path.truncate(path.len() - 2);
        path.push_str("comm");
        o.comm.insert(pid, read_comm(proc_fd, path));
    }
    Ok(())
}

/// A rustix errno as the summary line's reason.
fn reason(e: Errno) -> Reason {
    Reason::Errno(nix::errno::Errno::from_raw(e.raw_os_error()))
}

/// Read every fd link of one process; true when it holds a socket.
fn scan_fds(
    fd_dir: &OwnedFd,
    dbuf: &mut [MaybeUninit<u8>],
    link: &mut [u8; 64],
    pid: u32,
    by_inode: &mut HashMap<u64, Vec<u32>>,
) -> std::result::Result<bool, Errno> {
    let mut held = false;
    let mut dir = RawDir::new(fd_dir, dbuf);
    while let Some(ent) = dir.next() {
        let ent = ent?;
        let name = ent.file_name();
        if name.to_bytes().first() == Some(&b'.') {
            continue;
        }
        let n = match readlinkat_raw(fd_dir, name, &mut *link) {
            Ok(n) => n,
            // Closed between listing and reading.
            Err(Errno::NOENT) => continue,
            Err(e) => return Err(e),
        };
        if let Some(ino) = socket_inode(&link[..n]) {
            let v = by_inode.entry(ino).or_default();
            // The same socket under several fds of one process counts once;
            // pids come in ascending order, so only the last can repeat.
            if v.last() != Some(&pid) {
                v.push(pid);
            }
            held = true;
        }
    }
    Ok(held)
}

/// /proc/PID/comm without its newline.
fn read_comm(proc_fd: &OwnedFd, rel: &str) -> Option<Vec<u8>> {
    let f = openat(
        proc_fd,
        rel,
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let mut buf = [0u8; 64];
    let n = rustix::io::read(&f, &mut buf).ok()?;
    let b = &buf[..n];
    Some(b.strip_suffix(b"\n").unwrap_or(b).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_targets() {
        assert_eq!(socket_inode(b"socket:[12345]"), Some(12345));
        assert_eq!(socket_inode(b"pipe:[12345]"), None);
        assert_eq!(socket_inode(b"socket:[]"), None);
        assert_eq!(socket_inode(b"socket:[12a]"), None);
        assert_eq!(ns_inode(b"net:[4026531840]"), Some(4026531840));
    }

    #[test]
    fn own_socket_is_found() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let _ = &l;
        let o = scan(Path::new("/proc"), true, true).expect("scan /proc");
        let me = std::process::id();
        assert!(o.by_inode.values().any(|p| p.contains(&me)));
        assert!(o.comm.contains_key(&me));
        assert!(!o.netns.is_empty());
    }

    #[test]
    fn merged_workers_keep_pids_ordered_and_unique() {
        let mut a = Owners::default();
        a.by_inode.insert(1, vec![2, 8]);
        a.netns = vec![(77, 8), (66, 2)];
        a.unreadable = 1;
        let mut b = Owners::default();
        b.by_inode.insert(1, vec![3]);
        b.by_inode.insert(2, vec![5]);
        b.comm.insert(5, Some(b"x".to_vec()));
        b.netns = vec![(77, 3)];
        b.unreadable = 2;
        let m = merge(vec![a, b]);
        assert_eq!(m.by_inode[&1], [2, 3, 8]);
        assert_eq!(m.by_inode[&2], [5]);
        assert_eq!(m.netns, [(66, 2), (77, 3)]);
        assert_eq!((m.unreadable, m.comm.len()), (3, 1));
    }

    #[test]
    fn owners_null_only_when_unknown() {
        let mut o = Owners::default();
        o.by_inode.insert(5, vec![1, 7]);
        o.comm.insert(1, Some(b"init".to_vec()));
        assert_eq!(o.of(Some(9)), Some(vec![]));
        assert_eq!(o.of(None), Some(vec![]));
        o.unreadable = 3;
        assert_eq!(o.of(Some(9)), None);
        assert_eq!(
            o.of(Some(5)),
            Some(vec![(1, Some(&b"init"[..])), (7, None)])
        );
    }
}
