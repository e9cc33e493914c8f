//! `net-snap`: see `man net-snap`. All logic lives in the `net_snap` crate.
fn main() -> std::process::ExitCode {
    net_snap::main()
}
