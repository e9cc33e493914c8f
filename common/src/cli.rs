//! The options every tool takes, defined once so `--help` reads the same in
//! each tool: `--root DIR` and `--format json|text`.

use std::path::PathBuf;

use clap::{value_parser, Arg, ArgMatches, Command};

use crate::error::Result;
use crate::root::Root;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON Lines, one record per line (the default).
    Json,
    /// A compact view for people.
    Text,
}

/// `--root DIR`.
pub fn root_arg() -> Arg {
    Arg::new("root")
        .long("root")
        .value_name("DIR")
        .value_parser(value_parser!(PathBuf))
        .help("Read the system under DIR instead of / (a mounted system, a fixture tree)")
}

impl clap::ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &[Format::Json, Format::Text]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(match self {
            Format::Json => "json",
            Format::Text => "text",
        }))
    }
}

/// `--format json|text`.
pub fn format_arg() -> Arg {
    Arg::new("format")
        .long("format")
        .value_name("FORMAT")
        .value_parser(clap::builder::EnumValueParser::<Format>::new())
        .default_value("json")
        .help("Output JSON Lines records (json) or a compact view for people (text)")
}

/// The git commit the tools were built from (`git rev-parse --short HEAD`
/// at build time), or "unknown" for a build outside a git checkout.
pub const COMMIT: &str = env!("PATCHDAY_COMMIT");

/// The workspace version and the commit, as `--version` prints them after
/// the tool's name: `0.1.0 (commit 1a2b3c4)`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("PATCHDAY_COMMIT"),
    ")"
);

/// A tool's command with `--version` (the version and the commit it was
/// built from) and its one-line description.
pub fn command(name: &'static str, version: &'static str, about: &'static str) -> Command {
    Command::new(name)
        .version(version_line(version))
        .about(about)
}

/// `VERSION` for the workspace version every tool has; another version
/// (a tool versioned on its own) gets the same commit suffix.
fn version_line(version: &'static str) -> &'static str {
    if version == env!("CARGO_PKG_VERSION") {
        VERSION
    } else {
        // Built once per process; the few bytes live as long as it does.
        Box::leak(format!("{version} (commit {COMMIT})").into_boxed_str())
    }
}

/// The `--root` of parsed arguments, checked.
pub fn root_of(m: &ArgMatches) -> Result<Root> {
    Root::new(m.get_one::<PathBuf>("root").map(PathBuf::as_path))
}

/// The `--format` of parsed arguments.
pub fn format_of(m: &ArgMatches) -> Format {
    // The argument has a default, so it is always there.
    m.get_one::<Format>("format")
        .copied()
        .unwrap_or(Format::Json)
}

/// Parse the process arguments; clap errors become exit 2 (help: exit 0).
pub fn parse(cmd: Command) -> Result<ArgMatches> {
    Ok(cmd.try_get_matches()?)
}

/// Parse explicit arguments (tests).
pub fn parse_from<I, T>(cmd: Command, args: I) -> Result<ArgMatches>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    Ok(cmd.try_get_matches_from(args)?)
}

/// `cmd` given `words` after its own name, as a shell would run it: the
/// tools' tests of their options.
pub fn parse_words(cmd: Command, words: &[&str]) -> Result<ArgMatches> {
    let name = cmd.get_name().to_owned();
    parse_from(
        cmd,
        std::iter::once(name.as_str()).chain(words.iter().copied()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_root_parse() {
        let cmd = command("t", "0", "t").arg(root_arg()).arg(format_arg());
        let m = parse_from(cmd.clone(), ["t", "--format", "text"]).expect("parse");
        assert_eq!(format_of(&m), Format::Text);
        assert!(root_of(&m).expect("root").is_live());
        let m = parse_from(cmd.clone(), ["t"]).expect("parse");
        assert_eq!(format_of(&m), Format::Json);
        let e = parse_from(cmd, ["t", "--format", "xml"]).expect_err("bad format");
        assert_eq!(e.code(), 2);
    }

    #[test]
    fn version_names_the_commit() {
        let v = command("t", env!("CARGO_PKG_VERSION"), "t").render_version();
        assert_eq!(
            v,
            format!("t {} (commit {})\n", env!("CARGO_PKG_VERSION"), COMMIT)
        );
        assert!(!COMMIT.is_empty());
        let other = command("t", "9.9.9", "t").render_version();
        assert_eq!(other, format!("t 9.9.9 (commit {COMMIT})\n"));
    }
}
