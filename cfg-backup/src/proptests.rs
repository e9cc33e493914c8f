//! Property tests of the manifest: it is input (an admin may edit it, a
//! disk may damage it), so reading any bytes must end in a correct parse
//! or one clear error naming the file and line, never a panic; and what a
//! save writes must read back exactly, whatever bytes its paths hold.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use common::records::{backup, file};
use common::Root;
use proptest::prelude::*;
use serde_json::Value;

use crate::model::{Entry, FType};
use crate::save::{manifest, save, Meta, Target};
use crate::scan::sha256_hex;
use crate::store::Store;

const ID: &str = "20261126-070000";

/// A scratch directory of its own per call (proptest runs many cases).
fn scratch(label: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let d = std::env::temp_dir().join(format!(
        "cfg-backup-prop-{label}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_dir_all(&d);
    d
}

/// A file name: any bytes but `/` and NUL, not `.` or `..`.
fn name() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        any::<u8>().prop_filter("no / or NUL", |&b| b != b'/' && b != 0),
        1..12,
    )
    .prop_filter("not . or ..", |n| n != b"." && n != b"..")
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        name(),
        0..3u8,
        0..0o10000u32,
        any::<u32>(),
        any::<u32>(),
        proptest::option::of("[a-z]{1,8}"),
        any::<u32>(),
        proptest::option::of((-62_167_219_200i64..=253_402_300_799, 0..1_000_000_000u32)),
        "[0-9a-f]{64}",
        name(),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(
            |(n, t, mode, uid, gid, user, size, mtime, sha, target, modified)| {
                let ftype = [FType::File, FType::Dir, FType::Symlink][usize::from(t)];
                let mut path = b"/etc/".to_vec();
                path.extend_from_slice(&n);
                Entry {
                    path,
                    ftype,
                    mode,
                    uid,
                    gid,
                    user: user.clone(),
                    group: user,
                    size: (ftype != FType::Dir).then_some(u64::from(size)),
                    mtime,
                    sha256: (ftype == FType::File).then_some(sha),
                    target: (ftype == FType::Symlink).then_some(target),
                    package: None,
                    modified,
                    origin: Some("path".to_owned()),
                }
            },
        )
}

/// Distinct entries, in path order (as a backup holds them).
fn entries() -> impl Strategy<Value = Vec<Entry>> {
    proptest::collection::vec(entry(), 0..8).prop_map(|v| {
        v.into_iter()
            .map(|e| (e.path.clone(), e))
            .collect::<BTreeMap<_, _>>()
            .into_values()
            .collect()
    })
}

fn header(entries: &[Entry]) -> backup::Backup {
    backup::Backup {
        kind: backup::KIND.to_owned(),
        id: ID.to_owned(),
        created: "2026-11-26T07:00:00Z".to_owned(),
        label: None,
        undo_of: None,
        host: None,
        root: None,
        paths: vec![b"/etc".to_vec()],
        packages: Vec::new(),
        files: entries.len() as u64,
        bytes: 0,
        skipped: Vec::new(),
        absent: Vec::new(),
    }
}

/// A JSON value to put where a field was.
fn json_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,10}".prop_map(Value::from),
        "/[a-z./]{0,10}".prop_map(Value::from),
        proptest::collection::vec(0..300u32, 0..6).prop_map(Value::from),
        Just(serde_json::json!({"a": 1})),
    ]
}

/// A way of damaging a manifest.
#[derive(Debug, Clone)]
enum Damage {
    None,
    /// Cut the bytes at this fraction of their length.
    Truncate(f64),
    /// Put these bytes at this fraction of the length.
    Insert(f64, Vec<u8>),
    /// Replace line (index modulo the count) with these bytes.
    ReplaceLine(usize, Vec<u8>),
    /// Set a field of a line (modulo) to a value.
    SetField(usize, usize, Value),
    /// Remove a field of a line.
    RemoveField(usize, usize),
    /// Repeat a line.
    Duplicate(usize),
    /// Drop a line.
    Drop(usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        Just(Damage::None),
        (0.0..1.0f64).prop_map(Damage::Truncate),
        (0.0..1.0f64, proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, b)| Damage::Insert(at, b)),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(i, b)| Damage::ReplaceLine(i, b)),
        (any::<usize>(), any::<usize>(), json_value())
            .prop_map(|(i, f, v)| Damage::SetField(i, f, v)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, f)| Damage::RemoveField(i, f)),
        any::<usize>().prop_map(Damage::Duplicate),
        any::<usize>().prop_map(Damage::Drop),
    ]
}

