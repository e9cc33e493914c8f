//! A kernel command line without `root=` is fine where the initrd finds the
//! root file system by itself: systemd's `systemd-gpt-auto-generator`
//! mounts the partition whose GPT type is "Linux root" (the Discoverable
//! Partitions Specification) on the disk the boot loader says it booted
//! from (the EFI variable `LoaderDevicePartUUID`, which systemd-boot,
//! systemd-stub in a unified kernel image, and GRUB with `insmod bli` set).
//! So three things must hold: the loader tells, the initrd runs systemd,
//! and the generator is installed to be copied into it.

use std::path::Path;

use crate::system::Sys;

/// How the initrd finds the root file system without `root=` (`Ok`, a
/// clause for a message), or why nothing will (`Err`).
pub fn initrd_finds_root(sys: &Sys, loader_tells: Result<&str, &str>) -> Result<String, String> {
    let loader = loader_tells.map_err(str::to_owned)?;
    let generator = [
        "/usr/lib/systemd/system-generators/systemd-gpt-auto-generator",
        "/lib/systemd/system-generators/systemd-gpt-auto-generator",
    ]
    .into_iter()
    .any(|p| sys.is_file(Path::new(p)));
    if !generator {
        return Err("systemd-gpt-auto-generator is not installed".to_owned());
    }
    // The generator finds partitions (LUKS-encrypted ones too, opened as
    // /dev/mapper/root), never logical volumes.
    if let Some(f) = sys.fstab_mount("/") {
        if is_logical_volume(&f.spec) {
            return Err(format!(
                "/etc/fstab mounts / from the logical volume {}, which systemd-gpt-auto-generator does not find: it finds a partition by its GPT type",
                f.spec
            ));
        }
    }
    let initrd = systemd_initrd(sys)?;
    Ok(format!(
        "{loader}, and the initrd runs systemd ({initrd}), whose systemd-gpt-auto-generator mounts the partition of GPT type \"Linux root\" on that disk"
    ))
}

/// `/dev/mapper/VG-LV` or `/dev/VG/LV` (not gpt-auto's own
/// `/dev/mapper/root`, not `/dev/disk/...`).
fn is_logical_volume(spec: &str) -> bool {
    if let Some(name) = spec.strip_prefix("/dev/mapper/") {
        return name != "root" && name.contains('-');
    }
    match spec
        .strip_prefix("/dev/")
        .map(|r| r.split('/').collect::<Vec<_>>())
    {
        Some(parts) => parts.len() == 2 && !["disk", "md", "mapper"].contains(&parts[0]),
        None => false,
    }
}

