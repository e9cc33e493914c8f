//! `unit` records (svc-snap): one unit file, or one SysV init script.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The value of `"kind"`.
pub const KIND: &str = "unit";
/// What pairs a unit with itself in another snapshot.
pub const IDENTITY: &[&str] = &["host", "name"];
/// The fields in the order svc-snap writes them.
pub const FIELDS: &[&str] = &[
    "kind",
    "host",
    "name",
    "type",
    "state",
    "path",
    "alias_of",
    "wanted_by",
    "aliases",
    "also",
    "drop_ins",
    "instances",
    "runlevels",
    "active",
    "sub",
];

/// One unit as `man 5 snap-records` documents it. Paths are system paths
/// (under `--root DIR` without the DIR) in the lossless encoding of
/// [`crate::bytes`]: a string when UTF-8, else an array of the raw bytes.
/// A field that does not apply or could not be read is `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// Always [`KIND`].
    pub kind: String,
    /// The node name.
    pub host: Option<String>,
    /// `ssh.service`, `getty@.service`; for a SysV script its file name.
    pub name: String,
    /// `service`, `socket`, `timer`, ... or `sysv`.
    #[serde(rename = "type")]
    pub unit_type: String,
    /// The unit-file state as `systemctl is-enabled` prints it; for a SysV
    /// script `enabled` (started in some runlevel) or `disabled`.
    pub state: String,
    /// The file that wins: the unit file systemd loads (through aliases and
    /// links), the mask, or the init script.
    pub path: Value,
    /// For `state: alias`, the unit the name stands for.
    pub alias_of: Option<String>,
    /// Units whose `.wants/`, `.requires/` or `.upholds/` directories name
    /// this unit (or, for a template, one of its instances).
    pub wanted_by: Option<Vec<String>>,
    /// Other names on the search path that are aliases of this unit.
    pub aliases: Option<Vec<String>>,
    /// `[Install]` `Also=`.
    pub also: Option<Vec<String>>,
    /// The drop-in `.conf` files that apply, in the order systemd reads them.
    pub drop_ins: Option<Vec<Value>>,
    /// For a template, the instances that `.wants/`, `.requires/` or
    /// `.upholds/` links name.
    pub instances: Option<Vec<String>>,
    /// For a SysV script, the runlevels whose `/etc/rcN.d` start it.
    pub runlevels: Option<Vec<String>>,
    /// On a live system run by systemd: the active state (`active`,
    /// `inactive`, `failed`, ...) of a loaded unit.
    pub active: Option<String>,
    /// On a live system run by systemd: the sub-state (`running`,
    /// `exited`, `dead`, ...).
    pub sub: Option<String>,
}

impl Unit {
    /// A record of `name` with every optional field `null`.
    pub fn new(host: Option<String>, name: String, unit_type: String, state: String) -> Self {
        Unit {
            kind: KIND.to_owned(),
            host,
            name,
            unit_type,
            state,
            path: Value::Null,
            alias_of: None,
            wanted_by: None,
            aliases: None,
            also: None,
            drop_ins: None,
            instances: None,
            runlevels: None,
            active: None,
            sub: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_named_as_documented_and_null_when_absent() {
        let u = Unit::new(
            Some("h".into()),
            "ssh.service".into(),
            "service".into(),
            "enabled".into(),
        );
        let v = serde_json::to_value(&u).expect("serialize");
        assert_eq!(crate::records::tests::keys_of(&v), FIELDS);
        assert_eq!(v["kind"], "unit");
        assert!(v["active"].is_null());
        let back: Unit = serde_json::from_value(v).expect("deserialize");
        assert_eq!(back, u);
    }
}
