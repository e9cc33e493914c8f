//! The `process` record and the text view of it.
//!
//! Field order is fixed (kind, identity, then the rest) and every field is
//! present in every record, `null` when unreadable, so snapshots diff
//! field by field and `jq` filters never meet a missing key.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use common::bytes::{bytes_value, display};
use common::names::Names;
use common::time::rfc3339;
use common::Root;

use crate::parse::{self, TtyDriver};
use crate::proc::Proc;

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
}

impl Context {
    pub fn new(root: &Root, names: Names) -> Self {
        let (ticks, page_size) = if root.is_live() {
            (procfs::ticks_per_second(), procfs::page_size())
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
        }
    }

    /// Start time as Unix seconds and nanoseconds.
    fn start(&self, starttime: u64) -> Option<(i64, u32)> {
        let btime = self.btime?;
        let secs = i64::try_from(starttime / self.ticks).ok()?;
        let frac = starttime % self.ticks;
        let nanos = u32::try_from(frac * 1_000_000_000 / self.ticks).ok()?;
        Some((btime.checked_add(secs)?, nanos))
    }

    fn user(&mut self, uid: Option<u32>) -> Value {
        uid.and_then(|u| self.names.user(u))
            .map_or(Value::Null, Value::String)
    }

    fn group(&mut self, gid: Option<u32>) -> Value {
        gid.and_then(|g| self.names.group(g))
            .map_or(Value::Null, Value::String)
    }

    /// The JSON record of a process.
    pub fn record(&mut self, p: &Proc<'_>) -> Value {
        let st = p.stat.as_ref();
        let ids = p.ids;
        let mut m = Map::with_capacity(34);
        let opt = |v: Option<Value>| v.unwrap_or(Value::Null);
        m.insert("kind".into(), Value::from("process"));
        m.insert("host".into(), self.host.clone());
        m.insert("boot_id".into(), self.boot_id.clone());
        m.insert("pid".into(), Value::from(p.pid));
        m.insert("ppid".into(), opt(st.map(|s| Value::from(s.ppid))));
        let uid = ids.map(|i| i.uid);
        let gid = ids.map(|i| i.gid);
        let ruid = ids.map(|i| i.real_uid);
        let rgid = ids.map(|i| i.real_gid);
        m.insert("uid".into(), opt(uid.map(Value::from)));
        m.insert("user".into(), self.user(uid));
        m.insert("gid".into(), opt(gid.map(Value::from)));
        m.insert("group".into(), self.group(gid));
        m.insert("real_uid".into(), opt(ruid.map(Value::from)));
        m.insert("real_user".into(), self.user(ruid));
        m.insert("real_gid".into(), opt(rgid.map(Value::from)));
        m.insert("real_group".into(), self.group(rgid));
        m.insert(
            "state".into(),
            opt(st.map(|s| Value::from((s.state as char).to_string()))),
        );
        m.insert(
            "tty".into(),
            opt(st
                .and_then(|s| parse::tty_name(s.tty_nr, &self.drivers))
                .map(Value::from)),
        );
        m.insert(
            "start_time".into(),
            opt(st
                .and_then(|s| self.start(s.starttime))
                .map(|(secs, nanos)| Value::from(rfc3339(secs, nanos)))),
        );
        m.insert(
            "start_ticks".into(),
            opt(st.map(|s| Value::from(s.starttime))),
        );
        m.insert("comm".into(), opt(st.map(|s| bytes_value(s.comm))));
        m.insert("exe".into(), opt(p.exe.as_deref().map(bytes_value)));
        m.insert("exe_deleted".into(), opt(p.exe_deleted.map(Value::from)));
        m.insert(
            "cmdline".into(),
            opt(p
                .cmdline
                .as_ref()
                .map(|a| Value::Array(a.iter().map(|x| bytes_value(x)).collect()))),
        );
        m.insert(
            "cpu_seconds".into(),
            opt(st.map(|s| Value::from((s.utime + s.stime) as f64 / self.ticks as f64))),
        );
        m.insert(
            "rss_bytes".into(),
            opt(st.map(|s| Value::from(s.rss_pages.max(0) as u64 * self.page_size))),
        );
        m.insert("vsize_bytes".into(), opt(st.map(|s| Value::from(s.vsize))));
        m.insert("threads".into(), opt(st.map(|s| Value::from(s.threads))));
        m.insert("nice".into(), opt(st.map(|s| Value::from(s.nice))));
        m.insert("cgroup".into(), opt(p.cgroup.map(bytes_value)));
        m.insert(
            "unit".into(),
            opt(p.cgroup.and_then(parse::unit).map(bytes_value)),
        );
        m.insert(
            "kernel_thread".into(),
            opt(p.kernel_thread().map(Value::from)),
        );
        m.insert(
            "deleted_maps".into(),
            opt(p
                .deleted_maps
                .as_ref()
                .map(|v| Value::Array(v.iter().map(|x| bytes_value(x)).collect()))),
        );
        Value::Object(m)
    }
}

