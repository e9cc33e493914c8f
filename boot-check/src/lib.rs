//! boot-check: will this machine come back after the reboot?
//!
//! It reads the boot configuration the way the boot loader will (GRUB 2 with
//! BLS, GRUB legacy, extlinux, systemd-boot), resolves the entry that boots
//! next, and checks every file it names, the installed kernels, the running
//! kernel and the room left in /boot. Each finding is a `check` record; the
//! exit status says whether anything failed. It never writes anything.

use std::process::ExitCode;

use clap::{Arg, ArgAction, Command};
use common::cli::{self, Format};
use common::{Error, Out, Result, Root, Status};

pub mod bls;
pub mod checks;
pub mod config_text;
pub mod discover;
pub mod discovery;
pub mod extlinux;
pub mod grub2;
pub mod grub_legacy;
pub mod grubenv;
pub mod kernels;
pub mod model;
pub mod system;
pub mod uki;

use checks::{Check, St};

pub fn command() -> Command {
    cli::command(
        "boot-check",
        env!("CARGO_PKG_VERSION"),
        "Check that the boot loader's next boot will work: default entry, kernels, initrds, root=, /boot",
    )
    .arg(cli::root_arg().help(
        "Check the system mounted under DIR (a rescue shell's /mnt/sysimage) instead of the running one; nothing of the live system is read, so the running-kernel checks are skipped and say so",
    ))
    .arg(cli::format_arg().help(
        "Write one JSON `check` record per line (json), or a short report ending in a verdict such as \"safe to reboot\" or \"DO NOT REBOOT\" (text)",
    ))
    .arg(
        Arg::new("strict")
            .long("strict")
            .action(ArgAction::SetTrue)
            .help("Treat warnings as failures: exit 1 when any check warns (a pre-reboot guard for scripts)"),
    )
    .after_help(
        "Boot loaders: GRUB 2 (with BLS entries), GRUB legacy, extlinux/syslinux, systemd-boot.\nIt never writes anything.\n\nExit status: 0 no check failed, 1 a check failed (or warned, with --strict),\n2 it could not run (bad arguments, a configuration this user may not read).\n\nExamples:\n  boot-check --format text                 read it before typing `reboot`\n  boot-check --strict >/dev/null && reboot reboot only when nothing is wrong\n  boot-check --root /mnt/sysimage | jq 'select(.status==\"fail\")'   from a rescue shell",
    )
}

pub fn main() -> ExitCode {
    common::run("boot-check", || {
        let m = cli::parse(command())?;
        let root = cli::root_of(&m)?;
        let format = cli::format_of(&m);
        let strict = m.get_flag("strict");
        let mut out = Out::stdout();
        let st = run(root, format, strict, &mut out)?;
        out.finish()?;
        Ok(st)
    })
}

/// Run the checks and write them; the exit status.
pub fn run<W: std::io::Write>(
    root: Root,
    format: Format,
    strict: bool,
    out: &mut Out<W>,
) -> Result<Status> {
    let host = root.hostname();
    let sys = system::Sys::new(root);
    let outcome = checks::run(&sys);
    // Trouble (a configuration this user may not read) means the checks are
    // not a result: write none of them, so no partial report reads as one.
    if let Some(t) = outcome.trouble {
        return Err(Error::new(t));
    }
    match format {
        Format::Json => {
            for c in &outcome.checks {
                out.record(&c.to_json(&host))?;
            }
        }
        Format::Text => {
            for l in render_text(&outcome.checks, strict) {
                out.line(&l)?;
            }
        }
    }
    Ok(verdict(&outcome.checks, strict))
}

/// Exit 1 when a check failed (or warned, with `--strict`).
pub fn verdict(checks: &[Check], strict: bool) -> Status {
    let bad = checks
        .iter()
        .any(|c| c.status == St::Fail || strict && c.status == St::Warn);
    if bad {
        Status::Differs
    } else {
        Status::Ok
    }
}

