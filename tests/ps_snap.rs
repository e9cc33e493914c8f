//! End-to-end tests of `ps-snap`: a fixture /proc tree built in a scratch
//! directory (kernel thread, zombie, deleted executable and library,
//! non-UTF-8 argv, a vanished pid), and the live system with a process the
//! test starts itself.
use crate::common;

use std::os::unix::fs::symlink;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::fixtures::procfs::{stat_line, status, BTIME};
use crate::common::{assert_quiet_on_closed_pipe, must, run, Scratch};
use serde_json::{json, Value};

const KTHREAD: u32 = 0x0020_8040; // PF_KTHREAD | PF_NOFREEZE | PF_FORKNOEXEC

const LIBC: &str =
    "7f0000080000-7f0000081000 r--p 00000000 fd:01 8888                       /usr/lib/x86_64-linux-gnu/libc.so.6\n";

/// The fixture system: see the module comment.
fn fixture() -> Scratch {
    let s = Scratch::new("ps-snap");
    s.write(
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n",
    );
    s.write("etc/group", "root:x:0:\nalice:x:1000:\nstaff:x:50:\n");
    s.write(
        "proc/stat",
        format!("cpu  1 2 3 4 5 6 7 0 0 0\nintr 1\nbtime {BTIME}\nprocesses 600\n"),
    );
    s.write(
        "proc/sys/kernel/random/boot_id",
        "0b0b0b0b-1111-2222-3333-444444444444\n",
    );
    s.write("proc/sys/kernel/hostname", "fixture-host\n");
    s.write(
        "proc/tty/drivers",
        "pty_slave            /dev/pts      136 0-1048575 pty:slave\n",
    );

    // 1: init, nothing deleted.
    s.write(
        "proc/1/stat",
        stat_line(
            1, b"systemd", 'S', 0, 0, 0x400100, 150, 50, 0, 1, 12_345, 22_000_000, 1000,
        ),
    );
    s.write("proc/1/status", status("systemd", 0, 0, 0, 0));
    s.write("proc/1/cmdline", b"/sbin/init\0splash\0");
    s.write("proc/1/cgroup", "0::/init.scope\n");
    s.write("proc/1/maps", LIBC);
    symlink("/usr/lib/systemd/systemd", s.path().join("proc/1/exe")).expect("symlink");

    // 2: a kernel thread: no argv, no exe, no maps.
    s.write(
        "proc/2/stat",
        stat_line(2, b"kthreadd", 'S', 0, 0, KTHREAD, 0, 3, 0, 1, 6, 0, 0),
    );
    s.write("proc/2/status", status("kthreadd", 0, 0, 0, 0));
    s.write("proc/2/cmdline", "");
    s.write("proc/2/cgroup", "0::/\n");

    // 120: sshd replaced by the patch, with an old libssl and memfd noise,
    // on pts/3, real uid alice, effective root, argv padded with NULs.
    s.write(
        "proc/120/stat",
        stat_line(
            120,
            b"sshd",
            'S',
            1,
            (136 << 8) | 3,
            0x400140,
            7,
            3,
            -5,
            2,
            500,
            15_000_000,
            2170,
        ),
    );
    s.write("proc/120/status", status("sshd", 1000, 0, 1000, 50));
    s.write("proc/120/cmdline", b"sshd: alice [priv]\0\0\0\0\0\0");
    s.write("proc/120/cgroup", "0::/system.slice/ssh.service\n");
    s.write(
        "proc/120/maps",
        "55d0c0a00000-55d0c0a20000 r-xp 00000000 fd:01 1311                       /usr/sbin/sshd (deleted)\n\
         7f0000000000-7f0000020000 r-xp 00000000 fd:01 2222                       /usr/lib/x86_64-linux-gnu/libssl.so.3 (deleted)\n\
         7f0000020000-7f0000021000 r--p 00020000 fd:01 2222                       /usr/lib/x86_64-linux-gnu/libssl.so.3 (deleted)\n\
         7f0000040000-7f0000041000 rw-s 00000000 00:01 4444                       /memfd:shm (deleted)\n\
         7f0000050000-7f0000051000 r--s 00000000 fd:01 5555                       /usr/share/fonts/old.ttf (deleted)\n\
         7f0000060000-7f0000061000 r-xp 00000000 00:1b 6666                       /tmp/.x/libhook.so (deleted)\n\
         7f0000070000-7f0000071000 r-xp 00000000 fd:01 7777                       /usr/lib/x86_64-linux-gnu/libz.so.1\n\
         7f0000080000-7f0000081000 r--p 00000000 fd:01 8888                       /usr/lib/x86_64-linux-gnu/libc.so.6\n\
         7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n",
    );
    symlink("/usr/sbin/sshd (deleted)", s.path().join("proc/120/exe")).expect("symlink");

    // 130: a worker with only a deleted library (exe is current).
    s.write(
        "proc/130/stat",
        stat_line(
            130, b"cron", 'S', 1, 0, 0x400040, 1, 1, 0, 1, 600, 8_000_000, 300,
        ),
    );
    s.write("proc/130/status", status("cron", 0, 0, 0, 0));
    s.write("proc/130/cmdline", b"/usr/sbin/cron\0-f\0");
    s.write("proc/130/cgroup", "0::/system.slice/cron.service\n");
    s.write(
        "proc/130/maps",
        format!("{LIBC}7f0000000000-7f0000020000 r-xp 00000000 fd:01 2223 /usr/lib/x86_64-linux-gnu/libpam.so.0 (deleted)\n"),
    );
    symlink("/usr/sbin/cron", s.path().join("proc/130/exe")).expect("symlink");

    // 300: a zombie.
    s.write(
        "proc/300/stat",
        stat_line(
            300,
            b"defunct-child",
            'Z',
            1,
            0,
            0x40404c,
            0,
            0,
            0,
            1,
            900,
            0,
            0,
        ),
    );
    s.write(
        "proc/300/status",
        status("defunct-child", 1000, 1000, 1000, 1000),
    );
    // What the kernel shows of a zombie: empty argv and maps, no exe link.
    s.write("proc/300/cmdline", "");
    s.write("proc/300/maps", "");
    s.write(
        "proc/300/cgroup",
        "0::/user.slice/user-1000.slice/session-3.scope\n",
    );

    // 400: non-UTF-8 comm and argv, an argument with spaces, an empty
    // argument in the middle; maps that cannot be read (a directory).
    s.write(
        "proc/400/stat",
        stat_line(
            400, b"t\xffol", 'R', 1, 0, 0x400000, 0, 0, 19, 1, 1000, 4096, 1,
        ),
    );
    s.write(
        "proc/400/status",
        status("t\\377ol", 1000, 1000, 1000, 1000),
    );
    s.write("proc/400/cmdline", b"/usr/bin/tool\0caf\xe9\0a b  c\0\0x\0");
    s.write(
        "proc/400/cgroup",
        "0::/user.slice/user-1000.slice/user@1000.service/app.slice/tool.service\n",
    );
    std::fs::create_dir_all(s.path().join("proc/400/maps")).expect("mkdir");
    symlink("/usr/bin/tool", s.path().join("proc/400/exe")).expect("symlink");

    // 410: a user's own service, running a replaced library.
    s.write(
        "proc/410/stat",
        stat_line(
            410, b"agent", 'S', 1, 0, 0x400000, 0, 0, 0, 1, 1100, 4096, 1,
        ),
    );
    s.write("proc/410/status", status("agent", 1000, 1000, 1000, 1000));
    s.write("proc/410/cmdline", b"/usr/bin/agent\0");
    s.write(
        "proc/410/cgroup",
        "0::/user.slice/user-1000.slice/user@1000.service/app.slice/agent.service\n",
    );
    s.write(
        "proc/410/maps",
        "7f0000000000-7f0000020000 r-xp 00000000 fd:01 2224 /usr/lib/libagent.so.1 (deleted)\n",
    );
    symlink("/usr/bin/agent", s.path().join("proc/410/exe")).expect("symlink");

    // 121: a thread of sshd; its /proc/TID answers like a process's, but
    // its status names the process it belongs to. Not a process record.
    for f in ["stat", "cmdline", "cgroup", "maps"] {
        let src = std::fs::read(s.path().join(format!("proc/120/{f}"))).expect("read");
        s.write(&format!("proc/121/{f}"), src);
    }
    s.write(
        "proc/121/status",
        "Name:\tsshd\nTgid:\t120\nPid:\t121\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n",
    );

    // 140: a python service whose script the patch replaced; 150: a shell
    // script run by a relative path, since deleted.
    s.write(
        "proc/140/stat",
        stat_line(
            140, b"python3", 'S', 1, 0, 0x400000, 0, 0, 0, 1, 1200, 4096, 1,
        ),
    );
    s.write("proc/140/status", status("python3", 0, 0, 0, 0));
    s.write("proc/140/cmdline", b"python3\0-u\0/srv/app.py\0--serve\0");
    s.write(
        "proc/140/cgroup",
        "0::/system.slice/app.service
",
    );
    s.write("proc/140/maps", LIBC);
    symlink("/usr/bin/python3.11", s.path().join("proc/140/exe")).expect("symlink");
    s.write("srv/app.py", "print('new')\n");
    s.write(
        "proc/150/stat",
        stat_line(
            150, b"job.sh", 'S', 1, 0, 0x400000, 0, 0, 0, 1, 1300, 4096, 1,
        ),
    );
    s.write("proc/150/status", status("job.sh", 0, 0, 0, 0));
    s.write("proc/150/cmdline", b"/bin/bash\0./job.sh\0");
    s.write(
        "proc/150/cgroup",
        "0::/
",
    );
    s.write("proc/150/maps", LIBC);
    symlink("/usr/bin/bash", s.path().join("proc/150/exe")).expect("symlink");
    symlink("/opt/jobs", s.path().join("proc/150/cwd")).expect("symlink");
    s.write("etc/init.d/job.sh", "#!/bin/sh\n");

    // The package database the owners come from (libssl3 lists the
    // pre-merged-/usr path), and the sshd the patch installed.
    s.write(
        "var/lib/dpkg/info/libssl3:amd64.list",
        "/.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libssl.so.3\n",
    );
    s.write(
        "var/lib/dpkg/info/openssh-server.list",
        "/.\n/usr\n/usr/sbin\n/usr/sbin/sshd\n",
    );
    s.write(
        "var/lib/dpkg/info/libpam0g:amd64.list",
        "/.\n/usr/lib/x86_64-linux-gnu/libpam.so.0\n",
    );
    s.write("var/lib/dpkg/info/python3-app.list", "/.\n/srv/app.py\n");
    s.write("usr/sbin/sshd", "new sshd\n");

    // 555: vanished between readdir and reading: a directory, no files.
    std::fs::create_dir_all(s.path().join("proc/555")).expect("mkdir");
    // Not processes: /proc/self-like names and files are ignored.
    std::fs::create_dir_all(s.path().join("proc/sys/vm")).expect("mkdir");
    s
}

