//! The unit-file state, computed offline the way `systemctl is-enabled` and
//! `systemctl list-unit-files` compute it: a port of systemd 252's
//! src/shared/install.c (`unit_file_lookup_state`, `install_info_traverse`,
//! `unit_file_search`, `find_symlinks_in_scope`) and the system search path
//! of src/basic/path-lookup.c (`lookup_paths_init`).
//!
//! systemd reads every search directory again for every unit it looks at;
//! here each directory is read once into a [`Dir`] (its unit files, its
//! symlinks and their targets, its `.wants/`, `.requires/` and `.upholds/`
//! links) and every unit is answered from that index, with the parsed
//! `[Install]` sections cached by file. The rules, their order and their
//! corner cases (same-name links below the unit file, instances enabled from
//! vendor directories, aliases that must match the type of what they point
//! to) are systemd's; the comments name the function each step follows.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use common::root::normalize;
use common::Root;

use crate::name::{self, Kind};
use crate::parse::{self, Key};

/// Unit-file states, spelled as `systemctl` prints them.
pub const ENABLED: &str = "enabled";
pub const ENABLED_RUNTIME: &str = "enabled-runtime";
pub const LINKED: &str = "linked";
pub const LINKED_RUNTIME: &str = "linked-runtime";
pub const ALIAS: &str = "alias";
pub const MASKED: &str = "masked";
pub const MASKED_RUNTIME: &str = "masked-runtime";
pub const STATIC: &str = "static";
pub const DISABLED: &str = "disabled";
pub const INDIRECT: &str = "indirect";
pub const GENERATED: &str = "generated";
pub const TRANSIENT: &str = "transient";
pub const BAD: &str = "bad";

/// How many symlinks a lookup follows (UNIT_FILE_FOLLOW_SYMLINK_MAX).
const FOLLOW_MAX: usize = 64;

/// The system scope's search path and its special directories, as real
/// paths (under `--root DIR` with DIR in front, like systemd's).
#[derive(Debug)]
pub struct Paths {
    pub root: Root,
    /// Highest priority first, duplicates removed.
    pub search: Vec<PathBuf>,
    persistent_config: PathBuf,
    runtime_config: PathBuf,
    generator: PathBuf,
    generator_early: PathBuf,
    generator_late: PathBuf,
    transient: PathBuf,
    runtime_control: PathBuf,
}

/// The system search path of Debian's systemd (split /usr), highest
/// priority first: `systemd-analyze unit-paths` prints the same.
pub const SYSTEM_SEARCH_PATH: [&str; 13] = [
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/run/systemd/generator.early",
    "/etc/systemd/system",
    "/etc/systemd/system.attached",
    "/run/systemd/system",
    "/run/systemd/system.attached",
    "/run/systemd/generator",
    "/usr/local/lib/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/run/systemd/generator.late",
];

impl Paths {
    /// `lookup_paths_init()` for the system scope. `unit_path` is the value
    /// of `$SYSTEMD_UNIT_PATH` (colon-separated; a trailing colon appends
    /// the default path), which systemctl honours too.
    pub fn new(root: Root, unit_path: Option<&OsStr>) -> Self {
        let mut sys: Vec<PathBuf> = Vec::new();
        let mut append = true;
        if let Some(v) = unit_path {
            let b = v.as_bytes();
            append = b.ends_with(b":");
            let b = b.strip_suffix(b":").unwrap_or(b);
            for part in b.split(|&c| c == b':').filter(|p| !p.is_empty()) {
                sys.push(normalize(Path::new(OsStr::from_bytes(part))));
            }
        }
        if append {
            sys.extend(SYSTEM_SEARCH_PATH.iter().map(PathBuf::from));
        }
        let mut search = Vec::new();
        for p in sys {
            let real = root.path(&p);
            if !search.contains(&real) {
                search.push(real);
            }
        }
        let r = |p: &str| root.path(p);
        Paths {
            persistent_config: r("/etc/systemd/system"),
            runtime_config: r("/run/systemd/system"),
            generator: r("/run/systemd/generator"),
            generator_early: r("/run/systemd/generator.early"),
            generator_late: r("/run/systemd/generator.late"),
            transient: r("/run/systemd/transient"),
            runtime_control: r("/run/systemd/system.control"),
            search,
            root,
        }
    }

