//! Boot Loader Specification entries (`loader/entries/*.conf`, as grubby,
//! kernel-install and bootctl write them) and systemd-boot's `loader.conf`.
//!
//! Sort order (the menu order, which a numeric default counts in): the one
//! the Boot Loader Specification gives and systemd-boot implements: entries
//! with a `sort-key` first, by `sort-key` ascending, then `machine-id`
//! ascending, then `version` descending (newest first, rpm-style version
//! comparison), then the file name descending (version-aware). Fedora's GRUB
//! `blscfg` orders the usual entries (no sort-key) the same way: newest
//! version first.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use crate::kernels::vercmp;
use crate::model::{Entry, Problem};

/// One parsed entry file plus its sort fields.
#[derive(Debug, Clone)]
pub struct BlsEntry {
    pub entry: Entry,
    pub sort_key: Option<String>,
    pub machine_id: Option<String>,
    pub file_name: String,
    /// The name systemd-boot sorts by: the file name without its boot
    /// counter (`arch+3-0.conf` sorts as `arch.conf`).
    pub sort_name: String,
    /// The version systemd-boot sorts by (`version`; a unified kernel
    /// image's os-release version).
    pub sort_version: Option<String>,
}

/// systemd-boot's boot counter in an entry's file name, as its
/// `boot_entry_parse_tries` reads it: after the last `+`, the tries left,
/// optionally `-` and the tries done, then the suffix itself. The name
/// without the counter, and (left, done).
pub fn boot_counter<'a>(name: &'a str, suffix: &str) -> Option<(&'a str, u64, u64)> {
    let plus = name.rfind('+')?;
    let rest = &name[plus + 1..];
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let n = digits(rest);
    if n == 0 {
        return None;
    }
    let left: u64 = rest[..n]
        .parse()
        .ok()
        .filter(|&v: &u64| v <= i32::MAX as u64)?;
    let mut rest = &rest[n..];
    let mut done = 0;
    if let Some(r) = rest.strip_prefix('-') {
        let m = digits(r);
        if m == 0 {
            return None;
        }
        done = r[..m]
            .parse()
            .ok()
            .filter(|&v: &u64| v <= i32::MAX as u64)?;
        rest = &r[m..];
    }
    rest.eq_ignore_ascii_case(suffix)
        .then_some((&name[..plus], left, done))
}

/// Parse one entry file (`file` is its system path, `name` its file name).
pub fn parse_entry(src: &str, file: &Path, name: &str) -> (BlsEntry, Vec<Problem>) {
    let counter = boot_counter(name, ".conf");
    let base = counter.map_or(name, |c| c.0);
    let id = base.strip_suffix(".conf").unwrap_or(base).to_owned();
    let mut e = Entry::new(String::new(), file.to_path_buf(), 1);
    e.id = Some(id.clone());
    e.tries = counter.map(|(_, left, done)| (left, done));
    let mut problems = Vec::new();
    let mut sort_key = None;
    let mut machine_id = None;
    let mut title = None;
    let mut options: Vec<String> = Vec::new();
    for (n, raw) in src.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once(|c: char| c.is_whitespace()) {
            Some((k, v)) => (k, v.trim()),
            None => (line, ""),
        };
        if !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            problems.push(Problem {
                file: file.to_path_buf(),
                line: n + 1,
                message: format!("not a \"key value\" line: {:?}", truncate(line)),
                minor: true,
            });
            continue;
        }
        match key {
            "title" => title = Some(value.to_owned()),
            "version" => e.version = Some(value.to_owned()),
            "machine-id" => machine_id = Some(value.to_owned()),
            "sort-key" => sort_key = Some(value.to_owned()),
            "linux" => e.kernel = Some(value.to_owned()),
            "initrd" => e
                .initrds
                .extend(value.split_whitespace().map(str::to_owned)),
            "options" => options.push(value.to_owned()),
            "efi" | "uki" if e.kernel.is_none() => e.chain = true,
            "grub_arg" if value.split_whitespace().any(|a| a == "--unrestricted") => {
                e.unrestricted = true
            }
            _ => {}
        }
    }
    if !options.is_empty() {
        e.options = Some(options.join(" "));
    }
    if e.kernel.is_some() {
        e.chain = false;
    } else if !e.chain {
        problems.push(Problem {
            file: file.to_path_buf(),
            line: 0,
            message: "no \"linux\" (or \"efi\") line: the entry cannot boot anything".into(),
            minor: false,
        });
    }
    e.title = title.unwrap_or_else(|| match &e.version {
        Some(v) => format!("{id} ({v})"),
        None => id.clone(),
    });
    let sort_version = e.version.clone();
    (
        BlsEntry {
            entry: e,
            sort_key,
            machine_id,
            file_name: name.to_owned(),
            sort_name: format!("{id}.conf"),
            sort_version,
        },
        problems,
    )
}

