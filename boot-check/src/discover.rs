//! Finding and reading the boot configuration. Several may be present (a
//! stale `menu.lst` beside `grub.cfg`, say); the one checked is the first
//! found in this order, as distributions install them: GRUB 2
//! (`/boot/grub/grub.cfg`, `/boot/grub2/grub.cfg`, then
//! `/boot/efi/EFI/*/grub.cfg`), systemd-boot
//! (`loader/loader.conf` under /boot, /efi, /boot/efi), extlinux/syslinux,
//! GRUB legacy (`/boot/grub/grub.conf`, `/boot/grub/menu.lst`). The others
//! are reported as not checked.

use std::path::{Path, PathBuf};

use crate::model::{Base, Config, Loader, Problem};
use crate::system::Sys;
use crate::{bls, extlinux, grub2, grubenv, legacy, text};

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
    let (src, bad_line) = text::decode(&bytes);
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
                Path::new("/boot/loader/entries"),
                Base::Unknown,
                None,
                &mut found.denied,
            );
            let grub_default = sys
                .read(Path::new("/etc/default/grub"))
                .and_then(|b| grub2::grub_default(&String::from_utf8_lossy(&b)));
            let mut cfg = grub2::parse(
                &src,
                &file,
                grub2::Inputs {
                    env: &vars,
                    env_file,
                    bls: entries,
                    grub_default,
                },
            );
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
                (Base::Root, Some(part))
            };
            let (entries, problems, files) = read_bls(
                sys,
                &loader_dir.join("entries"),
                base,
                prefix.as_deref(),
                &mut found.denied,
            );
            let lc = bls::parse_loader_conf(&src);
            let mut cfg = Config::new(Loader::SystemdBoot, file.clone());
            for e in entries {
                cfg.push_top(e);
            }
            cfg.problems.extend(problems);
            cfg.files.extend(files);
            cfg.default = match lc.default {
                Some((v, line)) if v != "@saved" => crate::model::DefaultSpec {
                    spec: Some(v),
                    source: format!("default in {}", file.display()),
                    file: Some(file.clone()),
                    line: Some(line),
                },
                _ => crate::model::DefaultSpec {
                    spec: None,
                    source: "no default in loader.conf: the first entry (an EFI variable set by `bootctl set-default` may override it)".into(),
                    file: Some(file.clone()),
                    line: None,
                },
            };
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
            legacy::parse(&src, &file, saved)
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

/// Read a BLS entries directory: entries sorted, problems, files read.
fn read_bls(
    sys: &Sys,
    dir: &Path,
    base: Base,
    prefix: Option<&Path>,
    denied: &mut Vec<PathBuf>,
) -> (Vec<crate::model::Entry>, Vec<Problem>, Vec<PathBuf>) {
    let names: Vec<String> = sys
        .list_dir(dir)
        .into_iter()
        .filter(|n| n.ends_with(".conf") && !n.starts_with('.'))
        .collect();
    let files = names.iter().map(|n| dir.join(n)).collect();
    let refused = std::cell::RefCell::new(Vec::new());
    let read = |p: &Path| {
        sys.read_err(p).map_err(|e| {
            if e.kind() == std::io::ErrorKind::PermissionDenied {
                refused.borrow_mut().push(p.to_path_buf());
            }
            common::error::describe_io(&e)
        })
    };
    let (entries, problems) = bls::read_dir(dir, names, &read);
    denied.extend(refused.into_inner());
    let entries = entries
        .into_iter()
        .map(|b| {
            let mut e = b.entry;
            e.base = base;
            if let Some(pre) = prefix {
                let join = |p: &str| pre.join(p.trim_start_matches('/')).display().to_string();
                e.kernel = e.kernel.as_deref().map(join);
                e.initrds = e.initrds.iter().map(|p| join(p)).collect();
            }
            e
        })
        .collect();
    (entries, problems, files)
}
