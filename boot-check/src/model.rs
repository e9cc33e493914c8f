//! The model every parser fills in: boot entries as the boot loader will see
//! them, the menu tree the default is resolved against, and the problems met
//! while reading (file and line), so that checks never look at syntax.

use std::path::{Path, PathBuf};

/// The boot loader style a configuration belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loader {
    Grub2,
    GrubLegacy,
    Extlinux,
    SystemdBoot,
}

impl Loader {
    /// The name used in records (`loader` field).
    pub fn name(self) -> &'static str {
        match self {
            Loader::Grub2 => "grub2",
            Loader::GrubLegacy => "grub-legacy",
            Loader::Extlinux => "extlinux",
            Loader::SystemdBoot => "systemd-boot",
        }
    }
}

/// Which partition the absolute paths of a configuration are relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// The root file system (paths like `/boot/vmlinuz-...`).
    Root,
    /// A separate /boot partition (paths like `/vmlinuz-...`).
    Boot,
    /// Not known from the configuration: decided by /etc/fstab.
    Unknown,
}

/// One boot entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The title shown in the menu (BLS `title`, extlinux `MENU LABEL`).
    pub title: String,
    /// The id (`--id`, BLS file name without `.conf`, extlinux `LABEL`).
    pub id: Option<String>,
    /// Titles of the enclosing GRUB submenus, outermost first.
    pub submenus: Vec<String>,
    /// The kernel path as written, variables expanded, `(dev)` prefix removed.
    pub kernel: Option<String>,
    /// Initrd paths as written, in order.
    pub initrds: Vec<String>,
    /// The kernel command line after variable expansion.
    pub options: Option<String>,
    /// Variables the options use that nothing sets (`$kernelopts`).
    pub unset_vars: Vec<String>,
    /// BLS `version`.
    pub version: Option<String>,
    /// The entry hands over to another loader (chainloader, efi): no kernel.
    pub chain: bool,
    /// The entry starts no system at all: what happens instead (GRUB's
    /// `fwsetup`, `halt`, `reboot`).
    pub halts: Option<&'static str>,
    /// GRUB boots it without a password even when superusers are set
    /// (`--unrestricted`, BLS `grub_arg --unrestricted`).
    pub unrestricted: bool,
    /// The partition its paths are relative to.
    pub base: Base,
    /// systemd-boot's boot counter in the file name (`+LEFT-DONE`): tries
    /// left and tries done.
    pub tries: Option<(u64, u64)>,
    /// A unified kernel image (kernel, initrd and command line in one PE
    /// file, systemd-boot's type #2 entry).
    pub uki: bool,
    /// What is wrong with the kernel the entry names though the file is
    /// there (a unified kernel image without a kernel).
    pub kernel_problem_hint: Option<String>,
    /// The file system UUID GRUB searches for (`search --fs-uuid --set=root`).
    pub fs_uuid: Option<String>,
    /// Directory relative paths are taken from (extlinux), system path.
    pub rel_dir: Option<PathBuf>,
    /// The file (system path) and line the entry starts at.
    pub file: PathBuf,
    pub line: usize,
}

impl Entry {
    pub fn new(title: impl Into<String>, file: PathBuf, line: usize) -> Self {
        Entry {
            title: title.into(),
            id: None,
            submenus: Vec::new(),
            kernel: None,
            initrds: Vec::new(),
            options: None,
            unset_vars: Vec::new(),
            version: None,
            chain: false,
            halts: None,
            unrestricted: false,
            base: Base::Unknown,
            tries: None,
            uki: false,
            kernel_problem_hint: None,
            fs_uuid: None,
            rel_dir: None,
            file,
            line,
        }
    }

    /// `Submenu>Title` for people.
    pub fn display_title(&self) -> String {
        let mut parts = self.submenus.clone();
        parts.push(self.title.clone());
        parts.join(" > ")
    }
}

/// The menu as a tree: GRUB indexes count submenus like entries.
#[derive(Debug, Clone)]
pub enum Item {
    /// Index into [`Config::entries`].
    Entry(usize),
    Submenu {
        title: String,
        id: Option<String>,
        children: Vec<Item>,
    },
}

