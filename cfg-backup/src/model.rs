//! The `file` record: one saved path with its type, mode, owner, size,
//! mtime, content hash and symlink target. The same record describes a path
//! in a backup (read back from a manifest, and validated there: a manifest is
//! input like any other) and the path as it is now (for `diff`).

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;

use common::bytes::{display, value_bytes};
use common::names::Names;
use common::records::file;
use common::time::{parse_rfc3339, rfc3339};
use serde_json::{Map, Value};

/// What a path is. Special files (devices, fifos, sockets) are never saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FType {
    File,
    Dir,
    Symlink,
}

impl FType {
    pub fn name(self) -> &'static str {
        match self {
            FType::File => "file",
            FType::Dir => "dir",
            FType::Symlink => "symlink",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "file" => Some(FType::File),
            "dir" => Some(FType::Dir),
            "symlink" => Some(FType::Symlink),
            _ => None,
        }
    }

    /// The `type` of a `file` record.
    pub fn record_type(self) -> file::FileType {
        match self {
            FType::File => file::FileType::File,
            FType::Dir => file::FileType::Dir,
            FType::Symlink => file::FileType::Symlink,
        }
    }

    /// The type of an lstat result; `None` for special files.
    pub fn of(md: &Metadata) -> Option<Self> {
        let ft = md.file_type();
        if ft.is_symlink() {
            Some(FType::Symlink)
        } else if ft.is_dir() {
            Some(FType::Dir)
        } else if ft.is_file() {
            Some(FType::File)
        } else {
            None
        }
    }
}

/// One path of a backup, or of the system now.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// System path (absolute, normalized), raw bytes.
    pub path: Vec<u8>,
    pub ftype: FType,
    /// Permission bits including setuid/setgid/sticky (`& 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub user: Option<String>,
    pub group: Option<String>,
    /// Bytes of a file, length of a symlink's target; `None` for a
    /// directory (its size is a file-system detail, not configuration).
    pub size: Option<u64>,
    pub mtime: Option<(i64, u32)>,
    /// SHA-256 of a regular file's content (lower-case hex).
    pub sha256: Option<String>,
    /// A symlink's target, raw bytes.
    pub target: Option<Vec<u8>>,
    pub package: Option<String>,
    /// Differs from what the package shipped; `None` when unknown.
    pub modified: Option<bool>,
    /// Why the path was saved: `path`, `dpkg`, `dpkg-obsolete`,
    /// `dpkg-remove-on-upgrade`, `ucf`, `rpm`, `restore`.
    pub origin: Option<String>,
}

/// The fields `diff` compares. `mtime` is left out on purpose: editors,
/// package managers and `touch` change it without changing configuration.
pub const COMPARED: [&str; 9] = [
    "type", "mode", "uid", "gid", "user", "group", "size", "sha256", "target",
];

impl Entry {
    /// An entry from lstat/fstat metadata (no hash yet).
    pub fn from_metadata(path: Vec<u8>, ftype: FType, md: &Metadata, names: &mut Names) -> Self {
        Entry {
            path,
            ftype,
            mode: md.mode() & 0o7777,
            uid: md.uid(),
            gid: md.gid(),
            user: names.user(md.uid()),
            group: names.group(md.gid()),
            size: match ftype {
                FType::Dir => None,
                _ => Some(md.size()),
            },
            mtime: representable_mtime(md.mtime(), md.mtime_nsec()),
            sha256: None,
            target: None,
            package: None,
            modified: None,
            origin: None,
        }
    }

    /// The `file` record; `backup` is the ID it belongs to (`None` for the
    /// current state of a path).
    pub fn to_record(&self, backup: Option<&str>) -> file::File {
        file::File {
            kind: file::KIND.to_owned(),
            backup: backup.map(str::to_owned),
            path: self.path.clone(),
            file_type: self.ftype.record_type(),
            mode: mode_string(self.mode),
            uid: self.uid,
            gid: self.gid,
            user: self.user.clone(),
            group: self.group.clone(),
            size: self.size,
            mtime: self.mtime.map(|(s, n)| rfc3339(s, n)),
            sha256: self.sha256.clone(),
            target: self.target.clone(),
            package: self.package.clone(),
            modified: self.modified,
            origin: self.origin.clone(),
        }
    }

