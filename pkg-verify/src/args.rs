//! The command line: the options and what they select. `command()` is the
//! one definition (`--help`, the man-page test and the completions use
//! it); [`Options`] is what it resolves to, and nothing past the entry
//! point sees the argument parser.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::builder::{EnumValueParser, PossibleValue};
use clap::{value_parser, Arg, ArgAction, ArgMatches, Command, ValueEnum};

use common::cli;
use common::{Error, Result, Root};

/// What to write: verify records or the text view (verifying), or the
/// files to re-baseline as an expression or a list (`--rebaseline`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
    AideLimit,
    Paths,
}

impl Format {
    fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Text => "text",
            Format::AideLimit => "aide-limit",
            Format::Paths => "paths",
        }
    }

    /// Whether this format lists files for a re-baseline.
    fn rebaselines(self) -> bool {
        matches!(self, Format::AideLimit | Format::Paths)
    }
}

impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &[Format::Json, Format::Text, Format::AideLimit, Format::Paths]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.as_str()))
    }
}

/// What the command line asked for, resolved.
#[derive(Debug)]
pub struct Options {
    pub root: Root,
    /// The format, its default chosen by whether `rebaseline` is given,
    /// and checked to go with it.
    pub format: Format,
    /// `--package`: only these (NAME or NAME:ARCH); None: every package.
    pub packages: Option<Vec<String>>,
    /// `--rebaseline FILE` (`-` for standard input).
    pub rebaseline: Option<PathBuf>,
    /// Checking threads.
    pub jobs: usize,
}

impl Options {
    /// The options of this process's command line; bad ones are exit 2.
    pub fn from_args() -> Result<Options> {
        Options::from_matches(&cli::parse(command())?)
    }

    fn from_matches(m: &ArgMatches) -> Result<Options> {
        let root = cli::root_of(m)?;
        let rebaseline = m.get_one::<PathBuf>("rebaseline").cloned();
        let format = match (m.get_one::<Format>("format").copied(), rebaseline.is_some()) {
            (None, false) => Format::Json,
            (None, true) => Format::AideLimit,
            (Some(f), r) if f.rebaselines() == r => f,
            (Some(f), true) => {
                return Err(Error::new(format!(
                    "--format {} does not go with --rebaseline: use --format aide-limit or paths",
                    f.as_str()
                )))
            }
            (Some(f), false) => {
                return Err(Error::new(format!(
                    "--format {} lists files for a re-baseline: give --rebaseline FILE \
                     (or --format json or text to verify)",
                    f.as_str()
                )))
            }
        };
        let jobs = m
            .get_one::<NonZeroUsize>("jobs")
            .copied()
            .or_else(|| std::thread::available_parallelism().ok())
            .map_or(1, NonZeroUsize::get);
        Ok(Options {
            root,
            format,
            packages: m
                .get_many::<String>("package")
                .map(|v| v.cloned().collect()),
            rebaseline,
            jobs,
        })
    }
}

/// The command line.
pub fn command() -> Command {
    cli::command(
        "pkg-verify",
        env!("CARGO_PKG_VERSION"),
        "Verify installed files against their packages (dpkg --verify and rpm -Va as JSON Lines), \
         and list the files patched packages own for a file-integrity re-baseline",
    )
    .long_about(
        "Check every file the installed packages put on disk against what dpkg \
         recorded, as `dpkg --verify` does, and write one `verify` record per \
         problem (missing, type, digest, unreadable), in path order, as JSON Lines. \
         On an rpm system (no dpkg status file, an rpm database in \
         /var/lib/rpm/rpmdb.sqlite) check them as `rpm -Va` does, which also \
         compares mode, owner, group, size and link (not the mtime). \
         Files are checked in parallel. A changed configuration file is reported \
         with conffile: true. Files that belong to no package are not looked at.\n\n\
         With --rebaseline FILE, print instead the files that the packages named \
         in FILE (snap-diff output of two pkg-snap snapshots, or package names) \
         own now and that match what the package installed: a regular expression \
         for `aide --update --limit`, or a list of paths.",
    )
    .arg(cli::root_arg())
    .arg(
        Arg::new("format")
            .long("format")
            .value_name("FORMAT")
            .value_parser(EnumValueParser::<Format>::new())
            .help(
                "Output verify records as JSON Lines (json, the default) or a compact \
                 view (text); with --rebaseline: a regular expression for \
                 aide --update --limit (aide-limit, the default) or one path per line \
                 (paths)",
            ),
    )
    .arg(
        Arg::new("package")
            .short('p')
            .long("package")
            .value_name("NAME,...")
            .value_delimiter(',')
            .action(ArgAction::Append)
            .help(
                "Verify only these packages (NAME for every architecture, or NAME:ARCH; \
                 comma-separated or repeated); one that is not installed is trouble",
            ),
    )
    .arg(
        Arg::new("rebaseline")
            .long("rebaseline")
            .value_name("FILE")
            .value_parser(value_parser!(PathBuf))
            .conflicts_with("package")
            .help(
                "Print the files that the packages named in FILE (- for standard input) \
                 own now, for a file-integrity re-baseline (dpkg systems): FILE holds snap-diff change \
                 records of pkg-snap snapshots, pkg-snap package records, or package \
                 names (NAME or NAME:ARCH); files that fail verification are left out",
            ),
    )
    .arg(
        Arg::new("jobs")
            .short('j')
            .long("jobs")
            .value_name("N")
            .value_parser(value_parser!(NonZeroUsize))
            .help("Check files with N threads (default: one per CPU)"),
    )
    .after_help(
        "Examples:\n  \
         pkg-verify > before.json                     # every problem now\n  \
         pkg-verify --package openssh-server --format text\n  \
         pkg-verify | snap-diff before.json -         # what the patch broke\n  \
         snap-diff before-pkg.json after-pkg.json > changes.json\n  \
         limit=$(pkg-verify --rebaseline changes.json) && aide --update --limit \"$limit\"\n\n\
         Exit status: 0 no problem found (or the files were printed), 1 problems found, \
         2 trouble.",
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
    fn the_default_format_follows_the_mode() {
        assert_eq!(parse(&[]).expect("parse").format, Format::Json);
        let o = parse(&["--rebaseline", "c.json"]).expect("parse");
        assert_eq!(o.format, Format::AideLimit);
        assert_eq!(o.rebaseline, Some(PathBuf::from("c.json")));
        let o = parse(&["--rebaseline=-", "--format", "paths", "-j", "3"]).expect("parse");
        assert_eq!((o.format, o.jobs), (Format::Paths, 3));
        let o = parse(&["-p", "a,b:amd64", "--format=text"]).expect("parse");
        assert_eq!(o.format, Format::Text);
        assert_eq!(o.packages, Some(vec!["a".into(), "b:amd64".into()]));
    }

    #[test]
    fn a_format_of_the_other_mode_is_trouble_that_says_which() {
        let e = parse(&["--format", "paths"]).expect_err("paths without --rebaseline");
        assert_eq!(e.code(), 2);
        assert!(
            e.message().starts_with("--format paths lists files"),
            "{e:?}"
        );
        let e = parse(&["--rebaseline", "-", "--format", "text"]).expect_err("text");
        assert!(
            e.message().starts_with("--format text does not go"),
            "{e:?}"
        );
        assert_eq!(parse(&["--format", "xml"]).expect_err("xml").code(), 2);
        assert_eq!(parse(&["-j", "0"]).expect_err("no threads").code(), 2);
    }
}
