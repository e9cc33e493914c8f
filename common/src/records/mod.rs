//! The record kinds of the workspace as Rust types: one place where a kind's
//! name, its fields and its identity for `snap-diff` are written down.
//! `man 5 snap-records` documents the same fields for people.
//!
//! Each kind has a module with its record type (serde derive, so the tool
//! that writes it, snap-diff and the tests share one spelling of every field)
//! and two constants: `KIND`, the value of the record's `"kind"` field, and
//! `IDENTITY`, the fields that pair a record with its counterpart in another
//! snapshot.
//!
//! `FIELDS` lists a kind's top-level fields in the order its tool writes
//! them (a unit test per kind holds the type to it). `process`, `kernel`,
//! `socket` and `change` also spell each field name once, in a `field`
//! module, for the hand-built writers of ps-snap and net-snap (kept where
//! serde measured slower) and for snap-diff's rules; `process` and
//! `socket` carry the identity rules snap-diff applies to them.

pub mod backup;
pub mod change;
pub mod check;
pub mod file;
pub mod kernel;
pub(crate) mod lossless;
pub mod package;
pub mod process;
pub mod setting;
pub mod socket;
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

/// Every kind that has a record type here.
pub const ALL_KINDS: [&str; 11] = [
    process::KIND,
    kernel::KIND,
    socket::KIND,
    change::KIND,
    check::KIND,
    file::KIND,
    backup::KIND,
    package::KIND,
    unit::KIND,
    verify::KIND,
    setting::KIND,
];

/// The top-level fields of a kind in the order its tool writes them (for a
/// `setting`, every area's; for a `change`, including the fields only a
/// package change has), or `None` for a kind without a type here.
pub fn fields(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        process::KIND => process::FIELDS,
        kernel::KIND => kernel::FIELDS,
        socket::KIND => socket::FIELDS,
        change::KIND => change::FIELDS,
        check::KIND => check::FIELDS,
        file::KIND => file::FIELDS,
        backup::KIND => backup::FIELDS,
        package::KIND => package::FIELDS,
        unit::KIND => unit::FIELDS,
        verify::KIND => verify::FIELDS,
        setting::KIND => setting::FIELDS,
        _ => return None,
    })
}

/// One JSON Lines record (without its newline) read into its kind's type
/// and written back: the same bytes for a record its tool wrote, so a
/// field written but missing in the type, one the type has but the writer
/// left out, or a value of another shape shows as an error or a difference.
/// An error names what is wrong; a kind without a type here is one.
pub fn retype(line: &str) -> std::result::Result<String, String> {
    fn again<T: serde::de::DeserializeOwned + serde::Serialize>(
        line: &str,
    ) -> std::result::Result<String, String> {
        let rec: T = serde_json::from_str(line).map_err(|e| e.to_string())?;
        serde_json::to_string(&rec).map_err(|e| e.to_string())
    }
    #[derive(serde::Deserialize)]
    struct Kind {
        kind: String,
    }
    let Kind { kind } = serde_json::from_str(line).map_err(|e| format!("no kind: {e}"))?;
    match kind.as_str() {
        process::KIND => again::<process::Process>(line),
        kernel::KIND => again::<kernel::Kernel>(line),
        socket::KIND => again::<socket::Socket>(line),
        change::KIND => again::<change::Change<'static>>(line),
        check::KIND => again::<check::Check>(line).or_else(|_| again::<check::StoreCheck>(line)),
        file::KIND => again::<file::File>(line).or_else(|_| again::<file::Restored>(line)),
        backup::KIND => again::<backup::Backup>(line),
        package::KIND => again::<package::Package>(line),
        unit::KIND => again::<unit::Unit>(line),
        verify::KIND => again::<verify::Verify>(line),
        setting::KIND => again::<setting::Setting>(line),
        k => Err(format!("no record type for kind {k:?}")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The keys of a JSON object in their order (none for other values).
    pub(crate) fn keys_of(v: &serde_json::Value) -> Vec<&str> {
        v.as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    #[test]
    fn every_kind_has_fields_starting_with_kind() {
        for k in ALL_KINDS {
            let f = fields(k).unwrap_or_default();
            assert_eq!(f.first(), Some(&"kind"), "{k}");
            let mut sorted = f.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), f.len(), "{k}: a field twice");
        }
        assert_eq!(fields("no such kind"), None);
        assert!(retype(r#"{"kind":"no such kind"}"#).is_err());
        let p = serde_json::to_string(&process::Process::new(7)).unwrap_or_default();
        assert_eq!(retype(&p), Ok(p.clone()));
        let extra = p.replacen('}', r#","x":1}"#, 1);
        assert!(retype(&extra).is_err());
        for k in KEYED_KINDS {
            assert!(ALL_KINDS.contains(&k), "{k}");
        }
    }

    #[test]
    fn every_keyed_kind_has_an_identity_with_host() {
        for k in KEYED_KINDS {
            let id = identity(k).unwrap_or_default();
            assert!(id.contains(&"host"), "{k}: {id:?}");
        }
        assert_eq!(identity("process"), None);
    }
}
