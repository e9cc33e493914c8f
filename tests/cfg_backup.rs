//! End-to-end tests of cfg-backup: a fake system (dpkg database, ucf
//! registry, /etc) under --root in a scratch directory, a store beside it.

use crate::common;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::fixtures::dpkg::{self, Dpkg, Package};
use crate::common::{bin, is_root, run_cmd, Cmd, Run, Scratch};
use serde_json::Value;

const STATUS: &str = "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\n\n\
Package: openssh-server\n\
Status: install ok installed\n\
Architecture: amd64\n\
Version: 1:9.2p1-2+deb12u3\n\
Conffiles:\n \
/etc/default/ssh 900150983cd24fb0d6963f7d28e17f72\n \
/etc/init.d/ssh 00000000000000000000000000000000\n \
/etc/ssh/moduli d41d8cd98f00b204e9800998ecf8427e obsolete\n\
Description: secure shell (SSH) server\n";

/// A system under a root, a store beside it.
struct Sys {
    dir: Scratch,
}

impl Sys {
    fn new(label: &str) -> Sys {
        let dir = Scratch::new(label);
        dir.write("root/var/lib/dpkg/status", STATUS);
        dir.write(
            "root/var/lib/dpkg/info/openssh-server.conffiles",
            "/etc/default/ssh\n/etc/init.d/ssh\n/etc/ssh/moduli\n",
        );
        dir.write(
            "root/var/lib/ucf/registry",
            "openssh-server\t/etc/ssh/sshd_config\nfoo /etc/foo.conf\n",
        );
        // md5("abc"): the admin has not changed sshd_config... until later.
        dir.write(
            "root/var/lib/ucf/hashfile",
            "900150983cd24fb0d6963f7d28e17f72  /etc/ssh/sshd_config\n",
        );
        dir.write(
            "root/etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nalice:x:1234:1234::/home/alice:/bin/sh\n",
        );
        dir.write("root/etc/group", "root:x:0:\nalice:x:1234:\n");
        dir.write("root/etc/default/ssh", "abc");
        dir.write("root/etc/init.d/ssh", "#!/bin/sh\necho start\n");
        dir.write("root/etc/ssh/sshd_config", "abc");
        dir.write("root/etc/ssh/moduli", "");
        Sys { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    fn at(&self, sys: &str) -> PathBuf {
        self.root().join(sys.trim_start_matches('/'))
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin("cfg-backup"));
        c.arg("--store")
            .arg(self.store())
            .arg("--root")
            .arg(self.root())
            .args(args)
            .env_remove("CFG_BACKUP_STORE")
            .env_remove("CFG_BACKUP_TEST_FAIL_AFTER_BLOBS")
            .env_remove("CFG_BACKUP_TEST_FAIL_BEFORE_RENAME");
        c
    }

    fn run(&self, args: &[&str]) -> Run {
        run_cmd(self.cmd(args), None)
    }

    /// How many blobs the store holds (its hidden temporary files left out).
    fn blobs(&self) -> usize {
        fs::read_dir(self.store().join("blobs"))
            .expect("ls")
            .filter(|d| {
                !d.as_ref()
                    .expect("d")
                    .file_name()
                    .to_string_lossy()
                    .starts_with('.')
            })
            .count()
    }

    fn ids(&self) -> Vec<String> {
        self.run(&["list"])
            .expect_code(0)
            .records()
            .iter()
            .map(|r| r["id"].as_str().expect("id").to_owned())
            .collect()
    }
}

/// `cfg-backup --store STORE --root ROOT ARGS`, whatever the environment
/// names as the store.
fn in_store(store: &Path, root: &Path, args: &[&str]) -> Run {
    Cmd::new("cfg-backup")
        .arg("--store")
        .arg(store)
        .root(root)
        .args(args)
        .env_remove("CFG_BACKUP_STORE")
        .run()
}

/// `chattr FLAG PATH`; whether it worked.
fn chattr(path: &Path, flag: &str) -> bool {
    Command::new("chattr")
        .arg(flag)
        .arg(path)
        .status()
        .is_ok_and(|st| st.success())
}

/// Make `path` immutable (`chattr +i`), or skip the test (false) where
/// that needs root or the file system has no such flag.
fn make_immutable(path: &Path) -> bool {
    if !is_root() || !chattr(path, "+i") {
        common::skip("needs root and chattr +i on the scratch file system");
        return false;
    }
    true
}

fn by_path(records: &[Value]) -> std::collections::BTreeMap<String, Value> {
    records
        .iter()
        .filter(|r| r["kind"] == "file" || r["kind"] == "change")
        .map(|r| {
            let p = if r["kind"] == "change" {
                &r["key"]["path"]
            } else {
                &r["path"]
            };
            (p.to_string().trim_matches('"').to_owned(), r.clone())
        })
        .collect()
}

#[test]
fn save_package_records_version_files_and_what_the_admin_changed() {
    let s = Sys::new("cfgb-pkg");
    let r = s.run(&[
        "save",
        "--package",
        "openssh-server",
        "--label",
        "before patch",
    ]);
    r.expect_code(0);
    let recs = r.records();
    assert_eq!(recs.len(), 1);
    let b = &recs[0];
    assert_eq!(b["kind"], "backup");
    assert_eq!(b["label"], "before patch");
    assert_eq!(b["files"], 4);
    assert_eq!(
        b["packages"],
        serde_json::json!([{"name": "openssh-server", "version": "1:9.2p1-2+deb12u3", "manager": "dpkg"}])
    );
    let id = b["id"].as_str().expect("id");
    assert_eq!(id.len(), 15, "{id}");

    let show = s.run(&["show", id]).expect_code(0).records();
    assert_eq!(show[0], *b);
    let files = by_path(&show);
    assert_eq!(files.len(), 4);
    let f = &files["/etc/default/ssh"];
    assert_eq!(f["package"], "openssh-server");
    assert_eq!(f["origin"], "dpkg");
    assert_eq!(f["modified"], false, "abc matches the shipped md5");
    assert_eq!(f["size"], 3);
    // Names come from the tree's passwd, which knows root but not nobody.
    if is_root() {
        assert_eq!(f["user"], "root");
    } else {
        assert_eq!(f["user"], Value::Null);
    }
    assert_eq!(
        f["sha256"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(files["/etc/init.d/ssh"]["modified"], true);
    assert_eq!(files["/etc/ssh/moduli"]["origin"], "dpkg-obsolete");
    assert_eq!(files["/etc/ssh/sshd_config"]["origin"], "ucf");
    assert_eq!(files["/etc/ssh/sshd_config"]["modified"], false);

    // A package with no conffiles still gets its version recorded.
    let r = s.run(&["save", "--package", "libc6"]);
    r.expect_code(0);
    assert_eq!(r.records()[0]["packages"][0]["version"], "2.36-9");
    assert_eq!(r.records()[0]["files"], 0);
}

#[test]
fn unknown_package_is_exit_2_and_saves_nothing() {
    let s = Sys::new("cfgb-unknown");
    let r = s.run(&["save", "--package", "no-such-pkg"]);
    r.expect_code(2)
        .stderr_has("no-such-pkg")
        .stderr_has("not installed");
    assert!(s.ids().is_empty());
}

#[test]
fn round_trip_of_a_directory_with_every_kind_of_entry() {
    let s = Sys::new("cfgb-trip");
    let etc = s.at("/etc/app");
    fs::create_dir_all(etc.join("conf.d")).expect("mkdir");
    fs::write(etc.join("app.conf"), "a = 1\nb = 2\nc = 3\n").expect("write");
    fs::write(etc.join("empty"), "").expect("write");
    fs::write(etc.join("secret"), "password\n").expect("write");
    fs::set_permissions(etc.join("secret"), fs::Permissions::from_mode(0o600)).expect("chmod");
    fs::write(etc.join("conf.d/x.conf"), [0u8, 1, 2, 255]).expect("write");
    std::os::unix::fs::symlink("app.conf", etc.join("current")).expect("symlink");
    let odd = etc.join(OsStr::from_bytes(b"caf\xe9.conf"));
    fs::write(&odd, "latin-1 name\n").expect("write");

    let r = s.run(&["save", "/etc/app"]);
    r.expect_code(0);
    let id = r.records()[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(r.records()[0]["files"], 8);
    assert_eq!(r.records()[0]["paths"], serde_json::json!(["/etc/app"]));

    // The store is private, whatever the source modes.
    let store_mode = fs::metadata(s.store()).expect("stat").permissions().mode() & 0o777;
    assert_eq!(store_mode, 0o700);
    let show = s.run(&["show", &id]).expect_code(0).records();
    for rec in show.iter().filter(|r| r["type"] == "file") {
        let h = rec["sha256"].as_str().expect("hash");
        let blob = s.store().join("blobs").join(h);
        let m = fs::metadata(&blob).expect("blob").permissions().mode() & 0o777;
        assert_eq!(m & 0o077, 0, "{} is mode {m:o}", blob.display());
    }
    let odd_rec = show
        .iter()
        .find(|r| r["path"].is_array())
        .expect("non-UTF-8 path as byte array");
    let mut want: Vec<Value> = b"/etc/app/caf\xe9.conf".iter().map(|&b| b.into()).collect();
    assert_eq!(odd_rec["path"], Value::Array(std::mem::take(&mut want)));
    let files = by_path(&show);
    assert_eq!(files["/etc/app/secret"]["mode"], "0600");
    assert_eq!(files["/etc/app/current"]["type"], "symlink");
    assert_eq!(files["/etc/app/current"]["target"], "app.conf");
    assert_eq!(files["/etc/app/current"]["sha256"], Value::Null);
    assert_eq!(files["/etc/app/conf.d"]["type"], "dir");
    assert_eq!(files["/etc/app/empty"]["size"], 0);

    // Nothing changed yet (and mtime alone is no change).
    s.run(&["diff"]).expect_code(0);
    let old_mtime = fs::metadata(etc.join("app.conf")).expect("stat").mtime();
    Command::new("touch")
        .arg(etc.join("empty"))
        .status()
        .expect("touch");
    s.run(&["diff"]).expect_code(0);

    // Change everything.
    fs::write(etc.join("app.conf"), "a = 1\nb = 20\nc = 3\n").expect("write");
    fs::set_permissions(etc.join("secret"), fs::Permissions::from_mode(0o644)).expect("chmod");
    fs::remove_file(etc.join("current")).expect("rm");
    std::os::unix::fs::symlink("/etc/shadow", etc.join("current")).expect("symlink");
    fs::remove_file(&odd).expect("rm");
    fs::write(etc.join("empty"), "now full").expect("write");
    fs::write(etc.join("conf.d/new.conf"), "new").expect("write");
    fs::write(etc.join("conf.d/x.conf"), [0u8, 1, 2, 254]).expect("write");

    let r = s.run(&["diff"]);
    r.expect_code(1);
    let ch = by_path(&r.records());
    assert_eq!(ch["/etc/app/app.conf"]["op"], "changed");
    assert_eq!(
        ch["/etc/app/app.conf"]["fields"],
        serde_json::json!(["size", "sha256"])
    );
    assert_eq!(ch["/etc/app/app.conf"]["before"]["backup"], id.as_str());
    assert_eq!(ch["/etc/app/app.conf"]["after"]["backup"], Value::Null);
    assert_eq!(ch["/etc/app/secret"]["fields"], serde_json::json!(["mode"]));
    assert_eq!(ch["/etc/app/secret"]["after"]["mode"], "0644");
    assert_eq!(
        ch["/etc/app/current"]["fields"],
        serde_json::json!(["size", "target"])
    );
    assert_eq!(
        ch["/etc/app/empty"]["fields"],
        serde_json::json!(["size", "sha256"])
    );
    assert_eq!(ch["/etc/app/conf.d/new.conf"]["op"], "added");
    let removed: Vec<_> = r
        .records()
        .into_iter()
        .filter(|c| c["op"] == "removed")
        .collect();
    assert_eq!(removed.len(), 1);
    assert!(removed[0]["key"]["path"].is_array());

    // Text: a unified diff for text, a sentence for the rest.
    let t = s.run(&["diff", "--format", "text"]);
    t.expect_code(1);
    let text = t.stdout_str();
    assert!(
        text.contains(&format!("--- a/etc/app/app.conf\t(backup {id})")),
        "{text}"
    );
    assert!(text.contains("+++ b/etc/app/app.conf"), "{text}");
    assert!(text.contains("-b = 2\n+b = 20\n"), "{text}");
    assert!(
        text.contains("/etc/app/secret: mode 0600 -> 0644"),
        "{text}"
    );
    assert!(
        text.contains("Binary files a/etc/app/conf.d/x.conf and b/etc/app/conf.d/x.conf differ"),
        "{text}"
    );
    assert!(text.contains("/etc/app/caf\\xe9.conf: removed"), "{text}");
    assert!(text.contains("/etc/app/conf.d/new.conf: added"), "{text}");

    // A diff limited to one path.
    let r = s.run(&["diff", &id, "/etc/app/secret"]);
    r.expect_code(1);
    assert_eq!(r.records().len(), 1);

    // Restore, then nothing differs: the file that was added is removed
    // (and kept in the undo backup).
    s.run(&["restore", &id]).expect_code(0);
    let r = s.run(&["diff", &id]);
    r.expect_code(0);
    assert!(r.records().is_empty(), "{r}");
    assert_eq!(
        fs::read(etc.join("app.conf")).expect("read"),
        b"a = 1\nb = 2\nc = 3\n"
    );
    assert_eq!(fs::read(&odd).expect("read"), b"latin-1 name\n");
    assert_eq!(fs::read(etc.join("empty")).expect("read"), b"");
    assert_eq!(
        fs::read(etc.join("conf.d/x.conf")).expect("read"),
        [0u8, 1, 2, 255]
    );
    assert_eq!(
        fs::read_link(etc.join("current")).expect("readlink"),
        Path::new("app.conf")
    );
    assert_eq!(
        fs::metadata(etc.join("secret"))
            .expect("stat")
            .permissions()
            .mode()
            & 0o7777,
        0o600
    );
    assert_eq!(
        fs::metadata(etc.join("app.conf")).expect("stat").mtime(),
        old_mtime
    );
    // The restore left no temporary files behind.
    for d in [etc.clone(), etc.join("conf.d")] {
        for e in fs::read_dir(&d).expect("ls") {
            let n = e.expect("entry").file_name();
            assert!(!n.as_bytes().starts_with(b".cfg-backup-tmp"), "{n:?}");
        }
    }
}

#[test]
fn restore_saves_the_current_state_first_so_it_can_be_undone() {
    let s = Sys::new("cfgb-undo");
    let first = s.run(&["save", "/etc/ssh"]).expect_code(0).records()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    fs::write(s.at("/etc/ssh/sshd_config"), "PermitRootLogin no\n").expect("write");
    let r = s.run(&["restore", &first, "/etc/ssh/sshd_config"]);
    r.expect_code(0);
    let recs = r.records();
    assert_eq!(recs[0]["kind"], "backup");
    assert_eq!(recs[0]["label"], format!("before restore of {first}"));
    assert_eq!(recs[0]["files"], 1);
    let undo = recs[0]["id"].as_str().expect("id").to_owned();
    assert_eq!(recs[1]["kind"], "file");
    assert_eq!(recs[1]["action"], "replace");
    assert_eq!(recs[1]["dry_run"], false);
    assert_eq!(
        fs::read(s.at("/etc/ssh/sshd_config")).expect("read"),
        b"abc"
    );
    assert_eq!(s.ids(), vec![first.clone(), undo.clone()]);
    assert_eq!(recs[0]["undo_of"], first.as_str());
    // The default backup is the newest one `save` made, not the undo one:
    // after a restore, a diff is clean.
    s.run(&["diff"]).expect_code(0);

    // Undo: restore the backup the restore made.
    s.run(&["restore", &undo]).expect_code(0);
    assert_eq!(
        fs::read(s.at("/etc/ssh/sshd_config")).expect("read"),
        b"PermitRootLogin no\n"
    );
    // Restoring an unchanged tree changes nothing and saves nothing.
    let n = s.ids().len();
    let r = s.run(&["restore", &undo]);
    r.expect_code(0);
    assert!(
        r.records().iter().all(|r| r["action"] == "unchanged"),
        "{r}"
    );
    assert_eq!(s.ids().len(), n);
}

#[test]
fn dry_run_changes_nothing() {
    let s = Sys::new("cfgb-dry");
    s.run(&["save", "/etc/ssh"]).expect_code(0);
    fs::write(s.at("/etc/ssh/sshd_config"), "changed").expect("write");
    fs::remove_file(s.at("/etc/ssh/moduli")).expect("rm");
    let r = s.run(&["restore", "--dry-run"]);
    r.expect_code(0);
    let recs = by_path(&r.records());
    assert_eq!(recs["/etc/ssh/sshd_config"]["action"], "replace");
    assert_eq!(recs["/etc/ssh/moduli"]["action"], "create");
    assert!(r.records().iter().all(|r| r["dry_run"] == true));
    assert_eq!(
        fs::read(s.at("/etc/ssh/sshd_config")).expect("read"),
        b"changed"
    );
    assert!(!s.at("/etc/ssh/moduli").exists());
    assert_eq!(s.ids().len(), 1, "a dry run saves no undo backup");
}

#[test]
fn restore_to_another_tree() {
    let s = Sys::new("cfgb-to");
    s.run(&["save", "--package", "openssh-server"])
        .expect_code(0);
    fs::write(s.at("/etc/ssh/sshd_config"), "live edit").expect("write");
    let side = s.dir.path().join("side");
    let r = s.run(&["restore", "--to", side.to_str().expect("utf8")]);
    r.expect_code(0);
    assert!(r.records().iter().all(|r| r["action"] == "create"), "{r}");
    assert_eq!(
        fs::read(side.join("etc/ssh/sshd_config")).expect("read"),
        b"abc"
    );
    // Again: everything is in place already (the side tree has no passwd,
    // so names differ, but owners are compared by number).
    let again = s.run(&["restore", "--to", side.to_str().expect("utf8")]);
    again.expect_code(0);
    assert!(
        again.records().iter().all(|r| r["action"] == "unchanged"),
        "{again}"
    );
    assert_eq!(
        fs::read(side.join("etc/default/ssh")).expect("read"),
        b"abc"
    );
    // The live tree is untouched and no undo backup was needed.
    assert_eq!(
        fs::read(s.at("/etc/ssh/sshd_config")).expect("read"),
        b"live edit"
    );
    assert_eq!(s.ids().len(), 1);
}

#[test]
fn restore_to_a_symlink_is_refused() {
    let s = Sys::new("cfgb-to-link");
    s.run(&["save", "--package", "openssh-server"])
        .expect_code(0);
    // The side tree the admin names was swapped for a link to a real one.
    let victim = s.dir.path().join("victim");
    fs::create_dir_all(&victim).expect("mkdir");
    let side = s.dir.path().join("side");
    std::os::unix::fs::symlink(&victim, &side).expect("symlink");
    for args in [
        &["restore", "--to", side.to_str().expect("utf8")][..],
        &["restore", "--dry-run", "--to", side.to_str().expect("utf8")][..],
    ] {
        let r = s.run(args);
        r.expect_code(2).stderr_has("is a symlink");
    }
    assert_eq!(
        fs::read_dir(&victim).expect("ls").count(),
        0,
        "nothing written through it"
    );
}

#[test]
fn directories_a_restore_creates_are_0755_whatever_the_umask() {
    let s = Sys::new("cfgb-umask");
    s.run(&["save", "/etc/ssh/sshd_config"]).expect_code(0);
    fs::remove_dir_all(s.at("/etc/ssh")).expect("rm");
    // A hardened root umask.
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("umask 077; exec \"$0\" \"$@\"")
        .arg(bin("cfg-backup"))
        .arg("--store")
        .arg(s.store())
        .arg("--root")
        .arg(s.root())
        .arg("restore")
        .env_remove("CFG_BACKUP_STORE");
    run_cmd(c, None).expect_code(0);
    let md = fs::metadata(s.at("/etc/ssh")).expect("recreated");
    assert_eq!(md.permissions().mode() & 0o7777, 0o755);
    assert_eq!(
        fs::read(s.at("/etc/ssh/sshd_config")).expect("read"),
        b"abc"
    );
}

#[test]
#[ignore = "run as root: chown needs root"]
fn a_store_directory_owned_by_someone_else_is_refused() {
    require_root!("chown needs root");
    let s = Sys::new("cfgb-foreign-store");
    // Another user prepared the (empty) directory the admin names.
    fs::create_dir_all(s.store()).expect("mkdir");
    std::os::unix::fs::chown(s.store(), Some(1234), Some(1234)).expect("chown");
    let r = s.run(&["save", "/etc/ssh/sshd_config"]);
    r.expect_code(2).stderr_has("owned by uid 1234");
    assert_eq!(fs::read_dir(s.store()).expect("ls").count(), 0);
}

#[test]
#[ignore = "run as root: needs root and chattr +i on the scratch file system"]
fn a_restore_that_stops_part_way_names_the_undo_command_for_the_same_tree() {
    let s = Sys::new("cfgb-undo-cmd");
    s.run(&["save", "/etc/default/ssh", "/etc/ssh/sshd_config"])
        .expect_code(0);
    fs::write(s.at("/etc/default/ssh"), "edited").expect("write");
    fs::write(s.at("/etc/ssh/sshd_config"), "edited").expect("write");
    // An immutable file stops the restore after /etc/default/ssh.
    let locked = s.at("/etc/ssh/sshd_config");
    if !make_immutable(&locked) {
        return;
    }
    let r = s.run(&["restore"]);
    assert!(chattr(&locked, "-i"), "chattr -i");
    r.expect_code(2);
    assert_eq!(fs::read(s.at("/etc/default/ssh")).expect("read"), b"abc");
    let undo = r.records()[0]["id"].as_str().expect("undo id").to_owned();
    // The suggestion names the same store and root: run as printed, it
    // puts back the tree it changed, not the live system.
    let start = r.stderr.find("`cfg-backup ").expect("a command") + 1;
    let end = start + r.stderr[start..].find('`').expect("closing quote");
    let suggested = &r.stderr[start..end];
    assert!(suggested.ends_with(&format!("restore {undo}")), "{r}");
    assert!(suggested.contains(" --root "), "{r}");
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(suggested.replacen("cfg-backup", "\"$0\"", 1))
        .arg(bin("cfg-backup"))
        .env_remove("CFG_BACKUP_STORE");
    run_cmd(sh, None).expect_code(0);
    assert_eq!(fs::read(s.at("/etc/default/ssh")).expect("read"), b"edited");
}

#[test]
#[ignore = "run as root: chown needs root"]
fn setuid_files_owners_and_nanosecond_mtimes_round_trip() {
    require_root!("chown needs root");
    let s = Sys::new("cfgb-suid");
    let f = s.dir.write("root/etc/app/helper", "#!/bin/sh\n");
    std::os::unix::fs::chown(&f, Some(1234), Some(1234)).expect("chown");
    fs::set_permissions(&f, fs::Permissions::from_mode(0o4750)).expect("chmod");
    let stamp = "2020-01-02 03:04:05.123456789 +0000";
    for p in [f.clone(), s.at("/etc/app")] {
        let st = Command::new("touch")
            .args(["-h", "-d", stamp])
            .arg(&p)
            .status()
            .expect("touch");
        assert!(st.success());
    }
    s.run(&["save", "/etc/app"]).expect_code(0);
    // A patch replaces the helper: root-owned, plain mode, new content.
    fs::remove_file(&f).expect("rm");
    fs::write(&f, "#!/bin/sh\nexit 1\n").expect("write");
    s.run(&["restore"]).expect_code(0);
    let md = fs::symlink_metadata(&f).expect("stat");
    assert_eq!(md.permissions().mode() & 0o7777, 0o4750);
    assert_eq!((md.uid(), md.gid()), (1234, 1234));
    assert_eq!((md.mtime(), md.mtime_nsec()), (1_577_934_245, 123_456_789));
    let d = fs::metadata(s.at("/etc/app")).expect("stat");
    assert_eq!((d.mtime(), d.mtime_nsec()), (1_577_934_245, 123_456_789));
    assert_eq!(fs::read(&f).expect("read"), b"#!/bin/sh\n");
}

#[test]
#[ignore = "run as root: needs root and chattr +i on the scratch file system"]
fn a_store_that_cannot_be_written_stops_the_restore_with_a_way_out() {
    let s = Sys::new("cfgb-ro-store");
    s.run(&["save", "/etc/ssh/sshd_config"]).expect_code(0);
    fs::write(s.at("/etc/ssh/sshd_config"), "edited").expect("write");
    let blobs = s.store().join("blobs");
    if !make_immutable(&blobs) {
        return;
    }
    let r = s.run(&["restore"]);
    assert!(chattr(&blobs, "-i"), "chattr -i");
    r.expect_code(2)
        .stderr_has("nothing was restored")
        .stderr_has("--store DIR")
        .stderr_has("--to DIR");
    assert_eq!(
        fs::read(s.at("/etc/ssh/sshd_config")).expect("read"),
        b"edited"
    );
    // What the message offers works: a side-by-side restore needs no undo.
    let side = s.dir.path().join("side");
    s.run(&["restore", "--to", side.to_str().expect("utf8")])
        .expect_code(0);
    assert_eq!(
        fs::read(side.join("etc/ssh/sshd_config")).expect("read"),
        b"abc"
    );
}

#[test]
fn the_text_view_of_a_restore_names_the_undo_command_for_the_same_tree() {
    let s = Sys::new("cfgb-undo-text");
    s.run(&["save", "/etc/ssh/sshd_config"]).expect_code(0);
    fs::write(s.at("/etc/ssh/sshd_config"), "edited").expect("write");
    let r = s.run(&["restore", "--format", "text"]);
    r.expect_code(0);
    let out = r.stdout_str();
    let first = out.lines().next().expect("a line");
    assert!(
        first.starts_with("saved the current state as backup "),
        "{out}"
    );
    assert!(
        first.contains(&format!("--root {} restore ", s.root().display())),
        "{out}"
    );
}

#[test]
#[ignore = "run as root: needs root (to make a root-owned setuid file) and setpriv"]
fn a_setuid_file_restored_without_its_owner_loses_the_setuid_bit() {
    let have_setpriv = Command::new("setpriv")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !is_root() || !have_setpriv {
        common::skip("needs root (to make a root-owned setuid file) and setpriv");
        return;
    }
    let d = Scratch::new("cfgb-suid-user");
    let helper = d.write("src/helper", "#!/bin/sh\n");
    fs::set_permissions(&helper, fs::Permissions::from_mode(0o4755)).expect("chmod");
    fs::set_permissions(d.path(), fs::Permissions::from_mode(0o777)).expect("chmod");
    // An unprivileged user saves it and restores it side by side: the
    // copy is theirs, so it must not be setuid (it would run as them).
    let as_nobody = |args: &[&OsStr]| {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin("cfg-backup"))
            .arg("--store")
            .arg(d.path().join("store"))
            .args(args)
            .env_remove("CFG_BACKUP_STORE");
        run_cmd(c, None)
    };
    as_nobody(&[OsStr::new("save"), helper.as_os_str()]).expect_code(0);
    let side = d.path().join("side");
    let r = as_nobody(&[OsStr::new("restore"), OsStr::new("--to"), side.as_os_str()]);
    r.expect_code(0).stderr_has("no setuid or setgid bit");
    let copy = side.join(helper.strip_prefix("/").expect("absolute"));
    let md = fs::metadata(&copy).expect("restored");
    assert_eq!(md.uid(), 65534);
    assert_eq!(md.permissions().mode() & 0o7777, 0o755);
}

#[test]
fn restore_refuses_a_symlink_planted_in_a_parent_directory() {
    let s = Sys::new("cfgb-plant");
    s.run(&["save", "/etc/ssh/sshd_config"]).expect_code(0);
    // An attacker swaps /etc/ssh for a symlink to a directory of theirs.
    let elsewhere = s.dir.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).expect("mkdir");
    fs::remove_dir_all(s.at("/etc/ssh")).expect("rm");
    std::os::unix::fs::symlink(&elsewhere, s.at("/etc/ssh")).expect("symlink");
    let r = s.run(&["restore"]);
    r.expect_code(2).stderr_has("symlink").stderr_has("etc/ssh");
    assert_eq!(
        fs::read_dir(&elsewhere).expect("ls").count(),
        0,
        "nothing written through it"
    );
    assert_eq!(s.ids().len(), 1, "refused before saving anything");
}

#[test]
#[ignore = "run as root: chown needs root"]
fn files_of_other_owners_round_trip() {
    require_root!("chown needs root");
    let s = Sys::new("cfgb-owner");
    let p = s.at("/etc/ssh/sshd_config");
    std::os::unix::fs::chown(&p, Some(1234), Some(1234)).expect("chown");
    std::os::unix::fs::lchown(s.at("/etc/ssh"), Some(1234), Some(0)).expect("chown");
    let r = s.run(&["save", "/etc/ssh"]);
    r.expect_code(0);
    let files = by_path(&s.run(&["show"]).expect_code(0).records());
    assert_eq!(files["/etc/ssh/sshd_config"]["uid"], 1234);
    assert_eq!(files["/etc/ssh/sshd_config"]["user"], "alice");
    assert_eq!(files["/etc/ssh/sshd_config"]["group"], "alice");
    std::os::unix::fs::chown(&p, Some(0), Some(0)).expect("chown");
    let d = s.run(&["diff"]);
    d.expect_code(1);
    assert_eq!(
        by_path(&d.records())["/etc/ssh/sshd_config"]["fields"],
        serde_json::json!(["uid", "gid", "user", "group"])
    );
    let t = s.run(&["diff", "--format", "text"]);
    assert!(
        t.stdout_str()
            .contains("owner alice:alice (1234:1234) -> root:root (0:0)"),
        "{t}"
    );
    s.run(&["restore"]).expect_code(0);
    let md = fs::metadata(&p).expect("stat");
    assert_eq!((md.uid(), md.gid()), (1234, 1234));
    s.run(&["diff", "/etc/ssh"]).expect_code(0);
}

#[test]
fn leftovers_of_an_upgrade_are_reported() {
    let s = Sys::new("cfgb-left");
    s.run(&["save", "--package", "openssh-server"])
        .expect_code(0);
    s.dir
        .write("root/etc/ssh/sshd_config.dpkg-dist", "new default");
    s.dir.write("root/etc/default/ssh.ucf-dist", "x");
    s.dir.write("root/etc/init.d/ssh.rpmnew", "x");
    // rm_conffile moved the admin's modified copy aside.
    s.dir.write("root/etc/ssh/moduli.dpkg-bak", "x");
    let r = s.run(&["diff"]);
    r.expect_code(1);
    let ch = by_path(&r.records());
    assert_eq!(ch.len(), 4, "{r}");
    assert_eq!(ch["/etc/ssh/moduli.dpkg-bak"]["op"], "leftover");
    let l = &ch["/etc/ssh/sshd_config.dpkg-dist"];
    assert_eq!(l["op"], "leftover");
    assert_eq!(l["leftover_of"], "/etc/ssh/sshd_config");
    assert_eq!(l["before"], Value::Null);
    assert_eq!(l["after"]["size"], 11);
    let t = s.run(&["diff", "--format", "text"]).stdout_str();
    assert!(
        t.contains("/etc/ssh/sshd_config.dpkg-dist: leftover of /etc/ssh/sshd_config"),
        "{t}"
    );
}

#[test]
fn a_package_file_absent_at_save_that_exists_now_is_added() {
    let s = Sys::new("cfgb-absent");
    // The admin had deleted /etc/default/ssh; the patch brings it back.
    fs::remove_file(s.at("/etc/default/ssh")).expect("rm");
    let saved = s.run(&["save", "--package", "openssh-server"]);
    saved.expect_code(0);
    assert_eq!(
        saved.records()[0]["absent"],
        serde_json::json!(["/etc/default/ssh"])
    );
    s.run(&["diff"]).expect_code(0);
    fs::write(s.at("/etc/default/ssh"), "new").expect("write");
    let r = s.run(&["diff"]);
    r.expect_code(1);
    let changes = by_path(&r.records());
    assert_eq!(changes.len(), 1, "{r}");
    assert_eq!(changes["/etc/default/ssh"]["op"], "added");
    assert_eq!(changes["/etc/default/ssh"]["after"]["size"], 3);
    let t = s.run(&["diff", "--format", "text", "/etc/default/ssh"]);
    t.expect_code(1).stdout_has("/etc/default/ssh: added");
    assert!(!t.stderr.contains("holds nothing"), "{t}");
}

#[test]
fn a_directory_replaced_by_a_file_is_a_change_not_an_error() {
    let s = Sys::new("cfgb-notdir");
    s.run(&["save", "/etc/ssh"]).expect_code(0);
    fs::remove_dir_all(s.at("/etc/ssh")).expect("rm");
    fs::write(s.at("/etc/ssh"), "a file now").expect("write");
    let r = s.run(&["diff"]);
    r.expect_code(1);
    let ch = by_path(&r.records());
    assert_eq!(ch["/etc/ssh"]["op"], "changed");
    assert_eq!(ch["/etc/ssh"]["after"]["type"], "file");
    assert_eq!(ch["/etc/ssh/sshd_config"]["op"], "removed");
    assert_eq!(ch["/etc/ssh/moduli"]["op"], "removed");
    // A restore still refuses to put files below it.
    let r = s.run(&["restore"]);
    r.expect_code(2).stderr_has("etc/ssh");
}

#[test]
fn a_conffile_an_upgrade_ships_new_is_added() {
    let s = Sys::new("cfgb-new-conffile");
    s.run(&["save", "--package", "openssh-server"])
        .expect_code(0);
    s.run(&["diff"]).expect_code(0);
    // The upgrade ships /etc/ssh/sshd_config.d/hardening.conf.
    let status = STATUS.replace(
        "/etc/ssh/moduli d41d8cd98f00b204e9800998ecf8427e obsolete\n",
        "/etc/ssh/moduli d41d8cd98f00b204e9800998ecf8427e obsolete\n \
         /etc/ssh/sshd_config.d/hardening.conf 0cc175b9c0f1b6a831c399e269772661\n",
    );
    assert_ne!(status, STATUS);
    s.dir.write("root/var/lib/dpkg/status", status);
    s.dir
        .write("root/etc/ssh/sshd_config.d/hardening.conf", "a");
    let r = s.run(&["diff"]);
    r.expect_code(1);
    let ch = by_path(&r.records());
    assert_eq!(ch.len(), 1, "{r}");
    let added = &ch["/etc/ssh/sshd_config.d/hardening.conf"];
    assert_eq!(added["op"], "added");
    assert_eq!(added["after"]["size"], 1);
}

#[test]
fn a_relative_root_is_recorded_as_an_absolute_path() {
    let s = Sys::new("cfgb-rel-root");
    let mut c = Command::new(bin("cfg-backup"));
    c.current_dir(s.dir.path())
        .args(["--store", "store", "--root", "root", "save", "/etc/ssh"])
        .env_remove("CFG_BACKUP_STORE");
    let r = run_cmd(c, None);
    r.expect_code(0);
    let want = fs::canonicalize(s.root()).expect("canonical");
    assert_eq!(r.records()[0]["root"], want.to_str().expect("utf8"));
}

#[test]
fn a_conffile_whose_name_is_not_utf8_is_saved_byte_for_byte() {
    let s = Sys::new("cfgb-latin1-conffile");
    let mut status = STATUS.as_bytes().to_vec();
    let at = STATUS.find("Description:").expect("stanza");
    status.splice(
        at..at,
        b" /etc/caf\xe9.conf 0cc175b9c0f1b6a831c399e269772661\n"
            .iter()
            .copied(),
    );
    s.dir.write("root/var/lib/dpkg/status", &status);
    fs::write(s.at("/etc").join(OsStr::from_bytes(b"caf\xe9.conf")), "a").expect("write");
    let r = s.run(&["save", "--package", "openssh-server"]);
    r.expect_code(0);
    assert_eq!(r.records()[0]["absent"], serde_json::json!([]), "{r}");
    let show = s.run(&["show"]).expect_code(0).records();
    let want: Vec<Value> = b"/etc/caf\xe9.conf".iter().map(|&b| b.into()).collect();
    let rec = show
        .iter()
        .find(|r| r["path"] == Value::Array(want.clone()))
        .expect("the conffile, by its bytes");
    assert_eq!(rec["origin"], "dpkg");
    // md5("a"): as shipped.
    assert_eq!(rec["modified"], false);
}

#[test]
fn under_root_diff_does_not_compare_with_what_a_symlinked_parent_points_to() {
    let s = Sys::new("cfgb-diff-link");
    s.run(&["save", "/etc/ssh"]).expect_code(0);
    // /etc/ssh of the mounted system became an absolute link: on the host
    // it names another directory, which happens to hold the same file.
    let host = s.dir.path().join("host-ssh");
    fs::create_dir_all(&host).expect("mkdir");
    fs::write(host.join("sshd_config"), "abc").expect("write");
    fs::write(host.join("moduli"), "").expect("write");
    fs::remove_dir_all(s.at("/etc/ssh")).expect("rm");
    std::os::unix::fs::symlink(&host, s.at("/etc/ssh")).expect("symlink");
    let r = s.run(&["diff", "/etc/ssh/sshd_config"]);
    r.expect_code(2).stderr_has("/etc/ssh is a symlink now");
}

#[test]
fn tampered_manifests_are_refused() {
    let s = Sys::new("cfgb-tamper");
    let id = s.run(&["save", "/etc/ssh"]).expect_code(0).records()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let manifest = s.store().join("backups").join(format!("{id}.jsonl"));
    let good = fs::read_to_string(&manifest).expect("read");
    for (from, to, why) in [
        ("\"/etc/ssh/moduli\"", "\"/etc/ssh/../../../tmp/x\"", "`..`"),
        ("\"/etc/ssh/moduli\"", "\"etc/ssh/moduli\"", "not absolute"),
        (
            "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"",
            "\"../../../../etc/shadow\"",
            "hash",
        ),
        ("\"type\":\"dir\"", "\"type\":\"fifo\"", "type"),
        (
            "\"path\":\"/etc/ssh/moduli\",\"type\":\"file\"",
            "\"path\":\"/etc/ssh/sshd_config/x\",\"type\":\"file\"",
            "lies below",
        ),
    ] {
        assert!(good.contains(from), "{from} not in {good}");
        fs::write(&manifest, good.replacen(from, to, 1)).expect("write");
        for sub in ["show", "restore", "diff"] {
            let r = s.run(&[sub, &id]);
            r.expect_code(2).stderr_has(&format!("{id}.jsonl:"));
            assert!(r.stderr.contains(why), "{why}: {r}");
        }
        let v = s.run(&["verify", &id]);
        v.expect_code(1);
        assert_eq!(v.records()[0]["check"], "manifest");
    }
    // A dropped line is noticed too.
    let short: String = good.lines().take(2).map(|l| format!("{l}\n")).collect();
    fs::write(&manifest, short).expect("write");
    let r = s.run(&["show", &id]);
    r.expect_code(2).stderr_has("says 3 files");
    fs::write(&manifest, good).expect("write");
    s.run(&["verify", &id]).expect_code(0);
}

#[test]
fn a_corrupt_blob_fails_verify_and_is_never_restored() {
    let s = Sys::new("cfgb-corrupt");
    s.run(&["save", "/etc/ssh"]).expect_code(0);
    let v = s.run(&["verify"]);
    v.expect_code(0);
    assert_eq!(v.records().last().expect("summary")["status"], "ok");
    let files = by_path(&s.run(&["show"]).records());
    let h = files["/etc/ssh/sshd_config"]["sha256"]
        .as_str()
        .expect("hash")
        .to_owned();
    let blob = s.store().join("blobs").join(&h);
    fs::set_permissions(&blob, fs::Permissions::from_mode(0o600)).expect("chmod");
    fs::write(&blob, "abd").expect("corrupt");
    let v = s.run(&["verify"]);
    v.expect_code(1);
    let fails: Vec<_> = v
        .records()
        .into_iter()
        .filter(|r| r["status"] == "fail")
        .collect();
    assert_eq!(fails.len(), 2, "{v}");
    assert_eq!(fails[0]["check"], "blob");
    assert_eq!(fails[0]["path"], "/etc/ssh/sshd_config");
    assert_eq!(fails[0]["sha256"], h.as_str());
    assert!(fails[0]["message"]
        .as_str()
        .expect("msg")
        .contains("corrupt"));

    fs::write(s.at("/etc/ssh/sshd_config"), "edited").expect("write");
    let n = s.ids().len();
    let r = s.run(&["restore", "/etc/ssh/sshd_config"]);
    r.expect_code(2)
        .stderr_has("corrupt")
        .stderr_has("nothing was restored");
    assert_eq!(s.ids().len(), n, "refused before the undo backup");
    assert_eq!(
        fs::read(s.at("/etc/ssh/sshd_config")).expect("read"),
        b"edited"
    );

    // A missing blob.
    fs::remove_file(&blob).expect("rm");
    let v = s.run(&["verify", "--all"]);
    v.expect_code(1);
    // The next save of the same content repairs the store.
    fs::write(s.at("/etc/ssh/sshd_config"), "abc").expect("write");
    s.run(&["save", "/etc/ssh"]).expect_code(0);
    s.run(&["verify", "--all"]).expect_code(0);
}

#[test]
fn a_save_killed_before_its_manifest_leaves_no_half_backup() {
    let s = Sys::new("cfgb-kill");
    let first = s.run(&["save", "/etc/ssh"]).expect_code(0).records()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    s.dir.write("root/etc/ssh/new", "new content");
    let mut c = s.cmd(&["save", "/etc"]);
    c.env("CFG_BACKUP_TEST_FAIL_AFTER_BLOBS", "1");
    let r = run_cmd(c, None);
    assert_ne!(r.status, Some(0), "{r}");
    assert!(r.stdout.is_empty(), "{r}");
    assert_eq!(s.ids(), vec![first]);
    let v = s.run(&["verify", "--all"]);
    v.expect_code(0);
    // The blob of the new file is there, named by no backup: counted.
    let orphans = v
        .records()
        .into_iter()
        .find(|r| r["check"] == "orphan-blobs");
    assert_eq!(orphans.expect("orphan count")["status"], "ok");
    // No temporary manifest is mistaken for a backup.
    for e in fs::read_dir(s.store().join("backups")).expect("ls") {
        let n = e.expect("entry").file_name();
        assert!(n.as_bytes().ends_with(b".jsonl"), "{n:?}");
    }
}

#[test]
fn a_restore_killed_while_writing_leaves_no_temporary_file() {
    let s = Sys::new("cfgb-kill-restore");
    s.run(&["save", "/etc/ssh"]).expect_code(0);
    fs::write(s.at("/etc/ssh/sshd_config"), "edited").expect("write");
    let mut c = s.cmd(&["restore"]);
    c.env("CFG_BACKUP_TEST_FAIL_BEFORE_RENAME", "1")
        .env_remove("CFG_BACKUP_TEST_FAIL_AFTER_BLOBS");
    let r = run_cmd(c, None);
    assert_ne!(r.status, Some(0), "{r}");
    r.stderr_has("aborting before the rename");
    // The old file is whole, and nothing half-named lies beside it (a
    // directory such as /etc/logrotate.d reads every file in it).
    assert_eq!(
        fs::read(s.at("/etc/ssh/sshd_config")).expect("read"),
        b"edited"
    );
    let names: Vec<_> = fs::read_dir(s.at("/etc/ssh"))
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(
        names.iter().all(|n| !n.as_bytes().starts_with(b".")),
        "{names:?}"
    );
    // The restore can simply be run again.
    s.run(&["restore"]).expect_code(0);
    assert_eq!(
        fs::read(s.at("/etc/ssh/sshd_config")).expect("read"),
        b"abc"
    );
}

#[test]
fn a_save_killed_by_sigkill_leaves_a_whole_backup_or_none() {
    let s = Sys::new("cfgb-sigkill");
    for d in 0..20 {
        for f in 0..100 {
            s.dir.write(
                &format!("root/etc/big/d{d}/f{f}.conf"),
                format!("dir {d} file {f}\n").repeat(50),
            );
        }
    }
    for delay_ms in [5u64, 30, 80] {
        let mut c = s.cmd(&["save", "/etc/big"]);
        c.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut child = c.spawn().expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let list = s.run(&["list"]);
        list.expect_code(0);
        for b in list.records() {
            let id = b["id"].as_str().expect("id");
            let show = s.run(&["show", id]);
            show.expect_code(0);
            // The tree: /etc/big, 20 directories, 2000 files.
            assert_eq!(b["files"], 2021, "a whole backup: {id}");
            assert_eq!(show.records().len(), 2021 + 1, "a whole backup: {id}");
        }
        if s.store().join("backups").exists() {
            s.run(&["verify", "--all"]).expect_code(0);
        }
    }
    // Left alone, the same save completes, and the store is sound.
    let r = s.run(&["save", "/etc/big"]);
    r.expect_code(0);
    assert_eq!(r.records()[0]["files"], 2021);
    s.run(&["verify", "--all"]).expect_code(0);
}

#[test]
fn unreadable_paths_fail_the_save_unless_keep_going() {
    let s = Sys::new("cfgb-keep");
    let r = s.run(&["save", "/etc/ssh", "/etc/missing.conf"]);
    r.expect_code(2)
        .stderr_has("/etc/missing.conf")
        .stderr_has("nothing was saved");
    assert!(s.ids().is_empty());
    let r = s.run(&["save", "--keep-going", "/etc/ssh", "/etc/missing.conf"]);
    r.expect_code(0);
    assert_eq!(
        r.records()[0]["skipped"],
        serde_json::json!(["/etc/missing.conf"])
    );
    assert_eq!(r.records()[0]["files"], 3);
    r.stderr_has("left out /etc/missing.conf");
    if !is_root() {
        fs::set_permissions(s.at("/etc/ssh/moduli"), fs::Permissions::from_mode(0o000))
            .expect("chmod");
        s.run(&["save", "/etc/ssh"]).expect_code(2);
    }
}

#[test]
fn ids_are_unique_and_prefixes_work() {
    let s = Sys::new("cfgb-ids");
    let a = s.run(&["save", "/etc/ssh"]).expect_code(0).records()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let b = s.run(&["save", "/etc/ssh"]).expect_code(0).records()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_ne!(a, b);
    assert_eq!(s.ids(), vec![a.clone(), b.clone()]);
    // The newest is the default; a unique prefix names one.
    assert_eq!(s.run(&["show"]).records()[0]["id"], b.as_str());
    let r = s.run(&["show", &a[..8]]);
    if a[..8] == b[..8] {
        r.expect_code(2).stderr_has("ambiguous");
    }
    s.run(&["show", "19990101"]).expect_code(2);
    // Dedup: the second save stored no new blob.
    let blobs = s.blobs();
    assert_eq!(blobs, 2, "abc and the empty file");
}

#[test]
fn quiet_on_a_closed_pipe() {
    let s = Sys::new("cfgb-pipe");
    for i in 0..300 {
        s.dir.write(&format!("root/etc/many/f{i}"), format!("{i}"));
    }
    s.run(&["save", "/etc/many"]).expect_code(0);
    let store = s.store();
    common::assert_quiet_on_closed_pipe(
        "cfg-backup",
        &["--store", store.to_str().expect("utf8"), "show"],
    );
}

#[test]
fn a_store_inside_the_saved_tree_is_not_saved_into_itself() {
    let s = Scratch::new("cfgb-inside");
    s.write("tree/etc/a.conf", "a");
    let tree = s.path().join("tree");
    let store = tree.join("var/backups/cfg-backup");
    let save = || {
        let mut c = Command::new(bin("cfg-backup"));
        c.arg("--store").arg(&store).arg("save").arg(&tree);
        run_cmd(c, None)
    };
    let first = save();
    first.expect_code(0);
    let second = save();
    second.expect_code(0);
    // tree, tree/etc, tree/etc/a.conf, and the parents of the store (which
    // exist only because of it), but nothing below the store.
    assert_eq!(first.records()[0]["files"], second.records()[0]["files"]);
    let mut c = Command::new(bin("cfg-backup"));
    c.arg("--store").arg(&store).arg("show");
    let paths: Vec<String> = run_cmd(c, None)
        .records()
        .iter()
        .filter_map(|r| r["path"].as_str().map(str::to_owned))
        .collect();
    assert!(
        paths.iter().all(|p| !p.contains("cfg-backup/")),
        "{paths:?}"
    );
    // Nor is the store an addition to the tree.
    let mut c = Command::new(bin("cfg-backup"));
    c.arg("--store").arg(&store).arg("diff");
    run_cmd(c, None).expect_code(0);
}

#[test]
fn a_bad_manifest_does_not_hide_the_good_ones_from_list() {
    let s = Sys::new("cfgb-badlist");
    let good = s.run(&["save", "/etc/ssh"]).expect_code(0).records()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let bad = s.store().join("backups/20200101-000000.jsonl");
    fs::write(&bad, "{\"kind\":\"file\"}\n").expect("write");
    let r = s.run(&["list"]);
    r.expect_code(2);
    assert_eq!(r.records().len(), 1);
    assert_eq!(r.records()[0]["id"], good.as_str());
    r.stderr_has("20200101-000000.jsonl:1:");
}

#[test]
fn read_only_directories_are_restored_with_their_content() {
    let s = Sys::new("cfgb-rodir");
    s.dir.write("root/etc/ro/inner.conf", "x");
    fs::set_permissions(s.at("/etc/ro"), fs::Permissions::from_mode(0o555)).expect("chmod");
    s.run(&["save", "/etc/ro"]).expect_code(0);
    let side = s.dir.path().join("side");
    s.run(&["restore", "--to", side.to_str().expect("utf8")])
        .expect_code(0);
    assert_eq!(
        fs::read(side.join("etc/ro/inner.conf")).expect("read"),
        b"x"
    );
    let mode = fs::metadata(side.join("etc/ro"))
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o7777, 0o555);
    fs::set_permissions(s.at("/etc/ro"), fs::Permissions::from_mode(0o755)).expect("chmod");
    fs::set_permissions(side.join("etc/ro"), fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn large_files_are_streamed_and_round_trip() {
    let s = Sys::new("cfgb-large");
    // Above the 8 MiB in-memory limit: stored and restored by streaming.
    let data: Vec<u8> = (0..9u32 << 20).map(|i| (i % 251) as u8).collect();
    s.dir.write("root/etc/large.db", &data);
    let r = s.run(&["save", "/etc/large.db"]);
    r.expect_code(0);
    assert_eq!(r.records()[0]["bytes"], 9u64 << 20);
    s.run(&["verify"]).expect_code(0);
    // The same content again: no second blob.
    s.run(&["save", "/etc/large.db"]).expect_code(0);
    let blobs = s.blobs();
    assert_eq!(blobs, 1);
    fs::write(s.at("/etc/large.db"), b"small now").expect("write");
    let d = s.run(&["diff", "--format", "text"]);
    d.expect_code(1);
    assert!(
        d.stdout_str()
            .contains("Files a/etc/large.db and b/etc/large.db differ (too large"),
        "{d}"
    );
    s.run(&["restore"]).expect_code(0);
    assert!(fs::read(s.at("/etc/large.db")).expect("read") == data);
}

#[test]
fn under_root_a_symlinked_parent_is_not_followed_out_of_the_tree() {
    let s = Sys::new("cfgb-escape");
    // /etc/app -> /etc/ssh as an absolute link: the host's /etc/ssh, not
    // the tree's, if it were followed.
    std::os::unix::fs::symlink("/etc/ssh", s.at("/etc/app")).expect("symlink");
    let r = s.run(&["save", "/etc/app/sshd_config"]);
    r.expect_code(2).stderr_has("/etc/app is a symlink");
    // The symlink itself is saved as a symlink.
    let r = s.run(&["save", "/etc/app"]);
    r.expect_code(0);
    assert_eq!(r.records()[0]["files"], 1);
}

#[test]
fn a_directory_that_is_not_a_store_is_never_taken_over() {
    let s = Sys::new("cfgb-takeover");
    let shared = s.dir.path().join("shared");
    fs::create_dir_all(&shared).expect("mkdir");
    fs::write(shared.join("someone-elses-file"), "x").expect("write");
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o1777)).expect("chmod");
    let mut c = Command::new(bin("cfg-backup"));
    c.arg("--store")
        .arg(&shared)
        .arg("--root")
        .arg(s.root())
        .args(["save", "/etc/ssh"]);
    let r = run_cmd(c, None);
    r.expect_code(2).stderr_has("not a cfg-backup store");
    let mode = fs::metadata(&shared).expect("stat").permissions().mode();
    assert_eq!(mode & 0o7777, 0o1777, "left as it was");
    // An empty directory becomes a private store.
    let empty = s.dir.path().join("empty");
    fs::create_dir_all(&empty).expect("mkdir");
    let mut c = Command::new(bin("cfg-backup"));
    c.arg("--store")
        .arg(&empty)
        .arg("--root")
        .arg(s.root())
        .args(["save", "/etc/ssh"]);
    run_cmd(c, None).expect_code(0);
    let mode = fs::metadata(&empty).expect("stat").permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn on_the_live_system_a_symlinked_parent_is_resolved_when_saving() {
    let s = Scratch::new("cfgb-live");
    s.write("real/app.conf", "v1");
    std::os::unix::fs::symlink("real", s.path().join("link")).expect("symlink");
    let store = s.path().join("store");
    let run = |args: &[&OsStr]| {
        let mut c = Command::new(bin("cfg-backup"));
        c.arg("--store").arg(&store).args(args);
        run_cmd(c, None)
    };
    let via_link = s.path().join("link/app.conf");
    let r = run(&[OsStr::new("save"), via_link.as_os_str()]);
    r.expect_code(0);
    let real = fs::canonicalize(s.path().join("real/app.conf")).expect("canonical");
    assert_eq!(
        r.records()[0]["paths"][0],
        real.to_str().expect("utf8"),
        "recorded where it really is"
    );
    fs::write(&real, "v2").expect("write");
    run(&[OsStr::new("restore")]).expect_code(0);
    assert_eq!(fs::read(&real).expect("read"), b"v1");
}

#[test]
fn a_full_standard_output_does_not_read_as_a_failed_save() {
    let s = Sys::new("full-stdout");
    let Ok(full) = fs::OpenOptions::new().write(true).open("/dev/full") else {
        common::skip("no /dev/full here");
        return;
    };
    let out = s
        .cmd(&["save", "/etc/ssh/sshd_config"])
        .stdout(full)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let ids = s.ids();
    assert_eq!(ids.len(), 1, "the backup is stored: {err}");
    assert!(
        err.contains(&format!("backup {} is saved in", ids[0])) && err.contains("no space left"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn diff_of_a_rooted_backup_against_the_live_system_says_why() {
    let s = Sys::new("diff-root-mismatch");
    s.run(&["save", "/etc/ssh/sshd_config"]).expect_code(0);
    let live = run_cmd(
        {
            let mut c = Command::new(bin("cfg-backup"));
            c.arg("--store")
                .arg(s.store())
                .arg("diff")
                .env_remove("CFG_BACKUP_STORE");
            c
        },
        None,
    );
    live.stderr_has(&format!(
        "was taken of --root {}; comparing it with the running system",
        s.root().display()
    ));
    // Under the same root: no such note.
    let same = s.run(&["diff"]);
    same.expect_code(0);
    assert!(same.stderr.is_empty(), "{same}");
}

#[test]
fn a_conffile_the_admin_deleted_comes_back_from_dpkg_as_a_leftover() {
    skip_if!(dpkg::unavailable(true));
    let dir = Scratch::new("cfgb-dpkg-dist");
    let db = Dpkg::new(&dir);
    let root = db.root().to_owned();
    let webby = |version: &str, table: &str| {
        db.build(
            &Package::new("webby", version)
                .file("/etc/webby/koi-win", table)
                .file("/etc/webby/webby.conf", "listen 80;\n"),
        )
    };
    let v1 = webby("1.0-1", "old table\n");
    let v2 = webby("1.0-2", "new table\n");
    db.install(&[&v1]);
    fs::remove_file(root.join("etc/webby/koi-win")).expect("the admin deletes koi-win");
    let cfg = |args: &[&str]| in_store(&dir.path().join("store"), &root, args);
    // Saved by package, and by package and directory (a walk would call
    // the new file "added").
    let by_pkg = cfg(&["save", "--package", "webby"]);
    by_pkg.expect_code(0);
    assert_eq!(
        by_pkg.records()[0]["absent"],
        serde_json::json!(["/etc/webby/koi-win"])
    );
    let pkg_id = by_pkg.records()[0]["id"].as_str().expect("id").to_owned();
    let walked = cfg(&["save", "--package", "webby", "/etc/webby"]);
    walked.expect_code(0);
    let walk_id = walked.records()[0]["id"].as_str().expect("id").to_owned();

    db.install(&[&v2]);
    // What dpkg did: kept the deletion, shipped the new version beside it.
    assert!(!root.join("etc/webby/koi-win").exists());
    assert_eq!(
        fs::read(root.join("etc/webby/koi-win.dpkg-dist")).expect("dpkg-dist"),
        b"new table\n"
    );

    for id in [&pkg_id, &walk_id] {
        let r = cfg(&["diff", id]);
        r.expect_code(1);
        // The upgrade of the package itself is a change of its own.
        let (files, pkgs): (Vec<Value>, Vec<Value>) =
            r.records().into_iter().partition(|c| c["of"] == "file");
        assert!(
            pkgs.iter()
                .all(|c| c["of"] == "package" && c["direction"] == "upgrade"),
            "{r}"
        );
        let ch = by_path(&files);
        assert_eq!(ch.len(), 1, "{r}");
        let l = &ch["/etc/webby/koi-win.dpkg-dist"];
        assert_eq!(l["op"], "leftover", "{r}");
        assert_eq!(l["leftover_of"], "/etc/webby/koi-win");
        let t = cfg(&["diff", "--format", "text", id]).stdout_str();
        assert!(
            t.contains("/etc/webby/koi-win.dpkg-dist: leftover of /etc/webby/koi-win"),
            "{t}"
        );
    }
}

#[test]
fn restore_gives_back_the_recorded_state_including_what_was_absent() {
    let s = Sys::new("cfgb-restore-absent");
    // The admin had deleted /etc/default/ssh: the backup records it absent.
    fs::remove_file(s.at("/etc/default/ssh")).expect("rm");
    let first = s.run(&["save", "--package", "openssh-server", "/etc/ssh"]);
    first.expect_code(0);
    let first = first.records()[0]["id"].as_str().expect("id").to_owned();
    // The patch: brings the deleted file back, adds a file to a walked
    // directory (and a directory), leaves a package manager's leftover,
    // changes a saved file.
    s.dir.write("root/etc/default/ssh", "patched default\n");
    s.dir
        .write("root/etc/ssh/sshd_config.d/new.conf", "X11Forwarding no\n");
    s.dir
        .write("root/etc/ssh/sshd_config.dpkg-dist", "the new default\n");
    s.dir.write("root/etc/ssh/sshd_config", "patched\n");
    s.run(&["diff"]).expect_code(1);

    // A dry run names exactly what would change, and changes nothing.
    let dry = s.run(&["restore", "--dry-run", "--format", "text"]);
    dry.expect_code(0);
    let lines: Vec<String> = dry.stdout_str().lines().map(str::to_owned).collect();
    let root = s.root().display().to_string();
    let mut want = vec![
        // Its new entries changed its mtime.
        format!("would set mtime of {root}/etc/ssh"),
        format!("would replace {root}/etc/ssh/sshd_config"),
        format!("would remove {root}/etc/ssh/sshd_config.dpkg-dist"),
        format!("would remove {root}/etc/ssh/sshd_config.d/new.conf"),
        format!("would remove {root}/etc/ssh/sshd_config.d"),
        format!("would remove {root}/etc/default/ssh"),
    ];
    let mut got = lines.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want, "{dry}");
    assert!(s.at("/etc/ssh/sshd_config.d/new.conf").exists());
    assert_eq!(s.ids().len(), 1);

    let r = s.run(&["restore"]);
    r.expect_code(0);
    let recs = r.records();
    let undo = recs[0]["id"].as_str().expect("undo id").to_owned();
    let acts = by_path(&recs[1..]);
    assert_eq!(acts["/etc/default/ssh"]["action"], "remove", "{r}");
    assert_eq!(acts["/etc/default/ssh"]["backup"], Value::Null, "{r}");
    assert_eq!(acts["/etc/ssh/sshd_config.d"]["action"], "remove", "{r}");
    for p in [
        "/etc/default/ssh",
        "/etc/ssh/sshd_config.d",
        "/etc/ssh/sshd_config.dpkg-dist",
    ] {
        assert!(!s.at(p).exists(), "{p} is still there");
    }
    // The recorded state, and nothing else: diff is clean.
    let d = s.run(&["diff", &first]);
    d.expect_code(0);
    assert!(d.stdout.is_empty(), "{d}");

    // Nothing was lost: the undo backup holds what was removed, and
    // restoring it brings the patched state back (and diff against it is
    // clean too).
    let held = by_path(&s.run(&["show", &undo]).expect_code(0).records());
    assert!(
        held.contains_key("/etc/ssh/sshd_config.d/new.conf"),
        "{held:?}"
    );
    s.run(&["restore", &undo]).expect_code(0);
    assert_eq!(
        fs::read(s.at("/etc/ssh/sshd_config.d/new.conf")).expect("back"),
        b"X11Forwarding no\n"
    );
    assert_eq!(
        fs::read(s.at("/etc/default/ssh")).expect("back"),
        b"patched default\n"
    );
    s.run(&["diff", &undo]).expect_code(0);
}

#[test]
fn a_dry_run_lists_only_what_it_would_change_and_list_names_the_packages() {
    let s = Sys::new("cfgb-dry-text");
    s.run(&["save", "--package", "openssh-server", "--label", "pre"])
        .expect_code(0);
    fs::write(s.at("/etc/ssh/sshd_config"), "changed").expect("write");
    let r = s.run(&["restore", "--dry-run", "--format", "text"]);
    r.expect_code(0);
    assert_eq!(
        r.stdout_str(),
        format!("would replace {}\n", s.at("/etc/ssh/sshd_config").display()),
        "{r}"
    );
    s.run(&["restore"]).expect_code(0);
    let r = s.run(&["restore", "--dry-run", "--format", "text"]);
    r.expect_code(0);
    assert!(!r.stdout_str().contains("unchanged"), "{r}");
    r.stdout_has("nothing would change");

    let l = s.run(&["list", "--format", "text"]);
    l.expect_code(0)
        .stdout_has("openssh-server 1:9.2p1-2+deb12u3");
}

#[test]
fn the_undo_command_pastes_into_a_shell_as_the_same_argv() {
    let s = Sys::new("cfgb-quote");
    // A store whose name has quotes, a backslash, a newline, `$` and a
    // byte that is not UTF-8.
    let mut name = b"st'o re\\\n$HOME \"x\" ".to_vec();
    name.push(0xff);
    let store = s.dir.path().join(OsStr::from_bytes(&name));
    let cfg = |args: &[&str], fmt: bool| {
        let mut c = Command::new(bin("cfg-backup"));
        c.arg("--store")
            .arg(&store)
            .arg("--root")
            .arg(s.root())
            .args(args)
            .env_remove("CFG_BACKUP_STORE");
        if fmt {
            c.args(["--format", "text"]);
        }
        run_cmd(c, None)
    };
    cfg(&["save", "/etc/ssh"], false).expect_code(0);
    fs::write(s.at("/etc/ssh/sshd_config"), "changed").expect("write");
    let r = cfg(&["restore"], true);
    r.expect_code(0);
    let out = r.stdout_str();
    let line = out
        .lines()
        .find(|l| l.starts_with("saved the current state"))
        .unwrap_or_else(|| panic!("no undo line\n{r}"));
    assert!(!line.bytes().any(|b| b.is_ascii_control()), "{line:?}");
    let shown = line.split('`').nth(1).expect("a command in backquotes");
    let undo = line.split_whitespace().nth(6).expect("undo id").to_owned();
    let got = Command::new("bash")
        .arg("-c")
        .arg(format!("printf '%s\\0' {shown}"))
        .output()
        .expect("bash");
    let words: Vec<&[u8]> = got.stdout.split(|&b| b == 0).collect();
    let root = s.root();
    let want: Vec<&[u8]> = vec![
        b"cfg-backup",
        b"--store",
        store.as_os_str().as_bytes(),
        b"--root",
        root.as_os_str().as_bytes(),
        b"restore",
        undo.as_bytes(),
    ];
    assert_eq!(&words[..words.len() - 1], &want[..], "{shown}");
}

#[test]
fn a_package_without_conffiles_names_the_related_packages_that_have_them() {
    skip_if!(dpkg::unavailable(true));
    let dir = Scratch::new("cfgb-related");
    let db = Dpkg::new(&dir);
    let root = db.root().to_owned();
    // As nginx: the server package has no conffiles, its -common package
    // (same source) has them, and a library it depends on has one too.
    let debs = [
        Package::new("webby-common", "1.0-1")
            .control("Source: webby")
            .file("/etc/webby/webby.conf", "listen 80;\n"),
        Package::new("webby", "1.0-1")
            .control(
                "Source: webby\nDepends: webby-common (= 1.0-1), libwebby1 (>= 1.0) | libwebby0",
            )
            .file("/usr/sbin/webby", "#!/bin/sh\n"),
        Package::new("libwebby1", "1.0-1")
            .control("Source: libwebby")
            .file("/etc/libwebby.conf", "cache 1\n"),
        Package::new("unrelated", "2").file("/etc/unrelated.conf", "x\n"),
    ]
    .map(|p| db.build(&p));
    db.install(&debs.iter().map(PathBuf::as_path).collect::<Vec<_>>());
    let cfg = |args: &[&str]| in_store(&dir.path().join("store"), &root, args);
    let r = cfg(&["save", "--package", "webby"]);
    r.expect_code(0);
    assert_eq!(r.records()[0]["files"], 0, "{r}");
    r.stderr_has("webby-common (built from the same source, webby), libwebby1 (a dependency) have some: add --with-related");
    assert!(!r.stderr.contains("unrelated"), "{r}");

    let r = cfg(&["save", "--package", "webby", "--with-related"]);
    r.expect_code(0);
    let b = &r.records()[0];
    assert_eq!(b["files"], 2, "{r}");
    let names: Vec<&str> = b["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, vec!["webby", "webby-common", "libwebby1"], "{r}");
    let id = b["id"].as_str().expect("id");
    let files = by_path(&cfg(&["show", id]).expect_code(0).records());
    assert_eq!(files["/etc/webby/webby.conf"]["package"], "webby-common");
    assert_eq!(files["/etc/libwebby.conf"]["package"], "libwebby1");
    assert!(r.stderr.is_empty(), "{r}");
}

#[test]
fn diff_says_when_a_saved_package_was_upgraded_since() {
    let s = Sys::new("cfgb-pkg-upgraded");
    s.run(&["save", "--package", "openssh-server"])
        .expect_code(0);
    s.run(&["diff"]).expect_code(0);
    // The upgrade: +deb12u10 is newer than +deb12u3 by dpkg's ordering
    // (not as strings).
    let status = STATUS.replace("1:9.2p1-2+deb12u3", "1:9.2p1-2+deb12u10");
    s.dir.write("root/var/lib/dpkg/status", status);
    let r = s.run(&["diff"]);
    r.expect_code(1);
    let recs = r.records();
    assert_eq!(recs.len(), 1, "{r}");
    let c = &recs[0];
    assert_eq!(c["of"], "package");
    assert_eq!(c["op"], "changed");
    assert_eq!(c["key"]["name"], "openssh-server");
    assert_eq!(c["before"]["version"], "1:9.2p1-2+deb12u3");
    assert_eq!(c["after"]["version"], "1:9.2p1-2+deb12u10");
    assert_eq!(c["direction"], "upgrade", "{r}");
    let t = s.run(&["diff", "--format", "text"]);
    t.expect_code(1);
    assert!(
        t.stdout_str()
            .contains("openssh-server: upgraded since backup ")
            && t.stdout_str()
                .contains(": 1:9.2p1-2+deb12u3 -> 1:9.2p1-2+deb12u10"),
        "{t}"
    );
}

#[test]
fn a_restore_under_root_never_follows_a_relative_symlink_out_of_the_tree() {
    let s = Sys::new("cfgb-escape");
    s.run(&["save", "/etc/ssh"]).expect_code(0);
    // /etc/ssh swapped for a relative link that climbs out of the root.
    let outside = s.dir.path().join("outside");
    fs::create_dir_all(&outside).expect("mkdir");
    fs::remove_dir_all(s.at("/etc/ssh")).expect("rm");
    std::os::unix::fs::symlink("../../outside", s.at("/etc/ssh")).expect("symlink");
    for args in [&["restore"][..], &["restore", "/etc/ssh/sshd_config"][..]] {
        let r = s.run(args);
        r.expect_code(2).stderr_has("symlink");
        assert!(r.stdout.is_empty(), "{r}");
    }
    assert_eq!(
        fs::read_dir(&outside).expect("ls").count(),
        0,
        "nothing written through it"
    );
    assert_eq!(s.ids().len(), 1, "refused before saving anything");
}

#[test]
fn a_restore_to_a_tree_with_a_symlink_inside_stays_inside() {
    let s = Sys::new("cfgb-to-inner-link");
    s.run(&["save", "/etc/ssh"]).expect_code(0);
    let outside = s.dir.path().join("outside");
    let side = s.dir.path().join("side");
    fs::create_dir_all(&outside).expect("mkdir");
    fs::create_dir_all(&side).expect("mkdir");
    std::os::unix::fs::symlink(&outside, side.join("etc")).expect("symlink");
    let r = s.run(&["restore", "--to", side.to_str().expect("utf8")]);
    r.expect_code(2).stderr_has("is a symlink; refusing");
    assert_eq!(fs::read_dir(&outside).expect("ls").count(), 0);
    assert_eq!(s.ids().len(), 1);
}

#[test]
fn a_save_killed_after_its_blobs_leaves_no_temporary_file_in_the_store() {
    let s = Sys::new("cfgb-kill-tmp");
    // A file large enough to be streamed, besides the small ones.
    let big: Vec<u8> = (0..9u32 << 20).map(|i| (i % 251) as u8).collect();
    fs::write(s.at("/etc/big.bin"), &big).expect("write");
    let mut c = s.cmd(&["save", "/etc"]);
    c.env("CFG_BACKUP_TEST_FAIL_AFTER_BLOBS", "1");
    let r = run_cmd(c, None);
    assert_ne!(r.status, Some(0), "{r}");
    let mut blobs = 0;
    for sub in ["blobs", "backups"] {
        for e in fs::read_dir(s.store().join(sub)).expect("ls") {
            let n = e.expect("entry").file_name();
            assert!(!n.as_bytes().starts_with(b"."), "{sub}/{n:?}");
            blobs += usize::from(sub == "blobs");
        }
    }
    assert!(blobs >= 2, "the blobs were written: {blobs}");
    assert!(s.ids().is_empty());
}
