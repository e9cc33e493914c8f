//! pkg-snap end to end: the live system against `dpkg-query`, fixture
//! roots that the real dpkg, dpkg-deb, apt-mark, rpm and rpmbuild made
//! (an upgrade and a downgrade shown by snap-diff, with the old package
//! file as the way back), and the messages of bad input.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::fixtures::dpkg::{Dpkg, Package};
use crate::common::{have, must as sh, run, Scratch};

/// `dpkg-query -W` in its own words, as a set of lines.
const QUERY: &str = "${Package} ${Architecture} ${Version} ${db:Status-Status}\n";

/// The same lines from pkg-snap's records.
fn as_query(recs: &[Value]) -> BTreeSet<String> {
    let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
    recs.iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                s(&r["name"]),
                s(&r["arch"]),
                s(&r["version"]),
                s(&r["status"])
            )
        })
        .collect()
}

fn lines(s: &str) -> BTreeSet<String> {
    s.lines().map(str::to_owned).collect()
}

#[test]
fn agrees_with_dpkg_query_on_this_machine() {
    if !Path::new("/var/lib/dpkg/status").exists() || !have("dpkg-query") {
        common::skip("no dpkg on this machine");
        return;
    }
    let want = sh(Command::new("dpkg-query").args(["-W", "-f", QUERY]));
    let r = run("pkg-snap", ["--manager", "dpkg"], None);
    r.expect_code(0);
    let recs = r.records();
    assert_eq!(as_query(&recs), lines(&want), "{r}");
    // One record per package, in a stable order, with the host on each.
    let keys: Vec<(String, String)> = recs
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap_or("").to_owned(),
                r["arch"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted, "records in name, arch order, no duplicates");
    assert!(recs
        .iter()
        .all(|r| r["host"].is_string() && r["kind"] == "package"));
    // Two runs of an unchanged system are byte-identical.
    let again = run("pkg-snap", ["--manager", "dpkg"], None);
    assert_eq!(again.stdout, r.stdout);
}

/// A fixture root with an empty dpkg database, and the commands that
/// work on it with the real dpkg.
struct Fixture {
    s: Scratch,
    root: PathBuf,
    db: Dpkg,
}

impl Fixture {
    fn new(label: &str) -> Fixture {
        let s = Scratch::new(label);
        let db = Dpkg::new(&s);
        let root = db.root().to_owned();
        std::fs::create_dir_all(root.join("var/cache/apt/archives")).expect("mkdir");
        s.write("root/etc/hostname", "fixture\n");
        Fixture { s, root, db }
    }

    fn admindir(&self) -> PathBuf {
        self.db.admindir()
    }

    /// Build NAME_VERSION_all.deb with dpkg-deb.
    fn deb(&self, name: &str, version: &str) -> PathBuf {
        self.db.build(
            &Package::new(name, version)
                .control(&format!("Source: {name}-src"))
                .description("a package of the pkg-snap test")
                .file(
                    &format!("usr/share/doc/{name}/version"),
                    format!("{version}\n"),
                ),
        )
    }

    /// `dpkg -i` into the root, as an unprivileged dpkg may.
    fn install(&self, deb: &Path) {
        self.db.install(&[deb]);
    }

    /// Put a package file into the root's apt cache, as apt names it.
    fn cache(&self, deb: &Path) -> String {
        let name = deb.file_name().expect("name");
        std::fs::copy(deb, self.root.join("var/cache/apt/archives").join(name)).expect("copy");
        format!("/var/cache/apt/archives/{}", name.to_string_lossy())
    }

    fn snap(&self, extra: &[&str]) -> common::Run {
        let mut args = vec!["--root".to_owned(), self.root.display().to_string()];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        run("pkg-snap", args, None)
    }

    fn write(&self, name: &str, r: &common::Run) -> PathBuf {
        let p = self.s.path().join(name);
        std::fs::write(&p, &r.stdout).expect("write snapshot");
        p
    }
}

fn dpkg_tools() -> bool {
    if have("dpkg") && have("dpkg-deb") && have("dpkg-query") {
        return true;
    }
    common::skip("dpkg, dpkg-deb or dpkg-query is not installed");
    false
}

