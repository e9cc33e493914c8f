//! `package` records (pkg-snap): one installed package.
//!
//! Besides the record, what every reader of package records needs: which
//! way a version moved by the manager's own ordering ([`direction`]), and
//! the version a cached package file holds, read from its name
//! ([`cached_version`]), so that a diff can say whether the version before
//! an upgrade is still on hand for a rollback.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

/// The value of `"kind"`.
pub const KIND: &str = "package";
/// Every top-level field name, spelled once.
pub mod field {
    pub const KIND: &str = "kind";
    pub const HOST: &str = "host";
    pub const MANAGER: &str = "manager";
    pub const NAME: &str = "name";
    pub const ARCH: &str = "arch";
    pub const VERSION: &str = "version";
    pub const SOURCE: &str = "source";
    pub const STATUS: &str = "status";
    pub const INSTALL_REASON: &str = "install_reason";
    pub const HELD: &str = "held";
    pub const INSTALL_TIME: &str = "install_time";
    pub const CACHED: &str = "cached";
}

use field as f;

/// What pairs a package with itself in another snapshot.
pub const IDENTITY: &[&str] = &[f::HOST, f::MANAGER, f::NAME, f::ARCH];
/// Fields snap-diff ignores by default: they change without the package
/// changing (an `apt-get clean` empties every `cached`; a reinstall of the
/// same version renews `install_time`).
pub const VOLATILE: &[&str] = &[f::INSTALL_TIME, f::CACHED];
/// The fields in the order pkg-snap writes them.
pub const FIELDS: &[&str] = &[
    f::KIND,
    f::HOST,
    f::MANAGER,
    f::NAME,
    f::ARCH,
    f::VERSION,
    f::SOURCE,
    f::STATUS,
    f::INSTALL_REASON,
    f::HELD,
    f::INSTALL_TIME,
    f::CACHED,
];

/// One installed package (fields in `man 5 snap-records`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// Always [`KIND`].
    pub kind: String,
    pub host: Option<String>,
    /// `dpkg` or `rpm`.
    pub manager: String,
    pub name: String,
    pub arch: Option<String>,
    /// Exactly as the manager prints it: dpkg's
    /// `[epoch:]upstream[-revision]`, rpm's `[epoch:]version-release`.
    pub version: Option<String>,
    /// The source package (dpkg), or the source rpm's file name (rpm).
    pub source: Option<String>,
    /// dpkg's state word (`installed`, `config-files`, ...); `installed`
    /// for every package in an rpm database.
    pub status: String,
    /// `manual` or `auto`, from apt's or dnf's records; null where unknown.
    pub install_reason: Option<String>,
    /// On hold (dpkg's `hold` selection); null where the manager has no
    /// such record.
    pub held: Option<bool>,
    /// When the installed version was installed (RFC 3339 UTC).
    pub install_time: Option<String>,
    /// Package files of this name in the local package cache, any version,
    /// sorted: what a rollback can use without the network.
    pub cached: Vec<String>,
}

impl Package {
    /// A record with the fields every manager has; the rest null or empty.
    pub fn new(manager: &str, name: &str) -> Package {
        Package {
            kind: KIND.to_owned(),
            host: None,
            manager: manager.to_owned(),
            name: name.to_owned(),
            arch: None,
            version: None,
            source: None,
            status: "installed".to_owned(),
            install_reason: None,
            held: None,
            install_time: None,
            cached: Vec::new(),
        }
    }
}

/// Which way a version moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Upgrade,
    Downgrade,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
        }
    }
}

/// Compare two versions by the ordering of `manager` (`dpkg`, `rpm`);
/// `None` for another manager or a version it would refuse.
pub fn compare(manager: &str, a: &str, b: &str) -> Option<Ordering> {
    match manager {
        "dpkg" => crate::dpkg::compare(a, b),
        "rpm" => crate::rpmver::compare(a, b),
        _ => None,
    }
}

/// The direction from version `before` to `after`; `None` when they are
/// equal by the manager's ordering (`1.0` and `1.0-0` for dpkg) or cannot
/// be compared.
pub fn direction(manager: &str, before: &str, after: &str) -> Option<Direction> {
    match compare(manager, before, after)? {
        Ordering::Less => Some(Direction::Upgrade),
        Ordering::Greater => Some(Direction::Downgrade),
        Ordering::Equal => None,
    }
}

