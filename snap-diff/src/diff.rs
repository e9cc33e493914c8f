//! Pairing records by identity and turning what differs into `change`
//! records.
//!
//! Records are grouped by (kind, identity key). Within a group, in order:
//! 1. equal records cancel (multiset; oldest first): never a change; then
//!    records that are equal but for the ignored fields that identify
//!    nothing ([`Rules::maskable`]) pair silently the same way;
//! 2. processes pair by instance (boot_id, pid, start_ticks): a pair whose
//!    compared fields differ is `changed`; other kinds pair silently when
//!    their compared fields are equal;
//! 3. across the process groups, a process left in BEFORE under one
//!    identity and in AFTER under another with the same instance (host
//!    too) is one process whose identity fields changed: `changed`;
//! 4. what is left pairs by file order: processes as `restarted` where
//!    they are the same service (same parent or parents of the same
//!    identity, not another terminal; silent on a host that rebooted
//!    between the snapshots), other kinds as `changed`;
//! 5. the rest is `removed` (BEFORE) or `added` (AFTER).
//!
//! Step 1 is why the loader may cancel byte-identical lines early, and
//! lines that are byte-identical once those ignored fields are dropped:
//! it only does the work of this step sooner, on bytes instead of trees.
//! (Step 2 alone would not do: it pairs a socket with the oldest of its
//! key whose compared fields are equal, where the loader pairs it with
//! the one held by the same pids.)

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use serde_json::{Map, Value};

use common::records::change::{self, reboot_field as rf};
use common::records::package::{self, field as pkf};
use common::records::process::{self, field as pf};

use crate::input::{Loaded, Rec};
use crate::rules::{field, Class, Ignore, Rules, INSTANCE};

/// What happened to a thing between the snapshots (the `op` of a
/// `change` record).
pub use common::records::change::Op;

/// One difference.
#[derive(Debug, Clone)]
pub struct Change {
    pub op: Op,
    /// The kind compared (`host` for a reboot; `None` for kind-less records).
    pub of: Option<String>,
    pub key: Map<String, Value>,
    pub before: Option<Map<String, Value>>,
    pub after: Option<Map<String, Value>>,
    pub fields: Vec<String>,
    sort: (Option<String>, String, Op, String, String),
}

impl Change {
    fn new(
        op: Op,
        of: Option<String>,
        key: Map<String, Value>,
        before: Option<Map<String, Value>>,
        after: Option<Map<String, Value>>,
        fields: Vec<String>,
    ) -> Change {
        let text = |m: &Option<Map<String, Value>>| {
            m.as_ref()
                .map(|m| serde_json::to_string(m).unwrap_or_default())
                .unwrap_or_default()
        };
        let sort = (
            of.clone(),
            serde_json::to_string(&key).unwrap_or_default(),
            op,
            text(&before),
            text(&after),
        );
        Change {
            op,
            of,
            key,
            before,
            after,
            fields,
            sort,
        }
    }

    /// The `change` record, borrowing this change's records. A change of a
    /// `package` also says which way its version moved and which cached
    /// package file holds the version before ([`Change::package_move`]).
    pub fn record(&self) -> change::Change<'_> {
        let mv = self.package_move();
        change::Change {
            kind: change::KIND.to_owned(),
            op: self.op,
            of: self.of.as_deref().map(Cow::Borrowed),
            key: Cow::Borrowed(&self.key),
            before: self.before.as_ref().map(Cow::Borrowed),
            after: self.after.as_ref().map(Cow::Borrowed),
            fields: Cow::Borrowed(&self.fields),
            leftover_of: None,
            direction: mv
                .as_ref()
                .map(|m| m.direction.map(|d| d.name().to_owned())),
            rollback: mv.map(|m| m.rollback),
        }
    }

    /// For a change of a `package` record: the direction of a changed
    /// version by the manager's own ordering (`None` when the version did
    /// not change, or for another manager), and the cached package file
    /// (of the record after) that holds the version before, the way back.
    /// `None` for other kinds.
    pub fn package_move(&self) -> Option<PackageMove> {
        if self.of.as_deref() != Some(package::KIND) {
            return None;
        }
        let s = |m: &Option<Map<String, Value>>, f: &str| {
            m.as_ref()
                .and_then(|m| m.get(f))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let manager = s(&self.after, pkf::MANAGER).or_else(|| s(&self.before, pkf::MANAGER));
        let (Some(manager), Some(b), Some(a)) = (
            manager,
            s(&self.before, pkf::VERSION),
            s(&self.after, pkf::VERSION),
        ) else {
            return Some(PackageMove::default());
        };
        let direction = package::direction(&manager, &b, &a);
        let cached: Vec<String> = self
            .after
            .as_ref()
            .and_then(|m| m.get(pkf::CACHED))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let rollback = direction
            .and_then(|_| package::cached_file(&manager, &cached, &b))
            .map(str::to_owned);
        Some(PackageMove {
            manager,
            direction,
            rollback,
        })
    }
}

