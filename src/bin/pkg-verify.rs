//! `pkg-verify`: see `man pkg-verify`. All logic lives in the `pkg_verify` crate.
fn main() -> std::process::ExitCode {
    pkg_verify::main()
}
