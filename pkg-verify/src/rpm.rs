//! What rpm says a package installed, and checking it as `rpm -V` does
//! (lib/verify.cc, `rpmfilesVerify` and `verifyHeader`).
//!
//! From each package header in rpm's database ([`common::rpm`]): the file
//! names (BASENAMES, DIRNAMES, DIRINDEXES), their FILESTATES, FILEMODES,
//! FILESIZES (LONGFILESIZES), FILEDIGESTS in FILEDIGESTALGO, FILELINKTOS,
//! FILEUSERNAME, FILEGROUPNAME, FILEFLAGS and FILEVERIFYFLAGS. A file is
//! then checked as rpm checks it:
//!
//! - files rpm did not install (state `not installed`, e.g. `%doc` under
//!   `--excludedocs`, or `net shared`) are not looked at; for a `replaced`
//!   one only its existence is checked;
//! - `lstat` fails: `missing`, unless the file is `%ghost` or
//!   `%missingok`;
//! - a directory that is a symlink to a directory of the same owner (or
//!   root's) counts as the directory;
//! - a symlink has no mode; anything but a symlink has no target; anything
//!   but a regular file has no digest, size or mtime; a `%ghost` file has
//!   no digest, size, mtime or target, and its type is not compared;
//! - what `%verify` (FILEVERIFYFLAGS) leaves out is not compared;
//! - the expected owner and group are the named user's and group's ids in
//!   the system's own passwd and group files (rpm -V --root chroots), root
//!   where the name is unknown (then the set-id bit is not expected), and
//!   `root` is always 0.
//!
//! rpm's `M` becomes `type` when the file type differs and `mode` when the
//! permission bits do; `5` `digest` (`unreadable` when the file cannot be
//! read), `S` `size`, `L` `link`, `U` `owner`, `G` `group`. The mtime (`T`),
//! device numbers (`D`), capabilities (`P`), ACLs and SELinux contexts are
//! not compared.

use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use md5::Md5;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

use common::names::Names;
use common::records::verify::Problem;
use common::rpm::{self, tag, Header};
use common::{Error, Result, Root};

use crate::check::{describe, real_path, Found};

// FILEFLAGS (rpmfileAttrs).
const FILE_CONFIG: u32 = 1 << 0;
const FILE_MISSINGOK: u32 = 1 << 3;
const FILE_GHOST: u32 = 1 << 6;
// FILEVERIFYFLAGS (rpmVerifyAttrs).
const V_DIGEST: u32 = 1 << 0;
const V_SIZE: u32 = 1 << 1;
const V_LINKTO: u32 = 1 << 2;
const V_USER: u32 = 1 << 3;
const V_GROUP: u32 = 1 << 4;
const V_MODE: u32 = 1 << 6;
// FILESTATES.
const STATE_REPLACED: u64 = 1;
const STATE_NOTINSTALLED: u64 = 2;
const STATE_NETSHARED: u64 = 3;
const STATE_WRONGCOLOR: u64 = 4;

const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;

/// One file a package installed, as its header describes it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Index of the package in [`Plan::packages`].
    pub pkg: u32,
    pub path: Vec<u8>,
    /// FILEFLAGS.
    pub flags: u32,
    /// FILEVERIFYFLAGS, already narrowed by the file's state.
    pub verify: u32,
    pub mode: u32,
    pub size: u64,
    /// Hex digest (empty: none recorded).
    pub digest: String,
    pub algo: u32,
    pub linkto: Vec<u8>,
    pub user: String,
    pub group: String,
    /// Expected ids (from the names; root where unknown).
    pub uid: u32,
    pub gid: u32,
}

impl Entry {
    /// A `%config` file.
    pub fn conffile(&self) -> bool {
        self.flags & FILE_CONFIG != 0
    }
}

/// Everything to check, package by package.
#[derive(Debug, Default)]
pub struct Plan {
    /// The package names as records show them: `NAME`, or `NAME:ARCH`
    /// when several packages of that name are installed.
    pub packages: Vec<String>,
    pub entries: Vec<Entry>,
}

/// One installed package: its header's row, name and arch.
struct Pkg {
    hnum: i64,
    blob: Vec<u8>,
    name: String,
    arch: Option<String>,
}

