//! End-to-end tests of net-snap: a fixture /proc tree built in a scratch
//! directory (every table, every TCP state, owners as fd symlinks) read
//! through `--root`, and the live system with sockets this test opens
//! itself on 127.0.0.1, ::1 and a Unix path, each found with its owner.

use crate::common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::unix::fs::symlink;
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::Command;

use crate::common::fixtures::procfs::{net_line as line, NET_HDR as HDR};
use crate::common::{run, Scratch};
use serde_json::{json, Value};

/// A /proc/net/{tcp,udp,raw}{,6} table: the header and one line a row
/// (local, remote, state, uid, inode), numbered from 0.
fn table(rows: &[(&str, &str, u8, u32, u64)]) -> String {
    let mut t = String::from(HDR);
    for (n, (local, remote, st, uid, inode)) in rows.iter().enumerate() {
        t.push_str(&line(n, local, remote, *st, *uid, *inode));
    }
    t
}

/// A system tree with every table and a few owners:
/// pid 100 and 101 (sshd, pre-forked) share the listener 1001 (100 holds it
/// twice), pid 200 (comm not UTF-8) holds 2001 and the unix listener 5001;
/// pid 300 lives in another network namespace with its own tcp table.
fn fixture() -> Scratch {
    let s = Scratch::new("net-snap");
    let mut tcp = String::from(HDR);
    // Every TCP state, 1..=11, each on its own port 1..=11 of 10.0.0.1
    // (0100000A), peer 10.0.0.2:80 (0200000A:0050) except LISTEN.
    for st in 1..=11u8 {
        let remote = if st == 10 {
            "00000000:0000"
        } else {
            "0200000A:0050"
        };
        let inode = if st == 6 { 0 } else { 3000 + u64::from(st) };
        tcp.push_str(&line(
            st as usize,
            &format!("0100000A:{:04X}", u16::from(st)),
            remote,
            st,
            0,
            inode,
        ));
    }
    tcp.push_str(&line(20, "00000000:0016", "00000000:0000", 0x0A, 0, 1001));
    tcp.push_str(&line(
        21,
        "0100007F:1F90",
        "0100007F:C000",
        0x01,
        1000,
        2001,
    ));
    s.write("proc/net/tcp", tcp);
    s.write(
        "proc/net/tcp6",
        table(&[
            (
                "00000000000000000000000001000000:0016",
                "00000000000000000000000000000000:0000",
                0x0A,
                0,
                1002,
            ),
            (
                "0000000000000000FFFF00000100007F:1F90",
                "0000000000000000FFFF00000100007F:C001",
                0x01,
                1000,
                2002,
            ),
            (
                "00000000000000000000000000000000:0050",
                "00000000000000000000000000000000:0000",
                0x0A,
                33,
                1003,
            ),
        ]),
    );
    s.write(
        "proc/net/udp",
        table(&[
            ("00000000:0035", "00000000:0000", 0x07, 0, 4001),
            ("0100007F:D000", "0100007F:0035", 0x01, 1000, 4002),
        ]),
    );
    s.write(
        "proc/net/udp6",
        table(&[(
            "00000000000000000000000000000000:14E9",
            "00000000000000000000000000000000:0000",
            0x07,
            0,
            4003,
        )]),
    );
    s.write(
        "proc/net/raw",
        table(&[("00000000:0001", "00000000:0000", 0x07, 0, 6001)]),
    );
    s.write(
        "proc/net/raw6",
        table(&[(
            "00000000000000000000000000000000:003A",
            "00000000000000000000000000000000:0000",
            0x07,
            0,
            6002,
        )]),
    );
    let mut unix = b"Num       RefCount Protocol Flags    Type St Inode Path\n".to_vec();
    unix.extend_from_slice(
        b"0000000000000000: 00000002 00000000 00010000 0001 01  5001 /run/app.sock\n",
    );
    unix.extend_from_slice(
        b"0000000000000000: 00000002 00000000 00010000 0001 01  5002 @/tmp/.X11-unix/X0\n",
    );
    unix.extend_from_slice(b"0000000000000000: 00000003 00000000 00000000 0001 03  5003\n");
    unix.extend_from_slice(
        b"0000000000000000: 00000002 00000000 00000000 0002 01  5004 /run/odd\xffname\n",
    );
    unix.extend_from_slice(
        b"0000000000000000: 00000002 00000000 00000000 0005 01  5005 /run/with space\n",
    );
    s.write("proc/net/unix", unix);

    s.write("proc/sys/kernel/hostname", "fixture-host\n");
    s.write(
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n",
    );
    std::fs::create_dir_all(s.path().join("proc/self/ns")).expect("mkdir");
    symlink("net:[4026531840]", s.path().join("proc/self/ns/net")).expect("symlink");

    let proc_pid = |pid: u32, comm: &[u8], fds: &[(u32, &str)], ns: u64| {
        let dir = s.path().join(format!("proc/{pid}"));
        std::fs::create_dir_all(dir.join("fd")).expect("mkdir");
        std::fs::create_dir_all(dir.join("ns")).expect("mkdir");
        let mut c = comm.to_vec();
        c.push(b'\n');
        std::fs::write(dir.join("comm"), c).expect("comm");
        for (fd, target) in fds {
            symlink(target, dir.join(format!("fd/{fd}"))).expect("fd symlink");
        }
        symlink(format!("net:[{ns}]"), dir.join("ns/net")).expect("ns symlink");
    };
    proc_pid(
        100,
        b"sshd",
        &[(3, "socket:[1001]"), (4, "socket:[1001]"), (0, "/dev/null")],
        4026531840,
    );
    proc_pid(101, b"sshd", &[(3, "socket:[1001]")], 4026531840);
    proc_pid(
        200,
        b"w\xffk",
        &[(5, "socket:[2001]"), (6, "socket:[5001]"), (7, "pipe:[9]")],
        4026531840,
    );
    proc_pid(300, b"nginx", &[(3, "socket:[7001]")], 4026532999);
    s.write(
        "proc/300/net/tcp",
        table(&[("00000000:0050", "00000000:0000", 0x0A, 0, 7001)]),
    );
    s
}