#[test]
fn an_upgrade_and_a_downgrade_in_a_fixture_root() {
    if !dpkg_tools() {
        return;
    }
    let f = Fixture::new("pkg-upgrade");
    let old = f.deb("patchday-demo", "1:9.2p1-2+deb12u9");
    let new = f.deb("patchday-demo", "1:9.2p1-2+deb12u10");
    let other = f.deb("patchday-other", "1.0~rc1-1");
    f.install(&old);
    f.install(&other);
    let before = f.snap(&[]);
    before.expect_code(0);
    let recs = before.records();
    assert_eq!(recs.len(), 2, "{before}");
    let demo = &recs[0];
    assert_eq!(demo["name"], "patchday-demo");
    assert_eq!(demo["version"], "1:9.2p1-2+deb12u9");
    assert_eq!(demo["source"], "patchday-demo-src");
    assert_eq!(demo["host"], "fixture");
    assert_eq!(demo["manager"], "dpkg");
    assert_eq!(demo["held"], false);
    assert!(demo["install_time"].is_string(), "{demo}");
    // No apt here: the reason is not known.
    assert_eq!(demo["install_reason"], Value::Null);
    // The same answer as dpkg-query on the fixture's database.
    let want = sh(Command::new("dpkg-query")
        .arg(format!("--admindir={}", f.admindir().display()))
        .args(["-W", "-f", QUERY]));
    assert_eq!(as_query(&recs), lines(&want));
    let b = f.write("before.json", &before);

    // The upgrade, with the old .deb left in apt's cache.
    let cached = f.cache(&old);
    f.install(&new);
    let after = f.snap(&[]);
    after.expect_code(0);
    let a = f.write("after.json", &after);
    let d = run("snap-diff", [&b, &a], None);
    d.expect_code(1);
    let changes = d.records();
    assert_eq!(changes.len(), 1, "{d}");
    let c = &changes[0];
    assert_eq!(c["op"], "changed");
    assert_eq!(c["of"], "package");
    assert_eq!(c["key"]["name"], "patchday-demo");
    assert_eq!(c["fields"], serde_json::json!(["version"]), "{d}");
    assert_eq!(c["direction"], "upgrade", "{d}");
    assert_eq!(c["rollback"], cached.as_str(), "{d}");
    assert_eq!(c["after"]["cached"], serde_json::json!([cached]));
    let t = run(
        "snap-diff",
        [
            "--format".as_ref(),
            "text".as_ref(),
            b.as_os_str(),
            a.as_os_str(),
        ],
        None,
    );
    t.expect_code(1).stdout_has(
        "~ patchday-demo 1:9.2p1-2+deb12u9 -> 1:9.2p1-2+deb12u10 (upgrade; old .deb cached)",
    );

    // Back down again, through a pipe as on patch day.
    f.install(&old);
    let snap = f.snap(&[]);
    snap.expect_code(0);
    let d = run(
        "snap-diff",
        [a.as_os_str(), "-".as_ref()],
        Some(&snap.stdout),
    );
    d.expect_code(1);
    let c = &d.records()[0];
    assert_eq!(c["direction"], "downgrade", "{d}");
    // The newer version was never cached: no way back to it offline.
    assert_eq!(c["rollback"], Value::Null, "{d}");
    let t = run(
        "snap-diff",
        [
            "--format".as_ref(),
            "text".as_ref(),
            a.as_os_str(),
            "-".as_ref(),
        ],
        Some(&snap.stdout),
    );
    t.stdout_has(
        "~ patchday-demo 1:9.2p1-2+deb12u10 -> 1:9.2p1-2+deb12u9 (downgrade; old .deb not cached)",
    );
    // Before and after the round trip: nothing but what is ignored.
    let d = run(
        "snap-diff",
        [b.as_os_str(), "-".as_ref()],
        Some(&snap.stdout),
    );
    d.expect_code(0);
}