    /// `path_is_runtime()`: under /run, or one of the runtime directories
    /// (`check_parent`: the directory of `p`).
    fn is_runtime(&self, p: &Path, check_parent: bool) -> bool {
        if let Some(sys) = self.root.system_path(p) {
            if sys.starts_with("/run") {
                return true;
            }
        }
        let p = if check_parent {
            p.parent().unwrap_or(p)
        } else {
            p
        };
        [
            &self.runtime_config,
            &self.generator,
            &self.generator_early,
            &self.generator_late,
            &self.transient,
            &self.runtime_control,
        ]
        .iter()
        .any(|d| p == d.as_path())
    }

    fn is_generator(&self, p: &Path) -> bool {
        let parent = p.parent().unwrap_or(p);
        parent == self.generator || parent == self.generator_early || parent == self.generator_late
    }

    fn is_transient(&self, p: &Path) -> bool {
        p.parent() == Some(self.transient.as_path())
    }
}

/// What a directory entry is (`d_type`, with lstat where the file system
/// does not say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    Regular,
    Symlink,
    Directory,
    Other,
}

/// One `.wants/`, `.requires/` or `.upholds/` directory.
#[derive(Debug)]
pub struct DepDir {
    /// The unit whose directory it is (`multi-user.target`).
    pub owner: String,
    /// The names of the symlinks in it (valid UTF-8 only: no other name
    /// can be a unit name).
    pub links: Vec<String>,
}

/// One search directory, read once.
#[derive(Debug)]
pub struct Dir {
    pub real: PathBuf,
    /// Entries with valid unit names, in readdir order.
    pub units: Vec<(String, EntryType)>,
    unit_index: HashMap<String, EntryType>,
    /// Every symlink in the directory itself: its name -> the last
    /// component of its target, and that component -> the names.
    link_dest: HashMap<Vec<u8>, Vec<u8>>,
    links_to: HashMap<Vec<u8>, Vec<Vec<u8>>>,
    /// The links of the `.wants/` and `.requires/` directories by the names
    /// they enable: their own, and for an instance its template's.
    enables: HashMap<String, Vec<String>>,
    /// Its `.wants/`, `.requires/` and `.upholds/` directories.
    pub deps: Vec<DepDir>,
    /// Names ending in `.d` (drop-in directories, possibly).
    dot_d: HashSet<OsString>,
}

