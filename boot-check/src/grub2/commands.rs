//! Commands: what each statement of grub.cfg does to the menu, as GRUB's
//! commands would at boot (`set` in grub-core/kern/corecmd.c, `search` in
//! grub-core/commands/search_wrap.c, `linux`/`initrd` in the loaders). Only
//! what decides which kernel and initrd an entry boots is read; the rest is
//! passed over.

use std::collections::BTreeMap;

use super::condition::Runs;
use super::lexer::{Piece, Word};
use super::menu::Defaults;
use crate::model::Config;

/// What the statements of grub.cfg leave behind for the menu: variables,
/// `set default`s, partition hints, and each entry's kernel, initrd and
/// argument words, expanded once every `set` is known.
pub(super) struct StatementState<'a> {
    pub(super) cfg_vars: &'a mut BTreeMap<String, (Word, bool)>,
    pub(super) defaults: &'a mut Defaults,
    pub(super) top_uuid: &'a mut Option<String>,
    pub(super) entry_uuid: &'a mut BTreeMap<usize, String>,
    pub(super) args: &'a mut BTreeMap<usize, Vec<Word>>,
    pub(super) kernel_words: &'a mut BTreeMap<usize, Word>,
    pub(super) configfiles: &'a mut Vec<Word>,
    pub(super) initrd_words: &'a mut BTreeMap<usize, Vec<Word>>,
    pub(super) cfg: &'a mut Config,
}

/// Run one statement (a command and its words) for what it means to the
/// menu: `set`, `search`, `linux`/`initrd` and their kin, `insmod bli`,
/// `configfile`, and the commands that make an entry boot no kernel.
pub(super) fn statement(
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
            st.defaults.reads_next = true;
        }
        // A `set` in a branch that does not run at boot is no `set` at all
        // (Fedora's `set default=1` for boot counting, the `kernelopts`
        // fallback when grubenv has it).
        if entry.is_none() && runs != Runs::Never {
            if name == "default" {
                st.defaults.sets.push((value, line));
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

/// `name=value` as GRUB's `set` and a bare assignment take it.
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