#[test]
fn holds_and_install_reasons_from_dpkg_and_apt() {
    if !dpkg_tools() || !have("apt-mark") {
        common::skip("apt-mark is not installed");
        return;
    }
    let f = Fixture::new("pkg-marks");
    f.install(&f.deb("patchday-lib", "2.0-1"));
    f.install(&f.deb("patchday-app", "1.0-1"));
    // dpkg's own hold, and apt's own record of an automatic install.
    let mut sel = Command::new("dpkg");
    sel.arg(format!("--root={}", f.root.display()))
        .arg(format!("--admindir={}", f.admindir().display()))
        .args(["--force-not-root", "--set-selections"]);
    let r = common::run_cmd(sel, Some(b"patchday-app hold\n"));
    r.expect_code(0);
    std::fs::create_dir_all(f.root.join("var/lib/apt")).expect("mkdir");
    sh(Command::new("apt-mark")
        .arg("-o")
        .arg(format!("Dir={}", f.root.display()))
        .arg("-o")
        .arg(format!(
            "Dir::State::status={}",
            f.admindir().join("status").display()
        ))
        .args(["auto", "patchday-lib"]));
    let r = f.snap(&[]);
    r.expect_code(0);
    let recs = r.records();
    let by = |n: &str| {
        recs.iter()
            .find(|x| x["name"] == n)
            .unwrap_or_else(|| panic!("{n}\n{r}"))
            .clone()
    };
    assert_eq!(by("patchday-app")["held"], true);
    assert_eq!(by("patchday-app")["install_reason"], "manual");
    assert_eq!(by("patchday-lib")["held"], false);
    assert_eq!(by("patchday-lib")["install_reason"], "auto");
    let t = f.snap(&["--format", "text"]);
    t.expect_code(0);
    assert_eq!(
        t.stdout_str(),
        "NAME         VERSION ARCH\npatchday-app 1.0-1   all (held)\npatchday-lib 2.0-1   all\n"
    );
}

#[test]
fn pending_updates_of_an_interrupted_run_count() {
    if !dpkg_tools() {
        return;
    }
    let f = Fixture::new("pkg-updates");
    f.install(&f.deb("patchday-demo", "1.0-1"));
    // What dpkg journals while it unpacks a new version, before it folds
    // the journal into the status file.
    let status = std::fs::read_to_string(f.admindir().join("status")).expect("status");
    let pending = status
        .replace("Version: 1.0-1", "Version: 1.0-2")
        .replace("install ok installed", "install ok half-installed");
    std::fs::write(f.admindir().join("updates/0000"), pending).expect("journal");
    let r = f.snap(&[]);
    r.expect_code(0);
    let want = sh(Command::new("dpkg-query")
        .arg(format!("--admindir={}", f.admindir().display()))
        .args(["-W", "-f", QUERY]));
    assert_eq!(as_query(&r.records()), lines(&want), "{r}");
    assert!(want.contains("1.0-2 half-installed"), "{want}");
}

#[test]
fn bad_input_is_one_clear_line_and_exit_2() {
    let s = Scratch::new("pkg-bad");
    let root = s.path();
    // No package database at all.
    let r = run("pkg-snap", ["--root".as_ref(), root.as_os_str()], None);
    r.expect_code(2)
        .stderr_has("no package database")
        .stdout_empty();
    // A status file that is not one: file and line named.
    s.write(
        "var/lib/dpkg/status",
        "Package: a\nStatus: install ok installed\n\nthis is not dpkg\n",
    );
    let r = run("pkg-snap", ["--root".as_ref(), root.as_os_str()], None);
    r.expect_code(2).stderr_has("var/lib/dpkg/status:4:");
    assert_eq!(r.stderr.lines().count(), 1, "{r}");
    assert!(r.stdout.is_empty(), "nothing half-written: {r}");
    // An rpm database of a format pkg-snap does not read.
    std::fs::remove_file(root.join("var/lib/dpkg/status")).expect("rm");
    s.write("var/lib/rpm/Packages", "\0\0\0\0\x61\x15\x06\0");
    let r = run("pkg-snap", ["--root".as_ref(), root.as_os_str()], None);
    r.expect_code(2);
    assert!(
        r.stderr.contains("Berkeley DB") && r.stderr.contains("rpm -qa"),
        "{r}"
    );
    s.write(
        "var/lib/rpm/rpmdb.sqlite",
        "not a database at all, just text\n",
    );
    let r = run(
        "pkg-snap",
        [
            "--root".as_ref(),
            root.as_os_str(),
            "--manager".as_ref(),
            "rpm".as_ref(),
        ],
        None,
    );
    r.expect_code(2);
    assert!(
        r.stderr.contains("rpmdb.sqlite") && r.stderr.contains("rpm -qa"),
        "{r}"
    );
    // Asking for a manager the system has not.
    let r = run(
        "pkg-snap",
        [
            "--root".as_ref(),
            root.as_os_str(),
            "--manager".as_ref(),
            "dpkg".as_ref(),
        ],
        None,
    );
    r.expect_code(2).stderr_has("--manager dpkg");
}

