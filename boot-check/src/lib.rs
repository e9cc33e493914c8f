//! boot-check: will this machine come back after the reboot?
//!
//! It reads the boot configuration the way the boot loader will (GRUB 2 with
//! BLS, GRUB legacy, extlinux, systemd-boot), resolves the entry that boots
//! next, and checks every file it names, the installed kernels, the running
//! kernel and the room left in /boot. Each finding is a `check` record; the
//! exit status says whether anything failed. It never writes anything.
//!
//! The parts:
//! - the command: `args` (the command line), `report` (records or text, and
//!   the exit status);
//! - the checks: `checks` (every check, in report order), `system` (the
//!   system under `--root`: files, mounts, EFI variables, the running kernel);
//! - finding and reading the boot configuration: `discover` (which loader,
//!   which files), `discovery` (the systemd-boot/BLS places), `grub2`,
//!   `grub_legacy`, `extlinux`, `bls` (Boot Loader Specification entries and
//!   loader.conf), `grubenv`, `config_text` (a configuration file's bytes as
//!   text), `model` (what every parser fills in: entries, menu, default);
//! - the kernels: `kernels` (installed kernels, their versions and modules),
//!   `uki` (unified kernel images).
//!
//! Public are the parts other crates use: ps-snap runs `checks` on `system`
//! for its kernel records, and the end-to-end tests compare `kernels` and
//! `uki` with the real tools.

use std::process::ExitCode;

use common::{Error, Out, Result, Status};

mod args;
mod report;

pub mod checks;
pub mod kernels;
pub mod system;
pub mod uki;

mod bls;
mod config_text;
mod discover;
mod discovery;
mod extlinux;
mod grub2;
mod grub_legacy;
mod grubenv;
mod model;

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod properties;

pub use args::command;
use args::Options;

/// Entry point of the `boot-check` binary.
pub fn main() -> ExitCode {
    common::run("boot-check", || {
        let o = Options::from_args()?;
        let mut out = Out::stdout();
        let st = run(o, &mut out)?;
        out.finish()?;
        Ok(st)
    })
}

/// Run the checks and write them; the exit status.
fn run<W: std::io::Write>(o: Options, out: &mut Out<W>) -> Result<Status> {
    let host = o.root.hostname();
    let sys = system::Sys::new(o.root);
    let outcome = checks::run(&sys);
    // Trouble (a configuration this user may not read) means the checks are
    // not a result: write none of them, so no partial report reads as one.
    if let Some(t) = outcome.trouble {
        return Err(Error::new(t));
    }
    report::write(&outcome.checks, &host, o.format, o.strict, out)?;
    Ok(report::verdict(&outcome.checks, o.strict))
}
