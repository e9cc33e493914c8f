//! GRUB legacy `grub.conf` / `menu.lst` (CentOS 5/6, old Debian): `default`,
//! `fallback`, `title` blocks with `root (hd0,0)`, `kernel` and `initrd`.
//! Keywords take their argument after `=` or whitespace. `default saved`
//! reads the number in /boot/grub/default (passed in by the caller).

use std::path::Path;

use crate::model::{Config, DefaultSpec, Entry, Loader, Problem};

/// Parse `src` (system path `file`); `saved` is the first number of
/// /boot/grub/default when it exists.
pub fn parse(src: &str, file: &Path, saved: Option<String>) -> Config {
    let mut cfg = Config::new(Loader::GrubLegacy, file.to_path_buf());
    let mut cur: Option<Entry> = None;
    let mut default: Option<(String, usize)> = None;
    for (n, raw) in src.lines().enumerate() {
        let line_no = n + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let split = line
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(line.len());
        let key = line[..split].to_ascii_lowercase();
        let value = line[split..]
            .trim_start_matches(|c: char| c == '=' || c.is_whitespace())
            .trim();
        match key.as_str() {
            "title" => {
                if let Some(e) = cur.take() {
                    cfg.push_top(e);
                }
                cur = Some(Entry::new(value, file.to_path_buf(), line_no));
            }
            "default" => default = Some((value.to_owned(), line_no)),
            "fallback" => {
                cfg.fallback = Some(DefaultSpec::read(
                    value.split_whitespace().next().map(str::to_owned),
                    format!("fallback in {}", file.display()),
                    file,
                    Some(line_no),
                ))
            }
            "kernel" => match cur.as_mut() {
                Some(e) => {
                    let mut words = value.split_whitespace().filter(|w| !w.starts_with("--"));
                    e.kernel = words.next().map(crate::grub2::strip_device);
                    e.options = Some(words.collect::<Vec<_>>().join(" "));
                }
                None => cfg.problems.push(Problem {
                    file: file.to_path_buf(),
                    line: line_no,
                    message: "a kernel line outside any title block".into(),
                    minor: false,
                }),
            },
            "initrd" => {
                if let Some(e) = cur.as_mut() {
                    e.initrds
                        .extend(value.split_whitespace().map(crate::grub2::strip_device));
                }
            }
            "chainloader" | "makeactive" => {
                if let Some(e) = cur.as_mut() {
                    e.chain = e.kernel.is_none();
                }
            }
            "root" | "rootnoverify" | "timeout" | "splashimage" | "hiddenmenu" | "password"
            | "color" | "serial" | "terminal" | "savedefault" | "boot" | "lock" | "map"
            | "gfxmenu" | "module" | "uuid" | "find" | "quiet" => {}
            _ => cfg.problems.push(Problem {
                file: file.to_path_buf(),
                line: line_no,
                message: format!(
                    "unknown command {:?}",
                    key.chars().take(40).collect::<String>()
                ),
                minor: true,
            }),
        }
    }
    if let Some(e) = cur.take() {
        cfg.push_top(e);
    }
    cfg.default = match default {
        Some((v, line)) if v.starts_with("saved") => DefaultSpec::read(
            saved,
            "default saved (/boot/grub/default)".into(),
            file,
            Some(line),
        ),
        Some((v, line)) => DefaultSpec::read(
            v.split_whitespace().next().map(str::to_owned),
            format!("default in {}", file.display()),
            file,
            Some(line),
        ),
        None => DefaultSpec::first_entry(file),
    };
    cfg
}

#[cfg(test)]
mod tests {
    use super::*;

    const CENTOS6: &str = "default=0\ntimeout=5\nsplashimage=(hd0,0)/grub/splash.xpm.gz\nhiddenmenu\nfallback=1\ntitle CentOS (2.6.32-754.el6.x86_64)\n\troot (hd0,0)\n\tkernel /vmlinuz-2.6.32-754.el6.x86_64 ro root=/dev/mapper/vg-root rd_NO_LUKS\n\tinitrd /initramfs-2.6.32-754.el6.x86_64.img\ntitle CentOS (2.6.32-696.el6.x86_64)\n\troot (hd0,0)\n\tkernel (hd0,0)/vmlinuz-2.6.32-696.el6.x86_64 ro root=/dev/mapper/vg-root\n\tinitrd /initramfs-2.6.32-696.el6.x86_64.img\n";

    #[test]
    fn centos6() {
        let c = parse(CENTOS6, Path::new("/boot/grub/grub.conf"), None);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.entries.len(), 2);
        assert_eq!(c.resolve(c.default.spec.as_deref()), Some(0));
        assert_eq!(
            c.fallback.as_ref().and_then(|f| f.spec.as_deref()),
            Some("1")
        );
        assert_eq!(
            c.entries[1].kernel.as_deref(),
            Some("/vmlinuz-2.6.32-696.el6.x86_64")
        );
        assert_eq!(
            c.entries[0].options.as_deref(),
            Some("ro root=/dev/mapper/vg-root rd_NO_LUKS")
        );
        assert_eq!(c.entries[1].line, 10);
        assert_eq!(c.resolve(Some("5")), None);
    }

    #[test]
    fn junk_is_a_problem_not_a_panic() {
        let c = parse(
            "default 0\n\u{fffd}\u{fffd}junk\ntitle x\n",
            Path::new("/g"),
            None,
        );
        assert_eq!(c.problems[0].line, 2);
        for cut in 0..CENTOS6.len() {
            let _ = parse(&CENTOS6[..cut], Path::new("/g"), Some("1".into()));
        }
        let mut x: u32 = 11;
        for _ in 0..300 {
            let bytes: Vec<u8> = (0..120)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    b"default=0 title kernel initrd (hd0,0)/\n\t=#x"[(x >> 16) as usize % 43]
                })
                .collect();
            let c = parse(&String::from_utf8_lossy(&bytes), Path::new("/g"), None);
            let _ = c.resolve(c.default.spec.as_deref());
        }
    }
}