/// Read the packages of rpm's database under `root` (`wanted`: NAME or
/// NAME:ARCH, each required to be installed) into a plan; `None` when the
/// system has no rpm database.
pub fn plan(root: &Root, wanted: Option<&[String]>) -> Result<Option<Plan>> {
    let path = rpm::db_path(root);
    if !path.exists() {
        return Ok(None);
    }
    let mut pkgs = Vec::new();
    for (hnum, blob) in rpm::headers(&path, "pkg-verify")? {
        let h = Header::parse(&blob)
            .map_err(|e| rpm::damaged(&path, hnum, &format!("is damaged ({e})")))?;
        let Some(name) = h.string(tag::NAME) else {
            return Err(rpm::damaged(&path, hnum, "has no name"));
        };
        let arch = h.string(tag::ARCH);
        pkgs.push(Pkg {
            hnum,
            blob: Vec::new(),
            name,
            arch,
        });
        if let Some(p) = pkgs.last_mut() {
            p.blob = blob;
        }
    }
    let mut chosen: Vec<usize> = match wanted {
        None => (0..pkgs.len()).collect(),
        Some(w) => {
            let mut out = Vec::new();
            for w in w {
                let (name, arch) = match w.split_once(':') {
                    Some((n, a)) => (n, Some(a)),
                    None => (w.as_str(), None),
                };
                let hits: Vec<usize> = (0..pkgs.len())
                    .filter(|&i| {
                        pkgs[i].name == name
                            && arch.is_none_or(|a| pkgs[i].arch.as_deref() == Some(a))
                    })
                    .collect();
                if hits.is_empty() {
                    return Err(Error::new(format!(
                        "--package {w}: package is not installed (rpm -q {name} shows what rpm knows)"
                    )));
                }
                out.extend(hits);
            }
            out
        }
    };
    chosen.sort_unstable();
    chosen.dedup();
    let mut names = Names::new(root);
    let mut plan = Plan::default();
    for i in chosen {
        let p = &pkgs[i];
        let shown = if pkgs.iter().filter(|q| q.name == p.name).count() > 1 {
            format!("{}:{}", p.name, p.arch.as_deref().unwrap_or("none"))
        } else {
            p.name.clone()
        };
        let idx = u32::try_from(plan.packages.len()).unwrap_or(u32::MAX);
        plan.packages.push(shown);
        let h = Header::parse(&p.blob)
            .map_err(|e| rpm::damaged(&path, p.hnum, &format!("is damaged ({e})")))?;
        add_files(&h, idx, &mut names, &mut plan.entries)
            .map_err(|what| rpm::damaged(&path, p.hnum, &format!("({}): {what}", p.name)))?;
    }
    Ok(Some(plan))
}

