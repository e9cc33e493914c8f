//! Which configuration files a package owns, and what it shipped.
//!
//! dpkg: the `Conffiles:` field of the package's stanza in
//! /var/lib/dpkg/status, read with its pending updates by common::dpkg
//! (`/path md5 [obsolete|remove-on-upgrade]`, the md5
//! of the file as shipped) and /var/lib/dpkg/info/NAME[:ARCH].conffiles.
//! ucf: /var/lib/ucf/registry (`package path`) names files that maintainer
//! scripts manage outside dpkg's conffile mechanism (on Debian
//! /etc/ssh/sshd_config belongs to openssh-server this way), and
//! /var/lib/ucf/hashfile keeps the md5 of the maintainer's version.
//! rpm: `rpm -q --qf` on the live system only, when rpm is installed.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

use common::dpkg::{Database, Stanza};
use common::{Error, Result, Root};

use crate::model::normalize;

/// The checksum a package manager recorded for a file as shipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shipped {
    Md5(String),
    Sha256(String),
}

impl Shipped {
    fn parse(hex: &str) -> Option<Shipped> {
        let ok = hex
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c));
        match hex.len() {
            32 if ok => Some(Shipped::Md5(hex.to_owned())),
            64 if ok => Some(Shipped::Sha256(hex.to_owned())),
            // dpkg writes "newconffile" for a conffile not yet installed.
            _ => None,
        }
    }
}

/// One configuration file of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkgFile {
    pub path: Vec<u8>,
    pub shipped: Option<Shipped>,
    /// `dpkg`, `dpkg-obsolete`, `dpkg-remove-on-upgrade`, `ucf` or `rpm`.
    pub origin: &'static str,
}

/// A package as one package manager knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: Option<String>,
    pub manager: &'static str,
    pub files: Vec<PkgFile>,
}

/// The package `name` (`name` or `name:arch`) in every package manager
/// that knows it. Unknown everywhere is an error (exit 2).
pub fn lookup(root: &Root, name: &str) -> Result<Vec<Package>> {
    if name.is_empty() || name.contains('/') || name.contains(char::is_whitespace) {
        return Err(Error::new(format!(
            "--package {name:?}: not a package name"
        )));
    }
    let mut found = Vec::new();
    if let Some(p) = dpkg(root, name)? {
        found.push(p);
    }
    if root.is_live() {
        if let Some(p) = rpm(name) {
            found.push(p);
        }
    }
    if found.is_empty() {
        return Err(Error::new(format!(
            "--package {name}: not installed (no stanza in {}, no {}, not in {}{}); check the name with dpkg -l or rpm -qa",
            root.path("/var/lib/dpkg/status").display(),
            root.path(format!("/var/lib/dpkg/info/{name}.conffiles")).display(),
            root.path("/var/lib/ucf/registry").display(),
            if root.is_live() { ", unknown to rpm" } else { "" }
        )));
    }
    Ok(found)
}

/// Fields split on ASCII whitespace.
fn words(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|c| c.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn read_bytes(p: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(p) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(p, &e)),
    }
}

fn add(
    files: &mut BTreeMap<Vec<u8>, PkgFile>,
    path: &[u8],
    shipped: Option<Shipped>,
    origin: &'static str,
) {
    let Ok(p) = normalize(path) else {
        return;
    };
    let e = files.entry(p.clone()).or_insert(PkgFile {
        path: p,
        shipped: None,
        origin,
    });
    if e.shipped.is_none() {
        e.shipped = shipped;
    }
    // A flag from dpkg says more than a plain listing.
    if origin.starts_with("dpkg-") {
        e.origin = origin;
    }
}

fn dpkg(root: &Root, name: &str) -> Result<Option<Package>> {
    let db = Database::read(root)?;
    dpkg_in(root, db.as_ref(), name)
}

