//! Properties of the JSON Lines reader: whatever bytes the two files hold,
//! the fast loader (cancelling, scanning, checking in parallel) never
//! panics and says exactly what the plain loader (every line parsed and
//! checked in order) says: the same first error, named by file and line
//! with exit status 2, or the same changes; and valid records of every
//! shape never panic the reader, the diff or either output.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::{Map, Value};

use common::cli::Format;
use common::Out;

use crate::diff;
use crate::input::{load, load_plain};
use crate::rules::{Options, Rules, CONNECTION_KEY, INSTANCE, PROCESS_KEY};

/// A file of the test's own, removed when dropped.
struct Temp(PathBuf);

impl Temp {
    fn new(data: &[u8]) -> Temp {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "snap-diff-props-{}-{}.json",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&p, data).expect("write a temporary file");
        Temp(p)
    }

    fn name(&self) -> &OsStr {
        self.0.as_os_str()
    }

    fn shown(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Values from a small pool, so that records of both sides meet.
fn small() -> impl Strategy<Value = Value> {
    proptest::sample::select(vec![
        Value::Null,
        Value::from(0),
        Value::from(1),
        Value::from(2),
        Value::from("a"),
        Value::from("b"),
        Value::from(vec![102, 255]),
        Value::from(true),
        Value::from(1.5),
    ])
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        vec(any::<u8>(), 0..6).prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![6 => small(), 1 => any_json()]
}

/// A record of a kind with every field that identifies it (and a few
/// others), each of a small pool or of any shape.
fn record() -> impl Strategy<Value = Value> {
    let process: Vec<&'static str> = PROCESS_KEY
        .iter()
        .chain(INSTANCE)
        .chain(&["comm"])
        .copied()
        .collect();
    let extras = proptest::sample::select(vec![
        "cpu_seconds",
        "rss_bytes",
        "state",
        "kernel_thread",
        "ppid",
        "exe_deleted",
        "deleted_maps",
        "processes",
        "uid",
        "inode",
        "sha256",
        "x",
    ]);
    let kind = prop_oneof![
        Just(("process", process)),
        Just((
            "socket",
            CONNECTION_KEY.iter().chain(&["state"]).copied().collect()
        )),
        Just(("file", vec!["path"])),
    ];
    (kind, vec(value(), 9), btree_map(extras, value(), 0..4)).prop_map(
        |((kind, fields), values, extras)| {
            let mut m = Map::new();
            m.insert("kind".into(), Value::from(kind));
            for (f, v) in fields.iter().zip(values) {
                m.insert((*f).to_owned(), v);
            }
            for (f, v) in extras {
                m.insert(f.to_owned(), v);
            }
            Value::Object(m)
        },
    )
}

/// A line of a file that may be anything: a record, a record with a byte
/// changed, put in or taken out, bytes of any kind, nothing.
fn any_line() -> impl Strategy<Value = Vec<u8>> {
    let record_line = || record().prop_map(|v| v.to_string().into_bytes());
    prop_oneof![
        4 => record_line(),
        2 => (record_line(), any::<prop::sample::Index>(), any::<u8>(), 0..3u8).prop_map(
            |(mut l, at, b, how)| {
                let i = at.index(l.len());
                match how {
                    0 => l[i] = b,
                    1 => l.insert(i, b),
                    _ => {
                        l.remove(i);
                    }
                }
                l
            }
        ),
        1 => vec(any::<u8>(), 0..40),
        1 => proptest::sample::select(vec![
            b"".to_vec(),
            b"   ".to_vec(),
            b"[1]".to_vec(),
            b"{}".to_vec(),
            b"{\"kind\":7}".to_vec(),
            b"{\"kind\":\"check\"}".to_vec(),
            b"USER PID %CPU".to_vec(),
        ]),
    ]
}

/// Lines into a file's bytes, with or without the last newline.
fn file(lines: &[Vec<u8>], last_newline: bool) -> Vec<u8> {
    let mut data = lines.join(&b'\n');
    if last_newline && !lines.is_empty() {
        data.push(b'\n');
    }
    data
}

fn rules() -> Rules {
    Rules::new(&Options {
        keys: vec!["file:path".into()],
        ..Options::default()
    })
    .expect("rules")
}

/// The changes as JSON text, and the one-sided kinds.
type Said = (Vec<String>, Vec<(Option<String>, bool)>);

fn said(rules: &Rules, l: &crate::input::Loaded) -> Said {
    let changes = diff::diff(rules, l);
    (
        changes
            .iter()
            .map(|c| serde_json::to_string(&c.record()).unwrap_or_default())
            .collect(),
        diff::one_sided(l),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_bytes_give_what_a_full_parse_gives(
        before in vec(any_line(), 0..12),
        after in vec(any_line(), 0..12),
        newlines in any::<(bool, bool)>(),
    ) {
        let rules = rules();
        let b = Temp::new(&file(&before, newlines.0));
        let a = Temp::new(&file(&after, newlines.1));
        let fast = load(&rules, b.name(), a.name());
        let plain = load_plain(&rules, b.name(), a.name());
        match (fast, plain) {
            (Ok(f), Ok(p)) => prop_assert_eq!(said(&rules, &f), said(&rules, &p)),
            (Err(f), Err(p)) => {
                prop_assert_eq!(f.to_string(), p.to_string());
                prop_assert_eq!(f.code(), 2);
                let msg = f.to_string();
                let rest = msg
                    .strip_prefix(&b.shown())
                    .or_else(|| msg.strip_prefix(&a.shown()));
                prop_assert!(rest.is_some(), "no file named: {}", msg);
                let rest = rest.unwrap_or_default();
                let line: String = rest.chars().skip(1).take_while(char::is_ascii_digit).collect();
                prop_assert!(rest.starts_with(':') && !line.is_empty(), "no line named: {}", msg);
                prop_assert_eq!(msg.lines().count(), 1);
            }
            (f, p) => prop_assert!(false, "fast {:?} but plain {:?}", f.map(|_| ()), p.map(|_| ())),
        }
    }

    #[test]
    fn valid_records_of_any_shape_never_panic_and_cancel_as_they_should(
        pool in vec(record(), 1..10),
        before in vec(any::<prop::sample::Index>(), 0..14),
        after in vec(any::<prop::sample::Index>(), 0..14),
    ) {
        let rules = rules();
        let lines = |idx: &[prop::sample::Index]| -> Vec<Vec<u8>> {
            idx.iter()
                .map(|i| pool[i.index(pool.len())].to_string().into_bytes())
                .collect()
        };
        let (bl, al) = (lines(&before), lines(&after));
        let b = Temp::new(&file(&bl, true));
        let a = Temp::new(&file(&al, true));
        let f = load(&rules, b.name(), a.name());
        let p = load_plain(&rules, b.name(), a.name());
        prop_assert!(f.is_ok(), "{:?}", f.map(|_| ()));
        prop_assert!(p.is_ok(), "{:?}", p.map(|_| ()));
        let (f, p) = (f.unwrap_or_default(), p.unwrap_or_default());
        prop_assert_eq!(p.before.len() + p.after.len(), bl.len() + al.len());
        prop_assert_eq!(said(&rules, &f), said(&rules, &p));
        // The whole way out too: the changes in both formats.
        if let Ok((changes, _)) = crate::compare::diff_files(&rules, b.name(), a.name()) {
            for format in [Format::Json, Format::Text] {
                let mut out = Out::new(Vec::new());
                prop_assert!(crate::compare::write(&mut out, &changes, format).is_ok());
            }
        }
        // A file against itself: nothing changes.
        let same = crate::compare::diff_files(&rules, b.name(), b.name());
        prop_assert!(same.as_ref().is_ok_and(|(c, _)| c.is_empty()), "{:?}", same.map(|(c, _)| c.len()));
    }
}
