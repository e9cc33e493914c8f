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
    // On the running system udev knows the partition type of /.
    let on = match (root_type_guid(), live_root_partition_type(sys)) {
        (Some(want), Some((dev, t))) if !t.eq_ignore_ascii_case(want) => {
            return Err(format!(
                "/ is on {dev}, a partition of GPT type {t}, not of the type \"Linux root\" ({want}) that systemd-gpt-auto-generator looks for; set it with `sfdisk --part-type` or `gdisk`"
            ));
        }
        (Some(_), Some((dev, _))) => format!(" (/ is on {dev}, a partition of that type)"),
        _ => String::new(),
    };
    Ok(format!(
        "{loader}, and the initrd runs systemd ({initrd}), whose systemd-gpt-auto-generator mounts the partition of GPT type \"Linux root\" on that disk{on}"
    ))
}

/// The Discoverable Partitions Specification's root partition type of
/// this machine's architecture (what systemd-gpt-auto-generator mounts).
fn root_type_guid() -> Option<&'static str> {
    match std::env::consts::ARCH {
        "x86_64" => Some("4f68bce3-e8cd-4db1-96e7-fbcaf984b709"),
        "x86" => Some("44479540-f297-41b2-9af7-d131d5f0458a"),
        "aarch64" => Some("b921b045-1df0-41c3-af44-4c6f280d3fae"),
        "arm" => Some("69dad710-2ce4-4e3c-b16c-21a1d49abed3"),
        "riscv64" => Some("72ec70a6-cf74-40e6-bd49-4bc8cfde3b94"),
        "powerpc64" => Some("912ade1d-a839-4913-8964-a10eee08fbd2"),
        "s390x" => Some("5eead9a9-fe09-4a1e-a1d7-520d00531306"),
        "loongarch64" => Some("77055800-792c-4f94-b39a-98c91b762bb6"),
        _ => None,
    }
}

/// Live only: the device / is mounted from and its GPT partition type as
/// udev recorded it (`/run/udev/data/bMAJ:MIN`, `ID_PART_ENTRY_TYPE`); for
/// a dm-crypt root, that of the partition under it. `None` when not known.
fn live_root_partition_type(sys: &Sys) -> Option<(String, String)> {
    use std::os::unix::fs::MetadataExt;
    if !sys.root.is_live() {
        return None;
    }
    let dev = std::fs::metadata("/").ok()?.dev();
    let (major, minor) = (
        ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff),
        (dev & 0xff) | ((dev >> 12) & !0xff),
    );
    let part_type = |mm: &str| -> Option<String> {
        let data = std::fs::read_to_string(format!("/run/udev/data/b{mm}")).ok()?;
        udev_property(&data, "ID_PART_ENTRY_TYPE")
    };
    let mm = format!("{major}:{minor}");
    let name = |mm: &str| {
        std::fs::read_link(format!("/sys/dev/block/{mm}"))
            .ok()
            .and_then(|l| {
                l.file_name()
                    .map(|n| format!("/dev/{}", n.to_string_lossy()))
            })
            .unwrap_or_else(|| format!("block device {mm}"))
    };
    if let Some(t) = part_type(&mm) {
        return Some((name(&mm), t));
    }
    // A dm-crypt root: the one partition under it.
    let slaves: Vec<_> = std::fs::read_dir(format!("/sys/dev/block/{mm}/slaves"))
        .ok()?
        .flatten()
        .collect();
    if let [slave] = slaves.as_slice() {
        let smm = std::fs::read_to_string(slave.path().join("dev")).ok()?;
        let smm = smm.trim();
        return part_type(smm).map(|t| (name(smm), t));
    }
    None
}

/// A property of a udev database record (`E:KEY=value` lines).
pub fn udev_property(data: &str, key: &str) -> Option<String> {
    data.lines().find_map(|l| {
        let v = l.strip_prefix("E:")?.strip_prefix(key)?.strip_prefix('=')?;
        (!v.is_empty()).then(|| v.to_owned())
    })
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
                "the initrd does not run systemd: HOOKS in {} has no systemd hook",
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
    fn udev_records() {
        let data = "S:disk/by-partuuid/1\nE:ID_PART_ENTRY_SCHEME=gpt\nE:ID_PART_ENTRY_TYPE=4f68bce3-e8cd-4db1-96e7-fbcaf984b709\nG:systemd\n";
        assert_eq!(
            udev_property(data, "ID_PART_ENTRY_TYPE").as_deref(),
            Some("4f68bce3-e8cd-4db1-96e7-fbcaf984b709")
        );
        assert_eq!(udev_property(data, "ID_PART_ENTRY"), None);
        assert_eq!(
            udev_property("E:ID_PART_ENTRY_TYPE=\n", "ID_PART_ENTRY_TYPE"),
            None
        );
    }

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