/// The report a person reads before typing `reboot`: problems first as
/// `FAIL id  subject: message`, the ok checks summed up in one line, then
/// the verdict.
pub fn render_text(checks: &[Check], strict: bool) -> Vec<String> {
    let mut lines = Vec::new();
    let mut sorted: Vec<&Check> = checks.iter().filter(|c| c.status != St::Ok).collect();
    sorted.sort_by_key(|c| std::cmp::Reverse(c.status));
    for c in &sorted {
        let tag = match c.status {
            St::Fail => "FAIL",
            St::Warn => "WARN",
            St::Skip => "skip",
            St::Ok => "ok  ",
        };
        lines.push(format!(
            "{tag} {:<22} {}: {}",
            c.id,
            common::bytes::display(c.subject.as_bytes()),
            common::bytes::display(c.message.as_bytes())
        ));
    }
    let oks: Vec<&Check> = checks.iter().filter(|c| c.status == St::Ok).collect();
    if let Some(d) = checks
        .iter()
        .find(|c| c.id == "default-entry" && c.status == St::Ok)
    {
        lines.push(format!("ok   {:<22} {}", d.id, d.message));
    }
    if let Some(n) = checks
        .iter()
        .find(|c| c.id == "next-entry" && c.status == St::Ok)
    {
        lines.push(format!("ok   {:<22} {}", n.id, n.message));
    }
    if let Some(r) = checks
        .iter()
        .find(|c| c.id == "reboot-pending" && c.status == St::Ok)
    {
        lines.push(format!("ok   {:<22} {}", r.id, r.message));
    }
    lines.push(format!("ok   {} passed", plural(oks.len(), "check")));
    let fails: Vec<&str> = dedup(checks.iter().filter(|c| c.status == St::Fail).map(|c| c.id));
    let warns: Vec<&str> = dedup(checks.iter().filter(|c| c.status == St::Warn).map(|c| c.id));
    let nothing = checks
        .iter()
        .any(|c| c.id == "config-found" && c.status == St::Skip && c.loader.is_none())
        && !checks
            .iter()
            .any(|c| c.id == "config-found" && c.status != St::Skip);
    let verdict = if !fails.is_empty() {
        format!(
            "DO NOT REBOOT: {} failed ({})",
            plural(fails.len(), "check"),
            fails.join(", ")
        )
    } else if strict && !warns.is_empty() {
        format!(
            "DO NOT REBOOT (--strict): {} ({})",
            plural(warns.len(), "warning"),
            warns.join(", ")
        )
    } else if nothing {
        "nothing to check: this system does not boot from its own /boot".to_owned()
    } else if !warns.is_empty() {
        format!(
            "safe to reboot, but read the {} above ({})",
            plural(warns.len(), "warning"),
            warns.join(", ")
        )
    } else {
        "safe to reboot".to_owned()
    };
    lines.push(verdict);
    lines
}

fn dedup<'a>(it: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut v: Vec<&str> = Vec::new();
    for x in it {
        if !v.contains(&x) {
            v.push(x);
        }
    }
    v
}

fn plural(n: usize, w: &str) -> String {
    if n == 1 {
        format!("1 {w}")
    } else {
        format!("{n} {w}s")
    }
}

#[cfg(test)]
mod fuzz {
    //! Every parser on random bytes (all 256 values) and on every prefix of
    //! a real file: records or problems, never a panic; and the menu of what
    //! was read answers any default spec.

    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use crate::model::Config;
    use crate::{bls, config_text, extlinux, grub2, grub_legacy, grubenv, system};

    fn rand_bytes(seed: &mut u64, n: usize, alphabet: Option<&[u8]>) -> Vec<u8> {
        (0..n)
            .map(|_| {
                *seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let r = (*seed >> 33) as usize;
                match alphabet {
                    Some(a) => a[r % a.len()],
                    None => r as u8,
                }
            })
            .collect()
    }

    fn exercise(c: &Config, seed: &mut u64) {
        let specs = [
            "0",
            "1",
            "1>0",
            "2>1>0",
            "x>y",
            ">",
            ">>",
            "",
            "*",
            "?",
            "99999999999999999999",
        ];
        for sp in specs {
            let _ = c.resolve(Some(sp));
            let _ = c.effective(Some(sp));
            let _ = c.submenu_named(sp);
            let _ = c.nested_match(sp);
        }
        let _ = c.resolve(c.default.spec.as_deref());
        let _ = c.effective(c.default.spec.as_deref());
        for i in 0..c.entries.len() {
            if let Some(sp) = c.spec_of(i) {
                assert!(c.effective(Some(&sp)).is_some(), "{sp}");
            }
        }
        let junk = String::from_utf8_lossy(&rand_bytes(seed, 12, Some(b"0>1ab*?"))).into_owned();
        let _ = c.effective(Some(&junk));
    }