fn snap(s: &Scratch, args: &[&str]) -> Vec<Value> {
    let mut a = vec!["--root".to_owned(), s.path().display().to_string()];
    a.extend(args.iter().map(|x| x.to_string()));
    let r = run("net-snap", &a, None);
    r.expect_code(0);
    assert!(r.stderr.is_empty(), "stderr: {}", r.stderr);
    r.records()
}

fn find(recs: &[Value], f: impl Fn(&Value) -> bool) -> &Value {
    recs.iter()
        .find(|r| f(r))
        .unwrap_or_else(|| panic!("no such record in {recs:#?}"))
}

#[test]
fn fixture_every_table_and_field() {
    let s = fixture();
    let recs = snap(&s, &[]);
    // 13 tcp + 3 tcp6 + 2 udp + 1 udp6 + 1 raw + 1 raw6 + 5 unix.
    assert_eq!(recs.len(), 26);
    for r in &recs {
        assert_eq!(r["kind"], "socket");
        assert_eq!(r["host"], "fixture-host");
        assert_eq!(r["netns"], 4026531840u64);
        assert_eq!(r.as_object().expect("object").len(), 18, "{r}");
    }
    let ssh = find(&recs, |r| r["inode"] == 1001);
    assert_eq!(
        *ssh,
        json!({"kind": "socket", "host": "fixture-host", "netns": 4026531840u64,
            "proto": "tcp", "family": "inet", "type": "stream",
            "local_addr": "0.0.0.0", "local_port": 22, "remote_addr": null,
            "remote_port": null, "state": "LISTEN", "uid": 0, "user": "root",
            "inode": 1001, "peer_inode": null,
            "processes": [{"pid": 100, "comm": "sshd"}, {"pid": 101, "comm": "sshd"}],
            "recv_q": 0, "send_q": null})
    );
    let est = find(&recs, |r| r["inode"] == 2001);
    assert_eq!(est["local_addr"], "127.0.0.1");
    assert_eq!(
        (&est["local_port"], &est["remote_port"]),
        (&json!(8080), &json!(0xC000))
    );
    assert_eq!(est["user"], "alice");
    assert_eq!(
        est["processes"],
        json!([{"pid": 200, "comm": [119, 255, 107]}])
    );
    // Nobody holds it, and every fd table was readable: [] not null.
    let free = find(&recs, |r| r["inode"] == 4001);
    assert_eq!(free["processes"], json!([]));
    assert_eq!(free["state"], "UNCONN");
    assert_eq!(
        (&free["proto"], &free["local_port"]),
        (&json!("udp"), &json!(53))
    );
    let v6 = find(&recs, |r| r["inode"] == 1002);
    assert_eq!(
        (&v6["family"], &v6["local_addr"]),
        (&json!("inet6"), &json!("::1"))
    );
    let mapped = find(&recs, |r| r["inode"] == 2002);
    assert_eq!(mapped["local_addr"], "::ffff:127.0.0.1");
    assert_eq!(mapped["remote_addr"], "::ffff:127.0.0.1");
    let any6 = find(&recs, |r| r["inode"] == 1003);
    assert_eq!(
        (&any6["local_addr"], &any6["uid"]),
        (&json!("::"), &json!(33))
    );
    assert_eq!(any6["user"], Value::Null);
    let udp_conn = find(&recs, |r| r["inode"] == 4002);
    assert_eq!(udp_conn["state"], "ESTABLISHED");
    assert_eq!(find(&recs, |r| r["inode"] == 4003)["local_port"], 5353);
    let raw = find(&recs, |r| r["inode"] == 6001);
    assert_eq!(
        (
            &raw["proto"],
            &raw["type"],
            &raw["local_port"],
            &raw["state"]
        ),
        (&json!("raw"), &json!("raw"), &json!(1), &json!("UNCONN"))
    );
    assert_eq!(find(&recs, |r| r["inode"] == 6002)["family"], "inet6");
}

