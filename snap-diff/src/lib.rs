//! `snap-diff`: what changed between two snapshots (ps-snap, net-snap, or
//! any JSON Lines with `--key`), paired by identity instead of by line, as
//! `change` records or one line per change for people.
//!
//! Exit status as diff's: 0 no differences, 1 differences, 2 trouble. All
//! input is read and checked before the first record is written, so a
//! malformed snapshot never yields a partial result.

use clap::{Arg, ArgAction, ArgMatches, Command};

use common::cli::{format_arg, format_of, Format};
use common::{Out, Result, Status};

pub mod diff;
pub mod input;
pub mod rules;
pub mod text;

pub use diff::{Change, Op};
pub use rules::{Options, Rules};

const AFTER_HELP: &str = "\
Examples:
  snap-diff before.json after.json
  ps-snap | snap-diff --format text before.json -
  snap-diff before.json after.json | jq -c 'select(.op == \"restarted\") | .key'
  snap-diff --key path,sha256 files-monday.json files-tuesday.json

Identity and volatile fields of every kind: see snap-diff(1).
Exit status: 0 no differences, 1 differences, 2 trouble.";

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
            .required(true)
            .help("The earlier snapshot (JSON Lines file, or - for standard input)"),
    )
    .arg(
        Arg::new("after")
            .value_name("AFTER")
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
        Arg::new("connections")
            .long("connections")
            .action(ArgAction::SetTrue)
            .help("Include connected sockets (left out by default: ephemeral client ports would drown new and vanished listeners)"),
    )
    .arg(format_arg())
    .after_help(AFTER_HELP)
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
        connections: m.get_flag("connections"),
        kinds: strings(m, "kind"),
    }
}

/// Diff two snapshots by name (`-` is standard input).
pub fn diff_files(rules: &Rules, before: &str, after: &str) -> Result<Vec<Change>> {
    let loaded = input::load(rules, before, after)?;
    Ok(diff::diff(rules, &loaded))
}

/// Write the changes in the chosen format.
pub fn write<W: std::io::Write>(
    out: &mut Out<W>,
    changes: &[Change],
    format: Format,
) -> Result<()> {
    match format {
        Format::Json => {
            for c in changes {
                out.record(&c.to_value())?;
            }
        }
        Format::Text => {
            for l in text::render(changes) {
                out.line(&l)?;
            }
        }
    }
    Ok(())
}

pub fn main() -> std::process::ExitCode {
    common::run("snap-diff", || {
        let m = common::cli::parse(command())?;
        let rules = Rules::new(&options_of(&m))?;
        let before = m.get_one::<String>("before").map_or("-", String::as_str);
        let after = m.get_one::<String>("after").map_or("-", String::as_str);
        let changes = diff_files(&rules, before, after)?;
        let mut out = Out::stdout();
        write(&mut out, &changes, format_of(&m))?;
        out.finish()?;
        Ok(if changes.is_empty() {
            Status::Ok
        } else {
            Status::Differs
        })
    })
}
