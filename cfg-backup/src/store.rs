//! The backup store.
//!
//! ```text
//! STORE/                      0700
//!   blobs/<sha256>            0400, one per distinct content, shared
//!   backups/<ID>.jsonl        0600, the manifest: a `backup` record, then
//!                             one `file` record per path
//! ```
//!
//! A save writes every blob first (each through a temporary file and a
//! rename, so a blob is whole or absent: `common::fsutil::TempFile`), makes
//! them durable with one `syncfs`, and only then publishes the manifest: written to a temporary
//! file, fsynced, hard-linked to its final name (the link fails if the name
//! is taken, so two saves in the same second never overwrite each other),
//! and the directory fsynced. A save killed at any point leaves a complete
//! backup or none; what it leaves behind are blobs no manifest names, which
//! are harmless.

use std::fs::{self, DirBuilder, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use common::fsutil::{self, TempFile};
use common::jsonl::Records;
use common::{Error, Result};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::model::{check_path, Entry};
use common::bytes::hex;
use md5::Md5;

/// Files up to this size are read into memory once (hash, compare, write);
/// larger ones are streamed.
pub const IN_MEMORY: u64 = 8 << 20;

/// Where backups live.
pub struct Store {
    dir: PathBuf,
    /// Blob names present (listed once, at the first write, plus those
    /// written since): a content not in it is written without first
    /// failing to open it, one syscall less per new blob.
    known: std::cell::RefCell<Option<std::collections::HashSet<String>>>,
}

/// One backup read back from its manifest, validated.
pub struct Backup {
    pub id: String,
    pub header: Map<String, Value>,
    /// The directories that were walked (for `diff` to find added files).
    pub walked: Vec<Vec<u8>>,
    /// Paths that were to be saved but did not exist (package files the
    /// admin deleted; for an undo backup, paths the restore created).
    pub absent: Vec<Vec<u8>>,
    pub entries: Vec<Entry>,
}

/// The store directory when `--store` and CFG_BACKUP_STORE are not given:
/// /var/backups/cfg-backup for root, the XDG state directory otherwise.
pub fn default_dir() -> Result<PathBuf> {
    if nix::unistd::geteuid().is_root() {
        return Ok(PathBuf::from("/var/backups/cfg-backup"));
    }
    if let Some(x) = std::env::var_os("XDG_STATE_HOME") {
        let x = PathBuf::from(x);
        if x.is_absolute() {
            return Ok(x.join("cfg-backup"));
        }
    }
    match std::env::var_os("HOME") {
        Some(h) if Path::new(&h).is_absolute() => {
            Ok(PathBuf::from(h).join(".local/state/cfg-backup"))
        }
        _ => Err(Error::new(
            "no store directory: HOME is not set; give --store DIR or set CFG_BACKUP_STORE",
        )),
    }
}

impl Store {
    /// The store at `dir`, created (mode 0700) when missing. Its
    /// directories are tightened to 0700: the store holds secrets. A
    /// directory that is neither a store nor empty is refused rather than
    /// chmodded (`--store /tmp` must not make /tmp private).
    pub fn create(dir: &Path) -> Result<Store> {
        let s = Store {
            dir: dir.to_path_buf(),
            known: Default::default(),
        };
        match fs::symlink_metadata(dir) {
            Ok(_) if s.backups().is_dir() => {}
            Ok(md) if md.file_type().is_symlink() || md.is_dir() => {
                let mut rd = fs::read_dir(dir).map_err(|e| Error::io(dir, &e))?;
                if rd.next().is_some() {
                    return Err(Error::new(format!(
                        "--store {}: exists and is not a cfg-backup store; name a new or empty directory",
                        dir.display()
                    )));
                }
            }
            Ok(_) => {
                return Err(Error::new(format!(
                    "--store {}: not a directory",
                    dir.display()
                )))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(dir, &e)),
        }
        for d in [s.dir.clone(), s.blobs(), s.backups()] {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&d)
                .map_err(|e| Error::io(&d, &e).context("creating the backup store"))?;
            let md = fs::metadata(&d).map_err(|e| Error::io(&d, &e))?;
            // Whoever owns a store directory can rename, swap or plant
            // what is in it (a symlink for a blob, a fifo): only ours is
            // written to.
            let me = nix::unistd::geteuid().as_raw();
            if std::os::unix::fs::MetadataExt::uid(&md) != me {
                return Err(Error::new(format!(
                    "--store {}: {} is owned by uid {}, not by uid {me}; a store must be private: name a directory of your own",
                    dir.display(),
                    d.display(),
                    std::os::unix::fs::MetadataExt::uid(&md)
                )));
            }
            if md.permissions().mode() & 0o777 != 0o700 {
                fs::set_permissions(&d, fs::Permissions::from_mode(0o700))
                    .map_err(|e| Error::io(&d, &e).context("making the store private"))?;
            }
        }
        Ok(s)
    }

    /// An existing store; `None` when there is none at `dir` yet.
    pub fn open(dir: &Path) -> Result<Option<Store>> {
        let s = Store {
            dir: dir.to_path_buf(),
            known: Default::default(),
        };
        match fs::metadata(s.backups()) {
            Ok(m) if m.is_dir() => Ok(Some(s)),
            Ok(_) => Err(Error::new(format!(
                "{}: not a cfg-backup store (backups is not a directory)",
                dir.display()
            ))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            // DIR itself is a file: name what the user typed, not DIR/backups.
            Err(e) if e.raw_os_error() == Some(nix::errno::Errno::ENOTDIR as i32) => Err(Error::new(format!(
                "{}: not a directory; --store (or CFG_BACKUP_STORE) names the directory that holds the backups",
                dir.display()
            ))),
            Err(e) => Err(Error::io(&s.backups(), &e)),
        }
    }

    /// An existing store, or an error that says how to get one.
    pub fn open_required(dir: &Path) -> Result<Store> {
        Store::open(dir)?.ok_or_else(|| {
            Error::new(format!(
                "{}: no backups here yet (`cfg-backup save` creates the store; --store DIR or CFG_BACKUP_STORE name another)",
                dir.display()
            ))
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Device and inode of the store directory, so a walk of a tree that
    /// contains the store (`save /var`) does not save the store into itself.
    pub fn identity(&self) -> Option<(u64, u64)> {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(&self.dir).ok().map(|m| (m.dev(), m.ino()))
    }

    fn blobs(&self) -> PathBuf {
        self.dir.join("blobs")
    }

    fn backups(&self) -> PathBuf {
        self.dir.join("backups")
    }

    /// The blob of a hash (the caller validated it).
    pub fn blob_path(&self, sha256: &str) -> PathBuf {
        self.blobs().join(sha256)
    }

    pub fn manifest_path(&self, id: &str) -> PathBuf {
        self.backups().join(format!("{id}.jsonl"))
    }

    /// Store `data` (whose SHA-256 is `sha256`) unless an identical blob is
    /// there already. A blob that exists with other content (bit rot,
    /// tampering) is replaced by the good copy. True when written.
    pub fn put_bytes(&self, sha256: &str, data: &[u8]) -> Result<bool> {
        let path = self.blob_path(sha256);
        if self.is_known(sha256)? {
            if let Ok(existing) = fs::read(&path) {
                if existing == data {
                    return Ok(false);
                }
            }
        }
        let mut t = self.temp_blob()?;
        t.file()
            .write_all(data)
            .map_err(|e| Error::io(t.path(), &e))?;
        t.rename_unsynced(&path)?;
        self.remember(sha256);
        Ok(true)
    }

    /// True when a blob of that name may exist. The listing is read once;
    /// a blob another save adds meanwhile is simply written again (same
    /// content, atomically renamed over).
    fn is_known(&self, sha256: &str) -> Result<bool> {
        let mut known = self.known.borrow_mut();
        if known.is_none() {
            *known = Some(self.blob_names()?.into_iter().collect());
        }
        Ok(known.as_ref().is_some_and(|k| k.contains(sha256)))
    }

    fn remember(&self, sha256: &str) {
        if let Some(k) = self.known.borrow_mut().as_mut() {
            k.insert(sha256.to_owned());
        }
    }

    /// Stream a large file into the store; its SHA-256, MD5 and byte
    /// count. The outer error is the store's (fatal), the inner one the
    /// source's (the caller may skip the file).
    pub fn put_stream(&self, src: &mut impl Read) -> Result<io::Result<(String, String, u64)>> {
        let mut t = self.temp_blob()?;
        let mut sha = Sha256::new();
        let mut md5 = Md5::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            let n = match src.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The temporary blob goes with `t`.
                Err(e) => return Ok(Err(e)),
            };
            sha.update(&buf[..n]);
            md5.update(&buf[..n]);
            t.file()
                .write_all(&buf[..n])
                .map_err(|e| Error::io(t.path(), &e))?;
            total += n as u64;
        }
        let (sha, md5) = (hex(&sha.finalize()), hex(&md5.finalize()));
        let path = self.blob_path(&sha);
        if fs::metadata(&path)
            .map(|m| m.len() == total)
            .unwrap_or(false)
        {
            drop(t);
        } else {
            t.rename_unsynced(&path)?;
            self.remember(&sha);
        }
        Ok(Ok((sha, md5, total)))
    }

    /// A new temporary blob: private, named with a leading dot (nothing
    /// mistakes a leftover for a blob), removed unless published. Blobs
    /// are renamed without an fsync each; [`Store::sync`] makes them
    /// durable at once.
    fn temp_blob(&self) -> Result<TempFile> {
        TempFile::new_in(&self.blobs(), "tmp", 0o400)
    }

    /// Make every blob written so far durable (one syncfs instead of an
    /// fsync per blob: a save of /etc writes thousands).
    pub fn sync(&self) -> Result<()> {
        fsutil::syncfs(&self.dir).map_err(|e| e.context("syncing the store"))
    }

    /// Publish a manifest under the first free ID from `base` (`base`,
    /// `base-2`, `base-3`, ...). `render` makes the manifest for an ID.
    pub fn commit_manifest(
        &self,
        base: &str,
        mut render: impl FnMut(&str) -> Result<Vec<u8>>,
    ) -> Result<String> {
        let dir = self.backups();
        for n in 1..1000u32 {
            let id = if n == 1 {
                base.to_owned()
            } else {
                format!("{base}-{n}")
            };
            let final_path = self.manifest_path(&id);
            if fs::symlink_metadata(&final_path).is_ok() {
                continue;
            }
            let data = render(&id)?;
            let mut t = TempFile::new_in(&dir, "tmp", 0o400)?;
            let f = t.file();
            f.write_all(&data)
                .and_then(|_| f.set_permissions(fs::Permissions::from_mode(0o600)))
                .and_then(|_| f.sync_all())
                .map_err(|e| Error::io(t.path(), &e))?;
            // If another save took this ID since the check above, try the
            // next one.
            if t.link_new(&final_path)? {
                return Ok(id);
            }
        }
        Err(Error::new(format!(
            "{}: no free backup ID after {base}",
            dir.display()
        )))
    }

    /// Every backup ID, oldest first.
    pub fn ids(&self) -> Result<Vec<String>> {
        let dir = self.backups();
        let rd = fs::read_dir(&dir).map_err(|e| Error::io(&dir, &e))?;
        let mut ids = Vec::new();
        for ent in rd {
            let ent = ent.map_err(|e| Error::io(&dir, &e))?;
            let name = ent.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(id) = name.strip_suffix(".jsonl") {
                if valid_id(id) {
                    ids.push(id.to_owned());
                }
            }
        }
        ids.sort_by(|a, b| id_key(a).cmp(&id_key(b)));
        Ok(ids)
    }

    /// The backup an ID argument names: an exact ID or a unique prefix of
    /// one; without an argument the newest backup `save` made (the ones a
    /// restore makes to undo itself are skipped, so `restore` then `diff`
    /// compares with what was restored), or the newest of all when only
    /// those exist.
    pub fn resolve(&self, arg: Option<&str>) -> Result<String> {
        let ids = self.ids()?;
        let Some(arg) = arg else {
            for id in ids.iter().rev() {
                if !matches!(self.header(id)?.get("undo_of"), Some(Value::String(_))) {
                    return Ok(id.clone());
                }
            }
            return ids.last().cloned().ok_or_else(|| {
                Error::new(format!(
                    "{}: no backups yet (`cfg-backup save` makes one)",
                    self.dir.display()
                ))
            });
        };
        if ids.iter().any(|i| i == arg) {
            return Ok(arg.to_owned());
        }
        let matching: Vec<&String> = ids.iter().filter(|i| i.starts_with(arg)).collect();
        match matching.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(Error::new(format!(
                "no backup {arg} in {} (`cfg-backup list` shows them)",
                self.dir.display()
            ))),
            many => Err(Error::new(format!(
                "backup ID {arg} is ambiguous: {}{}; type more of it",
                many.iter()
                    .take(5)
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                if many.len() > 5 { ", ..." } else { "" }
            ))),
        }
    }

    /// The `backup` record of a manifest (its first line), validated.
    pub fn header(&self, id: &str) -> Result<Map<String, Value>> {
        let mut recs = self.records(id)?;
        let name = recs.name().to_owned();
        let Some((line, rec)) = recs.next_record()? else {
            return Err(Error::at(&name, 1, "empty manifest"));
        };
        check_header(&rec, id).map_err(|w| Error::at(&name, line, w))?;
        Ok(rec)
    }

    fn records(&self, id: &str) -> Result<Records> {
        let path = self.manifest_path(id);
        let f = File::open(&path).map_err(|e| Error::io(&path, &e))?;
        Ok(Records::from_reader(path.display().to_string(), f))
    }

    /// A whole backup, every record validated: a manifest is input, and a
    /// restore must not be steered outside the target by an edited one.
    pub fn read(&self, id: &str) -> Result<Backup> {
        let mut recs = self.records(id)?;
        let name = recs.name().to_owned();
        let (header, (walked, absent)) = match recs.next_record()? {
            Some((line, rec)) => {
                let lists = check_header(&rec, id).map_err(|w| Error::at(&name, line, w))?;
                (rec, lists)
            }
            None => return Err(Error::at(&name, 1, "empty manifest")),
        };
        let mut entries: Vec<Entry> = Vec::new();
        let mut lines = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut last_line = 1;
        while let Some((line, rec)) = recs.next_record()? {
            last_line = line;
            let e = Entry::from_record(&rec, id)
                .map_err(|w| Error::at(&name, line, format!("{w}; refusing this manifest")))?;
            if !seen.insert(e.path.clone()) {
                return Err(Error::at(
                    &name,
                    line,
                    format!("path {} appears twice; refusing this manifest", e.shown()),
                ));
            }
            lines.push(line);
            entries.push(e);
        }
        if let Some((k, why)) = nesting_problem(&entries) {
            let line = lines.get(k).copied().unwrap_or(last_line);
            return Err(Error::at(
                &name,
                line,
                format!("{why}; refusing this manifest"),
            ));
        }
        let want = header.get("files").and_then(Value::as_u64);
        if want != Some(entries.len() as u64) {
            return Err(Error::at(
                &name,
                last_line,
                format!(
                    "the backup record says {} files but the manifest lists {}; refusing this manifest",
                    header.get("files").unwrap_or(&Value::Null),
                    entries.len()
                ),
            ));
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Backup {
            id: id.to_owned(),
            header,
            walked,
            absent,
            entries,
        })
    }

    /// What is wrong with a blob, if anything: missing, unreadable, or
    /// content that does not hash to its name.
    pub fn blob_problem(&self, sha256: &str) -> Option<String> {
        let p = self.blob_path(sha256);
        let res = File::open(&p).and_then(|mut f| crate::scan::hash_reader(&mut f));
        match res {
            Ok((got, _)) if got == sha256 => None,
            Ok((got, _)) => Some(format!(
                "blob {} is corrupt (its content hashes to {got})",
                p.display()
            )),
            Err(e) => Some(format!(
                "blob {}: {}",
                p.display(),
                common::error::describe_io(&e)
            )),
        }
    }

    /// Every blob file in the store (for orphan counts).
    pub fn blob_names(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let dir = self.blobs();
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(Error::io(&dir, &e)),
        };
        for b in rd.flatten() {
            if let Some(n) = b.file_name().to_str() {
                if crate::model::is_sha256(n) {
                    out.push(n.to_owned());
                }
            }
        }
        Ok(out)
    }
}

