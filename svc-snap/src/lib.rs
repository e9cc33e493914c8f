//! svc-snap: one `unit` record per unit file on systemd's search path, with
//! the unit-file state exactly as `systemctl is-enabled` prints it, read
//! offline (so `--root DIR` answers for a mounted system in a rescue shell),
//! and per SysV init script, for hosts whose init is not systemd. Take one
//! before and one after the patches and compare them with snap-diff: a
//! package that enabled, masked or replaced a service shows up before the
//! reboot does.
//!
//! Unit names live in [`name`], the `[Install]` parser in [`parse`], the
//! state rules (a port of systemd's install.c) in [`install`], init scripts
//! in [`sysv`], the running state in [`live`]; this file holds the options
//! and the records.

pub mod install;
pub mod live;
pub mod name;
pub mod parse;
pub mod sysv;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde_json::Value;

use common::bytes::path_value;
use common::cli::{self, Format};
use common::records::unit::Unit;
use common::{Error, Out, Result, Root, Status};

use crate::install::{Index, Paths, ALIAS, BAD};

/// The `svc-snap` binary.
pub fn main() -> ExitCode {
    common::run("svc-snap", || {
        let m = cli::parse(command())?;
        run(&m)
    })
}

/// The states a unit file can have, for `--state` and the man page.
pub const STATES: [&str; 13] = [
    install::ENABLED,
    install::ENABLED_RUNTIME,
    install::LINKED,
    install::LINKED_RUNTIME,
    install::ALIAS,
    install::MASKED,
    install::MASKED_RUNTIME,
    install::STATIC,
    install::DISABLED,
    install::INDIRECT,
    install::GENERATED,
    install::TRANSIENT,
    install::BAD,
];

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
            .value_parser(STATES)
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
            .value_parser(
                name::TYPES
                    .iter()
                    .chain(["sysv"].iter())
                    .copied()
                    .collect::<Vec<_>>(),
            )
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

/// The selection and output options.
#[derive(Debug, Clone, Default)]
pub struct Opts {
    pub format: Option<Format>,
    pub states: Option<Vec<String>>,
    pub types: Option<Vec<String>>,
    pub no_sysv: bool,
}

/// Run with parsed arguments.
pub fn run(m: &ArgMatches) -> Result<Status> {
    let root = cli::root_of(m)?;
    let opts = Opts {
        format: Some(cli::format_of(m)),
        states: m.get_many::<String>("state").map(|v| v.cloned().collect()),
        types: m.get_many::<String>("type").map(|v| v.cloned().collect()),
        no_sysv: m.get_flag("no-sysv"),
    };
    let unit_path = std::env::var_os("SYSTEMD_UNIT_PATH");
    let snap = snapshot(root, unit_path.as_deref(), &opts)?;
    let mut out = Out::stdout();
    write(&snap.units, &opts, &mut out)?;
    out.finish()?;
    for note in &snap.notes {
        common::warn!("svc-snap: {note}");
    }
    Ok(Status::Ok)
}

/// The records of one snapshot and what to say about it on stderr.
#[derive(Debug)]
pub struct Snapshot {
    pub units: Vec<Unit>,
    pub notes: Vec<String>,
}

/// Read the units of the system under `root`.
pub fn snapshot(root: Root, unit_path: Option<&std::ffi::OsStr>, opts: &Opts) -> Result<Snapshot> {
    let mut notes = Vec::new();
    let host = root.hostname();
    let live_states = if root.is_live() && live::booted_with_systemd() {
        match live::query() {
            Ok(s) => Some(s),
            Err(e) => {
                notes.push(e);
                None
            }
        }
    } else {
        None
    };
    let index = Index::new(Paths::new(root.clone(), unit_path));

    // Links in .wants/, .requires/, .upholds/: who pulls each name in, and
    // the instances named of each template.
    let mut pulled_by: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut instances: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for d in &index.dirs {
        for dep in &d.deps {
            for l in &dep.links {
                pulled_by.entry(l).or_default().insert(&dep.owner);
                if name::is_instance(l) {
                    if let Some(t) = name::template_of(l) {
                        instances.entry(t).or_default().insert(l);
                    }
                }
            }
        }
    }

    let mut units: Vec<Unit> = Vec::new();
    let mut bad: Vec<String> = Vec::new();
    for (n, entry) in index.unit_files() {
        let look = index.lookup_state(&n);
        let ty = name::unit_type(&n).unwrap_or_default().to_owned();
        let mut u = Unit::new(host.clone(), n.clone(), ty, look.state.to_owned());
        let sys = |p: &Path| root.system_path(p).map_or(Value::Null, |s| path_value(&s));
        match &look.info {
            Some(info) => {
                u.path = info.path.as_deref().map_or(Value::Null, sys);
                if look.state == ALIAS {
                    u.alias_of = Some(info.name.clone());
                }
                if info.mode != install::Mode::Masked {
                    u.also = Some(info.also.clone());
                    u.drop_ins = Some(info.drop_ins.iter().map(|p| sys(p)).collect());
                }
            }
            None => {
                u.path = sys(&entry);
                if let Some(f) = &look.fail {
                    bad.push(format!("{n} ({})", f.reason()));
                }
            }
        }
        let mut wanted: BTreeSet<&str> = pulled_by.get(n.as_str()).cloned().unwrap_or_default();
        if name::is_template(&n) {
            let inst = instances.get(&n).cloned().unwrap_or_default();
            for i in &inst {
                wanted.extend(pulled_by.get(i).into_iter().flatten());
            }
            u.instances = Some(inst.iter().map(|s| (*s).to_owned()).collect());
        }
        u.wanted_by = Some(wanted.iter().map(|s| (*s).to_owned()).collect());
        if look.state != ALIAS && look.state != BAD {
            u.aliases = Some(Vec::new());
        }
        if let Some(states) = &live_states {
            let s = states
                .get(&n)
                .or_else(|| u.alias_of.as_ref().and_then(|a| states.get(a)));
            if let Some((a, s)) = s {
                u.active.clone_from(a);
                u.sub.clone_from(s);
            }
        }
        units.push(u);
    }
    units.sort_by(|a, b| a.name.cmp(&b.name));
    // Aliases: the names on the search path that stand for each unit.
    let alias_of: Vec<(String, String)> = units
        .iter()
        .filter_map(|u| Some((u.alias_of.clone()?, u.name.clone())))
        .collect();
    for (target, alias) in alias_of {
        if let Ok(i) = units.binary_search_by(|u| u.name.as_str().cmp(&target)) {
            if let Some(a) = units[i].aliases.as_mut() {
                a.push(alias);
            }
        }
    }
    if !bad.is_empty() {
        notes.push(format!(
            "{} unit file{} systemd would not load (state bad): {}",
            bad.len(),
            if bad.len() == 1 { "" } else { "s" },
            bad.join(", ")
        ));
    }

    if !opts.no_sysv {
        let (scripts, skipped) = sysv::scripts(&root);
        for s in scripts {
            let state = if s.runlevels.is_empty() {
                install::DISABLED
            } else {
                install::ENABLED
            };
            let mut u = Unit::new(
                host.clone(),
                s.name.clone(),
                "sysv".to_owned(),
                state.to_owned(),
            );
            u.path = path_value(&Path::new("/etc/init.d").join(&s.name));
            u.runlevels = Some(s.runlevels);
            units.push(u);
        }
        if skipped > 0 {
            notes.push(format!(
                "{skipped} init script{} in {} left out: name is not UTF-8",
                if skipped == 1 { "" } else { "s" },
                root.path("/etc/init.d").display()
            ));
        }
    }

    units.retain(|u| keep(u, opts));
    Ok(Snapshot { units, notes })
}

