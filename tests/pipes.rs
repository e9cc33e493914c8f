//! The pipe contracts, without root: each snapshot tool's real output, read
//! through a real OS pipe by snap-diff (`ps-snap --root T | snap-diff
//! before.json -`), and the change records snap-diff makes of it; and the
//! output of cfg-backup and boot-check read line by line as a jq user reads
//! it. The writers and the reader can never drift apart unnoticed.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{json, Value};

use crate::common::fixtures::boot;
use crate::common::fixtures::dpkg::{self, Dpkg, Package};
use crate::common::fixtures::procfs::{FakeProc, Process};
use crate::common::{have, must, pipe, Cmd, Run, Scratch};

/// `WRITER --root ROOT ARGS | snap-diff BEFORE -`: snap-diff's run, after
/// checking that the writer ended cleanly.
fn diff_against(before: &Path, writer: &str, root: &Path, args: &[&str]) -> Run {
    let (w, r) = pipe(
        Cmd::new(writer).root(root).args(args),
        Cmd::new("snap-diff").arg(before).arg("-"),
    );
    w.success().stderr_empty();
    r.stderr_empty();
    r
}

/// Save `WRITER --root ROOT ARGS` as `name` in `s`: the "before" file.
fn snapshot(
    s: &Scratch,
    name: &str,
    writer: &str,
    root: &Path,
    args: &[&str],
) -> std::path::PathBuf {
    let r = Cmd::new(writer).root(root).args(args).run();
    r.success().stderr_empty();
    assert!(
        !r.records().is_empty(),
        "an empty snapshot proves nothing\n{r}"
    );
    s.write(name, &r.stdout)
}

/// The change records of a diff as (op, of, a key field): what a reader
/// of the diff acts on. Every record is a well-formed change.
fn changes(r: &Run, key_field: &str) -> BTreeSet<(String, String, String)> {
    r.records()
        .iter()
        .map(|c| {
            assert_eq!(c["kind"], "change", "{c}");
            for f in ["op", "of", "key", "before", "after"] {
                assert!(c.get(f).is_some(), "a change has {f}: {c}");
            }
            let op = c["op"].as_str().expect("op").to_owned();
            match op.as_str() {
                "added" => assert!(c["before"].is_null() && c["after"].is_object(), "{c}"),
                "removed" => assert!(c["after"].is_null() && c["before"].is_object(), "{c}"),
                _ => assert!(c["before"].is_object() && c["after"].is_object(), "{c}"),
            }
            // The key is the identity read from the records themselves.
            let side = if c["after"].is_null() {
                &c["before"]
            } else {
                &c["after"]
            };
            for (k, v) in c["key"].as_object().expect("key is an object") {
                assert_eq!(&side[k], v, "key field {k} is the record's: {c}");
            }
            let of = c["of"].as_str().expect("of").to_owned();
            (op, of, c["key"][key_field].to_string())
        })
        .collect()
}

/// The names in a change's `fields`.
fn fields_of(c: &Value) -> Vec<&str> {
    c["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("a change has a fields array: {c}"))
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

/// The expected changes, key values as JSON text.
fn set(items: &[(&str, &str, Value)]) -> BTreeSet<(String, String, String)> {
    items
        .iter()
        .map(|(op, of, k)| ((*op).to_owned(), (*of).to_owned(), k.to_string()))
        .collect()
}

/// The one change whose key field `field` is `value`.
fn change_of<'a>(r: &Run, recs: &'a [Value], field: &str, value: &Value) -> &'a Value {
    let v: Vec<&Value> = recs.iter().filter(|c| &c["key"][field] == value).collect();
    assert_eq!(v.len(), 1, "one change of {field} = {value}\n{r}");
    v[0]
}

fn proc_of<'a>(
    pid: u32,
    comm: &'a str,
    argv: &'a [&'a str],
    exe: &'a str,
    start: u64,
) -> Process<'a> {
    Process {
        pid,
        ppid: 1,
        comm,
        uid: 0,
        starttime: start,
        argv,
        exe,
        sockets: &[],
    }
}