/// The first entry that lies below a symlink or a file of the same backup,
/// and why that is refused: a restore would create the symlink, then be
/// steered through it. `save` checks what it is about to publish with the
/// same rule `read` applies, so it never writes a manifest it would refuse.
pub fn nesting_problem(entries: &[Entry]) -> Option<(usize, String)> {
    let types: std::collections::HashMap<&[u8], crate::model::FType> = entries
        .iter()
        .map(|e| (e.path.as_slice(), e.ftype))
        .collect();
    for (k, e) in entries.iter().enumerate() {
        for (i, _) in e
            .path
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, &c)| c == b'/')
        {
            match types.get(&e.path[..i]) {
                Some(t) if *t != crate::model::FType::Dir => {
                    return Some((
                        k,
                        format!(
                            "path {} lies below {}, which the backup holds as a {}",
                            e.shown(),
                            common::bytes::display(&e.path[..i]),
                            t.name()
                        ),
                    ))
                }
                _ => {}
            }
        }
    }
    None
}

/// System paths, raw bytes.
type Paths = Vec<Vec<u8>>;

/// Validate a `backup` record; returns its walked directories and the
/// paths it found absent.
fn check_header(rec: &Map<String, Value>, id: &str) -> std::result::Result<(Paths, Paths), String> {
    if rec.get("kind").and_then(Value::as_str) != Some("backup") {
        return Err("the first record of a manifest must be the `backup` record".to_owned());
    }
    if rec.get("id").and_then(Value::as_str) != Some(id) {
        return Err(format!(
            "the backup record's id {} does not match the file name {id}.jsonl",
            rec.get("id").unwrap_or(&Value::Null)
        ));
    }
    Ok((path_list(rec, "paths")?, path_list(rec, "absent")?))
}

