//! serde for bytes that came from the system (paths, symlink targets) in
//! the lossless encoding of [`crate::bytes`]: a JSON string when the bytes
//! are UTF-8, else an array of the raw bytes as numbers. Use with
//! `#[serde(with = "lossless::bytes")]` (and `opt_bytes`, `bytes_list`).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};
use serde_json::Value;

fn put<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    match std::str::from_utf8(b) {
        Ok(text) => s.serialize_str(text),
        Err(_) => s.collect_seq(b),
    }
}

fn get<E: serde::de::Error>(v: &Value) -> Result<Vec<u8>, E> {
    crate::bytes::value_bytes(v)
        .ok_or_else(|| E::custom(format!("{v} is not a string or an array of bytes")))
}

/// `Vec<u8>`.
pub mod bytes {
    use super::*;

    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        put(b, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        get(&Value::deserialize(d)?)
    }
}

/// `Option<Vec<u8>>`: `null` for `None`.
pub mod opt_bytes {
    use super::*;

    pub fn serialize<S: Serializer>(b: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match b {
            Some(b) => put(b, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            v => get(&v).map(Some),
        }
    }
}

/// `Vec<Vec<u8>>`: an array of such values.
pub mod bytes_list {
    use super::*;
    use serde::ser::SerializeSeq;

    pub fn serialize<S: Serializer>(list: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        struct One<'a>(&'a [u8]);
        impl serde::Serialize for One<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                put(self.0, s)
            }
        }
        let mut seq = s.serialize_seq(Some(list.len()))?;
        for b in list {
            seq.serialize_element(&One(b))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        match Value::deserialize(d)? {
            Value::Array(a) => a.iter().map(get).collect(),
            v => Err(D::Error::custom(format!("{v} is not an array"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct T {
        #[serde(with = "super::bytes")]
        a: Vec<u8>,
        #[serde(with = "super::opt_bytes")]
        b: Option<Vec<u8>>,
        #[serde(with = "super::bytes_list")]
        c: Vec<Vec<u8>>,
    }

    #[test]
    fn utf8_is_a_string_and_other_bytes_an_array_both_ways() {
        let t = T {
            a: b"/etc/caf\xe9".to_vec(),
            b: Some(b"ok".to_vec()),
            c: vec![b"/x".to_vec(), vec![0xff]],
        };
        let v = serde_json::to_value(&t).expect("serialize");
        assert_eq!(
            v,
            json!({"a": [47, 101, 116, 99, 47, 99, 97, 102, 233], "b": "ok", "c": ["/x", [255]]})
        );
        assert_eq!(serde_json::from_value::<T>(v).expect("back"), t);
        let none: T = serde_json::from_value(json!({"a": "", "b": null, "c": []})).expect("nulls");
        assert_eq!(none.b, None);
        for bad in [
            json!({"a": 1, "b": null, "c": []}),
            json!({"a": [256], "b": null, "c": []}),
            json!({"a": "", "b": {}, "c": []}),
            json!({"a": "", "b": null, "c": "x"}),
        ] {
            assert!(serde_json::from_value::<T>(bad.clone()).is_err(), "{bad}");
        }
    }
}
