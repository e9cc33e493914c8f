//! `list` and `show`: what the store holds.

use std::path::Path;

use common::bytes::{display, display_value};
use common::cli::Format;
use common::{Out, Result, Status};
use serde_json::Value;

use crate::args::Selection;
use crate::diff;
use crate::model::{mode_string, Entry};
use crate::store::Store;

/// A backup in one line: ID, time, file count, the packages it covers
/// (name and version) or the directories it walked, and its label.
fn header_text(h: &Value) -> String {
    let mut covers: Vec<String> = h["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| match p["version"].as_str() {
            Some(v) => format!("{} {v}", p["name"].as_str().unwrap_or("?")),
            None => p["name"].as_str().unwrap_or("?").to_owned(),
        })
        .collect();
    covers.extend(
        h["paths"]
            .as_array()
            .into_iter()
            .flatten()
            .map(display_value),
    );
    let files = match &h["files"] {
        Value::Number(n) if n.as_u64() == Some(1) => "1 file".to_owned(),
        n => format!("{n} files"),
    };
    let mut s = format!(
        "{}  {}  {files}",
        h["id"].as_str().unwrap_or("?"),
        h["created"].as_str().unwrap_or("?"),
    );
    if let Some(of) = h["undo_of"].as_str() {
        s.push_str(&format!("  undoes a restore of {of}"));
    }
    if !covers.is_empty() {
        s.push_str(&format!("  [{}]", covers.join(", ")));
    }
    s.push_str(&format!("  {}", h["label"].as_str().unwrap_or("-")));
    s
}

pub fn list(dir: &Path, format: Format, out: &mut Out) -> Result<Status> {
    let Some(store) = Store::open(dir)? else {
        return Ok(Status::Ok);
    };
    // A bad manifest does not hide the good ones: they are listed, then
    // the first problem is reported (exit 2).
    let mut first_err = None;
    let mut bad = 0usize;
    for id in store.ids()? {
        match store.header(&id) {
            Ok(h) => {
                let h = Value::Object(h);
                match format {
                    Format::Json => out.record(&h)?,
                    Format::Text => out.line(&header_text(&h))?,
                }
            }
            Err(e) => {
                bad += 1;
                first_err.get_or_insert(e);
            }
        }
    }
    match first_err {
        None => Ok(Status::Ok),
        Some(e) if bad == 1 => Err(e),
        Some(e) => Err(e.context(format!("{bad} manifests are invalid; the first"))),
    }
}

fn entry_text(e: &Entry) -> String {
    let mut s = format!(
        "{:<7} {} {}:{} {:>8} {}",
        e.ftype.name(),
        mode_string(e.mode),
        e.user.clone().unwrap_or_else(|| e.uid.to_string()),
        e.group.clone().unwrap_or_else(|| e.gid.to_string()),
        e.size.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
        e.shown()
    );
    if let Some(t) = &e.target {
        s.push_str(" -> ");
        s.push_str(&display(t));
    }
    if e.modified == Some(true) {
        s.push_str("  (modified from the package's version)");
    }
    s
}

pub fn show(sel: &Selection, dir: &Path, format: Format, out: &mut Out) -> Result<Status> {
    let store = Store::open_required(dir)?;
    let paths = &sel.paths;
    let id = store.resolve(sel.id.as_deref())?;
    let b = store.read(&id)?;
    let h = Value::Object(b.header.clone());
    match format {
        Format::Json => out.record(&h)?,
        Format::Text => out.line(&header_text(&h))?,
    }
    for e in b.entries.iter().filter(|e| diff::selected(&e.path, paths)) {
        match format {
            Format::Json => out.record(&e.to_value(Some(&id)))?,
            Format::Text => out.line(&entry_text(e))?,
        }
    }
    Ok(Status::Ok)
}
