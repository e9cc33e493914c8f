//! The snapshot: the pids cut into chunks that reader threads take in
//! turn, the records written in pid order, what to restart for a process
//! that runs old code, and the kernel last.

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use nix::fcntl::{openat, OFlag};
use nix::sys::stat::Mode;

use common::cli::Format;
use common::names::Names;
use common::partial::Partial;
use common::{Error, Out, Result, Root};

use crate::args::Options;
use crate::proc::{Buf, Proc, ReadOpts, Reader, PARTS, PROCESS};
use crate::record::{Context, OwnersByRoot, TextView};
use crate::restart::{self, Restart};
use crate::{kernel, parse};

/// What a snapshot did, besides writing.
#[derive(Debug, Default)]
pub struct Done {
    /// The summary line of what could not be read, if anything.
    pub partial: Option<String>,
    /// How many records were written (processes and the kernel).
    pub listed: usize,
}

/// Open DIR/proc as a directory all reads are relative to.
fn open_proc(root: &Root) -> Result<OwnedFd> {
    let path = root.path("/proc");
    openat(
        nix::fcntl::AT_FDCWD,
        &path,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| {
        Error::io(&path, &std::io::Error::from(e)).context(if root.is_live() {
            "cannot read the process table"
        } else {
            "--root: no process table (DIR/proc) to read"
        })
    })
}

/// The pids listed in DIR/proc, sorted (readdir order is not pid order on a
/// fixture tree, and need not be on /proc).
fn list_pids(root: &Root) -> Result<Vec<u32>> {
    let path = root.path("/proc");
    let rd = std::fs::read_dir(&path).map_err(|e| Error::io(&path, &e))?;
    let mut pids: Vec<u32> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
        .collect();
    pids.sort_unstable();
    Ok(pids)
}

/// Pids per unit of work handed to a reader thread: small enough to keep
/// both cores busy to the end, large enough that the hand-over is noise.
const CHUNK: usize = 64;

/// At most this many reader threads: /proc reads scale with cores, but a
/// snapshot should not crowd a busy server.
const MAX_THREADS: usize = 4;

/// One reader thread's state: its buffers, its name cache, its share of
/// the text view's footer.
struct Worker<'a> {
    proc_dir: &'a OwnedFd,
    root: &'a Root,
    opts: &'a Options,
    me: Option<u32>,
    reader: Reader,
    ctx: Context,
    text: TextView,
    /// /proc/PID/stat of the ancestors of a process without a unit.
    ancestor: Buf,
    listed: usize,
}

impl Worker<'_> {
    /// The output (JSON Lines or text rows) of a run of pids, in pid order.
    fn chunk(&mut self, pids: &[u32]) -> Vec<u8> {
        let mut buf = Vec::with_capacity(pids.len() * 1024);
        let read_opts = ReadOpts {
            maps: !self.opts.no_maps,
        };
        let format = self.opts.format;
        for &pid in pids {
            if Some(pid) == self.me {
                continue;
            }
            let Some(mut p) = self.reader.read(self.proc_dir, pid, read_opts) else {
                continue;
            };
            if let Some(users) = &self.opts.users {
                match &p.ids {
                    Some(ids) if users.contains(&ids.uid) => {}
                    _ => continue,
                }
            }
            let stale = p.runs_deleted() == Some(true);
            if self.opts.deleted_only && !stale {
                continue;
            }
            if stale {
                p.restart = Some(restart_of(
                    &mut self.ancestor,
                    self.proc_dir,
                    self.root,
                    &mut self.ctx,
                    &p,
                ));
            }
            self.listed += 1;
            match format {
                Format::Json => {
                    self.ctx.write_record(&p, &mut buf);
                    buf.push(b'\n');
                }
                Format::Text => {
                    if let Some(line) = self.text.line(&mut self.ctx, &p) {
                        buf.extend_from_slice(line.as_bytes());
                        buf.push(b'\n');
                    }
                }
            }
        }
        buf
    }
}

/// What to restart for a process that runs old code: what its cgroup
/// names, else its process tree (see [`restart`]).
fn restart_of(
    buf: &mut Buf,
    proc_dir: &OwnedFd,
    root: &Root,
    ctx: &mut Context,
    p: &Proc<'_>,
) -> Restart {
    if let Some(r) = p
        .cgroup
        .and_then(|c| restart::from_cgroup(c, |uid| ctx.user_name(uid)))
    {
        return r;
    }
    let st = p.stat.as_ref();
    let mut top = (p.pid, st.map_or(Vec::new(), |s| s.comm.to_vec()));
    let mut parent = st.map_or(0, |s| s.ppid);
    // Up the tree to the ancestor right below pid 1 (or the kernel's
    // pid 0, in a pid namespace whose init is not pid 1's parent).
    for _ in 0..256 {
        let Ok(pp) = u32::try_from(parent) else { break };
        if pp <= 1 {
            break;
        }
        let mut name = Vec::with_capacity(16);
        common::jsonw::write_u64(&mut name, u64::from(pp));
        name.extend_from_slice(b"/stat");
        if buf
            .read_at(proc_dir, std::str::from_utf8(&name).unwrap_or(""), false)
            .is_err()
        {
            break;
        }
        let Some(s) = parse::stat(buf.bytes()) else {
            break;
        };
        top = (pp, s.comm.to_vec());
        parent = s.ppid;
    }
    let script = !top.1.is_empty()
        && !top.1.contains(&b'/')
        && top.1 != b"."
        && top.1 != b".."
        && root
            .path("/etc/init.d")
            .join(std::ffi::OsStr::from_bytes(&top.1))
            .is_file();
    restart::from_tree(p.pid, (top.0, &top.1), script)
}

