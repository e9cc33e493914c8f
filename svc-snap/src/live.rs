//! What runs now: the active and sub state of every loaded unit, asked of
//! systemd itself the supported way (`systemctl list-units --all
//! --output=json`), and only when systemd is the running init. Nothing is
//! guessed from /run.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

/// Active and sub state by unit name.
pub type States = HashMap<String, (Option<String>, Option<String>)>;

/// True when the running system was booted by systemd: `sd_booted()`'s
/// test, /run/systemd/system/ is a directory.
pub fn booted_with_systemd() -> bool {
    std::fs::symlink_metadata(Path::new("/run/systemd/system")).is_ok_and(|m| m.is_dir())
}

/// Ask the running systemd. `Err` is the one line to say on stderr.
pub fn query() -> Result<States, String> {
    let out = Command::new("systemctl")
        .args([
            "list-units",
            "--all",
            "--output=json",
            "--no-pager",
            "--full",
            "--plain",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run systemctl for the active state: {e}"))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "systemctl list-units failed ({}); active and sub are null",
            msg.lines().next().unwrap_or("no message").trim()
        ));
    }
    parse(&out.stdout)
}

/// The JSON array `systemctl list-units --output=json` prints.
pub fn parse(json: &[u8]) -> Result<States, String> {
    let v: Value = serde_json::from_slice(json).map_err(|e| {
        format!("systemctl list-units printed no JSON ({e}); active and sub are null")
    })?;
    let Some(list) = v.as_array() else {
        return Err(
            "systemctl list-units printed no JSON array; active and sub are null".to_owned(),
        );
    };
    let s = |x: &Value, k: &str| x.get(k).and_then(Value::as_str).map(str::to_owned);
    Ok(list
        .iter()
        .filter_map(|u| Some((s(u, "unit")?, (s(u, "active"), s(u, "sub")))))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_units_json_is_read_by_unit() {
        let json = br#"[{"unit":"ssh.service","load":"loaded","active":"active","sub":"running","description":"OpenBSD Secure Shell server"},
            {"unit":"foo.timer","load":"loaded","active":"inactive","sub":"dead","description":"x"}]"#;
        let m = parse(json).expect("parse");
        assert_eq!(
            m.get("ssh.service"),
            Some(&(Some("active".to_owned()), Some("running".to_owned())))
        );
        assert_eq!(m.len(), 2);
        assert!(parse(b"not json").is_err());
    }
}
