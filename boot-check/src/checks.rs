//! The checks, in the order they are reported. Each produces `check`
//! records with one fixed field set (see [`Check::to_json`]). Severity: a
//! problem with an entry that boots next (the default, or grubenv's
//! `next_entry`) fails; a problem with any other entry, an installed kernel
//! or a missing fallback warns.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::discover::{self, Found};
use crate::kernels::{self, Kernel};
use crate::model::{Config, Entry, Loader};
use crate::system::{Family, Sys};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum St {
    Ok,
    Skip,
    Warn,
    Fail,
}

impl St {
    pub fn name(self) -> &'static str {
        match self {
            St::Ok => "ok",
            St::Skip => "skip",
            St::Warn => "warn",
            St::Fail => "fail",
        }
    }
}

/// One check result.
#[derive(Debug, Clone)]
pub struct Check {
    pub id: &'static str,
    pub status: St,
    pub subject: String,
    pub message: String,
    pub loader: Option<&'static str>,
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub entry: Option<String>,
    pub kernel: Option<String>,
    pub path: Option<PathBuf>,
    pub options: Option<String>,
    pub running_kernel: Option<String>,
    pub default_kernel: Option<String>,
    pub free_bytes: Option<u64>,
    pub needed_bytes: Option<u64>,
}

impl Check {
    pub fn new(
        id: &'static str,
        status: St,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Check {
            id,
            status,
            subject: subject.into(),
            message: message.into(),
            loader: None,
            file: None,
            line: None,
            entry: None,
            kernel: None,
            path: None,
            options: None,
            running_kernel: None,
            default_kernel: None,
            free_bytes: None,
            needed_bytes: None,
        }
    }

    fn at(mut self, file: Option<&Path>, line: Option<usize>) -> Self {
        self.file = file.map(Path::to_path_buf);
        self.line = line.filter(|&l| l > 0);
        self
    }

    fn loader(mut self, l: Loader) -> Self {
        self.loader = Some(l.name());
        self
    }

    /// The record: every field always present, `null` where not applicable.
    pub fn to_json(&self, host: &Option<String>) -> Value {
        let p = |p: &Option<PathBuf>| p.as_deref().map_or(Value::Null, common::bytes::path_value);
        json!({
            "kind": "check",
            "host": host,
            "check": self.id,
            "status": self.status.name(),
            "subject": self.subject,
            "message": self.message,
            "loader": self.loader,
            "file": p(&self.file),
            "line": self.line,
            "entry": self.entry,
            "kernel": self.kernel,
            "path": p(&self.path),
            "options": self.options,
            "running_kernel": self.running_kernel,
            "default_kernel": self.default_kernel,
            "free_bytes": self.free_bytes,
            "needed_bytes": self.needed_bytes,
        })
    }
}

/// What the run found, besides the records.
pub struct Outcome {
    pub checks: Vec<Check>,
    /// A configuration exists but could not be read (exit 2).
    pub trouble: Option<String>,
}

/// Fixes, worded for the distribution and boot loader at hand.
struct Fix<'a> {
    sys: &'a Sys,
    cfg: Option<&'a Config>,
}