/// The pids of the records, in output order.
fn pids_of(recs: &[Value]) -> Vec<u64> {
    recs.iter()
        .map(|r| r["pid"].as_u64().expect("pid"))
        .collect()
}

fn snap(s: &Scratch, extra: &[&str]) -> common::Run {
    let root = s.path().to_str().expect("utf-8 scratch path").to_owned();
    let mut args = vec!["--root".to_owned(), root];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    run("ps-snap", &args, None)
}

fn by_pid(recs: &[Value], pid: u64) -> &Value {
    recs.iter()
        .find(|r| r["pid"] == pid)
        .unwrap_or_else(|| panic!("no record for pid {pid}"))
}

#[test]
fn fixture_records_have_every_field() {
    let s = fixture();
    let r = snap(&s, &[]);
    r.expect_code(0);
    let recs = r.records();
    let pids = pids_of(&recs);
    // Pid order; the vanished 555 is absent, not an error.
    assert_eq!(pids, [1, 2, 120, 130, 140, 150, 300, 400, 410]);
    let keys: Vec<&str> = recs[0]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "kind",
            "host",
            "boot_id",
            "pid",
            "ppid",
            "uid",
            "user",
            "gid",
            "group",
            "real_uid",
            "real_user",
            "real_gid",
            "real_group",
            "state",
            "tty",
            "start_time",
            "start_ticks",
            "comm",
            "exe",
            "exe_deleted",
            "cmdline",
            "cpu_seconds",
            "rss_bytes",
            "vsize_bytes",
            "threads",
            "nice",
            "cgroup",
            "unit",
            "kernel_thread",
            "deleted_maps",
            "stale_files",
            "restart"
        ]
    );
    for r in &recs {
        assert_eq!(r.as_object().expect("object").len(), keys.len(), "{r}");
        assert_eq!(r["kind"], "process");
        assert_eq!(r["host"], "fixture-host");
        assert_eq!(r["boot_id"], "0b0b0b0b-1111-2222-3333-444444444444");
    }

    let init = by_pid(&recs, 1);
    assert_eq!(init["ppid"], 0);
    assert_eq!(init["user"], "root");
    assert_eq!(init["state"], "S");
    assert_eq!(init["tty"], Value::Null);
    // btime + 12345 ticks at 100 per second.
    assert_eq!(init["start_time"], "2026-11-26T07:02:03.45Z");
    assert_eq!(init["start_ticks"], 12_345);
    assert_eq!(init["comm"], "systemd");
    assert_eq!(init["exe"], "/usr/lib/systemd/systemd");
    assert_eq!(init["exe_deleted"], false);
    assert_eq!(init["cmdline"], json!(["/sbin/init", "splash"]));
    assert_eq!(init["cpu_seconds"], 2.0);
    assert_eq!(init["rss_bytes"], 1000 * 4096);
    assert_eq!(init["vsize_bytes"], 22_000_000);
    assert_eq!(init["threads"], 1);
    assert_eq!(init["nice"], 0);
    assert_eq!(init["cgroup"], "/init.scope");
    assert_eq!(init["unit"], "init.scope");
    assert_eq!(init["kernel_thread"], false);
    assert_eq!(init["deleted_maps"], json!([]));
    assert_eq!(init["stale_files"], json!([]));
    assert_eq!(init["restart"], Value::Null);
}

