//! Reading one process from DIR/proc, fast and without races turning into
//! errors.
//!
//! Every file of a process is opened relative to its /proc/PID directory
//! (opened once with O_PATH), so the kernel resolves the pid once per process
//! and a pid that is reused while we read cannot mix two processes into one
//! record. Files are read into buffers that live for the whole snapshot: a
//! snapshot of thousands of processes allocates almost nothing per process.
//!
//! A process that is gone when we look (ENOENT, ESRCH) is simply absent.
//! A file the kernel refuses (EACCES, EPERM: another user's process, or
//! /proc/1 in a container even for root) leaves its fields `None` and is
//! counted in [`Partial`] for the one summary line on stderr.

use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;

use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, OFlag};
use nix::sys::stat::Mode;

use common::jsonw::write_u64;
use common::partial::{Noun, Partial, Reason};

use crate::parse::{self, Ids, Stat, PF_KTHREAD};
use crate::restart::Restart;
use crate::stale::{Lookup, RootKey, Stale, What};

/// A read buffer reused from process to process. It grows to the largest
/// file seen (a big process's maps) and stays there.
#[derive(Debug)]
pub struct Buf {
    data: Vec<u8>,
    len: usize,
}

impl Buf {
    pub fn with_capacity(n: usize) -> Self {
        Buf {
            data: vec![0; n.max(64)],
            len: 0,
        }
    }

    /// The bytes of the last read.
    pub fn bytes(&self) -> &[u8] {
        &self.data[..self.len]
    }

    /// Read the file `name` under `dir` whole.
    ///
    /// How /proc hands a file over decides when to stop. A one-record file
    /// (stat, status, cgroup; cmdline) comes whole in one read(2) when the
    /// buffer is large enough, so a short read ends it and the file costs
    /// one read, not two (procps does the same). A file of many records
    /// (maps) comes at most a page at a time, so it is read to end of file
    /// (`records`).
    pub fn read_at(&mut self, dir: impl AsFd, name: &str, records: bool) -> Result<(), Errno> {
        let fd = openat(dir, name, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())?;
        self.len = 0;
        loop {
            if self.len == self.data.len() {
                let grown = self.data.len() * 2;
                self.data.resize(grown, 0);
            }
            let room = self.data.len() - self.len;
            let n = match nix::unistd::read(&fd, &mut self.data[self.len..]) {
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
            };
            self.len += n;
            if n == 0 || (n < room && !records) {
                break;
            }
        }
        Ok(())
    }
}

/// The parts of a process the summary line names, in this order.
pub const PARTS: &[&str] = &["stat", "status", "cmdline", "exe", "cgroup", "maps", "root"];

/// What the summary line counts.
pub const PROCESS: Noun = Noun("process", "processes");

/// What to read besides the basics.
#[derive(Debug, Clone, Copy)]
pub struct ReadOpts {
    /// Read /proc/PID/maps for deleted mappings.
    pub maps: bool,
}

/// The buffers of one snapshot.
#[derive(Debug)]
pub struct Reader {
    stat: Buf,
    status: Buf,
    cmdline: Buf,
    cgroup: Buf,
    maps: Buf,
    lookup: Lookup,
    /// Boot time (Unix seconds) and clock ticks per second, for the start
    /// time a script's change is compared with.
    clock: Option<(i64, u64)>,
    pub partial: Partial,
}

/// One process as read, borrowing the reader's buffers.
#[derive(Debug)]
pub struct Proc<'a> {
    pub pid: u32,
    pub stat: Option<Stat<'a>>,
    pub ids: Option<Ids>,
    /// argv, `None` when unreadable.
    pub cmdline: Option<Vec<&'a [u8]>>,
    /// The executable's path without the ` (deleted)` suffix.
    pub exe: Option<Vec<u8>>,
    pub exe_deleted: Option<bool>,
    pub cgroup: Option<&'a [u8]>,
    /// The code it runs that was deleted or replaced on disk, sorted by
    /// path; `None` when maps were not read or refused.
    pub stale: Option<Vec<Stale>>,
    /// The root the process sees, where its stale files were looked up
    /// (and their packages are looked up); `None` when not looked into.
    pub root_key: Option<RootKey>,
    /// What to restart so that it runs current code; set only for a
    /// process that runs stale code.
    pub restart: Option<Restart>,
}

