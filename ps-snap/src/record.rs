//! The `process` record and the text view of it.
//!
//! Field order is fixed (kind, identity, then the rest) and every field is
//! present in every record, `null` when unreadable, so snapshots diff
//! field by field and `jq` filters never meet a missing key.

use nix::unistd::SysconfVar;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use common::bytes::display;
use common::jsonw::Obj;
use common::names::Names;
use common::owners::Owners;
use common::records::process::{self, field as pf, restart_field as rf, stale_field as sf};
use common::shell;
use common::time::rfc3339;
use common::Root;

use crate::parse::{self, TtyDriver};
use crate::proc::Proc;
use crate::restart::Restart;
use crate::stale::RootKey;

/// The package indexes of the roots processes see, each read when a stale
/// file in that root first needs its package, shared by the reader threads.
pub type OwnersByRoot = Arc<Mutex<HashMap<RootKey, Arc<Owners>>>>;

/// Clock ticks per second and page size assumed under `--root`: a fixture
/// or a mounted system has no running kernel to ask, and these are the
/// values of every common Linux architecture (x86, arm64 with 4k pages).
pub const ROOT_TICKS: u64 = 100;
pub const ROOT_PAGE_SIZE: u64 = 4096;

/// What every record of one snapshot shares.
#[derive(Debug)]
pub struct Context {
    host: Value,
    boot_id: Value,
    btime: Option<i64>,
    ticks: u64,
    page_size: u64,
    names: Names,
    drivers: Vec<TtyDriver>,
    root: Root,
    owners: OwnersByRoot,
}

/// A positive `sysconf` value, or the kernel's usual one when the C
/// library cannot say (it always can on Linux).
fn sysconf(var: SysconfVar, usual: u64) -> u64 {
    match nix::unistd::sysconf(var) {
        Ok(Some(v)) if v > 0 => v as u64,
        _ => usual,
    }
}

impl Context {
    pub fn new(root: &Root, names: Names, owners: OwnersByRoot) -> Self {
        let (ticks, page_size) = if root.is_live() {
            (
                sysconf(SysconfVar::CLK_TCK, ROOT_TICKS),
                sysconf(SysconfVar::PAGE_SIZE, ROOT_PAGE_SIZE),
            )
        } else {
            (ROOT_TICKS, ROOT_PAGE_SIZE)
        };
        let btime = std::fs::read(root.path("/proc/stat"))
            .ok()
            .and_then(|b| parse::btime(&b));
        let drivers = std::fs::read(root.path("/proc/tty/drivers"))
            .map(|b| parse::tty_drivers(&b))
            .unwrap_or_default();
        Context {
            host: root.hostname().map_or(Value::Null, Value::String),
            boot_id: root.boot_id().map_or(Value::Null, Value::String),
            btime,
            ticks: ticks.max(1),
            page_size,
            names,
            drivers,
            root: root.clone(),
            owners,
        }
    }

    /// The boot time (Unix seconds) and clock ticks per second.
    pub fn clock(&self) -> Option<(i64, u64)> {
        self.btime.map(|b| (b, self.ticks))
    }

    /// The user name of a uid, for the commands of user units.
    pub fn user_name(&mut self, uid: u32) -> Option<String> {
        self.names.user(uid)
    }

    /// The package index of the root process `pid` sees: under `--root`
    /// the tree's, live the one in /proc/PID/root (a container's own
    /// dpkg database), read once per root.
    fn owners_of(&self, pid: u32, key: Option<RootKey>) -> Option<Arc<Owners>> {
        let key = key?;
        let mut map = self.owners.lock().ok()?;
        if let Some(o) = map.get(&key) {
            return Some(o.clone());
        }
        let root = if self.root.is_live() {
            Root::new(Some(std::path::Path::new(&format!("/proc/{pid}/root")))).ok()?
        } else {
            self.root.clone()
        };
        let o = Arc::new(Owners::load(&root));
        map.insert(key, o.clone());
        Some(o)
    }

    /// The package that owns each stale file's path now.
    pub fn packages(&self, p: &Proc<'_>) -> Vec<Option<String>> {
        let Some(stale) = p.stale.as_ref().filter(|s| !s.is_empty()) else {
            return Vec::new();
        };
        let owners = self.owners_of(p.pid, p.root_key);
        stale
            .iter()
            .map(|s| owners.as_ref().and_then(|o| o.owner(&s.path)))
            .collect()
    }

