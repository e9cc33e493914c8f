//! cfg-backup: save a package's configuration before a patch, show what the
//! patch changed, put it back.
//!
//! Subcommands: `save`, `list`, `show`, `diff`, `verify`, `restore`. The
//! store layout and its crash guarantees are in [`store`]; the `file`
//! record in [`model`]; package databases in [`pkg`].

mod args;
pub mod diff;
pub mod model;
pub mod pkg;
pub mod restore;
pub mod save;
pub mod scan;
pub mod store;
pub mod verify;

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use common::bytes::{bytes_value, display, display_value};
use common::cli::Format;
use common::{Error, Out, Result, Root, Status};
use serde_json::{json, Value};

use crate::args::{Cmd, Options, RestoreArgs, SaveArgs, Selection, StoreDir};
use crate::model::{mode_string, normalize, Entry, FType};
use crate::restore::{Action, Dest, Restorer};
use crate::save::{package_value, save, Meta, Target};
use crate::store::Store;

pub use args::command;

pub fn main() -> ExitCode {
    common::run("cfg-backup", || run(Options::from_args()?))
}

/// Run resolved options.
fn run(o: Options) -> Result<Status> {
    let (dir, root, format) = (&o.store.dir, &o.root, o.format);
    let mut out = Out::stdout();
    let status = match &o.command {
        Cmd::Save(a) => cmd_save(a, dir, root, format, &mut out)?,
        Cmd::List => cmd_list(dir, format, &mut out)?,
        Cmd::Show(sel) => cmd_show(sel, dir, format, &mut out)?,
        Cmd::Diff(sel) => cmd_diff(sel, dir, root, format, &mut out)?,
        Cmd::Verify(a) => verify::run(a, dir, format, &mut out)?,
        Cmd::Restore(a) => cmd_restore(a, &o.store, root, format, &mut out)?,
    };
    out.finish()?;
    Ok(status)
}

/// On the live system, a path to save is recorded with its parent
/// directories resolved (`/lib/x` on a merged-/usr system is
/// `/usr/lib/x`; the last component is kept, a symlink is saved as one), so
/// that a restore, which refuses to pass through symlinks, can put it back.
fn resolved_parent(p: Vec<u8>, root: &Root) -> Vec<u8> {
    if !root.is_live() {
        return p;
    }
    let Some(cut) = p.iter().rposition(|&c| c == b'/').filter(|&i| i > 0) else {
        return p;
    };
    match fs::canonicalize(std::ffi::OsStr::from_bytes(&p[..cut])) {
        Ok(parent) => {
            let mut v = parent.into_os_string().into_encoded_bytes();
            v.extend_from_slice(&p[cut..]);
            normalize(&v).unwrap_or(p)
        }
        Err(_) => p,
    }
}

