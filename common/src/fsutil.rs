//! Writes that matter are atomic: a temporary file in the same directory,
//! fsync, rename over the target, fsync the directory. A crash at any moment
//! leaves the old file or the new one, never half of either. Where a name
//! must never be overwritten (a backup ID), [`link_new`] publishes instead
//! of [`commit`]. Reading a file as it is now, without following a planted
//! symlink or hanging on a fifo: [`open_regular`].

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Write `data` to `path` atomically with permission bits `mode`.
pub fn atomic_write(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    let (tmp, mut f) = temp_beside(path, mode)?;
    let res = f
        .write_all(data)
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(&tmp, &e));
    if let Err(e) = res {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    drop(f);
    commit(&tmp, path)
}

/// Create a new temporary file beside `path` (same directory, so the rename
/// stays on one file system), opened for writing with `mode`.
pub fn temp_beside(path: &Path, mode: u32) -> Result<(PathBuf, File)> {
    let dir = parent_of(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    for attempt in 0..100u32 {
        let tmp = dir.join(format!(".{name}.tmp.{}.{attempt}", std::process::id()));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&tmp, &e)),
        }
    }
    Err(Error::new(format!(
        "{}: cannot create a temporary file beside it",
        path.display()
    )))
}

/// Rename a fully written and synced temporary file over `path`, then sync
/// the directory so the rename itself survives a crash.
pub fn commit(tmp: &Path, path: &Path) -> Result<()> {
    if let Err(e) = fs::rename(tmp, path) {
        let _ = fs::remove_file(tmp);
        return Err(Error::io(path, &e));
    }
    sync_dir(&parent_of(path))
}

/// Publish a fully written and synced temporary file at `path` only if
/// that name is free: link(2) never replaces, so two writers racing for one
/// name cannot overwrite each other. The temporary is removed either way;
/// on success the directory is synced so the new name survives a crash.
/// `Ok(false)`: the name was taken (try another).
pub fn link_new(tmp: &Path, path: &Path) -> Result<bool> {
    let linked = fs::hard_link(tmp, path);
    let _ = fs::remove_file(tmp);
    match linked {
        Ok(()) => {
            sync_dir(&parent_of(path))?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(Error::io(path, &e)),
    }
}

/// Open a regular file for reading without following a symlink at the last
/// component or blocking on a fifo; its fstat metadata comes along. A file
/// swapped for something else since it was lstat'ed is an error, not
/// followed or waited on.
pub fn open_regular(p: &Path) -> io::Result<(File, Metadata)> {
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC)
        .open(p)?;
    let md = f.metadata()?;
    if !md.is_file() {
        return Err(io::Error::other("is no longer a regular file"));
    }
    Ok((f, md))
}

/// fsync a directory.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, &e))
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = std::env::temp_dir().join(format!("fsutil-test-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("mkdir");
        let p = dir.join("target");
        fs::write(&p, "old").expect("seed");
        atomic_write(&p, b"new", 0o600).expect("write");
        assert_eq!(fs::read(&p).expect("read"), b"new");
        assert_eq!(
            fs::metadata(&p).expect("stat").permissions().mode() & 0o777,
            0o600
        );
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .expect("ls")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
            .collect();
        assert!(leftovers.is_empty());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn link_new_never_replaces() {
        let dir = std::env::temp_dir().join(format!("fsutil-link-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("mkdir");
        let p = dir.join("id-1");
        let (tmp, mut f) = temp_beside(&p, 0o600).expect("temp");
        f.write_all(b"first").expect("write");
        drop(f);
        assert!(link_new(&tmp, &p).expect("published"));
        assert!(!tmp.exists(), "temporary left behind");
        let (tmp, mut f) = temp_beside(&p, 0o600).expect("temp");
        f.write_all(b"second").expect("write");
        drop(f);
        assert!(!link_new(&tmp, &p).expect("name taken"));
        assert!(!tmp.exists(), "temporary left behind");
        assert_eq!(fs::read(&p).expect("read"), b"first");
        let e = link_new(&dir.join("no-such-tmp"), &dir.join("x")).expect_err("no source");
        assert!(e.to_string().contains("/x: "), "{e}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn open_regular_refuses_links_and_fifos() {
        use std::os::unix::fs::symlink;
        let dir = std::env::temp_dir().join(format!("fsutil-open-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("mkdir");
        fs::write(dir.join("f"), "data").expect("write");
        symlink("f", dir.join("l")).expect("link");
        nix::unistd::mkfifo(
            &dir.join("p"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .expect("mkfifo");
        let (_, md) = open_regular(&dir.join("f")).expect("regular file");
        assert_eq!(md.len(), 4);
        assert!(open_regular(&dir.join("l")).is_err(), "followed a symlink");
        // A fifo opens at once (O_NONBLOCK) and is then refused.
        let e = open_regular(&dir.join("p")).expect_err("fifo");
        assert_eq!(e.to_string(), "is no longer a regular file");
        assert!(open_regular(&dir).is_err(), "a directory");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn atomic_write_into_missing_dir_names_the_path() {
        let e = atomic_write(Path::new("/nonexistent-dir/x"), b"", 0o600).expect_err("fails");
        assert!(e.to_string().contains("/nonexistent-dir/"), "{e}");
        assert_eq!(e.code(), 2);
    }
}
