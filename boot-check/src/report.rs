//! The report: `check` records (JSON Lines), or the text a person reads
//! before typing `reboot`, and the exit status they add up to.

use std::io::Write;

use common::cli::Format;
use common::diag::plural;
use common::{Out, Result, Status};

use crate::checks::{Check, St};

/// Write the checks in `format`: one record each, or the text report.
pub(crate) fn write<W: Write>(
    checks: &[Check],
    host: &Option<String>,
    format: Format,
    strict: bool,
    out: &mut Out<W>,
) -> Result<()> {
    match format {
        Format::Json => {
            for c in checks {
                out.serialize(&c.record(host))?;
            }
        }
        Format::Text => {
            for l in render_text(checks, strict) {
                out.line(&l)?;
            }
        }
    }
    Ok(())
}

/// Exit 1 when a check failed (or warned, with `--strict`).
pub(crate) fn verdict(checks: &[Check], strict: bool) -> Status {
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
pub(crate) fn render_text(checks: &[Check], strict: bool) -> Vec<String> {
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
    lines.push(format!(
        "ok   {} passed",
        plural(oks.len(), "check", "checks")
    ));
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
            plural(fails.len(), "check", "checks"),
            fails.join(", ")
        )
    } else if strict && !warns.is_empty() {
        format!(
            "DO NOT REBOOT (--strict): {} ({})",
            plural(warns.len(), "warning", "warnings"),
            warns.join(", ")
        )
    } else if nothing {
        "nothing to check: this system does not boot from its own /boot".to_owned()
    } else if !warns.is_empty() {
        format!(
            "safe to reboot, but read the {} above ({})",
            plural(warns.len(), "warning", "warnings"),
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

#[cfg(test)]
mod tests {
    use super::*;

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
