//! Parsers for the /proc files ps-snap reads, on raw bytes.
//!
//! They work on the bytes the kernel wrote, without allocating, so that a
//! snapshot of thousands of processes stays cheaper than `ps -ef`, and so that
//! names that are not UTF-8 (comm, argv, mapped paths) survive byte for byte.
//! procfs's own `Stat` replaces invalid UTF-8 in comm, which a lossless
//! snapshot cannot accept.

use memchr::{memchr, memmem, memrchr};

/// `PF_KTHREAD` in the `flags` field of /proc/PID/stat (include/linux/sched.h).
pub const PF_KTHREAD: u32 = 0x0020_0000;

/// The fields of /proc/PID/stat that ps-snap uses (proc_pid_stat(5)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat<'a> {
    pub comm: &'a [u8],
    pub state: u8,
    pub ppid: i64,
    pub tty_nr: i64,
    pub flags: u32,
    pub utime: u64,
    pub stime: u64,
    pub nice: i64,
    pub threads: i64,
    pub starttime: u64,
    pub vsize: u64,
    pub rss_pages: i64,
}

/// Parse /proc/PID/stat. comm may hold spaces and parentheses, so it runs
/// from the first `(` to the LAST `)`; the numeric fields follow.
pub fn stat(buf: &[u8]) -> Option<Stat<'_>> {
    let open = memchr(b'(', buf)?;
    let close = memrchr(b')', buf)?;
    if close < open {
        return None;
    }
    let comm = &buf[open + 1..close];
    let rest = buf.get(close + 1..)?;
    let mut f = rest
        .split(|&b| b == b' ' || b == b'\n')
        .filter(|s| !s.is_empty());
    let state_field = f.next()?;
    let state = *state_field.first()?;
    // Fields after state, numbered from 0 = ppid (field 4 of proc_pid_stat(5)).
    let mut vals = [0i128; 22];
    for v in vals.iter_mut() {
        *v = num(f.next()?)?;
    }
    Some(Stat {
        comm,
        state,
        ppid: i64::try_from(vals[0]).ok()?,
        tty_nr: i64::try_from(vals[3]).ok()?,
        flags: u32::try_from(vals[5]).ok()?,
        utime: u64::try_from(vals[10]).ok()?,
        stime: u64::try_from(vals[11]).ok()?,
        nice: i64::try_from(vals[15]).ok()?,
        threads: i64::try_from(vals[16]).ok()?,
        starttime: u64::try_from(vals[18]).ok()?,
        vsize: u64::try_from(vals[19]).ok()?,
        rss_pages: i64::try_from(vals[20]).ok()?,
    })
}

/// A decimal integer with an optional sign.
fn num(s: &[u8]) -> Option<i128> {
    let (neg, digits) = match s.split_first()? {
        (b'-', d) => (true, d),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 30 {
        return None;
    }
    let mut n: i128 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i128::from(c - b'0');
    }
    Some(if neg { -n } else { n })
}

/// Real and effective ids from /proc/PID/status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    pub real_uid: u32,
    pub uid: u32,
    pub real_gid: u32,
    pub gid: u32,
}

/// The `Uid:` and `Gid:` lines of /proc/PID/status (real, effective, saved,
/// filesystem).
pub fn status_ids(buf: &[u8]) -> Option<Ids> {
    let (real_uid, uid) = id_pair(buf, b"\nUid:")?;
    let (real_gid, gid) = id_pair(buf, b"\nGid:")?;
    Some(Ids {
        real_uid,
        uid,
        real_gid,
        gid,
    })
}

/// The `Tgid:` of /proc/PID/status: the process a task belongs to. It
/// differs from PID for a thread, whose /proc/TID directory exists (and
/// answers `-p TID`) although /proc does not list it.
pub fn status_tgid(buf: &[u8]) -> Option<u32> {
    let key = b"\nTgid:";
    let at = memmem::find(buf, key)? + key.len();
    let line = &buf[at..];
    let line = &line[..memchr(b'\n', line).unwrap_or(line.len())];
    u32::try_from(num(line.trim_ascii())?).ok()
}

fn id_pair(buf: &[u8], key: &[u8]) -> Option<(u32, u32)> {
    let at = memmem::find(buf, key)? + key.len();
    let line = &buf[at..];
    let line = &line[..memchr(b'\n', line).unwrap_or(line.len())];
    let mut f = line
        .split(|&b| b == b'\t' || b == b' ')
        .filter(|s| !s.is_empty());
    let real = u32::try_from(num(f.next()?)?).ok()?;
    let eff = u32::try_from(num(f.next()?)?).ok()?;
    Some((real, eff))
}

/// The arguments of /proc/PID/cmdline: NUL-separated, with trailing empty
/// arguments dropped (the NUL padding setproctitle leaves, as ps drops it).
/// Empty arguments in the middle are real (`prog "" x`) and stay.
pub fn cmdline(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut end = buf.len();
    while end > 0 && buf[end - 1] == 0 {
        end -= 1;
    }
    let body = &buf[..end];
    let none = body.is_empty();
    body.split(|&b| b == 0).filter(move |_| !none)
}

