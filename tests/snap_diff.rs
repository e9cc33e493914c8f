//! End-to-end tests of snap-diff on hand-written snapshot lines: each
//! identity rule (multisets, restarts, reboots, listeners), the volatile
//! fields and their options, `--key` on plain JSON, standard input, the text
//! view, and every kind of malformed input (exit 2, file and line named,
//! nothing on stdout).

use crate::common;

use crate::common::{Run, Scratch};
use serde_json::{json, Value};

/// A process record as ps-snap writes it, with `over` merged in.
fn proc_rec(pid: u64, over: Value) -> Value {
    let mut r = json!({
        "kind": "process", "host": "web1", "boot_id": "b-1", "pid": pid, "ppid": 1,
        "uid": 33, "user": "www-data", "gid": 33, "group": "www-data",
        "real_uid": 33, "real_user": "www-data", "real_gid": 33, "real_group": "www-data",
        "state": "S", "tty": null, "start_time": "2026-11-26T07:00:00Z",
        "start_ticks": 1000 + pid, "comm": "nginx", "exe": "/usr/sbin/nginx",
        "exe_deleted": false, "cmdline": ["nginx: worker process"],
        "cpu_seconds": 1.5, "rss_bytes": 4096000, "vsize_bytes": 100000000, "threads": 1,
        "nice": 0, "cgroup": "/system.slice/nginx.service", "unit": "nginx.service",
        "kernel_thread": false, "deleted_maps": [], "stale_files": [], "restart": null,
    });
    merge(&mut r, over);
    // A process record exactly as ps-snap writes one (its type reads it
    // back unchanged).
    let line = r.to_string();
    assert_eq!(
        ::common::records::retype(&line).as_deref(),
        Ok(line.as_str()),
        "a process record ps-snap would not write"
    );
    r
}

/// A socket record as net-snap writes it, with `over` merged in.
fn sock_rec(port: u64, over: Value) -> Value {
    let mut r = json!({
        "kind": "socket", "host": "web1", "netns": 4026531840u64, "proto": "tcp",
        "family": "inet", "type": "stream", "local_addr": "127.0.0.1", "local_port": port,
        "remote_addr": null, "remote_port": null, "state": "LISTEN",
        "uid": 0, "user": "root", "inode": 1000 + port, "peer_inode": null,
        "processes": [{"pid": 10, "comm": "nginx"}, {"pid": 11, "comm": "nginx"}],
        "recv_q": 0, "send_q": 128,
    });
    merge(&mut r, over);
    // A socket record exactly as net-snap writes one: its type reads it
    // back unchanged (no field invented, none missing, every value of the
    // shape net-snap gives it).
    let line = r.to_string();
    assert_eq!(
        ::common::records::retype(&line).as_deref(),
        Ok(line.as_str()),
        "a socket record net-snap would not write"
    );
    r
}

fn merge(r: &mut Value, over: Value) {
    if let (Value::Object(r), Value::Object(o)) = (r, over) {
        for (k, v) in o {
            r.insert(k, v);
        }
    }
}

fn lines(recs: &[Value]) -> String {
    recs.iter().map(|r| format!("{r}\n")).collect()
}

/// Run snap-diff on two snapshots written to a scratch directory.
fn diff(before: &[Value], after: &[Value], args: &[&str]) -> Run {
    diff_text(&lines(before), &lines(after), args)
}

/// `snap-diff --format text` of two snapshots that differ (exit status 1)
/// prints exactly the lines `want`.
fn assert_text_view(before: &[Value], after: &[Value], want: &[&str]) {
    let r = diff(before, after, &["--format", "text"]);
    r.expect_code(1);
    let text = r.stdout_str();
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(got, want, "{r}");
}

fn diff_text(before: &str, after: &str, args: &[&str]) -> Run {
    let s = Scratch::new("snap-diff");
    let b = s.write("before.json", before);
    let a = s.write("after.json", after);
    let mut argv: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    argv.push(b.display().to_string());
    argv.push(a.display().to_string());
    common::run("snap-diff", &argv, None)
}

