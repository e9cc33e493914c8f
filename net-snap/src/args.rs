//! The command line: the options and what they select.

use clap::{Arg, ArgAction, ArgMatches, Command};

use common::cli::{self, Format};
use common::{Result, Root};

use crate::diag::ALL_STATES;
use crate::sock::{Family, Proto};

/// What the command line asked for, resolved: nothing past this point
/// sees the argument parser.
#[derive(Debug)]
pub struct Options {
    pub root: Root,
    pub format: Format,
    pub select: Select,
    pub all_netns: bool,
}

impl Options {
    /// The options of this process's command line; bad ones are exit 2.
    pub fn from_args() -> Result<Options> {
        let m = cli::parse(command())?;
        Ok(Options {
            root: cli::root_of(&m)?,
            format: cli::format_of(&m),
            select: Select::from_matches(&m),
            all_netns: m.get_flag("all_netns"),
        })
    }
}

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
    pub(crate) fn inet_tables(&self) -> Vec<(Proto, Family)> {
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
    pub(crate) fn states(&self, p: Proto) -> u32 {
        match (self.listening, p) {
            (false, _) => ALL_STATES,
            (true, Proto::Tcp) => 1 << 10,
            (true, _) => 1 << 7,
        }
    }
}
