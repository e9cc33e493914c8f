//! A tool whose stderr is a closed pipe (`tool 2>&1 | head -0` and the
//! like) still exits with its own status: a diagnostic it cannot write is
//! dropped, never a panic (exit 101).

use crate::common;

use std::process::{Command, Stdio};

/// Run `tool ARGS` with stderr a pipe whose reader is already gone.
fn status_with_closed_stderr(tool: &str, args: &[&str]) -> Option<i32> {
    let mut child = Command::new(common::bin(tool))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stderr.take());
    child.wait().expect("wait").code()
}

#[test]
fn trouble_with_a_closed_stderr_is_still_exit_2() {
    for tool in [
        "snap-diff",
        "ps-snap",
        "net-snap",
        "boot-check",
        "cfg-backup",
    ] {
        let args: &[&str] = match tool {
            "snap-diff" => &["/nonexistent/before.json", "/nonexistent/after.json"],
            "cfg-backup" => &["--store", "/etc/hostname", "list"],
            _ => &["--root", "/nonexistent/root"],
        };
        assert_eq!(status_with_closed_stderr(tool, args), Some(2), "{tool}");
    }
}

#[test]
fn a_warning_on_a_closed_stderr_is_dropped() {
    // BEFORE has a kind AFTER lacks: snap-diff says so on stderr and
    // compares the rest, which is unchanged (exit 0).
    let s = common::Scratch::new("closed-stderr");
    let unit = r#"{"kind":"unit","host":"h","name":"ssh.service","state":"enabled"}"#;
    let pkg = r#"{"kind":"package","host":"h","manager":"dpkg","name":"a","arch":"all"}"#;
    let b = s.write("before.json", format!("{unit}\n{pkg}\n"));
    let a = s.write("after.json", format!("{unit}\n"));
    let args = [b.to_str().expect("utf8"), a.to_str().expect("utf8")];
    let open = common::run("snap-diff", args, None);
    open.expect_code(0).stderr_has("package");
    assert_eq!(status_with_closed_stderr("snap-diff", &args), Some(0));
}
