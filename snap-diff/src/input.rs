//! Reading the two snapshots, checking every line, and cancelling the lines
//! that are byte-identical on both sides before any JSON tree is built.
//!
//! Why this is exact: a line that appears in both files (as a multiset) is
//! the same record on both sides, and the diff cancels equal records before
//! anything else (see [`crate::diff`]), so it can never be a change. Only the
//! remaining lines (typically a few percent) are parsed into trees and paired
//! by key. Every line is still checked: BEFORE's lines all are, fully (JSON
//! syntax, object, kind, identity fields), with a scanner that builds no
//! tree for common lines, a full parse for the rest, and for an error the
//! record reader's own message; an AFTER line
//! that cancels is byte-identical to a checked BEFORE line, the rest are
//! checked the same way. So the first error in file order of BEFORE, then
//! AFTER, is reported exactly as a full parse of both would report it, and
//! nothing is printed before all input was read.
//!
//! A second round does the same with the lines that are left, compared
//! without the fields the comparison ignores (cpu time, memory, inode...)
//! but with every field that identifies a record or its instance: such a
//! pair is one the diff pairs silently in its first step too. Real
//! snapshots differ in such counters on most lines, so this keeps the
//! tree-building for what changed.
//!
//! Memory: BEFORE's lines in one buffer plus a hash table of them; AFTER is
//! streamed, and only its lines that did not cancel are kept (as bytes);
//! for the second round, a hash and the byte runs of each BEFORE line left,
//! and AFTER's masks a block at a time. When every line differs in a
//! counter, that is both files in memory, not more.

use common::jsonl::{parse_line, trim_ascii as trim};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use serde_json::{Map, Value};

use common::error::describe_io;
use common::{Error, Result};

use crate::rules::{KindRef, Names, Rules};

/// One parsed record and where it came from.
#[derive(Debug, Clone)]
pub struct Rec {
    pub line: u64,
    pub map: Map<String, Value>,
}

/// The boot ids seen per host on one side (process records only), keyed by
/// their JSON text so that non-string hosts compare exactly.
#[derive(Debug, Default, Clone)]
pub struct Boots {
    pub hosts: BTreeMap<String, (Value, BTreeMap<String, Value>)>,
}

impl Boots {
    pub fn add(&mut self, host: &Value, boot: &Value) {
        let e = self
            .hosts
            .entry(host.to_string())
            .or_insert_with(|| (host.clone(), BTreeMap::new()));
        e.1.entry(boot.to_string()).or_insert_with(|| boot.clone());
    }

    /// Add the hosts and boot ids of another run of the same side.
    fn merge(&mut self, o: Boots) {
        for (k, (host, ids)) in o.hosts {
            self.hosts
                .entry(k)
                .or_insert_with(|| (host, BTreeMap::new()))
                .1
                .extend(ids);
        }
    }

    /// Add the boot ids of a side's process records.
    #[cfg(test)]
    pub fn add_record(&mut self, rec: &Map<String, Value>) {
        if rec.get("kind").and_then(Value::as_str) == Some("process") {
            let null = Value::Null;
            self.add(
                rec.get("host").unwrap_or(&null),
                rec.get("boot_id").unwrap_or(&null),
            );
        }
    }
}

/// The kinds of records seen on one side.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Kinds {
    pub named: BTreeSet<String>,
    /// Records without a kind were seen.
    pub unnamed: bool,
}

impl Kinds {
    pub fn add(&mut self, kind: Option<&str>) {
        match kind {
            None => self.unnamed = true,
            Some(k) if !self.named.contains(k) => {
                self.named.insert(k.to_owned());
            }
            Some(_) => {}
        }
    }

    pub fn contains(&self, kind: Option<&str>) -> bool {
        kind.map_or(self.unnamed, |k| self.named.contains(k))
    }

    pub fn is_empty(&self) -> bool {
        self.named.is_empty() && !self.unnamed
    }

    fn merge(&mut self, o: &Kinds) {
        self.named.extend(o.named.iter().cloned());
        self.unnamed |= o.unnamed;
    }

    /// The kinds, `None` first.
    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> {
        self.unnamed
            .then_some(None)
            .into_iter()
            .chain(self.named.iter().map(|k| Some(k.as_str())))
    }
}

/// Everything the diff needs from the input.
#[derive(Debug, Default)]
pub struct Loaded {
    /// BEFORE's records that did not cancel, in file order.
    pub before: Vec<Rec>,
    /// AFTER's records that did not cancel, in file order.
    pub after: Vec<Rec>,
    pub boots_before: Boots,
    pub boots_after: Boots,
    /// Hosts (JSON text) with a process record on both sides that cancelled:
    /// they share a boot id, so they were not rebooted.
    pub shared_hosts: HashSet<String>,
    /// The kinds of each side's records (`None`: records without a kind),
    /// cancelled ones included.
    pub kinds_before: Kinds,
    pub kinds_after: Kinds,
    /// BEFORE's name in messages.
    pub before_name: String,
    pub after_name: String,
}

/// A source of lines (a file or standard input), with the size of a
/// regular file (0 if unknown) to size the buffer that holds BEFORE.
fn open_sized(name: &str) -> Result<(String, Box<dyn BufRead>, usize)> {
    if name == "-" {
        return Ok((
            "<stdin>".to_owned(),
            Box::new(BufReader::with_capacity(256 * 1024, io::stdin())),
            0,
        ));
    }
    let f = File::open(name).map_err(|e| Error::io(Path::new(name), &e))?;
    let meta = f.metadata().ok();
    if meta.as_ref().is_some_and(|m| m.is_dir()) {
        return Err(Error::new(format!(
            "{name}: is a directory, not a JSON Lines file"
        )));
    }
    let size = meta
        .filter(|m| m.is_file())
        .map_or(0, |m| usize::try_from(m.len()).unwrap_or(0));
    Ok((
        name.to_owned(),
        Box::new(BufReader::with_capacity(256 * 1024, f)),
        size,
    ))
}

fn read_err(name: &str, e: &io::Error) -> Error {
    Error::new(format!("{name}: {}", describe_io(e)))
}

/// Check a parsed record's kind and identity fields.
pub fn check_map(rules: &Rules, name: &str, line: u64, m: &Map<String, Value>) -> Result<()> {
    rules
        .check(KindRef::of(m), |req| {
            req.fields
                .iter()
                .find(|f| !m.contains_key(f.as_str()))
                .cloned()
        })
        .map_err(|msg| Error::at(name, line, msg))
}

// ---------------------------------------------------------------------------
// The scanner: checks a line like a full parse would, building no tree.

/// A captured value: borrowed from the line when it is a plain string.
#[derive(Debug)]
enum Cap<'de> {
    Str(&'de str),
    Val(Value),
}

impl Cap<'_> {
    fn to_value(&self) -> Value {
        match self {
            Cap::Str(s) => Value::String((*s).to_owned()),
            Cap::Val(v) => v.clone(),
        }
    }
    fn eq_value(&self, v: &Value) -> bool {
        match self {
            Cap::Str(s) => v.as_str() == Some(*s),
            Cap::Val(x) => x == v,
        }
    }
}

