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
//!
//! Here: the records, the loader and AFTER's stream. Beside it: `scan` (the
//! line checker that builds no tree), `index` (hashing, BEFORE's multiset),
//! `lines` (line boundaries, numbering, full checks), `mask` (the second
//! round's masked comparison) and `par` (work over threads in order).

use common::jsonl::{parse_line, trim_ascii as trim};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ffi::OsStr;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use serde_json::{Map, Value};

use common::error::describe_io;
use common::records::process::{self, field as pf};
use common::{Error, Result};

use crate::rules::{KindRef, Names, Rules};

mod index;
mod lines;
mod mask;
mod par;
#[cfg(test)]
mod props;
mod scan;

use index::*;
use lines::*;
use mask::*;
use par::*;
use scan::*;

/// One parsed record (its line was named by any error while parsing).
#[derive(Debug, Clone)]
pub struct Rec {
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
        if rec.get(pf::KIND).and_then(Value::as_str) == Some(process::KIND) {
            let null = Value::Null;
            self.add(
                rec.get(pf::HOST).unwrap_or(&null),
                rec.get(pf::BOOT_ID).unwrap_or(&null),
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
fn open_sized(name: &OsStr) -> Result<(String, Box<dyn BufRead>, usize)> {
    if name == "-" {
        return Ok((
            "<stdin>".to_owned(),
            Box::new(BufReader::with_capacity(256 * 1024, io::stdin())),
            0,
        ));
    }
    let f = File::open(name).map_err(|e| Error::io(Path::new(name), &e))?;
    // The name as messages show it (a path that is not UTF-8 is still
    // opened exactly; only its display is lossy).
    let shown = Path::new(name).display().to_string();
    let meta = f.metadata().ok();
    if meta.as_ref().is_some_and(|m| m.is_dir()) {
        return Err(Error::new(format!(
            "{shown}: is a directory, not a JSON Lines file"
        )));
    }
    let size = meta
        .filter(|m| m.is_file())
        .map_or(0, |m| usize::try_from(m.len()).unwrap_or(0));
    Ok((
        shown,
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
pub fn load(rules: &Rules, before: &OsStr, after: &OsStr) -> Result<Loaded> {
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
                    kinds_after.add(m.get(pf::KIND).and_then(Value::as_str));
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
                map: parse_line(&aname, l.line, &kept.buf[l.start..l.end], true)?,
            });
        }
    }

    // What is left is parsed (every line was checked already).
    let mut before_recs = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if !cancelled[i] {
            before_recs.push(Rec {
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

/// The plain loader: every record of both files parsed and checked, no
/// cancellation. The diff of its result is the reference the fast loader
/// must equal (in tests).
#[cfg(test)]
pub fn load_plain(rules: &Rules, before: &OsStr, after: &OsStr) -> Result<Loaded> {
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
            kinds.add(m.get(pf::KIND).and_then(Value::as_str));
            recs.push(Rec { map: m });
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
