//! Properties of the parsers of untrusted input (grub.cfg, BLS entries,
//! extlinux.conf, grubenv, GRUB legacy's menu.lst), checked with proptest.
//!
//! On any input a parser returns, never panics, and every problem it
//! reports is a clear one: a non-empty message at a line of the file it
//! read. Where valid input is cheap to generate (a menu of entries, a BLS
//! file from its key/value lines, a grubenv block from its variables), the
//! parse must give back exactly what was written, and the default the file
//! names must resolve to the entry it names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use crate::model::Config;
use crate::{bls, config_text, extlinux, grub2, grub_legacy, grubenv};

/// Few cases, so that the whole suite stays fast (`PROPTEST_CASES=5000`
/// for a longer hunt); nothing is written to the source tree when a case
/// fails (the failing input is printed).
fn config() -> ProptestConfig {
    let d = ProptestConfig::default();
    ProptestConfig {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            d.cases
        } else {
            48
        },
        failure_persistence: None,
        ..d
    }
}

/// Every problem names `file` (or a file in `others`), a line that exists
/// (0: the whole file) and says something.
fn clear_problems(c: &Config, text: &str, file: &Path) -> Result<(), TestCaseError> {
    let lines = text.lines().count() + 1;
    for p in &c.problems {
        prop_assert!(!p.message.trim().is_empty(), "{p:?}");
        prop_assert!(p.line <= lines, "line {} of {lines}: {p:?}", p.line);
        prop_assert_eq!(&p.file, file);
    }
    Ok(())
}

/// The lookups the checks make on a menu never panic.
fn resolve_all(c: &Config) {
    for spec in [
        None,
        Some("0"),
        Some("1>0"),
        Some(">"),
        Some(""),
        Some("x>y"),
    ] {
        let _ = c.resolve(spec);
        let _ = c.effective(spec);
    }
    let _ = c.effective(c.default.spec.as_deref());
    if let Some(n) = &c.next {
        let _ = c.effective(n.spec.as_deref());
    }
}

/// Bytes as a configuration file is read: decoded, damage and all.
fn text_of(bytes: &[u8]) -> String {
    config_text::decode(bytes).0
}

/// Pieces of GRUB script, put together at random: keywords, quotes,
/// variables, braces, separators.
fn grub_soup() -> impl Strategy<Value = String> {
    const TOKENS: &[&str] = &[
        "menuentry ",
        "submenu ",
        "function f ",
        "{",
        "}",
        " { ",
        " }\n",
        "\n",
        ";",
        " ",
        "\t",
        "'",
        "\"",
        "\\",
        "$",
        "${",
        "$saved_entry",
        "${next_entry}",
        "#",
        "if ",
        "[ ",
        " ]",
        " = ",
        "-n ",
        "-z ",
        "!",
        " -a ",
        " -o ",
        "then ",
        "elif ",
        "else ",
        "fi",
        "set ",
        "default=",
        "x=",
        "linux /vmlinuz ",
        "initrd /initrd ",
        "search --fs-uuid --set=root U ",
        "source /boot/grub/custom.cfg",
        "configfile /x.cfg",
        "blscfg",
        "insmod bli",
        "--id ",
        "$menuentry_id_option ",
        "chainloader +1",
        "fwsetup",
        "0",
        "1>0",
        "é",
        "\u{fffd}",
    ];
    prop::collection::vec(prop::sample::select(TOKENS), 0..80).prop_map(|t| t.concat())
}

fn parse_grub(text: &str, env: &BTreeMap<String, String>) -> Config {
    grub2::parse(
        text,
        Path::new("/boot/grub/grub.cfg"),
        grub2::Inputs {
            env,
            env_file: PathBuf::from("/boot/grub/grubenv"),
            bls: Vec::new(),
            grub_default: None,
            include: &|_| None,
        },
    )
}

/// One generated boot entry.
#[derive(Debug, Clone)]
struct GenEntry {
    title: String,
    kernel: String,
    initrds: Vec<String>,
    args: Vec<String>,
}

/// A kernel command-line word (never `--x`, never `initrd=`).
fn arg() -> impl Strategy<Value = String> {
    "k[a-z0-9_.]{0,5}(=[a-z0-9/:,.-]{1,8})?"
}

