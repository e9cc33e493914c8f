//! `restore`: put saved paths back byte for byte, with mode, owner, group,
//! mtime and symlink targets.
//!
//! Every directory on the way is opened relative to its parent with
//! O_NOFOLLOW|O_DIRECTORY, one component at a time, so a symlink planted in
//! a parent directory (`/etc/ssh -> /root/.ssh`) stops the restore instead
//! of redirecting it. Each file is written to an unnamed (O_TMPFILE) file
//! in its final directory (`common::fsutil::TempAt`), owned, chmodded and
//! timestamped through its descriptor, fsynced, then linked under a
//! temporary name and renamed over the old one: a crash leaves the old file
//! or the new one, and no stray file. Before anything is overwritten, the current state of the paths
//! about to change is saved as a new backup, so a restore can be
//! undone with another restore.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use common::bytes::display;
use common::error::describe_io;
use common::fsutil::{TempAt, TempLink};
use common::names::Names;
use common::{Error, Result, Root};
use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{fchmod, fstatat, futimens, mkdirat, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchown, fchownat, fsync, unlinkat, Gid, Uid, UnlinkatFlags};
use sha2::{Digest, Sha256};

use crate::model::{Entry, FType};
use crate::scan::current;
use crate::store::{Backup, Store};
use common::bytes::hex;

/// What a restore does to one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Absent now: created.
    Create,
    /// Content, type, target or metadata differ: replaced.
    Replace,
    /// Only the mtime differs: set.
    Touch,
    /// Already as saved.
    Unchanged,
    /// Exists now where the backup had nothing (recorded absent, new in a
    /// walked directory, a package manager's leftover): moved into the
    /// undo backup and deleted.
    Remove,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Replace => "replace",
            Action::Touch => "touch",
            Action::Unchanged => "unchanged",
            Action::Remove => "remove",
        }
    }
}

/// The plan for one path.
pub struct Step {
    pub entry: Entry,
    pub action: Action,
    /// The path exists now (so the undo backup must hold it).
    pub exists: bool,
}

/// The restore destination: a directory opened once, and its path for
/// messages.
pub struct Dest {
    pub base: PathBuf,
    pub root: Root,
    fd: OwnedFd,
}

impl Dest {
    /// The destination `root`. With `nofollow` (`--to DIR`) the directory
    /// itself must not be a symlink: a link planted under the name the
    /// admin typed would send every restored file elsewhere.
    pub fn new(root: Root, nofollow: bool) -> Result<Dest> {
        let base = root
            .base()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        let mut flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        if nofollow {
            flags |= OFlag::O_NOFOLLOW;
        }
        let fd = openat(nix::fcntl::AT_FDCWD, base.as_path(), flags, Mode::empty()).map_err(
            |e| match e {
                Errno::ELOOP | Errno::ENOTDIR if nofollow && is_symlink(&base) => Error::new(format!(
                    "--to {}: is a symlink; refusing to restore through it (name the directory it points to, if that is what you mean)",
                    base.display()
                )),
                e => Error::io(&base, &io::Error::from(e)),
            },
        )?;
        Ok(Dest { base, root, fd })
    }

    /// The real path of a system path (for messages and output).
    pub fn real(&self, sys: &[u8]) -> PathBuf {
        self.root.path(Path::new(OsStr::from_bytes(sys)))
    }

    /// Check that the parents of `sys` can be walked without passing
    /// through a symlink (nothing is created).
    pub fn check_parents(&self, sys: &[u8]) -> Result<()> {
        self.parent(sys, false).map(|_| ())
    }

    /// The directory holding `sys`, opened without following any symlink
    /// below the destination. Missing directories are created (0755, not
    /// subject to the umask) when
    /// `create`, else `None` comes back.
    fn parent(&self, sys: &[u8], create: bool) -> Result<Option<OwnedFd>> {
        let comps: Vec<&[u8]> = sys[1..].split(|&c| c == b'/').collect();
        let mut dir = self.fd.try_clone().map_err(|e| Error::io(&self.base, &e))?;
        let mut walked = self.base.clone();
        for comp in &comps[..comps.len() - 1] {
            let name = OsStr::from_bytes(comp);
            walked.push(name);
            let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            dir = match openat(&dir, name, flags, Mode::empty()) {
                Ok(fd) => fd,
                Err(Errno::ENOENT) if create => {
                    let made = match mkdirat(&dir, name, Mode::from_bits_truncate(0o755)) {
                        Ok(()) => true,
                        Err(Errno::EEXIST) => false,
                        Err(e) => return Err(Error::io(&walked, &io::Error::from(e))),
                    };
                    let fd = openat(&dir, name, flags, Mode::empty())
                        .map_err(|e| refuse(&walked, &dir, name, e))?;
                    // 0755 whatever the umask: a root umask of 077 must
                    // not leave a recreated /etc/ssh unreadable to ssh
                    // clients run by users.
                    if made {
                        fchmod(&fd, Mode::from_bits_truncate(0o755))
                            .map_err(|e| Error::io(&walked, &io::Error::from(e)))?;
                    }
                    fd
                }
                Err(Errno::ENOENT) => return Ok(None),
                Err(e) => return Err(refuse(&walked, &dir, name, e)),
            };
        }
        Ok(Some(dir))
    }
}

