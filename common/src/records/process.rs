//! `process` records (ps-snap): one process, its identity, what it uses and
//! what a patch left behind in it.

use serde::{Deserialize, Serialize};

use crate::bytes::Bytes;

/// The value of `"kind"`.
pub const KIND: &str = "process";

/// The field names, each spelled once; [`FIELDS`] lists them in the order
/// ps-snap writes them.
pub mod field {
    pub const KIND: &str = "kind";
    pub const HOST: &str = "host";
    pub const BOOT_ID: &str = "boot_id";
    pub const PID: &str = "pid";
    pub const PPID: &str = "ppid";
    pub const UID: &str = "uid";
    pub const USER: &str = "user";
    pub const GID: &str = "gid";
    pub const GROUP: &str = "group";
    pub const REAL_UID: &str = "real_uid";
    pub const REAL_USER: &str = "real_user";
    pub const REAL_GID: &str = "real_gid";
    pub const REAL_GROUP: &str = "real_group";
    pub const STATE: &str = "state";
    pub const TTY: &str = "tty";
    pub const START_TIME: &str = "start_time";
    pub const START_TICKS: &str = "start_ticks";
    pub const COMM: &str = "comm";
    pub const EXE: &str = "exe";
    pub const EXE_DELETED: &str = "exe_deleted";
    pub const CMDLINE: &str = "cmdline";
    pub const CPU_SECONDS: &str = "cpu_seconds";
    pub const RSS_BYTES: &str = "rss_bytes";
    pub const VSIZE_BYTES: &str = "vsize_bytes";
    pub const THREADS: &str = "threads";
    pub const NICE: &str = "nice";
    pub const CGROUP: &str = "cgroup";
    pub const UNIT: &str = "unit";
    pub const KERNEL_THREAD: &str = "kernel_thread";
    pub const DELETED_MAPS: &str = "deleted_maps";
    pub const STALE_FILES: &str = "stale_files";
    pub const RESTART: &str = "restart";
}

use field as f;

/// The top-level fields in the order ps-snap writes them.
pub const FIELDS: &[&str] = &[
    f::KIND,
    f::HOST,
    f::BOOT_ID,
    f::PID,
    f::PPID,
    f::UID,
    f::USER,
    f::GID,
    f::GROUP,
    f::REAL_UID,
    f::REAL_USER,
    f::REAL_GID,
    f::REAL_GROUP,
    f::STATE,
    f::TTY,
    f::START_TIME,
    f::START_TICKS,
    f::COMM,
    f::EXE,
    f::EXE_DELETED,
    f::CMDLINE,
    f::CPU_SECONDS,
    f::RSS_BYTES,
    f::VSIZE_BYTES,
    f::THREADS,
    f::NICE,
    f::CGROUP,
    f::UNIT,
    f::KERNEL_THREAD,
    f::DELETED_MAPS,
    f::STALE_FILES,
    f::RESTART,
];

/// Identity of a process that is not a kernel thread: who and what runs
/// (snap-diff pairs processes as a multiset of these).
pub const IDENTITY: &[&str] = &[f::HOST, f::USER, f::EXE, f::CMDLINE, f::UNIT];
/// Identity of a kernel thread (no exe, no argv): its name on its host.
pub const KTHREAD_IDENTITY: &[&str] = &[f::HOST, f::COMM];
/// One running instance of a process.
pub const INSTANCE: &[&str] = &[f::BOOT_ID, f::PID, f::START_TICKS];
/// Fields that change while nothing an admin cares about does (snap-diff
/// ignores them by default).
pub const VOLATILE: &[&str] = &[
    f::PID,
    f::PPID,
    f::CPU_SECONDS,
    f::RSS_BYTES,
    f::VSIZE_BYTES,
    f::THREADS,
    f::STATE,
    f::START_TIME,
    f::START_TICKS,
    f::BOOT_ID,
];

/// The fields of a `stale_files` entry.
pub mod stale_field {
    pub const PATH: &str = "path";
    pub const WHAT: &str = "what";
    pub const HOW: &str = "how";
    pub const INTERPRETER: &str = "interpreter";
    pub const PACKAGE: &str = "package";
}

/// The fields of a `restart` object (of a process or a `kernel` record).
pub mod restart_field {
    pub const BY: &str = "by";
    pub const NAME: &str = "name";
    pub const PID: &str = "pid";
    pub const COMMAND: &str = "command";
}

