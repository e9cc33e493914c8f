//! cfg-backup: save a package's configuration before a patch, show what the
//! patch changed, put it back.
//!
//! The command line and its typed options are in `args`; one module per
//! subcommand in `cmd` runs them. The work: walking and storing a save
//! (`save`, `scan`), the store layout and its crash guarantees (`store`),
//! the `file` record (`model`), comparing (`diff`), putting back
//! (`restore`), package databases (`pkg`).

mod args;
mod cmd;
mod diff;
mod model;
mod pkg;
#[cfg(test)]
mod proptests;
mod restore;
mod save;
mod scan;
mod store;

use std::process::ExitCode;

pub use args::command;

pub fn main() -> ExitCode {
    common::run("cfg-backup", || cmd::run(args::Options::from_args()?))
}
