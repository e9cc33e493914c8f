//! rpm's packages, read from the SQLite database of current rpm through
//! the shared reader and header decoder ([`common::rpm`]).
//!
//! The install reason comes from dnf's history database where it exists
//! (/var/lib/dnf/history.sqlite); the Berkeley DB (`Packages`) and ndb
//! (`Packages.db`) formats of older systems are refused with a message
//! that names the format and the fallback, `rpm -qa`.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use common::records::package::{cached_version, Package};
use common::rpm::{self, tag, Header};
use common::{Result, Root};

use crate::cache::Cache;

pub use common::rpm::db_path;

/// dnf's history database (dnf 4; dnf 5 keeps its own elsewhere).
pub const DNF_HISTORY: &str = "/var/lib/dnf/history.sqlite";
/// The directories of dnf's caches whose `*/packages/` hold downloaded
/// packages (kept when `keepcache=1`).
pub const DNF_CACHES: [&str; 2] = ["/var/cache/dnf", "/var/cache/libdnf5"];

/// Every package in rpm's database, or `None` when the system has none.
pub fn read(root: &Root) -> Result<Option<Vec<Package>>> {
    let path = db_path(root);
    if !path.exists() {
        return Ok(None);
    }
    let headers = rpm::headers(&path, "pkg-snap")?;
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
        let h = Header::parse(&blob)
            .map_err(|e| rpm::damaged(&path, hnum, &format!("is damaged ({e})")))?;
        let Some(name) = h.string(tag::NAME) else {
            return Err(rpm::damaged(&path, hnum, "has no name"));
        };
        let mut p = Package::new("rpm", &name);
        p.arch = h.string(tag::ARCH);
        p.version = match (h.string(tag::VERSION), h.string(tag::RELEASE)) {
            (Some(v), Some(r)) => Some(match h.int32(tag::EPOCH) {
                Some(e) => format!("{e}:{v}-{r}"),
                None => format!("{v}-{r}"),
            }),
            _ => None,
        };
        p.source = h.string(tag::SOURCERPM).map(|s| {
            // NAME-VERSION-RELEASE.src.rpm: the source package's name.
            cached_version(&s).map_or(s, |(n, _, _)| n)
        });
        p.install_time = h
            .int32(tag::INSTALLTIME)
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