/// The cgroup path systemd tracks a process by: the `name=systemd` hierarchy
/// on cgroup v1 and hybrid systems, else the unified `0::` line.
pub fn cgroup_path(buf: &[u8]) -> Option<&[u8]> {
    let mut unified = None;
    for line in buf.split(|&b| b == b'\n') {
        // "ID:CONTROLLERS:PATH"; PATH itself may contain ':'.
        let Some(c1) = memchr(b':', line) else {
            continue;
        };
        let Some(c2) = memchr(b':', &line[c1 + 1..]).map(|i| i + c1 + 1) else {
            continue;
        };
        let (id, ctrl, path) = (&line[..c1], &line[c1 + 1..c2], &line[c2 + 1..]);
        if ctrl == b"name=systemd" {
            return Some(path);
        }
        if id == b"0" && ctrl.is_empty() {
            unified = Some(path);
        }
    }
    unified
}

/// Unit types a cgroup component can name (slices only group others).
const UNIT_SUFFIXES: [&[u8]; 8] = [
    b".service",
    b".scope",
    b".socket",
    b".mount",
    b".swap",
    b".timer",
    b".path",
    b".target",
];

/// The systemd unit a cgroup path names: its last component that is a unit
/// other than a slice (`/system.slice/ssh.service` -> `ssh.service`,
/// `/user.slice/user-1000.slice/session-3.scope` -> `session-3.scope`,
/// `/system.slice/foo.service/payload` -> `foo.service`). Processes of a user
/// manager get the user unit (`.../user@1000.service/app.slice/x.service`
/// -> `x.service`).
pub fn unit(cgroup: &[u8]) -> Option<&[u8]> {
    cgroup.rsplit(|&b| b == b'/').find(|c| {
        UNIT_SUFFIXES
            .iter()
            .any(|s| c.len() > s.len() && c.ends_with(s))
    })
}

/// What the kernel appends to the path of an unlinked file.
pub const DELETED: &[u8] = b" (deleted)";

/// Strip the kernel's ` (deleted)` suffix: `(path, was_deleted)`.
pub fn strip_deleted(p: &[u8]) -> (&[u8], bool) {
    match p.strip_suffix(DELETED) {
        Some(s) => (s, true),
        None => (p, false),
    }
}

/// The executable link's path without the kernel's suffix, and whether the
/// file on disk was replaced or removed. A program started from a memfd
/// (runc, sandboxes, self-re-executing agents) always carries the suffix,
/// but it never had a file on disk for a patch to replace: not deleted.
pub fn exe_link(p: &[u8]) -> (&[u8], bool) {
    let (path, deleted) = strip_deleted(p);
    (path, deleted && !path.starts_with(b"/memfd:"))
}

/// A file mapped with execute permission: code the process runs, as one
/// line of /proc/PID/maps names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeMap<'a> {
    /// The path without the kernel's ` (deleted)` suffix.
    pub path: &'a [u8],
    /// The kernel appended ` (deleted)`: the name was unlinked.
    pub deleted: bool,
    /// The device (`major:minor`, hexadecimal in the file) and inode of the
    /// mapped file.
    pub major: u32,
    pub minor: u32,
    pub inode: u64,
}

/// Every file mapped with execute permission, from /proc/PID/maps text,
/// pushed onto `out` in file order (a library has several lines; usually
/// one of them executable). What is mapped without `x` (data files, fonts,
/// the locale archive, shared memory) is no code and is left out, wherever
/// it lives; so are the special mappings that are no file on disk (memfd,
/// System V shm, devices, DRM buffers, aio rings, hugepages) and anonymous
/// memory. A line is `addr perms offset dev inode   path` (proc_pid_maps(5));
/// the permission field comes first after the address, so most lines are
/// passed over after one search for the end of their address.
pub fn code_maps<'a>(maps: &'a [u8], out: &mut Vec<CodeMap<'a>>) {
    let mut rest = maps;
    while !rest.is_empty() {
        let end = memchr(b'\n', rest).unwrap_or(rest.len());
        let line = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or_default();
        // "addr perms": the execute bit is the third of the four letters.
        let Some(sp) = memchr(b' ', line) else {
            continue;
        };
        if line.get(sp + 3) != Some(&b'x') {
            continue;
        }
        if let Some(m) = code_map(line) {
            out.push(m);
        }
    }
}

