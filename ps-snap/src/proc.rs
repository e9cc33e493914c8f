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

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;

use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, OFlag};
use nix::sys::stat::Mode;

use crate::parse::{self, Ids, Stat, PF_KTHREAD};

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

/// The reason noted for a file that was read but did not parse.
const MALFORMED: Errno = Errno::UnknownErrno;

/// Why a field stayed `null`, counted once per process for the summary.
#[derive(Debug, Default)]
pub struct Partial {
    /// Field group -> number of processes where it was unreadable.
    fields: BTreeMap<&'static str, usize>,
    /// Processes with at least one unreadable field.
    processes: usize,
    /// The distinct reasons (errno).
    reasons: Vec<Errno>,
}

impl Partial {
    fn note(&mut self, seen: &mut bool, field: &'static str, e: Errno) {
        *self.fields.entry(field).or_default() += 1;
        if !*seen {
            *seen = true;
            self.processes += 1;
        }
        if !self.reasons.contains(&e) {
            self.reasons.push(e);
        }
    }

    /// Add another reader's counts.
    pub fn merge(&mut self, other: Partial) {
        for (k, n) in other.fields {
            *self.fields.entry(k).or_default() += n;
        }
        self.processes += other.processes;
        for e in other.reasons {
            if !self.reasons.contains(&e) {
                self.reasons.push(e);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.processes == 0
    }

    /// The one stderr line: `partial snapshot: exe, maps of 57 processes
    /// unreadable (permission denied; run as root)`. `as_root` drops the
    /// hint where root was refused too (containers, hardened kernels).
    pub fn summary(&self, as_root: bool) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let order = ["stat", "status", "cmdline", "exe", "cgroup", "maps"];
        let mut names: Vec<&str> = order
            .iter()
            .copied()
            .filter(|f| self.fields.contains_key(f))
            .collect();
        names.extend(self.fields.keys().filter(|k| !order.contains(k)));
        let mut why: Vec<String> = Vec::new();
        let denied = self
            .reasons
            .iter()
            .any(|e| matches!(e, Errno::EACCES | Errno::EPERM));
        if denied {
            why.push(if as_root {
                "permission denied, even to root".to_owned()
            } else {
                "permission denied; run as root".to_owned()
            });
        }
        for e in &self.reasons {
            match e {
                Errno::EACCES | Errno::EPERM => {}
                &MALFORMED => why.push("unexpected content".to_owned()),
                e => why.push(e.desc().to_lowercase()),
            }
        }
        let n = self.processes;
        Some(format!(
            "partial snapshot: {} of {n} process{} unreadable ({})",
            names.join(", "),
            if n == 1 { "" } else { "es" },
            why.join("; ")
        ))
    }
}

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
    pub partial: Partial,
}

impl Default for Reader {
    fn default() -> Self {
        Self::new()
    }
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
    /// Sorted, unique deleted mapped files; `None` when not read or refused.
    pub deleted_maps: Option<Vec<&'a [u8]>>,
}

impl Proc<'_> {
    pub fn kernel_thread(&self) -> Option<bool> {
        self.stat.as_ref().map(|s| s.flags & PF_KTHREAD != 0)
    }

    /// Runs code that is gone from disk: a replaced executable or mapping.
    /// `None` when that cannot be told (nothing deleted seen, something
    /// unread).
    pub fn runs_deleted(&self) -> Option<bool> {
        let maps = self.deleted_maps.as_ref().map(|m| !m.is_empty());
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
    pub fn new() -> Self {
        Reader {
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
        let dir = openat(
            proc_dir,
            itoa(pid).as_str(),
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        let mut seen = false;
        let partial = &mut self.partial;

        let stat = match self.stat.read_at(&dir, "stat", false) {
            Ok(()) => {
                let s = parse::stat(self.stat.bytes());
                if s.is_none() {
                    partial.note(&mut seen, "stat", MALFORMED);
                }
                s
            }
            Err(e) if gone(e) => return None,
            Err(e) => {
                partial.note(&mut seen, "stat", e);
                None
            }
        };
        let kthread = stat.as_ref().is_some_and(|s| s.flags & PF_KTHREAD != 0);

        let ids = match self.status.read_at(&dir, "status", false) {
            Ok(()) => {
                let ids = parse::status_ids(self.status.bytes());
                if ids.is_none() {
                    partial.note(&mut seen, "status", MALFORMED);
                }
                ids
            }
            Err(e) if gone(e) => return None,
            Err(e) => {
                partial.note(&mut seen, "status", e);
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
                    partial.note(&mut seen, "cmdline", e);
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
                    let deleted = raw.ends_with(parse::DELETED);
                    if deleted {
                        raw.truncate(raw.len() - parse::DELETED.len());
                    }
                    (Some(raw), Some(deleted))
                }
                // A zombie, or exiting right now: its memory is gone, and
                // with it what it ran.
                Err(e) if gone(e) => (None, None),
                Err(e) => {
                    partial.note(&mut seen, "exe", e);
                    (None, None)
                }
            }
        };

        let cgroup = match self.cgroup.read_at(&dir, "cgroup", false) {
            Ok(()) => parse::cgroup_path(self.cgroup.bytes()),
            Err(e) if gone(e) => return None,
            Err(e) => {
                partial.note(&mut seen, "cgroup", e);
                None
            }
        };

        let deleted_maps = if !opts.maps {
            None
        } else if kthread {
            Some(Vec::new())
        } else {
            match self.maps.read_at(&dir, "maps", true) {
                Ok(()) => {
                    let mut v = Vec::new();
                    parse::deleted_maps(self.maps.bytes(), &mut v);
                    v.sort_unstable();
                    v.dedup();
                    Some(v)
                }
                Err(e) if gone(e) => return None,
                Err(e) => {
                    partial.note(&mut seen, "maps", e);
                    None
                }
            }
        };

        Some(Proc {
            pid,
            stat,
            ids,
            cmdline,
            exe,
            exe_deleted,
            cgroup,
            deleted_maps,
        })
    }
}

/// A pid as a decimal string (no formatting machinery in the hot loop).
fn itoa(mut n: u32) -> String {
    let mut b = [0u8; 10];
    let mut i = b.len();
    loop {
        i -= 1;
        b[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    b[i..].iter().map(|&c| c as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itoa_matches_to_string() {
        for n in [0u32, 7, 10, 4_194_304, u32::MAX] {
            assert_eq!(itoa(n), n.to_string());
        }
    }

    #[test]
    fn summary_is_one_line_with_fields_and_reason() {
        let mut p = Partial::default();
        let mut a = false;
        p.note(&mut a, "maps", Errno::EACCES);
        p.note(&mut a, "exe", Errno::EACCES);
        let mut b = false;
        p.note(&mut b, "exe", Errno::EPERM);
        assert_eq!(
            p.summary(false).as_deref(),
            Some("partial snapshot: exe, maps of 2 processes unreadable (permission denied; run as root)")
        );
        assert_eq!(
            p.summary(true).as_deref(),
            Some("partial snapshot: exe, maps of 2 processes unreadable (permission denied, even to root)")
        );
        assert_eq!(Partial::default().summary(false), None);

        let mut q = Partial::default();
        let mut c = false;
        q.note(&mut c, "status", MALFORMED);
        q.note(&mut c, "maps", Errno::EISDIR);
        assert_eq!(
            q.summary(true).as_deref(),
            Some("partial snapshot: status, maps of 1 process unreadable (unexpected content; is a directory)")
        );
    }

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