fn ops(run: &Run) -> Vec<(String, String)> {
    run.records()
        .iter()
        .map(|c| {
            assert_eq!(c["kind"], "change");
            (
                c["op"].as_str().unwrap_or("?").to_owned(),
                c["of"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect()
}

fn op(o: &str, of: &str) -> (String, String) {
    (o.to_owned(), of.to_owned())
}

#[test]
fn identical_inputs_exit_0_with_no_output() {
    let snap = vec![proc_rec(10, json!({})), sock_rec(80, json!({}))];
    let r = diff(&snap, &snap, &[]);
    r.expect_code(0);
    assert!(r.stdout.is_empty(), "{r}");
    assert!(r.stderr.is_empty(), "{r}");
    diff(&snap, &snap, &["--format", "text"]).expect_code(0);
}

#[test]
fn identical_workers_are_a_multiset() {
    let before: Vec<Value> = (10..14).map(|p| proc_rec(p, json!({}))).collect();
    let mut after = before.clone();
    after.push(proc_rec(20, json!({})));
    after.push(proc_rec(21, json!({})));
    let r = diff(&before, &after, &[]);
    r.expect_code(1);
    assert_eq!(
        ops(&r),
        vec![op("added", "process"), op("added", "process")]
    );
    let recs = r.records();
    let pids: Vec<&Value> = recs.iter().map(|c| &c["after"]["pid"]).collect();
    assert_eq!(pids, vec![&json!(20), &json!(21)]);
    assert_eq!(recs[0]["before"], Value::Null);
    assert_eq!(recs[0]["fields"], json!([]));
    assert_eq!(
        recs[0]["key"],
        json!({"host": "web1", "user": "www-data", "exe": "/usr/sbin/nginx",
               "cmdline": ["nginx: worker process"], "unit": "nginx.service"})
    );
    // And the other way round: 6 before, 4 after is 2 removed.
    let r = diff(&after, &before, &[]);
    assert_eq!(
        ops(&r),
        vec![op("removed", "process"), op("removed", "process")]
    );
}

#[test]
fn a_new_instance_of_the_same_process_is_a_restart() {
    let before = vec![proc_rec(
        10,
        json!({"exe_deleted": true, "exe": "/usr/sbin/nginx (deleted)"}),
    )];
    let after = vec![proc_rec(55, json!({"cpu_seconds": 0.0}))];
    let r = diff(&before, &after, &[]);
    r.expect_code(1);
    let recs = r.records();
    assert_eq!(ops(&r), vec![op("restarted", "process")]);
    assert_eq!(recs[0]["before"]["pid"], 10);
    assert_eq!(recs[0]["after"]["pid"], 55);
    // The instance fields, and what the restart fixed.
    assert_eq!(
        recs[0]["fields"],
        json!(["exe_deleted", "pid", "start_ticks"])
    );
}

#[test]
fn a_reboot_is_one_record_not_a_restart_per_process() {
    let before: Vec<Value> = (10..15)
        .map(|p| proc_rec(p, json!({})))
        .chain([proc_rec(3, json!({"comm": "cron", "exe": "/usr/sbin/cron", "cmdline": ["cron"], "unit": "cron.service"}))])
        .collect();
    // After the reboot: new boot id, new pids, one worker less, cron gone,
    // sshd new.
    let after: Vec<Value> = (100..104)
        .map(|p| proc_rec(p, json!({"boot_id": "b-2"})))
        .chain([proc_rec(7, json!({"boot_id": "b-2", "comm": "sshd", "exe": "/usr/sbin/sshd", "cmdline": ["sshd"], "unit": "ssh.service"}))])
        .collect();
    let r = diff(&before, &after, &[]);
    r.expect_code(1);
    let recs = r.records();
    assert_eq!(
        ops(&r),
        vec![
            op("reboot", "host"),
            op("removed", "process"),
            op("removed", "process"),
            op("added", "process"),
        ]
    );
    assert_eq!(recs[0]["key"], json!({"host": "web1"}));
    assert_eq!(recs[0]["before"]["boot_ids"], json!(["b-1"]));
    assert_eq!(recs[0]["after"]["boot_ids"], json!(["b-2"]));
    assert_eq!(recs[0]["fields"], json!(["boot_ids"]));
    assert_eq!(recs[1]["before"]["comm"], "cron");
    assert_eq!(recs[2]["before"]["comm"], "nginx");
    assert_eq!(recs[3]["after"]["comm"], "sshd");
}

#[test]
fn other_hosts_are_not_rebooted_with_one() {
    let before = vec![
        proc_rec(10, json!({})),
        proc_rec(10, json!({"host": "db1", "boot_id": "d-1"})),
    ];
    let after = vec![
        proc_rec(10, json!({"boot_id": "b-2", "start_ticks": 5})),
        proc_rec(11, json!({"host": "db1", "boot_id": "d-1"})),
    ];
    let r = diff(&before, &after, &[]);
    assert_eq!(
        ops(&r),
        vec![op("reboot", "host"), op("restarted", "process")]
    );
    assert_eq!(r.records()[1]["key"]["host"], "db1");
}

#[test]
fn listeners_added_and_removed() {
    let before = vec![sock_rec(25, json!({})), sock_rec(80, json!({}))];
    let after = vec![
        sock_rec(
            80,
            json!({"inode": 9, "processes": [{"pid": 99, "comm": "nginx"}]}),
        ),
        sock_rec(8080, json!({"processes": [{"pid": 5, "comm": "python3"}]})),
    ];
    let r = diff(&before, &after, &[]);
    r.expect_code(1);
    let recs = r.records();
    assert_eq!(
        ops(&r),
        vec![op("removed", "socket"), op("added", "socket")]
    );
    assert_eq!(recs[0]["key"]["local_port"], 25);
    assert_eq!(recs[1]["key"]["local_port"], 8080);
    assert_eq!(
        recs[1]["key"],
        json!({"host": "web1", "netns": 4026531840u64, "proto": "tcp", "family": "inet",
               "local_addr": "127.0.0.1", "local_port": 8080})
    );
    // Another program on the same port is a change of the listener.
    let after = vec![
        sock_rec(25, json!({"processes": [{"pid": 7, "comm": "exim4"}]})),
        sock_rec(80, json!({})),
    ];
    let r = diff(&before, &after, &[]);
    assert_eq!(ops(&r), vec![op("changed", "socket")]);
    assert_eq!(r.records()[0]["fields"], json!(["processes"]));
}

#[test]
fn connections_are_left_out_unless_asked_for() {
    let conn = |port: u64| {
        sock_rec(
            port,
            json!({"state": "ESTABLISHED", "remote_addr": "10.1.2.3", "remote_port": 443}),
        )
    };
    let before = vec![sock_rec(22, json!({})), conn(40001), conn(40002)];
    let after = vec![sock_rec(22, json!({})), conn(40003)];
    let r = diff(&before, &after, &[]);
    r.expect_code(0);
    assert!(r.stdout.is_empty(), "{r}");
    let r = diff(&before, &after, &["--connections"]);
    r.expect_code(1);
    assert_eq!(
        ops(&r),
        vec![
            op("removed", "socket"),
            op("removed", "socket"),
            op("added", "socket")
        ]
    );
    assert_eq!(r.records()[0]["key"]["remote_port"], 443);
}

#[test]
fn unnamed_unix_sockets_and_peer_inodes_are_no_news() {
    let unix = |over: Value| {
        sock_rec(
            0,
            json!({"proto": "unix", "family": "unix", "type": "stream", "local_addr": null,
                   "local_port": null, "remote_addr": null, "remote_port": null,
                   "peer_inode": null, "processes": [{"pid": 10, "comm": "rsyslogd"}]}),
        )
        .as_object()
        .map(|m| {
            let mut r = Value::Object(m.clone());
            merge(&mut r, over);
            r
        })
        .unwrap_or_default()
    };
    let listener = |inode: u64| {
        unix(json!({"local_addr": "/run/app.sock", "state": "LISTEN", "inode": inode}))
    };
    // A syslog() caller's sending socket: no name, so nothing listens.
    let client = unix(json!({"type": "dgram", "state": "UNCONN", "inode": 5,
                             "processes": [{"pid": 77, "comm": "cron"}]}));
    let conn = |inode: u64, peer: u64| {
        unix(json!({"state": "CONNECTED", "inode": inode, "peer_inode": peer}))
    };
    let before = vec![listener(1), client, conn(2, 3), conn(3, 2)];
    let after = vec![listener(11), conn(12, 13), conn(13, 12)];
    let r = diff(&before, &after, &[]);
    r.expect_code(0);
    assert!(r.stdout.is_empty(), "{r}");
    // With the connections: the unnamed socket is gone, the connected pair
    // is the same pair with new inode numbers.
    let r = diff(&before, &after, &["--connections"]);
    assert_eq!(ops(&r), vec![op("removed", "socket")], "{r}");
    assert_eq!(r.records()[0]["before"]["state"], "UNCONN");
    let r = diff(&before, &after, &["--connections", "--format", "text"]);
    assert!(r.stdout_str().starts_with("# connections\n"), "{r}");
}

#[test]
fn volatile_fields_are_ignored_and_can_be_compared() {
    let before = vec![proc_rec(10, json!({}))];
    let after = vec![proc_rec(
        10,
        json!({"cpu_seconds": 99.0, "rss_bytes": 1, "vsize_bytes": 2, "threads": 9,
               "state": "R", "ppid": 77, "start_time": "2026-11-26T07:00:01Z"}),
    )];
    let r = diff(&before, &after, &[]);
    r.expect_code(0);
    assert!(r.stdout.is_empty(), "{r}");
    let r = diff(&before, &after, &["--compare", "cpu_seconds,process:ppid"]);
    r.expect_code(1);
    assert_eq!(r.records()[0]["fields"], json!(["cpu_seconds", "ppid"]));
    let r = diff(&before, &after, &["--no-ignore"]);
    assert_eq!(
        r.records()[0]["fields"],
        json!([
            "cpu_seconds",
            "ppid",
            "rss_bytes",
            "start_time",
            "state",
            "threads",
            "vsize_bytes"
        ])
    );
}

#[test]
fn ignore_adds_fields() {
    let before = vec![proc_rec(10, json!({})), sock_rec(80, json!({}))];
    let after = vec![
        proc_rec(
            10,
            json!({"cgroup": "/system.slice/other.service", "nice": 5}),
        ),
        sock_rec(80, json!({"uid": 33})),
    ];
    let r = diff(&before, &after, &[]);
    assert_eq!(
        ops(&r),
        vec![op("changed", "process"), op("changed", "socket")]
    );
    assert_eq!(r.records()[0]["fields"], json!(["cgroup", "nice"]));
    let r = diff(
        &before,
        &after,
        &["--ignore", "cgroup", "--ignore", "process:nice"],
    );
    assert_eq!(ops(&r), vec![op("changed", "socket")]);
    let r = diff(&before, &after, &["--ignore", "cgroup,nice,socket:uid"]);
    r.expect_code(0);
}

#[test]
fn deleted_code_is_a_change_and_the_suffix_keeps_identity() {
    let before = vec![proc_rec(10, json!({}))];
    let after = vec![proc_rec(
        10,
        json!({"exe": "/usr/sbin/nginx (deleted)", "exe_deleted": true,
               "deleted_maps": ["/usr/lib/x86_64-linux-gnu/libssl.so.3"]}),
    )];
    let r = diff(&before, &after, &[]);
    r.expect_code(1);
    let recs = r.records();
    assert_eq!(ops(&r), vec![op("changed", "process")]);
    assert_eq!(recs[0]["fields"], json!(["deleted_maps", "exe_deleted"]));
    assert_eq!(recs[0]["key"]["exe"], "/usr/sbin/nginx");
    assert_eq!(recs[0]["after"]["exe"], "/usr/sbin/nginx (deleted)");
}

#[test]
fn stale_files_and_what_to_restart_read_as_files_and_a_command() {
    // A replaced script only (no deleted mapping) is deleted code too.
    let before = vec![proc_rec(10, json!({}))];
    let after = vec![proc_rec(
        10,
        json!({"stale_files": [{"path": "/srv/app.py", "what": "script", "how": "replaced",
                                "interpreter": "python", "package": "app"}],
               "restart": {"by": "unit", "name": "nginx.service", "pid": null,
                           "command": ["systemctl", "restart", "nginx.service"]}}),
    )];
    assert_text_view(
        &before,
        &after,
        &[
            "# processes that run deleted code",
            "~ process www-data@web1 'nginx: worker process' (nginx.service) [pid 10]: restart: - -> systemctl restart nginx.service; stale_files: +/srv/app.py (replaced script, app)",
            "# 1 change: 1 changed",
        ],
    );
}

#[test]
fn non_utf8_argv_is_compared_exactly() {
    let argv = json!([[47, 98, 105, 110, 47, 102, 255], "--flag"]);
    let before = vec![proc_rec(10, json!({"cmdline": argv}))];
    let r = diff(&before, &before, &[]);
    r.expect_code(0);
    // One byte differs: another identity, so another process...
    let other = json!([[47, 98, 105, 110, 47, 102, 254], "--flag"]);
    let after = vec![proc_rec(20, json!({"cmdline": other}))];
    let r = diff(&before, &after, &[]);
    // (in key order: the byte 254 sorts before 255)
    assert_eq!(
        ops(&r),
        vec![op("added", "process"), op("removed", "process")]
    );
    assert_eq!(r.records()[1]["key"]["cmdline"], argv);
    // ... unless it is the same instance, whose argv changed.
    let after = vec![proc_rec(10, json!({"cmdline": other}))];
    let r = diff(&before, &after, &[]);
    assert_eq!(ops(&r), vec![op("changed", "process")]);
    assert_eq!(r.records()[0]["fields"], json!(["cmdline"]));
    assert_eq!(r.records()[0]["key"]["cmdline"], other);
    let r = diff(&before, &after, &["--format", "text"]);
    assert!(
        r.stdout_str()
            .contains("cmdline: '/bin/f'$'\\[-xff-]{+xfe+}' --flag"),
        "{r}"
    );
}

#[test]
fn kernel_threads_are_left_out_unless_asked_for() {
    let kt = |pid: u64, comm: &str| {
        proc_rec(
            pid,
            json!({"kernel_thread": true, "comm": comm, "exe": null, "cmdline": [],
                   "user": "root", "unit": null}),
        )
    };
    let before = vec![kt(5, "kworker/0:1-events"), kt(6, "kswapd0")];
    let after = vec![kt(8, "kworker/0:2-mm_percpu_wq"), kt(6, "kswapd0")];
    diff(&before, &after, &[]).expect_code(0);
    let r = diff(&before, &after, &["--kernel-threads"]);
    assert_eq!(
        ops(&r),
        vec![op("removed", "process"), op("added", "process")]
    );
    assert_eq!(
        r.records()[0]["key"],
        json!({"host": "web1", "comm": "kworker/0:1-events"})
    );
}

#[test]
fn a_process_that_became_a_zombie_is_removed() {
    let live = proc_rec(
        40,
        json!({"comm": "sleep", "exe": "/usr/bin/sleep", "cmdline": ["sleep", "3600"], "state": "S"}),
    );
    let zombie = proc_rec(
        40,
        json!({"comm": "sleep", "exe": null, "cmdline": [], "state": "Z", "exe_deleted": null}),
    );
    let r = diff(
        std::slice::from_ref(&live),
        std::slice::from_ref(&zombie),
        &[],
    );
    r.expect_code(1);
    assert_eq!(ops(&r), vec![op("removed", "process")]);
    assert_eq!(
        r.records()[0]["before"]["cmdline"],
        json!(["sleep", "3600"])
    );
    // A zombie on both sides is no change; --zombies compares them.
    diff(
        std::slice::from_ref(&zombie),
        std::slice::from_ref(&zombie),
        &[],
    )
    .expect_code(0);
    let r = diff(&[live], &[zombie], &["--zombies"]);
    assert_eq!(ops(&r), vec![op("changed", "process")]);
}

#[test]
fn key_makes_plain_json_lines_diffable() {
    let before = "{\"name\":\"a\",\"v\":1}\n{\"name\":\"b\",\"v\":1}\n";
    let after = "{\"name\":\"a\",\"v\":2}\n{\"name\":\"c\",\"v\":1}\n";
    let r = diff_text(before, after, &[]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("before.json:1:") && r.stderr.contains("--key"),
        "{r}"
    );
    r.stdout_empty();
    let r = diff_text(before, after, &["--key", "name"]);
    r.expect_code(1);
    let recs = r.records();
    let got: Vec<(&Value, &Value, &Value)> = recs
        .iter()
        .map(|c| (&c["op"], &c["key"]["name"], &c["fields"]))
        .collect();
    assert_eq!(
        got,
        vec![
            (&json!("changed"), &json!("a"), &json!(["v"])),
            (&json!("removed"), &json!("b"), &json!([])),
            (&json!("added"), &json!("c"), &json!([])),
        ]
    );
    assert_eq!(recs[0]["of"], Value::Null);
    // --ignore works for plain records too.
    let r = diff_text(before, after, &["--key", "name", "--ignore", "v"]);
    assert_eq!(r.records().len(), 2);
}

#[test]
fn key_per_kind_for_other_tools_output() {
    let before = "{\"kind\":\"file\",\"path\":\"/etc/a\",\"sha256\":\"1\"}\n";
    let after = "{\"kind\":\"file\",\"path\":\"/etc/a\",\"sha256\":\"2\"}\n";
    let r = diff_text(before, after, &[]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("kind \"file\"") && r.stderr.contains("--key file:"),
        "{r}"
    );
    let r = diff_text(before, after, &["--key", "file:path"]);
    r.expect_code(1);
    let c = &r.records()[0];
    assert_eq!(
        (&c["op"], &c["of"], &c["fields"]),
        (&json!("changed"), &json!("file"), &json!(["sha256"]))
    );
}

#[test]
fn key_overrides_process_identity() {
    // Keyed by exe only, a changed argv is a change, not added + removed.
    let before = vec![proc_rec(10, json!({}))];
    let after = vec![proc_rec(
        10,
        json!({"cmdline": ["nginx: worker process", "-x"]}),
    )];
    let r = diff(&before, &after, &["--key", "process:host,exe"]);
    assert_eq!(ops(&r), vec![op("changed", "process")]);
    assert_eq!(
        r.records()[0]["key"],
        json!({"host": "web1", "exe": "/usr/sbin/nginx"})
    );
}

#[test]
fn standard_input_for_either_side() {
    let s = Scratch::new("snap-diff-stdin");
    let before = lines(&[proc_rec(10, json!({})), sock_rec(22, json!({}))]);
    let after = lines(&[
        proc_rec(10, json!({})),
        sock_rec(22, json!({})),
        sock_rec(80, json!({})),
    ]);
    let b = s.write("before.json", &before);
    let a = s.write("after.json", &after);
    let r = common::run(
        "snap-diff",
        [b.as_os_str(), "-".as_ref()],
        Some(after.as_bytes()),
    );
    r.expect_code(1);
    assert_eq!(ops(&r), vec![op("added", "socket")]);
    let r = common::run(
        "snap-diff",
        ["-".as_ref(), a.as_os_str()],
        Some(before.as_bytes()),
    );
    assert_eq!(ops(&r), vec![op("added", "socket")]);
    let r = common::run("snap-diff", ["-", "-"], Some(before.as_bytes()));
    r.expect_code(2).stderr_has("standard input");
    // Errors on standard input name it.
    let r = common::run(
        "snap-diff",
        [b.as_os_str(), "-".as_ref()],
        Some(b"{\"kind\":\"process\"}\n"),
    );
    r.expect_code(2);
    assert!(r.stderr.starts_with("snap-diff: <stdin>:1: "), "{r}");
    r.stdout_empty();
}

/// Malformed input: exit 2, `snap-diff: FILE:LINE: ...`, nothing on stdout.
fn assert_malformed(before: &str, after: &str, args: &[&str], file: &str, line: u64, what: &str) {
    let r = diff_text(before, after, args);
    r.expect_code(2);
    assert!(r.stdout.is_empty(), "stdout must be empty\n{r}");
    let prefix = format!("{file}:{line}: ");
    assert!(
        r.stderr.starts_with("snap-diff: ") && r.stderr.contains(&prefix),
        "expected {prefix}\n{r}"
    );
    assert!(r.stderr.contains(what), "expected {what:?}\n{r}");
    assert_eq!(r.stderr.lines().count(), 1, "one line\n{r}");
}

#[test]
fn malformed_input_names_file_and_line() {
    let good = lines(&[proc_rec(10, json!({})), proc_rec(11, json!({}))]);
    let changed = lines(&[proc_rec(10, json!({})), proc_rec(12, json!({}))]);
    assert_malformed(
        &format!("{good}USER PID\n"),
        &changed,
        &[],
        "before.json",
        3,
        "not JSON",
    );
    assert_malformed(
        &good,
        &format!("{changed}\n[1, 2]\n"),
        &[],
        "after.json",
        4,
        "expected a JSON object",
    );
    assert_malformed(
        &good,
        &format!("{good}{{\"kind\":\"proc"),
        &[],
        "after.json",
        3,
        "truncated",
    );
    assert_malformed(
        &format!("{good}{{\"kind\":"),
        &good,
        &[],
        "before.json",
        3,
        "truncated",
    );
    assert_malformed(
        &good,
        &format!("{}{changed}", lines(&[sock_rec(1, json!({}))])),
        &["--kind", "process"],
        "after.json",
        1,
        "--kind",
    );
    let no_unit = lines(&[
        json!({"kind": "process", "host": "h", "user": "u", "exe": null, "cmdline": [], "comm": "x", "boot_id": "b", "pid": 1, "start_ticks": 2}),
    ]);
    assert_malformed(
        &format!("{good}{no_unit}"),
        &good,
        &[],
        "before.json",
        3,
        "\"unit\"",
    );
    assert_malformed(
        &good,
        &format!("{changed}{no_unit}"),
        &[],
        "after.json",
        3,
        "\"unit\"",
    );
    assert_malformed(
        &good,
        &format!("{changed}{{\"kind\":3}}\n"),
        &[],
        "after.json",
        3,
        "\"kind\" is a number",
    );
    assert_malformed(
        &good,
        "{\"kind\":\"check\",\"check\":\"x\"}\n",
        &[],
        "after.json",
        1,
        "no identity",
    );
    let no_port = lines(&[
        json!({"kind": "socket", "host": "h", "netns": null, "proto": "tcp", "family": "inet", "local_addr": "::", "remote_addr": null, "remote_port": null, "state": "LISTEN"}),
    ]);
    assert_malformed(&no_port, &good, &[], "before.json", 1, "\"local_port\"");
    // The same bad line on both sides is still bad (identical lines are
    // not taken on trust).
    assert_malformed(
        &format!("{good}{no_unit}"),
        &format!("{good}{no_unit}"),
        &[],
        "before.json",
        3,
        "\"unit\"",
    );
    // A bad BEFORE line is reported even when AFTER is bad earlier.
    assert_malformed(
        &format!("{good}oops\n"),
        "oops\n",
        &[],
        "before.json",
        3,
        "not JSON",
    );
}

#[test]
fn unreadable_inputs_are_trouble() {
    let s = Scratch::new("snap-diff-missing");
    let r = common::run(
        "snap-diff",
        [s.path().join("nope.json").as_os_str(), s.path().as_os_str()],
        None,
    );
    r.expect_code(2).stderr_has("nope.json: no such file");
    let f = s.write("a.json", "");
    let r = common::run("snap-diff", [f.as_os_str(), s.path().as_os_str()], None);
    r.expect_code(2).stderr_has("is a directory");
    let r = common::run("snap-diff", ["--key", "a,,b", "x", "y"], None);
    r.expect_code(2).stderr_has("empty field name");
}

#[test]
fn empty_snapshots_are_fine() {
    let r = diff_text("", "\n\n", &[]);
    r.expect_code(0);
    let r = diff_text("", &lines(&[sock_rec(22, json!({}))]), &[]);
    assert_eq!(ops(&r), vec![op("added", "socket")]);
}

#[test]
fn output_order_is_stable() {
    // Kind, then key, then op, however the input is ordered.
    let before = vec![
        sock_rec(90, json!({})),
        proc_rec(10, json!({"user": "b"})),
        proc_rec(11, json!({"user": "a"})),
    ];
    let after = vec![sock_rec(70, json!({})), proc_rec(12, json!({"user": "z"}))];
    let r = diff(&before, &after, &[]);
    let recs = r.records();
    let keys: Vec<String> = recs
        .iter()
        .map(|c| {
            format!(
                "{} {} {}",
                c["of"],
                c["op"],
                c["key"]["user"]
                    .as_str()
                    .map_or(c["key"]["local_port"].to_string(), str::to_owned)
            )
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            "\"process\" \"removed\" a",
            "\"process\" \"removed\" b",
            "\"process\" \"added\" z",
            "\"socket\" \"added\" 70",
            "\"socket\" \"removed\" 90",
        ]
    );
    let mut rev_b = before.clone();
    rev_b.reverse();
    let again = diff(&rev_b, &after, &[]);
    assert_eq!(again.stdout, r.stdout);
}

#[test]
fn text_view_puts_deleted_code_and_listeners_first() {
    let before = vec![
        proc_rec(10, json!({})),
        proc_rec(
            20,
            json!({"comm": "python3", "exe": "/usr/bin/python3", "cmdline": ["python3", "-m", "http.server", "8000"], "unit": "web.service"}),
        ),
        proc_rec(
            30,
            json!({"comm": "cron", "exe": "/usr/sbin/cron", "cmdline": ["/usr/sbin/cron", "-f"], "unit": "cron.service", "cgroup": "/system.slice/cron.service"}),
        ),
        sock_rec(25, json!({"processes": [{"pid": 4, "comm": "master"}]})),
    ];
    let after = vec![
        proc_rec(
            10,
            json!({"exe_deleted": true, "exe": "/usr/sbin/nginx (deleted)"}),
        ),
        proc_rec(
            21,
            json!({"comm": "python3", "exe": "/usr/bin/python3", "cmdline": ["python3", "-m", "http.server", "8000"], "unit": "web.service"}),
        ),
        proc_rec(
            30,
            json!({"comm": "cron", "exe": "/usr/sbin/cron", "cmdline": ["/usr/sbin/cron", "-f"], "unit": "cron.service", "cgroup": "/system.slice/cron.service/extra"}),
        ),
        sock_rec(
            8080,
            json!({"family": "inet6", "local_addr": "::1", "processes": [{"pid": 5, "comm": "python3"}]}),
        ),
    ];
    assert_text_view(
        &before,
        &after,
        &[
            "# processes that run deleted code",
            "~ process www-data@web1 'nginx: worker process' (nginx.service) [pid 10]: runs deleted executable /usr/sbin/nginx",
            "# listening and unconnected sockets",
            "- socket web1 tcp 127.0.0.1:25 LISTEN (master)",
            "+ socket web1 tcp [::1]:8080 LISTEN (python3)",
            "# processes",
            "R process www-data@web1 python3 -m http.server 8000 (web.service) [pid 20 -> 21]",
            "~ process www-data@web1 /usr/sbin/cron -f (cron.service) [pid 30]: cgroup: /system.slice/cron.service{+/extra+}",
            "# 5 changes: 1 removed, 1 added, 1 restarted, 2 changed",
        ],
    );
}

#[test]
fn a_changed_argv_shows_the_changed_words() {
    let before = "{\"name\":\"x\",\"cmd\":\"/usr/bin/app --port 8000 --verbose\"}\n";
    let after = "{\"name\":\"x\",\"cmd\":\"/usr/bin/app --port 9000 --verbose\"}\n";
    let r = diff_text(before, after, &["--key", "name", "--format", "text"]);
    assert!(
        r.stdout_str()
            .contains("~ name=x: cmd: /usr/bin/app --port [-8000-]{+9000+} --verbose"),
        "{r}"
    );
}

#[test]
fn quiet_on_a_closed_pipe() {
    let s = Scratch::new("snap-diff-pipe");
    let before: Vec<Value> = (0..3000)
        .map(|p| proc_rec(p, json!({"cmdline": [format!("w{p}")]})))
        .collect();
    let b = s.write("before.json", lines(&before));
    let a = s.write("after.json", "");
    common::assert_quiet_on_closed_pipe(
        "snap-diff",
        &[b.to_str().expect("utf8"), a.to_str().expect("utf8")],
    );
}

#[test]
fn snap_diff_leaves_out_its_own_process() {
    // `ps-snap | snap-diff before.json -`: ps-snap sees snap-diff running.
    // A record with this run's boot id, pid and start ticks is left out;
    // the test cannot know the pid in advance, so snap-diff reads a record
    // about itself that the test writes from a shell wrapper.
    let s = Scratch::new("snap-diff-own");
    let b = s.write("before.json", lines(&[proc_rec(10, json!({}))]));
    let script = format!(
        "boot=$(cat /proc/sys/kernel/random/boot_id); \
         ticks=$(sed 's/.*) //' /proc/$$/stat | cut -d' ' -f20); \
         {{ cat {b}; printf '%s\\n' \"{{\\\"kind\\\":\\\"process\\\",\\\"host\\\":\\\"web1\\\",\\\"boot_id\\\":\\\"$boot\\\",\\\"pid\\\":$$,\\\"start_ticks\\\":$ticks,\\\"user\\\":\\\"root\\\",\\\"exe\\\":\\\"/usr/bin/snap-diff\\\",\\\"cmdline\\\":[\\\"snap-diff\\\"],\\\"unit\\\":null,\\\"comm\\\":\\\"snap-diff\\\"}}\"; }} > {dir}/after.json; \
         exec {bin} {b} {dir}/after.json",
        b = b.display(),
        dir = s.path().display(),
        bin = common::bin("snap-diff").display(),
    );
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", &script]);
    let r = common::run_cmd(cmd, None);
    r.expect_code(0);
    assert!(r.stdout.is_empty(), "{r}");
    // The same record seen from another process is a change.
    let a = std::fs::read_to_string(s.path().join("after.json")).expect("after.json");
    let r = diff_text(&lines(&[proc_rec(10, json!({}))]), &a, &[]);
    assert_eq!(ops(&r), vec![op("added", "process")]);
}

#[test]
fn large_snapshots_are_checked_and_diffed_in_full() {
    // Over 8 MiB, so BEFORE is checked in several runs at once.
    let pad = "x".repeat(350);
    let before: Vec<Value> = (0..12_000u64)
        .map(|p| proc_rec(p, json!({"cmdline": [format!("w{}", p / 4), pad.clone()]})))
        .collect();
    let mut after = before.clone();
    after[100]["cpu_seconds"] = json!(77.0); // volatile: no change
    after[200]["pid"] = json!(99_999); // restarted
    after[300]["exe_deleted"] = json!(true); // changed
    after.remove(11_000); // removed
    assert!(
        lines(&before).len() > 9 << 20,
        "big enough for several runs"
    );
    let r = diff(&before, &after, &[]);
    r.expect_code(1);
    let recs = r.records();
    let got: Vec<(&Value, &Value)> = recs
        .iter()
        .map(|c| (&c["op"], &c["before"]["pid"]))
        .collect();
    // In key order: argv "w2750" < "w50" < "w75".
    assert_eq!(
        got,
        vec![
            (&json!("removed"), &json!(11_000)),
            (&json!("restarted"), &json!(200)),
            (&json!("changed"), &json!(300)),
        ]
    );
    // A bad line late in BEFORE is found, with its line number.
    let text = format!(
        "{}{{oops}}\n{}",
        lines(&before[..11_990]),
        lines(&before[11_990..])
    );
    let r = diff_text(&text, &lines(&after), &[]);
    r.expect_code(2)
        .stderr_has("before.json:11991: not JSON")
        .stdout_empty();
    // AFTER differs on every line (only in cpu time, so nothing changed),
    // and then has a bad line late: found, with its line number.
    let busy: Vec<Value> = before
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r["cpu_seconds"] = json!(9.5);
            r
        })
        .collect();
    let r = diff(&before, &busy, &[]);
    r.expect_code(0);
    assert!(r.stdout.is_empty(), "{r}");
    let text = format!(
        "{}{{\"kind\":5}}\n{}",
        lines(&busy[..11_990]),
        lines(&busy[11_990..])
    );
    let r = diff_text(&lines(&before), &text, &[]);
    r.expect_code(2)
        .stderr_has("after.json:11991: \"kind\" is a number")
        .stdout_empty();
}

#[test]
fn a_new_argv_of_the_same_process_is_a_change_not_a_new_process() {
    // setproctitle, an exec in place, a dropped privilege: same pid and
    // start, other identity fields.
    let before = vec![
        proc_rec(10, json!({"cmdline": ["postgres: checkpointer"]})),
        proc_rec(11, json!({"user": "root"})),
    ];
    let after = vec![
        proc_rec(
            10,
            json!({"cmdline": ["postgres: checkpointer", "idle"], "cpu_seconds": 3.0}),
        ),
        proc_rec(11, json!({})),
        proc_rec(12, json!({"cmdline": ["postgres: checkpointer"]})),
    ];
    let r = diff(&before, &after, &[]);
    r.expect_code(1);
    let recs = r.records();
    let got: Vec<(&Value, &Value, &Value)> = recs
        .iter()
        .map(|c| (&c["op"], &c["after"]["pid"], &c["fields"]))
        .collect();
    assert_eq!(
        got,
        vec![
            (&json!("changed"), &json!(11), &json!(["user"])),
            (&json!("changed"), &json!(10), &json!(["cmdline"])),
            (&json!("added"), &json!(12), &json!([])),
        ]
    );
    // Keyed by the identity it has now.
    assert_eq!(
        recs[1]["key"]["cmdline"],
        json!(["postgres: checkpointer", "idle"])
    );
    assert_eq!(
        recs[1]["before"]["cmdline"],
        json!(["postgres: checkpointer"])
    );
    // A program that rewrites its argv as it works: quiet with
    // --ignore process:cmdline (the new worker is still new).
    let r = diff(&before, &after, &["--ignore", "process:cmdline"]);
    let recs = r.records();
    let got: Vec<(&Value, &Value)> = recs
        .iter()
        .map(|c| (&c["op"], &c["after"]["pid"]))
        .collect();
    assert_eq!(
        got,
        vec![
            (&json!("changed"), &json!(11)),
            (&json!("added"), &json!(12))
        ],
        "{r}"
    );
}

#[test]
fn help_spells_out_identity_and_ignored_fields() {
    let r = common::run("snap-diff", ["--help"], None);
    r.expect_code(0);
    let h = r.stdout_str();
    for want in [
        "process  host, user, exe, cmdline, unit",
        "instance: boot_id, pid, start_ticks",
        "socket   host, netns, proto, family, local_addr, local_port",
        "socket   inode, peer_inode, recv_q, send_q, processes[].pid",
    ] {
        assert!(h.contains(want), "{want:?} missing\n{h}");
    }
}

#[test]
fn a_kind_on_one_side_only_is_not_compared_but_named() {
    // `{ ps-snap; net-snap; } > before.json`, later `ps-snap | snap-diff
    // before.json -`: the sockets did not vanish, they were not taken.
    let s = Scratch::new("snap-diff-one-sided");
    let b = s.write(
        "before.json",
        lines(&[
            proc_rec(10, json!({})),
            sock_rec(22, json!({})),
            sock_rec(80, json!({})),
        ]),
    );
    let after = lines(&[proc_rec(10, json!({})), proc_rec(11, json!({}))]);
    let r = common::run(
        "snap-diff",
        [b.as_os_str(), "-".as_ref()],
        Some(after.as_bytes()),
    );
    r.expect_code(1);
    assert_eq!(ops(&r), vec![op("added", "process")], "{r}");
    assert!(
        r.stderr.contains("<stdin> has no \"socket\" records")
            && r.stderr.contains("before.json has"),
        "{r}"
    );
    assert_eq!(r.stderr.lines().count(), 1, "{r}");
    // Nothing else changed: exit 0, and still the note.
    let after = lines(&[proc_rec(10, json!({}))]);
    let r = common::run(
        "snap-diff",
        [b.as_os_str(), "-".as_ref()],
        Some(after.as_bytes()),
    );
    r.expect_code(0);
    assert!(
        r.stdout.is_empty() && r.stderr.contains("not compared"),
        "{r}"
    );
    // An empty side is compared with everything: all of it is new.
    let r = diff_text(
        "",
        &lines(&[proc_rec(10, json!({})), sock_rec(22, json!({}))]),
        &[],
    );
    assert_eq!(ops(&r), vec![op("added", "process"), op("added", "socket")]);
    assert!(r.stderr.is_empty(), "{r}");
}

#[test]
fn two_sides_without_a_kind_in_common_are_trouble() {
    // ps-snap's file against net-snap's: nothing compared is not "no change".
    let r = diff_text(
        &lines(&[proc_rec(10, json!({}))]),
        &lines(&[sock_rec(22, json!({}))]),
        &[],
    );
    r.expect_code(2);
    assert!(r.stdout.is_empty(), "{r}");
    assert_eq!(r.stderr.lines().count(), 1, "{r}");
    assert!(
        r.stderr
            .contains("before.json holds only \"process\" records")
            && r.stderr.contains("after.json only \"socket\" records"),
        "{r}"
    );
    // One kind in common is enough to compare that kind.
    let r = diff_text(
        &lines(&[proc_rec(10, json!({}))]),
        &lines(&[proc_rec(10, json!({})), sock_rec(22, json!({}))]),
        &[],
    );
    r.expect_code(0);
}

#[test]
fn the_workspace_kinds_are_paired_by_their_identity() {
    // A unit whose state changed is one change, keyed by host and name; the
    // same name on another host is another unit.
    let unit = |host: &str, state: &str| json!({"kind": "unit", "host": host, "name": "ssh.service", "state": state});
    let r = diff(
        &[unit("web1", "disabled"), unit("web2", "disabled")],
        &[unit("web1", "enabled"), unit("web2", "disabled")],
        &[],
    );
    r.expect_code(1);
    assert_eq!(ops(&r), vec![op("changed", "unit")]);
    assert_eq!(
        r.records()[0]["key"],
        json!({"host": "web1", "name": "ssh.service"})
    );
    assert_eq!(r.records()[0]["fields"], json!(["state"]));
    // A verify record without its identity is malformed, and says which
    // fields identify it.
    let r = diff(
        &[json!({"kind": "verify", "host": "h", "path": "/bin/ls"})],
        &[],
        &[],
    );
    r.expect_code(2).stderr_has("\"problem\"");
    // --key still overrides the built-in identity: by name alone, the
    // unit moved hosts.
    let r = diff(
        &[unit("web1", "disabled")],
        &[unit("web2", "disabled")],
        &["--key", "unit:name"],
    );
    r.expect_code(1);
    assert_eq!(r.records()[0]["key"], json!({"name": "ssh.service"}));
    assert_eq!(r.records()[0]["fields"], json!(["host"]));
}

#[test]
fn snapshot_names_that_are_not_utf8_are_read() {
    use std::os::unix::ffi::OsStrExt;
    let s = Scratch::new("snap-diff-bytes");
    let b = s
        .path()
        .join(std::ffi::OsStr::from_bytes(b"before-\xff.json"));
    std::fs::write(&b, lines(&[proc_rec(10, json!({}))])).expect("write");
    let a = s.write("after.json", "");
    let r = common::run("snap-diff", [b.as_os_str(), a.as_os_str()], None);
    r.expect_code(1);
    assert_eq!(ops(&r), vec![op("removed", "process")]);
    // A missing one is named in the message, its byte shown lossily.
    let gone = s
        .path()
        .join(std::ffi::OsStr::from_bytes(b"gone-\xfe.json"));
    let r = common::run("snap-diff", [gone.as_os_str(), a.as_os_str()], None);
    r.expect_code(2).stderr_has("gone-\u{fffd}.json");
}

#[test]
fn the_text_view_names_each_deleted_file_in_a_clause_of_its_own() {
    let before = vec![proc_rec(10, json!({}))];
    let after = vec![proc_rec(
        10,
        json!({"exe_deleted": true, "exe": "/usr/sbin/nginx (deleted)",
               "deleted_maps": ["/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"]}),
    )];
    let r = diff(&before, &after, &["--format", "text"]);
    r.expect_code(1);
    let text = r.stdout_str();
    assert!(
        text.contains(
            "[pid 10]: runs deleted executable /usr/sbin/nginx; \
             maps deleted /usr/lib/x86_64-linux-gnu/libssl.so.3; \
             maps deleted /usr/lib/x86_64-linux-gnu/libcrypto.so.3\n"
        ),
        "{r}"
    );
    assert!(!text.contains("file(s)"), "{r}");
    // A restart that left one library behind says which.
    let later = vec![proc_rec(
        11,
        json!({"deleted_maps": ["/usr/lib/x86_64-linux-gnu/libcrypto.so.3"]}),
    )];
    let r = diff(&after, &later, &["--format", "text"]);
    r.stdout_has(
        "[pid 10 -> 11]: maps deleted /usr/lib/x86_64-linux-gnu/libcrypto.so.3; \
             no longer maps deleted /usr/lib/x86_64-linux-gnu/libssl.so.3",
    );
}

#[test]
fn the_text_view_names_the_network_namespace_where_it_tells_sockets_apart() {
    // Port 80 moved from one container's namespace to another's.
    let before = vec![sock_rec(
        80,
        json!({"netns": 4026532001u64, "local_addr": "0.0.0.0"}),
    )];
    let after = vec![sock_rec(
        80,
        json!({"netns": 4026532002u64, "local_addr": "0.0.0.0"}),
    )];
    let r = diff(&before, &after, &["--format", "text"]);
    r.expect_code(1);
    let text = r.stdout_str();
    assert!(
        text.contains("- socket web1 in net:[4026532001] tcp 0.0.0.0:80 LISTEN"),
        "{r}"
    );
    assert!(
        text.contains("+ socket web1 in net:[4026532002] tcp 0.0.0.0:80 LISTEN"),
        "{r}"
    );
    // One namespace: nothing to tell apart, the line stays short.
    let after = vec![sock_rec(
        81,
        json!({"netns": 4026532001u64, "local_addr": "0.0.0.0"}),
    )];
    let r = diff(&before, &after, &["--format", "text"]);
    assert!(
        r.stdout_str()
            .contains("+ socket web1 tcp 0.0.0.0:81 LISTEN"),
        "{r}"
    );
}

#[test]
fn look_alike_processes_of_other_sessions_are_not_a_restart() {
    // Two login shells of two ssh sessions, in the same unit (no
    // pam_systemd: both in ssh.service), under different parents and
    // terminals: one session ended, another began.
    let shell = |pid: u64, ppid: u64, tty: &str| {
        proc_rec(
            pid,
            json!({"comm": "bash", "exe": "/usr/bin/bash", "cmdline": ["-bash"], "user": "alice",
                   "ppid": ppid, "tty": tty, "unit": "ssh.service", "cgroup": "/system.slice/ssh.service"}),
        )
    };
    let sshd = |pid: u64, tty: &str| {
        proc_rec(
            pid,
            json!({"comm": "sshd", "exe": "/usr/sbin/sshd", "cmdline": [format!("sshd: alice@{tty}")], "user": "alice",
                   "ppid": 500, "unit": "ssh.service", "cgroup": "/system.slice/ssh.service"}),
        )
    };
    let before = vec![sshd(600, "pts/0"), shell(601, 600, "pts/0")];
    let after = vec![sshd(700, "pts/3"), shell(701, 700, "pts/3")];
    let r = diff(&before, &after, &[]);
    r.expect_code(1);
    let got = ops(&r);
    assert!(!got.contains(&op("restarted", "process")), "{r}");
    assert_eq!(
        got.iter().filter(|o| **o == op("added", "process")).count(),
        2,
        "{r}"
    );

    // A service restarted: the master under the same parent (pid 1), its
    // workers under masters of the same identity.
    let master = |pid: u64| {
        proc_rec(
            pid,
            json!({"cmdline": ["nginx: master process /usr/sbin/nginx"], "ppid": 1}),
        )
    };
    let worker = |pid: u64, ppid: u64| proc_rec(pid, json!({"ppid": ppid}));
    let before = vec![master(100), worker(101, 100), worker(102, 100)];
    let after = vec![master(200), worker(201, 200), worker(202, 200)];
    let r = diff(&before, &after, &[]);
    r.expect_code(1);
    assert_eq!(ops(&r), vec![op("restarted", "process"); 3], "{r}");
}

/// The argv bash reads back from a command line shown in a text view.
fn bash_argv(line: &str) -> Vec<Vec<u8>> {
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("printf '%s\\0' {line}"))
        .output()
        .expect("run bash");
    assert!(out.status.success(), "bash -c on: {line}");
    let mut words: Vec<Vec<u8>> = out.stdout.split(|&b| b == 0).map(<[u8]>::to_vec).collect();
    words.pop();
    words
}

/// Hostile argv words: quotes, backslashes, a newline, `$`, an escape
/// sequence, bytes that are not UTF-8.
fn hostile() -> Vec<Vec<u8>> {
    vec![
        b"it's".to_vec(),
        // Empty, not last: the kernel's argv cannot tell a trailing empty
        // word from padding.
        b"".to_vec(),
        b"a\\b".to_vec(),
        b"x\ny".to_vec(),
        b"$HOME $(id)".to_vec(),
        b"\"q\"".to_vec(),
        b"\x1b[31m".to_vec(),
        b"caf\xe9\xff".to_vec(),
    ]
}

#[test]
fn a_command_in_the_text_view_pastes_back_as_the_same_argv() {
    let argv: Vec<Value> = std::iter::once(b"/usr/bin/app".to_vec())
        .chain(hostile())
        .map(|w| match String::from_utf8(w.clone()) {
            Ok(s) => json!(s),
            Err(_) => json!(w),
        })
        .collect();
    let after = vec![proc_rec(10, json!({"cmdline": argv, "unit": null}))];
    let r = diff(&[], &after, &["--format", "text"]);
    r.expect_code(1);
    let text = r.stdout_str();
    let l = text
        .lines()
        .find(|l| l.starts_with("+ process "))
        .unwrap_or_else(|| panic!("no process line\n{r}"));
    assert!(!l.bytes().any(|b| b.is_ascii_control()), "{l:?}");
    let cmd = l
        .strip_prefix("+ process www-data@web1 ")
        .and_then(|l| l.strip_suffix(" [pid 10]"))
        .unwrap_or_else(|| panic!("unexpected line {l:?}"));
    let mut want = vec![b"/usr/bin/app".to_vec()];
    want.extend(hostile());
    assert_eq!(bash_argv(cmd), want, "{cmd}");
}

/// ps-snap's text view and snap-diff's, of a real process with a hostile
/// argv: both lines paste back into a shell as that argv.
#[test]
fn a_real_process_with_a_hostile_argv_pastes_back_from_both_text_views() {
    use std::os::unix::ffi::OsStrExt;
    let s = Scratch::new("hostile-argv");
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c").arg("sleep 30; :").arg("sh-hostile");
    for w in hostile() {
        cmd.arg(std::ffi::OsStr::from_bytes(&w));
    }
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .spawn()
        .expect("spawn sh");
    let pid = child.id().to_string();
    let mut want: Vec<Vec<u8>> = vec![
        b"sh".to_vec(),
        b"-c".to_vec(),
        b"sleep 30; :".to_vec(),
        b"sh-hostile".to_vec(),
    ];
    want.extend(hostile());
    // The kernel's view of the argv must be what was asked (it is read
    // before anything is compared).
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if seen.split(|&b| b == 0).count() > want.len() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let text = common::run("ps-snap", ["--pid", &pid, "--format", "text"], None);
    let json = common::run("ps-snap", ["--pid", &pid], None);
    let _ = child.kill();
    let _ = child.wait();
    assert!(!seen.is_empty(), "no /proc/{pid}/cmdline");
    text.expect_code(0);
    json.expect_code(0);

    // ps-snap: the CMD column follows seven columns.
    let row = text
        .stdout_str()
        .lines()
        .nth(1)
        .unwrap_or_else(|| panic!("no row\n{text}"))
        .to_owned();
    let mut rest = row.as_str();
    for _ in 0..7 {
        rest = rest.trim_start();
        rest = &rest[rest.find(' ').unwrap_or(rest.len())..];
    }
    let shown = rest.trim_start();
    assert!(!shown.bytes().any(|b| b.is_ascii_control()), "{row:?}");
    assert_eq!(bash_argv(shown), want, "ps-snap row: {row}");

    // snap-diff: the process is new since an empty snapshot.
    let before = s.write("before.json", "");
    let after = s.write("after.json", &json.stdout);
    let r = common::run(
        "snap-diff",
        [
            std::ffi::OsStr::new("--format"),
            std::ffi::OsStr::new("text"),
            before.as_os_str(),
            after.as_os_str(),
        ],
        None,
    );
    r.expect_code(1);
    let out = r.stdout_str();
    let l = out
        .lines()
        .find(|l| l.starts_with("+ process "))
        .unwrap_or_else(|| panic!("no process line\n{r}"));
    let (_, tail) = l
        .split_once(' ')
        .and_then(|(_, x)| x.split_once(' '))
        .expect("line");
    // After `+ process USER@HOST `, up to the unit or the pid.
    let (_, cmdline) = tail.split_once(' ').expect("user@host");
    let cmdline = cmdline.rsplit_once(" [pid ").map(|(c, _)| c).expect("pid");
    let cmdline = match cmdline.rfind(" (") {
        Some(i) if cmdline.ends_with(')') => &cmdline[..i],
        _ => cmdline,
    };
    assert_eq!(bash_argv(cmdline), want, "snap-diff line: {l}");
}

/// The `change` records snap-diff writes fit common's `change` type field
/// for field and byte for byte, over snapshots that ps-snap and net-snap
/// wrote of this machine (a child of ours with a non-UTF-8 argv added, a
/// listener of ours added), a reboot between two snapshots of one tree,
/// and package records with a version moved and a cached file to go back
/// to.
#[test]
fn change_records_fit_their_type() {
    use std::os::unix::ffi::OsStrExt;
    let s = Scratch::new("snap-diff-typed");
    let take = |tool: &str, name: &str, args: &[&str]| {
        let r = common::run(tool, args, None);
        assert_eq!(r.code(), 0, "{r}");
        s.write(name, &r.stdout)
    };
    let diffed = |b: &std::path::Path, a: &std::path::Path, args: &[&str]| {
        let mut argv: Vec<String> = args.iter().map(|x| (*x).to_owned()).collect();
        argv.push(b.display().to_string());
        argv.push(a.display().to_string());
        let r = common::run("snap-diff", &argv, None);
        assert_eq!(r.code(), 1, "{r}");
        common::assert_typed(&r)
    };

    // Live processes: a child with a non-UTF-8 argv comes.
    let pb = take("ps-snap", "ps-before.json", &["--no-maps"]);
    let mut child = std::process::Command::new("sh")
        .args(["-c", "sleep 30; :", "snap-diff-typed"])
        .arg(std::ffi::OsStr::from_bytes(b"caf\xe9"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn sh");
    for _ in 0..200 {
        let argv = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap_or_default();
        if argv.ends_with(b"caf\xe9\0") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let pa = take("ps-snap", "ps-after.json", &["--no-maps"]);
    let _ = child.kill();
    let _ = child.wait();
    let changes = diffed(&pb, &pa, &[]);
    assert!(
        changes.iter().any(|c| c["op"] == "added"
            && c["after"]["cmdline"].get(4) == Some(&json!([99, 97, 102, 233]))),
        "{changes:?}"
    );

    // Live sockets: a listener comes.
    let nb = take("net-snap", "net-before.json", &[]);
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let na = take("net-snap", "net-after.json", &[]);
    drop(l);
    let changes = diffed(&nb, &na, &[]);
    assert!(
        changes
            .iter()
            .any(|c| c["op"] == "added" && c["after"]["local_port"] == port),
        "{changes:?}"
    );

    // A reboot: the snapshot before, as if taken after a boot.
    let before = std::fs::read_to_string(&pb).expect("read");
    let boot = serde_json::from_str::<Value>(before.lines().next().expect("a process"))
        .expect("json")["boot_id"]
        .as_str()
        .expect("boot id")
        .to_owned();
    let ra = s.write(
        "ps-rebooted.json",
        before.replace(&boot, "00000000-0000-4000-8000-000000000000"),
    );
    let changes = diffed(&pb, &ra, &[]);
    assert!(changes.iter().any(|c| c["op"] == "reboot"), "{changes:?}");

    // Packages: an upgrade whose old version is in the cache, a package
    // whose other field changed (direction null), one added.
    use ::common::records::package::Package;
    let pkg = |name: &str, version: &str, cached: &[&str]| {
        let mut p = Package::new("dpkg", name);
        p.host = Some("h".into());
        p.arch = Some("amd64".into());
        p.version = Some(version.into());
        p.cached = cached.iter().map(|c| (*c).to_owned()).collect();
        serde_json::to_string(&p).expect("package record")
    };
    let held = |line: String| line.replace("\"held\":null", "\"held\":true");
    let b = s.write(
        "pkg-before.json",
        format!("{}\n{}\n", pkg("a", "1.0-1", &[]), pkg("b", "2.0", &[])),
    );
    let a = s.write(
        "pkg-after.json",
        format!(
            "{}\n{}\n{}\n",
            pkg("a", "1.1-1", &["/var/cache/apt/archives/a_1.0-1_amd64.deb"]),
            held(pkg("b", "2.0", &[])),
            pkg("c", "3", &[])
        ),
    );
    let changes = diffed(&b, &a, &[]);
    assert!(
        changes
            .iter()
            .any(|c| c["direction"] == "upgrade" && c["rollback"].is_string()),
        "{changes:?}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c.get("direction") == Some(&Value::Null)),
        "{changes:?}"
    );
}
