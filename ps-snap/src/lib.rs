//! ps-snap (placeholder until its issue lands).
use std::process::ExitCode;

pub fn main() -> ExitCode {
    common::run("ps-snap", || Err(common::Error::new("not built yet")))
}
