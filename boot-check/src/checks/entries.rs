//! Boot entries against the files they name: the default and the one-time
//! entry (`fail` when broken), every other entry (`warn`), and whether a
//! second bootable kernel remains.

use std::path::PathBuf;

use crate::kernels::{self, Kernel};
use crate::model::{Config, Entry, Loader};
use crate::system::{Family, Sys};

use super::fix::{boot_path, Fix};
use super::{Check, St};

/// One entry, checked against the files.
#[derive(Debug, Clone)]
pub(crate) struct EntryEval {
    pub(crate) kernel: Option<PathBuf>,
    pub(crate) kernel_problem: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) initrd_problem: Option<(String, Option<PathBuf>)>,
    pub(crate) initrd_path: Option<PathBuf>,
    /// The initrd exists but is another kernel's.
    pub(crate) initrd_mismatch: bool,
    pub(crate) needs_root: bool,
    pub(crate) root_problem: Option<String>,
    pub(crate) root_value: Option<String>,
    /// The kernel is on another partition than the one the loader reads:
    /// the configuration is stale, not the kernel missing.
    pub(crate) wrong_partition: bool,
    /// No root=, and how the initrd finds the root file system anyway.
    pub(crate) root_found_by: Option<String>,
}

impl EntryEval {
    pub(crate) fn bootable(&self) -> bool {
        self.kernel_problem.is_none()
            && self.initrd_problem.is_none()
            && self.root_problem.is_none()
    }
}