/// Which way a package's version moved, and the way back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageMove {
    pub manager: String,
    pub direction: Option<package::Direction>,
    pub rollback: Option<String>,
}

/// A group of records with one identity.
struct Group {
    kind: Option<String>,
    key: Map<String, Value>,
    b: Vec<usize>,
    a: Vec<usize>,
}

/// The kinds with records on one side only, when both sides have records:
/// (kind, whether BEFORE is the side that has them). Such a kind is not
/// compared: a process snapshot against one of processes and sockets
/// means other things were snapshot, not that every socket vanished.
pub fn one_sided(input: &Loaded) -> Vec<(Option<String>, bool)> {
    let (b, a) = (&input.kinds_before, &input.kinds_after);
    if b.is_empty() || a.is_empty() {
        return Vec::new();
    }
    let only = |x: &crate::input::Kinds, y: &crate::input::Kinds, before: bool| {
        x.iter()
            .filter(|k| !y.contains(*k))
            .map(|k| (k.map(str::to_owned), before))
            .collect::<Vec<_>>()
    };
    let mut out = only(b, a, true);
    out.extend(only(a, b, false));
    out
}

/// All changes between the loaded sides, in the stable order: by kind,
/// then key (its JSON text), then op, then the records' JSON text.
pub fn diff(rules: &Rules, input: &Loaded) -> Vec<Change> {
    let mut changes = Vec::new();
    let skip: HashSet<Option<String>> = one_sided(input).into_iter().map(|(k, _)| k).collect();

    // Reboots: a host with process records on both sides and no boot id in
    // common.
    let mut rebooted: HashSet<&str> = HashSet::new();
    for (hjson, (host, bset)) in &input.boots_before.hosts {
        let Some((_, aset)) = input.boots_after.hosts.get(hjson) else {
            continue;
        };
        if input.shared_hosts.contains(hjson) || bset.keys().any(|k| aset.contains_key(k)) {
            continue;
        }
        rebooted.insert(hjson);
        let ids = |s: &BTreeMap<String, Value>| Value::Array(s.values().cloned().collect());
        let side = |s: &BTreeMap<String, Value>| {
            let mut m = Map::new();
            m.insert(rf::HOST.into(), host.clone());
            m.insert(rf::BOOT_IDS.into(), ids(s));
            m
        };
        let mut key = Map::new();
        key.insert(rf::HOST.into(), host.clone());
        changes.push(Change::new(
            Op::Reboot,
            Some(change::REBOOT_OF.into()),
            key,
            Some(side(bset)),
            Some(side(aset)),
            vec![rf::BOOT_IDS.into()],
        ));
    }

    // Group both sides by (kind, key).
    let mut groups: HashMap<(Option<String>, String), Group> = HashMap::new();
    let mut add = |recs: &[Rec], after: bool| {
        for (i, r) in recs.iter().enumerate() {
            let kind = r.map.get(pf::KIND).and_then(Value::as_str);
            if rules.excluded(kind, &r.map)
                || (!skip.is_empty() && skip.contains(&kind.map(str::to_owned)))
            {
                continue;
            }
            let key = rules.key_of(kind, &r.map);
            let text = serde_json::to_string(&key).unwrap_or_default();
            let g = groups
                .entry((kind.map(str::to_owned), text))
                .or_insert_with(|| Group {
                    kind: kind.map(str::to_owned),
                    key,
                    b: Vec::new(),
                    a: Vec::new(),
                });
            if after {
                g.a.push(i);
            } else {
                g.b.push(i);
            }
        }
    };
    add(&input.before, false);
    add(&input.after, true);

    // Groups in a fixed order, so that pairing across groups is stable.
    let mut groups: Vec<((Option<String>, String), Group)> = groups.into_iter().collect();
    groups.sort_by(|x, y| x.0.cmp(&y.0));
    let mut maskable: HashMap<Option<String>, BTreeSet<String>> = HashMap::new();
    let mut lefts: Vec<(Vec<usize>, Vec<usize>)> = groups
        .iter()
        .map(|(_, g)| {
            let drop = maskable
                .entry(g.kind.clone())
                .or_insert_with(|| rules.maskable(g.kind.as_deref()));
            pair_same(rules, input, g, drop, &mut changes)
        })
        .collect();
    moved_identity(rules, input, &groups, &mut lefts, &mut changes);
    let lineage = std::cell::OnceCell::new();
    for ((_, g), (b, a)) in groups.iter().zip(lefts) {
        pair_rest(rules, input, &rebooted, &lineage, g, &b, &a, &mut changes);
    }
    changes.sort_by(|x, y| x.sort.cmp(&y.sort));
    changes
}

