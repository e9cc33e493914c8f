//! Reading JSON Lines input (snapshots, manifests) with the file name and
//! line number in every error, so a bad record is one clear line on stderr.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{describe_io, Error, Result};

/// One JSON object per line from a file, or standard input for `-`.
pub struct Records {
    name: String,
    reader: Box<dyn BufRead>,
    line: u64,
    buf: Vec<u8>,
}

impl Records {
    /// Open `name` (`-` is standard input).
    pub fn open(name: &str) -> Result<Self> {
        let reader: Box<dyn BufRead> = if name == "-" {
            Box::new(BufReader::with_capacity(256 * 1024, io::stdin()))
        } else {
            let f = File::open(name).map_err(|e| Error::io(Path::new(name), &e))?;
            if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
                return Err(Error::new(format!(
                    "{name}: is a directory, not a JSON Lines file"
                )));
            }
            Box::new(BufReader::with_capacity(256 * 1024, f))
        };
        Ok(Self::from_reader(display_name(name), reader))
    }

    /// Records from any reader, named `name` in errors.
    pub fn from_reader(name: impl Into<String>, reader: impl Read + 'static) -> Self {
        Records {
            name: name.into(),
            reader: Box::new(BufReader::new(reader)),
            line: 0,
            buf: Vec::new(),
        }
    }

    /// The name used in messages (`<stdin>` for `-`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The next record and its line number; blank lines are skipped.
    pub fn next_record(&mut self) -> Result<Option<(u64, Map<String, Value>)>> {
        loop {
            self.buf.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut self.buf)
                .map_err(|e| Error::new(format!("{}: {}", self.name, describe_io(&e))))?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            let complete = self.buf.last() == Some(&b'\n');
            let text = trim_ascii(&self.buf);
            if text.is_empty() {
                continue;
            }
            return parse_line(&self.name, self.line, text, complete).map(|m| Some((self.line, m)));
        }
    }
}

/// Parse one trimmed, non-blank line of `name` (line number `line`) into a
/// record, with the messages every reader of records gives. `complete` says
/// whether the line ended with a newline: a line cut inside a record at the
/// end of a file is a truncated snapshot, not garbage.
pub fn parse_line(
    name: &str,
    line: u64,
    text: &[u8],
    complete: bool,
) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(Error::at(
            name,
            line,
            format!(
                "expected a JSON object (a record), found {}; is this JSON Lines output of a patch-day tool?",
                type_name(&other)
            ),
        )),
        Err(e) if !complete && e.is_eof() => Err(Error::at(
            name,
            line,
            "truncated last line (the file ends inside a record); was the snapshot cut short?",
        )),
        Err(e) => Err(Error::at(
            name,
            line,
            format!(
                "not JSON ({}); expected one JSON object per line",
                strip_serde_position(&e.to_string())
            ),
        )),
    }
}

impl Iterator for Records {
    type Item = Result<(u64, Map<String, Value>)>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

fn display_name(name: &str) -> String {
    if name == "-" {
        "<stdin>".to_owned()
    } else {
        name.to_owned()
    }
}

/// Leading and trailing ASCII whitespace off (how a line is read).
pub fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |p| p + 1);
    &b[start..end]
}

/// serde_json says "... at line 1 column 5"; our line is the file's.
fn strip_serde_position(s: &str) -> String {
    match s.find(" at line ") {
        Some(p) => s[..p].to_owned(),
        None => s.to_owned(),
    }
}

/// JSON type names for messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &'static str) -> Result<Vec<(u64, Map<String, Value>)>> {
        Records::from_reader("t.json", input.as_bytes()).collect()
    }

    #[test]
    fn reads_objects_with_line_numbers_skipping_blanks() {
        let r = all("{\"a\":1}\n\n{\"a\":2}\n").expect("ok");
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].0, 3);
        assert_eq!(r[1].1["a"], 2);
    }

    #[test]
    fn last_line_without_newline_is_fine_when_complete() {
        assert_eq!(all("{\"a\":1}\n{\"a\":2}").expect("ok").len(), 2);
    }

    #[test]
    fn truncated_last_line_is_named() {
        let e = all("{\"a\":1}\n{\"a\":").expect_err("truncated");
        assert_eq!(e.code(), 2);
        assert!(e.to_string().starts_with("t.json:2: truncated"), "{e}");
    }

    #[test]
    fn non_object_and_garbage_are_named() {
        let e = all("[1,2]\n").expect_err("array");
        assert!(
            e.to_string()
                .starts_with("t.json:1: expected a JSON object"),
            "{e}"
        );
        let e = all("{\"a\":1}\nUSER PID\n").expect_err("text");
        assert!(e.to_string().starts_with("t.json:2: not JSON"), "{e}");
    }

    #[test]
    fn missing_file_is_named() {
        let e = Records::open("/nonexistent/before.json")
            .err()
            .expect("missing");
        assert!(
            e.to_string()
                .starts_with("/nonexistent/before.json: no such file"),
            "{e}"
        );
    }
}
