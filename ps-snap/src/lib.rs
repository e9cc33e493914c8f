//! ps-snap: one `process` record per process, for the patch-day snapshot
//! before and after the patches (`ps-snap > before.json`), with what `ps -ef`
//! never told: the executable and libraries a process still runs although the
//! patch replaced them on disk, and the systemd unit to restart.
//!
//! Reading lives in [`proc`], byte-level parsing in [`parse`], the record and
//! the text view in [`record`]; this file holds the options and the loop.

pub mod parse;
pub mod proc;
pub mod record;

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use clap::{Arg, ArgAction, ArgMatches, Command};
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::Mode;

use common::cli::{self, Format};
use common::names::Names;
use common::{Error, Out, Result, Root, Status};

use common::partial::Partial;

use crate::proc::{ReadOpts, Reader, PARTS, PROCESS};
use crate::record::{Context, TextView};

/// The `ps-snap` binary.
pub fn main() -> ExitCode {
    common::run("ps-snap", || {
        let m = cli::parse(command())?;
        run(&m)
    })
}

/// The command line.
pub fn command() -> Command {
    cli::command(
        "ps-snap",
        env!("CARGO_PKG_VERSION"),
        "Snapshot every process as JSON Lines, with the deleted code each still runs",
    )
    .long_about(
        "Write one `process` record per process (kernel threads and zombies \
         included, in pid order, ps-snap itself left out) as JSON Lines: ids and \
         names, state, tty, start time, argv argument by argument, executable, \
         cgroup and systemd unit, memory and CPU time, and whether the process \
         still runs an executable or maps libraries that were deleted or \
         replaced on disk since it started. Take one before and one after the \
         patches and compare them with snap-diff.",
    )
    .arg(cli::root_arg())
    .arg(cli::format_arg())
    .arg(
        Arg::new("deleted")
            .long("deleted")
            .action(ArgAction::SetTrue)
            .help(
                "Show only processes that run deleted code: a replaced executable or \
                 a mapped file deleted or replaced since they started (the text view \
                 then shows the unit to restart)",
            ),
    )
    .arg(
        Arg::new("no-maps")
            .long("no-maps")
            .action(ArgAction::SetTrue)
            .conflicts_with("deleted")
            .help(
                "Do not read /proc/PID/maps: faster, but deleted_maps is null in \
                 every record",
            ),
    )
    .arg(
        Arg::new("pid")
            .short('p')
            .long("pid")
            .value_name("PID,...")
            .value_delimiter(',')
            .action(ArgAction::Append)
            .value_parser(clap::value_parser!(u32))
            .help("Show only these process ids (comma-separated or repeated)"),
    )
    .arg(
        Arg::new("user")
            .short('u')
            .long("user")
            .value_name("USER,...")
            .value_delimiter(',')
            .action(ArgAction::Append)
            .help(
                "Show only processes whose effective user is one of these names or \
                 numeric uids (comma-separated or repeated)",
            ),
    )
    .after_help(
        "Examples:\n  \
         ps-snap > before.json                      # snapshot before the patches\n  \
         ps-snap --deleted --format text            # what still runs old code, by unit\n  \
         ps-snap --deleted | jq -r 'select(.unit) | .unit' | sort -u\n\n\
         Under --root, clock ticks are taken as 100 per second and pages as 4096 bytes.",
    )
}

/// The selection and output options.
#[derive(Debug, Clone, Default)]
pub struct Opts {
    pub format: Option<Format>,
    pub deleted_only: bool,
    pub no_maps: bool,
    pub pids: Option<Vec<u32>>,
    pub users: Option<Vec<u32>>,
}