/// Pair `b` with `a` by a text of each record: equal texts pair, oldest
/// first. Returns the pairs and what is left of each side (in order).
fn pair_by<F: Fn(&Map<String, Value>) -> String>(
    before: &[Rec],
    after: &[Rec],
    b: &[usize],
    a: &[usize],
    text: F,
) -> (Vec<(usize, usize)>, Vec<usize>, Vec<usize>) {
    if b.is_empty() || a.is_empty() {
        return (Vec::new(), b.to_vec(), a.to_vec());
    }
    let mut queues: HashMap<String, VecDeque<usize>> = HashMap::new();
    for &i in b {
        queues.entry(text(&before[i].map)).or_default().push_back(i);
    }
    let mut pairs = Vec::new();
    let mut a_left = Vec::new();
    let mut taken: HashSet<usize> = HashSet::new();
    for &j in a {
        match queues
            .get_mut(&text(&after[j].map))
            .and_then(VecDeque::pop_front)
        {
            Some(i) => {
                taken.insert(i);
                pairs.push((i, j));
            }
            None => a_left.push(j),
        }
    }
    let b_left = b.iter().copied().filter(|i| !taken.contains(i)).collect();
    (pairs, b_left, a_left)
}

/// Steps 1 and 2 of a group: equal records cancel, then records equal but
/// for the fields in `drop`; processes of the same instance, and other
/// records with equal compared fields, pair (a `changed` record where
/// compared fields differ). Returns what is left of each side, in file
/// order.
fn pair_same(
    rules: &Rules,
    input: &Loaded,
    g: &Group,
    drop: &BTreeSet<String>,
    out: &mut Vec<Change>,
) -> (Vec<usize>, Vec<usize>) {
    let (before, after) = (&input.before, &input.after);
    let kind = g.kind.as_deref();
    let process = Rules::class(kind) == Class::Process;
    let ignore = rules.ignore(kind);

    // 1. Equal records cancel, then those equal but for `drop`.
    let (_, b, a) = pair_by(before, after, &g.b, &g.a, |m| {
        serde_json::to_string(m).unwrap_or_default()
    });
    let (_, b, a) = if drop.is_empty() {
        (Vec::new(), b, a)
    } else {
        pair_by(before, after, &b, &a, |m| {
            let kept: BTreeMap<&str, &Value> = m
                .iter()
                .filter(|(k, _)| !drop.contains(k.as_str()))
                .map(|(k, v)| (k.as_str(), v))
                .collect();
            serde_json::to_string(&kept).unwrap_or_default()
        })
    };

    // 2. Same instance, or equal compared fields.
    let (pairs, b, a) = if process {
        pair_by(before, after, &b, &a, |m| instance(m, false))
    } else {
        pair_by(before, after, &b, &a, |m| projection(m, &ignore, false))
    };
    for (i, j) in pairs {
        let fields = compare(&before[i].map, &after[j].map, &ignore, process);
        if !fields.is_empty() {
            out.push(Change::new(
                Op::Changed,
                g.kind.clone(),
                g.key.clone(),
                Some(before[i].map.clone()),
                Some(after[j].map.clone()),
                fields,
            ));
        }
    }
    (b, a)
}

