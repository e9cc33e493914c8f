//! What makes two records "the same thing" and which of their fields may
//! change without it being news: the identity, instance and volatile-field
//! rules of every kind, with the `--key`, `--ignore` and `--compare`
//! overrides applied. The man page spells out the same rules; keep them in
//! step.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use common::records::process::{self, field as pf};
use common::records::socket::{self, field as sf};
use common::{records, Error, Result};

/// Identity of a process that is not a kernel thread: who and what runs.
pub const PROCESS_KEY: &[&str] = process::IDENTITY;
/// Identity of a kernel thread (no exe, no argv): its name on its host.
pub const KTHREAD_KEY: &[&str] = process::KTHREAD_IDENTITY;
/// One running instance of a process.
pub const INSTANCE: &[&str] = process::INSTANCE;
/// Identity of a listening or unconnected socket.
pub const LISTENER_KEY: &[&str] = socket::LISTENER_IDENTITY;
/// Identity of a connection: both ends.
pub const CONNECTION_KEY: &[&str] = socket::CONNECTION_IDENTITY;

/// Fields of a process that change while nothing an admin cares about does.
pub const PROCESS_VOLATILE: &[&str] = process::VOLATILE;
/// Volatile fields of a socket: inode numbers (its own and a unix peer's)
/// are new for every socket, queue lengths change by the packet;
/// `processes[].pid` compares the owning processes by the set of their
/// names only.
pub const SOCKET_VOLATILE: &[&str] = socket::VOLATILE;

/// The suffix the kernel appends to the exe link of a replaced executable.
const DELETED: &str = " (deleted)";

/// How records of a kind are paired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Multiset by identity, instances by (boot_id, pid, start_ticks).
    Process,
    /// Listeners by local end, connections by both ends.
    Socket,
    /// Any other kind (or no kind): `--key` fields only.
    Generic,
}

/// The fields that must be present in a record of a kind, and a bit mask of
/// them over the [`Names`] table (for the fast check of unparsed lines).
#[derive(Debug, Clone)]
pub struct Required {
    pub fields: Vec<String>,
    pub mask: u128,
    /// The fields named as identity in messages.
    pub what: String,
}

/// Field names the line scanner looks for, each with its bit.
#[derive(Debug, Default)]
pub struct Names {
    by_len: Vec<Vec<(String, u8)>>,
    count: u8,
}

impl Names {
    fn add(&mut self, name: &str) -> Result<u8> {
        if let Some(bit) = self.bit(name) {
            return Ok(bit);
        }
        if self.count >= 128 {
            return Err(Error::new(
                "too many fields named in --key (at most about 100); name fewer fields",
            ));
        }
        let len = name.len();
        if self.by_len.len() <= len {
            self.by_len.resize_with(len + 1, Vec::new);
        }
        let bit = self.count;
        self.by_len[len].push((name.to_owned(), bit));
        self.count += 1;
        Ok(bit)
    }

    /// The bit of a field name, if it is one of interest.
    #[inline]
    pub fn bit(&self, name: &str) -> Option<u8> {
        self.bit_bytes(name.as_bytes())
    }

    /// [`Names::bit`] of a name's bytes.
    #[inline]
    pub fn bit_bytes(&self, name: &[u8]) -> Option<u8> {
        let first = *name.first()?;
        self.by_len
            .get(name.len())?
            .iter()
            .find(|(n, _)| n.as_bytes()[0] == first && n.as_bytes() == name)
            .map(|&(_, b)| b)
    }

    fn mask(&mut self, fields: &[String]) -> Result<u128> {
        let mut m = 0u128;
        for f in fields {
            m |= 1u128 << self.add(f)?;
        }
        Ok(m)
    }
}

/// The ignore set of one kind: whole fields, and `FIELD[].SUB` entries
/// that drop SUB from each element of the array FIELD (compared as a set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ignore {
    pub fields: BTreeSet<String>,
    pub sub: Vec<(String, String)>,
}