/// The ps-like table of `--format text`.
#[derive(Debug)]
pub struct TextView {
    deleted_only: bool,
    now: i64,
    units: BTreeSet<String>,
    without_unit: usize,
}

impl TextView {
    pub fn new(deleted_only: bool) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        TextView {
            deleted_only,
            now,
            units: BTreeSet::new(),
            without_unit: 0,
        }
    }

    /// Add another reader's share of the footer.
    pub fn merge(&mut self, other: TextView) {
        self.units.extend(other.units);
        self.without_unit += other.without_unit;
    }

    pub fn header(&self) -> String {
        if self.deleted_only {
            format!(
                "{:<8} {:>7} {:>7} {:<28} {:<3} CMD",
                "UID", "PID", "PPID", "UNIT", "OLD"
            )
        } else {
            format!(
                "{:<8} {:>7} {:>7} {:<5} {:<8} {:>8} {:<3} CMD",
                "UID", "PID", "PPID", "STIME", "TTY", "TIME", "OLD"
            )
        }
    }

    /// One row. OLD is `exe` (the executable was replaced), `lib` (mapped
    /// files were), `-` (neither), `?` (not known: maps unread or refused).
    pub fn line(&mut self, ctx: &mut Context, p: &Proc<'_>) -> String {
        let st = p.stat.as_ref();
        let uid = p.ids.map(|i| i.uid);
        let user = match uid {
            Some(u) => ctx.names.user(u).unwrap_or_else(|| u.to_string()),
            None => "?".to_owned(),
        };
        let ppid = st.map_or("?".to_owned(), |s| s.ppid.to_string());
        let old = match (p.exe_deleted, p.runs_deleted()) {
            (Some(true), _) => "exe",
            (_, Some(true)) => "lib",
            (_, Some(false)) => "-",
            (_, None) => "?",
        };
        let cmd = command(p);
        if self.deleted_only {
            let unit = p
                .cgroup
                .and_then(parse::unit)
                .map(display)
                .unwrap_or_default();
            if unit.is_empty() {
                self.without_unit += 1;
            } else {
                self.units.insert(unit.clone());
            }
            let unit = if unit.is_empty() {
                "-".to_owned()
            } else {
                unit
            };
            return format!("{user:<8} {:>7} {ppid:>7} {unit:<28} {old:<3} {cmd}", p.pid);
        }
        let stime = st
            .and_then(|s| ctx.start(s.starttime))
            .map_or("?".to_owned(), |(secs, _)| short_time(secs, self.now));
        let tty = st
            .and_then(|s| parse::tty_name(s.tty_nr, &ctx.drivers))
            .unwrap_or_else(|| "?".to_owned());
        let time = st.map_or("?".to_owned(), |s| {
            cpu_time((s.utime + s.stime) / ctx.ticks)
        });
        format!(
            "{user:<8} {:>7} {ppid:>7} {stime:<5} {tty:<8} {time:>8} {old:<3} {cmd}",
            p.pid
        )
    }

    /// After the `--deleted` table: the units to restart.
    pub fn footer(&self) -> Vec<String> {
        let mut v = Vec::new();
        if !self.deleted_only {
            return v;
        }
        if !self.units.is_empty() {
            let u: Vec<&str> = self.units.iter().map(String::as_str).collect();
            v.push(format!("units to restart: {}", u.join(" ")));
        }
        if self.without_unit > 0 {
            v.push(format!(
                "processes outside any unit: {} (restart them by hand)",
                self.without_unit
            ));
        }
        v
    }
}

/// The CMD column: argv as ps shows it, `[comm]` when there is none
/// (kernel threads, zombies), zombies marked `<defunct>`.
fn command(p: &Proc<'_>) -> String {
    let comm = p.stat.as_ref().map_or(String::new(), |s| display(s.comm));
    let zombie = p.stat.as_ref().is_some_and(|s| s.state == b'Z');
    match &p.cmdline {
        Some(a) if !a.is_empty() => a.iter().map(|x| display(x)).collect::<Vec<_>>().join(" "),
        _ if zombie => format!("[{comm}] <defunct>"),
        _ => format!("[{comm}]"),
    }
}

/// ps's STIME (in UTC): `HH:MM` within the last day, else `MmmDD` in the
/// same year, else the year.
fn short_time(secs: i64, now: i64) -> String {
    let t = rfc3339(secs, 0);
    let n = rfc3339(now, 0);
    if now - secs < 86_400 && now >= secs {
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

    #[test]
    fn short_times() {
        let now = 1_795_676_400; // 2026-11-26T07:00:00Z
        assert_eq!(short_time(now - 3600, now), "06:00");
        assert_eq!(short_time(now - 3 * 86_400, now), "Nov23");
        assert_eq!(short_time(now - 400 * 86_400, now), "2025");
    }

    #[test]
    fn cpu_times() {
        assert_eq!(cpu_time(0), "00:00:00");
        assert_eq!(cpu_time(3723), "01:02:03");
        assert_eq!(cpu_time(90_061), "1-01:01:01");
    }
}
