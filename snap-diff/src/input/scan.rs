//! The scanner: checks a line as a full JSON parse would, building no
//! tree, and finds the byte ranges of a line's top-level fields.

use super::*;

/// A captured value: borrowed from the line when it is a plain string.
#[derive(Debug)]
pub(super) enum Cap<'de> {
    Str(&'de str),
    Val(Value),
}

impl Cap<'_> {
    pub(super) fn to_value(&self) -> Value {
        match self {
            Cap::Str(s) => Value::String((*s).to_owned()),
            Cap::Val(v) => v.clone(),
        }
    }
    pub(super) fn eq_value(&self, v: &Value) -> bool {
        match self {
            Cap::Str(s) => v.as_str() == Some(*s),
            Cap::Val(x) => x == v,
        }
    }
}

/// What the scanner learned about a line.
#[derive(Debug)]
pub(super) struct Shape<'de> {
    pub(super) kind: Option<Cap<'de>>,
    pub(super) present: u128,
    pub(super) host: Option<Cap<'de>>,
    pub(super) boot: Option<Cap<'de>>,
}

/// Scan a line; `None` when it is not certainly a valid JSON object (the
/// caller then parses it in full, for the record or the exact message).
pub(super) fn scan<'de>(names: &Names, text: &'de [u8]) -> Option<Shape<'de>> {
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
pub(super) fn quick_scan<'a>(names: &Names, t: &'a [u8]) -> Option<Shape<'a>> {
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
            if key == pf::KIND.as_bytes() {
                s.kind = Some(cap()?);
            } else if let Some(b) = names.bit_bytes(key) {
                s.present |= 1 << b;
                if key == pf::HOST.as_bytes() {
                    s.host = Some(cap()?);
                } else if key == pf::BOOT_ID.as_bytes() {
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
pub(super) fn next_special(t: &[u8], mut i: usize) -> usize {
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
pub(super) struct Quick<'a> {
    pub(super) t: &'a [u8],
    pub(super) i: usize,
}

impl Quick<'_> {
    #[inline]
    pub(super) fn peek(&self) -> Option<u8> {
        self.t.get(self.i).copied()
    }

    #[inline]
    pub(super) fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// Past a string (at its quote); whether it had escapes.
    pub(super) fn string(&mut self) -> Option<bool> {
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
    pub(super) fn number(&mut self) -> Option<()> {
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
    pub(super) fn value(&mut self, depth: u32) -> Option<bool> {
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

    pub(super) fn word(&mut self, w: &[u8]) -> Option<bool> {
        if self.t.get(self.i..self.i + w.len())? == w {
            self.i += w.len();
            Some(false)
        } else {
            None
        }
    }
}

/// The byte ranges of the top-level fields of a (valid) JSON object line:
/// (key start, key end, value start, value end), the key with its quotes.
pub(super) fn top_fields(t: &[u8]) -> Option<Vec<(usize, usize, usize, usize)>> {
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
pub(super) fn skip_string(t: &[u8], i: usize) -> Option<usize> {
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
pub(super) fn skip_value(t: &[u8], i: usize) -> Option<usize> {
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