/// The error for a parent component that could not be opened as a
/// directory; a symlink there is named as what it may be: an attack.
fn refuse(walked: &Path, dir: &OwnedFd, name: &OsStr, e: Errno) -> Error {
    let is_link = fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW)
        .map(|st| SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK)
        .unwrap_or(false);
    if is_link {
        Error::new(format!(
            "{}: is a symlink; refusing to restore through it (someone may have planted it: inspect and remove it, or restore elsewhere with --to DIR; a link of the system's own, like /lib -> usr/lib, is resolved when saving on the live system)",
            walked.display()
        ))
    } else if e == Errno::ENOTDIR || e == Errno::ELOOP {
        Error::new(format!(
            "{}: is not a directory; move it away to restore what lies below it",
            walked.display()
        ))
    } else {
        Error::io(walked, &io::Error::from(e))
    }
}

/// Temporary names in the directories restored into start with this (a
/// dot name, so nothing that reads every file of a directory takes it).
const TEMP_PREFIX: &str = "cfg-backup-tmp";

/// Environment variable of a test-only fault point: when set, `restore`
/// aborts after the first file is written and synced, before it has a
/// name, as a crash or `kill -9` there would.
pub const RESTORE_FAULT_ENV: &str = "CFG_BACKUP_TEST_FAIL_BEFORE_RENAME";

fn is_symlink(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink())
}

fn last(sys: &[u8]) -> &OsStr {
    let i = sys.iter().rposition(|&c| c == b'/').unwrap_or(0);
    OsStr::from_bytes(&sys[i + 1..])
}

/// Decide what to do with each entry, checking everything that can be
/// checked without changing anything: parents, type clashes, blobs.
pub fn plan(store: &Store, backup: &Backup, dest: &Dest, entries: &[Entry]) -> Result<Vec<Step>> {
    let mut names = Names::new(&dest.root);
    let mut steps = Vec::new();
    for e in entries {
        // Parents: a planted symlink fails here, before any change.
        dest.parent(&e.path, false)?;
        let now = current(&dest.root, &e.path, &mut names).map_err(|err| {
            Error::new(format!(
                "{}: {}",
                dest.real(&e.path).display(),
                describe_io(&err)
            ))
        })?;
        let action = match &now {
            None => Action::Create,
            Some(n) if (n.ftype == FType::Dir) != (e.ftype == FType::Dir) => {
                return Err(Error::new(format!(
                    "{}: is a {} now but the backup has a {}; move it away first",
                    dest.real(&e.path).display(),
                    n.ftype.name(),
                    e.ftype.name()
                )))
            }
            // Owners are restored by number; names depend on the passwd
            // of the tree looked at (another one under --to).
            Some(n)
                if n.differing(e)
                    .iter()
                    .any(|f| !matches!(*f, "user" | "group")) =>
            {
                Action::Replace
            }
            Some(n) if n.mtime != e.mtime && e.mtime.is_some() => Action::Touch,
            Some(_) => Action::Unchanged,
        };
        // Content is checked before anything changes: a corrupt or
        // missing blob must not leave a restore half done.
        let writes = matches!(action, Action::Create | Action::Replace);
        if let (Some(sha), FType::File, true) = (&e.sha256, e.ftype, writes) {
            if let Some(why) = store.blob_problem(sha) {
                return Err(Error::new(format!(
                    "{why}; backup {} cannot restore {}, nothing was restored (run `cfg-backup verify --all`)",
                    backup.id,
                    e.shown()
                )));
            }
        }
        steps.push(Step {
            entry: e.clone(),
            action,
            exists: now.is_some(),
        });
    }
    Ok(steps)
}

