//! Many servers: the Ansible playbook in contrib/ansible run with real
//! ansible-core against several inventory hosts on this machine
//! (`ansible_connection=local`), whose patch steps really change the system;
//! snapshots of several hosts concatenated and diffed host by host; and the
//! pieces that make the tools installable (completions, `--version`, the
//! package's version, the Makefile's TOOLS list).

use crate::common;

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
    run.expect_code(2).stderr_has("no-such-tool");
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
    for t in tools() {
        let mut cmd = Command::new(bin_dir().join(&t));
        cmd.arg("--version");
        let run = common::run_cmd(cmd, None);
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
#[ignore = "run as root: naming hosts with unshare --uts needs root"]
fn concatenated_snapshots_of_several_hosts_diff_host_by_host() {
    require_root!("naming hosts with unshare --uts needs root");
    if !Command::new("unshare")
        .args(["--uts", "true"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
    {
        common::skip("unshare --uts is not available here");
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

// ---------------------------------------------------------------------------
// The playbook, with real ansible-core, on several hosts of this machine.

/// What the test installed and started, removed and stopped when it ends
/// (each started process is also bounded by `timeout`).
struct Cleanup {
    pid_files: Vec<PathBuf>,
    package: &'static str,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for f in &self.pid_files {
            if let Ok(pid) = std::fs::read_to_string(f) {
                let pid = pid.trim();
                if !pid.is_empty() && pid.chars().all(|c| c.is_ascii_digit()) {
                    // The pid of `timeout`, which passes SIGTERM to its child.
                    let _ = Command::new("kill").arg(pid).output();
                }
            }
        }
        let _ = Command::new("dpkg")
            .args(["--purge", self.package])
            .output();
    }
}

/// A small package built with dpkg-deb: one configuration file in /etc.
fn probe_deb(dir: &Path, name: &str) -> PathBuf {
    let root = dir.join("probe-root");
    std::fs::create_dir_all(root.join("DEBIAN")).expect("mkdir DEBIAN");
    std::fs::create_dir_all(root.join("etc")).expect("mkdir etc");
    std::fs::write(
        root.join("DEBIAN/control"),
        format!(
            "Package: {name}\nVersion: 1.0-1\nArchitecture: all\nMaintainer: patchday tests <tests@example.invalid>\nDescription: installed by the patch step of the fleet test\n"
        ),
    )
    .expect("write control");
    std::fs::write(root.join("DEBIAN/conffiles"), format!("/etc/{name}.conf\n"))
        .expect("write conffiles");
    std::fs::write(root.join(format!("etc/{name}.conf")), "probe = 1\n").expect("write conf");
    let deb = dir.join(format!("{name}_1.0-1_all.deb"));
    let out = Command::new("dpkg-deb")
        .args(["--root-owner-group", "--build"])
        .arg(&root)
        .arg(&deb)
        .output()
        .expect("run dpkg-deb");
    assert!(
        out.status.success(),
        "dpkg-deb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    deb
}

fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

#[test]
#[ignore = "run as root: the patch step installs a package: needs root"]
fn ansible_playbook_takes_fetches_and_diffs_snapshots_per_host() {
    if !has_program("ansible-playbook") {
        common::skip("ansible-playbook is not installed (.ci/run installs ansible-core)");
        return;
    }
    require_root!("the patch step installs a package: needs root");
    for p in ["dpkg-deb", "python3", "timeout"] {
        if !has_program(p) {
            common::skip(&format!("{p} is not installed"));
            return;
        }
    }
    let work = common::Scratch::new("fleet-ansible");
    let w = work.path();
    let package = "patchday-fleet-probe";
    let _ = Command::new("dpkg").args(["--purge", package]).output();
    let deb = probe_deb(w, package);
    let cleanup = Cleanup {
        pid_files: vec![w.join("sleep.pid"), w.join("listener.pid")],
        package,
    };
    let conf_dir = w.join("etc");
    std::fs::create_dir_all(&conf_dir).expect("mkdir etc");
    std::fs::write(conf_dir.join("app.conf"), "mode = old\n").expect("write conf");
    let marker = format!("{}.25", 87_000 + std::process::id() % 1000);

    // Four hosts, each its own working directory and backup store, each
    // with a patch step of its own. web1 changes a config file and starts a
    // process, web2 opens a listener on 127.0.0.1, db1 installs a package,
    // and bad1's patch step fails: the play must still take and fetch its
    // after snapshots and mark it failed.
    let sleep_cmd = format!(
        "echo 'mode = new' > {conf}; timeout 120 sleep {marker} </dev/null >/dev/null 2>&1 & echo $! > {pid}",
        conf = quote(&conf_dir.join("app.conf")),
        pid = quote(&w.join("sleep.pid")),
    );
    let listen_cmd = format!(
        "timeout 120 python3 -c 'import socket,sys,time; s=socket.socket(); s.bind((\"127.0.0.1\",0)); s.listen(); open(sys.argv[1],\"w\").write(str(s.getsockname()[1])); time.sleep(115)' {port} </dev/null >/dev/null 2>&1 & echo $! > {pid}; for i in $(seq 100); do [ -s {port} ] && break; sleep 0.1; done",
        port = quote(&w.join("port")),
        pid = quote(&w.join("listener.pid")),
    );
    let deb_cmd = format!("dpkg -i {}", quote(&deb));
    let hosts = [
        ("web1", sleep_cmd),
        ("web2", listen_cmd),
        ("db1", deb_cmd),
        ("bad1", "echo 'mirror unreachable' >&2; exit 3".to_owned()),
    ];
    let mut inv = String::from("[fleet]\n");
    for (h, cmd) in &hosts {
        inv.push_str(&format!(
            "{h} patchday_workdir={} patchday_cfg_store={} patch_command={}\n",
            w.join("remote").join(h).display(),
            w.join("store").join(h).display(),
            serde_json::Value::String(cmd.clone()),
        ));
    }
    // broken1's backup store cannot be created (cfg-backup exits 2): the
    // host fails before its patch step, which must not run.
    inv.push_str(&format!(
        "broken1 patchday_workdir={} patchday_cfg_store=/proc/version/store patch_command=\"touch {}\"\n",
        w.join("remote/broken1").display(),
        w.join("broken1-patched").display(),
    ));
    let cfg_paths = serde_json::json!([conf_dir, format!("/etc/{package}.conf")]);
    inv.push_str(&format!(
        "[fleet:vars]\nansible_connection=local\nansible_python_interpreter=auto_silent\npatchday_cfg_paths={cfg_paths}\n"
    ));
    std::fs::write(w.join("hosts"), &inv).expect("write inventory");

    let mut cmd = Command::new("ansible-playbook");
    cmd.current_dir(w)
        .args(["-i", "hosts"])
        .arg(repo().join("contrib/ansible/patchday.yml"))
        .arg("-e")
        .arg(format!("patchday_bin={}", bin_dir().display()))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_LOCAL_TEMP", w.join("ansible-local"))
        .env("ANSIBLE_REMOTE_TEMP", w.join("ansible-remote"))
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0");
    let run = common::run_cmd(cmd, None);
    let log = run.stdout_str();
    // bad1's failed patch step makes the run fail (ansible's 2: a host failed).
    assert_eq!(run.code(), 2, "{run}");
    assert!(log.contains("bad1: the patch step exited 3"), "{run}");
    assert!(log.contains("fatal: [broken1]"), "{run}");
    assert!(!w.join("broken1-patched").exists(), "broken1 was patched");
    assert!(
        !w.join("remote/broken1").exists(),
        "broken1: workdir left behind"
    );
    drop(inv);

    // Which optional tools exist in this build: their snapshots are taken,
    // the others skipped with a line each.
    let have = |t: &str| bin_dir().join(t).is_file();
    let snaps = w.join("snaps");
    let host_name = nix_hostname();
    for (h, _) in &hosts {
        for phase in ["before", "after"] {
            let dir = snaps.join(h).join(phase);
            for (name, kind) in [("ps", "process"), ("net", "socket"), ("boot", "check")] {
                let recs = jsonl(&dir.join(format!("{name}.json")));
                assert!(!recs.is_empty(), "{h}/{phase}/{name}.json is empty");
                assert!(
                    recs.iter().all(|r| r["kind"] == kind),
                    "{h}/{phase}/{name}.json"
                );
                if kind != "check" {
                    assert!(recs.iter().all(|r| r["host"] == host_name.as_str()));
                }
            }
            for (name, tool) in [("pkg", "pkg-snap"), ("svc", "svc-snap")] {
                let f = dir.join(format!("{name}.json"));
                assert_eq!(f.is_file(), have(tool), "{}", f.display());
                if !have(tool) {
                    let line = format!("{h}: {tool} is not installed: no {name} snapshot");
                    assert!(log.contains(&line), "no line {line:?}\n{run}");
                }
            }
        }
        let backup = jsonl(&snaps.join(h).join("before/cfg-backup.json"));
        assert_eq!(backup.len(), 1, "{h}: {backup:?}");
        assert_eq!(backup[0]["kind"], "backup");
        // The remote working directory is gone, the backup store is not.
        assert!(
            !w.join("remote").join(h).exists(),
            "{h}: workdir left behind"
        );
        assert!(
            w.join("store").join(h).is_dir(),
            "{h}: backup store removed"
        );
    }

    // Every host ran on this machine, so every host's diff shows every
    // patch step's change (the play's linear strategy takes all before
    // snapshots first), each as a change of this host.
    let port: u64 = std::fs::read_to_string(w.join("port"))
        .expect("the listener wrote its port")
        .trim()
        .parse()
        .expect("port number");
    for (h, _) in &hosts {
        let ps = jsonl(&snaps.join(h).join("diff/ps.json"));
        assert!(
            ps.iter().any(|c| c["op"] == "added"
                && argv(&c["after"]) == ["sleep", marker.as_str()]
                && c["key"]["host"] == host_name.as_str()),
            "{h}: no started sleep {marker} in diff/ps.json"
        );
        let net = jsonl(&snaps.join(h).join("diff/net.json"));
        assert!(
            net.iter().any(|c| c["op"] == "added"
                && c["after"]["local_addr"] == "127.0.0.1"
                && c["after"]["local_port"] == port
                && c["after"]["state"] == "LISTEN"),
            "{h}: no new listener on 127.0.0.1:{port} in diff/net.json"
        );
        let cfg = jsonl(&snaps.join(h).join("after/cfg-diff.json"));
        let changed = |op: &str, path: &str| {
            cfg.iter()
                .any(|c| c["op"] == op && c["key"]["path"] == path)
        };
        assert!(
            changed("changed", &conf_dir.join("app.conf").display().to_string()),
            "{h}: {cfg:?}"
        );
        assert!(
            changed("added", &format!("/etc/{package}.conf")),
            "{h}: {cfg:?}"
        );
        if have("pkg-snap") {
            let pkg = jsonl(&snaps.join(h).join("diff/pkg.json"));
            assert!(
                pkg.iter()
                    .any(|c| c["op"] == "added" && c["key"]["name"] == package),
                "{h}: {package} not added in diff/pkg.json"
            );
        }
    }

    // The summary: one headline per host, in inventory order, with the
    // listener and the failed patch step; the same in snaps/summary.txt.
    let summary = std::fs::read_to_string(snaps.join("summary.txt")).expect("summary.txt");
    let heads: Vec<&str> = summary
        .lines()
        .filter(|l| !l.starts_with(' '))
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(
        heads,
        ["web1", "web2", "db1", "bad1", "broken1"],
        "{summary}"
    );
    assert!(summary.contains("broken1: NO SUMMARY"), "{summary}");
    assert!(
        summary.contains(&format!("+ listener   tcp 127.0.0.1:{port} (python3)")),
        "{summary}"
    );
    assert!(summary.contains("bad1: PATCH FAILED (exit 3)"), "{summary}");
    assert!(summary.contains("config changes"), "{summary}");
    drop(cleanup);
}

/// This machine's node name, as the snapshot tools record it.
fn nix_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("read hostname")
        .trim()
        .to_owned()
}

#[test]
fn ansible_ad_hoc_tree_of_snapshots_diffs_like_one_stream() {
    if !has_program("ansible") {
        common::skip("ansible is not installed (.ci/run installs ansible-core)");
        return;
    }
    if !has_program("timeout") {
        common::skip("timeout is not installed");
        return;
    }
    // The README's one-liner: `ansible all -m command -a 'ps-snap' --tree
    // DIR` leaves one JSON file per host whose "stdout" is the snapshot.
    let work = common::Scratch::new("fleet-adhoc");
    let w = work.path();
    std::fs::write(
        w.join("hosts"),
        "[fleet]\nweb1\nweb2\n[fleet:vars]\nansible_connection=local\nansible_python_interpreter=auto_silent\n",
    )
    .expect("write inventory");
    let tree = |phase: &str| {
        let mut cmd = Command::new("ansible");
        cmd.current_dir(w)
            .args(["all", "-i", "hosts", "-m", "command", "-a"])
            .arg(format!("{} --no-maps", common::bin("ps-snap").display()))
            .arg("--tree")
            .arg(w.join(phase))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_LOCAL_TEMP", w.join("ansible-local"))
            .env("ANSIBLE_REMOTE_TEMP", w.join("ansible-remote"));
        common::run_cmd(cmd, None).expect_code(0);
        let mut stream = String::new();
        for h in ["web1", "web2"] {
            let f = w.join(phase).join(h);
            let text =
                std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("no {}: {e}", f.display()));
            let v: Value = serde_json::from_str(&text).expect("ansible's JSON");
            let out = v["stdout"].as_str().expect("stdout");
            assert!(!out.is_empty(), "{h}: empty snapshot");
            stream.push_str(out);
            stream.push('\n');
        }
        let p = w.join(format!("{phase}.json"));
        std::fs::write(&p, stream).expect("write stream");
        p
    };
    let before = tree("before");
    let marker = format!("{}.75", 88_000 + std::process::id() % 1000);
    let sleeper = Sleeper::start(&marker);
    let after = tree("after");
    drop(sleeper);
    let run = common::run("snap-diff", [&before, &after], None);
    run.expect_code(1);
    assert!(
        run.records()
            .iter()
            .any(|c| c["op"] == "added" && argv(&c["after"]) == ["sleep", marker.as_str()]),
        "{run}"
    );
}
