//! End-to-end tests of boot-check: `--root` trees for each boot loader style
//! (built here from a compact description, since kernels are tiny files and
//! git keeps no empty directories), healthy and broken in the ways that stop
//! a machine from coming back after a reboot, plus a live run.

use crate::common;

use crate::common::fixtures::boot::{debian, debian_cfg, grubenv, kernel, saved15, D13, D15, U};
use crate::common::Scratch;
// The record type and its fields, as boot-check writes them.
use ::common::records::check::{Check as CheckRecord, FIELDS};
use serde_json::Value;

fn check(dir: &Scratch, extra: &[&str]) -> (i32, Vec<Value>) {
    let mut args = vec!["--root", dir.path().to_str().expect("utf8 path")];
    args.extend_from_slice(extra);
    let r = common::run("boot-check", &args, None);
    assert!(r.stderr.is_empty(), "stderr: {}\n{r}", r.stderr);
    let recs = r.records();
    for rec in &recs {
        assert_fields(rec);
        let typed: Result<CheckRecord, _> = serde_json::from_value(rec.clone());
        assert!(typed.is_ok(), "not a check record ({typed:?}): {rec}");
        assert_eq!(rec["kind"], "check");
        assert!(
            ["ok", "warn", "fail", "skip"].contains(&rec["status"].as_str().expect("status")),
            "{rec}"
        );
    }
    (r.code(), recs)
}

/// The record's fields are boot-check's, in the order it writes them.
fn assert_fields(rec: &Value) {
    let keys: Vec<&str> = rec
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, FIELDS, "field set of {rec}");
}

/// Whether `unshare --mount` works here (a skip when it does not).
fn can_unshare_mount() -> bool {
    let probe = std::process::Command::new("unshare")
        .args(["--mount", "true"])
        .output();
    if !matches!(&probe, Ok(o) if o.status.success()) {
        common::skip("unshare --mount is not available here");
        return false;
    }
    true
}

fn find<'a>(recs: &'a [Value], id: &str) -> Vec<&'a Value> {
    recs.iter().filter(|r| r["check"] == id).collect()
}

fn one<'a>(recs: &'a [Value], id: &str) -> &'a Value {
    let v = find(recs, id);
    assert_eq!(v.len(), 1, "expected one {id} record, got {v:?}");
    v[0]
}

fn statuses(recs: &[Value], status: &str) -> Vec<String> {
    recs.iter()
        .filter(|r| r["status"] == status)
        .map(|r| format!("{} {}: {}", r["check"], r["subject"], r["message"]))
        .collect()
}

fn no_fail(recs: &[Value]) {
    let f = statuses(recs, "fail");
    assert!(f.is_empty(), "unexpected failures: {f:#?}");
}

/// `check`, asserting boot-check's exit status.
fn check_exits(dir: &Scratch, extra: &[&str], code: i32) -> Vec<Value> {
    let (got, recs) = check(dir, extra);
    assert_eq!(got, code, "exit status of boot-check {extra:?}");
    recs
}

/// A tree with nothing wrong: exit status 0 and no failed check.
fn healthy(dir: &Scratch) -> Vec<Value> {
    let recs = check_exits(dir, &[], 0);
    no_fail(&recs);
    recs
}

/// The `--format text` view of `dir`, asserting the exit status.
fn text(dir: &Scratch, code: i32) -> common::Run {
    let t = common::Cmd::new("boot-check")
        .root(dir.path())
        .args(["--format", "text"])
        .run();
    t.expect_code(code);
    t
}

/// Assert that the record's message says each of `what`.
fn says(rec: &Value, what: &[&str]) {
    let m = rec["message"].as_str().expect("message");
    for w in what {
        assert!(m.contains(w), "message lacks {w:?}: {rec}");
    }
}

/// Assert that the record's message says none of `what`.
fn says_not(rec: &Value, what: &[&str]) {
    let m = rec["message"].as_str().expect("message");
    for w in what {
        assert!(!m.contains(w), "message has {w:?}: {rec}");
    }
}

/// Assert the record's status, and that its message says each of `what`.
fn status_says(rec: &Value, status: &str, what: &[&str]) {
    assert_eq!(rec["status"], status, "{rec}");
    says(rec, what);
}

/// Remove the file at `rel` in the tree.
fn rm(dir: &Scratch, rel: impl AsRef<std::path::Path>) {
    std::fs::remove_file(dir.path().join(rel)).expect("rm");
}

/// Remove the directory at `rel` in the tree, with what it holds.
fn rm_dir(dir: &Scratch, rel: impl AsRef<std::path::Path>) {
    std::fs::remove_dir_all(dir.path().join(rel)).expect("rm");
}

// ---------------------------------------------------------------- Debian

#[test]
fn debian_healthy() {
    let s = debian(&[D15, D13], &saved15());
    let recs = healthy(&s);
    assert!(
        statuses(&recs, "warn").is_empty(),
        "{:#?}",
        statuses(&recs, "warn")
    );
    let d = one(&recs, "default-entry");
    assert_eq!(d["status"], "ok");
    assert_eq!(
        d["entry"],
        format!("Advanced options for Debian GNU/Linux > Debian GNU/Linux, with Linux {D15}")
    );
    assert_eq!(d["kernel"], D15);
    assert_eq!(d["host"], "deb1");
    assert_eq!(d["loader"], "grub2");
    let k = one(&recs, "default-entry-kernel");
    assert_eq!(k["path"], format!("/boot/vmlinuz-{D15}"));
    assert_eq!(k["file"], "/boot/grub/grub.cfg");
    assert!(k["line"].as_u64().expect("line") > 20);
    assert_eq!(
        one(&recs, "default-entry-root")["options"],
        format!("root=UUID={U} ro quiet")
    );
    // 1 simple + 4 advanced entries, each with kernel/initrd/root, one of them the default.
    assert_eq!(find(&recs, "entry-kernel").len(), 4);
    assert_eq!(one(&recs, "fallback-kernel")["status"], "ok");
    assert_eq!(one(&recs, "newest-kernel-entry")["kernel"], D15);
    assert_eq!(one(&recs, "grubenv")["status"], "ok");
    let rp = one(&recs, "reboot-pending");
    assert_eq!(rp["status"], "skip");
    assert_eq!(rp["default_kernel"], D15);
    assert_eq!(rp["running_kernel"], Value::Null);
    assert_eq!(one(&recs, "running-kernel-modules")["status"], "skip");
    let sp = one(&recs, "boot-space");
    assert_eq!(sp["status"], "ok");
    assert!(sp["free_bytes"].as_u64().is_some());
    assert_eq!(
        sp["needed_bytes"], 30,
        "largest pair (12 + 12 bytes) plus a quarter"
    );

    let t = text(&s, 0);
    assert_eq!(t.stdout_str().lines().last(), Some("safe to reboot"));
}

#[test]
fn debian_default_kernel_removed_fails_naming_it_and_the_fix() {
    // The article: the kernel the default entry boots was removed.
    let s = debian(&[D15, D13], &saved15());
    rm(&s, format!("boot/vmlinuz-{D15}"));
    let recs = check_exits(&s, &[], 1);
    let k = one(&recs, "default-entry-kernel");
    assert_eq!(k["status"], "fail");
    assert_eq!(k["kernel"], D15);
    says(
        k,
        &[
            &format!("/boot/vmlinuz-{D15} is missing"),
            &format!("apt install --reinstall linux-image-{D15}"),
            &format!("grub-set-default 'gnulinux-advanced-{U}>gnulinux-{D13}-advanced-{U}'"),
        ],
    );
    // The other entry using that kernel only warns; the fallback is gone.
    assert!(find(&recs, "entry-kernel")
        .iter()
        .any(|r| r["status"] == "warn"));
    assert_eq!(one(&recs, "fallback-kernel")["status"], "warn");

    let t = text(&s, 1);
    let out = t.stdout_str();
    let first = out.lines().next().expect("a line");
    assert!(first.starts_with("FAIL default-entry-kernel"), "{out}");
    assert!(first.contains(&format!("with Linux {D15}")), "{out}");
    assert!(
        out.lines()
            .last()
            .expect("verdict")
            .starts_with("DO NOT REBOOT"),
        "{out}"
    );
}

#[test]
fn debian_upgrade_removed_the_default_kernel_and_the_menu_is_stale() {
    // The kernel package was upgraded (15 -> 17) but grub.cfg was not
    // regenerated: the fix is update-grub, which boots the installed 17.
    let s = debian(&[D15, D13], &saved15());
    rm(&s, format!("boot/vmlinuz-{D15}"));
    rm(&s, format!("boot/initrd.img-{D15}"));
    kernel(&s, "6.1.0-17-amd64", "initrd.img-6.1.0-17-amd64");
    let recs = check_exits(&s, &[], 1);
    for id in ["default-entry-kernel", "default-entry-initrd"] {
        let c = one(&recs, id);
        status_says(c, "fail", &["regenerate the menu with `update-grub` so that it boots the installed kernel 6.1.0-17-amd64", &format!("apt install --reinstall linux-image-{D15}")]);
    }
}

#[test]
fn debian_missing_and_empty_files() {
    let s = debian(&[D15, D13], &saved15());
    rm(&s, format!("boot/initrd.img-{D15}"));
    s.write(&format!("boot/vmlinuz-{D13}"), "");
    rm_dir(&s, format!("lib/modules/{D13}"));
    let recs = check_exits(&s, &[], 1);
    let i = one(&recs, "default-entry-initrd");
    status_says(i, "fail", &["update-initramfs -c -k 6.1.0-15-amd64"]);
    let empty: Vec<_> = find(&recs, "entry-kernel")
        .into_iter()
        .filter(|r| r["kernel"] == D13)
        .collect();
    assert!(!empty.is_empty());
    for r in empty {
        status_says(r, "warn", &["is empty (0 bytes)"]);
    }
    let m: Vec<_> = find(&recs, "kernel-modules")
        .into_iter()
        .filter(|r| r["kernel"] == D13)
        .collect();
    assert_eq!(m[0]["status"], "warn", "not the default kernel: a warning");
    assert_eq!(
        find(&recs, "kernel-initrd")
            .iter()
            .find(|r| r["kernel"] == D15)
            .expect("x")["status"],
        "warn"
    );
}

#[test]
fn debian_default_kernel_without_modules_fails() {
    let s = debian(&[D15, D13], &saved15());
    rm_dir(&s, format!("lib/modules/{D15}"));
    let recs = check_exits(&s, &[], 1);
    let m = find(&recs, "kernel-modules")
        .into_iter()
        .find(|r| r["kernel"] == D15)
        .expect("rec");
    assert_eq!(m["status"], "fail");
    assert_eq!(m["path"], format!("/lib/modules/{D15}"));
}

#[test]
fn debian_single_kernel_warns_and_strict_fails() {
    let s = debian(&[D15], &saved15());
    let recs = check_exits(&s, &[], 0);
    let f = one(&recs, "fallback-kernel");
    status_says(f, "warn", &["only 1 bootable kernel"]);
    check_exits(&s, &["--strict"], 1);
}

#[test]
fn debian_newest_kernel_without_entry_warns() {
    let s = debian(&[D15, D13], &saved15());
    kernel(&s, "6.1.0-17-amd64", "initrd.img-6.1.0-17-amd64");
    let recs = check_exits(&s, &[], 0);
    let n = one(&recs, "newest-kernel-entry");
    assert_eq!(n["status"], "warn");
    assert_eq!(n["kernel"], "6.1.0-17-amd64");
    says(n, &["update-grub"]);
}

#[test]
fn debian_next_entry_pointing_at_broken_entry_fails() {
    let s = debian(&[D15, D13], &saved15());
    s.write(
        "boot/grub/grubenv",
        grubenv(&[("saved_entry", &saved15()), ("next_entry", "1>2")]),
    );
    rm(&s, format!("boot/vmlinuz-{D13}"));
    let recs = check_exits(&s, &[], 1);
    let n = one(&recs, "next-entry");
    assert_eq!(n["status"], "ok");
    assert_eq!(n["kernel"], D13);
    assert!(n["entry"]
        .as_str()
        .expect("e")
        .ends_with(&format!("with Linux {D13}")));
    let fails: Vec<_> = find(&recs, "default-entry-kernel");
    assert_eq!(fails.len(), 2, "default and next entry: {fails:?}");
    assert!(fails
        .iter()
        .any(|r| r["status"] == "fail" && r["kernel"] == D13));
    let f = fails.iter().find(|r| r["status"] == "fail").expect("fail");
    says(f, &["grub-editenv /boot/grub/grubenv unset next_entry"]);
    says_not(f, &["grub-set-default"]);
    assert_eq!(
        one(&recs, "reboot-pending")["default_kernel"],
        D13,
        "the one-time entry's kernel starts next"
    );
    assert!(fails
        .iter()
        .any(|r| r["status"] == "ok" && r["kernel"] == D15));
}

#[test]
fn debian_saved_entry_naming_nothing_fails() {
    let s = debian(
        &[D15, D13],
        "gnulinux-advanced-X>gnulinux-5.10.0-9-amd64-advanced-X",
    );
    let recs = check_exits(&s, &[], 1);
    let d = one(&recs, "default-entry");
    status_says(
        d,
        "fail",
        &[
            "names no boot entry",
            "falls back to the first entry 'Debian GNU/Linux'",
            "grub-set-default",
        ],
    );
    assert_eq!(d["file"], "/boot/grub/grubenv");
}

