//! GRUB 2 `grub.cfg`, read the way GRUB's script reader splits it: words
//! with `'...'`, `"..."` and `\` quoting, `$name`/`${name}` variables,
//! `#` comments, `;` and newlines, `{ }` blocks of `menuentry`, `submenu` and
//! `function`. `if`/`else` are not evaluated: every branch is read, and the
//! few decisions that matter are made the way grub-mkconfig's output means
//! them:
//! - the default is the last `set default=` outside any entry that is not
//!   `${next_entry}`; `${saved_entry}` there is grubenv's `saved_entry`
//!   (empty: entry 0); without any `set default`, /etc/default/grub's
//!   GRUB_DEFAULT (`saved` meaning grubenv's `saved_entry`);
//! - `next_entry` in a valid grubenv is the one-time entry of `grub-reboot`;
//! - a variable is grubenv's value when set there, else the last top-level
//!   `set` in grub.cfg (this is grub.cfg's `if [ -z "${kernelopts}" ]`
//!   fallback);
//! - `blscfg` inserts the Boot Loader Specification entries, sorted, where it
//!   stands, their `options` expanded with those variables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::model::{Config, DefaultSpec, Entry, Item, Loader, Problem};

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Lit(String),
    Var(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Word {
    pieces: Vec<Piece>,
}

impl Word {
    fn expand(&self, vars: &dyn Fn(&str) -> Option<String>, unset: &mut Vec<String>) -> String {
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
    fn raw(&self) -> String {
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

    fn is_var(&self, name: &str) -> bool {
        matches!(self.pieces.as_slice(), [Piece::Var(v)] if v == name)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(Word, usize),
    Sep,
    Open(usize),
    Close(usize),
}

/// Split a script into tokens; an unterminated quote is a problem at the
/// line where it opened.
fn lex(src: &str) -> (Vec<Tok>, Option<(usize, String)>) {
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
        let flush = |lit: &mut String, pieces: &mut Vec<Piece>| {
            if !lit.is_empty() {
                pieces.push(Piece::Lit(std::mem::take(lit)));
            }
        };
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
                            '$' => {
                                if let Some((name, next)) = var_at(&b, i) {
                                    flush(&mut lit, &mut pieces);
                                    pieces.push(Piece::Var(name));
                                    i = next;
                                } else {
                                    lit.push('$');
                                    i += 1;
                                }
                            }
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
                '$' => {
                    if let Some((name, next)) = var_at(&b, i) {
                        flush(&mut lit, &mut pieces);
                        pieces.push(Piece::Var(name));
                        i = next;
                    } else {
                        lit.push('$');
                        i += 1;
                    }
                }
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

/// What is being read inside `{ }`.
enum Frame {
    Entry(usize),
    Submenu {
        title: String,
        id: Option<String>,
        children: Vec<Item>,
        line: usize,
    },
    /// A `function` body (run only when called), with its line.
    Other(usize),
}

/// The inputs beside grub.cfg itself.
pub struct Inputs<'a> {
    /// Variables of a valid grubenv (empty when missing or invalid).
    pub env: &'a BTreeMap<String, String>,
    /// Where grubenv is (system path), for messages.
    pub env_file: PathBuf,
    /// BLS entries, sorted, options not yet expanded.
    pub bls: Vec<Entry>,
    /// GRUB_DEFAULT from /etc/default/grub, with its line.
    pub grub_default: Option<(String, usize)>,
    /// Read a file that `source` or `configfile` names (the path as GRUB
    /// sees it, device removed): its system path and text.
    pub include: &'a dyn Fn(&str) -> Option<(PathBuf, String)>,
}

/// The most files `source` and `configfile` bring in (a file that sources
/// itself is read once).
const MAX_INCLUDES: usize = 16;

/// Parse `grub.cfg` (system path `file`).
pub fn parse(src: &str, file: &Path, inp: Inputs<'_>) -> Config {
    let mut cfg = Config::new(Loader::Grub2, file.to_path_buf());
    let (mut toks, lex_problem) = lex(src);
    // The file each token came from (grub.cfg, then what it sources).
    let mut files: Vec<PathBuf> = vec![file.to_path_buf()];
    let mut tok_file: Vec<usize> = vec![0; toks.len()];
    // GRUB's $config_directory and $prefix: where grub.cfg is.
    let config_dir = file
        .parent()
        .map_or_else(|| "/".to_owned(), |d| d.display().to_string());
    // Top-level `set`s: the value and whether it surely runs.
    let mut cfg_vars: BTreeMap<String, (Word, bool)> = BTreeMap::new();
    // Open `if` branches, and how many were open at each `{`.
    let mut conds: Vec<Branch> = Vec::new();
    let mut block_conds: Vec<usize> = Vec::new();
    let mut defaults: Vec<(Word, usize)> = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    // Partition hint of the top level (search --set=root outside entries).
    let mut top_uuid: Option<String> = None;
    let mut entry_uuid: BTreeMap<usize, String> = BTreeMap::new();
    let mut bls_slots: Vec<usize> = Vec::new();
    let mut bls_pending = Some(inp.bls);
    // Per entry: (word for the kernel args, line) to expand once all `set`s are known.
    let mut args: BTreeMap<usize, Vec<Word>> = BTreeMap::new();
    let mut kernel_words: BTreeMap<usize, Word> = BTreeMap::new();
    let mut configfiles: Vec<Word> = Vec::new();
    // grub.cfg honours grub-reboot's next_entry (`set default="${next_entry}"`).
    let mut reads_next = false;
    let mut initrd_words: BTreeMap<usize, Vec<Word>> = BTreeMap::new();

    let mut i = 0;
    while i < toks.len() {
        // Collect one statement: words up to a separator or a brace.
        let cur_file = files[tok_file.get(i).copied().unwrap_or(0)].clone();
        let mut words: Vec<(Word, usize)> = Vec::new();
        while let Some(Tok::Word(w, l)) = toks.get(i) {
            words.push((w.clone(), *l));
            i += 1;
        }
        let term = toks.get(i).cloned();
        i += 1;
        // `if`/`elif`/`else`/`fi` open and close branches whose condition
        // is worked out where it only tests grubenv variables; shell keywords
        // that introduce a command (`then set x=y`) are stripped.
        while let Some((w, _)) = words.first() {
            let r = w.raw();
            match r.as_str() {
                "if" | "elif" => {
                    let known = |name: &str| known_value(name, inp.env, &cfg_vars);
                    let c = eval_test(&words[1..], &known);
                    if r == "if" {
                        conds.push(Branch::open(c));
                    } else if let Some(b) = conds.last_mut() {
                        b.elif(c);
                    }
                    words.clear();
                }
                "else" => {
                    if let Some(b) = conds.last_mut() {
                        b.otherwise();
                    }
                    words.remove(0);
                }
                "fi" => {
                    conds.pop();
                    words.remove(0);
                }
                "then" | "do" | "done" | "esac" => {
                    words.remove(0);
                }
                _ => break,
            }
        }
        let cmd = words.first().map(|(w, _)| w.raw()).unwrap_or_default();
        let line = words.first().map(|(_, l)| *l).unwrap_or(0);
        let in_entry = stack.iter().rev().find_map(|f| match f {
            Frame::Entry(e) => Some(*e),
            _ => None,
        });
        match term {
            Some(Tok::Open(open_line)) => {
                block_conds.push(conds.len());
                let line = if words.is_empty() { open_line } else { line };
                match cmd.as_str() {
                    "menuentry" | "submenu" => {
                        let (title, id, unrestricted) = title_and_id(&words[1..]);
                        let submenus: Vec<String> = stack
                            .iter()
                            .filter_map(|f| match f {
                                Frame::Submenu { title, .. } => Some(title.clone()),
                                _ => None,
                            })
                            .collect();
                        if cmd == "menuentry" {
                            let mut e = Entry::new(title, cur_file.clone(), line);
                            e.id = id;
                            e.unrestricted = unrestricted;
                            e.submenus = submenus;
                            cfg.entries.push(e);
                            stack.push(Frame::Entry(cfg.entries.len() - 1));
                        } else {
                            stack.push(Frame::Submenu {
                                title,
                                id,
                                children: Vec::new(),
                                line,
                            });
                        }
                    }
                    _ => stack.push(Frame::Other(line)),
                }
            }
            Some(Tok::Close(_)) | Some(Tok::Sep) | None
                if !words.is_empty() || matches!(term, Some(Tok::Close(_))) =>
            {
                // Function bodies run only when called: not read.
                let in_function = stack.iter().any(|f| matches!(f, Frame::Other(_)));
                if !words.is_empty() && !in_function {
                    statement(
                        &words,
                        in_entry,
                        branch_state(&conds),
                        &mut StatementState {
                            cfg_vars: &mut cfg_vars,
                            defaults: &mut defaults,
                            top_uuid: &mut top_uuid,
                            entry_uuid: &mut entry_uuid,
                            args: &mut args,
                            kernel_words: &mut kernel_words,
                            configfiles: &mut configfiles,
                            reads_next: &mut reads_next,
                            initrd_words: &mut initrd_words,
                            cfg: &mut cfg,
                        },
                    );
                    // `source FILE` runs FILE here, in this context (41_custom's
                    // custom.cfg); a top-level `configfile` of a file whose
                    // menu is all there is replaces it.
                    let runs = branch_state(&conds);
                    let inline = match cmd.as_str() {
                        "source" => runs != Runs::Never,
                        "configfile" => runs == Runs::Always && cfg.menu.is_empty(),
                        _ => false,
                    };
                    if inline
                        && in_entry.is_none()
                        && !matches!(term, Some(Tok::Close(_)))
                        && files.len() < MAX_INCLUDES
                    {
                        if let Some((w, _)) = words.get(1) {
                            let lookup = |n: &str| -> Option<String> {
                                let set = cfg_vars.get(n).map(|(w, _)| {
                                    w.expand(&|m| inp.env.get(m).cloned(), &mut Vec::new())
                                });
                                match n {
                                    "config_directory" | "prefix" => {
                                        set.or_else(|| Some(config_dir.clone()))
                                    }
                                    _ => set.or_else(|| inp.env.get(n).cloned()),
                                }
                            };
                            let target = strip_device(&w.expand(&lookup, &mut Vec::new()));
                            if let Some((path, text)) = (inp.include)(&target) {
                                if !files.contains(&path) {
                                    let (new_toks, problem) = lex(&text);
                                    if let Some((l, msg)) = problem {
                                        cfg.problems.push(Problem {
                                            file: path.clone(),
                                            line: l,
                                            message: msg,
                                            minor: false,
                                        });
                                    }
                                    files.push(path.clone());
                                    cfg.sourced.push(path);
                                    let fi = files.len() - 1;
                                    let n = new_toks.len() + 1;
                                    if cmd == "configfile" {
                                        // GRUB does not come back to the rest.
                                        toks.truncate(i);
                                        tok_file.truncate(i);
                                    }
                                    let at = i.min(toks.len());
                                    toks.splice(at..at, new_toks.into_iter().chain([Tok::Sep]));
                                    tok_file.splice(at..at, std::iter::repeat_n(fi, n));
                                    // Go on with the first token of the file
                                    // (past the end when grub.cfg ended here).
                                    i = at;
                                }
                            }
                        }
                    }
                    if cmd == "blscfg" {
                        if let Some(bls) = bls_pending.take() {
                            // blscfg makes no menu entry of a file without a
                            // `linux` line: it does not count in indexes.
                            for e in bls.into_iter().filter(|e| e.kernel.is_some()) {
                                cfg.entries.push(e);
                                let idx = cfg.entries.len() - 1;
                                bls_slots.push(idx);
                                push_item(&mut stack, &mut cfg.menu, Item::Entry(idx));
                            }
                        }
                    }
                }
                if let Some(Tok::Close(close_line)) = term {
                    if let Some(n) = block_conds.pop() {
                        conds.truncate(n);
                    }
                    match stack.pop() {
                        None => cfg.problems.push(Problem {
                            file: cur_file.clone(),
                            line: close_line,
                            message: "a '}' here closes nothing".into(),
                            minor: false,
                        }),
                        Some(Frame::Entry(e)) => {
                            push_item(&mut stack, &mut cfg.menu, Item::Entry(e))
                        }
                        Some(Frame::Submenu {
                            title,
                            id,
                            children,
                            ..
                        }) => push_item(
                            &mut stack,
                            &mut cfg.menu,
                            Item::Submenu {
                                title,
                                id,
                                children,
                            },
                        ),
                        Some(Frame::Other(_)) => {}
                    }
                }
            }
            _ => {}
        }
    }
    if let Some((line, msg)) = lex_problem {
        cfg.problems.push(Problem {
            file: file.to_path_buf(),
            line,
            message: msg,
            minor: false,
        });
    }
    // Blocks left open at the end: GRUB does not define them.
    let mut dropped = Vec::new();
    for f in stack.iter().rev() {
        match f {
            Frame::Entry(e) => {
                let en = &cfg.entries[*e];
                cfg.problems.push(Problem {
                    file: en.file.clone(),
                    line: en.line,
                    message: format!(
                        "menuentry '{}' opened here is not closed with '}}' (the file is truncated?)",
                        en.title
                    ),
                    minor: false,
                });
                dropped.push(*e);
            }
            Frame::Submenu { title, line, .. } => cfg.problems.push(Problem {
                file: file.to_path_buf(),
                line: *line,
                message: format!(
                    "submenu '{title}' opened here is not closed with '}}' (the file is truncated?)"
                ),
                minor: false,
            }),
            Frame::Other(line) => cfg.problems.push(Problem {
                file: file.to_path_buf(),
                line: *line,
                message: "a '{' block opened here is not closed with '}' (the file is truncated?)"
                    .into(),
                minor: false,
            }),
        }
    }

    // Variables: grubenv first, then grub.cfg's own `set`.
    let env = inp.env;
    let cfg_vars_expanded: BTreeMap<String, String> = {
        let mut out = BTreeMap::new();
        for (k, (w, _)) in &cfg_vars {
            let mut unset = Vec::new();
            let v = w.expand(
                &|name: &str| env.get(name).cloned().filter(|s| !s.is_empty()),
                &mut unset,
            );
            out.insert(k.clone(), v);
        }
        out
    };
    // A `set` that surely runs after load_env wins over grubenv; one that
    // may not run (an unknown condition) only fills in what grubenv lacks.
    let lookup = |name: &str| -> Option<String> {
        let from_cfg = || {
            cfg_vars_expanded
                .get(name)
                .filter(|s| !s.is_empty())
                .cloned()
        };
        if cfg_vars.get(name).is_some_and(|(_, sure)| *sure) {
            return from_cfg();
        }
        env.get(name)
            .filter(|s| !s.is_empty())
            .cloned()
            .or_else(from_cfg)
    };
    cfg.superusers = cfg_vars_expanded
        .get("superusers")
        .is_some_and(|v| !v.trim().is_empty());
    cfg.loads = configfiles
        .iter()
        .map(|w| strip_device(&w.expand(&lookup, &mut Vec::new())))
        .collect();
    for (idx, e) in cfg.entries.iter_mut().enumerate() {
        let mut unset = Vec::new();
        if let Some(w) = kernel_words.get(&idx) {
            e.kernel = Some(strip_device(&w.expand(&lookup, &mut Vec::new())));
        }
        if let Some(ws) = initrd_words.get(&idx) {
            e.initrds = ws
                .iter()
                .map(|w| strip_device(&w.expand(&lookup, &mut Vec::new())))
                .collect();
        }
        if let Some(ws) = args.get(&idx) {
            let parts: Vec<String> = ws
                .iter()
                .map(|w| w.expand(&lookup, &mut unset))
                .filter(|s| !s.is_empty())
                .collect();
            e.options = Some(parts.join(" "));
            e.unset_vars = unset;
        }
        if bls_slots.contains(&idx) {
            // blscfg hands `linux`, `initrd` and `options` to GRUB's script
            // reader, which expands them: RHEL's `initrd /initramfs-VER.img
            // $tuned_initrd` loads one file when tuned sets nothing.
            if let Some(k) = e.kernel.clone() {
                e.kernel = Some(expand_plain(&k, &lookup).0);
            }
            e.initrds = e
                .initrds
                .iter()
                .flat_map(|w| {
                    expand_plain(w, &lookup)
                        .0
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .collect();
            if let Some(raw) = e.options.clone() {
                let (exp, unset) = expand_plain(&raw, &lookup);
                e.options = Some(exp);
                e.unset_vars = unset;
            }
        }
        let uuid = entry_uuid.get(&idx).or(top_uuid.as_ref());
        if e.fs_uuid.is_none() {
            e.fs_uuid = uuid.cloned();
        }
    }
    if bls_pending.is_some_and(|b| !b.is_empty()) {
        // BLS entries exist but nothing in grub.cfg reads them: GRUB will
        // not show them, so they are not part of this menu.
    }
    for d in dropped {
        cfg.menu
            .retain(|it| !matches!(it, Item::Entry(x) if *x == d));
    }

    // The default.
    let env_name = inp.env_file.display().to_string();
    let chosen = defaults.iter().rev().find(|(w, _)| {
        !w.pieces
            .iter()
            .any(|p| *p == Piece::Var("next_entry".into()))
    });
    // grub.cfg is generated from /etc/default/grub: when they disagree,
    // grub.cfg is older than the setting (and grub-set-default may do nothing).
    if let (Some((w, _)), Some((gd, gline))) = (chosen, &inp.grub_default) {
        let cfg_saved = w.is_var("saved_entry");
        let differs = if gd == "saved" {
            !cfg_saved
        } else {
            cfg_saved || w.raw() != *gd
        };
        if differs {
            cfg.stale_default = Some((gd.clone(), *gline));
        }
    }
    cfg.default = match chosen {
        Some((w, _)) if w.is_var("saved_entry") => DefaultSpec {
            spec: env.get("saved_entry").filter(|s| !s.is_empty()).cloned(),
            source: format!("saved_entry in {env_name}"),
            file: Some(inp.env_file.clone()),
            line: None,
        },
        Some((w, line)) => {
            let v = w.expand(&lookup, &mut Vec::new());
            DefaultSpec {
                spec: (!v.is_empty()).then_some(v),
                source: format!("set default in {}", file.display()),
                file: Some(file.to_path_buf()),
                line: Some(*line),
            }
        }
        None => match inp.grub_default.clone() {
            Some((v, _)) if v == "saved" => DefaultSpec {
                spec: env.get("saved_entry").filter(|s| !s.is_empty()).cloned(),
                source: format!("saved_entry in {env_name}, as GRUB_DEFAULT=saved"),
                file: Some(inp.env_file.clone()),
                line: None,
            },
            Some((v, line)) => DefaultSpec {
                spec: Some(v),
                source: "GRUB_DEFAULT in /etc/default/grub".into(),
                file: Some(PathBuf::from("/etc/default/grub")),
                line: Some(line),
            },
            None => DefaultSpec {
                spec: None,
                source: "no default set: the first entry".into(),
                file: Some(file.to_path_buf()),
                line: None,
            },
        },
    };
    if let Some(next) = env
        .get("next_entry")
        .filter(|s| !s.is_empty() && reads_next)
    {
        cfg.next = Some(DefaultSpec {
            spec: Some(next.clone()),
            source: format!("next_entry in {env_name}, set by grub-reboot"),
            file: Some(inp.env_file.clone()),
            line: None,
        });
    }
    cfg
}

/// Whether a statement runs at boot, by the `if` branches around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runs {
    Always,
    Maybe,
    Never,
}

/// The value of a test or condition, where it can be known before boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Truth {
    Yes,
    No,
    Unknown,
}

/// One open `if`: whether the current branch runs, and what earlier
/// branches of the same `if` did (an `else` runs only when none did).
#[derive(Debug, Clone, Copy)]
struct Branch {
    cur: Truth,
    any_yes: bool,
    any_unknown: bool,
}

impl Branch {
    fn open(c: Truth) -> Self {
        Branch {
            cur: c,
            any_yes: c == Truth::Yes,
            any_unknown: c == Truth::Unknown,
        }
    }

    fn elif(&mut self, c: Truth) {
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

    fn otherwise(&mut self) {
        self.cur = if self.any_yes {
            Truth::No
        } else if self.any_unknown {
            Truth::Unknown
        } else {
            Truth::Yes
        };
    }
}

fn branch_state(conds: &[Branch]) -> Runs {
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
fn known_value(
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
fn eval_test(words: &[(Word, usize)], known: &dyn Fn(&str) -> Option<String>) -> Truth {
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

struct StatementState<'a> {
    cfg_vars: &'a mut BTreeMap<String, (Word, bool)>,
    defaults: &'a mut Vec<(Word, usize)>,
    top_uuid: &'a mut Option<String>,
    entry_uuid: &'a mut BTreeMap<usize, String>,
    args: &'a mut BTreeMap<usize, Vec<Word>>,
    kernel_words: &'a mut BTreeMap<usize, Word>,
    configfiles: &'a mut Vec<Word>,
    reads_next: &'a mut bool,
    initrd_words: &'a mut BTreeMap<usize, Vec<Word>>,
    cfg: &'a mut Config,
}

fn statement(
    words: &[(Word, usize)],
    entry: Option<usize>,
    runs: Runs,
    st: &mut StatementState<'_>,
) {
    let cmd = words[0].0.raw();
    let rest: Vec<&Word> = words[1..].iter().map(|(w, _)| w).collect();
    let line = words[0].1;
    // `set a=b` and bare `a=b`.
    let assignment = if cmd == "set" {
        rest.first().and_then(|w| split_assign(w))
    } else if words.len() == 1 {
        split_assign(&words[0].0)
    } else {
        None
    };
    if let Some((name, value)) = assignment {
        if name == "default"
            && value
                .pieces
                .iter()
                .any(|p| *p == Piece::Var("next_entry".into()))
        {
            *st.reads_next = true;
        }
        // A `set` in a branch that does not run at boot is no `set` at all
        // (Fedora's `set default=1` for boot counting, the `kernelopts`
        // fallback when grubenv has it).
        if entry.is_none() && runs != Runs::Never {
            if name == "default" {
                st.defaults.push((value, line));
            } else {
                // Later top-level sets win, as they run later.
                st.cfg_vars.insert(name, (value, runs == Runs::Always));
            }
        }
        return;
    }
    match cmd.as_str() {
        "search" | "search.fs_uuid" => {
            let mut uuid = None;
            let mut sets_root = false;
            let mut fs_uuid = cmd == "search.fs_uuid";
            let mut k = 0;
            while k < rest.len() {
                let r = rest[k].raw();
                match r.as_str() {
                    "--fs-uuid" | "-u" => fs_uuid = true,
                    "--set=root" => sets_root = true,
                    // `--set` without a name sets `root`.
                    "--set" | "-s" => {
                        sets_root = true;
                        if rest.get(k + 1).map(|w| w.raw()).as_deref() == Some("root") {
                            k += 1;
                        }
                    }
                    s if s.starts_with('-') => {}
                    // The first word is the UUID; later ones are hints
                    // (`search.fs_uuid UUID root hd0,gpt2`).
                    s if uuid.is_none() => uuid = Some(s.to_owned()),
                    _ => {}
                }
                k += 1;
            }
            if cmd == "search.fs_uuid" && rest.len() >= 2 && rest[1].raw() == "root" {
                sets_root = true;
            }
            if let (true, true, Some(u)) = (fs_uuid, sets_root, uuid) {
                match entry {
                    Some(e) => {
                        st.entry_uuid.insert(e, u);
                    }
                    None => *st.top_uuid = Some(u),
                }
            }
        }
        "linux" | "linux16" | "linuxefi" | "kernel" | "module" | "module2" | "multiboot"
        | "multiboot2" => {
            let Some(e) = entry else { return };
            let files: Vec<&Word> = rest
                .iter()
                .copied()
                .skip_while(|w| w.raw().starts_with("--"))
                .collect();
            let is_mb = cmd.starts_with("multiboot");
            let is_module = cmd.starts_with("module");
            if is_mb {
                return; // the hypervisor; the Linux kernel is its first module
            }
            if let Some(first) = files.first() {
                if is_module && st.kernel_words.contains_key(&e) {
                    st.initrd_words.entry(e).or_default().push((*first).clone());
                } else {
                    st.kernel_words.insert(e, (*first).clone());
                    st.args
                        .insert(e, files[1..].iter().map(|w| (*w).clone()).collect());
                }
            }
        }
        "initrd" | "initrd16" | "initrdefi" => {
            let Some(e) = entry else { return };
            let files = rest
                .iter()
                .filter(|w| !w.raw().starts_with("--"))
                .map(|w| (*w).clone());
            st.initrd_words.entry(e).or_default().extend(files);
        }
        // GRUB's Boot Loader Interface module sets LoaderDevicePartUUID.
        "insmod" if runs != Runs::Never && rest.iter().any(|w| w.raw() == "bli") => {
            st.cfg.tells_boot_partition = true;
        }
        "configfile" if entry.is_none() && runs != Runs::Never => {
            if let Some(w) = rest.first() {
                st.configfiles.push((*w).clone());
            }
        }
        "chainloader" | "fwsetup" | "reboot" | "halt" | "configfile" | "uefi-firmware" => {
            if let Some(e) = entry {
                if !st.kernel_words.contains_key(&e) {
                    st.cfg.entries[e].chain = true;
                    // `fwsetup --is-supported` only asks.
                    let asks = rest.iter().any(|w| w.raw() == "--is-supported");
                    st.cfg.entries[e].halts = match cmd.as_str() {
                        "fwsetup" | "uefi-firmware" if !asks => {
                            Some("stops in the firmware setup screen")
                        }
                        "halt" => Some("powers the machine off"),
                        "reboot" => Some("reboots again, in a loop"),
                        _ => st.cfg.entries[e].halts,
                    };
                }
            }
        }
        _ => {}
    }
}

fn split_assign(w: &Word) -> Option<(String, Word)> {
    let Some(Piece::Lit(first)) = w.pieces.first() else {
        return None;
    };
    let (name, after) = first.split_once('=')?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let mut pieces = Vec::new();
    if !after.is_empty() {
        pieces.push(Piece::Lit(after.to_owned()));
    }
    pieces.extend(w.pieces[1..].iter().cloned());
    Some((name.to_owned(), Word { pieces }))
}

fn push_item(stack: &mut [Frame], menu: &mut Vec<Item>, item: Item) {
    for f in stack.iter_mut().rev() {
        match f {
            Frame::Submenu { children, .. } => {
                children.push(item);
                return;
            }
            Frame::Entry(_) => return, // an entry inside an entry is not in the menu
            Frame::Other(_) => {}
        }
    }
    menu.push(item);
}

/// Title and id of `menuentry TITLE [options] [--id ID | $menuentry_id_option ID]`.
fn title_and_id(words: &[(Word, usize)]) -> (String, Option<String>, bool) {
    let mut unrestricted = false;
    let mut title = None;
    let mut id = None;
    let mut k = 0;
    let nothing = |_: &str| None;
    while k < words.len() {
        let w = &words[k].0;
        let r = w.raw();
        if w.is_var("menuentry_id_option") || r == "--id" {
            id = words
                .get(k + 1)
                .map(|(w, _)| w.expand(&nothing, &mut Vec::new()));
            k += 2;
            continue;
        }
        if let Some(v) = r.strip_prefix("--id=") {
            id = Some(v.to_owned());
        } else if matches!(r.as_str(), "--class" | "--users" | "--hotkey") {
            k += 2;
            continue;
        } else if r == "--unrestricted" {
            unrestricted = true;
        } else if r.starts_with("--") {
        } else if title.is_none() {
            title = Some(w.expand(&nothing, &mut Vec::new()));
        }
        k += 1;
    }
    (title.unwrap_or_default(), id, unrestricted)
}

/// Remove a `(hd0,msdos1)` or `($root)` device prefix from a path.
pub fn strip_device(p: &str) -> String {
    if p.starts_with('(') {
        if let Some(end) = p.find(')') {
            let rest = &p[end + 1..];
            return if rest.is_empty() {
                "/".into()
            } else {
                rest.to_owned()
            };
        }
    }
    p.to_owned()
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

/// GRUB_DEFAULT from /etc/default/grub (a shell file): the value and line.
pub fn grub_default(src: &str) -> Option<(String, usize)> {
    let mut found = None;
    for (n, l) in src.lines().enumerate() {
        let l = l.trim();
        let l = l.strip_prefix("export ").unwrap_or(l);
        if let Some(v) = l.strip_prefix("GRUB_DEFAULT=") {
            let v = v.split(" #").next().unwrap_or(v).trim();
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
                .unwrap_or(v);
            found = Some((v.to_owned(), n + 1));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN: &str = r#"
# DO NOT EDIT THIS FILE
if [ -s $prefix/grubenv ]; then
  set have_grubenv=true
  load_env
fi
if [ "${next_entry}" ] ; then
   set default="${next_entry}"
   set next_entry=
   save_env next_entry
   set boot_once=true
else
   set default="${saved_entry}"
fi
function load_video {
  if [ x$feature_all_video_module = xy ]; then
    insmod all_video
  fi
}
search --no-floppy --fs-uuid --set=root 1111-aaaa
menuentry 'Debian GNU/Linux' --class debian --class gnu-linux $menuentry_id_option 'gnulinux-simple-U' {
	load_video
	search --no-floppy --fs-uuid --set=root 1111-aaaa
	echo	'Loading Linux 6.1.0-15-amd64 ...'
	linux	/boot/vmlinuz-6.1.0-15-amd64 root=UUID=U ro  quiet
	initrd	/boot/initrd.img-6.1.0-15-amd64
}
submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option 'gnulinux-advanced-U' {
	menuentry 'Debian GNU/Linux, with Linux 6.1.0-15-amd64' --class debian $menuentry_id_option 'gnulinux-6.1.0-15-amd64-advanced-U' {
		linux	/boot/vmlinuz-6.1.0-15-amd64 root=UUID=U ro  quiet
		initrd	/boot/intel-ucode.img /boot/initrd.img-6.1.0-15-amd64
	}
	menuentry 'Debian GNU/Linux, with Linux 6.1.0-13-amd64' --class debian $menuentry_id_option 'gnulinux-6.1.0-13-amd64-advanced-U' {
		linux	/boot/vmlinuz-6.1.0-13-amd64 root=UUID=U ro  quiet
		initrd	/boot/initrd.img-6.1.0-13-amd64
	}
}
menuentry 'UEFI Firmware Settings' $menuentry_id_option 'uefi-firmware' {
	fwsetup
}
"#;

    fn parse_with(src: &str, env: &[(&str, &str)], bls: Vec<Entry>) -> Config {
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        parse(
            src,
            Path::new("/boot/grub/grub.cfg"),
            Inputs {
                env: &env,
                env_file: PathBuf::from("/boot/grub/grubenv"),
                bls,
                grub_default: None,
                include: &|_| None,
            },
        )
    }

    #[test]
    fn source_and_configfile_run_other_files_in_place() {
        let env = BTreeMap::new();
        let custom = "menuentry 'Rescue stick' --id stick {\n linux /vmlinuz-9 root=/dev/sdb1\n}\nset default=stick\n";
        let include = |p: &str| -> Option<(PathBuf, String)> {
            match p {
                "/boot/grub/custom.cfg" => Some((PathBuf::from(p), custom.to_owned())),
                "/boot/grub/loop.cfg" => Some((
                    PathBuf::from(p),
                    "source /boot/grub/loop.cfg\nmenuentry L {\n linux /l\n}\n".to_owned(),
                )),
                "/boot/grub/real.cfg" => Some((
                    PathBuf::from(p),
                    "menuentry R {\n linux /r root=/dev/x\n}\n".to_owned(),
                )),
                _ => None,
            }
        };
        let src = "menuentry 'Debian' {\n linux /vmlinuz-1 root=/dev/sda1\n}\n### BEGIN /etc/grub.d/41_custom ###\nif [ -f  ${config_directory}/custom.cfg ]; then\n  source ${config_directory}/custom.cfg\nelif [ -z \"${config_directory}\" -a -f  $prefix/custom.cfg ]; then\n  source $prefix/custom.cfg\nfi\nmenuentry After {\n linux /a\n}\n";
        let run = |src: &str| {
            parse(
                src,
                Path::new("/boot/grub/grub.cfg"),
                Inputs {
                    env: &env,
                    env_file: PathBuf::from("/boot/grub/grubenv"),
                    bls: vec![],
                    grub_default: None,
                    include: &include,
                },
            )
        };
        let c = run(src);
        let titles: Vec<&str> = c.entries.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(
            titles,
            ["Debian", "Rescue stick", "After"],
            "custom.cfg read once, in place"
        );
        assert_eq!(c.entries[1].file, PathBuf::from("/boot/grub/custom.cfg"));
        assert_eq!(c.entries[1].line, 1);
        assert_eq!(c.entries[2].file, PathBuf::from("/boot/grub/grub.cfg"));
        assert_eq!(c.entries[2].line, 10);
        assert_eq!(c.default.spec.as_deref(), Some("stick"));
        assert_eq!(c.sourced, [PathBuf::from("/boot/grub/custom.cfg")]);
        // A file that sources itself is read once.
        let c = run("source /boot/grub/loop.cfg\n");
        assert_eq!(c.entries.len(), 1);
        // A stub that hands over with configfile: the other file's menu.
        let c = run("set prefix=(hd0,gpt2)/boot/grub\nconfigfile $prefix/real.cfg\nmenuentry Never {\n linux /n\n}\n");
        let titles: Vec<&str> = c.entries.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, ["R"]);
        // `source` as the last word of grub.cfg, without a newline.
        let c = run("menuentry A {\n linux /a\n}\nsource /boot/grub/custom.cfg");
        let titles: Vec<&str> = c.entries.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, ["A", "Rescue stick"]);
        // A missing custom.cfg is nothing.
        let c = run("source /boot/grub/none.cfg\nmenuentry A {\n linux /a\n}\n");
        assert_eq!((c.entries.len(), c.problems.len()), (1, 0));
    }

    #[test]
    fn debian_menu_with_submenu_and_saved_entry() {
        let c = parse_with(
            DEBIAN,
            &[(
                "saved_entry",
                "gnulinux-advanced-U>gnulinux-6.1.0-13-amd64-advanced-U",
            )],
            vec![],
        );
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.entries.len(), 4);
        assert_eq!(c.menu.len(), 3);
        let d = c
            .resolve(c.default.spec.as_deref())
            .expect("default resolves");
        let e = &c.entries[d];
        assert_eq!(e.title, "Debian GNU/Linux, with Linux 6.1.0-13-amd64");
        assert_eq!(e.submenus, vec!["Advanced options for Debian GNU/Linux"]);
        assert_eq!(e.kernel.as_deref(), Some("/boot/vmlinuz-6.1.0-13-amd64"));
        assert_eq!(e.options.as_deref(), Some("root=UUID=U ro quiet"));
        assert_eq!(c.entries[1].initrds.len(), 2);
        assert_eq!(c.entries[0].line, 21);
        assert!(c.entries[3].chain);
        assert!(c.next.is_none());
        // Index paths work too.
        assert_eq!(c.resolve(Some("1>1")), Some(d));
    }

    #[test]
    fn next_entry_and_numeric_default() {
        // A grub.cfg that never reads next_entry ignores grub-reboot.
        let c = parse_with(
            "set default=0\nmenuentry 'a' {\n}\n",
            &[("next_entry", "0")],
            vec![],
        );
        assert!(c.next.is_none());
        let c = parse_with(DEBIAN, &[("next_entry", "1>0")], vec![]);
        assert_eq!(c.default.spec, None);
        assert_eq!(c.resolve(c.default.spec.as_deref()), Some(0));
        let n = c.next.expect("next_entry");
        assert_eq!(c_resolve(DEBIAN, n.spec.as_deref()), Some(1));
    }

    fn c_resolve(src: &str, spec: Option<&str>) -> Option<usize> {
        parse_with(src, &[], vec![]).resolve(spec)
    }

    #[test]
    fn functions_inline_ifs_and_search_hints() {
        let src = "if [ \"${next_entry}\" ] ; then\n   set default=\"${next_entry}\"\nelse\n   set default=\"0\"\nfi\nfunction savedefault {\n  if [ -z \"${boot_once}\" ]; then\n    saved_entry=\"${chosen}\"\n    set default=\"${chosen}\"\n    save_env saved_entry\n  fi\n}\nfunction gfxmode {\n    set gfxpayload=\"${1}\"\n    if [ \"${1}\" = \"keep\" ]; then\n        set vt_handoff=vt.handoff=7\n    fi\n}\nmenuentry 'Ubuntu' --class ubuntu $menuentry_id_option 'gnulinux-simple-A' {\n    recordfail\n    gfxmode $linux_gfx_mode\n    if [ x$grub_platform = xxen ]; then insmod xzio; insmod lzopio; fi\n    set root='hd0,gpt2'\n    if [ x$feature_platform_search_hint = xy ]; then\n      search --no-floppy --fs-uuid --set=root --hint-bios=hd0,gpt2 --hint-efi=hd0,gpt2  A\n    else\n      search --no-floppy --fs-uuid --set=root A\n    fi\n    linux    /boot/vmlinuz-4.2.0-16-generic.efi.signed root=UUID=A ro  quiet splash $vt_handoff\n    initrd    /boot/initrd.img-4.2.0-16-generic\n}\nmenuentry 'It'\\''s mine' {\n    linux /vmlinuz-x root=/dev/sda1\n}\n";
        let c = parse_with(src, &[("saved_entry", "1")], vec![]);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(
            c.default.spec.as_deref(),
            Some("0"),
            "function bodies are not run"
        );
        assert_eq!(c.entries.len(), 2);
        let e = &c.entries[0];
        assert_eq!(e.fs_uuid.as_deref(), Some("A"));
        assert_eq!(e.options.as_deref(), Some("root=UUID=A ro quiet splash"));
        assert_eq!(e.unset_vars, vec!["vt_handoff"]);
        assert_eq!(c.entries[1].title, "It's mine");
    }

    #[test]
    fn esp_stub_names_what_it_loads() {
        // RHEL 9's /boot/efi/EFI/redhat/grub.cfg.
        let src = "search --no-floppy --fs-uuid --set=dev 5b3c9d1e\nset prefix=($dev)/grub2\n\nexport $prefix\nconfigfile $prefix/grub.cfg\n";
        let c = parse_with(src, &[], vec![]);
        assert!(c.entries.is_empty());
        assert_eq!(c.loads, vec!["/grub2/grub.cfg"]);
    }

    #[test]
    fn superusers_and_unrestricted_entries() {
        let src = "set superusers=\"admin\"\npassword_pbkdf2 admin grub.pbkdf2.sha512.10000.AB\nmenuentry 'a' --class os --unrestricted {\n linux /v root=/dev/x\n}\nmenuentry 'b' --users admin {\n linux /v root=/dev/x\n}\n";
        let c = parse_with(src, &[], vec![]);
        assert!(c.superusers);
        assert!(c.entries[0].unrestricted);
        assert!(!c.entries[1].unrestricted);
        // RHEL's 01_users sets it only with a password in user.cfg.
        let c = parse_with(
            "if [ -n \"${GRUB2_PASSWORD}\" ]; then\n  set superusers=\"root\"\nfi\n",
            &[],
            vec![],
        );
        assert!(!c.superusers);
    }

    #[test]
    fn search_forms() {
        let src = "menuentry 'a' {\n search.fs_uuid 1111-aaaa root hd0,gpt2\n linux /vmlinuz-1 root=/dev/x\n}\nmenuentry 'b' {\n search --no-floppy --fs-uuid --set 2222-bbbb\n linux /vmlinuz-1 root=/dev/x\n}\nmenuentry 'c' {\n search --no-floppy --fs-uuid --set=boot 3333-cccc\n linux /vmlinuz-1 root=/dev/x\n}\n";
        let c = parse_with(src, &[], vec![]);
        let uuids: Vec<_> = c.entries.iter().map(|e| e.fs_uuid.as_deref()).collect();
        assert_eq!(uuids, [Some("1111-aaaa"), Some("2222-bbbb"), None]);
    }

    #[test]
    fn xen_entries_take_the_linux_module() {
        let src = "menuentry 'Debian GNU/Linux, with Xen hypervisor' {\n\tmultiboot2\t/boot/xen-4.17-amd64.gz placeholder dom0_mem=4G\n\tmodule2\t/boot/vmlinuz-6.1.0-13-amd64 placeholder root=UUID=U ro quiet\n\tmodule2\t--nounzip   /boot/initrd.img-6.1.0-13-amd64\n}\n";
        let c = parse_with(src, &[], vec![]);
        let e = &c.entries[0];
        assert_eq!(e.kernel.as_deref(), Some("/boot/vmlinuz-6.1.0-13-amd64"));
        assert_eq!(e.initrds, vec!["/boot/initrd.img-6.1.0-13-amd64"]);
        assert_eq!(
            e.options.as_deref(),
            Some("placeholder root=UUID=U ro quiet")
        );
    }

    #[test]
    fn kernelopts_from_env_or_cfg_fallback() {
        let src = "set default=\"${saved_entry}\"\nif [ -z \"${kernelopts}\" ]; then\n  set kernelopts=\"root=/dev/mapper/rhel-root ro\"\nfi\nmenuentry 'x' {\n linux /vmlinuz-1 $kernelopts\n}\n";
        let c = parse_with(src, &[], vec![]);
        assert_eq!(
            c.entries[0].options.as_deref(),
            Some("root=/dev/mapper/rhel-root ro")
        );
        let c = parse_with(src, &[("kernelopts", "root=UUID=x")], vec![]);
        assert_eq!(c.entries[0].options.as_deref(), Some("root=UUID=x"));
        let src2 = "menuentry 'x' {\n linux /vmlinuz-1 $kernelopts quiet\n}\n";
        let c = parse_with(src2, &[], vec![]);
        assert_eq!(c.entries[0].options.as_deref(), Some("quiet"));
        assert_eq!(c.entries[0].unset_vars, vec!["kernelopts"]);
    }

    #[test]
    fn blscfg_inserts_entries_with_expanded_options() {
        let mut b = Entry::new(
            "Fedora",
            PathBuf::from("/boot/loader/entries/m-6.5.conf"),
            1,
        );
        b.id = Some("m-6.5".into());
        b.kernel = Some("/vmlinuz-6.5".into());
        b.options = Some("$kernelopts $tuned_params".into());
        let c = parse_with(
            "set default=\"${saved_entry}\"\nblscfg\n",
            &[("kernelopts", "root=/dev/x ro"), ("saved_entry", "m-6.5")],
            vec![b],
        );
        let d = c.resolve(c.default.spec.as_deref()).expect("resolves");
        assert_eq!(c.entries[d].options.as_deref(), Some("root=/dev/x ro"));
        assert_eq!(c.entries[d].unset_vars, vec!["tuned_params"]);
    }

    #[test]
    fn branches_that_do_not_run_set_nothing() {
        // Fedora/RHEL 08_fallback_counting: `set default=1` only when
        // grubenv carries a boot counter.
        let src = "if [ \"${next_entry}\" ] ; then\n   set default=\"${next_entry}\"\nelse\n   set default=\"${saved_entry}\"\nfi\nif [ -n \"${boot_counter}\" -a \"${boot_success}\" = \"0\" ]; then\n  if  [ \"${boot_counter}\" = \"0\" -o \"${boot_counter}\" = \"-1\" ]; then\n    set default=1\n    set boot_counter=-1\n  else\n    decrement boot_counter\n  fi\n  save_env boot_counter\nfi\nset tuned_params=\"skew_tick=1\"\nif [ -z \"${kernelopts}\" ]; then\n  set kernelopts=\"root=/dev/cfg ro\"\nfi\nif [ x$feature_timeout_style = xy ] ; then\n  set default=2\nfi\nmenuentry 'a' {\n linux /vmlinuz-1 $kernelopts $tuned_params\n}\nmenuentry 'b' {\n linux /vmlinuz-2\n}\nmenuentry 'c' {\n linux /vmlinuz-3\n}\n";
        let c = parse_with(src, &[("saved_entry", "b"), ("next_entry", "c")], vec![]);
        // The feature test cannot be known: its `set default=2` may run.
        assert_eq!(c.default.spec.as_deref(), Some("2"));
        let src_nofeat = src.replace("set default=2", "set timeout=2");
        let c = parse_with(
            &src_nofeat,
            &[("saved_entry", "b"), ("kernelopts", "root=/dev/env ro")],
            vec![],
        );
        assert_eq!(c.default.spec.as_deref(), Some("b"), "no boot counter");
        assert_eq!(
            c.entries[0].options.as_deref(),
            Some("root=/dev/env ro skew_tick=1")
        );
        let c = parse_with(
            &src_nofeat,
            &[
                ("saved_entry", "b"),
                ("boot_counter", "0"),
                ("boot_success", "0"),
            ],
            vec![],
        );
        assert_eq!(c.default.spec.as_deref(), Some("1"), "counter ran out");
        assert_eq!(
            c.entries[0].options.as_deref(),
            Some("root=/dev/cfg ro skew_tick=1")
        );
    }

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

    #[test]
    fn bls_files_without_linux_are_not_in_grubs_menu() {
        let mk = |id: &str, kernel: Option<&str>| {
            let mut b = Entry::new(
                id,
                PathBuf::from(format!("/boot/loader/entries/{id}.conf")),
                1,
            );
            b.id = Some(id.into());
            b.kernel = kernel.map(str::to_owned);
            b.chain = kernel.is_none();
            b
        };
        let c = parse_with(
            "set default=1\nblscfg\n",
            &[],
            vec![
                mk("a", Some("/vmlinuz-2")),
                mk("broken", None),
                mk("b", Some("/vmlinuz-1")),
            ],
        );
        assert_eq!(c.menu.len(), 2);
        let d = c.resolve(c.default.spec.as_deref()).expect("default");
        assert_eq!(c.entries[d].id.as_deref(), Some("b"));
    }

    #[test]
    fn bls_linux_and_initrd_are_expanded() {
        // RHEL 8/9 entries: `initrd /initramfs-VER.img $tuned_initrd`.
        let mut b = Entry::new("RHEL", PathBuf::from("/boot/loader/entries/m-4.18.conf"), 1);
        b.id = Some("m-4.18".into());
        b.kernel = Some("/vmlinuz-4.18".into());
        b.initrds = vec!["/initramfs-4.18.img".into(), "$tuned_initrd".into()];
        b.options = Some("$kernelopts".into());
        let src = "set tuned_params=\"\"\nset tuned_initrd=\"\"\nblscfg\n";
        let c = parse_with(src, &[("kernelopts", "root=/dev/x ro")], vec![b.clone()]);
        assert_eq!(c.entries[0].initrds, vec!["/initramfs-4.18.img"]);
        let c = parse_with(
            "blscfg\n",
            &[("tuned_initrd", "/early.img /tuned.img")],
            vec![b],
        );
        assert_eq!(
            c.entries[0].initrds,
            vec!["/initramfs-4.18.img", "/early.img", "/tuned.img"]
        );
    }

    #[test]
    fn truncated_and_stray_braces_are_problems() {
        let cut = &DEBIAN[..DEBIAN
            .find("menuentry 'Debian GNU/Linux, with Linux 6.1.0-13")
            .expect("x")
            + 30];
        let c = parse_with(cut, &[], vec![]);
        assert!(!c.problems.is_empty());
        assert!(
            c.problems.iter().any(|p| p.message.contains("not closed")),
            "{:?}",
            c.problems
        );
        let c = parse_with("}\nmenuentry 'a' {\n}\n", &[], vec![]);
        assert_eq!(c.problems[0].line, 1);
        let c = parse_with("menuentry 'a {\n linux /x\n}\n", &[], vec![]);
        assert_eq!(c.problems[0].line, 1);
        let c = parse_with("set a=b\nfunction f {\n echo x\n", &[], vec![]);
        assert_eq!(c.problems[0].line, 2, "{:?}", c.problems);
    }

    #[test]
    fn random_and_truncated_input_never_panics() {
        let mut x: u32 = 7;
        for cut in 0..DEBIAN.len() {
            if DEBIAN.is_char_boundary(cut) {
                let _ = parse_with(&DEBIAN[..cut], &[("saved_entry", "1>1")], vec![]);
            }
        }
        for _ in 0..500 {
            let s: String = (0..200)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    let set = b"{}$\"'\\;\n #ab=menuentry ";
                    set[(x >> 16) as usize % set.len()] as char
                })
                .collect();
            let _ = parse_with(&s, &[], vec![]);
        }
    }

    #[test]
    fn grub_cfg_older_than_etc_default_grub() {
        let env = BTreeMap::new();
        let parse_gd = |src: &str, gd: &str| {
            parse(
                src,
                Path::new("/boot/grub/grub.cfg"),
                Inputs {
                    env: &env,
                    env_file: PathBuf::from("/boot/grub/grubenv"),
                    bls: vec![],
                    grub_default: Some((gd.to_owned(), 7)),
                    include: &|_| None,
                },
            )
            .stale_default
        };
        assert_eq!(
            parse_gd("set default=\"0\"\n", "saved"),
            Some(("saved".into(), 7))
        );
        assert_eq!(parse_gd("set default=\"${saved_entry}\"\n", "saved"), None);
        assert_eq!(parse_gd("set default=\"1>2\"\n", "1>2"), None);
        assert!(parse_gd("set default=\"${saved_entry}\"\n", "0").is_some());
    }

    #[test]
    fn grub_default_file() {
        assert_eq!(
            grub_default("# x\nGRUB_DEFAULT=saved\nGRUB_TIMEOUT=5\n"),
            Some(("saved".into(), 2))
        );
        assert_eq!(
            grub_default("GRUB_DEFAULT=\"1>2\"\n"),
            Some(("1>2".into(), 1))
        );
    }
}
