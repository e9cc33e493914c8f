//! The script interpreter: grub.cfg's statements walked in order as GRUB's
//! grub-core/script/execute.c runs them, with `{ }` blocks of `menuentry`,
//! `submenu` and `function` (a function body runs only when called, so it is
//! not read), `if` branches weighed by crate::grub2::condition, `source` and
//! `configfile` reading the file they name in place, and `blscfg` inserting
//! the Boot Loader Specification entries where it stands. Once every `set`
//! is known, each entry's kernel, initrds and options are expanded: a
//! variable is grubenv's value when set there, else the last top-level `set`
//! in grub.cfg (grub.cfg's `if [ -z "${kernelopts}" ]` fallback).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::commands::{statement, StatementState};
use super::condition::{branch_state, eval_test, known_value, Branch, Runs};
use super::lexer::{expand_plain, lex, Tok, Word};
use super::menu::{self, title_and_id, Defaults};
use crate::model::{Config, Entry, Item, Loader, Problem};

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
    let mut defaults = Defaults::default();
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

    menu::choose_default(
        &mut cfg,
        file,
        &defaults,
        env,
        &inp.env_file,
        &inp.grub_default,
        &lookup,
    );
    cfg
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
