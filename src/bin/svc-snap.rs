//! `svc-snap`: see `man svc-snap`. All logic lives in the `svc_snap` crate.
fn main() -> std::process::ExitCode {
    svc_snap::main()
}
