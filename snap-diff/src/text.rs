//! `--format text`: one line per change for people, most urgent first:
//! reboots, processes that still run deleted code, listening sockets, other
//! processes, connections, then other kinds. Marks: `+` added, `-` removed,
//! `~` changed, `R` restarted, `B` rebooted. A changed string (argv, paths)
//! shows the changed words as `[-old-]{+new+}`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};
use similar::{utils::diff_slices, Algorithm, ChangeTag};

use common::bytes::{display_value, value_bytes};

use common::records::change::reboot_field as rf;
use common::records::package::{self, field as pkf};
use common::records::process::{self, field as pf, restart_field, stale_field};
use common::records::socket::{self, field as sf, holder_field};

use crate::diff::{Change, Op};
use crate::rules::{is_listener, strip_deleted};

/// The sections, in the order they are shown.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    Reboots,
    DeletedCode,
    Listeners,
    Processes,
    Connections,
    Other(String),
}

impl Section {
    fn title(&self) -> String {
        match self {
            Section::Reboots => "# reboots".into(),
            Section::DeletedCode => "# processes that run deleted code".into(),
            Section::Listeners => "# listening and unconnected sockets".into(),
            Section::Processes => "# processes".into(),
            Section::Connections => "# connections".into(),
            Section::Other(k) if k == package::KIND => "# packages".into(),
            Section::Other(k) => format!("# {k}"),
        }
    }
}

/// Does this process record run code that is gone from disk?
pub fn runs_deleted_code(m: &Map<String, Value>) -> bool {
    m.get(pf::EXE_DELETED) == Some(&Value::Bool(true))
        || [pf::DELETED_MAPS, pf::STALE_FILES].iter().any(|f| {
            m.get(*f)
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
        })
}

/// One of ps-snap's `stale_files` as the text view names it:
/// `PATH (deleted library, libssl3:amd64)`.
fn stale_file(v: &Value) -> String {
    let word = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("?").to_owned();
    let (how, what) = (word(stale_field::HOW), word(stale_field::WHAT));
    let path = display_value(v.get(stale_field::PATH).unwrap_or(&Value::Null));
    match v.get(stale_field::PACKAGE).and_then(Value::as_str) {
        Some(p) => format!("{path} ({how} {what}, {p})"),
        None => format!("{path} ({how} {what})"),
    }
}

/// ps-snap's `restart` as the command to type (or what to restart).
fn restart(v: &Value) -> String {
    let words: Option<Vec<Vec<u8>>> = v
        .get(restart_field::COMMAND)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(common::bytes::value_bytes).collect());
    match words {
        Some(w) => common::shell::join(w.iter().map(Vec::as_slice)),
        None if v.is_null() => "-".to_owned(),
        None => display_value(v.get(restart_field::NAME).unwrap_or(&Value::Null)),
    }
}

fn section(c: &Change) -> Section {
    let rec = c.after.as_ref().or(c.before.as_ref());
    match (c.op, c.of.as_deref(), rec) {
        (Op::Reboot, _, _) => Section::Reboots,
        (_, Some(process::KIND), _) if c.after.as_ref().is_some_and(runs_deleted_code) => {
            Section::DeletedCode
        }
        (_, Some(process::KIND), _) => Section::Processes,
        (_, Some(socket::KIND), Some(r)) if is_listener(r) => Section::Listeners,
        (_, Some(socket::KIND), _) => Section::Connections,
        (_, Some(k), _) => Section::Other(k.to_owned()),
        (_, None, _) => Section::Other("records".into()),
    }
}

/// The text lines of all changes (empty when there are none).
pub fn render(changes: &[Change]) -> Vec<String> {
    let mut by: BTreeMap<Section, Vec<String>> = BTreeMap::new();
    let mut counts: BTreeMap<Op, usize> = BTreeMap::new();
    let shown_netns = netns_that_distinguish(changes);
    for c in changes {
        by.entry(section(c))
            .or_default()
            .push(line_with(c, &shown_netns));
        *counts.entry(c.op).or_default() += 1;
    }
    let mut out = Vec::new();
    for (s, lines) in by {
        out.push(s.title());
        out.extend(lines);
    }
    if !changes.is_empty() {
        let parts: Vec<String> = counts
            .iter()
            .map(|(op, n)| format!("{n} {}", op.name()))
            .collect();
        let n = changes.len();
        let noun = if n == 1 { "change" } else { "changes" };
        out.push(format!("# {n} {noun}: {}", parts.join(", ")));
    }
    out
}

