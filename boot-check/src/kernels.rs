//! Installed kernels: `/boot/vmlinuz-VER` (also `vmlinux-`, `kernel-`,
//! `Image-`), and `/lib/modules/VER/vmlinuz` where Fedora keeps the
//! package's copy; their modules directory (`/lib/modules/RELEASE` or
//! `/usr/lib/modules/RELEASE`) and initrd (`initrd.img-VER`,
//! `initramfs-VER.img`, `initrd-VER`, `initrd-VER.img`, `initramfs-VER`).
//!
//! The release a kernel's modules belong to is read the way the kernel
//! records it: the version string its x86 setup header points to
//! (`kernel_version` at 0x20E, what `file` prints; EFI-stub images carry
//! the same header). Alpine and Arch name kernels by flavour or package
//! (`vmlinuz-lts`, `vmlinuz-linux`); where the image has no such header,
//! the distribution's own records name the release (Alpine's
//! `/usr/share/kernel/FLAVOR/kernel.release`, Arch's
//! `/usr/lib/modules/RELEASE/pkgbase`), else the file name does.

use std::cmp::Ordering;
use std::io::{Read, Seek, SeekFrom};
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
pub(crate) fn version_of_name(name: &str) -> Option<String> {
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
pub(crate) fn looks_like_linux(name: &str) -> bool {
    ["vmlinuz", "vmlinux", "bzImage", "Image", "kernel", "linux"]
        .iter()
        .any(|p| name.starts_with(p))
}

/// Fedora's rescue kernel (`vmlinuz-0-rescue-MACHINEID`) has no modules
/// directory of its own and is never "the newest".
pub(crate) fn is_rescue(version: &str) -> bool {
    version.starts_with("0-rescue")
}

/// A version without digits is a flavor name (Alpine `lts`, `virt`).
pub(crate) fn is_flavor(version: &str) -> bool {
    !version.bytes().any(|b| b.is_ascii_digit())
}

/// Initrd file names tried for a version, in /boot.
pub(crate) fn initrd_names(version: &str) -> Vec<String> {
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
pub(crate) fn initrd_version(name: &str) -> Option<String> {
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
pub(crate) fn damage(head: &[u8], len: u64, kernel: bool) -> Option<String> {
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

/// The release in an x86 boot image's setup header (bzImage, with or
/// without an EFI stub): the first word of the string `kernel_version`
/// (0x20E, boot protocol 2.00 and later) points to, 0x200 bytes on, as
/// `file` prints it. `None` for other images and for a header that does
/// not hold a printable version.
pub fn bzimage_release(img: &[u8]) -> Option<String> {
    if img.get(0x202..0x206)? != b"HdrS" {
        return None;
    }
    let le16 = |at: usize| -> Option<usize> {
        Some(usize::from(u16::from_le_bytes(
            img.get(at..at + 2)?.try_into().ok()?,
        )))
    };
    if le16(0x206)? < 0x0200 {
        return None;
    }
    let ptr = le16(0x20e)?;
    if ptr == 0 {
        return None;
    }
    let s = img.get(ptr + 0x200..)?;
    let s = &s[..s.len().min(256)];
    let end = s.iter().position(|&b| b == 0 || b == b' ')?;
    let word = &s[..end];
    (!word.is_empty() && word.iter().all(|b| b.is_ascii_graphic()))
        .then(|| String::from_utf8_lossy(word).into_owned())
}

/// The release in a kernel's banner, `Linux version RELEASE (...`, which
/// every kernel carries (`/proc/version` prints it): found by reading
/// `r`, at most `limit` bytes.
pub(crate) fn banner_release(r: &mut dyn Read, limit: u64) -> Option<String> {
    const NEEDLE: &[u8] = b"Linux version ";
    // The longest release looked for, with the space after it.
    const WORD: usize = 129;
    let finder = memchr::memmem::Finder::new(NEEDLE);
    let mut r = r.take(limit);
    let mut buf = vec![0u8; 1 << 16];
    // What is still to be searched, with the end of the chunk before, so
    // that a banner across two chunks is found.
    let mut win: Vec<u8> = Vec::new();
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        };
        win.extend_from_slice(&buf[..n]);
        let mut keep = win.len().saturating_sub(NEEDLE.len() - 1);
        let mut pos = 0;
        while let Some(i) = finder.find(&win[pos..]) {
            let start = pos + i;
            let rest = &win[start + NEEDLE.len()..];
            match rest.iter().take(WORD).position(|&b| b == b' ') {
                // A release starts with a digit and is followed by " (".
                Some(end)
                    if end > 0
                        && rest[0].is_ascii_digit()
                        && rest[..end].iter().all(u8::is_ascii_graphic)
                        && rest.get(end + 1) == Some(&b'(') =>
                {
                    return Some(String::from_utf8_lossy(&rest[..end]).into_owned());
                }
                // The banner goes on in the next chunk.
                None if rest.len() < WORD => {
                    keep = keep.min(start);
                    break;
                }
                _ => {}
            }
            pos = start + NEEDLE.len();
        }
        win.drain(..keep);
    }
}

/// The most a compressed image is read for its banner (a kernel
/// decompresses to some tens of MiB).
const BANNER_LIMIT: u64 = 256 << 20;

/// The release in the banner of an image that has no x86 setup header: a
/// plain arm64 `Image`, a gzip-compressed one (Debian's arm64
/// `vmlinuz`), or an EFI zboot image (`MZ`, `zimg`, payload offset and
/// size, compression type, as in the kernel's `zboot-header.S`) with a
/// gzip payload. Other compressions are not read: the distribution's
/// records answer for them.
pub(crate) fn image_banner_release(sys: &Sys, p: &Path) -> Option<String> {
    let head = sys.read_head(p, 64)?;
    let mut f = sys.open(p)?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let mut gz = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(f));
        return banner_release(&mut gz, BANNER_LIMIT);
    }
    if head.get(0..2) == Some(b"MZ") && head.get(4..8) == Some(b"zimg") {
        let le32 = |at: usize| -> Option<u64> {
            Some(u64::from(u32::from_le_bytes(
                head.get(at..at + 4)?.try_into().ok()?,
            )))
        };
        let (off, size) = (le32(8)?, le32(12)?);
        let kind = head.get(24..56)?;
        let kind = &kind[..kind.iter().position(|&b| b == 0)?];
        if kind != b"gzip" {
            return None;
        }
        f.seek(SeekFrom::Start(off)).ok()?;
        let payload = std::io::BufReader::new(f.take(size + 4));
        let mut gz = flate2::read::GzDecoder::new(payload);
        return banner_release(&mut gz, BANNER_LIMIT);
    }
    // A plain arm64 Image ("ARM\x64" at 0x38), RISC-V ("RSC\x05" at 0x34).
    if head.get(0x38..0x3c) == Some(b"ARM\x64") || head.get(0x34..0x38) == Some(b"RSC\x05") {
        return banner_release(&mut f, BANNER_LIMIT);
    }
    None
}