impl Dir {
    /// Read `real`; a directory that does not exist (or cannot be read:
    /// systemd skips those as well) is empty.
    pub fn read(real: PathBuf) -> Self {
        let mut d = Dir {
            real,
            units: Vec::new(),
            unit_index: HashMap::new(),
            link_dest: HashMap::new(),
            links_to: HashMap::new(),
            enables: HashMap::new(),
            deps: Vec::new(),
            dot_d: HashSet::new(),
        };
        let Ok(rd) = fs::read_dir(&d.real) else {
            return d;
        };
        for e in rd.flatten() {
            let n = e.file_name();
            let nb = n.as_bytes();
            if name::hidden_or_backup(nb) {
                continue;
            }
            let t = match e.file_type() {
                Ok(t) if t.is_file() => EntryType::Regular,
                Ok(t) if t.is_symlink() => EntryType::Symlink,
                Ok(t) if t.is_dir() => EntryType::Directory,
                _ => EntryType::Other,
            };
            if t == EntryType::Symlink {
                if let Ok(target) = fs::read_link(e.path()) {
                    let tb = target.as_os_str().as_bytes();
                    let base = tb.rsplit(|&c| c == b'/').next().unwrap_or(tb);
                    d.link_dest.insert(nb.to_vec(), base.to_vec());
                    d.links_to
                        .entry(base.to_vec())
                        .or_default()
                        .push(nb.to_vec());
                }
            }
            if nb.ends_with(b".d") {
                d.dot_d.insert(n.clone());
            }
            let Some(s) = n.to_str() else { continue };
            if name::is_valid(s) {
                d.units.push((s.to_owned(), t));
                d.unit_index.insert(s.to_owned(), t);
            } else if t == EntryType::Directory {
                // `strrchr(d_name, '.')`: the last suffix decides.
                let dot = s.rfind('.').unwrap_or(0);
                let (owner, suffix) = s.split_at(dot);
                // `.upholds/` links pull a unit in but do not count for
                // `is-enabled` (install.c only looks at `.wants` and
                // `.requires`).
                let counts = match suffix {
                    ".wants" | ".requires" => true,
                    ".upholds" => false,
                    _ => continue,
                };
                let links = read_links(&e.path());
                if counts {
                    for l in &links {
                        d.enables.entry(l.clone()).or_default().push(l.clone());
                        if let Some(t) = name::template_of(l).filter(|t| t != l) {
                            d.enables.entry(t).or_default().push(l.clone());
                        }
                    }
                }
                d.deps.push(DepDir {
                    owner: owner.to_owned(),
                    links,
                });
            }
        }
        d
    }
}

/// The names of the symlinks in a `.wants/`-style directory.
fn read_links(dir: &Path) -> Vec<String> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_symlink()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !name::hidden_or_backup(n.as_bytes()))
        .collect()
}

/// How a lookup failed; the first three make systemd try the next
/// directory, the rest make the unit `bad`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fail {
    NotFound,
    NotDir,
    Access,
    /// A symlink where a file was expected (handled by following it).
    Loop,
    Other(String),
}

impl Fail {
    fn of(e: &io::Error) -> Self {
        // Linux errno values: ENOENT, ENOTDIR, EACCES.
        match e.raw_os_error() {
            Some(2) => Fail::NotFound,
            Some(20) => Fail::NotDir,
            Some(13) => Fail::Access,
            _ => Fail::Other(common::error::describe_io(e)),
        }
    }

    /// Why a unit is `bad`, in a few words.
    pub fn reason(&self) -> String {
        match self {
            Fail::NotFound => "no such file or directory".to_owned(),
            Fail::NotDir => "not a directory".to_owned(),
            Fail::Access => "permission denied".to_owned(),
            Fail::Loop => "too many levels of symbolic links".to_owned(),
            Fail::Other(s) => s.clone(),
        }
    }
}

type R<T> = Result<T, Fail>;

/// The `[Install]` assignments of one file, in order.
type Assignments = Vec<(Key, String)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Invalid,
    Regular,
    Linked,
    Alias,
    Masked,
}

/// `InstallInfo`: what is known of one name while it is looked up.
#[derive(Debug, Clone)]
pub struct Info {
    pub name: String,
    /// Real path of the file found (or of the mask).
    pub path: Option<PathBuf>,
    pub mode: Mode,
    pub aliases: Vec<String>,
    pub wanted_by: Vec<String>,
    pub required_by: Vec<String>,
    pub also: Vec<String>,
    pub default_instance: Option<String>,
    symlink_target: Option<PathBuf>,
    /// Real paths of the drop-ins read, in order.
    pub drop_ins: Vec<PathBuf>,
}

impl Info {
    fn new(name: &str) -> Self {
        Info {
            name: name.to_owned(),
            path: None,
            mode: Mode::Invalid,
            aliases: Vec::new(),
            wanted_by: Vec::new(),
            required_by: Vec::new(),
            also: Vec::new(),
            default_instance: None,
            symlink_target: None,
            drop_ins: Vec::new(),
        }
    }