impl Ignore {
    fn from_entries(entries: &BTreeSet<String>) -> Self {
        let mut ig = Ignore::default();
        for e in entries {
            match e.split_once("[].") {
                Some((field, sub)) if !field.is_empty() && !sub.is_empty() => {
                    ig.sub.push((field.to_owned(), sub.to_owned()))
                }
                _ => {
                    ig.fields.insert(e.clone());
                }
            }
        }
        ig
    }
}

/// One `[KIND:]FIELD` entry of an option's list; `None` kind means "all".
type Entry = (Option<String>, String);

/// Parse `[KIND:]FIELD[,[KIND:]FIELD...]`: a `KIND:` prefix applies to its
/// field and the fields after it in the same list.
pub fn parse_list(option: &str, value: &str) -> Result<Vec<Entry>> {
    let mut kind: Option<String> = None;
    let mut out = Vec::new();
    for part in value.split(',') {
        let part = part.trim();
        let field = match part.split_once(':') {
            Some((k, f)) => {
                if k.is_empty() {
                    return Err(Error::new(format!(
                        "{option} {value}: empty kind before ':'; write KIND:FIELD (process:exe) or just FIELD"
                    )));
                }
                kind = Some(k.to_owned());
                f
            }
            None => part,
        };
        if field.is_empty() {
            return Err(Error::new(format!(
                "{option} {value}: empty field name; write FIELD[,FIELD...]"
            )));
        }
        out.push((kind.clone(), field.to_owned()));
    }
    Ok(out)
}

/// The rules of one run.
#[derive(Debug)]
pub struct Rules {
    key_all: Option<Vec<String>>,
    key_kind: HashMap<String, Vec<String>>,
    ignore_all_add: BTreeSet<String>,
    ignore_kind_add: HashMap<String, BTreeSet<String>>,
    compare_all: BTreeSet<String>,
    compare_kind: HashMap<String, BTreeSet<String>>,
    no_ignore: bool,
    pub kernel_threads: bool,
    pub zombies: bool,
    pub connections: bool,
    kinds: Option<BTreeSet<String>>,
    own: Option<(String, u64, u64)>,
    names: Names,
    req_process: Required,
    req_socket: Required,
    req_kind: HashMap<String, Required>,
    req_all: Option<Required>,
    ignore_cache: std::sync::Mutex<HashMap<Option<String>, std::sync::Arc<Ignore>>>,
}

/// What the command line asked for; turned into [`Rules`] by [`Rules::new`].
#[derive(Debug, Default, Clone)]
pub struct Options {
    pub keys: Vec<String>,
    pub ignores: Vec<String>,
    pub compares: Vec<String>,
    pub no_ignore: bool,
    pub kernel_threads: bool,
    pub zombies: bool,
    pub connections: bool,
    pub kinds: Vec<String>,
    /// This process as (boot_id, pid, start_ticks): a ps-snap running in
    /// the same pipeline records snap-diff itself, which is no change.
    pub own: Option<(String, u64, u64)>,
}

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_owned()).collect()
}

