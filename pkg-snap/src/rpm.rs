//! rpm's packages, read from the SQLite database of current rpm (RHEL 9,
//! Fedora, SUSE: `rpmdb.sqlite`, lib/backend/sqlite.cc: a table
//! `Packages (hnum INTEGER PRIMARY KEY, blob BLOB)`, one package header
//! per row) and decoded as lib/header.cc lays a header out: two big-endian
//! 32-bit counts, `il` index entries and `dl` bytes of data, then `il`
//! entries of (tag, type, offset, count), then the data. The tags and
//! types are those of include/rpm/rpmtag.h.
//!
//! The install reason comes from dnf's history database where it exists
//! (/var/lib/dnf/history.sqlite); the Berkeley DB (`Packages`) and ndb
//! (`Packages.db`) formats of older systems are refused with a message
//! that names the format and the fallback, `rpm -qa`.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use common::records::package::{cached_version, Package};
use common::{Error, Result, Root};

use crate::cache::Cache;

/// Where rpm keeps its database: /var/lib/rpm, or /usr/lib/sysimage/rpm
/// (Fedora and openSUSE, where /var/lib/rpm is a link to it).
pub const DB_DIRS: [&str; 2] = ["/var/lib/rpm", "/usr/lib/sysimage/rpm"];
/// The SQLite database's file name.
pub const SQLITE: &str = "rpmdb.sqlite";
/// dnf's history database (dnf 4; dnf 5 keeps its own elsewhere).
pub const DNF_HISTORY: &str = "/var/lib/dnf/history.sqlite";
/// The directories of dnf's caches whose `*/packages/` hold downloaded
/// packages (kept when `keepcache=1`).
pub const DNF_CACHES: [&str; 2] = ["/var/cache/dnf", "/var/cache/libdnf5"];

// Tags (include/rpm/rpmtag.h).
const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_INSTALLTIME: u32 = 1008;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;

// Types (rpmTagType_e).
const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// The database file of the system under `root`, for reading and for
/// messages: the first of [`DB_DIRS`] that holds a database of any format,
/// else /var/lib/rpm/rpmdb.sqlite.
pub fn db_path(root: &Root) -> PathBuf {
    for dir in DB_DIRS {
        let sys = root
            .resolve(Path::new(dir))
            .unwrap_or_else(|| PathBuf::from(dir));
        let real = root.path(&sys);
        for f in [SQLITE, "Packages", "Packages.db"] {
            if real.join(f).exists() {
                return real.join(f);
            }
        }
    }
    root.path(DB_DIRS[0]).join(SQLITE)
}

/// Every package in rpm's database, or `None` when the system has none.
pub fn read(root: &Root) -> Result<Option<Vec<Package>>> {
    let path = db_path(root);
    if !path.exists() {
        return Ok(None);
    }
    let dbpath = path.parent().unwrap_or(Path::new("/"));
    match path.file_name().and_then(|f| f.to_str()) {
        Some("Packages") => {
            return Err(Error::new(format!(
                "{}: an rpm database in the Berkeley DB format (rpm before 4.16, RHEL 8 and older), which pkg-snap does not read; list the packages with `rpm -qa --dbpath {}`, or convert the database with `rpmdb --rebuilddb --define '_db_backend sqlite'`",
                path.display(),
                dbpath.display()
            )))
        }
        Some("Packages.db") => {
            return Err(Error::new(format!(
                "{}: an rpm database in the ndb format (SUSE), which pkg-snap does not read; list the packages with `rpm -qa --dbpath {}`, or convert the database with `rpmdb --rebuilddb --define '_db_backend sqlite'`",
                path.display(),
                dbpath.display()
            )))
        }
        _ => {}
    }
    let headers = read_sqlite(&path)?;
    let reasons = dnf_reasons(root);
    let mut cache = Cache::read(root, "/nonexistent", ".rpm")?;
    for top in DNF_CACHES {
        let real = root.path(top);
        if let Ok(rd) = std::fs::read_dir(&real) {
            let mut repos: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
            repos.sort();
            for repo in repos {
                let dir = Path::new(top).join(repo).join("packages");
                cache.add_dir(root, &dir, ".rpm")?;
            }
        }
    }
    let mut out = Vec::with_capacity(headers.len());
    for (hnum, blob) in headers {
        let h = Header::parse(&blob).map_err(|e| {
            Error::new(format!(
                "{}: package header {hnum} is damaged ({e}); check the database with `rpmdb --verifydb --dbpath {}`",
                path.display(),
                dbpath.display()
            ))
        })?;
        let Some(name) = h.string(TAG_NAME) else {
            return Err(Error::new(format!(
                "{}: package header {hnum} has no name; check the database with `rpmdb --verifydb --dbpath {}`",
                path.display(),
                dbpath.display()
            )));
        };
        let mut p = Package::new("rpm", &name);
        p.arch = h.string(TAG_ARCH);
        p.version = match (h.string(TAG_VERSION), h.string(TAG_RELEASE)) {
            (Some(v), Some(r)) => Some(match h.int32(TAG_EPOCH) {
                Some(e) => format!("{e}:{v}-{r}"),
                None => format!("{v}-{r}"),
            }),
            _ => None,
        };
        p.source = h.string(TAG_SOURCERPM).map(|s| {
            // NAME-VERSION-RELEASE.src.rpm: the source package's name.
            cached_version(&s).map_or(s, |(n, _, _)| n)
        });
        p.install_time = h
            .int32(TAG_INSTALLTIME)
            .map(|t| common::time::rfc3339(i64::from(t), 0));
        p.install_reason = reasons.as_ref().and_then(|r| {
            r.iter()
                .find(|(n, a, _)| *n == p.name && Some(a) == p.arch.as_ref())
                .map(|(_, _, why)| (*why).to_owned())
        });
        p.cached = cache.files(&name, p.arch.as_deref());
        out.push(p);
    }
    Ok(Some(out))
}