#[test]
fn fixture_every_tcp_state() {
    let s = fixture();
    let recs = snap(&s, &["-t", "-4"]);
    let states: Vec<(u64, &str)> = recs
        .iter()
        .filter(|r| r["local_addr"] == "10.0.0.1")
        .map(|r| {
            (
                r["local_port"].as_u64().expect("port"),
                r["state"].as_str().expect("state"),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![
            (1, "ESTABLISHED"),
            (2, "SYN_SENT"),
            (3, "SYN_RECV"),
            (4, "FIN_WAIT1"),
            (5, "FIN_WAIT2"),
            (6, "TIME_WAIT"),
            (7, "CLOSE"),
            (8, "CLOSE_WAIT"),
            (9, "LAST_ACK"),
            (10, "LISTEN"),
            (11, "CLOSING"),
        ]
    );
    // TIME_WAIT has no file: no inode, no uid, no owner, and that is known.
    let tw = find(&recs, |r| r["state"] == "TIME_WAIT");
    assert_eq!(
        (&tw["inode"], &tw["uid"], &tw["user"], &tw["processes"]),
        (&Value::Null, &Value::Null, &Value::Null, &json!([]))
    );
    assert_eq!(tw["remote_addr"], "10.0.0.2");
    assert_eq!(tw["remote_port"], 80);
}

#[test]
fn fixture_unix_sockets() {
    let s = fixture();
    let recs = snap(&s, &["-x"]);
    assert_eq!(recs.len(), 5);
    assert!(recs
        .iter()
        .all(|r| r["proto"] == "unix" && r["family"] == "unix"));
    assert!(recs
        .iter()
        .all(|r| r["local_port"].is_null() && r["uid"].is_null()));
    // Sorted by name: unnamed (null) first, then by bytes.
    let names: Vec<&Value> = recs.iter().map(|r| &r["local_addr"]).collect();
    assert_eq!(
        names,
        [
            &Value::Null,
            &json!("/run/app.sock"),
            &json!(b"/run/odd\xffname".to_vec()),
            &json!("/run/with space"),
            &json!("@/tmp/.X11-unix/X0"),
        ]
    );
    let app = find(&recs, |r| r["inode"] == 5001);
    assert_eq!(
        (&app["state"], &app["type"]),
        (&json!("LISTEN"), &json!("stream"))
    );
    assert_eq!(
        app["processes"],
        json!([{"pid": 200, "comm": [119, 255, 107]}])
    );
    let anon = find(&recs, |r| r["inode"] == 5003);
    assert_eq!(anon["state"], "CONNECTED");
    let dgram = find(&recs, |r| r["inode"] == 5004);
    assert_eq!(
        (&dgram["state"], &dgram["type"]),
        (&json!("UNCONN"), &json!("dgram"))
    );
    assert_eq!(find(&recs, |r| r["inode"] == 5005)["type"], "seqpacket");
}

fn inodes(recs: &[Value]) -> Vec<u64> {
    let mut v: Vec<u64> = recs.iter().filter_map(|r| r["inode"].as_u64()).collect();
    v.sort_unstable();
    v
}

#[test]
fn fixture_selection_flags() {
    let s = fixture();
    let protos = |args: &[&str]| {
        let mut p: Vec<String> = snap(&s, args)
            .iter()
            .map(|r| {
                format!(
                    "{}/{}",
                    r["proto"].as_str().expect("p"),
                    r["family"].as_str().expect("f")
                )
            })
            .collect();
        p.dedup();
        p
    };
    assert_eq!(protos(&["-t"]), ["tcp/inet", "tcp/inet6"]);
    assert_eq!(protos(&["-u"]), ["udp/inet", "udp/inet6"]);
    assert_eq!(protos(&["-w"]), ["raw/inet", "raw/inet6"]);
    assert_eq!(protos(&["-x"]), ["unix/unix"]);
    assert_eq!(protos(&["-4"]), ["tcp/inet", "udp/inet", "raw/inet"]);
    assert_eq!(protos(&["-6"]), ["tcp/inet6", "udp/inet6", "raw/inet6"]);
    assert_eq!(protos(&["-tu", "-6"]), ["tcp/inet6", "udp/inet6"]);
    assert_eq!(
        protos(&["-t", "-x"]),
        ["tcp/inet", "tcp/inet6", "unix/unix"]
    );
    // Habits from ss/netstat are accepted and change nothing.
    assert_eq!(snap(&s, &["-tuanp"]), snap(&s, &["-tu"]));
    assert_eq!(
        snap(&s, &["--all", "--numeric", "--processes"]),
        snap(&s, &[])
    );
    // -l: listeners and unconnected datagram/raw/unix sockets only.
    let l = snap(&s, &["-l"]);
    assert!(l
        .iter()
        .all(|r| r["state"] == "LISTEN" || r["state"] == "UNCONN"));
    assert_eq!(
        inodes(&l),
        [1001, 1002, 1003, 3010, 4001, 4003, 5001, 5002, 5004, 5005, 6001, 6002]
    );
    assert_eq!(inodes(&snap(&s, &["-tl4"])), [1001, 3010]);
}

#[test]
fn fixture_stable_order() {
    let s = fixture();
    let recs = snap(&s, &[]);
    let key: Vec<(String, String)> = recs
        .iter()
        .map(|r| (r["proto"].to_string(), r["family"].to_string()))
        .collect();
    let order = ["\"tcp\"", "\"udp\"", "\"raw\"", "\"unix\""];
    let rank: Vec<(usize, String)> = key
        .iter()
        .map(|(p, f)| (order.iter().position(|o| o == p).expect("proto"), f.clone()))
        .collect();
    let mut sorted = rank.clone();
    sorted.sort();
    assert_eq!(rank, sorted, "records must be grouped by proto then family");
    let tcp4: Vec<(&str, u64)> = recs
        .iter()
        .filter(|r| r["proto"] == "tcp" && r["family"] == "inet")
        .map(|r| {
            (
                r["local_addr"].as_str().expect("a"),
                r["local_port"].as_u64().expect("p"),
            )
        })
        .collect();
    assert_eq!(tcp4[0], ("0.0.0.0", 22));
    assert_eq!(tcp4[1], ("10.0.0.1", 1));
    assert_eq!(*tcp4.last().expect("last"), ("127.0.0.1", 8080));
    // Two runs over the same system are byte-identical.
    let a = run(
        "net-snap",
        ["--root", s.path().to_str().expect("utf8")],
        None,
    );
    let b = run(
        "net-snap",
        ["--root", s.path().to_str().expect("utf8")],
        None,
    );
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn fixture_all_netns() {
    let s = fixture();
    let recs = snap(&s, &["-t", "--all-netns"]);
    let other: Vec<&Value> = recs
        .iter()
        .filter(|r| r["netns"] == 4026532999u64)
        .collect();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0]["local_port"], 80);
    assert_eq!(
        other[0]["processes"],
        json!([{"pid": 300, "comm": "nginx"}])
    );
    // The host's namespace first, then the others.
    assert_eq!(recs.last().expect("last")["netns"], 4026532999u64);
    assert_eq!(recs.len(), 17);
    // Without the option that namespace is not read.
    assert!(snap(&s, &["-t"])
        .iter()
        .all(|r| r["netns"] == 4026531840u64));
    // The table gets a namespace column.
    let r = run(
        "net-snap",
        [
            "--root",
            s.path().to_str().expect("utf8"),
            "-t",
            "--all-netns",
            "--format",
            "text",
        ],
        None,
    );
    r.expect_code(0);
    let out = r.stdout_str();
    assert!(out.starts_with("Netns "), "{out}");
    let last = out.lines().last().expect("rows");
    assert!(
        last.starts_with("4026532999 tcp") && last.ends_with("300/nginx"),
        "{last}"
    );
}

#[test]
fn fixture_text_table() {
    let s = fixture();
    let r = run(
        "net-snap",
        [
            "--root",
            s.path().to_str().expect("utf8"),
            "--format",
            "text",
        ],
        None,
    );
    r.expect_code(0);
    let out = r.stdout_str();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("Proto"), "{out}");
    assert!(lines[0].contains("Local Address") && lines[0].contains("PID/Program"));
    assert_eq!(lines.len(), 27);
    let ssh = lines
        .iter()
        .find(|l| l.contains("0.0.0.0:22 "))
        .expect("ssh line");
    assert!(
        ssh.starts_with("tcp ") && ssh.contains("0.0.0.0:*"),
        "{ssh}"
    );
    assert!(
        ssh.contains("LISTEN") && ssh.ends_with("100/sshd,101/sshd"),
        "{ssh}"
    );
    assert!(out.contains("[::1]:22"), "{out}");
    assert!(out.contains("[::ffff:127.0.0.1]:8080"), "{out}");
    assert!(out.contains("200/w\\xffk"), "{out}");
    assert!(out.contains("/run/odd\\xffname"), "{out}");
    assert!(lines
        .iter()
        .any(|l| l.starts_with("u_str") && l.contains("/run/app.sock")));
}

