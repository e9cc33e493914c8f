//! cfg-backup (placeholder until its issue lands).
use std::process::ExitCode;

pub fn main() -> ExitCode {
    common::run("cfg-backup", || Err(common::Error::new("not built yet")))
}
