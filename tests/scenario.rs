//! The patch-day scenario end to end, with real processes and sockets:
//! snapshot processes and sockets, start a service that listens on
//! 127.0.0.1, stop another, restart a third, snapshot again; snap-diff must
//! name exactly those and nothing else.
//!
//! "Nothing else" can only be asserted on a quiet system, so the scenario
//! runs in fresh PID and network namespaces (`unshare --pid --net
//! --mount-proc`): inside, the only processes and sockets are the ones the
//! scenario starts, and the tools read that namespace's /proc exactly as they
//! read the host's. This needs root (CI runs as root); without it the test
//! says SKIP.

use crate::common;

use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

/// Not a test on its own: when the scenario starts this test binary with
/// `PATCHDAY_SCENARIO_ROLE=listen`, it plays the new service that opens a
/// listener, and stays up for a bounded time.
#[test]
fn scenario_listener_role() {
    if std::env::var_os("PATCHDAY_SCENARIO_ROLE").as_deref() != Some("listen".as_ref()) {
        return;
    }
    let l = TcpListener::bind("127.0.0.1:8631").expect("bind 127.0.0.1:8631");
    std::thread::sleep(Duration::from_secs(60));
    drop(l);
}

const SCRIPT: &str = r#"
set -eu
ip link set lo up
cd "$WORK"
# A background job is a copy of this shell until it has exec'd: wait for
# that, or a snapshot may catch the copy instead of the program.
execd() {
  for _ in $(seq 200); do
    [ "$(readlink "/proc/$1/exe")" != "$(readlink /proc/$$/exe)" ] && return 0
    sleep 0.01
  done
  return 1
}
sleep 3001 & STOP=$!
sleep 3002 & RESTART=$!
execd "$STOP"; execd "$RESTART"
"$PS_SNAP" > before-ps.json
"$NET_SNAP" > before-net.json
kill "$STOP" "$RESTART"
wait "$STOP" "$RESTART" 2>/dev/null || true
sleep 3002 & RESTARTED=$!
execd "$RESTARTED"
PATCHDAY_SCENARIO_ROLE=listen "$SELF" --exact scenario::scenario_listener_role --test-threads 1 >/dev/null 2>&1 & SERVICE=$!
for i in $(seq 100); do
  "$NET_SNAP" -t -l | grep -q '"local_port":8631' && break
  sleep 0.1
done
"$PS_SNAP" > after-ps.json
"$NET_SNAP" > after-net.json
kill "$RESTARTED" "$SERVICE"
wait 2>/dev/null || true
"#;

fn changes(before: &str, after: &str) -> Vec<Value> {
    let r = common::run("snap-diff", [before, after], None);
    r.expect_code(1);
    r.records()
}

fn argv(rec: &Value) -> Vec<String> {
    rec["cmdline"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
#[ignore = "run as root: the scenario needs root for unshare --pid --net"]
fn patch_day_scenario_names_exactly_what_changed() {
    require_root!("the scenario needs root for unshare --pid --net");
    let probe = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "--net", "true"])
        .output();
    if !matches!(&probe, Ok(o) if o.status.success()) {
        common::skip("unshare --pid --net is not available here");
        return;
    }
    let work = common::Scratch::new("scenario");
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--pid",
        "--fork",
        "--mount-proc",
        "--net",
        "bash",
        "-c",
        SCRIPT,
    ])
    .env("WORK", work.path())
    .env("PS_SNAP", common::bin("ps-snap"))
    .env("NET_SNAP", common::bin("net-snap"))
    .env("SELF", std::env::current_exe().expect("test binary path"));
    let run = common::run_cmd(cmd, None);
    run.expect_code(0);

    let p = |n: &str| work.path().join(n).to_string_lossy().into_owned();

    // Processes: one stopped, one restarted, one started; nothing else.
    let procs = changes(&p("before-ps.json"), &p("after-ps.json"));
    let mut seen: Vec<(String, Vec<String>)> = procs
        .iter()
        .map(|c| {
            assert_eq!(c["kind"], "change", "{c}");
            assert_eq!(c["of"], "process", "{c}");
            let rec = if c["after"].is_null() {
                &c["before"]
            } else {
                &c["after"]
            };
            (c["op"].as_str().unwrap_or("?").to_owned(), argv(rec))
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen.len(),
        3,
        "expected exactly three process changes: {procs:#?}"
    );
    assert_eq!(seen[0].0, "added", "{procs:#?}");
    assert!(
        seen[0]
            .1
            .iter()
            .any(|a| a == "scenario::scenario_listener_role"),
        "the started service: {procs:#?}"
    );
    assert_eq!(
        seen[1],
        (
            "removed".to_owned(),
            vec!["sleep".to_owned(), "3001".to_owned()]
        )
    );
    assert_eq!(
        seen[2],
        (
            "restarted".to_owned(),
            vec!["sleep".to_owned(), "3002".to_owned()]
        )
    );
    let restarted = procs
        .iter()
        .find(|c| c["op"] == "restarted")
        .expect("restart");
    assert_ne!(restarted["before"]["pid"], restarted["after"]["pid"]);

    // Sockets: exactly the new listener, owned by the new service.
    let socks = changes(&p("before-net.json"), &p("after-net.json"));
    assert_eq!(
        socks.len(),
        1,
        "expected exactly one socket change: {socks:#?}"
    );
    let c = &socks[0];
    assert_eq!(c["op"], "added");
    assert_eq!(c["of"], "socket");
    assert_eq!(c["after"]["proto"], "tcp");
    assert_eq!(c["after"]["state"], "LISTEN");
    assert_eq!(c["after"]["local_addr"], "127.0.0.1");
    assert_eq!(c["after"]["local_port"], 8631);
    let service_pid = procs
        .iter()
        .find(|c| c["op"] == "added")
        .and_then(|c| c["after"]["pid"].as_u64())
        .expect("service pid");
    let owners: Vec<u64> = c["after"]["processes"]
        .as_array()
        .expect("owners known as root")
        .iter()
        .filter_map(|o| o["pid"].as_u64())
        .collect();
    assert_eq!(owners, vec![service_pid], "{c}");
}