/// How many bytes of an image [`bzimage_release`] may need.
pub(crate) const HEADER_BYTES: usize = 0x200 + 0x1_0000 + 256;

/// Where a kernel's release came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReleaseFrom {
    /// The file name (`vmlinuz-6.1.0-13-amd64`).
    Name,
    /// The setup header of this image.
    Header(PathBuf),
    /// The banner (`Linux version ...`) inside this image.
    Banner(PathBuf),
    /// This record of the distribution (kernel.release, pkgbase).
    Record(PathBuf),
    /// The newest `/lib/modules/*-FLAVOR` (nothing else says).
    Guess,
}

/// One installed kernel.
#[derive(Debug, Clone)]
pub(crate) struct Kernel {
    pub version: String,
    /// The kernel image in /boot (system path), when there is one.
    pub image: Option<PathBuf>,
    pub image_size: Option<u64>,
    pub initrd: Option<PathBuf>,
    pub initrd_size: Option<u64>,
    /// The modules directory (system path) when it exists.
    pub modules: Option<PathBuf>,
    /// The release the kernel reports (`uname -r` once booted) and its
    /// modules directory is named by; differs from `version` for kernels
    /// named by flavour.
    pub release: String,
    pub release_from: ReleaseFrom,
}

/// The installed kernels, sorted oldest to newest.
pub(crate) fn installed(sys: &Sys) -> Vec<Kernel> {
    let mut versions: Vec<String> = Vec::new();
    for name in sys.list_dir(Path::new("/boot")) {
        if let Some(v) = version_of_name(&name) {
            if sys.is_file(&Path::new("/boot").join(&name)) && !versions.contains(&v) {
                versions.push(v);
            }
        }
    }
    for md in MODULE_DIRS {
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

const MODULE_DIRS: [&str; 2] = ["/lib/modules", "/usr/lib/modules"];

/// What is installed for one version.
pub(crate) fn describe(sys: &Sys, version: &str) -> Kernel {
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
    let (release, release_from) = release_of(sys, version, image.as_deref());
    let modules = modules_dir(sys, &release);
    Kernel {
        version: version.to_owned(),
        image,
        image_size,
        initrd,
        initrd_size,
        modules,
        release,
        release_from,
    }
}

/// The release of the kernel a file name names (`version`), read from its
/// image, else from the distribution's records, else the name itself (or,
/// for a flavour nothing else names, the newest `*-FLAVOR` modules).
pub(crate) fn release_of(sys: &Sys, version: &str, image: Option<&Path>) -> (String, ReleaseFrom) {
    if let Some(img) = image {
        if let Some(r) = sys
            .read_head(img, HEADER_BYTES)
            .and_then(|h| bzimage_release(&h))
        {
            return (r, ReleaseFrom::Header(img.to_path_buf()));
        }
    }
    if modules_dir(sys, version).is_some() {
        return (version.to_owned(), ReleaseFrom::Name);
    }
    // Reading through a compressed image is slow: only when the name
    // leads to no modules.
    if let Some(img) = image {
        if let Some(r) = image_banner_release(sys, img) {
            return (r, ReleaseFrom::Banner(img.to_path_buf()));
        }
    }
    if let Some((r, p)) = recorded_release(sys, version) {
        return (r, ReleaseFrom::Record(p));
    }
    if is_flavor(version) {
        if let Some(r) = newest_of_flavor(sys, version) {
            return (r, ReleaseFrom::Guess);
        }
    }
    (version.to_owned(), ReleaseFrom::Name)
}

/// The release a distribution records for a kernel named by flavour:
/// Alpine's `/usr/share/kernel/FLAVOR/kernel.release` (written by its
/// linux-FLAVOR package), or the newest modules directory whose `pkgbase`
/// names the package (Arch: `linux`, `linux-lts`).
pub(crate) fn recorded_release(sys: &Sys, flavor: &str) -> Option<(String, PathBuf)> {
    if flavor.is_empty() || flavor.contains('/') {
        return None;
    }
    let kr = PathBuf::from(format!("/usr/share/kernel/{flavor}/kernel.release"));
    if let Some(b) = sys.read(&kr) {
        let r = String::from_utf8_lossy(&b).trim().to_owned();
        if !r.is_empty() && !r.contains(char::is_whitespace) && !r.contains('/') {
            return Some((r, kr));
        }
    }
    let mut best: Option<(String, PathBuf)> = None;
    for md in MODULE_DIRS {
        for v in sys.list_dir(Path::new(md)) {
            let pb = Path::new(md).join(&v).join("pkgbase");
            let names = sys
                .read(&pb)
                .is_some_and(|b| String::from_utf8_lossy(&b).trim() == flavor);
            if names
                && best
                    .as_ref()
                    .is_none_or(|(b, _)| vercmp(&v, b) == Ordering::Greater)
            {
                best = Some((v, pb));
            }
        }
    }
    best
}

/// The newest `/lib/modules/*-FLAVOR` with modules in it.
fn newest_of_flavor(sys: &Sys, flavor: &str) -> Option<String> {
    let suffix = format!("-{flavor}");
    let mut best: Option<String> = None;
    for md in MODULE_DIRS {
        for v in sys.list_dir(Path::new(md)) {
            if v.ends_with(&suffix)
                && has_modules(sys, &Path::new(md).join(&v))
                && best
                    .as_ref()
                    .is_none_or(|b| vercmp(&v, b) == Ordering::Greater)
            {
                best = Some(v);
            }
        }
    }
    best
}

/// Does `dir` hold a kernel's own modules? A directory with none of what
/// the kernel package ships (`kernel/`, `modules.order`, `modules.builtin`,
/// `modules.dep`) is what removing the package leaves behind (RHEL's
/// `weak-updates`, DKMS or `extra` modules of other packages).
pub(crate) fn has_modules(sys: &Sys, dir: &Path) -> bool {
    sys.is_dir(dir)
        && ["kernel", "modules.order", "modules.builtin", "modules.dep"]
            .iter()
            .any(|n| sys.exists(&dir.join(n)))
}

/// The modules directory of a release, when it holds modules.
pub(crate) fn modules_dir(sys: &Sys, release: &str) -> Option<PathBuf> {
    if release.is_empty() || release.contains('/') || release == "." || release == ".." {
        return None;
    }
    MODULE_DIRS
        .iter()
        .map(|md| Path::new(md).join(release))
        .find(|p| has_modules(sys, p))
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
    fn setup_header_release() {
        let mut bz = vec![0u8; 0x900];
        bz[0x202..0x206].copy_from_slice(b"HdrS");
        bz[0x206..0x208].copy_from_slice(&0x020fu16.to_le_bytes());
        bz[0x20e..0x210].copy_from_slice(&0x0600u16.to_le_bytes());
        let s = b"6.1.0-13-amd64 (debian-kernel@lists.debian.org) #1 SMP\0";
        bz[0x800..0x800 + s.len()].copy_from_slice(s);
        assert_eq!(bzimage_release(&bz).as_deref(), Some("6.1.0-13-amd64"));
        // Cut before the string ends: no guess from half a word.
        assert_eq!(bzimage_release(&bz[..0x805]), None);
        let mut old = bz.clone();
        old[0x206..0x208].copy_from_slice(&0x0105u16.to_le_bytes());
        assert_eq!(
            bzimage_release(&old),
            None,
            "protocol 1.x has no kernel_version"
        );
        let mut null = bz.clone();
        null[0x20e..0x210].copy_from_slice(&0u16.to_le_bytes());
        assert_eq!(bzimage_release(&null), None);
        let mut far = bz.clone();
        far[0x20e..0x210].copy_from_slice(&0xfff0u16.to_le_bytes());
        assert_eq!(bzimage_release(&far), None);
        let mut junk = bz.clone();
        junk[0x802] = 0xff;
        assert_eq!(bzimage_release(&junk), None);
        assert_eq!(bzimage_release(b"kernel image"), None);
        assert_eq!(bzimage_release(&bz[..0x20f]), None);
    }

    #[test]
    fn banner_anywhere_in_the_image() {
        let banner = b"Linux version 6.6.9-0-lts (buildozer@build) (gcc 13) #1-Alpine SMP\n";
        for at in [0usize, 100, 65_530, 65_536 - 14, 65_536 - 3, 131_000] {
            let mut img = vec![0x5au8; 200_000];
            // Decoys: the format string of /proc/version, a word without a digit.
            img[10..28].copy_from_slice(b"%s version %s (%s)");
            img[40..64].copy_from_slice(b"Linux version unknown (x");
            let at = at.max(64);
            img[at..at + banner.len()].copy_from_slice(banner);
            let r = banner_release(&mut &img[..], u64::MAX);
            assert_eq!(r.as_deref(), Some("6.6.9-0-lts"), "at {at}");
        }
        let img = vec![0u8; 300_000];
        assert_eq!(banner_release(&mut &img[..], u64::MAX), None);
        // Cut off by the limit.
        let mut img = vec![0u8; 100_000];
        img[90_000..90_000 + banner.len()].copy_from_slice(banner);
        assert_eq!(banner_release(&mut &img[..], 80_000), None);
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
