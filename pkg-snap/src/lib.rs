//! pkg-snap: one `package` record per installed package, for the
//! patch-day snapshot before and after the patches (`pkg-snap >
//! before.json`): name, architecture and version exactly as the package
//! manager prints them, the source package, dpkg's status word, why it is
//! installed (apt's or dnf's own records), whether it is on hold, and the
//! package files of it still in the local cache, which a rollback can use
//! without the network. `snap-diff` then says which packages were upgraded
//! or downgraded, by the manager's own version ordering.
//!
//! The parts: `args` (the command line), `dpkg` and `rpm` (each manager's
//! database), `cache` (the package files in the local cache), `snapshot`
//! (all packages in their order), `output` (records or the text view).

mod args;
mod cache;
mod dpkg;
mod output;
mod rpm;
mod snapshot;

use std::process::ExitCode;

use common::{Result, Status};

pub use crate::args::command;
use crate::args::Options;

fn body() -> Result<Status> {
    let o = Options::from_args()?;
    let packages = snapshot::snapshot(&o.root, &o.managers)?;
    output::write(&packages, o.format)?;
    Ok(Status::Ok)
}

/// Entry point of the `pkg-snap` binary.
pub fn main() -> ExitCode {
    common::run("pkg-snap", body)
}