/// A process's instance as a text; with `host`, across groups.
fn instance(m: &Map<String, Value>, host: bool) -> String {
    let mut parts: Vec<&Value> = Vec::with_capacity(4);
    if host {
        parts.push(m.get(pf::HOST).unwrap_or(&Value::Null));
    }
    parts.extend(INSTANCE.iter().map(|f| m.get(*f).unwrap_or(&Value::Null)));
    serde_json::to_string(&parts).unwrap_or_default()
}

/// Step 3: a process left over in BEFORE under one identity and in AFTER
/// under another, with the same instance (host, boot_id, pid,
/// start_ticks), is one process whose identity fields changed (an exec in
/// place, a new argv, a dropped privilege): `changed`, keyed by its new
/// identity, and neither removed nor added.
fn moved_identity(
    rules: &Rules,
    input: &Loaded,
    groups: &[((Option<String>, String), Group)],
    lefts: &mut [(Vec<usize>, Vec<usize>)],
    out: &mut Vec<Change>,
) {
    let (before, after) = (&input.before, &input.after);
    let is_process = |g: &Group| Rules::class(g.kind.as_deref()) == Class::Process;
    let known = |m: &Map<String, Value>| !matches!(m.get(pf::PID), None | Some(Value::Null));
    let mut waiting: HashMap<String, VecDeque<(usize, usize)>> = HashMap::new();
    for (gi, ((_, g), (b, _))) in groups.iter().zip(lefts.iter()).enumerate() {
        if is_process(g) {
            for &i in b.iter().filter(|&&i| known(&before[i].map)) {
                waiting
                    .entry(instance(&before[i].map, true))
                    .or_default()
                    .push_back((gi, i));
            }
        }
    }
    if waiting.is_empty() {
        return;
    }
    let ignore = rules.ignore(Some(process::KIND));
    let mut taken: Vec<(usize, usize, usize, usize)> = Vec::new();
    for (gj, ((_, g), (_, a))) in groups.iter().zip(lefts.iter()).enumerate() {
        if !is_process(g) {
            continue;
        }
        for &j in a.iter().filter(|&&j| known(&after[j].map)) {
            let found = waiting
                .get_mut(&instance(&after[j].map, true))
                .and_then(VecDeque::pop_front);
            if let Some((gi, i)) = found {
                taken.push((gi, i, gj, j));
                let (bm, am) = (&before[i].map, &after[j].map);
                let fields = compare(bm, am, &ignore, true);
                if !fields.is_empty() {
                    out.push(Change::new(
                        Op::Changed,
                        g.kind.clone(),
                        g.key.clone(),
                        Some(bm.clone()),
                        Some(am.clone()),
                        fields,
                    ));
                }
            }
        }
    }
    let (tb, ta): (HashSet<usize>, HashSet<usize>) =
        taken.iter().map(|&(_, i, _, j)| (i, j)).unzip();
    let mut touched: BTreeSet<usize> = BTreeSet::new();
    for &(gi, _, gj, _) in &taken {
        touched.insert(gi);
        touched.insert(gj);
    }
    for g in touched {
        lefts[g].0.retain(|x| !tb.contains(x));
        lefts[g].1.retain(|x| !ta.contains(x));
    }
}