/// The (hnum, header blob) rows of the Packages table.
fn read_sqlite(path: &Path) -> Result<Vec<(i64, Vec<u8>)>> {
    let fail = |what: &str, e: rusqlite::Error| {
        Error::new(format!(
            "{}: {what}: {e}; is it an rpm database? (`rpm -qa --dbpath {}` reads it the way rpm does)",
            path.display(),
            path.parent().unwrap_or(Path::new("/")).display()
        ))
    };
    let db = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| fail("cannot open", e))?;
    let mut st = db
        .prepare("SELECT hnum, blob FROM Packages")
        .map_err(|e| fail("cannot read the Packages table", e))?;
    let rows = st
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
        .map_err(|e| fail("cannot read the Packages table", e))?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r.map_err(|e| fail("cannot read the Packages table", e))?);
    }
    Ok(out)
}

/// dnf's reasons by (name, arch), as libdnf's
/// `RPMItem::resolveTransactionItemReason` finds them: the reason of the
/// package's item in the newest finished transaction, the outgoing halves
/// of an upgrade, downgrade, obsoletion or reinstall left aside; unknown
/// when that item is a removal. `user` and `group` are `manual`; `dependency`,
/// `weak-dependency` and `clean` are `auto`; `unknown` is null. `None` when
/// there is no history database or it cannot be read: the reason is then
/// unknown, which is no error.
fn dnf_reasons(root: &Root) -> Option<Vec<(String, String, &'static str)>> {
    let path = root.path(DNF_HISTORY);
    if !path.exists() {
        return None;
    }
    let db = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ok()?;
    // TransactionItemAction: 1 install, 2 downgrade, 3 downgraded,
    // 4 obsolete, 5 obsoleted, 6 upgrade, 7 upgraded, 8 remove,
    // 9 reinstall, 10 reinstalled, 11 reason change. TransactionState
    // 1 is done.
    let mut st = db
        .prepare(
            "SELECT i.name, i.arch, ti.reason, ti.action FROM trans_item ti \
             JOIN trans t ON ti.trans_id = t.id JOIN rpm i USING (item_id) \
             WHERE t.state = 1 AND ti.action NOT IN (3, 5, 7, 10) \
             ORDER BY ti.trans_id ASC, ti.id ASC",
        )
        .ok()?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .ok()?;
    let mut by: std::collections::HashMap<(String, String), &'static str> =
        std::collections::HashMap::new();
    for row in rows.flatten() {
        let (name, arch, reason, action) = row;
        // The last word on a package was its removal: dnf knows no reason
        // for what is installed now.
        if action == 8 {
            by.remove(&(name, arch));
            continue;
        }
        // TransactionItemReason: 0 unknown, 1 dependency, 2 user,
        // 3 clean, 4 weak-dependency, 5 group.
        let why = match reason {
            2 | 5 => "manual",
            1 | 3 | 4 => "auto",
            _ => {
                by.remove(&(name, arch));
                continue;
            }
        };
        by.insert((name, arch), why);
    }
    Some(by.into_iter().map(|((n, a), w)| (n, a, w)).collect())
}