    /// The `file` record as a JSON value (inside `change` records).
    pub fn to_value(&self, backup: Option<&str>) -> Value {
        // A record of strings, numbers and byte arrays always serializes.
        serde_json::to_value(self.to_record(backup)).unwrap_or(Value::Null)
    }

    /// The path for messages.
    pub fn shown(&self) -> String {
        display(&self.path)
    }

    /// Names of the compared fields that differ between two entries.
    pub fn differing(&self, other: &Entry) -> Vec<&'static str> {
        let mut out = Vec::new();
        let checks = [
            self.ftype != other.ftype,
            self.mode != other.mode,
            self.uid != other.uid,
            self.gid != other.gid,
            self.user != other.user,
            self.group != other.group,
            self.size != other.size,
            self.sha256 != other.sha256,
            self.target != other.target,
        ];
        for (name, differs) in COMPARED.iter().zip(checks) {
            if differs {
                out.push(*name);
            }
        }
        out
    }

    /// Read a `file` record of backup `id`, refusing anything a restore
    /// could be tricked with. The error is the reason only; the caller adds
    /// `FILE:LINE:`.
    pub fn from_record(rec: &Map<String, Value>, id: &str) -> Result<Entry, String> {
        let get = |k: &str| rec.get(k).unwrap_or(&Value::Null);
        if get("kind") != "file" {
            return Err(format!(
                "expected a `file` record, found kind {}",
                get("kind")
            ));
        }
        if get("backup").as_str() != Some(id) {
            return Err(format!(
                "record belongs to backup {}, not {id}",
                get("backup")
            ));
        }
        let path = value_bytes(get("path"))
            .ok_or_else(|| "`path` is not a string or byte array".to_owned())?;
        check_path(&path).map_err(|why| format!("path {}: {why}", get("path")))?;
        let ftype = get("type")
            .as_str()
            .and_then(FType::parse)
            .ok_or_else(|| format!("unknown `type` {}", get("type")))?;
        let mode = get("mode").as_str().and_then(parse_mode).ok_or_else(|| {
            format!(
                "`mode` {} is not an octal string like \"0644\"",
                get("mode")
            )
        })?;
        let id_field = |k: &str| -> Result<u32, String> {
            get(k)
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| format!("`{k}` {} is not a numeric id", get(k)))
        };
        let (uid, gid) = (id_field("uid")?, id_field("gid")?);
        let opt_str = |k: &str| -> Result<Option<String>, String> {
            match get(k) {
                Value::Null => Ok(None),
                Value::String(s) => Ok(Some(s.clone())),
                other => Err(format!("`{k}` {other} is not a string or null")),
            }
        };
        let size = match get("size") {
            Value::Null => None,
            v => Some(
                v.as_u64()
                    .ok_or_else(|| format!("`size` {v} is not a byte count"))?,
            ),
        };
        let mtime = match get("mtime") {
            Value::Null => None,
            v => Some(
                v.as_str()
                    .and_then(parse_rfc3339)
                    .ok_or_else(|| format!("`mtime` {v} is not an RFC 3339 time"))?,
            ),
        };
        let sha256 = match (ftype, get("sha256")) {
            (FType::File, Value::String(h)) if is_sha256(h) => Some(h.clone()),
            (FType::File, v) => {
                return Err(format!(
                    "`sha256` {v} is not 64 lower-case hex digits (a blob name must be a hash)"
                ))
            }
            (_, Value::Null) => None,
            (t, v) => return Err(format!("`sha256` {v} on a {}", t.name())),
        };
        if ftype == FType::File && size.is_none() {
            return Err("a file without `size`".to_owned());
        }
        let target = match (ftype, get("target")) {
            (FType::Symlink, v) => {
                let t = value_bytes(v)
                    .filter(|t| !t.is_empty() && !t.contains(&0))
                    .ok_or_else(|| format!("symlink `target` {v} is empty or not a path"))?;
                Some(t)
            }
            (_, Value::Null) => None,
            (t, v) => return Err(format!("`target` {v} on a {}", t.name())),
        };
        let modified = match get("modified") {
            Value::Null => None,
            Value::Bool(b) => Some(*b),
            v => return Err(format!("`modified` {v} is not true, false or null")),
        };
        Ok(Entry {
            path,
            ftype,
            mode,
            uid,
            gid,
            user: opt_str("user")?,
            group: opt_str("group")?,
            size,
            mtime,
            sha256,
            target,
            package: opt_str("package")?,
            modified,
            origin: opt_str("origin")?,
        })
    }
}