/// The parents of the processes on each side: a process's record found by
/// (host, boot_id, pid = its ppid), as the identity key of that parent.
/// Records the loader cancelled (the same on both sides) are not here;
/// their children have the same ppid on both sides. Built only when a
/// group has processes left on both sides.
struct Lineage<'a> {
    rules: &'a Rules,
    input: &'a Loaded,
    before: HashMap<String, usize>,
    after: HashMap<String, usize>,
}

fn is_process(r: &Rec) -> bool {
    r.map.get(pf::KIND).and_then(Value::as_str) == Some(process::KIND)
}

/// Where a process with pid `pid` on the host and boot of `m` is found.
fn place(m: &Map<String, Value>, pid: &Value) -> String {
    let f = |k: &str| m.get(k).unwrap_or(&Value::Null);
    serde_json::to_string(&[f(pf::HOST), f(pf::BOOT_ID), pid]).unwrap_or_default()
}

impl<'a> Lineage<'a> {
    fn new(rules: &'a Rules, input: &'a Loaded) -> Lineage<'a> {
        let index = |recs: &[Rec]| -> HashMap<String, usize> {
            recs.iter()
                .enumerate()
                .filter(|(_, r)| is_process(r))
                .filter_map(|(i, r)| Some((place(&r.map, r.map.get(pf::PID)?), i)))
                .collect()
        };
        Lineage {
            rules,
            input,
            before: index(&input.before),
            after: index(&input.after),
        }
    }

    /// The identity key of the parent of record `i` (of AFTER when
    /// `after`), as a text; `None` when its parent is not on that side.
    fn parent(&self, after: bool, i: usize) -> Option<String> {
        let (recs, by) = if after {
            (&self.input.after, &self.after)
        } else {
            (&self.input.before, &self.before)
        };
        let m = &recs[i].map;
        let &p = by.get(&place(m, m.get(pf::PPID)?))?;
        let key = self.rules.key_of(Some(process::KIND), &recs[p].map);
        Some(serde_json::to_string(&key).unwrap_or_default())
    }
}

/// Whether a process gone from BEFORE and one new in AFTER, of the same
/// identity (host, user, exe, argv, unit), are the same service started
/// again rather than two unrelated processes that look alike (the login
/// shells `-bash` of two sessions):
/// - a terminal on both sides that differs is another session: no;
/// - the same parent pid, or parents of the same identity (a master that
///   restarted with its workers): yes;
/// - no parent known on either side (records of another tool): the unit
///   alone says so, when there is one;
/// - otherwise no.
fn same_service(
    lineage: &Lineage,
    i: usize,
    j: usize,
    bm: &Map<String, Value>,
    am: &Map<String, Value>,
) -> bool {
    fn known(v: Option<&Value>) -> Option<&Value> {
        v.filter(|v| !v.is_null())
    }
    if let (Some(bt), Some(at)) = (known(bm.get(pf::TTY)), known(am.get(pf::TTY))) {
        if bt != at {
            return false;
        }
    }
    match (known(bm.get(pf::PPID)), known(am.get(pf::PPID))) {
        (Some(bp), Some(ap)) => {
            bp == ap
                || matches!(
                    (lineage.parent(false, i), lineage.parent(true, j)),
                    (Some(x), Some(y)) if x == y
                )
        }
        _ => known(bm.get(pf::UNIT)).is_some() && known(am.get(pf::UNIT)).is_some(),
    }
}

