//! What dpkg says a package installed, read as `dpkg --verify` reads it
//! (src/main/verify.c): the package's file list (`info/NAME.list`), the
//! digests of its `md5sums` and, for files without one, the conffile
//! digests of the status file; a file diverted away from a package
//! (`dpkg-divert`) is looked for where the diversion put it.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::Path;

use common::dpkg::{Database, Stanza};
use common::{Error, Result};

/// One file a package installed, and what to check it against.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Index of the package in [`Plan::packages`].
    pub pkg: u32,
    /// The system path to look at (after diversions), `/`-prefixed.
    pub path: Vec<u8>,
    /// The MD5 digest the file must have (hex, as dpkg records it; a
    /// conffile not yet unpacked has `newconffile`); `None`: only its
    /// existence is checked (directories, symlinks).
    pub hash: Option<String>,
    /// One of the package's conffiles.
    pub conffile: bool,
}

/// Everything to check, package by package.
#[derive(Debug, Default)]
pub struct Plan {
    /// The package names as records show them (`NAME` or `NAME:ARCH`).
    pub packages: Vec<String>,
    pub entries: Vec<Entry>,
    /// Packages (other than `config-files` ones) whose file list is gone:
    /// dpkg assumes they have no files.
    pub without_list: Vec<String>,
}

/// `dpkg-divert`'s diversions: from, to, and the diverting package (`None`
/// for a local diversion, made by the admin).
#[derive(Debug, Default)]
pub struct Diversions {
    map: HashMap<Vec<u8>, (Vec<u8>, Option<String>)>,
}

impl Diversions {
    /// Read ADMINDIR/diversions (absent: none).
    pub fn read(admindir: &Path) -> Result<Self> {
        let file = admindir.join("diversions");
        let data = match std::fs::read(&file) {
            Ok(d) => d,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(Error::io(&file, &e)),
        };
        // Lines of three: from, to, package; the last one ends in `\n`.
        let body = data.strip_suffix(b"\n").unwrap_or(&data);
        let mut lines = body.split(|&c| c == b'\n');
        let mut map = HashMap::new();
        let mut n = 0;
        while let Some(from) = lines.next() {
            n += 1;
            if body.is_empty() {
                break;
            }
            let (Some(to), Some(pkg)) = (lines.next(), lines.next()) else {
                return Err(Error::new(format!(
                    "{}:{n}: a diversion without its target and package lines; \
                     is this dpkg's diversions file? (dpkg-divert --list shows it)",
                    file.display()
                )));
            };
            n += 2;
            let pkg = (pkg != b":").then(|| String::from_utf8_lossy(pkg).into_owned());
            map.insert(normalize(from), (normalize(to), pkg));
        }
        Ok(Diversions { map })
    }

    /// dpkg's `namenodetouse`: where the file `path` of package `name`
    /// really is. A diversion applies to every package but the one that
    /// made it.
    pub fn path_for<'a>(&'a self, path: &'a [u8], name: &str) -> &'a [u8] {
        match self.map.get(path) {
            Some((to, by)) if by.as_deref() != Some(name) => to,
            _ => path,
        }
    }
}

/// A path as dpkg's file name hash keeps it: leading slashes and `./`
/// pairs skipped, one `/` put in front, one trailing `/` dropped.
pub fn normalize(p: &[u8]) -> Vec<u8> {
    let mut p = p;
    loop {
        while let [b'/', rest @ ..] = p {
            p = rest;
        }
        match p {
            [b'.', b'/', rest @ ..] => p = rest,
            _ => break,
        }
    }
    if let [rest @ .., b'/'] = p {
        p = rest;
    }
    let mut out = Vec::with_capacity(p.len() + 1);
    out.push(b'/');
    out.extend_from_slice(p);
    out
}

/// The name of a package as dpkg prints it when it must not be ambiguous:
/// `NAME:ARCH` for `Multi-Arch: same`, `NAME` otherwise.
pub fn display_name(st: &Stanza) -> String {
    st.info_name().unwrap_or_default()
}