    fn has_rules(&self) -> bool {
        !self.aliases.is_empty() || !self.wanted_by.is_empty() || !self.required_by.is_empty()
    }

    /// Apply `[Install]` assignments as the config_parse_* handlers do.
    fn apply(&mut self, assignments: &[(Key, String)]) {
        let ty = name::unit_type(&self.name).unwrap_or("");
        for (k, v) in assignments {
            match k {
                Key::Alias if !name::may_alias(ty) => {}
                Key::Alias => strv(&mut self.aliases, v),
                Key::WantedBy => strv(&mut self.wanted_by, v),
                Key::RequiredBy => strv(&mut self.required_by, v),
                Key::Also => self.also.extend(parse::words(v)),
                Key::DefaultInstance => {
                    // Only a template has one; an instance ignores it.
                    if name::is_template(&self.name) {
                        self.default_instance = if v.is_empty() {
                            None
                        } else if name::with_instance(&self.name, v).is_some() {
                            Some(v.clone())
                        } else {
                            self.default_instance.take()
                        };
                    }
                }
            }
        }
    }

    /// `is_symlink_with_known_name()`.
    fn known_name(&self, n: &[u8]) -> bool {
        if n == self.name.as_bytes() || self.aliases.iter().any(|a| a.as_bytes() == n) {
            return true;
        }
        if let Some(di) = &self.default_instance {
            if let Some(s) = name::with_instance(&self.name, di) {
                return s.as_bytes() == n;
            }
        }
        false
    }
}

/// `config_parse_strv()`: an empty value resets the list.
fn strv(list: &mut Vec<String>, v: &str) {
    if v.is_empty() {
        list.clear();
    } else {
        list.extend(parse::words(v));
    }
}

/// The result of looking up one unit name.
#[derive(Debug)]
pub struct Lookup {
    pub state: &'static str,
    /// The unit reached, `None` for `bad`.
    pub info: Option<Info>,
    /// Why the unit is `bad`.
    pub fail: Option<Fail>,
}

/// The search path, read once, and the parsed files.
pub struct Index {
    pub paths: Paths,
    pub dirs: Vec<Dir>,
    parsed: RefCell<HashMap<PathBuf, R<Assignments>>>,
}

impl Index {
    pub fn new(paths: Paths) -> Self {
        let dirs = paths.search.iter().cloned().map(Dir::read).collect();
        Index {
            paths,
            dirs,
            parsed: RefCell::new(HashMap::new()),
        }
    }

    /// Every unit file `systemctl list-unit-files` lists
    /// (`unit_file_get_list`): the first regular file or symlink of each
    /// valid name along the search path, with the real path of that entry.
    pub fn unit_files(&self) -> Vec<(String, PathBuf)> {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut out = Vec::new();
        for d in &self.dirs {
            for (n, t) in &d.units {
                if seen.contains(n.as_str()) {
                    continue;
                }
                if !matches!(t, EntryType::Regular | EntryType::Symlink) {
                    continue;
                }
                seen.insert(n);
                out.push((n.clone(), d.real.join(n)));
            }
        }
        out
    }

    /// `unit_file_lookup_state()`.
    pub fn lookup_state(&self, name: &str) -> Lookup {
        if !name::is_valid(name) {
            return Lookup {
                state: BAD,
                info: None,
                fail: Some(Fail::Other("not a valid unit name".to_owned())),
            };
        }
        let info = match self.traverse(Info::new(name)) {
            Ok(i) => i,
            Err(f) => {
                return Lookup {
                    state: BAD,
                    info: None,
                    fail: Some(f),
                }
            }
        };
        let path = info.path.clone().unwrap_or_default();
        let state = match info.mode {
            Mode::Masked => {
                if self.paths.is_runtime(&path, true) {
                    MASKED_RUNTIME
                } else {
                    MASKED
                }
            }
            _ => {
                let base = path.file_name().map(OsStr::as_bytes).unwrap_or_default();
                if base != name.as_bytes() && !name::is_instance(&info.name) {
                    ALIAS
                } else if self.paths.is_generator(&path) {
                    GENERATED
                } else if self.paths.is_transient(&path) {
                    TRANSIENT
                } else if let Some(s) = self.find_symlinks_in_scope(&info, true) {
                    s
                } else if self.find_symlinks_in_scope(&info, false).is_some() {
                    INDIRECT
                } else if info.has_rules() {
                    DISABLED
                } else if !info.also.is_empty() {
                    INDIRECT
                } else {
                    STATIC
                }
            }
        };
        Lookup {
            state,
            info: Some(info),
            fail: None,
        }
    }

