//! Writing a JSON record straight into a reused byte buffer.
//!
//! Building a `serde_json::Value` per record (an ordered map of owned keys)
//! was half of a snapshot's user time with many thousands of processes or
//! sockets. The snapshot tools write their fixed field lists through
//! [`Obj`] instead. The bytes are exactly serde_json's compact output (same
//! string escapes, same number formatting), so a record written here and one
//! written by [`crate::Out::record`] cannot be told apart; the tests check
//! that against serde_json itself.

use std::fmt;

use serde_json::Value;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// What each byte becomes in a JSON string, as serde_json writes it: 0 for
/// itself, else the letter after the backslash (`u` for `\u00XX`).
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// Append the characters of UTF-8 text `bytes` escaped as serde_json
/// escapes them (`"`, `\` and control characters; nothing else), without
/// the quotes. A table lookup per byte: this loop is most of a snapshot's
/// writing time.
#[inline]
fn escape_into(buf: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let e = ESCAPE[usize::from(b)];
        if e == 0 {
            continue;
        }
        buf.extend_from_slice(&bytes[start..i]);
        if e == b'u' {
            buf.extend_from_slice(b"\\u00");
            buf.push(HEX[usize::from(b >> 4)]);
            buf.push(HEX[usize::from(b & 0xf)]);
        } else {
            buf.push(b'\\');
            buf.push(e);
        }
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
}

/// Append `s` as a JSON string.
#[inline]
pub fn write_str(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    escape_into(buf, s.as_bytes());
    buf.push(b'"');
}

/// Append raw system bytes in the [`crate::bytes`] convention: a string when
/// they are UTF-8, else an array of the byte values.
pub fn write_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    match std::str::from_utf8(b) {
        Ok(s) => write_str(buf, s),
        Err(_) => {
            buf.push(b'[');
            for (i, &x) in b.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                write_u64(buf, u64::from(x));
            }
            buf.push(b']');
        }
    }
}

/// Append an unsigned integer in decimal.
#[inline]
pub fn write_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Append a signed integer in decimal.
pub fn write_i64(buf: &mut Vec<u8>, n: i64) {
    if n < 0 {
        buf.push(b'-');
    }
    write_u64(buf, n.unsigned_abs());
}

/// Append a float as serde_json writes it (shortest round-trip digits,
/// `null` for NaN and the infinities, which JSON cannot hold).
pub fn write_f64(buf: &mut Vec<u8>, f: f64) {
    // Writing into a Vec cannot fail, and an f64 always serializes.
    let _ = serde_json::to_writer(&mut *buf, &f);
}

/// A number [`Val::num`] can write.
pub trait Num: Copy {
    fn write(self, buf: &mut Vec<u8>);
}

macro_rules! unsigned {
    ($($t:ty)*) => {$(
        impl Num for $t {
            fn write(self, buf: &mut Vec<u8>) {
                write_u64(buf, self as u64);
            }
        }
    )*};
}
macro_rules! signed {
    ($($t:ty)*) => {$(
        impl Num for $t {
            fn write(self, buf: &mut Vec<u8>) {
                write_i64(buf, self as i64);
            }
        }
    )*};
}
unsigned!(u8 u16 u32 u64 usize);
signed!(i8 i16 i32 i64 isize);

impl Num for f64 {
    fn write(self, buf: &mut Vec<u8>) {
        write_f64(buf, self);
    }
}

/// `fmt::Write` straight into the buffer (a `String` would be one more
/// copy, `io::Write` one more layer).
struct Append<'a>(&'a mut Vec<u8>);

impl fmt::Write for Append<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// A JSON object being written into a buffer: for each field, [`Obj::key`]
/// and one method of the [`Val`] it returns; then [`Obj::end`].
pub struct Obj<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    /// Open an object (`{`) at the end of `buf`.
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        buf.push(b'{');
        Obj { buf, first: true }
    }

    /// The next field's name; write its value through what this returns.
    /// Field names are snake_case ASCII (RECORDS.md), so they are written
    /// as they are, with no escaping pass.
    #[inline]
    pub fn key(&mut self, k: &str) -> Val<'_> {
        debug_assert!(
            k.bytes().all(|b| ESCAPE[usize::from(b)] == 0),
            "field name {k:?} needs escaping"
        );
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
        self.buf.push(b'"');
        self.buf.extend_from_slice(k.as_bytes());
        self.buf.extend_from_slice(b"\":");
        Val { buf: self.buf }
    }

    /// Close the object (`}`).
    pub fn end(self) {
        self.buf.push(b'}');
    }
}

/// A JSON array being written into a buffer: [`Arr::item`] for each
/// element, then [`Arr::end`].
pub struct Arr<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Arr<'a> {
    /// Open an array (`[`) at the end of `buf`.
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        buf.push(b'[');
        Arr { buf, first: true }
    }

    /// The next element; write it through what this returns.
    pub fn item(&mut self) -> Val<'_> {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
        Val { buf: self.buf }
    }

    /// Close the array (`]`).
    pub fn end(self) {
        self.buf.push(b']');
    }
}

/// The place of exactly one value (after a key, or an array element): each
/// method writes it and uses the place up. Every method has an `opt_` twin
/// that writes `null` for `None`, the record convention for a field that
/// could not be read.
pub struct Val<'a> {
    buf: &'a mut Vec<u8>,
}

impl<'a> Val<'a> {
    pub fn null(self) {
        self.buf.extend_from_slice(b"null");
    }

    pub fn str(self, s: &str) {
        write_str(self.buf, s);
    }

