//! Every tool has a man page that says at least what `--help` says: every
//! long option in `--help` appears in the page, and every page (section 1
//! and 5) renders without a warning under `groff -man -ww -z`.

mod common;

use std::path::Path;
use std::process::Command;

const TOOLS: [&str; 6] = [
    "ps-snap",
    "net-snap",
    "snap-diff",
    "cfg-backup",
    "boot-check",
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
        for section in [
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "EXIT STATUS",
            "EXAMPLES",
        ] {
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
        eprintln!("SKIP: groff is not installed (apt-get install groff-base)");
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

    // check: a tiny boot tree.
    s.write(
        "root/boot/grub/grub.cfg",
        "menuentry 'x' {\n linux /vmlinuz-1 root=/dev/sda1\n}\n",
    );
    recs.extend(common::run("boot-check", ["--root".as_ref(), root.as_os_str()], None).records());

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
        ["backup", "change", "check", "file", "process", "socket", "verify"],
        "every kind was written"
    );
    assert!(
        recs.iter().any(|r| r["op"] == "reboot") && recs.iter().any(|r| r["op"] == "leftover"),
        "a reboot and a leftover change were written"
    );
    let mut keys = Vec::new();
    recs.iter().for_each(|r| keys_of(r, &mut keys));
    let missing: Vec<_> = keys.iter().filter(|k| !has_word(&page, k)).collect();
    assert!(
        missing.is_empty(),
        "snap-records.5 does not name these fields: {missing:?}"
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
