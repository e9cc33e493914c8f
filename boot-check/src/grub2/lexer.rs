//! The lexer: grub.cfg split into words and separators the way GRUB's
//! script reader does it (grub-core/script/lexer.c and yylex.l): `'...'`,
//! `"..."` and `\` quoting, `$name`/`${name}` variables, `#` comments, `;`
//! and newlines, and `{ }` where they stand alone. A word keeps its variables
//! apart from its literal text, to be expanded once their values are known.

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Piece {
    Lit(String),
    Var(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Word {
    pub(super) pieces: Vec<Piece>,
}

impl Word {
    pub(super) fn expand(
        &self,
        vars: &dyn Fn(&str) -> Option<String>,
        unset: &mut Vec<String>,
    ) -> String {
        let mut s = String::new();
        for p in &self.pieces {
            match p {
                Piece::Lit(l) => s.push_str(l),
                Piece::Var(v) => match vars(v) {
                    Some(val) => s.push_str(&val),
                    None => {
                        if !unset.contains(v) {
                            unset.push(v.clone());
                        }
                    }
                },
            }
        }
        s
    }

    /// The word with variables left as `${name}` (for display and for
    /// deciding what a `set default=` refers to).
    pub(super) fn raw(&self) -> String {
        let mut s = String::new();
        for p in &self.pieces {
            match p {
                Piece::Lit(l) => s.push_str(l),
                Piece::Var(v) => {
                    s.push_str("${");
                    s.push_str(v);
                    s.push('}');
                }
            }
        }
        s
    }

    pub(super) fn is_var(&self, name: &str) -> bool {
        matches!(self.pieces.as_slice(), [Piece::Var(v)] if v == name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Word(Word, usize),
    Sep,
    Open(usize),
    Close(usize),
}

/// Split a script into tokens; an unterminated quote is a problem at the
/// line where it opened.
pub(super) fn lex(src: &str) -> (Vec<Tok>, Option<(usize, String)>) {
    let b: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let n = b.len();
    while i < n {
        let c = b[i];
        match c {
            ' ' | '\t' | '\r' | '\x0c' => {
                i += 1;
                continue;
            }
            '\n' => {
                toks.push(Tok::Sep);
                line += 1;
                i += 1;
                continue;
            }
            ';' => {
                toks.push(Tok::Sep);
                i += 1;
                continue;
            }
            '#' => {
                while i < n && b[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '{' | '}' if i + 1 >= n || matches!(b[i + 1], ' ' | '\t' | '\r' | '\n' | ';') => {
                toks.push(if c == '{' {
                    Tok::Open(line)
                } else {
                    Tok::Close(line)
                });
                i += 1;
                continue;
            }
            _ => {}
        }
        // A word.
        let start_line = line;
        let mut pieces: Vec<Piece> = Vec::new();
        let mut lit = String::new();
        while i < n {
            let c = b[i];
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' | '\x0c' => break,
                '\\' => {
                    if i + 1 < n {
                        if b[i + 1] == '\n' {
                            line += 1;
                        } else {
                            lit.push(b[i + 1]);
                        }
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
                '\'' => {
                    let open = line;
                    i += 1;
                    while i < n && b[i] != '\'' {
                        if b[i] == '\n' {
                            line += 1;
                        }
                        lit.push(b[i]);
                        i += 1;
                    }
                    if i >= n {
                        return (
                            toks,
                            Some((open, "a quote (') opened here is not closed".into())),
                        );
                    }
                    i += 1;
                }
                '"' => {
                    let open = line;
                    i += 1;
                    loop {
                        if i >= n {
                            return (
                                toks,
                                Some((open, "a quote (\") opened here is not closed".into())),
                            );
                        }
                        match b[i] {
                            '"' => {
                                i += 1;
                                break;
                            }
                            '\\' if i + 1 < n && matches!(b[i + 1], '$' | '"' | '\\' | '\n') => {
                                if b[i + 1] == '\n' {
                                    line += 1;
                                } else {
                                    lit.push(b[i + 1]);
                                }
                                i += 2;
                            }
                            '$' => i = dollar(&b, i, &mut lit, &mut pieces),
                            ch => {
                                if ch == '\n' {
                                    line += 1;
                                }
                                lit.push(ch);
                                i += 1;
                            }
                        }
                    }
                }
                '$' => i = dollar(&b, i, &mut lit, &mut pieces),
                ch => {
                    lit.push(ch);
                    i += 1;
                }
            }
        }
        flush(&mut lit, &mut pieces);
        if pieces.is_empty() {
            // An empty quoted word ('' or "") is still a word.
            pieces.push(Piece::Lit(String::new()));
        }
        toks.push(Tok::Word(Word { pieces }, start_line));
    }
    (toks, None)
}

/// Move literal text read so far into the word's pieces.
fn flush(lit: &mut String, pieces: &mut Vec<Piece>) {
    if !lit.is_empty() {
        pieces.push(Piece::Lit(std::mem::take(lit)));
    }
}

/// A `$` at `b[i]`, inside or outside double quotes: a variable piece, or a
/// literal `$` when no name follows; the index after it.
fn dollar(b: &[char], i: usize, lit: &mut String, pieces: &mut Vec<Piece>) -> usize {
    match var_at(b, i) {
        Some((name, next)) => {
            flush(lit, pieces);
            pieces.push(Piece::Var(name));
            next
        }
        None => {
            lit.push('$');
            i + 1
        }
    }
}

/// `$name`, `${name}`, `$1`, `$?` at `b[i] == '$'`: the name and the index after.
fn var_at(b: &[char], i: usize) -> Option<(String, usize)> {
    let mut j = i + 1;
    if j < b.len() && b[j] == '{' {
        let start = j + 1;
        j = start;
        while j < b.len() && b[j] != '}' && b[j] != '\n' {
            j += 1;
        }
        if j >= b.len() || b[j] != '}' {
            return None;
        }
        return Some((b[start..j].iter().collect(), j + 1));
    }
    if j < b.len() && matches!(b[j], '?' | '@' | '#') {
        return Some((b[j].to_string(), j + 1));
    }
    let start = j;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == '_') {
        j += 1;
    }
    (j > start).then(|| (b[start..j].iter().collect(), j))
}

/// Expand `$name` / `${name}` in plain text (BLS `options`).
pub fn expand_plain(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> (String, Vec<String>) {
    let b: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut unset = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == '$' {
            if let Some((name, next)) = var_at(&b, i) {
                match lookup(&name) {
                    Some(v) => out.push_str(&v),
                    None => {
                        if !unset.contains(&name) {
                            unset.push(name);
                        }
                    }
                }
                i = next;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    let norm = out.split_whitespace().collect::<Vec<_>>().join(" ");
    (norm, unset)
}