    /// Start time as Unix seconds and nanoseconds.
    fn start(&self, starttime: u64) -> Option<(i64, u32)> {
        let btime = self.btime?;
        let secs = i64::try_from(starttime / self.ticks).ok()?;
        let frac = starttime % self.ticks;
        let nanos = u32::try_from(frac * 1_000_000_000 / self.ticks).ok()?;
        Some((btime.checked_add(secs)?, nanos))
    }

    /// The JSON record of a process, appended to `buf` as one line without
    /// its newline.
    ///
    /// Written field by field with `common::jsonw` rather than through a
    /// `serde_json::Value`: a map of 30 owned keys per process was a tenth
    /// of a snapshot's CPU time. The bytes are the same as `Out::record`
    /// would write.
    pub fn write_record(&mut self, p: &Proc<'_>, buf: &mut Vec<u8>) {
        let st = p.stat.as_ref();
        let ids = p.ids;
        let uid = ids.map(|i| i.uid);
        let gid = ids.map(|i| i.gid);
        let ruid = ids.map(|i| i.real_uid);
        let rgid = ids.map(|i| i.real_gid);
        let user = uid.and_then(|u| self.names.user(u));
        let group = gid.and_then(|g| self.names.group(g));
        let real_user = ruid.and_then(|u| self.names.user(u));
        let real_group = rgid.and_then(|g| self.names.group(g));
        let tty = st.and_then(|s| parse::tty_name(s.tty_nr, &self.drivers));
        let start = st
            .and_then(|s| self.start(s.starttime))
            .map(|(secs, nanos)| rfc3339(secs, nanos));

        let mut w = Obj::new(buf);
        w.key(pf::KIND).str(process::KIND);
        w.key(pf::HOST).value(&self.host);
        w.key(pf::BOOT_ID).value(&self.boot_id);
        w.key(pf::PID).num(p.pid);
        w.key(pf::PPID).opt_num(st.map(|s| s.ppid));
        w.key(pf::UID).opt_num(uid);
        w.key(pf::USER).opt_str(user.as_deref());
        w.key(pf::GID).opt_num(gid);
        w.key(pf::GROUP).opt_str(group.as_deref());
        w.key(pf::REAL_UID).opt_num(ruid);
        w.key(pf::REAL_USER).opt_str(real_user.as_deref());
        w.key(pf::REAL_GID).opt_num(rgid);
        w.key(pf::REAL_GROUP).opt_str(real_group.as_deref());
        let state = st.map(|s| [s.state]);
        w.key(pf::STATE).opt_bytes(state.as_ref().map(|s| &s[..]));
        w.key(pf::TTY).opt_str(tty.as_deref());
        w.key(pf::START_TIME).opt_str(start.as_deref());
        w.key(pf::START_TICKS).opt_num(st.map(|s| s.starttime));
        w.key(pf::COMM).opt_bytes(st.map(|s| s.comm));
        w.key(pf::EXE).opt_bytes(p.exe.as_deref());
        w.key(pf::EXE_DELETED).opt_bool(p.exe_deleted);
        w.key(pf::CMDLINE).opt_bytes_array(p.cmdline.as_deref());
        w.key(pf::CPU_SECONDS)
            .opt_num(st.map(|s| (s.utime.saturating_add(s.stime)) as f64 / self.ticks as f64));
        w.key(pf::RSS_BYTES)
            .opt_num(st.map(|s| (s.rss_pages.max(0) as u64).saturating_mul(self.page_size)));
        w.key(pf::VSIZE_BYTES).opt_num(st.map(|s| s.vsize));
        w.key(pf::THREADS).opt_num(st.map(|s| s.threads));
        w.key(pf::NICE).opt_num(st.map(|s| s.nice));
        w.key(pf::CGROUP).opt_bytes(p.cgroup);
        w.key(pf::UNIT).opt_bytes(p.cgroup.and_then(parse::unit));
        w.key(pf::KERNEL_THREAD).opt_bool(p.kernel_thread());
        w.key(pf::DELETED_MAPS)
            .opt_bytes_array(p.deleted_maps().as_deref());
        let packages = self.packages(p);
        match &p.stale {
            None => w.key(pf::STALE_FILES).null(),
            Some(v) => {
                let mut a = w.key(pf::STALE_FILES).array();
                for (i, s) in v.iter().enumerate() {
                    let mut o = a.item().object();
                    o.key(sf::PATH).bytes(&s.path);
                    o.key(sf::WHAT).str(s.what.name());
                    o.key(sf::HOW).str(s.how.name());
                    o.key(sf::INTERPRETER).opt_str(s.interpreter);
                    o.key(sf::PACKAGE)
                        .opt_str(packages.get(i).and_then(|x| x.as_deref()));
                    o.end();
                }
                a.end();
            }
        }
        match &p.restart {
            None => w.key(pf::RESTART).null(),
            Some(r) => write_restart(w.key(pf::RESTART).object(), r),
        }
        w.end();
    }
}