#[test]
fn debian_damaged_files_fail_with_file_and_line_never_panic() {
    let s = debian(&[D15, D13], &saved15());
    // Truncated in the middle of the submenu.
    let cfg = debian_cfg(&[D15, D13]);
    let cut = cfg.find(&format!("with Linux {D13}'")).expect("entry");
    s.write("boot/grub/grub.cfg", &cfg[..cut + 40]);
    let recs = check_exits(&s, &[], 1);
    let p = one(&recs, "config-parse");
    assert_eq!(p["status"], "fail");
    assert_eq!(p["file"], "/boot/grub/grub.cfg");
    assert!(p["line"].as_u64().is_some(), "{p}");
    says(p, &["not closed"]);

    // Binary junk.
    let mut junk = cfg.clone().into_bytes();
    let nl = cfg.find('\n').expect("newline") + 3;
    junk.splice(nl..nl, [0u8, 0xff, 0xfe, 7, 0]);
    s.write("boot/grub/grub.cfg", &junk);
    let recs = check_exits(&s, &[], 1);
    let p = find(&recs, "config-parse");
    assert!(
        p.iter().any(|r| r["status"] == "fail" && r["line"] == 2),
        "{p:?}"
    );

    // Empty grubenv: GRUB ignores it, the saved default is lost.
    s.write("boot/grub/grub.cfg", &cfg);
    s.write("boot/grub/grubenv", "");
    let recs = check_exits(&s, &[], 1);
    let g = one(&recs, "grubenv");
    assert_eq!(g["status"], "fail");
    assert_eq!(g["line"], 1);
    says(g, &["grub-editenv /boot/grub/grubenv create"]);

    // Random bytes everywhere: records, never a crash.
    let mut x: u32 = 99;
    for round in 0..20 {
        let bytes: Vec<u8> = (0..(round * 37))
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        s.write("boot/grub/grub.cfg", &bytes);
        s.write("boot/grub/grubenv", &bytes);
        let (code, _) = check(&s, &[]);
        assert!(code == 0 || code == 1, "round {round}: {code}");
    }
}

// ---------------------------------------------------------------- Fedora / RHEL BLS

const MID: &str = "6a9857a393724b7a981ebb5b8495b9ea";
const F6: &str = "6.5.6-300.fc39.x86_64";
const F5: &str = "6.5.5-200.fc39.x86_64";

fn fedora(kernelopts: Option<&str>, cfg_fallback: bool) -> Scratch {
    let s = Scratch::new("boot-fedora");
    s.write("etc/os-release", "NAME=\"Fedora Linux\"\nID=fedora\n");
    s.write("usr/bin/dnf", "#!/bin/sh\n");
    s.write(
        "etc/fstab",
        "/dev/mapper/fedora-root / xfs defaults 0 0\nUUID=bbbb-cccc /boot ext4 defaults 1 2\n",
    );
    let mut cfg = String::from("set pager=1\nif [ -f ${config_directory}/grubenv ]; then\n  load_env -f ${config_directory}/grubenv\nelif [ -s $prefix/grubenv ]; then\n  load_env\nfi\nif [ \"${next_entry}\" ] ; then\n   set default=\"${next_entry}\"\n   set next_entry=\n   save_env next_entry\n   set boot_once=true\nelse\n   set default=\"${saved_entry}\"\nfi\n");
    if cfg_fallback {
        cfg.push_str("if [ -z \"${kernelopts}\" ]; then\n  set kernelopts=\"root=/dev/mapper/fedora-root ro rhgb quiet\"\nfi\n");
    }
    cfg.push_str("insmod blscfg\nblscfg\n");
    s.write("boot/grub2/grub.cfg", cfg);
    let mut env = vec![("saved_entry".to_string(), format!("{MID}-{F6}"))];
    if let Some(k) = kernelopts {
        env.push(("kernelopts".into(), k.into()));
    }
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    s.write("boot/grub2/grubenv", grubenv(&env_ref));
    for v in [F6, F5] {
        kernel(&s, v, &format!("initramfs-{v}.img"));
        s.write(&format!("lib/modules/{v}/vmlinuz"), "kernel image");
        s.write(
            &format!("boot/loader/entries/{MID}-{v}.conf"),
            format!("title Fedora Linux ({v}) 39 (Workstation Edition)\nversion {v}\nlinux /vmlinuz-{v}\ninitrd /initramfs-{v}.img\noptions $kernelopts $tuned_params\ngrub_users $grub_users\ngrub_arg --unrestricted\ngrub_class fedora\n"),
        );
    }
    s.write(&format!("boot/vmlinuz-0-rescue-{MID}"), "rescue kernel");
    s.write(
        &format!("boot/initramfs-0-rescue-{MID}.img"),
        "rescue initrd",
    );
    s.write(
        &format!("boot/loader/entries/{MID}-0-rescue.conf"),
        format!("title Fedora Linux (0-rescue-{MID}) 39\nversion 0-rescue-{MID}\nlinux /vmlinuz-0-rescue-{MID}\ninitrd /initramfs-0-rescue-{MID}.img\noptions $kernelopts\n"),
    );
    s
}

#[test]
fn fedora_bls_healthy() {
    let s = fedora(Some("root=/dev/mapper/fedora-root ro rhgb quiet"), false);
    let recs = healthy(&s);
    let d = one(&recs, "default-entry");
    assert_eq!(d["kernel"], F6);
    assert_eq!(
        d["entry"],
        format!("Fedora Linux ({F6}) 39 (Workstation Edition)")
    );
    let k = one(&recs, "default-entry-kernel");
    assert_eq!(
        k["path"],
        format!("/boot/vmlinuz-{F6}"),
        "separate /boot: relative to it"
    );
    assert_eq!(k["file"], format!("/boot/loader/entries/{MID}-{F6}.conf"));
    assert_eq!(
        one(&recs, "default-entry-root")["options"],
        "root=/dev/mapper/fedora-root ro rhgb quiet"
    );
    assert_eq!(one(&recs, "config-found")["loader"], "grub2");
    assert_eq!(one(&recs, "boot-mounted")["status"], "ok");
    assert_eq!(one(&recs, "fallback-kernel")["status"], "ok");
    assert_eq!(one(&recs, "newest-kernel-entry")["kernel"], F6);
    // The rescue kernel has no modules directory of its own and is not flagged.
    assert!(find(&recs, "kernel-modules")
        .iter()
        .all(|r| r["status"] == "ok"));
    // Nor is its big generic initramfs the measure of the next kernel.
    s.write(
        &format!("boot/initramfs-0-rescue-{MID}.img"),
        vec![b'r'; 100_000],
    );
    let (_, recs) = check(&s, &[]);
    assert_eq!(
        one(&recs, "boot-space")["needed_bytes"],
        30,
        "12 + 12 plus a quarter"
    );
}

#[test]
fn fedora_grub_cfg_fallback_supplies_kernelopts() {
    let s = fedora(None, true);
    healthy(&s);
}

#[test]
fn fedora_unset_kernelopts_means_no_root_and_fails() {
    let s = fedora(None, false);
    let recs = check_exits(&s, &[], 1);
    let r = one(&recs, "default-entry-root");
    status_says(
        r,
        "fail",
        &[
            "$kernelopts",
            "grub2-editenv - set",
            "root=/dev/mapper/fedora-root",
        ],
    );
}

#[test]
fn fedora_removed_default_kernel_names_dnf_and_grubby() {
    let s = fedora(Some("root=/dev/mapper/fedora-root ro"), false);
    rm(&s, format!("boot/vmlinuz-{F6}"));
    let recs = check_exits(&s, &[], 1);
    says(
        one(&recs, "default-entry-kernel"),
        &[
            &format!("dnf reinstall kernel-core-{F6}"),
            &format!("grubby --set-default /boot/vmlinuz-{F5}"),
        ],
    );
}

// ---------------------------------------------------------------- CentOS 6

const C4: &str = "2.6.32-754.el6.x86_64";
const C6: &str = "2.6.32-696.el6.x86_64";

fn centos6() -> Scratch {
    let s = Scratch::new("boot-centos6");
    s.write("etc/redhat-release", "CentOS release 6.10 (Final)\n");
    s.write("etc/fstab", "/dev/mapper/vg_root-lv_root /  ext4 defaults 1 1\nUUID=9e1a-boot /boot ext4 defaults 1 2\n");
    let mut conf = String::from("# grub.conf generated by anaconda\ndefault=0\ntimeout=5\nsplashimage=(hd0,0)/grub/splash.xpm.gz\nhiddenmenu\nfallback=1\n");
    for v in [C4, C6] {
        conf.push_str(&format!("title CentOS 6 ({v})\n\troot (hd0,0)\n\tkernel /vmlinuz-{v} ro root=/dev/mapper/vg_root-lv_root rd_NO_LUKS LANG=en_US.UTF-8 rhgb quiet\n\tinitrd /initramfs-{v}.img\n"));
        kernel(&s, v, &format!("initramfs-{v}.img"));
    }
    s.write("boot/grub/grub.conf", conf);
    s
}

#[test]
fn centos6_legacy_separate_boot_healthy() {
    let s = centos6();
    let recs = healthy(&s);
    let k = one(&recs, "default-entry-kernel");
    assert_eq!(k["loader"], "grub-legacy");
    assert_eq!(k["path"], format!("/boot/vmlinuz-{C4}"));
    assert_eq!(k["line"], 7);
    assert_eq!(one(&recs, "fallback-kernel")["status"], "ok");
}

#[test]
fn centos6_article_scenario() {
    // rpm -Uvh replaced the kernel the default entry boots.
    let s = centos6();
    rm(&s, format!("boot/vmlinuz-{C4}"));
    rm(&s, format!("boot/initramfs-{C4}.img"));
    rm_dir(&s, format!("lib/modules/{C4}"));
    let recs = check_exits(&s, &[], 1);
    let k = one(&recs, "default-entry-kernel");
    assert_eq!(k["status"], "fail");
    says(
        k,
        &[
            &format!("/boot/vmlinuz-{C4} is missing"),
            "rpm -ivh",
            &format!("grubby --set-default /boot/vmlinuz-{C6}"),
        ],
    );
    // The initramfs tool cannot run without the kernel: the package fixes both.
    let i = one(&recs, "default-entry-initrd");
    says(i, &[&format!("yum reinstall kernel-{C4}")]);
    says_not(i, &["dracut"]);
    // fallback=1 still boots, but there is only one kernel left.
    assert_eq!(one(&recs, "fallback-kernel")["status"], "warn");
}

#[test]
fn centos6_unmounted_boot_says_mount_it() {
    let s = Scratch::new("boot-unmounted");
    s.write("etc/redhat-release", "CentOS release 6.10 (Final)\n");
    s.write(
        "etc/fstab",
        "/dev/sda2 / ext4 defaults 1 1\nUUID=9e1a-boot /boot ext4 defaults 1 2\n",
    );
    // The empty mount points of /boot and of the ESP inside it.
    std::fs::create_dir_all(s.path().join("boot/efi")).expect("mkdir");
    s.write(&format!("lib/modules/{C4}/modules.dep"), "");
    let recs = check_exits(&s, &[], 1);
    let b = one(&recs, "boot-mounted");
    status_says(b, "fail", &["mount UUID=9e1a-boot on", "run again"]);
    for r in &recs {
        says_not(r, &["reinstall"]);
    }
    assert_eq!(
        statuses(&recs, "fail").len(),
        1,
        "{:#?}",
        statuses(&recs, "fail")
    );
}

// ---------------------------------------------------------------- Alpine extlinux

fn alpine() -> Scratch {
    let s = Scratch::new("boot-alpine");
    s.write("etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\n");
    s.write("etc/fstab", "UUID=a1b2 / ext4 rw,relatime 0 1\n");
    s.write("boot/extlinux.conf", "DEFAULT menu.c32\nPROMPT 0\nMENU TITLE Alpine/Linux Boot Menu\nMENU HIDDEN\nMENU AUTOBOOT Alpine will be booted automatically in # seconds.\nTIMEOUT 10\nLABEL lts\n  MENU DEFAULT\n  MENU LABEL Linux lts\n  LINUX vmlinuz-lts\n  INITRD initramfs-lts\n  APPEND root=UUID=a1b2 modules=sd-mod,usb-storage,ext4 quiet rootfstype=ext4\n\nMENU SEPARATOR\n");
    s.write("boot/vmlinuz-lts", "kernel image");
    s.write("boot/initramfs-lts", "initrd image");
    s.write("lib/modules/6.6.7-0-lts/modules.dep", "");
    s
}

#[test]
fn alpine_extlinux_healthy() {
    let s = alpine();
    let recs = healthy(&s);
    let k = one(&recs, "default-entry-kernel");
    assert_eq!(k["loader"], "extlinux");
    assert_eq!(k["entry"], "Linux lts");
    assert_eq!(k["path"], "/boot/vmlinuz-lts");
    let m = one(&recs, "kernel-modules");
    assert_eq!(m["status"], "ok");
    assert_eq!(m["path"], "/lib/modules/6.6.7-0-lts");
    assert_eq!(
        one(&recs, "reboot-pending")["default_kernel"],
        "6.6.7-0-lts"
    );
    // One kernel only: a warning, not a failure.
    assert_eq!(one(&recs, "fallback-kernel")["status"], "warn");
}

#[test]
fn alpine_missing_initramfs_fails() {
    let s = alpine();
    rm(&s, "boot/initramfs-lts");
    let recs = check_exits(&s, &[], 1);
    let i = one(&recs, "default-entry-initrd");
    assert_eq!(i["status"], "fail");
    assert_eq!(i["path"], "/boot/initramfs-lts");
    says(i, &["mkinitfs"]);
}

// ---------------------------------------------------------------- systemd-boot

const A1: &str = "6.6.1-arch1-1";
const A0: &str = "6.5.9-arch2-1";

fn sdboot(default: &str, options: &str) -> Scratch {
    let s = Scratch::new("boot-sdboot");
    s.write("etc/os-release", "NAME=\"Arch Linux\"\nID=arch\n");
    s.write(
        "etc/fstab",
        "UUID=r00t / ext4 rw 0 1\nUUID=E5P /boot vfat rw 0 2\n",
    );
    s.write(
        "boot/loader/loader.conf",
        format!("timeout 3\n#console-mode keep\ndefault {default}\n"),
    );
    for v in [A1, A0] {
        s.write(&format!("boot/{MID}/{v}/linux"), "kernel image");
        s.write(&format!("boot/{MID}/{v}/initrd"), "initrd image");
        s.write(&format!("usr/lib/modules/{v}/modules.dep"), "");
        s.write(&format!("usr/lib/modules/{v}/vmlinuz"), "kernel image");
        s.write(
            &format!("boot/loader/entries/{MID}-{v}.conf"),
            format!("title Arch Linux\nversion {v}\nmachine-id {MID}\nsort-key arch\noptions {options}\nlinux /{MID}/{v}/linux\ninitrd /{MID}/{v}/initrd\n"),
        );
    }
    s
}

