//! The subcommands, one module each, and what several of them share:
//! where a path given or owned by a package is recorded, and which
//! configuration files the packages of a backup own now.

mod diff;
mod restore;
mod save;
mod show;
mod verify;

use std::fs;
use std::os::unix::ffi::OsStrExt;

use common::{Out, Result, Root, Status};
use serde_json::Value;

use crate::args::{Cmd, Options};
use crate::model::normalize;
use crate::pkg;
use crate::store::Backup;

/// Run resolved options.
pub fn run(o: Options) -> Result<Status> {
    let (dir, root, format) = (&o.store.dir, &o.root, o.format);
    let mut out = Out::stdout();
    let status = match &o.command {
        Cmd::Save(a) => save::run(a, dir, root, format, &mut out)?,
        Cmd::List => show::list(dir, format, &mut out)?,
        Cmd::Show(sel) => show::show(sel, dir, format, &mut out)?,
        Cmd::Diff(sel) => diff::run(sel, dir, root, format, &mut out)?,
        Cmd::Verify(a) => verify::run(a, dir, format, &mut out)?,
        Cmd::Restore(a) => restore::run(a, &o.store, root, format, &mut out)?,
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

/// The configuration files the packages of a backup own now, resolved as
/// `save` resolves them. A package that is gone, or a database that cannot
/// be read, adds nothing: the files the backup holds are compared anyway.
fn package_files_now(b: &Backup, root: &Root) -> Vec<Vec<u8>> {
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