/// Something wrong in a file, at a line (1-based; 0 when the whole file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
    /// Something GRUB or syslinux skips (an unknown keyword) rather than
    /// something that loses entries: a warning, not a failure.
    pub minor: bool,
}

/// Where the default came from and what it says.
#[derive(Debug, Clone, Default)]
pub struct DefaultSpec {
    /// The spec as the boot loader sees it (`0`, a title, an id, `a>b`, a
    /// glob); `None` means "the first entry".
    pub spec: Option<String>,
    /// Where it was read (`/boot/grub/grubenv saved_entry`).
    pub source: String,
    /// The file and line it came from.
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
}

impl DefaultSpec {
    /// A default read from `file` (at `line`, where it has one), described
    /// by `source` in messages.
    pub fn read(spec: Option<String>, source: String, file: &Path, line: Option<usize>) -> Self {
        DefaultSpec {
            spec,
            source,
            file: Some(file.to_path_buf()),
            line,
        }
    }

    /// No default set in `file`: GRUB (2 and legacy) boots the first entry.
    pub fn first_entry(file: &Path) -> Self {
        DefaultSpec::read(None, "no default set: the first entry".into(), file, None)
    }
}

/// One boot loader configuration, read.
#[derive(Debug, Clone)]
pub struct Config {
    pub loader: Loader,
    /// The main configuration file (system path).
    pub file: PathBuf,
    pub entries: Vec<Entry>,
    pub menu: Vec<Item>,
    pub default: DefaultSpec,
    /// The one-time entry (`next_entry` of grubenv after `grub-reboot`).
    pub next: Option<DefaultSpec>,
    /// GRUB legacy `fallback=N`.
    pub fallback: Option<DefaultSpec>,
    /// GRUB_DEFAULT of /etc/default/grub (with its line) when grub.cfg does
    /// not say the same: grub.cfg was not regenerated after it changed.
    pub stale_default: Option<(String, usize)>,
    /// The boot loader picks the default at boot from state that cannot be
    /// read here (systemd-boot's `@saved` under --root, a unified kernel
    /// image): why. The entry checked as the default is then a guess.
    pub default_unknown: Option<String>,
    /// Files a GRUB stub hands over to with a top-level `configfile`
    /// (the ESP's grub.cfg on RHEL 9 and Debian), device prefix removed.
    pub loads: Vec<String>,
    /// grub.cfg sets `superusers`: every entry without `--unrestricted`
    /// asks for a password before it boots.
    pub superusers: bool,
    /// Files read besides the main one (BLS entries, grubenv).
    pub files: Vec<PathBuf>,
    /// Files grub.cfg runs with `source` or `configfile` (custom.cfg).
    pub sourced: Vec<PathBuf>,
    /// The boot loader tells the initrd which partition it booted from
    /// (the EFI variable LoaderDevicePartUUID): systemd-boot, GRUB with
    /// `insmod bli`.
    pub tells_boot_partition: bool,
    pub problems: Vec<Problem>,
}

impl Config {
    pub fn new(loader: Loader, file: PathBuf) -> Self {
        Config {
            loader,
            file,
            entries: Vec::new(),
            menu: Vec::new(),
            default: DefaultSpec::default(),
            next: None,
            fallback: None,
            stale_default: None,
            default_unknown: None,
            loads: Vec::new(),
            superusers: false,
            files: Vec::new(),
            sourced: Vec::new(),
            tells_boot_partition: loader == Loader::SystemdBoot,
            problems: Vec::new(),
        }
    }

    /// Add an entry at the top level of the menu.
    pub fn push_top(&mut self, e: Entry) {
        self.entries.push(e);
        self.menu.push(Item::Entry(self.entries.len() - 1));
    }

