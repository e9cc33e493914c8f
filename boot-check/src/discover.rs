//! Finding and reading the boot configuration. Several may be present (a
//! stale `menu.lst` beside `grub.cfg`, say); the one checked is the first
//! found in this order, as distributions install them: GRUB 2
//! (`/boot/grub/grub.cfg`, `/boot/grub2/grub.cfg`, then
//! `/boot/efi/EFI/*/grub.cfg`), systemd-boot
//! (`loader/loader.conf` under /boot, /efi, /boot/efi), extlinux/syslinux,
//! GRUB legacy (`/boot/grub/grub.conf`, `/boot/grub/menu.lst`). The others
//! are reported as not checked.

use std::path::{Path, PathBuf};

use crate::model::Entry;
use crate::model::{Base, Config, DefaultSpec, Loader, Problem};
use crate::system::Sys;
use crate::{bls, config_text, extlinux, grub2, grub_legacy, grubenv, uki};

pub const GRUB2: [&str; 2] = ["/boot/grub/grub.cfg", "/boot/grub2/grub.cfg"];
pub const SDBOOT: [&str; 3] = [
    "/boot/loader/loader.conf",
    "/efi/loader/loader.conf",
    "/boot/efi/loader/loader.conf",
];
pub const EXTLINUX: [&str; 5] = [
    "/boot/extlinux/extlinux.conf",
    "/boot/extlinux.conf",
    "/boot/syslinux/syslinux.cfg",
    "/boot/syslinux/extlinux.conf",
    "/extlinux.conf",
];
pub const LEGACY: [&str; 2] = ["/boot/grub/grub.conf", "/boot/grub/menu.lst"];

/// What grubenv looked like.
#[derive(Debug, Clone)]
pub struct EnvInfo {
    pub file: PathBuf,
    /// `None`: missing.
    pub read: Option<grubenv::GrubEnv>,
}

/// The outcome of the search.
pub struct Found {
    pub config: Option<Config>,
    pub grubenv: Option<EnvInfo>,
    /// Configurations present but not checked.
    pub ignored: Vec<(Loader, PathBuf)>,
    /// A configuration that exists but cannot be read, and why.
    pub unreadable: Option<(PathBuf, std::io::Error)>,
    /// Files the configuration needs that exist but this user may not read
    /// (grubenv and BLS entries are mode 0600 on some systems).
    pub denied: Vec<PathBuf>,
    /// systemd-boot type #2 entries (EFI/Linux/*.efi), not checked.
    pub ukis: Vec<PathBuf>,
}

/// Every candidate path, for messages.
pub fn all_candidates() -> Vec<&'static str> {
    GRUB2
        .iter()
        .chain(SDBOOT.iter())
        .chain(EXTLINUX.iter())
        .chain(LEGACY.iter())
        .copied()
        .collect()
}

