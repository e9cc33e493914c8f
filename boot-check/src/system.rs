//! The system being checked, seen through `--root`: file tests that follow
//! symlinks inside the root (an absolute link target is taken relative to
//! DIR, never to the host), /etc/fstab, the distribution family (for the fix
//! each message names), and where a path written in a boot configuration
//! lives.
//!
//! Paths in a boot configuration are relative to the partition holding them.
//! With a separate /boot partition `/vmlinuz-6.1.0-13-amd64` means
//! `/boot/vmlinuz-6.1.0-13-amd64`. The partition is taken from, in order:
//! the `search --fs-uuid --set=root UUID` GRUB runs, when UUID is the one
//! /etc/fstab mounts on /boot (or on /); else /etc/fstab alone (a /boot line
//! means a separate /boot). A partition known from the configuration or
//! GRUB's UUID is the only reading; when only fstab guides, both readings
//! are tried, the likely one first, and the first that exists is used; when
//! neither exists the likely one is named in the message.

use std::fs;
use std::path::{Path, PathBuf};

use common::root::normalize;
use common::Root;

use crate::model::{Base, Entry};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Debian,
    RedHat,
    Suse,
    Alpine,
    Arch,
    Unknown,
}

#[derive(Debug, Clone)]
pub(crate) struct FstabEntry {
    pub spec: String,
    pub mountpoint: String,
    pub line: usize,
}

/// The system being checked (this one, or the one under `--root`).
pub struct Sys {
    pub(crate) root: Root,
    pub(crate) fstab: Vec<FstabEntry>,
    pub(crate) family: Family,
    /// `dnf` is installed (RHEL 8+, Fedora) rather than only yum/rpm.
    pub(crate) has_dnf: bool,
    /// Ubuntu ships a kernel's modules in a package of their own.
    pub(crate) ubuntu: bool,
}

impl Sys {
    pub fn new(root: Root) -> Self {
        let mut sys = Sys {
            root,
            fstab: Vec::new(),
            family: Family::Unknown,
            has_dnf: false,
            ubuntu: false,
        };
        if let Some(b) = sys.read(Path::new("/etc/fstab")) {
            sys.fstab = parse_fstab(&String::from_utf8_lossy(&b));
        }
        sys.family = sys.detect_family();
        sys.ubuntu = sys
            .os_release()
            .lines()
            .any(|l| l.trim() == "ID=ubuntu" || l.trim() == "ID=\"ubuntu\"");
        sys.has_dnf =
            sys.is_file(Path::new("/usr/bin/dnf")) || sys.is_file(Path::new("/usr/bin/dnf5"));
        sys
    }