#[test]
fn systemd_boot_healthy() {
    let s = sdboot(&format!("{MID}-*"), "root=UUID=r00t rw");
    let recs = healthy(&s);
    let d = one(&recs, "default-entry");
    assert_eq!(d["loader"], "systemd-boot");
    assert_eq!(
        d["kernel"], A1,
        "newest version sorts first and the glob takes the first match"
    );
    assert_eq!(
        one(&recs, "default-entry-kernel")["path"],
        format!("/boot/{MID}/{A1}/linux")
    );
    // Kernels kept in /usr/lib/modules/VER/vmlinuz, installed into the ESP by kernel-install.
    let n = one(&recs, "newest-kernel-entry");
    assert_eq!(
        (n["status"].as_str(), n["kernel"].as_str()),
        (Some("ok"), Some(A1))
    );
    assert!(find(&recs, "kernel-modules")
        .iter()
        .all(|r| r["status"] == "ok"));
    let sp = one(&recs, "boot-space");
    assert_eq!(sp["status"], "ok");
    assert_eq!(
        sp["needed_bytes"], 30,
        "the largest entry's kernel and initrd (12 + 12) plus a quarter"
    );
    assert_eq!(one(&recs, "fallback-kernel")["status"], "ok");
}

#[test]
fn systemd_boot_broken_default_and_no_root() {
    let s = sdboot("nonexistent.conf", "rw quiet");
    let recs = check_exits(&s, &[], 1);
    let d = one(&recs, "default-entry");
    assert_eq!(d["status"], "fail");
    assert_eq!(d["file"], "/boot/loader/loader.conf");
    assert_eq!(d["line"], 3);
    says(d, &["bootctl set-default"]);
    assert_eq!(one(&recs, "default-entry-root")["status"], "fail");
}

// ---------------------------------------------------------------- interface

#[test]
fn missing_root_is_trouble() {
    let r = common::run(
        "boot-check",
        ["--root", "/nonexistent/boot-check-root"],
        None,
    );
    r.expect_code(2)
        .stderr_has("/nonexistent/boot-check-root")
        .stdout_empty();
}

#[test]
fn empty_root_is_nothing_to_check() {
    let s = Scratch::new("boot-empty");
    let recs = check_exits(&s, &[], 0);
    assert_eq!(one(&recs, "config-found")["status"], "skip");
    let t = text(&s, 0);
    assert!(t
        .stdout_str()
        .ends_with("nothing to check: this system does not boot from its own /boot\n"));
}

#[test]
fn kernels_without_configuration_fail() {
    let s = Scratch::new("boot-noconf");
    s.write("etc/os-release", "ID=debian\n");
    kernel(&s, D15, &format!("initrd.img-{D15}"));
    let recs = check_exits(&s, &[], 1);
    let c = one(&recs, "config-found");
    status_says(c, "fail", &["update-grub"]);
}

#[test]
fn live_run_writes_valid_records() {
    let r = common::run("boot-check", Vec::<&str>::new(), None);
    assert!(r.code() == 0 || r.code() == 1, "{r}");
    let recs = r.records();
    assert!(!recs.is_empty());
    for rec in &recs {
        assert_fields(rec);
    }
    let rk = one(&recs, "running-kernel-modules");
    assert_ne!(
        rk["status"], "skip",
        "live: the running kernel is known: {rk}"
    );
    if !std::path::Path::new("/proc/modules").exists() {
        status_says(rk, "ok", &["no loadable module support"]);
    }
    let t = common::run("boot-check", ["--format", "text"], None);
    assert_eq!(t.code(), r.code());
}

#[test]
fn quiet_on_closed_pipe() {
    // A menu of 200 kernels of which only the newest is installed: a
    // warning for each other entry, far more output than a pipe holds.
    let versions: Vec<String> = (0..200)
        .map(|i| format!("6.1.0-{}-amd64", 300 - i))
        .collect();
    let v: Vec<&str> = versions.iter().map(String::as_str).collect();
    let s = debian(&v[..1], "0");
    s.write("boot/grub/grub.cfg", debian_cfg(&v));
    common::assert_quiet_on_closed_pipe(
        "boot-check",
        &["--root", s.path().to_str().expect("utf8")],
    );
}

#[test]
fn debian_separate_boot_found_through_search_uuid() {
    const BOOTU: &str = "b007b007-0000-1111-2222-333344445555";
    let s = debian(&[D15, D13], &saved15());
    let cfg = debian_cfg(&[D15, D13])
        .replace(&format!("--set=root {U}"), &format!("--set=root {BOOTU}"))
        .replace("/boot/vmlinuz", "/vmlinuz")
        .replace("/boot/initrd", "/initrd");
    s.write("boot/grub/grub.cfg", cfg);
    // fstab lists / first and /boot by the UUID GRUB searches for.
    s.write(
        "etc/fstab",
        format!("UUID={U} / ext4 defaults 0 1\nUUID={BOOTU} /boot ext4 defaults 0 2\n"),
    );
    // A decoy at the root file system's top must not be taken for the kernel.
    s.write(&format!("vmlinuz-{D15}"), "");
    let recs = healthy(&s);
    assert_eq!(
        one(&recs, "default-entry-kernel")["path"],
        format!("/boot/vmlinuz-{D15}")
    );
    assert_eq!(
        one(&recs, "default-entry-initrd")["path"],
        format!("/boot/initrd.img-{D15}")
    );
}

#[test]
fn legacy_unknown_keyword_only_warns() {
    let s = centos6();
    let conf = std::fs::read_to_string(s.path().join("boot/grub/grub.conf")).expect("read");
    s.write(
        "boot/grub/grub.conf",
        conf.replace("hiddenmenu\n", "hiddenmenu\nfrobnicate 3\n"),
    );
    let recs = check_exits(&s, &[], 0);
    let p = one(&recs, "config-parse");
    assert_eq!(p["status"], "warn");
    assert_eq!(p["line"], 6);
}

#[test]
fn unreadable_configuration() {
    // A directory where grub.cfg should be: the boot loader cannot read it either.
    let s = debian(&[D15, D13], &saved15());
    rm(&s, "boot/grub/grub.cfg");
    std::fs::create_dir(s.path().join("boot/grub/grub.cfg")).expect("mkdir");
    let recs = check_exits(&s, &[], 1);
    let c = one(&recs, "config-found");
    status_says(c, "fail", &["update-grub"]);

    // Permission denied: exit 2 and no records (a partial report is not a
    // result). As root, drop to nobody.
    use std::os::unix::fs::PermissionsExt;
    for file in ["boot/grub/grub.cfg", "boot/grub/grubenv"] {
        let s = debian(&[D15, D13], &saved15());
        std::fs::set_permissions(s.path().join(file), std::fs::Permissions::from_mode(0o000))
            .expect("chmod");
        let Some(r) = run_unprivileged(s.path()) else {
            return;
        };
        r.expect_code(2)
            .stderr_has(&format!("{file}: permission denied"))
            .stderr_has("run boot-check as root");
        assert!(r.stdout.is_empty(), "no record before the error: {r}");
        assert_eq!(r.stderr.lines().count(), 1, "{r}");
    }
}

/// boot-check --root DIR as a user who cannot read root's 0600 files.
fn run_unprivileged(root: &std::path::Path) -> Option<common::Run> {
    if !common::is_root() {
        return Some(common::run(
            "boot-check",
            [std::ffi::OsStr::new("--root"), root.as_os_str()],
            None,
        ));
    }
    if std::process::Command::new("setpriv")
        .arg("--version")
        .output()
        .is_err()
    {
        common::skip("permission test needs setpriv when run as root");
        return None;
    }
    let mut cmd = std::process::Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(common::bin("boot-check"))
        .arg("--root")
        .arg(root);
    Some(common::run_cmd(cmd, None))
}

#[test]
fn debian_bare_id_of_a_submenu_entry_is_not_found_by_grub() {
    // The old GRUB_DEFAULT habit: GRUB looks only at the top level.
    let s = debian(&[D15, D13], &format!("gnulinux-{D13}-advanced-{U}"));
    let recs = check_exits(&s, &[], 1);
    let d = one(&recs, "default-entry");
    status_says(
        d,
        "fail",
        &[&format!(
            "write it as 'gnulinux-advanced-{U}>gnulinux-{D13}-advanced-{U}'"
        )],
    );
    // What GRUB boots instead (the first entry) is checked as the default.
    assert_eq!(
        one(&recs, "default-entry-kernel")["entry"],
        "Debian GNU/Linux"
    );
}

#[test]
fn systemd_boot_default_by_file_name() {
    let s = sdboot(&format!("{MID}-{A0}.conf"), "root=UUID=r00t rw");
    let recs = check_exits(&s, &[], 0);
    assert_eq!(one(&recs, "default-entry")["kernel"], A0);
}

#[test]
fn fedora_saved_entry_of_a_removed_kernel_fails() {
    // The package and its BLS entry are gone; grubenv still names the entry.
    let s = fedora(Some("root=/dev/mapper/fedora-root ro"), false);
    rm(&s, format!("boot/loader/entries/{MID}-{F6}.conf"));
    rm(&s, format!("boot/vmlinuz-{F6}"));
    rm_dir(&s, format!("lib/modules/{F6}"));
    let recs = check_exits(&s, &[], 1);
    let d = one(&recs, "default-entry");
    assert_eq!(d["status"], "fail");
    assert_eq!(d["subject"], format!("{MID}-{F6}"));
    says(
        d,
        &[
            "saved_entry in /boot/grub2/grubenv",
            &format!("grubby --set-default /boot/vmlinuz-{F5}"),
        ],
    );
    // GRUB then boots the first entry in BLS order: the newest remaining kernel.
    let k = one(&recs, "default-entry-kernel");
    assert_eq!(
        (k["status"].as_str(), k["kernel"].as_str()),
        (Some("ok"), Some(F5))
    );
}

#[test]
fn debian_grub_cfg_older_than_grub_default_warns() {
    let s = debian(&[D15, D13], &saved15());
    let cfg =
        debian_cfg(&[D15, D13]).replace("set default=\"${saved_entry}\"", "set default=\"0\"");
    s.write("boot/grub/grub.cfg", cfg);
    let recs = check_exits(&s, &[], 0);
    let d = one(&recs, "default-entry");
    assert_eq!(d["status"], "warn");
    assert_eq!(
        d["entry"], "Debian GNU/Linux",
        "grub.cfg's default=0 is what boots"
    );
    says(
        d,
        &[
            "GRUB_DEFAULT=saved",
            "`grub-set-default` has no effect until it is regenerated with `update-grub`",
        ],
    );
}

#[test]
fn boot_space_warns_when_the_next_kernel_will_not_fit() {
    // A sparse kernel image larger than any free space makes /boot "full".
    let s = debian(&[D15, D13], &saved15());
    let big = std::fs::OpenOptions::new()
        .write(true)
        .open(s.path().join(format!("boot/vmlinuz-{D13}")))
        .expect("open");
    if big.set_len(4 << 40).is_err() {
        common::skip("the file system of the scratch directory has no 4 TiB sparse files");
        return;
    }
    let (code, recs) = check(&s, &[]);
    assert_eq!(code, 0, "a warning only");
    let sp = one(&recs, "boot-space");
    assert_eq!(sp["status"], "warn");
    let (free, needed) = (
        sp["free_bytes"].as_u64().expect("free"),
        sp["needed_bytes"].as_u64().expect("needed"),
    );
    assert!(needed > 4 << 40 && free < needed, "{sp}");
    says(sp, &["apt autoremove --purge"]);
    check_exits(&s, &["--strict"], 1);
}

#[test]
fn rhel8_uefi_configuration_on_the_esp() {
    // RHEL 8 on UEFI: grub.cfg and grubenv live in /boot/efi/EFI/redhat.
    let s = fedora(
        Some("root=/dev/mapper/rhel-root ro crashkernel=auto"),
        false,
    );
    s.write(
        "etc/os-release",
        "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\n",
    );
    for f in ["grub.cfg", "grubenv"] {
        let data = std::fs::read(s.path().join("boot/grub2").join(f)).expect("read");
        s.write(&format!("boot/efi/EFI/redhat/{f}"), data);
    }
    rm_dir(&s, "boot/grub2");
    std::fs::create_dir_all(s.path().join("boot/efi/EFI/BOOT")).expect("mkdir");
    let recs = healthy(&s);
    assert_eq!(
        one(&recs, "config-found")["file"],
        "/boot/efi/EFI/redhat/grub.cfg"
    );
    assert_eq!(
        one(&recs, "grubenv")["path"],
        "/boot/efi/EFI/redhat/grubenv"
    );
    assert_eq!(one(&recs, "default-entry")["kernel"], F6);
    assert_eq!(
        one(&recs, "default-entry-root")["options"],
        "root=/dev/mapper/rhel-root ro crashkernel=auto"
    );
    // A removed older kernel only warns, naming dnf.
    rm(&s, format!("boot/vmlinuz-{F5}"));
    let recs = check_exits(&s, &[], 0);
    let w: Vec<_> = find(&recs, "entry-kernel")
        .into_iter()
        .filter(|r| r["status"] == "warn")
        .collect();
    assert!(!w.is_empty());
    says(w[0], &[&format!("dnf reinstall kernel-core-{F5}")]);
}

#[test]
fn arch_grub_kernel_named_by_package() {
    let s = Scratch::new("boot-arch");
    s.write("etc/os-release", "NAME=\"Arch Linux\"\nID=arch\n");
    s.write("etc/fstab", "UUID=r00t / ext4 rw 0 1\n");
    s.write(
        "boot/grub/grub.cfg",
        "set default=\"0\"\nmenuentry 'Arch Linux' --class arch $menuentry_id_option 'gnulinux-simple-r00t' {\n\tlinux\t/boot/vmlinuz-linux root=UUID=r00t rw loglevel=3\n\tinitrd\t/boot/initramfs-linux.img\n}\nmenuentry 'Arch Linux, with Linux linux-lts' {\n\tlinux\t/boot/vmlinuz-linux-lts root=UUID=r00t rw\n\tinitrd\t/boot/initramfs-linux-lts.img\n}\n",
    );
    for (pkg, ver) in [("linux", "6.6.1-arch1-1"), ("linux-lts", "6.1.63-1-lts")] {
        s.write(&format!("boot/vmlinuz-{pkg}"), "kernel image");
        s.write(&format!("boot/initramfs-{pkg}.img"), "initrd image");
        s.write(
            &format!("usr/lib/modules/{ver}/pkgbase"),
            format!("{pkg}\n"),
        );
        s.write(&format!("usr/lib/modules/{ver}/modules.order"), "");
    }
    let recs = healthy(&s);
    let m = find(&recs, "kernel-modules");
    assert_eq!(m.len(), 2);
    assert!(m.iter().all(|r| r["status"] == "ok"), "{m:?}");
    assert_eq!(
        one(&recs, "reboot-pending")["default_kernel"],
        "6.6.1-arch1-1"
    );
    // The package of the default kernel is named in the fix.
    rm_dir(&s, "usr/lib/modules/6.6.1-arch1-1");
    let recs = check_exits(&s, &[], 1);
    let m = find(&recs, "kernel-modules")
        .into_iter()
        .find(|r| r["status"] == "fail")
        .expect("fail");
    says(m, &["pacman -S linux"]);
}