/// `finds_root`: how the initrd finds the root file system without
/// `root=`, or why nothing does (see `discovery`).
pub(crate) fn eval_entry(
    sys: &Sys,
    e: &Entry,
    loader: Loader,
    finds_root: &Result<String, String>,
) -> EntryEval {
    let mut ev = EntryEval {
        kernel: None,
        kernel_problem: None,
        version: e.version.clone(),
        initrd_problem: None,
        initrd_path: None,
        initrd_mismatch: false,
        needs_root: false,
        root_problem: None,
        root_value: None,
        wrong_partition: false,
        root_found_by: None,
    };
    match &e.kernel {
        None => ev.kernel_problem = Some("has no kernel line (linux/kernel)".into()),
        Some(k) => {
            let (p, found) = sys.locate(e, k);
            let target = sys.root.resolve(&p).unwrap_or_else(|| p.clone());
            // A name that is not UTF-8 carries no version we could report.
            let name = target
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if ev.version.is_none() {
                ev.version = kernels::version_of_name(name);
            }
            ev.needs_root = e.version.is_some()
                || e.uki
                || kernels::looks_like_linux(name)
                || kernels::looks_like_linux(k.rsplit('/').next().unwrap_or(k));
            let elsewhere = (!found).then(|| sys.other_reading(e, k)).flatten();
            ev.kernel_problem = if let Some(o) = &elsewhere {
                ev.wrong_partition = true;
                Some(layout_problem(k, &p, o))
            } else if !found {
                Some(format!("{} is missing", p.display()))
            } else if !sys.is_file(&p) {
                Some(format!("{} is not a regular file", p.display()))
            } else if sys.size(&p) == Some(0) {
                Some(format!("{} is empty (0 bytes)", p.display()))
            } else if let Some(h) = &e.kernel_problem_hint {
                Some(format!("{} {h}", p.display()))
            } else {
                damage(sys, &p, true)
            };
            ev.kernel = Some(p);
        }
    }
    for written in &e.initrds {
        let (p, found) = sys.locate(e, written);
        let elsewhere = (!found).then(|| sys.other_reading(e, written)).flatten();
        let problem = if let Some(o) = &elsewhere {
            ev.wrong_partition = true;
            Some(layout_problem(written, &p, o))
        } else if !found {
            Some(format!("{} is missing", p.display()))
        } else if sys.size(&p) == Some(0) {
            Some(format!("{} is empty (0 bytes)", p.display()))
        } else if !sys.is_file(&p) {
            Some(format!("{} is not a regular file", p.display()))
        } else {
            damage(sys, &p, false)
        };
        // An initrd named for another kernel carries the wrong modules
        // (microcode images carry no version and pass).
        let mismatch = problem
            .is_none()
            .then(|| {
                let name = p.file_name().and_then(|n| n.to_str())?;
                let theirs = kernels::initrd_version(name)?;
                let ours = ev.version.as_deref()?;
                (theirs != ours).then(|| {
                    format!(
                        "{} was built for kernel {theirs}, not for {ours}",
                        p.display()
                    )
                })
            })
            .flatten();
        ev.initrd_mismatch = mismatch.is_some();
        let problem = problem.or(mismatch);
        // The last initrd is the main one (microcode comes first).
        ev.initrd_path = Some(p.clone());
        if let Some(pr) = problem {
            ev.initrd_problem = Some((pr, Some(p)));
            break;
        }
    }
    // A unified kernel image carries its initrd inside.
    if e.initrds.is_empty() && !e.uki {
        if let Some(v) = &ev.version {
            if let Some(existing) = kernels::describe(sys, v).initrd {
                ev.initrd_problem = Some((
                    format!("has no initrd line although {} exists", existing.display()),
                    Some(existing),
                ));
            }
        }
    }
    if loader == Loader::Extlinux {
        ev.needs_root = true;
    }
    if ev.needs_root {
        let opts = e.options.clone().unwrap_or_default();
        ev.root_value = opts
            .split_whitespace()
            .rev()
            .find_map(|w| w.strip_prefix("root="))
            .map(str::to_owned);
        let none = ev.root_value.as_deref().is_none_or(str::is_empty);
        // An unset variable such as RHEL's $kernelopts loses root= only
        // where something needs it.
        if none {
            if let Ok(how) = finds_root {
                ev.root_found_by = Some(how.clone());
            }
        }
        if none && ev.root_found_by.is_none() {
            ev.root_problem = Some(if e.unset_vars.is_empty() {
                match finds_root {
                    Err(why) => format!(
                        "the kernel command line has no root=, and nothing finds the root file system without it ({why})"
                    ),
                    Ok(_) => "the kernel command line has no root=".to_owned(),
                }
            } else {
                format!(
                    "the kernel command line gets no root=: {} {} set neither in grubenv nor in the configuration{}",
                    e.unset_vars.iter().map(|v| format!("${v}")).collect::<Vec<_>>().join(", "),
                    if e.unset_vars.len() == 1 { "is" } else { "are" },
                    match finds_root {
                        Err(why) => format!(", and nothing finds the root file system without it ({why})"),
                        Ok(_) => String::new(),
                    }
                )
            });
        }
    }
    ev
}

/// A kernel or initrd that exists but is damaged (see `kernels::damage`).
fn damage(sys: &Sys, p: &std::path::Path, kernel: bool) -> Option<String> {
    let head = sys.read_head(p, 1024)?;
    let len = sys.size(p)?;
    kernels::damage(&head, len, kernel).map(|d| format!("{} {d}", p.display()))
}

/// What an entry that starts no system does instead: GRUB's `fwsetup`,
/// `halt`, `reboot`, or a memory tester that runs until someone stops it.
fn stops(e: &Entry) -> Option<&'static str> {
    e.halts.or_else(|| {
        let k = e.kernel.as_deref()?;
        let name = k.rsplit('/').next().unwrap_or(k).to_ascii_lowercase();
        name.contains("memtest")
            .then_some("runs a memory test until someone stops it")
    })
}

