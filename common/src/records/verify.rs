//! `verify` records (pkg-verify): one installed file that no longer matches
//! what its package installed.

/// The value of `"kind"`.
pub const KIND: &str = "verify";
/// What pairs a problem with itself in another run.
pub const IDENTITY: &[&str] = &["host", "path", "problem"];