/// Read a package's info file; `None` when it does not exist.
fn read_info(db: &Database, st: &Stanza, ext: &str) -> Result<Option<Vec<u8>>> {
    let Some(p) = db.info_file(st, ext) else {
        return Ok(None);
    };
    match std::fs::read(&p) {
        Ok(d) => Ok(Some(d)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(&p, &e)),
    }
}

/// The lines of an info file, without empty ones.
fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|&c| c == b'\n').filter(|l| !l.is_empty())
}

/// A package's `md5sums`: path to hex digest. dpkg insists on the
/// `HASH  PATH` layout; a line that breaks it is trouble here too.
fn md5sums(db: &Database, st: &Stanza) -> Result<HashMap<Vec<u8>, String>> {
    let mut out = HashMap::new();
    let Some(data) = read_info(db, st, "md5sums")? else {
        return Ok(out);
    };
    for (i, line) in data.split(|&c| c == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        match (line.get(..32), line.get(32..34), line.get(34..)) {
            (Some(h), Some(b"  "), Some(p)) if !p.is_empty() && p != b"/" => {
                out.insert(normalize(p), String::from_utf8_lossy(h).into_owned());
            }
            _ => {
                let file = db.info_file(st, "md5sums").unwrap_or_default();
                return Err(Error::new(format!(
                    "{}:{}: not a `HASH  PATH` line of dpkg's md5sums; \
                     reinstall the package (apt-get install --reinstall {})",
                    file.display(),
                    i + 1,
                    st.package().unwrap_or("?")
                )));
            }
        }
    }
    Ok(out)
}

/// Add the files of one package to the plan.
pub fn add_package(db: &Database, div: &Diversions, st: &Stanza, plan: &mut Plan) -> Result<()> {
    let name = st.package().unwrap_or_default();
    let shown = display_name(st);
    let Some(list) = read_info(db, st, "list")? else {
        if st.state() != Some("config-files") {
            plan.without_list.push(shown);
        }
        return Ok(());
    };
    let idx = u32::try_from(plan.packages.len()).unwrap_or(u32::MAX);
    plan.packages.push(shown);
    let sums = md5sums(db, st)?;
    let conffiles: HashMap<Vec<u8>, String> = st
        .conffiles()
        .into_iter()
        .map(|c| (normalize(&c.path), c.hash))
        .collect();
    for line in lines(&list) {
        let listed = normalize(line);
        let path = div.path_for(&listed, name);
        let conf = conffiles.get(path);
        let hash = sums.get(path).or(conf).cloned();
        plan.entries.push(Entry {
            pkg: idx,
            path: path.to_vec(),
            hash,
            conffile: conf.is_some(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized_as_dpkg_does() {
        assert_eq!(normalize(b"usr/bin/x"), b"/usr/bin/x");
        assert_eq!(normalize(b"/usr/bin/"), b"/usr/bin");
        assert_eq!(normalize(b"//././/etc/x"), b"/etc/x");
        assert_eq!(normalize(b"/."), b"/.");
    }

    #[test]
    fn diversions_spare_the_diverting_package() {
        let dir = std::env::temp_dir().join(format!("pkgv-div-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(
            dir.join("diversions"),
            "/bin/sh\n/bin/sh.distrib\ndash\n/etc/x\n/etc/x.orig\n:\n",
        );
        let d = Diversions::read(&dir).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(d.path_for(b"/bin/sh", "bash"), b"/bin/sh.distrib");
        assert_eq!(d.path_for(b"/bin/sh", "dash"), b"/bin/sh");
        assert_eq!(d.path_for(b"/etc/x", "any"), b"/etc/x.orig");
        assert_eq!(d.path_for(b"/etc/y", "any"), b"/etc/y");
    }

    #[test]
    fn a_truncated_diversions_file_is_trouble() {
        let dir = std::env::temp_dir().join(format!("pkgv-div2-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("diversions"), "/bin/sh\n/bin/sh.distrib\n");
        let e = Diversions::read(&dir).err().map(|e| e.to_string());
        let _ = std::fs::remove_dir_all(&dir);
        assert!(e.unwrap_or_default().contains("diversions:1:"));
    }
}