/// The spec /etc/fstab mounts / from, when root= names the root file system
/// the same way (`UUID=`, `LABEL=`, `PARTUUID=`, a /dev path) but another
/// one: one of the two is stale.
fn root_mismatch(sys: &Sys, root: &str) -> Option<String> {
    let fstab = sys.fstab_mount("/")?.spec.clone();
    let kind = |s: &str| -> Option<(&'static str, String)> {
        let s = s.trim_matches('"');
        for k in ["UUID=", "LABEL=", "PARTUUID="] {
            if let Some(v) = s.strip_prefix(k) {
                return Some((k, v.trim_matches('"').to_ascii_lowercase()));
            }
        }
        // Only names that do not alias each other: /dev/mapper and /dev/sdX
        // can both name one LV, so only the same directory compares.
        s.starts_with("/dev/")
            .then(|| ("/dev/", s.to_owned()))
            .filter(|(_, v)| v.starts_with("/dev/mapper/") || v.starts_with("/dev/disk/by-uuid/"))
    };
    let (a, b) = (kind(root)?, kind(&fstab)?);
    let same_dir =
        |x: &str, y: &str| x.rsplit_once('/').map(|p| p.0) == y.rsplit_once('/').map(|p| p.0);
    (a.0 == b.0 && a.1 != b.1 && (a.0 != "/dev/" || same_dir(&a.1, &b.1))).then_some(fstab)
}

/// A file named for one partition layout but read on another.
fn layout_problem(written: &str, read: &std::path::Path, there: &std::path::Path) -> String {
    let part = if read.starts_with("/boot") {
        "the /boot partition"
    } else {
        "the root file system"
    };
    format!(
        "{written} is read from {part}, where it would be {} and does not exist (the file is {}: the configuration was written for another partition layout)",
        read.display(),
        there.display()
    )
}

/// The entry to suggest as the default: bootable, newest kernel, not a
/// recovery entry, earliest in the menu.
pub(crate) fn best_entry(cfg: &Config, evals: &[EntryEval]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, ev) in evals.iter().enumerate() {
        let e = &cfg.entries[i];
        if !ev.bootable() || e.chain || !in_menu(cfg, i) {
            continue;
        }
        let recovery = |e: &Entry| {
            e.title.contains("recovery")
                || e.title.contains("rescue")
                || e.options
                    .as_deref()
                    .is_some_and(|o| o.split_whitespace().any(|w| w == "single"))
        };
        let better = match best {
            None => true,
            Some(b) => {
                let bv = evals[b].version.as_deref().unwrap_or("");
                let v = ev.version.as_deref().unwrap_or("");
                match kernels::vercmp(v, bv) {
                    std::cmp::Ordering::Greater => !recovery(e) || recovery(&cfg.entries[b]),
                    std::cmp::Ordering::Equal => recovery(&cfg.entries[b]) && !recovery(e),
                    std::cmp::Ordering::Less => recovery(&cfg.entries[b]) && !recovery(e),
                }
            }
        };
        if better {
            best = Some(i);
        }
    }
    best
}

pub(crate) fn in_menu(cfg: &Config, i: usize) -> bool {
    fn walk(items: &[crate::model::Item], i: usize) -> bool {
        items.iter().any(|it| match it {
            crate::model::Item::Entry(j) => *j == i,
            crate::model::Item::Submenu { children, .. } => walk(children, i),
        })
    }
    walk(&cfg.menu, i)
}

impl Check {
    pub(crate) fn with_path(mut self, p: impl Into<PathBuf>) -> Self {
        self.path = Some(p.into());
        self
    }
    pub(crate) fn with_entry(mut self, e: &Entry, v: &Option<String>) -> Self {
        self.entry = Some(e.display_title());
        self.kernel = v.clone();
        self
    }
}

pub(crate) struct Resolved {
    pub(crate) default: Option<usize>,
    pub(crate) next: Option<usize>,
}

