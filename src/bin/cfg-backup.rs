//! `cfg-backup`: see `man cfg-backup`. All logic lives in the `cfg_backup` crate.
fn main() -> std::process::ExitCode {
    cfg_backup::main()
}
