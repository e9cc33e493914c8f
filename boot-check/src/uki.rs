//! Unified kernel images (systemd-boot's type #2 entries, `EFI/Linux/*.efi`):
//! a PE file holding the kernel (`.linux`), the initrd, the command line
//! (`.cmdline`), the os-release of the system it boots (`.osrel`) and the
//! kernel's release (`.uname`). Read the way systemd-boot's
//! `boot_entry_add_type2` reads them: an image without `.osrel` is no menu
//! entry; the title, version and sort key come from `.osrel` as
//! `bootspec_pick_name_version_sort_key` picks them.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::kernels;
use crate::system::Sys;

/// What a unified kernel image says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Uki {
    /// PRETTY_NAME, else IMAGE_ID, NAME, ID of `.osrel`.
    pub title: String,
    /// IMAGE_VERSION, else VERSION, VERSION_ID, BUILD_ID of `.osrel`.
    pub os_version: Option<String>,
    /// IMAGE_ID, else ID of `.osrel`.
    pub sort_key: Option<String>,
    /// The kernel release: `.uname`, else the setup header of `.linux`.
    pub release: Option<String>,
    /// The command line systemd-stub passes (`.cmdline`, whitespace
    /// trimmed), when the image has one.
    pub cmdline: Option<String>,
    /// The image carries a kernel (`.linux`).
    pub has_linux: bool,
}

/// One PE section: name, file offset, size of its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub offset: u64,
    pub size: u64,
}

/// The section table of a PE file from its first bytes (`MZ`, `e_lfanew`
/// at 0x3C, `PE\0\0`, the COFF header, the table after the optional
/// header). A section's data size is its virtual size where that is
/// smaller than the raw size (the rest is file alignment), as systemd
/// reads it.
pub fn sections(head: &[u8]) -> Option<Vec<Section>> {
    if head.get(0..2)? != b"MZ" {
        return None;
    }
    let le32 = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(head.get(at..at + 4)?.try_into().ok()?))
    };
    let le16 = |at: usize| -> Option<u16> {
        Some(u16::from_le_bytes(head.get(at..at + 2)?.try_into().ok()?))
    };
    let pe = usize::try_from(le32(0x3c)?).ok()?;
    if head.get(pe..pe + 4)? != b"PE\0\0" {
        return None;
    }
    let n = usize::from(le16(pe + 6)?);
    let opt = usize::from(le16(pe + 20)?);
    let table = pe + 24 + opt;
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let at = table + k * 40;
        let raw_name = head.get(at..at + 8)?;
        let name_len = raw_name.iter().position(|&b| b == 0).unwrap_or(8);
        let name = String::from_utf8_lossy(&raw_name[..name_len]).into_owned();
        let vsize = le32(at + 8)?;
        let raw_size = le32(at + 16)?;
        let offset = le32(at + 20)?;
        let size = if vsize > 0 {
            vsize.min(raw_size)
        } else {
            raw_size
        };
        out.push(Section {
            name,
            offset: u64::from(offset),
            size: u64::from(size),
        });
    }
    Some(out)
}

/// How much of the file the headers and section table may take.
const HEAD: usize = 64 * 1024;
/// The most of a text section read.
const TEXT_MAX: u64 = 64 * 1024;

/// Read a unified kernel image; `None` when it is no PE file with an
/// `.osrel` section (systemd-boot lists no entry for it).
pub(crate) fn read(sys: &Sys, p: &Path) -> Option<Uki> {
    let head = sys.read_head(p, HEAD)?;
    let secs = sections(&head)?;
    let find = |name: &str| secs.iter().find(|s| s.name == name);
    let text = |name: &str| -> Option<String> {
        let s = find(name)?;
        let mut f = sys.open(p)?;
        f.seek(SeekFrom::Start(s.offset)).ok()?;
        let mut buf = Vec::new();
        f.take(s.size.min(TEXT_MAX)).read_to_end(&mut buf).ok()?;
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        Some(String::from_utf8_lossy(&buf[..end]).into_owned())
    };
    let osrel = text(".osrel")?;
    let field = |k: &str| -> Option<String> {
        osrel.lines().rev().find_map(|l| {
            let v = l.trim().strip_prefix(k)?.strip_prefix('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
                .unwrap_or(v);
            (!v.is_empty()).then(|| v.to_owned())
        })
    };
    let title = field("PRETTY_NAME")
        .or_else(|| field("IMAGE_ID"))
        .or_else(|| field("NAME"))
        .or_else(|| field("ID"))?;
    let os_version = field("IMAGE_VERSION")
        .or_else(|| field("VERSION"))
        .or_else(|| field("VERSION_ID"))
        .or_else(|| field("BUILD_ID"));
    let sort_key = field("IMAGE_ID").or_else(|| field("ID"));
    let linux = find(".linux");
    let release = text(".uname")
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty() && !u.contains(char::is_whitespace))
        .or_else(|| {
            let s = linux?;
            let mut f = sys.open(p)?;
            f.seek(SeekFrom::Start(s.offset)).ok()?;
            let mut buf = Vec::new();
            f.take(s.size.min(kernels::HEADER_BYTES as u64))
                .read_to_end(&mut buf)
                .ok()?;
            kernels::bzimage_release(&buf)
        });
    let cmdline = text(".cmdline").map(|c| c.split_whitespace().collect::<Vec<_>>().join(" "));
    Some(Uki {
        title,
        os_version,
        sort_key,
        release,
        cmdline,
        has_linux: linux.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junk_is_no_pe() {
        assert_eq!(sections(b""), None);
        assert_eq!(sections(b"MZ"), None);
        let mut v = vec![0u8; 0x100];
        v[0..2].copy_from_slice(b"MZ");
        v[0x3c] = 0x80;
        assert_eq!(sections(&v), None, "no PE signature");
        v[0x80..0x84].copy_from_slice(b"PE\0\0");
        v[0x86] = 1; // one section, but the table is cut off
        assert_eq!(sections(&v[..0xa0]), None);
        assert_eq!(sections(&v).map(|s| s.len()), Some(1));
        v[0x86] = 0;
        assert_eq!(sections(&v), Some(vec![]));
    }
}
