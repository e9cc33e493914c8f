//! The `[Install]` section of a unit file, read the way systemd's
//! `config_parse()` reads it (src/shared/conf-parser.c): comments (`#`, `;`),
//! a byte order mark, lines continued by a trailing backslash, section
//! headers, `Key=Value` with white space trimmed. Only the keys
//! `systemctl is-enabled` looks at are kept, in file order, so that an empty
//! assignment can reset a list as systemd's does.

/// An `[Install]` key that decides the unit-file state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Alias,
    WantedBy,
    RequiredBy,
    DefaultInstance,
    Also,
}

/// The `[Install]` assignments of a file, in order, or why systemd would
/// refuse the file (it then reports the unit as `bad`).
pub fn install_section(text: &[u8]) -> Result<Vec<(Key, String)>, String> {
    let mut out = Vec::new();
    let mut in_install = false;
    let mut continuation: Option<Vec<u8>> = None;
    let mut first = true;
    for raw in lines(text) {
        let lead = raw.iter().position(|c| !is_space(*c)).unwrap_or(raw.len());
        if matches!(raw.get(lead), Some(b'#' | b';')) {
            continue;
        }
        let mut l = raw;
        if first {
            first = false;
            if let Some(rest) = l.strip_prefix(b"\xef\xbb\xbf") {
                l = rest;
            }
        }
        let mut p = match continuation.take() {
            Some(mut c) => {
                c.extend_from_slice(l);
                c
            }
            None => l.to_vec(),
        };
        let mut escaped = false;
        for &c in &p {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            }
        }
        if escaped {
            if let Some(last) = p.last_mut() {
                *last = b' ';
            }
            continuation = Some(p);
            continue;
        }
        line(&mut p, &mut in_install, &mut out)?;
    }
    // A file that ends inside a continuation: systemd parses what it has.
    if let Some(mut p) = continuation {
        line(&mut p, &mut in_install, &mut out)?;
    }
    Ok(out)
}

/// One logical line (`parse_line`).
fn line(p: &mut [u8], in_install: &mut bool, out: &mut Vec<(Key, String)>) -> Result<(), String> {
    let l = strip(p);
    if l.is_empty() {
        return Ok(());
    }
    let Ok(l) = std::str::from_utf8(l) else {
        return Err("a line is not valid UTF-8".to_owned());
    };
    if let Some(rest) = l.strip_prefix('[') {
        let Some(name) = rest.strip_suffix(']') else {
            return Err(format!("invalid section header '{l}'"));
        };
        if name
            .chars()
            .any(|c| c < ' ' || c == '\x7f' || matches!(c, '\\' | '"' | '\''))
        {
            return Err(format!("bad characters in section header '{l}'"));
        }
        *in_install = name == "Install";
        return Ok(());
    }
    if !*in_install {
        return Ok(());
    }
    let Some(eq) = l.find('=') else {
        return Ok(());
    };
    if eq == 0 {
        return Ok(());
    }
    let key = match strip_str(&l[..eq]) {
        "Alias" => Key::Alias,
        "WantedBy" => Key::WantedBy,
        "RequiredBy" => Key::RequiredBy,
        "DefaultInstance" => Key::DefaultInstance,
        "Also" => Key::Also,
        _ => return Ok(()),
    };
    out.push((key, strip_str(&l[eq + 1..]).to_owned()));
    Ok(())
}

/// Lines as `read_line()` ends them: `\n`, `\r\n`, `\r` or NUL.
fn lines(text: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'\n' | b'\0' => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                out.push(&text[start..i]);
                if text.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

fn strip(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|c| !is_space(*c)).unwrap_or(b.len());
    let e = b.iter().rposition(|c| !is_space(*c)).map_or(s, |e| e + 1);
    &b[s..e.max(s)]
}

fn strip_str(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

/// The words of a list value, split as `extract_first_word(...,
/// EXTRACT_UNQUOTE|EXTRACT_RETAIN_ESCAPE)` splits them: white space
/// separates, quotes group and are removed, backslash escapes are kept.
pub fn words(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut quote: Option<char> = None;
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                cur.push('\\');
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                have = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                have = true;
            }
            (None, c) if c.is_whitespace() => {
                if have {
                    out.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            (None, c) => {
                cur.push(c);
                have = true;
            }
        }
    }
    if have {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_keys_in_order_with_comments_and_continuations() {
        let text = b"\xef\xbb\xbf[Unit]\nDescription=x\nWantedBy=not-install.target\n\n\
            [Install]\n  # comment\n; other\nWantedBy=multi-user.target \\\n  graphical.target\n\
            Alias = sshd.service\r\nAlso=ssh.socket\nX=1\n[X-Vendor]\nWantedBy=nope.target\n";
        let got = install_section(text).expect("parse");
        assert_eq!(
            got,
            vec![
                (
                    Key::WantedBy,
                    "multi-user.target    graphical.target".to_owned()
                ),
                (Key::Alias, "sshd.service".to_owned()),
                (Key::Also, "ssh.socket".to_owned()),
            ]
        );
        assert_eq!(
            words("multi-user.target    graphical.target"),
            ["multi-user.target", "graphical.target"]
        );
    }

    #[test]
    fn a_broken_section_header_is_refused() {
        assert!(install_section(b"[Install\nWantedBy=a.target\n").is_err());
        assert!(install_section(b"[Install]\nWantedBy=\xff.target\n").is_err());
    }

    #[test]
    fn words_unquote() {
        assert_eq!(words(" a 'b c' \"d\"  "), ["a", "b c", "d"]);
        assert_eq!(words(""), Vec::<String>::new());
    }
}
