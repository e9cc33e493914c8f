//! dpkg's packages: the status database as dpkg reads it
//! ([`common::dpkg::Database`]: the status file with `updates/` applied),
//! apt's install reasons (/var/lib/apt/extended_states: a stanza with
//! `Auto-Installed: 1` marks a package installed as a dependency; a
//! package without one was asked for), holds (the `hold` selection, the
//! first word of `Status:`), install times (the modification time of the
//! package's file list, info/NAME.list, which dpkg writes when it unpacks
//! a version) and the cached .deb files of apt's archive cache.

use std::collections::HashMap;
use std::io::ErrorKind;

use common::dpkg::{self as db, Database};
use common::records::package::Package;

use crate::cache::Cache;
use common::{Error, Result, Root};

/// apt's record of which packages were installed automatically.
pub const EXTENDED_STATES: &str = "/var/lib/apt/extended_states";
/// apt's cache of downloaded package files.
pub const ARCHIVES: &str = "/var/cache/apt/archives";

/// Every package dpkg lists (`dpkg-query -W`: all but `not-installed`),
/// or `None` when the system has no dpkg database.
pub fn read(root: &Root) -> Result<Option<Vec<Package>>> {
    let Some(db) = Database::read(root)? else {
        return Ok(None);
    };
    let reasons = Reasons::read(root)?;
    let cache = Cache::read(root, ARCHIVES, ".deb")?;
    // The info directory, opened once: a stat relative to it walks one
    // name, not the whole path, for each of thousands of packages.
    let info = rustix::fs::open(
        db.admindir.join("info"),
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .ok();
    let mut out = Vec::with_capacity(db.packages.len());
    for st in db.known() {
        let Some(name) = st.package() else { continue };
        let mut p = Package::new("dpkg", name);
        p.arch = st.arch().map(str::to_owned);
        p.version = st.get("Version").map(str::to_owned);
        p.source = st.source().map(str::to_owned);
        if let Some((want, _, state)) = st.status() {
            p.status = state.to_owned();
            p.held = Some(want == "hold");
        }
        p.install_reason = reasons
            .as_ref()
            .map(|r| r.of(name, p.arch.as_deref()).to_owned());
        p.install_time = info
            .as_ref()
            .zip(st.info_name())
            .and_then(|(dir, base)| {
                rustix::fs::statat(dir, format!("{base}.list"), rustix::fs::AtFlags::empty()).ok()
            })
            .map(|m| common::time::rfc3339(m.st_mtime, m.st_mtime_nsec as u32));
        p.cached = cache.files(name, p.arch.as_deref());
        out.push(p);
    }
    Ok(Some(out))
}

/// apt's extended_states: the (name, architecture) pairs marked
/// `Auto-Installed: 1`.
struct Reasons {
    auto: HashMap<String, Vec<String>>,
}

impl Reasons {
    /// `None` when apt keeps no such file (no apt, or never used).
    fn read(root: &Root) -> Result<Option<Reasons>> {
        let path = root.path(EXTENDED_STATES);
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, &e)),
        };
        let mut auto: HashMap<String, Vec<String>> = HashMap::new();
        for st in db::parse(&data, &path)? {
            if st.get("Auto-Installed") == Some("1") {
                if let Some(name) = st.package() {
                    auto.entry(name.to_owned())
                        .or_default()
                        .push(st.arch().unwrap_or("").to_owned());
                }
            }
        }
        Ok(Some(Reasons { auto }))
    }

    /// `auto` or `manual`. apt records an `Architecture: all` package
    /// under the native architecture, so for one of those any entry of
    /// the name counts.
    fn of(&self, name: &str, arch: Option<&str>) -> &'static str {
        let auto = self.auto.get(name).is_some_and(|archs| {
            archs
                .iter()
                .any(|a| Some(a.as_str()) == arch || arch == Some("all") || arch.is_none())
        });
        if auto {
            "auto"
        } else {
            "manual"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("pkg-snap-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn write(base: &Path, rel: &str, data: &str) {
        let p = base.join(rel);
        if let Some(parent) = p.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(p, data);
    }

    #[test]
    fn reasons_holds_and_cache() {
        let d = scratch("dpkg");
        write(
            &d,
            "var/lib/dpkg/status",
            "Package: a\nStatus: hold ok installed\nArchitecture: amd64\nVersion: 1:2.0-1\nSource: asrc (2.0-0)\n\n\
             Package: b\nStatus: install ok installed\nArchitecture: all\nVersion: 3\n\n\
             Package: c\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 4\n\n\
             Package: gone\nStatus: purge ok not-installed\nArchitecture: amd64\n",
        );
        write(
            &d,
            "var/lib/apt/extended_states",
            "Package: b\nArchitecture: amd64\nAuto-Installed: 1\n\nPackage: a\nArchitecture: amd64\nAuto-Installed: 0\n",
        );
        write(&d, "var/cache/apt/archives/a_1%3a1.0-1_amd64.deb", "");
        write(&d, "var/cache/apt/archives/a_1%3a2.0-1_i386.deb", "");
        write(&d, "var/cache/apt/archives/lock", "");
        write(&d, "var/cache/apt/archives/b_2_all.deb", "");
        write(&d, "var/lib/dpkg/info/a.list", "/.\n");
        let root = Root::new(Some(&d)).unwrap_or_default();
        let p = read(&root).ok().flatten().unwrap_or_default();
        let _ = std::fs::remove_dir_all(&d);
        let by = |n: &str| p.iter().find(|x| x.name == n).cloned();
        assert_eq!(p.len(), 3, "{p:?}");
        let a = by("a").unwrap_or_else(|| panic!("a"));
        assert_eq!(a.held, Some(true));
        assert_eq!(a.source.as_deref(), Some("asrc"));
        assert_eq!(a.install_reason.as_deref(), Some("manual"));
        assert_eq!(a.cached, ["/var/cache/apt/archives/a_1%3a1.0-1_amd64.deb"]);
        assert!(a.install_time.is_some());
        let b = by("b").unwrap_or_else(|| panic!("b"));
        assert_eq!(b.install_reason.as_deref(), Some("auto"));
        assert_eq!(b.source.as_deref(), Some("b"));
        assert_eq!(b.cached, ["/var/cache/apt/archives/b_2_all.deb"]);
        assert_eq!(b.install_time, None);
        let c = by("c").unwrap_or_else(|| panic!("c"));
        assert_eq!((c.status.as_str(), c.held), ("config-files", Some(false)));
    }

    #[test]
    fn without_apt_the_reason_is_unknown() {
        let d = scratch("noapt");
        write(
            &d,
            "var/lib/dpkg/status",
            "Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n",
        );
        let root = Root::new(Some(&d)).unwrap_or_default();
        let p = read(&root).ok().flatten().unwrap_or_default();
        let _ = std::fs::remove_dir_all(&d);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].install_reason, None);
        assert!(p[0].cached.is_empty());
    }
}