/// One package header, checked to be as long as its counts say.
#[derive(Debug)]
pub struct Header<'a> {
    index: &'a [u8],
    data: &'a [u8],
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

impl<'a> Header<'a> {
    /// Split a blob into its index and data (hdrblobInit's checks of the
    /// lengths; the entries are checked as they are read).
    pub fn parse(blob: &'a [u8]) -> std::result::Result<Header<'a>, String> {
        let (Some(il), Some(dl)) = (be32(blob, 0), be32(blob, 4)) else {
            return Err(format!("{} bytes, too short for a header", blob.len()));
        };
        // rpm's limits: at most 0xffff tags, 256 MiB of data.
        if il == 0 || il > 0xffff || dl > 256 << 20 {
            return Err(format!("{il} tags and {dl} bytes of data"));
        }
        let (il, dl) = (il as usize, dl as usize);
        let want = 8 + il * 16 + dl;
        if blob.len() != want {
            return Err(format!(
                "{} bytes where {il} tags and {dl} bytes of data make {want}",
                blob.len()
            ));
        }
        Ok(Header {
            index: &blob[8..8 + il * 16],
            data: &blob[8 + il * 16..],
        })
    }

    /// The (type, offset, count) of a tag; the last entry wins, as the
    /// entries rpm adds after the signed region (install time) follow it.
    fn entry(&self, tag: u32) -> Option<(u32, usize, u32)> {
        self.index
            .chunks_exact(16)
            .rev()
            .find(|e| be32(e, 0) == Some(tag))
            .and_then(|e| Some((be32(e, 4)?, be32(e, 8)? as usize, be32(e, 12)?)))
    }

    /// A string tag (the first of an array), as text.
    pub fn string(&self, tag: u32) -> Option<String> {
        let (ty, off, _) = self.entry(tag)?;
        if !matches!(ty, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) {
            return None;
        }
        let rest = self.data.get(off..)?;
        let end = rest.iter().position(|&c| c == 0)?;
        std::str::from_utf8(&rest[..end]).ok().map(str::to_owned)
    }

    /// The first value of a 32-bit integer tag.
    pub fn int32(&self, tag: u32) -> Option<u32> {
        let (ty, off, count) = self.entry(tag)?;
        if ty != TYPE_INT32 || count == 0 {
            return None;
        }
        be32(self.data, off)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header as rpm lays it out, of (tag, type, data) entries.
    fn blob(entries: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, ty, d) in entries {
            if *ty == TYPE_INT32 {
                while data.len() % 4 != 0 {
                    data.push(0);
                }
            }
            index.extend(tag.to_be_bytes());
            index.extend(ty.to_be_bytes());
            index.extend((data.len() as u32).to_be_bytes());
            index.extend(1u32.to_be_bytes());
            data.extend(d);
        }
        let mut out = Vec::new();
        out.extend((entries.len() as u32).to_be_bytes());
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    #[test]
    fn headers_decode_and_damage_is_caught() {
        let b = blob(&[
            (TAG_NAME, TYPE_STRING, b"bash\0".to_vec()),
            (TAG_EPOCH, TYPE_INT32, 2u32.to_be_bytes().to_vec()),
            (TAG_ARCH, TYPE_STRING, b"x86_64\0".to_vec()),
        ]);
        let h = Header::parse(&b).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(h.string(TAG_NAME).as_deref(), Some("bash"));
        assert_eq!(h.int32(TAG_EPOCH), Some(2));
        assert_eq!(h.string(TAG_ARCH).as_deref(), Some("x86_64"));
        assert_eq!(h.string(TAG_VERSION), None);
        assert_eq!(h.int32(TAG_NAME), None, "a string is no integer");
        assert!(Header::parse(&b[..b.len() - 1]).is_err());
        assert!(Header::parse(&[0, 0]).is_err());
        // An offset past the data reads as absent, not as a crash.
        let mut bad = b.clone();
        bad[8 + 8..8 + 12].copy_from_slice(&1000u32.to_be_bytes());
        let h = Header::parse(&bad).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(h.string(TAG_NAME), None);
    }
}