#[test]
fn ubuntu_modules_come_from_linux_modules_package() {
    let s = debian(&["5.15.0-91-generic", "5.15.0-89-generic"], "0");
    s.write(
        "etc/os-release",
        "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\n",
    );
    rm_dir(&s, "lib/modules/5.15.0-89-generic");
    let (code, recs) = check(&s, &[]);
    assert_eq!(code, 0, "not the default kernel: a warning");
    let m = find(&recs, "kernel-modules")
        .into_iter()
        .find(|r| r["status"] == "warn")
        .expect("warn");
    says(
        m,
        &["apt install --reinstall linux-modules-5.15.0-89-generic"],
    );
}

#[test]
fn initrd_of_another_kernel_fails() {
    // A hand-edited entry: the new kernel with the old kernel's initrd.
    let s = debian(&[D15, D13], &saved15());
    let cfg = debian_cfg(&[D15, D13]).replacen(
        &format!("/boot/vmlinuz-{D15} root=UUID={U} ro quiet\n\t\tinitrd\t/boot/initrd.img-{D15}"),
        &format!("/boot/vmlinuz-{D15} root=UUID={U} ro quiet\n\t\tinitrd\t/boot/initrd.img-{D13}"),
        1,
    );
    assert_ne!(cfg, debian_cfg(&[D15, D13]));
    s.write("boot/grub/grub.cfg", cfg);
    let recs = check_exits(&s, &[], 1);
    let i = one(&recs, "default-entry-initrd");
    status_says(
        i,
        "fail",
        &[&format!("was built for kernel {D13}, not for {D15}")],
    );
    says(i, &["regenerate the menu with `update-grub`"]);
}

#[test]
fn rhel8_tuned_initrd_and_boot_counting_block_are_read_as_grub_does() {
    // RHEL 8 as installed: tuned's variables in every BLS entry, and the
    // boot-counting block whose `set default=1` runs only with a counter.
    let s = fedora(Some("root=/dev/mapper/rhel-root ro crashkernel=auto"), true);
    s.write(
        "etc/os-release",
        "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\n",
    );
    let cfg = std::fs::read_to_string(s.path().join("boot/grub2/grub.cfg")).expect("read");
    let cfg = cfg.replace(
        "insmod blscfg\n",
        "### BEGIN /etc/grub.d/00_tuned ###\nset tuned_params=\"\"\nset tuned_initrd=\"\"\n### END /etc/grub.d/00_tuned ###\n### BEGIN /etc/grub.d/08_fallback_counting ###\ninsmod increment\nif [ -n \"${boot_counter}\" -a \"${boot_success}\" = \"0\" ]; then\n  if  [ \"${boot_counter}\" = \"0\" -o \"${boot_counter}\" = \"-1\" ]; then\n    set default=1\n    set boot_counter=-1\n  else\n    decrement boot_counter\n  fi\n  save_env boot_counter\nfi\n### END /etc/grub.d/08_fallback_counting ###\ninsmod blscfg\n",
    );
    s.write("boot/grub2/grub.cfg", cfg);
    for v in [F6, F5] {
        s.write(
            &format!("boot/loader/entries/{MID}-{v}.conf"),
            format!("title Red Hat Enterprise Linux ({v}) 8.9 (Ootpa)\nversion {v}\nlinux /vmlinuz-{v}\ninitrd /initramfs-{v}.img $tuned_initrd\noptions $kernelopts $tuned_params\nid rhel-20231108111403-{v}\ngrub_users $grub_users\ngrub_arg --unrestricted\ngrub_class kernel\n"),
        );
    }
    let recs = healthy(&s);
    let d = one(&recs, "default-entry");
    assert_eq!(d["status"], "ok", "{d}");
    assert_eq!(
        d["kernel"], F6,
        "saved_entry, not the boot-counting default=1"
    );
    assert_eq!(
        one(&recs, "default-entry-initrd")["path"],
        format!("/boot/initramfs-{F6}.img")
    );
}

#[test]
fn directory_links_inside_the_root_are_followed_inside_it() {
    // A rescue mount where /boot is an absolute link and /lib an absolute
    // merged-/usr link: both must be read under --root, never on the host.
    let s = debian(&[D15, D13], &saved15());
    let p = s.path();
    std::fs::create_dir_all(p.join("mnt")).expect("mkdir");
    std::fs::rename(p.join("boot"), p.join("mnt/boot")).expect("mv");
    std::os::unix::fs::symlink("/mnt/boot", p.join("boot")).expect("link");
    std::fs::create_dir_all(p.join("usr/lib")).expect("mkdir");
    std::fs::rename(p.join("lib/modules"), p.join("usr/lib/modules")).expect("mv");
    std::fs::remove_dir(p.join("lib")).expect("rmdir");
    std::os::unix::fs::symlink("/usr/lib", p.join("lib")).expect("link");
    let recs = healthy(&s);
    assert_eq!(
        one(&recs, "default-entry-kernel")["path"],
        format!("/boot/vmlinuz-{D15}")
    );
    let m: Vec<_> = find(&recs, "kernel-modules");
    assert_eq!(m.len(), 2);
    assert!(m.iter().all(|r| r["status"] == "ok"), "{m:?}");
    // The article's case through the link: the default kernel removed.
    std::fs::remove_file(p.join(format!("mnt/boot/vmlinuz-{D15}"))).expect("rm");
    let recs = check_exits(&s, &[], 1);
    assert_eq!(one(&recs, "default-entry-kernel")["status"], "fail");
}

#[test]
fn separate_boot_known_from_search_uuid_is_the_only_place_grub_looks() {
    // /boot was moved to its own partition but grub.cfg still says
    // /boot/vmlinuz-...: GRUB searches the /boot partition, which has no
    // /boot directory, so nothing boots although the files are "there".
    const BOOTU: &str = "b007b007-0000-1111-2222-333344445555";
    let s = debian(&[D15, D13], &saved15());
    let cfg =
        debian_cfg(&[D15, D13]).replace(&format!("--set=root {U}"), &format!("--set=root {BOOTU}"));
    s.write("boot/grub/grub.cfg", cfg);
    for spec in [
        format!("UUID={BOOTU}"),
        format!("/dev/disk/by-uuid/{BOOTU}"),
    ] {
        s.write(
            "etc/fstab",
            format!("UUID={U} / ext4 defaults 0 1\n{spec} /boot ext4 defaults 0 2\n"),
        );
        let (code, recs) = check(&s, &[]);
        assert_eq!(code, 1, "{spec}");
        let k = one(&recs, "default-entry-kernel");
        assert_eq!(k["status"], "fail", "{k}");
        assert_eq!(k["path"], format!("/boot/boot/vmlinuz-{D15}"));
        says(k, &["regenerate the menu with `update-grub`"]);
        says_not(k, &["reinstall"]);
    }
    // openSUSE's /boot/boot -> . link makes both spellings work.
    std::os::unix::fs::symlink(".", s.path().join("boot/boot")).expect("link");
    healthy(&s);
}

#[test]
fn numeric_default_on_a_submenu_boots_its_first_entry() {
    // GRUB counts the submenu as one item; `default=1` enters it and boots
    // its first entry, and `1>7` (a removed kernel) its first entry too.
    let s = debian(&[D15, D13], &saved15());
    s.write("etc/default/grub", "GRUB_DEFAULT=1\n");
    let cfg = |d: &str| {
        debian_cfg(&[D15, D13]).replace(
            "set default=\"${saved_entry}\"",
            &format!("set default=\"{d}\""),
        )
    };
    s.write("boot/grub/grub.cfg", cfg("1"));
    // Make the submenu's first entry differ from the top-level one.
    rm(&s, format!("boot/vmlinuz-{D15}"));
    let recs = check_exits(&s, &[], 1);
    let d = one(&recs, "default-entry");
    assert_eq!(d["status"], "ok", "{d}");
    assert_eq!(
        d["entry"],
        format!("Advanced options for Debian GNU/Linux > Debian GNU/Linux, with Linux {D15}")
    );
    let k = one(&recs, "default-entry-kernel");
    assert_eq!(k["status"], "fail");
    assert_eq!(k["entry"], d["entry"]);

    s.write("etc/default/grub", "GRUB_DEFAULT=\"1>7\"\n");
    s.write("boot/grub/grub.cfg", cfg("1>7"));
    kernel(&s, D15, &format!("initrd.img-{D15}"));
    let recs = check_exits(&s, &[], 1);
    let d = one(&recs, "default-entry");
    status_says(d, "fail", &[&format!("first entry of its submenu, 'Advanced options for Debian GNU/Linux > Debian GNU/Linux, with Linux {D15}'")]);
    assert_eq!(
        one(&recs, "default-entry-kernel")["entry"],
        format!("Advanced options for Debian GNU/Linux > Debian GNU/Linux, with Linux {D15}")
    );
}

/// Arch's hand-written systemd-boot entries (no version, no sort-key).
fn arch_sdboot(loader_conf: &str) -> Scratch {
    let s = Scratch::new("boot-arch-sdboot");
    s.write("etc/os-release", "NAME=\"Arch Linux\"\nID=arch\n");
    s.write(
        "etc/fstab",
        "UUID=r00t / ext4 rw,relatime 0 1\nUUID=ABCD-1234 /boot vfat rw,relatime,fmask=0022,dmask=0022 0 2\n",
    );
    s.write("boot/loader/loader.conf", loader_conf);
    for (id, title, kernel, initrd) in [
        ("arch", "Arch Linux", "linux", "initramfs-linux.img"),
        (
            "arch-fallback",
            "Arch Linux (fallback initramfs)",
            "linux",
            "initramfs-linux-fallback.img",
        ),
        (
            "arch-lts",
            "Arch Linux LTS",
            "linux-lts",
            "initramfs-linux-lts.img",
        ),
    ] {
        s.write(
            &format!("boot/loader/entries/{id}.conf"),
            format!("title   {title}\nlinux   /vmlinuz-{kernel}\ninitrd  /intel-ucode.img\ninitrd  /{initrd}\noptions root=UUID=r00t rw\n"),
        );
        s.write(&format!("boot/vmlinuz-{kernel}"), "kernel image");
        s.write(&format!("boot/{initrd}"), "initrd image");
    }
    s.write("boot/intel-ucode.img", "microcode");
    for (ver, pkg) in [("6.6.1-arch1-1", "linux"), ("6.1.63-1-lts", "linux-lts")] {
        s.write(
            &format!("usr/lib/modules/{ver}/pkgbase"),
            format!("{pkg}\n"),
        );
        s.write(&format!("usr/lib/modules/{ver}/modules.builtin"), "");
    }
    s
}

#[test]
fn systemd_boot_order_saved_default_and_unified_kernel_images() {
    // systemd-boot sorts entries without sort-key by id, newest first as
    // strverscmp sees it: arch.conf before arch-lts.conf.
    let s = arch_sdboot("timeout 4\nconsole-mode max\neditor no\n");
    let recs = healthy(&s);
    let d = one(&recs, "default-entry");
    assert_eq!(d["status"], "ok");
    assert_eq!(d["entry"], "Arch Linux");
    assert_eq!(d["kernel"], "linux");

    // `default @saved` under --root: the last booted entry is unknown.
    s.write("boot/loader/loader.conf", "default @saved\ntimeout 4\n");
    let recs = check_exits(&s, &[], 0);
    let d = one(&recs, "default-entry");
    assert_eq!(d["status"], "warn", "{d}");
    says(d, &["@saved"]);
    check_exits(&s, &["--strict"], 1);

    // A file in EFI/Linux that is no unified kernel image is no menu entry
    // for systemd-boot: a default naming it falls to the first entry.
    s.write("boot/EFI/Linux/arch-linux.efi", "uki");
    s.write("boot/loader/loader.conf", "default arch-linux.efi\n");
    let recs = check_exits(&s, &[], 1);
    let p: Vec<_> = find(&recs, "config-parse")
        .into_iter()
        .filter(|r| r["path"] == "/boot/EFI/Linux/arch-linux.efi")
        .collect();
    assert_eq!(p.len(), 1, "{p:?}");
    status_says(p[0], "warn", &[".osrel"]);
    let d = one(&recs, "default-entry");
    assert_eq!(d["status"], "fail", "{d}");
    says(d, &["falls back to the first entry 'Arch Linux'"]);
}

#[test]
fn systemd_boot_with_xbootldr_reads_both_entry_directories() {
    // ESP on /efi, XBOOTLDR on /boot: kernel-install writes the entries to
    // /boot/loader/entries, loader.conf stays on the ESP.
    let s = arch_sdboot("default arch.conf\n");
    s.write(
        "etc/fstab",
        "UUID=r00t / ext4 rw 0 1\nUUID=ABCD-1234 /efi vfat rw 0 2\nUUID=b007 /boot ext4 rw 0 2\n",
    );
    let conf = std::fs::read(s.path().join("boot/loader/loader.conf")).expect("read");
    rm(&s, "boot/loader/loader.conf");
    s.write("efi/loader/loader.conf", conf);
    let recs = healthy(&s);
    assert_eq!(
        one(&recs, "config-found")["file"],
        "/efi/loader/loader.conf"
    );
    let k = one(&recs, "default-entry-kernel");
    assert_eq!(k["path"], "/boot/vmlinuz-linux");
    assert_eq!(k["file"], "/boot/loader/entries/arch.conf");
}

#[test]
fn boot_space_is_measured_where_the_kernels_go() {
    // systemd-boot with the ESP on /efi and no XBOOTLDR: kernel-install
    // puts kernels on the ESP, so its room counts, not /boot's.
    let s = sdboot(&format!("{MID}-*"), "root=UUID=r00t rw");
    s.write(
        "etc/fstab",
        "UUID=r00t / ext4 rw 0 1\nUUID=E5P /efi vfat rw 0 2\n",
    );
    std::fs::rename(s.path().join("boot"), s.path().join("efi")).expect("mv");
    std::fs::create_dir(s.path().join("boot")).expect("mkdir");
    let recs = healthy(&s);
    assert_eq!(
        one(&recs, "default-entry-kernel")["path"],
        format!("/efi/{MID}/{A1}/linux")
    );
    let sp = one(&recs, "boot-space");
    assert_eq!(sp["path"], "/efi");
    assert!(
        sp["message"].as_str().expect("m").starts_with("/efi has "),
        "{sp}"
    );
}

