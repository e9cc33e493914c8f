//! The menu and its default: each entry's title and id, and which entry
//! boots, decided as GRUB's grub-core/normal/menu.c reads `default` at boot
//! (grub_menu_get_default_entry_index) after grub.cfg set it:
//! - the default is the last `set default=` outside any entry that is not
//!   `${next_entry}`; `${saved_entry}` there is grubenv's `saved_entry`
//!   (empty: entry 0); without any `set default`, /etc/default/grub's
//!   GRUB_DEFAULT (`saved` meaning grubenv's `saved_entry`);
//! - `next_entry` in a valid grubenv is the one-time entry of `grub-reboot`,
//!   when grub.cfg reads it (`set default="${next_entry}"`).
//!
//! A spec (`1>0`, a title, an id) is resolved to an entry by the loader-wide
//! rules in crate::model.

use std::collections::BTreeMap;
use std::path::Path;

use super::lexer::{Piece, Word};
use crate::model::{Config, DefaultSpec};

/// What grub.cfg says about the default: its top-level `set default=`
/// statements that may run, and whether it honours grub-reboot's
/// `next_entry`.
#[derive(Default)]
pub(super) struct Defaults {
    pub(super) sets: Vec<(Word, usize)>,
    pub(super) reads_next: bool,
}

/// Title and id of `menuentry TITLE [options] [--id ID | $menuentry_id_option ID]`.
pub(super) fn title_and_id(words: &[(Word, usize)]) -> (String, Option<String>, bool) {
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

/// The default and the one-time next entry of `cfg`, from grub.cfg's
/// `set default`s (in `file`), grubenv (`env`, at `env_file`) and
/// /etc/default/grub's GRUB_DEFAULT; `lookup` gives a variable's value.
pub(super) fn choose_default(
    cfg: &mut Config,
    file: &Path,
    defaults: &Defaults,
    env: &BTreeMap<String, String>,
    env_file: &Path,
    grub_default: &Option<(String, usize)>,
    lookup: &dyn Fn(&str) -> Option<String>,
) {
    let env_name = env_file.display().to_string();
    let chosen = defaults.sets.iter().rev().find(|(w, _)| {
        !w.pieces
            .iter()
            .any(|p| *p == Piece::Var("next_entry".into()))
    });
    // grub.cfg is generated from /etc/default/grub: when they disagree,
    // grub.cfg is older than the setting (and grub-set-default may do nothing).
    if let (Some((w, _)), Some((gd, gline))) = (chosen, grub_default) {
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
        Some((w, _)) if w.is_var("saved_entry") => DefaultSpec::read(
            env.get("saved_entry").filter(|s| !s.is_empty()).cloned(),
            format!("saved_entry in {env_name}"),
            env_file,
            None,
        ),
        Some((w, line)) => {
            let v = w.expand(lookup, &mut Vec::new());
            DefaultSpec::read(
                (!v.is_empty()).then_some(v),
                format!("set default in {}", file.display()),
                file,
                Some(*line),
            )
        }
        None => match grub_default.clone() {
            Some((v, _)) if v == "saved" => DefaultSpec::read(
                env.get("saved_entry").filter(|s| !s.is_empty()).cloned(),
                format!("saved_entry in {env_name}, as GRUB_DEFAULT=saved"),
                env_file,
                None,
            ),
            Some((v, line)) => DefaultSpec::read(
                Some(v),
                "GRUB_DEFAULT in /etc/default/grub".into(),
                Path::new("/etc/default/grub"),
                Some(line),
            ),
            None => DefaultSpec::first_entry(file),
        },
    };
    if let Some(next) = env
        .get("next_entry")
        .filter(|s| !s.is_empty() && defaults.reads_next)
    {
        cfg.next = Some(DefaultSpec::read(
            Some(next.clone()),
            format!("next_entry in {env_name}, set by grub-reboot"),
            env_file,
            None,
        ));
    }
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