/// The fields of one executable maps line; `None` for a mapping that is
/// no file on disk.
fn code_map(line: &[u8]) -> Option<CodeMap<'_>> {
    let mut f = [&b""[..]; 5];
    let mut rest = line;
    for slot in f.iter_mut() {
        let skip = rest.iter().position(|&b| b != b' ')?;
        rest = &rest[skip..];
        let sp = memchr(b' ', rest).unwrap_or(rest.len());
        *slot = &rest[..sp];
        rest = &rest[sp..];
    }
    let skip = rest.iter().position(|&b| b != b' ')?;
    let raw = &rest[skip..];
    if raw.first() != Some(&b'/') {
        return None;
    }
    let (path, deleted) = strip_deleted(raw);
    if is_special(path) {
        return None;
    }
    let c = memchr(b':', f[3])?;
    let major = u32::from_str_radix(std::str::from_utf8(&f[3][..c]).ok()?, 16).ok()?;
    let minor = u32::from_str_radix(std::str::from_utf8(&f[3][c + 1..]).ok()?, 16).ok()?;
    let inode = u64::try_from(num(f[4])?).ok()?;
    if inode == 0 {
        return None;
    }
    Some(CodeMap {
        path,
        deleted,
        major,
        minor,
        inode,
    })
}

/// Mappings the kernel names like files but that are none on disk: no
/// package installed them and no patch can replace them. Temporary
/// directories are not among them: code run from /tmp or /dev/shm is code.
fn is_special(path: &[u8]) -> bool {
    const PREFIXES: [&[u8]; 8] = [
        b"/memfd:",
        b"/SYSV",
        b"/dev/zero",
        b"/drm",
        b"/i915",
        b"/[aio]",
        b"/anon_hugepage",
        b"/proc/",
    ];
    if PREFIXES.iter().any(|p| path.starts_with(p)) {
        return true;
    }
    // Device nodes (a GPU's /dev/dri/card0, /dev/nvidia0); /dev/shm is a
    // directory anyone may write code to, and stays.
    path.starts_with(b"/dev/") && !path.starts_with(b"/dev/shm/")
}

/// The interpreters whose script file ps-snap checks, by the name of the
/// interpreter's executable: `python` (python, python2, python3,
/// python3.11, ...), `perl` (perl, perl5.36.0), `ruby` (ruby, ruby3.1),
/// and the shells `sh`, `bash`, `dash`, `zsh`, `ksh`, `mksh`. Returns the
/// family name the record gives.
pub fn interpreter(exe: &[u8]) -> Option<&'static str> {
    let name = exe.rsplit(|&b| b == b'/').next()?;
    let versioned = |base: &[u8]| {
        name.strip_prefix(base)
            .is_some_and(|v| v.iter().all(|&c| c.is_ascii_digit() || c == b'.'))
    };
    if versioned(b"python") {
        return Some("python");
    }
    if versioned(b"perl") {
        return Some("perl");
    }
    if versioned(b"ruby") {
        return Some("ruby");
    }
    const SHELLS: [(&[u8], &str); 6] = [
        (b"sh", "sh"),
        (b"bash", "bash"),
        (b"dash", "dash"),
        (b"zsh", "zsh"),
        (b"ksh", "ksh"),
        (b"mksh", "mksh"),
    ];
    SHELLS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// The script an interpreter runs: the first argument after its options,
/// `None` when it runs code from the command line (`-c`, `-e`, `-m`) or
/// standard input (`-`, `-s`, no argument). Options that take a separate
/// argument are skipped with it (python's `-W`, `-X`; perl's and ruby's
/// `-I`, ruby's `-r`, `-C`; a shell's `-o`, `+o`).
pub fn script_arg<'a>(family: &str, argv: &[&'a [u8]]) -> Option<&'a [u8]> {
    let (inline, with_arg): (&[&[u8]], &[&[u8]]) = match family {
        "python" => (&[b"-c", b"-m"], &[b"-W", b"-X", b"-Q"]),
        "perl" => (&[b"-e", b"-E"], &[b"-I", b"-M", b"-m"]),
        "ruby" => (&[b"-e"], &[b"-I", b"-r", b"-C", b"-E"]),
        _ => (&[b"-c", b"-s"], &[b"-o", b"+o", b"-O", b"+O"]),
    };
    let mut i = 1;
    while let Some(&a) = argv.get(i) {
        if a == b"--" {
            return argv.get(i + 1).copied().filter(|s| *s != b"-");
        }
        if a == b"-" {
            return None;
        }
        if a.starts_with(b"-") || (family != "python" && a.starts_with(b"+")) {
            // A cluster of one-letter options: the inline ones may come
            // anywhere in it (`sh -ec 'cmd'`, `python3 -Bc 'cmd'`).
            if a.len() >= 2 && !a.starts_with(b"--") {
                let letters = &a[1..];
                if inline.iter().any(|o| letters.contains(&o[1])) {
                    return None;
                }
            }
            if with_arg.contains(&a) {
                i += 1;
            }
            i += 1;
            continue;
        }
        return Some(a);
    }
    None
}

/// The `btime` line of /proc/stat: boot time in Unix seconds.
pub fn btime(buf: &[u8]) -> Option<i64> {
    let key = b"btime ";
    let at = if buf.starts_with(key) {
        key.len()
    } else {
        memmem::find(buf, b"\nbtime ")? + key.len() + 1
    };
    let line = &buf[at..];
    let line = &line[..memchr(b'\n', line).unwrap_or(line.len())];
    i64::try_from(num(line.trim_ascii())?).ok()
}