/// The hosts whose socket changes span more than one network namespace:
/// their socket lines name it, or the same port in two containers would
/// read as one socket that changed.
fn netns_that_distinguish(changes: &[Change]) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in changes
        .iter()
        .filter(|c| c.of.as_deref() == Some(socket::KIND))
    {
        for m in [&c.before, &c.after].into_iter().flatten() {
            seen.entry(get(m, sf::HOST).to_string())
                .or_default()
                .insert(get(m, sf::NETNS).to_string());
        }
    }
    seen.into_iter()
        .filter(|(_, ns)| ns.len() > 1)
        .map(|(h, _)| h)
        .collect()
}

fn mark(op: Op) -> &'static str {
    match op {
        Op::Reboot => "B",
        Op::Added => "+",
        Op::Removed => "-",
        Op::Changed => "~",
        Op::Restarted => "R",
        // cfg-backup's; snap-diff finds none.
        Op::Leftover => "L",
    }
}

fn get<'a>(m: &'a Map<String, Value>, f: &str) -> &'a Value {
    m.get(f).unwrap_or(&Value::Null)
}

/// An argv as a shell line: pasted into a shell it gives the same words
/// back (`common::shell`), and no control byte reaches the terminal.
fn cmdline(v: &Value) -> String {
    match v {
        Value::Array(a) => {
            let words: Vec<Vec<u8>> = a
                .iter()
                .map(|w| value_bytes(w).unwrap_or_else(|| display_value(w).into_bytes()))
                .collect();
            common::shell::join(words.iter().map(Vec::as_slice))
        }
        other => display_value(other),
    }
}

fn exe(v: &Value) -> String {
    display_value(&strip_deleted(v).unwrap_or_else(|| v.clone()))
}

/// Longest argv shown whole in a line; the JSON records keep all of it.
const LONG: usize = 160;
/// Unchanged text kept on each side of an elision in a word diff.
const CONTEXT: usize = 30;

/// `s` cut to `max` characters, the cut marked with "…".
fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some(_) => {
            let keep: String = s.chars().take(max.saturating_sub(1)).collect();
            format!("{keep}…")
        }
    }
}

/// An unchanged part of a word diff with its middle left out when long:
/// only its end when it `leads`, only its start when it `trails`.
fn elide(s: &str, leads: bool, trails: bool) -> String {
    let n = s.chars().count();
    if n <= 2 * CONTEXT + 10 {
        return s.to_owned();
    }
    let head: String = s.chars().take(CONTEXT).collect();
    let tail: String = s.chars().skip(n - CONTEXT).collect();
    match (leads, trails) {
        (true, true) => format!("{head}…"),
        (true, false) => format!("…{tail}"),
        (false, true) => format!("{head}…"),
        (false, false) => format!("{head}…{tail}"),
    }
}

fn describe_process(m: &Map<String, Value>) -> String {
    let mut s = format!(
        "{}@{} ",
        display_value(get(m, pf::USER)),
        display_value(get(m, pf::HOST))
    );
    let argv = get(m, pf::CMDLINE);
    if argv.as_array().is_some_and(|a| !a.is_empty()) {
        s.push_str(&shorten(&cmdline(argv), LONG));
    } else {
        s.push_str(&format!("[{}]", display_value(get(m, pf::COMM))));
    }
    if let Some(u) = m.get(pf::UNIT).filter(|u| !u.is_null()) {
        s.push_str(&format!(" ({})", display_value(u)));
    }
    s
}

fn endpoint(m: &Map<String, Value>, addr: &str, port: &str) -> String {
    let a = display_value(get(m, addr));
    match get(m, port) {
        Value::Null => a,
        p if get(m, sf::FAMILY).as_str() == Some("inet6") => format!("[{a}]:{p}"),
        p => format!("{a}:{p}"),
    }
}

fn comms(v: &Value) -> String {
    match v {
        Value::Array(a) => {
            let mut names: Vec<String> = a
                .iter()
                .map(|p| display_value(p.get(holder_field::COMM).unwrap_or(&Value::Null)))
                .collect();
            names.sort();
            names.dedup();
            names.join(",")
        }
        other => display_value(other),
    }
}

