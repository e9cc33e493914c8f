//! `setting` records (sec-snap): one security setting in force, from one
//! area (kernel parameters, privileged files, mandatory access control,
//! the firewall, the ssh daemon).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The value of `"kind"`.
pub const KIND: &str = "setting";
/// What pairs a setting with itself in another snapshot.
pub const IDENTITY: &[&str] = &["host", "area", "name"];
/// The fields every setting has, in the order sec-snap writes them; the
/// fields of its area ([`area_fields`]) follow.
pub const COMMON_FIELDS: &[&str] = &["kind", "host", "name", "value", "reason", "area"];
/// Every top-level field of some setting: [`COMMON_FIELDS`], then the
/// fields of each area in the order of [`AREAS`], each name once.
pub const FIELDS: &[&str] = &[
    "kind",
    "host",
    "name",
    "value",
    "reason",
    "area",
    "configured",
    "configured_file",
    "configured_line",
    "differs",
    "mode",
    "uid",
    "gid",
    "user",
    "group",
    "setuid",
    "setgid",
    "capabilities",
    "package",
    "module",
    "tool",
    "family",
    "table",
    "chain",
    "position",
    "expr",
    "source",
];

/// The fields of an area, in the order sec-snap writes them after
/// [`COMMON_FIELDS`]; `None` for an unknown area.
pub fn area_fields(area: &str) -> Option<&'static [&'static str]> {
    Some(match area {
        "sysctl" => &[
            "configured",
            "configured_file",
            "configured_line",
            "differs",
        ],
        "file" => &[
            "mode",
            "uid",
            "gid",
            "user",
            "group",
            "setuid",
            "setgid",
            "capabilities",
            "package",
        ],
        "lsm" => &["module"],
        "firewall" => &["tool", "family", "table", "chain", "position", "expr"],
        "sshd" => &["source", "configured_file", "configured_line"],
        _ => return None,
    })
}

/// One setting. `name` and `value` are JSON values because a path (the
/// name of a `file` setting) need not be UTF-8: such a name is an array of
/// its bytes, as everywhere in the workspace (see `common::bytes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    /// Always [`KIND`].
    pub kind: String,
    /// The node name.
    pub host: Option<String>,
    /// The key within the area: `net.ipv4.ip_forward`, a path, a profile,
    /// `FAMILY TABLE/CHAIN/POSITION`, an sshd keyword.
    pub name: Value,
    /// The value as the owning tool prints it; null where it cannot be read.
    pub value: Value,
    /// Why `value` is null (no such tool, no live system, not readable),
    /// null otherwise.
    pub reason: Option<String>,
    /// The area and what it adds.
    #[serde(flatten)]
    pub detail: Detail,
}

impl Setting {
    /// A setting of `detail`'s area.
    pub fn new(host: Option<String>, name: Value, value: Value, detail: Detail) -> Self {
        Setting {
            kind: KIND.to_owned(),
            host,
            name,
            value,
            reason: None,
            detail,
        }
    }

    /// The same with a reason why the value is null.
    pub fn because(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// The area's name (`sysctl`, `file`, ...).
    pub fn area(&self) -> &'static str {
        self.detail.area()
    }
}

/// The area of a setting (the `"area"` field) with its own fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "area", rename_all = "lowercase")]
pub enum Detail {
    /// A kernel parameter under /proc/sys, named as `sysctl -a` names it.
    Sysctl {
        /// The value the next boot applies (sysctl.d), null when none is
        /// configured.
        configured: Option<String>,
        /// The file that configures it.
        configured_file: Option<Value>,
        /// Its line in that file (1-based).
        configured_line: Option<u64>,
        /// The running value differs from the configured one (compared
        /// field by field, blanks between fields not counted); null when
        /// either is unknown.
        differs: Option<bool>,
    },
    /// A file that grants privilege: setuid, setgid or file capabilities.
    File {
        /// Permission bits as an octal string (`4755`).
        mode: Option<String>,
        uid: Option<u32>,
        gid: Option<u32>,
        user: Option<String>,
        group: Option<String>,
        setuid: bool,
        setgid: bool,
        /// `security.capability` as `getcap` prints it (`cap_net_raw=ep`).
        capabilities: Option<String>,
        /// The dpkg package that owns the path.
        package: Option<String>,
    },
    /// Mandatory access control: the active modules, SELinux, AppArmor.
    Lsm {
        /// `selinux`, `apparmor`, or null for the list of active modules.
        module: Option<String>,
    },
    /// A firewall rule or chain.
    Firewall {
        /// `nftables` or `iptables-legacy`.
        tool: String,
        family: Option<String>,
        table: Option<String>,
        chain: Option<String>,
        /// The rule's place in its chain (1-based); null for a chain.
        position: Option<u64>,
        /// The rule's statements as the tool's own JSON has them.
        expr: Option<Value>,
    },
    /// One keyword of the effective ssh daemon configuration.
    Sshd {
        /// `sshd -T` on a live system; the configuration files under
        /// `--root` (includes followed, defaults not filled in).
        source: String,
        /// The file and line under `--root`, null from `sshd -T`.
        configured_file: Option<Value>,
        configured_line: Option<u64>,
    },
}

