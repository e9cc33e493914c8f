//! Files that grant privilege: everything with the setuid or setgid bit
//! (what `find / -xdev -perm /6000` lists, directories included), and
//! executables with file capabilities (what `getcap -r` lists).
//!
//! The walk starts at the root and stays on its file system, as
//! `find -xdev` does: a mount point is looked at, but not entered. Symbolic
//! links are not followed. Directories are handed out to a few threads;
//! each entry costs one `fstatat` relative to its open directory, and each
//! regular file with an execute bit one `lgetxattr` of
//! `security.capability` (a capability on a file no one may execute grants
//! nothing, and skipping those halves the work).

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

/// One privileged file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The real path (under the root).
    pub path: PathBuf,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// The raw `security.capability` attribute, if any.
    pub caps: Option<Vec<u8>>,
}

/// What the walk could not read.
#[derive(Debug, Default, Clone, Copy)]
pub struct Unread {
    /// Directories that could not be listed.
    pub dirs: usize,
    /// Entries that could not be looked at.
    pub entries: usize,
    /// The first errno seen.
    pub errno: Option<i32>,
}

impl Unread {
    fn note(&mut self, e: &std::io::Error) {
        if self.errno.is_none() {
            self.errno = e.raw_os_error();
        }
    }
    fn merge(&mut self, o: Unread) {
        self.dirs += o.dirs;
        self.entries += o.entries;
        if self.errno.is_none() {
            self.errno = o.errno;
        }
    }
}

const XATTR: &str = "security.capability";

/// Directories handed between walkers. Each walker works depth first on
/// a stack of its own and hands half of it over only when another walker
/// is idle: on a busy machine every hand-over costs a wake-up that waits
/// for a CPU, so they are kept rare.
struct Queue {
    /// Directories handed over, and how many walkers wait for one.
    state: Mutex<(Vec<PathBuf>, usize)>,
    cv: Condvar,
    /// Walkers waiting, for a check without the lock.
    idle: AtomicUsize,
    threads: usize,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<PathBuf>, usize)> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A directory handed over, or `None` when every walker is out of
    /// work (then the walk is done).
    fn take(&self) -> Option<PathBuf> {
        let mut g = self.lock();
        loop {
            if let Some(d) = g.0.pop() {
                return Some(d);
            }
            if g.1 + 1 == self.threads {
                // Everyone else waits and nothing is left: wake them to end.
                g.1 = self.threads;
                self.idle.store(self.threads, Ordering::Relaxed);
                self.cv.notify_all();
                return None;
            }
            if g.1 >= self.threads {
                return None;
            }
            g.1 += 1;
            self.idle.store(g.1, Ordering::Relaxed);
            g = self
                .cv
                .wait(g)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if g.1 >= self.threads {
                return None;
            }
            g.1 -= 1;
            self.idle.store(g.1, Ordering::Relaxed);
        }
    }

    /// Hand over the older half of a walker's stack when someone waits.
    fn share(&self, local: &mut Vec<PathBuf>) {
        if local.len() < 2 || self.idle.load(Ordering::Relaxed) == 0 {
            return;
        }
        let half = local.len() / 2;
        let mut g = self.lock();
        if g.1 == 0 || g.1 >= self.threads {
            return;
        }
        g.0.extend(local.drain(..half));
        drop(g);
        self.cv.notify_all();
    }
}

/// Walk `top` with `threads` threads; the privileged files sorted by path.
/// `None` when `top` itself cannot be looked at.
pub fn walk(top: &Path, threads: usize) -> std::io::Result<(Vec<Found>, Unread)> {
    let md = fs::symlink_metadata(top)?;
    let dev = md.dev();
    let threads = threads.max(1);
    let q = Queue {
        state: Mutex::new((vec![top.to_path_buf()], 0)),
        cv: Condvar::new(),
        idle: AtomicUsize::new(0),
        threads,
    };
    let mut all = Vec::new();
    let mut unread = Unread::default();
    if let Some(f) = check(top, &md, &mut unread) {
        all.push(f);
    }
    let results: Vec<(Vec<Found>, Unread)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let q = &q;
                s.spawn(move || {
                    let mut found = Vec::new();
                    let mut unread = Unread::default();
                    let mut local: Vec<PathBuf> = Vec::new();
                    while let Some(dir) = local.pop().or_else(|| q.take()) {
                        local.extend(list(&dir, dev, &mut found, &mut unread));
                        q.share(&mut local);
                    }
                    (found, unread)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    (
                        Vec::new(),
                        Unread {
                            dirs: 1,
                            ..Unread::default()
                        },
                    )
                })
            })
            .collect()
    });
    for (f, u) in results {
        all.extend(f);
        unread.merge(u);
    }
    all.sort_by(|a, b| {
        a.path
            .as_os_str()
            .as_bytes()
            .cmp(b.path.as_os_str().as_bytes())
    });
    Ok((all, unread))
}