#[test]
fn fixture_closed_pipe_is_quiet() {
    let s = fixture();
    // 500 listeners: far more output than a pipe holds.
    let mut tcp = String::from(HDR);
    for i in 0..500u16 {
        let local = format!("0100007F:{:04X}", 10_000 + i);
        tcp.push_str(&line(
            i.into(),
            &local,
            "00000000:0000",
            0x0A,
            0,
            50_000 + u64::from(i),
        ));
    }
    s.write("proc/net/tcp", tcp);
    common::assert_quiet_on_closed_pipe("net-snap", &["--root", s.path().to_str().expect("utf8")]);
}

#[test]
fn bad_roots_are_trouble() {
    let r = run("net-snap", ["--root", "/nonexistent/net-snap-root"], None);
    r.expect_code(2);
    assert!(
        r.stderr.contains("/nonexistent/net-snap-root"),
        "{}",
        r.stderr
    );
    let s = Scratch::new("net-snap-empty");
    let r = run(
        "net-snap",
        ["--root", s.path().to_str().expect("utf8")],
        None,
    );
    r.expect_code(2);
    assert!(r.stderr.contains("proc/net"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    let r = run("net-snap", ["--bogus"], None);
    r.expect_code(2);
}

/// A /proc/net line that does not parse is skipped, never a panic and
/// never the end of the snapshot, and one stderr line names the file and
/// the line so the admin can look.
#[test]
fn fixture_malformed_lines_are_skipped_and_named() {
    let s = fixture();
    let tcp = s.path().join("proc/net/tcp");
    let mut text = std::fs::read(&tcp).expect("read tcp");
    let good = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count()
        - 1;
    text.extend_from_slice(
        b"garbage\n  99: 0100007F:ZZZZ 00000000:0000 0A\n\xff\xfe\n  98: 01:16\n",
    );
    std::fs::write(&tcp, text).expect("write tcp");
    let unix = s.path().join("proc/net/unix");
    let mut text = std::fs::read(&unix).expect("read unix");
    text.extend_from_slice(b"0000000000000000: 00000002 zz\n");
    std::fs::write(&unix, text).expect("write unix");
    // An address of 32 bytes that are not 32 hex digits.
    let tcp6 = s.path().join("proc/net/tcp6");
    let mut text = std::fs::read(&tcp6).expect("read tcp6");
    text.extend_from_slice(
        "  9: €€€aaaaaaaaaaaaaaaaaaaaaaa:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 5 1\n".as_bytes(),
    );
    std::fs::write(&tcp6, text).expect("write tcp6");

    let r = run(
        "net-snap",
        ["--root", s.path().to_str().expect("utf8")],
        None,
    );
    r.expect_code(0);
    let recs = r.records();
    let tcp4 = recs
        .iter()
        .filter(|r| r["proto"] == "tcp" && r["family"] == "inet")
        .count();
    assert_eq!(tcp4, good, "{r}");
    assert_eq!(recs.iter().filter(|r| r["proto"] == "unix").count(), 5);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{r}");
    let want = format!(
        "net-snap: partial snapshot: 6 malformed lines skipped ({}:{} and 3 more, {}:5, {}:7)",
        tcp.display(),
        good + 2,
        tcp6.display(),
        unix.display()
    );
    assert_eq!(lines[0], want, "{r}");

    // Two kinds of trouble in one run (also a namespace whose process has
    // no net directory to read): still one summary line.
    let ns = s.path().join("proc/400/ns");
    std::fs::create_dir_all(&ns).expect("mkdir");
    symlink("net:[4026533000]", ns.join("net")).expect("ns symlink");
    let r = run(
        "net-snap",
        ["--root", s.path().to_str().expect("utf8"), "--all-netns"],
        None,
    );
    r.expect_code(0);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{r}");
    assert!(
        lines[0].starts_with(
            "net-snap: partial snapshot: sockets of 1 network namespace unreadable \
             (their processes exited or are not readable); 6 malformed lines skipped ("
        ),
        "{r}"
    );
}

#[test]
fn root_reads_nothing_of_the_host() {
    let s = fixture();
    let Some(bad) = common::host_reads("net-snap", s.path(), &["--all-netns"]) else {
        common::skip("strace cannot trace here");
        return;
    };
    assert!(bad.is_empty(), "--root read the host:\n{}", bad.join("\n"));
}

// ---- live system -------------------------------------------------------

fn live(args: &[&str]) -> Vec<Value> {
    let r = run("net-snap", args, None);
    r.expect_code(0);
    r.records()
}

fn my_comm() -> String {
    std::fs::read_to_string("/proc/self/comm")
        .expect("comm")
        .trim_end()
        .to_owned()
}

/// The record of our socket with this local port/state, held by us.
fn mine<'a>(recs: &'a [Value], proto: &str, addr: &str, port: u16, state: &str) -> &'a Value {
    let r = find(recs, |r| {
        r["proto"] == proto
            && r["local_addr"] == addr
            && r["local_port"] == port
            && r["state"] == state
    });
    let me = std::process::id();
    let procs = r["processes"]
        .as_array()
        .unwrap_or_else(|| panic!("owners unknown: {r}"));
    assert!(
        procs
            .iter()
            .any(|p| p["pid"] == me && p["comm"] == my_comm().as_str()),
        "owner {me} missing in {r}"
    );
    r
}

