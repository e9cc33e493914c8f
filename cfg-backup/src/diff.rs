//! `diff`: what changed since a backup, as `change` records (or unified
//! diffs and plain sentences for people). A path is compared by type, mode,
//! owner, size, content and symlink target; mtime alone is not a change.
//! Files that appeared in a walked directory, or at a path the backup
//! recorded as absent, are `added`; files a package
//! upgrade leaves next to a saved file (`.dpkg-dist`, `.rpmnew`, ...) are
//! `leftover`.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::MetadataExt;

use common::bytes::{bytes_value, display, Bytes};
use common::error::describe_io;
use common::names::Names;
use common::records::change::{self, Op};
use common::{Error, Result, Root};
use serde_json::{json, Map, Value};

use crate::model::{is_under, mode_string, Entry, FType};
use crate::scan::{current, real};
use crate::store::{Backup, Store};

/// Suffixes package managers give the file they did not install over the
/// admin's (or the admin's copy they moved away: `.dpkg-bak` is where
/// dpkg-maintscript-helper's rm_conffile and mv_conffile put a modified
/// conffile).
pub const LEFTOVERS: [&str; 10] = [
    ".dpkg-dist",
    ".dpkg-old",
    ".dpkg-new",
    ".dpkg-bak",
    ".ucf-dist",
    ".ucf-old",
    ".ucf-new",
    ".rpmnew",
    ".rpmsave",
    ".rpmorig",
];

/// One difference.
#[derive(Debug)]
pub struct Change {
    /// `Added`, `Removed`, `Changed` or `Leftover`.
    pub op: Op,
    pub path: Vec<u8>,
    pub before: Option<Entry>,
    pub after: Option<Entry>,
    pub fields: Vec<&'static str>,
    /// For a leftover: the saved file it sits next to.
    pub leftover_of: Option<Vec<u8>>,
}

impl Change {
    /// A path the backup does not hold that exists now.
    fn added(path: Vec<u8>, now: Entry) -> Change {
        Change {
            op: Op::Added,
            path,
            before: None,
            after: Some(now),
            fields: Vec::new(),
            leftover_of: None,
        }
    }

    pub fn to_value(&self, id: &str) -> Value {
        change_record(
            self.op,
            "file",
            json!({"path": bytes_value(&self.path)}),
            self.before.as_ref().map(|e| e.to_value(Some(id))),
            self.after.as_ref().map(|e| e.to_value(None)),
            &self.fields,
            Own::LeftoverOf(self.leftover_of.as_deref()),
        )
    }
}

/// The field of cfg-backup's own that ends each of its change records.
pub enum Own<'a> {
    /// For a file: the saved file a leftover sits next to.
    LeftoverOf(Option<&'a [u8]>),
    /// For a package saved with `--package`: `upgrade`, `downgrade`, or
    /// `None` when the version did not move.
    Direction(Option<&'a str>),
}

/// A `change` record through common's record type: `op` of the kind `of`
/// at `key`, the records `before` and `after` (`null` where absent), the
/// `fields` that differ, and cfg-backup's own field last.
pub fn change_record(
    op: Op,
    of: &str,
    key: Value,
    before: Option<Value>,
    after: Option<Value>,
    fields: &[&str],
    own: Own<'_>,
) -> Value {
    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }
    let (leftover_of, direction) = match own {
        Own::LeftoverOf(p) => (Some(p.map(Bytes::from)), None),
        Own::Direction(w) => (None, Some(w.map(str::to_owned))),
    };
    let record = change::Change {
        kind: change::KIND.to_owned(),
        op,
        of: Some(Cow::Borrowed(of)),
        key: Cow::Owned(object(key)),
        before: before.map(|v| Cow::Owned(object(v))),
        after: after.map(|v| Cow::Owned(object(v))),
        fields: Cow::Owned(fields.iter().map(|f| (*f).to_owned()).collect()),
        leftover_of,
        direction,
        rollback: None,
    };
    // A record of strings, maps and byte arrays always serializes.
    serde_json::to_value(record).unwrap_or(Value::Null)
}

/// Paths selected by `filter` (all when empty): at or under a filter path.
pub fn selected(path: &[u8], filter: &[Vec<u8>]) -> bool {
    filter.is_empty() || filter.iter().any(|f| is_under(path, f))
}

fn now_of(base: &Root, sys: &[u8], names: &mut Names) -> Result<Option<Entry>> {
    current(base, sys, names).map_err(|e| {
        Error::new(format!(
            "{}: {}",
            real(base, sys).display(),
            describe_io(&e)
        ))
    })
}

