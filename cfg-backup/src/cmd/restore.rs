//! `restore`: plan, save the current state as an undo backup, then put
//! the saved paths back (the work itself is in `crate::restore`).

use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use common::bytes::{bytes_value, display, display_value};
use common::cli::Format;
use common::records::file::Restored;
use common::{Error, Out, Result, Root, Status};

use super::package_files_now;
use crate::args::{RestoreArgs, StoreDir};
use crate::diff;
use crate::model::{self, Entry, FType};
use crate::restore::{self, Action, Dest, Restorer};
use crate::save::{save, Meta, Target};
use crate::store::Store;

pub fn run(
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
            Format::Json => out.serialize(&saved.header)?,
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
            out.serialize(&Restored {
                file: e.to_record((action != Action::Remove).then_some(id)),
                action: action.name().to_owned(),
                dry_run,
                to: to.map(|p| p.into_os_string().into_vec()),
            })
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
