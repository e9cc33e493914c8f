//! The end-to-end tests: one test binary (so the tools and the helpers link
//! once), one module a tool or theme, each in its own file beside this one.
//! Run one module with `cargo test --test e2e ps_snap::`.

#[macro_use]
mod common;

mod boot_check;
mod cfg_backup;
mod closed_stderr;
mod fleet;
mod man_pages;
mod net_snap;
mod pipes;
mod pkg_snap;
mod pkg_verify;
mod ps_snap;
mod scenario;
mod sec_snap;
mod snap_diff;
mod svc_snap;
