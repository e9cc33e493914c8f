//! Helpers shared by the end-to-end tests (one test binary, `e2e`, whose
//! modules are the files in tests/): run a built binary (`run`, or the
//! builder `Cmd`), assert on what it did with chained checks
//! (`Cmd::new("snap-diff").args([a, b]).run().expect_code(1).stderr_empty()`),
//! decode its JSON Lines, connect two tools by a real pipe (`pipe`), make
//! scratch directories and fixture trees (`fixtures`), skip what cannot
//! run here (`require_root!`, `require!`).
#![allow(dead_code, unused_macros)]

pub mod fixtures;

/// Skip the test (return from it) unless running as root:
/// `require_root!("chown needs root");`.
macro_rules! require_root {
    ($why:expr) => {
        if !$crate::common::is_root() {
            $crate::common::skip($why);
            return;
        }
    };
}

/// Skip the test (return from it) when `why_not` is `Some(why)`:
/// `skip_if!(fixtures::dpkg::unavailable(true));`.
macro_rules! skip_if {
    ($why_not:expr) => {
        if let Some(why) = $why_not {
            $crate::common::skip(why);
            return;
        }
    };
}

/// Skip the test (return from it) unless `cond` holds:
/// `require!(common::have("setcap"), "setcap (libcap2-bin) is not installed");`.
macro_rules! require {
    ($cond:expr, $why:expr) => {
        if !$cond {
            $crate::common::skip($why);
            return;
        }
    };
}

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// Path of a built tool (`ps-snap`, ...).
pub fn bin(name: &str) -> PathBuf {
    let p = match name {
        "ps-snap" => env!("CARGO_BIN_EXE_ps-snap"),
        "net-snap" => env!("CARGO_BIN_EXE_net-snap"),
        "snap-diff" => env!("CARGO_BIN_EXE_snap-diff"),
        "cfg-backup" => env!("CARGO_BIN_EXE_cfg-backup"),
        "boot-check" => env!("CARGO_BIN_EXE_boot-check"),
        "svc-snap" => env!("CARGO_BIN_EXE_svc-snap"),
        "pkg-snap" => env!("CARGO_BIN_EXE_pkg-snap"),
        "sec-snap" => env!("CARGO_BIN_EXE_sec-snap"),
        "pkg-verify" => env!("CARGO_BIN_EXE_pkg-verify"),
        other => panic!("unknown tool {other}"),
    };
    PathBuf::from(p)
}

/// The finished run of a tool, with everything a failing assertion needs.
pub struct Run {
    pub status: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub cmdline: String,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.status.unwrap_or(-1)
    }

    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// The JSON Lines on stdout, each line one object (panics with context
    /// otherwise: that is a broken contract).
    pub fn records(&self) -> Vec<Value> {
        let text = std::str::from_utf8(&self.stdout)
            .unwrap_or_else(|e| panic!("{}: stdout is not UTF-8: {e}\n{self}", self.cmdline));
        if !text.is_empty() {
            assert!(
                text.ends_with('\n'),
                "stdout must end with a newline\n{self}"
            );
        }
        text.lines()
            .enumerate()
            .map(|(i, l)| {
                let v: Value = serde_json::from_str(l).unwrap_or_else(|e| {
                    panic!("line {} of stdout is not JSON ({e}): {l}\n{self}", i + 1)
                });
                assert!(v.is_object(), "line {} is not an object: {l}", i + 1);
                v
            })
            .collect()
    }

    /// Assert the exit status, printing the whole run when it differs.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.status, Some(code), "unexpected exit status\n{self}");
        self
    }

    /// Exit status 0.
    pub fn success(&self) -> &Self {
        self.expect_code(0)
    }

    pub fn stdout_has(&self, what: &str) -> &Self {
        assert!(
            self.stdout_str().contains(what),
            "stdout lacks {what:?}\n{self}"
        );
        self
    }

    pub fn stdout_lacks(&self, what: &str) -> &Self {
        assert!(
            !self.stdout_str().contains(what),
            "stdout has {what:?}\n{self}"
        );
        self
    }

    pub fn stdout_empty(&self) -> &Self {
        assert!(self.stdout.is_empty(), "stdout is not empty\n{self}");
        self
    }

    pub fn stderr_has(&self, what: &str) -> &Self {
        assert!(self.stderr.contains(what), "stderr lacks {what:?}\n{self}");
        self
    }

    pub fn stderr_empty(&self) -> &Self {
        assert!(self.stderr.is_empty(), "stderr is not empty\n{self}");
        self
    }

    /// The bad-input contract: exactly one stderr line, which names `file`
    /// (and `file:line:` when a line is given) and says `what`.
    pub fn stderr_line_names(&self, file: &str, line: Option<usize>, what: &str) -> &Self {
        assert_eq!(self.stderr.lines().count(), 1, "one stderr line\n{self}");
        let at = match line {
            Some(n) => format!("{file}:{n}:"),
            None => file.to_owned(),
        };
        assert!(
            self.stderr.contains(&at),
            "stderr does not name {at:?}\n{self}"
        );
        assert!(self.stderr.contains(what), "stderr lacks {what:?}\n{self}");
        self
    }

    /// Bad input: exit status 2, nothing on stdout, one stderr line naming
    /// `file` (and `line`) and saying `what`.
    pub fn trouble(&self, file: &str, line: Option<usize>, what: &str) -> &Self {
        self.expect_code(2)
            .stdout_empty()
            .stderr_line_names(file, line, what)
    }

    /// The records of kind `kind`, in output order.
    pub fn of_kind(&self, kind: &str) -> Vec<Value> {
        self.records()
            .into_iter()
            .filter(|r| r["kind"] == kind)
            .collect()
    }

    /// The one record of kind `kind` (panics, showing the run, unless
    /// there is exactly one).
    pub fn one(&self, kind: &str) -> Value {
        let mut v = self.of_kind(kind);
        assert_eq!(v.len(), 1, "expected one {kind:?} record\n{self}");
        v.remove(0)
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let out = self.stdout_str();
        let shown: String = out.chars().take(4000).collect();
        write!(
            f,
            "command: {}\nstatus: {:?}\nstdout:\n{}\nstderr:\n{}",
            self.cmdline, self.status, shown, self.stderr
        )
    }
}