impl Proc<'_> {
    /// The stale mapped files (executable and libraries, not scripts):
    /// the `deleted_maps` of the record.
    pub fn deleted_maps(&self) -> Option<Vec<&[u8]>> {
        self.stale.as_ref().map(|v| {
            v.iter()
                .filter(|s| s.what != What::Script)
                .map(|s| s.path.as_slice())
                .collect()
        })
    }

    pub fn kernel_thread(&self) -> Option<bool> {
        self.stat.as_ref().map(|s| s.flags & PF_KTHREAD != 0)
    }

    /// Runs code that is gone from disk: a replaced executable or mapping.
    /// `None` when that cannot be told (nothing deleted seen, something
    /// unread).
    pub fn runs_deleted(&self) -> Option<bool> {
        let maps = self.stale.as_ref().map(|m| !m.is_empty());
        match (self.exe_deleted, maps) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        }
    }
}

/// Errors that mean the process is gone.
fn gone(e: Errno) -> bool {
    matches!(e, Errno::ENOENT | Errno::ESRCH)
}

impl Reader {
    /// A reader of the system whose /proc is read; `base` is DIR of
    /// `--root DIR` (`None` live), `clock` the boot time and clock ticks.
    pub fn new(base: Option<std::path::PathBuf>, clock: Option<(i64, u64)>) -> Self {
        Reader {
            lookup: Lookup::new(base),
            clock,
            stat: Buf::with_capacity(1024),
            status: Buf::with_capacity(4096),
            cmdline: Buf::with_capacity(4096),
            cgroup: Buf::with_capacity(1024),
            maps: Buf::with_capacity(256 * 1024),
            partial: Partial::default(),
        }
    }