/// An mtime as the manifest can hold it: RFC 3339 has four-digit years,
/// and tmpfs or btrfs keep times far outside them (`touch -d @-99999999999`).
/// Such a time is `null` rather than a manifest that cannot be read back.
pub fn representable_mtime(secs: i64, nsec: i64) -> Option<(i64, u32)> {
    // 0000-01-01T00:00:00Z ..= 9999-12-31T23:59:59Z
    const FIRST: i64 = -62_167_219_200;
    const LAST: i64 = 253_402_300_799;
    (FIRST..=LAST)
        .contains(&secs)
        .then(|| (secs, nsec.clamp(0, 999_999_999) as u32))
}

/// `0644`-style mode string (four digits, so setuid bits show).
pub fn mode_string(mode: u32) -> String {
    format!("{:04o}", mode & 0o7777)
}

/// The inverse of [`mode_string`]; 3 or 4 octal digits.
pub fn parse_mode(s: &str) -> Option<u32> {
    if !(3..=4).contains(&s.len()) || !s.bytes().all(|c| (b'0'..=b'7').contains(&c)) {
        return None;
    }
    u32::from_str_radix(s, 8).ok()
}

/// 64 lower-case hex digits.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// A system path a backup may hold: absolute, normalized (no empty, `.`
/// or `..` component, no trailing slash), no NUL, not `/` itself.
pub fn check_path(p: &[u8]) -> Result<(), &'static str> {
    if p.first() != Some(&b'/') {
        return Err("is not absolute");
    }
    if p.len() == 1 {
        return Err("is the root directory itself");
    }
    if p.contains(&0) {
        return Err("contains a NUL byte");
    }
    for comp in p[1..].split(|&c| c == b'/') {
        match comp {
            b"" => return Err("is not normalized (empty component or trailing slash)"),
            b"." => return Err("has a `.` component"),
            b".." => return Err("has a `..` component"),
            _ => {}
        }
    }
    Ok(())
}

/// Lexically normalize an absolute path given on the command line: drop
/// `.` and empty components. `..` is refused rather than guessed at (a
/// symlink makes `a/b/..` something other than `a`).
pub fn normalize(p: &[u8]) -> Result<Vec<u8>, &'static str> {
    if p.first() != Some(&b'/') {
        return Err("is not absolute");
    }
    let mut out = Vec::with_capacity(p.len());
    for comp in p.split(|&c| c == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => return Err("has a `..` component; give the path without it"),
            c => {
                out.push(b'/');
                out.extend_from_slice(c);
            }
        }
    }
    if out.is_empty() {
        return Err("is the root directory itself; name the directories to save");
    }
    Ok(out)
}

