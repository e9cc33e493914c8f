//! Many servers: the Ansible playbook in contrib/ansible run with real
//! ansible-core against several inventory hosts on this machine
//! (`ansible_connection=local`), whose patch steps really change the system;
//! snapshots of several hosts concatenated and diffed host by host; and the
//! pieces that make the tools installable (completions, `--version`, the
//! package's version, the Makefile's TOOLS list).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Makefile's TOOLS list: the one place a tool is named for install.
fn tools() -> Vec<String> {
    let make = std::fs::read_to_string(repo().join("Makefile")).expect("read Makefile");
    let line = make
        .lines()
        .find_map(|l| l.strip_prefix("TOOLS = "))
        .expect("TOOLS = ... in the Makefile");
    line.split_whitespace().map(str::to_owned).collect()
}

/// The directory of the built tools (target/debug or target/release).
fn bin_dir() -> PathBuf {
    common::bin("ps-snap")
        .parent()
        .expect("bin dir")
        .to_path_buf()
}

fn jsonl(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{}:{}: not JSON ({e}): {l}", path.display(), i + 1))
        })
        .collect()
}

fn argv(rec: &Value) -> Vec<String> {
    rec["cmdline"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn has_program(name: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {name} >/dev/null")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------
// Installable: TOOLS, completions, --version, the package version.

#[test]
fn every_tool_in_the_makefile_has_a_binary_a_man_page_and_completions() {
    let tools = tools();
    assert!(tools.len() >= 5, "{tools:?}");
    let work = common::Scratch::new("completions");
    let out = work.path().join("c");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_patchday-completions"));
    cmd.arg(&out).args(&tools);
    common::run_cmd(cmd, None).expect_code(0);
    for t in &tools {
        assert!(
            repo().join(format!("src/bin/{t}.rs")).is_file(),
            "{t}: no src/bin/{t}.rs"
        );
        assert!(
            repo().join(format!("man/{t}.1")).is_file(),
            "{t}: no man page"
        );
        for f in [
            format!("bash/{t}"),
            format!("zsh/_{t}"),
            format!("fish/{t}.fish"),
        ] {
            let text = std::fs::read_to_string(out.join(&f))
                .unwrap_or_else(|e| panic!("{t}: no completion {f}: {e}"));
            assert!(text.contains(t.as_str()), "{f} does not name {t}");
        }
    }
    // A name that is not registered is refused, naming where to add it.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_patchday-completions"));
    cmd.arg(&out).arg("no-such-tool");
    let run = common::run_cmd(cmd, None);
    run.expect_code(2);
    assert!(run.stderr.contains("no-such-tool"), "{run}");
}

/// What bash offers after `words` (the last one being completed), with the
/// completion file as bash-completion would load it.
fn bash_complete(file: &Path, tool: &str, words: &[&str]) -> Vec<String> {
    let script = format!(
        r#"source "$1"
f=$(complete -p {tool} | sed -E 's/.* -F ([^ ]+) .*/\1/')
COMP_WORDS=("${{@:2}}")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
"$f" {tool} "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg("bash")
        .arg(file)
        .args(words)
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_subcommands_and_options_from_the_clap_definitions() {
    let work = common::Scratch::new("bash-completion");
    let out = work.path().join("c");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_patchday-completions"));
    cmd.arg(&out).args(["cfg-backup", "ps-snap"]);
    common::run_cmd(cmd, None).expect_code(0);
    let cfg = out.join("bash/cfg-backup");
    assert_eq!(
        bash_complete(&cfg, "cfg-backup", &["cfg-backup", "re"]),
        ["restore"]
    );
    let save = bash_complete(&cfg, "cfg-backup", &["cfg-backup", "save", "--"]);
    for o in [
        "--package",
        "--label",
        "--keep-going",
        "--store",
        "--format",
    ] {
        assert!(save.iter().any(|w| w == o), "no {o} in {save:?}");
    }
    let fmt = bash_complete(&cfg, "cfg-backup", &["cfg-backup", "--format", ""]);
    assert_eq!(fmt, ["json", "text"]);
    let ps = bash_complete(&out.join("bash/ps-snap"), "ps-snap", &["ps-snap", "--ver"]);
    assert_eq!(ps, ["--version"]);
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    // In a git checkout the build recorded HEAD (cargo rebuilds when it
    // moves); elsewhere (a tarball) it says "unknown".
    let head = Command::new("git")
        .arg("-C")
        .arg(repo())
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success() && repo().join(".git").exists())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    let commit = head.unwrap_or_else(|| "unknown".to_owned());
    for t in [
        "ps-snap",
        "net-snap",
        "snap-diff",
        "cfg-backup",
        "boot-check",
    ] {
        let run = common::run(t, ["--version"], None);
        run.expect_code(0);
        assert_eq!(
            run.stdout_str(),
            format!("{t} {} (commit {commit})\n", env!("CARGO_PKG_VERSION")),
            "{run}"
        );
    }
}

#[test]
fn the_package_version_is_the_workspace_version() {
    let changelog =
        std::fs::read_to_string(repo().join("debian/changelog")).expect("read debian/changelog");
    let first = changelog.lines().next().unwrap_or("");
    assert!(
        first.starts_with(&format!("patchday ({}) ", env!("CARGO_PKG_VERSION"))),
        "debian/changelog's first entry is {first:?}: add an entry for {}",
        env!("CARGO_PKG_VERSION")
    );
}

// ---------------------------------------------------------------------------
// Concatenated snapshots of several hosts, diffed host by host.

/// `ps-snap` run as host NAME: in a UTS namespace of its own whose node name
/// is NAME (what `host` records), writing DIR/NAME/PHASE/ps.json.
fn snap_as(snaps: &Path, host: &str, phase: &str) {
    let dir = snaps.join(host).join(phase);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let out = std::fs::File::create(dir.join("ps.json")).expect("create ps.json");
    let st = Command::new("unshare")
        .args([
            "--uts",
            "sh",
            "-c",
            "hostname \"$1\" && exec \"$2\" --no-maps",
        ])
        .arg("sh")
        .arg(host)
        .arg(common::bin("ps-snap"))
        .stdout(out)
        .status()
        .expect("run unshare");
    assert!(st.success(), "ps-snap as {host}: {st}");
}

/// A `sleep` with an argv of its own, bounded, started by this test.
struct Sleeper(std::process::Child);

impl Sleeper {
    fn start(marker: &str) -> Self {
        let child = Command::new("timeout")
            .args(["120", "sleep", marker])
            .spawn()
            .expect("start sleep");
        // Wait until timeout has exec'd sleep, so the snapshot sees it.
        let pid = child.id();
        for _ in 0..200 {
            let kids = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
                .unwrap_or_default();
            if !kids.trim().is_empty() {
                let k = kids.split_whitespace().next().unwrap_or("");
                if std::fs::read_to_string(format!("/proc/{k}/comm"))
                    .map(|c| c.trim() == "sleep")
                    .unwrap_or(false)
                {
                    break;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Sleeper(child)
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        // timeout passes SIGTERM on to sleep.
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

#[test]
fn concatenated_snapshots_of_several_hosts_diff_host_by_host() {
    if !common::is_root() {
        eprintln!("SKIP: naming hosts with unshare --uts needs root");
        return;
    }
    if !Command::new("unshare")
        .args(["--uts", "true"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
    {
        eprintln!("SKIP: unshare --uts is not available here");
        return;
    }
    let work = common::Scratch::new("fleet-concat");
    let snaps = work.path().join("snaps");
    let marker = format!("{}.{}", 86_000 + std::process::id() % 1000, 417);
    // web2 takes its before snapshot without the process; web1 with it.
    // Then the process stops (web1's after lacks it) and one with the same
    // argv starts (web2's after has it). Paired across hosts, web1's old
    // record and web2's new one would read as a restart or as no change;
    // host by host they are a removal on web1 and an addition on web2.
    snap_as(&snaps, "web2", "before");
    let first = Sleeper::start(&marker);
    snap_as(&snaps, "web1", "before");
    snap_as(&snaps, "db1", "before");
    drop(first);
    snap_as(&snaps, "web1", "after");
    let second = Sleeper::start(&marker);
    snap_as(&snaps, "web2", "after");
    snap_as(&snaps, "db1", "after");
    drop(second);

    // Exactly what an admin types on the control node.
    let mut cmd = Command::new("sh");
    cmd.current_dir(work.path())
        .arg("-c")
        .arg("cat snaps/*/before/ps.json > before.json && cat snaps/*/after/ps.json > after.json && exec \"$0\" before.json after.json")
        .arg(common::bin("snap-diff"));
    let run = common::run_cmd(cmd, None);
    assert!(run.code() <= 1, "{run}");
    let changes = run.records();

    // Every change is about one host: its key, before and after agree.
    for c in &changes {
        if c["op"] == "reboot" {
            continue;
        }
        let host = &c["key"]["host"];
        assert!(host.is_string(), "change without host: {c}");
        for side in ["before", "after"] {
            if !c[side].is_null() {
                assert_eq!(&c[side]["host"], host, "paired across hosts: {c}");
            }
        }
    }
    let ours: BTreeSet<(String, String)> = changes
        .iter()
        .filter(|c| {
            let rec = if c["after"].is_null() {
                &c["before"]
            } else {
                &c["after"]
            };
            argv(rec) == ["sleep", marker.as_str()]
        })
        .map(|c| {
            (
                c["key"]["host"].as_str().unwrap_or("?").to_owned(),
                c["op"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    // db1 saw one instance before and the other after: the same identity
    // with another instance, a restart, on db1 alone.
    let want: BTreeSet<(String, String)> = [
        ("db1".to_owned(), "restarted".to_owned()),
        ("web1".to_owned(), "removed".to_owned()),
        ("web2".to_owned(), "added".to_owned()),
    ]
    .into();
    assert_eq!(ours, want, "{run}");
}