/// The files of one header; the error says which tag does not fit.
fn add_files(
    h: &Header,
    pkg: u32,
    names: &mut Names,
    out: &mut Vec<Entry>,
) -> std::result::Result<(), String> {
    let Some(base) = h.strings(tag::BASENAMES) else {
        return if h.has(tag::BASENAMES) {
            Err("BASENAMES cannot be read".to_owned())
        } else {
            Ok(())
        };
    };
    let n = base.len();
    let need_strings = |t: u32, what: &str| -> std::result::Result<Vec<&[u8]>, String> {
        match h.strings(t) {
            Some(v) if v.len() == n => Ok(v),
            Some(v) => Err(format!("{what} has {} entries for {n} files", v.len())),
            None => Err(format!("no {what}")),
        }
    };
    let opt_ints = |t: u32, what: &str| -> std::result::Result<Option<Vec<u64>>, String> {
        match h.ints(t) {
            Some(v) if v.len() == n => Ok(Some(v)),
            Some(v) => Err(format!("{what} has {} entries for {n} files", v.len())),
            None if h.has(t) => Err(format!("{what} cannot be read")),
            None => Ok(None),
        }
    };
    let dirs = h.strings(tag::DIRNAMES).ok_or("no DIRNAMES")?;
    let dirindex = opt_ints(tag::DIRINDEXES, "DIRINDEXES")?.ok_or("no DIRINDEXES")?;
    let modes = opt_ints(tag::FILEMODES, "FILEMODES")?.ok_or("no FILEMODES")?;
    let sizes = match opt_ints(tag::LONGFILESIZES, "LONGFILESIZES")? {
        Some(s) => s,
        None => opt_ints(tag::FILESIZES, "FILESIZES")?.ok_or("no FILESIZES")?,
    };
    let flags = opt_ints(tag::FILEFLAGS, "FILEFLAGS")?;
    let vflags = opt_ints(tag::FILEVERIFYFLAGS, "FILEVERIFYFLAGS")?;
    let states = opt_ints(tag::FILESTATES, "FILESTATES")?;
    let digests = need_strings(tag::FILEDIGESTS, "FILEDIGESTS")?;
    let links = need_strings(tag::FILELINKTOS, "FILELINKTOS")?;
    let users = need_strings(tag::FILEUSERNAME, "FILEUSERNAME")?;
    let groups = need_strings(tag::FILEGROUPNAME, "FILEGROUPNAME")?;
    // PGPHASHALGO_MD5 when the tag is absent (rpmfiles.cc).
    let algo = h.int32(tag::FILEDIGESTALGO).unwrap_or(1);
    for i in 0..n {
        let d = usize::try_from(dirindex[i]).unwrap_or(usize::MAX);
        let dir = dirs
            .get(d)
            .ok_or_else(|| format!("DIRINDEXES points past DIRNAMES ({d})"))?;
        let mut path = dir.to_vec();
        path.extend_from_slice(base[i]);
        let fflags = flags.as_ref().map_or(0, |f| f[i] as u32);
        // rpmfilesVFlags: no FILEVERIFYFLAGS, nothing but existence.
        let mut verify = vflags.as_ref().map_or(0, |f| f[i] as u32);
        match states.as_ref().map(|s| s[i]) {
            Some(STATE_NOTINSTALLED | STATE_NETSHARED) => continue,
            Some(STATE_REPLACED) => verify = 0,
            Some(STATE_WRONGCOLOR) => verify &= !(V_DIGEST | V_SIZE),
            _ => {}
        }
        let user = String::from_utf8_lossy(users[i]).into_owned();
        let group = String::from_utf8_lossy(groups[i]).into_owned();
        let mut mode = modes[i] as u32;
        // rpmfilesStat: an unknown name is root, without the set-id bit;
        // rpmugUid: `root` is 0 whatever the passwd file says.
        let uid = (user == "root")
            .then_some(0)
            .or_else(|| names.uid_of(&user))
            .unwrap_or_else(|| {
                mode &= !0o4000;
                0
            });
        let gid = (group == "root")
            .then_some(0)
            .or_else(|| names.gid_of(&group))
            .unwrap_or_else(|| {
                mode &= !0o2000;
                0
            });
        let ft = mode & S_IFMT;
        out.push(Entry {
            pkg,
            path,
            flags: fflags,
            verify,
            mode,
            // Only regular files and symlinks have a size.
            size: if ft == S_IFREG || ft == S_IFLNK {
                sizes[i]
            } else {
                0
            },
            digest: String::from_utf8_lossy(digests[i]).to_ascii_lowercase(),
            algo,
            linkto: links[i].to_vec(),
            user,
            group,
            uid,
            gid,
        });
    }
    Ok(())
}

