//! Lossless JSON for bytes that came from the system (argv, paths, comm).
//!
//! The convention is journald's (`journalctl -o json`): a value that is valid
//! UTF-8 is a JSON string; one that is not is an array of its raw bytes as
//! numbers (`[102, 111, 255]`). No replacement characters, so a diff of two
//! snapshots never shows a phantom change and a path can always be restored
//! byte for byte. In jq: `if type == "array" then implode else . end` shows
//! such a value (Latin-1 view) and `type == "array"` finds them.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};
use serde::ser::{Serialize, Serializer};
use serde_json::Value;

/// Raw bytes from the system as a record field: serialized in this
/// module's encoding (a string when UTF-8, else an array of the byte
/// values), read back from either form, so a record type round-trips argv,
/// paths and names byte for byte. (An array of bytes that happen to be
/// UTF-8 reads back fine and is written as a string: the writers never
/// write such an array.)
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The JSON value of these bytes ([`bytes_value`]).
    pub fn value(&self) -> Value {
        bytes_value(&self.0)
    }
}

impl From<&[u8]> for Bytes {
    fn from(b: &[u8]) -> Self {
        Bytes(b.to_vec())
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(b: Vec<u8>) -> Self {
        Bytes(b)
    }
}

impl From<&str> for Bytes {
    fn from(s: &str) -> Self {
        Bytes(s.as_bytes().to_vec())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_bytes(&self.0, s)
    }
}

/// Raw bytes in the lossless encoding through any serde serializer: a
/// string when UTF-8, else a sequence of byte values (what [`Bytes`]
/// writes, for fields that hold a plain `Vec<u8>`).
pub fn serialize_bytes<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    match std::str::from_utf8(b) {
        Ok(t) => s.serialize_str(t),
        Err(_) => s.collect_seq(b.iter()),
    }
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Bytes;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string, or an array of byte values 0 to 255")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Bytes, E> {
        Ok(Bytes(v.as_bytes().to_vec()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Bytes, E> {
        Ok(Bytes(v.into_bytes()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bytes, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(Bytes(out))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        d.deserialize_any(BytesVisitor)
    }
}

/// The JSON value of raw bytes: a string when UTF-8, else an array of bytes.
pub fn bytes_value(b: &[u8]) -> Value {
    match std::str::from_utf8(b) {
        Ok(s) => Value::String(s.to_owned()),
        Err(_) => Value::Array(b.iter().map(|&x| Value::from(x)).collect()),
    }
}

/// The JSON value of an OS string.
pub fn os_value(s: &OsStr) -> Value {
    bytes_value(s.as_bytes())
}

/// The JSON value of a path.
pub fn path_value(p: &Path) -> Value {
    bytes_value(p.as_os_str().as_bytes())
}

/// The bytes a value stands for: a string's UTF-8, or an array of integers
/// 0..=255. Anything else is `None`.
pub fn value_bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_u64().and_then(|n| u8::try_from(n).ok()))
            .collect(),
        _ => None,
    }
}

/// Lower-case hex of bytes (digests as dpkg, rpm and sha256sum print them).
pub fn hex(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(char::from(H[usize::from(x >> 4)]));
        s.push(char::from(H[usize::from(x & 15)]));
    }
    s
}

/// Bytes for people: UTF-8 as is, invalid bytes as `\xNN`, control
/// characters escaped, so a text line stays one line.
pub fn display(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
                c => out.push(c),
            }
        }
        for &x in chunk.invalid() {
            out.push_str(&format!("\\x{x:02x}"));
        }
    }
    out
}

/// [`display`] of a JSON value in this encoding (strings as they are,
/// byte arrays escaped); other values in their JSON form.
pub fn display_value(v: &Value) -> String {
    match v {
        Value::String(s) => display(s.as_bytes()),
        Value::Null => "-".to_owned(),
        other => match value_bytes(other) {
            Some(b) if matches!(other, Value::Array(_)) => display(&b),
            _ => other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn utf8_stays_a_string() {
        assert_eq!(
            bytes_value("/usr/sbin/sshd -D".as_bytes()),
            json!("/usr/sbin/sshd -D")
        );
        assert_eq!(bytes_value("Ä".as_bytes()), json!("Ä"));
    }

    #[test]
    fn invalid_utf8_is_a_byte_array_and_round_trips() {
        let raw = b"caf\xe9";
        let v = bytes_value(raw);
        assert_eq!(v, json!([99, 97, 102, 233]));
        assert_eq!(value_bytes(&v).as_deref(), Some(&raw[..]));
        // Latin-1 "é" (valid UTF-8 "é") must not collide with the raw byte.
        assert_ne!(bytes_value("café".as_bytes()), v);
    }

    #[test]
    fn value_bytes_rejects_other_values() {
        assert_eq!(value_bytes(&json!([256])), None);
        assert_eq!(value_bytes(&json!(3)), None);
    }

    #[test]
    fn bytes_type_round_trips_both_forms() {
        for raw in [&b"/usr/sbin/sshd"[..], b"caf\xe9", b"", b"a\"b\\\n"] {
            let b = Bytes::from(raw);
            let text = serde_json::to_string(&b).expect("serialize");
            assert_eq!(text, bytes_value(raw).to_string());
            let back: Bytes = serde_json::from_str(&text).expect("deserialize");
            assert_eq!(back.as_bytes(), raw);
        }
        assert!(serde_json::from_str::<Bytes>("[256]").is_err());
        assert!(serde_json::from_str::<Bytes>("3").is_err());
        assert!(serde_json::from_str::<Bytes>("null").is_err());
    }

    #[test]
    fn display_escapes() {
        assert_eq!(display(b"a\xffb\nc"), "a\\xffb\\nc");
        assert_eq!(display_value(&json!([104, 255])), "h\\xff");
        assert_eq!(display_value(&Value::Null), "-");
    }
}
