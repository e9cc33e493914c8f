//! The whole snapshot: the tables of every namespace asked for, their
//! owners, Unix peers resolved.

use std::collections::HashMap;

use common::{Error, Result, Root};

use crate::args::Select;
use crate::owners;
use crate::owners::Owners;
use crate::sock::{Addr, Proto, Socket};
use crate::tables::{netns_of, read_live, read_proc_net, BadLines};

/// The whole snapshot: sockets in output order, and the owner pass.
pub struct Snapshot {
    pub sockets: Vec<Socket>,
    pub owners: Owners,
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
        netns_unreadable,
        bad_lines,
    })
}

/// A connected Unix socket's remote address is its peer's name, when the
/// peer is known (netlink) and bound to one.
pub(crate) fn resolve_unix_peers(sockets: &mut [Socket]) {
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
