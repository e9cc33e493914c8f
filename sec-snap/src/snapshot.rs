//! The snapshot: every setting of the chosen areas, the file walk on a
//! thread of its own beside the other areas.

use serde_json::Value;

use common::bytes::bytes_value;
use common::names::Names;
use common::records::setting::{Detail, Setting};
use common::{Error, Result, Root};

use crate::args::{Area, Options};
use crate::{caps, files, firewall, lsm, owners, sshd, sysctl};

/// At most this many walker threads.
const MAX_THREADS: usize = 4;

/// Every setting of the chosen areas, in area order, and the summary
/// lines of what could not be read.
pub fn snapshot(root: &Root, opts: &Options) -> Result<(Vec<Setting>, Vec<String>)> {
    let host = root.hostname();
    let mut notes = Vec::new();
    // The file walk is the long part: the other areas are read beside it.
    let (file_part, rest) = std::thread::scope(|s| {
        let walker = opts
            .wants(Area::File)
            .then(|| s.spawn(|| file_settings(root, &host)));
        let rest = other_settings(root, &host, opts);
        let file_part = walker.map(|h| {
            h.join()
                .unwrap_or_else(|_| Err(Error::new("the file walk failed")))
        });
        (file_part, rest)
    });
    let mut rest = rest?;
    let mut all = Vec::new();
    all.append(&mut rest.0);
    if let Some(f) = file_part {
        let (mut files, note) = f?;
        all.append(&mut files);
        notes.extend(note);
    }
    all.append(&mut rest.1);
    Ok((all, notes))
}

/// sysctl (before the files) and lsm, firewall, sshd (after them).
type Split = (Vec<Setting>, Vec<Setting>);

fn other_settings(root: &Root, host: &Option<String>, opts: &Options) -> Result<Split> {
    let mut before = Vec::new();
    let mut after = Vec::new();
    if opts.wants(Area::Sysctl) {
        before = sysctl::settings(root, host, opts.counters)?;
    }
    if opts.wants(Area::Lsm) {
        after.extend(lsm::settings(root, host));
    }
    if opts.wants(Area::Firewall) {
        after.extend(firewall::settings(host, root.is_live()));
    }
    if opts.wants(Area::Sshd) {
        after.extend(sshd::settings(root, host)?);
    }
    Ok((before, after))
}

fn file_settings(root: &Root, host: &Option<String>) -> Result<(Vec<Setting>, Option<String>)> {
    let top = root.path("/");
    // Asking how many CPUs we may use reads the live /proc/self, which
    // --root promises not to touch; a mounted system is still worth two.
    let threads = if root.is_live() {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_THREADS)
    } else {
        2
    };
    let (found, unread) = files::walk(&top, threads).map_err(|e| {
        Error::io(&top, &e).context("cannot walk the file system for privileged files")
    })?;
    let sys_paths: Vec<Vec<u8>> = found
        .iter()
        .map(|f| {
            root.system_path(&f.path)
                .map_or_else(|| owners::bytes_of(&f.path), |p| owners::bytes_of(&p))
        })
        .collect();
    let owners = owners::owners(root, &sys_paths);
    let mut names = Names::new(root);
    let known = caps::known_caps(root.is_live());
    let mut out = Vec::with_capacity(found.len());
    for (f, path) in found.iter().zip(&sys_paths) {
        let capabilities = f.caps.as_deref().map(|raw| match caps::decode(raw) {
            Some(c) => c.to_text(known),
            None => format!("(not a capability set: {} bytes)", raw.len()),
        });
        out.push(Setting::new(
            host.clone(),
            bytes_value(path),
            Value::from(files::mode_string(f.mode)),
            Detail::File {
                mode: Some(format!("{:04o}", f.mode & 0o7777)),
                uid: Some(f.uid),
                gid: Some(f.gid),
                user: names.user(f.uid),
                group: names.group(f.gid),
                setuid: f.mode & 0o4000 != 0,
                setgid: f.mode & 0o2000 != 0,
                capabilities,
                package: owners.get(path).cloned(),
            },
        ));
    }
    let note = (unread.dirs + unread.entries > 0).then(|| {
        let why = unread
            .errno
            .map(|e| common::error::describe_io(&std::io::Error::from_raw_os_error(e)))
            .unwrap_or_else(|| "unknown error".into());
        format!(
            "partial file walk: {} directories and {} files could not be read ({why}); \
             privileged files there are missing",
            unread.dirs, unread.entries
        )
    });
    Ok((out, note))
}
