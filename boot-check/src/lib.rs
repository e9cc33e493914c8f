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
pub mod discover;
pub mod extlinux;
pub mod grub2;
pub mod grubenv;
pub mod kernels;
pub mod legacy;
pub mod model;
pub mod system;
pub mod text;

use checks::{Check, St};

pub fn command() -> Command {
    cli::command(
        "boot-check",
        env!("CARGO_PKG_VERSION"),
        "Check that the boot loader's next boot will work: default entry, kernels, initrds, root=, /boot",
    )
    .arg(cli::root_arg())
    .arg(cli::format_arg())
    .arg(
        Arg::new("strict")
            .long("strict")
            .action(ArgAction::SetTrue)
            .help("Treat warnings as failures: exit 1 when any check warns (a pre-reboot guard for scripts)"),
    )
    .after_help(
        "Examples:\n  boot-check --format text                 read it before typing `reboot`\n  boot-check --strict && reboot            reboot only when nothing is wrong\n  boot-check --root /mnt/sysimage | jq 'select(.status==\"fail\")'   from a rescue shell",
    )
}

pub fn main() -> ExitCode {
    common::run("boot-check", || {
        let m = cli::parse(command())?;
        let root = cli::root_of(&m)?;
        let format = cli::format_of(&m);
        let strict = m.get_flag("strict");
        let mut out = Out::stdout();
        let st = run(root, format, strict, &mut out);
        // The records found so far go out even when the run ends in trouble.
        out.finish()?;
        st
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
    if let Some(t) = outcome.trouble {
        return Err(Error::new(t));
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
    lines.push(format!("ok   {} checks passed", oks.len()));
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
mod tests {
    use super::*;

    #[test]
    fn help_parses() {
        let m = cli::parse_from(command(), ["boot-check", "--strict", "--format", "text"])
            .expect("parse");
        assert!(m.get_flag("strict"));
        command().debug_assert();
    }

    #[test]
    fn verdict_and_text() {
        let ok = Check::new("default-entry", St::Ok, "x", "the default entry is 'x'");
        let warn = Check::new("fallback-kernel", St::Warn, "6.1", "only 1 bootable kernel");
        assert_eq!(verdict(&[ok.clone(), warn.clone()], false), Status::Ok);
        assert_eq!(verdict(&[ok.clone(), warn.clone()], true), Status::Differs);
        let t = render_text(&[ok.clone(), warn.clone()], false);
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