#[test]
fn a_default_that_starts_no_system_fails() {
    // saved_entry on the firmware-setup or memtest entry: the server stops
    // there and does not come back.
    let s = debian(&[D15, D13], "uefi-firmware");
    let recs = check_exits(&s, &[], 1);
    let d = one(&recs, "default-entry");
    assert_eq!(d["status"], "fail", "{d}");
    says(d, &["firmware setup", "grub-set-default"]);

    let cfg = debian_cfg(&[D15, D13]).replace(
        "menuentry 'UEFI Firmware Settings'",
        "menuentry 'Memory test (memtest86+x64.bin)' --class memtest $menuentry_id_option 'memtest86+' {\n\tinsmod part_gpt\n\tlinux16\t/boot/memtest86+x64.bin\n}\nmenuentry 'UEFI Firmware Settings'",
    );
    s.write("boot/grub/grub.cfg", cfg);
    s.write("boot/memtest86+x64.bin", "memtest");
    s.write(
        "boot/grub/grubenv",
        grubenv(&[("saved_entry", "memtest86+")]),
    );
    let recs = check_exits(&s, &[], 1);
    let d = one(&recs, "default-entry");
    assert_eq!(d["status"], "fail", "{d}");
    says(d, &["memory test"]);

    // grub-reboot into the firmware setup is deliberate: a warning.
    s.write(
        "boot/grub/grubenv",
        grubenv(&[("saved_entry", &saved15()), ("next_entry", "uefi-firmware")]),
    );
    let recs = check_exits(&s, &[], 0);
    let n = one(&recs, "next-entry");
    assert_eq!(n["status"], "warn", "{n}");
    says(n, &["grub-editenv /boot/grub/grubenv unset next_entry"]);
}

#[test]
fn damaged_kernel_and_initrd_fail() {
    // A bzImage cut short (copied onto a full /boot) and an initrd of zero
    // bytes (what XFS leaves after a crash) are not "present".
    let s = debian(&[D15, D13], &saved15());
    let mut bz = vec![0x90u8; 4096];
    bz[0x1f1] = 27;
    bz[0x202..0x206].copy_from_slice(b"HdrS");
    bz[0x1f4..0x1f8].copy_from_slice(&100_000u32.to_le_bytes());
    s.write(&format!("boot/vmlinuz-{D15}"), &bz);
    s.write(&format!("boot/initrd.img-{D15}"), vec![0u8; 3000]);
    let recs = check_exits(&s, &[], 1);
    let k = one(&recs, "default-entry-kernel");
    assert_eq!(k["status"], "fail");
    says(
        k,
        &[
            "is truncated: 4096 bytes",
            "apt install --reinstall linux-image-",
        ],
    );
    let i = one(&recs, "default-entry-initrd");
    // With the kernel damaged too, the package brings both back.
    status_says(
        i,
        "fail",
        &["only zero bytes", "apt install --reinstall linux-image-"],
    );
    // A whole bzImage passes; the zeroed initrd alone is rebuilt.
    let mut whole = bz.clone();
    whole.resize(28 * 512 + 1_600_000, 0x90);
    s.write(&format!("boot/vmlinuz-{D15}"), &whole);
    let recs = check_exits(&s, &[], 1);
    assert_eq!(one(&recs, "default-entry-kernel")["status"], "ok");
    says(
        one(&recs, "default-entry-initrd"),
        &["update-initramfs -c -k"],
    );
    s.write(&format!("boot/initrd.img-{D15}"), "initrd image");
    healthy(&s);
}

#[test]
fn rhel9_esp_stub_without_the_real_grub_cfg_names_the_real_one() {
    // RHEL 9 on UEFI: the ESP holds a stub that loads /boot/grub2/grub.cfg.
    // With that file gone, regenerating the stub would be the wrong fix.
    let s = fedora(Some("root=/dev/mapper/rhel-root ro"), false);
    s.write(
        "etc/os-release",
        "NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\n",
    );
    s.write(
        "boot/efi/EFI/redhat/grub.cfg",
        "search --no-floppy --fs-uuid --set=dev bbbb-cccc\nset prefix=($dev)/grub2\n\nexport $prefix\nconfigfile $prefix/grub.cfg\n",
    );
    rm(&s, "boot/grub2/grub.cfg");
    let recs = check_exits(&s, &[], 1);
    let d = one(&recs, "default-entry");
    status_says(
        d,
        "fail",
        &[
            "hands over to /boot/grub2/grub.cfg",
            "`grub2-mkconfig -o /boot/grub2/grub.cfg`",
        ],
    );
    says_not(d, &["-o /boot/efi"]);
}

#[test]
fn hand_edited_grubenv_is_read_as_grub_reads_it() {
    // grubenv saved by an editor: 60 bytes instead of 1024. GRUB checks only
    // the header and still boots saved_entry, so that entry is the default;
    // the size alone is a warning (GRUB loads every variable).
    let s = debian(&[D15, D13], &saved15());
    s.write(
        "boot/grub/grubenv",
        format!("# GRUB Environment Block\nsaved_entry=gnulinux-advanced-{U}>gnulinux-{D13}-advanced-{U}\n"),
    );
    rm(&s, format!("boot/vmlinuz-{D13}"));
    let recs = check_exits(&s, &[], 1);
    let g = one(&recs, "grubenv");
    status_says(g, "warn", &["not the 1024 bytes"]);
    says_not(g, &["GRUB ignores it"]);
    let k = one(&recs, "default-entry-kernel");
    assert_eq!(
        (k["status"].as_str(), k["kernel"].as_str()),
        (Some("fail"), Some(D13)),
        "{k}"
    );
}

#[test]
fn a_modules_directory_with_only_leftovers_is_missing() {
    // After the kernel package went, other packages' modules keep the
    // directory alive (RHEL's weak-updates): the kernel's own are gone.
    let s = fedora(Some("root=/dev/mapper/fedora-root ro"), false);
    rm_dir(&s, format!("lib/modules/{F6}"));
    s.write(
        &format!("lib/modules/{F6}/weak-updates/kmod-foo/foo.ko.xz"),
        "module",
    );
    s.write(&format!("lib/modules/{F6}/vmlinuz"), "kernel image");
    let recs = check_exits(&s, &[], 1);
    let m = find(&recs, "kernel-modules")
        .into_iter()
        .find(|r| r["kernel"] == F6)
        .expect("rec");
    assert_eq!(m["status"], "fail", "{m}");
    says(m, &["holds none of the kernel's own modules"]);
}

#[test]
fn unmounted_esp_holding_the_configuration_says_mount_it() {
    // RHEL 8 on UEFI keeps grub.cfg on the ESP; in a rescue shell the ESP
    // is often not mounted yet.
    let s = fedora(Some("root=/dev/mapper/rhel-root ro"), false);
    s.write(
        "etc/fstab",
        "/dev/mapper/fedora-root / xfs defaults 0 0\nUUID=bbbb-cccc /boot ext4 defaults 1 2\nUUID=7E57-E5P0 /boot/efi vfat umask=0077,shortname=winnt 0 2\n",
    );
    rm_dir(&s, "boot/grub2");
    std::fs::create_dir_all(s.path().join("boot/efi")).expect("mkdir");
    let recs = check_exits(&s, &[], 1);
    let c = one(&recs, "config-found");
    status_says(
        c,
        "fail",
        &[
            "/boot/efi, which /etc/fstab mounts, is not mounted",
            "mount it and run again",
        ],
    );
    says_not(c, &["grub2-mkconfig"]);
}

#[test]
fn root_that_is_not_the_one_fstab_mounts_warns() {
    // A cloned disk got new UUIDs in fstab, grub.cfg still has the old one.
    let s = debian(&[D15, D13], &saved15());
    s.write(
        "etc/fstab",
        "UUID=99999999-8888-7777-6666-555555555555 / ext4 errors=remount-ro 0 1\n",
    );
    let recs = check_exits(&s, &[], 0);
    let r = one(&recs, "default-entry-root");
    assert_eq!(r["status"], "warn", "{r}");
    says(r, &["/etc/fstab mounts / from UUID=9999", "blkid"]);
    check_exits(&s, &["--strict"], 1);
    // Another kind of name cannot be compared: no finding.
    s.write("etc/fstab", "/dev/mapper/vg-root / ext4 defaults 0 1\n");
    let (_, recs) = check(&s, &[]);
    assert_eq!(one(&recs, "default-entry-root")["status"], "ok");
}

#[test]
fn a_password_protected_default_fails() {
    // A GRUB password added in 40_custom without --unrestricted entries:
    // the server waits at the console for someone to type it.
    let s = debian(&[D15, D13], &saved15());
    let cfg = debian_cfg(&[D15, D13]);
    let protected = cfg.replace(
        "menuentry 'UEFI Firmware Settings'",
        "set superusers=\"admin\"\npassword_pbkdf2 admin grub.pbkdf2.sha512.10000.0A1B.2C3D\nmenuentry 'UEFI Firmware Settings'",
    );
    s.write("boot/grub/grub.cfg", &protected);
    let recs = check_exits(&s, &[], 1);
    let d = one(&recs, "default-entry");
    assert_eq!(d["status"], "fail", "{d}");
    says(d, &["needs a GRUB password", "--unrestricted"]);
    // The same with the entries marked --unrestricted boots unattended.
    s.write(
        "boot/grub/grub.cfg",
        protected.replace("--class debian ", "--class debian --unrestricted "),
    );
    healthy(&s);
}

#[test]
fn btrfs_subvolume_paths_are_read_inside_the_subvolume() {
    // Ubuntu on btrfs: / is the subvolume @, GRUB reads /@/boot/vmlinuz-...
    let s = debian(&["5.15.0-91-generic", "5.15.0-89-generic"], "0");
    s.write(
        "etc/os-release",
        "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\n",
    );
    s.write(
        "etc/fstab",
        format!("UUID={U} / btrfs defaults,subvol=@ 0 1\n"),
    );
    let cfg = debian_cfg(&["5.15.0-91-generic", "5.15.0-89-generic"])
        .replace("\t/boot/", "\t/@/boot/")
        .replace(" ro ", " ro rootflags=subvol=@ ")
        .replace(" ro  quiet", " ro rootflags=subvol=@ quiet");
    assert!(
        cfg.contains("linux\t/@/boot/vmlinuz-5.15.0-91-generic"),
        "{cfg}"
    );
    s.write("boot/grub/grub.cfg", cfg);
    let recs = healthy(&s);
    assert_eq!(
        one(&recs, "default-entry-kernel")["path"],
        "/boot/vmlinuz-5.15.0-91-generic"
    );
}

// ------------------------------------------- grubenv made by GRUB's own tools

/// Run one of GRUB's tools (grub-common's grub-editenv, grub2-common's
/// grub-set-default and grub-reboot; .ci/run installs both packages).
fn grub_tool(prog: &str, args: &[&std::ffi::OsStr]) -> std::process::Output {
    let path = ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]
        .iter()
        .map(|d| std::path::Path::new(d).join(prog))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{prog} is not installed: install grub-common and grub2-common (.ci/run does)")
        });
    std::process::Command::new(&path)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()))
}

/// `grub-editenv FILE ARGS...`, which must succeed.
fn editenv(file: &std::path::Path, args: &[&str]) {
    let mut a: Vec<&std::ffi::OsStr> = vec![file.as_os_str()];
    a.extend(args.iter().map(std::ffi::OsStr::new));
    let out = grub_tool("grub-editenv", &a);
    assert!(
        out.status.success(),
        "grub-editenv {} {args:?}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What GRUB's own reader loads: `grub-editenv FILE list` (None when it
/// refuses the block).
fn editenv_list(file: &std::path::Path) -> Option<Vec<(String, String)>> {
    let out = grub_tool("grub-editenv", &[file.as_os_str(), "list".as_ref()]);
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    })
}

/// A Debian root whose grubenv is the one `grub-editenv create` writes.
fn debian_editenv() -> (Scratch, std::path::PathBuf) {
    let s = debian(&[D15, D13], &saved15());
    let env = s.path().join("boot/grub/grubenv");
    std::fs::remove_file(&env).expect("rm grubenv");
    editenv(&env, &["create"]);
    (s, env)
}

#[test]
fn grubenv_written_by_grub_editenv_passes_in_every_state() {
    let (s, env) = debian_editenv();
    let boot = format!("--boot-directory={}", s.path().join("boot").display());
    let bytes = std::fs::read(&env).expect("read");
    assert_eq!(bytes.len(), 1024);
    assert!(
        bytes.starts_with(b"# GRUB Environment Block\n# WARNING: "),
        "grub-editenv create writes its comment line"
    );

    // New: no variables, the first entry boots.
    let recs = healthy(&s);
    let g = one(&recs, "grubenv");
    assert_eq!(g["status"], "ok", "{g}");
    assert_eq!(one(&recs, "default-entry")["entry"], "Debian GNU/Linux");

    // grub-set-default: saved_entry is what GRUB boots.
    let out = grub_tool("grub-set-default", &[boot.as_ref(), saved15().as_ref()]);
    assert!(out.status.success(), "{out:?}");
    let recs = healthy(&s);
    assert_eq!(one(&recs, "grubenv")["status"], "ok");
    assert_eq!(one(&recs, "default-entry")["kernel"], D15);

    // grub-reboot: a one-time entry, then the saved one.
    let once = format!("gnulinux-advanced-{U}>gnulinux-{D13}-advanced-{U}");
    let out = grub_tool("grub-reboot", &[boot.as_ref(), once.as_ref()]);
    assert!(out.status.success(), "{out:?}");
    // A value with a backslash, as grub-editenv escapes it.
    editenv(&env, &["set", "kernelopts=root=/dev/x ro a\\b"]);
    let recs = healthy(&s);
    let n = one(&recs, "next-entry");
    assert_eq!(
        (n["status"].as_str(), n["kernel"].as_str()),
        (Some("ok"), Some(D13)),
        "{n}"
    );
    let g = one(&recs, "grubenv");
    assert_eq!(g["status"], "ok", "{g}");
    // Every variable GRUB's reader lists is read with the same value.
    let listed = editenv_list(&env).expect("grub-editenv list");
    assert_eq!(listed.len(), 3, "{listed:?}");
    let m = g["message"].as_str().expect("m");
    for (k, v) in &listed {
        assert!(m.contains(&format!("{k}={v}")), "{k}={v} not in: {m}");
    }
    assert!(m.contains("a\\b"), "{m}");

    // grub-editenv unset: the one-time entry is gone.
    editenv(&env, &["unset", "next_entry"]);
    let (_, recs) = check(&s, &[]);
    assert!(find(&recs, "next-entry").is_empty());
    assert_eq!(one(&recs, "grubenv")["status"], "ok");
}

