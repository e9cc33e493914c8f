//! End-to-end tests of svc-snap against systemctl itself: a fixture root
//! holds the unit files of the systemd package (copied from this machine's
//! /usr/lib/systemd/system) and a few units written the way Debian packages
//! ship them; `systemctl --root=DIR` enables, disables, masks, links and
//! presets them, and after every step svc-snap must give every unit the
//! state `systemctl --root=DIR list-unit-files` and `is-enabled` print.
//! Then the fields beyond the state, SysV scripts, the snap-diff of a patch
//! that enables ssh and a new timer, and bad arguments.

use crate::common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Command;

use crate::common::{Run, Scratch};
use serde_json::Value;

const VENDOR: &str = "usr/lib/systemd/system";

/// A fixture root: merged /usr (lib -> usr/lib, as on this machine), the
/// systemd package's unit files and presets, and test units.
fn fixture(label: &str) -> Scratch {
    let s = plain_fixture(label);
    add_odd_units(s.path());
    s
}

/// [`fixture`] without the units of [`add_odd_units`].
fn plain_fixture(label: &str) -> Scratch {
    let s = Scratch::new(label);
    let r = s.path();
    std::fs::create_dir_all(r.join("usr/lib/systemd")).expect("mkdir");
    std::fs::create_dir_all(r.join("etc/systemd/system")).expect("mkdir");
    symlink("usr/lib", r.join("lib")).expect("lib link");
    let host_units = Path::new("/usr/lib/systemd/system");
    assert!(
        host_units.is_dir(),
        "these tests copy the systemd package's unit files from {}: install systemd \
         (.ci/run does)",
        host_units.display()
    );
    for dir in ["system", "system-preset"] {
        let src = Path::new("/usr/lib/systemd").join(dir);
        if src.is_dir() {
            let st = Command::new("cp")
                .arg("-a")
                .arg(&src)
                .arg(r.join("usr/lib/systemd/"))
                .status()
                .expect("cp");
            assert!(st.success(), "cp -a {}", src.display());
        }
    }
    s.write("etc/hostname", "fixture-host\n");
    let unit = |name: &str, text: &str| {
        s.write(&format!("{VENDOR}/{name}"), text);
    };
    // As Debian's openssh-server ships them.
    unit(
        "ssh.service",
        "[Unit]\nDescription=OpenBSD Secure Shell server\nAfter=network.target auditd.service\n\
         \n[Service]\nExecStartPre=/usr/sbin/sshd -t\nExecStart=/usr/sbin/sshd -D $SSHD_OPTS\n\
         Restart=on-failure\n\n[Install]\nWantedBy=multi-user.target\nAlias=sshd.service\n",
    );
    unit(
        "ssh.socket",
        "[Unit]\nDescription=OpenBSD Secure Shell server socket\nBefore=sockets.target\n\n\
         [Socket]\nListenStream=22\nAccept=yes\n\n[Install]\nWantedBy=sockets.target\n",
    );
    unit(
        "ssh@.service",
        "[Unit]\nDescription=OpenBSD Secure Shell server per-connection daemon\n\n\
         [Service]\nExecStart=-/usr/sbin/sshd -i $SSHD_OPTS\nStandardInput=socket\n",
    );
    // A unit whose [Install] only names another (indirect).
    unit(
        "bar.service",
        "[Service]\nExecStart=/bin/true\n\n[Install]\nAlso=bar.socket\n",
    );
    unit(
        "bar.socket",
        "[Socket]\nListenStream=/run/bar.sock\n\n[Install]\nWantedBy=sockets.target\n",
    );
    // A template with a default instance.
    unit(
        "tmpl@.service",
        "[Service]\nExecStart=/bin/echo %i\n\n[Install]\nWantedBy=multi-user.target\n\
         DefaultInstance=one\n",
    );
    // Static in its file, installable through an admin's drop-in.
    unit("dropin-static.service", "[Service]\nExecStart=/bin/true\n");
    s.write(
        "etc/systemd/system/dropin-static.service.d/install.conf",
        "[Install]\nWantedBy=multi-user.target\n",
    );
    // A unit outside the search path, to be linked in.
    s.write(
        "opt/vendor/linked.service",
        "[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n",
    );
    s
}

/// Write `data` at `rel` under `r` (parents created).
fn write(r: &Path, rel: &str, data: &str) {
    let p = r.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(&p, data).expect("write");
}