/// [`dpkg`] with the status database already read (`None`: none there).
fn dpkg_in(root: &Root, db: Option<&Database>, name: &str) -> Result<Option<Package>> {
    let (pkg, arch) = match name.split_once(':') {
        Some((p, a)) => (p, Some(a)),
        None => (name, None),
    };
    let mut files = BTreeMap::new();
    let mut known = false;
    let mut version = None;

    // Every entry dpkg lists (config-files too: its conffiles are still
    // there), with pending updates applied.
    for st in db.into_iter().flat_map(Database::known) {
        if st.package() != Some(pkg) || (arch.is_some() && st.arch() != arch) {
            continue;
        }
        known = true;
        if version.is_none() {
            version = st.get("Version").map(str::to_owned);
        }
        for c in st.conffiles() {
            let origin = if c.flags.iter().any(|f| f == "obsolete") {
                "dpkg-obsolete"
            } else if c.flags.iter().any(|f| f == "remove-on-upgrade") {
                "dpkg-remove-on-upgrade"
            } else {
                "dpkg"
            };
            add(&mut files, &c.path, Shipped::parse(&c.hash), origin);
        }
    }

    // info/NAME.conffiles, info/NAME:ARCH.conffiles (multi-arch packages).
    let info = root.path("/var/lib/dpkg/info");
    let mut lists = vec![info.join(format!("{pkg}.conffiles"))];
    match arch {
        Some(a) => lists.push(info.join(format!("{pkg}:{a}.conffiles"))),
        None => {
            if let Ok(rd) = fs::read_dir(&info) {
                let prefix = format!("{pkg}:");
                for e in rd.flatten() {
                    let n = e.file_name();
                    let n = n.as_bytes();
                    if n.starts_with(prefix.as_bytes()) && n.ends_with(b".conffiles") {
                        lists.push(e.path());
                    }
                }
            }
        }
    }
    lists.sort();
    for l in lists {
        let Some(data) = read_bytes(&l)? else {
            continue;
        };
        known = true;
        for line in data.split(|&c| c == b'\n') {
            // Lines are `/path` or, since dpkg 1.20.1, `flag /path`.
            let mut w = words(line).collect::<Vec<_>>();
            let Some(path) = w.pop() else { continue };
            let origin = if w.contains(&&b"remove-on-upgrade"[..]) {
                "dpkg-remove-on-upgrade"
            } else {
                "dpkg"
            };
            add(&mut files, path, None, origin);
        }
    }

    // ucf: registry says whose the file is, hashfile what was shipped.
    let mut hashes = BTreeMap::new();
    if let Some(data) = read_bytes(&root.path("/var/lib/ucf/hashfile"))? {
        for line in data.split(|&c| c == b'\n') {
            let mut f = words(line);
            if let (Some(m), Some(p)) = (f.next(), f.next()) {
                hashes.insert(p.to_vec(), text(m));
            }
        }
    }
    if let Some(data) = read_bytes(&root.path("/var/lib/ucf/registry"))? {
        for line in data.split(|&c| c == b'\n') {
            let mut f = words(line);
            if let (Some(p), Some(path)) = (f.next(), f.next()) {
                if p == pkg.as_bytes() || p == name.as_bytes() {
                    known = true;
                    let shipped = hashes.get(path).and_then(|m| Shipped::parse(m));
                    add(&mut files, path, shipped, "ucf");
                }
            }
        }
    }

    Ok(known.then(|| Package {
        name: name.to_owned(),
        version,
        manager: "dpkg",
        files: files.into_values().collect(),
    }))
}

/// Why a package is related to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relation {
    /// Built from the same source package (named).
    SameSource(String),
    /// Named in its `Depends:` or `Pre-Depends:`.
    Dependency,
}

impl Relation {
    pub fn describe(&self) -> String {
        match self {
            Relation::SameSource(src) => format!("built from the same source, {src}"),
            Relation::Dependency => "a dependency".to_owned(),
        }
    }
}