#[test]
fn grubenv_cut_short_or_damaged_is_judged_by_what_grub_loads() {
    let (s, env) = debian_editenv();
    editenv(&env, &["set", &format!("saved_entry={}", saved15())]);
    let good = std::fs::read(&env).expect("read");
    let cut_file = s.path().join("grubenv.cut");

    // Cut short inside the padding: GRUB's reader loads every variable,
    // so the saved default boots; the size is worth a warning only.
    std::fs::write(&cut_file, &good[..300]).expect("write");
    let listed = editenv_list(&cut_file).expect("GRUB reads it");
    assert_eq!(listed, vec![("saved_entry".to_owned(), saved15())]);
    s.write("boot/grub/grubenv", &good[..300]);
    let recs = healthy(&s);
    let g = one(&recs, "grubenv");
    assert_eq!(g["status"], "warn", "{g}");
    says(g, &["300 bytes"]);
    assert_eq!(one(&recs, "default-entry")["kernel"], D15);

    // Cut inside the saved_entry line: GRUB loads nothing of it, and the
    // first entry boots instead.
    let inside = good
        .windows(12)
        .position(|w| w == b"saved_entry=")
        .expect("line")
        + 20;
    std::fs::write(&cut_file, &good[..inside]).expect("write");
    assert_eq!(editenv_list(&cut_file), Some(vec![]));
    s.write("boot/grub/grubenv", &good[..inside]);
    let recs = check_exits(&s, &[], 1);
    let g = one(&recs, "grubenv");
    assert_eq!(g["status"], "fail", "{g}");
    assert_eq!(g["line"], 3);
    says(g, &["saved_entry"]);
    assert_eq!(one(&recs, "default-entry")["entry"], "Debian GNU/Linux");

    // A damaged header: GRUB's reader refuses the block.
    let mut bad = good.clone();
    bad[2] = b'g';
    std::fs::write(&cut_file, &bad).expect("write");
    assert_eq!(editenv_list(&cut_file), None);
    s.write("boot/grub/grubenv", &bad);
    let recs = check_exits(&s, &[], 1);
    let g = one(&recs, "grubenv");
    status_says(g, "fail", &["GRUB ignores it"]);

    // Junk at the end of the padding: GRUB loads the variables, but
    // grub-editenv cannot write the block any more.
    let mut junk = good.clone();
    junk[1000] = 0;
    std::fs::write(&cut_file, &junk).expect("write");
    assert_eq!(editenv_list(&cut_file).map(|l| l.len()), Some(1));
    let out = grub_tool(
        "grub-editenv",
        &[cut_file.as_os_str(), "set".as_ref(), "x=y".as_ref()],
    );
    assert!(!out.status.success(), "grub-editenv wrote a broken block");
    s.write("boot/grub/grubenv", &junk);
    let (code, recs) = check(&s, &[]);
    assert_eq!(code, 0, "{:#?}", statuses(&recs, "fail"));
    let g = one(&recs, "grubenv");
    assert_eq!(g["status"], "warn", "{g}");
    says(g, &["cannot write"]);
    // ... which fails once a one-time entry is set that GRUB must clear.
    let once = grubenv_with(&good, "next_entry=1\n");
    let mut once_junk = once.clone();
    once_junk[1000] = 0;
    s.write("boot/grub/grubenv", &once_junk);
    let recs = check_exits(&s, &[], 1);
    says(
        one(&recs, "grubenv"),
        &["every boot starts the one-time entry"],
    );
}

/// `block` with `line` written where grub-editenv appends (the padding).
fn grubenv_with(block: &[u8], line: &str) -> Vec<u8> {
    let pad = block.iter().rev().take_while(|&&b| b == b'#').count();
    let at = block.len() - pad;
    let mut v = block[..at].to_vec();
    v.extend_from_slice(line.as_bytes());
    v.resize(block.len(), b'#');
    v
}

// ------------------------------------------ kernels named by flavour, live

/// A small x86 boot image with a correct setup header (as in the kernel's
/// Documentation/arch/x86/boot.rst): the PE/EFI stub's "MZ", 4 setup
/// sectors, boot flag 0xAA55, "HdrS" at 0x202, boot protocol 2.15, and
/// `kernel_version` at 0x20E pointing (0x200 bytes on) to the version
/// string `uname -v` and `file` show.
fn bzimage(release: &str) -> Vec<u8> {
    let mut v = vec![0u8; 4096];
    v[0..2].copy_from_slice(b"MZ");
    v[0x1f1] = 4; // setup_sects
    v[0x1f4..0x1f8].copy_from_slice(&64u32.to_le_bytes()); // syssize, 16-byte units
    v[0x1fe..0x200].copy_from_slice(&0xaa55u16.to_le_bytes());
    v[0x202..0x206].copy_from_slice(b"HdrS");
    v[0x206..0x208].copy_from_slice(&0x020fu16.to_le_bytes());
    let at = 0x800usize;
    v[0x20e..0x210].copy_from_slice(&((at - 0x200) as u16).to_le_bytes());
    let s =
        format!("{release} (builder@build) #1 SMP PREEMPT_DYNAMIC Mon Jan  1 00:00:00 UTC 2024\0");
    v[at..at + s.len()].copy_from_slice(s.as_bytes());
    v
}

/// What `file` says an image's version is (file is in .ci/run's list).
fn file_version(p: &std::path::Path) -> Option<String> {
    let out = std::process::Command::new("file")
        .arg("-b")
        .arg(p)
        .output()
        .unwrap_or_else(|e| panic!("cannot run file (install it: .ci/run does): {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let rest = text.split(", version ").nth(1)?;
    rest.split_whitespace().next().map(str::to_owned)
}

#[test]
fn setup_header_release_is_what_file_prints() {
    let s = Scratch::new("bzimage");
    let p = s.write("vmlinuz-virt", bzimage("6.6.8-0-virt"));
    assert_eq!(file_version(&p).as_deref(), Some("6.6.8-0-virt"));
    assert_eq!(
        boot_check::kernels::bzimage_release(&std::fs::read(&p).expect("read")).as_deref(),
        Some("6.6.8-0-virt")
    );
    // The real kernels of this machine, where it has any (Debian's
    // linux-image packages install them in /boot): the same release as
    // `file` reads, and the one the file name carries.
    // .ci/run unpacks the image of Debian's current linux-image package
    // into PATCHDAY_KERNEL_DIR where the machine has none.
    let mut seen = 0;
    let dirs = std::iter::once(std::path::PathBuf::from("/boot"))
        .chain(std::env::var_os("PATCHDAY_KERNEL_DIR").map(std::path::PathBuf::from));
    for e in dirs.flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten()) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(ver) = name.strip_prefix("vmlinuz-") else {
            continue;
        };
        let Ok(bytes) = std::fs::read(e.path()) else {
            common::skip(&format!("{name} is not readable here"));
            continue;
        };
        let ours = boot_check::kernels::bzimage_release(&bytes);
        assert_eq!(ours, file_version(&e.path()), "{name}");
        if ours.is_some() {
            assert_eq!(ours.as_deref(), Some(ver), "{name}");
            seen += 1;
        }
    }
    if seen == 0 {
        common::skip("no x86 kernel image in /boot or PATCHDAY_KERNEL_DIR to read");
    }
}

#[test]
fn alpine_flavour_kernel_matched_by_its_header_and_kernel_release() {
    // apk upgraded linux-virt to 6.6.8-0-virt, but its modules never
    // arrived (full disk); those of 6.6.7 are still there. The image's
    // header says which release boots, so the missing modules fail.
    let s = alpine();
    s.write("boot/extlinux.conf", "DEFAULT virt\nLABEL virt\n  MENU LABEL Linux virt\n  LINUX vmlinuz-virt\n  INITRD initramfs-virt\n  APPEND root=UUID=a1b2 modules=sd-mod,usb-storage,ext4 quiet rootfstype=ext4\n");
    s.write("boot/vmlinuz-virt", bzimage("6.6.8-0-virt"));
    s.write("boot/initramfs-virt", "initrd image");
    s.write("lib/modules/6.6.7-0-virt/modules.dep", "");
    let recs = check_exits(&s, &[], 1);
    let m = find(&recs, "kernel-modules")
        .into_iter()
        .find(|r| r["kernel"] == "virt")
        .expect("virt");
    assert_eq!(m["status"], "fail", "{m}");
    assert_eq!(m["path"], "/lib/modules/6.6.8-0-virt");
    says(
        m,
        &["setup header of /boot/vmlinuz-virt", "apk fix linux-virt"],
    );
    assert_eq!(
        one(&recs, "reboot-pending")["default_kernel"],
        "6.6.8-0-virt"
    );
    // The modules arrive: all well.
    s.write("lib/modules/6.6.8-0-virt/modules.dep", "");
    let (_, recs) = check(&s, &[]);
    let m = find(&recs, "kernel-modules")
        .into_iter()
        .find(|r| r["kernel"] == "virt")
        .expect("virt");
    assert_eq!(m["status"], "ok", "{m}");
    assert_eq!(m["path"], "/lib/modules/6.6.8-0-virt");

    // An image without that header (arm64): Alpine's own record of the
    // release, /usr/share/kernel/lts/kernel.release, decides, not the
    // newest directory that ends in -lts.
    let s = alpine();
    s.write("usr/share/kernel/lts/kernel.release", "6.6.9-0-lts\n");
    let recs = check_exits(&s, &[], 1);
    let m = one(&recs, "kernel-modules");
    assert_eq!(m["status"], "fail", "{m}");
    assert_eq!(m["path"], "/lib/modules/6.6.9-0-lts");
    says(m, &["/usr/share/kernel/lts/kernel.release"]);
    s.write("lib/modules/6.6.9-0-lts/kernel/fs/ext4.ko", "");
    let recs = healthy(&s);
    assert_eq!(
        one(&recs, "kernel-modules")["path"],
        "/lib/modules/6.6.9-0-lts"
    );
}

#[test]
fn kernel_named_by_series_is_matched_by_its_header() {
    // Manjaro names the image by kernel series (vmlinuz-6.6-x86_64); the
    // modules directory is the release the image reports.
    let s = Scratch::new("boot-manjaro");
    s.write(
        "etc/os-release",
        "NAME=\"Manjaro Linux\"\nID=manjaro\nID_LIKE=arch\n",
    );
    s.write("etc/fstab", "UUID=r00t / ext4 rw 0 1\n");
    s.write(
        "boot/grub/grub.cfg",
        "set default=\"0\"\nmenuentry 'Manjaro Linux' {\n\tlinux\t/boot/vmlinuz-6.6-x86_64 root=UUID=r00t rw quiet\n\tinitrd\t/boot/initramfs-6.6-x86_64.img\n}\n",
    );
    s.write("boot/vmlinuz-6.6-x86_64", bzimage("6.6.10-1-MANJARO"));
    s.write("boot/initramfs-6.6-x86_64.img", "initrd image");
    s.write("usr/lib/modules/6.6.10-1-MANJARO/modules.order", "");
    s.write("usr/lib/modules/6.6.10-1-MANJARO/pkgbase", "linux66\n");
    let recs = healthy(&s);
    let m = one(&recs, "kernel-modules");
    assert_eq!(m["status"], "ok");
    assert_eq!(m["path"], "/usr/lib/modules/6.6.10-1-MANJARO");
    assert_eq!(
        one(&recs, "reboot-pending")["default_kernel"],
        "6.6.10-1-MANJARO"
    );
}

#[test]
#[ignore = "run as root: a private mount namespace needs root"]
fn live_next_boot_of_an_older_kernel_warns_naming_both() {
    // The running system's /boot, replaced in a private mount namespace by
    // one whose default entry starts an older kernel than the one running.
    require_root!("a private mount namespace needs root");
    if !can_unshare_mount() {
        return;
    }
    let running = String::from_utf8_lossy(
        &std::process::Command::new("uname")
            .arg("-r")
            .output()
            .expect("uname")
            .stdout,
    )
    .trim()
    .to_owned();
    let old = "1.0.0-1-old";
    let s = Scratch::new("boot-live-older");
    // The default boots vmlinuz-linux, whose header says 1.0.0-1-old.
    s.write(
        "grub/grub.cfg",
        format!("set default=\"0\"\nmenuentry 'Old' {{\n\tlinux\t/boot/vmlinuz-linux root=UUID=r00t ro\n\tinitrd\t/boot/initramfs-linux.img\n}}\nmenuentry 'Running' {{\n\tlinux\t/boot/vmlinuz-{running} root=UUID=r00t ro\n\tinitrd\t/boot/initramfs-{running}.img\n}}\n"),
    );
    s.write("vmlinuz-linux", bzimage(old));
    s.write("initramfs-linux.img", "initrd image");
    s.write(&format!("vmlinuz-{running}"), bzimage(&running));
    s.write(&format!("initramfs-{running}.img"), "initrd image");
    let script = "mount --make-rprivate / && mount --bind \"$FIX\" /boot && exec \"$BC\"";
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["--mount", "sh", "-c", script])
        .env("FIX", s.path())
        .env("BC", common::bin("boot-check"));
    let r = common::run_cmd(cmd, None);
    assert!(r.code() == 0 || r.code() == 1, "{r}");
    let recs = r.records();
    let p = one(&recs, "reboot-pending");
    assert_eq!(p["status"], "warn", "{p}");
    assert_eq!(p["default_kernel"], old);
    assert_eq!(p["running_kernel"], running.as_str());
    let m = p["message"].as_str().expect("m");
    assert!(m.contains(old) && m.contains(&running), "{m}");
    assert!(m.contains("older than the running kernel"), "{m}");
    assert!(
        m.contains("GRUB_DEFAULT") || m.contains("grub-set-default"),
        "{m}"
    );
}