impl Rules {
    pub fn new(o: &Options) -> Result<Rules> {
        let mut key_all: Option<Vec<String>> = None;
        let mut key_kind: HashMap<String, Vec<String>> = HashMap::new();
        for v in &o.keys {
            for (kind, field) in parse_list("--key", v)? {
                let list = match kind {
                    Some(k) => key_kind.entry(k).or_default(),
                    None => key_all.get_or_insert_with(Vec::new),
                };
                if !list.contains(&field) {
                    list.push(field);
                }
            }
        }
        let (ignore_all_add, ignore_kind_add) = field_sets("--ignore", &o.ignores)?;
        let (compare_all, compare_kind) = field_sets("--compare", &o.compares)?;
        let kinds = if o.kinds.is_empty() {
            None
        } else {
            let mut set = BTreeSet::new();
            for v in &o.kinds {
                for k in v.split(',').map(str::trim) {
                    if k.is_empty() {
                        return Err(Error::new(format!(
                            "--kind {v}: empty kind; write KIND[,KIND...]"
                        )));
                    }
                    set.insert(k.to_owned());
                }
            }
            Some(set)
        };

        let mut names = Names::default();
        names.add(pf::KIND)?;
        // A process needs its instance (restarts) and host (reboots) even
        // when --key replaces its identity; comm identifies kernel threads.
        let process_fields = {
            let mut f = match key_kind.get(process::KIND).or(key_all.as_ref()) {
                Some(k) => k.clone(),
                None => {
                    let mut f = strings(PROCESS_KEY);
                    f.push(pf::COMM.to_owned());
                    f
                }
            };
            for x in [pf::HOST, pf::BOOT_ID, pf::PID, pf::START_TICKS] {
                if !f.iter().any(|y| y == x) {
                    f.push(x.to_owned());
                }
            }
            f
        };
        let socket_fields = match key_kind.get(socket::KIND).or(key_all.as_ref()) {
            Some(k) => k.clone(),
            None => {
                let mut f = strings(CONNECTION_KEY);
                f.push(sf::STATE.to_owned());
                f
            }
        };
        let req = |names: &mut Names, fields: Vec<String>, what: String| -> Result<Required> {
            Ok(Required {
                mask: names.mask(&fields)?,
                fields,
                what,
            })
        };
        let process_what = match key_kind.get(process::KIND).or(key_all.as_ref()) {
            Some(k) => k.join(", "),
            None => PROCESS_KEY.join(", "),
        };
        let req_process = req(
            &mut names,
            process_fields,
            format!("{process_what} and the instance boot_id, pid, start_ticks"),
        )?;
        let socket_what = match key_kind.get(socket::KIND).or(key_all.as_ref()) {
            Some(k) => k.join(", "),
            None => format!("{} and {}", CONNECTION_KEY.join(", "), sf::STATE),
        };
        let req_socket = req(&mut names, socket_fields, socket_what)?;
        let mut req_kind = HashMap::new();
        for (k, f) in &key_kind {
            if k != process::KIND && k != socket::KIND {
                let what = f.join(", ");
                req_kind.insert(k.clone(), req(&mut names, f.clone(), what)?);
            }
        }
        // The workspace's other kinds are paired by their fixed identity
        // unless --key says otherwise.
        if key_all.is_none() {
            for k in records::KEYED_KINDS {
                if let (false, Some(id)) = (key_kind.contains_key(k), records::identity(k)) {
                    let f = strings(id);
                    let what = f.join(", ");
                    req_kind.insert(k.to_owned(), req(&mut names, f, what)?);
                }
            }
        }
        let req_all = match &key_all {
            Some(f) => Some(req(&mut names, f.clone(), f.join(", "))?),
            None => None,
        };
        Ok(Rules {
            key_all,
            key_kind,
            ignore_all_add,
            ignore_kind_add,
            compare_all,
            compare_kind,
            no_ignore: o.no_ignore,
            kernel_threads: o.kernel_threads,
            zombies: o.zombies,
            connections: o.connections,
            kinds,
            own: o.own.clone(),
            names,
            req_process,
            req_socket,
            req_kind,
            req_all,
            ignore_cache: Default::default(),
        })
    }

    /// The field-name table of the line scanner.
    pub fn names(&self) -> &Names {
        &self.names
    }

    /// How records of `kind` are paired.
    pub fn class(kind: Option<&str>) -> Class {
        match kind {
            Some(process::KIND) => Class::Process,
            Some(socket::KIND) => Class::Socket,
            _ => Class::Generic,
        }
    }

