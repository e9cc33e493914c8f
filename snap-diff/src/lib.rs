//! `snap-diff`: what changed between two snapshots (ps-snap, net-snap, or
//! any JSON Lines with `--key`), paired by identity instead of by line, as
//! `change` records or one line per change for people.
//!
//! Exit status as diff's: 0 no differences, 1 differences, 2 trouble. All
//! input is read and checked before the first record is written, so a
//! malformed snapshot never yields a partial result.

use std::ffi::{OsStr, OsString};

use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};

use common::cli::{format_arg, format_of, Format};
use common::{Out, Result, Status};

pub mod diff;
pub mod input;
pub mod rules;
pub mod text;

pub use diff::{Change, Op};
pub use rules::{Options, Rules};

/// The examples and rules under `--help`, the rules from the tables the
/// diff uses.
fn after_help() -> String {
    use common::records::package;
    use rules::{CONNECTION_KEY, INSTANCE, LISTENER_KEY, PROCESS_KEY};
    use rules::{KTHREAD_KEY, PROCESS_VOLATILE, SOCKET_VOLATILE};
    let remote: Vec<&str> = CONNECTION_KEY[LISTENER_KEY.len()..].to_vec();
    format!(
        "\
Identity (records with the same identity are the same thing):
  process  {} (kernel threads: {}); instance: {}
  socket   {} (connections: and {})
  package  {} (a changed version says upgrade or downgrade)
  other    --key [KIND:]FIELD,...
Ignored by default (--compare FIELD to compare one, --no-ignore for all):
  process  {}
  socket   {}
  package  {}

Examples:
  snap-diff before.json after.json
  ps-snap | snap-diff --format text ps-before.json -
  snap-diff before.json after.json | jq -c 'select(.op == \"restarted\") | .key'
  snap-diff --key name --format text pkgs-before.json pkgs-after.json

All the rules: see snap-diff(1).
Exit status: 0 no differences, 1 differences, 2 trouble.",
        PROCESS_KEY.join(", "),
        KTHREAD_KEY.join(", "),
        INSTANCE.join(", "),
        LISTENER_KEY.join(", "),
        remote.join(", "),
        package::IDENTITY.join(", "),
        PROCESS_VOLATILE.join(", "),
        SOCKET_VOLATILE.join(", "),
        package::VOLATILE.join(", "),
    )
}

/// The command line.
pub fn command() -> Command {
    common::cli::command(
        "snap-diff",
        env!("CARGO_PKG_VERSION"),
        "Show what changed between two snapshots: started, stopped and restarted processes, new and vanished listeners, processes that run deleted code",
    )
    .arg(
        Arg::new("before")
            .value_name("BEFORE")
            .value_parser(value_parser!(OsString))
            .required(true)
            .help("The earlier snapshot (JSON Lines file, or - for standard input)"),
    )
    .arg(
        Arg::new("after")
            .value_name("AFTER")
            .value_parser(value_parser!(OsString))
            .required(true)
            .help("The later snapshot (JSON Lines file, or - for standard input; not both)"),
    )
    .arg(
        Arg::new("key")
            .long("key")
            .value_name("[KIND:]FIELD,...")
            .action(ArgAction::Append)
            .help("Identify records by these fields instead of the kind's default identity; without KIND: for every kind (and for records without a kind), with KIND: for that kind only; repeatable"),
    )
    .arg(
        Arg::new("ignore")
            .long("ignore")
            .value_name("[KIND:]FIELD,...")
            .action(ArgAction::Append)
            .help("Also ignore these fields when comparing paired records (FIELD[].SUB ignores SUB in each element of the array FIELD); repeatable"),
    )
    .arg(
        Arg::new("compare")
            .long("compare")
            .value_name("[KIND:]FIELD,...")
            .action(ArgAction::Append)
            .help("Compare these fields although they are ignored by default (such as pid or cpu_seconds); repeatable"),
    )
    .arg(
        Arg::new("no-ignore")
            .long("no-ignore")
            .action(ArgAction::SetTrue)
            .help("Ignore no field by default: compare every field except those given with --ignore"),
    )
    .arg(
        Arg::new("kind")
            .long("kind")
            .value_name("KIND,...")
            .action(ArgAction::Append)
            .help("Expect only records of these kinds; any other record is an error (exit 2), which catches a wrong file"),
    )
    .arg(
        Arg::new("kernel-threads")
            .long("kernel-threads")
            .action(ArgAction::SetTrue)
            .help("Include kernel threads (left out by default: kworkers come and go and would drown the signal)"),
    )
    .arg(
        Arg::new("zombies")
            .long("zombies")
            .action(ArgAction::SetTrue)
            .help("Include zombie processes (state Z; left out by default: a zombie has exited, so a service that stopped shows as removed even before its parent reaps it)"),
    )
    .arg(
        Arg::new("connections")
            .long("connections")
            .action(ArgAction::SetTrue)
            .help("Include connected sockets (left out by default: ephemeral client ports would drown new and vanished listeners)"),
    )
    .arg(format_arg())
    .after_help(after_help())
}

fn strings(m: &ArgMatches, id: &str) -> Vec<String> {
    m.get_many::<String>(id)
        .map(|v| v.cloned().collect())
        .unwrap_or_default()
}

/// The options of parsed arguments.
pub fn options_of(m: &ArgMatches) -> Options {
    Options {
        keys: strings(m, "key"),
        ignores: strings(m, "ignore"),
        compares: strings(m, "compare"),
        no_ignore: m.get_flag("no-ignore"),
        kernel_threads: m.get_flag("kernel-threads"),
        zombies: m.get_flag("zombies"),
        connections: m.get_flag("connections"),
        kinds: strings(m, "kind"),
        own: own_instance(),
    }
}

/// This process as ps-snap records it: (boot_id, pid, start_ticks), from
/// /proc; `None` where /proc cannot tell.
pub fn own_instance() -> Option<(String, u64, u64)> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Field 22 (starttime); the fields after comm's closing parenthesis
    // start with field 3.
    let after = &stat[stat.rfind(')')? + 1..];
    let ticks = after.split_whitespace().nth(19)?.parse().ok()?;
    Some((boot.trim().to_owned(), u64::from(std::process::id()), ticks))
}

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

/// The command line, resolved: nothing past [`Args::parse`] sees the
/// argument parser.
#[derive(Debug)]
pub struct Args {
    pub options: Options,
    /// The snapshots as named (`-` is standard input), any bytes.
    pub before: OsString,
    pub after: OsString,
    pub format: Format,
}

impl Args {
    /// This process's command line; bad arguments are exit 2.
    pub fn parse() -> Result<Args> {
        let m = common::cli::parse(command())?;
        let path = |id: &str| {
            m.get_one::<OsString>(id)
                .cloned()
                .unwrap_or_else(|| OsString::from("-"))
        };
        Ok(Args {
            options: options_of(&m),
            before: path("before"),
            after: path("after"),
            format: format_of(&m),
        })
    }
}

pub fn main() -> std::process::ExitCode {
    common::run("snap-diff", || {
        let args = Args::parse()?;
        let rules = Rules::new(&args.options)?;
        let (changes, notes) = diff_files(&rules, &args.before, &args.after)?;
        for n in notes {
            common::warn!("snap-diff: {n}");
        }
        let mut out = Out::stdout();
        write(&mut out, &changes, args.format)?;
        out.finish()?;
        Ok(if changes.is_empty() {
            Status::Ok
        } else {
            Status::Differs
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
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
