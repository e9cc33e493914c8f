//! Which package owns a path, as `dpkg -S PATH` (or `rpm -qf PATH`)
//! answers: the shared index of the package database ([`common::owners`]),
//! read once for all the privileged files found. On a merged-/usr system a
//! path under `/usr/X` is looked up under `/X` as well, so `/usr/bin/su`
//! finds its package where `dpkg -S /usr/bin/su` would not.

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use common::owners::Owners;
use common::Root;

/// Package owners of `paths` (system paths as bytes): for each path that
/// has one, the owners joined with `, ` as `dpkg -S` joins them. Empty
/// when the system has no package database.
pub fn owners(root: &Root, paths: &[Vec<u8>]) -> HashMap<Vec<u8>, String> {
    if paths.is_empty() {
        return HashMap::new();
    }
    let index = Owners::load(root);
    paths
        .iter()
        .filter_map(|p| index.owner(p).map(|o| (p.clone(), o)))
        .collect()
}

/// A path's bytes.
pub fn bytes_of(p: &Path) -> Vec<u8> {
    p.as_os_str().as_bytes().to_vec()
}
