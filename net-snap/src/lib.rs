//! net-snap: every socket of the system and the processes that hold it, as
//! `socket` records (JSON Lines) or a netstat-like table.
//!
//! Sockets come from sock_diag netlink on the live system (what `ss` reads),
//! per table falling back to /proc/net/* when the kernel refuses a dump (no
//! raw_diag, say); under `--root DIR` from DIR/proc/net/* only. Owners come
//! from one pass over /proc/*/fd, run on a second thread while the tables
//! are read. `--all-netns` adds the tables of every other network namespace
//! through /proc/PID/net of a process living in it.
//!
//! The parts: `args` (the command line), `tables` (netlink or /proc/net),
//! `diag` (the sock_diag protocol), `procnet` (the /proc/net formats),
//! `owners` (who holds each socket), `snapshot` (all of it together),
//! `sock` (the socket and its record), `output` (records, table, summary).

mod diag;
mod owners;
mod procnet;
mod sock;

mod args;
mod output;
mod snapshot;
mod tables;

use std::process::ExitCode;

use common::{Result, Status};

pub use crate::args::command;
use crate::args::Options;
use crate::output::{partial_line, write};
use crate::snapshot::snapshot;

fn body() -> Result<Status> {
    let o = Options::from_args()?;
    let snap = snapshot(&o.root, &o.select, o.all_netns)?;
    write(&snap, &o.root, o.format, o.all_netns)?;
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
    use std::path::PathBuf;

    use common::cli;
    use common::partial::Reason;

    use super::*;
    use crate::args::Select;
    use crate::owners::Owners;
    use crate::snapshot::Snapshot;
    use crate::sock::{Family, Proto};
    use crate::tables::BadLines;

    fn sel(args: &[&str]) -> Select {
        let m = cli::parse_words(command(), args).expect("parse");
        Select::from_matches(&m)
    }

    #[test]
    fn partial_line_is_one_line_for_every_kind_of_trouble() {
        let mut snap = Snapshot {
            sockets: Vec::new(),
            owners: Owners::default(),
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