fn cmd_save(
    a: &SaveArgs,
    dir: &Path,
    root: &Root,
    format: Format,
    out: &mut Out,
) -> Result<Status> {
    let mut targets = Vec::new();
    let mut packages = Vec::new();
    let with_related = a.with_related;
    let mut names = a.packages.clone();
    if with_related {
        for name in names.clone() {
            for (r, _) in pkg::related(root, &name)? {
                if !names.contains(&r) {
                    names.push(r);
                }
            }
        }
    }
    for name in &names {
        for p in pkg::lookup(root, name)? {
            packages.push(package_value(&p.name, p.version.as_deref(), p.manager));
            if p.files.is_empty() {
                let others: Vec<String> = if p.manager == "dpkg" {
                    pkg::related(root, name)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(n, why)| format!("{n} ({})", why.describe()))
                        .collect()
                } else {
                    Vec::new()
                };
                if with_related && !others.is_empty() {
                    // Theirs are saved: nothing to say.
                } else if others.is_empty() {
                    common::warn!(
                        "cfg-backup: package {} ({}) has no configuration files; its version is recorded",
                        p.name, p.manager
                    );
                } else {
                    common::warn!(
                        "cfg-backup: package {} ({}) has no configuration files (its version is recorded); {} {}: add --with-related to save them too",
                        p.name,
                        p.manager,
                        others.join(", "),
                        if others.len() == 1 { "has some" } else { "have some" }
                    );
                }
            }
            for f in p.files {
                // Resolved like a path given on the command line: a
                // conffile under a symlinked directory (/etc/nginx ->
                // /srv/nginx) is saved where it lives, so a restore (which
                // never passes through a symlink) can put it back, and a
                // walk of the link's directory cannot put it below a
                // symlink in the same manifest.
                targets.push(Target {
                    path: resolved_parent(f.path, root),
                    walk: false,
                    must_exist: false,
                    package: Some(p.name.clone()),
                    shipped: f.shipped,
                    origin: f.origin,
                });
            }
        }
    }
    let mut walked = Vec::new();
    for p in &a.paths {
        let p = resolved_parent(p.clone(), root);
        walked.push(p.clone());
        targets.push(Target {
            path: p,
            walk: true,
            must_exist: true,
            package: None,
            shipped: None,
            origin: "path",
        });
    }
    if targets.is_empty() && packages.is_empty() {
        return Err(Error::new(
            "nothing to save: name paths or --package NAME (see cfg-backup save --help)",
        ));
    }
    let store = Store::create(dir)?;
    let saved = save(
        &store,
        root,
        &targets,
        Meta {
            label: a.label.clone(),
            keep_going: a.keep_going,
            packages,
            walked,
            undo_of: None,
        },
    )?;
    let written = match format {
        Format::Json => out.record(&saved.header),
        Format::Text => out.line(&format!(
            "saved backup {}: {} files, {} bytes, in {}",
            saved.id,
            saved.entries.len(),
            saved.header["bytes"],
            store.dir().display()
        )),
    };
    // The backup is stored whatever happens to standard output: a full
    // disk behind a redirection must not read as a failed save.
    written.and_then(|()| out.flush()).map_err(|e| {
        if e.is_quiet() {
            e
        } else {
            Error::new(format!(
                "backup {} is saved in {}, but its record could not be written: {}",
                saved.id,
                store.dir().display(),
                e.message()
            ))
        }
    })?;
    Ok(Status::Ok)
}

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