/// Run `tool` with `args`, feeding `stdin` (empty when `None`).
pub fn run<I, S>(tool: &str, args: I, stdin: Option<&[u8]>) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(bin(tool));
    cmd.args(args);
    run_cmd(cmd, stdin)
}

/// A tool's command line, built up and then run:
/// `Cmd::new("ps-snap").root(dir).arg("--deleted").run()`.
pub struct Cmd {
    cmd: Command,
    stdin: Option<Vec<u8>>,
}

impl Cmd {
    pub fn new(tool: &str) -> Cmd {
        Cmd {
            cmd: Command::new(bin(tool)),
            stdin: None,
        }
    }

    /// Another program than the tools (`jq`, `dpkg-query`), found on PATH.
    pub fn program(name: &str) -> Cmd {
        Cmd {
            cmd: Command::new(name),
            stdin: None,
        }
    }

    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Cmd {
        self.cmd.arg(a);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// `--root DIR`.
    pub fn root(self, dir: impl AsRef<Path>) -> Cmd {
        self.arg("--root").arg(dir.as_ref())
    }

    pub fn env(mut self, key: &str, val: impl AsRef<OsStr>) -> Cmd {
        self.cmd.env(key, val);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Cmd {
        self.cmd.env_remove(key);
        self
    }

    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(data.into());
        self
    }

    pub fn run(self) -> Run {
        run_cmd(self.cmd, self.stdin.as_deref())
    }

    /// The prepared `Command`, for what the builder does not cover.
    pub fn command(self) -> Command {
        self.cmd
    }
}

/// `writer | reader` through a real OS pipe: the writer's stdout is the
/// reader's stdin, as a shell connects them. Both runs, the writer's with
/// an empty stdout (the reader consumed it).
pub fn pipe(writer: Cmd, reader: Cmd) -> (Run, Run) {
    let mut w = writer.cmd;
    let mut r = reader.cmd;
    let (wline, rline) = (format!("{w:?}"), format!("{r:?}"));
    let mut wchild = w
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {wline}: {e}"));
    let out = wchild.stdout.take().expect("the writer's stdout");
    let rchild = r
        .stdin(Stdio::from(out))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {rline}: {e}"));
    // The reader first: it ends when the writer closes the pipe.
    let ro = rchild
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for {rline}: {e}"));
    let wo = wchild
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for {wline}: {e}"));
    let cmdline = format!("{wline} | {rline}");
    let as_run = |o: Output, cmdline: String| Run {
        status: o.status.code(),
        stdout: o.stdout,
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        cmdline,
    };
    (as_run(wo, cmdline.clone()), as_run(ro, cmdline))
}

/// True when `tool --version` runs here.
pub fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok()
}

