//! Kernel parameters: the running values under /proc/sys, named and read
//! as procps' `sysctl -a` names and reads them, and the values the next
//! boot applies from sysctl.d, in systemd-sysctl's order.
//!
//! Naming (procps `src/sysctl.c`, `slashdot`): the path below /proc/sys
//! with every `/` turned into `.` and every `.` into `/`, so the VLAN
//! interface `eth0.100` is `net.ipv4.conf.eth0/100.rp_filter`. Like
//! `sysctl -a`, entries without the owner's read bit (`vm.compact_memory`),
//! the deprecated `base_reachable_time` and `retrans_time` duplicates of
//! their `_ms` twins, and `vm.stat_refresh` (reading it refreshes the
//! counters) are left out, and so is an entry whose read fails
//! (`stable_secret` before one is set reads EIO).
//!
//! The value is the file as read, without its final newline; a file of
//! several lines (`dev.cdrom.info`) keeps them, where `sysctl -a` prints one
//! `name = line` per line. Fields are kept as the kernel writes them, tabs
//! included (`fs.file-nr = 2167\t0\t2466255`).
//!
//! Configured values (sysctl.d(5), systemd `src/sysctl/sysctl.c`): every
//! `*.conf` in /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d,
//! /usr/lib/sysctl.d and /lib/sysctl.d; a name in an earlier directory hides
//! the same name in a later one, a link to /dev/null masks it; the files are
//! read in the order of their names and a later assignment overrides an
//! earlier one. A key may be written with dots or slashes, prefixed by `-`
//! (failure ignored), be a glob (`net.ipv4.conf.*.rp_filter`) that applies
//! to every matching key without an explicit assignment of its own; a
//! line `-key` without `=` keeps such globs off the key. systemd-sysctl does not read
//! /etc/sysctl.conf itself (Debian links it in as
//! /etc/sysctl.d/99-sysctl.conf); where systemd-sysctl is not installed,
//! procps' `sysctl --system` applies the same directories and then
//! /etc/sysctl.conf last, and so is it read here.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use common::bytes::{bytes_value, path_value};
use common::records::setting::{Detail, Setting};
use common::{Error, Result, Root};

/// The sysctl.d directories, highest precedence first.
pub const DIRS: [&str; 5] = [
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
];

/// Read last by procps' `sysctl --system` (not by systemd-sysctl).
pub const SYSCTL_CONF: &str = "/etc/sysctl.conf";

/// Where systemd-sysctl lives; its presence decides whose order applies.
const SYSTEMD_SYSCTL: [&str; 2] = [
    "/usr/lib/systemd/systemd-sysctl",
    "/lib/systemd/systemd-sysctl",
];

/// Statistics the kernel keeps under /proc/sys that change by themselves
/// from one read to the next: no one sets them, and a snapshot diff would
/// report them as changed every time. Left out unless `--counters`.
/// A name ending in `.` stands for everything below it.
pub const COUNTERS: [&str; 12] = [
    "fs.aio-nr",
    "fs.dentry-state",
    "fs.file-nr",
    "fs.inode-nr",
    "fs.inode-state",
    "fs.quota.",
    "kernel.ns_last_pid",
    "kernel.pty.nr",
    "kernel.random.boot_id",
    "kernel.random.entropy_avail",
    "kernel.random.uuid",
    "net.netfilter.nf_conntrack_count",
];

/// True for a name in [`COUNTERS`].
pub fn is_counter(name: &[u8]) -> bool {
    COUNTERS.iter().any(|c| {
        let c = c.as_bytes();
        if c.ends_with(b".") {
            name.starts_with(c)
        } else {
            name == c
        }
    })
}

/// Swap `.` and `/`: a path below /proc/sys to its sysctl name and back.
pub fn swap_separators(s: &[u8]) -> Vec<u8> {
    s.iter()
        .map(|&c| match c {
            b'.' => b'/',
            b'/' => b'.',
            c => c,
        })
        .collect()
}