    /// Read process `pid` from the /proc directory `proc_dir`; `None` when
    /// it is gone (or never was: a pid directory without its files).
    pub fn read(&mut self, proc_dir: &OwnedFd, pid: u32, opts: ReadOpts) -> Option<Proc<'_>> {
        // The pid's digits without formatting machinery in the hot loop.
        let mut name = Vec::with_capacity(10);
        write_u64(&mut name, u64::from(pid));
        let dir = openat(
            proc_dir,
            name.as_slice(),
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        // What was unreadable, counted only once the process is known to
        // be listed: one that turns out to be gone, or a thread, is absent
        // from the output and must not be counted in the summary either.
        let mut notes: Vec<(&'static str, Reason)> = Vec::new();

        let stat = match self.stat.read_at(&dir, "stat", false) {
            Ok(()) => {
                let s = parse::stat(self.stat.bytes());
                if s.is_none() {
                    notes.push(("stat", Reason::Malformed));
                }
                s
            }
            Err(e) if gone(e) => return None,
            Err(e) => {
                notes.push(("stat", Reason::Errno(e)));
                None
            }
        };
        let kthread = stat.as_ref().is_some_and(|s| s.flags & PF_KTHREAD != 0);

        let ids = match self.status.read_at(&dir, "status", false) {
            Ok(()) => {
                // A thread's own /proc/TID (reachable through -p TID) is not
                // a process: ps -p TID shows nothing either.
                if parse::status_tgid(self.status.bytes()).is_some_and(|t| t != pid) {
                    return None;
                }
                let ids = parse::status_ids(self.status.bytes());
                if ids.is_none() {
                    notes.push(("status", Reason::Malformed));
                }
                ids
            }
            Err(e) if gone(e) => return None,
            Err(e) => {
                notes.push(("status", Reason::Errno(e)));
                None
            }
        };

        // Kernel threads have no user memory: no argv, no executable, no
        // mappings; not reading saves three opens each. Zombies are read like
        // any process (their files are empty, their exe is gone): a zombie
        // thread-group leader whose other threads still run keeps them all.
        let cmdline = if kthread {
            Some(Vec::new())
        } else {
            match self.cmdline.read_at(&dir, "cmdline", false) {
                Ok(()) => Some(parse::cmdline(self.cmdline.bytes()).collect()),
                Err(e) if gone(e) => return None,
                Err(e) => {
                    notes.push(("cmdline", Reason::Errno(e)));
                    None
                }
            }
        };

        let (exe, exe_deleted) = if kthread {
            (None, Some(false))
        } else {
            match readlinkat(&dir, "exe") {
                Ok(target) => {
                    let mut raw = OsString::into_vec(target);
                    let (path, deleted) = parse::exe_link(&raw);
                    let len = path.len();
                    raw.truncate(len);
                    (Some(raw), Some(deleted))
                }
                // A zombie, or exiting right now: its memory is gone, and
                // with it what it ran.
                Err(e) if gone(e) => (None, None),
                Err(e) => {
                    notes.push(("exe", Reason::Errno(e)));
                    (None, None)
                }
            }
        };

        let cgroup = match self.cgroup.read_at(&dir, "cgroup", false) {
            Ok(()) => parse::cgroup_path(self.cgroup.bytes()),
            Err(e) if gone(e) => return None,
            Err(e) => {
                notes.push(("cgroup", Reason::Errno(e)));
                None
            }
        };

        let mut root_key = None;
        let stale = if !opts.maps {
            None
        } else if kthread {
            Some(Vec::new())
        } else {
            match self.maps.read_at(&dir, "maps", true) {
                Ok(()) => {
                    let mut code = Vec::with_capacity(32);
                    parse::code_maps(self.maps.bytes(), &mut code);
                    let mut v = Vec::new();
                    match self.lookup.judge_maps(&dir, &code, exe.as_deref(), &mut v) {
                        Ok(k) => root_key = Some(k),
                        Err(_) if code.is_empty() => {}
                        Err(e) => notes.push(("root", Reason::Errno(e))),
                    }
                    let started = match (self.clock, stat.as_ref()) {
                        (Some((btime, ticks)), Some(s)) => {
                            i64::try_from(s.starttime / ticks.max(1))
                                .ok()
                                .and_then(|t| btime.checked_add(t))
                        }
                        _ => None,
                    };
                    if let (Some(exe), Some(argv), Some(started)) = (&exe, &cmdline, started) {
                        if let Some(s) = self.lookup.judge_script(&dir, pid, exe, argv, started) {
                            v.push(s);
                        }
                    }
                    v.sort();
                    v.dedup_by(|a, b| a.path == b.path && a.what == b.what);
                    Some(v)
                }
                Err(e) if gone(e) => return None,
                Err(e) => {
                    notes.push(("maps", Reason::Errno(e)));
                    None
                }
            }
        };
        // A replaced executable is one whether the kernel noticed (the
        // link's " (deleted)") or only its inode tells (a container's
        // copy-up).
        let exe_deleted = match (&stale, exe_deleted) {
            (Some(v), Some(false)) if v.iter().any(|s| s.what == What::Executable) => Some(true),
            (_, d) => d,
        };

        let mut seen = false;
        for (field, why) in notes {
            self.partial.note(&mut seen, field, why);
        }
        Some(Proc {
            pid,
            stat,
            ids,
            cmdline,
            exe,
            exe_deleted,
            cgroup,
            stale,
            root_key,
            restart: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_are_read_past_the_first_page() {
        // /proc/PID/maps comes a page at a time; the main stack is mapped
        // high, so its line is among the last. Parked threads (a stack and a
        // guard page each) make sure the file is longer than a page.
        let park = std::sync::Barrier::new(65);
        std::thread::scope(|s| {
            for _ in 0..64 {
                s.spawn(|| {
                    park.wait();
                });
            }
            let d = std::fs::File::open("/proc/self").expect("open /proc/self");
            let mut b = Buf::with_capacity(256 * 1024);
            let res = b.read_at(&d, "maps", true);
            park.wait();
            res.expect("read maps");
            let maps = b.bytes();
            assert!(maps.len() > 4096, "maps of {} bytes only", maps.len());
            assert!(maps.ends_with(b"\n"));
            assert!(
                memchr::memmem::find(maps, b"[stack]").is_some(),
                "maps cut short at {} bytes",
                maps.len()
            );
        });
    }

    #[test]
    fn buf_grows_past_its_capacity() {
        let dir = std::env::temp_dir().join(format!("ps-snap-buf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(dir.join("f"), &data).expect("write");
        let d = std::fs::File::open(&dir).expect("open dir");
        let mut b = Buf::with_capacity(100);
        b.read_at(&d, "f", false).expect("read");
        assert_eq!(b.bytes(), &data[..]);
        assert_eq!(b.read_at(&d, "missing", true).err(), Some(Errno::ENOENT));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