#[test]
fn fixture_kernel_thread_and_zombie() {
    let s = fixture();
    let recs = snap(&s, &[]).expect_code(0).records();
    let k = by_pid(&recs, 2);
    assert_eq!(k["kernel_thread"], true);
    assert_eq!(k["cmdline"], json!([]));
    assert_eq!(k["exe"], Value::Null);
    assert_eq!(k["exe_deleted"], false);
    assert_eq!(k["deleted_maps"], json!([]));
    assert_eq!(k["unit"], Value::Null);
    assert_eq!(k["cpu_seconds"], 0.03);

    let z = by_pid(&recs, 300);
    assert_eq!(z["state"], "Z");
    assert_eq!(z["kernel_thread"], false);
    assert_eq!(z["cmdline"], json!([]));
    assert_eq!(z["exe"], Value::Null);
    assert_eq!(z["exe_deleted"], Value::Null);
    assert_eq!(z["deleted_maps"], json!([]));
    assert_eq!(z["user"], "alice");
    assert_eq!(z["unit"], "session-3.scope");
}

#[test]
fn fixture_deleted_executable_and_libraries() {
    let s = fixture();
    let r = snap(&s, &[]);
    let recs = r.expect_code(0).records();
    let sshd = by_pid(&recs, 120);
    // The suffix is gone from exe so the identity stays the same.
    assert_eq!(sshd["exe"], "/usr/sbin/sshd");
    assert_eq!(sshd["exe_deleted"], true);
    // Code wherever it lives (/tmp too); not the deleted font (mapped
    // without execute permission) nor the memfd; not libz, whose file is
    // not in the tree (only the kernel's word counts under --root).
    assert_eq!(
        sshd["deleted_maps"],
        json!([
            "/tmp/.x/libhook.so",
            "/usr/lib/x86_64-linux-gnu/libssl.so.3",
            "/usr/sbin/sshd"
        ])
    );
    // sshd is at its path again, another file: replaced. The packages that
    // own the paths now, libssl3's under its /lib name.
    assert_eq!(
        sshd["stale_files"],
        json!([
            {"path": "/tmp/.x/libhook.so", "what": "library", "how": "deleted",
             "interpreter": null, "package": null},
            {"path": "/usr/lib/x86_64-linux-gnu/libssl.so.3", "what": "library",
             "how": "deleted", "interpreter": null, "package": "libssl3:amd64"},
            {"path": "/usr/sbin/sshd", "what": "executable", "how": "replaced",
             "interpreter": null, "package": "openssh-server"}
        ])
    );
    assert_eq!(
        sshd["restart"],
        json!({"by": "unit", "name": "ssh.service", "pid": null,
               "command": ["systemctl", "restart", "ssh.service"]})
    );
    assert_eq!(sshd["unit"], "ssh.service");
    assert_eq!(sshd["tty"], "pts/3");
    assert_eq!(sshd["nice"], -5);
    assert_eq!(sshd["threads"], 2);
    // Effective ids as ps shows them, real ids beside them.
    assert_eq!(
        (sshd["uid"].clone(), sshd["user"].clone()),
        (json!(0), json!("root"))
    );
    assert_eq!(
        (sshd["gid"].clone(), sshd["group"].clone()),
        (json!(50), json!("staff"))
    );
    assert_eq!(sshd["real_uid"], 1000);
    assert_eq!(sshd["real_user"], "alice");
    assert_eq!(sshd["real_group"], "alice");
    // setproctitle padding dropped.
    assert_eq!(sshd["cmdline"], json!(["sshd: alice [priv]"]));

    let cron = by_pid(&recs, 130);
    assert_eq!(cron["exe_deleted"], false);
    assert_eq!(
        cron["deleted_maps"],
        json!(["/usr/lib/x86_64-linux-gnu/libpam.so.0"])
    );
    assert_eq!(cron["stale_files"][0]["package"], "libpam0g:amd64");

    // Scripts: replaced after the start (the tree's file is newer), and
    // deleted (relative to the process's cwd). Neither is a mapping.
    let app = by_pid(&recs, 140);
    assert_eq!(app["deleted_maps"], json!([]));
    assert_eq!(
        app["stale_files"],
        json!([{"path": "/srv/app.py", "what": "script", "how": "replaced",
                "interpreter": "python", "package": "python3-app"}])
    );
    assert_eq!(
        app["restart"]["command"],
        json!(["systemctl", "restart", "app.service"])
    );
    let job = by_pid(&recs, 150);
    assert_eq!(
        job["stale_files"],
        json!([{"path": "/opt/jobs/job.sh", "what": "script", "how": "deleted",
                "interpreter": "bash", "package": null}])
    );
    // No unit: the init script of its name.
    assert_eq!(
        job["restart"],
        json!({"by": "init-script", "name": "job.sh", "pid": 150,
               "command": ["service", "job.sh", "restart"]})
    );
}

#[test]
fn fixture_non_utf8_argv_and_unreadable_maps() {
    let s = fixture();
    let r = snap(&s, &[]);
    let recs = r.expect_code(0).records();
    let t = by_pid(&recs, 400);
    assert_eq!(t["comm"], json!([116, 255, 111, 108]));
    assert_eq!(
        t["cmdline"],
        json!(["/usr/bin/tool", [99, 97, 102, 233], "a b  c", "", "x"])
    );
    assert_eq!(t["nice"], 19);
    assert_eq!(t["unit"], "tool.service");
    // Unreadable: null, and exactly one summary line for the whole run.
    assert_eq!(t["deleted_maps"], Value::Null);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{r}");
    assert!(
        lines[0].starts_with("ps-snap: partial snapshot: maps of 1 process unreadable ("),
        "{r}"
    );
}