/// Carries out a plan.
pub struct Restorer<'a> {
    pub store: &'a Store,
    pub dest: &'a Dest,
    /// Paths whose owner could not be set (not root).
    pub owners_kept: Vec<Vec<u8>>,
    dirs: Vec<Entry>,
}

impl<'a> Restorer<'a> {
    pub fn new(store: &'a Store, dest: &'a Dest) -> Self {
        Restorer {
            store,
            dest,
            owners_kept: Vec::new(),
            dirs: Vec::new(),
        }
    }

    /// Restore one entry.
    pub fn apply(&mut self, e: &Entry) -> Result<()> {
        let real = self.dest.real(&e.path);
        let io_err = |err: Errno| Error::io(&real, &io::Error::from(err));
        let Some(parent) = self.dest.parent(&e.path, true)? else {
            return Err(Error::new(format!("{}: parent vanished", real.display())));
        };
        let name = last(&e.path);
        match e.ftype {
            FType::File => {
                // An anonymous file (O_TMPFILE) gets a name only once it is
                // whole, owned and synced, so a restore killed while it
                // writes leaves nothing in /etc/logrotate.d and the like;
                // where the file system has no O_TMPFILE, a temporary name
                // that goes away with `t` on any error.
                let mut t = TempAt::new(parent.as_fd(), TEMP_PREFIX, 0o600)
                    .map_err(|err| Error::io(&real, &err))?;
                self.fill(t.file(), e)?;
                // A setuid or setgid file whose owner could not be set
                // would run as the restoring user: those bits are dropped
                // then, as cp -p drops them.
                let mode = if self.own(&*t.file(), None, e)? {
                    e.mode
                } else {
                    e.mode & !0o6000
                };
                let f = t.file();
                fchmod(&*f, Mode::from_bits_truncate(mode)).map_err(io_err)?;
                if let Some(mt) = e.mtime {
                    futimens(&*f, &TimeSpec::UTIME_NOW, &timespec(mt)).map_err(io_err)?;
                }
                f.sync_all().map_err(|err| Error::io(&real, &err))?;
                if std::env::var_os(RESTORE_FAULT_ENV).is_some() {
                    common::warn!(
                        "cfg-backup: {RESTORE_FAULT_ENV} is set: aborting before the rename"
                    );
                    std::process::abort();
                }
                t.publish(name).map_err(|err| Error::io(&real, &err))?;
            }
            FType::Symlink => {
                let target = OsStr::from_bytes(e.target.as_deref().unwrap_or_default());
                let l = TempLink::new(parent.as_fd(), target, TEMP_PREFIX)
                    .map_err(|err| Error::io(&real, &err))?;
                let _ = self.own(&parent, Some(l.name()), e)?;
                if let Some(mt) = e.mtime {
                    utimensat(
                        &parent,
                        l.name(),
                        &TimeSpec::UTIME_NOW,
                        &timespec(mt),
                        UtimensatFlags::NoFollowSymlink,
                    )
                    .map_err(io_err)?;
                }
                l.publish(name).map_err(|err| Error::io(&real, &err))?;
            }
            FType::Dir => {
                let flags =
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
                let fd = match openat(&parent, name, flags, Mode::empty()) {
                    Ok(fd) => fd,
                    Err(Errno::ENOENT) => {
                        mkdirat(&parent, name, Mode::from_bits_truncate(0o700)).map_err(io_err)?;
                        openat(&parent, name, flags, Mode::empty()).map_err(io_err)?
                    }
                    Err(err) => return Err(refuse(&real, &parent, name, err)),
                };
                let _ = self.own(&fd, None, e)?;
                // Mode and mtime are set last: restoring its children
                // changes the mtime, and a read-only mode would stop them.
                self.dirs.push(e.clone());
            }
        }
        fsync(&parent).map_err(io_err)
    }