/// One process as `man 5 snap-records` documents it. A field that could not
/// be read is `null` (`None`); bytes from the system (comm, exe, argv,
/// cgroup, paths) are [`Bytes`], lossless when they are not UTF-8.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Process {
    /// Always [`KIND`].
    pub kind: String,
    /// The node name.
    pub host: Option<String>,
    /// /proc/sys/kernel/random/boot_id.
    pub boot_id: Option<String>,
    pub pid: u32,
    pub ppid: Option<i64>,
    /// The effective ids and their names.
    pub uid: Option<u32>,
    pub user: Option<String>,
    pub gid: Option<u32>,
    pub group: Option<String>,
    /// The real ids and their names.
    pub real_uid: Option<u32>,
    pub real_user: Option<String>,
    pub real_gid: Option<u32>,
    pub real_group: Option<String>,
    /// The state letter of /proc/PID/stat (`S`, `R`, `Z`, ...).
    pub state: Option<Bytes>,
    pub tty: Option<String>,
    /// RFC 3339, UTC.
    pub start_time: Option<String>,
    /// Start time in clock ticks after boot, as the kernel counts it.
    pub start_ticks: Option<u64>,
    pub comm: Option<Bytes>,
    pub exe: Option<Bytes>,
    pub exe_deleted: Option<bool>,
    pub cmdline: Option<Vec<Bytes>>,
    pub cpu_seconds: Option<f64>,
    pub rss_bytes: Option<u64>,
    pub vsize_bytes: Option<u64>,
    pub threads: Option<i64>,
    pub nice: Option<i64>,
    pub cgroup: Option<Bytes>,
    /// The systemd unit of the cgroup.
    pub unit: Option<Bytes>,
    pub kernel_thread: Option<bool>,
    /// Mapped files that were deleted or replaced.
    pub deleted_maps: Option<Vec<Bytes>>,
    pub stale_files: Option<Vec<StaleFile>>,
    pub restart: Option<Restart>,
}

/// One entry of `stale_files`: a file the process runs that is no longer
/// the one on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaleFile {
    pub path: Bytes,
    /// `executable`, `library` or `script`.
    pub what: String,
    /// `deleted` or `replaced`.
    pub how: String,
    /// For a script, the interpreter that runs it.
    pub interpreter: Option<String>,
    /// The package that owns the path now.
    pub package: Option<String>,
}

/// What to restart so that old code stops running.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restart {
    /// `unit`, `user-unit`, `user-manager`, `session`, `container`, `init`,
    /// `scope`, `init-script`, `process`; `reboot` for a kernel.
    pub by: String,
    pub name: Bytes,
    pub pid: Option<u32>,
    /// The command that restarts it, word by word; null where it takes a
    /// person.
    pub command: Option<Vec<Bytes>>,
}

impl Process {
    /// A record of `pid` with every other field `null`.
    pub fn new(pid: u32) -> Self {
        Process {
            kind: KIND.to_owned(),
            host: None,
            boot_id: None,
            pid,
            ppid: None,
            uid: None,
            user: None,
            gid: None,
            group: None,
            real_uid: None,
            real_user: None,
            real_gid: None,
            real_group: None,
            state: None,
            tty: None,
            start_time: None,
            start_ticks: None,
            comm: None,
            exe: None,
            exe_deleted: None,
            cmdline: None,
            cpu_seconds: None,
            rss_bytes: None,
            vsize_bytes: None,
            threads: None,
            nice: None,
            cgroup: None,
            unit: None,
            kernel_thread: None,
            deleted_maps: None,
            stale_files: None,
            restart: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::tests::keys_of;

    fn full() -> Process {
        let mut p = Process::new(42);
        p.host = Some("web1".into());
        p.boot_id = Some("b".into());
        p.ppid = Some(1);
        p.uid = Some(0);
        p.user = Some("root".into());
        p.state = Some(Bytes::from("S"));
        p.comm = Some(Bytes::from(&b"we\"ird\xff"[..]));
        p.exe = Some(Bytes::from(&b"/usr/bin/caf\xe9 (deleted)"[..]));
        p.exe_deleted = Some(true);
        p.cmdline = Some(vec![Bytes::from("a\nb"), Bytes::from(&b"\xff\xfe"[..])]);
        p.cpu_seconds = Some(0.03);
        p.nice = Some(-3);
        p.deleted_maps = Some(vec![Bytes::from(&b"/lib/x\x80.so"[..])]);
        p.stale_files = Some(vec![StaleFile {
            path: Bytes::from(&b"/lib/x\x80.so"[..]),
            what: "library".into(),
            how: "replaced".into(),
            interpreter: None,
            package: Some("libx1".into()),
        }]);
        p.restart = Some(Restart {
            by: "unit".into(),
            name: Bytes::from("x.service"),
            pid: None,
            command: Some(vec![Bytes::from("systemctl"), Bytes::from(&b"\xff"[..])]),
        });
        p
    }

    #[test]
    fn keys_are_fields_in_order() {
        let v = serde_json::to_value(Process::new(1)).expect("serialize");
        assert_eq!(keys_of(&v), FIELDS);
        assert_eq!(keys_of(&serde_json::to_value(full()).expect("ser")), FIELDS);
        assert_eq!(v["kind"], KIND);
    }

    #[test]
    fn round_trips_non_utf8_bytes() {
        let p = full();
        let text = serde_json::to_string(&p).expect("serialize");
        assert!(
            text.contains(r#""comm":[119,101,34,105,114,100,255]"#),
            "{text}"
        );
        let back: Process = serde_json::from_str(&text).expect("deserialize");
        assert_eq!(back, p);
        assert_eq!(serde_json::to_string(&back).expect("again"), text);
    }

    #[test]
    fn unknown_fields_are_an_error() {
        let mut v = serde_json::to_value(Process::new(1)).expect("serialize");
        v["extra"] = 1.into();
        assert!(serde_json::from_value::<Process>(v).is_err());
    }
}