/// A key as written in a configuration file, as a sysctl name: a key whose
/// first separator is `/` is a path already (systemd's `sysctl_normalize`,
/// procps' `slashdot`), one whose first separator is `.` is a name.
pub fn normalize_key(key: &[u8]) -> Vec<u8> {
    match key.iter().find(|&&c| c == b'.' || c == b'/') {
        Some(b'/') => swap_separators(key),
        _ => key.to_vec(),
    }
}

/// One running value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub name: Vec<u8>,
    pub value: Vec<u8>,
}

/// Read every value below `dir` (the live /proc/sys, or DIR/proc/sys),
/// sorted by name.
pub fn read_running(dir: &Path, counters: bool) -> Vec<Running> {
    let mut out = Vec::new();
    let mut buf = Vec::with_capacity(4096);
    walk(dir, &mut Vec::new(), counters, &mut buf, &mut out);
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn walk(dir: &Path, rel: &mut Vec<u8>, counters: bool, buf: &mut Vec<u8>, out: &mut Vec<Running>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let fname = e.file_name();
        let fb = fname.as_bytes();
        if fb == b"base_reachable_time" || fb == b"retrans_time" || fb == b"stat_refresh" {
            continue;
        }
        let path = e.path();
        // stat, not lstat: procps follows links, and /proc/sys has none.
        let Ok(md) = std::fs::metadata(&path) else {
            continue;
        };
        let len = rel.len();
        if !rel.is_empty() {
            rel.push(b'/');
        }
        rel.extend_from_slice(fb);
        if md.is_dir() {
            walk(&path, rel, counters, buf, out);
        } else if md.permissions().mode() & 0o400 != 0 {
            let name = swap_separators(rel);
            if counters || !is_counter(&name) {
                buf.clear();
                if read_into(&path, buf).is_ok() {
                    let mut v = buf.as_slice();
                    if let Some(s) = v.strip_suffix(b"\n") {
                        v = s;
                    }
                    out.push(Running {
                        name,
                        value: v.to_vec(),
                    });
                }
            }
        }
        rel.truncate(len);
    }
}

fn read_into(path: &Path, buf: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    f.read_to_end(buf)?;
    Ok(())
}

/// One assignment of a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The sysctl name (dots), or a glob over names.
    pub key: Vec<u8>,
    pub value: String,
    /// The system path of the file and the line (1-based).
    pub file: PathBuf,
    pub line: u64,
    /// `-key`: a failure to set it is ignored.
    pub ignore_failure: bool,
}

impl Assignment {
    fn is_glob(&self) -> bool {
        is_glob(&self.key)
    }
}

fn is_glob(k: &[u8]) -> bool {
    k.iter().any(|c| matches!(c, b'*' | b'?' | b'['))
}

/// The configuration the next boot applies.
#[derive(Debug, Default)]
pub struct Configured {
    /// Assignments in the order they are applied; a key assigned again
    /// keeps its first place and takes the later value (systemd's ordered
    /// hash map).
    pub assignments: Vec<Assignment>,
    index: HashMap<Vec<u8>, usize>,
    /// `-key` lines without a value: globs do not apply to these keys.
    pub excluded: Vec<Vec<u8>>,
    /// The files read, in order (system paths).
    pub files: Vec<PathBuf>,
}

