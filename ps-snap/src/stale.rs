//! Which code a process runs that is no longer on disk: the stale files.
//!
//! A mapping counts when it is code (mapped with execute permission, see
//! [`parse::code_maps`]) and the path it was mapped from no longer names
//! that file: it was deleted (no file there now) or replaced (another
//! inode there now: a package upgrade's rename over the old file, a
//! container's copy-up of a patched library). The file now at the path is
//! looked up inside the process's own root, `/proc/PID/root`, so a
//! container is judged against its own files, not the host's. The inode
//! alone decides: overlayfs reports its own device for a file whose maps
//! line names the layer's device, so comparing devices would call every
//! container library replaced.
//!
//! A script run by an interpreter (see [`parse::interpreter`]) counts when
//! its file is gone or was changed (its ctime) after the process started.
//!
//! A process chrooted below ps-snap's root, in the same mount namespace,
//! is named in maps by ps-snap's view of its files (the kernel writes
//! paths relative to the reader's root): where its own root has nothing
//! or another file at the path, the path is also looked up in ps-snap's
//! root, and a file there that is the mapped one is current.
//!
//! Under `--root` there is no live process root to look into: the paths
//! are looked up in the tree under DIR.

use std::collections::HashMap;
use std::os::fd::AsFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use nix::errno::Errno;
use nix::fcntl::{readlinkat, AtFlags};
use nix::sys::stat::fstatat;

use crate::parse::{self, CodeMap};

/// How the file at a stale path differs from what the process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum How {
    /// Nothing is at the path any more.
    Deleted,
    /// Another file is at the path now.
    Replaced,
}

impl How {
    pub fn name(self) -> &'static str {
        match self {
            How::Deleted => "deleted",
            How::Replaced => "replaced",
        }
    }
}

/// What the process does with the stale file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum What {
    /// Its executable.
    Executable,
    /// A shared library or other code it mapped.
    Library,
    /// The script its interpreter runs.
    Script,
}

impl What {
    pub fn name(self) -> &'static str {
        match self {
            What::Executable => "executable",
            What::Library => "library",
            What::Script => "script",
        }
    }
}

/// One stale file of a process.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stale {
    /// The path as the process's root names it.
    pub path: Vec<u8>,
    pub what: What,
    pub how: How,
    /// The interpreter family of a script (`python`, `bash`, ...).
    pub interpreter: Option<&'static str>,
}

/// Which root a process sees: its root directory's device and inode
/// (both 0 under `--root`, one tree).
pub type RootKey = (u64, u64);

/// What is at a path now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Now {
    /// A file with this inode.
    File { inode: u64, ctime: i64 },
    /// Nothing.
    Missing,
    /// It cannot be told (permission, a loop, ...).
    Unknown,
}

fn now_of(res: Result<(u64, i64), Errno>) -> Now {
    match res {
        Ok((inode, ctime)) => Now::File { inode, ctime },
        Err(Errno::ENOENT | Errno::ENOTDIR) => Now::Missing,
        Err(_) => Now::Unknown,
    }
}

/// FNV-1a for the path cache: a snapshot looks up every library of every
/// process, and SipHash's resistance to crafted keys buys nothing against
/// paths the kernel wrote.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fnv;

/// The state of one [`Fnv`] hash.
#[derive(Debug)]
pub struct FnvHasher(u64);

