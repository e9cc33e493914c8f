//! pkg-verify end to end, with dpkg as the oracle: packages built with
//! dpkg-deb and installed with dpkg into a fixture root, files changed,
//! removed, chmod-ed and replaced, and `dpkg --verify` run on the same root;
//! the same comparison on this machine, unmodified; snap-diff of two runs;
//! and the AIDE re-baseline of a package upgrade with Debian's own aide.

use crate::common;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::fixtures::dpkg::{self, Dpkg, Package};
use crate::common::{have, run, Scratch};
use serde_json::Value;

/// A problem as both tools can say it: path, problem word, conffile flag.
type Problem = (String, String, bool);

/// `dpkg --verify` (rpm format) as problems: `missing` for a missing file,
/// `type` for M, `digest` for 5, `unreadable` for ? in the digest column.
fn dpkg_verify(root: Option<&Path>, packages: &[&str]) -> BTreeSet<Problem> {
    let mut cmd = Command::new("dpkg");
    if let Some(r) = root {
        cmd.arg(format!("--root={}", r.display()));
    }
    cmd.arg("--verify").args(packages);
    let out = cmd.output().expect("run dpkg --verify");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut set = BTreeSet::new();
    for line in text.lines() {
        let (res, rest) = line.split_at(9);
        let conffile = rest.as_bytes().get(1) == Some(&b'c');
        let path = rest[3..].to_owned();
        let path = match path.find(" (") {
            Some(i) if res.starts_with("missing") => path[..i].to_owned(),
            _ => path,
        };
        let r = res.as_bytes();
        let mut add = |p: &str| set.insert((path.clone(), p.to_owned(), conffile));
        if res.starts_with("missing") {
            add("missing");
            continue;
        }
        if r[1] == b'M' {
            add("type");
        }
        match r[2] {
            b'5' => add("digest"),
            b'?' => add("unreadable"),
            _ => false,
        };
    }
    set
}

fn problems(recs: &[Value]) -> BTreeSet<Problem> {
    recs.iter()
        .map(|r| {
            assert_eq!(r["kind"], "verify", "{r}");
            (
                r["path"].as_str().expect("UTF-8 path").to_owned(),
                r["problem"].as_str().expect("problem").to_owned(),
                r["conffile"].as_bool().expect("conffile"),
            )
        })
        .collect()
}

/// A fixture root with its own dpkg database, and packages built for it.
struct Fixture {
    s: Scratch,
    db: Dpkg,
}

/// A file of a package: path (relative), content, mode.
struct F<'a>(&'a str, &'a str, u32);

impl Fixture {
    fn new(label: &str) -> Fixture {
        let s = Scratch::new(label);
        let db = Dpkg::new(&s);
        Fixture { s, db }
    }

    fn root(&self) -> PathBuf {
        self.db.root().to_owned()
    }

    /// Build NAME_VERSION_all.deb with dpkg-deb: `files`, the ones under
    /// etc/ as conffiles, an md5sums of the others as dh_md5sums makes it
    /// (computed by md5sum), and `symlinks` (path, target).
    fn deb(&self, name: &str, version: &str, files: &[F], symlinks: &[(&str, &str)]) -> PathBuf {
        let mut p = Package::new(name, version).md5sums();
        for F(path, content, mode) in files {
            p = p.file_mode(path, content, *mode);
        }
        for (path, target) in symlinks {
            p = p.symlink(path, target);
        }
        self.db.build(&p)
    }

    fn install(&self, deb: &Path) {
        self.db.install(&[deb]);
    }