    /// The entry a spec names, GRUB style: `>`-separated path whose parts are
    /// an index, a title or an id at their level. A glob (`*`, `?`) matches
    /// ids (systemd-boot `default`). `None` spec is the first entry.
    pub fn resolve(&self, spec: Option<&str>) -> Option<usize> {
        let spec = match spec.map(str::trim) {
            None | Some("") => return first_entry(&self.menu),
            Some(s) => s,
        };
        if self.loader == Loader::Extlinux {
            // syslinux (find_label) and U-Boot's extlinux find the DEFAULT
            // label by its name, compared exactly: `DEFAULT 1` names the
            // label "1", never the second label.
            return self
                .entries
                .iter()
                .position(|e| e.id.as_deref() == Some(spec));
        }
        if let Some(i) = self.resolve_path(spec) {
            return Some(i);
        }
        // A title may itself contain '>': GRUB tries it whole, at the top
        // level only (an entry inside a submenu needs its path).
        if let Some(Item::Entry(i)) = pick(&self.menu, spec, &self.entries) {
            return Some(*i);
        }
        if self.loader == Loader::SystemdBoot {
            // systemd-boot matches ids with or without the `.conf` suffix,
            // case-folded (it lowercases ids and the pattern alike).
            let spec = spec.to_lowercase();
            return self.entries.iter().position(|e| {
                e.id.as_deref().is_some_and(|id| {
                    let id = id.to_lowercase();
                    let file = format!("{id}.conf");
                    glob_match(&spec, &id) || glob_match(&spec, &file)
                })
            });
        }
        None
    }

    /// The entry GRUB boots for a default `spec`. GRUB takes the first
    /// `>`-part at the top level (item 0 when it names nothing); a submenu
    /// is entered with the rest of the spec as its default, and an empty or
    /// unknown default there is again its first item. So `1` on Debian's
    /// "Advanced options" boots the submenu's first entry, and a path whose
    /// last part names a removed kernel boots the first entry of its
    /// submenu, not the top-level first entry.
    pub fn effective(&self, spec: Option<&str>) -> Option<usize> {
        if let Some(i) = self.resolve(spec) {
            return Some(i);
        }
        if self.loader == Loader::Extlinux {
            // No label of that name: syslinux would take the DEFAULT line
            // for a kernel to boot, not fall back to a menu position.
            return None;
        }
        let parts: Vec<&str> = match spec.map(str::trim) {
            Some(s) if !s.is_empty() => s.split('>').collect(),
            _ => Vec::new(),
        };
        let mut level = &self.menu;
        for k in 0..64 {
            let item = parts
                .get(k)
                .and_then(|p| pick(level, p, &self.entries))
                .or_else(|| level.first())?;
            match item {
                Item::Entry(i) => return Some(*i),
                Item::Submenu { children, .. } => level = children,
            }
        }
        None
    }

    /// The title of the submenu `spec` names exactly (`1`, `Advanced
    /// options for Debian GNU/Linux`): GRUB boots its first entry.
    pub fn submenu_named(&self, spec: &str) -> Option<&str> {
        let mut level = &self.menu;
        let parts: Vec<&str> = spec.trim().split('>').collect();
        for (k, part) in parts.iter().enumerate() {
            match pick(level, part, &self.entries)? {
                Item::Submenu {
                    title, children, ..
                } => {
                    if k + 1 == parts.len() {
                        return Some(title);
                    }
                    level = children;
                }
                Item::Entry(_) => return None,
            }
        }
        None
    }

    /// An entry inside a submenu that `spec` names by its bare title or id
    /// (GRUB does not find it that way): its index.
    pub fn nested_match(&self, spec: &str) -> Option<usize> {
        self.entries.iter().position(|e| {
            !e.submenus.is_empty() && (e.title == spec || e.id.as_deref() == Some(spec))
        })
    }

    fn resolve_path(&self, spec: &str) -> Option<usize> {
        let mut level = &self.menu;
        let parts: Vec<&str> = spec.split('>').collect();
        for (k, part) in parts.iter().enumerate() {
            let last = k + 1 == parts.len();
            let item = pick(level, part, &self.entries)?;
            match item {
                Item::Entry(i) if last => return Some(*i),
                Item::Entry(_) => return None,
                Item::Submenu { children, .. } => {
                    if last {
                        return None;
                    }
                    level = children;
                }
            }
        }
        None
    }