#[test]
fn fixture_deleted_filter_json_and_text() {
    let s = fixture();
    let recs = snap(&s, &["--deleted"]).expect_code(1).records();
    let pids = pids_of(&recs);
    assert_eq!(pids, [120, 130, 140, 150, 410]);
    assert_eq!(by_pid(&recs, 410)["unit"], "agent.service");

    let r = snap(&s, &["--deleted", "--format", "text"]);
    r.expect_code(1);
    let out = r.stdout_str();
    // One block per thing to restart, in a stable order, each with the
    // command to type, its processes and its stale files.
    let blocks: Vec<&str> = out.split("\n\n").collect();
    let block = |head: &str| -> Vec<&str> {
        blocks
            .iter()
            .find(|b| b.starts_with(head))
            .unwrap_or_else(|| panic!("no block {head}:\n{out}"))
            .lines()
            .collect()
    };
    assert_eq!(
        block("ssh.service"),
        [
            "ssh.service: system service",
            "  systemctl restart ssh.service",
            "  process 120 (sshd)",
            "  deleted library /tmp/.x/libhook.so (no package owns the path)",
            "  deleted library /usr/lib/x86_64-linux-gnu/libssl.so.3 (path owned by libssl3:amd64)",
            "  replaced executable /usr/sbin/sshd (path owned by openssh-server)",
        ]
    );
    // A user manager's unit restarts through that user's manager.
    assert_eq!(
        block("agent.service")[1],
        "  systemctl --user --machine=alice@ restart agent.service"
    );
    assert_eq!(block("/etc/init.d/job.sh")[1], "  service job.sh restart");
    assert_eq!(
        out.lines().last(),
        Some("5 processes run old code: 5 to restart"),
        "{out}"
    );
}

#[test]
fn fixture_text_view() {
    let s = fixture();
    let r = snap(&s, &["--format", "text"]);
    r.expect_code(0);
    let out = r.stdout_str();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 10, "{out}");
    assert!(lines[0].starts_with("UID"));
    for col in ["PID", "PPID", "STIME", "TTY", "TIME", "OLD", "CMD"] {
        assert!(lines[0].contains(col), "{col} missing: {}", lines[0]);
    }
    assert!(lines[2].ends_with("[kthreadd]"), "{}", lines[2]);
    let z = lines.iter().find(|l| l.contains(" 300 ")).expect("zombie");
    assert!(z.ends_with("[defunct-child] <defunct>"), "{z}");
    let t = lines.iter().find(|l| l.contains(" 400 ")).expect("tool");
    assert!(
        t.ends_with("/usr/bin/tool 'caf'$'\\xe9' 'a b  c' '' x"),
        "{t}"
    );
    let sshd = lines.iter().find(|l| l.contains(" 120 ")).expect("sshd");
    assert!(sshd.contains("pts/3"), "{sshd}");
    assert!(sshd.contains(" exe "), "{sshd}");
    let cron = lines.iter().find(|l| l.contains(" 130 ")).expect("cron");
    assert!(cron.contains(" lib "), "{cron}");
    let app = lines.iter().find(|l| l.contains(" 140 ")).expect("app");
    assert!(app.contains(" scr "), "{app}");
}

#[test]
fn fixture_selection_and_no_maps() {
    let s = fixture();
    let recs = snap(&s, &["-p", "400,1", "--pid", "555"])
        .expect_code(0)
        .records();
    let pids = pids_of(&recs);
    assert_eq!(pids, [1, 400]);
    // A thread id is not a process id, as with ps -p.
    let recs = snap(&s, &["-p", "121"]).expect_code(0).records();
    assert!(recs.is_empty(), "{recs:?}");

    let recs = snap(&s, &["--user", "alice"]).expect_code(0).records();
    let pids = pids_of(&recs);
    assert_eq!(pids, [300, 400, 410]);
    let recs = snap(&s, &["-u", "0"]).expect_code(0).records();
    assert_eq!(recs.len(), 6);
    let r = snap(&s, &["-u", "mallory"]);
    r.expect_code(2).stderr_has("mallory");

    let r = snap(&s, &["--no-maps"]);
    let recs = r.expect_code(0).records();
    assert!(recs.iter().all(|r| r["deleted_maps"].is_null()));
    assert_eq!(by_pid(&recs, 120)["exe_deleted"], true);
    // Nothing unreadable when maps are not read at all.
    assert!(r.stderr.is_empty(), "{r}");

    run("ps-snap", ["--deleted", "--no-maps"], None).expect_code(2);
}

/// Broken or hostile files under --root (a truncated stat, numbers at the
/// ends of their ranges, a boot time at the start of the i64 range, garbage
/// where status should be): every process is still listed, with nulls for
/// what did not parse, nothing panics, and one summary line says so.
#[test]
fn fixture_hostile_files_never_panic() {
    let s = Scratch::new("ps-snap-hostile");
    s.write("proc/stat", "btime -9223372036854775808\n");
    let ok_status = status("x", 0, 0, 0, 0);
    let process = |pid: u32, stat: &[u8], status: &str| {
        s.write(&format!("proc/{pid}/stat"), stat);
        s.write(&format!("proc/{pid}/status"), status);
        s.write(&format!("proc/{pid}/cmdline"), "");
        s.write(&format!("proc/{pid}/cgroup"), "0::/\n");
        s.write(&format!("proc/{pid}/maps"), "");
    };
    process(5, b"5 (trunc) S 1 5", &ok_status);
    let huge = stat_line(
        6,
        b"huge",
        'S',
        1,
        0,
        0,
        u64::MAX,
        u64::MAX,
        0,
        1,
        u64::MAX,
        u64::MAX,
        0,
    );
    process(6, &huge, &ok_status);
    // Started at boot, and boot at the start of time.
    let at_boot = stat_line(7, b"a) b", 'R', 1, 0, 0, 1, 1, 0, 1, 0, 1, 1);
    process(7, &at_boot, &ok_status);
    process(8, b"\xff\xfe garbage", "Uid:\tx\n");
    // Gone half-way through (its cmdline vanished after a broken stat was
    // read): absent, and not counted as partly unreadable either.
    s.write("proc/9/stat", "9 (gone");
    s.write("proc/9/status", &ok_status);

    let r = snap(&s, &[]);
    r.expect_code(0);
    let recs = r.records();
    let pids = pids_of(&recs);
    assert_eq!(pids, [5, 6, 7, 8]);
    assert_eq!(by_pid(&recs, 5)["comm"], Value::Null);
    assert_eq!(by_pid(&recs, 5)["uid"], 0);
    assert_eq!(by_pid(&recs, 6)["vsize_bytes"], u64::MAX);
    assert_eq!(by_pid(&recs, 7)["comm"], "a) b");
    assert_eq!(by_pid(&recs, 8)["uid"], Value::Null);
    assert_eq!(r.stderr.lines().count(), 1, "{r}");
    assert!(
        r.stderr
            .starts_with("ps-snap: partial snapshot: stat, status of 2 processes"),
        "{r}"
    );

    let r = snap(&s, &["--format", "text"]);
    r.expect_code(0);
    assert_eq!(r.stdout_str().lines().count(), 5, "{r}");
    assert_eq!(r.stderr.lines().count(), 1, "{r}");
}

#[test]
fn root_reads_nothing_of_the_host() {
    let s = fixture();
    for args in [&[][..], &["--format", "text"]] {
        let Some(bad) = common::host_reads("ps-snap", s.path(), args) else {
            common::skip("strace cannot trace here");
            return;
        };
        assert!(bad.is_empty(), "--root read the host:\n{}", bad.join("\n"));
    }
}