/// The `--state` and `--type` filters.
fn keep(u: &Unit, opts: &Opts) -> bool {
    if let Some(types) = &opts.types {
        if !types.contains(&u.unit_type) {
            return false;
        }
    }
    if let Some(states) = &opts.states {
        if !states.contains(&u.state) {
            return false;
        }
    }
    true
}

/// Write the records (JSON Lines) or the text view.
pub fn write<W: std::io::Write>(units: &[Unit], opts: &Opts, out: &mut Out<W>) -> Result<()> {
    match opts.format.unwrap_or(Format::Json) {
        Format::Json => {
            for u in units {
                let v = serde_json::to_value(u)
                    .map_err(|e| Error::new(format!("encoding a record: {e}")))?;
                out.record(&v)?;
            }
        }
        Format::Text => {
            let w = units.iter().map(|u| u.name.len()).max().unwrap_or(4).max(4);
            out.line(&format!(
                "{:<w$}  {:<15}  {:<17}  WANTED BY",
                "UNIT", "STATE", "ACTIVE"
            ))?;
            for u in units {
                out.line(&text_line(u, w))?;
            }
        }
    }
    Ok(())
}

/// One unit for people: name, state, what runs now, who pulls it in.
fn text_line(u: &Unit, w: usize) -> String {
    let active = match (&u.active, &u.sub) {
        (Some(a), Some(s)) => format!("{a}/{s}"),
        (Some(a), None) => a.clone(),
        _ => "-".to_owned(),
    };
    let mut tail = match (&u.runlevels, &u.alias_of, &u.wanted_by) {
        (Some(r), _, _) if r.is_empty() => "no runlevel".to_owned(),
        (Some(r), _, _) => format!("runlevels {}", r.join(" ")),
        (_, Some(a), _) => format!("-> {a}"),
        (_, _, Some(wb)) if !wb.is_empty() => wb.join(" "),
        _ => "-".to_owned(),
    };
    if let Some(i) = u.instances.as_ref().filter(|i| !i.is_empty()) {
        tail.push_str(&format!(" [{}]", i.join(" ")));
    }
    format!("{:<w$}  {:<15}  {:<17}  {}", u.name, u.state, active, tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lines_say_state_and_who_pulls_in() {
        let mut u = Unit::new(
            None,
            "ssh.service".into(),
            "service".into(),
            "enabled".into(),
        );
        u.wanted_by = Some(vec!["multi-user.target".into()]);
        assert_eq!(
            text_line(&u, 11),
            "ssh.service  enabled          -                  multi-user.target"
        );
        let mut s = Unit::new(None, "cron".into(), "sysv".into(), "enabled".into());
        s.runlevels = Some(vec!["2".into(), "3".into()]);
        assert!(text_line(&s, 4).ends_with("runlevels 2 3"));
    }

    #[test]
    fn filters_by_state_and_type() {
        let u = Unit::new(None, "a.timer".into(), "timer".into(), "enabled".into());
        let s = Unit::new(None, "cron".into(), "sysv".into(), "enabled".into());
        let o = Opts {
            states: Some(vec!["enabled".into()]),
            types: Some(vec!["timer".into()]),
            ..Opts::default()
        };
        assert!(keep(&u, &o));
        assert!(!keep(&s, &o));
        let o = Opts {
            states: Some(vec!["disabled".into()]),
            ..Opts::default()
        };
        assert!(!keep(&s, &o));
        assert!(!keep(&u, &o));
    }
}