fn describe_socket(m: &Map<String, Value>, netns: bool) -> String {
    let mut s = display_value(get(m, sf::HOST));
    if netns {
        // The namespace as the /proc/PID/ns/net link names it.
        match get(m, sf::NETNS) {
            Value::Number(n) => s.push_str(&format!(" in net:[{n}]")),
            other => s.push_str(&format!(" in {}", display_value(other))),
        }
    }
    s.push_str(&format!(
        " {} {}",
        display_value(get(m, sf::PROTO)),
        endpoint(m, sf::LOCAL_ADDR, sf::LOCAL_PORT)
    ));
    if !is_listener(m) {
        s.push_str(&format!(
            " -> {}",
            endpoint(m, sf::REMOTE_ADDR, sf::REMOTE_PORT)
        ));
    }
    s.push_str(&format!(" {}", display_value(get(m, sf::STATE))));
    let p = comms(get(m, sf::PROCESSES));
    if !p.is_empty() && p != "-" {
        s.push_str(&format!(" ({p})"));
    }
    s
}

fn describe_key(c: &Change) -> String {
    let parts: Vec<String> = c
        .key
        .iter()
        .map(|(k, v)| format!("{k}={}", display_value(v)))
        .collect();
    match &c.of {
        Some(k) => format!("{k} {}", parts.join(" ")),
        None => parts.join(" "),
    }
}