fn truncate(s: &str) -> String {
    s.chars().take(60).collect()
}

/// The specification's order; see the module comment.
pub fn compare(a: &BlsEntry, b: &BlsEntry) -> Ordering {
    match (&a.sort_key, &b.sort_key) {
        (Some(x), Some(y)) => {
            let o = x
                .cmp(y)
                .then_with(|| a.machine_id.cmp(&b.machine_id))
                .then_with(|| cmp_version_desc(&a.entry.version, &b.entry.version));
            if o != Ordering::Equal {
                return o;
            }
        }
        (Some(_), None) => return Ordering::Less,
        (None, Some(_)) => return Ordering::Greater,
        (None, None) => {
            let o = cmp_version_desc(&a.entry.version, &b.entry.version);
            if o != Ordering::Equal {
                return o;
            }
        }
    }
    vercmp(&b.file_name, &a.file_name)
}

fn cmp_version_desc(a: &Option<String>, b: &Option<String>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => vercmp(y, x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Sort entries into menu order.
pub fn sort(v: &mut [BlsEntry]) {
    v.sort_by(compare);
}

/// systemd-boot's order (`boot_entry_compare`): entries with a `sort-key`
/// first, and only when both have one by `sort-key`, `machine-id`, then
/// `version` descending; then by id (the file name) descending. Versions
/// and ids compare with systemd's `strverscmp_improved`, for which `-`
/// makes a string older and `.` newer: `arch.conf` comes before
/// `arch-lts.conf`.
pub fn compare_sd(a: &BlsEntry, b: &BlsEntry) -> Ordering {
    // Entries with no boot tries left go to the end.
    let bad = |x: &BlsEntry| x.entry.tries.is_some_and(|t| t.0 == 0);
    let o = bad(a).cmp(&bad(b));
    if o != Ordering::Equal {
        return o;
    }
    let o = b.sort_key.is_some().cmp(&a.sort_key.is_some());
    if o != Ordering::Equal {
        return o;
    }
    if let (Some(x), Some(y)) = (&a.sort_key, &b.sort_key) {
        let o = x
            .cmp(y)
            .then_with(|| a.machine_id.cmp(&b.machine_id))
            .then_with(|| {
                strverscmp(
                    b.sort_version.as_deref().unwrap_or(""),
                    a.sort_version.as_deref().unwrap_or(""),
                )
            });
        if o != Ordering::Equal {
            return o;
        }
    }
    let o = strverscmp(&b.sort_name, &a.sort_name);
    if o != Ordering::Equal {
        return o;
    }
    // Both counted and otherwise the same: more tries left, then fewer
    // done, first.
    match (a.entry.tries, b.entry.tries) {
        (Some((al, ad)), Some((bl, bd))) => bl.cmp(&al).then(ad.cmp(&bd)),
        _ => Ordering::Equal,
    }
}

/// Sort entries into systemd-boot's menu order.
pub fn sort_sd(v: &mut [BlsEntry]) {
    v.sort_by(compare_sd);
}

/// systemd's `strverscmp_improved`: the version comparison of the Boot
/// Loader Specification.
pub fn strverscmp(a: &str, b: &str) -> Ordering {
    let valid = |c: u8| c.is_ascii_alphanumeric() || b"~-^.".contains(&c);
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0usize, 0usize);
    let at = |s: &[u8], k: usize| s.get(k).copied().unwrap_or(0);
    loop {
        while i < a.len() && !valid(a[i]) {
            i += 1;
        }
        while j < b.len() && !valid(b[j]) {
            j += 1;
        }
        let (x, y) = (at(a, i), at(b, j));
        // '~' sorts before everything, even the end.
        if x == b'~' || y == b'~' {
            let o = (y == b'~').cmp(&(x == b'~'));
            if o != Ordering::Equal {
                return o;
            }
            i += 1;
            j += 1;
            continue;
        }
        if x == 0 || y == 0 {
            return x.cmp(&y);
        }
        for sep in [b'-', b'^'] {
            let (x, y) = (at(a, i), at(b, j));
            if x == sep || y == sep {
                let o = (x != sep).cmp(&(y != sep));
                if o != Ordering::Equal {
                    return o;
                }
                i += 1;
                j += 1;
            }
        }
        let (x, y) = (at(a, i), at(b, j));
        if x == b'.' || y == b'.' {
            let o = (x == b'.').cmp(&(y == b'.'));
            if o != Ordering::Equal {
                return o;
            }
            i += 1;
            j += 1;
        }
        let (x, y) = (at(a, i), at(b, j));
        if x.is_ascii_digit() || y.is_ascii_digit() {
            if !x.is_ascii_digit() {
                return Ordering::Less;
            }
            if !y.is_ascii_digit() {
                return Ordering::Greater;
            }
            while at(a, i) == b'0' {
                i += 1;
            }
            while at(b, j) == b'0' {
                j += 1;
            }
            let (si, sj) = (i, j);
            while at(a, i).is_ascii_digit() {
                i += 1;
            }
            while at(b, j).is_ascii_digit() {
                j += 1;
            }
            let o = (i - si)
                .cmp(&(j - sj))
                .then_with(|| a[si..i].cmp(&b[sj..j]));
            if o != Ordering::Equal {
                return o;
            }
        } else {
            let (si, sj) = (i, j);
            while at(a, i).is_ascii_alphabetic() {
                i += 1;
            }
            while at(b, j).is_ascii_alphabetic() {
                j += 1;
            }
            let o = a[si..i].cmp(&b[sj..j]);
            if o != Ordering::Equal {
                return o;
            }
            if i == si && j == sj {
                // A lone separator the steps above did not take.
                i += 1;
                j += 1;
            }
        }
    }
}

/// systemd-boot's `loader.conf`: the `default` pattern with its line.
#[derive(Debug, Clone, Default)]
pub struct LoaderConf {
    pub default: Option<(String, usize)>,
    pub timeout: Option<String>,
}

pub fn parse_loader_conf(src: &str) -> LoaderConf {
    let mut lc = LoaderConf::default();
    for (n, raw) in src.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('#') {
            continue;
        }
        let (k, v) = match line.split_once(|c: char| c.is_whitespace()) {
            Some((k, v)) => (k, v.trim()),
            None => (line, ""),
        };
        match k {
            "default" => lc.default = Some((v.to_owned(), n + 1)),
            "timeout" => lc.timeout = Some(v.to_owned()),
            _ => {}
        }
    }
    lc
}