#[test]
fn bad_root_is_trouble() {
    let r = run("ps-snap", ["--root", "/nonexistent/ps-snap-root"], None);
    r.expect_code(2)
        .stdout_empty()
        .stderr_has("/nonexistent/ps-snap-root");
    assert_eq!(r.stderr.lines().count(), 1, "{r}");

    // A directory without proc/ in it.
    let s = Scratch::new("ps-snap-empty");
    let r = run(
        "ps-snap",
        ["--root", s.path().to_str().expect("utf-8")],
        None,
    );
    r.expect_code(2).stderr_has("proc");
}

/// A child that lives until killed: `sh -c 'sleep 30; :' NAME ARG`, so the
/// shell stays (no exec of the last command) with a known argv.
struct Sleeper(Child);

impl Sleeper {
    fn start(arg: &str) -> Self {
        let c = Command::new("sh")
            .args(["-c", "sleep 30; :", "ps-snap-test", arg])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sh");
        // Let the kernel replace the forked test image with sh.
        let pid = c.id();
        for _ in 0..200 {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if comm.trim() == "sh" || comm.trim() == "dash" || comm.trim() == "bash" {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Sleeper(c)
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn live_child_is_seen_exactly() {
    let child = Sleeper::start("an argument with spaces");
    let pid = child.0.id();
    let r = run("ps-snap", ["-p", &pid.to_string()], None);
    let recs = r.expect_code(0).records();
    assert_eq!(recs.len(), 1, "{r}");
    let c = &recs[0];
    assert_eq!(c["pid"], pid);
    assert_eq!(c["ppid"], std::process::id());
    assert_eq!(
        c["cmdline"],
        json!([
            "sh",
            "-c",
            "sleep 30; :",
            "ps-snap-test",
            "an argument with spaces"
        ])
    );
    assert_eq!(c["kernel_thread"], false);
    assert_eq!(c["exe_deleted"], false);
    assert!(c["deleted_maps"].is_array(), "{c}");
    assert!(c["exe"].as_str().is_some_and(|e| e.ends_with("sh")), "{c}");
    // The same user as the test.
    let my_uid = std::fs::read_to_string("/proc/self/status")
        .expect("status")
        .lines()
        .find_map(|l| {
            l.strip_prefix("Uid:")
                .map(|u| u.split_whitespace().nth(1).map(str::to_owned))
        })
        .flatten()
        .expect("uid");
    assert_eq!(c["uid"].to_string(), my_uid);
    assert!(c["user"].is_string(), "{c}");
    // Started just now.
    let (secs, _) = parse_time(c["start_time"].as_str().expect("start_time"));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    assert!((now - secs).abs() <= 5, "start {secs}, now {now}");
    assert!(c["boot_id"].is_string());
    assert!(c["host"].is_string());
}

fn parse_time(s: &str) -> (i64, u32) {
    // The library's parser, through the dev-dependency.
    ::common::time::parse_rfc3339(s).unwrap_or_else(|| panic!("not RFC 3339: {s}"))
}

/// The output of `ps -e -o FIELDS`.
fn ps_e(fields: &str) -> String {
    let out = Command::new("ps")
        .args(["-e", "-o", fields])
        .output()
        .expect("run ps");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `ps -e -o pid=,ppid=,uid=,comm=` as a map pid -> (ppid, uid, comm).
fn ps_table() -> std::collections::BTreeMap<u64, (u64, u64, String)> {
    ps_e("pid=,ppid=,uid=,comm=")
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let pid = f.next()?.parse().ok()?;
            let ppid = f.next()?.parse().ok()?;
            let uid = f.next()?.parse().ok()?;
            let comm = f.collect::<Vec<_>>().join(" ");
            Some((pid, (ppid, uid, comm)))
        })
        .collect()
}

/// `ps -e -o pid=,args=` as a map pid -> args.
fn ps_args() -> std::collections::BTreeMap<u64, String> {
    ps_e("pid=,args=")
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let (pid, args) = l.split_once(' ')?;
            Some((pid.parse().ok()?, args.trim_start().to_owned()))
        })
        .collect()
}

#[test]
fn live_snapshot_agrees_with_ps() {
    let _child = Sleeper::start("an argument with spaces");
    let before = ps_table();
    let args_before = ps_args();
    // `--root /` is the live system; the odd argument tells this run apart
    // from the other tests' runs of ps-snap.
    let r = run("ps-snap", ["--no-maps", "--root", "/"], None);
    let after = ps_table();
    let args_after = ps_args();
    let recs = r.expect_code(0).records();
    assert!(recs.len() > 1);
    let pids = pids_of(&recs);
    assert!(pids.windows(2).all(|w| w[0] < w[1]), "not in pid order");
    let mut compared = 0;
    for rec in &recs {
        let pid = rec["pid"].as_u64().expect("pid");
        // Only processes that lived through all three reads unchanged.
        let (Some(a), Some(b)) = (before.get(&pid), after.get(&pid)) else {
            continue;
        };
        if a != b {
            continue;
        }
        let (ppid, uid, comm) = a;
        assert_eq!(rec["ppid"].as_u64(), Some(*ppid), "{rec}");
        assert_eq!(rec["uid"].as_u64(), Some(*uid), "{rec}");
        // A name that is not UTF-8 is a byte array here and shown with `?`
        // by ps: nothing to compare it with.
        let got = rec["comm"].as_str();
        // A kworker's name carries the workqueue it serves at the moment
        // ("kworker/1:2-events"), which changes between any two reads.
        if let Some(got) = got.filter(|g| !g.starts_with("kworker/")) {
            assert_eq!(got, comm.as_str(), "{rec}");
        }
        compared += 1;
    }
    assert!(compared >= 2, "too few processes compared: {compared}");

    // argv, joined as ps joins it, where ps shows it unchanged: printable
    // ASCII (ps replaces other bytes) and not empty (ps shows [comm]).
    let mut compared = 0;
    for rec in &recs {
        let pid = rec["pid"].as_u64().expect("pid");
        let (Some(a), Some(b)) = (args_before.get(&pid), args_after.get(&pid)) else {
            continue;
        };
        let Some(argv) = rec["cmdline"].as_array() else {
            continue;
        };
        let strs: Option<Vec<&str>> = argv.iter().map(Value::as_str).collect();
        let Some(strs) = strs else { continue };
        let joined = strs.join(" ");
        if a != b || strs.is_empty() || !joined.bytes().all(|c| (b' '..=b'~').contains(&c)) {
            continue;
        }
        assert_eq!(&joined, a, "{rec}");
        compared += 1;
    }
    assert!(compared >= 2, "too few argv compared: {compared}");
    // ps-snap leaves itself out.
    let me = json!([common::bin("ps-snap"), "--no-maps", "--root", "/"]);
    assert!(
        !recs.iter().any(|r| r["cmdline"] == me),
        "ps-snap listed itself"
    );
}

#[test]
fn live_text_view_and_deleted() {
    let child = Sleeper::start("text view");
    let pid = child.0.id().to_string();
    let r = run("ps-snap", ["--format", "text"], None);
    r.expect_code(0);
    let out = r.stdout_str();
    assert!(out.starts_with("UID"), "{out}");
    let row = out
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(pid.as_str()))
        .unwrap_or_else(|| panic!("no row for {pid}:\n{out}"));
    assert!(
        row.ends_with("sh -c 'sleep 30; :' ps-snap-test 'text view'"),
        "{row}"
    );