    /// `install_info_traverse()`: find the file of `start` and follow
    /// aliases and links to the unit they stand for.
    fn traverse(&self, mut i: Info) -> R<Info> {
        self.search(&mut i)?;
        let mut k = 0;
        while matches!(i.mode, Mode::Alias | Mode::Linked) {
            k += 1;
            if k > FOLLOW_MAX {
                return Err(Fail::Other("too many levels of aliases".to_owned()));
            }
            let linked = i.mode == Mode::Linked;
            match self.follow(&mut i, linked) {
                Err(Fail::Other(ref s)) if s == EXDEV => {
                    let target = i.symlink_target.clone().unwrap_or_default();
                    let bn = target
                        .file_name()
                        .and_then(OsStr::to_str)
                        .unwrap_or_default()
                        .to_owned();
                    let mut next = bn.clone();
                    if name::is_instance(&i.name) && name::is_template(&bn) {
                        let inst = name::instance_of(&i.name).unwrap_or_default();
                        let filled = name::with_instance(&bn, inst).ok_or_else(|| {
                            Fail::Other(format!("cannot fill instance into {bn}"))
                        })?;
                        if filled == i.name {
                            // The instance filled in gives the same name:
                            // honour the link as it is.
                            self.follow(&mut i, true)?;
                            continue;
                        }
                        next = filled;
                    }
                    if !name::is_valid(&next) {
                        return Err(Fail::Other(format!(
                            "alias target {next} is not a unit name"
                        )));
                    }
                    i = Info::new(&next);
                    match self.search(&mut i) {
                        Err(Fail::NotFound) => {
                            return Err(Fail::Other(format!(
                                "alias target {next} not found (link is dangling)"
                            )))
                        }
                        r => r?,
                    }
                }
                r => r?,
            }
        }
        Ok(i)
    }

    /// `install_info_follow()`.
    fn follow(&self, i: &mut Info, ignore_different_name: bool) -> R<()> {
        let Some(target) = i.symlink_target.clone() else {
            return Err(Fail::Other("symlink without target".to_owned()));
        };
        if !ignore_different_name
            && target.file_name().map(OsStr::as_bytes) != Some(i.name.as_bytes())
        {
            return Err(Fail::Other(EXDEV.to_owned()));
        }
        i.path = Some(target.clone());
        i.mode = Mode::Invalid;
        i.symlink_target = None;
        self.load_or_readlink(i, &target)
    }