/// The package names a `Depends:` value names: every alternative, without
/// version constraints or architecture qualifiers (`libc6 (>= 2.34)`,
/// `a | b`, `python3:any`).
fn dependency_names(field: &str) -> Vec<String> {
    field
        .split([',', '|'])
        .filter_map(|d| d.split_whitespace().next())
        .map(|d| d.split(':').next().unwrap_or(d))
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The installed dpkg packages related to `name` (same source package, or
/// a direct dependency) that own configuration files, with their relation:
/// those of the same source first, each group in name order. For a package whose own files are elsewhere: nginx's
/// configuration belongs to nginx-common.
pub fn related(root: &Root, name: &str) -> Result<Vec<(String, Relation)>> {
    let pkg = name.split_once(':').map_or(name, |(p, _)| p);
    let Some(db) = Database::read(root)? else {
        return Ok(Vec::new());
    };
    let installed: Vec<&Stanza> = db
        .known()
        .filter(|st| st.state() != Some("config-files"))
        .collect();
    let source_of = |st: &Stanza| st.source().unwrap_or_default().to_owned();
    let mut found: BTreeMap<String, Relation> = BTreeMap::new();
    for me in installed.iter().filter(|st| st.package() == Some(pkg)) {
        let src = source_of(me);
        for st in installed.iter().filter(|st| st.package() != Some(pkg)) {
            if let (true, Some(n)) = (source_of(st) == src, st.package()) {
                found.insert(n.to_owned(), Relation::SameSource(src.clone()));
            }
        }
        let depends = ["Pre-Depends", "Depends"]
            .into_iter()
            .filter_map(|f| me.get(f))
            .flat_map(dependency_names);
        for d in depends {
            if d != pkg && installed.iter().any(|st| st.package() == Some(d.as_str())) {
                found.entry(d).or_insert(Relation::Dependency);
            }
        }
    }
    let mut out = Vec::new();
    for (n, why) in found {
        if dpkg_in(root, Some(&db), &n)?.is_some_and(|p| !p.files.is_empty()) {
            out.push((n, why));
        }
    }
    // The same source first: that is where a split package's files are.
    out.sort_by_key(|(n, why)| (*why == Relation::Dependency, n.clone()));
    Ok(out)
}

/// rpm's view, when an `rpm` binary is on PATH and knows the package.
fn rpm(name: &str) -> Option<Package> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find(|d| d.join("rpm").is_file())?;
    let q = |fmt: &str| -> Option<String> {
        let out = Command::new("rpm")
            .args(["-q", "--qf", fmt, name])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let version = q("%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\n")?;
    let listing = q("[%{FILEFLAGS:fflags}\\t%{FILEDIGESTS}\\t%{FILENAMES}\\n]")?;
    Some(Package {
        name: name.to_owned(),
        version: version.lines().next().map(str::to_owned),
        manager: "rpm",
        files: parse_rpm_files(&listing),
    })
}

/// `fflags<TAB>digest<TAB>path` lines; config files have `c` in fflags.
fn parse_rpm_files(listing: &str) -> Vec<PkgFile> {
    let mut files = BTreeMap::new();
    for line in listing.lines() {
        let mut f = line.splitn(3, '\t');
        if let (Some(flags), Some(digest), Some(path)) = (f.next(), f.next(), f.next()) {
            if flags.contains('c') {
                add(&mut files, path.as_bytes(), Shipped::parse(digest), "rpm");
            }
        }
    }
    files.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Package: libc6\nStatus: install ok installed\nVersion: 2.36\n\n\
Package: openssh-server\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:9.2p1-2+deb12u3\n\
Conffiles:\n /etc/default/ssh 500e3cf069fe9a7b9936108eb9d9c035\n /etc/init.d/ssh 3649a6fe8c18ad1d5245fd91737de507\n \
/etc/ssh/moduli 8bd2e0cb3ee4fc3fea3ef7fdba3b0c4b obsolete\n /etc/new.conf newconffile remove-on-upgrade\n\
Description: secure shell server\n\n\
Package: gone\nStatus: purge ok not-installed\nVersion: 1\n";

    fn tree() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("cfg-backup-pkg-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(d.join("var/lib/dpkg/info")).expect("mkdir");
        fs::create_dir_all(d.join("var/lib/ucf")).expect("mkdir");
        fs::write(d.join("var/lib/dpkg/status"), STATUS).expect("write");
        fs::write(
            d.join("var/lib/dpkg/info/openssh-server.conffiles"),
            "/etc/default/ssh\n/etc/init.d/ssh\nremove-on-upgrade /etc/new.conf\n",
        )
        .expect("write");
        fs::write(
            d.join("var/lib/ucf/registry"),
            "openssh-server\t\t/etc/ssh/sshd_config\nother /etc/other\n",
        )
        .expect("write");
        fs::write(
            d.join("var/lib/ucf/hashfile"),
            "cf3b3e2d5b2d8a9e3e6c8e4e1fb0c2d3  /etc/ssh/sshd_config\n",
        )
        .expect("write");
        d
    }

    #[test]
    fn dpkg_and_ucf_files_with_flags_and_md5s() {
        let d = tree();
        let root = Root::new(Some(&d)).expect("root");
        let p = lookup(&root, "openssh-server").expect("known");
        assert_eq!(p.len(), 1);
        let p = &p[0];
        assert_eq!(p.version.as_deref(), Some("1:9.2p1-2+deb12u3"));
        assert_eq!(p.manager, "dpkg");
        let by: BTreeMap<_, _> = p
            .files
            .iter()
            .map(|f| (String::from_utf8_lossy(&f.path).into_owned(), f))
            .collect();
        assert_eq!(by.len(), 5, "{by:?}");
        assert_eq!(by["/etc/ssh/moduli"].origin, "dpkg-obsolete");
        assert_eq!(by["/etc/new.conf"].origin, "dpkg-remove-on-upgrade");
        assert_eq!(by["/etc/new.conf"].shipped, None);
        assert_eq!(by["/etc/ssh/sshd_config"].origin, "ucf");
        assert_eq!(
            by["/etc/ssh/sshd_config"].shipped,
            Some(Shipped::Md5("cf3b3e2d5b2d8a9e3e6c8e4e1fb0c2d3".into()))
        );
        assert_eq!(
            by["/etc/default/ssh"].shipped,
            Some(Shipped::Md5("500e3cf069fe9a7b9936108eb9d9c035".into()))
        );
        // Installed without conffiles: known, no files.
        let libc = lookup(&root, "libc6").expect("known");
        assert!(libc[0].files.is_empty());
        assert_eq!(libc[0].version.as_deref(), Some("2.36"));
        // Purged and unknown packages are errors naming the status file.
        for n in ["gone", "no-such-package"] {
            let e = lookup(&root, n).expect_err(n);
            assert_eq!(e.code(), 2);
            assert!(e.to_string().contains("var/lib/dpkg/status"), "{e}");
        }
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn dependency_fields_name_every_alternative_without_versions() {
        assert_eq!(
            dependency_names(
                "nginx-common (= 1.22.1-9), libc6 (>= 2.34), libssl3 | libssl1.1, python3:any"
            ),
            vec!["nginx-common", "libc6", "libssl3", "libssl1.1", "python3"]
        );
        assert!(dependency_names("").is_empty());
    }

    #[test]
    fn rpm_listing_keeps_config_files() {
        let files = parse_rpm_files(
            "c\t0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\t/etc/ssh/sshd_config\n\
             \tabc\t/usr/sbin/sshd\n\
             cn\t\t/etc/pam.d/sshd\n",
        );
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, b"/etc/pam.d/sshd");
        assert_eq!(files[0].shipped, None);
        assert!(matches!(files[1].shipped, Some(Shipped::Sha256(_))));
    }
}