/// Units that `systemctl preset-all` refuses to touch (generated,
/// transient, bad) and a linked unit whose path is not UTF-8.
fn add_odd_units(r: &Path) {
    // Made by a generator, and a transient one.
    write(
        r,
        "run/systemd/generator/gen.service",
        "[Service]\nExecStart=/bin/true\n",
    );
    write(
        r,
        "run/systemd/transient/trans.service",
        "[Service]\nExecStart=/bin/true\n",
    );
    // Two links systemd refuses: dangling, and of another unit type.
    symlink(
        "/lib/systemd/system/nonexistent.service",
        r.join("etc/systemd/system/broken.service"),
    )
    .expect("link");
    symlink(
        "/lib/systemd/system/ssh.socket",
        r.join("etc/systemd/system/wrong.service"),
    )
    .expect("link");
    // A linked unit whose path is not UTF-8.
    let odd_dir = r.join(OsStr::from_bytes(b"opt/caf\xe9"));
    std::fs::create_dir_all(&odd_dir).expect("mkdir");
    std::fs::write(
        odd_dir.join("odd.service"),
        "[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n",
    )
    .expect("write");
    symlink(
        Path::new(OsStr::from_bytes(b"/opt/caf\xe9/odd.service")),
        r.join("etc/systemd/system/odd.service"),
    )
    .expect("link");
}

/// `systemctl --root=DIR ARGS`, which must succeed.
fn systemctl(root: &Path, args: &[&str]) -> String {
    let out = Command::new("systemctl")
        .arg(format!("--root={}", root.display()))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("systemctl (install systemd; .ci/run does): {e}"));
    assert!(
        out.status.success(),
        "systemctl --root {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// svc-snap --root DIR ARGS, which must succeed; its records.
fn snap(root: &Path, args: &[&str]) -> (Vec<Value>, Run) {
    let mut a: Vec<&OsStr> = vec![OsStr::new("--root"), root.as_os_str()];
    a.extend(args.iter().map(OsStr::new));
    let r = common::run("svc-snap", a, None);
    r.expect_code(0);
    (r.records(), r)
}

/// Name -> state of the systemd units in svc-snap's records.
fn states(recs: &[Value]) -> BTreeMap<String, String> {
    recs.iter()
        .filter(|r| r["type"] != "sysv")
        .map(|r| {
            (
                r["name"].as_str().expect("name").to_owned(),
                r["state"].as_str().expect("state").to_owned(),
            )
        })
        .collect()
}

fn by_name<'a>(recs: &'a [Value], name: &str) -> &'a Value {
    recs.iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no record of {name}"))
}

/// svc-snap and systemctl agree on every unit: the same names and states
/// as list-unit-files, and the state is-enabled prints for each (one call
/// for all units that are not bad: is-enabled stops at a bad one).
fn assert_agrees(root: &Path, step: &str) -> Vec<Value> {
    let (recs, run) = snap(root, &["--no-sysv"]);
    let mine = states(&recs);
    let listed: BTreeMap<String, String> =
        systemctl(root, &["list-unit-files", "--no-legend", "--no-pager"])
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                Some((w.next()?.to_owned(), w.next()?.to_owned()))
            })
            .collect();
    assert!(
        listed.len() > 100,
        "{step}: the fixture has the systemd package's units"
    );
    for (n, s) in &listed {
        assert_eq!(
            mine.get(n),
            Some(s),
            "{step}: {n}: list-unit-files says {s}\n{run}"
        );
    }
    assert_eq!(mine.len(), listed.len(), "{step}: same units\n{run}");
    let good: Vec<&str> = mine
        .iter()
        .filter(|(_, s)| *s != "bad")
        .map(|(n, _)| n.as_str())
        .collect();
    let mut args = vec!["is-enabled"];
    args.extend(&good);
    let out = Command::new("systemctl")
        .arg(format!("--root={}", root.display()))
        .args(&args)
        .output()
        .expect("systemctl is-enabled");
    let said: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        said.len(),
        good.len(),
        "{step}: one line per unit from is-enabled"
    );
    for (n, s) in good.iter().zip(&said) {
        assert_eq!(&mine[*n], s, "{step}: systemctl is-enabled {n} says {s}");
    }
    recs
}