    pub fn opt_str(self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.null(),
        }
    }

    /// A string of what `v` displays as (an IP address, say), escaped,
    /// with no intermediate `String`.
    pub fn display(self, v: impl fmt::Display) {
        use fmt::Write;
        self.buf.push(b'"');
        let start = self.buf.len();
        // Appending to a Vec cannot fail.
        let _ = write!(Append(self.buf), "{v}");
        // Display output is UTF-8; it rarely needs escaping (an address
        // never does), so it is written first and escaped only if needed.
        if self.buf[start..]
            .iter()
            .any(|&b| ESCAPE[usize::from(b)] != 0)
        {
            let raw = self.buf.split_off(start);
            escape_into(self.buf, &raw);
        }
        self.buf.push(b'"');
    }

    pub fn num<N: Num>(self, n: N) {
        n.write(self.buf);
    }

    pub fn opt_num<N: Num>(self, n: Option<N>) {
        match n {
            Some(n) => self.num(n),
            None => self.null(),
        }
    }

    pub fn bool(self, b: bool) {
        self.buf
            .extend_from_slice(if b { b"true" } else { b"false" });
    }

    pub fn opt_bool(self, b: Option<bool>) {
        match b {
            Some(b) => self.bool(b),
            None => self.null(),
        }
    }

    /// Raw system bytes in the [`crate::bytes`] convention.
    pub fn bytes(self, b: &[u8]) {
        write_bytes(self.buf, b);
    }

    pub fn opt_bytes(self, b: Option<&[u8]>) {
        match b {
            Some(b) => self.bytes(b),
            None => self.null(),
        }
    }

    /// An array of byte strings (argv, paths), each in the
    /// [`crate::bytes`] convention.
    pub fn bytes_array(self, items: &[&[u8]]) {
        let mut a = self.array();
        for b in items {
            a.item().bytes(b);
        }
        a.end();
    }

    pub fn opt_bytes_array(self, items: Option<&[&[u8]]>) {
        match items {
            Some(items) => self.bytes_array(items),
            None => self.null(),
        }
    }

    /// Any JSON value, through serde_json.
    pub fn value(self, v: &Value) {
        // Writing into a Vec cannot fail, and a Value always serializes.
        let _ = serde_json::to_writer(&mut *self.buf, v);
    }

    /// An array; close it with [`Arr::end`].
    pub fn array(self) -> Arr<'a> {
        Arr::new(self.buf)
    }

    /// An object; close it with [`Obj::end`].
    pub fn object(self) -> Obj<'a> {
        Obj::new(self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn written(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut b = Vec::new();
        f(&mut b);
        String::from_utf8(b).expect("JSON is UTF-8")
    }

    #[test]
    fn strings_escape_like_serde_json() {
        let every_ascii: String = (0u8..=0x7f).map(char::from).collect();
        for s in [
            "plain",
            "q\"b\\s",
            "ctl\n\t\r\x08\x0c\x01\x1f\x7f",
            "ü€😀",
            "",
            every_ascii.as_str(),
        ] {
            assert_eq!(
                written(|b| write_str(b, s)),
                serde_json::to_string(s).expect("encode")
            );
        }
    }

    #[test]
    fn bytes_follow_the_common_convention() {
        for raw in [&b"/run/x"[..], b"caf\xe9", b"", b"\xff\x00\n"] {
            assert_eq!(
                written(|b| write_bytes(b, raw)),
                crate::bytes::bytes_value(raw).to_string(),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn numbers_format_like_serde_json() {
        for n in [0u64, 7, 10, 4026531840, u64::MAX] {
            assert_eq!(written(|b| write_u64(b, n)), json!(n).to_string());
        }
        for n in [0i64, -1, 42, i64::MIN, i64::MAX] {
            assert_eq!(written(|b| write_i64(b, n)), json!(n).to_string());
        }
        for f in [
            0.0,
            0.03,
            -2.5,
            1e21,
            1e-7,
            12345.678,
            f64::NAN,
            f64::INFINITY,
        ] {
            assert_eq!(
                written(|b| write_f64(b, f)),
                serde_json::to_string(&Value::from(f)).expect("encode")
            );
        }
    }

    #[test]
    fn object_matches_serde_json_compact_output() {
        let got = written(|b| {
            let mut o = Obj::new(b);
            o.key("kind").str("x");
            o.key("none").opt_str(None);
            o.key("u").num(7u32);
            o.key("i").num(-3i64);
            o.key("f").num(0.5f64);
            o.key("on").opt_num(None::<u64>);
            o.key("b").bool(true);
            o.key("ob").opt_bool(None);
            o.key("raw").bytes(b"a\xff");
            o.key("ob2").opt_bytes(None);
            o.key("argv").bytes_array(&[b"a\nb", b"\xe9", b""]);
            o.key("oa").opt_bytes_array(None);
            o.key("v").value(&json!({"a": [1, null]}));
            o.key("ip").display(std::net::Ipv6Addr::LOCALHOST);
            o.key("q").display("say \"hi\"\n");
            {
                let mut a = o.key("procs").array();
                for (pid, comm) in [(1u32, Some(&b"init"[..])), (2, None)] {
                    let mut p = a.item().object();
                    p.key("pid").num(pid);
                    p.key("comm").opt_bytes(comm);
                    p.end();
                }
                a.end();
            }
            o.key("empty").array().end();
            o.end();
        });
        let want = json!({
            "kind": "x", "none": null, "u": 7, "i": -3, "f": 0.5, "on": null,
            "b": true, "ob": null, "raw": [97, 255], "ob2": null,
            "argv": ["a\nb", [233], ""], "oa": null, "v": {"a": [1, null]},
            "ip": "::1", "q": "say \"hi\"\n",
            "procs": [{"pid": 1, "comm": "init"}, {"pid": 2, "comm": null}],
            "empty": []
        });
        assert_eq!(got, want.to_string());
    }
}