impl std::hash::BuildHasher for Fnv {
    type Hasher = FnvHasher;
    fn build_hasher(&self) -> FnvHasher {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for FnvHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Looks paths up in processes' roots, with a cache per root: the
/// processes of one system share a few dozen libraries, so a snapshot of
/// thousands of processes stats each library once per root, not once per
/// process.
#[derive(Debug, Default)]
pub struct Lookup {
    /// The tree under `--root DIR`; `None` on the live system.
    base: Option<PathBuf>,
    /// Per root: path -> now.
    cache: HashMap<RootKey, HashMap<Vec<u8>, Now, Fnv>>,
    /// ps-snap's own root, live.
    own: Option<RootKey>,
    path: Vec<u8>,
}

impl Lookup {
    pub fn new(base: Option<PathBuf>) -> Self {
        let own = match base {
            None => nix::sys::stat::stat("/").ok().map(|s| (s.st_dev, s.st_ino)),
            Some(_) => None,
        };
        Lookup {
            base,
            own,
            ..Default::default()
        }
    }

    /// What is at `path` in ps-snap's own root, cached.
    fn look_own(&mut self, own: RootKey, path: &[u8]) -> Now {
        if let Some(&n) = self.cache.get(&own).and_then(|c| c.get(path)) {
            return n;
        }
        let n = now_of(
            fstatat(
                nix::fcntl::AT_FDCWD,
                std::ffi::OsStr::from_bytes(path),
                AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .map(|s| (s.st_ino, s.st_ctime)),
        );
        self.cache.entry(own).or_default().insert(path.to_vec(), n);
        n
    }

    /// The cache key of the root of the process whose /proc/PID directory
    /// is `dir`; the error when that root cannot be looked into.
    fn root_key(&self, dir: impl AsFd + Copy) -> Result<RootKey, Errno> {
        if self.base.is_some() {
            return Ok((0, 0));
        }
        // The root directory alone: a second look (the mount namespace,
        // `ns/mnt`) would tell a service with PrivateTmp= from the host,
        // but costs as much again per process, and a private /tmp is not
        // reachable from ps-snap's root, so its paths never name host files.
        let root = fstatat(dir, "root", AtFlags::empty())?;
        Ok((root.st_dev, root.st_ino))
    }

    /// What is at `path` in the process's root now, uncached.
    fn look(&mut self, dir: impl AsFd, path: &[u8]) -> Now {
        match &self.base {
            Some(base) => {
                let rel = path.strip_prefix(b"/").unwrap_or(path);
                let p = base.join(std::ffi::OsStr::from_bytes(rel));
                match std::fs::symlink_metadata(&p) {
                    Ok(m) => Now::File {
                        inode: m.ino(),
                        ctime: m.ctime(),
                    },
                    Err(e) => now_of(Err(Errno::from_raw(e.raw_os_error().unwrap_or(0)))),
                }
            }
            None => {
                // "root/PATH" under /proc/PID: the kernel resolves it in the
                // process's root and mounts. The last component is not
                // followed: a library replaced by a symlink is replaced.
                self.path.clear();
                self.path.extend_from_slice(b"root");
                self.path.extend_from_slice(path);
                now_of(
                    fstatat(dir, self.path.as_slice(), AtFlags::AT_SYMLINK_NOFOLLOW)
                        .map(|s| (s.st_ino, s.st_ctime)),
                )
            }
        }
    }

    /// The stale mapped code of a process: its executable mappings
    /// (`maps`, deduplicated by path) judged against the files now at
    /// their paths; `exe` is the executable's path, to tell it from a
    /// library. Appended to `out`. When the process's root cannot be looked
    /// into (another user's process), only what the kernel marks deleted
    /// is found, and the error says why.
    pub fn judge_maps(
        &mut self,
        dir: impl AsFd + Copy,
        maps: &[CodeMap<'_>],
        exe: Option<&[u8]>,
        out: &mut Vec<Stale>,
    ) -> Result<RootKey, Errno> {
        let key = self.root_key(dir);
        if maps.is_empty() {
            return key;
        }
        let mut seen: Vec<&[u8]> = Vec::with_capacity(maps.len());
        for m in maps {
            if seen.contains(&m.path) {
                continue;
            }
            seen.push(m.path);
            let now = match key {
                Err(_) => Now::Unknown,
                Ok(k) => match self.cache.get(&k).and_then(|c| c.get(m.path)) {
                    Some(&n) => n,
                    None => {
                        let n = self.look(dir, m.path);
                        self.cache.entry(k).or_default().insert(m.path.to_vec(), n);
                        n
                    }
                },
            };
            // A process chrooted below ps-snap's root (same mount
            // namespace) has its files named in maps as ps-snap sees them,
            // not as the process does: what it maps may be current there.
            let mismatch = match now {
                Now::Missing => true,
                Now::File { inode, .. } => inode != m.inode,
                Now::Unknown => false,
            };
            let mut now = now;
            if let (true, Ok(k), Some(own)) = (mismatch, key, self.own) {
                if k != own {
                    match self.look_own(own, m.path) {
                        Now::File { inode, .. } if inode == m.inode => continue,
                        n @ Now::File { .. } if now == Now::Missing => now = n,
                        _ => {}
                    }
                }
            }
            let how = match now {
                // A tree under --root need not hold every file its /proc
                // names (a fixture, a system without its /proc): only the
                // kernel's word counts for a file that is not there.
                Now::Missing if !m.deleted && self.base.is_some() => continue,
                Now::Missing => How::Deleted,
                Now::File { inode, .. } if inode != m.inode => How::Replaced,
                // The same file: a name unlinked while another link to
                // the same inode took its place runs current code.
                Now::File { .. } => continue,
                Now::Unknown if m.deleted => How::Deleted,
                Now::Unknown => continue,
            };
            let what = if exe == Some(m.path) {
                What::Executable
            } else {
                What::Library
            };
            out.push(Stale {
                path: m.path.to_vec(),
                what,
                how,
                interpreter: None,
            });
        }
        key
    }

    /// The script of interpreter process `pid`, when it is stale: `argv` as
    /// the process holds it, `exe` its executable, `started` its start time
    /// in Unix seconds (whole seconds: the boot time it is counted from
    /// is, so a file changed within a second of the start is not taken as
    /// changed after it).
    pub fn judge_script(
        &mut self,
        dir: impl AsFd + Copy,
        pid: u32,
        exe: &[u8],
        argv: &[&[u8]],
        started: i64,
    ) -> Option<Stale> {
        let family = parse::interpreter(exe)?;
        let arg = parse::script_arg(family, argv)?;
        // A relative script path is relative to the directory the process
        // started in; its cwd now is the best there is.
        let path = if arg.starts_with(b"/") {
            arg.to_vec()
        } else {
            let cwd = match &self.base {
                None => readlinkat(dir, "cwd").ok()?.into_vec(),
                Some(base) => std::fs::read_link(base.join(format!("proc/{pid}/cwd")))
                    .ok()?
                    .into_os_string()
                    .into_vec(),
            };
            let mut p = cwd;
            if !p.ends_with(b"/") {
                p.push(b'/');
            }
            p.extend_from_slice(arg.strip_prefix(b"./").unwrap_or(arg));
            p
        };
        // A script read from a pipe or a descriptor (`bash <(...)`,
        // `/dev/fd/3`, `/proc/self/fd/0`) has no file to be replaced.
        if path.starts_with(b"/dev/") || path.starts_with(b"/proc/") {
            return None;
        }
        let how = match self.look(dir, &path) {
            Now::Missing => How::Deleted,
            Now::File { ctime, .. } if ctime > started.saturating_add(1) => How::Replaced,
            _ => return None,
        };
        Some(Stale {
            path,
            what: What::Script,
            how,
            interpreter: Some(family),
        })
    }
}
