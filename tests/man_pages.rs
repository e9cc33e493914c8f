//! Every tool has a man page that says at least what `--help` says: every
//! long option in `--help` appears in the page, and every page (section 1
//! and 5) renders without a warning under `groff -man -ww -z`.

use crate::common;

use std::path::Path;
use std::process::Command;

const TOOLS: [&str; 9] = [
    "ps-snap",
    "net-snap",
    "snap-diff",
    "cfg-backup",
    "boot-check",
    "svc-snap",
    "pkg-snap",
    "sec-snap",
    "pkg-verify",
];

fn man_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/man"))
}

/// `--long` options named in a help text.
fn long_options(help: &str) -> Vec<String> {
    let mut opts = Vec::new();
    for word in help.split(|c: char| {
        c.is_whitespace() || c == ',' || c == '[' || c == ']' || c == '=' || c == '<'
    }) {
        if let Some(name) = word.strip_prefix("--") {
            let name: String = name
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if !name.is_empty() && !opts.contains(&name) {
                opts.push(name);
            }
        }
    }
    opts
}

/// Help of the tool and, for tools with subcommands, of each subcommand.
fn all_help(tool: &str) -> String {
    let top = common::run(tool, ["--help"], None);
    top.expect_code(0);
    let mut text = top.stdout_str();
    // Subcommands are listed under "Commands:" as "  name  description".
    if let Some(pos) = text.find("Commands:") {
        let subs: Vec<String> = text[pos..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .filter(|s| s != "help")
            .collect();
        for sub in subs {
            let r = common::run(tool, [sub.as_str(), "--help"], None);
            r.expect_code(0);
            text.push_str(&r.stdout_str());
        }
    }
    text
}

/// The sections every tool's page has.
const SECTIONS: [&str; 5] = [
    "SYNOPSIS",
    "DESCRIPTION",
    "OPTIONS",
    "EXIT STATUS",
    "EXAMPLES",
];

#[test]
fn every_help_option_is_in_the_man_page() {
    for tool in TOOLS {
        let page_path = man_dir().join(format!("{tool}.1"));
        let page = std::fs::read_to_string(&page_path)
            .unwrap_or_else(|e| panic!("{}: {e}", page_path.display()));
        let help = all_help(tool);
        for opt in long_options(&help) {
            let roff = format!("\\-\\-{}", opt.replace('-', "\\-"));
            assert!(
                page.contains(&roff) || page.contains(&format!("--{opt}")),
                "{tool}: --{opt} is in --help but not in {}",
                page_path.display()
            );
        }
        for section in SECTIONS {
            assert!(
                page.contains(&format!(".SH {section}"))
                    || page.contains(&format!(".SH \"{section}\"")),
                "{}: no {section} section",
                page_path.display()
            );
        }
    }
}

#[test]
fn man_pages_render_without_warnings() {
    if Command::new("groff").arg("--version").output().is_err() {
        common::skip("groff is not installed (apt-get install groff-base)");
        return;
    }
    let mut pages: Vec<_> = std::fs::read_dir(man_dir())
        .expect("man/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("1" | "5")))
        .collect();
    pages.sort();
    assert!(
        pages.len() > TOOLS.len(),
        "expected a page per tool and snap-records.5"
    );
    for page in pages {
        let out = Command::new("groff")
            .args(["-man", "-ww", "-z"])
            .arg(&page)
            .output()
            .expect("run groff");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.trim().is_empty(),
            "{}: groff warnings:\n{stderr}",
            page.display()
        );
    }
}

#[test]
fn long_options_are_found() {
    assert_eq!(
        long_options(
            "  -r, --root <DIR>  x\n      --format <FORMAT>  [default: json]\n  --deleted-only"
        ),
        vec!["root", "format", "deleted-only"]
    );
}

/// Every object key in `v`, nested ones included.
fn keys_of(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                if !out.contains(k) {
                    out.push(k.clone());
                }
                keys_of(x, out);
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| keys_of(x, out)),
        _ => {}
    }
}

/// `word` occurs in `text` as a whole field name (not inside a longer one).
fn has_word(text: &str, word: &str) -> bool {
    let field = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        !text[..i].chars().next_back().is_some_and(field)
            && !text[i + word.len()..].chars().next().is_some_and(field)
    })
}