/// Write the `restart` object.
fn write_restart(mut o: Obj<'_>, r: &Restart) {
    o.key(rf::BY).str(r.by);
    o.key(rf::NAME).bytes(&r.name);
    o.key(rf::PID).opt_num(r.pid);
    match &r.command {
        None => o.key(rf::COMMAND).null(),
        Some(c) => {
            let words: Vec<&[u8]> = c.iter().map(Vec::as_slice).collect();
            o.key(rf::COMMAND).bytes_array(&words);
        }
    }
    o.end();
}

/// One block of the `--deleted` text view: what to restart, the processes
/// it restarts, the stale files they run.
#[derive(Debug, Default)]
struct Block {
    /// pid -> command name.
    procs: BTreeMap<u32, String>,
    /// (path, what, how) -> package.
    files: BTreeMap<(Vec<u8>, &'static str, &'static str), Option<String>>,
}

/// The ps-like table of `--format text`; with `--deleted`, the blocks of
/// what to restart instead.
#[derive(Debug)]
pub struct TextView {
    deleted_only: bool,
    now: i64,
    blocks: BTreeMap<Restart, Block>,
}

impl TextView {
    pub fn new(deleted_only: bool) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        TextView {
            deleted_only,
            now,
            blocks: BTreeMap::new(),
        }
    }

    /// Add another reader's share of the blocks.
    pub fn merge(&mut self, other: TextView) {
        for (r, b) in other.blocks {
            let mine = self.blocks.entry(r).or_default();
            mine.procs.extend(b.procs);
            mine.files.extend(b.files);
        }
    }

    /// The table's header; none for the `--deleted` blocks.
    pub fn header(&self) -> Option<String> {
        (!self.deleted_only).then(|| {
            format!(
                "{:<8} {:>7} {:>7} {:<5} {:<8} {:>8} {:<3} CMD",
                "UID", "PID", "PPID", "STIME", "TTY", "TIME", "OLD"
            )
        })
    }

    /// One row. OLD is `exe` (the executable was replaced), `lib` (mapped
    /// code was), `scr` (only the script was), `-` (none), `?` (not known: maps unread
    /// or refused). With `--deleted` the process joins its block and no
    /// row is written (`None`).
    pub fn line(&mut self, ctx: &mut Context, p: &Proc<'_>) -> Option<String> {
        if self.deleted_only {
            self.collect(ctx, p);
            return None;
        }
        let st = p.stat.as_ref();
        let uid = p.ids.map(|i| i.uid);
        let user = match uid {
            Some(u) => ctx.names.user(u).unwrap_or_else(|| u.to_string()),
            None => "?".to_owned(),
        };
        let ppid = st.map_or("?".to_owned(), |s| s.ppid.to_string());
        let only_scripts = p.stale.as_ref().is_some_and(|v| {
            !v.is_empty() && v.iter().all(|s| s.what == crate::stale::What::Script)
        });
        let old = match (p.exe_deleted, p.runs_deleted()) {
            (Some(true), _) => "exe",
            (_, Some(true)) if only_scripts => "scr",
            (_, Some(true)) => "lib",
            (_, Some(false)) => "-",
            (_, None) => "?",
        };
        let cmd = command(p);
        let stime = st
            .and_then(|s| ctx.start(s.starttime))
            .map_or("?".to_owned(), |(secs, _)| short_time(secs, self.now));
        let tty = st
            .and_then(|s| parse::tty_name(s.tty_nr, &ctx.drivers))
            .unwrap_or_else(|| "?".to_owned());
        let time = st.map_or("?".to_owned(), |s| {
            cpu_time(s.utime.saturating_add(s.stime) / ctx.ticks)
        });
        Some(format!(
            "{user:<8} {:>7} {ppid:>7} {stime:<5} {tty:<8} {time:>8} {old:<3} {cmd}",
            p.pid
        ))
    }

    fn collect(&mut self, ctx: &Context, p: &Proc<'_>) {
        let Some(r) = p.restart.clone() else {
            return;
        };
        let packages = ctx.packages(p);
        let b = self.blocks.entry(r).or_default();
        let comm = p
            .stat
            .as_ref()
            .map_or(String::new(), |s| shell::quote(s.comm));
        b.procs.insert(p.pid, comm);
        if let Some(stale) = &p.stale {
            for (i, s) in stale.iter().enumerate() {
                b.files.insert(
                    (s.path.clone(), s.what.name(), s.how.name()),
                    packages.get(i).cloned().flatten(),
                );
            }
        }
        if p.exe_deleted == Some(true) && !stale_has_exe(p) {
            if let Some(exe) = &p.exe {
                b.files.insert((exe.clone(), "executable", "deleted"), None);
            }
        }
    }

    /// The `--deleted` blocks, one per thing to restart: its command (or
    /// why there is none), its processes, its stale files and the
    /// packages that own their paths now.
    pub fn footer(&self) -> Vec<String> {
        let mut v = Vec::new();
        if !self.deleted_only {
            return v;
        }
        let mut procs = 0;
        for (r, b) in &self.blocks {
            if !v.is_empty() {
                v.push(String::new());
            }
            procs += b.procs.len();
            v.push(describe(r));
            match &r.command {
                Some(c) => v.push(format!("  {}", shell::join(c.iter().map(Vec::as_slice)))),
                None => v.push(format!("  # {}", by_hand(r))),
            }
            let mut comms: Vec<&str> = b.procs.values().map(String::as_str).collect();
            comms.sort_unstable();
            comms.dedup();
            let pids: Vec<String> = b.procs.keys().map(u32::to_string).collect();
            v.push(format!(
                "  {} {} ({})",
                if pids.len() == 1 {
                    "process"
                } else {
                    "processes"
                },
                pids.join(" "),
                comms.join(", ")
            ));
            for ((path, what, how), pkg) in &b.files {
                let from = match pkg {
                    Some(p) => format!("path owned by {p}"),
                    None => "no package owns the path".to_owned(),
                };
                v.push(format!("  {how} {what} {} ({from})", shell::quote(path)));
            }
        }
        if procs > 0 {
            v.push(String::new());
            v.push(format!(
                "{} {} old code: {} to restart",
                procs,
                if procs == 1 {
                    "process runs"
                } else {
                    "processes run"
                },
                self.blocks.len()
            ));
        }
        v
    }
}