impl Fix<'_> {
    fn reinstall(&self, version: &str) -> String {
        match self.sys.family {
            Family::Debian => format!("`apt install --reinstall linux-image-{version}`"),
            Family::RedHat if self.sys.has_dnf => format!(
                "`dnf reinstall kernel-core-{version}` (or `rpm -ivh --replacepkgs` of its package)"
            ),
            Family::RedHat => format!(
                "`yum reinstall kernel-{version}` (or `rpm -ivh --replacepkgs kernel-{version}.rpm`)"
            ),
            Family::Suse => "`zypper install --force kernel-default`".to_owned(),
            Family::Alpine => format!("`apk fix linux-{}`", flavor_of(version)),
            Family::Arch => "`pacman -S linux`".to_owned(),
            Family::Unknown => format!("the package manager (the package that provides kernel {version})"),
        }
    }

    fn regenerate(&self) -> String {
        let Some(cfg) = self.cfg else {
            return match self.sys.family {
                Family::Debian => "`update-grub`".into(),
                Family::Alpine => "`update-extlinux`".into(),
                _ => "`grub2-mkconfig -o /boot/grub2/grub.cfg`".into(),
            };
        };
        match cfg.loader {
            Loader::Grub2 if self.sys.family == Family::Debian => "`update-grub`".into(),
            Loader::Grub2 => {
                let mk = if cfg.file.starts_with("/boot/grub2") {
                    "grub2-mkconfig"
                } else {
                    "grub-mkconfig"
                };
                format!("`{mk} -o {}`", cfg.file.display())
            }
            Loader::GrubLegacy if self.sys.family == Family::RedHat => {
                format!(
                    "`grubby --add-kernel` (or by editing {})",
                    cfg.file.display()
                )
            }
            Loader::GrubLegacy => format!("`update-grub` (or by editing {})", cfg.file.display()),
            Loader::Extlinux if self.sys.family == Family::Alpine => "`update-extlinux`".into(),
            Loader::Extlinux => format!("by editing {}", cfg.file.display()),
            Loader::SystemdBoot => {
                "`kernel-install add VERSION /lib/modules/VERSION/vmlinuz`".into()
            }
        }
    }

    /// How to make entry `i` the default.
    fn set_default(&self, i: usize) -> String {
        let Some(cfg) = self.cfg else {
            return String::new();
        };
        let e = &cfg.entries[i];
        let kpath = e.kernel.clone().unwrap_or_default();
        match cfg.loader {
            Loader::Grub2
                if self.sys.family == Family::RedHat || self.sys.family == Family::Suse =>
            {
                if e.version.is_some() || self.sys.family == Family::RedHat {
                    format!("`grubby --set-default {}`", boot_path(&kpath))
                } else {
                    format!(
                        "`grub2-set-default '{}'`",
                        cfg.spec_of(i).unwrap_or_default()
                    )
                }
            }
            Loader::Grub2 if cfg.default.source.contains("saved_entry") => {
                format!(
                    "`grub-set-default '{}'`",
                    cfg.spec_of(i).unwrap_or_default()
                )
            }
            Loader::Grub2 => format!(
                "GRUB_DEFAULT=\"{}\" in /etc/default/grub and `update-grub`",
                cfg.spec_of(i).unwrap_or_default()
            ),
            Loader::GrubLegacy if self.sys.family == Family::RedHat => {
                format!(
                    "`grubby --set-default {}` (or default={i} in {})",
                    boot_path(&kpath),
                    cfg.file.display()
                )
            }
            Loader::GrubLegacy => format!("default={i} in {}", cfg.file.display()),
            Loader::Extlinux => format!(
                "`MENU DEFAULT` in the LABEL {} block of {}",
                e.id.clone().unwrap_or_default(),
                cfg.file.display()
            ),
            Loader::SystemdBoot => format!(
                "`bootctl set-default {}.conf` (or `default` in {})",
                e.id.clone().unwrap_or_default(),
                cfg.file.display()
            ),
        }
    }

    fn initrd_tool(&self, version: &str) -> String {
        match self.sys.family {
            Family::Debian => format!("`update-initramfs -c -k {version}`"),
            Family::RedHat | Family::Suse => format!("`dracut -f --kver {version}`"),
            Family::Alpine => format!("`mkinitfs {version}`"),
            Family::Arch => "`mkinitcpio -P`".into(),
            Family::Unknown => format!("the initramfs tool (update-initramfs -c -k {version}, or dracut -f --kver {version})"),
        }
    }
}

fn boot_path(k: &str) -> String {
    if k.starts_with("/boot/") {
        k.to_owned()
    } else {
        format!("/boot{k}")
    }
}

fn flavor_of(version: &str) -> String {
    if kernels::is_flavor(version) {
        version.to_owned()
    } else {
        version.rsplit('-').next().unwrap_or(version).to_owned()
    }
}

/// One entry, checked against the files.
#[derive(Debug, Clone)]
struct EntryEval {
    kernel: Option<PathBuf>,
    kernel_problem: Option<String>,
    version: Option<String>,
    initrd_problem: Option<(String, Option<PathBuf>)>,
    initrd_path: Option<PathBuf>,
    needs_root: bool,
    root_problem: Option<String>,
    root_value: Option<String>,
}

impl EntryEval {
    fn bootable(&self) -> bool {
        self.kernel_problem.is_none()
            && self.initrd_problem.is_none()
            && self.root_problem.is_none()
    }
}