pub fn find(sys: &Sys) -> Found {
    let mut present: Vec<(Loader, PathBuf)> = Vec::new();
    let groups: [(Loader, &[&str]); 4] = [
        (Loader::Grub2, &GRUB2),
        (Loader::SystemdBoot, &SDBOOT),
        (Loader::Extlinux, &EXTLINUX),
        (Loader::GrubLegacy, &LEGACY),
    ];
    for (loader, paths) in groups {
        let mut paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
        if loader == Loader::Grub2 {
            // RHEL 8 and Fedora up to 33 on UEFI keep the whole configuration
            // (and grubenv) on the ESP; later ones leave a stub there that
            // loads /boot/grub2/grub.cfg, which is found first.
            for d in sys.list_dir(Path::new("/boot/efi/EFI")) {
                if !d.eq_ignore_ascii_case("boot") {
                    paths.push(Path::new("/boot/efi/EFI").join(d).join("grub.cfg"));
                }
            }
        }
        // Within a group only the first counts (menu.lst is often a link to grub.conf).
        if let Some(p) = paths.into_iter().find(|p| sys.exists(p)) {
            present.push((loader, p));
        }
    }
    let mut found = Found {
        config: None,
        grubenv: None,
        ignored: Vec::new(),
        unreadable: None,
        denied: Vec::new(),
        ukis: Vec::new(),
    };
    let mut it = present.into_iter();
    let Some((loader, file)) = it.next() else {
        return found;
    };
    found.ignored = it.collect();
    let bytes = match sys.read_err(&file) {
        Ok(b) => b,
        Err(e) => {
            found.unreadable = Some((file, e));
            return found;
        }
    };
    let (src, bad_line) = config_text::decode(&bytes);
    let mut cfg = match loader {
        Loader::Grub2 => {
            let dir = file
                .parent()
                .unwrap_or(Path::new("/boot/grub"))
                .to_path_buf();
            let env_file = dir.join("grubenv");
            let env = match sys.read_err(&env_file) {
                Ok(b) => Some(grubenv::parse(&b)),
                Err(e) => {
                    if e.kind() == std::io::ErrorKind::PermissionDenied {
                        found.denied.push(env_file.clone());
                    }
                    None
                }
            };
            let vars = env.as_ref().map(|e| e.vars.clone()).unwrap_or_default();
            found.grubenv = Some(EnvInfo {
                file: env_file.clone(),
                read: env,
            });
            let (entries, problems, files) = read_bls(
                sys,
                &[(PathBuf::from("/boot/loader/entries"), Base::Unknown, None)],
                false,
                &mut found.denied,
                Vec::new(),
            );
            let grub_default = sys
                .read(Path::new("/etc/default/grub"))
                .and_then(|b| grub2::grub_default(&String::from_utf8_lossy(&b)));
            // A file grub.cfg sources: as written, else on a separate
            // /boot partition (GRUB's /grub/custom.cfg is /boot/grub/...).
            let denied = std::cell::RefCell::new(Vec::new());
            let include = |p: &str| -> Option<(PathBuf, String)> {
                let p = Path::new(p);
                let on_boot = Path::new("/boot").join(p.strip_prefix("/").unwrap_or(p));
                let path = [p.to_path_buf(), on_boot]
                    .into_iter()
                    .find(|c| sys.is_file(c))?;
                match sys.read_err(&path) {
                    Ok(b) => Some((path, config_text::decode(&b).0)),
                    Err(e) => {
                        if e.kind() == std::io::ErrorKind::PermissionDenied {
                            denied.borrow_mut().push(path);
                        }
                        None
                    }
                }
            };
            let mut cfg = grub2::parse(
                &src,
                &file,
                grub2::Inputs {
                    env: &vars,
                    env_file,
                    bls: entries,
                    grub_default,
                    include: &include,
                },
            );
            found.denied.extend(denied.into_inner());
            if src.contains("blscfg") {
                cfg.problems.extend(problems);
                cfg.files.extend(files);
            }
            cfg
        }
        Loader::SystemdBoot => {
            let loader_dir = file.parent().unwrap_or(Path::new("/boot/loader"));
            let part = loader_dir
                .parent()
                .unwrap_or(Path::new("/boot"))
                .to_path_buf();
            let (base, prefix) = if part == Path::new("/boot") {
                (Base::Boot, None)
            } else {
                (Base::Root, Some(part.clone()))
            };
            let mut dirs = vec![(loader_dir.join("entries"), base, prefix.clone())];
            // An ESP at /efi or /boot/efi with an XBOOTLDR partition on
            // /boot: systemd-boot reads the entries of both.
            if part != Path::new("/boot") && sys.boot_separate() {
                dirs.push((PathBuf::from("/boot/loader/entries"), Base::Boot, None));
            }
            // Type #2 entries: the unified kernel images in EFI/Linux of
            // each partition, sorted in with the others.
            let mut parts: Vec<(PathBuf, Base, Option<PathBuf>)> =
                vec![(part.clone(), base, prefix.clone())];
            if part != Path::new("/boot") && sys.boot_separate() {
                parts.push((PathBuf::from("/boot"), Base::Boot, None));
            }
            let mut ukis = Vec::new();
            let mut uki_problems = Vec::new();
            for (dir_part, b, pre) in &parts {
                let dir = dir_part.join("EFI/Linux");
                for name in sys.list_dir(&dir) {
                    let lower = name.to_ascii_lowercase();
                    if !lower.ends_with(".efi")
                        || name.starts_with('.')
                        || lower.starts_with("auto-")
                    {
                        continue;
                    }
                    let path = dir.join(&name);
                    found.ukis.push(path.clone());
                    match read_uki(sys, &path, &name, *b, pre.as_deref()) {
                        Some(e) => ukis.push(e),
                        None => uki_problems.push(Problem {
                            file: path,
                            line: 0,
                            message: "is no unified kernel image systemd-boot can list (no PE file with an .osrel section), so it is not in the menu".into(),
                            minor: true,
                        }),
                    }
                }
            }
            let (entries, problems, files) = read_bls(sys, &dirs, true, &mut found.denied, ukis);
            let lc = bls::parse_loader_conf(&src);
            let mut cfg = Config::new(Loader::SystemdBoot, file.clone());
            for e in entries {
                cfg.push_top(e);
            }
            cfg.problems.extend(problems);
            cfg.problems.extend(uki_problems);
            cfg.files.extend(files);
            cfg.files.extend(found.ukis.iter().cloned());
            let efi = |name: &str| sd_efi_var(sys, name);
            let first = |source: String| DefaultSpec::read(None, source, &file, None);
            let efi_spec = |v: String, var: &str, how: &str| DefaultSpec {
                spec: Some(v),
                source: format!("the EFI variable {var}, set by {how}"),
                file: None,
                line: None,
            };
            cfg.default = match (efi("LoaderEntryDefault"), lc.default) {
                // `bootctl set-default` overrides loader.conf.
                (Some(v), _) => efi_spec(v, "LoaderEntryDefault", "`bootctl set-default`"),
                (None, Some((v, line))) if v == "@saved" => {
                    match efi("LoaderEntryLastBooted") {
                        Some(last) => DefaultSpec::read(
                            Some(last),
                            format!(
                                "default @saved in {}: the entry booted last (EFI variable LoaderEntryLastBooted)",
                                file.display()
                            ),
                            &file,
                            Some(line),
                        ),
                        None => {
                            cfg.default_unknown = Some(format!(
                                "{} says `default @saved`: systemd-boot boots the entry booted last, which only the EFI variables of the running system know",
                                file.display()
                            ));
                            DefaultSpec {
                                line: Some(line),
                                ..first(format!("default @saved in {}", file.display()))
                            }
                        }
                    }
                }
                (None, Some((v, line))) if v.is_empty() || v.starts_with('@') => DefaultSpec {
                    line: Some(line),
                    ..first(format!("default {v} in {}: the first entry", file.display()))
                },
                (None, Some((v, line))) => DefaultSpec::read(
                    Some(v),
                    format!("default in {}", file.display()),
                    &file,
                    Some(line),
                ),
                (None, None) => first(format!(
                    "no default in {}: the first entry",
                    file.display()
                )),
            };
            if let Some(v) = efi("LoaderEntryOneShot") {
                cfg.next = Some(efi_spec(v, "LoaderEntryOneShot", "`bootctl set-oneshot`"));
            }
            cfg
        }
        Loader::Extlinux => extlinux::parse(&src, &file),
        Loader::GrubLegacy => {
            let saved = sys.read(Path::new("/boot/grub/default")).and_then(|b| {
                String::from_utf8_lossy(&b)
                    .split_whitespace()
                    .next()
                    .map(str::to_owned)
            });
            grub_legacy::parse(&src, &file, saved)
        }
    };
    if let Some(line) = bad_line {
        cfg.problems.insert(
            0,
            Problem {
                file: file.clone(),
                line,
                message: "binary data (not text): the file is damaged".into(),
                minor: false,
            },
        );
    }
    found.config = Some(cfg);
    found
}