/// An arm64 kernel Image (EFI stub "MZ", "ARM\\x64" at 0x38) with its banner
/// deep inside, as `file` recognises it.
fn arm64_image(release: &str) -> Vec<u8> {
    let mut v: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    v[0..2].copy_from_slice(b"MZ");
    v[0x38..0x3c].copy_from_slice(b"ARM\x64");
    let banner = format!("Linux version {release} (buildozer@build-edge-aarch64) (gcc (Alpine 13.2.1) 13.2.1) #1-Alpine SMP PREEMPT_DYNAMIC\n");
    v[200_000..200_000 + banner.len()].copy_from_slice(banner.as_bytes());
    v
}

/// `data` through a compressor (gzip, zstd; .ci/run installs both).
fn compress(tool: &str, data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new(tool)
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {tool} (install it: .ci/run does): {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("join").expect("write");
    assert!(out.status.success(), "{tool} failed");
    out.stdout
}

/// An EFI zboot image around a compressed payload, laid out as the
/// kernel's drivers/firmware/efi/libstub/zboot-header.S does: "MZ", "zimg",
/// payload offset and size, the compression type, the PE magic at 0x38.
fn zboot(payload: &[u8], kind: &str) -> Vec<u8> {
    let mut v = vec![0u8; 4096];
    v[0..2].copy_from_slice(b"MZ");
    v[4..8].copy_from_slice(b"zimg");
    v[8..12].copy_from_slice(&4096u32.to_le_bytes());
    v[12..16].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    v[24..24 + kind.len()].copy_from_slice(kind.as_bytes());
    v[0x38..0x3c].copy_from_slice(&[0xcd, 0x23, 0x82, 0x81]);
    v.extend_from_slice(payload);
    v.resize(v.len() + 512, 0);
    v
}

#[test]
#[ignore = "run as root: grub-mkconfig in a private mount namespace needs root"]
fn arm64_compressed_and_zboot_kernels_are_read_for_their_release() {
    let image = arm64_image("6.6.9-0-lts");
    let probe = Scratch::new("arm64-probe");
    let p = probe.write("Image", &image);
    let f = std::process::Command::new("file")
        .arg("-b")
        .arg(&p)
        .output()
        .expect("file");
    assert!(
        String::from_utf8_lossy(&f.stdout).contains("ARM64 boot executable"),
        "file does not take the fixture for an arm64 kernel: {}",
        String::from_utf8_lossy(&f.stdout)
    );
    let gz = compress("gzip", &image);
    for (what, bytes) in [
        ("plain Image", image.clone()),
        ("gzip", gz.clone()),
        ("zboot gzip", zboot(&gz, "gzip")),
    ] {
        // The stale modules of 6.6.7 must not pass for those of 6.6.9.
        let s = alpine();
        s.write("boot/vmlinuz-lts", &bytes);
        let (code, recs) = check(&s, &[]);
        assert_eq!(code, 1, "{what}");
        let m = one(&recs, "kernel-modules");
        assert_eq!(m["status"], "fail", "{what}: {m}");
        assert_eq!(m["path"], "/lib/modules/6.6.9-0-lts", "{what}");
        says(m, &["version string inside /boot/vmlinuz-lts"]);
        s.write("lib/modules/6.6.9-0-lts/modules.builtin", "");
        let (code, recs) = check(&s, &[]);
        no_fail(&recs);
        assert_eq!(code, 0, "{what}");
        assert_eq!(
            one(&recs, "kernel-modules")["path"],
            "/lib/modules/6.6.9-0-lts"
        );
    }
    // A zstd payload is not read: Alpine's record names the release.
    let s = alpine();
    s.write("boot/vmlinuz-lts", zboot(&compress("zstd", &image), "zstd"));
    s.write("usr/share/kernel/lts/kernel.release", "6.6.9-0-lts\n");
    let recs = check_exits(&s, &[], 1);
    let m = one(&recs, "kernel-modules");
    assert_eq!(m["path"], "/lib/modules/6.6.9-0-lts", "{m}");
    says(m, &["/usr/share/kernel/lts/kernel.release"]);
}

// ------------------------------------- grub.cfg made by grub-mkconfig itself

/// A stand-in for grub-probe (grub-mkconfig asks it about the disks): the
/// root file system on /dev/vda1, /boot on /dev/vda2, with fixed UUIDs.
const GRUB_PROBE: &str = r#"#!/bin/sh
target=""; path=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target=*) target=${1#--target=} ;;
    -t) shift; target=$1 ;;
    -*) ;;
    *) path=$1 ;;
  esac
  shift
done
case "$path" in /boot*|/dev/vda2) part=2 ;; *) part=1 ;; esac
case "$target" in
  device) echo /dev/vda$part ;;
  fs_uuid) if [ $part = 2 ]; then echo b007b007-0000-4000-8000-000000000002; else echo 4007b007-0000-4000-8000-000000000001; fi ;;
  fs) echo ext2 ;;
  partuuid) echo 0000000$part ;;
  drive) echo "(hd0,msdos$part)" ;;
  partmap) echo msdos ;;
  disk) echo /dev/vda ;;
  compatibility_hint) echo hd0,msdos$part ;;
  hints_string) echo "--hint-bios=hd0,msdos$part" ;;
esac
"#;

const BOOT_UUID: &str = "b007b007-0000-4000-8000-000000000002";

