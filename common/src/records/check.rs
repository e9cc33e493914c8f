//! `check` records (boot-check): one finding about the next boot: the
//! default entry, a file it names, an installed or running kernel, the room
//! in /boot. `cfg-backup verify` writes `check` records too, with fields of
//! its own (`backup`, `sha256`): [`StoreCheck`].

use serde::{Deserialize, Serialize};

use super::lossless;

/// The value of `"kind"`.
pub const KIND: &str = "check";
/// The fields in the order boot-check writes them; every record has all.
pub const FIELDS: &[&str] = &[
    "kind",
    "host",
    "check",
    "status",
    "subject",
    "message",
    "loader",
    "file",
    "line",
    "entry",
    "kernel",
    "path",
    "options",
    "running_kernel",
    "default_kernel",
    "free_bytes",
    "needed_bytes",
];

/// How a check came out, from good to bad (the order sorts a report's
/// problems worst first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Nothing to check here (no separate /boot, a `--root` without a
    /// running kernel).
    Skip,
    Warn,
    Fail,
}

impl Status {
    /// The name written in the record.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Skip => "skip",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One check as `man 5 snap-records` documents it. Paths are system paths
/// (under `--root DIR` without the DIR) in the lossless encoding of
/// [`crate::bytes`]: a string when UTF-8, else an array of the raw bytes.
/// A field that does not apply is `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// Always [`KIND`].
    pub kind: String,
    /// The node name.
    pub host: Option<String>,
    /// A stable id such as `default-entry-kernel`.
    pub check: String,
    pub status: Status,
    /// What the check is about: an entry title, a file, a kernel version.
    pub subject: String,
    /// One sentence saying what was found and, for warn and fail, the fix.
    pub message: String,
    /// `grub2`, `grub-legacy`, `extlinux` or `systemd-boot`.
    pub loader: Option<String>,
    /// The configuration file the finding is in.
    #[serde(with = "lossless::opt_bytes")]
    pub file: Option<Vec<u8>>,
    /// Its 1-based line.
    pub line: Option<u64>,
    /// The boot entry's full title (submenus joined with ` > `).
    pub entry: Option<String>,
    /// The kernel version concerned.
    pub kernel: Option<String>,
    /// The kernel, initrd, modules directory or file checked.
    #[serde(with = "lossless::opt_bytes")]
    pub path: Option<Vec<u8>>,
    /// The entry's kernel command line after variable expansion.
    pub options: Option<String>,
    /// The running kernel release.
    pub running_kernel: Option<String>,
    /// The release the next boot starts.
    pub default_kernel: Option<String>,
    /// Room on the /boot file system.
    pub free_bytes: Option<u64>,
    /// What another kernel needs there.
    pub needed_bytes: Option<u64>,
}

impl Check {
    /// A record of check `check` with every optional field `null`.
    pub fn new(
        host: Option<String>,
        check: String,
        status: Status,
        subject: String,
        message: String,
    ) -> Self {
        Check {
            kind: KIND.to_owned(),
            host,
            check,
            status,
            subject,
            message,
            loader: None,
            file: None,
            line: None,
            entry: None,
            kernel: None,
            path: None,
            options: None,
            running_kernel: None,
            default_kernel: None,
            free_bytes: None,
            needed_bytes: None,
        }
    }
}

/// The fields of `cfg-backup verify`'s check records, in the order written.
pub const STORE_FIELDS: &[&str] = &[
    "kind", "check", "status", "subject", "message", "backup", "path", "sha256",
];