/// What the scanner learned about a line.
#[derive(Debug)]
struct Shape<'de> {
    kind: Option<Cap<'de>>,
    present: u128,
    host: Option<Cap<'de>>,
    boot: Option<Cap<'de>>,
}

/// Scan a line; `None` when it is not certainly a valid JSON object (the
/// caller then parses it in full, for the record or the exact message).
fn scan<'de>(names: &Names, text: &'de [u8]) -> Option<Shape<'de>> {
    // One UTF-8 check of the whole line is cheaper than one per string; a
    // line that is not UTF-8 is not valid JSON text either way, and the
    // full parse names the problem.
    let text = std::str::from_utf8(text).ok()?;
    quick_scan(names, text.as_bytes())
}

/// A quick check of a line that is UTF-8, for the common case: `Some`
/// only when the line is certainly a JSON object serde_json accepts, with
/// its kind, host, boot id and which named fields it has; `None` when
/// unsure (an escaped key, a `\\u` escape of a surrogate, a long number,
/// deep nesting, or an error), and a full parse decides.
fn quick_scan<'a>(names: &Names, t: &'a [u8]) -> Option<Shape<'a>> {
    let mut v = Quick { t, i: 0 };
    let mut s = Shape {
        kind: None,
        present: 0,
        host: None,
        boot: None,
    };
    v.ws();
    if v.peek()? != b'{' {
        return None;
    }
    v.i += 1;
    v.ws();
    if v.peek()? == b'}' {
        v.i += 1;
    } else {
        loop {
            v.ws();
            if v.peek()? != b'"' {
                return None;
            }
            let ks = v.i + 1;
            if v.string()? {
                return None;
            }
            let key = &t[ks..v.i - 1];
            v.ws();
            if v.peek()? != b':' {
                return None;
            }
            v.i += 1;
            v.ws();
            let vs = v.i;
            let escaped = v.value(1)?;
            let raw = &t[vs..v.i];
            let cap = || -> Option<Cap<'a>> {
                if raw[0] == b'"' && !escaped {
                    std::str::from_utf8(&raw[1..raw.len() - 1])
                        .ok()
                        .map(Cap::Str)
                } else {
                    serde_json::from_slice::<Value>(raw).ok().map(Cap::Val)
                }
            };
            if key == b"kind" {
                s.kind = Some(cap()?);
            } else if let Some(b) = names.bit_bytes(key) {
                s.present |= 1 << b;
                if key == b"host" {
                    s.host = Some(cap()?);
                } else if key == b"boot_id" {
                    s.boot = Some(cap()?);
                }
            }
            v.ws();
            match v.peek()? {
                b',' => v.i += 1,
                b'}' => {
                    v.i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    v.ws();
    (v.i == t.len()).then_some(s)
}

/// The index of the first quote, backslash or control character in `t` at
/// or after `i` (or `t.len()`), eight bytes at a time: the lowest flagged
/// byte of a word is always a real one.
#[inline]
fn next_special(t: &[u8], mut i: usize) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    while i + 8 <= t.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&t[i..i + 8]);
        let x = u64::from_le_bytes(w);
        let q = x ^ (LO * u64::from(b'"'));
        let b = x ^ (LO * u64::from(b'\\'));
        let hit = ((q.wrapping_sub(LO) & !q)
            | (b.wrapping_sub(LO) & !b)
            | (x.wrapping_sub(LO * 0x20) & !x))
            & HI;
        if hit != 0 {
            return i + (hit.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < t.len() && !matches!(t[i], b'"' | b'\\' | 0..=0x1f) {
        i += 1;
    }
    i
}

/// The quick checker's position in a line.
struct Quick<'a> {
    t: &'a [u8],
    i: usize,
}

impl Quick<'_> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.t.get(self.i).copied()
    }

    #[inline]
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// Past a string (at its quote); whether it had escapes.
    fn string(&mut self) -> Option<bool> {
        let t = self.t;
        let mut i = self.i + 1;
        let mut escaped = false;
        loop {
            i = next_special(t, i);
            let c = *t.get(i)?;
            match c {
                b'"' => {
                    self.i = i + 1;
                    return Some(escaped);
                }
                b'\\' => {
                    escaped = true;
                    match *t.get(i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                        b'u' => {
                            let hex = t.get(i + 2..i + 6)?;
                            let mut n: u32 = 0;
                            for &h in hex {
                                n = n * 16 + char::from(h).to_digit(16)?;
                            }
                            // Surrogates must pair up; the full scanner
                            // knows how.
                            if (0xD800..=0xDFFF).contains(&n) {
                                return None;
                            }
                            i += 6;
                        }
                        _ => return None,
                    }
                }
                c if c < 0x20 => return None,
                _ => i += 1,
            }
        }
    }

    /// Past a number: only short ones with small exponents, which no
    /// parser can find out of range.
    fn number(&mut self) -> Option<()> {
        let t = self.t;
        let start = self.i;
        let mut i = self.i;
        let digits = |i: &mut usize| {
            let s = *i;
            while t.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - s
        };
        if t.get(i) == Some(&b'-') {
            i += 1;
        }
        match *t.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => {
                digits(&mut i);
            }
            _ => return None,
        }
        if t.get(i) == Some(&b'.') {
            i += 1;
            if digits(&mut i) == 0 {
                return None;
            }
        }
        if matches!(t.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(t.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let n = digits(&mut i);
            if n == 0 || n > 2 {
                return None;
            }
        }
        if i - start > 24 {
            return None;
        }
        self.i = i;
        Some(())
    }

    /// Past a value; whether it was a string with escapes.
    fn value(&mut self, depth: u32) -> Option<bool> {
        if depth > 100 {
            return None;
        }
        match self.peek()? {
            b'"' => self.string(),
            b'{' | b'[' => {
                let close = if self.peek()? == b'{' { b'}' } else { b']' };
                self.i += 1;
                self.ws();
                if self.peek()? == close {
                    self.i += 1;
                    return Some(false);
                }
                loop {
                    self.ws();
                    if close == b'}' {
                        if self.peek()? != b'"' {
                            return None;
                        }
                        self.string()?;
                        self.ws();
                        if self.peek()? != b':' {
                            return None;
                        }
                        self.i += 1;
                        self.ws();
                    }
                    self.value(depth + 1)?;
                    self.ws();
                    match self.peek()? {
                        b',' => self.i += 1,
                        c if c == close => {
                            self.i += 1;
                            return Some(false);
                        }
                        _ => return None,
                    }
                }
            }
            b't' => self.word(b"true"),
            b'f' => self.word(b"false"),
            b'n' => self.word(b"null"),
            b'-' | b'0'..=b'9' => self.number().map(|()| false),
            _ => None,
        }
    }

    fn word(&mut self, w: &[u8]) -> Option<bool> {
        if self.t.get(self.i..self.i + w.len())? == w {
            self.i += w.len();
            Some(false)
        } else {
            None
        }
    }
}

// ---------------------------------------------------------------------------
// Hashing and the table of BEFORE's lines.