#[test]
fn a_closed_pipe_is_quiet() {
    if !Path::new("/var/lib/dpkg/status").exists() {
        common::skip("no dpkg on this machine");
        return;
    }
    common::assert_quiet_on_closed_pipe("pkg-snap", &[]);
}

#[test]
fn reads_nothing_of_the_host_under_root() {
    if !dpkg_tools() {
        return;
    }
    let f = Fixture::new("pkg-host");
    f.install(&f.deb("patchday-demo", "1.0-1"));
    let Some(bad) = common::host_reads("pkg-snap", &f.root, &[]) else {
        common::skip("strace cannot run here");
        return;
    };
    assert!(bad.is_empty(), "read the host under --root: {bad:#?}");
}

/// An rpm database built by rpm itself: packages built with rpmbuild and
/// recorded with `rpm -i --justdb` (no files installed, no root needed),
/// in the SQLite format.
struct RpmFixture {
    s: Scratch,
    root: PathBuf,
}

impl RpmFixture {
    fn new() -> Option<RpmFixture> {
        if !have("rpm") || !have("rpmbuild") {
            common::skip("rpm or rpmbuild is not installed (apt-get install rpm)");
            return None;
        }
        let s = Scratch::new("pkg-rpm");
        let root = s.path().join("root");
        std::fs::create_dir_all(root.join("var/lib/rpm")).expect("mkdir");
        let f = RpmFixture { s, root };
        sh(f.rpm().arg("--initdb"));
        assert!(
            f.root.join("var/lib/rpm/rpmdb.sqlite").exists(),
            "rpm did not write the sqlite backend"
        );
        Some(f)
    }

    /// rpm on the fixture's database, sqlite whatever the default.
    fn rpm(&self) -> Command {
        let mut c = Command::new("rpm");
        c.arg("--dbpath")
            .arg(self.root.join("var/lib/rpm"))
            .args(["--define", "_db_backend sqlite"]);
        c
    }

    /// Build NAME-VERSION-RELEASE.ARCH.rpm (with an epoch if given).
    fn build(
        &self,
        name: &str,
        epoch: Option<u32>,
        version: &str,
        release: &str,
        arch: &str,
    ) -> PathBuf {
        let top = self.s.path().join("rpmbuild");
        let spec = self
            .s
            .path()
            .join(format!("{name}-{version}-{release}.spec"));
        let epoch = epoch.map(|e| format!("Epoch: {e}\n")).unwrap_or_default();
        std::fs::write(
            &spec,
            format!(
                "Name: {name}\n{epoch}Version: {version}\nRelease: {release}\nSummary: a package of the pkg-snap test\n\
                 License: MIT\nBuildArch: {arch}\n%description\nA package of the pkg-snap test.\n%files\n"
            ),
        )
        .expect("spec");
        sh(Command::new("rpmbuild")
            .args(["--quiet", "-bb", "--define"])
            .arg(format!("_topdir {}", top.display()))
            .args(["--define", "_db_backend sqlite"])
            .arg(&spec));
        top.join(format!("RPMS/{arch}/{name}-{version}-{release}.{arch}.rpm"))
    }

    fn install(&self, rpm: &Path, how: &str) {
        sh(self
            .rpm()
            .args([how, "--nodeps", "--justdb", "--oldpackage"])
            .arg(rpm));
    }
}

