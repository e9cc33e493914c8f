//! The command line: the options and what they select.

use clap::{Arg, ArgAction, ArgMatches, Command};
use common::cli::{self, Format};
use common::{Result, Root};

/// What the command line asked for, resolved: nothing past this point
/// sees the argument parser.
#[derive(Debug)]
pub(crate) struct Options {
    /// The system to check (`/`, or `--root DIR`).
    pub root: Root,
    pub format: Format,
    /// `--strict`: a warning fails the run too.
    pub strict: bool,
}

impl Options {
    /// The options of this process's command line; bad ones are exit 2.
    pub(crate) fn from_args() -> Result<Options> {
        Options::from_matches(&cli::parse(command())?)
    }

    fn from_matches(m: &ArgMatches) -> Result<Options> {
        Ok(Options {
            root: cli::root_of(m)?,
            format: cli::format_of(m),
            strict: m.get_flag("strict"),
        })
    }
}

/// The command line (also read by the man page test and the completions).
pub fn command() -> Command {
    cli::command(
        "boot-check",
        env!("CARGO_PKG_VERSION"),
        "Check that the boot loader's next boot will work: default entry, kernels, initrds, root=, /boot",
    )
    .arg(cli::root_arg().help(
        "Check the system mounted under DIR (a rescue shell's /mnt/sysimage) instead of the running one; nothing of the live system is read, so the running-kernel checks are skipped and say so",
    ))
    .arg(cli::format_arg().help(
        "Write one JSON `check` record per line (json), or a short report ending in a verdict such as \"safe to reboot\" or \"DO NOT REBOOT\" (text)",
    ))
    .arg(
        Arg::new("strict")
            .long("strict")
            .action(ArgAction::SetTrue)
            .help("Treat warnings as failures: exit 1 when any check warns (a pre-reboot guard for scripts)"),
    )
    .after_help(
        "Boot loaders: GRUB 2 (with BLS entries), GRUB legacy, extlinux/syslinux, systemd-boot.\nIt never writes anything.\n\nExit status: 0 no check failed, 1 a check failed (or warned, with --strict),\n2 it could not run (bad arguments, a configuration this user may not read).\n\nExamples:\n  boot-check --format text                 read it before typing `reboot`\n  boot-check --strict >/dev/null && reboot reboot only when nothing is wrong\n  boot-check --root /mnt/sysimage | jq 'select(.status==\"fail\")'   from a rescue shell",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_parses() {
        let m = cli::parse_from(command(), ["boot-check", "--strict", "--format", "text"])
            .expect("parse");
        let o = Options::from_matches(&m).expect("options");
        assert!(o.strict);
        assert_eq!(o.format, Format::Text);
        command().debug_assert();
        let help = command().render_long_help().to_string();
        for w in [
            "--root",
            "--format",
            "--strict",
            "Exit status",
            "running-kernel checks are skipped",
            "never writes",
        ] {
            assert!(help.contains(w), "{w} missing from --help:\n{help}");
        }
    }
}