fn stale_has_exe(p: &Proc<'_>) -> bool {
    p.stale
        .as_ref()
        .is_some_and(|v| v.iter().any(|s| s.what == crate::stale::What::Executable))
}

/// The head line of a block: what is restarted.
fn describe(r: &Restart) -> String {
    let name = shell::quote(&r.name);
    match r.by {
        "unit" => format!("{name}: system service"),
        "user-unit" => format!("{name}: a user's service"),
        "user-manager" => format!("{name}: a user's service manager"),
        "session" => format!("{name}: login session"),
        "container" => format!("container {name}"),
        "init" => "pid 1, the init system".to_owned(),
        "scope" => format!("{name}: scope"),
        "init-script" => format!(
            "/etc/init.d/{name}: init script of process {}",
            r.pid.unwrap_or(0)
        ),
        _ => format!(
            "process {} ({name}) and what it started: no unit, no init script",
            r.pid.unwrap_or(0)
        ),
    }
}

/// Why a block has no command.
fn by_hand(r: &Restart) -> &'static str {
    match r.by {
        "scope" => "a scope cannot be restarted: restart what runs in it by hand",
        "container" => "restart the pod through its orchestrator",
        "init" => "reboot to run the new init",
        _ => "restart it by hand",
    }
}

/// The CMD column: argv as ps shows it, `[comm]` when there is none
/// (kernel threads, zombies), zombies marked `<defunct>`.
fn command(p: &Proc<'_>) -> String {
    let comm = p.stat.as_ref().map_or(String::new(), |s| display(s.comm));
    let zombie = p.stat.as_ref().is_some_and(|s| s.state == b'Z');
    match &p.cmdline {
        Some(a) if !a.is_empty() => common::shell::join(a.iter().copied()),
        _ if zombie => format!("[{comm}] <defunct>"),
        _ => format!("[{comm}]"),
    }
}

