//! snap-diff (placeholder until its issue lands).
use std::process::ExitCode;

pub fn main() -> ExitCode {
    common::run("snap-diff", || Err(common::Error::new("not built yet")))
}