/// The sorted entries of a directory's `*.conf` files, read by `read`
/// (system path -> bytes). Returns entries and problems.
/// Unsorted: the caller sorts in its boot loader's order.
pub fn read_dir(
    dir_sys: &Path,
    names: Vec<String>,
    read: &dyn Fn(&Path) -> Result<Vec<u8>, String>,
) -> (Vec<BlsEntry>, Vec<Problem>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for name in names {
        let file: PathBuf = dir_sys.join(&name);
        match read(&file) {
            Ok(bytes) => {
                let (text, bad) = crate::config_text::decode(&bytes);
                if let Some(line) = bad {
                    problems.push(Problem {
                        file: file.clone(),
                        line,
                        message: "binary data (not text): the file is damaged".into(),
                        minor: false,
                    });
                }
                let (e, p) = parse_entry(&text, &file, &name);
                problems.extend(p);
                out.push(e);
            }
            Err(msg) => problems.push(Problem {
                file,
                line: 0,
                message: msg,
                minor: false,
            }),
        }
    }
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(name: &str, src: &str) -> BlsEntry {
        parse_entry(src, &Path::new("/boot/loader/entries").join(name), name).0
    }

    #[test]
    fn parses_fedora_entry() {
        let (b, p) = parse_entry(
            "title Fedora Linux (6.5.6-300.fc39.x86_64) 39\nversion 6.5.6-300.fc39.x86_64\nlinux /vmlinuz-6.5.6-300.fc39.x86_64\ninitrd /initramfs-6.5.6-300.fc39.x86_64.img\noptions $kernelopts\ngrub_users $grub_users\n",
            Path::new("/boot/loader/entries/m-6.5.6-300.fc39.x86_64.conf"),
            "m-6.5.6-300.fc39.x86_64.conf",
        );
        assert!(p.is_empty());
        assert_eq!(b.entry.id.as_deref(), Some("m-6.5.6-300.fc39.x86_64"));
        assert_eq!(b.entry.options.as_deref(), Some("$kernelopts"));
        assert_eq!(
            b.entry.initrds,
            vec!["/initramfs-6.5.6-300.fc39.x86_64.img"]
        );
    }

    #[test]
    fn sorts_newest_first_and_sort_key_first() {
        let mut v = vec![
            e("m-6.5.6.conf", "version 6.5.6\nlinux /a"),
            e("m-6.10.1.conf", "version 6.10.1\nlinux /b"),
            e("m-0-rescue.conf", "version 0-rescue\nlinux /c"),
        ];
        sort(&mut v);
        let ids: Vec<_> = v.iter().map(|b| b.file_name.as_str()).collect();
        assert_eq!(ids, ["m-6.10.1.conf", "m-6.5.6.conf", "m-0-rescue.conf"]);
        let mut v = vec![
            e("a.conf", "version 9\nlinux /a"),
            e("b.conf", "sort-key zzz\nversion 1\nlinux /b"),
        ];
        sort(&mut v);
        assert_eq!(v[0].file_name, "b.conf");
    }

    #[test]
    fn systemd_boot_order() {
        assert_eq!(strverscmp("arch.conf", "arch-lts.conf"), Ordering::Greater);
        assert_eq!(strverscmp("6.10.1", "6.5.6"), Ordering::Greater);
        assert_eq!(strverscmp("1.0~rc1", "1.0"), Ordering::Less);
        assert_eq!(strverscmp("123-9", "123.1-1"), Ordering::Less);
        assert_eq!(strverscmp("a", "a"), Ordering::Equal);
        let mut v = vec![
            e("arch-fallback.conf", "linux /a"),
            e("arch-lts.conf", "linux /b"),
            e("arch.conf", "linux /c"),
            e("m-6.5.conf", "sort-key arch\nversion 6.5\nlinux /d"),
            e("m-6.10.conf", "sort-key arch\nversion 6.10\nlinux /e"),
        ];
        sort_sd(&mut v);
        let ids: Vec<_> = v.iter().map(|b| b.file_name.as_str()).collect();
        assert_eq!(
            ids,
            [
                "m-6.10.conf",
                "m-6.5.conf",
                "arch.conf",
                "arch-lts.conf",
                "arch-fallback.conf"
            ]
        );
        // Random input: a total order, never a panic.
        let mut x: u32 = 1;
        let words: Vec<String> = (0..200)
            .map(|_| {
                (0..6)
                    .map(|_| {
                        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                        b"0123.-~^a_Z"[(x >> 16) as usize % 11] as char
                    })
                    .collect()
            })
            .collect();
        for a in &words {
            assert_eq!(strverscmp(a, a), Ordering::Equal, "{a}");
            for b in words.iter().take(20) {
                assert_eq!(strverscmp(a, b), strverscmp(b, a).reverse(), "{a} {b}");
            }
        }
    }

    #[test]
    fn boot_counting() {
        assert_eq!(boot_counter("arch+3-0.conf", ".conf"), Some(("arch", 3, 0)));
        assert_eq!(boot_counter("a+b+2.CONF", ".conf"), Some(("a+b", 2, 0)));
        assert_eq!(boot_counter("arch+0-3.conf", ".conf"), Some(("arch", 0, 3)));
        assert_eq!(boot_counter("arch+3-.conf", ".conf"), None);
        assert_eq!(boot_counter("arch+x.conf", ".conf"), None);
        assert_eq!(
            boot_counter("arch+3-1x.conf", ".conf"),
            None,
            "counter mid-name"
        );
        assert_eq!(boot_counter("arch.conf", ".conf"), None);
        let a = e("arch+3-0.conf", "linux /a");
        assert_eq!(a.entry.id.as_deref(), Some("arch"));
        assert_eq!(a.entry.tries, Some((3, 0)));
        // A bad entry (no tries left) sorts last; counted twins by tries.
        let mut v = vec![
            e("new+0-3.conf", "linux /n"),
            e("arch+1-2.conf", "linux /b"),
            e("arch+2-1.conf", "linux /a"),
            e("old.conf", "linux /o"),
        ];
        sort_sd(&mut v);
        let names: Vec<_> = v.iter().map(|b| b.file_name.as_str()).collect();
        assert_eq!(
            names,
            ["old.conf", "arch+2-1.conf", "arch+1-2.conf", "new+0-3.conf"]
        );
    }

    #[test]
    fn loader_conf_default() {
        let lc = parse_loader_conf("# c\ntimeout 3\ndefault arch-*.conf\n");
        assert_eq!(lc.default, Some(("arch-*.conf".into(), 3)));
    }

    #[test]
    fn random_bytes_never_panic() {
        let good =
            "title T\nversion 1.2\nlinux /vmlinuz-1.2\ninitrd /i\noptions root=/dev/sda1 $x\n";
        let mut x: u32 = 3;
        for n in 0..good.len() {
            let _ = parse_entry(&good[..n], Path::new("/e.conf"), "e.conf");
            let _ = parse_loader_conf(&good[..n]);
        }
        for _ in 0..300 {
            let bytes: Vec<u8> = (0..80)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (x >> 16) as u8
                })
                .collect();
            let (text, _) = crate::config_text::decode(&bytes);
            let _ = parse_entry(&text, Path::new("/e.conf"), "e.conf");
            let _ = parse_loader_conf(&text);
        }
    }

    #[test]
    fn junk_never_panics() {
        let _ = parse_entry("\u{0}\u{1}linux", Path::new("/x.conf"), "x.conf");
        let _ = parse_entry("", Path::new("/x.conf"), "x.conf");
    }
}