impl Detail {
    /// The area's name.
    pub fn area(&self) -> &'static str {
        match self {
            Detail::Sysctl { .. } => "sysctl",
            Detail::File { .. } => "file",
            Detail::Lsm { .. } => "lsm",
            Detail::Firewall { .. } => "firewall",
            Detail::Sshd { .. } => "sshd",
        }
    }
}

/// Every area, in the order sec-snap writes them.
pub const AREAS: [&str; 5] = ["sysctl", "file", "lsm", "firewall", "sshd"];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn area_is_the_tag_and_round_trips() {
        let s = Setting::new(
            Some("web1".into()),
            json!("net.ipv4.ip_forward"),
            json!("1"),
            Detail::Sysctl {
                configured: Some("0".into()),
                configured_file: Some(json!("/etc/sysctl.d/99-sysctl.conf")),
                configured_line: Some(3),
                differs: Some(true),
            },
        );
        let v = serde_json::to_value(&s).expect("serialize");
        assert_eq!(v["kind"], "setting");
        assert_eq!(v["area"], "sysctl");
        assert_eq!(v["reason"], Value::Null);
        assert_eq!(v["differs"], true);
        let back: Setting = serde_json::from_value(v).expect("deserialize");
        assert_eq!(back, s);
        assert_eq!(back.area(), "sysctl");
    }

    #[test]
    fn keys_are_common_then_area_fields_in_order() {
        let details = [
            Detail::Sysctl {
                configured: None,
                configured_file: None,
                configured_line: None,
                differs: None,
            },
            Detail::File {
                mode: None,
                uid: None,
                gid: None,
                user: None,
                group: None,
                setuid: false,
                setgid: false,
                capabilities: None,
                package: None,
            },
            Detail::Lsm { module: None },
            Detail::Firewall {
                tool: "nftables".into(),
                family: None,
                table: None,
                chain: None,
                position: None,
                expr: None,
            },
            Detail::Sshd {
                source: "sshd -T".into(),
                configured_file: None,
                configured_line: None,
            },
        ];
        let mut all: Vec<&str> = Vec::new();
        for (d, area) in details.into_iter().zip(AREAS) {
            let v = serde_json::to_value(Setting::new(None, json!("n"), json!(1), d))
                .expect("serialize");
            let mut want: Vec<&str> = COMMON_FIELDS.to_vec();
            want.extend(area_fields(area).unwrap_or_default());
            assert_eq!(crate::records::tests::keys_of(&v), want, "{area}");
            for k in want {
                if !all.contains(&k) {
                    all.push(k);
                }
            }
        }
        assert_eq!(all, FIELDS);
    }

    #[test]
    fn file_fields_are_all_written() {
        let s = Setting::new(
            None,
            json!([47, 255]),
            json!("-rwsr-xr-x"),
            Detail::File {
                mode: Some("4755".into()),
                uid: Some(0),
                gid: Some(0),
                user: None,
                group: None,
                setuid: true,
                setgid: false,
                capabilities: None,
                package: None,
            },
        );
        let v = serde_json::to_value(&s).expect("serialize");
        for f in [
            "mode",
            "uid",
            "gid",
            "user",
            "group",
            "setuid",
            "setgid",
            "capabilities",
            "package",
        ] {
            assert!(v.get(f).is_some(), "{f} missing in {v}");
        }
        assert_eq!(v["area"], "file");
    }
}