/// A fast 64-bit hash of a line (collisions are resolved by comparing the
/// bytes, so it needs speed and spread, not secrecy).
pub fn line_hash(b: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = (b.len() as u64).wrapping_mul(K);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(23) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(23) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    // fmix64 (MurmurHash3's finaliser): every input bit reaches every
    // output bit, which the table's use of the top and low bits needs.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The key of the table is already a hash.
#[derive(Default)]
struct PassHasher(u64);

impl Hasher for PassHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

const NONE: u32 = u32::MAX;

/// One line kept for later: where its bytes are, and its number.
#[derive(Clone, Copy)]
struct LineRef {
    start: usize,
    end: usize,
    line: u64,
}

/// Lines with identical bytes: a queue through `next`, oldest first.
struct Bucket {
    /// First item with these bytes (to compare against).
    first: u32,
    /// Oldest item not yet taken.
    head: u32,
    /// Last item (to append).
    tail: u32,
    /// Another bucket with the same hash.
    chain: u32,
}

/// A multiset of byte strings (items numbered 0, 1, ... in the order they
/// are added): `take` removes the oldest item equal to the bytes given.
#[derive(Default)]
struct Multiset {
    map: HashMap<u64, u32, BuildHasherDefault<PassHasher>>,
    buckets: Vec<Bucket>,
    next: Vec<u32>,
}

impl Multiset {
    fn bucket<'a>(&self, h: u64, bytes: &[u8], get: impl Fn(u32) -> &'a [u8]) -> (u32, u32) {
        let mut b = self.map.get(&h).copied().unwrap_or(NONE);
        let mut last = NONE;
        while b != NONE {
            let bk = &self.buckets[b as usize];
            if get(bk.first) == bytes {
                break;
            }
            last = b;
            b = bk.chain;
        }
        (b, last)
    }

    /// Add item `idx` (the next number) with `bytes`; `get` gives the bytes
    /// of an earlier item.
    fn add<'a>(&mut self, idx: u32, bytes: &[u8], get: impl Fn(u32) -> &'a [u8]) {
        let h = line_hash(bytes);
        let (b, last) = self.bucket(h, bytes, get);
        self.next.push(NONE);
        if b == NONE {
            let nb = self.buckets.len() as u32;
            self.buckets.push(Bucket {
                first: idx,
                head: idx,
                tail: idx,
                chain: NONE,
            });
            if last == NONE {
                self.map.insert(h, nb);
            } else {
                self.buckets[last as usize].chain = nb;
            }
        } else {
            let bk = &mut self.buckets[b as usize];
            if bk.head == NONE {
                bk.head = idx;
            } else {
                self.next[bk.tail as usize] = idx;
            }
            bk.tail = idx;
        }
    }

    /// Take the oldest item equal to `bytes`.
    fn take<'a>(&mut self, bytes: &[u8], get: impl Fn(u32) -> &'a [u8]) -> Option<u32> {
        let (b, _) = self.bucket(line_hash(bytes), bytes, get);
        if b == NONE {
            return None;
        }
        let bk = &mut self.buckets[b as usize];
        let i = bk.head;
        if i == NONE {
            return None;
        }
        bk.head = self.next[i as usize];
        Some(i)
    }
}

/// Items by a hash, oldest first per hash; `take` checks a candidate with
/// the caller, since different items may share a hash.
#[derive(Default)]
struct HashIndex {
    /// hash -> (first, last) node.
    ends: HashMap<u64, (u32, u32), BuildHasherDefault<PassHasher>>,
    /// (item, next node).
    nodes: Vec<(usize, u32)>,
}

impl HashIndex {
    fn push(&mut self, h: u64, item: usize) {
        let n = self.nodes.len() as u32;
        self.nodes.push((item, NONE));
        match self.ends.get_mut(&h) {
            Some((_, last)) => {
                self.nodes[*last as usize].1 = n;
                *last = n;
            }
            None => {
                self.ends.insert(h, (n, n));
            }
        }
    }

    /// Remove and return the oldest item with hash `h` that `same` accepts.
    fn take(&mut self, h: u64, mut same: impl FnMut(usize) -> bool) -> Option<usize> {
        let &(first, last) = self.ends.get(&h)?;
        let (mut prev, mut n) = (NONE, first);
        while n != NONE {
            let (item, next) = self.nodes[n as usize];
            if same(item) {
                match (prev == NONE, n == last) {
                    (true, true) => {
                        self.ends.remove(&h);
                    }
                    (true, false) => {
                        self.ends.insert(h, (next, last));
                    }
                    (false, is_last) => {
                        self.nodes[prev as usize].1 = next;
                        if is_last {
                            self.ends.insert(h, (first, prev));
                        }
                    }
                }
                return Some(item);
            }
            (prev, n) = (n, next);
        }
        None
    }
}

/// What checking a line found: its kind, and the host and boot id of a
/// process record.
type Checked<'a> = (Option<Cow<'a, str>>, Option<(Cap<'a>, Cap<'a>)>);

/// Check one line as a full parse would (syntax, object, kind, identity
/// fields).
fn check_line<'a>(
    rules: &Rules,
    name: &str,
    l: LineRef,
    text: &'a [u8],
    complete: bool,
) -> Result<Checked<'a>> {
    let names = rules.names();
    match scan(names, text) {
        Some(shape) => {
            let kind = match &shape.kind {
                None => KindRef::Missing,
                Some(Cap::Str(s)) => KindRef::Str(s),
                Some(Cap::Val(Value::String(s))) => KindRef::Str(s),
                Some(Cap::Val(v)) => KindRef::Other(common::jsonl::type_name(v)),
            };
            rules
                .check(kind, |req| {
                    if shape.present & req.mask == req.mask {
                        return None;
                    }
                    req.fields
                        .iter()
                        .find(|f| names.bit(f).is_some_and(|b| shape.present & (1 << b) == 0))
                        .cloned()
                })
                .map_err(|msg| Error::at(name, l.line, msg))?;
            let process = matches!(kind, KindRef::Str("process"));
            let hb = match (process, shape.host, shape.boot) {
                (true, Some(h), Some(b)) => Some((h, b)),
                _ => None,
            };
            // check() refused kinds that are not strings.
            let kind = match shape.kind {
                Some(Cap::Str(s)) => Some(Cow::Borrowed(s)),
                Some(Cap::Val(Value::String(s))) => Some(Cow::Owned(s)),
                _ => None,
            };
            Ok((kind, hb))
        }
        None => {
            // Not valid (or the scanner disagrees): the full parse gives
            // the exact message, or the record if it is fine.
            let m = parse_line(name, l.line, text, complete)?;
            check_map(rules, name, l.line, &m)?;
            let kind = m.get("kind").and_then(Value::as_str);
            let get = |f: &str| Cap::Val(m.get(f).cloned().unwrap_or(Value::Null));
            let hb = (kind == Some("process")).then(|| (get("host"), get("boot_id")));
            Ok((kind.map(|k| Cow::Owned(k.to_owned())), hb))
        }
    }
}

/// What checking a run of BEFORE's lines found.
struct Scanned {
    /// Per line: index into `pairs` for a process record, else NONE.
    hostboot: Vec<u32>,
    pairs: Vec<(Value, Value)>,
    kinds: Kinds,
    /// The first bad line of the run.
    err: Option<Error>,
}