/// One line of /proc/tty/drivers: a device name and the numbers it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TtyDriver {
    pub path: Vec<u8>,
    pub major: u32,
    pub minor_first: u32,
    pub minor_last: u32,
}

/// /proc/tty/drivers: `driver-name  /dev/path  major  minor[-minor]  type`.
pub fn tty_drivers(buf: &[u8]) -> Vec<TtyDriver> {
    let mut out = Vec::new();
    for line in buf.split(|&b| b == b'\n') {
        let f: Vec<&[u8]> = line
            .split(|&b| b == b' ')
            .filter(|s| !s.is_empty())
            .collect();
        if f.len() < 4 {
            continue;
        }
        let Some(path) = f[1].strip_prefix(b"/dev/") else {
            continue;
        };
        let Some(major) = num(f[2]).and_then(|n| u32::try_from(n).ok()) else {
            continue;
        };
        let (a, b) = match memchr(b'-', f[3]) {
            Some(i) => (&f[3][..i], &f[3][i + 1..]),
            None => (f[3], f[3]),
        };
        let (Some(first), Some(last)) = (
            num(a).and_then(|n| u32::try_from(n).ok()),
            num(b).and_then(|n| u32::try_from(n).ok()),
        ) else {
            continue;
        };
        out.push(TtyDriver {
            path: path.to_vec(),
            major,
            minor_first: first,
            minor_last: last,
        });
    }
    out
}

/// Major and minor of the `tty_nr` of /proc/PID/stat (the kernel's
/// new_encode_dev: minor bits 0-7 and 20-31, major bits 8-19).
pub fn tty_dev(tty_nr: i64) -> (u32, u32) {
    let n = tty_nr as u64 as u32;
    let major = (n >> 8) & 0xfff;
    let minor = (n & 0xff) | ((n >> 12) & 0xfff00);
    (major, minor)
}

