//! Conditions: which `if` branches run at boot, worked out where a branch
//! only tests what is known before boot (grubenv's variables, grub.cfg's own
//! `set`s). GRUB runs `if`/`elif`/`else` as in grub-core/script/execute.c
//! (grub_script_execute_cmdif) and evaluates `[ ... ]` and `test ...` in
//! grub-core/commands/test.c; the string tests (`-n`, `-z`, `=`, `==`, `!=`,
//! `!`, `-a`, `-o`) are decided here, anything else is unknown.

use std::collections::BTreeMap;

use super::lexer::{Piece, Word};

/// Whether a statement runs at boot, by the `if` branches around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Runs {
    Always,
    Maybe,
    Never,
}

/// The value of a test or condition, where it can be known before boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Truth {
    Yes,
    No,
    Unknown,
}

/// One open `if`: whether the current branch runs, and what earlier
/// branches of the same `if` did (an `else` runs only when none did).
#[derive(Debug, Clone, Copy)]
pub(super) struct Branch {
    cur: Truth,
    any_yes: bool,
    any_unknown: bool,
}

impl Branch {
    pub(super) fn open(c: Truth) -> Self {
        Branch {
            cur: c,
            any_yes: c == Truth::Yes,
            any_unknown: c == Truth::Unknown,
        }
    }

    pub(super) fn elif(&mut self, c: Truth) {
        self.cur = if self.any_yes {
            Truth::No
        } else if self.any_unknown && c != Truth::No {
            Truth::Unknown
        } else {
            c
        };
        self.any_yes |= self.cur == Truth::Yes;
        self.any_unknown |= self.cur == Truth::Unknown;
    }

    pub(super) fn otherwise(&mut self) {
        self.cur = if self.any_yes {
            Truth::No
        } else if self.any_unknown {
            Truth::Unknown
        } else {
            Truth::Yes
        };
    }
}

pub(super) fn branch_state(conds: &[Branch]) -> Runs {
    if conds.iter().any(|b| b.cur == Truth::No) {
        Runs::Never
    } else if conds.iter().any(|b| b.cur == Truth::Unknown) {
        Runs::Maybe
    } else {
        Runs::Always
    }
}

/// GRUB's own variables, set at boot: their value is not known here.
fn is_builtin(name: &str) -> bool {
    name.starts_with("feature_")
        || name.starts_with("net_")
        || matches!(
            name,
            "prefix"
                | "root"
                | "cmdpath"
                | "config_directory"
                | "config_file"
                | "grub_platform"
                | "grub_cpu"
                | "fw_path"
                | "chosen"
                | "default"
                | "lang"
                | "locale_dir"
                | "?"
                | "@"
                | "#"
        )
}

/// A variable's value for deciding an `if` before boot: a `set` that surely
/// ran, else grubenv, else unset (empty); `None` when it cannot be known.
/// `next_entry` counts as unset: the default is read as it is after any
/// one-time boot, which is checked on its own.
pub(super) fn known_value(
    name: &str,
    env: &BTreeMap<String, String>,
    cfg_vars: &BTreeMap<String, (Word, bool)>,
) -> Option<String> {
    if name == "next_entry" {
        return Some(String::new());
    }
    if let Some((w, sure)) = cfg_vars.get(name) {
        return match (sure, w.pieces.as_slice()) {
            (true, []) => Some(String::new()),
            (true, [Piece::Lit(l)]) => Some(l.clone()),
            _ => None,
        };
    }
    if is_builtin(name) || name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(env.get(name).cloned().unwrap_or_default())
}

