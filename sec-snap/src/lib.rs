//! sec-snap: one `setting` record per security setting in force, for the
//! patch-day snapshot before and after the patches (`sec-snap >
//! before-sec.json`, later `sec-snap | snap-diff before-sec.json -`), so
//! that a patch that turns a kernel parameter, adds a setuid binary,
//! changes a firewall rule, an AppArmor profile's mode or an sshd default
//! is seen.
//!
//! The parts: `args` (the command line), one module per area: `sysctl`,
//! `files` (with `caps` and `owners`), `lsm`, `firewall`, `sshd`;
//! `snapshot` (the areas together, the file walk beside the rest) and
//! `output` (records or text). The records are written once every area is
//! read, so trouble never leaves half a snapshot behind.

mod args;
mod caps;
mod files;
mod firewall;
mod lsm;
mod output;
mod owners;
mod snapshot;
mod sshd;
mod sysctl;

use std::process::ExitCode;

use common::{Out, Result, Status};

pub use crate::args::command;
use crate::args::Options;

fn body() -> Result<Status> {
    let o = Options::from_args()?;
    let (settings, notes) = snapshot::snapshot(&o.root, &o)?;
    let mut out = Out::stdout();
    output::write(&settings, o.format, &mut out)?;
    out.finish()?;
    for n in notes {
        common::warn!("sec-snap: {n}");
    }
    Ok(Status::Ok)
}

/// Entry point of the `sec-snap` binary.
pub fn main() -> ExitCode {
    common::run("sec-snap", body)
}