/// Whether the initrd generator of this system puts systemd into the
/// initrd: mkinitcpio with the `systemd` hook, or dracut with its systemd
/// module (the default wherever systemd is installed).
fn systemd_initrd(sys: &Sys) -> Result<String, String> {
    let conf = Path::new("/etc/mkinitcpio.conf");
    if sys.exists(conf) {
        // mkinitcpio sources the drop-ins after the main file.
        let mut files = vec![conf.to_path_buf()];
        let dropins = Path::new("/etc/mkinitcpio.conf.d");
        files.extend(
            sys.list_dir(dropins)
                .into_iter()
                .filter(|n| n.ends_with(".conf"))
                .map(|n| dropins.join(n)),
        );
        let mut hooks: Option<(Vec<String>, std::path::PathBuf)> = None;
        for f in files {
            if let Some(h) = sys
                .read(&f)
                .and_then(|b| shell_array(&String::from_utf8_lossy(&b), "HOOKS"))
            {
                hooks = Some((h, f));
            }
        }
        return match hooks {
            Some((h, f)) if h.iter().any(|w| w == "systemd") => {
                Ok(format!("HOOKS in {} has systemd", f.display()))
            }
            Some((_, f)) => Err(format!(
                "the initrd does not run systemd: HOOKS in {} has no systemd hook (add it, replacing base's udev, and rebuild with `mkinitcpio -P`)",
                f.display()
            )),
            None => Err(format!("{} sets no HOOKS", conf.display())),
        };
    }
    let module = [
        "/usr/lib/dracut/modules.d/00systemd",
        "/usr/lib/dracut/modules.d/01systemd",
    ]
    .into_iter()
    .find(|p| sys.is_dir(Path::new(p)));
    if let Some(m) = module {
        let dir = Path::new("/etc/dracut.conf.d");
        let mut files = vec![Path::new("/etc/dracut.conf").to_path_buf()];
        files.extend(
            sys.list_dir(dir)
                .into_iter()
                .filter(|n| n.ends_with(".conf"))
                .map(|n| dir.join(n)),
        );
        for f in files {
            let Some(b) = sys.read(&f) else { continue };
            let text = String::from_utf8_lossy(&b);
            let omits = text.lines().any(|l| {
                let l = l.split('#').next().unwrap_or_default();
                l.trim_start().starts_with("omit_dracutmodules")
                    && l.split(|c: char| c.is_whitespace() || c == '"' || c == '=' || c == '+')
                        .any(|w| w == "systemd")
            });
            if omits {
                return Err(format!(
                    "the initrd does not run systemd: {} omits dracut's systemd module",
                    f.display()
                ));
            }
        }
        return Ok(format!("dracut with its systemd module, {m}"));
    }
    if sys.exists(Path::new("/etc/initramfs-tools/initramfs.conf")) {
        return Err("initramfs-tools builds the initrd, and its scripts need root=".to_owned());
    }
    if sys.exists(Path::new("/etc/mkinitfs/mkinitfs.conf")) {
        return Err("mkinitfs builds the initrd, and its init needs root=".to_owned());
    }
    Err("no initrd generator that puts systemd into the initrd (mkinitcpio's systemd hook, dracut) is installed".to_owned())
}

/// The words of a shell array assignment `NAME=(a b c)` (the last one;
/// it may span lines; `#` starts a comment).
pub fn shell_array(text: &str, name: &str) -> Option<Vec<String>> {
    let mut found = None;
    let mut lines = text.lines();
    let prefix = format!("{name}=(");
    while let Some(l) = lines.next() {
        let Some(rest) = l.trim_start().strip_prefix(&prefix) else {
            continue;
        };
        let mut body = String::new();
        let mut cur = rest.to_owned();
        loop {
            let code = cur.split('#').next().unwrap_or_default().to_owned();
            if let Some(end) = code.find(')') {
                body.push_str(&code[..end]);
                break;
            }
            body.push_str(&code);
            body.push(' ');
            match lines.next() {
                Some(n) => cur = n.to_owned(),
                None => break,
            }
        }
        found = Some(
            body.split_whitespace()
                .map(|w| w.trim_matches(|c| c == '"' || c == '\'').to_owned())
                .collect(),
        );
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_volumes() {
        assert!(is_logical_volume("/dev/mapper/fedora-root"));
        assert!(is_logical_volume("/dev/vg0/root"));
        assert!(!is_logical_volume("/dev/mapper/root"));
        assert!(!is_logical_volume("/dev/disk/by-uuid/x"));
        assert!(!is_logical_volume("UUID=abc"));
        assert!(!is_logical_volume("/dev/sda2"));
    }

    #[test]
    fn mkinitcpio_hooks() {
        let conf = "# HOOKS=(base udev)\nMODULES=()\nHOOKS=(base systemd autodetect microcode modconf kms keyboard sd-vconsole block filesystems fsck)\n";
        let h = shell_array(conf, "HOOKS").expect("hooks");
        assert_eq!(h[1], "systemd");
        let multi = "HOOKS=(base\n  udev # the classic one\n  block filesystems)\nHOOKS+=(x)\n";
        assert_eq!(
            shell_array(multi, "HOOKS").expect("hooks"),
            ["base", "udev", "block", "filesystems"]
        );
        assert_eq!(shell_array("MODULES=()\n", "HOOKS"), None);
        assert_eq!(shell_array("HOOKS=(a b", "HOOKS").expect("h"), ["a", "b"]);
    }
}