#[test]
fn rpm_database_built_by_rpm() {
    let Some(f) = RpmFixture::new() else { return };
    let bash = f.build("patchday-bash", None, "5.1.8", "6.el9", "x86_64");
    let ssl = f.build("patchday-ssl", Some(1), "3.0.7", "24.el9", "noarch");
    let ssl_new = f.build("patchday-ssl", Some(1), "3.0.7", "25.el9", "noarch");
    f.install(&bash, "-i");
    f.install(&ssl, "-i");
    let before = run("pkg-snap", ["--root".as_ref(), f.root.as_os_str()], None);
    before.expect_code(0);
    let recs = before.records();
    // rpm's own answer on the same database.
    let want = sh(f.rpm().args([
        "-qa",
        "--qf",
        "%{NAME} %{ARCH} %{EVR} %{SOURCERPM} %{INSTALLTIME}\\n",
    ]));
    let ours: BTreeSet<String> = recs
        .iter()
        .map(|r| {
            let t = r["install_time"].as_str().unwrap_or("");
            let secs = common_time(t);
            format!(
                "{} {} {} {}-{}.src.rpm {secs}",
                r["name"].as_str().unwrap_or(""),
                r["arch"].as_str().unwrap_or(""),
                r["version"].as_str().unwrap_or(""),
                r["source"].as_str().unwrap_or(""),
                src_vr(r["version"].as_str().unwrap_or(""))
            )
        })
        .collect();
    assert_eq!(ours, lines(&want), "{before}");
    assert!(recs
        .iter()
        .all(|r| r["manager"] == "rpm" && r["status"] == "installed"));
    assert_eq!(recs[0]["name"], "patchday-bash", "sorted by name");
    assert_eq!(recs[1]["version"], "1:3.0.7-24.el9");
    let b = f.s.path().join("before.json");
    std::fs::write(&b, &before.stdout).expect("write");

    // An upgrade with the old package kept in dnf's cache.
    let cache = f.root.join("var/cache/dnf/baseos-1a2b/packages");
    std::fs::create_dir_all(&cache).expect("mkdir");
    std::fs::copy(&ssl, cache.join(ssl.file_name().expect("name"))).expect("copy");
    f.install(&ssl_new, "-U");
    let after = run("pkg-snap", ["--root".as_ref(), f.root.as_os_str()], None);
    after.expect_code(0);
    let d = run(
        "snap-diff",
        [b.as_os_str(), "-".as_ref()],
        Some(&after.stdout),
    );
    d.expect_code(1);
    let c = &d.records()[0];
    assert_eq!(c["direction"], "upgrade", "{d}");
    assert_eq!(
        c["rollback"], "/var/cache/dnf/baseos-1a2b/packages/patchday-ssl-3.0.7-24.el9.noarch.rpm",
        "{d}"
    );
    let t = run(
        "snap-diff",
        [
            "--format".as_ref(),
            "text".as_ref(),
            b.as_os_str(),
            "-".as_ref(),
        ],
        Some(&after.stdout),
    );
    assert!(
        t.stdout_str()
            .contains("~ patchday-ssl 1:3.0.7-24.el9 -> 1:3.0.7-25.el9 (upgrade; old .rpm cached)"),
        "{t}"
    );

    // Fedora's and openSUSE's layout: the database in /usr/lib/sysimage/rpm
    // and /var/lib/rpm an absolute link to it, followed inside the root.
    let sysimage = f.root.join("usr/lib/sysimage");
    std::fs::create_dir_all(&sysimage).expect("mkdir");
    std::fs::rename(f.root.join("var/lib/rpm"), sysimage.join("rpm")).expect("move");
    std::os::unix::fs::symlink("/usr/lib/sysimage/rpm", f.root.join("var/lib/rpm")).expect("link");
    let moved = run("pkg-snap", ["--root".as_ref(), f.root.as_os_str()], None);
    moved.expect_code(0);
    assert_eq!(moved.stdout, after.stdout, "{moved}");
}