    // Exit 1 exactly when something is listed, like diff. Every process
    // listed runs some stale file; a kernel record says why it is there.
    let r = run("ps-snap", ["--deleted"], None);
    let recs = r.records();
    r.expect_code(if recs.is_empty() { 0 } else { 1 });
    for rec in &recs {
        match rec["kind"].as_str() {
            Some("process") => {
                assert!(
                    rec["stale_files"].as_array().is_some_and(|a| !a.is_empty()),
                    "{rec}"
                );
                assert!(rec["restart"].is_object(), "{rec}");
            }
            Some("kernel") => assert!(rec["older"] == true || rec["removed"] == true),
            _ => panic!("unexpected record {rec}"),
        }
    }
}

#[test]
fn closed_pipe_is_quiet() {
    // More output than a pipe holds, so the reader really goes away while
    // ps-snap still writes: 40 processes with a 4 KiB argument each.
    let long = "x".repeat(4096);
    let _children: Vec<Sleeper> = (0..40).map(|_| Sleeper::start(&long)).collect();
    assert_quiet_on_closed_pipe("ps-snap", &[]);
    assert_quiet_on_closed_pipe("ps-snap", &["--format", "text"]);
}

#[test]
fn help_names_every_option() {
    let r = run("ps-snap", ["--help"], None);
    r.expect_code(0);
    let out = r.stdout_str();
    for opt in [
        "--root",
        "--format",
        "--deleted",
        "--no-maps",
        "--pid",
        "--user",
    ] {
        assert!(out.contains(opt), "{opt} missing from --help");
    }
}

#[test]
fn live_thread_id_is_not_a_process() {
    let park = std::sync::Barrier::new(2);
    std::thread::scope(|sc| {
        sc.spawn(|| park.wait());
        let me = std::process::id();
        let tid = std::fs::read_dir("/proc/self/task")
            .expect("task dir")
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .find(|&t| t != me)
            .expect("a second thread");
        let recs = run("ps-snap", ["-p", &format!("{tid},{me}")], None)
            .expect_code(0)
            .records();
        park.wait();
        let pids: Vec<u64> = recs
            .iter()
            .map(|r| r["pid"].as_u64().expect("pid"))
            .collect();
        assert_eq!(pids, [u64::from(me)], "thread {tid} listed as a process");
    });
}

