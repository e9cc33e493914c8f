//! `file` records (cfg-backup): one saved path, or a path as it is now.
//! `cfg-backup restore` writes the same record followed by what it did
//! ([`Restored`]).

use serde::{Deserialize, Serialize};

use super::lossless;

/// The value of `"kind"`.
pub const KIND: &str = "file";

/// The top-level fields in the order cfg-backup writes them.
pub const FIELDS: &[&str] = &[
    "kind", "backup", "path", "type", "mode", "uid", "gid", "user", "group", "size", "mtime",
    "sha256", "target", "package", "modified", "origin",
];

/// The fields a restore adds after [`FIELDS`].
pub const RESTORE_FIELDS: &[&str] = &["action", "dry_run", "to"];

/// What a path is. Special files (devices, fifos, sockets) are never saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileType {
    File,
    Dir,
    Symlink,
}

/// One path as `man 5 snap-records` documents it. Paths and symlink
/// targets are raw bytes, in the lossless encoding of [`crate::bytes`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    /// Always [`KIND`].
    pub kind: String,
    /// The backup ID; `None` for the state of a path now.
    pub backup: Option<String>,
    /// The absolute system path.
    #[serde(with = "lossless::bytes")]
    pub path: Vec<u8>,
    #[serde(rename = "type")]
    pub file_type: FileType,
    /// Four octal digits, set-id and sticky bits included (`"0644"`).
    pub mode: String,
    pub uid: u32,
    pub gid: u32,
    pub user: Option<String>,
    pub group: Option<String>,
    /// Bytes of a file, length of a symlink's target; `None` for a
    /// directory.
    pub size: Option<u64>,
    /// RFC 3339 UTC with nanoseconds; `None` outside the years 0000-9999.
    pub mtime: Option<String>,
    /// 64 lower-case hex digits: the content's blob name.
    pub sha256: Option<String>,
    /// A symlink's target.
    #[serde(with = "lossless::opt_bytes")]
    pub target: Option<Vec<u8>>,
    /// The package the file was saved for.
    pub package: Option<String>,
    /// Differs from what the package shipped; `None` when unknown.
    pub modified: Option<bool>,
    /// Why the path was saved: `path`, `dpkg`, `ucf`, `rpm`, `restore`, ...
    pub origin: Option<String>,
}

/// A line of `cfg-backup restore`: the path and what was (or, with
/// `dry_run`, would be) done to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Restored {
    #[serde(flatten)]
    pub file: File,
    /// `create`, `replace`, `touch`, `unchanged` or `remove`.
    pub action: String,
    pub dry_run: bool,
    /// The real path written (under `--root` or `--to`).
    #[serde(with = "lossless::opt_bytes")]
    pub to: Option<Vec<u8>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> File {
        File {
            kind: KIND.to_owned(),
            backup: Some("20261126-070000".into()),
            path: b"/etc/caf\xe9/x".to_vec(),
            file_type: FileType::Symlink,
            mode: "0777".into(),
            uid: 0,
            gid: 0,
            user: Some("root".into()),
            group: None,
            size: Some(5),
            mtime: Some("2026-11-26T07:00:00.000000005Z".into()),
            sha256: None,
            target: Some(b"../\xff".to_vec()),
            package: None,
            modified: None,
            origin: Some("path".into()),
        }
    }

    fn keys(v: &serde_json::Value) -> Vec<String> {
        v.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }

    #[test]
    fn fields_are_in_the_written_order_and_round_trip_non_utf8_bytes() {
        let f = sample();
        let line = serde_json::to_string(&f).expect("serialize");
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(keys(&v), FIELDS);
        assert_eq!(v["type"], "symlink");
        assert_eq!(
            v["path"],
            json!([47, 101, 116, 99, 47, 99, 97, 102, 233, 47, 120])
        );
        assert_eq!(v["target"], json!([46, 46, 47, 255]));
        let back: File = serde_json::from_str(&line).expect("deserialize");
        assert_eq!(back, f);
        let utf8 = File {
            path: b"/etc/ssh/sshd_config".to_vec(),
            target: None,
            ..sample()
        };
        let v = serde_json::to_value(&utf8).expect("serialize");
        assert_eq!(v["path"], "/etc/ssh/sshd_config");
        assert!(v["target"].is_null());
        assert_eq!(serde_json::from_value::<File>(v).expect("back"), utf8);
    }

    #[test]
    fn unknown_fields_and_types_are_refused() {
        let mut v = serde_json::to_value(sample()).expect("serialize");
        v["extra"] = json!(1);
        assert!(serde_json::from_value::<File>(v).is_err());
        let mut v = serde_json::to_value(sample()).expect("serialize");
        v["type"] = json!("fifo");
        assert!(serde_json::from_value::<File>(v).is_err());
    }

    #[test]
    fn a_restored_line_is_the_file_record_then_what_was_done() {
        let r = Restored {
            file: sample(),
            action: "create".into(),
            dry_run: true,
            to: Some(b"/mnt/etc/caf\xe9/x".to_vec()),
        };
        let v = serde_json::to_value(&r).expect("serialize");
        let want: Vec<&str> = FIELDS.iter().chain(RESTORE_FIELDS).copied().collect();
        assert_eq!(keys(&v), want);
        assert_eq!(serde_json::from_value::<Restored>(v).expect("back"), r);
    }
}