/// Check BEFORE's lines in `buf[from..to]` (all of them, fully) and note
/// the host and boot id of each process record.
fn scan_lines(rules: &Rules, name: &str, buf: &[u8], from: usize, to: usize) -> Scanned {
    let mut out = Scanned {
        hostboot: Vec::new(),
        pairs: Vec::new(),
        kinds: Kinds::default(),
        err: None,
    };
    let mut index: HashMap<(String, String), u32> = HashMap::new();
    let first = 1 + buf[..from].iter().filter(|&&c| c == b'\n').count() as u64;
    for (l, complete) in Lines::new(buf, from, to, first) {
        let text = &buf[l.start..l.end];
        match check_line(rules, name, l, text, complete) {
            Ok((kind, hb)) => {
                out.kinds.add(kind.as_deref());
                out.hostboot.push(match hb {
                    Some((h, b)) => intern(&mut out.pairs, &mut index, &h, &b),
                    None => NONE,
                });
            }
            Err(e) => {
                out.err = Some(e);
                return out;
            }
        }
    }
    out
}

/// Split `buf` into `parts` runs that start at line boundaries: the run
/// starts, then `buf.len()`.
fn split_bounds(buf: &[u8], parts: usize) -> Vec<usize> {
    let mut bounds = vec![0usize];
    for k in 1..parts.max(1) {
        let p = (buf.len() / parts * k).max(bounds[k - 1]);
        let p = (next_nl(buf, p) + 1).min(buf.len());
        bounds.push(p);
    }
    bounds.push(buf.len());
    bounds
}

/// The index of the first newline in `b` at or after `from` (or `b.len()`),
/// eight bytes at a time.
fn next_nl(b: &[u8], from: usize) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = 0x0a0a_0a0a_0a0a_0a0a;
    let mut i = from;
    while i + 8 <= b.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        let x = u64::from_le_bytes(w) ^ NL;
        // The lowest set bit marks the first zero byte, the first newline.
        let t = x.wrapping_sub(LO) & !x & HI;
        if t != 0 {
            return i + (t.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() {
        if b[i] == b'\n' {
            return i;
        }
        i += 1;
    }
    b.len()
}

/// The lines with content in `buf[from..to]`, trimmed, with their numbers
/// and whether they end in a newline (only the last line of a file may
/// not, when it was cut short).
struct Lines<'a> {
    buf: &'a [u8],
    pos: usize,
    to: usize,
    line: u64,
}

impl<'a> Lines<'a> {
    fn new(buf: &'a [u8], from: usize, to: usize, first: u64) -> Self {
        Lines {
            buf,
            pos: from,
            to,
            line: first,
        }
    }
}

impl Iterator for Lines<'_> {
    type Item = (LineRef, bool);
    fn next(&mut self) -> Option<(LineRef, bool)> {
        while self.pos < self.to {
            let start = self.pos;
            let nl = next_nl(&self.buf[..self.to], start);
            let complete = nl < self.to;
            self.pos = nl + 1;
            let line = self.line;
            self.line += 1;
            let raw = &self.buf[start..nl];
            let t = trim(raw);
            if t.is_empty() {
                continue;
            }
            let off = t.as_ptr() as usize - raw.as_ptr() as usize;
            let l = LineRef {
                start: start + off,
                end: start + off + t.len(),
                line,
            };
            return Some((l, complete));
        }
        None
    }
}

/// BEFORE's lines and the multiset of their bytes.
fn index_lines(name: &str, buf: &[u8]) -> Result<(Vec<LineRef>, Multiset)> {
    let mut lines: Vec<LineRef> = Vec::new();
    let mut set = Multiset::default();
    for (l, _) in Lines::new(buf, 0, buf.len(), 1) {
        let idx = u32::try_from(lines.len())
            .ok()
            .filter(|&i| i != NONE)
            .ok_or_else(|| Error::new(format!("{name}: too many lines (more than 4 billion)")))?;
        lines.push(l);
        let ls = &lines;
        set.add(idx, &buf[l.start..l.end], |i| {
            let f = ls[i as usize];
            &buf[f.start..f.end]
        });
    }
    Ok((lines, set))
}

/// AFTER's lines that did not cancel, kept as bytes.
#[derive(Default)]
struct Kept {
    buf: Vec<u8>,
    lines: Vec<LineRef>,
    /// The kept line that ends without a newline, if any.
    cut_short: Option<usize>,
    boots: Boots,
    kinds: Kinds,
}

