//! GRUB's environment block (`grubenv`): grub-editenv writes exactly 1024
//! bytes, starting with the line `# GRUB Environment Block`, `name=value`
//! lines (with `\\` and `\n` escapes) and `#` padding to the end.
//!
//! The block is validated against that form (a block of another size or
//! with junk was edited by hand or damaged), and its variables are read the
//! way GRUB's `load_env` reads them (`grub_envblk_iterate`): a block without
//! the header loads nothing; otherwise `#` lines are skipped and the
//! variables up to the first broken line (no `=`, no newline) are loaded,
//! whatever the size. So the default is resolved with what GRUB will have.

use std::collections::BTreeMap;

pub const SIZE: usize = 1024;
pub const HEADER: &[u8] = b"# GRUB Environment Block\n";

/// A read grubenv: the variables GRUB loads from it, and what is wrong with
/// it, if anything, with the 1-based line (0: the whole file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrubEnv {
    pub vars: BTreeMap<String, String>,
    pub problem: Option<(usize, String)>,
    /// GRUB loads nothing from it (empty, or no header).
    pub ignored: bool,
}

/// Validate an environment block and read it as GRUB does.
pub fn parse(data: &[u8]) -> GrubEnv {
    let ignored = |line: usize, msg: &str| GrubEnv {
        vars: BTreeMap::new(),
        problem: Some((line, msg.to_owned())),
        ignored: true,
    };
    if data.is_empty() {
        // grub.cfg runs load_env only `if [ -s $prefix/grubenv ]`.
        return ignored(1, "is empty (0 bytes; GRUB needs a 1024-byte block)");
    }
    if !data.starts_with(HEADER) {
        return ignored(1, "does not start with \"# GRUB Environment Block\"");
    }
    GrubEnv {
        vars: grub_vars(&data[HEADER.len()..]),
        problem: validate(data),
        ignored: false,
    }
}

/// The variables as `grub_envblk_iterate` yields them from the body.
fn grub_vars(body: &[u8]) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    let mut p = 0;
    // After a line: the byte past its newline (a backslash escapes one).
    let next_line = |mut p: usize| {
        while p < body.len() {
            match body[p] {
                b'\\' => p += 2,
                b'\n' => break,
                _ => p += 1,
            }
        }
        p + 1
    };
    while p < body.len() {
        if body[p] != b'#' {
            let Some(eq) = body[p..].iter().position(|&b| b == b'=').map(|n| p + n) else {
                return vars;
            };
            let mut q = eq + 1;
            while q < body.len() && body[q] != b'\n' {
                q += if body[q] == b'\\' { 2 } else { 1 };
            }
            if q >= body.len() {
                return vars;
            }
            let name = String::from_utf8_lossy(&body[p..eq]).into_owned();
            let value = unescape(&String::from_utf8_lossy(&body[eq + 1..q]));
            vars.insert(name, value);
            // GRUB goes on after the value's newline.
            p = q;
        }
        p = next_line(p);
    }
    vars
}

/// What grub-editenv would not have written: the first problem.
fn validate(data: &[u8]) -> Option<(usize, String)> {
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
                return Some((l, "has bytes other than '#' in its padding".into()));
            }
            break;
        }
        if end.is_none() {
            return Some((line_no, "has a last line without newline or padding".into()));
        }
        let text = match std::str::from_utf8(line) {
            Ok(t) => t,
            Err(_) => return Some((line_no, "has a line that is not text".into())),
        };
        match text.split_once('=') {
            Some((name, _)) if !name.is_empty() && !name.contains(['\0', ' ']) => {}
            _ => {
                return Some((
                    line_no,
                    format!("has a line that is not name=value: {text:?}"),
                ));
            }
        }
        pos = end.map_or(body.len(), |e| e + 1);
    }
    (data.len() != SIZE).then(|| {
        (
            0,
            format!(
                "is {} bytes long, not the {SIZE} bytes grub-editenv writes (edited by hand, or cut short)",
                data.len()
            ),
        )
    })
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
    fn damaged_blocks_are_problems_and_read_as_grub_reads_them() {
        let e = parse(b"");
        assert_eq!(e.problem.as_ref().map(|p| p.0), Some(1));
        assert!(e.vars.is_empty() && e.ignored);
        let mut bad = build(&[("saved_entry", "0")]);
        bad[0] = b'X';
        let e = parse(&bad);
        assert!(e.problem.is_some() && e.ignored && e.vars.is_empty());
        // Cut short: GRUB still loads the complete lines.
        let mut short = build(&[("saved_entry", "0"), ("kernelopts", "root=/dev/x")]);
        short.truncate(1000);
        let e = parse(&short);
        assert!(e.problem.expect("problem").1.contains("1000 bytes"));
        assert!(!e.ignored);
        assert_eq!(e.vars["saved_entry"], "0");
        assert_eq!(e.vars["kernelopts"], "root=/dev/x");
        // Junk in the padding: a problem; the variables before it load.
        let mut junk = build(&[("a", "b")]);
        junk[500] = 0;
        let e = parse(&junk);
        assert_eq!(e.problem.expect("padding").0, 3);
        assert_eq!(e.vars["a"], "b");
        // A broken line ends what GRUB loads.
        let mut v = HEADER.to_vec();
        v.extend_from_slice(b"saved_entry=1\nnot a variable\nnext_entry=2\n");
        v.resize(SIZE, b'#');
        let e = parse(&v);
        assert_eq!(e.problem.as_ref().map(|p| p.0), Some(3));
        assert_eq!(e.vars.get("saved_entry").map(String::as_str), Some("1"));
        assert_eq!(e.vars.get("next_entry"), None, "{:?}", e.vars);
        // Hand-edited with comments and an escaped newline: all of it loads.
        let mut v = HEADER.to_vec();
        v.extend_from_slice(b"# mine\nsaved_entry=a\\\nb\n");
        let e = parse(&v);
        assert_eq!(e.vars["saved_entry"], "a\nb");
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
