//! pkg-verify: which installed files no longer match what their packages
//! installed (`dpkg --verify` and `rpm -Va`, as JSON Lines, checked in
//! parallel), and the
//! file-integrity step of patch day: the files the patched packages own
//! now, as a regular expression for `aide --update --limit` or as a list.
//!
//! The parts: `args` (the command line), `db` (what dpkg recorded),
//! `check` (the files checked in parallel), `rpm` (rpm's packages, read and
//! checked), `verify` (the packages asked for and the records),
//! `baseline` (the package changes and the AIDE expression) and
//! `rebaseline` (the files to re-baseline).

mod args;
mod baseline;
mod check;
mod db;
mod rebaseline;
mod rpm;
mod verify;

use common::{Result, Status};

pub use crate::args::command;
use crate::args::Options;

fn body() -> Result<Status> {
    verify::run(&Options::from_args()?)
}

/// Entry point of the `pkg-verify` binary.
pub fn main() -> std::process::ExitCode {
    common::run("pkg-verify", body)
}