    /// `unit_file_search()`: the first file of the name (else of its
    /// template) along the search path, then its drop-ins.
    fn search(&self, i: &mut Info) -> R<()> {
        if i.mode != Mode::Invalid {
            return Ok(());
        }
        let template = if name::is_instance(&i.name) {
            name::template_of(&i.name)
        } else {
            None
        };
        let mut found = false;
        for n in std::iter::once(i.name.clone()).chain(template.clone()) {
            for d in &self.dirs {
                if !d.unit_index.contains_key(&n) {
                    continue;
                }
                let p = d.real.join(&n);
                match self.load_or_readlink(i, &p) {
                    Ok(()) => {
                        i.path = Some(p);
                        found = true;
                        break;
                    }
                    Err(Fail::NotFound | Fail::NotDir | Fail::Access) => {}
                    Err(e) => return Err(e),
                }
            }
            if found {
                break;
            }
        }
        if !found {
            return Err(Fail::NotFound);
        }
        if i.mode == Mode::Masked {
            return Ok(());
        }
        // Drop-ins: NAME.d in every search directory, then TEMPLATE.d;
        // one file per name, the first directory wins, read in name order
        // (conf_files_list_strv).
        let mut files: Vec<(OsString, PathBuf)> = Vec::new();
        let mut seen: HashSet<OsString> = HashSet::new();
        for n in std::iter::once(&i.name).chain(template.as_ref()) {
            let dname = OsString::from(format!("{n}.d"));
            for d in &self.dirs {
                if !d.dot_d.contains(&dname) {
                    continue;
                }
                let dir = d.real.join(&dname);
                let Ok(rd) = fs::read_dir(&dir) else { continue };
                for e in rd.flatten() {
                    let f = e.file_name();
                    if !f.as_bytes().ends_with(b".conf") || name::hidden_or_backup(f.as_bytes()) {
                        continue;
                    }
                    if seen.insert(f.clone()) {
                        files.push((f, dir.join(e.file_name())));
                    }
                }
            }
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, p) in files {
            self.load_dropin(i, &p)?;
            i.drop_ins.push(p);
        }
        Ok(())
    }

    /// `unit_file_load_or_readlink()` for a unit file.
    fn load_or_readlink(&self, i: &mut Info, path: &Path) -> R<()> {
        match self.load(i, path) {
            Err(Fail::Loop) => {}
            r => return r,
        }
        let (target, outside) = self.resolve_symlink(path)?;
        let masked = self.paths.root.system_path(&target).as_deref()
            == Some(Path::new("/dev/null"))
            || (self.paths.root.is_live()
                && fs::metadata(&target).is_ok_and(|m| null_or_empty(&m)));
        i.mode = if masked {
            Mode::Masked
        } else if outside {
            Mode::Linked
        } else {
            Mode::Alias
        };
        i.symlink_target = Some(target);
        Ok(())
    }

    /// `unit_file_load()` with SEARCH_LOAD, for the main file.
    fn load(&self, i: &mut Info, path: &Path) -> R<()> {
        let ty = name::unit_type(&i.name).ok_or(Fail::Other("not a unit name".to_owned()))?;
        if name::classify(&i.name) != Some(Kind::Plain) && !name::may_template(ty) {
            return Err(Fail::Other(format!("unit type {ty} cannot be templated")));
        }
        let m = fs::symlink_metadata(path).map_err(|e| Fail::of(&e))?;
        if m.file_type().is_symlink() {
            return Err(Fail::Loop);
        }
        if null_or_empty(&m) {
            i.mode = Mode::Masked;
            return Ok(());
        }
        if m.is_dir() {
            return Err(Fail::Other("is a directory".to_owned()));
        }
        if !m.is_file() {
            return Err(Fail::Other("not a regular file".to_owned()));
        }
        let a = self.parsed(path)?;
        i.apply(&a);
        i.mode = Mode::Regular;
        Ok(())
    }

    /// A drop-in: followed inside the root; empty or /dev/null is ignored.
    fn load_dropin(&self, i: &mut Info, path: &Path) -> R<()> {
        let root = &self.paths.root;
        let real = match root.system_path(path).and_then(|s| root.resolve(&s)) {
            Some(sys) => root.path(sys),
            None => return Err(Fail::Other("too many levels of symbolic links".to_owned())),
        };
        let m = fs::metadata(&real).map_err(|e| Fail::of(&e))?;
        if null_or_empty(&m) {
            return Ok(());
        }
        if !m.is_file() {
            return Err(Fail::Other("drop-in is not a regular file".to_owned()));
        }
        let a = self.parsed(&real)?;
        i.apply(&a);
        Ok(())
    }

