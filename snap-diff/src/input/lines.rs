//! Lines of a buffer: split at line boundaries, iterated with their
//! numbers, each checked fully; BEFORE's indexed.

use super::*;

/// What checking a line found: its kind, and the host and boot id of a
/// process record.
pub(super) type Checked<'a> = (Option<Cow<'a, str>>, Option<(Cap<'a>, Cap<'a>)>);

/// Check one line as a full parse would (syntax, object, kind, identity
/// fields).
pub(super) fn check_line<'a>(
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
            let process = matches!(kind, KindRef::Str(k) if k == process::KIND);
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
            let kind = m.get(pf::KIND).and_then(Value::as_str);
            let get = |f: &str| Cap::Val(m.get(f).cloned().unwrap_or(Value::Null));
            let hb = (kind == Some(process::KIND)).then(|| (get(pf::HOST), get(pf::BOOT_ID)));
            Ok((kind.map(|k| Cow::Owned(k.to_owned())), hb))
        }
    }
}

/// What checking a run of BEFORE's lines found.
pub(super) struct Scanned {
    /// Per line: index into `pairs` for a process record, else NONE.
    pub(super) hostboot: Vec<u32>,
    pub(super) pairs: Vec<(Value, Value)>,
    pub(super) kinds: Kinds,
    /// The first bad line of the run.
    pub(super) err: Option<Error>,
}

/// Check BEFORE's lines in `buf[from..to]` (all of them, fully) and note
/// the host and boot id of each process record.
pub(super) fn scan_lines(rules: &Rules, name: &str, buf: &[u8], from: usize, to: usize) -> Scanned {
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
pub(super) fn split_bounds(buf: &[u8], parts: usize) -> Vec<usize> {
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
pub(super) fn next_nl(b: &[u8], from: usize) -> usize {
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
pub(super) struct Lines<'a> {
    pub(super) buf: &'a [u8],
    pub(super) pos: usize,
    pub(super) to: usize,
    pub(super) line: u64,
}

impl<'a> Lines<'a> {
    pub(super) fn new(buf: &'a [u8], from: usize, to: usize, first: u64) -> Self {
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
pub(super) fn index_lines(name: &str, buf: &[u8]) -> Result<(Vec<LineRef>, Multiset)> {
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