    /// Check a record's kind and the presence of its identity fields;
    /// `has` says whether the record has a field. `Err(msg)` is the
    /// complaint about the record (the caller adds file and line).
    pub fn check(
        &self,
        kind: KindRef<'_>,
        present: impl Fn(&Required) -> Option<String>,
    ) -> std::result::Result<(), String> {
        let kind = match kind {
            KindRef::Missing => {
                if self.kinds.is_some() {
                    return Err(
                        "record has no \"kind\" field, but --kind expects records of a kind"
                            .to_owned(),
                    );
                }
                if self.key_all.is_none() {
                    return Err("record has no \"kind\" field; to diff plain JSON lines give --key FIELD[,FIELD...]".to_owned());
                }
                None
            }
            KindRef::Other(t) => {
                return Err(format!(
                    "\"kind\" is {t}, expected a string such as \"process\""
                ))
            }
            KindRef::Str(k) => Some(k),
        };
        if let (Some(set), Some(k)) = (&self.kinds, kind) {
            if !set.contains(k) {
                let want: Vec<&str> = set.iter().map(String::as_str).collect();
                return Err(format!(
                    "record of kind \"{k}\", but --kind expects only {}; is this the right file?",
                    want.join(", ")
                ));
            }
        }
        let req = self.required(kind)?;
        if let Some(missing) = present(req) {
            let of = kind.map_or("the".to_owned(), str::to_owned);
            return Err(format!(
                "{of} record has no \"{missing}\" field, which identifies it ({}); was it written by another version, or is --key wrong?",
                req.what
            ));
        }
        Ok(())
    }

    /// The required fields of a kind, or why there are none.
    pub fn required(&self, kind: Option<&str>) -> std::result::Result<&Required, String> {
        match kind {
            Some(process::KIND) => Ok(&self.req_process),
            Some(socket::KIND) => Ok(&self.req_socket),
            Some(k) => match self.req_kind.get(k).or(self.req_all.as_ref()) {
                Some(r) => Ok(r),
                None => Err(format!(
                    "no identity is known for records of kind \"{k}\"; give --key FIELD[,FIELD...] (or --key {k}:FIELD[,FIELD...])"
                )),
            },
            None => self
                .req_all
                .as_ref()
                .ok_or_else(|| "record has no \"kind\"; give --key".to_owned()),
        }
    }

    /// Is this record left out of the comparison (kernel threads, zombies
    /// and connections unless asked for)?
    pub fn excluded(&self, kind: Option<&str>, rec: &Map<String, Value>) -> bool {
        match Self::class(kind) {
            Class::Process => {
                (!self.kernel_threads && is_kernel_thread(rec))
                    || (!self.zombies && is_zombie(rec))
                    || self.is_own(rec)
            }
            Class::Socket => !self.connections && !is_listener(rec),
            Class::Generic => false,
        }
    }

    /// Is this record snap-diff's own process?
    fn is_own(&self, rec: &Map<String, Value>) -> bool {
        self.own.as_ref().is_some_and(|(boot, pid, ticks)| {
            rec.get(pf::PID).and_then(Value::as_u64) == Some(*pid)
                && rec.get(pf::START_TICKS).and_then(Value::as_u64) == Some(*ticks)
                && rec.get(pf::BOOT_ID).and_then(Value::as_str) == Some(boot.as_str())
        })
    }

    /// The identity fields of a record.
    pub fn key_fields(&self, kind: Option<&str>, rec: &Map<String, Value>) -> Vec<&str> {
        if let Some(k) = kind.and_then(|k| self.key_kind.get(k)) {
            return k.iter().map(String::as_str).collect();
        }
        if let Some(k) = &self.key_all {
            return k.iter().map(String::as_str).collect();
        }
        match Self::class(kind) {
            Class::Process if is_kernel_thread(rec) => KTHREAD_KEY.to_vec(),
            Class::Process => PROCESS_KEY.to_vec(),
            Class::Socket if is_listener(rec) => LISTENER_KEY.to_vec(),
            Class::Socket => CONNECTION_KEY.to_vec(),
            // check() refused kinds without a key.
            Class::Generic => kind
                .and_then(records::identity)
                .unwrap_or_default()
                .to_vec(),
        }
    }