/// ps's STIME (in UTC): `HH:MM` within the last day, else `MmmDD` in the
/// same year, else the year.
fn short_time(secs: i64, now: i64) -> String {
    let t = rfc3339(secs, 0);
    let n = rfc3339(now, 0);
    // checked: a start time from a hostile stat under --root can be
    // anywhere in the i64 range.
    if matches!(now.checked_sub(secs), Some(0..86_400)) {
        return t[11..16].to_owned();
    }
    if t[..4] == n[..4] {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let m: usize = t[5..7].parse().unwrap_or(1);
        return format!("{}{}", MONTHS[m.clamp(1, 12) - 1], &t[8..10]);
    }
    t[..4].to_owned()
}

/// ps's TIME: `[DD-]HH:MM:SS` of CPU time.
fn cpu_time(secs: u64) -> String {
    let (d, h, m, s) = (
        secs / 86_400,
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60,
    );
    if d > 0 {
        format!("{d}-{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::parse::Stat;

    #[test]
    fn written_record_is_json_with_every_field() {
        let dir = std::env::temp_dir().join(format!("ps-snap-rec-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("proc")).expect("mkdir");
        std::fs::write(dir.join("proc/stat"), "btime 1795676400\n").expect("write");
        let root = Root::new(Some(&dir)).expect("root");
        let mut ctx = Context::new(&root, Names::new(&root), OwnersByRoot::default());
        let p = Proc {
            pid: 42,
            stat: Some(Stat {
                comm: b"we\"ird\xff",
                state: b'S',
                ppid: 1,
                tty_nr: 0,
                flags: 0,
                utime: 1,
                stime: 2,
                nice: -3,
                threads: 4,
                starttime: 250,
                vsize: 5,
                rss_pages: 6,
            }),
            ids: None,
            cmdline: Some(vec![&b"a\nb"[..], b"c\\d", b""]),
            exe: None,
            exe_deleted: Some(true),
            cgroup: Some(b"/system.slice/x.service"),
            stale: None,
            root_key: None,
            restart: None,
        };
        let mut buf = Vec::new();
        ctx.write_record(&p, &mut buf);
        let v: Value = serde_json::from_slice(&buf).expect("valid JSON");
        assert_eq!(
            v,
            serde_json::json!({
                "kind": "process", "host": null, "boot_id": null, "pid": 42, "ppid": 1,
                "uid": null, "user": null, "gid": null, "group": null,
                "real_uid": null, "real_user": null, "real_gid": null, "real_group": null,
                "state": "S", "tty": null, "start_time": "2026-11-26T07:00:02.5Z",
                "start_ticks": 250, "comm": [119, 101, 34, 105, 114, 100, 255],
                "exe": null, "exe_deleted": true, "cmdline": ["a\nb", "c\\d", ""],
                "cpu_seconds": 0.03, "rss_bytes": 6 * 4096, "vsize_bytes": 5, "threads": 4,
                "nice": -3, "cgroup": "/system.slice/x.service", "unit": "x.service",
                "kernel_thread": false, "deleted_maps": null, "stale_files": null,
                "restart": null
            })
        );
        let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
        assert_eq!(keys, process::FIELDS);
        // The fast writer and the record type agree byte for byte.
        let rec: process::Process = serde_json::from_slice(&buf).expect("the type reads it");
        assert_eq!(serde_json::to_vec(&rec).expect("serialize"), buf);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn short_times() {
        let now = 1_795_676_400; // 2026-11-26T07:00:00Z
        assert_eq!(short_time(now - 3600, now), "06:00");
        assert_eq!(short_time(now - 3 * 86_400, now), "Nov23");
        assert_eq!(short_time(now - 400 * 86_400, now), "2025");
        // Start times from a hostile stat and btime: no overflow.
        assert_eq!(short_time(i64::MIN, now).len(), 4);
        assert_eq!(short_time(i64::MAX, now).len(), 4);
    }

    #[test]
    fn cpu_times() {
        assert_eq!(cpu_time(0), "00:00:00");
        assert_eq!(cpu_time(3723), "01:02:03");
        assert_eq!(cpu_time(90_061), "1-01:01:01");
    }
}