/// Seconds since the epoch of an RFC 3339 UTC time pkg-snap wrote.
fn common_time(t: &str) -> String {
    let out = Command::new("date")
        .args(["-u", "-d", t, "+%s"])
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The VERSION-RELEASE part of `[E:]V-R`, as in a source rpm's name.
fn src_vr(evr: &str) -> &str {
    evr.split_once(':').map_or(evr, |(_, vr)| vr)
}

/// Install reasons as dnf records them: dnf itself installs an application
/// that pulls in a library (from a local repository createrepo_c made),
/// into a fixture root, then marks the library as wanted by hand.
#[test]
#[ignore = "run as root: dnf --installroot runs rpm in a chroot, which needs root"]
fn install_reasons_from_dnfs_history() {
    let Some(f) = RpmFixture::new() else { return };
    if !have("dnf") || !have("createrepo_c") {
        common::skip("dnf or createrepo_c is not installed (apt-get install dnf createrepo-c)");
        return;
    }
    require_root!("dnf --installroot runs rpm in a chroot, which needs root");
    let lib = f.build("patchday-lib", None, "1.0", "1", "noarch");
    let spec_dir = f.s.path().join("app");
    std::fs::create_dir_all(&spec_dir).expect("mkdir");
    // The application requires the library (a spec of its own).
    let top = f.s.path().join("rpmbuild");
    let spec = spec_dir.join("app.spec");
    std::fs::write(
        &spec,
        "Name: patchday-app\nVersion: 2.0\nRelease: 1\nSummary: an application of the pkg-snap test\n\
         License: MIT\nBuildArch: noarch\nRequires: patchday-lib\n%description\nAn application.\n%files\n",
    )
    .expect("spec");
    sh(Command::new("rpmbuild")
        .args(["--quiet", "-bb", "--define"])
        .arg(format!("_topdir {}", top.display()))
        .arg(&spec));
    let repo = lib.parent().and_then(Path::parent).expect("RPMS");
    sh(Command::new("createrepo_c").arg("-q").arg(repo));
    let root = f.s.path().join("dnfroot");
    std::fs::create_dir_all(&root).expect("mkdir");
    let dnf = |args: &[&str]| {
        sh(Command::new("dnf")
            .args(["-y", "-q", "--disableplugin=*", "--releasever=1"])
            .arg(format!("--installroot={}", root.display()))
            .args(["--setopt=reposdir=/dev/null", "--setopt=local.gpgcheck=0"])
            .arg(format!("--repofrompath=local,file://{}", repo.display()))
            .args(args));
    };
    dnf(&["install", "patchday-app"]);
    // Debian's rpm keeps its database in ~/.rpmdb (%_dbpath), and dnf in
    // an installroot follows it: move it where RPM-based systems keep it.
    let from = root.join("root/.rpmdb");
    let to = root.join("var/lib/rpm");
    let moved = from.is_dir();
    let shift = |a: &Path, b: &Path| {
        if moved {
            std::fs::create_dir_all(b).expect("mkdir");
            for e in std::fs::read_dir(a).expect("rpmdb") {
                let e = e.expect("entry");
                std::fs::rename(e.path(), b.join(e.file_name())).expect("move");
            }
        }
    };
    shift(&from, &to);
    assert!(root.join("var/lib/dnf/history.sqlite").exists());
    let reasons = |r: &common::Run| -> Vec<(String, String)> {
        r.records()
            .iter()
            .map(|x| {
                (
                    x["name"].as_str().unwrap_or("").to_owned(),
                    x["install_reason"].as_str().unwrap_or("null").to_owned(),
                )
            })
            .collect()
    };
    let r = run("pkg-snap", ["--root".as_ref(), root.as_os_str()], None);
    r.expect_code(0);
    assert_eq!(
        reasons(&r),
        [
            ("patchday-app".to_owned(), "manual".to_owned()),
            ("patchday-lib".to_owned(), "auto".to_owned())
        ],
        "{r}"
    );
    // Back for dnf, then `dnf mark install`.
    shift(&to, &from);
    dnf(&["mark", "install", "patchday-lib"]);
    shift(&from, &to);
    let r = run("pkg-snap", ["--root".as_ref(), root.as_os_str()], None);
    r.expect_code(0);
    assert_eq!(
        reasons(&r)[1],
        ("patchday-lib".to_owned(), "manual".to_owned()),
        "{r}"
    );
}

#[test]
fn a_root_whose_name_is_not_utf8_is_read_all_the_same() {
    use std::os::unix::ffi::OsStrExt;
    if !dpkg_tools() {
        return;
    }
    let f = Fixture::new("pkg-non-utf8");
    f.install(&f.deb("patchday-demo", "1.0-1"));
    let want = f.snap(&[]);
    want.expect_code(0);
    let odd = f.s.path().join(std::ffi::OsStr::from_bytes(b"root-\xff"));
    std::fs::rename(&f.root, &odd).expect("rename the root");
    let r = run("pkg-snap", ["--root".as_ref(), odd.as_os_str()], None);
    r.expect_code(0);
    assert_eq!(r.stdout, want.stdout, "{r}");
    assert_eq!(r.records().len(), 1, "{r}");
}