/// The fast loader.
pub fn load(rules: &Rules, before: &str, after: &str) -> Result<Loaded> {
    if before == "-" && after == "-" {
        return Err(Error::new(
            "BEFORE and AFTER cannot both be standard input; give a file for one of them",
        ));
    }
    let (bname, mut breader, size) = open_sized(before)?;

    // BEFORE: all of it into one buffer.
    let mut buf: Vec<u8> = Vec::with_capacity(size.saturating_add(1));
    breader
        .read_to_end(&mut buf)
        .map_err(|e| read_err(&bname, &e))?;
    drop(breader);

    // Check BEFORE's lines on the other cores (in runs that start at line
    // boundaries) while this thread indexes them and streams AFTER in.
    // Small inputs are not worth more than one helper (nor asking for the
    // CPU count, which reads cgroup files).
    let workers = common::par::workers(true, buf.len(), 8 << 20, 4);
    let bounds = split_bounds(&buf, workers);
    let mut cancelled: Vec<bool> = Vec::new();
    let mut kept = Kept::default();
    let mut kept_name = String::new();
    let (scans, indexed) = std::thread::scope(|s| {
        let handles: Vec<_> = bounds
            .windows(2)
            .map(|w| {
                let (bname, buf, from, to) = (&bname, &buf, w[0], w[1]);
                s.spawn(move || scan_lines(rules, bname, buf, from, to))
            })
            .collect();
        let indexed = index_lines(&bname, &buf).map(|(lines, mut set)| {
            cancelled = vec![false; lines.len()];
            // A read error ends AFTER, but bad lines before it come first.
            let read = open_sized(after).and_then(|(aname, mut r, _)| {
                let streamed = stream_after(
                    &mut *r,
                    &aname,
                    &buf,
                    &lines,
                    &mut set,
                    &mut cancelled,
                    &mut kept,
                );
                kept_name = aname;
                streamed
            });
            (lines, read)
        });
        let scans: Vec<std::thread::Result<Scanned>> =
            handles.into_iter().map(|h| h.join()).collect();
        (scans, indexed)
    });
    let (lines, read) = indexed?;

    // BEFORE's first error wins (it is read first), then AFTER's.
    let mut hostboot: Vec<u32> = Vec::with_capacity(lines.len());
    let mut pairs: Vec<(Value, Value)> = Vec::new();
    let mut index: HashMap<(String, String), u32> = HashMap::new();
    let mut kinds_before = Kinds::default();
    for sc in scans {
        let sc = sc.map_err(|_| Error::new("internal error: a checking thread failed"))?;
        if let Some(e) = sc.err {
            return Err(e);
        }
        kinds_before.merge(&sc.kinds);
        // Renumber the run's (host, boot id) pairs into one table.
        let map: Vec<u32> = sc
            .pairs
            .iter()
            .map(|(h, b)| {
                intern(
                    &mut pairs,
                    &mut index,
                    &Cap::Val(h.clone()),
                    &Cap::Val(b.clone()),
                )
            })
            .collect();
        hostboot.extend(sc.hostboot.iter().map(
            |&i| {
                if i == NONE {
                    NONE
                } else {
                    map[i as usize]
                }
            },
        ));
    }
    let aname = kept_name;
    if let Err(e) = read {
        // Nothing of AFTER was read (it cannot be opened), or a read
        // failed: the lines kept so far are still checked first.
        if !aname.is_empty() {
            check_kept(rules, &aname, &mut kept, workers)?;
        }
        return Err(e);
    }
    check_kept(rules, &aname, &mut kept, workers)?;
    // AFTER's kinds: those of its kept lines, and of the lines that
    // cancelled, which are BEFORE's (looked up only for a kind not seen
    // yet, such as sockets when AFTER is a process snapshot).
    let mut kinds_after = kept.kinds.clone();
    if kinds_before.iter().any(|k| !kinds_after.contains(k)) {
        for (l, _) in lines.iter().zip(&cancelled).filter(|(_, &c)| c) {
            let text = &buf[l.start..l.end];
            match scan(rules.names(), text) {
                Some(shape) => kinds_after.add(
                    shape
                        .kind
                        .map(|k| k.to_value())
                        .as_ref()
                        .and_then(Value::as_str),
                ),
                None => {
                    let m = parse_line(&bname, l.line, text, true)?;
                    kinds_after.add(m.get("kind").and_then(Value::as_str));
                }
            }
            if kinds_before.iter().all(|k| kinds_after.contains(k)) {
                break;
            }
        }
    }
    let mut boots_before = Boots::default();
    for (h, b) in &pairs {
        boots_before.add(h, b);
    }
    let mut shared_hb = vec![false; pairs.len()];
    let mut share = |i: usize| {
        if let Some(&hb) = hostboot.get(i).filter(|&&hb| hb != NONE) {
            shared_hb[hb as usize] = true;
        }
    };
    for (i, &c) in cancelled.iter().enumerate() {
        if c {
            share(i);
        }
    }

    // Second round: records that differ only in fields the comparison
    // ignores (cpu time, memory, inode, ...) cancel the same way, by the
    // bytes of the line without those fields. Instance and identity fields
    // are kept, so such a pair is exactly one the diff would pair
    // silently.
    // Of BEFORE's masks only a hash and the byte runs they are made of are
    // kept (the masks would double the memory of snapshots that differ on
    // every line); a hash that matches is checked against the runs.
    let left: Vec<usize> = (0..lines.len()).filter(|&i| !cancelled[i]).collect();
    let bruns = par_map_with(
        &left,
        workers,
        || (Masks::new(rules), Vec::new()),
        |(m, scratch): &mut (Masks, Vec<u8>), &i| {
            let l = lines[i];
            let text = &buf[l.start..l.end];
            let runs = m.runs(text)?;
            scratch.clear();
            for &(s, e) in &runs {
                scratch.extend_from_slice(&text[s as usize..e as usize]);
                scratch.push(b'\n');
            }
            Some((line_hash(scratch), runs))
        },
    );
    let mut mindex = HashIndex::default();
    for (k, r) in bruns.iter().enumerate() {
        if let Some((h, _)) = r {
            mindex.push(*h, k);
        }
    }
    let kidx: Vec<usize> = (0..kept.lines.len()).collect();
    let mut after_recs = Vec::new();
    // In blocks, so that AFTER's masks are never all in memory at once.
    for block in kidx.chunks(4096) {
        let amasks = par_map_with(
            block,
            workers,
            || Masks::new(rules),
            |m, &k| {
                let l = kept.lines[k];
                m.masked(&kept.buf[l.start..l.end])
            },
        );
        for (&k, m) in block.iter().zip(&amasks) {
            let l = kept.lines[k];
            if let Some(m) = m {
                let same = |k: usize| {
                    let b = lines[left[k]];
                    let runs = bruns[k].as_ref().map_or(&[][..], |(_, r)| r.as_slice());
                    same_mask(&buf[b.start..b.end], runs, m)
                };
                if let Some(k) = mindex.take(line_hash(m), same) {
                    let i = left[k];
                    cancelled[i] = true;
                    share(i);
                    continue;
                }
            }
            after_recs.push(Rec {
                line: l.line,
                map: parse_line(&aname, l.line, &kept.buf[l.start..l.end], true)?,
            });
        }
    }

    // What is left is parsed (every line was checked already).
    let mut before_recs = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if !cancelled[i] {
            before_recs.push(Rec {
                line: l.line,
                map: parse_line(&bname, l.line, &buf[l.start..l.end], true)?,
            });
        }
    }
    let shared_hosts = pairs
        .iter()
        .zip(&shared_hb)
        .filter(|(_, s)| **s)
        .map(|((h, _), _)| h.to_string())
        .collect();
    Ok(Loaded {
        before: before_recs,
        after: after_recs,
        boots_before,
        boots_after: kept.boots,
        shared_hosts,
        kinds_before,
        kinds_after,
        before_name: bname,
        after_name: aname,
    })
}