    /// The GRUB spec that names entry `i` by ids where it has them
    /// (`submenu-id>entry-id`), else by titles.
    pub fn spec_of(&self, i: usize) -> Option<String> {
        fn walk(items: &[Item], i: usize, cfg: &Config, acc: &mut Vec<String>) -> bool {
            for item in items {
                match item {
                    Item::Entry(j) if *j == i => {
                        let e = &cfg.entries[*j];
                        acc.push(e.id.clone().unwrap_or_else(|| e.title.clone()));
                        return true;
                    }
                    Item::Entry(_) => {}
                    Item::Submenu {
                        title,
                        id,
                        children,
                    } => {
                        acc.push(id.clone().unwrap_or_else(|| title.clone()));
                        if walk(children, i, cfg, acc) {
                            return true;
                        }
                        acc.pop();
                    }
                }
            }
            false
        }
        let mut acc = Vec::new();
        walk(&self.menu, i, self, &mut acc).then(|| acc.join(">"))
    }
}

fn first_entry(items: &[Item]) -> Option<usize> {
    match items.first()? {
        Item::Entry(i) => Some(*i),
        // GRUB cannot boot a submenu: default 0 on a submenu boots nothing.
        Item::Submenu { .. } => None,
    }
}

fn pick<'a>(level: &'a [Item], part: &str, entries: &[Entry]) -> Option<&'a Item> {
    if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) {
        return part.parse::<usize>().ok().and_then(|n| level.get(n));
    }
    level.iter().find(|item| match item {
        Item::Entry(i) => {
            let e = &entries[*i];
            e.title == part || e.id.as_deref() == Some(part)
        }
        Item::Submenu { title, id, .. } => title == part || id.as_deref() == Some(part),
    })
}

/// systemd-boot's `efi_fnmatch` (its `default` and `bootctl set-default`
/// patterns): `*`, `?`, `[...]` sets with ranges (no negation), and `\`
/// escapes; matched without backtracking, as systemd-boot does.
pub fn glob_match(pat: &str, s: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let h: Vec<char> = s.chars().collect();
    let (mut p, mut h) = (&p[..], &h[..]);
    let mut first = true;
    loop {
        let (matched, tail) = fnmatch_prefix(p, h);
        if first {
            if !matched {
                return false;
            }
            if tail.is_none() {
                return true;
            }
            first = false;
        }
        match tail {
            Some((pt, ht)) => {
                p = &p[pt..];
                h = &h[ht..];
            }
            None => {
                if matched || h.is_empty() {
                    return matched;
                }
                h = &h[1..];
            }
        }
    }
}

