//! The file-integrity step of patch day: which packages the patch changed
//! (snap-diff's `change` records of pkg-snap snapshots, pkg-snap's
//! `package` records, or plain package names), and the files those
//! packages own now, written as a regular expression for
//! `aide --update --limit` or as a plain list of paths.

use std::collections::BTreeMap;

use common::{Error, Result};
use serde_json::Value;

/// A package named in the input: name and, where given, architecture.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Named {
    pub name: String,
    pub arch: Option<String>,
}

/// What the input names: the packages to re-baseline, and how many
/// packages it says were removed (they own nothing now).
#[derive(Debug, Default)]
pub struct Input {
    pub packages: Vec<Named>,
    pub removed: Vec<String>,
}

/// Read the package changes. Each line is either a JSON object (a
/// `change` record of `of: "package"`: its `after` record, unless the
/// package was removed; a `package` record; any other kind is not about
/// packages and is passed over) or package names separated by blanks
/// (`NAME` or `NAME:ARCH`), `#` starting a comment.
pub fn parse(data: &[u8], file: &str) -> Result<Input> {
    let mut input = Input::default();
    for (i, line) in data.split(|&c| c == b'\n').enumerate() {
        let n = i + 1;
        let line = std::str::from_utf8(line).map_err(|_| {
            Error::new(format!(
                "{file}:{n}: not UTF-8; give package names or JSON Lines records"
            ))
        })?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('{') {
            let v: Value = serde_json::from_str(line).map_err(|e| {
                Error::new(format!(
                    "{file}:{n}: not a JSON object ({e}); give snap-diff output or package names"
                ))
            })?;
            from_record(&v, file, n, &mut input)?;
            continue;
        }
        for word in line.split_whitespace() {
            if word.starts_with('#') {
                break;
            }
            input.packages.push(named(word, file, n)?);
        }
    }
    input.packages.sort();
    input.packages.dedup();
    Ok(input)
}

fn named(word: &str, file: &str, n: usize) -> Result<Named> {
    let (name, arch) = match word.split_once(':') {
        Some((a, b)) => (a, Some(b.to_owned())),
        None => (word, None),
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"+-._".contains(&c))
    };
    if !ok(name) || arch.as_deref().is_some_and(|a| !ok(a)) {
        return Err(Error::new(format!(
            "{file}:{n}: {word:?} is not a package name (NAME or NAME:ARCH)"
        )));
    }
    Ok(Named {
        name: name.to_owned(),
        arch,
    })
}

fn from_record(v: &Value, file: &str, n: usize, input: &mut Input) -> Result<()> {
    let pkg = match (v["kind"].as_str(), v["of"].as_str()) {
        (Some("change"), Some("package")) => {
            if v["after"].is_null() {
                if let Some(name) = v["before"]["name"].as_str() {
                    input.removed.push(name.to_owned());
                }
                return Ok(());
            }
            &v["after"]
        }
        (Some("package"), _) => v,
        _ => return Ok(()),
    };
    let Some(name) = pkg["name"].as_str() else {
        return Err(Error::new(format!(
            "{file}:{n}: a package record without a \"name\"; is this pkg-snap or snap-diff output?"
        )));
    };
    let arch = pkg["arch"].as_str().filter(|a| !a.is_empty());
    let word = match arch {
        Some(a) => format!("{name}:{a}"),
        None => name.to_owned(),
    };
    input.packages.push(named(&word, file, n)?);
    Ok(())
}

/// Bytes with every character special to a POSIX extended or PCRE
/// regular expression escaped; bytes that are not UTF-8 as `\xNN`.
fn escape(b: &[u8], out: &mut String) {
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            if "\\^$.|?*+()[]{}".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
        for x in chunk.invalid() {
            out.push_str(&format!("\\x{x:02x}"));
        }
    }
}

#[derive(Default)]
struct Node {
    end: bool,
    kids: BTreeMap<Vec<u8>, Node>,
}

/// One regular expression that matches exactly `paths` (absolute), from
/// its first character to its last: `^/(?:etc/(?:a|b)|usr/bin/c)$`. The
/// paths are folded into a tree of their components, so that thousands of
/// files in a few directories make a short expression.
///
/// No paths at all give `^$`, which matches no path: an empty `--limit`
/// would make `aide --update` re-baseline everything.
pub fn regex(paths: &[Vec<u8>]) -> String {
    if paths.is_empty() {
        return "^$".to_owned();
    }
    let mut top = Node::default();
    for p in paths {
        let mut n = &mut top;
        for comp in p.split(|&c| c == b'/').filter(|c| !c.is_empty()) {
            n = n.kids.entry(comp.to_vec()).or_default();
        }
        n.end = true;
    }
    let mut out = String::from("^/");
    alternatives(&top, &mut out);
    out.push('$');
    out
}

fn alternatives(n: &Node, out: &mut String) {
    let group = n.kids.len() > 1;
    if group {
        out.push_str("(?:");
    }
    for (i, (comp, kid)) in n.kids.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        escape(comp, out);
        if !kid.kids.is_empty() {
            if kid.end {
                out.push_str("(?:");
            }
            out.push('/');
            alternatives(kid, out);
            if kid.end {
                out.push_str(")?");
            }
        }
    }
    if group {
        out.push(')');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(p: &[&str]) -> Vec<Vec<u8>> {
        p.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn regex_folds_directories() {
        assert_eq!(
            regex(&paths(&["/usr/bin/a", "/usr/bin/b", "/etc/x.conf"])),
            r"^/(?:etc/x\.conf|usr/bin/(?:a|b))$"
        );
        assert_eq!(
            regex(&paths(&["/usr", "/usr/bin", "/usr/bin/a+b"])),
            r"^/usr(?:/bin(?:/a\+b)?)?$"
        );
        let odd = vec!["/a\u{e9}[1]".as_bytes().to_vec(), b"/b\xff".to_vec()];
        assert_eq!(regex(&odd), "^/(?:a\u{e9}\\[1\\]|b\\xff)$");
    }

    #[test]
    fn no_paths_match_nothing() {
        assert_eq!(regex(&[]), "^$");
    }

    #[test]
    fn input_takes_changes_records_and_names() {
        let data = br#"{"kind":"change","op":"changed","of":"package","key":{},"before":{"name":"a","arch":"amd64"},"after":{"name":"a","arch":"amd64"},"fields":["version"]}
{"kind":"change","op":"removed","of":"package","key":{},"before":{"name":"gone","arch":"all"},"after":null,"fields":[]}
{"kind":"change","op":"added","of":"process","key":{},"before":null,"after":{"name":"x"},"fields":[]}
{"kind":"package","name":"c","arch":"all"}
b libx:i386 # a comment
"#;
        let i = parse(data, "in").unwrap_or_default();
        let names: Vec<String> = i
            .packages
            .iter()
            .map(|p| format!("{}:{}", p.name, p.arch.as_deref().unwrap_or("*")))
            .collect();
        assert_eq!(names, ["a:amd64", "b:*", "c:all", "libx:i386"]);
        assert_eq!(i.removed, ["gone"]);
    }

    #[test]
    fn bad_input_names_file_and_line() {
        let e = parse(b"a\n{not json\n", "f").err().map(|e| e.to_string());
        assert!(e.unwrap_or_default().starts_with("f:2: "));
        let e = parse(b"a\nb/c\n", "f").err().map(|e| e.to_string());
        assert!(e.unwrap_or_default().starts_with("f:2: "));
    }
}