/// AFTER, streamed: a line that matches an uncancelled BEFORE line with the
/// same bytes cancels it (oldest first); the rest is checked and kept.
fn stream_after(
    areader: &mut dyn BufRead,
    aname: &str,
    buf: &[u8],
    lines: &[LineRef],
    set: &mut Multiset,
    cancelled: &mut [bool],
    kept: &mut Kept,
) -> Result<()> {
    let mut abuf: Vec<u8> = Vec::new();
    let mut line_no = 0u64;
    let get = |i: u32| {
        let f = lines[i as usize];
        &buf[f.start..f.end]
    };
    loop {
        abuf.clear();
        let n = areader
            .read_until(b'\n', &mut abuf)
            .map_err(|e| read_err(aname, &e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let complete = abuf.last() == Some(&b'\n');
        let text = trim(&abuf);
        if text.is_empty() {
            continue;
        }
        if let Some(i) = set.take(text, get) {
            cancelled[i as usize] = true;
            continue;
        }
        let start = kept.buf.len();
        let l = LineRef {
            start,
            end: start + text.len(),
            line: line_no,
        };
        if !complete {
            kept.cut_short = Some(kept.lines.len());
        }
        kept.buf.extend_from_slice(text);
        kept.lines.push(l);
    }
    Ok(())
}

/// Check AFTER's kept lines (in parallel runs) and collect their kinds and
/// boot ids; the first bad line in file order wins.
fn check_kept(rules: &Rules, name: &str, kept: &mut Kept, workers: usize) -> Result<()> {
    let n = kept.lines.len();
    let parts = if workers <= 1 || n < 1024 { 1 } else { workers };
    let size = n.div_ceil(parts).max(1);
    let ranges: Vec<std::ops::Range<usize>> =
        (0..n).step_by(size).map(|a| a..(a + size).min(n)).collect();
    let shared: &Kept = kept;
    let results: Vec<std::thread::Result<(Boots, Kinds, Option<Error>)>> =
        std::thread::scope(|s| {
            let handles: Vec<_> = ranges
                .into_iter()
                .map(|r| s.spawn(move || check_run(rules, name, shared, r)))
                .collect();
            handles.into_iter().map(|h| h.join()).collect()
        });
    let (mut boots, mut kinds) = (Boots::default(), Kinds::default());
    for r in results {
        let (b, k, err) = r.map_err(|_| Error::new("internal error: a checking thread failed"))?;
        if let Some(e) = err {
            return Err(e);
        }
        boots.merge(b);
        kinds.merge(&k);
    }
    kept.boots = boots;
    kept.kinds = kinds;
    Ok(())
}

/// Check a run of AFTER's kept lines: their kinds, the boot ids of their
/// process records, and the first bad line.
fn check_run(
    rules: &Rules,
    name: &str,
    kept: &Kept,
    run: std::ops::Range<usize>,
) -> (Boots, Kinds, Option<Error>) {
    let (mut boots, mut kinds) = (Boots::default(), Kinds::default());
    // Most lines have the (host, boot id) of the line before.
    let mut last: Option<(Value, Value)> = None;
    for k in run {
        let l = kept.lines[k];
        let text = &kept.buf[l.start..l.end];
        match check_line(rules, name, l, text, kept.cut_short != Some(k)) {
            Ok((kind, hb)) => {
                kinds.add(kind.as_deref());
                if let Some((h, b)) = hb {
                    let seen = last
                        .as_ref()
                        .is_some_and(|(lh, lb)| h.eq_value(lh) && b.eq_value(lb));
                    if !seen {
                        let (h, b) = (h.to_value(), b.to_value());
                        boots.add(&h, &b);
                        last = Some((h, b));
                    }
                }
            }
            Err(e) => return (boots, kinds, Some(e)),
        }
    }
    (boots, kinds, None)
}

/// `f` over `items` on up to `workers` threads, results in order, with a
/// state per thread made by `init`.
fn par_map_with<I: Sync, T: Send, S>(
    items: &[I],
    workers: usize,
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &I) -> T + Sync,
) -> Vec<T> {
    if workers <= 1 || items.len() < 1024 {
        let mut st = init();
        return items.iter().map(|i| f(&mut st, i)).collect();
    }
    let chunk = items.len().div_ceil(workers);
    let (f, init) = (&f, &init);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut st = init();
                    part.iter().map(|i| f(&mut st, i)).collect::<Vec<T>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for h in handles {
            match h.join() {
                Ok(v) => out.extend(v),
                // A panic in a helper is a bug; let it surface as one.
                Err(p) => std::panic::resume_unwind(p),
            }
        }
        out
    })
}

/// The byte ranges of the top-level fields of a (valid) JSON object line:
/// (key start, key end, value start, value end), the key with its quotes.
fn top_fields(t: &[u8]) -> Option<Vec<(usize, usize, usize, usize)>> {
    let ws = |i: &mut usize| {
        while *i < t.len() && matches!(t[*i], b' ' | b'\t' | b'\n' | b'\r') {
            *i += 1;
        }
    };
    let mut i = 0;
    ws(&mut i);
    if t.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut out = Vec::with_capacity(32);
    loop {
        ws(&mut i);
        match t.get(i)? {
            b'}' if out.is_empty() => return Some(out),
            b'"' => {}
            _ => return None,
        }
        let ks = i;
        i = skip_string(t, i)?;
        let ke = i;
        ws(&mut i);
        if *t.get(i)? != b':' {
            return None;
        }
        i += 1;
        ws(&mut i);
        let vs = i;
        i = skip_value(t, i)?;
        out.push((ks, ke, vs, i));
        ws(&mut i);
        match t.get(i)? {
            b',' => i += 1,
            b'}' => return Some(out),
            _ => return None,
        }
    }
}

/// Past the string that starts at `i` (its opening quote).
fn skip_string(t: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        j = next_special(t, j);
        match *t.get(j)? {
            b'"' => return Some(j + 1),
            b'\\' => j += 2,
            _ => j += 1,
        }
    }
}