/// Check one file as `rpmfilesVerify` does, adding what is wrong.
pub fn check_one(
    root: &Root,
    idx: usize,
    e: &Entry,
    names: &mut Names,
    buf: &mut [u8],
    found: &mut Vec<Found>,
) {
    let real = real_path(root, &e.path);
    let mut push = |problem, expected: Option<String>, actual: Option<String>| {
        found.push(Found {
            entry: idx,
            problem,
            expected,
            actual,
        })
    };
    let mut meta = match std::fs::symlink_metadata(&real) {
        Ok(m) => m,
        Err(err) => {
            if e.flags & (FILE_MISSINGOK | FILE_GHOST) == 0 {
                let actual = (err.kind() != ErrorKind::NotFound).then(|| describe(&err));
                push(Problem::Missing, None, actual);
            }
            return;
        }
    };
    let ghost = e.flags & FILE_GHOST != 0;
    if e.mode & S_IFMT == S_IFDIR && meta.file_type().is_symlink() {
        if let Ok(d) = std::fs::metadata(&real) {
            if d.is_dir() && (meta.uid() == 0 || meta.uid() == d.uid()) {
                meta = d;
            }
        }
    }
    let mut flags = e.verify;
    let ft = meta.mode() & S_IFMT;
    if ft == S_IFLNK {
        flags &= !V_MODE;
    } else {
        flags &= !V_LINKTO;
    }
    if ft != S_IFREG {
        flags &= !(V_DIGEST | V_SIZE);
    }
    if ghost {
        flags &= !(V_DIGEST | V_SIZE | V_LINKTO);
    }
    if flags & V_DIGEST != 0 {
        match digest_of(&real, e.algo, buf) {
            Ok(Some(sum)) if !e.digest.is_empty() && sum == e.digest => {}
            Ok(Some(sum)) => push(Problem::Digest, Some(e.digest.clone()), Some(sum)),
            Ok(None) => push(
                Problem::Unreadable,
                Some(e.digest.clone()),
                Some(format!("digest algorithm {} is not supported", e.algo)),
            ),
            Err(err) => push(
                Problem::Unreadable,
                Some(e.digest.clone()),
                Some(describe(&err)),
            ),
        }
    }
    if flags & V_LINKTO != 0 {
        let want = String::from_utf8_lossy(&e.linkto).into_owned();
        match std::fs::read_link(&real) {
            Ok(t) if t.as_os_str().as_bytes() == e.linkto.as_slice() => {}
            Ok(t) => push(
                Problem::Link,
                Some(want),
                Some(String::from_utf8_lossy(t.as_os_str().as_bytes()).into_owned()),
            ),
            Err(err) => push(Problem::Link, Some(want), Some(describe(&err))),
        }
    }
    if flags & V_SIZE != 0 && meta.size() != e.size {
        push(
            Problem::Size,
            Some(e.size.to_string()),
            Some(meta.size().to_string()),
        );
    }
    if flags & V_MODE != 0 {
        let (want, have) = if ghost {
            (e.mode & !S_IFMT, meta.mode() & !S_IFMT)
        } else {
            (e.mode, meta.mode())
        };
        if want & S_IFMT != have & S_IFMT {
            push(
                Problem::Type,
                Some(type_word(want).to_owned()),
                Some(type_word(have).to_owned()),
            );
        } else if want != have {
            push(
                Problem::Mode,
                Some(format!("{:04o}", want & 0o7777)),
                Some(format!("{:04o}", have & 0o7777)),
            );
        }
    }
    if flags & V_USER != 0 && meta.uid() != e.uid {
        let have = names
            .user(meta.uid())
            .unwrap_or_else(|| meta.uid().to_string());
        push(Problem::Owner, Some(e.user.clone()), Some(have));
    }
    if flags & V_GROUP != 0 && meta.gid() != e.gid {
        let have = names
            .group(meta.gid())
            .unwrap_or_else(|| meta.gid().to_string());
        push(Problem::Group, Some(e.group.clone()), Some(have));
    }
}

/// The word for the type bits of a mode.
fn type_word(mode: u32) -> &'static str {
    match mode & S_IFMT {
        S_IFREG => "file",
        S_IFDIR => "directory",
        S_IFLNK => "symlink",
        0o010000 => "fifo",
        0o140000 => "socket",
        0o020000 => "char-device",
        0o060000 => "block-device",
        _ => "unknown",
    }
}

/// A file's digest in rpm's algorithm `algo` (PGPHASHALGO: 1 MD5, 8
/// SHA-256, 9 SHA-384, 10 SHA-512, 11 SHA-224), lower-case hex; `None` for
/// an algorithm not computed here.
pub fn digest_of(path: &Path, algo: u32, buf: &mut [u8]) -> std::io::Result<Option<String>> {
    fn run<D: Digest>(path: &Path, buf: &mut [u8]) -> std::io::Result<Option<String>> {
        crate::check::digest_file::<D>(path, buf).map(Some)
    }
    match algo {
        1 => run::<Md5>(path, buf),
        8 => run::<Sha256>(path, buf),
        9 => run::<Sha384>(path, buf),
        10 => run::<Sha512>(path, buf),
        11 => run::<Sha224>(path, buf),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_in_rpm_algorithms() {
        let p = std::env::temp_dir().join(format!("pkgv-rpmdig-{}", std::process::id()));
        let _ = std::fs::write(&p, "abc");
        let mut buf = vec![0; 2];
        let md5 = digest_of(&p, 1, &mut buf).ok().flatten();
        let sha = digest_of(&p, 8, &mut buf).ok().flatten();
        let sha1 = digest_of(&p, 2, &mut buf).ok().flatten();
        let _ = std::fs::remove_file(&p);
        assert_eq!(md5.as_deref(), Some("900150983cd24fb0d6963f7d28e17f72"));
        assert_eq!(
            sha.as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(sha1, None);
    }

    #[test]
    fn type_words() {
        assert_eq!(type_word(0o100644), "file");
        assert_eq!(type_word(0o040755), "directory");
        assert_eq!(type_word(0o120777), "symlink");
    }
}