    /// Copy the blob into `f`, refusing content that does not hash to
    /// what the manifest says.
    fn fill(&self, f: &mut File, e: &Entry) -> Result<()> {
        let sha = e.sha256.as_deref().unwrap_or_default();
        let blob = self.store.blob_path(sha);
        let mut src = File::open(&blob).map_err(|err| Error::io(&blob, &err))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match src.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(Error::io(&blob, &err)),
            };
            hasher.update(&buf[..n]);
            f.write_all(&buf[..n])
                .map_err(|err| Error::io(&self.dest.real(&e.path), &err))?;
        }
        let got = hex(&hasher.finalize());
        if got != sha {
            return Err(Error::new(format!(
                "{}: corrupt blob (its content hashes to {got}); {} was not restored (run `cfg-backup verify`)",
                blob.display(),
                e.shown()
            )));
        }
        Ok(())
    }

    /// Set owner and group by numeric id (the ids of the system the backup
    /// came from). Without the privilege to do so the file keeps the
    /// restoring user's ids, and that is reported once at the end.
    /// True when the owner and group were set.
    fn own<Fd: AsFd>(&mut self, fd: Fd, name: Option<&str>, e: &Entry) -> Result<bool> {
        let (u, g) = (Some(Uid::from_raw(e.uid)), Some(Gid::from_raw(e.gid)));
        let res = match name {
            None => fchown(fd, u, g),
            Some(n) => fchownat(fd, n, u, g, AtFlags::AT_SYMLINK_NOFOLLOW),
        };
        match res {
            Ok(()) => Ok(true),
            Err(Errno::EPERM) => {
                self.owners_kept.push(e.path.clone());
                Ok(false)
            }
            Err(err) => Err(Error::io(&self.dest.real(&e.path), &io::Error::from(err))),
        }
    }

    /// Delete a path the backup did not have (its current state is in the
    /// undo backup by now). A directory must be empty by then: its
    /// children come first in a plan.
    pub fn remove(&mut self, e: &Entry) -> Result<()> {
        let real = self.dest.real(&e.path);
        let Some(parent) = self.dest.parent(&e.path, false)? else {
            return Ok(());
        };
        let how = if e.ftype == FType::Dir {
            UnlinkatFlags::RemoveDir
        } else {
            UnlinkatFlags::NoRemoveDir
        };
        match unlinkat(&parent, last(&e.path), how) {
            Ok(()) | Err(Errno::ENOENT) => {}
            Err(Errno::ENOTEMPTY | Errno::EEXIST) => {
                return Err(Error::new(format!(
                    "{}: the directory holds files a backup cannot keep (devices, fifos, sockets); move them away and restore again",
                    real.display()
                )))
            }
            Err(err) => return Err(Error::io(&real, &io::Error::from(err))),
        }
        fsync(&parent).map_err(|err| Error::io(&real, &io::Error::from(err)))
    }

    /// Set the mtimes of restored directories, deepest first.
    pub fn finish_dirs(&mut self) -> Result<()> {
        let dirs = std::mem::take(&mut self.dirs);
        for e in dirs.iter().rev() {
            let real = self.dest.real(&e.path);
            let io_err = |err: Errno| Error::io(&real, &io::Error::from(err));
            let Some(parent) = self.dest.parent(&e.path, false)? else {
                continue;
            };
            let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            let fd = openat(&parent, last(&e.path), flags, Mode::empty())
                .map_err(|err| refuse(&real, &parent, last(&e.path), err))?;
            fchmod(&fd, Mode::from_bits_truncate(e.mode)).map_err(io_err)?;
            if let Some(t) = e.mtime {
                futimens(&fd, &TimeSpec::UTIME_NOW, &timespec(t)).map_err(io_err)?;
            }
        }
        Ok(())
    }

    /// Set only the mtime of an otherwise unchanged path (a directory's
    /// waits for [`Restorer::finish_dirs`]).
    pub fn touch(&mut self, e: &Entry) -> Result<()> {
        if e.ftype == FType::Dir {
            self.dirs.push(e.clone());
            return Ok(());
        }
        let real = self.dest.real(&e.path);
        let (Some(t), Some(parent)) = (e.mtime, self.dest.parent(&e.path, false)?) else {
            return Ok(());
        };
        utimensat(
            &parent,
            last(&e.path),
            &TimeSpec::UTIME_NOW,
            &timespec(t),
            UtimensatFlags::NoFollowSymlink,
        )
        .map_err(|err| Error::io(&real, &io::Error::from(err)))
    }
}

fn timespec((s, n): (i64, u32)) -> TimeSpec {
    TimeSpec::new(s, i64::from(n))
}

/// A one-line summary for paths whose owner could not be restored.
pub fn owners_note(kept: &[Vec<u8>]) -> Option<String> {
    (!kept.is_empty()).then(|| {
        format!(
            "cfg-backup: {} path(s) keep the restoring user as owner, and files among them no setuid or setgid bit, e.g. {} (restoring owners needs root)",
            kept.len(),
            display(&kept[0])
        )
    })
}