#[test]
fn snap_records_names_every_field_the_tools_write() {
    let page = std::fs::read_to_string(man_dir().join("snap-records.5")).expect("snap-records.5");
    // Font changes and quotes touch the names they set off.
    let page = ["\\fB", "\\fI", "\\fR", "\\fP", "\\(dq"]
        .iter()
        .fold(page, |p, esc| p.replace(esc, " "));
    let s = common::Scratch::new("records-page");
    let mut recs = Vec::new();

    // process and socket: pid 1 always exists; a listener of our own.
    recs.extend(common::run("ps-snap", ["-p", "1"], None).records());
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = l.local_addr().expect("addr").port();
    let net = common::run("net-snap", ["-tl"], None).records();
    recs.extend(net.into_iter().filter(|r| r["local_port"] == port));

    // A process that runs stale code: its stale_files and restart objects.
    s.write(
        "proc-root/proc/7/stat",
        "7 (d) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0\n",
    );
    s.write(
        "proc-root/proc/7/status",
        "Tgid:\t7\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n",
    );
    s.write("proc-root/proc/7/cmdline", "d\0");
    s.write("proc-root/proc/7/cgroup", "0::/system.slice/d.service\n");
    s.write(
        "proc-root/proc/7/maps",
        "7f0000000000-7f0000001000 r-xp 00000000 fd:01 9 /usr/lib/libd.so (deleted)\n",
    );
    let stale = common::run(
        "ps-snap",
        [
            "--root".as_ref(),
            s.path().join("proc-root").as_os_str(),
            "--deleted".as_ref(),
        ],
        None,
    );
    recs.extend(stale.expect_code(1).records());

    // backup, file, and cfg-backup's change records (a change and a leftover).
    let root = s.path().join("root");
    let store = s.path().join("store");
    s.write("root/etc/x.conf", "a=1\n");
    let cfg = |args: &[&str]| {
        let mut all = vec![
            "--store".as_ref(),
            store.as_os_str(),
            "--root".as_ref(),
            root.as_os_str(),
        ];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        common::run("cfg-backup", all, None)
    };
    recs.extend(cfg(&["save", "/etc/x.conf"]).expect_code(0).records());
    recs.extend(cfg(&["show"]).expect_code(0).records());
    s.write("root/etc/x.conf", "a=2\n");
    s.write("root/etc/x.conf.dpkg-dist", "a=3\n");
    recs.extend(cfg(&["diff"]).expect_code(1).records());
    recs.extend(cfg(&["verify"]).records());
    let restore = cfg(&["restore", "--dry-run"]).expect_code(0).records();
    assert!(
        restore.iter().any(|r| r["action"] == "replace"),
        "{restore:?}"
    );
    recs.extend(restore);

    // check: a tiny boot tree.
    s.write(
        "root/boot/grub/grub.cfg",
        "menuentry 'x' {\n linux /vmlinuz-1 root=/dev/sda1\n}\n",
    );
    recs.extend(common::run("boot-check", ["--root".as_ref(), root.as_os_str()], None).records());

    // unit: a unit file and an init script.
    s.write(
        "units/usr/lib/systemd/system/a.service",
        "[Service]\nExecStart=/bin/true\n",
    );
    recs.extend(
        common::run(
            "svc-snap",
            ["--root".as_ref(), s.path().join("units").as_os_str()],
            None,
        )
        .expect_code(0)
        .records(),
    );

    // snap-diff's change records, a reboot among them: pid 1 again after a
    // reboot, and one more process.
    let p1 = recs
        .iter()
        .find(|r| r["kind"] == "process")
        .expect("pid 1")
        .clone();
    let mut again = p1.clone();
    again["boot_id"] = "another boot".into();
    let mut more = again.clone();
    more["pid"] = 2.into();
    more["cmdline"] = serde_json::json!(["another"]);
    let a = s.write("a.json", format!("{p1}\n"));
    let b = s.write("b.json", format!("{again}\n{more}\n"));
    recs.extend(
        common::run("snap-diff", [a.as_os_str(), b.as_os_str()], None)
            .expect_code(1)
            .records(),
    );

    // package, and the change of one whose version moved (direction,
    // rollback): a one-package dpkg database, before and after.
    let pkgroot = s.path().join("pkgroot");
    let status = "Package: p\nStatus: install ok installed\nArchitecture: all\nVersion: VER\n";
    s.write(
        "pkgroot/var/lib/dpkg/status",
        status.replace("VER", "1.0-1"),
    );
    let snap = || common::run("pkg-snap", ["--root".as_ref(), pkgroot.as_os_str()], None);
    let old = snap().expect_code(0).stdout.clone();
    s.write(
        "pkgroot/var/lib/dpkg/status",
        status.replace("VER", "1.0-2"),
    );
    s.write("pkgroot/var/cache/apt/archives/p_1.0-1_all.deb", "");
    let new = snap().expect_code(0).stdout.clone();
    let pa = s.write("pkg-a.json", &old);
    let pb = s.write("pkg-b.json", &new);
    recs.extend(common::run("pkg-snap", ["--root".as_ref(), pkgroot.as_os_str()], None).records());
    let moved = common::run("snap-diff", [pa.as_os_str(), pb.as_os_str()], None);
    assert!(
        moved.expect_code(1).records()[0]["direction"] == "upgrade",
        "{moved}"
    );
    recs.extend(moved.records());
    // verify: the record type pkg-verify serializes (a real run needs
    // packages installed with dpkg; tests/pkg_verify.rs does that).
    let v = verify_record();
    recs.push(v);

    let mut kinds: Vec<String> = recs
        .iter()
        .map(|r| r["kind"].as_str().unwrap_or("?").to_owned())
        .collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(
        kinds,
        ["backup", "change", "check", "file", "package", "process", "socket", "unit", "verify"],
        "every kind was written"
    );
    assert!(
        recs.iter().any(|r| r["op"] == "reboot") && recs.iter().any(|r| r["op"] == "leftover"),
        "a reboot and a leftover change were written"
    );
    // Every record, as its tool wrote it, fits its kind's record type and
    // comes back from it unchanged.
    for r in &recs {
        let line = r.to_string();
        assert_eq!(
            ::common::records::retype(&line).as_deref(),
            Ok(line.as_str()),
            "a record that does not fit its type"
        );
    }
    let mut keys = Vec::new();
    recs.iter().for_each(|r| keys_of(r, &mut keys));
    let missing: Vec<_> = keys.iter().filter(|k| !has_word(&page, k)).collect();
    assert!(
        missing.is_empty(),
        "snap-records.5 does not name these fields: {missing:?}"
    );
}

