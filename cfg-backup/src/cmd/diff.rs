//! `diff`: a backup against the files as they are now, and the packages
//! whose version moved since.

use std::path::Path;

use common::bytes::display;
use common::cli::Format;
use common::records::change::Op;
use common::{Out, Result, Root, Status};
use serde_json::Value;

use super::package_files_now;
use crate::args::Selection;
use crate::store::{Backup, Store};
use crate::{diff, model, pkg, save};

pub fn run(
    sel: &Selection,
    dir: &Path,
    root: &Root,
    format: Format,
    out: &mut Out,
) -> Result<Status> {
    let store = Store::open_required(dir)?;
    let paths = &sel.paths;
    let id = store.resolve(sel.id.as_deref())?;
    let b = store.read(&id)?;
    for p in paths {
        let known = b.entries.iter().any(|e| model::is_under(&e.path, p))
            || b.walked.iter().any(|w| model::is_under(p, w))
            || b.absent.iter().any(|a| model::is_under(a, p));
        if !known {
            common::warn!(
                "cfg-backup: backup {id} holds nothing at or below {}; nothing to compare there",
                display(p)
            );
        }
    }
    // A backup of a mounted system compared with the running one (or the
    // other way round) reports every file as changed: say why up front.
    let saved_root = b.header.get("root").and_then(|r| r.as_str());
    let now_root = root.base().map(|p| p.to_string_lossy().into_owned());
    if let (Some(r), None) = (saved_root, &now_root) {
        common::warn!(
            "cfg-backup: backup {id} was taken of --root {r}; comparing it with the running system (give --root {r} to compare with that tree)"
        );
    }
    let owned_now = package_files_now(&b, root);
    let changes = diff::compute(&b, root, paths, store.identity(), &owned_now)?;
    for c in &changes {
        match format {
            Format::Json => out.record(&c.to_value(&id))?,
            Format::Text => {
                for l in diff::text(c, &id, &store, root)? {
                    out.line(&l)?;
                }
            }
        }
    }
    let moved = packages_moved(&b, &id, root);
    for (record, line) in &moved {
        match format {
            Format::Json => out.record(record)?,
            Format::Text => out.line(line)?,
        }
    }
    Ok(if changes.is_empty() && moved.is_empty() {
        Status::Ok
    } else {
        Status::Differs
    })
}

/// The packages of a backup whose version now is not the one saved (an
/// upgrade since the backup brings configuration files of its own): for
/// each, a `change` record of `of: "package"` with the direction by the
/// manager's ordering, and its text line. A package no longer installed is
/// `removed`.
fn packages_moved(b: &Backup, id: &str, root: &Root) -> Vec<(Value, String)> {
    use common::records::package::direction;
    let mut out = Vec::new();
    let Some(Value::Array(pkgs)) = b.header.get("packages") else {
        return out;
    };
    for saved in pkgs {
        let field = |f: &str| saved.get(f).and_then(Value::as_str);
        let (Some(name), Some(manager)) = (field("name"), field("manager")) else {
            continue;
        };
        let then = field("version");
        let now = pkg::lookup(root, name)
            .unwrap_or_default()
            .into_iter()
            .find(|p| p.manager == manager);
        let now_version = now.as_ref().and_then(|p| p.version.as_deref());
        if now.is_some() && now_version == then {
            continue;
        }
        let way = match (then, now_version) {
            (Some(t), Some(n)) => direction(manager, t, n).map(|d| d.name()),
            _ => None,
        };
        let (op, line) = match (&now, way) {
            (None, _) => (
                Op::Removed,
                format!("{name}: removed since backup {id} (it was {})", then.unwrap_or("-")),
            ),
            (Some(_), w) => (
                Op::Changed,
                format!(
                    "{name}: {} since backup {id}: {} -> {} (its configuration files may have changed with it)",
                    match w {
                        Some("upgrade") => "upgraded",
                        Some("downgrade") => "downgraded",
                        _ => "changed version",
                    },
                    then.unwrap_or("-"),
                    now_version.unwrap_or("-")
                ),
            ),
        };
        let record = diff::change_record(
            op,
            "package",
            serde_json::json!({"name": name, "manager": manager}),
            Some(saved.clone()),
            now.as_ref().map(|p| {
                serde_json::json!(save::saved_package(
                    &p.name,
                    p.version.as_deref(),
                    p.manager
                ))
            }),
            &["version"],
            diff::Own::Direction(way),
        );
        out.push((record, line));
    }
    out
}