#[test]
fn live_tcp_listener_and_established_pair() {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let (mut a, _) = l.accept().expect("accept");
    c.write_all(b"x").expect("write");
    let mut one = [0u8; 1];
    a.read_exact(&mut one).expect("read");
    let cport = c.local_addr().expect("addr").port();
    let recs = live(&["-t", "-4"]);
    let lr = mine(&recs, "tcp", "127.0.0.1", port, "LISTEN");
    assert_eq!(lr["remote_addr"], Value::Null);
    assert!(lr["inode"].as_u64().is_some() && lr["uid"].as_u64().is_some());
    let cr = mine(&recs, "tcp", "127.0.0.1", cport, "ESTABLISHED");
    assert_eq!(
        (&cr["remote_addr"], &cr["remote_port"]),
        (&json!("127.0.0.1"), &json!(port))
    );
    let ar = find(&recs, |r| {
        r["local_port"] == port && r["remote_port"] == cport && r["state"] == "ESTABLISHED"
    });
    assert!(ar["processes"]
        .as_array()
        .expect("known")
        .iter()
        .any(|p| p["pid"] == std::process::id()));
    // -l keeps the listener and drops the pair.
    let l_only = live(&["-tl4"]);
    mine(&l_only, "tcp", "127.0.0.1", port, "LISTEN");
    assert!(l_only.iter().all(|r| r["state"] == "LISTEN"));
    drop((c, a, l));
}

