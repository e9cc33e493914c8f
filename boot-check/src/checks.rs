//! The checks, in the order they are reported. Each is written as a `check`
//! record of common::records::check (see [`Check::record`]). Severity: a
//! problem with an entry that boots next (the default, or grubenv's
//! `next_entry`) fails; a problem with any other entry, an installed kernel
//! or a missing fallback warns.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use common::records::check as record;

mod configs;
mod entries;
mod fix;
mod installed;

use configs::config_checks;
use entries::{
    best_entry, default_checks, entry_checks, eval_entry, fallback_check, in_menu, EntryEval,
};
use fix::Fix;
use installed::{kernel_checks, running_checks, space_check};

use crate::discover;
use crate::kernels;
use crate::model::Loader;
use crate::system::Sys;

/// How a check came out: the record's status type.
pub use common::records::check::Status as St;

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
    pub(crate) fn record(&self, host: &Option<String>) -> record::Check {
        let p = |p: &Option<PathBuf>| p.as_ref().map(|p| p.as_os_str().as_bytes().to_vec());
        record::Check {
            loader: self.loader.map(str::to_owned),
            file: p(&self.file),
            line: self.line.map(|l| l as u64),
            entry: self.entry.clone(),
            kernel: self.kernel.clone(),
            path: p(&self.path),
            options: self.options.clone(),
            running_kernel: self.running_kernel.clone(),
            default_kernel: self.default_kernel.clone(),
            free_bytes: self.free_bytes,
            needed_bytes: self.needed_bytes,
            ..record::Check::new(
                host.clone(),
                self.id.to_owned(),
                self.status,
                self.subject.clone(),
                self.message.clone(),
            )
        }
    }
}

/// What the run found, besides the records.
pub struct Outcome {
    pub checks: Vec<Check>,
    /// A configuration exists but could not be read (exit 2).
    pub trouble: Option<String>,
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
            // Live, the mount table says it; under --root an empty /boot is
            // an unmounted partition (a rescue shell mounts / first).
            if mounted_live == Some(false) || mounted_live.is_none() && !boot_has_files {
                unmounted = true;
                let how = match sys.root.base() {
                    Some(b) => format!("mount {} on {}/boot", f.spec, b.display()),
                    None => "mount it (`mount /boot`)".to_owned(),
                };
                let seen = if mounted_live == Some(false) {
                    "is not mounted"
                } else {
                    "is empty, so it is not mounted"
                };
                out.push(
                    Check::new(
                        "boot-mounted",
                        St::Fail,
                        subject,
                        format!(
                            "/etc/fstab mounts a separate /boot ({}) but /boot {seen}: {how} and run again; nothing about the kernels can be said until then",
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
    let mut fix = Fix {
        sys,
        cfg,
        unlisted: None,
    };
    if let Some(found) = &found {
        config_checks(sys, found, &installed, &fix, &mut out, &mut trouble);
    }

    // Entries.
    let mut default_version: Option<String> = None;
    // The kernel of the next boot: the one-time entry's, else the default's.
    let mut next_version: Option<String> = None;
    let mut entry_versions: Vec<(String, PathBuf, bool)> = Vec::new();
    // Sizes of what each entry loads (kernel + initrds), for boot-space.
    let mut entry_pairs: Vec<u64> = Vec::new();
    let mut boots_next: Vec<usize> = Vec::new();
    // Where the next kernel goes: beside the default's (an ESP at /efi for
    // systemd-boot), else /boot.
    let mut kernel_dir = PathBuf::from("/boot");
    // The newest bootable kernel's release and how to make it the default.
    let mut newest: Option<(String, String)> = None;
    if let Some(cfg) = cfg {
        let tells = match (cfg.tells_boot_partition, cfg.loader) {
            (true, Loader::Grub2) => Ok("GRUB's bli module tells the initrd which disk it booted from"),
            (true, _) => Ok("systemd-boot tells the initrd which disk it booted from"),
            (false, Loader::Grub2) => Err("GRUB does not tell the initrd which disk it booted from: grub.cfg loads no `bli` module"),
            (false, Loader::GrubLegacy) => Err("GRUB legacy does not tell the initrd which disk it booted from"),
            (false, _) => Err("extlinux does not tell the initrd which disk it booted from"),
        };
        let finds_root = crate::discovery::initrd_finds_root(sys, tells);
        let evals: Vec<EntryEval> = cfg
            .entries
            .iter()
            .map(|e| eval_entry(sys, e, cfg.loader, &finds_root))
            .collect();
        // A good alternative for messages: the bootable entry with the newest kernel.
        let alt = best_entry(cfg, &evals);
        newest = alt.and_then(|a| {
            let v = evals[a].version.as_deref()?;
            let release = installed
                .iter()
                .find(|k| k.version == v)
                .map_or(v, |k| k.release.as_str());
            Some((release.to_owned(), fix.set_default(a)))
        });
        fix.unlisted = installed
            .iter()
            .rev()
            .filter(|k| k.image.is_some() && !kernels::is_rescue(&k.version))
            .find(|k| {
                !evals
                    .iter()
                    .any(|ev| ev.version.as_deref() == Some(k.version.as_str()))
            })
            .map(|k| k.version.clone());
        let dflt = default_checks(cfg, &evals, &fix, alt, &mut out);
        if let Some(d) = dflt.default {
            boots_next.push(d);
            default_version = evals[d].version.clone();
            if let Some(dir) = evals[d].kernel.as_deref().and_then(Path::parent) {
                if sys.is_dir(dir) {
                    kernel_dir = dir.to_path_buf();
                }
            }
        }
        if let Some(n) = dflt.next {
            next_version = evals[n].version.clone();
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
            // Only the one-time entry of grub-reboot, not also the default.
            let one_time = dflt.next == Some(i) && dflt.default != Some(i);
            let alt = if one_time { None } else { alt };
            let before = out.len();
            entry_checks(sys, cfg, i, &evals[i], next, &fix, alt, &mut out);
            // The one-time entry's other fix: cancel the one-time boot.
            if let (true, Some(env)) = (one_time, cfg.next.as_ref().and_then(|n| n.file.as_ref())) {
                for c in out[before..].iter_mut().filter(|c| c.status == St::Fail) {
                    c.message.push_str(&format!(
                        ", or cancel the one-time boot with `grub-editenv {} unset next_entry`",
                        env.display()
                    ));
                }
            }
            if let (Some(v), Some(k)) = (&evals[i].version, &evals[i].kernel) {
                entry_versions.push((v.clone(), k.clone(), evals[i].bootable()));
            }
            let rescue = evals[i].version.as_deref().is_some_and(kernels::is_rescue);
            if evals[i].needs_root && !rescue {
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
            &[default_version.clone(), next_version.clone()],
            &entry_versions,
            &fix,
            &mut out,
        );
    }
    running_checks(
        sys,
        &installed,
        &next_version.clone().or(default_version.clone()),
        cfg.is_some(),
        &fix,
        newest,
        &mut out,
    );
    if !unmounted {
        out.push(space_check(sys, &installed, &entry_pairs, &kernel_dir));
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
