//! The command line: the options and what they select. `command()` is the
//! one definition (`--help`, the man-page test and the completions use
//! it); [`Options`] is what it resolves to, and nothing past the entry
//! point sees the argument parser.

use std::ffi::OsString;

use clap::builder::{EnumValueParser, PossibleValue};
use clap::{Arg, ArgAction, ArgMatches, Command, ValueEnum};

use common::cli::{self, Format};
use common::{Result, Root};

use crate::{install, name};

/// A unit-file state, one of the words `systemctl is-enabled` prints (the
/// words are install.rs's, which computes them; only those can be made).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitState(&'static str);

/// Every unit-file state, for `--state` and the man page.
const STATES: [UnitState; 13] = [
    UnitState(install::ENABLED),
    UnitState(install::ENABLED_RUNTIME),
    UnitState(install::LINKED),
    UnitState(install::LINKED_RUNTIME),
    UnitState(install::ALIAS),
    UnitState(install::MASKED),
    UnitState(install::MASKED_RUNTIME),
    UnitState(install::STATIC),
    UnitState(install::DISABLED),
    UnitState(install::INDIRECT),
    UnitState(install::GENERATED),
    UnitState(install::TRANSIENT),
    UnitState(install::BAD),
];

impl UnitState {
    /// The word, as the records' `state` has it.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl ValueEnum for UnitState {
    fn value_variants<'a>() -> &'a [Self] {
        &STATES
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0))
    }
}

/// A unit type as the suffix of a unit name spells it, or `sysv` for an
/// init script (only those can be made).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitType(&'static str);

/// Every unit type of [`name::TYPES`], then `sysv`.
const TYPES: [UnitType; 12] = {
    let mut all = [UnitType("sysv"); 12];
    let mut i = 0;
    while i < name::TYPES.len() {
        all[i] = UnitType(name::TYPES[i]);
        i += 1;
    }
    all
};

impl UnitType {
    /// The type, as the records' `type` has it.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl ValueEnum for UnitType {
    fn value_variants<'a>() -> &'a [Self] {
        &TYPES
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0))
    }
}

/// Which records to keep.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `--state`: only units in these states (None: all).
    pub states: Option<Vec<UnitState>>,
    /// `--type`: only units of these types (None: all).
    pub types: Option<Vec<UnitType>>,
}

/// What the command line (and the environment) asked for, resolved.
#[derive(Debug)]
pub struct Options {
    pub root: Root,
    pub format: Format,
    pub filter: Filter,
    pub no_sysv: bool,
    /// `$SYSTEMD_UNIT_PATH`, which changes the search path as it does
    /// for systemctl.
    pub unit_path: Option<OsString>,
}

impl Options {
    /// The options of this process's command line; bad ones are exit 2.
    pub fn from_args() -> Result<Options> {
        Options::from_matches(
            &cli::parse(command())?,
            std::env::var_os("SYSTEMD_UNIT_PATH"),
        )
    }

    fn from_matches(m: &ArgMatches, unit_path: Option<OsString>) -> Result<Options> {
        Ok(Options {
            root: cli::root_of(m)?,
            format: cli::format_of(m),
            filter: Filter {
                states: m
                    .get_many::<UnitState>("state")
                    .map(|v| v.copied().collect()),
                types: m.get_many::<UnitType>("type").map(|v| v.copied().collect()),
            },
            no_sysv: m.get_flag("no-sysv"),
            unit_path,
        })
    }
}

/// The command line.
pub fn command() -> Command {
    cli::command(
        "svc-snap",
        env!("CARGO_PKG_VERSION"),
        "Snapshot which services start at the next boot (and which run now) as JSON Lines",
    )
    .long_about(
        "Write one `unit` record per unit file on systemd's search path (the \
         files `systemctl list-unit-files` lists), in name order: its unit-file \
         state exactly as `systemctl is-enabled` prints it, read from the files \
         without asking systemd (enabled, enabled-runtime, linked, alias, masked, \
         static, indirect, disabled, generated, transient, bad, ...), the file \
         that wins, the units whose .wants/, .requires/ and .upholds/ links pull \
         it in, its aliases, Also=, drop-ins and enabled template instances. \
         Then one record per SysV init script in /etc/init.d with the runlevels \
         that start it. On a live system booted with systemd, active and sub say \
         what runs now; elsewhere, and under --root, they are null. Take one \
         snapshot before and one after the patches and compare them with \
         snap-diff.",
    )
    .arg(cli::root_arg())
    .arg(cli::format_arg())
    .arg(
        Arg::new("state")
            .long("state")
            .value_name("STATE,...")
            .value_delimiter(',')
            .action(ArgAction::Append)
            .value_parser(EnumValueParser::<UnitState>::new())
            .hide_possible_values(true)
            .help(
                "Show only units in these unit-file states (enabled, disabled, masked, \
                 ...; comma-separated or repeated); init scripts are matched by \
                 enabled or disabled",
            ),
    )
    .arg(
        Arg::new("type")
            .short('t')
            .long("type")
            .value_name("TYPE,...")
            .value_delimiter(',')
            .action(ArgAction::Append)
            .value_parser(EnumValueParser::<UnitType>::new())
            .hide_possible_values(true)
            .help(
                "Show only units of these types (service, socket, timer, target, \
                 path, mount, ..., or sysv for init scripts; comma-separated or \
                 repeated)",
            ),
    )
    .arg(
        Arg::new("no-sysv")
            .long("no-sysv")
            .action(ArgAction::SetTrue)
            .help("Leave out the SysV init scripts of /etc/init.d"),
    )
    .after_help(
        "Examples:\n  \
         svc-snap > before-units.json               # before the patches\n  \
         svc-snap | snap-diff before-units.json -   # what the patches enabled, masked\n  \
         svc-snap --state enabled --type service,timer --format text\n  \
         svc-snap --root /mnt --state masked        # a mounted system, rescue mode\n\n\
         $SYSTEMD_UNIT_PATH changes the search path as it does for systemctl.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options> {
        let m = cli::parse_words(command(), args)?;
        Options::from_matches(&m, None)
    }

    #[test]
    fn types_are_the_unit_types_and_sysv() {
        let names: Vec<&str> = UnitType::value_variants()
            .iter()
            .map(|t| t.as_str())
            .collect();
        assert_eq!(names[..11], name::TYPES);
        assert_eq!(names[11], "sysv");
    }

    #[test]
    fn states_and_types_are_typed_and_unknown_ones_refused() {
        let o = parse(&[
            "--state",
            "enabled,masked-runtime",
            "-t",
            "timer",
            "--no-sysv",
        ])
        .expect("parse");
        let states = o.filter.states.expect("states");
        assert_eq!(
            states.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            [install::ENABLED, install::MASKED_RUNTIME]
        );
        assert_eq!(o.filter.types.expect("types")[0].as_str(), "timer");
        assert!(o.no_sysv);
        let o = parse(&[]).expect("parse");
        assert!(o.filter.states.is_none() && o.filter.types.is_none() && !o.no_sysv);
        assert_eq!(parse(&["--state", "on"]).expect_err("state").code(), 2);
        assert_eq!(parse(&["--type", "unit"]).expect_err("type").code(), 2);
    }
}