#[test]
fn live_tcp6_listener() {
    let Ok(l) = TcpListener::bind("[::1]:0") else {
        common::skip("no IPv6 loopback");
        return;
    };
    let port = l.local_addr().expect("addr").port();
    let recs = live(&["-t", "-6"]);
    let r = mine(&recs, "tcp", "::1", port, "LISTEN");
    assert_eq!(r["family"], "inet6");
    assert!(recs.iter().all(|r| r["family"] == "inet6"));
}

#[test]
fn live_udp_socket() {
    let u = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = u.local_addr().expect("addr").port();
    let recs = live(&["-u"]);
    let r = mine(&recs, "udp", "127.0.0.1", port, "UNCONN");
    assert_eq!(
        (&r["type"], &r["remote_port"]),
        (&json!("dgram"), &Value::Null)
    );
    // A connected UDP socket is ESTABLISHED with its peer.
    let c = UdpSocket::bind("127.0.0.1:0").expect("bind");
    c.connect(("127.0.0.1", port)).expect("connect");
    let cport = c.local_addr().expect("addr").port();
    let recs = live(&["-u", "-4"]);
    let r = mine(&recs, "udp", "127.0.0.1", cport, "ESTABLISHED");
    assert_eq!(r["remote_port"], port);
}

#[test]
fn live_unix_listener_and_peer() {
    let s = Scratch::new("net-snap-unix");
    let path = s.path().join("live.sock");
    let l = UnixListener::bind(&path).expect("bind");
    let c = UnixStream::connect(&path).expect("connect");
    let (a, _) = l.accept().expect("accept");
    let p = path.to_str().expect("utf8");
    let recs = live(&["-x"]);
    let r = find(&recs, |r| r["local_addr"] == p && r["state"] == "LISTEN");
    assert_eq!(r["type"], "stream");
    assert!(r["processes"]
        .as_array()
        .expect("known")
        .iter()
        .any(|x| x["pid"] == std::process::id()));
    // The accepted end carries the listener's name; the client, when the
    // source knows its peer (sock_diag), shows that name as remote_addr.
    let client = recs
        .iter()
        .filter(|r| r["remote_addr"] == p && r["state"] == "CONNECTED")
        .count();
    let with_peer = recs.iter().any(|r| !r["peer_inode"].is_null());
    if with_peer {
        assert!(client >= 1, "client of {p} not found");
    }
    drop((c, a, l));
}

