//! Two snapshots named on the command line, loaded, checked against each
//! other and diffed; the changes written as records or as text.

use std::ffi::OsStr;

use common::cli::Format;
use common::{Out, Result};

use crate::diff::{self, Change};
use crate::rules::Rules;
use crate::{input, text};

/// Diff two snapshots by name (`-` is standard input): the changes, and a
/// note for each kind that was not compared because one side has none.
pub fn diff_files(
    rules: &Rules,
    before: &OsStr,
    after: &OsStr,
) -> Result<(Vec<Change>, Vec<String>)> {
    let loaded = input::load(rules, before, after)?;
    // Two non-empty sides without a kind in common compare nothing: that is
    // a wrong file (ps-snap's output against net-snap's), not "no change".
    let (kb, ka) = (&loaded.kinds_before, &loaded.kinds_after);
    if !kb.is_empty() && !ka.is_empty() && !kb.iter().any(|k| ka.contains(k)) {
        let names = |ks: &input::Kinds| {
            ks.iter()
                .map(|k| {
                    k.map_or("records without a kind".to_owned(), |k| {
                        format!("\"{k}\" records")
                    })
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(common::Error::new(format!(
            "{} holds only {} and {} only {}: nothing to compare; give two snapshots taken with the same tools",
            loaded.before_name,
            names(kb),
            loaded.after_name,
            names(ka)
        )));
    }
    let notes = diff::one_sided(&loaded)
        .into_iter()
        .map(|(kind, in_before)| {
            let what = kind.map_or("records without a kind".to_owned(), |k| {
                format!("\"{k}\" records")
            });
            let (has, lacks) = if in_before {
                (&loaded.before_name, &loaded.after_name)
            } else {
                (&loaded.after_name, &loaded.before_name)
            };
            format!(
                "{lacks} has no {what} and {has} has: not compared; take both snapshots with the same tools"
            )
        })
        .collect();
    Ok((diff::diff(rules, &loaded), notes))
}

/// Write the changes in the chosen format.
pub fn write<W: std::io::Write>(
    out: &mut Out<W>,
    changes: &[Change],
    format: Format,
) -> Result<()> {
    match format {
        Format::Json => {
            for c in changes {
                out.serialize(&c.record())?;
            }
        }
        Format::Text => {
            for l in text::render(changes) {
                out.line(&l)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Options;
    use serde_json::{json, Value};
    use std::path::PathBuf;

    /// A small deterministic generator (no dependency needed for tests).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn temp(name: &str, lines: &[String]) -> PathBuf {
        let p = std::env::temp_dir().join(format!("snap-diff-unit-{}-{name}", std::process::id()));
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(&p, text).expect("write temp file");
        p
    }

    fn process(r: &mut Lcg, host: &str, boot: &str, pid: u64) -> Value {
        let cmd = r.below(4);
        let kthread = r.below(10) == 0;
        json!({
            "kind": "process", "host": host, "boot_id": boot, "pid": pid, "ppid": 1,
            "user": if cmd == 3 { "www" } else { "root" },
            "comm": format!("c{cmd}"),
            "exe": if kthread { Value::Null } else { json!(format!("/usr/bin/p{cmd}")) },
            "exe_deleted": false,
            "cmdline": if kthread { json!([]) } else { json!([format!("p{cmd}"), [102, 255]]) },
            "unit": if cmd == 2 { Value::Null } else { json!(format!("u{cmd}.service")) },
            "start_ticks": 1000 + pid, "cpu_seconds": r.below(100), "kernel_thread": kthread,
            "deleted_maps": [], "state": if r.below(8) == 0 { "Z" } else { "S" },
        })
    }

    fn socket(r: &mut Lcg, host: &str) -> Value {
        let listen = r.below(2) == 0;
        json!({
            "kind": "socket", "host": host, "netns": null, "proto": "tcp", "family": "inet",
            "local_addr": "127.0.0.1", "local_port": if listen { 20 + r.below(5) } else { 40000 + r.below(50) },
            "remote_addr": if listen { "0.0.0.0" } else { "10.0.0.1" },
            "remote_port": if listen { 0 } else { 443 },
            "state": if listen { "LISTEN" } else { "ESTABLISHED" },
            "uid": 0, "user": "root", "inode": r.below(1000),
            "processes": [{"pid": r.below(100), "comm": format!("s{}", r.below(2))}],
        })
    }

    /// A random pair of snapshots with every kind of change.
    fn snapshots(seed: u64) -> (Vec<String>, Vec<String>) {
        let mut r = Lcg(seed);
        let reboot = r.below(4) == 0;
        let mut before = Vec::new();
        for i in 0..40 {
            let host = if r.below(2) == 0 { "h1" } else { "h2" };
            before.push(match r.below(5) {
                0 => socket(&mut r, host),
                1 => json!({"kind": "file", "path": format!("/etc/f{}", r.below(6)), "sha256": format!("{}", r.below(3))}),
                _ => process(&mut r, host, &format!("boot-{host}"), 100 + i),
            });
        }
        let mut after = Vec::new();
        for v in &before {
            let mut v = v.clone();
            if reboot && v["host"] == "h2" && v["kind"] == "process" {
                v["boot_id"] = json!("boot-h2-new");
            }
            match r.below(12) {
                0 => continue,
                1 => {
                    after.push(v.clone());
                    after.push(v);
                    continue;
                }
                2 if v["kind"] == "process" => {
                    v["pid"] = json!(v["pid"].as_u64().unwrap_or(0) + 500);
                    v["start_ticks"] = json!(9999);
                }
                3 if v["kind"] == "process" => {
                    v["exe_deleted"] = json!(true);
                    v["exe"] = json!(format!("{} (deleted)", v["exe"].as_str().unwrap_or("")));
                }
                4 => v["cpu_seconds"] = json!(r.below(100)),
                7 if v["kind"] == "process" => v["state"] = json!("Z"),
                8 if v["kind"] == "process" => {
                    v["cpu_seconds"] = json!(r.below(100));
                    v["user"] = json!("www");
                }
                5 => v["sha256"] = json!("changed"),
                6 => v["inode"] = json!(r.below(1000)),
                _ => {}
            }
            after.push(v);
        }
        if r.below(2) == 0 {
            before.push(before[0].clone());
        }
        // A side without one kind (a process snapshot against a mixed one).
        match seed % 7 {
            0 => after.retain(|v| v["kind"] != "socket"),
            1 => before.retain(|v| v["kind"] != "file"),
            _ => {}
        }
        let text = |v: &Vec<Value>| v.iter().map(Value::to_string).collect();
        (text(&before), text(&after))
    }

    fn out(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .map(|c| serde_json::to_string(&c.record()).unwrap_or_default())
            .collect()
    }

    #[test]
    fn cancelling_identical_lines_early_changes_nothing() {
        let mut differing = 0;
        for seed in 0..50u64 {
            let (b, a) = snapshots(seed);
            let (bp, ap) = (temp(&format!("b{seed}"), &b), temp(&format!("a{seed}"), &a));
            for opts in [
                Options {
                    keys: vec!["file:path".into()],
                    ..Options::default()
                },
                Options {
                    keys: vec!["file:path".into()],
                    kernel_threads: true,
                    connections: true,
                    ..Options::default()
                },
                Options {
                    keys: vec!["file:path".into()],
                    ignores: vec!["file:sha256".into(), "uid,local_port".into()],
                    compares: vec!["ppid,processes".into()],
                    ..Options::default()
                },
                Options {
                    keys: vec!["host".into(), "file:path".into()],
                    no_ignore: true,
                    ..Options::default()
                },
                Options {
                    keys: vec!["process:host,pid".into(), "file:path".into()],
                    compares: vec!["process:pid".into()],
                    zombies: true,
                    ..Options::default()
                },
                Options {
                    keys: vec!["file:path".into(), "socket:host,local_port".into()],
                    ignores: vec!["process:user,exe_deleted,state,kernel_thread".into()],
                    zombies: true,
                    kernel_threads: true,
                    ..Options::default()
                },
                Options {
                    keys: vec!["file:path".into()],
                    ignores: vec!["host,boot_id,remote_port".into()],
                    compares: vec!["start_ticks".into()],
                    ..Options::default()
                },
            ] {
                let rules = Rules::new(&opts).expect("rules");
                let (bs, as_) = (bp.to_str().expect("utf8"), ap.to_str().expect("utf8"));
                let (fl, pl) = (
                    input::load(&rules, OsStr::new(bs), OsStr::new(as_)).expect("fast"),
                    input::load_plain(&rules, OsStr::new(bs), OsStr::new(as_)).expect("plain"),
                );
                assert_eq!(diff::one_sided(&fl), diff::one_sided(&pl), "seed {seed}");
                let fast = diff::diff(&rules, &fl);
                let plain = diff::diff(&rules, &pl);
                assert_eq!(out(&fast), out(&plain), "seed {seed} {opts:?}");
                differing += usize::from(!fast.is_empty());
            }
            let _ = std::fs::remove_file(bp);
            let _ = std::fs::remove_file(ap);
        }
        assert!(differing > 200, "the generator must produce changes");
    }

    #[test]
    fn errors_are_the_same_as_a_full_parse_gives() {
        let good = r#"{"kind":"file","path":"/a"}"#.to_owned();
        let cases: Vec<(Vec<String>, Vec<String>)> = vec![
            (vec![good.clone(), "not json".into()], vec![good.clone()]),
            (vec![good.clone()], vec![good.clone(), "[1]".into()]),
            (
                vec!["{\"kind\":\"file\"}".into()],
                vec!["{\"kind\":\"file\"}".into()],
            ),
            (
                vec![good.clone(), "{\"path\":\"/b\"}".into()],
                vec![good.clone()],
            ),
            (
                vec![good.clone(), "{\"kind\":\"socket\",\"host\":\"h\"}".into()],
                vec![good.clone()],
            ),
            (
                vec![good.clone(), "{\"kind\":7}".into()],
                vec!["oops".into()],
            ),
            (
                vec![good.clone(), "{\"kind\":\"check\"}".into()],
                vec![good.clone()],
            ),
            (
                vec!["{\"kind\":\"file\",\"path\":\"\\ud800\"}".into()],
                vec!["{\"kind\":\"file\",\"path\":\"\\ud800\"}".into()],
            ),
        ];
        let rules = Rules::new(&Options {
            keys: vec!["file:path".into()],
            ..Options::default()
        })
        .expect("rules");
        for (i, (b, a)) in cases.into_iter().enumerate() {
            let (bp, ap) = (temp(&format!("eb{i}"), &b), temp(&format!("ea{i}"), &a));
            let (bs, as_) = (bp.to_str().expect("utf8"), ap.to_str().expect("utf8"));
            let fast = input::load(&rules, OsStr::new(bs), OsStr::new(as_)).expect_err("bad input");
            let plain =
                input::load_plain(&rules, OsStr::new(bs), OsStr::new(as_)).expect_err("bad input");
            assert_eq!(fast.to_string(), plain.to_string(), "case {i}");
            // FILE:LINE: what
            let msg = fast.to_string();
            let rest = msg
                .strip_prefix(bs)
                .or_else(|| msg.strip_prefix(as_))
                .unwrap_or_else(|| panic!("no file name: {msg}"));
            let line: String = rest[1..].chars().take_while(char::is_ascii_digit).collect();
            assert!(
                rest.starts_with(':') && !line.is_empty(),
                "no line number: {msg}"
            );
            let _ = std::fs::remove_file(bp);
            let _ = std::fs::remove_file(ap);
        }
    }
}
