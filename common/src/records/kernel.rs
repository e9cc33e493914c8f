//! `kernel` records (ps-snap `--deleted`): the running kernel is old code,
//! older than the one the boot loader starts next or removed from disk.

use serde::{Deserialize, Serialize};

use super::process::Restart;

/// The value of `"kind"`.
pub const KIND: &str = "kernel";

/// The field names, each spelled once.
pub mod field {
    pub const KIND: &str = "kind";
    pub const HOST: &str = "host";
    pub const BOOT_ID: &str = "boot_id";
    pub const RUNNING: &str = "running";
    pub const NEXT_BOOT: &str = "next_boot";
    pub const OLDER: &str = "older";
    pub const REMOVED: &str = "removed";
    pub const RESTART: &str = "restart";
}

use field as f;

/// The top-level fields in the order ps-snap writes them.
pub const FIELDS: &[&str] = &[
    f::KIND,
    f::HOST,
    f::BOOT_ID,
    f::RUNNING,
    f::NEXT_BOOT,
    f::OLDER,
    f::REMOVED,
    f::RESTART,
];

/// A running kernel that a reboot would replace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kernel {
    /// Always [`KIND`].
    pub kind: String,
    pub host: Option<String>,
    pub boot_id: Option<String>,
    /// `uname -r`.
    pub running: String,
    /// The release of the entry that boots next, when known.
    pub next_boot: Option<String>,
    /// The next boot starts a newer kernel.
    pub older: bool,
    /// The running kernel's modules directory is gone.
    pub removed: bool,
    /// `{"by": "reboot", "name": RUNNING, "pid": null, "command": ["reboot"]}`.
    pub restart: Restart,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::Bytes;
    use crate::records::tests::keys_of;

    #[test]
    fn keys_are_fields_in_order_and_round_trip() {
        let k = Kernel {
            kind: KIND.into(),
            host: Some("web1".into()),
            boot_id: None,
            running: "6.1.0-25-amd64".into(),
            next_boot: Some("6.1.0-28-amd64".into()),
            older: true,
            removed: false,
            restart: Restart {
                by: "reboot".into(),
                name: Bytes::from("6.1.0-25-amd64"),
                pid: None,
                command: Some(vec![Bytes::from("reboot"), Bytes::from(&b"\xff"[..])]),
            },
        };
        let v = serde_json::to_value(&k).expect("serialize");
        assert_eq!(keys_of(&v), FIELDS);
        let text = serde_json::to_string(&k).expect("serialize");
        let back: Kernel = serde_json::from_str(&text).expect("deserialize");
        assert_eq!(back, k);
        assert_eq!(serde_json::to_string(&back).expect("again"), text);
        let mut v = v;
        v["extra"] = 1.into();
        assert!(serde_json::from_value::<Kernel>(v).is_err());
    }
}