#[test]
fn agrees_with_systemctl_through_enable_disable_mask_and_preset() {
    let fx = plain_fixture("svc-agree");
    let r = fx.path();
    assert_agrees(r, "fresh tree");

    // What a fresh Debian install does: presets for every unit.
    systemctl(r, &["preset-all"]);
    assert_agrees(r, "preset-all");

    add_odd_units(r);
    let recs = assert_agrees(r, "generated, transient, bad and linked units");
    assert_eq!(
        by_name(&recs, "ssh.service")["state"],
        "enabled",
        "Debian's preset"
    );
    assert_eq!(by_name(&recs, "gen.service")["state"], "generated");
    assert_eq!(by_name(&recs, "trans.service")["state"], "transient");
    assert_eq!(by_name(&recs, "broken.service")["state"], "bad");
    assert_eq!(by_name(&recs, "wrong.service")["state"], "bad");
    assert_eq!(by_name(&recs, "odd.service")["state"], "linked");

    systemctl(
        r,
        &[
            "disable",
            "ssh.service",
            "ssh.socket",
            "bar.socket",
            "dropin-static.service",
        ],
    );
    let recs = assert_agrees(r, "disable");
    assert_eq!(by_name(&recs, "ssh.service")["state"], "disabled");
    assert_eq!(by_name(&recs, "bar.service")["state"], "indirect");
    assert_eq!(by_name(&recs, "dropin-static.service")["state"], "disabled");

    systemctl(
        r,
        &[
            "enable",
            "ssh.service",
            "bar.service",
            "tmpl@.service",
            "dropin-static.service",
        ],
    );
    systemctl(r, &["link", "/opt/vendor/linked.service"]);
    systemctl(r, &["enable", "tmpl@two.service"]);
    systemctl(r, &["enable", "--runtime", "ssh.socket"]);
    systemctl(r, &["mask", "systemd-timesyncd.service"]);
    systemctl(r, &["mask", "--runtime", "e2scrub_reap.service"]);
    let recs = assert_agrees(r, "enable, link, mask");
    assert_eq!(by_name(&recs, "ssh.service")["state"], "enabled");
    assert_eq!(by_name(&recs, "sshd.service")["state"], "alias");
    assert_eq!(by_name(&recs, "ssh.socket")["state"], "enabled-runtime");
    assert_eq!(by_name(&recs, "linked.service")["state"], "linked");
    assert_eq!(
        by_name(&recs, "systemd-timesyncd.service")["state"],
        "masked"
    );

    systemctl(r, &["enable", "linked.service"]);
    systemctl(
        r,
        &["disable", "ssh.service", "bar.service", "tmpl@.service"],
    );
    systemctl(r, &["unmask", "systemd-timesyncd.service"]);
    systemctl(r, &["preset", "ssh.service", "getty@.service"]);
    let recs = assert_agrees(r, "disable, unmask, preset");
    assert_eq!(by_name(&recs, "linked.service")["state"], "enabled");
    assert_eq!(
        by_name(&recs, "e2scrub_reap.service")["state"],
        "masked-runtime"
    );

    add_corner_units(r);
    let recs = assert_agrees(r, "corner cases");
    for (n, s) in [
        ("foo@bar.service", "disabled"),
        ("getty@tty5.service", "enabled"),
        ("emptymask.service", "masked"),
        ("runtime-only.service", "disabled"),
        ("badhdr.service", "bad"),
        ("inst@fixed.service", "static"),
        ("selfie.service", "bad"),
    ] {
        assert_eq!(by_name(&recs, n)["state"], s, "{n}");
    }
    assert_eq!(
        by_name(&recs, "foo.service")["path"],
        "/run/systemd/system/foo.service"
    );
    // .upholds/ pulls in without enabling: in wanted_by, state static.
    assert_eq!(
        by_name(&recs, "foo.service")["wanted_by"],
        serde_json::json!(["x.target"])
    );
    assert_eq!(by_name(&recs, "foo.service")["state"], "static");
}

