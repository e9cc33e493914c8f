//! Which dpkg package owns a path, as `dpkg -S PATH` answers: the
//! packages whose `info/NAME.list` (`NAME:ARCH.list` for `Multi-Arch:
//! same`) lists it, from the database `common::dpkg` reads.
//!
//! Only the few paths asked for are looked up, so each list file is read
//! once and its lines compared with that small set. On a merged-/usr
//! system `/bin` is a link to `usr/bin` while packages may still list
//! `/bin/su`: a path under `/usr/X` is looked up under `/X` as well when
//! `/X` is such a link, so `/usr/bin/su` finds its package where
//! `dpkg -S /usr/bin/su` would not.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use common::dpkg::Database;
use common::{Result, Root};

/// The directories merged-/usr turns into links to their `/usr` twins.
const MERGED: [&str; 6] = ["bin", "sbin", "lib", "lib32", "lib64", "libx32"];

/// Package owners of `paths` (system paths as bytes): for each path that
/// has one, the owners joined with `, ` as `dpkg -S` joins them. Empty
/// when the system has no dpkg database.
pub fn owners(root: &Root, paths: &[Vec<u8>]) -> Result<HashMap<Vec<u8>, String>> {
    let mut out = HashMap::new();
    if paths.is_empty() {
        return Ok(out);
    }
    let Some(db) = Database::read(root)? else {
        return Ok(out);
    };
    // The names each asked path may be listed under.
    let mut wanted: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
    let merged: Vec<&str> = MERGED
        .iter()
        .copied()
        .filter(|d| {
            root.resolve(Path::new(&format!("/{d}")))
                .is_some_and(|t| t == Path::new("/usr").join(d))
        })
        .collect();
    for (i, p) in paths.iter().enumerate() {
        wanted.entry(p.clone()).or_default().push(i);
        for d in &merged {
            let prefix = format!("/usr/{d}/");
            if let Some(rest) = p.strip_prefix(prefix.as_bytes()) {
                let mut alias = format!("/{d}/").into_bytes();
                alias.extend_from_slice(rest);
                wanted.entry(alias).or_default().push(i);
            }
        }
    }
    let mut found: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for st in db.known() {
        let (Some(list), Some(name)) = (db.info_file(st, "list"), st.info_name()) else {
            continue;
        };
        // A package without a list (config-files only, say) owns nothing.
        let Ok(data) = std::fs::read(&list) else {
            continue;
        };
        for line in data.split(|&c| c == b'\n') {
            if let Some(ix) = wanted.get(line) {
                for &i in ix {
                    found.entry(i).or_default().insert(name.clone());
                }
            }
        }
    }
    for (i, names) in found {
        if let Some(p) = paths.get(i) {
            out.insert(p.clone(), names.into_iter().collect::<Vec<_>>().join(", "));
        }
    }
    Ok(out)
}

/// A path's bytes.
pub fn bytes_of(p: &Path) -> Vec<u8> {
    p.as_os_str().as_bytes().to_vec()
}