/// Compare a backup with the tree under `base`. `store_id` is the store's
/// (dev, ino): a store inside a walked directory is no addition.
///
/// `owned_now` are the configuration files the backup's packages own now
/// (an upgrade may ship new ones): those the backup does not hold and that
/// exist are `added`, like the paths it recorded as absent.
pub fn compute(
    backup: &Backup,
    base: &Root,
    filter: &[Vec<u8>],
    store_id: Option<(u64, u64)>,
    owned_now: &[Vec<u8>],
) -> Result<Vec<Change>> {
    let mut names = Names::new(base);
    let saved: BTreeSet<&[u8]> = backup.entries.iter().map(|e| e.path.as_slice()).collect();
    let mut changes = Vec::new();
    let mut reported: BTreeSet<Vec<u8>> = BTreeSet::new();

    for before in backup.entries.iter().filter(|e| selected(&e.path, filter)) {
        match now_of(base, &before.path, &mut names)? {
            None => changes.push(Change {
                op: Op::Removed,
                path: before.path.clone(),
                before: Some(before.clone()),
                after: None,
                fields: Vec::new(),
                leftover_of: None,
            }),
            Some(mut now) => {
                now.package = before.package.clone();
                now.origin = before.origin.clone();
                let fields = before.differing(&now);
                if !fields.is_empty() {
                    changes.push(Change {
                        op: Op::Changed,
                        path: before.path.clone(),
                        before: Some(before.clone()),
                        after: Some(now),
                        fields,
                        leftover_of: None,
                    });
                }
            }
        }
        if before.ftype == FType::File {
            leftovers(
                base,
                &before.path,
                &saved,
                &mut reported,
                &mut changes,
                &mut names,
            )?;
        }
    }

    // A package file the backup recorded as absent (the admin had deleted
    // it) or does not hold (new in an upgrade) has leftovers too: dpkg
    // keeps an admin's deletion of a conffile and puts the version it ships
    // beside it, as X.dpkg-dist.
    for p in backup
        .absent
        .iter()
        .chain(owned_now)
        .filter(|p| selected(p, filter) && !saved.contains(p.as_slice()))
    {
        leftovers(base, p, &saved, &mut reported, &mut changes, &mut names)?;
    }

    // Paths that did not exist when the backup was made and do now, and
    // package files the backup did not know of.
    for p in backup
        .absent
        .iter()
        .chain(owned_now)
        .filter(|p| selected(p, filter))
    {
        if saved.contains(p.as_slice()) || reported.contains(p) {
            continue;
        }
        if let Some(now) = now_of_lenient(base, p, &mut names)? {
            reported.insert(p.clone());
            changes.push(Change::added(p.clone(), now));
        }
    }

    // New files in the directories the backup walked.
    for w in &backup.walked {
        let starts: Vec<Vec<u8>> = if filter.is_empty() {
            vec![w.clone()]
        } else {
            filter
                .iter()
                .filter_map(|f| {
                    if is_under(f, w) {
                        Some(f.clone())
                    } else if is_under(w, f) {
                        Some(w.clone())
                    } else {
                        None
                    }
                })
                .collect()
        };
        for start in starts {
            let mut stack = vec![start];
            while let Some(p) = stack.pop() {
                let rp = real(base, &p);
                let md = fs::symlink_metadata(&rp).ok();
                if let (Some(m), Some(id)) = (&md, store_id) {
                    if m.is_dir() && (m.dev(), m.ino()) == id {
                        continue;
                    }
                }
                if !saved.contains(p.as_slice()) && !reported.contains(&p) {
                    if let Some(now) = now_of_lenient(base, &p, &mut names)? {
                        reported.insert(p.clone());
                        changes.push(Change::added(p.clone(), now));
                    }
                }
                if !md.is_some_and(|m| m.is_dir()) {
                    continue;
                }
                let rd = fs::read_dir(&rp).map_err(|e| Error::io(&rp, &e))?;
                for ent in rd {
                    let ent = ent.map_err(|e| Error::io(&rp, &e))?;
                    let mut c = p.clone();
                    c.push(b'/');
                    c.extend_from_slice(&ent.file_name().into_vec());
                    stack.push(c);
                }
            }
        }
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(changes)
}

/// The leftovers of the package file `of` that exist now and that the
/// backup does not hold, each reported once.
fn leftovers(
    base: &Root,
    of: &[u8],
    saved: &BTreeSet<&[u8]>,
    reported: &mut BTreeSet<Vec<u8>>,
    changes: &mut Vec<Change>,
    names: &mut Names,
) -> Result<()> {
    for suffix in LEFTOVERS {
        let mut p = of.to_vec();
        p.extend_from_slice(suffix.as_bytes());
        if saved.contains(p.as_slice()) || reported.contains(&p) {
            continue;
        }
        if let Some(now) = now_of_lenient(base, &p, names)? {
            reported.insert(p.clone());
            changes.push(Change {
                op: Op::Leftover,
                path: p,
                before: None,
                after: Some(now),
                fields: Vec::new(),
                leftover_of: Some(of.to_vec()),
            });
        }
    }
    Ok(())
}

/// Like [`now_of`], but a special file (never saved) is no addition.
fn now_of_lenient(base: &Root, sys: &[u8], names: &mut Names) -> Result<Option<Entry>> {
    match fs::symlink_metadata(real(base, sys)) {
        Ok(md) if FType::of(&md).is_none() => Ok(None),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(None)
        }
        _ => now_of(base, sys, names),
    }
}

