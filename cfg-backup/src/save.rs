//! `save`: read the chosen paths (walking directories), put their content
//! into the store, then publish the manifest. Nothing is published until
//! every blob is durable; an unreadable file fails the whole save unless
//! `--keep-going`.

use std::collections::BTreeMap;
use std::fs::{self, Metadata};
use std::io::{self, Read};
use std::os::unix::ffi::OsStringExt;
use std::time::{SystemTime, UNIX_EPOCH};

use common::bytes::display;
use common::error::describe_io;
use common::fsutil::open_regular;
use common::names::Names;
use common::records::backup::{self, SavedPackage};
use common::{Error, Result, Root};

use crate::model::{Entry, FType};
use crate::pkg::Shipped;
use crate::scan::{real, sha256_hex};
use crate::store::{id_for, Store, IN_MEMORY};
use common::bytes::hex;
use md5::{Digest, Md5};

/// Environment variable of the test-only fault point: when set, `save`
/// aborts after the blobs are durable and before the manifest exists, as a
/// crash or `kill -9` at the worst moment would.
pub const FAULT_ENV: &str = "CFG_BACKUP_TEST_FAIL_AFTER_BLOBS";

/// One thing to save.
#[derive(Debug, Clone)]
pub struct Target {
    /// System path, normalized.
    pub path: Vec<u8>,
    /// Walk it when it is a directory.
    pub walk: bool,
    /// Absent is an error (a path the user named) or a note (a package's
    /// file the admin deleted, a path a restore will create).
    pub must_exist: bool,
    pub package: Option<String>,
    pub shipped: Option<Shipped>,
    pub origin: &'static str,
}

/// What the backup record says besides the files.
#[derive(Debug, Default)]
pub struct Meta {
    pub label: Option<String>,
    pub keep_going: bool,
    pub packages: Vec<SavedPackage>,
    /// Directories walked (for `diff` to find files added since).
    pub walked: Vec<Vec<u8>>,
    /// For the backup a restore makes first: the ID being restored.
    pub undo_of: Option<String>,
}

/// A published backup.
pub struct Saved {
    pub id: String,
    pub header: backup::Backup,
    pub entries: Vec<Entry>,
}

enum Failure {
    /// The path vanished between readdir and open: nothing to save.
    Gone,
    /// The source could not be read: skippable with --keep-going.
    Source(Vec<u8>, String),
    /// The store could not be written: always fatal.
    Store(Error),
}

struct Saver<'a> {
    store: &'a Store,
    root: &'a Root,
    names: Names,
    entries: BTreeMap<Vec<u8>, Entry>,
    keep_going: bool,
    skipped: Vec<(Vec<u8>, String)>,
    absent: Vec<Vec<u8>>,
    special: Vec<Vec<u8>>,
    /// The store's (dev, ino): never walked into.
    store_id: Option<(u64, u64)>,
}

/// Save `targets` as one backup under `root`.
pub fn save(store: &Store, root: &Root, targets: &[Target], meta: Meta) -> Result<Saved> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Error::new("the system clock is before 1970; set it first"))?;
    let created = common::time::rfc3339(now.as_secs() as i64, now.subsec_nanos());
    let mut s = Saver {
        store,
        root,
        names: Names::new(root),
        entries: BTreeMap::new(),
        keep_going: meta.keep_going,
        skipped: Vec::new(),
        absent: Vec::new(),
        special: Vec::new(),
        store_id: store.identity(),
    };
    for t in targets {
        s.target(t)?;
    }
    if !s.special.is_empty() {
        common::warn!(
            "cfg-backup: left out {} special file(s) (devices, fifos, sockets), e.g. {}",
            s.special.len(),
            display(&s.special[0])
        );
    }
    for (p, why) in &s.skipped {
        common::warn!("cfg-backup: left out {}: {why}", display(p));
    }
    store.sync()?;
    if std::env::var_os(FAULT_ENV).is_some() {
        common::warn!("cfg-backup: {FAULT_ENV} is set: aborting before the manifest");
        std::process::abort();
    }

    let entries: Vec<Entry> = s.entries.into_values().collect();
    // A path found below a symlink it also saved (a directory swapped for a
    // link while the save ran) would make the whole manifest unreadable.
    if let Some((_, why)) = crate::store::nesting_problem(&entries) {
        return Err(Error::new(format!(
            "{why}: the tree changed while it was saved; nothing was saved, run the save again"
        )));
    }
    let bytes: u64 = entries
        .iter()
        .filter(|e| e.ftype == FType::File)
        .filter_map(|e| e.size)
        .sum();
    let mut header = backup::Backup {
        kind: backup::KIND.to_owned(),
        id: String::new(),
        created,
        label: meta.label,
        undo_of: meta.undo_of,
        host: root.hostname(),
        // Absolute: `--root mnt` means nothing from another directory.
        root: root.base().map(|b| {
            let abs = std::path::absolute(b).unwrap_or_else(|_| b.to_path_buf());
            abs.into_os_string().into_vec()
        }),
        paths: meta.walked,
        packages: meta.packages,
        files: entries.len() as u64,
        bytes,
        skipped: s.skipped.into_iter().map(|(p, _)| p).collect(),
        absent: s.absent,
    };
    let render = |id: &str| {
        header.id = id.to_owned();
        manifest(&header, &entries)
    };
    let id = store.commit_manifest(&id_for(now.as_secs() as i64), render)?;
    header.id = id.clone();
    Ok(Saved {
        header,
        id,
        entries,
    })
}