/// `efi_fnmatch_prefix`: does the pattern up to its first `*` match the
/// start of `h` (to the end of both when there is no `*`)? With a `*`: the
/// offsets of the pattern after it and of the haystack there.
fn fnmatch_prefix(p: &[char], h: &[char]) -> (bool, Option<(usize, usize)>) {
    let (mut i, mut j) = (0usize, 0usize);
    loop {
        let hc = h.get(j).copied();
        match p.get(i).copied() {
            None => return (hc.is_none(), None),
            Some('\\') => {
                i += 1;
                match p.get(i) {
                    Some(&c) if Some(c) == hc => {}
                    _ => return (false, None),
                }
            }
            Some('?') => {
                if hc.is_none() {
                    return (false, None);
                }
            }
            Some('*') => {
                while p.get(i) == Some(&'*') {
                    i += 1;
                }
                return (true, Some((i, j)));
            }
            Some('[') => {
                let Some(hc) = hc else { return (false, None) };
                let (mut first, mut can_range, mut hit) = (true, true, false);
                loop {
                    i += 1;
                    let Some(&c) = p.get(i) else {
                        return (false, None);
                    };
                    if c == '\\' {
                        i += 1;
                        let Some(&e) = p.get(i) else {
                            return (false, None);
                        };
                        hit |= e == hc;
                        can_range = true;
                    } else if c == ']' && !first {
                        break;
                    } else if c == '-' && can_range && !first && p.get(i + 1) != Some(&']') {
                        let low = p[i - 1];
                        i += 1;
                        if p.get(i) == Some(&'\\') {
                            i += 1;
                        }
                        let Some(&high) = p.get(i) else {
                            return (false, None);
                        };
                        hit |= low <= hc && hc <= high;
                        can_range = false;
                    } else {
                        hit |= c == hc;
                        can_range = true;
                    }
                    first = false;
                }
                if !hit {
                    return (false, None);
                }
            }
            Some(c) => {
                if Some(c) != hc {
                    return (false, None);
                }
            }
        }
        i += 1;
        j += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        let f = PathBuf::from("/boot/grub/grub.cfg");
        let mut c = Config::new(Loader::Grub2, f.clone());
        let mut a = Entry::new("Debian", f.clone(), 1);
        a.id = Some("gnulinux-simple-U".into());
        c.push_top(a);
        let mut b = Entry::new("Debian, with Linux 6.1", f.clone(), 5);
        b.id = Some("gnulinux-6.1-advanced-U".into());
        b.submenus = vec!["Advanced options".into()];
        c.entries.push(b);
        c.menu.push(Item::Submenu {
            title: "Advanced options".into(),
            id: Some("gnulinux-advanced-U".into()),
            children: vec![Item::Entry(1)],
        });
        c
    }

    #[test]
    fn resolves_index_title_id_and_paths() {
        let c = cfg();
        assert_eq!(c.resolve(None), Some(0));
        assert_eq!(c.resolve(Some("0")), Some(0));
        assert_eq!(c.resolve(Some("1")), None, "a submenu is not bootable");
        assert_eq!(c.resolve(Some("1>0")), Some(1));
        assert_eq!(c.resolve(Some("Debian")), Some(0));
        assert_eq!(
            c.resolve(Some("gnulinux-advanced-U>gnulinux-6.1-advanced-U")),
            Some(1)
        );
        assert_eq!(
            c.resolve(Some("Advanced options>Debian, with Linux 6.1")),
            Some(1)
        );
        // GRUB does not find a submenu entry by its bare id.
        assert_eq!(c.resolve(Some("gnulinux-6.1-advanced-U")), None);
        assert_eq!(c.nested_match("gnulinux-6.1-advanced-U"), Some(1));
        assert_eq!(c.resolve(Some("nope")), None);
        // What GRUB boots: a submenu's first entry, item 0 for nothing.
        assert_eq!(c.effective(Some("1")), Some(1));
        assert_eq!(c.effective(Some("1>7")), Some(1));
        assert_eq!(c.effective(Some("gnulinux-advanced-U>gone")), Some(1));
        assert_eq!(c.effective(Some("nope")), Some(0));
        assert_eq!(c.effective(Some("9>0")), Some(0));
        assert_eq!(c.effective(None), Some(0));
        assert_eq!(c.submenu_named("1"), Some("Advanced options"));
        assert_eq!(c.submenu_named("1>0"), None);
        let mut sub_first = c.clone();
        sub_first.menu.reverse();
        assert_eq!(sub_first.effective(None), Some(1), "item 0 is a submenu");
        assert_eq!(sub_first.effective(Some("x>y")), Some(1));
        assert_eq!(
            c.spec_of(1).as_deref(),
            Some("gnulinux-advanced-U>gnulinux-6.1-advanced-U")
        );
    }

    #[test]
    fn systemd_boot_ids_with_and_without_suffix() {
        let f = PathBuf::from("/boot/loader/loader.conf");
        let mut c = Config::new(Loader::SystemdBoot, f.clone());
        let mut e = Entry::new("Arch", f.clone(), 1);
        e.id = Some("arch".into());
        c.push_top(e);
        assert_eq!(c.resolve(Some("arch.conf")), Some(0));
        assert_eq!(c.resolve(Some("arch")), Some(0));
        assert_eq!(c.resolve(Some("ar*")), Some(0));
        assert_eq!(c.resolve(Some("Arch.conf")), Some(0), "case-folded");
        assert_eq!(c.resolve(Some("other.conf")), None);
    }

    #[test]
    fn globs() {
        assert!(glob_match("fedora-*", "fedora-6.5.conf"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a*d", "abc"));
        assert!(glob_match("*", ""));
        assert!(glob_match("arch-[0-9]*.conf", "arch-6.6.conf"));
        assert!(!glob_match("arch-[0-9]*.conf", "arch-lts.conf"));
        assert!(glob_match("[]a]x", "]x"));
        assert!(glob_match("a\\*", "a*"));
        assert!(!glob_match("a\\*", "ab"));
        assert!(glob_match("*-lts*", "arch-lts.conf"));
        assert!(!glob_match("[", "["));
        assert!(glob_match("*a*b*", "xxaxxbxx"));
    }
}