    fn at(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    fn pkg_verify(&self, args: &[&str]) -> common::Run {
        let mut all = vec![
            std::ffi::OsString::from("--root"),
            self.root().into_os_string(),
        ];
        all.extend(args.iter().map(std::ffi::OsString::from));
        run("pkg-verify", all, None)
    }
}

/// Two packages, one upgraded so that a conffile became obsolete, one of
/// whose files another package's diversion moved; then the damage.
fn damaged_fixture() -> Fixture {
    let fx = Fixture::new("pkgv-fixture");
    let alpha1 = fx.deb(
        "alpha",
        "1.0",
        &[
            F("usr/bin/alpha", "#!/bin/sh\necho alpha\n", 0o755),
            F("usr/share/alpha/data.txt", "data 1\n", 0o644),
            F("usr/share/alpha/keep.txt", "keep\n", 0o644),
            F("usr/share/alpha/sub/x", "x\n", 0o644),
            F("etc/alpha.conf", "setting=1\n", 0o644),
            F("etc/alpha.d/old.conf", "old=1\n", 0o644),
        ],
        &[("usr/share/alpha/link", "data.txt")],
    );
    let alpha2 = fx.deb(
        "alpha",
        "2.0",
        &[
            F("usr/bin/alpha", "#!/bin/sh\necho alpha 2\n", 0o755),
            F("usr/share/alpha/data.txt", "data 2\n", 0o644),
            F("usr/share/alpha/keep.txt", "keep\n", 0o644),
            F("usr/share/alpha/sub/x", "x\n", 0o644),
            F("etc/alpha.conf", "setting=2\n", 0o644),
        ],
        &[("usr/share/alpha/link", "data.txt")],
    );
    let beta = fx.deb(
        "beta",
        "1.0",
        &[
            F("usr/lib/beta/one", "one\n", 0o644),
            F("usr/lib/beta/two", "two\n", 0o644),
            F("usr/lib/beta/three", "three\n", 0o644),
            F("etc/beta.conf", "beta=1\n", 0o644),
        ],
        &[],
    );
    fx.install(&alpha1);
    fx.install(&alpha2);
    // A local diversion (the admin's): beta's file lives elsewhere now.
    fx.db.tool(
        "dpkg-divert",
        &[
            "--local",
            "--divert",
            "/usr/lib/beta/two.orig",
            "--add",
            "/usr/lib/beta/two",
        ],
    );
    fx.install(&beta);
    assert!(
        fx.at("usr/lib/beta/two.orig").exists(),
        "diverted on unpack"
    );

    // The damage.
    fs::write(fx.at("usr/share/alpha/data.txt"), "tampered\n").expect("modify");
    fs::remove_file(fx.at("usr/share/alpha/keep.txt")).expect("remove");
    fs::set_permissions(fx.at("usr/bin/alpha"), fs::Permissions::from_mode(0o4777)).expect("chmod");
    fs::write(fx.at("etc/alpha.conf"), "setting=mine\n").expect("edit conffile");
    fs::write(fx.at("etc/alpha.d/old.conf"), "old=mine\n").expect("edit obsolete conffile");
    fs::remove_file(fx.at("etc/beta.conf")).expect("remove conffile");
    fs::remove_file(fx.at("usr/share/alpha/link")).expect("remove symlink");
    fs::remove_file(fx.at("usr/share/alpha/sub/x")).expect("remove");
    fs::remove_dir(fx.at("usr/share/alpha/sub")).expect("remove dir");
    // Same content behind a symlink: the type is wrong, the digest right.
    fs::rename(fx.at("usr/lib/beta/one"), fx.at("usr/lib/beta/one.real")).expect("rename");
    std::os::unix::fs::symlink("one.real", fx.at("usr/lib/beta/one")).expect("symlink");
    // Another content behind a symlink: both wrong.
    fs::remove_file(fx.at("usr/lib/beta/three")).expect("remove");
    std::os::unix::fs::symlink("one.real", fx.at("usr/lib/beta/three")).expect("symlink");
    fs::write(fx.at("usr/lib/beta/two.orig"), "diverted, changed\n").expect("modify");
    fx
}

#[test]
fn a_fixture_root_reports_what_dpkg_verify_reports() {
    skip_if!(dpkg::unavailable(true));
    let fx = damaged_fixture();
    let want = dpkg_verify(Some(&fx.root()), &[]);
    let r = fx.pkg_verify(&[]);
    r.expect_code(1);
    let recs = r.records();
    assert_eq!(problems(&recs), want, "dpkg --verify disagrees\n{r}");

    // And what that is, so that agreeing on nothing cannot pass.
    let has = |path: &str, p: &str, c: bool| want.contains(&(path.to_owned(), p.to_owned(), c));
    assert!(
        has("/usr/share/alpha/data.txt", "digest", false),
        "{want:?}"
    );
    assert!(has("/usr/share/alpha/keep.txt", "missing", false));
    assert!(has("/etc/alpha.conf", "digest", true));
    assert!(has("/etc/beta.conf", "missing", true));
    assert!(has("/usr/share/alpha/link", "missing", false));
    assert!(has("/usr/share/alpha/sub", "missing", false));
    assert!(has("/usr/lib/beta/one", "type", false));
    assert!(!has("/usr/lib/beta/one", "digest", false));
    assert!(
        has("/usr/lib/beta/three", "type", false) && has("/usr/lib/beta/three", "digest", false)
    );
    // dpkg records no modes: a chmod is invisible to it, and to us.
    assert!(!want.iter().any(|(p, _, _)| p == "/usr/bin/alpha"));
    // The diverted file has no digest under its new name.
    assert!(!want
        .iter()
        .any(|(p, _, _)| p.starts_with("/usr/lib/beta/two")));

    // Records carry what they say they do.
    let data = recs
        .iter()
        .find(|r| r["path"] == "/usr/share/alpha/data.txt")
        .expect("data.txt");
    assert_eq!(data["package"], "alpha");
    assert_eq!(data["expected"], md5_hex(b"data 2\n"));
    assert_eq!(data["actual"], md5_hex(b"tampered\n"));
    let one = recs
        .iter()
        .find(|r| r["path"] == "/usr/lib/beta/one")
        .expect("one");
    assert_eq!(
        (&one["expected"], &one["actual"]),
        (&Value::from("file"), &Value::from("symlink"))
    );
    // In path order.
    let paths: Vec<&str> = recs.iter().filter_map(|r| r["path"].as_str()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);

    // --package narrows as dpkg --verify PACKAGE does.
    let r = fx.pkg_verify(&["--package", "beta"]);
    assert_eq!(
        problems(&r.expect_code(1).records()),
        dpkg_verify(Some(&fx.root()), &["beta"])
    );
    // Every thread count finds the same.
    let one_thread = fx.pkg_verify(&["--jobs", "1"]);
    assert_eq!(one_thread.stdout, fx.pkg_verify(&["--jobs", "7"]).stdout);
    // The text view names the conffile as dpkg does.
    let t = fx.pkg_verify(&["--format", "text"]).stdout_str();
    assert!(t.contains("digest     c alpha /etc/alpha.conf ("), "{t}");
    assert!(t.lines().last().unwrap_or("").starts_with('#'), "{t}");
}

/// The MD5 of `b` as md5sum prints it.
fn md5_hex(b: &[u8]) -> String {
    let s = Scratch::new("pkgv-md5");
    let p = s.write("f", b);
    let out = Command::new("md5sum").arg(p).output().expect("md5sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_owned()
}

#[test]
fn bad_requests_are_trouble() {
    skip_if!(dpkg::unavailable(true));
    let fx = damaged_fixture();
    let r = fx.pkg_verify(&["--package", "nosuch"]);
    r.expect_code(2).stdout_empty();
    assert!(
        r.stderr.contains("nosuch") && r.stderr.contains("not installed"),
        "{r}"
    );
    let r = fx.pkg_verify(&["--format", "paths"]);
    r.expect_code(2).stderr_has("--rebaseline");
    // A broken md5sums names its file and line.
    fx.s.write("root/var/lib/dpkg/info/beta.md5sums", "not a line\n");
    let r = fx.pkg_verify(&[]);
    r.expect_code(2)
        .stdout_empty()
        .stderr_has("beta.md5sums:1:");
}

#[test]
fn no_dpkg_database_is_trouble() {
    let s = Scratch::new("pkgv-empty");
    let r = run(
        "pkg-verify",
        ["--root".as_ref(), s.path().as_os_str()],
        None,
    );
    r.expect_code(2);
    assert!(
        r.stderr.contains("no dpkg status file") && r.stderr.contains("no rpm database"),
        "{r}"
    );
}

#[test]
fn this_machine_reports_what_dpkg_verify_reports() {
    if !Path::new("/var/lib/dpkg/status").exists() || !have("dpkg") {
        common::skip("no dpkg on this machine");
        return;
    }
    // Nothing is modified: the machine as it is, both tools read only. A
    // package manager at work in between (an upgrade replacing files)
    // makes the two differ for a moment: compare again, at most 3 times.
    let mut last = String::new();
    for _ in 0..3 {
        let want = dpkg_verify(None, &[]);
        let r = run("pkg-verify", Vec::<&str>::new(), None);
        assert!(matches!(r.code(), 0 | 1), "{r}");
        let got = problems(&r.records());
        assert_eq!(r.code() == 1, !got.is_empty(), "{r}");
        let missing: Vec<_> = want.difference(&got).take(10).collect();
        let extra: Vec<_> = got.difference(&want).take(10).collect();
        if missing.is_empty() && extra.is_empty() {
            return;
        }
        last = format!(
            "dpkg --verify reports, pkg-verify does not: {missing:?}\n\
             pkg-verify reports, dpkg does not: {extra:?}"
        );
    }
    panic!("{last}");
}

#[test]
fn snap_diff_of_two_runs_shows_the_new_problems_only() {
    skip_if!(dpkg::unavailable(true));
    let fx = damaged_fixture();
    let before = fx.pkg_verify(&[]);
    let a = fx.s.write("before.json", &before.stdout);
    // Unchanged: nothing to say.
    let same = fx.s.write("same.json", &fx.pkg_verify(&[]).stdout);
    run("snap-diff", [a.as_os_str(), same.as_os_str()], None).expect_code(0);
    // The patch: one more file broken, one old problem mended.
    fs::write(fx.at("usr/lib/beta/two.orig"), "x").expect("nothing: no digest");
    fs::remove_file(fx.at("usr/bin/alpha")).expect("remove");
    fs::write(fx.at("etc/alpha.conf"), "setting=2\n").expect("restore");
    let after = fx.s.write("after.json", &fx.pkg_verify(&[]).stdout);
    let d = run("snap-diff", [a.as_os_str(), after.as_os_str()], None);
    d.expect_code(1);
    let changes = d.records();
    let summary: BTreeSet<(String, String, String)> = changes
        .iter()
        .map(|c| {
            assert_eq!(c["of"], "verify", "{c}");
            (
                c["op"].as_str().unwrap_or("").to_owned(),
                c["key"]["path"].as_str().unwrap_or("").to_owned(),
                c["key"]["problem"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String, String)> = [
        ("added", "/usr/bin/alpha", "missing"),
        ("removed", "/etc/alpha.conf", "digest"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(summary, want, "{d}");
}

/// aide's report: the paths under "Added/Removed/Changed entries".
fn aide_reported(report: &str) -> BTreeSet<String> {
    report
        .lines()
        .take_while(|l| !l.starts_with("Detailed information"))
        .filter_map(|l| l.split_once(" : ").map(|(_, p)| p.trim().to_owned()))
        .collect()
}

#[test]
fn aide_rebaselines_the_upgraded_package_and_keeps_watching_the_rest() {
    skip_if!(dpkg::unavailable(true));
    if !have("aide") {
        common::skip("aide is not installed (apt-get install aide)");
        return;
    }
    let fx = Fixture::new("pkgv-aide");
    let files = |v: &'static str| {
        vec![
            F("usr/bin/gamma", "#!/bin/sh\necho gamma\n", 0o755),
            F("usr/lib/gamma/a", v, 0o644),
            F("usr/lib/gamma/b", v, 0o644),
            F("etc/gamma.conf", "gamma=1\n", 0o644),
        ]
    };
    let v1 = fx.deb("gamma", "1.0", &files("one\n"), &[]);
    let v2 = fx.deb("gamma", "2.0", &files("two\n"), &[]);
    fx.install(&v1);
    fx.s.write("root/etc/unrelated.conf", "mine\n");
    fx.s.write("root/usr/lib/other/untouched", "same\n");
    let root = fx.root();
    let db = fx.s.path().join("aide.db");
    let conf = fx.s.write(
        "aide.conf",
        format!(
            "database_in=file:{db}\ndatabase_out=file:{db}.new\ngzip_dbout=no\n\
             report_url=stdout\nChecks = p+u+g+s+m+c+i+sha256\n\
             {r}/usr Checks\n{r}/etc Checks\n",
            db = db.display(),
            r = root.display()
        ),
    );
    let aide = |args: &[&str]| {
        let out = Command::new("aide")
            .arg(format!("--config={}", conf.display()))
            .args(args)
            .output()
            .expect("aide");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let promote = || fs::rename(format!("{}.new", db.display()), &db).expect("new database");
    let (code, out) = aide(&["--init"]);
    assert_eq!(code, Some(0), "aide --init: {out}");
    promote();

    // The patch: gamma 1.0 -> 2.0, between two pkg-snap snapshots; and,
    // unrelated, someone edits a file.
    let snap = || {
        run("pkg-snap", ["--root".as_ref(), root.as_os_str()], None)
            .expect_code(0)
            .stdout
            .clone()
    };
    let before = fx.s.write("pkgs-before.json", snap());
    fx.install(&v2);
    let after = fx.s.write("pkgs-after.json", snap());
    fs::write(fx.at("etc/unrelated.conf"), "intruder\n").expect("edit");
    let unrelated = fx.at("etc/unrelated.conf").display().to_string();

    // Without a re-baseline AIDE drowns the one file among the package's.
    let (_, report) = aide(&["--check"]);
    let drowned = aide_reported(&report);
    assert!(
        drowned.contains(&unrelated) && drowned.len() > 1,
        "{report}"
    );

    // The package changes as snap-diff writes them.
    let diff = run("snap-diff", [before.as_os_str(), after.as_os_str()], None);
    diff.expect_code(1);
    let moved = diff.records();
    assert_eq!(moved.len(), 1, "{diff}");
    assert_eq!(moved[0]["key"]["name"], "gamma", "{diff}");
    assert_eq!(moved[0]["direction"], "upgrade", "{diff}");
    let changes = fx.s.write("changes.json", &diff.stdout);
    let r = fx.pkg_verify(&["--rebaseline", changes.to_str().expect("utf8")]);
    r.expect_code(0);
    let regex = r.stdout_str();
    let regex = regex.trim_end();
    assert_eq!(r.stdout_str().lines().count(), 1, "{r}");
    let (code, out) = aide(&["--update", "--limit", regex]);
    assert!(code.is_some_and(|c| c < 8), "aide --update: {code:?} {out}");
    promote();
    let (code, report) = aide(&["--check"]);
    assert_eq!(
        aide_reported(&report),
        BTreeSet::from([unrelated]),
        "{report}"
    );
    assert_ne!(code, Some(0), "{report}");

    // The same files as a list, one per line; from plain names on stdin too.
    let listed = run(
        "pkg-verify",
        [
            "--root".as_ref(),
            root.as_os_str(),
            "--rebaseline".as_ref(),
            "-".as_ref(),
            "--format".as_ref(),
            "paths".as_ref(),
        ],
        Some(b"gamma\n"),
    );
    listed.expect_code(0);
    let paths: Vec<String> = listed.stdout_str().lines().map(str::to_owned).collect();
    assert!(
        paths.contains(&fx.at("usr/lib/gamma/a").display().to_string()),
        "{listed}"
    );
    assert!(
        paths.contains(&fx.at("etc/gamma.conf").display().to_string()),
        "{listed}"
    );
    assert!(
        !paths
            .iter()
            .any(|p| p.contains("unrelated") || p.contains("other")),
        "{listed}"
    );
    // A file the package installed but someone changed stays out of the
    // re-baseline, so AIDE keeps reporting it.
    fs::write(fx.at("usr/lib/gamma/b"), "tampered\n").expect("tamper");
    let listed = fx.pkg_verify(&[
        "--rebaseline",
        changes.to_str().expect("utf8"),
        "--format",
        "paths",
    ]);
    assert!(!listed.stdout_str().contains("gamma/b\n"), "{listed}");
    listed.stderr_has("1 file left out:");
    // Nothing to re-baseline: an expression that matches nothing, never an
    // empty one (which would make aide re-baseline everything).
    let none = run(
        "pkg-verify",
        [
            "--root".as_ref(),
            root.as_os_str(),
            "--rebaseline".as_ref(),
            "-".as_ref(),
        ],
        Some(b"nosuch\n"),
    );
    none.expect_code(0);
    assert_eq!(none.stdout_str(), "^$\n", "{none}");
    none.stderr_has("nosuch");
    fs::write(fx.at("usr/lib/gamma/a"), "changed again\n").expect("edit");
    let (_, out) = aide(&["--update", "--limit", "^$"]);
    promote();
    let (_, report) = aide(&["--check"]);
    assert!(
        aide_reported(&report).contains(&fx.at("usr/lib/gamma/a").display().to_string()),
        "^$ re-baselined something: {out}\n{report}"
    );
}

#[test]
fn closed_pipe_is_quiet() {
    // A database whose one package lost its 2,000 files: far more problems
    // than a pipe holds.
    let s = Scratch::new("pkg-verify-pipe");
    s.write(
        "var/lib/dpkg/status",
        "Package: big\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n",
    );
    let files: Vec<String> = (0..2000)
        .map(|i| format!("/usr/share/big/file-{i}"))
        .collect();
    s.write("var/lib/dpkg/info/big.list", files.join("\n") + "\n");
    let sums: String = files
        .iter()
        .map(|f| format!("d41d8cd98f00b204e9800998ecf8427e  {}\n", &f[1..]))
        .collect();
    s.write("var/lib/dpkg/info/big.md5sums", sums);
    let root = s.path().to_str().expect("utf8").to_owned();
    common::assert_quiet_on_closed_pipe("pkg-verify", &["--root", &root]);
    common::assert_quiet_on_closed_pipe("pkg-verify", &["--root", &root, "--format", "text"]);
}

/// `rpm -Va` (on the root `root`) as problems: `missing`, and per column
/// S `size`, M `type` where no regular file is there now (the test's
/// files are all regular files) and `mode` otherwise, 5
/// `digest` (`?` `unreadable`), L `link`, U `owner`, G `group`; the mtime
/// (T) is not among pkg-verify's problems.
fn rpm_verify(root: &Path) -> BTreeSet<Problem> {
    let out = Command::new("rpm")
        .arg("--root")
        .arg(root)
        .args([
            "--dbpath",
            "/var/lib/rpm",
            "--define",
            "_db_backend sqlite",
            "-Va",
        ])
        .output()
        .expect("run rpm -Va");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut set = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("missing") {
            let rest = rest.trim_start();
            let (c, path) = match rest.split_once(' ') {
                Some((c, p)) if c.len() == 1 && p.starts_with('/') => (c == "c", p.trim_start()),
                _ => (false, rest),
            };
            set.insert((path.to_owned(), "missing".to_owned(), c));
            continue;
        }
        let (flags, rest) = line.split_at(9);
        let conffile = rest.as_bytes().get(2) == Some(&b'c');
        let path = rest[4..].to_owned();
        for (i, f) in flags.bytes().enumerate() {
            let word = match (i, f) {
                (0, b'S') => "size",
                (1, b'M') => {
                    let real = root.join(path.trim_start_matches('/'));
                    match fs::symlink_metadata(real) {
                        Ok(m) if !m.is_file() => "type",
                        _ => "mode",
                    }
                }
                (2, b'5') => "digest",
                (2, b'?') => "unreadable",
                (4, b'L') => "link",
                (5, b'U') => "owner",
                (6, b'G') => "group",
                _ => continue,
            };
            set.insert((path.clone(), word.to_owned(), conffile));
        }
    }
    set
}

/// rpmbuild a package with a `%config` file, regular files, a symlink and a
/// `%ghost` file that is never made, and install it with rpm into a
/// fixture root (rpm chroots there: root only).
#[test]
#[ignore = "run as root: rpm --root installs into a chroot, which needs root"]
fn an_rpm_root_reports_what_rpm_va_reports() {
    if !have("rpm") || !have("rpmbuild") {
        common::skip("rpm or rpmbuild is not installed (apt-get install rpm)");
        return;
    }
    require_root!("rpm --root installs into a chroot, which needs root");
    let s = Scratch::new("pkgv-rpm");
    let top = s.path().join("rpmbuild");
    s.write(
        "pvtest.spec",
        "Name: pvtest\nVersion: 1.0\nRelease: 1\nSummary: a package of the pkg-verify test\n\
         License: MIT\nBuildArch: noarch\n%description\nA package of the pkg-verify test.\n\
         %install\nmkdir -p %{buildroot}/etc %{buildroot}/usr/share/pvtest %{buildroot}/var/log\n\
         echo 'setting = 1' > %{buildroot}/etc/pvtest.conf\n\
         for f in a b c d e f g; do echo \"file $f\" > %{buildroot}/usr/share/pvtest/$f; done\n\
         ln -s a %{buildroot}/usr/share/pvtest/link\n\
         %files\n%config(noreplace) /etc/pvtest.conf\n/usr/share/pvtest\n%ghost /var/log/pvtest.log\n",
    );
    let sh = |c: &mut Command| {
        let out = c.output().expect("run");
        assert!(
            out.status.success(),
            "{c:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    sh(Command::new("rpmbuild")
        .args(["--quiet", "-bb", "--define"])
        .arg(format!("_topdir {}", top.display()))
        .arg(s.path().join("pvtest.spec")));
    let pkg = top.join("RPMS/noarch/pvtest-1.0-1.noarch.rpm");
    let root = s.path().join("root");
    fs::create_dir_all(&root).expect("mkdir");
    let rpm = |args: &[&OsStr]| {
        let mut c = Command::new("rpm");
        c.arg("--root")
            .arg(&root)
            .args(["--dbpath", "/var/lib/rpm", "--define", "_db_backend sqlite"])
            .args(args);
        sh(&mut c);
    };
    rpm(&["--initdb".as_ref()]);
    rpm(&["-i".as_ref(), "--nodeps".as_ref(), pkg.as_os_str()]);
    let run_pv = |args: &[&str]| {
        let mut all = vec![
            std::ffi::OsString::from("--root"),
            root.clone().into_os_string(),
        ];
        all.extend(args.iter().map(std::ffi::OsString::from));
        run("pkg-verify", all, None)
    };
    // Untouched: nothing to report, like rpm.
    assert!(rpm_verify(&root).is_empty());
    let r = run_pv(&[]);
    r.expect_code(0);
    assert_eq!(r.stdout_str(), "", "{r}");

    let at = |rel: &str| root.join(rel);
    fs::write(at("etc/pvtest.conf"), "setting = 2 # by hand\n").expect("edit");
    fs::write(at("usr/share/pvtest/a"), "file a, changed\n").expect("modify");
    fs::set_permissions(at("usr/share/pvtest/b"), fs::Permissions::from_mode(0o600))
        .expect("chmod");
    fs::remove_file(at("usr/share/pvtest/c")).expect("remove");
    std::os::unix::fs::chown(at("usr/share/pvtest/d"), Some(1234), Some(4321)).expect("chown");
    // Same size, other content.
    fs::write(at("usr/share/pvtest/e"), "file X\n").expect("modify");
    // A directory where a file was.
    fs::remove_file(at("usr/share/pvtest/g")).expect("remove");
    fs::create_dir(at("usr/share/pvtest/g")).expect("mkdir");
    fs::remove_file(at("usr/share/pvtest/link")).expect("unlink");
    std::os::unix::fs::symlink("b", at("usr/share/pvtest/link")).expect("relink");

    let want = rpm_verify(&root);
    let r = run_pv(&[]);
    r.expect_code(1);
    let recs = r.records();
    let got = problems(&recs);
    assert_eq!(got, want, "{r}");
    // The test changed what it meant to: every kind of problem is there.
    let words: BTreeSet<&str> = got.iter().map(|(_, w, _)| w.as_str()).collect();
    assert_eq!(
        words,
        ["digest", "group", "link", "missing", "mode", "owner", "size", "type"]
            .into_iter()
            .collect()
    );
    assert!(got.contains(&("/etc/pvtest.conf".into(), "digest".into(), true)));
    let link = recs
        .iter()
        .find(|r| r["problem"] == "link")
        .expect("a link record");
    assert_eq!(
        (&link["expected"], &link["actual"]),
        (&"a".into(), &"b".into())
    );
    let mode = recs
        .iter()
        .find(|r| r["problem"] == "mode")
        .expect("a mode record");
    assert_eq!(
        (&mode["expected"], &mode["actual"]),
        (&"0644".into(), &"0600".into())
    );
    assert!(recs.iter().all(|r| r["package"] == "pvtest"), "{r}");

    // --package narrows (and knows what rpm has); the text view.
    let r = run_pv(&["--package", "pvtest", "--format", "text"]);
    r.expect_code(1);
    assert!(
        r.stdout_str()
            .contains("mode         pvtest /usr/share/pvtest/b (0644 -> 0600)"),
        "{r}"
    );
    let r = run_pv(&["--package", "nonesuch"]);
    r.expect_code(2).stderr_has("rpm -q nonesuch");
}

#[test]
#[ignore = "run as root: dpkg installs into a fixture root, which needs root"]
fn a_root_and_a_rebaseline_file_whose_names_are_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    skip_if!(dpkg::unavailable(true));
    let fx = Fixture::new("pkgv-non-utf8");
    let deb = fx.deb(
        "alpha",
        "1.0",
        &[
            F("usr/bin/alpha", "#!/bin/sh\necho alpha\n", 0o755),
            F("usr/share/alpha/data.txt", "data\n", 0o644),
        ],
        &[],
    );
    fx.install(&deb);
    fs::write(fx.at("usr/share/alpha/data.txt"), "tampered\n").expect("modify");
    let want = fx.pkg_verify(&[]);
    want.expect_code(1);
    let odd = fx.s.path().join(OsStr::from_bytes(b"root-\xff"));
    fs::rename(fx.root(), &odd).expect("rename the root");
    let r = run("pkg-verify", ["--root".as_ref(), odd.as_os_str()], None);
    r.expect_code(1);
    assert_eq!(r.stdout, want.stdout, "{r}");
    assert_eq!(problems(&r.records()).len(), 1, "{r}");
    // The package list to re-baseline, in a file whose name is not UTF-8.
    let list = fx.s.path().join(OsStr::from_bytes(b"changes-\xfe.txt"));
    fs::write(&list, "alpha\n").expect("write the list");
    let r = run(
        "pkg-verify",
        [
            "--root".as_ref(),
            odd.as_os_str(),
            "--rebaseline".as_ref(),
            list.as_os_str(),
            "--format".as_ref(),
            "paths".as_ref(),
        ],
        None,
    );
    r.expect_code(0);
    let mut bin = odd.as_os_str().as_bytes().to_vec();
    bin.extend_from_slice(b"/usr/bin/alpha\n");
    assert!(
        r.stdout.windows(bin.len()).any(|w| w == bin.as_slice()),
        "{r}"
    );
    r.stderr_has("1 file left out");
    // A missing one is named, bytes that are not UTF-8 shown as such.
    let gone = fx.s.path().join(OsStr::from_bytes(b"gone-\xfe.txt"));
    let r = run(
        "pkg-verify",
        [
            "--root".as_ref(),
            odd.as_os_str(),
            "--rebaseline".as_ref(),
            gone.as_os_str(),
        ],
        None,
    );
    r.expect_code(2).stderr_has("gone-");
    assert_eq!(r.stderr.lines().count(), 1, "{r}");
}