/// The name of the controlling terminal, as ps shows it (`pts/0`, `tty1`,
/// `ttyS0`, `console`); `None` when the process has none (tty_nr 0). The
/// common devices are known by number; others come from /proc/tty/drivers
/// (`ttyAMA0`, `ttyUSB0`, `hvc0`). A device no table names is `MAJOR:MINOR`.
pub fn tty_name(tty_nr: i64, drivers: &[TtyDriver]) -> Option<String> {
    if tty_nr == 0 {
        return None;
    }
    let (major, minor) = tty_dev(tty_nr);
    let known = match major {
        // Unix98 pseudo-terminals: majors 136-143 of 256 minors each in the
        // old numbering; new numbering keeps major 136 with a wide minor.
        136..=143 => Some(format!("pts/{}", (major - 136) * 256 + minor)),
        // Virtual consoles tty1-tty63 and the 8250 serial ports from minor 64.
        4 if minor < 64 => Some(format!("tty{minor}")),
        4 if minor < 256 => Some(format!("ttyS{}", minor - 64)),
        5 if minor == 0 => Some("tty".to_owned()),
        5 if minor == 1 => Some("console".to_owned()),
        5 if minor == 2 => Some("ptmx".to_owned()),
        _ => None,
    };
    if known.is_some() {
        return known;
    }
    for d in drivers {
        if d.major != major || minor < d.minor_first || minor > d.minor_last {
            continue;
        }
        let name = String::from_utf8_lossy(&d.path);
        return Some(if d.minor_first == d.minor_last {
            name.into_owned()
        } else {
            format!("{name}{}", minor - d.minor_first)
        });
    }
    Some(format!("{major}:{minor}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SSHD: &[u8] = b"812 (sshd) S 1 812 812 0 -1 4194560 1503 1820 4 7 12 5 3 1 20 0 1 0 1234 15245312 2170 18446744073709551615 1 1 0 0 0 0 0 4096 81925 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

    #[test]
    fn parses_stat() {
        let s = stat(SSHD).expect("stat");
        assert_eq!(s.comm, b"sshd");
        assert_eq!(s.state, b'S');
        assert_eq!(s.ppid, 1);
        assert_eq!(s.tty_nr, 0);
        assert_eq!(s.flags, 4194560);
        assert_eq!((s.utime, s.stime), (12, 5));
        assert_eq!(s.nice, 0);
        assert_eq!(s.threads, 1);
        assert_eq!(s.starttime, 1234);
        assert_eq!(s.vsize, 15245312);
        assert_eq!(s.rss_pages, 2170);
        assert_eq!(s.flags & PF_KTHREAD, 0);
    }

    #[test]
    fn comm_with_parens_spaces_and_invalid_utf8() {
        let line = b"7 (a) b\xff (c) R 2 0 0 34816 -1 2129984 0 0 0 0 0 0 0 0 -5 -20 3 0 99 0 0 0";
        let s = stat(line).expect("stat");
        assert_eq!(s.comm, b"a) b\xff (c");
        assert_eq!(s.ppid, 2);
        assert_eq!(s.nice, -20);
        assert_eq!(s.threads, 3);
        assert_ne!(s.flags & PF_KTHREAD, 0);
        assert_eq!(tty_name(s.tty_nr, &[]).as_deref(), Some("pts/0"));
    }

    #[test]
    fn truncated_stat_is_none() {
        assert_eq!(stat(b"1 (init) S 0 1"), None);
        assert_eq!(stat(b""), None);
    }

    #[test]
    fn ids_from_status() {
        let st = b"Name:\tsu\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t1000\t0\t0\t0\nGid:\t100\t0\t0\t0\nGroups:\t\n";
        assert_eq!(
            status_ids(st),
            Some(Ids {
                real_uid: 1000,
                uid: 0,
                real_gid: 100,
                gid: 0
            })
        );
        assert_eq!(status_ids(b"Name:\tx\n"), None);
        assert_eq!(status_tgid(b"Name:\tx\nTgid:\t812\nPid:\t813\n"), Some(812));
        assert_eq!(status_tgid(b"Name:\tx\n"), None);
    }

    #[test]
    fn cmdline_keeps_spaces_and_drops_trailing_padding() {
        let args: Vec<&[u8]> = cmdline(b"sh\0-c\0echo a b\0\0x\0").collect();
        assert_eq!(args, vec![&b"sh"[..], b"-c", b"echo a b", b"", b"x"]);
        let args: Vec<&[u8]> = cmdline(b"sshd: alice [priv]\0\0\0\0\0").collect();
        assert_eq!(args, vec![&b"sshd: alice [priv]"[..]]);
        assert_eq!(cmdline(b"").count(), 0);
        assert_eq!(cmdline(b"\0\0").count(), 0);
    }

    #[test]
    fn cgroup_prefers_systemd_hierarchy_then_unified() {
        let v2 = b"0::/system.slice/ssh.service\n";
        assert_eq!(cgroup_path(v2), Some(&b"/system.slice/ssh.service"[..]));
        let hybrid = b"12:cpu:/\n1:name=systemd:/user.slice/user-1000.slice/session-3.scope\n0::/user.slice/user-1000.slice/session-3.scope\n";
        assert_eq!(
            cgroup_path(hybrid),
            Some(&b"/user.slice/user-1000.slice/session-3.scope"[..])
        );
        assert_eq!(cgroup_path(b"3:memory:/x\n"), None);
        assert_eq!(cgroup_path(b"0::/a:b\n"), Some(&b"/a:b"[..]));
    }

    #[test]
    fn unit_is_last_unit_component() {
        let u = |p: &str| unit(p.as_bytes()).map(|b| String::from_utf8_lossy(b).into_owned());
        assert_eq!(
            u("/system.slice/ssh.service").as_deref(),
            Some("ssh.service")
        );
        assert_eq!(
            u("/user.slice/user-1000.slice/session-3.scope").as_deref(),
            Some("session-3.scope")
        );
        assert_eq!(
            u("/user.slice/user-1000.slice/user@1000.service/init.scope").as_deref(),
            Some("init.scope")
        );
        assert_eq!(
            u("/user.slice/user-1000.slice/user@1000.service").as_deref(),
            Some("user@1000.service")
        );
        assert_eq!(
            u("/system.slice/foo.service/payload").as_deref(),
            Some("foo.service")
        );
        assert_eq!(u("/init.scope").as_deref(), Some("init.scope"));
        assert_eq!(u("/"), None);
        assert_eq!(u("/system.slice"), None);
        assert_eq!(u("/.service"), None);
    }

    #[test]
    fn code_maps_are_executable_files_wherever_they_live() {
        let maps = b"\
55d0c0a00000-55d0c0a20000 r-xp 00000000 fd:01 1311 /usr/sbin/foo (deleted)
7f0000000000-7f0000020000 r-xp 00000000 fd:01 2222                       /usr/lib/x86_64-linux-gnu/libssl.so.3 (deleted)
7f0000020000-7f0000021000 r--p 00020000 fd:01 2222                       /usr/lib/x86_64-linux-gnu/libssl.so.3 (deleted)
7f0000030000-7f0000031000 r--s 00000000 fd:01 3333                       /usr/lib/data file.bin (deleted)
7f0000040000-7f0000041000 r-xs 00000000 00:01 4444                       /memfd:jit (deleted)
7f0000050000-7f0000051000 rw-s 00000000 00:01 5555                       /SYSV00000000 (deleted)
7f0000060000-7f0000061000 r-xs 00000000 00:05 6666                       /dev/dri/card0
7f0000070000-7f0000071000 r-xp 00000000 00:1a 7777                       /dev/shm/x.so (deleted)
7f0000071000-7f0000072000 r-xp 00000000 00:1b 7778                       /tmp/evil dir/x.so (deleted)
7f0000080000-7f0000081000 r-xp 00000000 103:02 8888                      /usr/lib/libc.so.6
7f0000090000-7f0000091000 rw-p 00000000 00:00 0                          [heap]
7f00000a0000-7f00000a1000 r-xp 00000000 00:00 0 
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
7f00000b0000-7f00000b1000 r-xp 00000000 fd:01 9999                       /usr/lib/last.so (deleted)";
        let mut out = Vec::new();
        code_maps(maps, &mut out);
        let got: Vec<(String, bool)> = out
            .iter()
            .map(|m| (String::from_utf8_lossy(m.path).into_owned(), m.deleted))
            .collect();
        let want = [
            ("/usr/sbin/foo", true),
            ("/usr/lib/x86_64-linux-gnu/libssl.so.3", true),
            ("/dev/shm/x.so", true),
            ("/tmp/evil dir/x.so", true),
            ("/usr/lib/libc.so.6", false),
            ("/usr/lib/last.so", true),
        ];
        let want: Vec<(String, bool)> = want.iter().map(|(p, d)| ((*p).to_owned(), *d)).collect();
        assert_eq!(got, want);
        assert_eq!((out[4].major, out[4].minor, out[4].inode), (0x103, 2, 8888));
        assert_eq!((out[0].major, out[0].minor, out[0].inode), (0xfd, 1, 1311));
    }

    #[test]
    fn interpreters_and_their_scripts() {
        assert_eq!(interpreter(b"/usr/bin/python3.11"), Some("python"));
        assert_eq!(interpreter(b"/usr/bin/perl5.36.0"), Some("perl"));
        assert_eq!(interpreter(b"/usr/bin/ruby3.1"), Some("ruby"));
        assert_eq!(interpreter(b"/usr/bin/dash"), Some("dash"));
        assert_eq!(interpreter(b"/usr/bin/bash"), Some("bash"));
        assert_eq!(interpreter(b"/usr/bin/pythonista"), None);
        assert_eq!(interpreter(b"/usr/bin/sshd"), None);
        let s = |fam: &str, argv: &[&str]| {
            let v: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
            script_arg(fam, &v).map(|b| String::from_utf8_lossy(b).into_owned())
        };
        assert_eq!(
            s(
                "python",
                &["python3", "-u", "-W", "ignore", "/srv/app.py", "x"]
            )
            .as_deref(),
            Some("/srv/app.py")
        );
        assert_eq!(s("python", &["python3", "-m", "http.server"]), None);
        assert_eq!(s("python", &["python3", "-Bc", "print(1)"]), None);
        assert_eq!(s("python", &["python3"]), None);
        assert_eq!(
            s("perl", &["perl", "-w", "/usr/sbin/agent"]).as_deref(),
            Some("/usr/sbin/agent")
        );
        assert_eq!(s("perl", &["perl", "-e", "sleep 9"]), None);
        assert_eq!(
            s("ruby", &["ruby", "-r", "json", "app.rb"]).as_deref(),
            Some("app.rb")
        );
        assert_eq!(
            s("bash", &["/bin/bash", "-o", "pipefail", "./run.sh", "a"]).as_deref(),
            Some("./run.sh")
        );
        assert_eq!(s("sh", &["sh", "-ec", "sleep 9"]), None);
        assert_eq!(s("sh", &["-bash"]), None);
        assert_eq!(s("bash", &["bash", "--", "x.sh"]).as_deref(), Some("x.sh"));
    }

    #[test]
    fn memfd_executables_are_not_deleted_code() {
        assert_eq!(
            exe_link(b"/memfd:runc_cloned:/proc/self/exe (deleted)"),
            (&b"/memfd:runc_cloned:/proc/self/exe"[..], false)
        );
        assert_eq!(
            exe_link(b"/usr/sbin/sshd (deleted)"),
            (&b"/usr/sbin/sshd"[..], true)
        );
        assert_eq!(exe_link(b"/usr/sbin/sshd"), (&b"/usr/sbin/sshd"[..], false));
    }

    #[test]
    fn strip_deleted_suffix() {
        assert_eq!(
            strip_deleted(b"/usr/bin/x (deleted)"),
            (&b"/usr/bin/x"[..], true)
        );
        assert_eq!(strip_deleted(b"/usr/bin/x"), (&b"/usr/bin/x"[..], false));
    }

    #[test]
    fn btime_line() {
        assert_eq!(
            btime(b"cpu  1 2 3\nintr 5\nbtime 1795676400\nprocesses 9\n"),
            Some(1_795_676_400)
        );
        assert_eq!(btime(b"btime 7\n"), Some(7));
        assert_eq!(btime(b"cpu 1\n"), None);
    }

    #[test]
    fn tty_names_like_ps() {
        let enc = |major: u32, minor: u32| -> i64 {
            i64::from((minor & 0xff) | (major << 8) | ((minor & !0xff) << 12))
        };
        let drivers = tty_drivers(
            b"/dev/tty             /dev/tty        5       0 system:/dev/tty\n\
serial               /dev/ttyS       4 64-95 serial\n\
pty_slave            /dev/pts      136 0-1048575 pty:slave\n\
ttyAMA               /dev/ttyAMA   204 64-77 serial\n\
usbserial            /dev/ttyUSB   188 0-511 serial\n",
        );
        assert_eq!(drivers.len(), 5);
        assert_eq!(tty_name(0, &drivers), None);
        assert_eq!(tty_name(enc(136, 0), &drivers).as_deref(), Some("pts/0"));
        assert_eq!(
            tty_name(enc(136, 300), &drivers).as_deref(),
            Some("pts/300")
        );
        assert_eq!(tty_name(enc(137, 2), &drivers).as_deref(), Some("pts/258"));
        assert_eq!(tty_name(enc(4, 1), &drivers).as_deref(), Some("tty1"));
        assert_eq!(tty_name(enc(4, 64), &drivers).as_deref(), Some("ttyS0"));
        assert_eq!(tty_name(enc(5, 1), &drivers).as_deref(), Some("console"));
        assert_eq!(tty_name(enc(204, 64), &drivers).as_deref(), Some("ttyAMA0"));
        assert_eq!(tty_name(enc(188, 3), &drivers).as_deref(), Some("ttyUSB3"));
        assert_eq!(tty_name(enc(250, 7), &drivers).as_deref(), Some("250:7"));
    }
}

/// Properties over what a /proc file may hold: any bytes never panic a
/// parser, and what the kernel writes (generated here from its formats)
/// parses back to the values it was made of.
#[cfg(test)]
mod props {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        vec(any::<u8>(), 0..400)
    }

    /// Bytes that look like /proc text: digits, separators, the
    /// characters the formats use, and a few others.
    fn procish() -> impl Strategy<Value = Vec<u8>> {
        vec(
            prop_oneof![
                4 => proptest::sample::select(b"0123456789 \t\n:()-/.".to_vec()),
                1 => any::<u8>(),
            ],
            0..400,
        )
    }

    /// A comm as the kernel keeps it: up to 15 bytes, anything but NUL.
    fn comm() -> impl Strategy<Value = Vec<u8>> {
        vec(1u8..=255, 0..16)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn nothing_panics_on_any_bytes(b in prop_oneof![bytes(), procish()]) {
            let _ = stat(&b);
            let _ = status_ids(&b);
            let _ = status_tgid(&b);
            let _ = cmdline(&b).count();
            let _ = cgroup_path(&b);
            let _ = unit(&b);
            let _ = exe_link(&b);
            let mut maps = Vec::new();
            code_maps(&b, &mut maps);
            for m in &maps {
                prop_assert!(m.path.starts_with(b"/") && m.inode != 0);
            }
            let _ = interpreter(&b);
            let argv: Vec<&[u8]> = b.split(|&c| c == b' ').collect();
            for family in ["python", "perl", "ruby", "sh"] {
                if let Some(s) = script_arg(family, &argv) {
                    prop_assert!(argv.contains(&s));
                }
            }
            let _ = btime(&b);
            let _ = tty_drivers(&b);
        }

        #[test]
        fn what_to_restart_never_panics_on_a_cgroup_path(
            comps in vec(
                prop_oneof![
                    Just(b"docker".to_vec()),
                    "(docker|libpod|libpod-conmon|machine|crio|cri-containerd)-[0-9a-f\\\\x]{0,70}\\.scope"
                        .prop_map(String::into_bytes),
                    "user@[0-9]{1,5}\\.service".prop_map(String::into_bytes),
                    "[a-z0-9@._-]{0,12}\\.(service|scope|slice|timer)".prop_map(String::into_bytes),
                    "[0-9a-f]{64}".prop_map(String::into_bytes),
                    vec(any::<u8>(), 0..20),
                ],
                0..6,
            ),
        ) {
            let path = comps.join(&b'/');
            let r = crate::restart::from_cgroup(&path, |uid| Some(uid.to_string()));
            if let Some(r) = r {
                prop_assert!(!r.by.is_empty());
            }
        }

        #[test]
        fn tty_names_never_panic(nr in any::<i64>(), majors in vec((any::<u32>(), any::<u32>(), any::<u32>()), 0..4)) {
            let drivers: Vec<TtyDriver> = majors
                .into_iter()
                .map(|(major, a, b)| TtyDriver {
                    path: b"ttyX".to_vec(),
                    major: major & 0xfff,
                    minor_first: a.min(b) & 0xfffff,
                    minor_last: a.max(b) & 0xfffff,
                })
                .collect();
            let name = tty_name(nr, &drivers);
            prop_assert_eq!(name.is_none(), nr == 0);
        }

        #[test]
        fn a_stat_line_parses_to_its_fields(
            pid in 1u32..4_194_304,
            comm in comm(),
            state in proptest::sample::select(b"RSDZTtXIPW".to_vec()),
            ppid in 0i64..4_194_304,
            tty_nr in 0i64..=i64::from(i32::MAX),
            flags in any::<u32>(),
            utime in any::<u64>(),
            stime in any::<u64>(),
            nice in -20i64..=19,
            threads in 1i64..100_000,
            starttime in any::<u64>(),
            vsize in any::<u64>(),
            rss in 0i64..=i64::MAX,
            other in vec(any::<i64>(), 30),
        ) {
            let mut vals: Vec<String> = other.iter().map(i64::to_string).collect();
            for (i, v) in [
                (0, ppid.to_string()),
                (3, tty_nr.to_string()),
                (5, flags.to_string()),
                (10, utime.to_string()),
                (11, stime.to_string()),
                (15, nice.to_string()),
                (16, threads.to_string()),
                (18, starttime.to_string()),
                (19, vsize.to_string()),
                (20, rss.to_string()),
            ] {
                vals[i] = v;
            }
            let mut line = format!("{pid} (").into_bytes();
            line.extend_from_slice(&comm);
            line.extend_from_slice(format!(") {} {}\n", state as char, vals.join(" ")).as_bytes());
            let s = stat(&line).expect("a stat line the kernel could write");
            prop_assert_eq!(
                s,
                Stat {
                    comm: &comm,
                    state,
                    ppid,
                    tty_nr,
                    flags,
                    utime,
                    stime,
                    nice,
                    threads,
                    starttime,
                    vsize,
                    rss_pages: rss,
                }
            );
        }

        #[test]
        fn status_ids_and_tgid_are_read_back(
            ids in (any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>()),
            tgid in any::<u32>(),
            name in vec(1u8..=255, 0..16),
        ) {
            let (ru, eu, rg, eg) = ids;
            let mut buf = b"Name:\t".to_vec();
            buf.extend(name.iter().copied().filter(|&c| c != b'\n'));
            buf.extend_from_slice(
                format!(
                    "\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t{tgid}\nPid:\t{tgid}\n\
                     Uid:\t{ru}\t{eu}\t{eu}\t{eu}\nGid:\t{rg}\t{eg}\t{eg}\t{eg}\nGroups:\t\n"
                )
                .as_bytes(),
            );
            prop_assert_eq!(
                status_ids(&buf),
                Some(Ids { real_uid: ru, uid: eu, real_gid: rg, gid: eg })
            );
            prop_assert_eq!(status_tgid(&buf), Some(tgid));
        }

        #[test]
        fn cmdline_gives_back_the_arguments(
            mut argv in vec(vec(1u8..=255, 0..20), 1..8),
            last in vec(1u8..=255, 1..20),
            padding in 0usize..4,
        ) {
            argv.push(last);
            let mut buf = Vec::new();
            for a in &argv {
                buf.extend_from_slice(a);
                buf.push(0);
            }
            buf.extend(std::iter::repeat_n(0, padding));
            let got: Vec<&[u8]> = cmdline(&buf).collect();
            let want: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn the_unified_cgroup_line_is_the_path(
            v1 in vec((1u32..20, "[a-z_,]{1,20}", "(/[a-z0-9@._:-]{1,12}){0,4}"), 0..6),
            path in "(/[a-z0-9@._:-]{1,12}){0,5}",
        ) {
            let mut buf = String::new();
            for (id, ctrl, p) in &v1 {
                buf.push_str(&format!("{id}:{ctrl}:{p}\n"));
            }
            let path = if path.is_empty() { "/".to_owned() } else { path };
            buf.push_str(&format!("0::{path}\n"));
            prop_assert_eq!(cgroup_path(buf.as_bytes()), Some(path.as_bytes()));
        }

        #[test]
        fn an_executable_file_mapping_is_read_back(
            start in any::<u32>(),
            len in 1u32..1 << 20,
            perms in proptest::sample::select(vec!["r-xp", "--xp", "rwxp", "r-xs"]),
            offset in any::<u32>(),
            major in 0u32..0x1000,
            minor in 0u32..0x10_0000,
            inode in 1u64..=u64::MAX,
            path in "(/[a-zA-Z0-9._+-]{1,12}){1,5}",
            deleted in any::<bool>(),
        ) {
            prop_assume!(!is_special(path.as_bytes()));
            let end = u64::from(start) + u64::from(len);
            let line = format!(
                "{start:08x}-{end:08x} {perms} {offset:08x} {major:02x}:{minor:02x} {inode}          {path}{}\n\
                 {end:08x}-{:08x} r--p 00000000 00:00 0 \n",
                if deleted { " (deleted)" } else { "" },
                end + 4096,
            );
            let mut out = Vec::new();
            code_maps(line.as_bytes(), &mut out);
            prop_assert_eq!(
                out,
                vec![CodeMap { path: path.as_bytes(), deleted, major, minor, inode }]
            );
        }

        #[test]
        fn btime_is_read_wherever_its_line_is(
            before in vec("cpu[0-9]? [0-9 ]{1,30}", 0..4),
            t in 0i64..=i64::MAX,
        ) {
            let mut buf = String::new();
            for l in &before {
                buf.push_str(l);
                buf.push('\n');
            }
            buf.push_str(&format!("btime {t}\nprocesses 1\n"));
            prop_assert_eq!(btime(buf.as_bytes()), Some(t));
        }
    }
}
