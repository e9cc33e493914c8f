//! ps-snap: one `process` record per process, for the patch-day snapshot
//! before and after the patches (`ps-snap > before.json`), with what `ps -ef`
//! never told: the executable and libraries a process still runs although the
//! patch replaced them on disk, and the systemd unit to restart.
//!
//! The parts: `args` (the command line), `proc` (reading a process),
//! `parse` (the /proc formats, on bytes), `stale` (code deleted or replaced
//! on disk), `restart` (what to restart), `kernel` (the running kernel
//! against the next boot's), `record` (the record and the text view) and
//! `snapshot` (the readers and the loop).

mod args;
mod kernel;
mod parse;
mod proc;
mod record;
mod restart;
mod snapshot;
mod stale;

use std::process::ExitCode;

use common::{Out, Result, Status};

pub use crate::args::command;
use crate::args::Options;

fn body() -> Result<Status> {
    let opts = Options::from_args()?;
    let mut out = Out::stdout();
    let done = snapshot::snapshot(&opts.root, &opts, &mut out)?;
    out.finish()?;
    if let Some(msg) = done.partial {
        common::warn!("ps-snap: {msg}");
    }
    // Like diff: with --deleted, 1 when something runs old code.
    Ok(if opts.deleted_only && done.listed > 0 {
        Status::Differs
    } else {
        Status::Ok
    })
}

/// Entry point of the `ps-snap` binary.
pub fn main() -> ExitCode {
    common::run("ps-snap", body)
}