/// Split a string into words and the single characters between them, so a
/// path or an option shows which part changed.
fn tokens(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, ch) in s.char_indices() {
        if !(ch.is_alphanumeric() || ch == '_') {
            if start < i {
                out.push(&s[start..i]);
            }
            out.push(&s[i..i + ch.len_utf8()]);
            start = i + ch.len_utf8();
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// `old` and `new` as one text, the changed words marked; long unchanged
/// stretches are cut to their ends ("…"), so that a changed word in a long
/// argv stays in sight.
pub fn word_diff(old: &str, new: &str) -> String {
    let (o, n) = (tokens(old), tokens(new));
    let mut out = String::new();
    let (mut del, mut ins) = (String::new(), String::new());
    let flush = |out: &mut String, del: &mut String, ins: &mut String| {
        if !del.is_empty() {
            out.push_str(&format!("[-{del}-]"));
            del.clear();
        }
        if !ins.is_empty() {
            out.push_str(&format!("{{+{ins}+}}"));
            ins.clear();
        }
    };
    let ops = diff_slices(Algorithm::Myers, &o, &n);
    let last = ops.len().saturating_sub(1);
    for (at, (tag, parts)) in ops.into_iter().enumerate() {
        let text = parts.concat();
        match tag {
            ChangeTag::Equal => {
                flush(&mut out, &mut del, &mut ins);
                out.push_str(&elide(&text, at == 0, at == last));
            }
            ChangeTag::Delete => del.push_str(&text),
            ChangeTag::Insert => ins.push_str(&text),
        }
    }
    flush(&mut out, &mut del, &mut ins);
    out
}

/// How one differing field reads.
fn field_change(f: &str, b: &Value, a: &Value) -> String {
    match f {
        pf::CMDLINE => format!("{f}: {}", word_diff(&cmdline(b), &cmdline(a))),
        pf::EXE => format!("{f}: {}", word_diff(&exe(b), &exe(a))),
        sf::PROCESSES => format!("{f}: {} -> {}", comms(b), comms(a)),
        pf::DELETED_MAPS => match (b.as_array(), a.as_array()) {
            (Some(bs), Some(as_)) => {
                let mut parts: Vec<String> = Vec::new();
                for x in as_.iter().filter(|x| !bs.contains(x)) {
                    parts.push(format!("+{}", display_value(x)));
                }
                for x in bs.iter().filter(|x| !as_.contains(x)) {
                    parts.push(format!("-{}", display_value(x)));
                }
                format!("{f}: {}", parts.join(" "))
            }
            _ => format!("{f}: {} -> {}", display_value(b), display_value(a)),
        },
        pf::STALE_FILES => match (b.as_array(), a.as_array()) {
            (Some(bs), Some(as_)) => {
                let mut parts: Vec<String> = Vec::new();
                for x in as_.iter().filter(|x| !bs.contains(x)) {
                    parts.push(format!("+{}", stale_file(x)));
                }
                for x in bs.iter().filter(|x| !as_.contains(x)) {
                    parts.push(format!("-{}", stale_file(x)));
                }
                format!("{f}: {}", parts.join(" "))
            }
            _ => format!("{f}: {} -> {}", display_value(b), display_value(a)),
        },
        pf::RESTART => format!("{f}: {} -> {}", restart(b), restart(a)),
        _ => {
            let (bs, as_) = (display_value(b), display_value(a));
            let stringy = |v: &Value| v.is_string() || v.is_array();
            if stringy(b) && stringy(a) && bs.len().max(as_.len()) > 20 {
                format!("{f}: {}", word_diff(&bs, &as_))
            } else {
                format!("{f}: {bs} -> {as_}")
            }
        }
    }
}

/// A package change as a line of an upgrade log: `~ NAME OLD -> NEW
/// (upgrade; old .deb cached)`, `+ NAME VERSION`, `- NAME VERSION`, and
/// any other field that changed after a colon.
fn package_line(c: &Change) -> String {
    let rec = c.after.as_ref().or(c.before.as_ref());
    let v = |m: &Option<Map<String, Value>>| {
        m.as_ref()
            .map(|m| display_value(get(m, pkf::VERSION)))
            .unwrap_or_default()
    };
    let name = rec
        .map(|r| display_value(get(r, pkf::NAME)))
        .unwrap_or_default();
    let mut s = match c.op {
        Op::Added => format!("+ {name} {}", v(&c.after)),
        Op::Removed => format!("- {name} {}", v(&c.before)),
        _ => format!("{} {name}", mark(c.op)),
    };
    let mut fields: Vec<&String> = c.fields.iter().collect();
    if let (Some(mv), true) = (c.package_move(), c.fields.iter().any(|f| f == pkf::VERSION)) {
        fields.retain(|f| *f != pkf::VERSION);
        s.push_str(&format!(" {} -> {}", v(&c.before), v(&c.after)));
        let ext = if mv.manager == "rpm" { ".rpm" } else { ".deb" };
        let cached = if mv.rollback.is_some() {
            "cached"
        } else {
            "not cached"
        };
        match mv.direction {
            Some(d) => s.push_str(&format!(" ({}; old {ext} {cached})", d.name())),
            None => {
                let (b, a) = (v(&c.before), v(&c.after));
                match common::records::package::compare(&mv.manager, &b, &a) {
                    Some(_) => s.push_str(&format!(" (equal by {}'s ordering)", mv.manager)),
                    None => s.push_str(" (direction unknown)"),
                }
            }
        }
    }
    if let (Some(b), Some(a)) = (&c.before, &c.after) {
        let details: Vec<String> = fields
            .iter()
            .map(|f| field_change(f, get(b, f), get(a, f)))
            .collect();
        if !details.is_empty() {
            s.push_str(": ");
            s.push_str(&details.join("; "));
        }
    }
    s
}

/// One change as one line; sockets of the hosts in `netns_hosts` name
/// their network namespace.
fn line_with(c: &Change, netns_hosts: &BTreeSet<String>) -> String {
    if c.of.as_deref() == Some(package::KIND) {
        return package_line(c);
    }
    let rec = c.after.as_ref().or(c.before.as_ref());
    let what = match (c.op, c.of.as_deref(), rec) {
        (Op::Reboot, _, _) => {
            let ids = |m: &Option<Map<String, Value>>| {
                m.as_ref()
                    .map(|m| cmdline(get(m, rf::BOOT_IDS)))
                    .unwrap_or_default()
            };
            return format!(
                "B host {} rebooted: boot id {} -> {}",
                display_value(c.key.get(rf::HOST).unwrap_or(&Value::Null)),
                ids(&c.before),
                ids(&c.after)
            );
        }
        (_, Some(process::KIND), Some(r)) => format!("process {}", describe_process(r)),
        (_, Some(socket::KIND), Some(r)) => format!(
            "socket {}",
            describe_socket(r, netns_hosts.contains(&get(r, sf::HOST).to_string()))
        ),
        _ => describe_key(c),
    };
    let mut s = format!("{} {what}", mark(c.op));
    let pid = |m: &Option<Map<String, Value>>| {
        m.as_ref()
            .map(|m| display_value(get(m, pf::PID)))
            .unwrap_or_default()
    };
    if c.of.as_deref() == Some(process::KIND) {
        match c.op {
            Op::Added => s.push_str(&format!(" [pid {}]", pid(&c.after))),
            Op::Removed => s.push_str(&format!(" [pid {}]", pid(&c.before))),
            Op::Restarted => s.push_str(&format!(" [pid {} -> {}]", pid(&c.before), pid(&c.after))),
            _ => s.push_str(&format!(" [pid {}]", pid(&c.after))),
        }
    }
    // What still runs deleted code, one clause per file, then the fields
    // that changed; the clauses say what `exe_deleted` and the new
    // entries of `deleted_maps` would.
    let mut clauses = deleted_code(c);
    if let (Some(b), Some(a)) = (&c.before, &c.after) {
        let process = c.of.as_deref() == Some(process::KIND);
        for f in &c.fields {
            if matches!(c.op, Op::Restarted) && process::INSTANCE.contains(&f.as_str()) {
                continue;
            }
            if process && f == pf::EXE_DELETED && get(a, f) == &Value::Bool(true) {
                continue;
            }
            if process && f == pf::DELETED_MAPS {
                let now = get(a, f).as_array().cloned().unwrap_or_default();
                for x in get(b, f).as_array().into_iter().flatten() {
                    if !now.contains(x) {
                        clauses.push(format!("no longer maps deleted {}", display_value(x)));
                    }
                }
                continue;
            }
            clauses.push(field_change(f, get(b, f), get(a, f)));
        }
    }
    if !clauses.is_empty() {
        s.push_str(": ");
        s.push_str(&clauses.join("; "));
    }
    s
}

/// A process that runs deleted code, as clauses naming each file: "runs
/// deleted executable PATH", "maps deleted PATH".
fn deleted_code(c: &Change) -> Vec<String> {
    let mut out = Vec::new();
    let Some(a) = c
        .after
        .as_ref()
        .filter(|_| c.of.as_deref() == Some(process::KIND))
    else {
        return out;
    };
    if a.get(pf::EXE_DELETED) == Some(&Value::Bool(true)) {
        out.push(format!("runs deleted executable {}", exe(get(a, pf::EXE))));
    }
    for m in get(a, pf::DELETED_MAPS).as_array().into_iter().flatten() {
        out.push(format!("maps deleted {}", display_value(m)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn word_diff_marks_only_the_changed_words() {
        assert_eq!(
            word_diff(
                "/usr/bin/python3 -m http.server 8000",
                "/usr/bin/python3 -m http.server 9000"
            ),
            "/usr/bin/python3 -m http.server [-8000-]{+9000+}"
        );
        assert_eq!(
            word_diff("/usr/lib/libssl.so.3", "/usr/lib/libssl.so.4"),
            "/usr/lib/libssl.so.[-3-]{+4+}"
        );
        assert_eq!(word_diff("same", "same"), "same");
    }

    #[test]
    fn long_argv_is_cut_in_lines_and_word_diffs() {
        let long: Vec<String> = (0..200).map(|i| format!("-Lobj{i}.o")).collect();
        let m = json!({"user": "root", "host": "h", "cmdline": long});
        let d = describe_process(m.as_object().expect("object"));
        assert!(d.chars().count() < LONG + 20 && d.ends_with('…'), "{d}");
        let old = long.join(" ");
        let new = old.replace("-Lobj100.o", "-Lobj100.so");
        let w = word_diff(&old, &new);
        assert!(w.len() < 200, "{w}");
        assert!(w.starts_with('…') && w.ends_with('…'), "{w}");
        assert!(w.contains("-Lobj100.[-o-]{+so+} -Lobj101.o"), "{w}");
        assert_eq!(shorten("short", 10), "short");
    }

    #[test]
    fn argv_words_are_quoted_and_bytes_escaped() {
        assert_eq!(
            cmdline(&json!(["nginx", "-g", "daemon off;", [102, 255], "it's"])),
            "nginx -g 'daemon off;' 'f'$'\\xff' 'it'\\''s'"
        );
    }
}
