//! net-snap (placeholder until its issue lands).
use std::process::ExitCode;

pub fn main() -> ExitCode {
    common::run("net-snap", || Err(common::Error::new("not built yet")))
}
