//! boot-check (placeholder until its issue lands).
use std::process::ExitCode;

pub fn main() -> ExitCode {
    common::run("boot-check", || Err(common::Error::new("not built yet")))
}
