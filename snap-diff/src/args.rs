//! snap-diff's command line: one clap builder (`command`, which the man
//! page test and the shell completions read too), resolved into [`Args`]
//! before any work.

use std::ffi::OsString;

use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};

use common::cli::{format_arg, format_of, Format};
use common::Result;

use crate::rules::{self, Options};

/// The examples and rules under `--help`, the rules from the tables the
/// diff uses.
fn after_help() -> String {
    use common::records::package;
    use rules::{CONNECTION_KEY, INSTANCE, LISTENER_KEY, PROCESS_KEY};
    use rules::{KTHREAD_KEY, PROCESS_VOLATILE, SOCKET_VOLATILE};
    let remote: Vec<&str> = CONNECTION_KEY[LISTENER_KEY.len()..].to_vec();
    format!(
        "\
Identity (records with the same identity are the same thing):
  process  {} (kernel threads: {}); instance: {}
  socket   {} (connections: and {})
  package  {} (a changed version says upgrade or downgrade)
  other    --key [KIND:]FIELD,...
Ignored by default (--compare FIELD to compare one, --no-ignore for all):
  process  {}
  socket   {}
  package  {}

Examples:
  snap-diff before.json after.json
  ps-snap | snap-diff --format text ps-before.json -
  snap-diff before.json after.json | jq -c 'select(.op == \"restarted\") | .key'
  snap-diff --key name --format text pkgs-before.json pkgs-after.json

All the rules: see snap-diff(1).
Exit status: 0 no differences, 1 differences, 2 trouble.",
        PROCESS_KEY.join(", "),
        KTHREAD_KEY.join(", "),
        INSTANCE.join(", "),
        LISTENER_KEY.join(", "),
        remote.join(", "),
        package::IDENTITY.join(", "),
        PROCESS_VOLATILE.join(", "),
        SOCKET_VOLATILE.join(", "),
        package::VOLATILE.join(", "),
    )
}

/// The command line.
pub fn command() -> Command {
    common::cli::command(
        "snap-diff",
        env!("CARGO_PKG_VERSION"),
        "Show what changed between two snapshots: started, stopped and restarted processes, new and vanished listeners, processes that run deleted code",
    )
    .arg(
        Arg::new("before")
            .value_name("BEFORE")
            .value_parser(value_parser!(OsString))
            .required(true)
            .help("The earlier snapshot (JSON Lines file, or - for standard input)"),
    )
    .arg(
        Arg::new("after")
            .value_name("AFTER")
            .value_parser(value_parser!(OsString))
            .required(true)
            .help("The later snapshot (JSON Lines file, or - for standard input; not both)"),
    )
    .arg(
        Arg::new("key")
            .long("key")
            .value_name("[KIND:]FIELD,...")
            .action(ArgAction::Append)
            .help("Identify records by these fields instead of the kind's default identity; without KIND: for every kind (and for records without a kind), with KIND: for that kind only; repeatable"),
    )
    .arg(
        Arg::new("ignore")
            .long("ignore")
            .value_name("[KIND:]FIELD,...")
            .action(ArgAction::Append)
            .help("Also ignore these fields when comparing paired records (FIELD[].SUB ignores SUB in each element of the array FIELD); repeatable"),
    )
    .arg(
        Arg::new("compare")
            .long("compare")
            .value_name("[KIND:]FIELD,...")
            .action(ArgAction::Append)
            .help("Compare these fields although they are ignored by default (such as pid or cpu_seconds); repeatable"),
    )
    .arg(
        Arg::new("no-ignore")
            .long("no-ignore")
            .action(ArgAction::SetTrue)
            .help("Ignore no field by default: compare every field except those given with --ignore"),
    )
    .arg(
        Arg::new("kind")
            .long("kind")
            .value_name("KIND,...")
            .action(ArgAction::Append)
            .help("Expect only records of these kinds; any other record is an error (exit 2), which catches a wrong file"),
    )
    .arg(
        Arg::new("kernel-threads")
            .long("kernel-threads")
            .action(ArgAction::SetTrue)
            .help("Include kernel threads (left out by default: kworkers come and go and would drown the signal)"),
    )
    .arg(
        Arg::new("zombies")
            .long("zombies")
            .action(ArgAction::SetTrue)
            .help("Include zombie processes (state Z; left out by default: a zombie has exited, so a service that stopped shows as removed even before its parent reaps it)"),
    )
    .arg(
        Arg::new("connections")
            .long("connections")
            .action(ArgAction::SetTrue)
            .help("Include connected sockets (left out by default: ephemeral client ports would drown new and vanished listeners)"),
    )
    .arg(format_arg())
    .after_help(after_help())
}

fn strings(m: &ArgMatches, id: &str) -> Vec<String> {
    m.get_many::<String>(id)
        .map(|v| v.cloned().collect())
        .unwrap_or_default()
}

/// The options of parsed arguments.
pub fn options_of(m: &ArgMatches) -> Options {
    Options {
        keys: strings(m, "key"),
        ignores: strings(m, "ignore"),
        compares: strings(m, "compare"),
        no_ignore: m.get_flag("no-ignore"),
        kernel_threads: m.get_flag("kernel-threads"),
        zombies: m.get_flag("zombies"),
        connections: m.get_flag("connections"),
        kinds: strings(m, "kind"),
        own: own_instance(),
    }
}

/// This process as ps-snap records it: (boot_id, pid, start_ticks), from
/// /proc; `None` where /proc cannot tell.
pub fn own_instance() -> Option<(String, u64, u64)> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Field 22 (starttime); the fields after comm's closing parenthesis
    // start with field 3.
    let after = &stat[stat.rfind(')')? + 1..];
    let ticks = after.split_whitespace().nth(19)?.parse().ok()?;
    Some((boot.trim().to_owned(), u64::from(std::process::id()), ticks))
}

/// The command line, resolved: nothing past [`Args::parse`] sees the
/// argument parser.
#[derive(Debug)]
pub struct Args {
    pub options: Options,
    /// The snapshots as named (`-` is standard input), any bytes.
    pub before: OsString,
    pub after: OsString,
    pub format: Format,
}

impl Args {
    /// This process's command line; bad arguments are exit 2.
    pub fn parse() -> Result<Args> {
        let m = common::cli::parse(command())?;
        let path = |id: &str| {
            m.get_one::<OsString>(id)
                .cloned()
                .unwrap_or_else(|| OsString::from("-"))
        };
        Ok(Args {
            options: options_of(&m),
            before: path("before"),
            after: path("after"),
            format: format_of(&m),
        })
    }
}