pub(crate) fn default_checks(
    cfg: &Config,
    evals: &[EntryEval],
    fix: &Fix<'_>,
    alt: Option<usize>,
    out: &mut Vec<Check>,
) -> Resolved {
    let mut r = Resolved {
        default: None,
        next: None,
    };
    if cfg.entries.is_empty() {
        out.push(
            Check::new(
                "default-entry",
                St::Fail,
                cfg.file.display().to_string(),
                if cfg.loads.is_empty() {
                    format!(
                        "{} has no boot entries: the machine will not boot; regenerate it with {}",
                        cfg.file.display(),
                        fix.regenerate()
                    )
                } else {
                    format!(
                        "{} has no boot entries of its own and hands over to {} (`configfile`), which is not there: GRUB stops at its prompt; create it with {}",
                        cfg.file.display(),
                        boot_path(&cfg.loads[0]),
                        fix.regenerate()
                    )
                },
            )
            .loader(cfg.loader)
            .at(Some(&cfg.file), None),
        );
        return r;
    }
    let first = cfg.resolve(None);
    let alt_text = |fix: &Fix<'_>| match (alt, first) {
        (Some(a), _) => format!(
            "make a working entry the default with {}",
            fix.set_default(a)
        ),
        (None, Some(f)) => format!(
            "name an existing entry as the default with {}",
            fix.set_default(f)
        ),
        (None, None) => format!("regenerate the menu with {}", fix.regenerate()),
    };
    for (which, spec) in [("default", Some(&cfg.default)), ("next", cfg.next.as_ref())] {
        let Some(spec) = spec else { continue };
        let resolved = cfg.resolve(spec.spec.as_deref());
        // What actually boots when the spec names no entry.
        let eff = if cfg.loader == Loader::Grub2 {
            cfg.effective(spec.spec.as_deref())
        } else {
            resolved.or(first)
        };
        let submenu = spec
            .spec
            .as_deref()
            .filter(|_| cfg.loader == Loader::Grub2)
            .and_then(|s| cfg.submenu_named(s));
        let id = if which == "default" {
            "default-entry"
        } else {
            "next-entry"
        };
        let shown = spec
            .spec
            .clone()
            .unwrap_or_else(|| "(none: the first entry)".into());
        let cancel = match (&spec.file, which) {
            (Some(f), "next") => Some(format!(
                "cancel the one-time boot with `grub-editenv {} unset next_entry`",
                f.display()
            )),
            _ => None,
        };
        let c = match (resolved, submenu.zip(eff)) {
            (Some(i), _) if stops(&cfg.entries[i]).is_some() => {
                // A default that starts no system: the machine does not
                // come back (a one-time entry of grub-reboot is meant).
                let e = &cfg.entries[i];
                let what = stops(e).unwrap_or_default();
                if which == "default" {
                    Check::new(
                        id,
                        St::Fail,
                        e.display_title(),
                        format!(
                            "the default entry '{}' ({}) starts no system: the machine {what} and does not come back; {}",
                            e.display_title(),
                            spec.source,
                            alt_text(fix)
                        ),
                    )
                } else {
                    Check::new(
                        id,
                        St::Warn,
                        e.display_title(),
                        format!(
                            "the next boot is the one-time entry '{}' ({}), which starts no system: the machine {what} and someone must be there to boot it; {}",
                            e.display_title(),
                            spec.source,
                            cancel.clone().unwrap_or_default()
                        ),
                    )
                }
                .with_entry(e, &evals[i].version)
            }
            (Some(i), _) if cfg.superusers && !cfg.entries[i].unrestricted => {
                // GRUB asks for a superuser's password before booting any
                // entry that is not `--unrestricted`, even the default.
                let e = &cfg.entries[i];
                Check::new(
                    id,
                    St::Fail,
                    e.display_title(),
                    format!(
                        "the {} entry '{}' ({}) needs a GRUB password: grub.cfg sets superusers and the entry is not --unrestricted, so GRUB waits at the console for someone to log in; mark the entries --unrestricted ({}) or remove the password",
                        if which == "default" { "default" } else { "one-time" },
                        e.display_title(),
                        spec.source,
                        match (fix.sys.family, e.version.is_some()) {
                            (_, true) => format!("`grub_arg --unrestricted` in {}", e.file.display()),
                            (Family::Debian, _) => "add --unrestricted to CLASS in /etc/grub.d/10_linux, then `update-grub`".to_owned(),
                            _ => format!("in the scripts of /etc/grub.d, then {}", fix.regenerate()),
                        }
                    ),
                )
                .with_entry(e, &evals[i].version)
            }
            (Some(i), _) => {
                let e = &cfg.entries[i];
                let msg = if which == "default" {
                    if e.chain {
                        format!("the default entry is '{}' ({}); it starts another boot loader, which is not checked", e.display_title(), spec.source)
                    } else {
                        format!(
                            "the default entry is '{}' ({})",
                            e.display_title(),
                            spec.source
                        )
                    }
                } else {
                    format!("the next boot is the one-time entry '{}' ({}); the default applies after it", e.display_title(), spec.source)
                };
                match (&cfg.stale_default, which) {
                    (_, "default") if cfg.default_unknown.is_some() => Check::new(
                        id,
                        St::Warn,
                        e.display_title(),
                        format!(
                            "{}; boot-check checked '{}' ({}) in its place: run it on the running system, or name a fixed default with {}",
                            cfg.default_unknown.clone().unwrap_or_default(),
                            e.display_title(),
                            spec.source,
                            fix.set_default(i)
                        ),
                    ),
                    (Some((gd, gline)), "default") => {
                        let what = if gd == "saved" {
                            format!(
                                "so `grub-set-default` has no effect until it is regenerated with {}",
                                fix.regenerate()
                            )
                        } else {
                            format!("and the next {} will change the default", fix.regenerate())
                        };
                        Check::new(
                            id,
                            St::Warn,
                            e.display_title(),
                            format!(
                                "{msg}, but /etc/default/grub line {gline} says GRUB_DEFAULT={gd}: {} predates that setting, {what}",
                                cfg.file.display()
                            ),
                        )
                    }
                    _ => Check::new(id, St::Ok, e.display_title(), msg),
                }
                .with_entry(e, &evals[i].version)
            }
            (None, Some((sub, j))) => {
                let e = &cfg.entries[j];
                let msg = format!(
                    "'{shown}' ({}) is the submenu '{sub}': GRUB boots its first entry '{}'",
                    spec.source,
                    e.display_title()
                );
                let msg = if which == "default" {
                    format!("the default {msg}")
                } else {
                    format!("the one-time entry {msg}; the default applies after it")
                };
                Check::new(id, St::Ok, e.display_title(), msg).with_entry(e, &evals[j].version)
            }
            (None, None) => {
                let fallback = eff.map(|f| cfg.entries[f].display_title());
                let goes = match &fallback {
                    Some(t) if eff == first => format!("GRUB falls back to the first entry '{t}'"),
                    Some(t) => format!("GRUB falls back to the first entry of its submenu, '{t}'"),
                    None => "GRUB finds nothing to boot automatically".into(),
                };
                let nested = spec
                    .spec
                    .as_deref()
                    .and_then(|sp| cfg.nested_match(sp))
                    .and_then(|n| cfg.spec_of(n))
                    .map(|path| {
                        format!(" (it is inside a submenu, where GRUB does not look: write it as '{path}')")
                    })
                    .unwrap_or_default();
                let goes = format!("{goes}{nested}");
                let goes = if cfg.loader == Loader::Grub2 {
                    goes
                } else {
                    goes.replace("GRUB", "the boot loader")
                };
                Check::new(
                    id,
                    St::Fail,
                    shown.clone(),
                    format!(
                        "{} '{shown}' names no boot entry: {goes}; {}",
                        spec.source,
                        cancel.clone().unwrap_or_else(|| alt_text(fix))
                    ),
                )
            }
        };
        let mut c = c.loader(cfg.loader).at(spec.file.as_deref(), spec.line);
        // systemd-boot's boot counting: an entry with no tries left failed
        // every counted boot; only a default that names it exactly (not a
        // glob, not the first entry, as it sorts last) still boots it.
        if let Some((0, done)) = resolved.and_then(|i| cfg.entries[i].tries) {
            if c.status == St::Ok && cfg.loader == Loader::SystemdBoot {
                c.status = St::Warn;
                c.message = format!(
                    "{}; but systemd-boot counted its boots and it has no tries left ({done} failed: its file name ends in +0-{done}), so it boots only because the default names it exactly: find out why it did not boot, then rename the entry without the counter, or make a working entry the default",
                    c.message
                );
            }
        }
        out.push(c);
        if which == "default" {
            r.default = eff;
        } else {
            r.next = eff;
        }
    }
    r
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn entry_checks(
    sys: &Sys,
    cfg: &Config,
    i: usize,
    ev: &EntryEval,
    next: bool,
    fix: &Fix<'_>,
    alt: Option<usize>,
    out: &mut Vec<Check>,
) {
    let e = &cfg.entries[i];
    let sev = if next { St::Fail } else { St::Warn };
    let id = |what: &str| -> &'static str {
        match (next, what) {
            (true, "kernel") => "default-entry-kernel",
            (true, "initrd") => "default-entry-initrd",
            (true, _) => "default-entry-root",
            (false, "kernel") => "entry-kernel",
            (false, "initrd") => "entry-initrd",
            (false, _) => "entry-root",
        }
    };
    let title = e.display_title();
    let version = ev.version.clone();
    let who = if next {
        "the entry that boots next"
    } else {
        "this entry"
    };
    let other = match alt {
        Some(a) if a != i && next => format!(
            ", or make a working entry the default with {}",
            fix.set_default(a)
        ),
        _ => String::new(),
    };
    let base = |c: Check| {
        c.loader(cfg.loader)
            .at(Some(&e.file), Some(e.line))
            .with_entry(e, &version)
            .opts(&e.options)
    };

    // kernel
    let c = match &ev.kernel_problem {
        Some(p) => {
            let remedy = if e.kernel.is_none() || ev.wrong_partition {
                format!("regenerate the menu with {}", fix.regenerate())
            } else if let Some(v) = &ev.version {
                match fix.unlisted.as_deref().filter(|u| *u != v) {
                    Some(u) => format!(
                        "regenerate the menu with {} so that it boots the installed kernel {u}, or reinstall the kernel package with {}{other}",
                        fix.regenerate(),
                        fix.reinstall(v)
                    ),
                    None => format!(
                        "reinstall the kernel package with {}{other}",
                        fix.reinstall(v)
                    ),
                }
            } else {
                format!(
                    "restore the file or remove the entry with {}{other}",
                    fix.regenerate()
                )
            };
            Check::new(
                id("kernel"),
                sev,
                title.clone(),
                format!("{p}, so {who} cannot boot: {remedy}"),
            )
        }
        None => Check::new(
            id("kernel"),
            St::Ok,
            title.clone(),
            format!(
                "kernel {} is present ({} bytes)",
                ev.kernel
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                ev.kernel.as_deref().and_then(|p| sys.size(p)).unwrap_or(0)
            ),
        ),
    };
    let c = base(c);
    let c = match &ev.kernel {
        Some(p) => c.with_path(p.clone()),
        None => c,
    };
    out.push(c);

    // initrd
    let c = match &ev.initrd_problem {
        Some((p, path)) => {
            let remedy = if e.initrds.is_empty() || ev.initrd_mismatch || ev.wrong_partition {
                format!("regenerate the menu with {}", fix.regenerate())
            } else if let (Some(v), Some(_)) = (&ev.version, &ev.kernel_problem) {
                // The initramfs tool needs the kernel's modules: with the
                // kernel gone too, the package brings both back, unless an
                // upgrade replaced it and the menu is what is stale.
                match fix.unlisted.as_deref().filter(|u| *u != v) {
                    Some(u) => format!(
                        "regenerate the menu with {} so that it boots the installed kernel {u}, or reinstall the kernel package with {}, which rebuilds it{other}",
                        fix.regenerate(),
                        fix.reinstall(v)
                    ),
                    None => format!(
                        "reinstall the kernel package with {}, which rebuilds it{other}",
                        fix.reinstall(v)
                    ),
                }
            } else if let Some(v) = &ev.version {
                format!("rebuild it with {}{other}", fix.initrd_tool(v))
            } else {
                format!("restore it, or point the entry at the right initrd{other}")
            };
            let c = Check::new(
                id("initrd"),
                sev,
                title.clone(),
                format!("initrd {p}, so {who} will likely not find its root file system: {remedy}"),
            );
            match path {
                Some(p) => c.with_path(p.clone()),
                None => c,
            }
        }
        None => {
            let c = if e.uki {
                Check::new(
                    id("initrd"),
                    St::Ok,
                    title.clone(),
                    "the unified kernel image carries its own initrd",
                )
            } else if e.initrds.is_empty() {
                Check::new(
                    id("initrd"),
                    St::Ok,
                    title.clone(),
                    "the entry boots without an initrd, and none is installed for its kernel",
                )
            } else {
                Check::new(
                    id("initrd"),
                    St::Ok,
                    title.clone(),
                    format!("initrd {} present", e.initrds.join(", ")),
                )
            };
            match &ev.initrd_path {
                Some(p) => c.with_path(p.clone()),
                None => c,
            }
        }
    };
    out.push(base(c));

    // root=
    if ev.needs_root {
        let c = match &ev.root_problem {
            Some(p) => {
                let root_spec = sys
                    .fstab_mount("/")
                    .map(|f| f.spec.clone())
                    .unwrap_or_else(|| "UUID=...".into());
                let remedy = if !e.unset_vars.is_empty() && cfg.loader == Loader::Grub2 {
                    let var = e
                        .unset_vars
                        .iter()
                        .find(|v| *v == "kernelopts")
                        .unwrap_or(&e.unset_vars[0]);
                    let (editenv, grubby) = match sys.family {
                        Family::RedHat => (
                            "grub2-editenv",
                            format!(" (or give the entries their options with `grubby --update-kernel=ALL --args=\"root={root_spec}\"`)"),
                        ),
                        Family::Suse => ("grub2-editenv", String::new()),
                        _ => ("grub-editenv", String::new()),
                    };
                    format!("set it with `{editenv} - set \"{var}=root={root_spec} ro\"`{grubby}")
                } else {
                    match cfg.loader {
                        Loader::Grub2 if sys.family == Family::Debian => format!("check GRUB_CMDLINE_LINUX in /etc/default/grub and run `update-grub` (root={root_spec})"),
                        Loader::Grub2 => format!("add it with `grubby --update-kernel={} --args=\"root={root_spec}\"`", e.kernel.as_deref().map(boot_path).unwrap_or_else(|| "ALL".into())),
                        _ => format!("add root={root_spec} to the entry's options in {}", e.file.display()),
                    }
                };
                Check::new(
                    id("root"),
                    sev,
                    title.clone(),
                    format!(
                        "{p}, so the kernel cannot mount the root file system and panics: {remedy}"
                    ),
                )
            }
            None if ev.root_found_by.is_some() => Check::new(
                id("root"),
                St::Ok,
                title.clone(),
                format!(
                    "the kernel command line has no root=, and needs none: {}",
                    ev.root_found_by.as_deref().unwrap_or_default()
                ),
            ),
            None => {
                let value = ev.root_value.clone().unwrap_or_default();
                match root_mismatch(sys, &value) {
                    Some(fstab) => Check::new(
                        id("root"),
                        St::Warn,
                        title.clone(),
                        format!(
                            "the kernel gets root={value}, but /etc/fstab mounts / from {fstab}: one of them is stale (a cloned or rebuilt disk?), and with the wrong root= the boot stops in an emergency shell; compare with `blkid` and fix the command line ({}) or /etc/fstab",
                            match cfg.loader {
                                Loader::Grub2 if sys.family == Family::Debian => "GRUB_CMDLINE_LINUX and `update-grub`".to_owned(),
                                Loader::Grub2 => "`grubby --update-kernel=ALL --args=root=...`".to_owned(),
                                _ => format!("in {}", e.file.display()),
                            }
                        ),
                    ),
                    None => Check::new(
                        id("root"),
                        St::Ok,
                        title.clone(),
                        format!("the kernel gets root={value}"),
                    ),
                }
            }
        };
        out.push(base(c));
    }
}