impl Configured {
    /// Read the sysctl.d files (and /etc/sysctl.conf where procps applies
    /// it) of the system under `root`. A file that cannot be read is
    /// trouble: the configured values would be wrong.
    pub fn read(root: &Root) -> Result<Configured> {
        let mut by_name: BTreeMap<OsString, PathBuf> = BTreeMap::new();
        for dir in DIRS {
            let real = root.path(dir);
            let rd = match std::fs::read_dir(&real) {
                Ok(rd) => rd,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                // ENOTDIR: a file where the directory would be.
                Err(e) if e.raw_os_error() == Some(nix::libc::ENOTDIR) => continue,
                Err(e) => return Err(Error::io(&real, &e)),
            };
            for e in rd {
                let e = e.map_err(|e| Error::io(&real, &e))?;
                let name = e.file_name();
                if !name.as_bytes().ends_with(b".conf") {
                    continue;
                }
                by_name
                    .entry(name.clone())
                    .or_insert_with(|| Path::new(dir).join(&name));
            }
        }
        let mut files: Vec<PathBuf> = Vec::new();
        for sys in by_name.into_values() {
            // A link to /dev/null masks the name.
            match root.resolve(&sys) {
                Some(t) if t == Path::new("/dev/null") => continue,
                _ => files.push(sys),
            }
        }
        let systemd = SYSTEMD_SYSCTL.iter().any(|p| root.path(p).exists());
        if !systemd && root.path(SYSCTL_CONF).is_file() {
            files.push(PathBuf::from(SYSCTL_CONF));
        }
        let mut c = Configured::default();
        for f in files {
            let real = root
                .resolve(&f)
                .map_or_else(|| root.path(&f), |t| root.path(t));
            let data = match std::fs::read(&real) {
                Ok(d) => d,
                // A dangling link: systemd skips it too.
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) if e.raw_os_error() == Some(nix::libc::EISDIR) => continue,
                Err(e) => {
                    return Err(Error::io(&real, &e)
                        .context("cannot read the configured kernel parameters"))
                }
            };
            c.parse(&data, &f);
            c.files.push(f);
        }
        Ok(c)
    }

    /// Take in one file's lines (systemd's `parse_file`): blank lines and
    /// `#`/`;` comments are skipped, and so is a line without `=`, as
    /// systemd-sysctl skips it with a warning.
    pub fn parse(&mut self, data: &[u8], file: &Path) {
        for (i, line) in data.split(|&c| c == b'\n').enumerate() {
            let l = line.trim_ascii();
            if l.is_empty() || l[0] == b'#' || l[0] == b';' {
                continue;
            }
            let Some(eq) = l.iter().position(|&c| c == b'=') else {
                // `-key` without a value keeps globs off the key.
                if let Some(k) = l.strip_prefix(b"-") {
                    let k = normalize_key(k.trim_ascii());
                    if !k.is_empty() && !self.excluded.contains(&k) {
                        self.excluded.push(k);
                    }
                }
                continue;
            };
            let mut key = l[..eq].trim_ascii();
            let value = l[eq + 1..].trim_ascii();
            let mut ignore_failure = false;
            if let Some(k) = key.strip_prefix(b"-") {
                ignore_failure = true;
                key = k.trim_ascii();
            }
            if key.is_empty() {
                continue;
            }
            let a = Assignment {
                key: normalize_key(key),
                value: String::from_utf8_lossy(value).into_owned(),
                file: file.to_path_buf(),
                line: i as u64 + 1,
                ignore_failure,
            };
            match self.index.get(&a.key) {
                Some(&at) => self.assignments[at] = a,
                None => {
                    self.index.insert(a.key.clone(), self.assignments.len());
                    self.assignments.push(a);
                }
            }
        }
    }

    /// The assignment that sets `name` at boot: its own, else the last
    /// glob that matches it, unless a `-key` line keeps globs off it.
    pub fn for_name(&self, name: &[u8]) -> Option<&Assignment> {
        if let Some(&i) = self.index.get(name) {
            return self.assignments.get(i);
        }
        let path = swap_separators(name);
        if self
            .excluded
            .iter()
            .any(|x| glob_match(&swap_separators(x), &path))
        {
            return None;
        }
        self.assignments
            .iter()
            .rev()
            .find(|a| a.is_glob() && glob_match(&swap_separators(&a.key), &path))
    }
}