/// List one directory: privileged entries into `found`, the directories
/// to walk on the same file system returned.
fn list(dir: &Path, dev: u64, found: &mut Vec<Found>, unread: &mut Unread) -> Vec<PathBuf> {
    let mut subdirs = Vec::new();
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        // Removed since its parent was listed: nothing there to report.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return subdirs,
        Err(e) => {
            unread.dirs += 1;
            unread.note(&e);
            return subdirs;
        }
    };
    for e in rd {
        let e = match e {
            Ok(e) => e,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => break,
            Err(err) => {
                unread.dirs += 1;
                unread.note(&err);
                break;
            }
        };
        // d_type spares a stat for symbolic links, which are never
        // privileged themselves.
        if e.file_type().is_ok_and(|t| t.is_symlink()) {
            continue;
        }
        let md = match e.metadata() {
            Ok(md) => md,
            // Gone between listing and looking: not there to report.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => {
                unread.entries += 1;
                unread.note(&err);
                continue;
            }
        };
        let path = e.path();
        if let Some(f) = check(&path, &md, unread) {
            found.push(f);
        }
        if md.is_dir() && md.dev() == dev {
            subdirs.push(path);
        }
    }
    subdirs
}

/// The entry as a privileged file, or `None`.
fn check(path: &Path, md: &fs::Metadata, unread: &mut Unread) -> Option<Found> {
    let mode = md.mode();
    let ft = md.file_type();
    let special = mode & 0o6000 != 0;
    let caps = if ft.is_file() && mode & 0o111 != 0 {
        read_caps(path, unread)
    } else {
        None
    };
    if !special && caps.is_none() {
        return None;
    }
    Some(Found {
        path: path.to_path_buf(),
        mode,
        uid: md.uid(),
        gid: md.gid(),
        caps,
    })
}

fn read_caps(path: &Path, unread: &mut Unread) -> Option<Vec<u8>> {
    let mut buf = [0u8; 64];
    match rustix::fs::lgetxattr(path, XATTR, &mut buf[..]) {
        Ok(n) => Some(buf[..n].to_vec()),
        Err(e) if e == rustix::io::Errno::NODATA || e == rustix::io::Errno::NOTSUP => None,
        Err(e) if e == rustix::io::Errno::NOENT => None,
        Err(e) => {
            unread.entries += 1;
            unread.note(&std::io::Error::from_raw_os_error(e.raw_os_error()));
            None
        }
    }
}

/// `ls -l`'s mode string (`-rwsr-xr-x`).
pub fn mode_string(mode: u32) -> String {
    let t = match mode & 0o170000 {
        0o040000 => 'd',
        0o120000 => 'l',
        0o020000 => 'c',
        0o060000 => 'b',
        0o010000 => 'p',
        0o140000 => 's',
        _ => '-',
    };
    let mut s = String::with_capacity(10);
    s.push(t);
    let bit = |m: u32, c: char| if mode & m != 0 { c } else { '-' };
    let special = |x: u32, s_bit: u32, set: char, unset: char, plain: char| match (
        mode & x != 0,
        mode & s_bit != 0,
    ) {
        (true, true) => set,
        (false, true) => unset,
        (true, false) => plain,
        (false, false) => '-',
    };
    s.push(bit(0o400, 'r'));
    s.push(bit(0o200, 'w'));
    s.push(special(0o100, 0o4000, 's', 'S', 'x'));
    s.push(bit(0o040, 'r'));
    s.push(bit(0o020, 'w'));
    s.push(special(0o010, 0o2000, 's', 'S', 'x'));
    s.push(bit(0o004, 'r'));
    s.push(bit(0o002, 'w'));
    s.push(special(0o001, 0o1000, 't', 'T', 'x'));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_strings_as_ls() {
        assert_eq!(mode_string(0o104755), "-rwsr-xr-x");
        assert_eq!(mode_string(0o102755), "-rwxr-sr-x");
        assert_eq!(mode_string(0o104644), "-rwSr--r--");
        assert_eq!(mode_string(0o042775), "drwxrwsr-x");
        assert_eq!(mode_string(0o041777), "drwxrwxrwt");
    }

    #[test]
    fn walk_finds_setuid_setgid_and_stays_put() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("sec-snap-walk-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("a/b/c")).expect("mkdir");
        for (name, mode) in [
            ("a/suid", 0o4755),
            ("a/b/sgid", 0o2755),
            ("a/b/c/plain", 0o755),
        ] {
            let p = dir.join(name);
            fs::write(&p, "x").expect("write");
            fs::set_permissions(&p, fs::Permissions::from_mode(mode)).expect("chmod");
        }
        fs::set_permissions(dir.join("a/b/c"), fs::Permissions::from_mode(0o2775)).expect("chmod");
        std::os::unix::fs::symlink("suid", dir.join("a/link")).expect("link");
        let (found, unread) = walk(&dir, 3).expect("walk");
        let names: Vec<_> = found
            .iter()
            .map(|f| f.path.strip_prefix(&dir).expect("under").to_path_buf())
            .collect();
        assert_eq!(
            names,
            [
                PathBuf::from("a/b/c"),
                PathBuf::from("a/b/sgid"),
                PathBuf::from("a/suid")
            ]
        );
        assert_eq!(unread.dirs + unread.entries, 0);
        let _ = fs::remove_dir_all(&dir);
    }
}