/// Write the snapshot of the system under `root` to `out`. Returns the
/// summary line of what could not be read, if anything.
///
/// The pid list is cut into chunks that reader threads take in turn; this
/// thread writes the finished chunks in pid order as they arrive, so the
/// output is the same as a single reader's, only sooner. A closed stdout
/// stops the readers.
pub fn snapshot<W: std::io::Write>(root: &Root, opts: &Options, out: &mut Out<W>) -> Result<Done> {
    let proc_dir = open_proc(root)?;
    let pids = match &opts.pids {
        Some(p) => {
            let mut p = p.clone();
            p.sort_unstable();
            p.dedup();
            p
        }
        None => list_pids(root)?,
    };
    // Our own process would show up as a change in every diff.
    let me = root.is_live().then(std::process::id);
    let format = opts.format;
    let mut text = TextView::new(opts.deleted_only);
    if format == Format::Text {
        if let Some(h) = text.header() {
            out.line(&h)?;
        }
    }
    let owners = OwnersByRoot::default();
    // One reading of the clock for all readers (the boot time from
    // DIR/proc/stat).
    let clock = Context::new(root, Names::default(), owners.clone()).clock();
    let base = root.base().map(std::path::Path::to_path_buf);
    let chunks: Vec<&[u32]> = pids.chunks(CHUNK).collect();
    // One thread under --root (see common::par), else a chunk per thread.
    let threads = common::par::workers(root.is_live(), chunks.len(), 1, MAX_THREADS);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut partial = Partial::default();
    let mut listed = 0;

    let result = std::thread::scope(|s| -> Result<()> {
        let (tx, rx) = mpsc::channel::<(usize, Vec<u8>)>();
        let mut handles = Vec::with_capacity(threads);
        for _ in 0..threads {
            let tx = tx.clone();
            let (chunks, next, stop, proc_dir) = (&chunks, &next, &stop, &proc_dir);
            let (owners, base) = (owners.clone(), base.clone());
            handles.push(s.spawn(move || {
                let mut w = Worker {
                    proc_dir,
                    root,
                    opts,
                    me,
                    reader: Reader::new(base, clock),
                    ctx: Context::new(root, Names::new(root), owners),
                    text: TextView::new(opts.deleted_only),
                    ancestor: Buf::with_capacity(1024),
                    listed: 0,
                };
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(pids) = chunks.get(i) else { break };
                    if tx.send((i, w.chunk(pids))).is_err() {
                        break;
                    }
                }
                (w.reader.partial, w.text, w.listed)
            }));
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut want = 0;
        let mut res = Ok(());
        for (i, chunk) in rx.iter() {
            pending.insert(i, chunk);
            while let Some(chunk) = pending.remove(&want) {
                want += 1;
                if let Err(e) = out.raw(&chunk) {
                    res = Err(e);
                    break;
                }
            }
            if res.is_err() {
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
        // Dropping the receiver makes every further send fail, so the
        // readers end even when they did not see the flag yet.
        drop(rx);
        for h in handles {
            match h.join() {
                Ok((p, t, n)) => {
                    partial.merge(p);
                    text.merge(t);
                    listed += n;
                }
                Err(_) => {
                    if res.is_ok() {
                        res = Err(Error::new("a reader thread failed"));
                    }
                }
            }
        }
        res
    });
    result?;
    // The kernel, last: with --deleted, when no -p or -u narrows the
    // question to processes.
    let kernel = if opts.deleted_only && opts.pids.is_none() && opts.users.is_none() {
        kernel::check(root)
    } else {
        None
    };
    if format == Format::Text {
        let mut lines = text.footer();
        if let Some(k) = &kernel {
            if !lines.is_empty() {
                lines.insert(0, String::new());
            }
            for (i, l) in k.text().into_iter().enumerate() {
                lines.insert(i, l);
            }
        }
        if opts.deleted_only && lines.is_empty() {
            lines.push("nothing runs old code".to_owned());
        }
        for l in lines {
            out.line(&l)?;
        }
    }
    if let Some(k) = &kernel {
        listed += 1;
        if format == Format::Json {
            let mut buf = Vec::new();
            k.write(
                root.hostname().as_deref(),
                root.boot_id().as_deref(),
                &mut buf,
            );
            buf.push(b'\n');
            out.raw(&buf)?;
        }
    }
    Ok(Done {
        partial: partial.summary(PROCESS, PARTS, nix::unistd::geteuid().is_root()),
        listed,
    })
}