/// The rules' corner cases: an instance aliased to another template, an
/// instance linked to its own template, an empty file as a mask, units
/// only in /run, a vendor unit overridden in /run, a `.requires/` link, a
/// broken section header, a same-name symlink into the search path, an
/// instance enabled from a vendor directory, an `.upholds/` link.
fn add_corner_units(r: &Path) {
    let etc = r.join("etc/systemd/system");
    let ln = |target: &str, link: &Path| {
        std::fs::create_dir_all(link.parent().expect("parent")).expect("mkdir");
        symlink(target, link).expect("link");
    };
    ln(
        "/lib/systemd/system/tmpl@.service",
        &etc.join("foo@bar.service"),
    );
    ln(
        "/lib/systemd/system/getty@.service",
        &etc.join("getty@tty5.service"),
    );
    write(r, "etc/systemd/system/emptymask.service", "");
    write(
        r,
        "run/systemd/system/runtime-only.service",
        "[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n",
    );
    write(
        r,
        &format!("{VENDOR}/foo.service"),
        "[Service]\nExecStart=/bin/true\n",
    );
    write(
        r,
        "run/systemd/system/foo.service",
        "[Service]\nExecStart=/bin/false\n",
    );
    ln(
        "/lib/systemd/system/bar.socket",
        &etc.join("multi-user.target.requires/bar.socket"),
    );
    write(
        r,
        &format!("{VENDOR}/badhdr.service"),
        "[Install\nWantedBy=x.target\n",
    );
    write(
        r,
        &format!("{VENDOR}/selfie.service"),
        "[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n",
    );
    ln(
        "/lib/systemd/system/selfie.service",
        &etc.join("selfie.service"),
    );
    write(
        r,
        &format!("{VENDOR}/inst@.service"),
        "[Service]\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n",
    );
    ln(
        "/lib/systemd/system/inst@.service",
        &r.join(VENDOR)
            .join("multi-user.target.wants/inst@vendor.service"),
    );
    ln("inst@.service", &r.join(VENDOR).join("inst@fixed.service"));
    ln(
        "/lib/systemd/system/foo.service",
        &etc.join("x.target.upholds/foo.service"),
    );
}

#[test]
fn records_name_the_file_the_links_the_aliases_and_the_drop_ins() {
    let fx = fixture("svc-fields");
    let r = fx.path();
    systemctl(
        r,
        &["enable", "ssh.service", "tmpl@.service", "tmpl@two.service"],
    );
    systemctl(r, &["link", "/opt/vendor/linked.service"]);
    systemctl(r, &["mask", "bar.socket"]);
    let (recs, _) = snap(r, &[]);
    for rec in &recs {
        assert_eq!(rec["kind"], "unit");
        assert_eq!(rec["host"], "fixture-host");
        // Under --root nothing runs: active and sub are null.
        assert!(rec["active"].is_null() && rec["sub"].is_null(), "{rec}");
    }
    let names: Vec<&str> = recs
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    let systemd_units: Vec<&str> = recs
        .iter()
        .filter(|r| r["type"] != "sysv")
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    let mut sorted = systemd_units.clone();
    sorted.sort_unstable();
    assert_eq!(systemd_units, sorted, "units in name order");

    let ssh = by_name(&recs, "ssh.service");
    assert_eq!(ssh["type"], "service");
    assert_eq!(ssh["path"], "/lib/systemd/system/ssh.service");
    assert_eq!(ssh["wanted_by"], serde_json::json!(["multi-user.target"]));
    assert_eq!(ssh["aliases"], serde_json::json!(["sshd.service"]));
    let sshd = by_name(&recs, "sshd.service");
    assert_eq!(sshd["alias_of"], "ssh.service");
    // The file that wins is the unit file behind the alias symlink.
    assert_eq!(sshd["path"], ssh["path"]);

    let t = by_name(&recs, "tmpl@.service");
    assert_eq!(t["state"], "enabled");
    assert_eq!(
        t["instances"],
        serde_json::json!(["tmpl@one.service", "tmpl@two.service"])
    );
    assert_eq!(t["wanted_by"], serde_json::json!(["multi-user.target"]));
    assert!(by_name(&recs, "ssh.service")["instances"].is_null());

    let d = by_name(&recs, "dropin-static.service");
    assert_eq!(
        d["drop_ins"],
        serde_json::json!(["/etc/systemd/system/dropin-static.service.d/install.conf"])
    );
    assert_eq!(
        by_name(&recs, "bar.service")["also"],
        serde_json::json!(["bar.socket"])
    );
    let l = by_name(&recs, "linked.service");
    assert_eq!(l["state"], "linked");
    assert_eq!(l["path"], "/opt/vendor/linked.service");
    let m = by_name(&recs, "bar.socket");
    assert_eq!(m["state"], "masked");
    assert_eq!(m["path"], "/etc/systemd/system/bar.socket");
    assert!(m["also"].is_null(), "a mask has no [Install] to read");

    // Not UTF-8: the raw bytes, restorable.
    let odd = by_name(&recs, "odd.service");
    assert_eq!(
        common_bytes(&odd["path"]),
        b"/opt/caf\xe9/odd.service".to_vec(),
        "{odd}"
    );
    assert!(odd["path"].is_array());

    let b = by_name(&recs, "broken.service");
    assert_eq!(b["path"], "/etc/systemd/system/broken.service");
    assert!(b["aliases"].is_null());
    assert!(names.contains(&"getty@.service"));
}

