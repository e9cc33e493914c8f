//! Installed kernels: `/boot/vmlinuz-VER` (also `vmlinux-`, `kernel-`,
//! `Image-`), and `/lib/modules/VER/vmlinuz` where Fedora keeps the
//! package's copy; their modules directory (`/lib/modules/VER` or
//! `/usr/lib/modules/VER`) and initrd (`initrd.img-VER`, `initramfs-VER.img`,
//! `initrd-VER`, `initrd-VER.img`, `initramfs-VER`). Alpine and Arch name
//! kernels by flavor or package (`vmlinuz-lts`, `vmlinuz-linux`): the
//! modules directory is the newest `/lib/modules/*-lts`, or the one whose
//! `pkgbase` file names the package (Arch).

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use crate::system::Sys;

/// rpm-style version comparison: runs of digits compare as numbers, runs of
/// letters as text, a digit run is newer than a letter run, and a version
/// with more runs is newer.
pub fn vercmp(a: &str, b: &str) -> Ordering {
    let sa = segments(a);
    let sb = segments(b);
    for (x, y) in sa.iter().zip(sb.iter()) {
        let xd = x.as_bytes()[0].is_ascii_digit();
        let yd = y.as_bytes()[0].is_ascii_digit();
        let o = match (xd, yd) {
            (true, true) => {
                let x = x.trim_start_matches('0');
                let y = y.trim_start_matches('0');
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    sa.len().cmp(&sb.len())
}

fn segments(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let digit = b[i].is_ascii_digit();
        let start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() && b[i].is_ascii_digit() == digit {
            i += 1;
        }
        out.push(&s[start..i]);
    }
    out
}

const KERNEL_PREFIXES: [&str; 5] = ["vmlinuz-", "vmlinux-", "kernel-", "Image-", "bzImage-"];

/// The version a kernel file name carries (`vmlinuz-6.1.0-13-amd64`).
pub fn version_of_name(name: &str) -> Option<String> {
    KERNEL_PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))
        // Ubuntu's signed EFI kernels: vmlinuz-4.2.0-16-generic.efi.signed.
        .map(|v| v.strip_suffix(".efi.signed").unwrap_or(v))
        .filter(|v| !v.is_empty() && !is_backup_name(v))
        .map(str::to_owned)
}

fn is_backup_name(v: &str) -> bool {
    [
        ".old",
        ".bak",
        ".dpkg-tmp",
        ".dpkg-new",
        ".dpkg-bak",
        ".rpmsave",
        ".rpmnew",
        ".hmac",
        ".sig",
    ]
    .iter()
    .any(|s| v.ends_with(s))
}