fn apply(d: &Damage, data: &[u8]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = data
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    let n = lines.len().max(1);
    let at = |f: f64| ((data.len() as f64) * f) as usize;
    let edit =
        |line: &mut Vec<u8>, f: &dyn Fn(&mut serde_json::Map<String, Value>, usize), k: usize| {
            if let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(line) {
                f(&mut m, k);
                *line = serde_json::to_vec(&m).unwrap_or_default();
            }
        };
    match d {
        Damage::None => return data.to_vec(),
        Damage::Truncate(f) => return data[..at(*f).min(data.len())].to_vec(),
        Damage::Insert(f, b) => {
            let mut v = data.to_vec();
            let i = at(*f).min(v.len());
            v.splice(i..i, b.iter().copied());
            return v;
        }
        Damage::ReplaceLine(i, b) => {
            if let Some(l) = lines.get_mut(i % n) {
                *l = b.clone();
            }
        }
        Damage::SetField(i, k, v) => {
            if let Some(l) = lines.get_mut(i % n) {
                edit(
                    l,
                    &|m, k| {
                        let key = m.keys().nth(k % m.len().max(1)).cloned();
                        if let Some(key) = key {
                            m.insert(key, v.clone());
                        }
                    },
                    *k,
                );
            }
        }
        Damage::RemoveField(i, k) => {
            if let Some(l) = lines.get_mut(i % n) {
                edit(
                    l,
                    &|m, k| {
                        let key = m.keys().nth(k % m.len().max(1)).cloned();
                        if let Some(key) = key {
                            m.shift_remove(&key);
                        }
                    },
                    *k,
                );
            }
        }
        Damage::Duplicate(i) => {
            if let Some(l) = lines.get(i % n).cloned() {
                lines.insert(i % n, l);
            }
        }
        Damage::Drop(i) => {
            if i % n < lines.len() {
                lines.remove(i % n);
            }
        }
    }
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(&l);
        out.push(b'\n');
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_manifest_reads_back_exactly_or_fails_naming_file_and_line(
        entries in entries(),
        damage in damage(),
    ) {
        let dir = scratch("read");
        let store = Store::create(&dir).expect("store");
        let written = manifest(&header(&entries), &entries).expect("render");
        let data = apply(&damage, &written);
        let path = store.manifest_path(ID);
        fs::write(&path, &data).expect("write manifest");
        let got = store.read(ID);
        let _ = fs::remove_dir_all(&dir);
        match got {
            Ok(b) => {
                prop_assert_eq!(Some(b.entries.len() as u64), b.header.get("files").and_then(Value::as_u64));
                if data == written {
                    prop_assert_eq!(b.entries, entries);
                }
            }
            Err(e) => {
                prop_assert!(data != written, "the manifest as written is refused: {}", e);
                let msg = e.to_string();
                let prefix = format!("{}:", path.display());
                let rest = msg.strip_prefix(&prefix);
                prop_assert!(rest.is_some(), "{}", msg);
                let rest = rest.unwrap_or_default();
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                prop_assert!(digits > 0 && rest[digits..].starts_with(": "), "{}", msg);
                prop_assert!(!msg.contains('\n'), "{}", msg);
                prop_assert_eq!(e.code(), 2);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_save_reads_back_every_path_byte_for_byte(
        files in proptest::collection::btree_map(name(), proptest::collection::vec(any::<u8>(), 0..64), 1..6),
    ) {
        let dir = scratch("save");
        let root_dir = dir.join("root");
        let etc = root_dir.join("etc");
        fs::create_dir_all(&etc).expect("mkdir");
        for (n, data) in &files {
            fs::write(etc.join(std::ffi::OsStr::from_bytes(n)), data).expect("write");
        }
        let root = Root::new(Some(&root_dir)).expect("root");
        let store = Store::create(&dir.join("store")).expect("store");
        let target = Target {
            path: b"/etc".to_vec(),
            walk: true,
            must_exist: true,
            package: None,
            shipped: None,
            origin: "path",
        };
        let saved = save(&store, &root, &[target], Meta::default()).expect("save");
        let back = store.read(&saved.id).expect("read back");
        let text = fs::read(store.manifest_path(&saved.id)).expect("manifest");
        let _ = fs::remove_dir_all(&dir);

        let mut want: Vec<Vec<u8>> = vec![b"/etc".to_vec()];
        want.extend(files.keys().map(|n| [&b"/etc/"[..], n].concat()));
        want.sort();
        let got: Vec<Vec<u8>> = back.entries.iter().map(|e| e.path.clone()).collect();
        prop_assert_eq!(&got, &want);
        for e in back.entries.iter().filter(|e| e.ftype == FType::File) {
            let data = &files[&e.path[5..]];
            prop_assert_eq!(e.sha256.clone(), Some(sha256_hex(data)));
            prop_assert_eq!(e.size, Some(data.len() as u64));
        }
        prop_assert_eq!(&back.entries, &saved.entries);
        // Every line reads as its record type too, paths byte for byte.
        let mut lines = text.split(|&c| c == b'\n').filter(|l| !l.is_empty());
        let head: backup::Backup =
            serde_json::from_slice(lines.next().unwrap_or_default()).expect("backup record");
        prop_assert_eq!(&head, &saved.header);
        let paths: Vec<Vec<u8>> = lines
            .map(|l| serde_json::from_slice::<file::File>(l).expect("file record").path)
            .collect();
        prop_assert_eq!(paths, want);
    }
}
