//! The record kinds of the workspace as Rust types: one place where a kind's
//! name, its fields and its identity for `snap-diff` are written down.
//! `man 5 snap-records` documents the same fields for people.
//!
//! Each kind has a module with its record type (serde derive, so the tool
//! that writes it, snap-diff and the tests share one spelling of every field)
//! and two constants: `KIND`, the value of the record's `"kind"` field, and
//! `IDENTITY`, the fields that pair a record with its counterpart in another
//! snapshot.

pub mod backup;
pub mod file;
pub(crate) mod lossless;
pub mod package;
pub mod setting;
pub mod unit;
pub mod verify;

/// The identity fields of a kind that snap-diff pairs by fixed fields, or
/// `None` for the kinds with rules of their own (`process`, `socket`) and
/// for kinds the workspace does not write.
pub fn identity(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        package::KIND => Some(package::IDENTITY),
        unit::KIND => Some(unit::IDENTITY),
        verify::KIND => Some(verify::IDENTITY),
        setting::KIND => Some(setting::IDENTITY),
        _ => None,
    }
}

/// The fields of a kind that snap-diff ignores by default (none for most).
pub fn volatile(kind: &str) -> &'static [&'static str] {
    match kind {
        package::KIND => package::VOLATILE,
        _ => &[],
    }
}

/// Every kind [`identity`] knows, for messages and documentation.
pub const KEYED_KINDS: [&str; 4] = [package::KIND, unit::KIND, verify::KIND, setting::KIND];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_keyed_kind_has_an_identity_with_host() {
        for k in KEYED_KINDS {
            let id = identity(k).unwrap_or_default();
            assert!(id.contains(&"host"), "{k}: {id:?}");
        }
        assert_eq!(identity("process"), None);
    }
}
