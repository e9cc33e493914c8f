//! `verify`: every content a backup refers to is in the store and still
//! hashes to its name; the manifest is valid; the store is private. One
//! `check` record per problem and one per backup.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::cli::Format;
use common::records::check::{self, StoreCheck};
use common::{Out, Result, Status};
use serde_json::Value;

use crate::args::VerifyArgs;
use crate::model::{mode_string, FType};
use crate::store::Store;

fn check_value(
    check: &str,
    status: &str,
    subject: &str,
    message: String,
    backup: Option<&str>,
    path: Option<&[u8]>,
    sha: Option<&str>,
) -> Value {
    let record = StoreCheck {
        kind: check::KIND.to_owned(),
        check: check.to_owned(),
        status: if status == "ok" {
            check::Status::Ok
        } else {
            check::Status::Fail
        },
        subject: subject.to_owned(),
        message,
        backup: backup.map(str::to_owned),
        path: path.map(<[u8]>::to_vec),
        sha256: sha.map(str::to_owned),
    };
    // Strings and byte arrays always serialize.
    serde_json::to_value(record).unwrap_or(Value::Null)
}

fn emit_check(out: &mut Out, format: Format, v: &Value) -> Result<()> {
    match format {
        Format::Json => out.record(v),
        Format::Text => out.line(&format!(
            "{:<4}  {}: {}",
            v["status"].as_str().unwrap_or("?"),
            v["subject"].as_str().unwrap_or("?"),
            v["message"].as_str().unwrap_or("")
        )),
    }
}

pub fn run(a: &VerifyArgs, dir: &Path, format: Format, out: &mut Out) -> Result<Status> {
    let store = Store::open_required(dir)?;
    let ids = if a.all {
        store.ids()?
    } else {
        vec![store.resolve(a.id.as_deref())?]
    };
    let mut bad = false;
    if let Ok(md) = fs::metadata(store.dir()) {
        if md.permissions().mode() & 0o077 != 0 {
            bad = true;
            emit_check(
                out,
                format,
                &check_value(
                    "store-private",
                    "fail",
                    &store.dir().display().to_string(),
                    format!(
                        "the store is mode {}, readable by others; it holds secrets: chmod 700 {}",
                        mode_string(md.permissions().mode()),
                        store.dir().display()
                    ),
                    None,
                    None,
                    None,
                ),
            )?;
        }
    }
    // Each blob is hashed once, however many backups share it.
    let mut seen: HashMap<String, Option<String>> = HashMap::new();
    let mut manifest_failed = false;
    for id in ids {
        let b = match store.read(&id) {
            Ok(b) => b,
            Err(e) => {
                bad = true;
                manifest_failed = true;
                emit_check(
                    out,
                    format,
                    &check_value(
                        "manifest",
                        "fail",
                        &id,
                        e.to_string(),
                        Some(&id),
                        None,
                        None,
                    ),
                )?;
                continue;
            }
        };
        let mut failed = 0usize;
        let mut blobs = 0usize;
        for e in b.entries.iter().filter(|e| e.ftype == FType::File) {
            let Some(sha) = &e.sha256 else { continue };
            blobs += 1;
            let problem = seen
                .entry(sha.clone())
                .or_insert_with(|| store.blob_problem(sha))
                .clone();
            if let Some(why) = problem {
                failed += 1;
                emit_check(
                    out,
                    format,
                    &check_value(
                        "blob",
                        "fail",
                        &e.shown(),
                        format!("{why}; backup {id} cannot restore this file"),
                        Some(&id),
                        Some(&e.path),
                        Some(sha),
                    ),
                )?;
            }
        }
        bad |= failed > 0;
        let (status, message) = if failed == 0 {
            (
                "ok",
                format!(
                    "{} {}, {blobs} file {} intact",
                    b.entries.len(),
                    if b.entries.len() == 1 {
                        "path"
                    } else {
                        "paths"
                    },
                    if blobs == 1 { "content" } else { "contents" }
                ),
            )
        } else {
            (
                "fail",
                format!("{failed} of {blobs} file contents missing or corrupt"),
            )
        };
        emit_check(
            out,
            format,
            &check_value("backup", status, &id, message, Some(&id), None, None),
        )?;
    }
    if a.all && !manifest_failed {
        // Blobs no backup names: left by saves that were interrupted (or
        // whose manifest was removed). Harmless, so only counted.
        let orphans = store
            .blob_names()?
            .into_iter()
            .filter(|b| !seen.contains_key(b))
            .count();
        if orphans > 0 {
            emit_check(
                out,
                format,
                &check_value(
                    "orphan-blobs",
                    "ok",
                    &store.dir().display().to_string(),
                    format!("{orphans} stored contents belong to no backup (left by interrupted saves; harmless)"),
                    None,
                    None,
                    None,
                ),
            )?;
        }
    }
    Ok(if bad { Status::Differs } else { Status::Ok })
}