/// A Debian root with a separate /boot whose grub.cfg the real
/// grub-mkconfig wrote (run in a private mount namespace over a tmpfs
/// /boot, with /etc/grub.d's 00_header, 10_linux, 40_custom plus a
/// hand-written entry, and 41_custom); `None` when that cannot run here.
fn debian_mkconfig() -> Option<Scratch> {
    if !common::is_root() {
        common::skip("grub-mkconfig in a private mount namespace needs root");
        return None;
    }
    let probe = std::process::Command::new("unshare")
        .args(["--mount", "true"])
        .output();
    if !matches!(&probe, Ok(o) if o.status.success()) {
        common::skip("unshare --mount is not available here");
        return None;
    }
    for f in [
        "/usr/sbin/grub-mkconfig",
        "/usr/sbin/grub-probe",
        "/etc/grub.d/10_linux",
    ] {
        assert!(
            std::path::Path::new(f).exists(),
            "{f} is missing: install grub-common (.ci/run does)"
        );
    }
    let s = Scratch::new("boot-mkconfig");
    let work = Scratch::new("boot-mkconfig-work");
    for v in [D15, D13] {
        work.write(&format!("boot/vmlinuz-{v}"), "kernel image");
        work.write(&format!("boot/initrd.img-{v}"), "initrd image");
        s.write(&format!("lib/modules/{v}/modules.dep"), "");
    }
    for script in ["00_header", "10_linux", "40_custom", "41_custom"] {
        let text = std::fs::read(format!("/etc/grub.d/{script}")).expect("grub.d");
        let p = work.write(&format!("grub.d/{script}"), text);
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
    }
    // An entry added by hand to 40_custom, as its comment says.
    let mut custom = std::fs::read_to_string(work.path().join("grub.d/40_custom")).expect("40");
    custom.push_str(&format!("menuentry 'Debian {D13}, by hand' --id by-hand {{\n\tsearch --no-floppy --fs-uuid --set=root {BOOT_UUID}\n\tlinux /vmlinuz-{D13} root=/dev/vda1 ro single\n\tinitrd /initrd.img-{D13}\n}}\n"));
    work.write("grub.d/40_custom", custom);
    let gp = work.write("grub-probe", GRUB_PROBE);
    std::fs::set_permissions(&gp, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let script = "set -e
mount --make-rprivate /
mount -t tmpfs tmpfs /boot
cp -a \"$WORK/boot/.\" /boot/
mkdir -p /boot/grub
mount --bind \"$WORK/grub-probe\" /usr/sbin/grub-probe
mount --bind \"$WORK/grub.d\" /etc/grub.d
grub-mkconfig -o /boot/grub/grub.cfg
mkdir -p \"$ROOT/boot\"
cp -a /boot/. \"$ROOT/boot/\"";
    let out = std::process::Command::new("unshare")
        .args(["--mount", "sh", "-c", script])
        .env("WORK", work.path())
        .env("ROOT", s.path())
        .env("GRUB_DEFAULT", "saved")
        .env("GRUB_DISTRIBUTOR", "Debian")
        .env("GRUB_DISABLE_OS_PROBER", "true")
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .output()
        .expect("unshare");
    assert!(
        out.status.success(),
        "grub-mkconfig: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.write(
        "etc/os-release",
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n",
    );
    s.write(
        "etc/fstab",
        format!(
            "/dev/vda1 / ext4 errors=remount-ro 0 1\nUUID={BOOT_UUID} /boot ext2 defaults 0 2\n"
        ),
    );
    let env = s.path().join("boot/grub/grubenv");
    editenv(&env, &["create"]);
    Some(s)
}

#[test]
fn custom_cfg_and_hand_written_entries_of_a_grub_mkconfig_menu() {
    let Some(s) = debian_mkconfig() else { return };
    let cfg = std::fs::read_to_string(s.path().join("boot/grub/grub.cfg")).expect("grub.cfg");
    assert!(
        cfg.contains("source ${config_directory}/custom.cfg"),
        "41_custom ran"
    );
    assert!(cfg.contains("by-hand"), "40_custom ran");
    let recs = healthy(&s);
    let by_hand: Vec<_> = find(&recs, "entry-kernel")
        .into_iter()
        .filter(|r| r["entry"] == format!("Debian {D13}, by hand"))
        .collect();
    assert_eq!(by_hand.len(), 1, "{by_hand:?}");
    assert_eq!(by_hand[0]["status"], "ok");

    // custom.cfg, beside grub.cfg, adds an entry and makes it the default:
    // GRUB boots it, and its kernel is not there.
    s.write(
        "boot/grub/custom.cfg",
        format!("menuentry 'Custom kernel' --id custom-kernel {{\n\tsearch --no-floppy --fs-uuid --set=root {BOOT_UUID}\n\tlinux /vmlinuz-6.1.0-99-custom root=/dev/vda1 ro\n}}\nset default=custom-kernel\n"),
    );
    let recs = check_exits(&s, &[], 1);
    let d = one(&recs, "default-entry");
    assert_eq!(d["entry"], "Custom kernel", "{d}");
    let k = one(&recs, "default-entry-kernel");
    assert_eq!(k["status"], "fail");
    assert_eq!(k["file"], "/boot/grub/custom.cfg");
    assert_eq!(k["line"], 1);
    assert_eq!(k["path"], "/boot/vmlinuz-6.1.0-99-custom");

    // Its kernel installed: a bootable default again.
    s.write("boot/vmlinuz-6.1.0-99-custom", "kernel image");
    s.write("boot/initrd.img-6.1.0-99-custom", "initrd image");
    s.write("lib/modules/6.1.0-99-custom/modules.dep", "");
    std::fs::write(
        s.path().join("boot/grub/custom.cfg"),
        format!("menuentry 'Custom kernel' --id custom-kernel {{\n\tsearch --no-floppy --fs-uuid --set=root {BOOT_UUID}\n\tlinux /vmlinuz-6.1.0-99-custom root=/dev/vda1 ro\n\tinitrd /initrd.img-6.1.0-99-custom\n}}\nset default=custom-kernel\n"),
    )
    .expect("write");
    let recs = healthy(&s);
    assert_eq!(
        one(&recs, "default-entry-kernel")["kernel"],
        "6.1.0-99-custom"
    );
}

// ------------------------------------------- root found without root=

#[test]
fn no_root_is_fine_where_the_initrd_discovers_the_root_partition() {
    // Arch on systemd-boot with discoverable partitions: the entries carry
    // no root=, and mkinitcpio's classic udev hook cannot find the root.
    let s = arch_sdboot("default arch.conf\n");
    for (id, kernel, initrd) in [
        ("arch", "linux", "initramfs-linux.img"),
        ("arch-fallback", "linux", "initramfs-linux-fallback.img"),
        ("arch-lts", "linux-lts", "initramfs-linux-lts.img"),
    ] {
        s.write(
            &format!("boot/loader/entries/{id}.conf"),
            format!(
                "title   {id}\nlinux   /vmlinuz-{kernel}\ninitrd  /{initrd}\noptions rw quiet\n"
            ),
        );
    }
    s.write(
        "usr/lib/systemd/system-generators/systemd-gpt-auto-generator",
        "generator",
    );
    s.write(
        "etc/mkinitcpio.conf",
        "MODULES=()\nBINARIES=()\nFILES=()\nHOOKS=(base udev autodetect microcode modconf kms keyboard keymap consolefont block filesystems fsck)\n",
    );
    let recs = check_exits(&s, &[], 1);
    let r = one(&recs, "default-entry-root");
    status_says(
        r,
        "fail",
        &["HOOKS in /etc/mkinitcpio.conf has no systemd hook"],
    );

    // The systemd hook: systemd-gpt-auto-generator finds it.
    s.write(
        "etc/mkinitcpio.conf",
        "MODULES=()\nHOOKS=(base systemd autodetect microcode modconf kms keyboard sd-vconsole block filesystems fsck)\n",
    );
    let recs = healthy(&s);
    let r = one(&recs, "default-entry-root");
    status_says(
        r,
        "ok",
        &[
            "systemd-gpt-auto-generator",
            "systemd-boot tells the initrd",
        ],
    );

    // A drop-in that goes back to udev wins.
    s.write(
        "etc/mkinitcpio.conf.d/udev.conf",
        "HOOKS=(base udev block filesystems)\n",
    );
    check_exits(&s, &[], 1);
}

#[test]
fn no_root_under_grub_needs_the_bli_module() {
    // Fedora's BLS entries with dracut (systemd in the initrd): without
    // `insmod bli` GRUB does not say which disk it booted from.
    let s = fedora(Some("ro rhgb quiet"), false);
    s.write(
        "usr/lib/systemd/system-generators/systemd-gpt-auto-generator",
        "generator",
    );
    // Root on a plain partition (Fedora's default btrfs), not on LVM.
    s.write(
        "etc/fstab",
        "UUID=f00d / btrfs subvol=root 0 0\nUUID=bbbb-cccc /boot ext4 defaults 1 2\n",
    );
    s.write(
        "usr/lib/dracut/modules.d/00systemd/module-setup.sh",
        "# dracut\n",
    );
    let recs = check_exits(&s, &[], 1);
    let r = one(&recs, "default-entry-root");
    status_says(r, "fail", &["bli"]);
    let cfg = std::fs::read_to_string(s.path().join("boot/grub2/grub.cfg")).expect("cfg");
    s.write("boot/grub2/grub.cfg", format!("insmod bli\n{cfg}"));
    let recs = healthy(&s);
    let r = one(&recs, "default-entry-root");
    status_says(r, "ok", &["dracut"]);
    // dracut told to leave systemd out: nothing finds the root.
    s.write(
        "etc/dracut.conf.d/no-systemd.conf",
        "omit_dracutmodules+=\" systemd \"\n",
    );
    let recs = check_exits(&s, &[], 1);
    says(
        one(&recs, "default-entry-root"),
        &["omits dracut's systemd module"],
    );
    // Root on LVM: no partition of the root type to find.
    rm(&s, "etc/dracut.conf.d/no-systemd.conf");
    s.write(
        "etc/fstab",
        "/dev/mapper/fedora-root / xfs defaults 0 0\nUUID=bbbb-cccc /boot ext4 defaults 1 2\n",
    );
    let recs = check_exits(&s, &[], 1);
    says(
        one(&recs, "default-entry-root"),
        &["logical volume /dev/mapper/fedora-root"],
    );
}

// ------------------------------------------- systemd-boot boot counting

#[test]
fn systemd_boot_counted_entries_and_default_globs() {
    // kernel-install with boot counting names the entry arch+3-0.conf: its
    // id is still "arch", which loader.conf's default names.
    let s = arch_sdboot("default arch.conf\ntimeout 3\n");
    let entries = s.path().join("boot/loader/entries");
    std::fs::rename(entries.join("arch.conf"), entries.join("arch+3-0.conf")).expect("mv");
    let recs = healthy(&s);
    let d = one(&recs, "default-entry");
    assert_eq!(
        (d["status"].as_str(), d["entry"].as_str()),
        (Some("ok"), Some("Arch Linux")),
        "{d}"
    );

    // Three failed boots: no tries left. A glob default skips it (it sorts
    // last), so arch-lts boots.
    std::fs::rename(entries.join("arch+3-0.conf"), entries.join("arch+0-3.conf")).expect("mv");
    s.write("boot/loader/loader.conf", "default arch*\n");
    let recs = healthy(&s);
    let d = one(&recs, "default-entry");
    assert_eq!(d["entry"], "Arch Linux LTS", "{d}");
    assert_eq!(d["status"], "ok");

    // Named exactly, systemd-boot still boots it: a warning.
    s.write("boot/loader/loader.conf", "default arch.conf\n");
    let recs = check_exits(&s, &[], 0);
    let d = one(&recs, "default-entry");
    assert_eq!(d["entry"], "Arch Linux");
    assert_eq!(d["status"], "warn", "{d}");
    says(d, &["+0-3"]);

    // No default: the first entry, which is no longer the bad one.
    s.write("boot/loader/loader.conf", "timeout 3\n");
    let (_, recs) = check(&s, &[]);
    assert_eq!(one(&recs, "default-entry")["entry"], "Arch Linux LTS");

    // A set in the glob: only the numbered kernels' entries.
    s.write("boot/loader/loader.conf", "default arch-[l]*\n");
    let (_, recs) = check(&s, &[]);
    assert_eq!(one(&recs, "default-entry")["entry"], "Arch Linux LTS");
}

// ------------------------------------------- unified kernel images

/// systemd's own EFI stub (systemd-boot-efi), which .ci/run installs.
const STUB: &str = "/usr/lib/systemd/boot/efi/linuxx64.efi.stub";

/// A unified kernel image made the way systemd documents it without
/// ukify: objcopy adds the sections to systemd-stub.
fn make_uki(dir: &Scratch, sections: &[(&str, &[u8])]) -> Vec<u8> {
    assert!(
        std::path::Path::new(STUB).exists(),
        "{STUB} is missing: install systemd-boot-efi (.ci/run does)"
    );
    let out = dir.path().join("uki.efi");
    let mut cmd = std::process::Command::new("objcopy");
    for (k, (name, data)) in sections.iter().enumerate() {
        let f = dir.write(&format!("section{k}"), data);
        let vma = match *name {
            ".linux" => 0x200_0000 + k * 0x10_0000,
            _ => 0x2_0000 + k * 0x1_0000,
        };
        cmd.arg("--add-section")
            .arg(format!("{name}={}", f.display()))
            .arg("--change-section-vma")
            .arg(format!("{name}={vma:#x}"));
    }
    cmd.arg(STUB).arg(&out);
    let r = cmd
        .output()
        .expect("objcopy (install binutils: .ci/run does)");
    assert!(
        r.status.success(),
        "objcopy: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    std::fs::read(&out).expect("read uki")
}

#[test]
#[ignore = "run as root: bootctl reads the fixture ESP from a tmpfs, which needs root"]
fn unified_kernel_images_are_entries_read_from_their_sections() {
    let work = Scratch::new("uki-work");
    let osrel =
        b"NAME=\"Arch Linux\"\nPRETTY_NAME=\"Arch Linux (UKI)\"\nID=arch\nBUILD_ID=rolling\n";
    let image = make_uki(
        &work,
        &[
            (".osrel", osrel),
            (".cmdline", b"root=UUID=r00t rw quiet\n"),
            (".uname", b"6.6.1-arch1-1"),
            (".linux", &bzimage("6.6.1-arch1-1")),
            (".initrd", b"initrd image"),
        ],
    );
    // Our reading of the section table is objdump's.
    let p = work.write("check.efi", &image);
    let dump = std::process::Command::new("objdump")
        .arg("-h")
        .arg(&p)
        .output()
        .expect("objdump");
    let dump = String::from_utf8_lossy(&dump.stdout).into_owned();
    let ours = boot_check::uki::sections(&image).expect("a PE file");
    for name in [".osrel", ".cmdline", ".uname", ".linux", ".initrd"] {
        let line = dump
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .unwrap_or_else(|| panic!("{name} not in objdump -h:\n{dump}"));
        let cols: Vec<&str> = line.split_whitespace().collect();
        let size = u64::from_str_radix(cols[2], 16).expect("size");
        let off = u64::from_str_radix(cols[5], 16).expect("file off");
        let s = ours.iter().find(|s| s.name == name).expect("ours");
        assert_eq!((s.offset, s.size), (off, size), "{name}");
    }

    let s = arch_sdboot("default arch-linux.efi\ntimeout 3\n");
    s.write("boot/EFI/Linux/arch-linux.efi", &image);
    let recs = healthy(&s);
    let d = one(&recs, "default-entry");
    assert_eq!(d["entry"], "Arch Linux (UKI)", "{d}");
    assert_eq!(d["kernel"], "6.6.1-arch1-1");
    let k = one(&recs, "default-entry-kernel");
    assert_eq!(k["status"], "ok");
    assert_eq!(k["path"], "/boot/EFI/Linux/arch-linux.efi");
    let r = one(&recs, "default-entry-root");
    assert_eq!(r["status"], "ok");
    assert_eq!(r["options"], "root=UUID=r00t rw quiet");
    let i = one(&recs, "default-entry-initrd");
    says(i, &["carries its own initrd"]);

    // Without .uname the kernel's own header names the release; without
    // root= on its command line and nothing to discover the root, it fails.
    let image = make_uki(
        &work,
        &[
            (".osrel", osrel),
            (".cmdline", b"rw quiet"),
            (".linux", &bzimage("6.6.2-arch1-1")),
        ],
    );
    s.write("boot/EFI/Linux/arch-linux.efi", &image);
    let recs = check_exits(&s, &[], 1);
    assert_eq!(one(&recs, "default-entry")["kernel"], "6.6.2-arch1-1");
    assert_eq!(one(&recs, "default-entry-root")["status"], "fail");

    // No .osrel: systemd-boot lists no entry for it.
    let image = make_uki(&work, &[(".linux", &bzimage("6.6.2-arch1-1"))]);
    s.write("boot/EFI/Linux/arch-linux.efi", &image);
    let recs = check_exits(&s, &[], 1);
    assert_eq!(one(&recs, "default-entry")["status"], "fail");
}

/// The title of the entry `bootctl list` marks as the default, reading
/// `esp` as the ESP (`--no-variables`: loader.conf decides). bootctl wants
/// the root of a file system, so the tree is copied onto a tmpfs in a
/// private mount namespace; `None` where that cannot run (not root).
fn bootctl_default(esp: &std::path::Path) -> Option<String> {
    if !common::is_root() {
        common::skip("bootctl reads the fixture ESP from a tmpfs, which needs root");
        return None;
    }
    let mnt = Scratch::new("bootctl-esp");
    let script = "set -e
mount --make-rprivate /
mount -t tmpfs tmpfs \"$MNT\"
cp -a \"$SRC/.\" \"$MNT/\"
SYSTEMD_RELAX_ESP_CHECKS=1 bootctl --esp-path=\"$MNT\" --boot-path=\"$MNT\" --no-variables --no-pager list";
    let out = std::process::Command::new("unshare")
        .args(["--mount", "sh", "-c", script])
        .env("MNT", mnt.path())
        .env("SRC", esp)
        .output()
        .expect("unshare (install util-linux: .ci/run does)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "bootctl list (install systemd-boot: .ci/run does): {}{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let title = text
        .lines()
        .find(|l| l.contains("(default)"))
        .and_then(|l| l.trim().strip_prefix("title: "))
        .and_then(|t| t.split(" (default)").next())
        .unwrap_or_else(|| panic!("bootctl marks no default:\n{text}"));
    Some(title.to_owned())
}

#[test]
fn systemd_boot_default_agrees_with_bootctl() {
    // Counted type #1 entries, one with no tries left, and a counted
    // unified kernel image with a sort key: whichever entry loader.conf's
    // default picks, bootctl picks the same.
    let s = arch_sdboot("timeout 3\n");
    let entries = s.path().join("boot/loader/entries");
    std::fs::rename(entries.join("arch.conf"), entries.join("arch+0-3.conf")).expect("mv");
    let work = Scratch::new("uki-bootctl");
    let image = make_uki(
        &work,
        &[
            (
                ".osrel",
                b"PRETTY_NAME=\"Arch Linux (UKI)\"\nID=arch\nBUILD_ID=rolling\n",
            ),
            (".cmdline", b"root=UUID=r00t rw"),
            (".uname", b"6.6.1-arch1-1"),
            (".linux", &bzimage("6.6.1-arch1-1")),
        ],
    );
    s.write("boot/EFI/Linux/arch-uki+2-1.efi", &image);
    let mut compared = 0;
    for conf in [
        "timeout 3\n",
        "default arch*\n",
        "default arch.conf\n",
        "default arch-l*\n",
        "default ARCH-LTS.conf\n",
        "default arch-uki.efi\n",
        "default arch-[f]*\n",
    ] {
        s.write("boot/loader/loader.conf", conf);
        let (_, recs) = check(&s, &[]);
        let ours = one(&recs, "default-entry")["entry"]
            .as_str()
            .expect("entry")
            .to_owned();
        let Some(theirs) = bootctl_default(&s.path().join("boot")) else {
            return;
        };
        assert_eq!(ours, theirs, "default for {conf:?}");
        compared += 1;
    }
    assert_eq!(compared, 7);
}

#[test]
#[ignore = "run as root: a private mount namespace needs root"]
fn live_root_partition_type_decides_whether_the_initrd_finds_it() {
    // The running system with a fixture /boot (systemd-boot, no root=),
    // /etc (mkinitcpio with the systemd hook) and udev's record of the
    // device / is on, each over the real one in a private mount namespace.
    require_root!("a private mount namespace needs root");
    if std::env::consts::ARCH != "x86_64" {
        common::skip("the fixture's root partition type is x86-64's");
        return;
    }
    let generator = "/usr/lib/systemd/system-generators/systemd-gpt-auto-generator";
    if !std::path::Path::new(generator).exists() {
        common::skip(&format!(
            "{generator} is not installed here (systemd-boot brings it)"
        ));
        return;
    }
    if !can_unshare_mount() {
        return;
    }
    use std::os::unix::fs::MetadataExt;
    let dev = std::fs::metadata("/").expect("stat /").dev();
    let (major, minor) = (
        ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff),
        (dev & 0xff) | ((dev >> 12) & !0xff),
    );
    let f = Scratch::new("boot-live-gpt");
    f.write("boot/loader/loader.conf", "default arch.conf\n");
    f.write(
        "boot/loader/entries/arch.conf",
        "title Arch Linux\nlinux /vmlinuz-linux\ninitrd /initramfs-linux.img\noptions rw quiet\n",
    );
    f.write("boot/vmlinuz-linux", bzimage("6.6.1-arch1-1"));
    f.write("boot/initramfs-linux.img", "initrd image");
    f.write("etc/os-release", "NAME=\"Arch Linux\"\nID=arch\n");
    f.write(
        "etc/mkinitcpio.conf",
        "HOOKS=(base systemd autodetect modconf block filesystems fsck)\n",
    );
    let run = |part_type: &str| {
        f.write(
            &format!("udev/b{major}:{minor}"),
            format!("E:ID_PART_ENTRY_SCHEME=gpt\nE:ID_PART_ENTRY_TYPE={part_type}\n"),
        );
        let script = "set -e
mount --make-rprivate /
mount --bind \"$FIX/boot\" /boot
mount --bind \"$FIX/etc\" /etc
mount -t tmpfs tmpfs /run
mkdir -p /run/udev
cp -r \"$FIX/udev\" /run/udev/data
exec \"$BC\"";
        let mut cmd = std::process::Command::new("unshare");
        cmd.args(["--mount", "sh", "-c", script])
            .env("FIX", f.path())
            .env("BC", common::bin("boot-check"));
        let r = common::run_cmd(cmd, None);
        assert!(r.code() == 0 || r.code() == 1, "{r}");
        one(&r.records(), "default-entry-root").clone()
    };
    let root = run("4f68bce3-e8cd-4db1-96e7-fbcaf984b709");
    assert_eq!(root["status"], "ok", "{root}");
    says(&root, &["a partition of that type"]);
    // A plain "Linux filesystem" partition: nothing finds it without root=.
    let root = run("0fc63daf-8483-4772-8e79-3d69d8477de4");
    assert_eq!(root["status"], "fail", "{root}");
    says(&root, &["GPT type 0fc63daf-8483-4772-8e79-3d69d8477de4"]);
}
