//! The command line: the options and what they select. `command()` is the
//! one definition (`--help`, the man-page test and the completions use
//! it); [`Options`] is what it resolves to, and nothing past the entry
//! point sees the argument parser.

use clap::builder::PossibleValue;
use clap::{Arg, ArgAction, ArgMatches, Command, ValueEnum};

use common::cli::{self, Format};
use common::records::setting::AREAS;
use common::{Result, Root};

/// An area of settings; the order of the variants is the order of
/// `common::records::setting::AREAS`, which is the order of the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Area {
    Sysctl,
    File,
    Lsm,
    Firewall,
    Sshd,
}

impl Area {
    /// The name the records (`area`) and `--area` use.
    pub fn as_str(self) -> &'static str {
        match self {
            Area::Sysctl => AREAS[0],
            Area::File => AREAS[1],
            Area::Lsm => AREAS[2],
            Area::Firewall => AREAS[3],
            Area::Sshd => AREAS[4],
        }
    }
}

impl ValueEnum for Area {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            Area::Sysctl,
            Area::File,
            Area::Lsm,
            Area::Firewall,
            Area::Sshd,
        ]
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
    /// The areas to read, in record order, each once.
    pub areas: Vec<Area>,
    pub counters: bool,
}

impl Options {
    /// The options of this process's command line; bad ones are exit 2.
    pub fn from_args() -> Result<Options> {
        Options::from_matches(&cli::parse(command())?)
    }

    fn from_matches(m: &ArgMatches) -> Result<Options> {
        let mut areas: Vec<Area> = match m.get_many::<Area>("area") {
            Some(v) => v.copied().collect(),
            None => Area::value_variants().to_vec(),
        };
        areas.sort_unstable();
        areas.dedup();
        Ok(Options {
            root: cli::root_of(m)?,
            format: cli::format_of(m),
            areas,
            counters: m.get_flag("counters"),
        })
    }

    /// Whether `area` is to be read.
    pub fn wants(&self, area: Area) -> bool {
        self.areas.contains(&area)
    }
}

/// The command line.
pub fn command() -> Command {
    cli::command(
        "sec-snap",
        env!("CARGO_PKG_VERSION"),
        "Snapshot the security settings in force as JSON Lines: kernel parameters, \
         privileged files, MAC, firewall, sshd",
    )
    .long_about(
        "Write one `setting` record per security setting as JSON Lines: every kernel \
         parameter under /proc/sys as `sysctl -a` shows it, with the value sysctl.d \
         configures for the next boot and whether the two differ (sysctl); every \
         setuid or setgid file and every executable with file capabilities on the \
         root file system, with owner, mode, capabilities as getcap prints them and \
         the package that owns it (file); the security modules, SELinux's mode or \
         AppArmor's profiles (lsm); the nftables ruleset, one record per chain and \
         rule, and legacy iptables rules where in use (firewall); the effective ssh \
         daemon configuration from `sshd -T` (sshd). Take one before and one after \
         the patches and compare them with snap-diff.",
    )
    .arg(cli::root_arg().long_help(
        "Read the system under DIR instead of /: the configured kernel parameters \
         (DIR/etc/sysctl.d, ...), the privileged files under DIR (on DIR's file \
         system), the SELinux configuration and the sshd configuration files. \
         Running kernel parameters, security modules, the firewall and `sshd -T` \
         need a live system: under DIR they are read only from DIR/proc/sys and \
         DIR/sys where those exist, and otherwise written with a null value and \
         the reason",
    ))
    .arg(cli::format_arg())
    .arg(
        Arg::new("area")
            .short('a')
            .long("area")
            .value_name("AREA,...")
            .value_delimiter(',')
            .action(ArgAction::Append)
            .value_parser(clap::builder::EnumValueParser::<Area>::new())
            .help(
                "Read only these areas: sysctl, file, lsm, firewall, sshd \
                 (comma-separated or repeated; default all)",
            ),
    )
    .arg(
        Arg::new("counters")
            .long("counters")
            .action(ArgAction::SetTrue)
            .help(
                "Also write the kernel's statistics under /proc/sys that change by \
                 themselves (fs.file-nr, fs.dentry-state, kernel.random.uuid, ...), \
                 which are left out by default",
            ),
    )
    .after_help(
        "Examples:\n  \
         sec-snap > before-sec.json                  # before the patches\n  \
         sec-snap | snap-diff before-sec.json -      # what the patches changed\n  \
         sec-snap -a sysctl | jq -r 'select(.differs) | .name'\n  \
         sec-snap -a file --format text              # setuid, setgid, capabilities\n  \
         sec-snap --root /mnt -a sysctl,file,sshd    # a mounted system, offline",
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
    fn areas_are_the_record_areas_in_record_order() {
        let names: Vec<&str> = Area::value_variants().iter().map(|a| a.as_str()).collect();
        assert_eq!(names, AREAS);
        assert_eq!(parse(&[]).expect("parse").areas, Area::value_variants());
    }

    #[test]
    fn areas_given_are_sorted_and_once_each() {
        let o = parse(&["-a", "sshd,sysctl", "--area=sshd", "--counters"]).expect("parse");
        assert_eq!(o.areas, [Area::Sysctl, Area::Sshd]);
        assert!(o.counters && o.wants(Area::Sshd) && !o.wants(Area::File));
        assert_eq!(parse(&["-a", "selinux"]).expect_err("unknown").code(), 2);
    }
}
