//! Checking files against the plan, as `dpkg --verify` checks them
//! (src/main/verify.c, `verify_file`): `lstat` the path (absent: missing);
//! where a digest is known the path must be a regular file, and its
//! content (opened through a symlink, as dpkg opens it) must have that MD5
//! digest. Nothing else is compared: dpkg records no mode, owner or size.
//!
//! The files are shared among worker threads in small chunks taken from
//! one counter, so that one huge package does not leave a core idle.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::records::verify::Problem;
use common::Root;
use md5::{Digest, Md5};

use crate::db::{Entry, Plan};

/// Files handed to a worker at a time.
const CHUNK: usize = 16;
/// Read buffer per worker.
const BUF: usize = 256 * 1024;

/// One problem found: the entry and what is wrong.
#[derive(Debug, Clone)]
pub struct Found {
    pub entry: usize,
    pub problem: Problem,
    pub expected: Option<String>,
    pub actual: Option<String>,
}

/// Check every entry of `plan` under `root` with `jobs` threads; the
/// problems in entry order.
pub fn check(root: &Root, plan: &Plan, jobs: usize) -> Vec<Found> {
    par_check(
        &plan.entries,
        jobs,
        || (),
        |i, e, (), buf, found| check_one(root, i, e, buf, found),
    )
}

/// Run `one` on every entry with `jobs` threads, each with its own state
/// (made by `init`) and read buffer; the problems in entry order.
pub fn par_check<E: Sync, S>(
    entries: &[E],
    jobs: usize,
    init: impl Fn() -> S + Sync,
    one: impl Fn(usize, &E, &mut S, &mut [u8], &mut Vec<Found>) + Sync,
) -> Vec<Found> {
    let next = AtomicUsize::new(0);
    let work = || {
        let mut buf = vec![0u8; BUF];
        let mut state = init();
        let mut found = Vec::new();
        loop {
            let start = next.fetch_add(CHUNK, Ordering::Relaxed);
            if start >= entries.len() {
                break;
            }
            let end = (start + CHUNK).min(entries.len());
            for (i, e) in entries[start..end].iter().enumerate() {
                one(start + i, e, &mut state, &mut buf, &mut found);
            }
        }
        found
    };
    let mut all: Vec<Found> = if jobs <= 1 {
        work()
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..jobs).map(|_| s.spawn(work)).collect();
            handles
                .into_iter()
                // A worker that panicked must not pass for one that found
                // nothing: its panic goes on here.
                .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    };
    all.sort_by_key(|f| (f.entry, f.problem));
    all
}

/// The real path of a system path under the root.
pub fn real_path(root: &Root, path: &[u8]) -> PathBuf {
    root.path(std::ffi::OsStr::from_bytes(path))
}

fn check_one(root: &Root, idx: usize, e: &Entry, buf: &mut [u8], found: &mut Vec<Found>) {
    let real = real_path(root, &e.path);
    let push = |found: &mut Vec<Found>, problem, expected, actual| {
        found.push(Found {
            entry: idx,
            problem,
            expected,
            actual,
        })
    };
    let meta = match std::fs::symlink_metadata(&real) {
        Ok(m) => m,
        Err(err) => {
            let actual = (err.kind() != ErrorKind::NotFound).then(|| describe(&err));
            push(found, Problem::Missing, None, actual);
            return;
        }
    };
    let Some(hash) = &e.hash else { return };
    let ft = meta.file_type();
    if !ft.is_file() {
        push(
            found,
            Problem::Type,
            Some("file".to_owned()),
            Some(type_name(ft).to_owned()),
        );
    }
    match md5_of(&real, buf) {
        Ok(sum) if sum.eq_ignore_ascii_case(hash) => {}
        Ok(sum) => push(found, Problem::Digest, Some(hash.clone()), Some(sum)),
        Err(err) => push(
            found,
            Problem::Unreadable,
            Some(hash.clone()),
            Some(describe(&err)),
        ),
    }
}

/// The MD5 digest of a file's content, lower-case hex.
pub fn md5_of(path: &std::path::Path, buf: &mut [u8]) -> std::io::Result<String> {
    digest_file::<Md5>(path, buf)
}

/// A file's digest in the algorithm `D`, lower-case hex, read through
/// `buf` (dpkg's MD5 here, rpm's algorithms in `rpm.rs`).
pub fn digest_file<D: Digest>(path: &std::path::Path, buf: &mut [u8]) -> std::io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = D::new();
    loop {
        match f.read(buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(common::bytes::hex(&h.finalize()))
}

/// The word for a file type in records.
fn type_name(ft: std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "directory"
    } else if ft.is_symlink() {
        "symlink"
    } else if ft.is_fifo() {
        "fifo"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_char_device() {
        "char-device"
    } else if ft.is_block_device() {
        "block-device"
    } else {
        "file"
    }
}

/// An I/O error as a short lower-case phrase (`permission denied`).
pub fn describe(e: &std::io::Error) -> String {
    common::error::io_words(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_of_known_content() {
        let p = std::env::temp_dir().join(format!("pkgv-md5-{}", std::process::id()));
        let _ = std::fs::write(&p, "abc");
        let mut buf = vec![0; 2];
        let s = md5_of(&p, &mut buf).unwrap_or_default();
        let _ = std::fs::remove_file(&p);
        assert_eq!(s, "900150983cd24fb0d6963f7d28e17f72");
    }

    #[test]
    fn errors_read_as_phrases() {
        let e = std::io::Error::from_raw_os_error(13);
        assert_eq!(describe(&e), "permission denied");
    }
}
