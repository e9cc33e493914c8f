//! The fix each message names, worded for the distribution (apt, dnf, yum,
//! zypper, apk, pacman) and the boot loader (update-grub, grub2-mkconfig,
//! grubby, grub-set-default, bootctl, kernel-install) at hand.

use crate::kernels;
use crate::model::{Config, Loader};
use crate::system::{Family, Sys};

/// Fixes, worded for the distribution and boot loader at hand.
pub(crate) struct Fix<'a> {
    pub(crate) sys: &'a Sys,
    pub(crate) cfg: Option<&'a Config>,
    /// The newest installed kernel that no entry of the menu boots: when an
    /// entry's kernel was removed by an upgrade, regenerating the menu is
    /// the fix, not bringing the old kernel back.
    pub(crate) unlisted: Option<String>,
}

impl Fix<'_> {
    pub(crate) fn reinstall(&self, version: &str) -> String {
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
            Family::Arch if kernels::is_flavor(version) => format!("`pacman -S {version}`"),
            Family::Arch => "`pacman -S linux`".to_owned(),
            Family::Unknown => format!("the package manager (the package that provides kernel {version})"),
        }
    }

    /// The package that restores a kernel's modules directory.
    pub(crate) fn reinstall_modules(&self, version: &str) -> String {
        if self.sys.ubuntu && !kernels::is_flavor(version) {
            format!("`apt install --reinstall linux-modules-{version}`")
        } else {
            self.reinstall(version)
        }
    }

    pub(crate) fn regenerate(&self) -> String {
        let Some(cfg) = self.cfg else {
            return match self.sys.family {
                Family::Debian => "`update-grub`".into(),
                Family::Alpine => "`update-extlinux`".into(),
                _ => "`grub2-mkconfig -o /boot/grub2/grub.cfg`".into(),
            };
        };
        match cfg.loader {
            Loader::Grub2 if self.sys.family == Family::Debian => "`update-grub`".into(),
            Loader::Grub2 if !cfg.loads.is_empty() && cfg.entries.is_empty() => {
                // A stub (the ESP's grub.cfg on RHEL 9, Debian): regenerate
                // the file it loads, never the stub itself.
                let target = boot_path(&cfg.loads[0]);
                let mk = if target.contains("grub2") {
                    "grub2-mkconfig"
                } else if self.sys.family == Family::Debian {
                    return "`update-grub`".into();
                } else {
                    "grub-mkconfig"
                };
                format!("`{mk} -o {target}`")
            }
            Loader::Grub2 => {
                let mk = if cfg.file.starts_with("/boot/grub2")
                    || matches!(self.sys.family, Family::RedHat | Family::Suse)
                {
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
    pub(crate) fn set_default(&self, i: usize) -> String {
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

    pub(crate) fn initrd_tool(&self, version: &str) -> String {
        match self.sys.family {
            Family::Debian => format!("`update-initramfs -c -k {version}`"),
            Family::RedHat | Family::Suse => format!("`dracut -f --kver {version}`"),
            Family::Alpine => format!("`mkinitfs {version}`"),
            Family::Arch => "`mkinitcpio -P`".into(),
            Family::Unknown => format!("the initramfs tool (update-initramfs -c -k {version}, or dracut -f --kver {version})"),
        }
    }
}

pub(crate) fn boot_path(k: &str) -> String {
    if k.starts_with("/boot/") {
        k.to_owned()
    } else {
        format!("/boot{k}")
    }
}

pub(crate) fn flavor_of(version: &str) -> String {
    if kernels::is_flavor(version) {
        version.to_owned()
    } else {
        version.rsplit('-').next().unwrap_or(version).to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavors() {
        assert_eq!(flavor_of("lts"), "lts");
        assert_eq!(flavor_of("6.6.7-0-virt"), "virt");
    }
}