#[test]
fn sec_snap_help_options_are_in_its_man_page() {
    let page = std::fs::read_to_string(man_dir().join("sec-snap.1")).expect("sec-snap.1");
    for opt in long_options(&all_help("sec-snap")) {
        let roff = format!("\\-\\-{}", opt.replace('-', "\\-"));
        assert!(
            page.contains(&roff),
            "sec-snap: --{opt} is in --help but not in sec-snap.1"
        );
    }
    for section in SECTIONS {
        assert!(
            page.contains(&format!(".SH {section}")),
            "sec-snap.1: no {section}"
        );
    }
}

#[test]
fn snap_records_names_every_setting_field() {
    let page = std::fs::read_to_string(man_dir().join("snap-records.5")).expect("snap-records.5");
    let page = ["\\fB", "\\fI", "\\fR", "\\fP", "\\(dq"]
        .iter()
        .fold(page, |p, esc| p.replace(esc, " "));
    // A tree with a configured kernel parameter, a setuid file and an sshd
    // configuration: every area writes records, with and without values.
    let s = common::Scratch::new("records-setting");
    let root = s.path().join("root");
    s.write("root/etc/sysctl.d/1.conf", "net.ipv4.ip_forward = 1\n");
    s.write("root/proc/sys/net/ipv4/ip_forward", "0\n");
    s.write("root/etc/ssh/sshd_config", "PermitRootLogin no\n");
    let suid = s.write("root/usr/bin/x", "#!/bin/sh\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&suid, std::fs::Permissions::from_mode(0o4755)).expect("chmod");
    let mut recs = common::run("sec-snap", ["--root".as_ref(), root.as_os_str()], None)
        .expect_code(0)
        .records();
    // A live firewall rule record, when nft can be run in a namespace.
    if common::is_root() {
        let out = Command::new("unshare")
            .args([
                "-n",
                "sh",
                "-c",
                "nft add table inet t && nft add chain inet t c && nft add rule inet t c accept && \"$0\" -a firewall",
            ])
            .arg(common::bin("sec-snap"))
            .output();
        if let Ok(o) = out {
            for l in String::from_utf8_lossy(&o.stdout).lines() {
                if let Ok(v) = serde_json::from_str(l) {
                    recs.push(v);
                }
            }
        }
    }
    let mut areas: Vec<&str> = recs.iter().filter_map(|r| r["area"].as_str()).collect();
    areas.sort();
    areas.dedup();
    assert_eq!(areas, ["file", "firewall", "lsm", "sshd", "sysctl"]);
    let mut keys = Vec::new();
    recs.iter().for_each(|r| keys_of(r, &mut keys));
    // nft's own JSON inside expr is nft's, documented by nft(8).
    let missing: Vec<_> = keys
        .iter()
        .filter(|k| !has_word(&page, k))
        .filter(|k| {
            !recs
                .iter()
                .any(|r| r["expr"].to_string().contains(&format!("\"{k}\"")))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "snap-records.5 does not name these setting fields: {missing:?}"
    );
}

/// A `verify` record with every field, as pkg-verify writes it.
fn verify_record() -> serde_json::Value {
    use ::common::records::verify::{Problem, Verify};
    let r = Verify::new(
        Some("h".into()),
        "p".into(),
        b"/x".to_vec(),
        Problem::Digest,
    );
    serde_json::to_value(r).expect("a verify record")
}

/// The fields each `.SS KIND (tool)` section of snap-records.5 documents,
/// in the page's order: the names set in bold right after each `.TP`
/// (`.B name`, `.B a\fR, \fBb`, `.BR a ", " b`).
fn page_fields() -> Vec<(String, Vec<String>)> {
    let page = std::fs::read_to_string(man_dir().join("snap-records.5")).expect("snap-records.5");
    let body = &page[..page.find("\n.SH EXIT STATUS").unwrap_or(page.len())];
    let mut out = Vec::new();
    for section in body.split("\n.SS ").skip(1) {
        let kind = section.split_whitespace().next().unwrap_or("").to_owned();
        let mut fields = Vec::new();
        let lines: Vec<&str> = section.lines().collect();
        for pair in lines.windows(2) {
            let rest = match (pair[0], pair[1].split_once(' ')) {
                (".TP", Some((".B" | ".BR", rest))) => rest,
                _ => continue,
            };
            let names = rest
                .replace("\\fR", " ")
                .replace("\\fB", " ")
                .replace('"', " ");
            fields.extend(
                names
                    .split([' ', ','])
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned),
            );
        }
        // A field documented under several headings (a setting's
        // configured_file, under sysctl and sshd) counts where it first
        // appears.
        let mut seen = std::collections::HashSet::new();
        fields.retain(|f| seen.insert(f.clone()));
        out.push((kind, fields));
    }
    out
}

#[test]
fn snap_records_documents_exactly_the_fields_of_each_record_type() {
    use ::common::records::{self, check, file};
    let page = page_fields();
    for kind in records::ALL_KINDS {
        let mut typed = records::fields(kind)
            .expect("a kind of ALL_KINDS has fields")
            .to_vec();
        if kind == file::KIND {
            // cfg-backup restore's record: a file record, then what it did.
            typed.extend(file::RESTORE_FIELDS);
        }
        let documented = page
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, f)| f.clone())
            .unwrap_or_else(|| panic!("snap-records.5 has no section for {kind}"));
        let missing: Vec<_> = typed
            .iter()
            .filter(|f| !documented.iter().any(|d| d == *f))
            .collect();
        let extra: Vec<_> = documented
            .iter()
            .filter(|d| !typed.contains(&d.as_str()))
            .collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{kind}: fields of the type not in the page: {missing:?}; in the page but not the type: {extra:?}"
        );
        assert_eq!(
            documented, typed,
            "{kind}: snap-records.5 lists the fields in the order they are written"
        );
    }
    // The page documents no kind the workspace has no type for.
    for (kind, _) in &page {
        if kind == "Rules" || kind == "Bytes" {
            continue;
        }
        assert!(
            records::ALL_KINDS.contains(&kind.as_str()),
            "snap-records.5 documents {kind}, which has no record type"
        );
    }
    // cfg-backup verify's check records: named in the check section.
    let section = std::fs::read_to_string(man_dir().join("snap-records.5"))
        .expect("snap-records.5")
        .split("\n.SS ")
        .find(|s| s.starts_with("check "))
        .map(|s| s.replace("\\fB", " ").replace("\\fR", " "))
        .expect("a check section");
    for f in check::STORE_FIELDS {
        assert!(
            has_word(&section, f),
            "snap-records.5's check section does not name cfg-backup verify's {f}"
        );
    }
}
