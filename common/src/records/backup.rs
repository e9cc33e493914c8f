//! `backup` records (cfg-backup): the first line of each manifest, and
//! what `save` and `list` print.

use serde::{Deserialize, Serialize};

use super::lossless;

/// The value of `"kind"`.
pub const KIND: &str = "backup";

/// The top-level fields in the order cfg-backup writes them.
pub const FIELDS: &[&str] = &[
    "kind", "id", "created", "label", "undo_of", "host", "root", "paths", "packages", "files",
    "bytes", "skipped", "absent",
];

/// One backup as `man 5 snap-records` documents it. Paths are raw bytes in
/// the lossless encoding of [`crate::bytes`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// Always [`KIND`].
    pub kind: String,
    /// `YYYYMMDD-HHMMSS` in UTC, `-N` added when two backups share a second.
    pub id: String,
    /// RFC 3339 time the save started.
    pub created: String,
    pub label: Option<String>,
    /// For the backup a restore takes first: the ID it restored.
    pub undo_of: Option<String>,
    /// The node name.
    pub host: Option<String>,
    /// The `--root` or `--to` directory, absolute; `None`: the live system.
    #[serde(with = "lossless::opt_bytes")]
    pub root: Option<Vec<u8>>,
    /// The paths named on the command line (walked).
    #[serde(with = "lossless::bytes_list")]
    pub paths: Vec<Vec<u8>>,
    pub packages: Vec<SavedPackage>,
    /// How many `file` records follow.
    pub files: u64,
    /// The size of the regular files.
    pub bytes: u64,
    /// Paths left out with `--keep-going`.
    #[serde(with = "lossless::bytes_list")]
    pub skipped: Vec<Vec<u8>>,
    /// Package files that did not exist, or paths a restore created.
    #[serde(with = "lossless::bytes_list")]
    pub absent: Vec<Vec<u8>>,
}

/// A package a backup covers, at the version it had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedPackage {
    pub name: String,
    pub version: Option<String>,
    /// `dpkg` or `rpm`.
    pub manager: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Backup {
        Backup {
            kind: KIND.to_owned(),
            id: "20261126-070000-2".into(),
            created: "2026-11-26T07:00:00.5Z".into(),
            label: Some("before CVE fix".into()),
            undo_of: None,
            host: Some("web1".into()),
            root: Some(b"/mnt/\xff".to_vec()),
            paths: vec![b"/etc/ssh".to_vec(), b"/etc/caf\xe9".to_vec()],
            packages: vec![SavedPackage {
                name: "openssh-server".into(),
                version: Some("1:9.2p1-2+deb12u3".into()),
                manager: "dpkg".into(),
            }],
            files: 3,
            bytes: 1234,
            skipped: vec![],
            absent: vec![b"/etc/x\x80".to_vec()],
        }
    }

    #[test]
    fn fields_are_in_the_written_order_and_round_trip_non_utf8_bytes() {
        let b = sample();
        let line = serde_json::to_string(&b).expect("serialize");
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        let keys = crate::records::tests::keys_of(&v);
        assert_eq!(keys, FIELDS);
        assert_eq!(v["paths"][0], "/etc/ssh");
        assert_eq!(
            v["paths"][1],
            json!([47, 101, 116, 99, 47, 99, 97, 102, 233])
        );
        assert_eq!(
            v["packages"][0],
            json!({"name": "openssh-server", "version": "1:9.2p1-2+deb12u3", "manager": "dpkg"})
        );
        assert_eq!(serde_json::from_str::<Backup>(&line).expect("back"), b);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let mut v = serde_json::to_value(sample()).expect("serialize");
        v["packages"][0]["arch"] = json!("amd64");
        assert!(serde_json::from_value::<Backup>(v).is_err());
        let mut v = serde_json::to_value(sample()).expect("serialize");
        v["extra"] = json!(null);
        assert!(serde_json::from_value::<Backup>(v).is_err());
    }
}