    /// The identity of a record as an object (in key-field order); a missing
    /// field is null (check() has refused such records already).
    pub fn key_of(&self, kind: Option<&str>, rec: &Map<String, Value>) -> Map<String, Value> {
        let process = Self::class(kind) == Class::Process;
        let mut key = Map::new();
        for f in self.key_fields(kind, rec) {
            let v = field(rec, f, process);
            key.insert(
                f.to_owned(),
                v.map_or(Value::Null, std::borrow::Cow::into_owned),
            );
        }
        key
    }

    /// The ignore set of a kind, defaults and options applied.
    pub fn ignore(&self, kind: Option<&str>) -> std::sync::Arc<Ignore> {
        let k = kind.map(str::to_owned);
        // A poisoned lock only means another thread panicked; the cache
        // is still valid.
        let mut cache = self
            .ignore_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(ig) = cache.get(&k) {
            return ig.clone();
        }
        let mut set: BTreeSet<String> = BTreeSet::new();
        if !self.no_ignore {
            let defaults: &[&str] = match Self::class(kind) {
                Class::Process => PROCESS_VOLATILE,
                Class::Socket => SOCKET_VOLATILE,
                Class::Generic => kind.map_or(&[][..], records::volatile),
            };
            set.extend(defaults.iter().map(|s| (*s).to_owned()));
        }
        set.extend(self.ignore_all_add.iter().cloned());
        if let Some(add) = kind.and_then(|k| self.ignore_kind_add.get(k)) {
            set.extend(add.iter().cloned());
        }
        let drop = |set: &mut BTreeSet<String>, f: &String| {
            set.remove(f);
            // --compare processes re-includes processes[].pid as well.
            set.retain(|e| e.split_once("[].").is_none_or(|(field, _)| field != f));
        };
        for f in &self.compare_all {
            drop(&mut set, f);
        }
        if let Some(c) = kind.and_then(|k| self.compare_kind.get(k)) {
            for f in c {
                drop(&mut set, f);
            }
        }
        let ig = std::sync::Arc::new(Ignore::from_entries(&set));
        cache.insert(k, ig.clone());
        ig
    }
}

impl Rules {
    /// The ignored fields of a kind that may be dropped before comparing
    /// lines byte for byte: never a field that can identify a record, tell
    /// its instance, or decide whether it is left out or how it is keyed.
    pub fn maskable(&self, kind: Option<&str>) -> BTreeSet<String> {
        let mut keep: BTreeSet<&str> = [pf::KIND, pf::KERNEL_THREAD, pf::STATE, sf::STATE]
            .into_iter()
            .collect();
        if let Some(k) = kind.and_then(|k| self.key_kind.get(k)) {
            keep.extend(k.iter().map(String::as_str));
        }
        if let Some(k) = &self.key_all {
            keep.extend(k.iter().map(String::as_str));
        }
        match Self::class(kind) {
            Class::Process => {
                keep.extend(PROCESS_KEY);
                keep.extend(KTHREAD_KEY);
                keep.extend(INSTANCE);
            }
            Class::Socket => {
                keep.extend(CONNECTION_KEY);
                keep.extend([sf::STATE, sf::PROTO]);
            }
            Class::Generic => keep.extend(kind.and_then(records::identity).unwrap_or_default()),
        }
        self.ignore(kind)
            .fields
            .iter()
            .filter(|f| !keep.contains(f.as_str()))
            .cloned()
            .collect()
    }
}

