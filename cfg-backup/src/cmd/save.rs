//! `save`: the packages' configuration files and the paths given, as one
//! new backup.

use std::path::Path;

use common::cli::Format;
use common::{Error, Out, Result, Root, Status};

use super::resolved_parent;
use crate::args::SaveArgs;
use crate::pkg;
use crate::save::{save, saved_package, Meta, Target};
use crate::store::Store;

pub fn run(a: &SaveArgs, dir: &Path, root: &Root, format: Format, out: &mut Out) -> Result<Status> {
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
            packages.push(saved_package(&p.name, p.version.as_deref(), p.manager));
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
        Format::Json => out.serialize(&saved.header),
        Format::Text => out.line(&format!(
            "saved backup {}: {} files, {} bytes, in {}",
            saved.id,
            saved.entries.len(),
            saved.header.bytes,
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
