//! Reading paths as they are now: lstat, never following a symlink at the
//! last component, and opening regular files with
//! `common::fsutil::open_regular` (O_NOFOLLOW|O_NONBLOCK) so a file swapped
//! for a symlink or a fifo between lstat and open is noticed instead of
//! followed or waited on.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use common::fsutil::open_regular;
use common::names::Names;
use common::Root;
use sha2::{Digest, Sha256};

use crate::model::{Entry, FType};
use common::bytes::hex;

/// The real path of system path `sys` under `base` (`None`: `/`).
pub fn real(base: &Root, sys: &[u8]) -> PathBuf {
    base.path(Path::new(OsStr::from_bytes(sys)))
}

/// SHA-256 and length of everything `r` yields.
pub fn hash_reader(r: &mut impl Read) -> io::Result<(String, u64)> {
    let mut sha = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        sha.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex(&sha.finalize()), total))
}

/// SHA-256 of bytes, lower-case hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Under --root, the first parent of `sys` that is a symlink: the host
/// would follow it, an absolute one out of the tree. `None` on the live
/// system, whose symlinks are its own.
pub fn symlinked_parent(base: &Root, sys: &[u8]) -> Option<Vec<u8>> {
    if base.is_live() {
        return None;
    }
    sys.iter()
        .enumerate()
        .skip(1)
        .filter(|(_, &c)| c == b'/')
        .map(|(i, _)| &sys[..i])
        .find(|parent| {
            fs::symlink_metadata(real(base, parent)).is_ok_and(|m| m.file_type().is_symlink())
        })
        .map(<[u8]>::to_vec)
}

/// The path as it is now, or `None` when it does not exist. Regular files
/// are hashed; special files come back as an error (nothing to compare).
///
/// Under --root a path below a symlinked directory is an error rather than
/// whatever the host has where the link points.
pub fn current(base: &Root, sys: &[u8], names: &mut Names) -> io::Result<Option<Entry>> {
    if let Some(parent) = symlinked_parent(base, sys) {
        return Err(io::Error::other(format!(
            "its parent {} is a symlink now, which under --root would be followed outside the tree; look at the path it points to",
            common::bytes::display(&parent)
        )));
    }
    let p = real(base, sys);
    let md = match fs::symlink_metadata(&p) {
        Ok(m) => m,
        // ENOTDIR: a parent is no longer a directory, so the path is gone.
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(e),
    };
    let Some(ftype) = FType::of(&md) else {
        return Err(io::Error::other(
            "is a special file (device, fifo or socket)",
        ));
    };
    let mut e = Entry::from_metadata(sys.to_vec(), ftype, &md, names);
    match ftype {
        FType::Symlink => e.target = Some(fs::read_link(&p)?.into_os_string().into_vec()),
        FType::File => {
            let (mut f, md) = open_regular(&p)?;
            e = Entry::from_metadata(sys.to_vec(), ftype, &md, names);
            let (sha, size) = hash_reader(&mut f)?;
            e.sha256 = Some(sha);
            e.size = Some(size);
        }
        FType::Dir => {}
    }
    Ok(Some(e))
}