/// Run with parsed arguments.
pub fn run(m: &ArgMatches) -> Result<Status> {
    let root = cli::root_of(m)?;
    let users = match m.get_many::<String>("user") {
        None => None,
        Some(vals) => {
            let mut ids = Vec::new();
            // Read the user database once, and only if a name is given.
            let mut names: Option<Names> = None;
            for v in vals {
                let id = match v.parse::<u32>() {
                    Ok(n) => Some(n),
                    Err(_) => names.get_or_insert_with(|| Names::new(&root)).uid_of(v),
                };
                match id {
                    Some(id) => ids.push(id),
                    None => {
                        return Err(Error::new(format!(
                            "--user {v}: no such user (give a name from {} or a numeric uid)",
                            if root.is_live() {
                                "the user database".to_owned()
                            } else {
                                root.path("/etc/passwd").display().to_string()
                            }
                        )))
                    }
                }
            }
            Some(ids)
        }
    };
    let opts = Opts {
        format: Some(cli::format_of(m)),
        deleted_only: m.get_flag("deleted"),
        no_maps: m.get_flag("no-maps"),
        pids: m
            .get_many::<u32>("pid")
            .map(|v| v.copied().collect::<Vec<_>>()),
        users,
    };
    let mut out = Out::stdout();
    let partial = snapshot(&root, &opts, &mut out)?;
    out.finish()?;
    if let Some(msg) = partial {
        common::warn!("ps-snap: {msg}");
    }
    Ok(Status::Ok)
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
    opts: &'a Opts,
    me: Option<u32>,
    reader: Reader,
    ctx: Context,
    text: TextView,
}

impl Worker<'_> {
    /// The output (JSON Lines or text rows) of a run of pids, in pid order.
    fn chunk(&mut self, pids: &[u32]) -> Vec<u8> {
        let mut buf = Vec::with_capacity(pids.len() * 1024);
        let read_opts = ReadOpts {
            maps: !self.opts.no_maps,
        };
        let format = self.opts.format.unwrap_or(Format::Json);
        for &pid in pids {
            if Some(pid) == self.me {
                continue;
            }
            let Some(p) = self.reader.read(self.proc_dir, pid, read_opts) else {
                continue;
            };
            if let Some(users) = &self.opts.users {
                match &p.ids {
                    Some(ids) if users.contains(&ids.uid) => {}
                    _ => continue,
                }
            }
            if self.opts.deleted_only && p.runs_deleted() != Some(true) {
                continue;
            }
            match format {
                Format::Json => self.ctx.write_record(&p, &mut buf),
                Format::Text => {
                    let line = self.text.line(&mut self.ctx, &p);
                    buf.extend_from_slice(line.as_bytes());
                }
            }
            buf.push(b'\n');
        }
        buf
    }
}

/// Write the snapshot of the system under `root` to `out`. Returns the
/// summary line of what could not be read, if anything.
///
/// The pid list is cut into chunks that reader threads take in turn; this
/// thread writes the finished chunks in pid order as they arrive, so the
/// output is the same as a single reader's, only sooner. A closed stdout
/// stops the readers.
pub fn snapshot<W: std::io::Write>(
    root: &Root,
    opts: &Opts,
    out: &mut Out<W>,
) -> Result<Option<String>> {
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
    let format = opts.format.unwrap_or(Format::Json);
    let mut text = TextView::new(opts.deleted_only);
    if format == Format::Text {
        out.line(&text.header())?;
    }
    let chunks: Vec<&[u32]> = pids.chunks(CHUNK).collect();
    // Under --root one thread: a tree on disk is no running system worth
    // racing, and asking the kernel how many CPUs we may use reads the
    // live /proc/self, which --root promises not to touch.
    let cpus = if root.is_live() {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        1
    };
    let threads = cpus.clamp(1, MAX_THREADS).min(chunks.len().max(1));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut partial = Partial::default();

    let result = std::thread::scope(|s| -> Result<()> {
        let (tx, rx) = mpsc::channel::<(usize, Vec<u8>)>();
        let mut handles = Vec::with_capacity(threads);
        for _ in 0..threads {
            let tx = tx.clone();
            let (chunks, next, stop, proc_dir) = (&chunks, &next, &stop, &proc_dir);
            handles.push(s.spawn(move || {
                let mut w = Worker {
                    proc_dir,
                    opts,
                    me,
                    reader: Reader::new(),
                    ctx: Context::new(root, Names::new(root)),
                    text: TextView::new(opts.deleted_only),
                };
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(pids) = chunks.get(i) else { break };
                    if tx.send((i, w.chunk(pids))).is_err() {
                        break;
                    }
                }
                (w.reader.partial, w.text)
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
                Ok((p, t)) => {
                    partial.merge(p);
                    text.merge(t);
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
    if format == Format::Text {
        for l in text.footer() {
            out.line(&l)?;
        }
    }
    Ok(partial.summary(PROCESS, PARTS, nix::unistd::geteuid().is_root()))
}