/// Our sockets agree with `ss -tuanp`: same ports, same states, our pid.
#[test]
fn live_agrees_with_ss() {
    if Command::new("ss").arg("-V").output().is_err() {
        common::skip("ss not installed");
        return;
    }
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let u = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let uport = u.local_addr().expect("addr").port();
    let s = Scratch::new("net-snap-ss");
    let path = s.path().join("ss.sock");
    let ul = UnixListener::bind(&path).expect("bind");
    let out = Command::new("ss").args(["-tuanpH"]).output().expect("ss");
    let ss = String::from_utf8_lossy(&out.stdout).into_owned();
    let xout = Command::new("ss").args(["-xapH"]).output().expect("ss");
    let ssx = String::from_utf8_lossy(&xout.stdout).into_owned();
    let recs = live(&[]);
    let me = format!("pid={},", std::process::id());
    let ss_line = |needle: &str, text: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("ss has no {needle}:\n{text}"))
    };
    let t = ss_line(&format!("127.0.0.1:{port} "), &ss);
    assert!(
        t.starts_with("tcp") && t.contains("LISTEN") && t.contains(&me),
        "{t}"
    );
    mine(&recs, "tcp", "127.0.0.1", port, "LISTEN");
    let ul_line = ss_line(&format!("127.0.0.1:{uport} "), &ss);
    assert!(ul_line.starts_with("udp") && ul_line.contains("UNCONN") && ul_line.contains(&me));
    mine(&recs, "udp", "127.0.0.1", uport, "UNCONN");
    let p = path.to_str().expect("utf8");
    let x = ss_line(p, &ssx);
    assert!(x.contains("LISTEN") && x.contains(&me), "{x}");
    let r = find(&recs, |r| r["local_addr"] == p);
    assert_eq!(r["state"], "LISTEN");
    // Same inode as ss shows (`path INODE * 0`).
    let ino = r["inode"].as_u64().expect("inode").to_string();
    assert!(x.split_whitespace().any(|w| w == ino), "{x} vs {ino}");
    drop((l, u, ul));
}

#[test]
fn live_text_table_has_own_listener() {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let r = run("net-snap", ["-tl", "--format", "text"], None);
    r.expect_code(0);
    let out = r.stdout_str();
    let line = out
        .lines()
        .find(|x| x.contains(&format!("127.0.0.1:{port} ")))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains(&format!("{}/", std::process::id())), "{line}");
}

/// A listener inside a fresh network namespace (`unshare --net`) shows up
/// with `--all-netns`, naming that namespace and its owner, and not without.
#[test]
#[ignore = "run as root: creating a network namespace needs root"]
fn live_all_netns_sees_other_namespace() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    require_root!("creating a network namespace needs root");
    let script = "import socket,time\n\
                  s=socket.socket(); s.bind(('127.0.0.1', 4321)); s.listen()\n\
                  print('ready', flush=True)\n\
                  time.sleep(30)\n";
    let Ok(mut child) = Command::new("unshare")
        .args(["--net", "python3", "-c", script])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        common::skip("unshare not available");
        return;
    };
    let mut first = String::new();
    let ok = child
        .stdout
        .take()
        .map(|o| BufReader::new(o).read_line(&mut first).is_ok())
        .unwrap_or(false);
    if !ok || first.trim() != "ready" {
        let _ = child.kill();
        let _ = child.wait();
        common::skip("unshare --net python3 did not start");
        return;
    }
    let pid = child.id();
    let ns = std::fs::read_link(format!("/proc/{pid}/ns/net"))
        .ok()
        .and_then(|l| {
            l.to_str()?
                .strip_prefix("net:[")?
                .strip_suffix(']')?
                .parse::<u64>()
                .ok()
        });
    let all = live(&["-tl", "--all-netns"]);
    let plain = live(&["-tl"]);
    // Without root the namespace links of root's processes are closed, so
    // the child's namespace cannot be found: the snapshot must say so
    // rather than pass for every listener on the box.
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(common::bin("net-snap"))
        .args(["-tl", "--all-netns"]);
    let nobody = common::run_cmd(cmd, None);
    let _ = child.kill();
    let _ = child.wait();
    let ns = ns.expect("namespace of the child");
    let r = find(&all, |r| r["netns"] == ns && r["local_port"] == 4321);
    assert_eq!(
        (&r["local_addr"], &r["state"]),
        (&json!("127.0.0.1"), &json!("LISTEN"))
    );
    assert!(r["processes"]
        .as_array()
        .expect("known")
        .iter()
        .any(|p| p["pid"] == pid));
    assert!(plain.iter().all(|r| r["netns"] != ns));
    if nobody.status != Some(127) && !nobody.stderr.contains("setpriv") {
        nobody.expect_code(0);
        let lines: Vec<&str> = nobody.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{nobody}");
        assert!(
            lines[0].starts_with("net-snap: partial snapshot: owners, netns of "),
            "{nobody}"
        );
        assert!(
            lines[0].ends_with("unreadable (permission denied; run as root)"),
            "{nobody}"
        );
    }
}

