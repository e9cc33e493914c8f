//! The configuration itself: found, readable, parsed, and GRUB's
//! environment block.

use std::path::Path;

use crate::kernels::Kernel;
use crate::system::{Family, Sys};

use super::{Check, St};
use crate::discover::{self, Found};

use super::fix::Fix;

pub(crate) fn config_checks(
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
            // An ESP that fstab mounts but that is not mounted hides a
            // configuration kept there (RHEL 8 on UEFI, systemd-boot).
            let esp = ["/boot/efi", "/efi"].into_iter().find(|mp| {
                sys.fstab_mount(mp).is_some()
                    && match sys.live_mounted(mp) {
                        Some(m) => !m,
                        None => sys.list_dir(Path::new(mp)).is_empty(),
                    }
            });
            let msg = match esp {
                Some(mp) => format!(
                    "kernels are installed ({}) but no boot loader configuration was found, and {mp}, which /etc/fstab mounts, is not mounted (or empty): mount it and run again",
                    with_kernels.join(", ")
                ),
                None => format!(
                    "kernels are installed ({}) but no boot loader configuration was found (looked for {looked}): create it with {}",
                    with_kernels.join(", "),
                    fix.regenerate()
                ),
            };
            out.push(Check::new("config-found", St::Fail, "/boot", msg));
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
                format!(
                    " ({} more problem{} in this file)",
                    count - 1,
                    if count == 2 { "" } else { "s" }
                )
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
                    format!("{where_}: {}{more}: {remedy}", p.message),
                )
                .loader(cfg.loader)
                .at(Some(&p.file), Some(p.line))
                .with_path(p.file.clone()),
            );
        }
    }

    // grubenv
    if let Some(first) = found.denied.first() {
        *trouble = Some(format!(
            "{}: permission denied{}: run boot-check as root to read the boot configuration",
            sys.real(first).display(),
            match found.denied.len() {
                1 => String::new(),
                n => format!(" (and {} more files)", n - 1),
            }
        ));
    }
    if let Some(env) = &found.grubenv {
        let uses_saved = cfg.default.source.contains("saved_entry");
        let c = match &env.read {
            None if found.denied.contains(&env.file) => Check::new(
                "grubenv",
                St::Fail,
                env.file.display().to_string(),
                format!(
                    "{} cannot be read (permission denied): run boot-check as root",
                    env.file.display()
                ),
            ),
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
                Some((line, msg)) => {
                    let recreate = format!(
                        "recreate it with `grub-editenv {0} create` and set the default again with `grub-set-default`{1}",
                        env.file.display(),
                        if sys.family == Family::RedHat { " (and kernelopts with `grub2-editenv - set kernelopts=...`)" } else { "" }
                    );
                    let (status, effect) = if g.ignored {
                        (St::Fail, "GRUB ignores it, so saved_entry, next_entry and kernelopts are unset at boot")
                    } else if !g.writable && g.vars.get("next_entry").is_some_and(|v| !v.is_empty()) {
                        // grub.cfg clears next_entry with save_env after the
                        // one-time boot; here that write fails every time.
                        (St::Fail, "GRUB loads its variables, but next_entry is set and GRUB cannot clear it after the one-time boot, so every boot starts the one-time entry")
                    } else if g.minor {
                        (St::Warn, "GRUB still loads all its variables")
                    } else {
                        (St::Fail, "GRUB loads only the variables before the damage, and the next write may lose them")
                    };
                    Check::new(
                        "grubenv",
                        status,
                        env.file.display().to_string(),
                        format!("{} {msg}: {effect}; {recreate}", env.file.display()),
                    )
                    .at(Some(&env.file), Some(*line))
                }
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