/// Steps 4 and 5 of a group: the rest pairs in file order (processes as
/// `restarted` where [`same_service`] says so, silent on a rebooted host;
/// others as `changed`), and what is left over is `removed` or `added`.
#[allow(clippy::too_many_arguments)]
fn pair_rest<'a>(
    rules: &'a Rules,
    input: &'a Loaded,
    rebooted: &HashSet<&str>,
    lineage: &std::cell::OnceCell<Lineage<'a>>,
    g: &Group,
    b: &[usize],
    a: &[usize],
    out: &mut Vec<Change>,
) {
    let (before, after) = (&input.before, &input.after);
    let kind = g.kind.as_deref();
    let process = Rules::class(kind) == Class::Process;
    let ignore = rules.ignore(kind);
    // Pairs in file order; a process only with one of the same service
    // (any, on a host that rebooted: its processes pair by identity).
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let (mut b_left, mut a_left): (Vec<usize>, Vec<usize>) = (Vec::new(), a.to_vec());
    for &i in b {
        let bm = &before[i].map;
        let host = bm.get(pf::HOST).map(Value::to_string).unwrap_or_default();
        let any = !process || rebooted.contains(host.as_str());
        match a_left.iter().position(|&j| {
            any || same_service(
                lineage.get_or_init(|| Lineage::new(rules, input)),
                i,
                j,
                bm,
                &after[j].map,
            )
        }) {
            Some(at) => pairs.push((i, a_left.remove(at))),
            None => b_left.push(i),
        }
    }
    for (i, j) in pairs {
        let (bm, am) = (&before[i].map, &after[j].map);
        let mut fields = compare(bm, am, &ignore, process);
        let op = if process {
            let host = bm.get(pf::HOST).map(Value::to_string).unwrap_or_default();
            if rebooted.contains(host.as_str()) {
                continue;
            }
            for &f in INSTANCE {
                if bm.get(f) != am.get(f) && !fields.iter().any(|x| x == f) {
                    fields.push(f.to_owned());
                }
            }
            fields.sort();
            Op::Restarted
        } else {
            Op::Changed
        };
        out.push(Change::new(
            op,
            g.kind.clone(),
            g.key.clone(),
            Some(bm.clone()),
            Some(am.clone()),
            fields,
        ));
    }
    for &i in &b_left {
        out.push(Change::new(
            Op::Removed,
            g.kind.clone(),
            g.key.clone(),
            Some(before[i].map.clone()),
            None,
            Vec::new(),
        ));
    }
    for &j in &a_left {
        out.push(Change::new(
            Op::Added,
            g.kind.clone(),
            g.key.clone(),
            None,
            Some(after[j].map.clone()),
            Vec::new(),
        ));
    }
}

/// A field as compared: ignored parts dropped (`FIELD[].SUB`: SUB removed
/// from each element, the elements then compared as a set).
fn view<'a>(
    m: &'a Map<String, Value>,
    name: &str,
    ig: &Ignore,
    process: bool,
) -> Option<Cow<'a, Value>> {
    let v = field(m, name, process)?;
    let subs: Vec<&str> = ig
        .sub
        .iter()
        .filter(|(f, _)| f == name)
        .map(|(_, s)| s.as_str())
        .collect();
    if subs.is_empty() {
        return Some(v);
    }
    let Value::Array(items) = v.as_ref() else {
        return Some(v);
    };
    let mut set: BTreeMap<String, Value> = BTreeMap::new();
    for it in items {
        let mut it = it.clone();
        if let Value::Object(o) = &mut it {
            for s in &subs {
                o.remove(*s);
            }
        }
        set.insert(it.to_string(), it);
    }
    Some(Cow::Owned(Value::Array(set.into_values().collect())))
}

/// Names of the compared fields whose values differ (a field present on
/// one side only differs), sorted.
pub fn compare(
    b: &Map<String, Value>,
    a: &Map<String, Value>,
    ig: &Ignore,
    process: bool,
) -> Vec<String> {
    let names: BTreeSet<&str> = b.keys().chain(a.keys()).map(String::as_str).collect();
    names
        .into_iter()
        .filter(|n| !ig.fields.contains(*n))
        .filter(|n| view(b, n, ig, process) != view(a, n, ig, process))
        .map(str::to_owned)
        .collect()
}

/// The compared fields of a record as one text (sorted by name).
fn projection(m: &Map<String, Value>, ig: &Ignore, process: bool) -> String {
    let mut p: BTreeMap<&str, Cow<Value>> = BTreeMap::new();
    for k in m.keys() {
        if !ig.fields.contains(k) {
            if let Some(v) = view(m, k, ig, process) {
                p.insert(k, v);
            }
        }
    }
    serde_json::to_string(&p).unwrap_or_default()
}