/// True when `p` is `base` or lies under it.
pub fn is_under(p: &[u8], base: &[u8]) -> bool {
    p == base || (p.starts_with(base) && p.get(base.len()) == Some(&b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Entry {
        Entry {
            path: b"/etc/ssh/sshd_config".to_vec(),
            ftype: FType::File,
            mode: 0o644,
            uid: 0,
            gid: 0,
            user: Some("root".into()),
            group: Some("root".into()),
            size: Some(3),
            mtime: Some((1_795_676_400, 5)),
            sha256: Some("a".repeat(64)),
            target: None,
            package: Some("openssh-server".into()),
            modified: Some(true),
            origin: Some("ucf".into()),
        }
    }

    fn as_map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn record_round_trips() {
        let e = sample();
        let v = e.to_value(Some("20261126-070000"));
        assert_eq!(v["mode"], "0644");
        assert_eq!(v["mtime"], "2026-11-26T07:00:00.000000005Z");
        let back = Entry::from_record(&as_map(v), "20261126-070000").expect("valid");
        assert_eq!(back, e);
    }

    #[test]
    fn non_utf8_paths_round_trip() {
        let mut e = sample();
        e.path = b"/etc/caf\xe9".to_vec();
        e.ftype = FType::Symlink;
        e.sha256 = None;
        e.target = Some(b"../x\xff".to_vec());
        let v = e.to_value(Some("b"));
        assert!(v["path"].is_array());
        assert_eq!(Entry::from_record(&as_map(v), "b").expect("valid"), e);
    }

    #[test]
    fn tampered_records_are_refused() {
        let base = as_map(sample().to_value(Some("b")));
        for (field, value, why) in [
            ("path", json!("/etc/../shadow"), "`..`"),
            ("path", json!("etc/x"), "not absolute"),
            ("path", json!("/etc//x"), "normalized"),
            ("path", json!("/etc/./x"), "`.`"),
            ("path", json!("/"), "root directory"),
            ("path", json!([47, 0, 120]), "NUL"),
            ("sha256", json!("../../etc/shadow"), "hex"),
            ("sha256", json!("A".repeat(64)), "hex"),
            ("type", json!("fifo"), "type"),
            ("mode", json!("rwx"), "octal"),
            ("uid", json!(-1), "uid"),
            ("backup", json!("other"), "belongs"),
        ] {
            let mut r = base.clone();
            r.insert(field.into(), value);
            let e = Entry::from_record(&r, "b").expect_err(field);
            assert!(e.contains(why), "{field}: {e}");
        }
    }

    #[test]
    fn mtimes_outside_four_digit_years_are_null_and_the_rest_round_trip() {
        assert_eq!(representable_mtime(-99_999_999_999, 0), None);
        assert_eq!(representable_mtime(999_999_999_999, 0), None);
        for (secs, nanos) in [
            (-62_167_219_200, 0),
            (253_402_300_799, 999_999_999),
            (-1, 5),
            (1_795_676_400, 5),
        ] {
            assert_eq!(
                representable_mtime(secs, i64::from(nanos)),
                Some((secs, nanos))
            );
            let mut e = sample();
            e.mtime = Some((secs, nanos));
            let v = e.to_value(Some("b"));
            assert_eq!(
                Entry::from_record(&as_map(v), "b").expect("readable").mtime,
                Some((secs, nanos))
            );
        }
    }

    #[test]
    fn mtime_alone_is_no_difference() {
        let a = sample();
        let mut b = sample();
        b.mtime = Some((0, 0));
        assert!(a.differing(&b).is_empty());
        b.mode = 0o600;
        b.sha256 = Some("b".repeat(64));
        assert_eq!(a.differing(&b), vec!["mode", "sha256"]);
    }

    #[test]
    fn normalize_and_under() {
        assert_eq!(normalize(b"/etc//ssh/./").expect("ok"), b"/etc/ssh");
        assert!(normalize(b"/etc/../x").is_err());
        assert!(normalize(b"/").is_err());
        assert!(is_under(b"/etc/ssh/x", b"/etc/ssh"));
        assert!(is_under(b"/etc/ssh", b"/etc/ssh"));
        assert!(!is_under(b"/etc/sshd", b"/etc/ssh"));
        assert_eq!(parse_mode("4755"), Some(0o4755));
        assert_eq!(parse_mode("0800"), None);
    }
}