/// `fnmatch` with `FNM_PATHNAME` over path forms: `*` and `?` never match
/// `/`, as glob(3) over /proc/sys expands them (systemd applies a glob
/// key that way). `[...]` with ranges and `!`/`^` negation.
pub fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pat.len() {
            match pat[p] {
                b'*' => {
                    star = Some((p, i));
                    p += 1;
                    continue;
                }
                b'?' if s[i] != b'/' => {
                    p += 1;
                    i += 1;
                    continue;
                }
                b'[' => {
                    if let Some((ok, next)) = class(&pat[p..], s[i]) {
                        if ok && s[i] != b'/' {
                            p += next;
                            i += 1;
                            continue;
                        }
                    } else if s[i] == b'[' {
                        p += 1;
                        i += 1;
                        continue;
                    }
                }
                c if c == s[i] && c != b'?' => {
                    p += 1;
                    i += 1;
                    continue;
                }
                _ => {}
            }
        }
        // Backtrack: let the last star take one more byte, never a `/`.
        match star {
            Some((sp, si)) if s[si] != b'/' => {
                star = Some((sp, si + 1));
                p = sp + 1;
                i = si + 1;
            }
            _ => return false,
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

/// A bracket expression at the start of `pat`: whether `c` matches it and
/// its length, or `None` when it is not closed.
fn class(pat: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut j = 1;
    let neg = matches!(pat.get(j), Some(b'!' | b'^'));
    if neg {
        j += 1;
    }
    let mut ok = false;
    let mut first = true;
    while j < pat.len() {
        let x = pat[j];
        if x == b']' && !first {
            return Some((ok != neg, j + 1));
        }
        first = false;
        if pat.get(j + 1) == Some(&b'-') && pat.get(j + 2).is_some_and(|&e| e != b']') {
            let hi = pat[j + 2];
            if (x..=hi).contains(&c) {
                ok = true;
            }
            j += 3;
        } else {
            if x == c {
                ok = true;
            }
            j += 1;
        }
    }
    None
}

/// Two values agree when their blank-separated fields do (the kernel
/// writes tabs where a configuration file has spaces).
pub fn same_value(running: &[u8], configured: &str) -> bool {
    running
        .split(u8::is_ascii_whitespace)
        .filter(|f| !f.is_empty())
        .eq(configured
            .as_bytes()
            .split(u8::is_ascii_whitespace)
            .filter(|f| !f.is_empty()))
}

/// The `sysctl` settings of the system under `root`.
///
/// Running values come from /proc/sys (DIR/proc/sys under `--root`, where
/// a mounted system has none: then every configured key is written with a
/// null value and says why). A configured key that /proc/sys lacks (a
/// module not loaded) is written too, with a null value.
pub fn settings(root: &Root, host: &Option<String>, counters: bool) -> Result<Vec<Setting>> {
    let conf = Configured::read(root)?;
    let proc_sys = root.path("/proc/sys");
    let running = read_running(&proc_sys, counters);
    let live_values = !running.is_empty();
    let mut out = Vec::with_capacity(running.len() + 8);
    let mut seen: std::collections::HashSet<&[u8]> = std::collections::HashSet::new();
    for r in &running {
        seen.insert(&r.name);
        let a = conf.for_name(&r.name);
        out.push(Setting::new(
            host.clone(),
            bytes_value(&r.name),
            bytes_value(&r.value),
            detail(a, Some(&r.value)),
        ));
    }
    let missing_reason = if live_values {
        "no such key in /proc/sys (a module not loaded, or a name the kernel does not have)"
    } else if root.is_live() {
        "/proc/sys cannot be read"
    } else {
        "the running value needs a live system (--root DIR has no DIR/proc/sys)"
    };
    let mut extra: Vec<Setting> = Vec::new();
    for a in &conf.assignments {
        // With running values at hand a glob is shown through the keys it
        // matches; without them, as itself.
        if seen.contains(a.key.as_slice()) || (live_values && a.is_glob()) {
            continue;
        }
        if !counters && is_counter(&a.key) {
            continue;
        }
        extra.push(
            Setting::new(
                host.clone(),
                bytes_value(&a.key),
                Value::Null,
                detail(Some(a), None),
            )
            .because(missing_reason),
        );
    }
    out.extend(extra);
    out.sort_by_key(|s| name_bytes(&s.name));
    Ok(out)
}

fn name_bytes(v: &Value) -> Vec<u8> {
    common::bytes::value_bytes(v).unwrap_or_default()
}

fn detail(a: Option<&Assignment>, running: Option<&[u8]>) -> Detail {
    Detail::Sysctl {
        configured: a.map(|a| a.value.clone()),
        configured_file: a.map(|a| path_value(&a.file)),
        configured_line: a.map(|a| a.line),
        differs: match (a, running) {
            (Some(a), Some(r)) => Some(!same_value(r, &a.value)),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_swap_dots_and_slashes_like_procps() {
        assert_eq!(
            swap_separators(b"net/ipv4/conf/eth0.100/rp_filter"),
            b"net.ipv4.conf.eth0/100.rp_filter"
        );
        assert_eq!(
            normalize_key(b"net/ipv4/ip_forward"),
            b"net.ipv4.ip_forward"
        );
        assert_eq!(
            normalize_key(b"net.ipv4.ip_forward"),
            b"net.ipv4.ip_forward"
        );
        assert_eq!(
            normalize_key(b"net/ipv4/conf/eth0.100/rp_filter"),
            b"net.ipv4.conf.eth0/100.rp_filter"
        );
    }

    #[test]
    fn globs_do_not_cross_separators() {
        assert!(glob_match(
            b"net/ipv4/conf/*/rp_filter",
            b"net/ipv4/conf/all/rp_filter"
        ));
        assert!(!glob_match(
            b"net/ipv4/conf/*",
            b"net/ipv4/conf/all/rp_filter"
        ));
        assert!(glob_match(
            b"net/ipv4/conf/eth[0-9]/rp_filter",
            b"net/ipv4/conf/eth3/rp_filter"
        ));
        assert!(!glob_match(
            b"net/ipv4/conf/eth[!0-9]/x",
            b"net/ipv4/conf/eth3/x"
        ));
        assert!(glob_match(b"kernel/?rintk", b"kernel/printk"));
        assert!(glob_match(b"a*c*e", b"abcde"));
        assert!(!glob_match(b"a*c", b"abcd"));
    }

    #[test]
    fn later_files_override_and_globs_yield_to_explicit_keys() {
        let mut c = Configured::default();
        c.parse(
            b"# comment\n; also\n\nnet.ipv4.ip_forward = 0\nnet/ipv4/conf/*/rp_filter=2\n-kernel.kptr_restrict = 1\nnot an assignment\n",
            Path::new("/usr/lib/sysctl.d/10-a.conf"),
        );
        c.parse(
            b"net.ipv4.ip_forward=1\nnet.ipv4.conf.lo.rp_filter = 0\n-net.ipv4.conf.eth0.rp_filter\nkernel.printk = 4 4 1 7\n",
            Path::new("/etc/sysctl.d/20-b.conf"),
        );
        let f = c.for_name(b"net.ipv4.ip_forward").expect("set");
        assert_eq!((f.value.as_str(), f.line), ("1", 1));
        assert_eq!(f.file, Path::new("/etc/sysctl.d/20-b.conf"));
        // The first place is kept.
        assert_eq!(c.assignments[0].key, b"net.ipv4.ip_forward");
        assert_eq!(
            c.for_name(b"net.ipv4.conf.all.rp_filter")
                .map(|a| a.value.as_str()),
            Some("2")
        );
        assert_eq!(
            c.for_name(b"net.ipv4.conf.lo.rp_filter")
                .map(|a| a.value.as_str()),
            Some("0")
        );
        assert_eq!(c.for_name(b"net.ipv4.conf.eth0.rp_filter"), None);
        let k = c.for_name(b"kernel.kptr_restrict").expect("set");
        assert!(k.ignore_failure);
        assert_eq!(c.for_name(b"vm.swappiness"), None);
        assert!(same_value(b"4\t4\t1\t7", "4 4 1 7"));
        assert!(!same_value(b"4\t4\t1\t7", "4 4 1"));
    }

    #[test]
    fn counters_are_named() {
        assert!(is_counter(b"fs.file-nr"));
        assert!(is_counter(b"fs.quota.syncs"));
        assert!(!is_counter(b"fs.file-max"));
    }
}
