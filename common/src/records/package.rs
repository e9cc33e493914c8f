//! `package` records (pkg-snap): one installed package.

/// The value of `"kind"`.
pub const KIND: &str = "package";
/// What pairs a package with itself in another snapshot.
pub const IDENTITY: &[&str] = &["host", "manager", "name", "arch"];