#[test]
fn ps_snap_into_snap_diff_names_the_started_the_stopped_and_the_restarted() {
    let s = Scratch::new("pipe-ps");
    let fake = FakeProc::new(&s, "root");
    fake.process(&proc_of(
        1,
        "systemd",
        &["/sbin/init"],
        "/usr/lib/systemd/systemd",
        10,
    ))
    .process(&proc_of(
        200,
        "cron",
        &["/usr/sbin/cron", "-f"],
        "/usr/sbin/cron",
        500,
    ))
    .process(&proc_of(
        300,
        "nginx",
        &["nginx: master process"],
        "/usr/sbin/nginx",
        600,
    ))
    .process(&proc_of(
        400,
        "sshd",
        &["sshd: /usr/sbin/sshd -D"],
        "/usr/sbin/sshd",
        700,
    ));
    let before = snapshot(&s, "before.json", "ps-snap", fake.root(), &[]);

    // Unchanged on its own: the same tree read again is no news.
    diff_against(&before, "ps-snap", fake.root(), &[])
        .success()
        .stdout_empty();

    // cron stopped; nginx restarted (same program, new pid and start);
    // a new daemon started; sshd's executable replaced by the patch.
    fake.exit(200)
        .exit(300)
        .process(&proc_of(
            310,
            "nginx",
            &["nginx: master process"],
            "/usr/sbin/nginx",
            9_000,
        ))
        .process(&proc_of(
            500,
            "newd",
            &["/usr/sbin/newd", "--serve"],
            "/usr/sbin/newd",
            9_100,
        ))
        .process(&proc_of(
            400,
            "sshd",
            &["sshd: /usr/sbin/sshd -D"],
            "/usr/sbin/sshd (deleted)",
            700,
        ));
    let r = diff_against(&before, "ps-snap", fake.root(), &[]);
    r.expect_code(1);
    assert_eq!(
        changes(&r, "cmdline"),
        set(&[
            ("removed", "process", json!(["/usr/sbin/cron", "-f"])),
            ("restarted", "process", json!(["nginx: master process"])),
            ("added", "process", json!(["/usr/sbin/newd", "--serve"])),
            ("changed", "process", json!(["sshd: /usr/sbin/sshd -D"])),
        ]),
        "{r}"
    );
    let recs = r.records();
    let restarted = change_of(&r, &recs, "cmdline", &json!(["nginx: master process"]));
    assert_eq!(
        (
            restarted["before"]["pid"].clone(),
            restarted["after"]["pid"].clone()
        ),
        (json!(300), json!(310))
    );
    assert_eq!(restarted["key"]["exe"], "/usr/sbin/nginx", "{r}");
    let patched = change_of(&r, &recs, "cmdline", &json!(["sshd: /usr/sbin/sshd -D"]));
    assert_eq!(patched["before"]["exe_deleted"], false, "{r}");
    assert_eq!(patched["after"]["exe_deleted"], true, "{r}");
    let fields = fields_of(patched);
    assert!(fields.contains(&"exe_deleted"), "{r}");
    // The host and boot of the fixture, not of this machine.
    for c in &recs {
        let side = if c["after"].is_null() {
            &c["before"]
        } else {
            &c["after"]
        };
        assert_eq!(side["host"], "fixture-host", "{c}");
        assert_eq!(
            side["boot_id"], "0b0b0b0b-1111-2222-3333-444444444444",
            "{c}"
        );
    }
}

