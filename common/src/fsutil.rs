//! Writes that matter are atomic: a temporary file in the same directory,
//! fsync, rename over the target, fsync the directory. A crash at any moment
//! leaves the old file or the new one, never half of either.
//!
//! - [`atomic_write`]: one file, whole, durable.
//! - [`TempFile`]: a temporary file removed when dropped (an error or a
//!   panic part-way leaves nothing behind) and then either committed
//!   ([`TempFile::commit`]), published under a name that must be new
//!   ([`TempFile::link_new`], a backup ID), or renamed without a sync
//!   ([`TempFile::rename_unsynced`]) when many files are made durable
//!   together by one [`syncfs`] (a save writes thousands: one syncfs
//!   instead of an fsync per file).
//! - Relative to a directory descriptor, so that no symlink anywhere in
//!   the path is followed (a restore under `--root` stays inside it):
//!   [`TempAt`] (an O_TMPFILE file that has no name until it is whole, or an
//!   O_EXCL|O_NOFOLLOW temporary name where the file system has no
//!   O_TMPFILE), [`TempLink`] (a symlink under a temporary name) and
//!   [`open_dir_at`].
//!
//! Reading a file as it is now, without following a planted symlink or
//! hanging on a fifo: [`open_regular`].

use std::ffi::OsStr;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use nix::errno::Errno;
use nix::fcntl::{openat, renameat, AtFlags, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::{linkat, symlinkat, unlinkat, UnlinkatFlags};

use crate::error::{Error, Result};

/// Write `data` to `path` atomically with permission bits `mode`.
pub fn atomic_write(path: &Path, data: &[u8], mode: u32) -> Result<()> {
    let mut t = TempFile::beside(path, mode)?;
    t.file()
        .write_all(data)
        .map_err(|e| Error::io(t.path(), &e))?;
    t.commit(path)
}

/// A temporary name `.{prefix}.{pid}.{n}`, new for every call in this
/// process (a dot name, so nothing mistakes a leftover for real content).
fn temp_name(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    // Asked once: a save names thousands of temporaries, and a name taken
    // anyway (a forked child) only moves on to the next number.
    static PID: OnceLock<u32> = OnceLock::new();
    format!(
        ".{prefix}.{}.{}",
        PID.get_or_init(std::process::id),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// How many names a temporary file tries before giving up (they are only
/// taken by leftovers of an earlier process with the same pid).
const TEMP_TRIES: u32 = 1000;

/// A temporary file in a directory, removed when dropped unless it was
/// committed, linked or renamed.
#[derive(Debug)]
pub struct TempFile {
    /// Empty once the name is the caller's.
    path: PathBuf,
    file: File,
}

impl TempFile {
    /// A new temporary file in `dir` named `.{prefix}.PID.N`, opened for
    /// writing with `mode` (subject to the umask, as open(2) is).
    pub fn new_in(dir: &Path, prefix: &str, mode: u32) -> Result<TempFile> {
        for _ in 0..TEMP_TRIES {
            let path = dir.join(temp_name(prefix));
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .custom_flags(nix::libc::O_CLOEXEC)
                .open(&path)
            {
                Ok(file) => return Ok(TempFile { path, file }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(&path, &e)),
            }
        }
        Err(Error::new(format!(
            "{}: cannot create a temporary file in it",
            dir.display()
        )))
    }

    /// A new temporary file beside `path` (same directory, so the rename
    /// stays on one file system).
    pub fn beside(path: &Path, mode: u32) -> Result<TempFile> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".to_owned());
        TempFile::new_in(&parent_of(path), &format!("{name}.tmp"), mode)
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open file, to write to.
    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// Close it and hand over its name: from now on the caller's.
    fn release(mut self) -> PathBuf {
        std::mem::take(&mut self.path)
    }

    /// fsync it, rename it over `path`, then fsync the directory, so the
    /// new content and its name survive a crash.
    pub fn commit(mut self, path: &Path) -> Result<()> {
        let synced = self.file().sync_all();
        if let Err(e) = synced {
            return Err(Error::io(self.path(), &e));
        }
        commit(&self.release(), path)
    }

    /// Rename it over `path` without any sync: for files made durable
    /// together by one [`syncfs`] before anything refers to them.
    pub fn rename_unsynced(self, path: &Path) -> Result<()> {
        let tmp = self.release();
        fs::rename(&tmp, path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            Error::io(path, &e)
        })
    }

    /// Publish it at `path` only if that name is free (see [`link_new`]);
    /// the caller has synced it. `Ok(false)`: the name was taken.
    pub fn link_new(self, path: &Path) -> Result<bool> {
        link_new(&self.release(), path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
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

/// Make everything written to the file system that holds `dir` durable:
/// one syncfs(2) for many files instead of an fsync each.
pub fn syncfs(dir: &Path) -> Result<()> {
    let d = File::open(dir).map_err(|e| Error::io(dir, &e))?;
    nix::unistd::syncfs(&d).map_err(|e| Error::io(dir, &io::Error::from(e)))
}

/// Open directory `name` of `dir` without following a symlink there.
pub fn open_dir_at<Fd: AsFd>(dir: Fd, name: &OsStr) -> io::Result<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    Ok(openat(dir, name, flags, Mode::empty())?)
}

/// A file being written in a directory opened as a descriptor, that gets
/// its final name only by [`TempAt::publish`]. Where the file system has
/// O_TMPFILE it has no name at all until then, so a process killed while
/// it writes leaves nothing in the directory (which matters where every
/// file of a directory is read: /etc/logrotate.d, /etc/sudoers.d).
/// Elsewhere it is a temporary name created with O_EXCL|O_NOFOLLOW, removed
/// when the value is dropped unpublished.
#[derive(Debug)]
pub struct TempAt<'d> {
    dir: BorrowedFd<'d>,
    file: File,
    /// The temporary name, when it has one.
    name: Option<String>,
    prefix: String,
}

impl<'d> TempAt<'d> {
    /// A new file in `dir` with permission bits `mode` (subject to the
    /// umask; set them exactly through [`TempAt::file`] with fchmod).
    /// Temporary names are `.{prefix}.PID.N`.
    pub fn new(dir: BorrowedFd<'d>, prefix: &str, mode: u32) -> io::Result<TempAt<'d>> {
        let m = Mode::from_bits_truncate(mode);
        let prefix = prefix.to_owned();
        match openat(
            dir,
            ".",
            OFlag::O_WRONLY | OFlag::O_TMPFILE | OFlag::O_CLOEXEC,
            m,
        ) {
            Ok(fd) => {
                return Ok(TempAt {
                    dir,
                    file: File::from(fd),
                    name: None,
                    prefix,
                })
            }
            Err(Errno::EOPNOTSUPP | Errno::EISDIR | Errno::EINVAL) => {}
            Err(e) => return Err(e.into()),
        }
        let flags =
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        for _ in 0..TEMP_TRIES {
            let name = temp_name(&prefix);
            match openat(dir, name.as_str(), flags, m) {
                Ok(fd) => {
                    return Ok(TempAt {
                        dir,
                        file: File::from(fd),
                        name: Some(name),
                        prefix,
                    })
                }
                Err(Errno::EEXIST) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(io::Error::from(Errno::EEXIST))
    }

    /// The open file, to write, own, chmod, timestamp and sync through.
    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// True while it has no name (O_TMPFILE).
    pub fn is_anonymous(&self) -> bool {
        self.name.is_none()
    }

    /// Give it the name `name` in its directory, replacing what is there
    /// (rename(2): atomic). The caller has synced it; the caller syncs the
    /// directory.
    pub fn publish(mut self, name: &OsStr) -> io::Result<()> {
        let tmp = match self.name.take() {
            Some(t) => t,
            None => {
                let t = temp_name(&self.prefix);
                link_anonymous(&self.file, self.dir, &t)?;
                t
            }
        };
        let res = renameat(self.dir, tmp.as_str(), self.dir, name);
        if res.is_err() {
            let _ = unlinkat(self.dir, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
        }
        Ok(res?)
    }
}

impl Drop for TempAt<'_> {
    fn drop(&mut self) {
        if let Some(t) = &self.name {
            let _ = unlinkat(self.dir, t.as_str(), UnlinkatFlags::NoRemoveDir);
        }
    }
}

/// Give an O_TMPFILE file the name `name` in `dir`: by its descriptor
/// (AT_EMPTY_PATH, which needs CAP_DAC_READ_SEARCH), else through
/// /proc/self/fd.
fn link_anonymous(f: &File, dir: BorrowedFd<'_>, name: &str) -> io::Result<()> {
    match linkat(f, "", dir, name, AtFlags::AT_EMPTY_PATH) {
        Err(Errno::EPERM | Errno::ENOENT) => Ok(linkat(
            nix::fcntl::AT_FDCWD,
            format!("/proc/self/fd/{}", f.as_raw_fd()).as_str(),
            dir,
            name,
            AtFlags::AT_SYMLINK_FOLLOW,
        )?),
        other => Ok(other?),
    }
}

/// A symlink made under a temporary name `.{prefix}.PID.N` in a directory
/// opened as a descriptor, to be owned and timestamped by that name
/// ([`TempLink::name`], relative to the directory) and then renamed over
/// its final name by [`TempLink::publish`]; removed when dropped
/// unpublished.
#[derive(Debug)]
pub struct TempLink<'d> {
    dir: BorrowedFd<'d>,
    /// Empty once published.
    name: String,
}

impl<'d> TempLink<'d> {
    /// A new symlink to `target` in `dir`.
    pub fn new(dir: BorrowedFd<'d>, target: &OsStr, prefix: &str) -> io::Result<TempLink<'d>> {
        for _ in 0..TEMP_TRIES {
            let name = temp_name(prefix);
            match symlinkat(target, dir, name.as_str()) {
                Ok(()) => return Ok(TempLink { dir, name }),
                Err(Errno::EEXIST) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(io::Error::from(Errno::EEXIST))
    }

    /// Its temporary name in the directory.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Rename it over `name`, replacing what is there.
    pub fn publish(mut self, name: &OsStr) -> io::Result<()> {
        let tmp = std::mem::take(&mut self.name);
        let res = renameat(self.dir, tmp.as_str(), self.dir, name);
        if res.is_err() {
            let _ = unlinkat(self.dir, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
        }
        Ok(res?)
    }
}

impl Drop for TempLink<'_> {
    fn drop(&mut self) {
        if !self.name.is_empty() {
            let _ = unlinkat(self.dir, self.name.as_str(), UnlinkatFlags::NoRemoveDir);
        }
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
        assert_eq!(names(&dir), ["target"]);
        let _ = fs::remove_dir_all(&dir);
    }

    /// A fresh scratch directory for one test.
    fn scratch(label: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("fsutil-{label}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("mkdir");
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .expect("ls")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn link_new_never_replaces() {
        let dir = scratch("link");
        let p = dir.join("id-1");
        let mut t = TempFile::new_in(&dir, "tmp", 0o600).expect("temp");
        t.file().write_all(b"first").expect("write");
        assert!(t.link_new(&p).expect("published"));
        let mut t = TempFile::new_in(&dir, "tmp", 0o600).expect("temp");
        t.file().write_all(b"second").expect("write");
        assert!(!t.link_new(&p).expect("name taken"));
        assert_eq!(names(&dir), ["id-1"], "temporary left behind");
        assert_eq!(fs::read(&p).expect("read"), b"first");
        let e = link_new(&dir.join("no-such-tmp"), &dir.join("x")).expect_err("no source");
        assert!(e.to_string().contains("/x: "), "{e}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_unpublished_temp_file_is_removed_and_renames_replace() {
        let dir = scratch("temp");
        {
            let mut t = TempFile::new_in(&dir, "tmp", 0o400).expect("temp");
            t.file().write_all(b"half").expect("write");
            assert!(t
                .path()
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".tmp.")));
            assert_eq!(names(&dir).len(), 1);
            // Dropped here, as an error part-way through a write drops it.
        }
        assert!(names(&dir).is_empty(), "{:?}", names(&dir));
        let target = dir.join("blob");
        fs::write(&target, "old").expect("seed");
        let mut t = TempFile::new_in(&dir, "tmp", 0o400).expect("temp");
        t.file().write_all(b"new").expect("write");
        t.rename_unsynced(&target).expect("rename");
        syncfs(&dir).expect("syncfs");
        assert_eq!(fs::read(&target).expect("read"), b"new");
        assert_eq!(
            fs::metadata(&target).expect("stat").permissions().mode() & 0o777,
            0o400
        );
        assert_eq!(names(&dir), ["blob"]);
        // A rename that fails removes the temporary too.
        let t = TempFile::new_in(&dir, "tmp", 0o600).expect("temp");
        let e = t
            .rename_unsynced(&dir.join("missing/x"))
            .expect_err("no such directory");
        assert!(e.to_string().contains("missing/x"), "{e}");
        assert_eq!(names(&dir), ["blob"]);
        assert!(syncfs(&dir.join("missing")).is_err());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn temp_at_has_no_name_until_published_and_replaces() {
        let dir = scratch("tempat");
        fs::write(dir.join("conf"), "old").expect("seed");
        let d = File::open(&dir).expect("open dir");
        {
            let mut t = TempAt::new(d.as_fd(), "t", 0o600).expect("temp");
            t.file().write_all(b"half").expect("write");
            // Killed here, the directory would hold only the old file.
            if t.is_anonymous() {
                assert_eq!(names(&dir), ["conf"]);
            }
        }
        assert_eq!(names(&dir), ["conf"], "dropped unpublished");
        let mut t = TempAt::new(d.as_fd(), "t", 0o600).expect("temp");
        t.file().write_all(b"new").expect("write");
        t.file().sync_all().expect("sync");
        t.publish(OsStr::new("conf")).expect("publish");
        assert_eq!(fs::read(dir.join("conf")).expect("read"), b"new");
        assert_eq!(names(&dir), ["conf"]);
        // A name that cannot be taken (a directory is there) leaves
        // nothing behind either.
        fs::create_dir(dir.join("sub")).expect("mkdir");
        fs::write(dir.join("sub/x"), "x").expect("write");
        let t = TempAt::new(d.as_fd(), "t", 0o600).expect("temp");
        assert!(t.publish(OsStr::new("sub")).is_err());
        assert_eq!(names(&dir), ["conf", "sub"]);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn directories_opened_at_a_descriptor_never_follow_a_symlink() {
        let dir = scratch("openat");
        let outside = scratch("openat-outside");
        fs::create_dir(dir.join("real")).expect("mkdir");
        std::os::unix::fs::symlink(&outside, dir.join("link")).expect("symlink");
        std::os::unix::fs::symlink("real", dir.join("rel")).expect("symlink");
        let d = File::open(&dir).expect("open dir");
        let real = open_dir_at(d.as_fd(), OsStr::new("real")).expect("a directory");
        for link in ["link", "rel"] {
            let e = open_dir_at(d.as_fd(), OsStr::new(link)).expect_err(link);
            // O_DIRECTORY|O_NOFOLLOW on a symlink: ENOTDIR (ELOOP on
            // some kernels).
            assert!(
                matches!(
                    e.raw_os_error(),
                    Some(nix::libc::ENOTDIR | nix::libc::ELOOP)
                ),
                "{link}: {e}"
            );
        }
        // What is written through the descriptor lands inside.
        let mut t = TempAt::new(real.as_fd(), "t", 0o644).expect("temp");
        t.file().write_all(b"x").expect("write");
        t.publish(OsStr::new("f")).expect("publish");
        assert_eq!(fs::read(dir.join("real/f")).expect("read"), b"x");
        assert!(names(&outside).is_empty());
        let _ = fs::remove_dir_all(&dir);
        let _ = fs::remove_dir_all(&outside);
    }

    #[test]
    fn temp_links_replace_and_vanish_when_dropped() {
        let dir = scratch("templink");
        fs::write(dir.join("l"), "a file first").expect("seed");
        let d = File::open(&dir).expect("open dir");
        let t = TempLink::new(d.as_fd(), OsStr::new("../target"), "t").expect("symlink");
        assert!(t.name().starts_with(".t."), "{}", t.name());
        // Owned and timestamped by its temporary name.
        nix::sys::stat::utimensat(
            d.as_fd(),
            t.name(),
            &nix::sys::time::TimeSpec::UTIME_NOW,
            &nix::sys::time::TimeSpec::new(1_000_000, 0),
            nix::sys::stat::UtimensatFlags::NoFollowSymlink,
        )
        .expect("utimensat");
        t.publish(OsStr::new("l")).expect("publish");
        assert_eq!(
            fs::read_link(dir.join("l")).expect("a link"),
            Path::new("../target")
        );
        {
            use std::os::unix::fs::MetadataExt;
            let md = fs::symlink_metadata(dir.join("l")).expect("lstat");
            assert_eq!(md.mtime(), 1_000_000);
        }
        let t = TempLink::new(d.as_fd(), OsStr::new("x"), "t").expect("symlink");
        assert_eq!(names(&dir).len(), 2);
        drop(t);
        assert_eq!(names(&dir), ["l"], "temporary left behind");
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