/// The (name, version, arch) a cached package file holds, from its name:
/// dpkg's `NAME_VERSION_ARCH.deb` (as apt names the files it downloads,
/// the version's `:` written `%3a`) or rpm's `NAME-VERSION-RELEASE.ARCH.rpm`
/// (the epoch is not in the name: the version is `VERSION-RELEASE`).
pub fn cached_version(path: &str) -> Option<(String, String, String)> {
    let file = path.rsplit('/').next()?;
    if let Some(stem) = file.strip_suffix(".deb") {
        let mut parts = stem.split('_');
        let (name, version, arch) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || name.is_empty() || version.is_empty() || arch.is_empty() {
            return None;
        }
        return Some((name.to_owned(), unquote(version), arch.to_owned()));
    }
    let stem = file.strip_suffix(".rpm")?;
    let (nvr, arch) = stem.rsplit_once('.')?;
    let (nv, release) = nvr.rsplit_once('-')?;
    let (name, version) = nv.rsplit_once('-')?;
    if [name, version, release, arch].iter().any(|s| s.is_empty()) {
        return None;
    }
    Some((
        name.to_owned(),
        format!("{version}-{release}"),
        arch.to_owned(),
    ))
}

/// apt's file names quote with `%XX` (only `:` occurs in practice).
fn unquote(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The file among `cached` that holds `version` of the package, the
/// rollback candidate: for rpm, whose file names carry no epoch, the
/// version is compared without it.
pub fn cached_file<'a>(manager: &str, cached: &'a [String], version: &str) -> Option<&'a str> {
    let want = match manager {
        "rpm" => version.split_once(':').map_or(version, |(_, v)| v),
        _ => version,
    };
    cached
        .iter()
        .find(|p| cached_version(p).is_some_and(|(_, v, _)| v == want))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_by_the_managers_ordering() {
        let d = |m, a, b| direction(m, a, b).map(Direction::name);
        assert_eq!(
            d("dpkg", "1:9.2p1-2+deb12u9", "1:9.2p1-2+deb12u10"),
            Some("upgrade")
        );
        assert_eq!(d("dpkg", "1.0", "1.0~rc1"), Some("downgrade"));
        assert_eq!(d("dpkg", "1.0", "1.0-0"), None);
        assert_eq!(d("rpm", "1.0-1.el9", "1.0-1.el9_1"), Some("upgrade"));
        assert_eq!(d("rpm", "1:1.0-1", "2.0-1"), Some("downgrade"));
        assert_eq!(d("pacman", "1", "2"), None);
    }

    #[test]
    fn cached_file_names() {
        assert_eq!(
            cached_version("/var/cache/apt/archives/openssh-server_1%3a9.2p1-2+deb12u9_amd64.deb"),
            Some((
                "openssh-server".into(),
                "1:9.2p1-2+deb12u9".into(),
                "amd64".into()
            ))
        );
        assert_eq!(
            cached_version("/var/cache/dnf/baseos-1/packages/glibc-common-2.34-60.el9.x86_64.rpm"),
            Some(("glibc-common".into(), "2.34-60.el9".into(), "x86_64".into()))
        );
        assert_eq!(cached_version("/x/lock"), None);
        assert_eq!(cached_version("/x/a_b.deb"), None);
        let cached = vec![
            "/c/openssh-server_1%3a9.2p1-2+deb12u9_amd64.deb".to_owned(),
            "/c/openssh-server_1%3a9.2p1-2+deb12u10_amd64.deb".to_owned(),
        ];
        assert_eq!(
            cached_file("dpkg", &cached, "1:9.2p1-2+deb12u9"),
            Some(cached[0].as_str())
        );
        assert_eq!(cached_file("dpkg", &cached, "1:9.2p1-2+deb12u8"), None);
        let rpms = vec!["/c/bash-5.1.8-9.el9.x86_64.rpm".to_owned()];
        assert_eq!(
            cached_file("rpm", &rpms, "5.1.8-9.el9"),
            Some(rpms[0].as_str())
        );
    }

    #[test]
    fn record_field_names() {
        let p = Package::new("dpkg", "a");
        let v = serde_json::to_value(&p).unwrap_or_default();
        assert_eq!(crate::records::tests::keys_of(&v), FIELDS);
    }
}