    fn parsed(&self, path: &Path) -> R<Assignments> {
        if let Some(r) = self.parsed.borrow().get(path) {
            return r.clone();
        }
        let r = match fs::read(path) {
            Ok(text) => parse::install_section(&text).map_err(Fail::Other),
            Err(e) => Err(Fail::of(&e)),
        };
        self.parsed
            .borrow_mut()
            .insert(path.to_path_buf(), r.clone());
        r
    }

    /// `unit_file_resolve_symlink()` with resolve_destination_target: the
    /// real path the symlink `path` points to (`..` and symlinks of the
    /// directories on the way resolved inside the root, the last component
    /// not followed), and whether it lies outside the search path (a linked
    /// unit) rather than inside (an alias, whose name must fit).
    fn resolve_symlink(&self, path: &Path) -> R<(PathBuf, bool)> {
        let root = &self.paths.root;
        let target = fs::read_link(path).map_err(|e| Fail::of(&e))?;
        let sys_dir = path
            .parent()
            .and_then(|d| root.system_path(d))
            .unwrap_or_else(|| PathBuf::from("/"));
        let sys = if target.is_absolute() {
            target.clone()
        } else {
            sys_dir.join(&target)
        };
        let simplified = match (sys.parent(), sys.file_name()) {
            (Some(parent), Some(last)) => root
                .resolve(parent)
                .ok_or_else(|| Fail::Other("too many levels of symbolic links".to_owned()))?
                .join(last),
            _ => root
                .resolve(&sys)
                .ok_or_else(|| Fail::Other("too many levels of symbolic links".to_owned()))?,
        };
        let real = root.path(&simplified);
        let inside = self.paths.search.iter().any(|d| real.starts_with(d));
        if inside {
            let src = path.file_name().map(OsStr::as_bytes).unwrap_or_default();
            let dst = real.file_name().map(OsStr::as_bytes).unwrap_or_default();
            validate_alias(src, dst)?;
        }
        Ok((real, !inside))
    }

    /// `find_symlinks_in_scope()`: where links make `info` enabled.
    fn find_symlinks_in_scope(&self, info: &Info, match_name: bool) -> Option<&'static str> {
        let mut same_name_config = false;
        let mut same_name_runtime = false;
        let mut enabled_in_runtime = false;
        let mut enabled_at_all = false;
        let mut ignore_same_name = false;
        let path = info.path.clone().unwrap_or_default();
        for d in &self.dirs {
            let (found, same) = find_symlinks(d, info, match_name, ignore_same_name);
            if found {
                if d.real == self.paths.persistent_config {
                    return Some(ENABLED);
                }
                if self.paths.is_runtime(&d.real, false) {
                    enabled_in_runtime = true;
                } else {
                    enabled_at_all = true;
                }
            } else if same {
                if d.real == self.paths.persistent_config {
                    same_name_config = true;
                } else if self.paths.is_runtime(&d.real, false) {
                    same_name_runtime = true;
                }
            }
            if !ignore_same_name && path.starts_with(&d.real) {
                ignore_same_name = true;
            }
        }
        if enabled_in_runtime {
            Some(ENABLED_RUNTIME)
        } else if enabled_at_all && name::is_instance(&info.name) {
            Some(STATIC)
        } else if same_name_config {
            Some(LINKED)
        } else if same_name_runtime {
            Some(LINKED_RUNTIME)
        } else {
            None
        }
    }
}

/// The error text that makes [`Index::traverse`] look the target up by name.
const EXDEV: &str = "alias to another name";