/// Run a command that must succeed; its stdout.
pub fn must(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run a prepared command.
pub fn run_cmd(mut cmd: Command, stdin: Option<&[u8]>) -> Run {
    let cmdline = format!("{cmd:?}");
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmdline}: {e}"));
    if let Some(mut si) = child.stdin.take() {
        if let Some(data) = stdin {
            // A tool may exit before reading all of it; that is its right.
            let _ = si.write_all(data);
        }
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for {cmdline}: {e}"));
    Run {
        status: status.code(),
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        cmdline,
    }
}

/// A scratch directory removed when dropped.
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    pub fn new(label: &str) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "patchday-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create scratch dir");
        Scratch { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write `data` at `rel` (parents created).
    pub fn write(&self, rel: &str, data: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create parent dir");
        }
        std::fs::write(&p, data).expect("write fixture file");
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// True when running as root (some tests need it and skip without).
/// A test that cannot run here says why on stderr and returns; under
/// `PATCHDAY_STRICT=1` (set by `.ci/run`, which installs everything the
/// tests use) it fails instead, so that CI's totals never count a test
/// that did not run as passed.
pub fn skip(why: &str) {
    if std::env::var_os("PATCHDAY_STRICT").is_some_and(|v| v == "1") {
        panic!("cannot run here, and PATCHDAY_STRICT=1 requires it: {why}");
    }
    eprintln!("SKIP: {why}");
}

pub fn is_root() -> bool {
    // The effective uid, from /proc/self/status ("Uid: real effective ...").
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// `ps-snap | head -1`-style check: the tool's stdout closed after the
/// first line; it must end quietly (status 0 or SIGPIPE) with no stderr.
pub fn assert_quiet_on_closed_pipe(tool: &str, args: &[&str]) {
    use std::io::{BufRead, BufReader};
    // The whole output must be more than the pipe can hold, or the tool
    // could finish without ever meeting the closed pipe and the test could
    // not fail.
    let full = Command::new(bin(tool))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("spawn");
    assert!(
        full.stdout.len() >= 4 * PIPE_BYTES,
        "{tool} {args:?} writes only {} bytes: a closed-pipe test needs at least {}",
        full.stdout.len(),
        4 * PIPE_BYTES
    );
    let mut child = Command::new(bin(tool))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        let out = child.stdout.take().expect("stdout");
        // The smallest pipe the kernel allows (one page), so that the tool
        // meets the closed pipe early.
        let _ = nix::fcntl::fcntl(&out, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_BYTES as i32));
        let mut r = BufReader::new(out);
        let mut first = String::new();
        r.read_line(&mut first).expect("read first line");
        assert!(!first.is_empty(), "{tool} printed nothing");
        // Dropping the reader closes the pipe.
    }
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() == Some(0) || out.status.code().is_none(),
        "{tool} on a closed pipe: {:?}, stderr: {stderr}",
        out.status
    );
    assert!(stderr.is_empty(), "{tool} on a closed pipe wrote: {stderr}");
}

/// The pipe size of the closed-pipe test: one page.
const PIPE_BYTES: usize = 4096;

/// The system files a run of `tool --root ROOT ARGS` touched outside
/// `root`, as strace saw them (opens, stats, link reads), plus any netlink
/// socket it opened; `None` when strace cannot run here. What the program
/// loader and the C library read before main (shared libraries, the loader
/// cache, the main thread's /proc/self/maps) is not the tool's doing and is
/// left out.
pub fn host_reads(tool: &str, root: &Path, args: &[&str]) -> Option<Vec<String>> {
    let log = std::env::temp_dir().join(format!("host-reads-{tool}-{}.log", std::process::id()));
    let out = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=%file,socket", "-o"])
        .arg(&log)
        .arg(bin(tool))
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .ok()?;
    let text = std::fs::read_to_string(&log).ok()?;
    let _ = std::fs::remove_file(&log);
    if !out.status.success() || text.is_empty() {
        return None;
    }
    let root = root.to_str().expect("utf-8 root");
    let system = ["/proc", "/sys", "/etc", "/run", "/dev", "/var"];
    let mut bad = Vec::new();
    for l in text.lines() {
        // With several threads strace splits a call in two: the arguments
        // are in the `<unfinished ...>` line, the `<... resumed>` line holds
        // only results (such as a link's target), which are no reads.
        if l.contains(" resumed>") {
            continue;
        }
        if l.contains("AF_NETLINK") {
            bad.push(l.to_owned());
        }
        // The path argument: the first quoted string (a link's target or a
        // stat buffer may follow).
        let Some(path) = l.split('"').nth(1) else {
            continue;
        };
        let loader = path.starts_with("/etc/ld.so.") || path == "/proc/self/maps";
        if !path.starts_with(root) && !loader && system.iter().any(|s| path.starts_with(s)) {
            bad.push(l.to_owned());
        }
    }
    Some(bad)
}

/// Every line a run wrote, read into its kind's record type
/// (`common::records`) and written back, must come out byte for byte the
/// same: the writer and the type agree on every field, non-UTF-8 bytes
/// included. Returns the records, for further checks.
pub fn assert_typed(r: &Run) -> Vec<Value> {
    let text = String::from_utf8_lossy(&r.stdout);
    for (i, l) in text.lines().enumerate() {
        match ::common::records::retype(l) {
            Ok(again) => assert_eq!(again, l, "line {} changed through its type\n{r}", i + 1),
            Err(e) => panic!("line {} does not fit its type ({e}): {l}\n{r}", i + 1),
        }
    }
    r.records()
}