fn eval_entry(sys: &Sys, e: &Entry, loader: Loader) -> EntryEval {
    let mut ev = EntryEval {
        kernel: None,
        kernel_problem: None,
        version: e.version.clone(),
        initrd_problem: None,
        initrd_path: None,
        needs_root: false,
        root_problem: None,
        root_value: None,
    };
    match &e.kernel {
        None => ev.kernel_problem = Some("has no kernel line (linux/kernel)".into()),
        Some(k) => {
            let (p, found) = sys.locate(e, k);
            let target = sys.resolve(&p).unwrap_or_else(|| p.clone());
            let name = target
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if ev.version.is_none() {
                ev.version = kernels::version_of_name(&name);
            }
            ev.needs_root = e.version.is_some()
                || kernels::looks_like_linux(&name)
                || kernels::looks_like_linux(
                    Path::new(k)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                        .as_str(),
                );
            ev.kernel_problem = if !found {
                Some(format!("{} is missing", p.display()))
            } else if !sys.is_file(&p) {
                Some(format!("{} is not a regular file", p.display()))
            } else if sys.size(&p) == Some(0) {
                Some(format!("{} is empty (0 bytes)", p.display()))
            } else {
                None
            };
            ev.kernel = Some(p);
        }
    }
    for written in &e.initrds {
        let (p, found) = sys.locate(e, written);
        let problem = if !found {
            Some(format!("{} is missing", p.display()))
        } else if sys.size(&p) == Some(0) {
            Some(format!("{} is empty (0 bytes)", p.display()))
        } else if !sys.is_file(&p) {
            Some(format!("{} is not a regular file", p.display()))
        } else {
            None
        };
        if ev.initrd_path.is_none() || problem.is_some() {
            ev.initrd_path = Some(p.clone());
        }
        if let Some(pr) = problem {
            ev.initrd_problem = Some((pr, Some(p)));
            break;
        }
    }
    if e.initrds.is_empty() {
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
        if ev.root_value.as_deref().map_or(true, str::is_empty) {
            ev.root_problem = Some(if e.unset_vars.is_empty() {
                "the kernel command line has no root=".to_owned()
            } else {
                format!(
                    "the kernel command line gets no root=: {} {} set neither in grubenv nor in the configuration",
                    e.unset_vars.iter().map(|v| format!("${v}")).collect::<Vec<_>>().join(", "),
                    if e.unset_vars.len() == 1 { "is" } else { "are" }
                )
            });
        }
    }
    ev
}

/// Run every check.
pub fn run(sys: &Sys) -> Outcome {
    let mut out = Vec::new();
    let mut trouble = None;
    let installed = kernels::installed(sys);
    // An unmounted /boot is an empty mount point, perhaps with the empty
    // mount point of the ESP (/boot/efi) inside: look for any file.
    let boot_has_files = has_files(sys, Path::new("/boot"), 3);

    // boot-mounted
    let mut unmounted = false;
    match sys.fstab_mount("/boot") {
        Some(f) => {
            let subject = "/boot".to_string();
            let mounted_live = sys.live_mounted("/boot");
            if !boot_has_files
                || mounted_live == Some(false) && installed.iter().all(|k| k.image.is_none())
            {
                unmounted = true;
                let how = match sys.root.base() {
                    Some(b) => format!("mount {} on {}/boot", f.spec, b.display()),
                    None => "mount it (`mount /boot`)".to_owned(),
                };
                out.push(
                    Check::new(
                        "boot-mounted",
                        St::Fail,
                        subject,
                        format!(
                            "/etc/fstab mounts a separate /boot ({}) but /boot is empty, so it is not mounted: {how} and run again; nothing about the kernels can be said until then",
                            f.spec
                        ),
                    )
                    .at(Some(Path::new("/etc/fstab")), Some(f.line))
                    .with_path("/boot"),
                );
            } else {
                out.push(
                    Check::new(
                        "boot-mounted",
                        St::Ok,
                        subject,
                        format!(
                            "/boot is a separate file system ({}) and its files are there",
                            f.spec
                        ),
                    )
                    .at(Some(Path::new("/etc/fstab")), Some(f.line))
                    .with_path("/boot"),
                );
            }
        }
        None => out.push(
            Check::new(
                "boot-mounted",
                St::Skip,
                "/boot",
                "/etc/fstab mounts no separate /boot: /boot is part of the root file system",
            )
            .with_path("/boot"),
        ),
    }

    let found = if unmounted {
        out.push(Check::new(
            "config-found",
            St::Skip,
            "/boot",
            "not looked for: /boot is not mounted (mount it and run again)",
        ));
        None
    } else {
        Some(discover::find(sys))
    };

    let cfg = found.as_ref().and_then(|f| f.config.as_ref());
    let fix = Fix { sys, cfg };
    if let Some(found) = &found {
        config_checks(sys, found, &installed, &fix, &mut out, &mut trouble);
    }

    // Entries.
    let mut default_version: Option<String> = None;
    let mut entry_versions: Vec<(String, PathBuf, bool)> = Vec::new();
    // Sizes of what each entry loads (kernel + initrds), for boot-space.
    let mut entry_pairs: Vec<u64> = Vec::new();
    let mut boots_next: Vec<usize> = Vec::new();
    if let Some(cfg) = cfg {
        let evals: Vec<EntryEval> = cfg
            .entries
            .iter()
            .map(|e| eval_entry(sys, e, cfg.loader))
            .collect();
        // A good alternative for messages: the bootable entry with the newest kernel.
        let alt = best_entry(cfg, &evals);
        let dflt = default_checks(cfg, &evals, &fix, alt, &mut out);
        if let Some(d) = dflt.default {
            boots_next.push(d);
            default_version = evals[d].version.clone();
        }
        if let Some(n) = dflt.next {
            if !boots_next.contains(&n) {
                boots_next.push(n);
            }
        }
        // Boots-next entries first, then the others in menu order.
        let mut order: Vec<usize> = boots_next.clone();
        order
            .extend((0..cfg.entries.len()).filter(|i| !boots_next.contains(i) && in_menu(cfg, *i)));
        for i in order {
            let e = &cfg.entries[i];
            if e.chain {
                continue;
            }
            let next = boots_next.contains(&i);
            entry_checks(sys, cfg, i, &evals[i], next, &fix, alt, &mut out);
            if let (Some(v), Some(k)) = (&evals[i].version, &evals[i].kernel) {
                entry_versions.push((v.clone(), k.clone(), evals[i].bootable()));
            }
            if evals[i].needs_root {
                let kernel = evals[i].kernel.as_deref().and_then(|p| sys.size(p));
                let initrds: u64 = e
                    .initrds
                    .iter()
                    .filter_map(|w| sys.size(&sys.locate(e, w).0))
                    .sum();
                if let Some(k) = kernel {
                    entry_pairs.push(k + initrds);
                }
            }
        }
        fallback_check(
            cfg,
            &evals,
            &installed,
            boots_next.first().copied(),
            sys,
            &mut out,
        );
    }

    // Installed kernels.
    if !unmounted {
        kernel_checks(
            sys,
            cfg,
            &installed,
            &default_version,
            &entry_versions,
            &fix,
            &mut out,
        );
    }
    running_checks(
        sys,
        &installed,
        &default_version,
        cfg.is_some(),
        &fix,
        &mut out,
    );
    if !unmounted {
        out.push(space_check(sys, &installed, &entry_pairs));
    }
    Outcome {
        checks: out,
        trouble,
    }
}

