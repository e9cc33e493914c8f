//! extlinux/syslinux configuration (`extlinux.conf`, `syslinux.cfg`), as
//! Alpine's update-extlinux writes it: `DEFAULT`, `LABEL` blocks with
//! `KERNEL`/`LINUX`, `INITRD` (comma-separated), `APPEND` (whose `initrd=`
//! also counts) and `MENU LABEL`/`MENU DEFAULT`. Keywords are
//! case-insensitive. The default is the label marked `MENU DEFAULT`, else the
//! label `DEFAULT` names, else (when `DEFAULT` names a menu module such as
//! `menu.c32` or nothing) the first label. Relative paths are relative to the
//! configuration file's directory.

use std::path::Path;

use crate::model::{Config, DefaultSpec, Entry, Loader, Problem};

pub fn parse(src: &str, file: &Path) -> Config {
    let mut cfg = Config::new(Loader::Extlinux, file.to_path_buf());
    let dir = file.parent().map(Path::to_path_buf);
    let mut cur: Option<Entry> = None;
    let mut default: Option<(String, usize)> = None;
    let mut menu_default: Option<usize> = None;
    // A menu module (`UI menu.c32`, or `DEFAULT menu.c32`) honours
    // `MENU DEFAULT`; without one, syslinux boots the `DEFAULT` label.
    let mut ui = false;
    let finish = |cfg: &mut Config, e: Option<Entry>| {
        if let Some(e) = e {
            cfg.push_top(e);
        }
    };
    for (n, raw) in src.lines().enumerate() {
        let line_no = n + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once(|c: char| c.is_whitespace()) {
            Some((k, v)) => (k.to_ascii_uppercase(), v.trim()),
            None => (line.to_ascii_uppercase(), ""),
        };
        match key.as_str() {
            "LABEL" => {
                finish(&mut cfg, cur.take());
                let mut e = Entry::new(value, file.to_path_buf(), line_no);
                e.id = Some(value.to_owned());
                e.rel_dir = dir.clone();
                cur = Some(e);
            }
            "DEFAULT" => default = Some((value.to_owned(), line_no)),
            "MENU" => {
                let (sub, rest) = match value.split_once(|c: char| c.is_whitespace()) {
                    Some((s, r)) => (s.to_ascii_uppercase(), r.trim()),
                    None => (value.to_ascii_uppercase(), ""),
                };
                if let Some(e) = cur.as_mut() {
                    match sub.as_str() {
                        "LABEL" => e.title = rest.to_owned(),
                        "DEFAULT" => menu_default = Some(cfg.entries.len()),
                        _ => {}
                    }
                }
            }
            "KERNEL" | "LINUX" => {
                if let Some(e) = cur.as_mut() {
                    e.kernel = Some(value.to_owned());
                    if value.ends_with(".c32") || value.ends_with(".com") {
                        e.chain = true;
                    }
                } else {
                    cfg.problems.push(Problem {
                        file: file.to_path_buf(),
                        line: line_no,
                        message: format!("{key} outside any LABEL block"),
                        minor: false,
                    });
                }
            }
            "COM32" | "BOOT" | "BSS" | "PXE" | "FDIMAGE" | "COMBOOT" | "CONFIG" | "LOCALBOOT" => {
                if let Some(e) = cur.as_mut() {
                    e.chain = true;
                }
            }
            "INITRD" => {
                if let Some(e) = cur.as_mut() {
                    e.initrds.extend(
                        value
                            .split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned),
                    );
                }
            }
            "APPEND" => {
                if let Some(e) = cur.as_mut() {
                    let mut opts = Vec::new();
                    for w in value.split_whitespace() {
                        if let Some(list) = w.strip_prefix("initrd=") {
                            e.initrds.extend(
                                list.split(',').filter(|s| !s.is_empty()).map(str::to_owned),
                            );
                        } else {
                            opts.push(w);
                        }
                    }
                    e.options = Some(opts.join(" "));
                }
            }
            "UI" => ui = true,
            "PROMPT" | "TIMEOUT" | "SAY" | "TOTALTIMEOUT" | "ONTIMEOUT" | "ONERROR" | "SERIAL"
            | "CONSOLE" | "FONT" | "KBDMAP" | "DISPLAY" | "F1" | "F2" | "F3" | "IMPLICIT"
            | "ALLOWOPTIONS" | "NOESCAPE" | "NOCOMPLETE" | "INCLUDE" | "TEXT" | "ENDTEXT"
            | "IPAPPEND" | "SYSAPPEND" | "LOCALBOOT_TYPE" | "FDT" | "FDTDIR" | "DEVICETREE"
            | "DEVICETREEDIR" => {}
            _ => cfg.problems.push(Problem {
                file: file.to_path_buf(),
                line: line_no,
                message: format!(
                    "unknown keyword {:?}",
                    key.chars().take(40).collect::<String>()
                ),
                minor: true,
            }),
        }
    }
    finish(&mut cfg, cur.take());
    if default.as_ref().is_some_and(|(v, _)| v.ends_with(".c32")) {
        ui = true;
    }
    let plain_default = default.as_ref().is_some_and(|(v, _)| !v.is_empty()) && !ui;
    cfg.default = if let Some(i) = menu_default.filter(|_| !plain_default) {
        DefaultSpec::read(
            cfg.entries.get(i).and_then(|e| e.id.clone()),
            format!("MENU DEFAULT in {}", file.display()),
            file,
            cfg.entries.get(i).map(|e| e.line),
        )
    } else {
        match default {
            Some((v, line)) if v.ends_with(".c32") || v.is_empty() => DefaultSpec::read(
                None,
                format!("DEFAULT {v} (a menu): the first label"),
                file,
                Some(line),
            ),
            Some((v, line)) => DefaultSpec::read(
                v.split_whitespace().next().map(str::to_owned),
                format!("DEFAULT in {}", file.display()),
                file,
                Some(line),
            ),
            None => DefaultSpec::read(None, "no DEFAULT: the first label".into(), file, None),
        }
    };
    cfg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_numeric_default_names_a_label_not_a_position() {
        let src = "DEFAULT 1\nLABEL 2\n  LINUX /vmlinuz-2\nLABEL 1\n  LINUX /vmlinuz-1\n";
        let c = parse(src, Path::new("/boot/extlinux/extlinux.conf"));
        let d = c.effective(c.default.spec.as_deref()).expect("default");
        assert_eq!(c.entries[d].kernel.as_deref(), Some("/vmlinuz-1"));
        // A DEFAULT that names no label boots no label: no fallback to a
        // position or to the first label.
        let src = "DEFAULT 0\nLABEL a\n  LINUX /vmlinuz-a\nLABEL b\n  LINUX /vmlinuz-b\n";
        let c = parse(src, Path::new("/boot/extlinux/extlinux.conf"));
        assert_eq!(c.effective(c.default.spec.as_deref()), None);
        assert_eq!(c.resolve(Some("b")), Some(1));
    }

    const ALPINE: &str = "DEFAULT menu.c32\nPROMPT 0\nMENU TITLE Alpine/Linux Boot Menu\nMENU HIDDEN\nMENU AUTOBOOT Alpine will be booted automatically in # seconds.\nTIMEOUT 10\nLABEL virt\n  MENU DEFAULT\n  MENU LABEL Linux virt\n  LINUX vmlinuz-virt\n  INITRD initramfs-virt\n  APPEND root=UUID=abc modules=sd-mod,usb-storage,ext4 quiet rootfstype=ext4\n\nMENU SEPARATOR\n";

    #[test]
    fn alpine() {
        let c = parse(ALPINE, Path::new("/boot/extlinux.conf"));
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        let d = c.resolve(c.default.spec.as_deref()).expect("default");
        let e = &c.entries[d];
        assert_eq!(e.title, "Linux virt");
        assert_eq!(e.kernel.as_deref(), Some("vmlinuz-virt"));
        assert_eq!(e.initrds, vec!["initramfs-virt"]);
        assert!(e
            .options
            .as_deref()
            .unwrap_or("")
            .starts_with("root=UUID=abc"));
    }

    #[test]
    fn menu_default_only_counts_with_a_menu() {
        let src = "DEFAULT a\nLABEL a\n LINUX /a\nLABEL b\n MENU DEFAULT\n LINUX /b\n";
        let c = parse(src, Path::new("/boot/extlinux.conf"));
        assert_eq!(c.default.spec.as_deref(), Some("a"), "no menu: DEFAULT");
        let c = parse(&format!("UI menu.c32\n{src}"), Path::new("/e"));
        assert_eq!(c.default.spec.as_deref(), Some("b"), "menu: MENU DEFAULT");
        let c = parse(
            &src.replace("DEFAULT a", "DEFAULT vesamenu.c32"),
            Path::new("/e"),
        );
        assert_eq!(c.default.spec.as_deref(), Some("b"));
    }

    #[test]
    fn default_label_and_comma_initrds() {
        let c = parse("DEFAULT b\nLABEL a\nKERNEL /a\nLABEL b\nLINUX /b\nINITRD /u.img,/i.img\nAPPEND initrd=/x root=/dev/sda2\n", Path::new("/boot/extlinux/extlinux.conf"));
        let d = c.resolve(c.default.spec.as_deref()).expect("default");
        assert_eq!(c.entries[d].initrds, vec!["/u.img", "/i.img", "/x"]);
        for cut in 0..ALPINE.len() {
            let _ = parse(&ALPINE[..cut], Path::new("/e"));
        }
        let mut x: u32 = 5;
        for _ in 0..300 {
            let bytes: Vec<u8> = (0..120)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    b"LABEL MENU DEFAULT LINUX INITRD APPEND ,=\n x"[(x >> 16) as usize % 44]
                })
                .collect();
            let c = parse(&String::from_utf8_lossy(&bytes), Path::new("/e"));
            let _ = c.resolve(c.default.spec.as_deref());
        }
    }
}
