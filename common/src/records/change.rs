//! `change` records (snap-diff, cfg-backup): one difference between two
//! snapshots of a kind.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::bytes::Bytes;

/// The value of `"kind"`.
pub const KIND: &str = "change";

/// The field names, each spelled once; [`FIELDS`] lists them in the order
/// snap-diff writes them.
pub mod field {
    pub const KIND: &str = "kind";
    pub const OP: &str = "op";
    pub const OF: &str = "of";
    pub const KEY: &str = "key";
    pub const BEFORE: &str = "before";
    pub const AFTER: &str = "after";
    pub const FIELDS: &str = "fields";
    pub const LEFTOVER_OF: &str = "leftover_of";
    pub const DIRECTION: &str = "direction";
    pub const ROLLBACK: &str = "rollback";
}

use field as f;

/// The top-level fields in the order they are written. The last three
/// ([`OPTIONAL_FIELDS`]) are written by some writers for some changes
/// only: `leftover_of` by cfg-backup for its file changes, `direction` for
/// changes of `package` records, `rollback` by snap-diff for those.
pub const FIELDS: &[&str] = &[
    f::KIND,
    f::OP,
    f::OF,
    f::KEY,
    f::BEFORE,
    f::AFTER,
    f::FIELDS,
    f::LEFTOVER_OF,
    f::DIRECTION,
    f::ROLLBACK,
];

/// The fields not every change has.
pub const OPTIONAL_FIELDS: &[&str] = &[f::LEFTOVER_OF, f::DIRECTION, f::ROLLBACK];

/// A reboot (`op: "reboot"`) is a change of `of: "host"`: its `key` has
/// the host, `before` and `after` the host and the boot ids seen on it.
pub const REBOOT_OF: &str = "host";

/// The fields of a reboot's `key`, `before` and `after`.
pub mod reboot_field {
    pub const HOST: &str = "host";
    pub const BOOT_IDS: &str = "boot_ids";
}

/// The fields only a change of a `package` record has.
pub const PACKAGE_FIELDS: &[&str] = &[f::DIRECTION, f::ROLLBACK];

/// What happened to a thing between the snapshots, in the order changes
/// of one key are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// A host booted between the snapshots (`of: "host"`).
    Reboot,
    Removed,
    Added,
    Restarted,
    Changed,
    /// cfg-backup: a `.dpkg-dist`, `.rpmnew`, ... file next to a saved one.
    Leftover,
}

impl Op {
    /// The value of `"op"`.
    pub fn name(self) -> &'static str {
        match self {
            Op::Reboot => "reboot",
            Op::Removed => "removed",
            Op::Added => "added",
            Op::Restarted => "restarted",
            Op::Changed => "changed",
            Op::Leftover => "leftover",
        }
    }
}

/// One change. The compared records are whole JSON objects of any kind, so
/// `key`, `before` and `after` are JSON maps (borrowed from the writer's
/// records where it has them; owned when read back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change<'a> {
    /// Always [`KIND`].
    pub kind: String,
    pub op: Op,
    /// The kind compared (`host` for a reboot; null for kind-less records).
    pub of: Option<Cow<'a, str>>,
    /// The identity fields and their values.
    pub key: Cow<'a, Map<String, Value>>,
    /// The record before; null where absent.
    pub before: Option<Cow<'a, Map<String, Value>>>,
    /// The record after; null where absent.
    pub after: Option<Cow<'a, Map<String, Value>>>,
    /// The names of the fields that differ.
    pub fields: Cow<'a, [String]>,
    /// cfg-backup's file changes only: for a leftover, the path of the
    /// saved file it belongs to (lossless bytes); null for other changes.
    /// Absent (`None`) from other writers.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub leftover_of: Option<Option<Bytes>>,
    /// A `package` change only: `upgrade`, `downgrade`, or null when the
    /// version did not move. Absent (`None`) for other kinds.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub direction: Option<Option<String>>,
    /// snap-diff's `package` changes only: the cached package file holding
    /// the version before, or null. Absent (`None`) otherwise.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub rollback: Option<Option<String>>,
}

/// A field that is present, null or not: `Some` of its value.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::tests::keys_of;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn sample(package: bool) -> Change<'static> {
        Change {
            kind: KIND.into(),
            op: Op::Changed,
            of: Some(Cow::Borrowed(if package { "package" } else { "process" })),
            key: Cow::Owned(map(json!({"host": "h", "exe": [47, 255]}))),
            before: Some(Cow::Owned(map(
                json!({"kind": "process", "exe": [47, 255]}),
            ))),
            after: None,
            fields: Cow::Owned(vec!["exe".into()]),
            leftover_of: None,
            direction: package.then_some(None),
            rollback: package.then(|| Some("/var/cache/apt/archives/x.deb".into())),
        }
    }

    #[test]
    fn keys_are_fields_in_order() {
        let mut all = sample(true);
        all.leftover_of = Some(None);
        let v = serde_json::to_value(all).expect("serialize");
        assert_eq!(keys_of(&v), FIELDS);
        assert_eq!(v[field::DIRECTION], Value::Null);
        let v = serde_json::to_value(sample(true)).expect("serialize");
        assert_eq!(keys_of(&v), [&FIELDS[..7], PACKAGE_FIELDS].concat());
        let v = serde_json::to_value(sample(false)).expect("serialize");
        let short: Vec<&str> = FIELDS
            .iter()
            .copied()
            .filter(|f| !OPTIONAL_FIELDS.contains(f))
            .collect();
        assert_eq!(keys_of(&v), short);
        assert_eq!(v[field::OP], "changed");
    }

    #[test]
    fn round_trips_with_and_without_package_fields() {
        let mut leftover = sample(false);
        leftover.op = Op::Leftover;
        leftover.leftover_of = Some(Some(Bytes::from(&b"/etc/caf\xe9.conf"[..])));
        for c in [sample(true), sample(false), leftover] {
            let text = serde_json::to_string(&c).expect("serialize");
            let back: Change<'_> = serde_json::from_str(&text).expect("deserialize");
            assert_eq!(back, c);
            assert_eq!(serde_json::to_string(&back).expect("again"), text);
        }
        let mut v = serde_json::to_value(sample(false)).expect("serialize");
        v["extra"] = 1.into();
        assert!(serde_json::from_value::<Change<'_>>(v).is_err());
    }

    #[test]
    fn ops_are_named_and_ordered() {
        for op in [
            Op::Reboot,
            Op::Removed,
            Op::Added,
            Op::Restarted,
            Op::Changed,
            Op::Leftover,
        ] {
            assert_eq!(serde_json::to_value(op).expect("ser"), op.name());
        }
        assert!(Op::Reboot < Op::Removed && Op::Restarted < Op::Changed);
    }
}