fn cmd_list(dir: &Path, format: Format, out: &mut Out) -> Result<Status> {
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

fn cmd_show(sel: &Selection, dir: &Path, format: Format, out: &mut Out) -> Result<Status> {
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

fn cmd_diff(
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
fn packages_moved(b: &store::Backup, id: &str, root: &Root) -> Vec<(Value, String)> {
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
                "removed",
                format!("{name}: removed since backup {id} (it was {})", then.unwrap_or("-")),
            ),
            (Some(_), w) => (
                "changed",
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
        let record = serde_json::json!({
            "kind": "change",
            "op": op,
            "of": "package",
            "key": {"name": name, "manager": manager},
            "before": saved,
            "after": now.as_ref().map(|p| save::package_value(&p.name, p.version.as_deref(), p.manager)),
            "fields": ["version"],
            "direction": way,
        });
        out.push((record, line));
    }
    out
}

/// The configuration files the packages of a backup own now, resolved as
/// `save` resolves them. A package that is gone, or a database that cannot
/// be read, adds nothing: the files the backup holds are compared anyway.
fn package_files_now(b: &store::Backup, root: &Root) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let Some(Value::Array(pkgs)) = b.header.get("packages") else {
        return out;
    };
    let mut seen = std::collections::HashSet::new();
    for name in pkgs.iter().filter_map(|p| p.get("name")?.as_str()) {
        if !seen.insert(name) {
            continue;
        }
        for p in pkg::lookup(root, name).unwrap_or_default() {
            out.extend(p.files.into_iter().map(|f| resolved_parent(f.path, root)));
        }
    }
    out
}

fn cmd_restore(
    a: &RestoreArgs,
    sd: &StoreDir,
    root: &Root,
    format: Format,
    out: &mut Out,
) -> Result<Status> {
    let dir = sd.dir.as_path();
    let store = Store::open_required(dir)?;
    let paths = &a.select.paths;
    let id = store.resolve(a.select.id.as_deref())?;
    let b = store.read(&id)?;
    let dry_run = a.dry_run;
    let to = a.to.as_ref();
    let dest_root = match to {
        Some(to) => {
            // Checked before anything is created: create_dir_all follows
            // a symlink at the last component.
            if fs::symlink_metadata(to).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(Error::new(format!(
                    "--to {}: is a symlink; refusing to restore through it (name the directory it points to, if that is what you mean)",
                    to.display()
                )));
            }
            if !dry_run {
                fs::create_dir_all(to).map_err(|e| Error::io(to, &e).context("--to"))?;
            }
            if dry_run && fs::metadata(to).is_err() {
                // Nothing exists there yet: every path would be created.
                None
            } else {
                Some(Root::new(Some(to))?)
            }
        }
        None => Some(root.clone()),
    };
    let entries: Vec<Entry> = b
        .entries
        .iter()
        .filter(|e| diff::selected(&e.path, paths))
        .cloned()
        .collect();
    let covers_absence = !b.absent.is_empty() || !b.walked.is_empty();
    if entries.is_empty() && paths.is_empty() && !covers_absence {
        return Err(Error::new(format!(
            "backup {id} holds no files (it records package versions only)"
        )));
    }
    let covered = |p: &Vec<u8>| {
        b.entries.iter().any(|e| model::is_under(&e.path, p))
            || b.walked.iter().any(|w| model::is_under(p, w))
            || b.absent.iter().any(|a| model::is_under(a, p))
    };
    if !paths.is_empty() && !paths.iter().any(covered) {
        return Err(Error::new(format!(
            "backup {id} holds none of the paths given (cfg-backup show {id} lists them)"
        )));
    }
    let Some(dest_root) = dest_root else {
        let mut n = 0;
        for e in &entries {
            emit_restore(out, format, e, &id, Action::Create, true, None)?;
            n += 1;
        }
        if format == Format::Text && n == 0 {
            out.line(&format!("backup {id}: nothing to restore there"))?;
        }
        return Ok(Status::Ok);
    };
    let dest = Dest::new(dest_root, to.is_some())?;
    let mut steps = restore::plan(&store, &b, &dest, &entries)?;
    // What `diff` would report as there now but not in the backup (paths
    // recorded absent, new files in walked directories, leftovers of
    // package files) is removed, so that a restore gives back the recorded
    // state and `diff` after it is clean. Children before their directory.
    let owned_now = package_files_now(&b, &dest.root);
    let mut extra: Vec<Entry> = diff::compute(&b, &dest.root, paths, store.identity(), &owned_now)?
        .into_iter()
        .filter(|c| c.before.is_none())
        .filter_map(|c| c.after)
        .collect();
    extra.sort_by(|x, y| y.path.cmp(&x.path));
    for e in extra {
        dest.check_parents(&e.path)?;
        steps.push(restore::Step {
            entry: e,
            action: Action::Remove,
            exists: true,
        });
    }
    if dry_run {
        let mut changing = 0usize;
        for s in &steps {
            if s.action != Action::Unchanged {
                changing += 1;
            }
            emit_restore(out, format, &s.entry, &id, s.action, true, Some(&dest))?;
        }
        if format == Format::Text && changing == 0 {
            out.line(&format!(
                "backup {id}: nothing would change ({} path(s) already as saved)",
                steps.len()
            ))?;
        }
        return Ok(Status::Ok);
    }
    // Undo first: the current state of every path about to change; those
    // that do not exist yet are recorded absent, so restoring the undo
    // backup removes what this restore creates.
    let undo: Vec<Target> = steps
        .iter()
        .filter(|s| s.action != Action::Unchanged)
        .map(|s| Target {
            path: s.entry.path.clone(),
            walk: false,
            must_exist: false,
            package: s.entry.package.clone(),
            shipped: None,
            origin: "restore",
        })
        .collect();
    let mut undo_id = None;
    // Nothing that exists changes (a restore that only creates, into an
    // empty --to tree): there is nothing to keep.
    if steps
        .iter()
        .any(|s| s.exists && s.action != Action::Unchanged)
    {
        let saved = save(
            &store,
            &dest.root,
            &undo,
            Meta {
                label: Some(format!("before restore of {id}")),
                keep_going: false,
                packages: Vec::new(),
                walked: Vec::new(),
                undo_of: Some(id.clone()),
            },
        )
        .map_err(|e| {
            e.context(
                "saving the current state before the restore (nothing was restored; the store must be writable and have room: copy it somewhere that is and pass --store DIR, or restore elsewhere with --to DIR)",
            )
        })?;
        match format {
            Format::Json => out.record(&saved.header)?,
            Format::Text => out.line(&format!(
                "saved the current state as backup {} (`{}` undoes this restore)",
                saved.id,
                undo_command(sd, root, to.map(PathBuf::as_path), &saved.id)
            ))?,
        }
        undo_id = Some(saved.id);
    }
    let mut r = Restorer::new(&store, &dest);
    let stopped = |e: Error| match &undo_id {
        Some(u) => e.context(format!(
            "restore stopped part-way (`{}` puts back what it changed)",
            undo_command(sd, root, to.map(PathBuf::as_path), u)
        )),
        None => e.context("restore stopped part-way"),
    };
    for s in &steps {
        match s.action {
            Action::Create | Action::Replace => r.apply(&s.entry).map_err(stopped)?,
            Action::Touch => r.touch(&s.entry).map_err(stopped)?,
            Action::Remove => r.remove(&s.entry).map_err(stopped)?,
            // A directory's mode and mtime are set again at the end: its
            // restored children change its mtime.
            Action::Unchanged if s.entry.ftype == FType::Dir => {
                r.touch(&s.entry).map_err(stopped)?
            }
            Action::Unchanged => {}
        }
        emit_restore(out, format, &s.entry, &id, s.action, false, Some(&dest))?;
    }
    r.finish_dirs().map_err(stopped)?;
    if let Some(note) = restore::owners_note(&r.owners_kept) {
        common::warn!("{note}");
    }
    if format == Format::Text && steps.iter().all(|s| s.action == Action::Unchanged) {
        out.line(&format!(
            "backup {id}: nothing changed ({} path(s) already as saved)",
            steps.len()
        ))?;
    }
    Ok(Status::Ok)
}