/// Raw ICMP sockets (root only) are found with their owner, whether the
/// kernel dumps them over sock_diag (raw_diag) or only in /proc/net/raw.
#[test]
#[ignore = "run as root: raw sockets need root"]
fn live_raw_sockets() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    require_root!("raw sockets need root");
    let script = "import socket,time\n\
                  s=socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)\n\
                  print('ready', flush=True)\n\
                  time.sleep(30)\n";
    let Ok(mut child) = Command::new("python3")
        .args(["-c", script])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        common::skip("python3 not available");
        return;
    };
    let mut first = String::new();
    if let Some(o) = child.stdout.take() {
        let _ = BufReader::new(o).read_line(&mut first);
    }
    let recs = if first.trim() == "ready" {
        Some(live(&["-w", "-4"]))
    } else {
        None
    };
    let pid = child.id();
    let _ = child.kill();
    let _ = child.wait();
    let Some(recs) = recs else {
        common::skip("could not open a raw socket");
        return;
    };
    let r = find(&recs, |r| {
        r["processes"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["pid"] == pid))
    });
    assert_eq!(
        (&r["proto"], &r["local_port"], &r["state"]),
        (&json!("raw"), &json!(1), &json!("UNCONN"))
    );
}

/// Without root the owners of other users' sockets are unknown: `null`
/// (never a made-up `[]`), and one summary line on stderr. Run as root, the
/// test drops to `nobody` with setpriv to look at its own root-owned socket.
#[test]
#[ignore = "run as root: needs root to run net-snap as another user"]
fn live_unprivileged_owners_are_null() {
    require_root!("needs root to run net-snap as another user");
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(common::bin("net-snap"))
        .args(["-tl4"]);
    let r = common::run_cmd(cmd, None);
    if r.status == Some(127) || r.stderr.contains("setpriv") {
        common::skip(&format!("setpriv unusable: {}", r.stderr));
        return;
    }
    r.expect_code(0);
    let recs = r.records();
    let mine = find(&recs, |x| x["local_port"] == port);
    assert_eq!(mine["processes"], Value::Null, "{mine}");
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    let rest = lines[0]
        .strip_prefix("net-snap: partial snapshot: owners of ")
        .unwrap_or_else(|| panic!("{}", lines[0]));
    let (n, rest) = rest.split_once(' ').expect("a count");
    let n: usize = n.parse().expect("a count");
    let noun = if n == 1 { "process" } else { "processes" };
    assert_eq!(
        rest,
        format!("{noun} unreadable (permission denied; run as root)")
    );
    drop(l);
}

/// What net-snap writes fits common's `socket` type field for field and
/// byte for byte: the fixture tree (non-UTF-8 unix names and command
/// names, every table, other network namespaces) and the live system
/// with a listener and a connection of ours on 127.0.0.1.
#[test]
fn records_fit_their_type() {
    let s = fixture();
    let root = s.path().display().to_string();
    for extra in [&[][..], &["--all-netns"][..], &["--listening"][..]] {
        let mut args = vec!["--root", root.as_str()];
        args.extend(extra);
        let recs = common::assert_typed(run("net-snap", &args, None).expect_code(0));
        assert!(!recs.is_empty(), "{extra:?}");
    }

    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let _c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let none: [&str; 0] = [];
    let recs = common::assert_typed(run("net-snap", none, None).expect_code(0));
    let me = mine(&recs, "tcp", "127.0.0.1", port, "LISTEN");
    assert_eq!(me["processes"][0]["comm"], json!(my_comm()));
}
