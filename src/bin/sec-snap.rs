//! `sec-snap`: see `man sec-snap`. All logic lives in the `sec_snap` crate.
fn main() -> std::process::ExitCode {
    sec_snap::main()
}
