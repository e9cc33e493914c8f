//! Which package owns a path: dpkg's file lists, read once into an index.
//!
//! `dpkg -S PATH` answers one path per run and reads every file list each
//! time; a tool that asks about many paths (the stale libraries of a whole
//! process table) reads `DIR/var/lib/dpkg/info/*.list` once, here, and looks
//! paths up in memory. Each `.list` file names one installed package
//! (`libssl3:amd64.list` for a multi-arch package, `bash.list` otherwise,
//! as dpkg names them in `lib/dpkg/db-fsys.c`) and holds one absolute path
//! per line, the directories included. The package is named as `dpkg -S`
//! prints it (`libssl3:amd64`).
//!
//! Paths are looked up as given and, on merged-/usr systems, under their
//! other name: a library mapped as `/usr/lib/x86_64-linux-gnu/libz.so.1`
//! may be listed by its package as `/lib/x86_64-linux-gnu/libz.so.1`
//! (Debian 12) and the other way round (later releases).
//!
//! Not covered: dpkg diversions (`dpkg-divert`; the diverted path is
//! reported under the package that lists it) and the rpm database, which
//! is a Berkeley DB or SQLite file that only librpm reads properly: on an
//! rpm system [`Owners::manager`] is `None` and every owner unknown.

use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;

use crate::Root;

/// The directory of dpkg's file lists.
pub const DPKG_INFO: &str = "/var/lib/dpkg/info";

/// Directories that merged /usr turns into links (`/lib` -> `usr/lib`).
const MERGED: [&[u8]; 7] = [
    b"/bin/",
    b"/sbin/",
    b"/lib/",
    b"/lib32/",
    b"/lib64/",
    b"/libx32/",
    b"/libo32/",
];

/// The path-to-package index of one system.
#[derive(Debug, Default)]
pub struct Owners {
    manager: Option<&'static str>,
    /// Package names, indexed by the numbers in `first` and `more`.
    names: Vec<String>,
    /// The first package that lists a path.
    first: HashMap<Box<[u8]>, u32>,
    /// The other packages that list it (shared directories, mostly).
    more: HashMap<Box<[u8]>, Vec<u32>>,
}

impl Owners {
    /// Read the package database of the system under `root`. A system
    /// without dpkg's database gives an empty index (every owner unknown);
    /// a list file that cannot be read is skipped, like a package without
    /// files.
    pub fn load(root: &Root) -> Self {
        let dir = root.path(DPKG_INFO);
        let mut o = Owners::default();
        let Ok(rd) = std::fs::read_dir(&dir) else {
            return o;
        };
        o.manager = Some("dpkg");
        let mut lists: Vec<(Vec<u8>, std::path::PathBuf)> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name();
                let pkg = name.as_bytes().strip_suffix(b".list")?.to_vec();
                Some((pkg, e.path()))
            })
            .collect();
        // Sorted, so that the first owner of a shared path does not depend
        // on readdir order.
        lists.sort();
        for (pkg, path) in lists {
            let Ok(data) = std::fs::read(&path) else {
                continue;
            };
            o.add(String::from_utf8_lossy(&pkg).into_owned(), &data);
        }
        o
    }

    /// Add one package's file list (the content of its `.list` file).
    pub fn add(&mut self, package: String, list: &[u8]) {
        let n = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(package);
        for line in list.split(|&b| b == b'\n') {
            if !line.starts_with(b"/") {
                continue;
            }
            match self.first.get(line) {
                None => {
                    self.first.insert(line.into(), n);
                }
                Some(&f) if f == n => {}
                Some(_) => {
                    let v = self.more.entry(line.into()).or_default();
                    if !v.contains(&n) {
                        v.push(n);
                    }
                }
            }
        }
    }

    /// The package manager whose database was read (`dpkg`), `None` when
    /// there was none.
    pub fn manager(&self) -> Option<&'static str> {
        self.manager
    }

    /// The packages that list exactly `path`, in name order.
    fn exact(&self, path: &[u8]) -> Vec<&str> {
        let mut v = Vec::new();
        if let Some(&f) = self.first.get(path) {
            v.extend(self.names.get(f as usize).map(String::as_str));
        }
        if let Some(m) = self.more.get(path) {
            v.extend(
                m.iter()
                    .filter_map(|&i| self.names.get(i as usize))
                    .map(String::as_str),
            );
        }
        v
    }

    /// The packages that own `path`, as `dpkg -S` names them (several for
    /// a path two packages list), looked up under its merged-/usr alias too.
    /// Empty when no package owns it.
    pub fn owners(&self, path: &[u8]) -> Vec<&str> {
        let v = self.exact(path);
        if !v.is_empty() {
            return v;
        }
        match alias(path) {
            Some(a) => self.exact(&a),
            None => v,
        }
    }

    /// The owners as one string, `, `-separated like `dpkg -S` prints them;
    /// `None` when no package owns `path`.
    pub fn owner(&self, path: &[u8]) -> Option<String> {
        let v = self.owners(path);
        (!v.is_empty()).then(|| v.join(", "))
    }

    /// How many packages were read.
    pub fn packages(&self) -> usize {
        self.names.len()
    }
}