    fn os_release(&self) -> String {
        ["/etc/os-release", "/usr/lib/os-release"]
            .iter()
            .find_map(|p| self.read(Path::new(p)))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    fn detect_family(&self) -> Family {
        let os = self.os_release();
        let mut words = String::new();
        for l in os.lines() {
            if let Some(v) = l.strip_prefix("ID=").or_else(|| l.strip_prefix("ID_LIKE=")) {
                words.push(' ');
                words.push_str(v.trim_matches('"'));
            }
        }
        let has = |w: &str| words.split_whitespace().any(|x| x == w);
        if has("debian") || has("ubuntu") {
            Family::Debian
        } else if has("rhel") || has("fedora") || has("centos") {
            Family::RedHat
        } else if has("suse") || has("opensuse") || has("sles") {
            Family::Suse
        } else if has("alpine") {
            Family::Alpine
        } else if has("arch") {
            Family::Arch
        } else if self.exists(Path::new("/etc/redhat-release")) {
            Family::RedHat
        } else if self.exists(Path::new("/etc/debian_version")) {
            Family::Debian
        } else if self.exists(Path::new("/etc/alpine-release")) {
            Family::Alpine
        } else {
            Family::Unknown
        }
    }

    /// The real path of a system path.
    pub(crate) fn real(&self, p: &Path) -> PathBuf {
        self.root.path(p)
    }

    fn meta(&self, p: &Path) -> Option<fs::Metadata> {
        let r = self.root.resolve(p)?;
        fs::metadata(self.real(&r)).ok()
    }

    pub(crate) fn exists(&self, p: &Path) -> bool {
        self.meta(p).is_some()
    }

    pub(crate) fn is_file(&self, p: &Path) -> bool {
        self.meta(p).is_some_and(|m| m.is_file())
    }

    pub(crate) fn is_dir(&self, p: &Path) -> bool {
        self.meta(p).is_some_and(|m| m.is_dir())
    }

    pub(crate) fn size(&self, p: &Path) -> Option<u64> {
        self.meta(p).filter(|m| m.is_file()).map(|m| m.len())
    }

    pub(crate) fn read(&self, p: &Path) -> Option<Vec<u8>> {
        self.read_err(p).ok()
    }

    /// Read a file; the error as a phrase for a message.
    pub(crate) fn read_err(&self, p: &Path) -> Result<Vec<u8>, std::io::Error> {
        let r = self.root.resolve(p).unwrap_or_else(|| p.to_path_buf());
        fs::read(self.real(&r))
    }

    /// The first `n` bytes of a file (fewer when it is shorter).
    pub(crate) fn read_head(&self, p: &Path, n: usize) -> Option<Vec<u8>> {
        use std::io::Read;
        let r = self.root.resolve(p)?;
        let f = fs::File::open(self.real(&r)).ok()?;
        let mut v = Vec::with_capacity(n);
        f.take(n as u64).read_to_end(&mut v).ok()?;
        Some(v)
    }

    /// A file opened for reading.
    pub(crate) fn open(&self, p: &Path) -> Option<fs::File> {
        let r = self.root.resolve(p)?;
        fs::File::open(self.real(&r)).ok()
    }

    /// File names in a directory (UTF-8 names only), sorted.
    pub(crate) fn list_dir(&self, p: &Path) -> Vec<String> {
        let Some(r) = self.root.resolve(p) else {
            return Vec::new();
        };
        let mut v: Vec<String> = match fs::read_dir(self.real(&r)) {
            Ok(rd) => rd
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .collect(),
            Err(_) => Vec::new(),
        };
        v.sort();
        v
    }

    /// The fstab line mounting `mp`.
    pub(crate) fn fstab_mount(&self, mp: &str) -> Option<&FstabEntry> {
        self.fstab.iter().rev().find(|f| f.mountpoint == mp)
    }

    /// Does /etc/fstab mount a separate /boot?
    pub(crate) fn boot_separate(&self) -> bool {
        self.fstab_mount("/boot").is_some()
    }

    /// Which partition a GRUB `search --fs-uuid` UUID is, by /etc/fstab.
    pub(crate) fn base_of_uuid(&self, uuid: &str) -> Base {
        let is = |mp: &str| {
            self.fstab_mount(mp).is_some_and(|f| {
                f.spec
                    .strip_prefix("UUID=")
                    .or_else(|| f.spec.strip_prefix("/dev/disk/by-uuid/"))
                    .is_some_and(|u| u.trim_matches('"').eq_ignore_ascii_case(uuid))
            })
        };
        if is("/boot") {
            Base::Boot
        } else if is("/") {
            Base::Root
        } else {
            Base::Unknown
        }
    }

    /// The system path a configuration path of `e` stands for: see the
    /// module comment. The bool says whether it was found.
    pub(crate) fn locate(&self, e: &Entry, written: &str) -> (PathBuf, bool) {
        let cands = self.candidates(e, written);
        for c in &cands {
            if self.exists(c) {
                return (c.clone(), true);
            }
        }
        (
            cands
                .into_iter()
                .next()
                .unwrap_or_else(|| PathBuf::from(written)),
            false,
        )
    }

    /// The file a path would be on the other partition (/ instead of /boot
    /// or the reverse), when it exists there: the configuration was written
    /// for another partition layout.
    pub(crate) fn other_reading(&self, e: &Entry, written: &str) -> Option<PathBuf> {
        if e.rel_dir.is_some() && !written.starts_with('/') {
            return None;
        }
        let rel = written.trim_start_matches('/');
        let cands = self.candidates(e, written);
        [
            normalize(&Path::new("/").join(rel)),
            normalize(&Path::new("/boot").join(rel)),
        ]
        .into_iter()
        .find(|p| !cands.contains(p) && self.exists(p))
    }

    fn candidates(&self, e: &Entry, written: &str) -> Vec<PathBuf> {
        let p = Path::new(written);
        if !p.is_absolute() {
            if let Some(dir) = &e.rel_dir {
                return vec![normalize(&dir.join(p))];
            }
        }
        // A btrfs root mounted from a subvolume (Ubuntu's `@`): GRUB reads
        // the whole file system, so its paths start with the subvolume
        // (`/@/boot/vmlinuz-...` with `rootflags=subvol=@`).
        let written = e
            .options
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .filter_map(|w| w.strip_prefix("rootflags="))
            .flat_map(|f| f.split(','))
            .filter_map(|f| f.strip_prefix("subvol="))
            .map(|v| v.trim_matches('/'))
            .filter(|v| !v.is_empty())
            .find_map(|v| {
                written
                    .trim_start_matches('/')
                    .strip_prefix(v)
                    .filter(|r| r.starts_with('/'))
            })
            .unwrap_or(written);
        let rel = written.trim_start_matches('/');
        let on_root = normalize(&Path::new("/").join(rel));
        let on_boot = normalize(&Path::new("/boot").join(rel));
        let base = match e.base {
            Base::Unknown => e
                .fs_uuid
                .as_deref()
                .map(|u| self.base_of_uuid(u))
                .unwrap_or(Base::Unknown),
            b => b,
        };
        // When the partition is known (GRUB searches for a UUID that fstab
        // mounts, or the loader reads one partition only), the boot loader
        // reads that one place: a file found at the other reading would be
        // a false "ok".
        match base {
            Base::Boot => vec![on_boot],
            Base::Root => vec![on_root],
            Base::Unknown if self.boot_separate() => vec![on_boot, on_root],
            Base::Unknown => vec![on_root, on_boot],
        }
    }

    /// Free bytes for unprivileged writers on the file system of a path.
    pub(crate) fn free_bytes(&self, p: &Path) -> Option<u64> {
        let r = self.root.resolve(p)?;
        let st = nix::sys::statvfs::statvfs(&self.real(&r)).ok()?;
        Some((st.blocks_available() as u64).saturating_mul(st.fragment_size() as u64))
    }

    /// Is `mp` a mount point of the running system (live only)?
    pub(crate) fn live_mounted(&self, mp: &str) -> Option<bool> {
        if !self.root.is_live() {
            return None;
        }
        let data = fs::read_to_string("/proc/self/mountinfo").ok()?;
        Some(data.lines().any(|l| l.split(' ').nth(4) == Some(mp)))
    }
}

pub(crate) fn parse_fstab(src: &str) -> Vec<FstabEntry> {
    src.lines()
        .enumerate()
        .filter_map(|(n, l)| {
            let l = l.trim();
            if l.starts_with('#') {
                return None;
            }
            let mut f = l.split_whitespace();
            let spec = f.next()?;
            let mp = f.next()?;
            let mp = mp.replace("\\040", " ");
            let mp = if mp.len() > 1 {
                mp.trim_end_matches('/').to_owned()
            } else {
                mp
            };
            Some(FstabEntry {
                spec: spec.to_owned(),
                mountpoint: mp,
                line: n + 1,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fstab_mount_points() {
        let f = parse_fstab("# x\nUUID=aa / ext4 defaults 0 1\nUUID=bb /boot/ ext4 defaults 1 2\n/dev/sdb1 /boot/efi vfat umask=0077 0 1\n");
        assert_eq!(f.len(), 3);
        assert_eq!(f[1].mountpoint, "/boot");
    }
}