/// One finding of `cfg-backup verify` about its store: a backup, a
/// manifest, a stored content (blob), the store's permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreCheck {
    /// Always [`KIND`].
    pub kind: String,
    /// `backup`, `manifest`, `blob`, `store-private` or `orphan-blobs`.
    pub check: String,
    /// `ok` or `fail`.
    pub status: Status,
    /// The backup ID, the path (for a blob) or the store directory.
    pub subject: String,
    /// What was found, in one sentence.
    pub message: String,
    /// The backup ID.
    pub backup: Option<String>,
    /// For a blob check, the file whose content it is.
    #[serde(with = "lossless::opt_bytes")]
    pub path: Option<Vec<u8>>,
    /// The content's digest, for a blob check.
    pub sha256: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: &serde_json::Value) -> Vec<&str> {
        v.as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    #[test]
    fn fields_in_order_and_a_full_record_round_trips() {
        let mut c = Check::new(
            Some("vm".into()),
            "default-entry-kernel".into(),
            Status::Fail,
            "Debian GNU/Linux".into(),
            "/boot/vmlinuz-6.1 is missing".into(),
        );
        let v = serde_json::to_value(&c).unwrap_or_default();
        assert_eq!(keys(&v), FIELDS);
        assert!(v["path"].is_null() && v["free_bytes"].is_null(), "{v}");
        c.loader = Some("grub2".into());
        c.file = Some(b"/boot/grub/grub.cfg".to_vec());
        c.line = Some(12);
        c.entry = Some("Advanced options > Debian".into());
        c.kernel = Some("6.1.0-15-amd64".into());
        c.path = Some(b"/boot/vmlinuz-\xff".to_vec());
        c.options = Some("root=UUID=u ro quiet".into());
        c.running_kernel = Some("6.1.0-13-amd64".into());
        c.default_kernel = Some("6.1.0-15-amd64".into());
        c.free_bytes = Some(1 << 30);
        c.needed_bytes = Some(0);
        let s = serde_json::to_string(&c).unwrap_or_default();
        assert!(
            s.starts_with(
                r#"{"kind":"check","host":"vm","check":"default-entry-kernel","status":"fail","#
            ),
            "{s}"
        );
        // A path that is not UTF-8 is its bytes.
        assert!(s.contains(r#""path":[47,98,"#), "{s}");
        let v: serde_json::Value = serde_json::from_str(&s).unwrap_or_default();
        assert_eq!(keys(&v), FIELDS);
        let back: Option<Check> = serde_json::from_str(&s).ok();
        assert_eq!(back, Some(c));
    }

    #[test]
    fn statuses_and_unknown_fields() {
        for (st, name) in [
            (Status::Ok, "ok"),
            (Status::Skip, "skip"),
            (Status::Warn, "warn"),
            (Status::Fail, "fail"),
        ] {
            assert_eq!(serde_json::to_value(st).ok(), Some(name.into()));
            assert_eq!(st.name(), name);
        }
        assert!(Status::Ok < Status::Skip && Status::Warn < Status::Fail);
        let c = Check::new(None, "grubenv".into(), Status::Ok, "s".into(), "m".into());
        let mut v = serde_json::to_value(&c).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("backup".into(), "x".into());
        }
        assert!(serde_json::from_value::<Check>(v).is_err());
        let bad = r#"{"kind":"check","host":null,"check":"x","status":"maybe"}"#;
        assert!(serde_json::from_str::<Check>(bad).is_err());
    }

    #[test]
    fn a_store_check_round_trips_with_its_fields_in_order() {
        let c = StoreCheck {
            kind: KIND.into(),
            check: "blob".into(),
            status: Status::Fail,
            subject: "/etc/caf\u{e9}".into(),
            message: "missing".into(),
            backup: Some("20261206T050000Z".into()),
            path: Some(b"/etc/caf\xe9".to_vec()),
            sha256: None,
        };
        let line = serde_json::to_string(&c).expect("serialize");
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        let keys = crate::records::tests::keys_of(&v);
        assert_eq!(keys, STORE_FIELDS);
        assert_eq!(
            v["path"],
            serde_json::json!([47, 101, 116, 99, 47, 99, 97, 102, 233])
        );
        let back: StoreCheck = serde_json::from_str(&line).expect("read back");
        assert_eq!(back, c);
        assert!(serde_json::from_str::<StoreCheck>(&line.replacen('}', r#","x":1}"#, 1)).is_err());
    }
}