/// The text view of one change: sentences, and a unified diff for text
/// files whose content changed.
pub fn text(c: &Change, id: &str, store: &Store, base: &Root) -> Result<Vec<String>> {
    let p = display(&c.path);
    let mut out = Vec::new();
    match (c.op, &c.before, &c.after) {
        (Op::Removed, _, _) => out.push(format!("{p}: removed since backup {id}")),
        (Op::Added, _, Some(a)) => {
            out.push(format!("{p}: added since backup {id} ({})", a.ftype.name()))
        }
        (Op::Leftover, _, _) => out.push(format!(
            "{p}: leftover of {} from a package upgrade: merge what you need into {} and delete it",
            c.leftover_of.as_deref().map(display).unwrap_or_default(),
            c.leftover_of.as_deref().map(display).unwrap_or_default()
        )),
        (Op::Changed, Some(b), Some(a)) => {
            if c.fields.contains(&"type") {
                out.push(format!(
                    "{p}: was a {}, is now a {}",
                    b.ftype.name(),
                    a.ftype.name()
                ));
            }
            if c.fields.contains(&"mode") {
                out.push(format!(
                    "{p}: mode {} -> {}",
                    mode_string(b.mode),
                    mode_string(a.mode)
                ));
            }
            if c.fields
                .iter()
                .any(|f| matches!(*f, "uid" | "gid" | "user" | "group"))
            {
                out.push(format!("{p}: owner {} -> {}", owner(b), owner(a)));
            }
            if c.fields.contains(&"target") && b.ftype == a.ftype {
                out.push(format!(
                    "{p}: symlink target {} -> {}",
                    b.target.as_deref().map(display).unwrap_or_default(),
                    a.target.as_deref().map(display).unwrap_or_default()
                ));
            }
            if b.ftype == FType::File && a.ftype == FType::File && c.fields.contains(&"sha256") {
                out.extend(content_diff(&p, id, b, store, base)?);
            }
        }
        _ => {}
    }
    Ok(out)
}

fn owner(e: &Entry) -> String {
    format!(
        "{}:{} ({}:{})",
        e.user.as_deref().unwrap_or("?"),
        e.group.as_deref().unwrap_or("?"),
        e.uid,
        e.gid
    )
}

/// Largest file shown as a unified diff.
const TEXT_LIMIT: u64 = 4 << 20;

fn content_diff(p: &str, id: &str, b: &Entry, store: &Store, base: &Root) -> Result<Vec<String>> {
    let binary = vec![format!("Binary files a{p} and b{p} differ")];
    let Some(sha) = &b.sha256 else {
        return Ok(binary);
    };
    let blob = store.blob_path(sha);
    let now_path = real(base, &b.path);
    let small = |path: &std::path::Path| {
        fs::metadata(path)
            .map(|m| m.len() <= TEXT_LIMIT)
            .unwrap_or(false)
    };
    if !small(&blob) || !small(&now_path) {
        return Ok(vec![format!(
            "Files a{p} and b{p} differ (too large to show as a diff)"
        )]);
    }
    let old = fs::read(&blob).map_err(|e| {
        Error::io(&blob, &e).context(format!("backup {id} of {p}: run `cfg-backup verify`"))
    })?;
    let new = fs::read(&now_path).map_err(|e| Error::io(&now_path, &e))?;
    let as_text = |d: &[u8]| -> Option<String> {
        if d.contains(&0) {
            return None;
        }
        String::from_utf8(d.to_vec()).ok()
    };
    let (Some(old), Some(new)) = (as_text(&old), as_text(&new)) else {
        return Ok(binary);
    };
    let diff = similar::TextDiff::from_lines(&old, &new);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a{p}\t(backup {id})"), &format!("b{p}\t(now)"))
        .to_string();
    Ok(text.lines().map(str::to_owned).collect())
}