/// An optional array of system paths of the backup record.
fn path_list(rec: &Map<String, Value>, key: &str) -> std::result::Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    match rec.get(key) {
        Some(Value::Array(a)) => {
            for p in a {
                let b = common::bytes::value_bytes(p)
                    .ok_or_else(|| format!("`{key}` entry {p} is not a path"))?;
                check_path(&b).map_err(|w| format!("`{key}` entry {p} {w}"))?;
                out.push(b);
            }
        }
        Some(Value::Null) | None => {}
        Some(v) => return Err(format!("`{key}` {v} is not an array")),
    }
    Ok(out)
}

/// IDs are what `save` makes (`20261126-070000`, `-2` suffixes); anything
/// else in backups/ is not ours, and never a path.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
}

/// Sort key: the time stamp, then the numeric collision suffix (so `-10`
/// sorts after `-9`).
fn id_key(id: &str) -> (&str, u32) {
    if id.len() > 16 && id.as_bytes()[15] == b'-' {
        if let Ok(n) = id[16..].parse() {
            return (&id[..15], n);
        }
    }
    (id, 1)
}

/// The ID of a save at Unix time `secs`: `YYYYMMDD-HHMMSS` in UTC.
pub fn id_for(secs: i64) -> String {
    let t = common::time::rfc3339(secs, 0);
    let b = t.as_bytes();
    let pick = |r: std::ops::Range<usize>| String::from_utf8_lossy(&b[r]).into_owned();
    format!(
        "{}{}{}-{}{}{}",
        pick(0..4),
        pick(5..7),
        pick(8..10),
        pick(11..13),
        pick(14..16),
        pick(17..19)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_that_is_a_file_is_named_as_such() {
        let dir =
            std::env::temp_dir().join(format!("cfg-backup-store-file-{}", std::process::id()));
        fs::write(&dir, b"x").expect("write");
        let e = Store::open(&dir).err().expect("a file is no store");
        let _ = fs::remove_file(&dir);
        let msg = e.to_string();
        assert!(
            msg.starts_with(&format!("{}: not a directory", dir.display())),
            "{msg}"
        );
        assert!(msg.contains("--store"), "{msg}");
    }

    #[test]
    fn ids_are_timestamps_that_sort() {
        assert_eq!(id_for(1_795_676_400), "20261126-070000");
        let mut v = vec![
            "20261126-070000-10",
            "20261126-070001",
            "20261126-070000-2",
            "20261126-070000",
        ];
        v.sort_by(|a, b| id_key(a).cmp(&id_key(b)));
        assert_eq!(
            v,
            vec![
                "20261126-070000",
                "20261126-070000-2",
                "20261126-070000-10",
                "20261126-070001"
            ]
        );
        assert!(valid_id("20261126-070000-2"));
        assert!(!valid_id("../x"));
        assert!(!valid_id(".tmp"));
    }

    fn temp_store(label: &str) -> (PathBuf, Store) {
        let d =
            std::env::temp_dir().join(format!("cfg-backup-store-{label}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        let s = Store::create(&d).expect("create");
        (d, s)
    }

    fn manifest(id: &str) -> Result<Vec<u8>> {
        Ok(
            format!("{{\"kind\":\"backup\",\"id\":\"{id}\",\"paths\":[],\"files\":0}}\n")
                .into_bytes(),
        )
    }

    #[test]
    fn a_taken_id_gets_a_suffix_and_prefixes_resolve() {
        let (d, s) = temp_store("ids");
        assert_eq!(
            s.commit_manifest("20261126-070000", manifest).expect("1"),
            "20261126-070000"
        );
        assert_eq!(
            s.commit_manifest("20261126-070000", manifest).expect("2"),
            "20261126-070000-2"
        );
        assert_eq!(
            s.commit_manifest("20261126-070100", manifest).expect("3"),
            "20261126-070100"
        );
        assert_eq!(s.ids().expect("ids").len(), 3);
        assert_eq!(s.resolve(None).expect("newest"), "20261126-070100");
        assert_eq!(
            s.resolve(Some("20261126-0701")).expect("prefix"),
            "20261126-070100"
        );
        // An exact ID wins over the longer IDs it prefixes.
        assert_eq!(
            s.resolve(Some("20261126-070000")).expect("exact"),
            "20261126-070000"
        );
        let e = s.resolve(Some("20261126-07")).expect_err("ambiguous");
        assert!(e.to_string().contains("ambiguous"), "{e}");
        assert!(s.resolve(Some("1999")).is_err());
        let b = s.read("20261126-070000-2").expect("valid");
        assert!(b.entries.is_empty());
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(d.join("backups"))
            .expect("ls")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn nothing_may_lie_below_a_symlink_or_a_file() {
        let entry = |p: &str, t: crate::model::FType| Entry {
            path: p.as_bytes().to_vec(),
            ftype: t,
            mode: 0o644,
            uid: 0,
            gid: 0,
            user: None,
            group: None,
            size: None,
            mtime: None,
            sha256: None,
            target: None,
            package: None,
            modified: None,
            origin: None,
        };
        use crate::model::FType::{Dir, File, Symlink};
        let ok = [
            entry("/etc", Dir),
            entry("/etc/a", File),
            entry("/etc/b", Symlink),
        ];
        assert_eq!(nesting_problem(&ok), None);
        for parent in [Symlink, File] {
            let bad = [entry("/etc/x", parent), entry("/etc/x/y", File)];
            let (k, why) = nesting_problem(&bad).expect("refused");
            assert_eq!(k, 1);
            assert!(why.contains("lies below /etc/x"), "{why}");
        }
    }

    #[test]
    fn blobs_are_private_deduplicated_and_repaired() {
        let (d, s) = temp_store("blobs");
        let sha = crate::scan::sha256_hex(b"secret");
        assert!(s.put_bytes(&sha, b"secret").expect("write"));
        assert!(!s.put_bytes(&sha, b"secret").expect("dedup"));
        let p = s.blob_path(&sha);
        assert_eq!(
            fs::metadata(&p).expect("stat").permissions().mode() & 0o777,
            0o400
        );
        assert_eq!(s.blob_problem(&sha), None);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).expect("chmod");
        fs::write(&p, b"rotten").expect("corrupt");
        assert!(s.blob_problem(&sha).expect("corrupt").contains("corrupt"));
        // The next save of that content replaces the bad copy.
        assert!(s.put_bytes(&sha, b"secret").expect("repair"));
        assert_eq!(s.blob_problem(&sha), None);
        let _ = fs::remove_dir_all(&d);
    }
}
