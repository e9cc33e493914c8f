//! Shell words for the text views: a command line printed by a tool must be
//! something an admin can paste into a shell and get the same argv back, and
//! must never put a raw control character (an escape sequence in a hostile
//! argv) on the admin's terminal.
//!
//! The style is that of GNU `ls --quoting-style=shell-escape`: a word of
//! plain characters as it is; anything else inside single quotes, with `'`
//! written as `'\''`; control characters and bytes that are not UTF-8 as
//! `$'\xHH'` pieces (`$'\n'`, `$'\t'`), which bash, zsh, ksh, busybox sh and
//! POSIX.1-2024 shells read back byte for byte.

/// Bytes that need no quoting anywhere in a word.
fn plain(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"/._-+,:@%".contains(&c)
}

/// One word, quoted so that a shell reads back exactly `word`.
pub fn quote(word: &[u8]) -> String {
    quote_word(word, false)
}

/// Words joined by single spaces, each quoted; the first word is also
/// quoted when it has an `=` (a shell would read it as an assignment).
pub fn join<'a, I>(words: I) -> String
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut out = String::new();
    for (i, w) in words.into_iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&quote_word(w, i == 0));
    }
    out
}

fn quote_word(word: &[u8], first: bool) -> String {
    if !word.is_empty()
        && word
            .iter()
            .all(|&c| plain(c) || (c == b'=' && !first) || (c == b'~' && word[0] != b'~'))
    {
        // All bytes are ASCII here.
        return String::from_utf8_lossy(word).into_owned();
    }
    if word.is_empty() {
        return "''".to_owned();
    }
    let mut q = Quoter {
        out: String::with_capacity(word.len() + 2),
        open: Open::None,
    };
    let mut rest = word;
    while !rest.is_empty() {
        let (valid, bad) = match std::str::from_utf8(rest) {
            Ok(s) => (s, &rest[rest.len()..]),
            Err(e) => {
                let (v, b) = rest.split_at(e.valid_up_to());
                // Valid by construction: the prefix up to valid_up_to().
                (std::str::from_utf8(v).unwrap_or_default(), b)
            }
        };
        for ch in valid.chars() {
            if ch.is_control() {
                let mut buf = [0u8; 4];
                for b in ch.encode_utf8(&mut buf).bytes() {
                    q.escaped(b);
                }
            } else {
                q.literal(ch);
            }
        }
        if bad.is_empty() {
            break;
        }
        // One invalid sequence: as many bytes as the decoder rejects.
        let n = match std::str::from_utf8(bad) {
            Err(e) => e.error_len().unwrap_or(bad.len()),
            Ok(_) => bad.len(),
        };
        for &b in &bad[..n] {
            q.escaped(b);
        }
        rest = &bad[n..];
    }
    q.close();
    q.out
}

/// Which quotes are open while a word is written.
#[derive(PartialEq)]
enum Open {
    None,
    Single,
    Dollar,
}

struct Quoter {
    out: String,
    open: Open,
}

impl Quoter {
    fn switch(&mut self, to: Open) {
        if self.open == to {
            return;
        }
        self.close();
        match to {
            Open::Single => self.out.push('\''),
            Open::Dollar => self.out.push_str("$'"),
            Open::None => {}
        }
        self.open = to;
    }

    fn close(&mut self) {
        if self.open != Open::None {
            self.out.push('\'');
            self.open = Open::None;
        }
    }

    fn literal(&mut self, ch: char) {
        if ch == '\'' {
            // '\'' outside any quotes: an escaped quote.
            self.close();
            self.out.push_str("\\'");
        } else {
            self.switch(Open::Single);
            self.out.push(ch);
        }
    }

    fn escaped(&mut self, b: u8) {
        self.switch(Open::Dollar);
        match b {
            b'\n' => self.out.push_str("\\n"),
            b'\t' => self.out.push_str("\\t"),
            b'\r' => self.out.push_str("\\r"),
            _ => self.out.push_str(&format!("\\x{b:02x}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_as_they_are() {
        assert_eq!(quote(b"/usr/sbin/sshd"), "/usr/sbin/sshd");
        assert_eq!(quote(b"--port=22"), "--port=22");
        assert_eq!(join([&b"a=b"[..], b"c=d"]), "'a=b' c=d");
    }

    #[test]
    fn specials_are_single_quoted() {
        assert_eq!(quote(b""), "''");
        assert_eq!(quote(b"a b"), "'a b'");
        assert_eq!(quote(b"it's"), "'it'\\''s'");
        assert_eq!(quote(b"'"), "\\'");
        assert_eq!(quote(b"$'"), "'$'\\'");
        assert_eq!(quote(b"$HOME"), "'$HOME'");
        assert_eq!(quote(b"a\\b"), "'a\\b'");
        assert_eq!(quote(b"~root"), "'~root'");
        assert_eq!(quote(b"a~b"), "a~b");
    }

    #[test]
    fn control_and_invalid_bytes_are_escaped() {
        assert_eq!(quote(b"a\nb"), "'a'$'\\n''b'");
        assert_eq!(quote(b"\x1b[31m"), "$'\\x1b''[31m'");
        assert_eq!(quote(b"\xff\xfe"), "$'\\xff\\xfe'");
        assert_eq!(quote("é".as_bytes()), "'é'");
        assert!(!quote(b"\x07\x1b\x7f").bytes().any(|c| c.is_ascii_control()));
    }

    /// The words read back through a real shell are the words written.
    #[test]
    fn bash_reads_back_the_same_bytes() {
        let words: Vec<&[u8]> = vec![
            b"it's",
            b"a\\b",
            b"x\ny",
            b"$(id)",
            b"\xff\xc3",
            b"",
            b"\"q\"",
            b"\x1b[1m",
            b"a=b",
            b"'",
            b"$'\\x41'",
            "é\u{85}".as_bytes(),
        ];
        let line = join(words.iter().copied());
        let out = match std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("printf '%s\\0' {line}"))
            .output()
        {
            Ok(o) => o,
            Err(_) => return, // no bash: nothing to compare against
        };
        let got: Vec<&[u8]> = out.stdout.split(|&b| b == 0).collect();
        assert_eq!(&got[..got.len() - 1], &words[..], "line: {line}");
    }
}