impl Check {
    pub(crate) fn opts(mut self, o: &Option<String>) -> Self {
        self.options = o.clone();
        self
    }
}

pub(crate) fn fallback_check(
    cfg: &Config,
    evals: &[EntryEval],
    installed: &[Kernel],
    default: Option<usize>,
    sys: &Sys,
    out: &mut Vec<Check>,
) {
    let mut good: Vec<String> = Vec::new();
    for (i, ev) in evals.iter().enumerate() {
        // Only Linux kernels count (not memtest, not chainloaded systems).
        if !ev.needs_root || !ev.bootable() || cfg.entries[i].chain || !in_menu(cfg, i) {
            continue;
        }
        let v = ev.version.clone().unwrap_or_else(|| {
            ev.kernel
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        });
        let modules_ok = match &ev.version {
            Some(v) if !kernels::is_rescue(v) => installed
                .iter()
                .find(|k| &k.version == v)
                .is_none_or(|k| k.modules.is_some()),
            _ => true,
        };
        if modules_ok && !good.contains(&v) {
            good.push(v);
        }
    }
    let keep = match sys.family {
        Family::RedHat => "install kernel updates with `dnf install`/`yum install` or `rpm -ivh` (which keep the previous kernel), never `rpm -Uvh`",
        Family::Debian => "keep the previous linux-image package installed until the new kernel has booted (do not `apt autoremove` it yet)",
        _ => "keep the previous kernel installed until the new one has booted",
    };
    let mut c = if good.len() >= 2 {
        Check::new(
            "fallback-kernel",
            St::Ok,
            good.join(", "),
            format!(
                "{} bootable kernels in the menu: {}",
                good.len(),
                good.join(", ")
            ),
        )
    } else {
        Check::new(
            "fallback-kernel",
            St::Warn,
            good.first().cloned().unwrap_or_else(|| cfg.file.display().to_string()),
            format!(
                "only {} bootable kernel{} in the menu{}: if the next boot fails there is nothing to fall back to; {keep}",
                good.len(),
                if good.len() == 1 { "" } else { "s" },
                good.first().map(|g| format!(" ({g})")).unwrap_or_default()
            ),
        )
    };
    // GRUB legacy names its fallback entry explicitly.
    if let Some(fb) = &cfg.fallback {
        match cfg.resolve(fb.spec.as_deref()) {
            Some(i) if evals[i].bootable() && Some(i) != default => {}
            r => {
                let why = match r {
                    None => "names no entry".to_owned(),
                    Some(i) if Some(i) == default => "is the default entry itself".to_owned(),
                    Some(i) => format!("is '{}', which cannot boot", cfg.entries[i].title),
                };
                c.status = St::Warn;
                c.message = format!(
                    "fallback={} in {} {why}: point it at an entry with the previous, working kernel; {}",
                    fb.spec.clone().unwrap_or_default(),
                    cfg.file.display(),
                    c.message
                );
                c = c.at(fb.file.as_deref(), fb.line);
            }
        }
    }
    if c.file.is_none() {
        c = c.at(Some(&cfg.file), None);
    }
    out.push(c.loader(cfg.loader));
}
