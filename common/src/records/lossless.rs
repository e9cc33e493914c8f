//! serde for bytes that came from the system (paths, symlink targets) in
//! the lossless encoding of [`crate::bytes`]: a JSON string when the bytes
//! are UTF-8, else an array of the raw bytes as numbers. Use with
//! `#[serde(with = "lossless::bytes")]` (and `opt_bytes`, `bytes_list`) on
//! fields that hold a plain `Vec<u8>`; both ways go through
//! [`crate::bytes::Bytes`], so there is one encoder and one decoder.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::bytes::{serialize_bytes, Bytes};

/// Borrowed bytes, written as [`Bytes`] writes them, without a copy.
struct Borrowed<'a>(&'a [u8]);

impl Serialize for Borrowed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_bytes(self.0, s)
    }
}

/// `Vec<u8>`.
pub mod bytes {
    use super::*;

    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        serialize_bytes(b, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        Bytes::deserialize(d).map(|b| b.0)
    }
}

/// `Option<Vec<u8>>`: `null` for `None`.
pub mod opt_bytes {
    use super::*;

    pub fn serialize<S: Serializer>(b: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match b {
            Some(b) => s.serialize_some(&Borrowed(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<Bytes>::deserialize(d).map(|b| b.map(|b| b.0))
    }
}

/// `Vec<Vec<u8>>`: an array of such values.
pub mod bytes_list {
    use super::*;

    pub fn serialize<S: Serializer>(list: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(list.iter().map(|b| Borrowed(b)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Vec::<Bytes>::deserialize(d).map(|l| l.into_iter().map(|b| b.0).collect())
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
