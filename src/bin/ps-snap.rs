//! `ps-snap`: see `man ps-snap`. All logic lives in the `ps_snap` crate.
fn main() -> std::process::ExitCode {
    ps_snap::main()
}
