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
//! On an rpm system (no dpkg file lists) the index is built the same way
//! from rpm's SQLite database ([`crate::rpm`]): each package header's file
//! names (`DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]`), the package named as
//! `rpm -qf` prints it (`openssl-libs-3.0.7-24.el9.x86_64`). A database in
//! the older Berkeley DB or ndb formats gives no index (every owner
//! unknown), as does one that cannot be read.
//!
//! Not covered: dpkg diversions (`dpkg-divert`; the diverted path is
//! reported under the package that lists it).

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
///
/// One snapshot may need it for a whole dpkg database (some 150,000 paths
/// on a desktop), so it is built for speed: the list files are read into
/// one buffer, and an open-addressing table of entry numbers points into
/// it (no allocation per path). A path several packages list (a shared
/// directory) has one slot and a chain of entries.
#[derive(Debug, Default)]
pub struct Owners {
    manager: Option<&'static str>,
    /// Package names, indexed by `Entry::pkg`.
    names: Vec<String>,
    /// The content of every list file, one after the other.
    data: Vec<u8>,
    entries: Vec<Entry>,
    /// Entry number + 1 per slot, 0 for an empty slot; a power of two long.
    table: Vec<u32>,
}

/// One line of a list file: a path and the package that lists it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    off: u32,
    len: u32,
    pkg: u32,
    /// The next entry of the same path, + 1 (0: none).
    next: u32,
}