/// Evaluate the condition of an `if` (`[ ... ]` or `test ...` with `-n`,
/// `-z`, `=`, `==`, `!=`, `!`, `-a`, `-o`); anything else (file tests,
/// commands such as `loadfont`) is unknown.
pub(super) fn eval_test(words: &[(Word, usize)], known: &dyn Fn(&str) -> Option<String>) -> Truth {
    let raw: Vec<String> = words.iter().map(|(w, _)| w.raw()).collect();
    let body = match raw.first().map(String::as_str) {
        Some("[") if raw.last().map(String::as_str) == Some("]") && raw.len() >= 2 => {
            &words[1..words.len() - 1]
        }
        Some("test") => &words[1..],
        _ => return Truth::Unknown,
    };
    // Each word: its literal operator text and its value (None: unknown).
    let args: Vec<(String, Option<String>)> = body
        .iter()
        .map(|(w, _)| {
            let mut unknown = Vec::new();
            let v = w.expand(known, &mut unknown);
            (w.raw(), unknown.is_empty().then_some(v))
        })
        .collect();
    let or = |xs: Vec<Truth>| {
        if xs.contains(&Truth::Yes) {
            Truth::Yes
        } else if xs.contains(&Truth::Unknown) {
            Truth::Unknown
        } else {
            Truth::No
        }
    };
    let and = |xs: Vec<Truth>| {
        if xs.contains(&Truth::No) {
            Truth::No
        } else if xs.contains(&Truth::Unknown) {
            Truth::Unknown
        } else {
            Truth::Yes
        }
    };
    let primary = |mut t: &[(String, Option<String>)]| -> Truth {
        let mut negate = false;
        while t.first().is_some_and(|(r, _)| r == "!") {
            negate = !negate;
            t = &t[1..];
        }
        let v = match t {
            [(_, Some(x))] => Some(!x.is_empty()),
            [(op, _), (_, Some(x))] if op == "-n" => Some(!x.is_empty()),
            [(op, _), (_, Some(x))] if op == "-z" => Some(x.is_empty()),
            [(_, Some(a)), (op, _), (_, Some(b))] if op == "=" || op == "==" => Some(a == b),
            [(_, Some(a)), (op, _), (_, Some(b))] if op == "!=" => Some(a != b),
            _ => None,
        };
        match v {
            Some(b) if b != negate => Truth::Yes,
            Some(_) => Truth::No,
            None => Truth::Unknown,
        }
    };
    or(args
        .split(|(r, _)| r == "-o")
        .map(|alt| and(alt.split(|(r, _)| r == "-a").map(primary).collect()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grub2::lexer::{lex, Tok};

    #[test]
    fn tests_of_if() {
        let env: BTreeMap<String, String> =
            [("a".to_string(), "1".to_string())].into_iter().collect();
        let vars = BTreeMap::new();
        let known = |n: &str| known_value(n, &env, &vars);
        let t = |src: &str| {
            let (toks, _) = lex(src);
            let words: Vec<(Word, usize)> = toks
                .into_iter()
                .filter_map(|t| match t {
                    Tok::Word(w, l) => Some((w, l)),
                    _ => None,
                })
                .collect();
            eval_test(&words, &known)
        };
        assert_eq!(t("[ \"${a}\" ]"), Truth::Yes);
        assert_eq!(t("[ \"${b}\" ]"), Truth::No);
        assert_eq!(t("[ -z \"$b\" ]"), Truth::Yes);
        assert_eq!(t("[ ! -n \"$a\" ]"), Truth::No);
        assert_eq!(t("[ \"$a\" = 1 -a \"$b\" = \"\" ]"), Truth::Yes);
        assert_eq!(t("[ \"$b\" = 1 -o \"$a\" != 2 ]"), Truth::Yes);
        assert_eq!(t("[ x$feature_x = xy ]"), Truth::Unknown);
        assert_eq!(t("[ x$feature_x = xy -a \"$b\" ]"), Truth::No);
        assert_eq!(t("[ -f $prefix/x ]"), Truth::Unknown);
        assert_eq!(t("loadfont unicode"), Truth::Unknown);
        assert_eq!(t("[ \"$a\""), Truth::Unknown);
    }
}