#[test]
fn live_zombie_is_listed() {
    // A child that exited and is not waited for yet stays a zombie.
    let mut child = Command::new("true").spawn().expect("spawn true");
    let pid = child.id();
    let mut rec = None;
    for _ in 0..200 {
        let recs = run("ps-snap", ["-p", &pid.to_string()], None)
            .expect_code(0)
            .records();
        if recs.first().is_some_and(|r| r["state"] == "Z") {
            rec = recs.into_iter().next();
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.wait();
    let z = rec.expect("the child never showed as a zombie");
    assert_eq!(z["ppid"], std::process::id());
    assert_eq!(z["comm"], "true");
    assert_eq!(z["cmdline"], json!([]));
    assert_eq!(z["exe"], Value::Null);
    assert_eq!(z["exe_deleted"], Value::Null);
    assert_eq!(z["deleted_maps"], json!([]));
    assert_eq!(z["kernel_thread"], false);
}

#[test]
fn live_deleted_executable_is_found() {
    // A copy of sleep, started and then removed: what a package upgrade
    // does to a running daemon's binary.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("ps-snap-deleted-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let exe = dir.join("old-sleep");
    let sleep = ["/usr/bin/sleep", "/bin/sleep"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("sleep(1) installed");
    std::fs::copy(sleep, &exe).expect("copy sleep");
    // Another test's fork may still hold the copy's write descriptor for
    // an instant (ETXTBSY): try again until its exec closed it.
    let mut tries = 0;
    let child = loop {
        match Command::new(&exe).arg("30").stdin(Stdio::null()).spawn() {
            Err(e) if e.raw_os_error() == Some(26) && tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            r => break r.expect("spawn copy of sleep"),
        }
    };
    let mut child = Sleeper(child);
    let pid = child.0.id().to_string();
    // Wait until the exec is done (comm is the new name), then remove it.
    for _ in 0..200 {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "old-sleep" {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    std::fs::remove_file(&exe).expect("remove copy");
    let recs = run("ps-snap", ["--deleted", "-p", &pid], None)
        .expect_code(1)
        .records();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(recs.len(), 1, "not listed by --deleted: {recs:?}");
    let r = &recs[0];
    let path = exe.to_str().expect("utf-8 path");
    assert_eq!(r["exe"], path, "{r}");
    assert_eq!(r["exe_deleted"], true, "{r}");
    let maps = r["deleted_maps"].as_array().expect("deleted_maps read");
    assert!(maps.contains(&json!(path)), "{r}");
    assert!(
        r["stale_files"].as_array().is_some_and(|a| a.contains(&json!(
            {"path": path, "what": "executable", "how": "deleted", "interpreter": null, "package": null}
        ))),
        "{r}"
    );
    let _ = child.0.kill();
}

/// A process the test started, killed and reaped when the test ends.
struct Started(Child);

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Started {
    fn pid(&self) -> String {
        self.0.id().to_string()
    }

    /// Wait until the process's maps name `what` (its exec and dynamic
    /// loading are done).
    fn wait_for_map(&self, what: &str) {
        for _ in 0..500 {
            let maps =
                std::fs::read_to_string(format!("/proc/{}/maps", self.0.id())).unwrap_or_default();
            if maps.contains(what) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("process {} never mapped {what}", self.0.id());
    }
}

/// A small shared library built with cc, whose constructor says which
/// version it is (so two builds differ).
fn build_lib(dir: &std::path::Path, name: &str, version: u32) -> std::path::PathBuf {
    let src = dir.join(format!("{name}-{version}.c"));
    std::fs::write(
        &src,
        format!("int patchday_probe_version(void) {{ return {version}; }}\n"),
    )
    .expect("write C source");
    let out = dir.join(name);
    let st = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("cc (gcc) installed: .ci/run installs it");
    assert!(st.success(), "cc failed");
    out
}

/// `sleep 30` with `lib` preloaded.
fn preloaded_sleep(lib: &std::path::Path) -> Started {
    let c = Command::new("sleep")
        .arg("30")
        .env("LD_PRELOAD", lib)
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn sleep");
    let s = Started(c);
    s.wait_for_map(lib.to_str().expect("utf-8 path"));
    s
}

/// The one record `ps-snap --deleted -p PID` writes, with exit status 1;
/// `None` when it writes none (exit 0).
fn deleted_record(pid: &str) -> Option<Value> {
    let r = run("ps-snap", ["--deleted", "-p", pid], None);
    let recs = r.records();
    r.expect_code(if recs.is_empty() { 0 } else { 1 });
    assert!(recs.len() <= 1, "{r}");
    recs.into_iter().next()
}

fn stale(path: &std::path::Path, what: &str, how: &str, interpreter: Option<&str>) -> Value {
    json!({"path": path.to_str().expect("utf-8 path"), "what": what, "how": how,
           "interpreter": interpreter, "package": null})
}

#[test]
fn live_preloaded_library_deleted_from_a_temp_dir_is_reported() {
    // The classic intrusion sign: code preloaded from /tmp, then removed.
    let s = Scratch::new("ps-snap-preload");
    let lib = build_lib(s.path(), "libhook.so", 1);
    let p = preloaded_sleep(&lib);
    std::fs::remove_file(&lib).expect("remove library");
    let r = deleted_record(&p.pid()).expect("listed by --deleted");
    assert_eq!(
        r["stale_files"],
        json!([stale(&lib, "library", "deleted", None)]),
        "{r}"
    );
    assert_eq!(r["deleted_maps"], json!([lib.to_str()]), "{r}");
    assert_eq!(r["exe_deleted"], false, "{r}");
    assert!(r["restart"]["by"].is_string(), "{r}");
    // The text view names the file.
    let t = run(
        "ps-snap",
        ["--deleted", "--format", "text", "-p", &p.pid()],
        None,
    );
    t.expect_code(1);
    let want = format!(
        "  deleted library {} (no package owns the path)",
        lib.display()
    );
    assert!(t.stdout_str().lines().any(|l| l == want), "{t}");
}

#[test]
fn live_library_replaced_by_rename_is_reported() {
    // What dpkg does: the new file is written beside the old one and
    // renamed over it; the old inode lives on in the process.
    let s = Scratch::new("ps-snap-rename");
    let lib = build_lib(s.path(), "libpatched.so", 1);
    let p = preloaded_sleep(&lib);
    let new = build_lib(s.path(), "libpatched.so.dpkg-new", 2);
    std::fs::rename(&new, &lib).expect("rename over the mapped library");
    let r = deleted_record(&p.pid()).expect("listed by --deleted");
    assert_eq!(
        r["stale_files"],
        json!([stale(&lib, "library", "replaced", None)]),
        "{r}"
    );
}

#[test]
fn live_data_file_without_exec_permission_is_not_code() {
    // A file mapped read-only (a database, a font, a cache) and deleted:
    // the kernel marks it deleted, but it is no code to restart for.
    let s = Scratch::new("ps-snap-data");
    let data = s.write("cache.bin", vec![7u8; 8192]);
    let c = Command::new("python3")
        .args([
            "-c",
            "import mmap, sys, time\n\
             f = open(sys.argv[1], 'rb')\n\
             m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)\n\
             f.close()\n\
             time.sleep(30)\n",
        ])
        .arg(&data)
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn python3");
    let p = Started(c);
    p.wait_for_map(data.to_str().expect("utf-8 path"));
    std::fs::remove_file(&data).expect("remove data file");
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", p.pid())).expect("maps");
    let line = maps
        .lines()
        .find(|l| l.contains("cache.bin"))
        .expect("still mapped");
    assert!(line.ends_with(" (deleted)") && !line.split(' ').nth(1).unwrap_or("").contains('x'));
    assert_eq!(deleted_record(&p.pid()), None);
    let all = run("ps-snap", ["-p", &p.pid()], None)
        .expect_code(0)
        .records();
    assert_eq!(all[0]["deleted_maps"], json!([]), "{}", all[0]);
    assert_eq!(all[0]["stale_files"], json!([]), "{}", all[0]);
}

#[test]
fn live_replaced_scripts_are_reported_with_their_interpreter() {
    let s = Scratch::new("ps-snap-script");
    let py = s.write("agent.py", "import time\ntime.sleep(30)\n");
    let pl = s.write("agent.pl", "sleep 30;\n");
    let mut started = Vec::new();
    for (interp, script) in [("python3", &py), ("perl", &pl)] {
        let c = Command::new(interp)
            .arg(script)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {interp}: {e}"));
        started.push(Started(c));
    }
    for p in &started {
        p.wait_for_map("libc.so");
    }
    // Not stale before the change.
    for p in &started {
        assert_eq!(deleted_record(&p.pid()), None);
    }
    // Start times are known to the second: change the scripts well after.
    std::thread::sleep(Duration::from_millis(2100));
    for script in [&py, &pl] {
        let tmp = script.with_extension("new");
        std::fs::write(&tmp, "# patched\n").expect("write new script");
        std::fs::rename(&tmp, script).expect("rename over the script");
    }
    for (p, (script, family)) in started.iter().zip([(&py, "python"), (&pl, "perl")]) {
        let r = deleted_record(&p.pid()).expect("listed by --deleted");
        assert_eq!(
            r["stale_files"],
            json!([stale(script, "script", "replaced", Some(family))]),
            "{r}"
        );
    }
}

#[test]
#[ignore = "run as root: chroot needs root"]
fn live_chrooted_process_is_judged_by_its_files() {
    // The kernel names a chrooted process's files as ps-snap sees them
    // (/tmp/.../usr/lib/...), not as the process does (/usr/lib/...).
    require_root!("chroot needs root");
    let s = Scratch::new("ps-snap-chroot");
    let root = s.path();
    let sleep = std::fs::canonicalize("/bin/sleep").expect("sleep(1)");
    let ldd = Command::new("ldd").arg(&sleep).output().expect("ldd");
    let mut libs: Vec<std::path::PathBuf> = String::from_utf8_lossy(&ldd.stdout)
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
        .map(std::path::PathBuf::from)
        .collect();
    libs.push(sleep.clone());
    let mut dirs = Vec::new();
    for l in &libs {
        let to = root.join(l.strip_prefix("/").expect("absolute"));
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(l, &to).expect("copy into the chroot");
        dirs.push(l.parent().expect("parent").display().to_string());
    }
    let c = Command::new("chroot")
        .arg(root)
        .arg(&sleep)
        .arg("30")
        .env("LD_LIBRARY_PATH", dirs.join(":"))
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn chroot");
    let p = Started(c);
    p.wait_for_map("libc.so");
    // chroot(8) has exec'd sleep; its files are current in its root.
    assert_eq!(deleted_record(&p.pid()), None);
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", p.pid())).expect("maps");
    let libc = maps
        .lines()
        .filter(|l| l.contains("libc.so"))
        .filter_map(|l| l.split_whitespace().nth(5))
        .next()
        .expect("libc mapped")
        .to_owned();
    assert!(libc.starts_with(root.to_str().expect("utf-8")), "{libc}");
    // The chroot's libc replaced by rename: reported.
    let new = format!("{libc}.dpkg-new");
    std::fs::copy(&libc, &new).expect("copy");
    std::fs::rename(&new, &libc).expect("rename over");
    let r = deleted_record(&p.pid()).expect("listed by --deleted");
    let files = r["stale_files"].as_array().expect("stale_files");
    assert!(
        files.contains(&json!({"path": libc, "what": "library", "how": "replaced",
                                "interpreter": null, "package": null})),
        "{r}"
    );
}

/// Run a command to success; its stdout.

#[test]
fn fixture_stale_files_owned_by_rpm_packages() {
    // The same process table on an rpm system: the owners come from an rpm
    // database that rpmbuild and rpm themselves made (SQLite format),
    // named as `rpm -qf` names them.
    let have = |c: &str| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !have("rpm") || !have("rpmbuild") {
        common::skip("rpm or rpmbuild is not installed (apt-get install rpm)");
        return;
    }
    let s = fixture();
    std::fs::remove_dir_all(s.path().join("var/lib/dpkg")).expect("no dpkg here");
    let db = s.path().join("var/lib/rpm");
    std::fs::create_dir_all(&db).expect("mkdir");
    let rpm = || {
        let mut c = Command::new("rpm");
        c.arg("--dbpath")
            .arg(&db)
            .args(["--define", "_db_backend sqlite"]);
        c
    };
    must(rpm().arg("--initdb"));
    let top = s.path().join("rpmbuild");
    // libssl under its pre-merged-/usr name, as the dpkg fixture has it.
    for (name, version, path) in [
        ("patchday-ssl", "3.0.7", "/lib/x86_64-linux-gnu/libssl.so.3"),
        ("patchday-sshd", "9.0", "/usr/sbin/sshd"),
    ] {
        let spec = s.write(
            &format!("{name}.spec"),
            format!(
                "Name: {name}\nVersion: {version}\nRelease: 1\nSummary: test\nLicense: MIT\n\
                 BuildArch: noarch\n%description\ntest\n%install\n\
                 mkdir -p %{{buildroot}}$(dirname {path})\necho x > %{{buildroot}}{path}\n\
                 %files\n{path}\n"
            ),
        );
        must(
            Command::new("rpmbuild")
                .args(["--quiet", "-bb", "--define"])
                .arg(format!("_topdir {}", top.display()))
                .args(["--define", "__os_install_post %{nil}"])
                .arg(&spec),
        );
        let pkg = top.join(format!("RPMS/noarch/{name}-{version}-1.noarch.rpm"));
        must(rpm().args(["-i", "--nodeps", "--justdb"]).arg(&pkg));
    }
    // rpm's own answer for the two paths.
    let qf = must(rpm().args(["-qf", "/lib/x86_64-linux-gnu/libssl.so.3", "/usr/sbin/sshd"]));
    assert_eq!(
        qf,
        "patchday-ssl-3.0.7-1.noarch\npatchday-sshd-9.0-1.noarch\n"
    );
    let r = snap(&s, &[]);
    let recs = r.expect_code(0).records();
    let stale = &by_pid(&recs, 120)["stale_files"];
    let pkg = |path: &str| {
        stale
            .as_array()
            .and_then(|a| a.iter().find(|f| f["path"] == path))
            .map(|f| f["package"].clone())
            .unwrap_or_else(|| panic!("{path} not stale: {stale}"))
    };
    assert_eq!(
        pkg("/usr/lib/x86_64-linux-gnu/libssl.so.3"),
        "patchday-ssl-3.0.7-1.noarch"
    );
    assert_eq!(pkg("/usr/sbin/sshd"), "patchday-sshd-9.0-1.noarch");
    assert_eq!(pkg("/tmp/.x/libhook.so"), Value::Null);
}

/// What ps-snap writes fits common's record types (`process`, `kernel`)
/// field for field and byte for byte: the fixture tree (non-UTF-8 comm
/// and argv, deleted code, stale files, restarts), and the live system
/// with a child of ours whose argv is not UTF-8.
#[test]
fn records_fit_their_types() {
    use std::os::unix::ffi::OsStrExt;
    let s = fixture();
    // --deleted exits 1 when something runs old code.
    for extra in [&[][..], &["--deleted"][..], &["--no-maps"][..]] {
        let r = snap(&s, extra);
        assert!(matches!(r.code(), 0 | 1), "{r}");
        assert!(!common::assert_typed(&r).is_empty(), "{extra:?}");
    }
    let recs = common::assert_typed(snap(&s, &[]).expect_code(0));
    assert_eq!(by_pid(&recs, 400)["comm"], json!([116, 255, 111, 108]));
    assert!(by_pid(&recs, 120)["restart"].is_object());

    let child = Command::new("sh")
        .args(["-c", "sleep 30; :", "ps-snap-typed"])
        .arg(std::ffi::OsStr::from_bytes(b"caf\xe9"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sh");
    let child = Sleeper(child);
    let pid = u64::from(child.0.id());
    // Wait until the child runs sh with its own argv.
    for _ in 0..200 {
        let argv = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if argv.ends_with(b"caf\xe9\0") {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let none: [&str; 0] = [];
    let recs = common::assert_typed(run("ps-snap", none, None).expect_code(0));
    assert_eq!(
        by_pid(&recs, pid)["cmdline"].get(4),
        Some(&json!([99, 97, 102, 233]))
    );
    let r = run("ps-snap", ["--deleted"], None);
    assert!(matches!(r.code(), 0 | 1), "{r}");
    common::assert_typed(&r);
    drop(child);
}

#[test]
fn a_root_whose_name_is_not_utf8_is_read_all_the_same() {
    use std::ffi::{OsStr, OsString};
    use std::os::unix::ffi::OsStrExt;
    let s = fixture();
    let want = snap(&s, &[]);
    want.expect_code(0);
    let want_deleted = snap(&s, &["--deleted"]);
    let mut name = s.path().as_os_str().as_bytes().to_vec();
    name.extend_from_slice(b"-\xff");
    let odd = std::path::PathBuf::from(OsStr::from_bytes(&name));
    std::fs::rename(s.path(), &odd).expect("rename the root");
    let args = |extra: &[&str]| {
        let mut a: Vec<OsString> = vec!["--root".into(), odd.clone().into_os_string()];
        a.extend(extra.iter().map(OsString::from));
        a
    };
    let r = run("ps-snap", args(&[]), None);
    let r_deleted = run("ps-snap", args(&["--deleted"]), None);
    // Back where the scratch directory cleans it up, before any assertion.
    std::fs::rename(&odd, s.path()).expect("rename the root back");
    r.expect_code(0);
    assert_eq!(r.stdout, want.stdout, "{r}");
    r_deleted.expect_code(want_deleted.code());
    assert_eq!(r_deleted.stdout, want_deleted.stdout, "{r_deleted}");
    assert!(!r_deleted.records().is_empty(), "{r_deleted}");
}