/// Past the value that starts at `i`.
fn skip_value(t: &[u8], i: usize) -> Option<usize> {
    match *t.get(i)? {
        b'"' => skip_string(t, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match *t.get(j)? {
                    b'"' => {
                        j = skip_string(t, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while j < t.len() && !matches!(t[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                j += 1;
            }
            Some(j)
        }
    }
}

/// Field names by their length (index), for quick lookups of raw keys.
type ByLen = Vec<Vec<Vec<u8>>>;

/// The fields the second round may drop from a line, per kind.
struct Masks<'r> {
    rules: &'r Rules,
    /// (kind, field names to drop by their length); few kinds, so a list.
    cache: Vec<(Option<Vec<u8>>, ByLen)>,
}

impl<'r> Masks<'r> {
    fn new(rules: &'r Rules) -> Self {
        Masks {
            rules,
            cache: Vec::new(),
        }
    }

    /// The runs of a line's bytes that hold the fields the comparison
    /// keeps, as (start, end) of each run of consecutive kept fields;
    /// `None` when nothing can be dropped (or the line is unusual: an
    /// escaped key, a kind that is not a plain string).
    fn runs(&mut self, text: &[u8]) -> Option<Vec<(u32, u32)>> {
        u32::try_from(text.len()).ok()?;
        let fields = top_fields(text)?;
        let mut kind: Option<&[u8]> = None;
        for &(ks, ke, vs, ve) in &fields {
            if &text[ks..ke] == b"\"kind\"" {
                let v = &text[vs..ve];
                if v.len() < 2 || v[0] != b'"' || v.contains(&b'\\') {
                    return None;
                }
                kind = Some(&v[1..v.len() - 1]);
            }
        }
        let pos = match self.cache.iter().position(|(k, _)| k.as_deref() == kind) {
            Some(p) => p,
            None => {
                let name = match kind {
                    Some(k) => Some(std::str::from_utf8(k).ok()?),
                    None => None,
                };
                let mut by_len: ByLen = Vec::new();
                for f in self.rules.maskable(name) {
                    if by_len.len() <= f.len() {
                        by_len.resize_with(f.len() + 1, Vec::new);
                    }
                    by_len[f.len()].push(f.into_bytes());
                }
                self.cache.push((kind.map(<[u8]>::to_vec), by_len));
                self.cache.len() - 1
            }
        };
        let drop = &self.cache[pos].1;
        if drop.is_empty() {
            return None;
        }
        let mut runs: Vec<(u32, u32)> = Vec::with_capacity(4);
        let mut open = false;
        for &(ks, ke, _, ve) in &fields {
            let key = &text[ks + 1..ke - 1];
            if key.contains(&b'\\') {
                return None;
            }
            if drop
                .get(key.len())
                .is_some_and(|names| names.iter().any(|n| n == key))
            {
                open = false;
                continue;
            }
            // Offsets fit: the line is shorter than 4 GiB.
            match runs.last_mut() {
                Some(r) if open => r.1 = ve as u32,
                _ => runs.push((ks as u32, ve as u32)),
            }
            open = true;
        }
        Some(runs)
    }

    /// The line without the fields the comparison ignores: its kept runs,
    /// each ended by a newline (which no line holds, so two equal masks
    /// are made of equal runs); `None` as for [`Masks::runs`].
    fn masked(&mut self, text: &[u8]) -> Option<Vec<u8>> {
        let runs = self.runs(text)?;
        let mut out = Vec::with_capacity(text.len());
        for &(s, e) in &runs {
            out.extend_from_slice(&text[s as usize..e as usize]);
            out.push(b'\n');
        }
        Some(out)
    }
}

/// Is `mask` the mask of the line `text` whose kept runs are `runs`?
fn same_mask(text: &[u8], runs: &[(u32, u32)], mask: &[u8]) -> bool {
    let mut at = 0;
    for &(s, e) in runs {
        let run = &text[s as usize..e as usize];
        let end = at + run.len();
        if mask.get(at..end) != Some(run) || mask.get(end) != Some(&b'\n') {
            return false;
        }
        at = end + 1;
    }
    at == mask.len()
}

/// Index of a (host, boot id) pair; most snapshots have one, so the last
/// pair is tried first without building strings.
fn intern(
    table: &mut Vec<(Value, Value)>,
    index: &mut HashMap<(String, String), u32>,
    host: &Cap<'_>,
    boot: &Cap<'_>,
) -> u32 {
    if let Some((i, (h, b))) = table.iter().enumerate().next_back() {
        if host.eq_value(h) && boot.eq_value(b) {
            return i as u32;
        }
    }
    let (h, b) = (host.to_value(), boot.to_value());
    let k = (h.to_string(), b.to_string());
    if let Some(&i) = index.get(&k) {
        return i;
    }
    let i = table.len() as u32;
    table.push((h, b));
    index.insert(k, i);
    i
}

/// The plain loader: every record of both files parsed and checked, no
/// cancellation. The diff of its result is the reference the fast loader
/// must equal (in tests).
#[cfg(test)]
pub fn load_plain(rules: &Rules, before: &str, after: &str) -> Result<Loaded> {
    if before == "-" && after == "-" {
        return Err(Error::new(
            "BEFORE and AFTER cannot both be standard input; give a file for one of them",
        ));
    }
    let mut out = Loaded::default();
    for (i, name) in [before, after].into_iter().enumerate() {
        let (shown, reader, _) = open_sized(name)?;
        let mut recs = Vec::new();
        let mut boots = Boots::default();
        let mut kinds = Kinds::default();
        let mut r = common::jsonl::Records::from_reader(shown.clone(), ReadAdapter(reader));
        while let Some((line, m)) = r.next_record()? {
            check_map(rules, &shown, line, &m)?;
            boots.add_record(&m);
            kinds.add(m.get("kind").and_then(Value::as_str));
            recs.push(Rec { line, map: m });
        }
        if i == 0 {
            out.before = recs;
            out.boots_before = boots;
            out.kinds_before = kinds;
            out.before_name = shown;
        } else {
            out.after = recs;
            out.boots_after = boots;
            out.kinds_after = kinds;
            out.after_name = shown;
        }
    }
    Ok(out)
}

/// `Box<dyn BufRead>` as a `Read + 'static`.
#[cfg(test)]
struct ReadAdapter(Box<dyn BufRead>);

#[cfg(test)]
impl Read for ReadAdapter {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        self.0.read(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Options;

    struct Lcg(u64);
    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n.max(1)
        }
    }

    fn rules() -> Rules {
        Rules::new(&Options {
            keys: vec!["id".into()],
            ..Options::default()
        })
        .expect("rules")
    }

    #[test]
    fn hash_index_takes_the_oldest_accepted_item() {
        let mut x = HashIndex::default();
        for (h, item) in [(1, 10), (2, 20), (1, 11), (1, 12)] {
            x.push(h, item);
        }
        assert_eq!(x.take(1, |i| i == 11), Some(11));
        assert_eq!(x.take(1, |_| true), Some(10));
        assert_eq!(x.take(1, |i| i == 11), None);
        x.push(1, 13);
        assert_eq!(x.take(1, |i| i == 12), Some(12));
        assert_eq!(x.take(1, |_| true), Some(13));
        assert_eq!(x.take(1, |_| true), None);
        assert_eq!(x.take(3, |_| true), None);
        assert_eq!(x.take(2, |_| true), Some(20));
    }

    #[test]
    fn hash_spreads_and_is_deterministic() {
        assert_eq!(line_hash(b"abc"), line_hash(b"abc"));
        assert_ne!(line_hash(b"abc"), line_hash(b"abd"));
        assert_ne!(line_hash(b""), line_hash(b"\0"));
        assert_ne!(line_hash(b"12345678a"), line_hash(b"12345678b"));
    }

    #[test]
    fn scanner_agrees_with_the_full_parse() {
        let r = rules();
        let good: [&[u8]; 5] = [
            br#"{"kind":"process","host":"h","boot_id":"b","id":1}"#,
            br#"{"id":"a\"b\u00e9","x":[1,2.5,-3,{"y":null}],"kind":"k"}"#,
            br#"{"kind":"process","kind":"socket","id":1}"#,
            br#"{}"#,
            br#"{"host":[104,255],"id":true}"#,
        ];
        for g in good {
            assert!(
                scan(r.names(), g).is_some(),
                "{}",
                String::from_utf8_lossy(g)
            );
            assert!(parse_line("f", 1, g, true).is_ok());
        }
        let bad: [&[u8]; 9] = [
            b"[1,2]",
            b"\"str\"",
            b"{\"a\":1",
            b"{\"a\":1} x",
            b"{\"a\":\"\\ud800\"}",
            b"{\"a\":1e999}",
            b"{\"a\":\"\xff\"}",
            b"{\"a\":01}",
            b"{a:1}",
        ];
        for b in bad {
            assert!(
                scan(r.names(), b).is_none(),
                "{}",
                String::from_utf8_lossy(b)
            );
            assert!(parse_line("f", 1, b, true).is_err());
        }
    }

    /// What a shape says, comparable: kind, named fields, host, boot id.
    type Summary = (Option<Value>, u128, Option<Value>, Option<Value>);

    fn summary(s: &Shape<'_>) -> Summary {
        (
            s.kind.as_ref().map(Cap::to_value),
            s.present,
            s.host.as_ref().map(Cap::to_value),
            s.boot.as_ref().map(Cap::to_value),
        )
    }

    /// What a full parse says of a line, as a shape summary.
    fn parsed(names: &Names, t: &str) -> Option<Summary> {
        let Ok(Value::Object(m)) = serde_json::from_str::<Value>(t) else {
            return None;
        };
        let present = m
            .keys()
            .filter(|k| *k != "kind")
            .filter_map(|k| names.bit(k))
            .fold(0u128, |p, b| p | 1 << b);
        let get = |f: &str| m.get(f).filter(|_| names.bit(f).is_some()).cloned();
        Some((m.get("kind").cloned(), present, get("host"), get("boot_id")))
    }

    #[test]
    fn the_quick_check_never_accepts_what_serde_json_refuses() {
        let r = Rules::new(&Options::default()).expect("rules");
        let seeds = [
            r#"{"kind":"process","host":"web1","boot_id":"b-1","pid":10,"cmdline":["a b",[102,255]],"exe":null,"cpu_seconds":1.5e2,"x":{"y":[true,false,null,-0.25,"\u00e9\n\"q\""]}}"#,
            r#"{"kind":"socket","host":[104,255],"boot_id":null,"local_port":0,"s":"\ud83d\ude00","e":{},"a":[]}"#,
            r#" { "kind" : "file" , "path" : "/a\\b" , "n" : -12345678901234567890 } "#,
        ];
        let alphabet: &[u8] = b"{}[]\":,.-+eE0123456789tfnul \\/u\x01\x7fab";
        let mut rng = Lcg(7);
        let mut accepted = 0;
        for round in 0..20_000 {
            let mut t: Vec<u8> = seeds[round % seeds.len()].as_bytes().to_vec();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(t.len() as u64 + 1) as usize;
                match rng.below(3) {
                    0 if at < t.len() => {
                        t.remove(at);
                    }
                    1 => t.insert(at, alphabet[rng.below(alphabet.len() as u64) as usize]),
                    _ if at < t.len() => {
                        t[at] = alphabet[rng.below(alphabet.len() as u64) as usize]
                    }
                    _ => {}
                }
            }
            let Ok(text) = std::str::from_utf8(&t) else {
                continue;
            };
            let serde_ok = matches!(serde_json::from_str::<Value>(text), Ok(Value::Object(_)));
            if let Some(q) = quick_scan(r.names(), text.as_bytes()) {
                accepted += 1;
                assert!(
                    serde_ok,
                    "quick check accepted what serde_json refuses: {text}"
                );
                let full = parsed(r.names(), text).expect("parsed");
                assert_eq!(summary(&q), full, "{text}");
            }
        }
        assert!(accepted > 1000, "the mutations must leave valid lines too");
        for seed in seeds {
            let q = quick_scan(r.names(), seed.as_bytes());
            let full = parsed(r.names(), seed).expect("valid");
            // The surrogate pair is left to serde_json.
            if !seed.contains("ud83d") {
                assert_eq!(summary(&q.expect("quick")), full);
            }
        }
    }

    #[test]
    fn runs_checked_apart_number_lines_as_one() {
        let r = Rules::new(&Options {
            keys: vec!["id".into()],
            ..Options::default()
        })
        .expect("rules");
        let mut text = String::new();
        for i in 1..=60 {
            match i {
                7 | 8 => text.push_str("   \n"),
                41 => text.push_str("{\"id\": oops}\n"),
                _ => text.push_str(&format!("{{\"kind\":\"process\",\"id\":{i},\"host\":\"h\",\"boot_id\":\"b\",\"pid\":{i},\"start_ticks\":1}}\n")),
            }
        }
        let buf = text.as_bytes();
        for parts in 1..6 {
            let bounds = split_bounds(buf, parts);
            let mut seen = 0;
            let mut first_err = None;
            for w in bounds.windows(2) {
                let sc = scan_lines(&r, "x.json", buf, w[0], w[1]);
                seen += sc.hostboot.len();
                if first_err.is_none() {
                    first_err = sc.err.map(|e| e.to_string());
                }
            }
            let e = first_err.expect("line 41 is bad");
            assert!(e.starts_with("x.json:41: not JSON"), "{parts}: {e}");
            assert!(seen >= 38, "{parts}: lines before the bad one were seen");
        }
        let all: Vec<u64> = Lines::new(buf, 0, buf.len(), 1)
            .map(|(l, _)| l.line)
            .collect();
        assert_eq!(all.len(), 58);
        assert_eq!(&all[5..8], &[6, 9, 10]);
        let (tail, complete): (Vec<_>, Vec<_>) = Lines::new(b"{}\n{}", 0, 5, 1).unzip();
        assert_eq!(tail.len(), 2);
        assert_eq!(complete, vec![true, false]);
    }

    #[test]
    fn top_fields_split_nested_values_and_strings() {
        let t = br#" {"a" : [1, {"b": "x}]"}], "c":"q\"}", "d":-1.5e3 ,"e":{}} "#;
        let f = top_fields(t).expect("fields");
        let parts: Vec<(&str, &str)> = f
            .iter()
            .map(|&(ks, ke, vs, ve)| {
                (
                    std::str::from_utf8(&t[ks..ke]).expect("utf8"),
                    std::str::from_utf8(&t[vs..ve]).expect("utf8"),
                )
            })
            .collect();
        assert_eq!(
            parts,
            vec![
                ("\"a\"", "[1, {\"b\": \"x}]\"}]"),
                ("\"c\"", "\"q\\\"}\""),
                ("\"d\"", "-1.5e3"),
                ("\"e\"", "{}"),
            ]
        );
        assert_eq!(top_fields(b"{}"), Some(vec![]));
        assert_eq!(top_fields(b"[1]"), None);
    }

    #[test]
    fn masks_drop_only_ignored_fields_that_identify_nothing() {
        let rules = Rules::new(&Options::default()).expect("rules");
        let mut m = Masks::new(&rules);
        let p1 = br#"{"kind":"process","pid":5,"cpu_seconds":1.5,"rss_bytes":7,"exe":"/x"}"#;
        let p2 = br#"{"kind":"process","pid":5,"cpu_seconds":9,"rss_bytes":8,"exe":"/x"}"#;
        let p3 = br#"{"kind":"process","pid":6,"cpu_seconds":9,"rss_bytes":8,"exe":"/x"}"#;
        let (a, b, c) = (m.masked(p1), m.masked(p2), m.masked(p3));
        assert_eq!(
            a.as_deref(),
            Some(&b"\"kind\":\"process\",\"pid\":5\n\"exe\":\"/x\"\n"[..])
        );
        let runs = m.runs(p1).expect("runs");
        assert!(same_mask(p1, &runs, a.as_deref().expect("mask")));
        assert!(same_mask(
            p2,
            &m.runs(p2).expect("runs"),
            &a.clone().expect("mask")
        ));
        assert!(!same_mask(
            p3,
            &m.runs(p3).expect("runs"),
            &a.clone().expect("mask")
        ));
        assert_eq!(a, b);
        assert_ne!(a, c, "the pid tells the instance: kept");
        let s1 = br#"{"kind":"socket","inode":1,"processes":[{"pid":1,"comm":"a"}]}"#;
        let s2 = br#"{"kind":"socket","inode":2,"processes":[{"pid":2,"comm":"a"}]}"#;
        assert_ne!(
            m.masked(s1),
            m.masked(s2),
            "processes is compared in part: kept"
        );
        // Kinds without ignored fields, escaped keys: nothing to do.
        assert_eq!(m.masked(br#"{"kind":"file","path":"/a"}"#), None);
        assert_eq!(m.masked(br#"{"kind":"process","\u0070id":5}"#), None);
    }

    #[test]
    fn line_errors_match_the_record_reader() {
        for (text, complete) in [
            (&b"[1]"[..], true),
            (b"{\"a\":", false),
            (b"{\"a\":", true),
            (b"USER PID", true),
        ] {
            let ours = parse_line("x.json", 7, text, complete).expect_err("bad");
            let mut data = b"{}\n".repeat(6);
            data.extend_from_slice(text);
            if complete {
                data.push(b'\n');
            }
            let theirs = common::jsonl::Records::from_reader("x.json", io::Cursor::new(data))
                .collect::<Result<Vec<_>>>()
                .expect_err("bad");
            assert_eq!(ours.to_string(), theirs.to_string());
        }
    }
}