/// The other name of a path on a merged-/usr system: `/usr/lib/x` for
/// `/lib/x` and the reverse; `None` outside those directories.
pub fn alias(path: &[u8]) -> Option<Vec<u8>> {
    if let Some(rest) = path.strip_prefix(b"/usr") {
        if MERGED.iter().any(|d| rest.starts_with(d)) {
            return Some(rest.to_vec());
        }
        return None;
    }
    MERGED
        .iter()
        .any(|d| path.starts_with(d))
        .then(|| [&b"/usr"[..], path].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_alias_and_shared_paths() {
        let mut o = Owners::default();
        o.add(
            "libssl3:amd64".into(),
            b"/.\n/usr\n/usr/lib\n/usr/lib/x86_64-linux-gnu/libssl.so.3\n",
        );
        o.add(
            "zlib1g:amd64".into(),
            b"/.\n/lib\n/lib/x86_64-linux-gnu/libz.so.1.2.13\n",
        );
        assert_eq!(
            o.owner(b"/usr/lib/x86_64-linux-gnu/libssl.so.3").as_deref(),
            Some("libssl3:amd64")
        );
        // Listed under /lib, mapped under /usr/lib (and the reverse).
        assert_eq!(
            o.owner(b"/usr/lib/x86_64-linux-gnu/libz.so.1.2.13")
                .as_deref(),
            Some("zlib1g:amd64")
        );
        assert_eq!(
            o.owner(b"/lib/x86_64-linux-gnu/libssl.so.3").as_deref(),
            Some("libssl3:amd64")
        );
        assert_eq!(
            o.owner(b"/.").as_deref(),
            Some("libssl3:amd64, zlib1g:amd64")
        );
        assert_eq!(o.owner(b"/opt/x.so"), None);
        assert_eq!(o.owner(b"/usr/local/lib/x.so"), None);
        assert_eq!(o.packages(), 2);
    }

    #[test]
    fn aliases() {
        assert_eq!(alias(b"/usr/lib/a").as_deref(), Some(&b"/lib/a"[..]));
        assert_eq!(
            alias(b"/sbin/init").as_deref(),
            Some(&b"/usr/sbin/init"[..])
        );
        assert_eq!(alias(b"/usr/share/a"), None);
        assert_eq!(alias(b"/libfoo/a"), None);
        assert_eq!(alias(b"/opt/a"), None);
    }

    #[test]
    fn loads_a_tree_and_tolerates_none() {
        let dir = std::env::temp_dir().join(format!("owners-{}", std::process::id()));
        let info = dir.join("var/lib/dpkg/info");
        std::fs::create_dir_all(&info).expect("mkdir");
        std::fs::write(info.join("bash.list"), "/.\n/bin\n/bin/bash\n").expect("write");
        std::fs::write(info.join("bash.md5sums"), "x  bin/bash\n").expect("write");
        let root = Root::new(Some(&dir)).expect("root");
        let o = Owners::load(&root);
        assert_eq!(o.manager(), Some("dpkg"));
        assert_eq!(o.owner(b"/usr/bin/bash").as_deref(), Some("bash"));
        assert_eq!(o.packages(), 1);
        let _ = std::fs::remove_dir_all(&dir);
        let none = Owners::load(&Root::new(Some(&std::env::temp_dir())).expect("root"));
        assert_eq!(none.manager(), None);
        assert_eq!(none.owner(b"/bin/bash"), None);
    }
}
