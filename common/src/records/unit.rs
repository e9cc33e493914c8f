//! `unit` records (svc-snap): one unit file, or one SysV init script.

/// The value of `"kind"`.
pub const KIND: &str = "unit";
/// What pairs a unit with itself in another snapshot.
pub const IDENTITY: &[&str] = &["host", "name"];
