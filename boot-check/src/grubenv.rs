//! GRUB's environment block (`grubenv`): exactly 1024 bytes, starting with
//! the line `# GRUB Environment Block`, `name=value` lines (with `\\` and
//! `\n` escapes) and `#` padding to the end. GRUB's `load_env` refuses a
//! block that is not exactly that and then loads nothing, so an invalid
//! block means every `saved_entry`, `next_entry` and `kernelopts` is unset at
//! boot; the parser returns the variables only when the block is valid.

use std::collections::BTreeMap;

pub const SIZE: usize = 1024;
pub const HEADER: &[u8] = b"# GRUB Environment Block\n";

/// A read grubenv: its variables when valid, or the problem and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrubEnv {
    pub vars: BTreeMap<String, String>,
    /// What GRUB would refuse, with the 1-based line (0: the whole file).
    pub problem: Option<(usize, String)>,
}

/// Validate and parse an environment block.
pub fn parse(data: &[u8]) -> GrubEnv {
    let fail = |line: usize, msg: String| GrubEnv {
        vars: BTreeMap::new(),
        problem: Some((line, msg)),
    };
    if data.is_empty() {
        return fail(1, "is empty (0 bytes; GRUB needs a 1024-byte block)".into());
    }
    if !data.starts_with(HEADER) {
        return fail(1, "does not start with \"# GRUB Environment Block\"".into());
    }
    if data.len() != SIZE {
        return fail(
            0,
            format!(
                "is {} bytes long; GRUB only loads a block of exactly {SIZE} bytes",
                data.len()
            ),
        );
    }
    let mut vars = BTreeMap::new();
    let body = &data[HEADER.len()..];
    let mut line_no = 1;
    let mut pos = 0;
    while pos < body.len() {
        line_no += 1;
        let end = body[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|n| pos + n);
        let line = &body[pos..end.unwrap_or(body.len())];
        if line.first() == Some(&b'#') {
            // Padding: only '#' (and newlines) may follow to the end.
            if let Some(off) = body[pos..].iter().position(|&b| b != b'#' && b != b'\n') {
                let bad = pos + off;
                let l = line_no + body[pos..bad].iter().filter(|&&b| b == b'\n').count();
                return fail(l, "has bytes other than '#' in its padding".into());
            }
            break;
        }
        if end.is_none() {
            return fail(line_no, "has a last line without newline or padding".into());
        }
        let text = match std::str::from_utf8(line) {
            Ok(t) => t,
            Err(_) => return fail(line_no, "has a line that is not text".into()),
        };
        match text.split_once('=') {
            Some((name, value)) if !name.is_empty() && !name.contains(['\0', ' ']) => {
                vars.insert(name.to_owned(), unescape(value));
            }
            _ => {
                return fail(
                    line_no,
                    format!("has a line that is not name=value: {text:?}"),
                );
            }
        }
        pos = end.map_or(body.len(), |e| e + 1);
    }
    GrubEnv {
        vars,
        problem: None,
    }
}

fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut it = v.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Build a valid block (tests and fixtures).
pub fn build(vars: &[(&str, &str)]) -> Vec<u8> {
    let mut v = HEADER.to_vec();
    for (k, val) in vars {
        v.extend_from_slice(format!("{k}={val}\n").as_bytes());
    }
    while v.len() < SIZE {
        v.push(b'#');
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_block() {
        let env = parse(&build(&[
            ("saved_entry", "a>b"),
            ("kernelopts", "root=/dev/sda1 ro"),
        ]));
        assert_eq!(env.problem, None);
        assert_eq!(env.vars["saved_entry"], "a>b");
        assert_eq!(env.vars["kernelopts"], "root=/dev/sda1 ro");
    }

    #[test]
    fn invalid_blocks_load_nothing() {
        let e = parse(b"");
        assert_eq!(e.problem.as_ref().map(|p| p.0), Some(1));
        assert!(e.vars.is_empty());
        let mut short = build(&[("saved_entry", "0")]);
        short.truncate(1000);
        let e = parse(&short);
        assert!(e.problem.expect("problem").1.contains("1000 bytes"));
        assert!(e.vars.is_empty());
        let mut bad = build(&[]);
        bad[0] = b'X';
        assert!(parse(&bad).problem.is_some());
        let mut junk = build(&[("a", "b")]);
        junk[500] = 0;
        let e = parse(&junk);
        assert_eq!(e.problem.expect("padding").0, 3);
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x: u32 = 12345;
        for n in 0..2000 {
            let mut v = build(&[("saved_entry", "x")]);
            for _ in 0..(n % 7) {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let i = (x as usize >> 8) % v.len();
                v[i] = (x >> 3) as u8;
            }
            v.truncate(v.len() - (n % 50));
            let _ = parse(&v);
        }
    }
}