/// A record's `kind` as the checks see it.
#[derive(Debug, Clone, Copy)]
pub enum KindRef<'a> {
    Missing,
    Str(&'a str),
    /// Not a string: its JSON type name.
    Other(&'static str),
}

impl<'a> KindRef<'a> {
    pub fn of(rec: &'a Map<String, Value>) -> Self {
        match rec.get(pf::KIND) {
            None => KindRef::Missing,
            Some(Value::String(s)) => KindRef::Str(s),
            Some(v) => KindRef::Other(common::jsonl::type_name(v)),
        }
    }
}

/// `[KIND:]FIELD,...` option values as the fields for every kind and the
/// fields per kind.
type FieldSets = (BTreeSet<String>, HashMap<String, BTreeSet<String>>);
fn field_sets(flag: &str, values: &[String]) -> Result<FieldSets> {
    let mut all = BTreeSet::new();
    let mut per_kind: HashMap<String, BTreeSet<String>> = HashMap::new();
    for v in values {
        for (kind, field) in parse_list(flag, v)? {
            match kind {
                Some(k) => per_kind.entry(k).or_default().insert(field),
                None => all.insert(field),
            };
        }
    }
    Ok((all, per_kind))
}

/// `state: "Z"`: a process that has exited and waits for its parent to
/// reap it. Its argv and executable are gone, so it would show as a
/// changed process; what happened is that the program stopped.
pub fn is_zombie(rec: &Map<String, Value>) -> bool {
    rec.get(pf::STATE).and_then(Value::as_str) == Some("Z")
}

/// `kernel_thread: true` (missing or null counts as not).
pub fn is_kernel_thread(rec: &Map<String, Value>) -> bool {
    rec.get(pf::KERNEL_THREAD) == Some(&Value::Bool(true))
}

/// Listening or unconnected: state LISTEN or UNCONN, or a non-unix socket
/// without a remote port (0 or null), such as a bound TCP socket in CLOSE.
/// A unix socket without a name is never one: nothing can connect or send
/// to it (it is the sending end of a client, such as a syslog() caller's),
/// so it comes and goes with its program like a connection.
pub fn is_listener(rec: &Map<String, Value>) -> bool {
    let unix = rec.get(sf::PROTO).and_then(Value::as_str) == Some("unix");
    if unix && matches!(rec.get(sf::LOCAL_ADDR), None | Some(Value::Null)) {
        return false;
    }
    match rec.get(sf::STATE).and_then(Value::as_str) {
        Some("LISTEN") | Some("UNCONN") => return true,
        _ => {}
    }
    if unix {
        return false;
    }
    match rec.get(sf::REMOTE_PORT) {
        None | Some(Value::Null) => true,
        Some(v) => v.as_u64() == Some(0),
    }
}

/// A field of a record as compared: for processes, `exe` without the
/// kernel's " (deleted)" suffix, so a replaced binary keeps its identity.
pub fn field<'a>(
    rec: &'a Map<String, Value>,
    name: &str,
    process: bool,
) -> Option<std::borrow::Cow<'a, Value>> {
    let v = rec.get(name)?;
    if process && name == pf::EXE {
        if let Some(n) = strip_deleted(v) {
            return Some(std::borrow::Cow::Owned(n));
        }
    }
    Some(std::borrow::Cow::Borrowed(v))
}

