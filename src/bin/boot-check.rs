//! `boot-check`: see `man boot-check`. All logic lives in the `boot_check` crate.
fn main() -> std::process::ExitCode {
    boot_check::main()
}