fn gen_entry(title: impl Strategy<Value = String>) -> impl Strategy<Value = GenEntry> {
    (
        title,
        "/vmlinuz-[0-9]{1,2}\\.[0-9]{1,2}-[a-z]{1,6}",
        prop::collection::vec("/initrd-[0-9a-z.]{1,8}", 0..3),
        prop::collection::vec(arg(), 0..5),
    )
        .prop_map(|(title, kernel, initrds, args)| GenEntry {
            title,
            kernel,
            initrds,
            args,
        })
}

/// A grub.cfg menu: top-level entries and submenus of entries.
#[derive(Debug, Clone)]
enum GenItem {
    Entry(GenEntry),
    Submenu(String, Vec<GenEntry>),
}

fn gen_menu() -> impl Strategy<Value = Vec<GenItem>> {
    // Inside single quotes every character but the quote is itself.
    let title = || "[^']{0,16}";
    let item = prop_oneof![
        3 => gen_entry(title()).prop_map(GenItem::Entry),
        1 => (title(), prop::collection::vec(gen_entry(title()), 1..4))
            .prop_map(|(t, es)| GenItem::Submenu(t, es)),
    ];
    prop::collection::vec(item, 1..6)
}

/// grub.cfg as grub-mkconfig writes such a menu; the entries in file
/// order with their submenu, and for each the GRUB specs that name it (by
/// position and by id).
#[allow(clippy::type_complexity)]
fn render_grub(menu: &[GenItem]) -> (String, Vec<(GenEntry, Option<String>, [String; 2])>) {
    let mut s = String::from("set timeout=5\n");
    let mut out = Vec::new();
    let entry = |s: &mut String, e: &GenEntry, id: &str, indent: &str| {
        s.push_str(&format!(
            "{indent}menuentry '{}' --class gnu-linux $menuentry_id_option '{id}' {{\n",
            e.title
        ));
        s.push_str(&format!(
            "{indent}\tsearch --no-floppy --fs-uuid --set=root 1234-ABCD\n"
        ));
        s.push_str(&format!("{indent}\tlinux\t{}", e.kernel));
        for a in &e.args {
            s.push(' ');
            s.push_str(a);
        }
        s.push('\n');
        if !e.initrds.is_empty() {
            s.push_str(&format!("{indent}\tinitrd\t{}\n", e.initrds.join(" ")));
        }
        s.push_str(&format!("{indent}}}\n"));
    };
    for (k, item) in menu.iter().enumerate() {
        match item {
            GenItem::Entry(e) => {
                let id = format!("id-{k}");
                entry(&mut s, e, &id, "");
                out.push((e.clone(), None, [k.to_string(), id]));
            }
            GenItem::Submenu(t, es) => {
                let sid = format!("sub-{k}");
                s.push_str(&format!("submenu '{t}' $menuentry_id_option '{sid}' {{\n"));
                for (j, e) in es.iter().enumerate() {
                    let id = format!("id-{k}-{j}");
                    entry(&mut s, e, &id, "\t");
                    out.push((
                        e.clone(),
                        Some(t.clone()),
                        [format!("{k}>{j}"), format!("{sid}>{id}")],
                    ));
                }
                s.push_str("}\n");
            }
        }
    }
    (s, out)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn grub_cfg_of_any_bytes_or_pieces(bytes in prop::collection::vec(any::<u8>(), 0..400), soup in grub_soup()) {
        let env: BTreeMap<String, String> =
            [("saved_entry".to_owned(), "1>0".to_owned())].into_iter().collect();
        for text in [text_of(&bytes), soup] {
            let c = parse_grub(&text, &env);
            clear_problems(&c, &text, Path::new("/boot/grub/grub.cfg"))?;
            resolve_all(&c);
        }
    }

    #[test]
    fn grub_cfg_menu_reads_back(menu in gen_menu(), pick in any::<prop::sample::Index>(), by_id in any::<bool>(), saved in any::<bool>()) {
        let (mut text, entries) = render_grub(&menu);
        let (want, _, specs) = &entries[pick.index(entries.len())];
        let spec = &specs[usize::from(by_id)];
        let mut env = BTreeMap::new();
        if saved {
            // grub-set-default's way: grub.cfg reads grubenv's saved_entry.
            text.insert_str(0, "load_env\nset default=\"${saved_entry}\"\n");
            env.insert("saved_entry".to_owned(), spec.clone());
        } else {
            text.insert_str(0, &format!("set default=\"{spec}\"\n"));
        }
        let c = parse_grub(&text, &env);
        prop_assert!(c.problems.is_empty(), "{:?}\n{text}", c.problems);
        prop_assert_eq!(c.entries.len(), entries.len());
        for (e, (g, sub, _)) in c.entries.iter().zip(&entries) {
            prop_assert_eq!(&e.title, &g.title);
            prop_assert_eq!(e.kernel.as_deref(), Some(g.kernel.as_str()));
            prop_assert_eq!(&e.initrds, &g.initrds);
            prop_assert_eq!(e.options.clone(), Some(g.args.join(" ")));
            prop_assert_eq!(e.submenus.first(), sub.as_ref());
            prop_assert_eq!(e.fs_uuid.as_deref(), Some("1234-ABCD"));
        }
        let i = c.resolve(c.default.spec.as_deref());
        prop_assert!(i.is_some(), "{spec} names nothing\n{text}");
        let i = i.unwrap_or_default();
        prop_assert_eq!(&c.entries[i].title, &want.title);
        prop_assert_eq!(&c.entries[i].kernel.as_deref(), &Some(want.kernel.as_str()));
        prop_assert_eq!(c.spec_of(i), Some(specs[1].clone()));
    }

    #[test]
    fn bls_entry_of_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300), name in "[a-z0-9+.-]{0,20}") {
        let text = text_of(&bytes);
        let file = Path::new("/boot/loader/entries/e.conf");
        let (b, problems) = bls::parse_entry(&text, file, &name);
        let lines = text.lines().count() + 1;
        for p in &problems {
            prop_assert!(!p.message.is_empty() && p.line <= lines && p.file == file, "{p:?}");
        }
        // An entry without a kernel says so.
        prop_assert!(b.entry.kernel.is_some() || b.entry.chain || problems.iter().any(|p| p.line == 0));
    }

    #[test]
    fn bls_entry_from_its_lines(
        title in "[A-Za-z0-9]([A-Za-z0-9 ()._-]{0,30}[A-Za-z0-9])?",
        version in "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,3}-[0-9]{1,3}\\.fc[0-9]{2}\\.x86_64",
        machine in "[0-9a-f]{32}",
        sort_key in prop::option::of("[a-z]{1,8}"),
        initrd_lines in prop::collection::vec(prop::collection::vec("/[a-z0-9._-]{1,12}", 1..3), 0..3),
        option_lines in prop::collection::vec(prop::collection::vec(arg(), 1..4), 0..3),
        extra in prop::collection::vec(prop_oneof!["# [^\n]{0,20}", Just(String::new()), "grub_users [a-z]{1,5}", "grub_class [a-z]{1,5}"], 0..3),
        gaps in prop::collection::vec(prop_oneof![Just(" "), Just("\t"), Just("   ")], 16),
        counter in prop::option::of((0u64..5, 0u64..5)),
        order in Just(()).prop_perturb(|_, rng| rng),
    ) {
        // The lines, each (key, value), in a random order.
        let mut lines: Vec<(String, String)> = vec![
            ("title".into(), title.clone()),
            ("version".into(), version.clone()),
            ("machine-id".into(), machine.clone()),
            ("linux".into(), format!("/vmlinuz-{version}")),
        ];
        if let Some(k) = &sort_key {
            lines.push(("sort-key".into(), k.clone()));
        }
        lines.extend(initrd_lines.iter().map(|v| ("initrd".to_owned(), v.join(" "))));
        lines.extend(option_lines.iter().map(|v| ("options".to_owned(), v.join(" "))));
        lines.extend(extra.iter().map(|x| (x.clone(), String::new())));
        let mut rng = order;
        let mut shuffled = Vec::new();
        while !lines.is_empty() {
            let k = (rng.next_u32() as usize) % lines.len();
            shuffled.push(lines.remove(k));
        }
        let text: String = shuffled
            .iter()
            .enumerate()
            .map(|(n, (k, v))| if v.is_empty() { format!("{k}\n") } else { format!("{k}{}{v}\n", gaps[n % gaps.len()]) })
            .collect();
        let name = match counter {
            Some((l, d)) => format!("{machine}-{version}+{l}-{d}.conf"),
            None => format!("{machine}-{version}.conf"),
        };
        let file = PathBuf::from(format!("/boot/loader/entries/{name}"));
        let (b, problems) = bls::parse_entry(&text, &file, &name);
        prop_assert!(problems.is_empty(), "{problems:?}\n{text}");
        let e = &b.entry;
        prop_assert_eq!(&e.title, &title);
        prop_assert_eq!(e.version.as_deref(), Some(version.as_str()));
        prop_assert_eq!(b.machine_id.as_deref(), Some(machine.as_str()));
        prop_assert_eq!(&b.sort_key, &sort_key);
        let kernel = format!("/vmlinuz-{version}");
        prop_assert_eq!(e.kernel.as_deref(), Some(kernel.as_str()));
        let want_initrds: Vec<String> = shuffled
            .iter()
            .filter(|(k, _)| k == "initrd")
            .flat_map(|(_, v)| v.split(' ').map(str::to_owned))
            .collect();
        prop_assert_eq!(&e.initrds, &want_initrds);
        let want_options: Vec<&str> = shuffled
            .iter()
            .filter(|(k, _)| k == "options")
            .map(|(_, v)| v.as_str())
            .collect();
        prop_assert_eq!(
            e.options.clone(),
            (!want_options.is_empty()).then(|| want_options.join(" "))
        );
        prop_assert_eq!(e.id.clone(), Some(format!("{machine}-{version}")));
        prop_assert_eq!(e.tries, counter);
    }

    #[test]
    fn extlinux_of_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = text_of(&bytes);
        let file = Path::new("/boot/extlinux/extlinux.conf");
        let c = extlinux::parse(&text, file);
        clear_problems(&c, &text, file)?;
        resolve_all(&c);
    }

    #[test]
    fn extlinux_labels_read_back(
        labels in prop::collection::vec(("[a-z0-9][a-z0-9_.-]{0,9}", prop::option::of("M([A-Za-z0-9 ()._-]{0,20}[A-Za-z0-9])?"), gen_entry(Just(String::new())), any::<bool>()), 1..5),
        pick in any::<prop::sample::Index>(),
        upper in any::<bool>(),
    ) {
        // Labels are unique in a file that means one entry by each; a
        // label of digits is a name like any other, never a position.
        let mut seen = std::collections::BTreeSet::new();
        let labels: Vec<_> = labels.into_iter().filter(|l| seen.insert(l.0.clone())).collect();
        let kw = |k: &str| if upper { k.to_owned() } else { k.to_ascii_lowercase() };
        let want = pick.index(labels.len());
        let mut text = format!("{} 0\n{} {}\n", kw("TIMEOUT"), kw("DEFAULT"), labels[want].0);
        for (label, menu, e, initrd_in_append) in &labels {
            text.push_str(&format!("{} {label}\n", kw("LABEL")));
            if let Some(m) = menu {
                text.push_str(&format!("  {} {m}\n", kw("MENU LABEL")));
            }
            text.push_str(&format!("  {} {}\n", kw("LINUX"), e.kernel));
            let mut append = e.args.clone();
            if !e.initrds.is_empty() {
                if *initrd_in_append {
                    append.insert(0, format!("initrd={}", e.initrds.join(",")));
                } else {
                    text.push_str(&format!("  {} {}\n", kw("INITRD"), e.initrds.join(",")));
                }
            }
            text.push_str(&format!("  {} {}\n", kw("APPEND"), append.join(" ")));
        }
        let file = Path::new("/boot/extlinux/extlinux.conf");
        let c = extlinux::parse(&text, file);
        prop_assert!(c.problems.is_empty(), "{:?}\n{text}", c.problems);
        prop_assert_eq!(c.entries.len(), labels.len());
        for (e, (label, menu, g, _)) in c.entries.iter().zip(&labels) {
            prop_assert_eq!(e.id.as_deref(), Some(label.as_str()));
            prop_assert_eq!(&e.title, menu.as_ref().unwrap_or(label));
            prop_assert_eq!(e.kernel.as_deref(), Some(g.kernel.as_str()));
            prop_assert_eq!(&e.initrds, &g.initrds);
            prop_assert_eq!(e.options.clone(), Some(g.args.join(" ")));
        }
        prop_assert_eq!(c.resolve(c.default.spec.as_deref()), Some(want));
        prop_assert_eq!(c.effective(c.default.spec.as_deref()), Some(want));
    }

    #[test]
    fn grub_legacy_of_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400), saved in prop::option::of("[0-9]{1,2}")) {
        let text = text_of(&bytes);
        let file = Path::new("/boot/grub/menu.lst");
        let c = grub_legacy::parse(&text, file, saved);
        clear_problems(&c, &text, file)?;
        resolve_all(&c);
    }

    #[test]
    fn grub_legacy_titles_read_back(
        entries in prop::collection::vec(gen_entry("[A-Za-z0-9]([A-Za-z0-9 ()._-]{0,20}[A-Za-z0-9])?"), 1..5),
        pick in any::<prop::sample::Index>(),
        eq in any::<bool>(),
        device in any::<bool>(),
        saved in any::<bool>(),
    ) {
        let want = pick.index(entries.len());
        let sep = if eq { "=" } else { " " };
        let mut text = if saved {
            format!("default{sep}saved\ntimeout{sep}5\n")
        } else {
            format!("default{sep}{want}\ntimeout{sep}5\n")
        };
        text.push_str("hiddenmenu\n");
        for e in &entries {
            text.push_str(&format!("title {}\n\troot (hd0,0)\n", e.title));
            let dev = if device { "(hd0,0)" } else { "" };
            text.push_str(&format!("\tkernel {dev}{} {}\n", e.kernel, e.args.join(" ")));
            if !e.initrds.is_empty() {
                text.push_str(&format!("\tinitrd {dev}{}\n", e.initrds.join(&format!(" {dev}"))));
            }
        }
        let file = Path::new("/boot/grub/menu.lst");
        let c = grub_legacy::parse(&text, file, saved.then(|| want.to_string()));
        prop_assert!(c.problems.is_empty(), "{:?}\n{text}", c.problems);
        prop_assert_eq!(c.entries.len(), entries.len());
        for (e, g) in c.entries.iter().zip(&entries) {
            prop_assert_eq!(&e.title, &g.title);
            prop_assert_eq!(e.kernel.as_deref(), Some(g.kernel.as_str()));
            prop_assert_eq!(&e.initrds, &g.initrds);
            prop_assert_eq!(e.options.clone(), Some(g.args.join(" ")));
        }
        prop_assert_eq!(c.resolve(c.default.spec.as_deref()), Some(want));
    }

    #[test]
    fn grubenv_of_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1100), header in any::<bool>()) {
        let mut data = bytes;
        if header {
            data.splice(0..0, grubenv::HEADER.iter().copied());
        }
        let env = grubenv::parse(&data);
        let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
        if let Some((line, msg)) = &env.problem {
            prop_assert!(*line <= lines && !msg.is_empty(), "{line} of {lines}: {msg}");
        }
        prop_assert!(!env.ignored || env.vars.is_empty());
    }

    #[test]
    fn grubenv_from_its_variables(vars in prop::collection::btree_map("[A-Za-z_][A-Za-z0-9_]{0,15}", "(.|\n){0,24}", 0..8)) {
        let pairs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let block = grubenv::build(&pairs);
        let env = grubenv::parse(&block);
        prop_assert_eq!(&env.vars, &vars);
        prop_assert!(env.writable && !env.ignored);
        if block.len() == grubenv::SIZE {
            prop_assert_eq!(&env.problem, &None);
        } else {
            // More than grub-editenv's 1024 bytes: read all the same.
            prop_assert!(env.minor && env.problem.as_ref().is_some_and(|(l, _)| *l == 0));
        }
    }
}