/// The command that restores undo backup `id` onto the same tree: the
/// same store and the same --root or --to, or the suggestion would put the
/// files back onto the live system.
fn undo_command(sd: &StoreDir, root: &Root, to: Option<&Path>, id: &str) -> String {
    let mut cmd = String::from("cfg-backup");
    let q = |p: &Path| common::shell::quote(p.as_os_str().as_bytes());
    if sd.given {
        cmd.push_str(&format!(" --store {}", q(&sd.dir)));
    }
    if let (Some(base), None) = (root.base(), to) {
        cmd.push_str(&format!(" --root {}", q(base)));
    }
    cmd.push_str(" restore");
    if let Some(to) = to {
        cmd.push_str(&format!(" --to {}", q(to)));
    }
    cmd.push(' ');
    cmd.push_str(id);
    cmd
}

fn emit_restore(
    out: &mut Out,
    format: Format,
    e: &Entry,
    id: &str,
    action: Action,
    dry_run: bool,
    dest: Option<&Dest>,
) -> Result<()> {
    let to = dest.map(|d| d.real(&e.path));
    match format {
        Format::Json => {
            // A removed path is described as it is now: the backup has no
            // record of it.
            let mut v = e.to_value((action != Action::Remove).then_some(id));
            if let Value::Object(m) = &mut v {
                m.insert("action".into(), json!(action.name()));
                m.insert("dry_run".into(), json!(dry_run));
                m.insert(
                    "to".into(),
                    to.as_deref()
                        .map(|p| bytes_value(p.as_os_str().as_bytes()))
                        .unwrap_or(Value::Null),
                );
            }
            out.record(&v)
        }
        // Only what changes, or would: an unchanged path is no news.
        Format::Text if action == Action::Unchanged => Ok(()),
        Format::Text => {
            let verb = match (action, dry_run) {
                (Action::Unchanged, _) => "unchanged",
                (Action::Remove, true) => "would remove",
                (Action::Remove, false) => "removed",
                (Action::Create, true) => "would create",
                (Action::Create, false) => "created",
                (Action::Replace, true) => "would replace",
                (Action::Replace, false) => "replaced",
                (Action::Touch, true) => "would set mtime of",
                (Action::Touch, false) => "set mtime of",
            };
            let shown = to
                .as_deref()
                .map(|p| display(p.as_os_str().as_bytes()))
                .unwrap_or_else(|| display_value(&bytes_value(&e.path)));
            out.line(&format!("{verb} {shown}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_paths_are_recorded_below_their_resolved_parents() {
        let d = std::env::temp_dir().join(format!("cfg-backup-resolve-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(d.join("real")).expect("mkdir");
        std::os::unix::fs::symlink("real", d.join("link")).expect("symlink");
        let base = fs::canonicalize(&d).expect("canonical");
        let sys = |rel: &str| {
            let mut v = base.as_os_str().as_bytes().to_vec();
            v.extend_from_slice(rel.as_bytes());
            v
        };
        assert_eq!(
            resolved_parent(sys("/link/nginx.conf"), &Root::live()),
            sys("/real/nginx.conf")
        );
        // The last component stays as it is: a symlink is saved as one.
        assert_eq!(resolved_parent(sys("/link"), &Root::live()), sys("/link"));
        let _ = fs::remove_dir_all(&d);
    }
}