/// The manifest of a backup: its `backup` record, then a `file` record per
/// entry, in the order given.
pub fn manifest(header: &backup::Backup, entries: &[Entry]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    push_line(&mut out, header)?;
    for e in entries {
        push_line(&mut out, &e.to_record(Some(&header.id)))?;
    }
    Ok(out)
}

fn push_line(out: &mut Vec<u8>, record: &impl serde::Serialize) -> Result<()> {
    serde_json::to_writer(&mut *out, record)
        .map_err(|e| Error::new(format!("encoding the manifest: {e}")))?;
    out.push(b'\n');
    Ok(())
}

impl Saver<'_> {
    fn target(&mut self, t: &Target) -> Result<()> {
        if let Some(e) = self.entries.get_mut(&t.path) {
            // Named twice (a package file inside a walked directory): keep
            // what the package database says about it.
            if t.package.is_some() && e.package.is_none() {
                e.package = t.package.clone();
                e.origin = Some(t.origin.to_owned());
            }
            return Ok(());
        }
        if let Some(why) = self.symlinked_parent(&t.path) {
            return self.fail(Failure::Source(t.path.clone(), why));
        }
        let p = real(self.root, &t.path);
        let md = match fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound && !t.must_exist => {
                self.absent.push(t.path.clone());
                return Ok(());
            }
            Err(e) => return self.fail(Failure::Source(t.path.clone(), describe_io(&e))),
        };
        if self.is_store(&md) {
            common::warn!(
                "cfg-backup: {} is the backup store itself; not saved",
                display(&t.path)
            );
            return Ok(());
        }
        let walk = t.walk && md.is_dir();
        if let Err(f) = self.one(&t.path, Some(&md), t) {
            return self.fail(f);
        }
        if walk {
            self.walk(&t.path, t.origin)?;
        }
        Ok(())
    }

    /// Under --root, a symlink among the parents of a path would be
    /// followed by the host (an absolute target leads out of the tree), so
    /// such a path is not read. On the live system the admin's symlinks
    /// are the system's own and are followed.
    fn symlinked_parent(&self, sys: &[u8]) -> Option<String> {
        crate::scan::symlinked_parent(self.root, sys).map(|parent| {
            format!(
                "its parent {} is a symlink, which under --root would be followed outside the tree; save the path it points to instead",
                display(&parent)
            )
        })
    }

    fn is_store(&self, md: &Metadata) -> bool {
        use std::os::unix::fs::MetadataExt;
        md.is_dir() && self.store_id == Some((md.dev(), md.ino()))
    }

    fn fail(&mut self, f: Failure) -> Result<()> {
        match f {
            Failure::Gone => Ok(()),
            Failure::Store(e) => Err(e),
            Failure::Source(p, why) if self.keep_going => {
                self.skipped.push((p, why));
                Ok(())
            }
            Failure::Source(p, why) => Err(Error::new(format!(
                "{}: {why}; nothing was saved (--keep-going saves the rest)",
                display(&p)
            ))),
        }
    }

    /// Walk a directory depth-first, children in byte order.
    fn walk(&mut self, dir: &[u8], origin: &'static str) -> Result<()> {
        let mut stack = vec![dir.to_vec()];
        while let Some(d) = stack.pop() {
            let rp = real(self.root, &d);
            let rd = match fs::read_dir(&rp) {
                Ok(rd) => rd,
                Err(e) => {
                    self.fail(Failure::Source(d.clone(), describe_io(&e)))?;
                    continue;
                }
            };
            // The type readdir reports (d_type) spares a regular file the
            // lstat: it is opened O_NOFOLLOW and fstat'ed anyway.
            let mut names = Vec::new();
            for ent in rd {
                match ent {
                    Ok(ent) => {
                        let is_file = ent.file_type().is_ok_and(|t| t.is_file());
                        names.push((ent.file_name().into_vec(), is_file));
                    }
                    Err(e) => self.fail(Failure::Source(d.clone(), describe_io(&e)))?,
                }
            }
            names.sort();
            let mut subdirs = Vec::new();
            for (n, is_file) in names {
                let mut child = d.clone();
                child.push(b'/');
                child.extend_from_slice(&n);
                if self.entries.contains_key(&child) {
                    continue;
                }
                let md = if is_file {
                    None
                } else {
                    match fs::symlink_metadata(real(self.root, &child)) {
                        Ok(m) => Some(m),
                        // Gone since readdir: nothing to save.
                        Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                        Err(e) => {
                            self.fail(Failure::Source(child, describe_io(&e)))?;
                            continue;
                        }
                    }
                };
                let t = Target {
                    path: child.clone(),
                    walk: true,
                    must_exist: false,
                    package: None,
                    shipped: None,
                    origin,
                };
                if md.as_ref().is_some_and(|m| self.is_store(m)) {
                    continue;
                }
                let is_dir = md.as_ref().is_some_and(Metadata::is_dir);
                match self.one(&child, md.as_ref(), &t) {
                    Ok(()) if is_dir => subdirs.push(child),
                    Ok(()) | Err(Failure::Gone) => {}
                    Err(f) => self.fail(f)?,
                }
            }
            // Reverse so the stack pops them in order.
            stack.extend(subdirs.into_iter().rev());
        }
        Ok(())
    }

    /// Record one path (and store its content). `md` is its lstat; `None`
    /// for a regular file as readdir reported it (not lstat'ed; gone by
    /// now is [`Failure::Gone`]).
    fn one(
        &mut self,
        sys: &[u8],
        md: Option<&Metadata>,
        t: &Target,
    ) -> std::result::Result<(), Failure> {
        let ftype = match md {
            None => FType::File,
            Some(md) => match FType::of(md) {
                Some(f) => f,
                None => {
                    self.special.push(sys.to_vec());
                    return Ok(());
                }
            },
        };
        let p = real(self.root, sys);
        let src = |e: io::Error| Failure::Source(sys.to_vec(), describe_io(&e));
        let mut e = match ftype {
            FType::Dir | FType::Symlink => {
                let Some(md) = md else {
                    return Err(Failure::Gone);
                };
                let mut e = Entry::from_metadata(sys.to_vec(), ftype, md, &mut self.names);
                if ftype == FType::Symlink {
                    e.target = Some(fs::read_link(&p).map_err(src)?.into_os_string().into_vec());
                }
                e
            }
            FType::File => {
                let (mut f, md) = match open_regular(&p) {
                    Ok(v) => v,
                    Err(e) if md.is_none() && e.kind() == io::ErrorKind::NotFound => {
                        return Err(Failure::Gone)
                    }
                    Err(e) => return Err(src(e)),
                };
                let mut e = Entry::from_metadata(sys.to_vec(), ftype, &md, &mut self.names);
                let (sha, md5, size) = if md.len() <= IN_MEMORY {
                    // Read through a plain `Read`: File's own read_to_end
                    // asks fstat and lseek for a size fstat gave already.
                    let mut data = Vec::with_capacity(md.len() as usize + 1);
                    PlainRead(&mut f).read_to_end(&mut data).map_err(src)?;
                    let sha = sha256_hex(&data);
                    let md5 = if t.shipped.is_some() {
                        let mut m = Md5::new();
                        m.update(&data);
                        hex(&m.finalize())
                    } else {
                        String::new()
                    };
                    self.store.put_bytes(&sha, &data).map_err(Failure::Store)?;
                    (sha, md5, data.len() as u64)
                } else {
                    match self.store.put_stream(&mut f) {
                        Ok(Ok(v)) => v,
                        Ok(Err(e)) => return Err(src(e)),
                        Err(e) => return Err(Failure::Store(e)),
                    }
                };
                e.modified = match &t.shipped {
                    Some(Shipped::Md5(m)) => Some(*m != md5),
                    Some(Shipped::Sha256(s)) => Some(*s != sha),
                    None => None,
                };
                e.sha256 = Some(sha);
                e.size = Some(size);
                e
            }
        };
        e.package = t.package.clone();
        e.origin = Some(t.origin.to_owned());
        self.entries.insert(sys.to_vec(), e);
        Ok(())
    }
}

/// A reader with only `read`, so `read_to_end` is the generic loop.
struct PlainRead<'a>(&'a mut fs::File);

impl Read for PlainRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

/// The `packages` entry of a backup record.
pub fn saved_package(name: &str, version: Option<&str>, manager: &str) -> SavedPackage {
    SavedPackage {
        name: name.to_owned(),
        version: version.map(str::to_owned),
        manager: manager.to_owned(),
    }
}