/// Does the name look like a Linux kernel (so it needs `root=`)?
pub fn looks_like_linux(name: &str) -> bool {
    ["vmlinuz", "vmlinux", "bzImage", "Image", "kernel", "linux"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// Fedora's rescue kernel (`vmlinuz-0-rescue-MACHINEID`) has no modules
/// directory of its own and is never "the newest".
pub fn is_rescue(version: &str) -> bool {
    version.starts_with("0-rescue")
}

/// A version without digits is a flavor name (Alpine `lts`, `virt`).
pub fn is_flavor(version: &str) -> bool {
    !version.bytes().any(|b| b.is_ascii_digit())
}

/// Initrd file names tried for a version, in /boot.
pub fn initrd_names(version: &str) -> Vec<String> {
    vec![
        format!("initrd.img-{version}"),
        format!("initramfs-{version}.img"),
        format!("initrd-{version}"),
        format!("initrd-{version}.img"),
        format!("initramfs-{version}"),
    ]
}

/// The kernel version an initrd file name is for (`initrd.img-6.1.0-13-amd64`,
/// `initramfs-6.5.6-300.fc39.x86_64.img`, Arch's `initramfs-linux-fallback.img`
/// is for `linux`); `None` for names without one (microcode images).
pub fn initrd_version(name: &str) -> Option<String> {
    let rest = ["initrd.img-", "initramfs-", "initrd-"]
        .iter()
        .find_map(|p| name.strip_prefix(p))?;
    let rest = rest.strip_suffix(".img").unwrap_or(rest);
    let rest = ["-fallback", "kdump"]
        .iter()
        .find_map(|s| rest.strip_suffix(s))
        .unwrap_or(rest);
    (!rest.is_empty() && !is_backup_name(rest)).then(|| rest.to_owned())
}

/// What is wrong with the start of a kernel or initrd file that is not
/// empty: all zero bytes (what XFS leaves of a file that was being written
/// when the machine crashed), or an x86 bzImage shorter than its own header
/// says (a copy cut short on a full /boot). `head` is the first bytes of the
/// file (at least 1024 when it is that long), `len` its size.
pub fn damage(head: &[u8], len: u64, kernel: bool) -> Option<String> {
    if !head.is_empty() && head.iter().all(|&b| b == 0) {
        return Some(format!(
            "holds only zero bytes at its start{}: the file is damaged",
            if head.len() as u64 == len {
                ""
            } else {
                " (the first KiB)"
            }
        ));
    }
    if kernel && head.get(0x202..0x206) == Some(b"HdrS") {
        let setup = match head.get(0x1f1).copied()? {
            0 => 4,
            n => u64::from(n),
        };
        let sys = u64::from(u32::from_le_bytes(head.get(0x1f4..0x1f8)?.try_into().ok()?));
        let want = (setup + 1) * 512 + sys * 16;
        if len < want {
            return Some(format!(
                "is truncated: {len} bytes, but its header says {want}"
            ));
        }
    }
    None
}

/// One installed kernel.
#[derive(Debug, Clone)]
pub struct Kernel {
    pub version: String,
    /// The kernel image in /boot (system path), when there is one.
    pub image: Option<PathBuf>,
    pub image_size: Option<u64>,
    pub initrd: Option<PathBuf>,
    pub initrd_size: Option<u64>,
    /// The modules directory (system path) when it exists.
    pub modules: Option<PathBuf>,
    /// The release the modules directory names (differs from `version` for
    /// flavor kernels).
    pub release: String,
}

/// The installed kernels, sorted oldest to newest.
pub fn installed(sys: &Sys) -> Vec<Kernel> {
    let mut versions: Vec<String> = Vec::new();
    for name in sys.list_dir(Path::new("/boot")) {
        if let Some(v) = version_of_name(&name) {
            if sys.is_file(&Path::new("/boot").join(&name)) && !versions.contains(&v) {
                versions.push(v);
            }
        }
    }
    for md in ["/lib/modules", "/usr/lib/modules"] {
        for v in sys.list_dir(Path::new(md)) {
            let p = Path::new(md).join(&v).join("vmlinuz");
            if sys.is_file(&p) && !versions.contains(&v) {
                versions.push(v);
            }
        }
    }
    let mut out: Vec<Kernel> = versions.into_iter().map(|v| describe(sys, &v)).collect();
    out.sort_by(|a, b| vercmp(&a.release, &b.release).then_with(|| a.version.cmp(&b.version)));
    out
}

/// What is installed for one version.
pub fn describe(sys: &Sys, version: &str) -> Kernel {
    let image = KERNEL_PREFIXES
        .iter()
        .flat_map(|p| {
            [
                PathBuf::from(format!("/boot/{p}{version}")),
                PathBuf::from(format!("/boot/{p}{version}.efi.signed")),
            ]
        })
        .find(|p| sys.is_file(p));
    let image_size = image.as_ref().and_then(|p| sys.size(p));
    let initrd = initrd_names(version)
        .into_iter()
        .map(|n| Path::new("/boot").join(n))
        .find(|p| sys.is_file(p));
    let initrd_size = initrd.as_ref().and_then(|p| sys.size(p));
    let (modules, release) = modules_of(sys, version);
    Kernel {
        version: version.to_owned(),
        image,
        image_size,
        initrd,
        initrd_size,
        modules,
        release,
    }
}

/// Does `dir` hold a kernel's own modules? A directory with none of what
/// the kernel package ships (`kernel/`, `modules.order`, `modules.builtin`,
/// `modules.dep`) is what removing the package leaves behind (RHEL's
/// `weak-updates`, DKMS or `extra` modules of other packages).
pub fn has_modules(sys: &Sys, dir: &Path) -> bool {
    sys.is_dir(dir)
        && ["kernel", "modules.order", "modules.builtin", "modules.dep"]
            .iter()
            .any(|n| sys.exists(&dir.join(n)))
}

/// The modules directory of a version (and the release it names).
pub fn modules_of(sys: &Sys, version: &str) -> (Option<PathBuf>, String) {
    for md in ["/lib/modules", "/usr/lib/modules"] {
        let p = Path::new(md).join(version);
        if has_modules(sys, &p) {
            return (Some(p), version.to_owned());
        }
    }
    if is_flavor(version) {
        let suffix = format!("-{version}");
        let mut best: Option<String> = None;
        for md in ["/lib/modules", "/usr/lib/modules"] {
            for v in sys.list_dir(Path::new(md)) {
                let dir = Path::new(md).join(&v);
                // Arch names the package in the directory's `pkgbase` file.
                let pkgbase = sys
                    .read(&dir.join("pkgbase"))
                    .is_some_and(|b| String::from_utf8_lossy(&b).trim() == version);
                if (v.ends_with(&suffix) || pkgbase)
                    && has_modules(sys, &dir)
                    && best
                        .as_ref()
                        .map_or(true, |b| vercmp(&v, b) == Ordering::Greater)
                {
                    best = Some(v);
                }
            }
        }
        if let Some(b) = best {
            for md in ["/lib/modules", "/usr/lib/modules"] {
                let p = Path::new(md).join(&b);
                if has_modules(sys, &p) {
                    return (Some(p), b);
                }
            }
        }
    }
    (None, version.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_like_rpm() {
        assert_eq!(vercmp("6.1.0-13-amd64", "6.1.0-15-amd64"), Ordering::Less);
        assert_eq!(vercmp("6.1.0-9-amd64", "6.1.0-13-amd64"), Ordering::Less);
        assert_eq!(vercmp("6.10.1", "6.5.6"), Ordering::Greater);
        assert_eq!(vercmp("2.6.32-754.el6", "2.6.32-754.el6"), Ordering::Equal);
        assert_eq!(vercmp("0-rescue-abc", "5.14.0"), Ordering::Less);
        assert_eq!(vercmp("1.0a", "1.0"), Ordering::Greater);
    }

    #[test]
    fn initrd_names_carry_versions() {
        assert_eq!(
            initrd_version("initrd.img-6.1.0-13-amd64").as_deref(),
            Some("6.1.0-13-amd64")
        );
        assert_eq!(
            initrd_version("initramfs-6.5.6-300.fc39.x86_64.img").as_deref(),
            Some("6.5.6-300.fc39.x86_64")
        );
        assert_eq!(
            initrd_version("initramfs-6.5.6-300.fc39.x86_64kdump.img").as_deref(),
            Some("6.5.6-300.fc39.x86_64")
        );
        assert_eq!(
            initrd_version("initramfs-linux-fallback.img").as_deref(),
            Some("linux")
        );
        assert_eq!(initrd_version("initramfs-lts").as_deref(), Some("lts"));
        assert_eq!(initrd_version("intel-ucode.img"), None);
        assert_eq!(initrd_version("initrd"), None);
    }

    #[test]
    fn damaged_heads() {
        assert_eq!(damage(b"kernel image", 12, true), None);
        assert!(damage(&[0; 1024], 5000, false)
            .expect("zeros")
            .contains("(the first KiB)"));
        assert!(damage(&[0; 10], 10, true).is_some());
        let mut bz = vec![1u8; 1024];
        bz[0x1f1] = 27;
        bz[0x202..0x206].copy_from_slice(b"HdrS");
        bz[0x1f4..0x1f8].copy_from_slice(&1000u32.to_le_bytes());
        let want = 28 * 512 + 16_000;
        assert_eq!(damage(&bz, want, true), None);
        assert_eq!(
            damage(&bz, want, false),
            None,
            "initrds have no such header"
        );
        assert!(damage(&bz, want - 1, true)
            .expect("short")
            .contains(&format!("{} bytes, but its header says {want}", want - 1)));
        // A header cut inside itself: no panic, no verdict on what is missing.
        assert_eq!(damage(&bz[..0x1f5], 0x1f5, true), None);
    }

    #[test]
    fn names() {
        assert_eq!(
            version_of_name("vmlinuz-6.1.0-13-amd64").as_deref(),
            Some("6.1.0-13-amd64")
        );
        assert_eq!(version_of_name("vmlinuz"), None);
        assert_eq!(
            version_of_name("vmlinuz-4.2.0-16-generic.efi.signed").as_deref(),
            Some("4.2.0-16-generic")
        );
        assert_eq!(version_of_name("vmlinuz-6.1.old"), None);
        assert_eq!(version_of_name("config-6.1"), None);
        assert!(is_flavor("lts"));
        assert!(!is_flavor("6.1"));
        assert!(looks_like_linux("vmlinuz-lts"));
        assert!(!looks_like_linux("memtest86+.bin"));
    }
}