    fn all_parsers(src: &[u8], seed: &mut u64) {
        let (text, _) = config_text::decode(src);
        let env: BTreeMap<String, String> = [("saved_entry", "1>1"), ("kernelopts", "root=x")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let (bls_entry, _) = bls::parse_entry(&text, Path::new("/e.conf"), "e.conf");
        let c = grub2::parse(
            &text,
            Path::new("/boot/grub/grub.cfg"),
            grub2::Inputs {
                env: &env,
                env_file: PathBuf::from("/boot/grub/grubenv"),
                bls: vec![bls_entry.entry],
                grub_default: grub2::grub_default(&text),
                // Every sourced file is this one again, under its own name.
                include: &|p| Some((PathBuf::from(p), text.clone())),
            },
        );
        exercise(&c, seed);
        exercise(
            &extlinux::parse(&text, Path::new("/boot/extlinux.conf")),
            seed,
        );
        exercise(
            &grub_legacy::parse(&text, Path::new("/boot/grub/grub.conf"), Some(text.clone())),
            seed,
        );
        let _ = bls::parse_loader_conf(&text);
        let _ = grubenv::parse(src);
        let _ = system::parse_fstab(&text);
        let _ = crate::discover::decode_efi_string(src);
        let _ = crate::kernels::version_of_name(&text);
        let _ = crate::kernels::initrd_version(&text);
        let _ = crate::kernels::bzimage_release(src);
        let _ = crate::uki::sections(src);
        let _ = bls::strverscmp(&text, "6.1-1");
        let _ = crate::kernels::vercmp(&text, "6.1-1");
    }

    const SAMPLES: [&str; 5] = [
        "set default=\"${saved_entry}\"\nif [ -n \"${a}\" -a \"$b\" = 0 ]; then\n set default=1\nelif [ x ]; then\nelse\nfi\nsubmenu 'S' $menuentry_id_option 's' {\n menuentry 'E' --id e {\n  search --no-floppy --fs-uuid --set=root U\n  linux /vmlinuz-1 root=/dev/x $kernelopts\n  initrd /i /j\n }\n}\nblscfg\n",
        "title T\nversion 1.2\nlinux /vmlinuz-1.2\ninitrd /i $tuned_initrd\noptions root=/dev/sda1 $x\nsort-key a\n",
        "DEFAULT lts\nLABEL lts\n  MENU LABEL Linux lts\n  MENU DEFAULT\n  LINUX vmlinuz-lts\n  INITRD a,initramfs-lts\n  APPEND initrd=x root=UUID=u\n",
        "default=0\nfallback=1\nhiddenmenu\nsplashimage=(hd0,0)/grub/splash.xpm.gz\ntitle C (2.6)\n\troot (hd0,0)\n\tkernel /vmlinuz-2.6 ro root=/dev/x\n\tinitrd /initramfs-2.6.img\n",
        "UUID=a / ext4 defaults 0 1\nLABEL=boot /boot/ ext4 defaults 0 2\n/dev/sdb1 /boot/efi vfat umask=0077 0 1\nGRUB_DEFAULT=\"1>2\" # x\n",
    ];

    #[test]
    fn truncated_files_never_panic() {
        let mut seed = 1;
        for s in SAMPLES {
            for cut in 0..=s.len() {
                all_parsers(&s.as_bytes()[..cut], &mut seed);
            }
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut seed = 42;
        for n in 0..400 {
            let len = (n * 7) % 300;
            let b = rand_bytes(&mut seed, len, None);
            all_parsers(&b, &mut seed);
            let b = rand_bytes(&mut seed, len, Some(b"{}[]$\"'\\;\n #=>-0129abxyz\tmenuentry submenu if fi linux initrd LABEL title default"));
            all_parsers(&b, &mut seed);
            // Damage a real file in a few places.
            let mut b = SAMPLES[n % SAMPLES.len()].as_bytes().to_vec();
            for _ in 0..(n % 5) {
                let r = rand_bytes(&mut seed, 2, None);
                if !b.is_empty() {
                    let i = r[0] as usize % b.len();
                    b[i] = r[1];
                }
            }
            all_parsers(&b, &mut seed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_parses() {
        let m = cli::parse_from(command(), ["boot-check", "--strict", "--format", "text"])
            .expect("parse");
        assert!(m.get_flag("strict"));
        command().debug_assert();
        let help = command().render_long_help().to_string();
        for w in [
            "--root",
            "--format",
            "--strict",
            "Exit status",
            "running-kernel checks are skipped",
            "never writes",
        ] {
            assert!(help.contains(w), "{w} missing from --help:\n{help}");
        }
    }

    #[test]
    fn verdict_and_text() {
        let ok = Check::new("default-entry", St::Ok, "x", "the default entry is 'x'");
        let warn = Check::new("fallback-kernel", St::Warn, "6.1", "only 1 bootable kernel");
        assert_eq!(verdict(&[ok.clone(), warn.clone()], false), Status::Ok);
        assert_eq!(verdict(&[ok.clone(), warn.clone()], true), Status::Differs);
        let t = render_text(&[ok.clone(), warn.clone()], false);
        assert!(t.contains(&"ok   1 check passed".to_owned()), "{t:?}");
        assert!(t
            .last()
            .expect("verdict")
            .starts_with("safe to reboot, but"));
        let fail = Check::new(
            "default-entry-kernel",
            St::Fail,
            "Debian",
            "/boot/vmlinuz-6.1 is missing",
        );
        let t = render_text(&[ok, warn, fail], false);
        assert!(t[0].starts_with("FAIL default-entry-kernel"), "{t:?}");
        assert_eq!(
            t.last().map(String::as_str),
            Some("DO NOT REBOOT: 1 check failed (default-entry-kernel)")
        );
    }
}