/// Is there a file (of any kind but a directory) under `dir`, looking
/// `depth` levels deep, not in /boot/efi (a mount of its own) or lost+found?
fn has_files(sys: &Sys, dir: &Path, depth: usize) -> bool {
    sys.list_dir(dir).into_iter().any(|n| {
        let p = dir.join(&n);
        if n == "lost+found" || p == Path::new("/boot/efi") {
            return false;
        }
        if sys.is_dir(&p) {
            depth > 1 && has_files(sys, &p, depth - 1)
        } else {
            true
        }
    })
}

/// The entry to suggest as the default: bootable, newest kernel, not a
/// recovery entry, earliest in the menu.
fn best_entry(cfg: &Config, evals: &[EntryEval]) -> Option<usize> {
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

fn in_menu(cfg: &Config, i: usize) -> bool {
    fn walk(items: &[crate::model::Item], i: usize) -> bool {
        items.iter().any(|it| match it {
            crate::model::Item::Entry(j) => *j == i,
            crate::model::Item::Submenu { children, .. } => walk(children, i),
        })
    }
    walk(&cfg.menu, i)
}

impl Check {
    fn with_path(mut self, p: impl Into<PathBuf>) -> Self {
        self.path = Some(p.into());
        self
    }
    fn with_entry(mut self, e: &Entry, v: &Option<String>) -> Self {
        self.entry = Some(e.display_title());
        self.kernel = v.clone();
        self
    }
}

fn config_checks(
    sys: &Sys,
    found: &Found,
    installed: &[Kernel],
    fix: &Fix<'_>,
    out: &mut Vec<Check>,
    trouble: &mut Option<String>,
) {
    if let Some((file, err)) = &found.unreadable {
        let why = common::error::describe_io(err);
        let why = why.trim_end_matches(" (run as root?)").to_owned();
        out.push(
            Check::new(
                "config-found",
                St::Fail,
                file.display().to_string(),
                if err.kind() == std::io::ErrorKind::PermissionDenied {
                    format!(
                        "{} exists but cannot be read ({why}): run boot-check as root",
                        file.display()
                    )
                } else {
                    format!(
                        "{} exists but cannot be read ({why}), so the boot loader cannot read it either: regenerate it with {}",
                        file.display(),
                        fix.regenerate()
                    )
                },
            )
            .at(Some(file), None)
            .with_path(file.clone()),
        );
        if err.kind() == std::io::ErrorKind::PermissionDenied {
            *trouble = Some(format!(
                "{}: {why}: run boot-check as root to read the boot configuration",
                sys.real(file).display()
            ));
        }
        return;
    }
    let Some(cfg) = &found.config else {
        let with_kernels: Vec<&str> = installed
            .iter()
            .filter(|k| k.image.is_some())
            .map(|k| k.version.as_str())
            .collect();
        let looked = discover::all_candidates().join(", ");
        if with_kernels.is_empty() {
            out.push(Check::new(
                "config-found",
                St::Skip,
                "/boot",
                String::from("no boot loader configuration (of GRUB 2, systemd-boot, extlinux or GRUB legacy) and no kernel in /boot: this system does not boot from its own /boot (a container, or a virtual machine whose kernel the host provides); nothing to check"),
            ));
        } else {
            out.push(Check::new(
                "config-found",
                St::Fail,
                "/boot",
                format!(
                    "kernels are installed ({}) but no boot loader configuration was found (looked for {looked}): create it with {}",
                    with_kernels.join(", "),
                    fix.regenerate()
                ),
            ));
        }
        return;
    };
    let n = cfg.entries.len();
    out.push(
        Check::new(
            "config-found",
            St::Ok,
            cfg.file.display().to_string(),
            format!(
                "{} configuration {} with {n} boot entr{}",
                cfg.loader.name(),
                cfg.file.display(),
                if n == 1 { "y" } else { "ies" }
            ),
        )
        .loader(cfg.loader)
        .at(Some(&cfg.file), None)
        .with_path(cfg.file.clone()),
    );
    for (l, p) in &found.ignored {
        out.push(
            Check::new(
                "config-found",
                St::Skip,
                p.display().to_string(),
                format!(
                    "{} is also present ({}) but not checked: {} takes precedence; remove the stale file if that boot loader is no longer installed",
                    p.display(),
                    l.name(),
                    cfg.file.display()
                ),
            )
            .loader(*l)
            .at(Some(p), None)
            .with_path(p.clone()),
        );
    }

    // config-parse: one record per damaged file, or one ok.
    if cfg.problems.is_empty() {
        let extra = cfg.files.len();
        out.push(
            Check::new(
                "config-parse",
                St::Ok,
                cfg.file.display().to_string(),
                if extra > 0 {
                    format!(
                        "{} and {extra} entry files read without problems",
                        cfg.file.display()
                    )
                } else {
                    format!("{} read without problems", cfg.file.display())
                },
            )
            .loader(cfg.loader)
            .at(Some(&cfg.file), None)
            .with_path(cfg.file.clone()),
        );
    } else {
        let mut seen: Vec<&Path> = Vec::new();
        for first in &cfg.problems {
            if seen.contains(&first.file.as_path()) {
                continue;
            }
            seen.push(&first.file);
            // Report the first problem that loses entries, else the first.
            let p = cfg
                .problems
                .iter()
                .find(|q| q.file == first.file && !q.minor)
                .unwrap_or(first);
            let count = cfg.problems.iter().filter(|q| q.file == p.file).count();
            // The main file fails unless all its problems are ones the boot
            // loader skips over (an unknown keyword).
            let main = p.file == cfg.file && !p.minor;
            let more = if count > 1 {
                format!(" ({} more problems in this file)", count - 1)
            } else {
                String::new()
            };
            let where_ = if p.line > 0 {
                format!("{}:{}", p.file.display(), p.line)
            } else {
                p.file.display().to_string()
            };
            let remedy = if main {
                format!(
                    "regenerate it with {} (or restore it from a backup) before rebooting",
                    fix.regenerate()
                )
            } else {
                format!(
                    "fix or remove it, or regenerate the entries with {}",
                    fix.regenerate()
                )
            };
            out.push(
                Check::new(
                    "config-parse",
                    if main { St::Fail } else { St::Warn },
                    p.file.display().to_string(),
                    format!("{where_}: the file {}{more}: {remedy}", p.message),
                )
                .loader(cfg.loader)
                .at(Some(&p.file), Some(p.line))
                .with_path(p.file.clone()),
            );
        }
    }

    // grubenv
    if let Some(env) = &found.grubenv {
        let uses_saved = cfg.default.source.contains("saved_entry");
        let c = match &env.read {
            None if uses_saved => Check::new(
                "grubenv",
                St::Warn,
                env.file.display().to_string(),
                format!(
                    "{} is missing, so the saved default is lost and GRUB boots the first entry: create it with `grub-editenv {} create`, then choose the default with `grub-set-default`",
                    env.file.display(),
                    env.file.display()
                ),
            ),
            None => Check::new(
                "grubenv",
                St::Skip,
                env.file.display().to_string(),
                format!("{} does not exist and grub.cfg does not need it", env.file.display()),
            ),
            Some(g) => match &g.problem {
                Some((line, msg)) => Check::new(
                    "grubenv",
                    St::Fail,
                    env.file.display().to_string(),
                    format!(
                        "{} {msg}: GRUB ignores it, so saved_entry, next_entry and kernelopts are unset at boot; recreate it with `grub-editenv {} create` and set the default again with `grub-set-default`{}",
                        env.file.display(),
                        env.file.display(),
                        if sys.family == Family::RedHat { " (and kernelopts with `grub2-editenv - set kernelopts=...`)" } else { "" }
                    ),
                )
                .at(Some(&env.file), Some(*line)),
                None => {
                    let vars: Vec<String> = g
                        .vars
                        .iter()
                        .filter(|(k, _)| matches!(k.as_str(), "saved_entry" | "next_entry" | "kernelopts"))
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect();
                    Check::new(
                        "grubenv",
                        St::Ok,
                        env.file.display().to_string(),
                        if vars.is_empty() {
                            format!("{} is a valid environment block", env.file.display())
                        } else {
                            format!("{} is a valid environment block ({})", env.file.display(), vars.join(", "))
                        },
                    )
                }
            },
        };
        let c = if c.file.is_none() {
            c.at(Some(&env.file), None)
        } else {
            c
        };
        out.push(c.loader(cfg.loader).with_path(env.file.clone()));
    }
}

struct Resolved {
    default: Option<usize>,
    next: Option<usize>,
}

fn default_checks(
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
                format!(
                    "{} has no boot entries: the machine will not boot; regenerate it with {}",
                    cfg.file.display(),
                    fix.regenerate()
                ),
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
        let id = if which == "default" {
            "default-entry"
        } else {
            "next-entry"
        };
        let shown = spec
            .spec
            .clone()
            .unwrap_or_else(|| "(none: the first entry)".into());
        let c = match resolved {
            Some(i) => {
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
                Check::new(id, St::Ok, e.display_title(), msg).with_entry(e, &evals[i].version)
            }
            None => {
                let fallback = first.map(|f| cfg.entries[f].display_title());
                let goes = match &fallback {
                    Some(t) => format!("GRUB falls back to the first entry '{t}'"),
                    None => {
                        "the first menu item is a submenu, so nothing boots automatically".into()
                    }
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
                        alt_text(fix)
                    ),
                )
            }
        };
        let c = c.loader(cfg.loader).at(spec.file.as_deref(), spec.line);
        out.push(c);
        let eff = resolved.or(first);
        if which == "default" {
            r.default = eff;
        } else {
            r.next = eff;
        }
    }
    r
}

