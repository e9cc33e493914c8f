//! Installed kernels (modules directory, initrd, the newest one's entry),
//! the running kernel, and the room left in /boot.

use std::path::{Path, PathBuf};

use crate::kernels::{self, Kernel, ReleaseFrom};
use crate::model::{Config, Loader};
use crate::system::{Family, Sys};

use super::fix::Fix;
use super::{Check, St};

pub(crate) fn kernel_checks(
    sys: &Sys,
    cfg: Option<&Config>,
    installed: &[Kernel],
    boot_versions: &[Option<String>],
    entry_versions: &[(String, PathBuf, bool)],
    fix: &Fix<'_>,
    out: &mut Vec<Check>,
) {
    for k in installed {
        if kernels::is_rescue(&k.version) {
            continue;
        }
        let is_default = boot_versions
            .iter()
            .any(|v| v.as_deref() == Some(k.version.as_str()));
        let sev = if is_default { St::Fail } else { St::Warn };
        // Where the release came from, for kernels named by flavour.
        let from = match &k.release_from {
            ReleaseFrom::Header(img) => {
                format!(" (the release in the setup header of {})", img.display())
            }
            ReleaseFrom::Banner(img) => format!(
                " (the release in the version string inside {})",
                img.display()
            ),
            ReleaseFrom::Record(p) => format!(" (the release {} names)", p.display()),
            ReleaseFrom::Guess => format!(
                " (the newest for flavour {}; nothing records its release)",
                k.version
            ),
            ReleaseFrom::Name => String::new(),
        };
        let c = match &k.modules {
            Some(m) => Check::new(
                "kernel-modules",
                St::Ok,
                k.version.clone(),
                format!("modules directory {} is present{from}", m.display()),
            )
            .with_path(m.clone()),
            None => {
                // A flavor (`lts`, Arch's `linux`) that nothing names a
                // release for names no directory by itself.
                let flavor = kernels::is_flavor(&k.release);
                let what = if flavor {
                    format!(
                        "no directory in /lib/modules belongs to kernel {}",
                        k.version
                    )
                } else if ["/lib/modules", "/usr/lib/modules"]
                    .iter()
                    .any(|m| sys.is_dir(&Path::new(m).join(&k.release)))
                {
                    format!(
                        "/lib/modules/{}{from} holds none of the kernel's own modules (no kernel/, modules.dep, modules.order or modules.builtin: only what other packages left behind)",
                        k.release
                    )
                } else {
                    format!("/lib/modules/{}{from} is missing", k.release)
                };
                let c = Check::new(
                    "kernel-modules",
                    sev,
                    k.version.clone(),
                    format!(
                        "{what}, so kernel {} {} without its modules (disks, network, file systems may be missing): reinstall the kernel package with {}",
                        k.version,
                        if is_default { "boots next" } else { "would boot" },
                        fix.reinstall_modules(&k.version)
                    ),
                );
                if flavor {
                    c
                } else {
                    c.with_path(PathBuf::from("/lib/modules").join(&k.release))
                }
            }
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
                if boot_versions[0].as_deref() == Some(newest.version.as_str()) {
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

pub(crate) fn running_checks(
    sys: &Sys,
    installed: &[Kernel],
    default_version: &Option<String>,
    have_cfg: bool,
    fix: &Fix<'_>,
    newest: Option<(String, String)>,
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
            let m = kernels::modules_dir(sys, r);
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
                        fix.reinstall_modules(r)
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
                "the kernel version of the entry that boots next is not known"
            } else {
                "no boot loader configuration: which kernel boots next is not known"
            },
        ),
        (None, Some(d)) => Check::new(
            "reboot-pending",
            St::Skip,
            d.clone(),
            format!(
                "the next boot starts kernel {d}; the running kernel is not known under --root"
            ),
        ),
        (Some(r), Some(d)) if r == d => Check::new(
            "reboot-pending",
            St::Ok,
            d.clone(),
            format!(
                "the next boot starts the running kernel {r} again: no kernel change is pending"
            ),
        ),
        (Some(r), Some(d)) if kernels::vercmp(d, r) == std::cmp::Ordering::Less => {
            // A pinned default, a saved entry of an old kernel, a one-time
            // entry or a downgrade: the machine comes back on older code.
            let how = match &newest {
                Some((ver, set)) if kernels::vercmp(ver, d) == std::cmp::Ordering::Greater => {
                    format!("if that is not meant, make the entry of {ver} the default with {set}")
                }
                _ => format!(
                    "if that is not meant, install kernel {r} again (or a newer one) and make it the default"
                ),
            };
            Check::new(
                "reboot-pending",
                St::Warn,
                d.clone(),
                format!(
                    "the next boot starts kernel {d}, which is older than the running kernel {r}, so the reboot goes back to older code and whatever the newer kernel fixed: {how}"
                ),
            )
        }
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
pub(crate) fn needed_for(pairs: &[u64]) -> Option<u64> {
    pairs.iter().max().map(|m| m + m / 4)
}

pub(crate) fn space_check(
    sys: &Sys,
    installed: &[Kernel],
    entry_pairs: &[u64],
    dir: &Path,
) -> Check {
    // The mount point holding `dir` names it in messages (/boot, /efi).
    let shown = ["/boot/efi", "/efi", "/boot"]
        .iter()
        .map(Path::new)
        .find(|m| dir.starts_with(m))
        .unwrap_or(dir);
    let d = shown.display().to_string();
    // Fedora's rescue kernel (a generic initramfs several times the size
    // of the others) is made once, not per kernel update: not a measure.
    let mut pairs: Vec<u64> = installed
        .iter()
        .filter(|k| k.image.is_some() && !kernels::is_rescue(&k.version))
        .map(|k| k.image_size.unwrap_or(0) + k.initrd_size.unwrap_or(0))
        .collect();
    pairs.extend_from_slice(entry_pairs);
    let needed = needed_for(&pairs);
    let free = sys.free_bytes(dir);
    let mut c = match (free, needed) {
        (_, None) => Check::new("boot-space", St::Skip, d.clone(), format!("no kernel in {d} to measure against")),
        (None, Some(_)) => Check::new("boot-space", St::Skip, d.clone(), format!("the free space of {d} cannot be read")),
        (Some(f), Some(n)) if f >= n => Check::new(
            "boot-space",
            St::Ok,
            d.clone(),
            format!("{d} has {} free, enough for another kernel and initrd ({} needed)", human(f), human(n)),
        ),
        (Some(f), Some(n)) => Check::new(
            "boot-space",
            St::Warn,
            d.clone(),
            format!(
                "{d} has only {} free but another kernel and initrd need about {}: the next kernel update may fail half-way; remove an old kernel package ({})",
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
    c.path = Some(shown.to_path_buf());
    c
}

pub(crate) fn human(b: u64) -> String {
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
}