/// `v` without a trailing " (deleted)" (string or byte array), or `None`
/// when it has none.
pub fn strip_deleted(v: &Value) -> Option<Value> {
    match v {
        Value::String(s) => s.strip_suffix(DELETED).map(|p| Value::String(p.to_owned())),
        Value::Array(a) => {
            let suffix = DELETED.as_bytes();
            if a.len() < suffix.len() {
                return None;
            }
            let tail = &a[a.len() - suffix.len()..];
            let matches = tail
                .iter()
                .zip(suffix)
                .all(|(x, &b)| x.as_u64() == Some(u64::from(b)));
            if matches {
                Some(Value::Array(a[..a.len() - suffix.len()].to_vec()))
            } else {
                None
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn lists_take_sticky_kind_prefixes() {
        let l = parse_list("--ignore", "pid,process:cpu_seconds,rss_bytes,socket:inode")
            .expect("parse");
        assert_eq!(
            l,
            vec![
                (None, "pid".to_owned()),
                (Some("process".to_owned()), "cpu_seconds".to_owned()),
                (Some("process".to_owned()), "rss_bytes".to_owned()),
                (Some("socket".to_owned()), "inode".to_owned()),
            ]
        );
        assert!(parse_list("--key", "a,,b").is_err());
        assert!(parse_list("--key", ":a").is_err());
    }

    #[test]
    fn deleted_suffix_is_stripped_from_strings_and_bytes() {
        assert_eq!(
            strip_deleted(&json!("/usr/sbin/nginx (deleted)")),
            Some(json!("/usr/sbin/nginx"))
        );
        assert_eq!(strip_deleted(&json!("/usr/sbin/nginx")), None);
        let mut raw: Vec<Value> = vec![json!(47), json!(255)];
        raw.extend(DELETED.bytes().map(Value::from));
        assert_eq!(strip_deleted(&Value::Array(raw)), Some(json!([47, 255])));
    }

    #[test]
    fn listeners_and_connections() {
        assert!(is_listener(&obj(
            json!({"state": "LISTEN", "remote_port": 0})
        )));
        assert!(is_listener(&obj(
            json!({"state": "UNCONN", "remote_port": null})
        )));
        assert!(is_listener(&obj(
            json!({"proto": "tcp", "state": "CLOSE", "remote_port": 0})
        )));
        assert!(!is_listener(&obj(
            json!({"proto": "tcp", "state": "ESTABLISHED", "remote_port": 443})
        )));
        assert!(!is_listener(&obj(
            json!({"proto": "unix", "state": "ESTABLISHED", "remote_port": null})
        )));
        assert!(is_listener(&obj(
            json!({"proto": "unix", "state": "UNCONN", "local_addr": "/run/systemd/notify"})
        )));
        assert!(!is_listener(&obj(
            json!({"proto": "unix", "state": "UNCONN", "local_addr": null})
        )));
    }

    #[test]
    fn ignore_defaults_options_and_compare() {
        let r = Rules::new(&Options {
            ignores: vec!["cgroup".into(), "socket:uid".into()],
            compares: vec!["process:ppid".into(), "processes".into()],
            ..Options::default()
        })
        .expect("rules");
        let p = r.ignore(Some("process"));
        assert!(p.fields.contains("pid") && p.fields.contains("cgroup"));
        assert!(!p.fields.contains("ppid"));
        let s = r.ignore(Some("socket"));
        assert!(s.fields.contains("inode") && s.fields.contains("uid"));
        assert!(s.sub.is_empty(), "--compare processes re-includes pids");
        let r = Rules::new(&Options {
            no_ignore: true,
            ..Options::default()
        })
        .expect("rules");
        assert!(r.ignore(Some("process")).fields.is_empty());
    }

    #[test]
    fn keys_per_kind_and_for_all() {
        let r = Rules::new(&Options::default()).expect("rules");
        let p = obj(
            json!({"kind": "process", "kernel_thread": true, "host": "h", "comm": "kworker/0:1"}),
        );
        assert_eq!(r.key_fields(Some("process"), &p), vec!["host", "comm"]);
        assert!(r.required(Some("file")).is_err());
        let r = Rules::new(&Options {
            keys: vec!["file:path".into(), "name".into()],
            ..Options::default()
        })
        .expect("rules");
        assert_eq!(r.key_fields(Some("file"), &p), vec!["path"]);
        assert_eq!(r.key_fields(Some("process"), &p), vec!["name"]);
        assert_eq!(r.key_fields(None, &p), vec!["name"]);
        let req = r.required(Some("process")).expect("process");
        assert!(req.fields.iter().any(|f| f == "boot_id"));
    }
}