/// Read BLS entries directories (system path, partition, path prefix of
/// the partition's mount point): entries in the boot loader's order
/// (systemd-boot's when `sd`, else GRUB blscfg's), problems, files read.
fn read_bls(
    sys: &Sys,
    dirs: &[(PathBuf, Base, Option<PathBuf>)],
    sd: bool,
    denied: &mut Vec<PathBuf>,
    extra: Vec<bls::BlsEntry>,
) -> (Vec<crate::model::Entry>, Vec<Problem>, Vec<PathBuf>) {
    let mut all = extra;
    let mut problems = Vec::new();
    let mut files = Vec::new();
    for (dir, base, prefix) in dirs {
        let names: Vec<String> = sys
            .list_dir(dir)
            .into_iter()
            .filter(|n| n.ends_with(".conf") && !n.starts_with('.'))
            .collect();
        files.extend(names.iter().map(|n| dir.join(n)));
        let refused = std::cell::RefCell::new(Vec::new());
        let read = |p: &Path| {
            sys.read_err(p).map_err(|e| {
                if e.kind() == std::io::ErrorKind::PermissionDenied {
                    refused.borrow_mut().push(p.to_path_buf());
                }
                common::error::describe_io(&e)
            })
        };
        let (entries, p) = bls::read_dir(dir, names, &read);
        denied.extend(refused.into_inner());
        problems.extend(p);
        for mut b in entries {
            b.entry.base = *base;
            if let Some(pre) = prefix {
                let join = |p: &str| pre.join(p.trim_start_matches('/')).display().to_string();
                b.entry.kernel = b.entry.kernel.as_deref().map(join);
                b.entry.initrds = b.entry.initrds.iter().map(|p| join(p)).collect();
            }
            all.push(b);
        }
    }
    if sd {
        bls::sort_sd(&mut all);
    } else {
        bls::sort(&mut all);
    }
    (all.into_iter().map(|b| b.entry).collect(), problems, files)
}