/// The bytes of a lossless path value (a string, or an array of bytes).
fn common_bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_u64().and_then(|n| u8::try_from(n).ok()).expect("byte"))
            .collect(),
        other => panic!("not a path value: {other}"),
    }
}

#[test]
fn bad_units_are_named_once_on_stderr() {
    let fx = fixture("svc-bad");
    let (_, run) = snap(fx.path(), &["--no-sysv"]);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{run}");
    assert!(
        lines[0].starts_with("svc-snap: 2 unit files systemd would not load"),
        "{run}"
    );
    assert!(
        lines[0].contains("broken.service") && lines[0].contains("wrong.service"),
        "{run}"
    );
}

#[test]
fn sysv_scripts_with_their_runlevels() {
    let s = Scratch::new("svc-sysv");
    let r = s.path();
    let script = s.write(
        "etc/init.d/legacyd",
        "#!/bin/sh\n### BEGIN INIT INFO\n# Provides: legacyd\n### END INIT INFO\n",
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let off = s.write("etc/init.d/offd", "#!/bin/sh\n");
    std::fs::set_permissions(&off, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    s.write("etc/init.d/README", "not a script\n");
    for rl in ["2", "3", "4", "5"] {
        std::fs::create_dir_all(r.join(format!("etc/rc{rl}.d"))).expect("mkdir");
        symlink(
            "../init.d/legacyd",
            r.join(format!("etc/rc{rl}.d/S01legacyd")),
        )
        .expect("link");
    }
    for rl in ["0", "6"] {
        std::fs::create_dir_all(r.join(format!("etc/rc{rl}.d"))).expect("mkdir");
        symlink(
            "../init.d/legacyd",
            r.join(format!("etc/rc{rl}.d/K01legacyd")),
        )
        .expect("link");
        symlink("../init.d/offd", r.join(format!("etc/rc{rl}.d/K01offd"))).expect("link");
    }
    let (recs, _) = snap(r, &[]);
    assert_eq!(recs.len(), 2, "{recs:?}");
    let l = by_name(&recs, "legacyd");
    assert_eq!(l["type"], "sysv");
    assert_eq!(l["state"], "enabled");
    assert_eq!(l["path"], "/etc/init.d/legacyd");
    assert_eq!(l["runlevels"], serde_json::json!(["2", "3", "4", "5"]));
    assert!(l["wanted_by"].is_null());
    let o = by_name(&recs, "offd");
    assert_eq!(o["state"], "disabled");
    assert_eq!(o["runlevels"], serde_json::json!([]));
    let (only, _) = snap(r, &["--state", "enabled", "--type", "sysv"]);
    assert_eq!(only.len(), 1);
    let (none, _) = snap(r, &["--no-sysv"]);
    assert!(none.is_empty());
}

#[test]
fn snap_diff_shows_what_a_patch_enabled() {
    let fx = fixture("svc-diff");
    let r = fx.path();
    let before = fx.write("before-units.json", snap(r, &[]).1.stdout);
    // The patch: ssh enabled by its postinst, a new package's timer
    // installed and enabled.
    systemctl(r, &["enable", "ssh.service"]);
    fx.write(
        &format!("{VENDOR}/foo.timer"),
        "[Unit]\nDescription=Daily foo\n\n[Timer]\nOnCalendar=daily\n\n[Install]\nWantedBy=timers.target\n",
    );
    fx.write(
        &format!("{VENDOR}/foo.service"),
        "[Service]\nExecStart=/bin/true\n",
    );
    systemctl(r, &["enable", "foo.timer"]);
    let after = snap(r, &[]).1.stdout;

    let d = common::run(
        "snap-diff",
        [before.as_os_str(), OsStr::new("-")],
        Some(&after),
    );
    d.expect_code(1);
    let changes = d.records();
    let ssh = changes
        .iter()
        .find(|c| c["key"]["name"] == "ssh.service")
        .unwrap_or_else(|| panic!("no change of ssh.service\n{d}"));
    assert_eq!(ssh["op"], "changed");
    assert_eq!(ssh["key"]["host"], "fixture-host");
    assert_eq!(ssh["before"]["state"], "disabled");
    assert_eq!(ssh["after"]["state"], "enabled");
    let timer = changes
        .iter()
        .find(|c| c["key"]["name"] == "foo.timer")
        .unwrap_or_else(|| panic!("no change of foo.timer\n{d}"));
    assert_eq!(timer["op"], "added");
    assert_eq!(timer["after"]["state"], "enabled");
    assert_eq!(
        timer["after"]["wanted_by"],
        serde_json::json!(["timers.target"])
    );

    let t = common::run(
        "snap-diff",
        [
            OsStr::new("--format"),
            OsStr::new("text"),
            before.as_os_str(),
            OsStr::new("-"),
        ],
        Some(&after),
    );
    t.expect_code(1);
    let text = t.stdout_str();
    assert!(
        text.lines()
            .any(|l| l.contains("name=ssh.service") && l.contains("state: disabled -> enabled")),
        "{t}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with('+') && l.contains("name=foo.timer")),
        "{t}"
    );
}

#[test]
fn text_view_has_a_line_per_unit() {
    let fx = fixture("svc-text");
    let r = fx.path();
    systemctl(r, &["enable", "ssh.service"]);
    let (recs, _) = snap(r, &["--no-sysv"]);
    let mut a: Vec<&OsStr> = vec![OsStr::new("--root"), r.as_os_str()];
    a.extend(["--no-sysv", "--format", "text"].iter().map(OsStr::new));
    let t = common::run("svc-snap", a, None);
    t.expect_code(0);
    let out = t.stdout_str();
    assert_eq!(
        out.lines().count(),
        recs.len() + 1,
        "header and one line per unit"
    );
    assert!(out.lines().next().is_some_and(|h| h.starts_with("UNIT")));
    let line = out
        .lines()
        .find(|l| l.starts_with("ssh.service "))
        .unwrap_or_else(|| panic!("{t}"));
    assert!(
        line.contains(" enabled ") && line.ends_with("multi-user.target"),
        "{line}"
    );
}

#[test]
fn a_live_snapshot_without_systemd_as_init_says_null_for_active() {
    let r = common::run("svc-snap", ["--no-sysv"], None);
    r.expect_code(0);
    let booted = std::fs::symlink_metadata("/run/systemd/system").is_ok_and(|m| m.is_dir());
    let recs = r.records();
    if !booted {
        assert!(
            recs.iter()
                .all(|x| x["active"].is_null() && x["sub"].is_null()),
            "{r}"
        );
    }
    assert!(recs.iter().all(|x| x["kind"] == "unit"));
}

#[test]
fn bad_arguments_and_a_missing_root_are_trouble() {
    let r = common::run("svc-snap", ["--root", "/nonexistent/svc-root"], None);
    r.expect_code(2)
        .stdout_empty()
        .stderr_has("/nonexistent/svc-root");
    let r = common::run("svc-snap", ["--state", "running"], None);
    r.expect_code(2).stdout_empty();
}

#[test]
fn a_closed_pipe_is_quiet() {
    let fx = plain_fixture("svc-pipe");
    let root = fx.path().to_str().expect("utf-8 scratch path").to_owned();
    common::assert_quiet_on_closed_pipe("svc-snap", &["--root", &root]);
}

#[test]
fn under_root_nothing_of_the_host_is_read() {
    let fx = fixture("svc-host");
    let Some(bad) = common::host_reads("svc-snap", fx.path(), &[]) else {
        common::skip("strace cannot trace here");
        return;
    };
    assert!(bad.is_empty(), "--root read the host:\n{}", bad.join("\n"));
}

#[test]
fn a_root_whose_name_is_not_utf8_is_read_all_the_same() {
    let fx = fixture("svc-non-utf8");
    let (want, _) = snap(fx.path(), &["--state", "enabled,masked"]);
    assert!(!want.is_empty());
    let mut name = fx.path().as_os_str().as_bytes().to_vec();
    name.extend_from_slice(b"-\xff");
    let odd = std::path::PathBuf::from(OsStr::from_bytes(&name));
    std::fs::rename(fx.path(), &odd).expect("rename the root");
    let r = common::run(
        "svc-snap",
        [
            OsStr::new("--root"),
            odd.as_os_str(),
            OsStr::new("--state=enabled,masked"),
        ],
        None,
    );
    // Back where the scratch directory cleans it up, before any assertion.
    std::fs::rename(&odd, fx.path()).expect("rename the root back");
    r.expect_code(0);
    assert_eq!(r.records(), want, "{r}");
}
