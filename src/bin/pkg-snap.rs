//! `pkg-snap`: see `man pkg-snap`. All logic lives in the `pkg_snap` crate.
fn main() -> std::process::ExitCode {
    pkg_snap::main()
}
