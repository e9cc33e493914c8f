//! The command line: the options and what they select. `command()` is the
//! one definition (`--help`, the man-page test and the completions use
//! it); [`Options`] is what it resolves to, and nothing past the entry
//! point sees the argument parser.

use clap::builder::PossibleValue;
use clap::{Arg, ArgAction, ArgMatches, Command, ValueEnum};

use common::cli::{self, Format};
use common::{Result, Root};

/// A package manager whose database pkg-snap reads; the order of the
/// variants is the order their records are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Manager {
    Dpkg,
    Rpm,
}

impl Manager {
    /// The name the records and `--manager` use.
    pub fn as_str(self) -> &'static str {
        match self {
            Manager::Dpkg => "dpkg",
            Manager::Rpm => "rpm",
        }
    }
}

impl ValueEnum for Manager {
    fn value_variants<'a>() -> &'a [Self] {
        &[Manager::Dpkg, Manager::Rpm]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

/// What the command line asked for, resolved.
#[derive(Debug)]
pub struct Options {
    pub root: Root,
    pub format: Format,
    /// The managers asked for with `--manager`, in the order given (with
    /// repeats); empty: every database present.
    pub managers: Vec<Manager>,
}

impl Options {
    /// The options of this process's command line; bad ones are exit 2.
    pub fn from_args() -> Result<Options> {
        Options::from_matches(&cli::parse(command())?)
    }

    fn from_matches(m: &ArgMatches) -> Result<Options> {
        Ok(Options {
            root: cli::root_of(m)?,
            format: cli::format_of(m),
            managers: m
                .get_many::<Manager>("manager")
                .map(|v| v.copied().collect())
                .unwrap_or_default(),
        })
    }
}

/// The command line.
pub fn command() -> Command {
    cli::command(
        "pkg-snap",
        env!("CARGO_PKG_VERSION"),
        "Snapshot every installed package as JSON Lines, with the cached package files a rollback can use",
    )
    .long_about(
        "Write one `package` record per installed package as JSON Lines, in a \
         stable order (by manager, name, architecture): name, architecture and \
         version exactly as the package manager prints them, source package, \
         dpkg's status word, install reason (manual or auto, from apt's or dnf's \
         records), hold, install time, and the package files of that name in the \
         local cache (/var/cache/apt/archives, dnf's cache). dpkg's database is \
         read as dpkg reads it (the status file with the pending updates of an \
         interrupted run applied); rpm's from its SQLite database. Take one \
         snapshot before and one after the patches and compare them with \
         snap-diff, which says which packages were upgraded or downgraded.",
    )
    .arg(cli::root_arg())
    .arg(cli::format_arg())
    .arg(
        Arg::new("manager")
            .long("manager")
            .value_name("MANAGER,...")
            .value_delimiter(',')
            .action(ArgAction::Append)
            .value_parser(clap::builder::EnumValueParser::<Manager>::new())
            .help(
                "Read only these package managers' databases (dpkg, rpm; \
                 comma-separated or repeated); by default every database present, \
                 and it is an error if there is none",
            ),
    )
    .after_help(
        "Examples:\n  \
         pkg-snap > before.json                     # snapshot before the patches\n  \
         pkg-snap | snap-diff --format text before.json -\n  \
         pkg-snap --format text                     # name, version, architecture\n  \
         pkg-snap | jq -r 'select(.install_reason == \"manual\") | .name'\n  \
         pkg-snap --root /mnt/web01 --manager dpkg  # a mounted system",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options> {
        let m = cli::parse_words(command(), args)?;
        Options::from_matches(&m)
    }

    #[test]
    fn managers_are_typed_and_listed_or_repeated() {
        let o = parse(&[]).expect("parse");
        assert!(o.managers.is_empty());
        assert_eq!(o.format, Format::Json);
        let o =
            parse(&["--manager", "rpm,dpkg", "--manager=rpm", "--format", "text"]).expect("parse");
        assert_eq!(o.managers, [Manager::Rpm, Manager::Dpkg, Manager::Rpm]);
        assert_eq!(o.format, Format::Text);
        let e = parse(&["--manager", "apk"]).expect_err("unknown manager");
        assert_eq!(e.code(), 2);
    }
}