#[test]
fn net_snap_into_snap_diff_names_the_new_and_the_vanished_listener() {
    let s = Scratch::new("pipe-net");
    let fake = FakeProc::new(&s, "root");
    let listen = 0x0A;
    // :22 and :80 listen on every IPv4 address; a client connection.
    fake.net_table(
        "tcp",
        &[
            ("00000000:0016", "00000000:0000", listen, 0, 1001),
            ("00000000:0050", "00000000:0000", listen, 0, 1002),
            ("0100007F:9C40", "0100007F:0016", 0x01, 1000, 1003),
        ],
    )
    .net_table("tcp6", &[])
    .net_table("udp", &[("00000000:0044", "00000000:0000", 0x07, 0, 1004)])
    .net_table("udp6", &[])
    .process(&Process {
        sockets: &[1001],
        ..proc_of(
            400,
            "sshd",
            &["/usr/sbin/sshd", "-D"],
            "/usr/sbin/sshd",
            700,
        )
    })
    .process(&Process {
        sockets: &[1002],
        ..proc_of(
            300,
            "nginx",
            &["nginx: master process"],
            "/usr/sbin/nginx",
            600,
        )
    });
    let before = snapshot(&s, "before.json", "net-snap", fake.root(), &["-tu"]);
    diff_against(&before, "net-snap", fake.root(), &["-tu"])
        .success()
        .stdout_empty();

    // The patch moved the web server from :80 to :443 (new inode, new
    // pid); sshd restarted onto a new socket of the same port (no news);
    // another client connection came and went (no news by default).
    fake.exit(300)
        .net_table(
            "tcp",
            &[
                ("00000000:0016", "00000000:0000", listen, 0, 2001),
                ("00000000:01BB", "00000000:0000", listen, 0, 2002),
                ("0100007F:9C41", "0100007F:0016", 0x01, 1000, 2003),
            ],
        )
        .process(&Process {
            sockets: &[2001],
            ..proc_of(
                401,
                "sshd",
                &["/usr/sbin/sshd", "-D"],
                "/usr/sbin/sshd",
                9_000,
            )
        })
        .exit(400)
        .process(&Process {
            sockets: &[2002],
            ..proc_of(
                310,
                "nginx",
                &["nginx: master process"],
                "/usr/sbin/nginx",
                9_100,
            )
        });
    let r = diff_against(&before, "net-snap", fake.root(), &["-tu"]);
    r.expect_code(1);
    assert_eq!(
        changes(&r, "local_port"),
        set(&[
            ("removed", "socket", json!(80)),
            ("added", "socket", json!(443)),
        ]),
        "{r}"
    );
    let recs = r.records();
    let added = change_of(&r, &recs, "local_port", &json!(443));
    assert_eq!(added["key"]["proto"], "tcp", "{r}");
    assert_eq!(added["after"]["state"], "LISTEN", "{r}");
    assert_eq!(added["after"]["processes"][0]["pid"], 310, "{r}");
    assert_eq!(added["after"]["processes"][0]["comm"], "nginx", "{r}");
    let removed = change_of(&r, &recs, "local_port", &json!(80));
    assert_eq!(removed["before"]["processes"][0]["pid"], 300, "{r}");

    // With --connections the client connections are news too.
    let (w, r) = pipe(
        Cmd::new("net-snap").root(fake.root()).arg("-tu"),
        Cmd::new("snap-diff")
            .arg("--connections")
            .arg(&before)
            .arg("-"),
    );
    w.success();
    r.expect_code(1);
    let ports: BTreeSet<(String, String)> = r
        .records()
        .iter()
        .filter(|c| c["key"]["remote_port"] == 22)
        .map(|c| {
            (
                c["op"].as_str().unwrap_or("?").to_owned(),
                c["key"]["local_port"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        ports,
        BTreeSet::from([
            ("removed".to_owned(), "40000".to_owned()),
            ("added".to_owned(), "40001".to_owned())
        ]),
        "{r}"
    );
}

#[test]
fn pkg_snap_into_snap_diff_names_the_upgrade_the_removal_and_the_new_package() {
    skip_if!(dpkg::unavailable(false));
    let s = Scratch::new("pipe-pkg");
    let db = Dpkg::new(&s);
    let pkg = |name: &str, version: &str| {
        db.build(&Package::new(name, version).file(&format!("usr/share/doc/{name}/v"), version))
    };
    let (alpha1, alpha2, beta, gamma, delta2, delta1) = (
        pkg("alpha", "1.0-1"),
        pkg("alpha", "1.0-2"),
        pkg("beta", "3"),
        pkg("gamma", "1:0.9"),
        pkg("delta", "2.0"),
        pkg("delta", "1.5"),
    );
    db.install(&[&alpha1, &beta, &delta2]);
    let before = snapshot(&s, "before.json", "pkg-snap", db.root(), &[]);
    diff_against(&before, "pkg-snap", db.root(), &[])
        .success()
        .stdout_empty();

    db.install(&[&alpha2, &gamma, &delta1]);
    db.dpkg(&["--purge", "beta"]);
    let r = diff_against(&before, "pkg-snap", db.root(), &[]);
    r.expect_code(1);
    assert_eq!(
        changes(&r, "name"),
        set(&[
            ("changed", "package", json!("alpha")),
            ("removed", "package", json!("beta")),
            ("added", "package", json!("gamma")),
            ("changed", "package", json!("delta")),
        ]),
        "{r}"
    );
    let recs = r.records();
    // The versions as dpkg-query prints them, before and after.
    let query = must(
        std::process::Command::new("dpkg-query")
            .arg(format!("--admindir={}", db.admindir().display()))
            .args(["-W", "-f", "${Package} ${Version}\n"]),
    );
    let alpha = change_of(&r, &recs, "name", &json!("alpha"));
    assert_eq!(
        (
            alpha["before"]["version"].clone(),
            alpha["after"]["version"].clone()
        ),
        (json!("1.0-1"), json!("1.0-2"))
    );
    assert!(query.lines().any(|l| l == "alpha 1.0-2"), "{query}");
    assert_eq!(alpha["direction"], "upgrade", "{r}");
    let delta = change_of(&r, &recs, "name", &json!("delta"));
    assert_eq!(delta["direction"], "downgrade", "{r}");
    assert_eq!(delta["after"]["version"], "1.5", "{r}");
    let gamma = change_of(&r, &recs, "name", &json!("gamma"));
    assert_eq!(gamma["after"]["version"], "1:0.9", "{r}");
    assert!(query.lines().any(|l| l == "gamma 1:0.9"), "{query}");
    for c in [alpha, delta] {
        let fields = fields_of(c);
        assert!(fields.contains(&"version"), "{c}");
        assert_eq!(c["key"]["manager"], "dpkg", "{c}");
        assert_eq!(c["key"]["arch"], "all", "{c}");
    }
}

/// A unit file of a fixture root's vendor directory.
fn unit(root: &Path, name: &str, text: &str) {
    let p = root.join("usr/lib/systemd/system").join(name);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write unit");
}

#[test]
fn svc_snap_into_snap_diff_names_what_systemctl_enabled_and_masked() {
    require!(
        have("systemctl"),
        "systemctl is not installed (apt-get install systemd)"
    );
    let s = Scratch::new("pipe-svc");
    let root = s.path().join("root");
    std::fs::create_dir_all(root.join("etc/systemd/system")).expect("mkdir");
    s.write("root/etc/hostname", "fixture\n");
    let service = "[Unit]\nDescription=web\n[Service]\nExecStart=/usr/sbin/web\n[Install]\nWantedBy=multi-user.target\n";
    unit(&root, "web.service", service);
    unit(&root, "old.service", &service.replace("web", "old"));
    unit(
        &root,
        "multi-user.target",
        "[Unit]\nDescription=Multi-User System\n",
    );
    let systemctl = |args: &[&str]| {
        must(
            std::process::Command::new("systemctl")
                .arg(format!("--root={}", root.display()))
                .args(args),
        )
    };
    systemctl(&["enable", "old.service"]);
    let before = snapshot(&s, "before.json", "svc-snap", &root, &["--no-sysv"]);
    diff_against(&before, "svc-snap", &root, &["--no-sysv"])
        .success()
        .stdout_empty();

    systemctl(&["enable", "web.service"]);
    systemctl(&["disable", "old.service"]);
    systemctl(&["mask", "old.service"]);
    unit(
        &root,
        "new.timer",
        "[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n",
    );
    let r = diff_against(&before, "svc-snap", &root, &["--no-sysv"]);
    r.expect_code(1);
    assert_eq!(
        changes(&r, "name"),
        set(&[
            ("changed", "unit", json!("web.service")),
            ("changed", "unit", json!("old.service")),
            ("added", "unit", json!("new.timer")),
        ]),
        "{r}"
    );
    let recs = r.records();
    // The states as systemctl itself prints them now.
    for (name, was) in [("web.service", "disabled"), ("old.service", "enabled")] {
        let c = change_of(&r, &recs, "name", &json!(name));
        // is-enabled exits non-zero for a masked or disabled unit.
        let out = std::process::Command::new("systemctl")
            .arg(format!("--root={}", root.display()))
            .args(["is-enabled", name])
            .output()
            .expect("systemctl is-enabled");
        let now = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert_eq!(c["before"]["state"], was, "{r}");
        assert_eq!(c["after"]["state"], now.as_str(), "{r}");
        let fields = fields_of(c);
        assert!(fields.contains(&"state"), "{c}");
    }
    // The link systemctl made, as the unit that pulls it in.
    let web = change_of(&r, &recs, "name", &json!("web.service"));
    assert_eq!(
        web["after"]["wanted_by"],
        json!(["multi-user.target"]),
        "{r}"
    );
    let old = change_of(&r, &recs, "name", &json!("old.service"));
    assert_eq!(
        old["after"]["path"], "/etc/systemd/system/old.service",
        "{r}"
    );
}

/// A JSON Lines stream as `jq -c .` reads it: every line one object, the
/// stream ending in a newline.
fn json_lines(r: &Run) -> Vec<Value> {
    let text = r.stdout_str();
    assert!(text.ends_with('\n'), "JSON Lines end with a newline\n{r}");
    text.lines()
        .map(|l| {
            let v: Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{r}"));
            assert!(
                v.is_object() && v["kind"].is_string(),
                "an object with a kind: {l}"
            );
            v
        })
        .collect()
}

#[test]
fn cfg_backup_diff_reads_as_a_jq_user_expects() {
    let s = Scratch::new("pipe-cfgb");
    s.write("root/etc/app/app.conf", "port 80\n");
    s.write("root/etc/app/gone.conf", "x\n");
    s.write("root/etc/app/same.conf", "same\n");
    let cfg_cmd = |args: &[&str]| {
        Cmd::new("cfg-backup")
            .arg("--store")
            .arg(s.path().join("store"))
            .root(s.path().join("root"))
            .args(args)
            .env_remove("CFG_BACKUP_STORE")
    };
    let cfg = |args: &[&str]| cfg_cmd(args).run();
    let saved = cfg(&["save", "--label", "before patch", "/etc/app"]);
    saved.success();
    // jq -r 'select(.kind == "backup") | .id'
    let backup = json_lines(&saved)
        .into_iter()
        .find(|r| r["kind"] == "backup")
        .expect("a backup record");
    let id = backup["id"].as_str().expect("id").to_owned();
    assert_eq!(backup["label"], "before patch");

    s.write("root/etc/app/app.conf", "port 8080\n");
    std::fs::remove_file(s.path().join("root/etc/app/gone.conf")).expect("rm");
    s.write("root/etc/app/new.conf", "new\n");
    let d = cfg(&["diff", &id]);
    d.expect_code(1).stderr_empty();
    let recs = json_lines(&d);
    // jq -c 'select(.kind == "change") | [.op, .of, .key.path]'
    let seen: BTreeSet<(String, String, String)> = recs
        .iter()
        .filter(|c| c["kind"] == "change")
        .map(|c| {
            (
                c["op"].as_str().unwrap_or("?").to_owned(),
                c["of"].as_str().unwrap_or("?").to_owned(),
                c["key"]["path"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String)> = [
        ("changed", "file", "/etc/app/app.conf"),
        ("removed", "file", "/etc/app/gone.conf"),
        ("added", "file", "/etc/app/new.conf"),
    ]
    .iter()
    .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(seen, want, "{d}");
    assert_eq!(recs.len(), 3, "change records only\n{d}");
    // The diff is snap-diff's change record: what snap-diff's readers know.
    let changed = recs.iter().find(|c| c["op"] == "changed").expect("changed");
    assert_eq!(changed["before"]["path"], "/etc/app/app.conf");
    let fields = fields_of(changed);
    assert!(
        fields.contains(&"sha256") && fields.contains(&"size"),
        "{changed}"
    );
    assert!(recs.iter().find(|c| c["op"] == "added").expect("added")["before"].is_null());

    // The same diff read by jq itself.
    require!(have("jq"), "jq is not installed (apt-get install jq)");
    {
        let (w, j) = pipe(
            cfg_cmd(&["diff", &id]),
            jq(&[
                "-r",
                r#"select(.kind == "change" and .op == "changed") | .key.path"#,
            ]),
        );
        w.expect_code(1);
        j.success().stderr_empty();
        assert_eq!(j.stdout_str(), "/etc/app/app.conf\n", "{j}");
    }
}

/// jq as a reader of a pipe: a `Cmd` of another program than the tools.
fn jq(args: &[&str]) -> Cmd {
    Cmd::program("jq").args(args)
}

#[test]
fn boot_check_output_reads_as_a_jq_user_expects() {
    let s = boot::debian(&[boot::D15, boot::D13], &boot::saved15());
    let r = Cmd::new("boot-check").root(s.path()).run();
    r.success().stderr_empty();
    let recs = json_lines(&r);
    // jq 'select(.status == "fail")': none on a healthy tree.
    assert!(recs.iter().all(|c| c["kind"] == "check"), "{r}");
    assert!(recs.iter().all(|c| c["status"] != "fail"), "{r}");
    // jq -r 'select(.check == "default-entry-kernel") | .path'
    let k: Vec<&Value> = recs
        .iter()
        .filter(|c| c["check"] == "default-entry-kernel")
        .collect();
    assert_eq!(k.len(), 1, "{r}");
    assert_eq!(k[0]["path"], format!("/boot/vmlinuz-{}", boot::D15));

    // The default kernel removed: exit 1, and the failed checks name it.
    std::fs::remove_file(s.path().join(format!("boot/vmlinuz-{}", boot::D15))).expect("rm kernel");
    let r = Cmd::new("boot-check").root(s.path()).run();
    r.expect_code(1).stderr_empty();
    let recs = json_lines(&r);
    let failed: Vec<&Value> = recs.iter().filter(|c| c["status"] == "fail").collect();
    assert!(!failed.is_empty(), "{r}");
    assert!(
        failed.iter().any(|c| c["check"] == "default-entry-kernel"
            && c["path"] == format!("/boot/vmlinuz-{}", boot::D15).as_str()),
        "{r}"
    );
    for c in &failed {
        assert!(
            !c["message"].as_str().unwrap_or("").is_empty(),
            "a fail says what to do: {c}"
        );
    }
    require!(have("jq"), "jq is not installed (apt-get install jq)");
    {
        let (w, j) = pipe(
            Cmd::new("boot-check").root(s.path()),
            jq(&["-r", r#"select(.status == "fail") | .check"#]),
        );
        w.expect_code(1);
        j.success();
        let want: Vec<String> = failed
            .iter()
            .map(|c| c["check"].as_str().unwrap_or("?").to_owned())
            .collect();
        let got: Vec<String> = j.stdout_str().lines().map(str::to_owned).collect();
        assert_eq!(got, want, "{j}");
    }
}
