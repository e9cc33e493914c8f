//! `snap-diff`: see `man snap-diff`. All logic lives in the `snap_diff` crate.
fn main() -> std::process::ExitCode {
    snap_diff::main()
}
