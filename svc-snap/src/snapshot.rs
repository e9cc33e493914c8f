//! The snapshot: one record per unit file on the search path (its state
//! from install.rs), then one per SysV init script, filtered.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use common::bytes::path_value;
use common::records::unit::Unit;
use common::{Result, Root};

use crate::args::Filter;
use crate::install::{self, Index, Paths, ALIAS, BAD};
use crate::{live, name, sysv};

/// The records of one snapshot and what to say about it on stderr.
#[derive(Debug)]
pub struct Snapshot {
    pub units: Vec<Unit>,
    pub notes: Vec<String>,
}

/// Read the units of the system under `root`.
pub fn snapshot(
    root: Root,
    unit_path: Option<&std::ffi::OsStr>,
    filter: &Filter,
    no_sysv: bool,
) -> Result<Snapshot> {
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

    if !no_sysv {
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

    units.retain(|u| keep(u, filter));
    Ok(Snapshot { units, notes })
}

/// The `--state` and `--type` filters.
fn keep(u: &Unit, filter: &Filter) -> bool {
    if let Some(types) = &filter.types {
        if !types.iter().any(|t| t.as_str() == u.unit_type) {
            return false;
        }
    }
    if let Some(states) = &filter.states {
        if !states.iter().any(|s| s.as_str() == u.state) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;
    use crate::args::{UnitState, UnitType};

    #[test]
    fn filters_by_state_and_type() {
        let u = Unit::new(None, "a.timer".into(), "timer".into(), "enabled".into());
        let s = Unit::new(None, "cron".into(), "sysv".into(), "enabled".into());
        let state = |w: &str| {
            *UnitState::value_variants()
                .iter()
                .find(|s| s.as_str() == w)
                .expect("a state")
        };
        let timer = *UnitType::value_variants()
            .iter()
            .find(|t| t.as_str() == "timer")
            .expect("a type");
        let o = Filter {
            states: Some(vec![state("enabled")]),
            types: Some(vec![timer]),
        };
        assert!(keep(&u, &o));
        assert!(!keep(&s, &o));
        let o = Filter {
            states: Some(vec![state("disabled")]),
            types: None,
        };
        assert!(!keep(&s, &o));
        assert!(!keep(&u, &o));
    }
}