/// A unified kernel image as a systemd-boot menu entry (type #2): its
/// id is the file name, lower-cased, without a boot counter.
fn read_uki(
    sys: &Sys,
    path: &Path,
    name: &str,
    base: Base,
    prefix: Option<&Path>,
) -> Option<bls::BlsEntry> {
    let u = uki::read(sys, path)?;
    let counter = bls::boot_counter(name, ".efi");
    let id = counter
        .map_or_else(|| name.to_owned(), |(n, _, _)| format!("{n}.efi"))
        .to_lowercase();
    let mut e = Entry::new(u.title.clone(), path.to_path_buf(), 0);
    e.id = Some(id.clone());
    e.tries = counter.map(|(_, l, d)| (l, d));
    e.version = u.release.clone();
    e.options = u.cmdline.clone();
    e.uki = true;
    e.base = base;
    // The image itself is what systemd-boot starts, relative to its partition.
    let written = Path::new("/EFI/Linux").join(name);
    e.kernel = Some(match prefix {
        Some(pre) => pre
            .join(written.strip_prefix("/").unwrap_or(&written))
            .display()
            .to_string(),
        None => written.display().to_string(),
    });
    if !u.has_linux {
        e.kernel_problem_hint = Some("has no .linux section, so it carries no kernel".into());
    }
    Some(bls::BlsEntry {
        entry: e,
        sort_key: u.sort_key,
        machine_id: None,
        file_name: name.to_owned(),
        sort_name: id,
        sort_version: u.os_version,
    })
}

/// A systemd-boot EFI variable of the running system (UTF-16 text after
/// 4 bytes of attributes); `None` under --root or when unset.
fn sd_efi_var(sys: &Sys, name: &str) -> Option<String> {
    if !sys.root.is_live() {
        return None;
    }
    let path = format!("/sys/firmware/efi/efivars/{name}-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f");
    decode_efi_string(&sys.read(Path::new(&path))?)
}

/// The UTF-16LE string of an efivarfs file (4 bytes of attributes first),
/// up to its NUL.
pub fn decode_efi_string(data: &[u8]) -> Option<String> {
    let units: Vec<u16> = data
        .get(4..)?
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    let s = String::from_utf16(&units).ok()?;
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn efi_strings() {
        let mut v = vec![7, 0, 0, 0];
        for u in "arch.conf".encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v.extend_from_slice(&[0, 0]);
        assert_eq!(decode_efi_string(&v).as_deref(), Some("arch.conf"));
        assert_eq!(decode_efi_string(&[7, 0, 0]), None);
        assert_eq!(decode_efi_string(&[7, 0, 0, 0, 0, 0]), None);
        assert_eq!(decode_efi_string(&[7, 0, 0, 0, 0x00, 0xd8, 1]), None);
    }
}