#[allow(clippy::too_many_arguments)]
fn entry_checks(
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
    let (sev, pre) = if next {
        (St::Fail, "default-entry")
    } else {
        (St::Warn, "entry")
    };
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
    let _ = pre;
    let title = e.display_title();
    let version = ev.version.clone();
    let ver = version.clone().unwrap_or_else(|| "of this entry".into());
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
            let remedy = if e.kernel.is_none() {
                format!("regenerate the menu with {}", fix.regenerate())
            } else if ev.version.is_some() {
                format!(
                    "reinstall the kernel package with {}{other}",
                    fix.reinstall(&ver)
                )
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
            let remedy = if e.initrds.is_empty() {
                format!("regenerate the menu with {}", fix.regenerate())
            } else {
                format!("rebuild it with {}{other}", fix.initrd_tool(&ver))
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
            let c = if e.initrds.is_empty() {
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
                    format!(
                        "set it with `grub2-editenv - set \"kernelopts=root={root_spec} ro\"` (or give the entries their options with `grubby --update-kernel=ALL --args=\"root={root_spec}\"`)"
                    )
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
            None => Check::new(
                id("root"),
                St::Ok,
                title.clone(),
                format!(
                    "the kernel gets root={}",
                    ev.root_value.clone().unwrap_or_default()
                ),
            ),
        };
        out.push(base(c));
    }
}

impl Check {
    fn opts(mut self, o: &Option<String>) -> Self {
        self.options = o.clone();
        self
    }
}

fn fallback_check(
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
            Some(v) if !kernels::is_rescue(v) && installed.iter().any(|k| &k.version == v) => {
                kernels::modules_of(sys, v).0.is_some()
            }
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

fn kernel_checks(
    sys: &Sys,
    cfg: Option<&Config>,
    installed: &[Kernel],
    default_version: &Option<String>,
    entry_versions: &[(String, PathBuf, bool)],
    fix: &Fix<'_>,
    out: &mut Vec<Check>,
) {
    for k in installed {
        if kernels::is_rescue(&k.version) {
            continue;
        }
        let is_default = default_version.as_deref() == Some(k.version.as_str());
        let sev = if is_default { St::Fail } else { St::Warn };
        let c = match &k.modules {
            Some(m) => Check::new("kernel-modules", St::Ok, k.version.clone(), format!("modules directory {} is present", m.display()))
                .with_path(m.clone()),
            None => Check::new(
                "kernel-modules",
                sev,
                k.version.clone(),
                format!(
                    "/lib/modules/{} is missing, so kernel {} {} without its modules (disks, network, file systems may be missing): reinstall the kernel package with {}",
                    k.release,
                    k.version,
                    if is_default { "boots next" } else { "would boot" },
                    fix.reinstall(&k.version)
                ),
            )
            .with_path(PathBuf::from("/lib/modules").join(&k.release)),
        };
        let mut c = c;
        c.kernel = Some(k.version.clone());
        out.push(c);
    }
    for k in installed {
        if k.image.is_none() {
            continue;
        }
        let mut c = match (&k.initrd, k.initrd_size) {
            (Some(p), Some(s)) if s > 0 => Check::new(
                "kernel-initrd",
                St::Ok,
                k.version.clone(),
                format!("initrd {} is present", p.display()),
            )
            .with_path(p.clone()),
            (Some(p), _) => Check::new(
                "kernel-initrd",
                St::Warn,
                k.version.clone(),
                format!(
                    "initrd {} is empty: rebuild it with {}",
                    p.display(),
                    fix.initrd_tool(&k.version)
                ),
            )
            .with_path(p.clone()),
            (None, _) => Check::new(
                "kernel-initrd",
                St::Warn,
                k.version.clone(),
                format!(
                    "kernel {} has no initrd in /boot ({}): build it with {}",
                    k.version,
                    kernels::initrd_names(&k.version)[..2].join(" or "),
                    fix.initrd_tool(&k.version)
                ),
            ),
        };
        c.kernel = Some(k.version.clone());
        out.push(c);
    }
    // newest-kernel-entry
    let newest = installed
        .iter()
        .rev()
        .find(|k| !kernels::is_rescue(&k.version));
    let Some(newest) = newest else {
        out.push(Check::new(
            "newest-kernel-entry",
            St::Skip,
            "/boot",
            "no kernel is installed in /boot",
        ));
        return;
    };
    let has_entry = entry_versions
        .iter()
        .any(|(v, p, _)| v == &newest.version || newest.image.as_ref().is_some_and(|img| img == p));
    let mut c = if cfg.is_none() {
        Check::new(
            "newest-kernel-entry",
            St::Skip,
            newest.version.clone(),
            "no boot loader configuration to look in",
        )
    } else if has_entry {
        Check::new(
            "newest-kernel-entry",
            St::Ok,
            newest.version.clone(),
            format!(
                "the newest installed kernel {} has a boot entry{}",
                newest.version,
                if default_version.as_deref() == Some(newest.version.as_str()) {
                    " and is the default"
                } else {
                    ""
                }
            ),
        )
    } else {
        let how = match cfg.map(|c| c.loader) {
            Some(Loader::SystemdBoot) => format!(
                "`kernel-install add {0} /lib/modules/{0}/vmlinuz`",
                newest.version
            ),
            Some(Loader::Grub2)
                if sys.family == Family::RedHat && cfg.is_some_and(|c| !c.files.is_empty()) =>
            {
                format!(
                    "`kernel-install add {0} /lib/modules/{0}/vmlinuz` (or `grubby --add-kernel`)",
                    newest.version
                )
            }
            _ => fix.regenerate(),
        };
        Check::new(
            "newest-kernel-entry",
            St::Warn,
            newest.version.clone(),
            format!("the newest installed kernel {} has no boot entry, so it will not boot: add it with {how}", newest.version),
        )
    };
    c.kernel = Some(newest.version.clone());
    c.path = newest.image.clone();
    if let Some(cfg) = cfg {
        c = c.loader(cfg.loader);
    }
    out.push(c);
}

fn running_checks(
    sys: &Sys,
    installed: &[Kernel],
    default_version: &Option<String>,
    have_cfg: bool,
    fix: &Fix<'_>,
    out: &mut Vec<Check>,
) {
    let running = sys.root.running_release();
    // The default as a release (Alpine's `lts` flavor -> its modules' release).
    let default_release = default_version.as_ref().map(|v| {
        installed
            .iter()
            .find(|k| &k.version == v)
            .map(|k| k.release.clone())
            .unwrap_or_else(|| v.clone())
    });
    match &running {
        None => {
            let mut c = Check::new(
                "running-kernel-modules",
                St::Skip,
                "running kernel",
                if sys.root.is_live() {
                    "the running kernel release cannot be read (uname failed)".to_owned()
                } else {
                    "not checked under --root: there is no running kernel of that system".to_owned()
                },
            );
            c.running_kernel = None;
            out.push(c);
        }
        Some(r) => {
            let has_modules = std::path::Path::new("/proc/modules").exists();
            let (m, _) = kernels::modules_of(sys, r);
            let mut c = match (has_modules, m) {
                (false, _) => Check::new(
                    "running-kernel-modules",
                    St::Ok,
                    r.clone(),
                    format!("the running kernel {r} has no loadable module support (no /proc/modules), so it needs no modules directory"),
                ),
                (true, Some(p)) => Check::new("running-kernel-modules", St::Ok, r.clone(), format!("the modules of the running kernel are still in {}", p.display())).with_path(p),
                (true, None) => Check::new(
                    "running-kernel-modules",
                    St::Warn,
                    r.clone(),
                    format!(
                        "/lib/modules/{r} of the running kernel was removed: modules not yet loaded (USB, file systems, netfilter) cannot load until the reboot; reboot into the new kernel soon, or reinstall with {}",
                        fix.reinstall(r)
                    ),
                )
                .with_path(PathBuf::from("/lib/modules").join(r)),
            };
            c.kernel = Some(r.clone());
            c.running_kernel = Some(r.clone());
            out.push(c);
        }
    }
    // reboot-pending
    let mut c = match (&running, &default_release) {
        (_, None) => Check::new(
            "reboot-pending",
            St::Skip,
            "default kernel",
            if have_cfg {
                "the default entry's kernel version is not known"
            } else {
                "no boot loader configuration: which kernel boots next is not known"
            },
        ),
        (None, Some(d)) => Check::new(
            "reboot-pending",
            St::Skip,
            d.clone(),
            format!("the default entry boots {d}; the running kernel is not known under --root"),
        ),
        (Some(r), Some(d)) if r == d => Check::new(
            "reboot-pending",
            St::Ok,
            d.clone(),
            format!("the default entry boots the running kernel {r}: no kernel change is pending"),
        ),
        (Some(r), Some(d)) => Check::new(
            "reboot-pending",
            St::Ok,
            d.clone(),
            format!("a reboot is pending: {r} runs, {d} boots next"),
        ),
    };
    c.running_kernel = running.clone();
    c.default_kernel = default_release.clone();
    c.kernel = default_release;
    out.push(c);
}

/// Room needed for one more kernel and initrd: the largest installed pair
/// plus a quarter (initramfs tools write the new image beside the old).
pub fn needed_for(pairs: &[u64]) -> Option<u64> {
    pairs.iter().max().map(|m| m + m / 4)
}

fn space_check(sys: &Sys, installed: &[Kernel], entry_pairs: &[u64]) -> Check {
    let mut pairs: Vec<u64> = installed
        .iter()
        .filter(|k| k.image.is_some())
        .map(|k| k.image_size.unwrap_or(0) + k.initrd_size.unwrap_or(0))
        .collect();
    pairs.extend_from_slice(entry_pairs);
    let needed = needed_for(&pairs);
    let free = sys.free_bytes(Path::new("/boot"));
    let mut c = match (free, needed) {
        (_, None) => Check::new("boot-space", St::Skip, "/boot", "no kernel in /boot to measure against"),
        (None, Some(_)) => Check::new("boot-space", St::Skip, "/boot", "the free space of /boot cannot be read"),
        (Some(f), Some(n)) if f >= n => Check::new(
            "boot-space",
            St::Ok,
            "/boot",
            format!("/boot has {} free, enough for another kernel and initrd ({} needed)", human(f), human(n)),
        ),
        (Some(f), Some(n)) => Check::new(
            "boot-space",
            St::Warn,
            "/boot",
            format!(
                "/boot has only {} free but another kernel and initrd need about {}: the next kernel update may fail half-way; remove an old kernel package ({})",
                human(f),
                human(n),
                match sys.family {
                    Family::Debian => "`apt autoremove --purge`",
                    Family::RedHat => "`dnf remove --oldinstallonly` or `package-cleanup --oldkernels`",
                    _ => "with the package manager",
                }
            ),
        ),
    };
    c.free_bytes = free;
    c.needed_bytes = needed;
    c.path = Some(PathBuf::from("/boot"));
    c
}

fn human(b: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if b >= 10 * MIB {
        format!("{} MiB", b / MIB)
    } else if b >= 1024 {
        format!("{} KiB", b / 1024)
    } else {
        format!("{b} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_needed_has_margin() {
        assert_eq!(needed_for(&[]), None);
        assert_eq!(needed_for(&[100, 400]), Some(500));
        assert_eq!(human(50 * 1024 * 1024), "50 MiB");
    }

    #[test]
    fn flavors() {
        assert_eq!(flavor_of("lts"), "lts");
        assert_eq!(flavor_of("6.6.7-0-virt"), "virt");
    }
}
