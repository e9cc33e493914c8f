//! Writes that matter are atomic: a temporary file in the same directory,
//! fsync, rename over the target, fsync the directory. A crash at any moment
//! leaves the old file or the new one, never half of either.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
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
    fn atomic_write_into_missing_dir_names_the_path() {
        let e = atomic_write(Path::new("/nonexistent-dir/x"), b"", 0o600).expect_err("fails");
        assert!(e.to_string().contains("/nonexistent-dir/"), "{e}");
        assert_eq!(e.code(), 2);
    }
}