/// `find_symlinks()` in one search directory: (found, same-name link seen).
/// systemd scans every link; the index gives the same answer from the
/// links whose name or target could match.
fn find_symlinks(d: &Dir, info: &Info, match_name: bool, ignore_same_name: bool) -> (bool, bool) {
    let n = info.name.as_str();
    // Links in .wants/ and .requires/: only their names count (the unit's
    // own name, or an instance of the template).
    for l in d.enables.get(n).into_iter().flatten() {
        if !match_name || info.known_name(l.as_bytes()) {
            return (true, false);
        }
    }
    // Symlinks in the directory itself: by name or by target's name.
    let nb = n.as_bytes();
    let mut same = false;
    if !ignore_same_name {
        if let Some(dest) = d.link_dest.get(nb) {
            if dest.as_slice() == nb {
                same = true;
            } else {
                // Found by its name, which is the unit's own.
                return (true, false);
            }
        }
    }
    for l in d.links_to.get(nb).into_iter().flatten() {
        if !ignore_same_name && l.as_slice() == nb {
            continue; // the same-name link above
        }
        if !match_name || info.known_name(l) {
            return (true, same);
        }
    }
    (false, same)
}

/// `null_or_empty()`: an empty regular file or a character device.
fn null_or_empty(m: &Metadata) -> bool {
    (m.is_file() && m.len() == 0) || m.file_type().is_char_device()
}

/// `unit_validate_alias_symlink_or_warn()`: may `src` be an alias of `dst`?
fn validate_alias(src: &[u8], dst: &[u8]) -> R<()> {
    let bad = |why: &str| {
        Err(Fail::Other(format!(
            "alias {} -> {}: {why}",
            String::from_utf8_lossy(src),
            String::from_utf8_lossy(dst)
        )))
    };
    let (Ok(s), Ok(t)) = (std::str::from_utf8(src), std::str::from_utf8(dst)) else {
        return bad("not a valid unit name");
    };
    let Some(sk) = name::classify(s) else {
        return bad("not a valid unit name");
    };
    let st = name::unit_type(s).unwrap_or_default();
    if !name::may_alias(st) {
        return bad("units of this type cannot have aliases");
    }
    if sk != Kind::Plain && !name::may_template(st) {
        return bad("units of this type cannot be templates");
    }
    if s == t {
        return bad("alias to itself");
    }
    let Some(tk) = name::classify(t) else {
        return bad("target is not a valid unit name");
    };
    if !(tk == sk || (sk == Kind::Instance && tk == Kind::Template)) {
        return bad("target name type does not match");
    }
    if tk == Kind::Instance && name::instance_of(s) != name::instance_of(t) {
        return bad("instance names differ");
    }
    if name::unit_type(t) != Some(st) {
        return bad("unit types differ");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_must_match_in_type_and_instance() {
        assert!(validate_alias(b"sshd.service", b"ssh.service").is_ok());
        assert!(validate_alias(b"a@x.service", b"b@.service").is_ok());
        assert!(validate_alias(b"a@x.service", b"b@y.service").is_err());
        assert!(validate_alias(b"sshd.service", b"ssh.socket").is_err());
        assert!(validate_alias(b"x.mount", b"y.mount").is_err());
        assert!(validate_alias(b"ssh.service", b"ssh.service").is_err());
    }

    #[test]
    fn debian_search_path_under_a_root() {
        let dir = std::env::temp_dir();
        let root = Root::new(Some(&dir)).expect("root");
        let p = Paths::new(root, None);
        assert_eq!(p.search.len(), SYSTEM_SEARCH_PATH.len());
        assert_eq!(p.search[4], dir.join("etc/systemd/system"));
        assert!(p.is_runtime(&dir.join("run/systemd/system/x.service"), true));
        assert!(!p.is_runtime(&dir.join("etc/systemd/system/x.service"), true));
        let p = Paths::new(Root::live(), Some(OsStr::new("/opt/units:")));
        assert_eq!(p.search[0], PathBuf::from("/opt/units"));
        assert_eq!(p.search.len(), SYSTEM_SEARCH_PATH.len() + 1);
        let p = Paths::new(Root::live(), Some(OsStr::new("/opt/units")));
        assert_eq!(p.search, [PathBuf::from("/opt/units")]);
    }
}
