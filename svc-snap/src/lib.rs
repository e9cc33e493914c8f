//! svc-snap: one `unit` record per unit file on systemd's search path, with
//! the unit-file state exactly as `systemctl is-enabled` prints it, read
//! offline (so `--root DIR` answers for a mounted system in a rescue shell),
//! and per SysV init script, for hosts whose init is not systemd. Take one
//! before and one after the patches and compare them with snap-diff: a
//! package that enabled, masked or replaced a service shows up before the
//! reboot does.
//!
//! The parts: `args` (the command line), `name` (unit names), `parse` (the
//! `[Install]` section), `install` (the state rules, a port of systemd's
//! install.c), `sysv` (init scripts), `live` (what runs now), `snapshot`
//! (the records) and `output` (records or text).

mod args;
mod install;
mod live;
mod name;
mod output;
mod parse;
mod snapshot;
mod sysv;

use std::process::ExitCode;

use common::{Out, Result, Status};

pub use crate::args::command;
use crate::args::Options;

fn body() -> Result<Status> {
    let o = Options::from_args()?;
    let snap = snapshot::snapshot(o.root, o.unit_path.as_deref(), &o.filter, o.no_sysv)?;
    let mut out = Out::stdout();
    output::write(&snap.units, o.format, &mut out)?;
    out.finish()?;
    for note in &snap.notes {
        common::warn!("svc-snap: {note}");
    }
    Ok(Status::Ok)
}

/// Entry point of the `svc-snap` binary.
pub fn main() -> ExitCode {
    common::run("svc-snap", body)
}