/// FNV-1a: quick on short keys and good enough for paths.
fn hash(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &c in b {
        h ^= u64::from(c);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
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
            return Self::load_rpm(root).unwrap_or_default();
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
        // Sorted, so that the owners of a shared path come in name order
        // whatever the readdir order.
        lists.sort();
        let mut spans = Vec::with_capacity(lists.len());
        for (pkg, path) in lists {
            let Ok(mut f) = std::fs::File::open(&path) else {
                continue;
            };
            let start = o.data.len();
            if std::io::Read::read_to_end(&mut f, &mut o.data).is_err() {
                o.data.truncate(start);
                continue;
            }
            if o.data.len() > u32::MAX as usize {
                // Beyond any real database: keep what fits.
                o.data.truncate(start);
                break;
            }
            spans.push((
                String::from_utf8_lossy(&pkg).into_owned(),
                start,
                o.data.len(),
            ));
        }
        o.index(spans);
        o
    }

    /// The index of rpm's database under `root`; `None` where there is no
    /// database this can read.
    fn load_rpm(root: &Root) -> Option<Self> {
        use crate::rpm::{self, tag};
        let db = rpm::db_path(root);
        if !db.is_file() {
            return None;
        }
        let rows = rpm::headers(&db, "ps-snap").ok()?;
        let mut lists: Vec<(String, Vec<u8>)> = Vec::with_capacity(rows.len());
        for (_, blob) in &rows {
            let Ok(h) = rpm::Header::parse(blob) else {
                continue;
            };
            let (Some(name), Some(version), Some(release)) = (
                h.string(tag::NAME),
                h.string(tag::VERSION),
                h.string(tag::RELEASE),
            ) else {
                continue;
            };
            let nevra = match h.string(tag::ARCH) {
                Some(arch) => format!("{name}-{version}-{release}.{arch}"),
                None => format!("{name}-{version}-{release}"),
            };
            let (base, dirs, idx) = (
                h.strings(tag::BASENAMES).unwrap_or_default(),
                h.strings(tag::DIRNAMES).unwrap_or_default(),
                h.ints(tag::DIRINDEXES).unwrap_or_default(),
            );
            let mut list = Vec::new();
            for (b, &d) in base.iter().zip(&idx) {
                let Some(dir) = usize::try_from(d).ok().and_then(|d| dirs.get(d)) else {
                    continue;
                };
                list.extend_from_slice(dir);
                list.extend_from_slice(b);
                list.push(b'\n');
            }
            list.pop();
            lists.push((nevra, list));
        }
        // In name order, so that the owners of a shared path are too.
        lists.sort();
        let mut o = Self::from_lists(lists);
        o.manager = Some("rpm");
        Some(o)
    }

    /// An index of the given file lists: (package, content of its `.list`
    /// file), in the order given.
    pub fn from_lists(lists: Vec<(String, Vec<u8>)>) -> Self {
        let mut o = Owners::default();
        let mut spans = Vec::with_capacity(lists.len());
        for (pkg, list) in lists {
            let start = o.data.len();
            o.data.extend_from_slice(&list);
            spans.push((pkg, start, o.data.len()));
        }
        o.index(spans);
        o
    }

    /// Build the table over `spans` (package, start, end) of `data`.
    fn index(&mut self, spans: Vec<(String, usize, usize)>) {
        let lines = spans
            .iter()
            .map(|&(_, s, e)| memchr::memchr_iter(b'\n', &self.data[s..e]).count() + 1)
            .sum::<usize>();
        let size = (lines * 2).next_power_of_two().max(16);
        self.table = vec![0; size];
        self.entries = Vec::with_capacity(lines);
        let mask = size - 1;
        for (pkg, start, end) in spans {
            let n = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
            self.names.push(pkg);
            let mut at = start;
            while at < end {
                let stop = memchr::memchr(b'\n', &self.data[at..end]).map_or(end, |i| at + i);
                let line = &self.data[at..stop];
                let (off, len) = (at, stop - at);
                at = stop + 1;
                if !line.starts_with(b"/") {
                    continue;
                }
                let mut slot = (hash(line) as usize) & mask;
                loop {
                    match self.table[slot] {
                        0 => {
                            self.entries.push(Entry {
                                off: off as u32,
                                len: len as u32,
                                pkg: n,
                                next: 0,
                            });
                            self.table[slot] = self.entries.len() as u32;
                            break;
                        }
                        e => {
                            let first = self.entries[e as usize - 1];
                            let (fo, fl) = (first.off as usize, first.len as usize);
                            if self.data[fo..fo + fl] != self.data[off..off + len] {
                                slot = (slot + 1) & mask;
                                continue;
                            }
                            // Another owner of a known path: at the end of
                            // its chain, unless this package is on it.
                            let mut last = e as usize - 1;
                            let mut dup = self.entries[last].pkg == n;
                            while self.entries[last].next != 0 && !dup {
                                last = self.entries[last].next as usize - 1;
                                dup = self.entries[last].pkg == n;
                            }
                            if !dup {
                                self.entries.push(Entry {
                                    off: off as u32,
                                    len: len as u32,
                                    pkg: n,
                                    next: 0,
                                });
                                self.entries[last].next = self.entries.len() as u32;
                            }
                            break;
                        }
                    }
                }
            }
        }
    }

    /// The package manager whose database was read (`dpkg`, `rpm`), `None`
    /// when there was none.
    pub fn manager(&self) -> Option<&'static str> {
        self.manager
    }

    /// The packages that list exactly `path`, in name order.
    fn exact(&self, path: &[u8]) -> Vec<&str> {
        let mut v = Vec::new();
        if self.table.is_empty() {
            return v;
        }
        let mask = self.table.len() - 1;
        let mut slot = (hash(path) as usize) & mask;
        while let Some(&e) = self.table.get(slot).filter(|&&e| e != 0) {
            let first = self.entries[e as usize - 1];
            let (fo, fl) = (first.off as usize, first.len as usize);
            if &self.data[fo..fo + fl] == path {
                let mut cur = e;
                while cur != 0 {
                    let en = self.entries[cur as usize - 1];
                    v.extend(self.names.get(en.pkg as usize).map(String::as_str));
                    cur = en.next;
                }
                break;
            }
            slot = (slot + 1) & mask;
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
        let o = Owners::from_lists(vec![
            (
                "libssl3:amd64".into(),
                b"/.\n/usr\n/usr/lib\n/usr/lib/x86_64-linux-gnu/libssl.so.3\n".to_vec(),
            ),
            (
                "zlib1g:amd64".into(),
                b"/.\n/lib\n/lib/x86_64-linux-gnu/libz.so.1.2.13\n".to_vec(),
            ),
        ]);
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
    fn shared_paths_chain_and_many_paths_all_found() {
        let mut lists = Vec::new();
        for p in 0..50 {
            let mut l = String::from("/.\n/usr\n/usr\n");
            for f in 0..200 {
                l.push_str(&format!("/usr/share/p{p}/f{f}\n"));
            }
            lists.push((format!("p{p:02}"), l.into_bytes()));
        }
        let o = Owners::from_lists(lists);
        let all: Vec<String> = (0..50).map(|p| format!("p{p:02}")).collect();
        assert_eq!(
            o.owners(b"/usr"),
            all.iter().map(String::as_str).collect::<Vec<_>>()
        );
        for p in 0..50 {
            for f in (0..200).step_by(37) {
                let path = format!("/usr/share/p{p}/f{f}");
                assert_eq!(o.owner(path.as_bytes()), Some(format!("p{p:02}")), "{path}");
            }
        }
        assert_eq!(o.owner(b"/usr/share/p1/f200"), None);
        assert_eq!(o.owner(b""), None);
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
