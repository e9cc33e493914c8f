//! dpkg's database as dpkg itself reads it, for every tool that needs to
//! know what is installed: the status file with the pending updates of an
//! interrupted run applied on top (`lib/dpkg/dbmodify.c`, `cleanupdates`),
//! stanzas parsed as `lib/dpkg/parse.c` does (field names without regard to
//! case, continuation lines), the names of a package's files in the info
//! directory (`NAME.list`, or `NAME:ARCH.list` for `Multi-Arch: same`), and
//! version comparison exactly as `dpkg --compare-versions` does it
//! (`lib/dpkg/version.c`).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::{Error, Result, Root};

/// Where dpkg keeps its database, relative to the root.
pub const ADMINDIR: &str = "/var/lib/dpkg";

/// One stanza: its fields in file order, values with continuation lines
/// kept (`\n` between lines, the leading blank of each continuation line
/// removed, as `dpkg-query -f '${Field}'` shows them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stanza {
    /// Names with the range of their value in `data`: one buffer per
    /// stanza instead of one per field.
    fields: Vec<(Cow<'static, str>, usize, usize)>,
    data: Vec<u8>,
    /// The line of the file the stanza starts on (1-based), for messages.
    pub line: usize,
}

impl Stanza {
    /// The raw value of a field (name compared without regard to case).
    pub fn raw(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(k, _, _)| k.eq_ignore_ascii_case(name))
            .map(|&(_, a, b)| &self.data[a..b])
    }

    /// A field as text, trimmed; `None` when absent or not UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.raw(name)
            .and_then(|v| std::str::from_utf8(v).ok())
            .map(str::trim)
    }

    /// Every field, in file order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.fields
            .iter()
            .map(|(k, a, b)| (k.as_ref(), &self.data[*a..*b]))
    }

    /// The package name.
    pub fn package(&self) -> Option<&str> {
        self.get("Package")
    }

    /// The architecture (`amd64`, `all`); `None` for very old entries.
    pub fn arch(&self) -> Option<&str> {
        self.get("Architecture")
    }

    /// `Status: WANT FLAG STATE`, as three words.
    pub fn status(&self) -> Option<(&str, &str, &str)> {
        let mut w = self.get("Status")?.split_ascii_whitespace();
        match (w.next(), w.next(), w.next(), w.next()) {
            (Some(a), Some(b), Some(c), None) => Some((a, b, c)),
            _ => None,
        }
    }

    /// The state word of `Status:` (`installed`, `config-files`, ...).
    pub fn state(&self) -> Option<&str> {
        self.status().map(|(_, _, s)| s)
    }

    /// The source package: `Source:` without its `(version)`, or the
    /// package's own name when it has none.
    pub fn source(&self) -> Option<&str> {
        match self.get("Source") {
            Some(s) => s.split_ascii_whitespace().next(),
            None => self.package(),
        }
    }

    /// `Multi-Arch: same`: several architectures of the package may be
    /// installed, and its info files carry the architecture in their name.
    pub fn multi_arch_same(&self) -> bool {
        self.get("Multi-Arch")
            .is_some_and(|v| v.eq_ignore_ascii_case("same"))
    }

    /// The `Conffiles:` entries: path (raw bytes), md5 (or `newconffile`),
    /// and flags (`obsolete`, `remove-on-upgrade`).
    pub fn conffiles(&self) -> Vec<Conffile> {
        let Some(v) = self.raw("Conffiles") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for line in v.split(|&c| c == b'\n') {
            let mut w = line
                .split(|c| c.is_ascii_whitespace())
                .filter(|x| !x.is_empty());
            if let (Some(path), Some(hash)) = (w.next(), w.next()) {
                out.push(Conffile {
                    path: path.to_vec(),
                    hash: String::from_utf8_lossy(hash).into_owned(),
                    flags: w.map(|f| String::from_utf8_lossy(f).into_owned()).collect(),
                });
            }
        }
        out
    }

    /// The base name of the package's files in the info directory:
    /// `NAME` or, for `Multi-Arch: same`, `NAME:ARCH`.
    pub fn info_name(&self) -> Option<String> {
        let name = self.package()?;
        match (self.multi_arch_same(), self.arch()) {
            (true, Some(a)) => Some(format!("{name}:{a}")),
            _ => Some(name.to_owned()),
        }
    }
}

/// One entry of a package's `Conffiles:` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conffile {
    pub path: Vec<u8>,
    pub hash: String,
    pub flags: Vec<String>,
}

/// The field names of a status file, as dpkg writes them: kept once, not
/// once per package (a status file of 3,000 packages has some 40,000).
const KNOWN: [&str; 24] = [
    "Package",
    "Status",
    "Priority",
    "Section",
    "Installed-Size",
    "Maintainer",
    "Architecture",
    "Version",
    "Description",
    "Depends",
    "Homepage",
    "Multi-Arch",
    "Source",
    "Breaks",
    "Replaces",
    "Suggests",
    "Recommends",
    "Provides",
    "Conflicts",
    "Conffiles",
    "Pre-Depends",
    "Essential",
    "Enhances",
    "Built-Using",
];

/// The stanzas of a control-format file. A line without a colon outside a
/// continuation is malformed: the error names the file and the line.
pub fn parse(data: &[u8], file: &Path) -> Result<Vec<Stanza>> {
    let mut out = Vec::new();
    let mut cur = Stanza::default();
    for (i, line) in data.split(|&c| c == b'\n').enumerate() {
        let n = i + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            if !cur.fields.is_empty() {
                let hint = cur.data.len();
                out.push(std::mem::take(&mut cur));
                cur.data.reserve(hint);
            }
            continue;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            let Some((_, _, end)) = cur.fields.last_mut() else {
                return Err(Error::new(format!(
                    "{}:{n}: continuation line before any field; is this a dpkg status file?",
                    file.display()
                )));
            };
            // The last field's value ends the buffer: extend it.
            cur.data.push(b'\n');
            cur.data.extend_from_slice(&line[1..]);
            *end = cur.data.len();
            continue;
        }
        if line[0] == b'#' && cur.fields.is_empty() {
            continue; // a comment between stanzas (deb822)
        }
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            return Err(Error::new(format!(
                "{}:{n}: line without a field name and a colon; is this a dpkg status file?",
                file.display()
            )));
        };
        let raw_name = &line[..colon];
        let name = match KNOWN.iter().find(|k| k.as_bytes() == raw_name) {
            Some(k) => Ok(Cow::Borrowed(*k)),
            None => std::str::from_utf8(raw_name).map(|s| Cow::Owned(s.to_owned())),
        };
        let name = match name {
            Ok(s) if !s.is_empty() && !s.contains(char::is_whitespace) => s,
            _ => {
                return Err(Error::new(format!(
                    "{}:{n}: bad field name; is this a dpkg status file?",
                    file.display()
                )))
            }
        };
        if cur.fields.is_empty() {
            cur.line = n;
        }
        let v = &line[colon + 1..];
        let v = match v.iter().position(|c| !c.is_ascii_whitespace()) {
            Some(s) => &v[s..],
            None => &[],
        };
        let end = v
            .iter()
            .rposition(|c| !c.is_ascii_whitespace())
            .map_or(0, |e| e + 1);
        let start = cur.data.len();
        cur.data.extend_from_slice(&v[..end]);
        cur.fields.push((name, start, cur.data.len()));
    }
    if !cur.fields.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

/// The installed-package database: every package entry of the status
/// file, keyed by (name, architecture), with `updates/` applied.
#[derive(Debug, Default)]
pub struct Database {
    pub packages: BTreeMap<(String, String), Stanza>,
    /// The admin directory it was read from.
    pub admindir: PathBuf,
}

impl Database {
    /// Read `ADMINDIR/status` and `ADMINDIR/updates/*` under `root`.
    /// `Ok(None)` when the system has no dpkg status file.
    pub fn read(root: &Root) -> Result<Option<Database>> {
        Self::read_admindir(&root.path(ADMINDIR))
    }

    /// Read a dpkg admin directory (dpkg's `--admindir`).
    pub fn read_admindir(admindir: &Path) -> Result<Option<Database>> {
        let status = admindir.join("status");
        let data = match std::fs::read(&status) {
            Ok(d) => d,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&status, &e)),
        };
        let mut db = Database {
            packages: BTreeMap::new(),
            admindir: admindir.to_owned(),
        };
        for st in parse(&data, &status)? {
            db.insert(st);
        }
        // Pending updates: files named by digits only, applied in name
        // order, each overriding the package's entry.
        let updates = admindir.join("updates");
        let mut names = Vec::new();
        match std::fs::read_dir(&updates) {
            Ok(rd) => {
                for e in rd {
                    let e = e.map_err(|e| Error::io(&updates, &e))?;
                    let name = e.file_name();
                    let b = name.as_encoded_bytes();
                    if !b.is_empty() && b.iter().all(u8::is_ascii_digit) {
                        names.push(name);
                    }
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&updates, &e)),
        }
        names.sort();
        for name in names {
            let p = updates.join(name);
            let data = std::fs::read(&p).map_err(|e| Error::io(&p, &e))?;
            for st in parse(&data, &p)? {
                db.insert(st);
            }
        }
        Ok(Some(db))
    }

    fn insert(&mut self, st: Stanza) {
        let Some(name) = st.package() else { return };
        let key = (name.to_owned(), st.arch().unwrap_or("").to_owned());
        self.packages.insert(key, st);
    }

    /// Entries dpkg lists (`dpkg-query -W`): all but `not-installed`.
    pub fn known(&self) -> impl Iterator<Item = &Stanza> {
        self.packages
            .values()
            .filter(|s| s.state().is_some_and(|st| st != "not-installed"))
    }

    /// The path of an info file of a package (`list`, `md5sums`,
    /// `conffiles`, ...).
    pub fn info_file(&self, st: &Stanza, ext: &str) -> Option<PathBuf> {
        Some(
            self.admindir
                .join("info")
                .join(format!("{}.{ext}", st.info_name()?)),
        )
    }
}

/// A dpkg version: `[epoch:]upstream[-revision]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version<'a> {
    pub epoch: u32,
    pub upstream: &'a str,
    pub revision: &'a str,
}

impl<'a> Version<'a> {
    /// Split a version as dpkg's `parseversion` does; `None` where dpkg
    /// refuses it (empty, bad epoch, empty upstream or revision).
    pub fn parse(s: &'a str) -> Option<Version<'a>> {
        let s = s.trim();
        if s.is_empty() || s.contains(char::is_whitespace) {
            return None;
        }
        let (epoch, rest) = match s.split_once(':') {
            Some((e, r)) => {
                if e.is_empty() || !e.bytes().all(|c| c.is_ascii_digit()) || r.is_empty() {
                    return None;
                }
                (e.parse::<u32>().ok().filter(|&n| n <= i32::MAX as u32)?, r)
            }
            None => (0, s),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((u, r)) if !r.is_empty() => (u, r),
            Some(_) => return None,
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return None;
        }
        Some(Version {
            epoch,
            upstream,
            revision,
        })
    }
}

impl Ord for Version<'_> {
    fn cmp(&self, o: &Self) -> Ordering {
        self.epoch
            .cmp(&o.epoch)
            .then_with(|| verrevcmp(self.upstream, o.upstream))
            .then_with(|| verrevcmp(self.revision, o.revision))
    }
}

impl PartialOrd for Version<'_> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Compare two version strings as `dpkg --compare-versions`; `None` when
/// either is not a valid version.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    Some(Version::parse(a)?.cmp(&Version::parse(b)?))
}

/// The weight of a character in dpkg's ordering: `~` before everything,
/// even the end of the string; letters before other characters.
fn order(c: u8) -> i32 {
    match c {
        b'0'..=b'9' | 0 => 0,
        b'a'..=b'z' | b'A'..=b'Z' => i32::from(c),
        b'~' => -1,
        _ => i32::from(c) + 256,
    }
}

/// `verrevcmp` of lib/dpkg/version.c, on byte strings.
fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let mut first_diff = 0i32;
        while (at(a, i) != 0 && !at(a, i).is_ascii_digit())
            || (at(b, j) != 0 && !at(b, j).is_ascii_digit())
        {
            let (ac, bc) = (order(at(a, i)), order(at(b, j)));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while at(a, i) == b'0' {
            i += 1;
        }
        while at(b, j) == b'0' {
            j += 1;
        }
        while at(a, i).is_ascii_digit() && at(b, j).is_ascii_digit() {
            if first_diff == 0 {
                first_diff = i32::from(at(a, i)) - i32::from(at(b, j));
            }
            i += 1;
            j += 1;
        }
        if at(a, i).is_ascii_digit() {
            return Ordering::Greater;
        }
        if at(b, j).is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != 0 {
            return first_diff.cmp(&0);
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn versions_order_as_dpkg_orders_them() {
        for (a, b, want) in [
            ("1:9.2p1-2+deb12u10", "1:9.2p1-2+deb12u9", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.0", "1.0-0", Equal),
            ("1:0.1", "2.0", Greater),
            ("1.0a", "1.0+", Less),
            ("1.0~~", "1.0~", Less),
            ("1.0~", "1.0", Less),
            ("0001.0", "1.0", Equal),
            ("1.0-1", "1.0-1", Equal),
            ("2.30-1", "2.4-1", Greater),
            ("1.2-3ubuntu1", "1.2-3", Greater),
        ] {
            assert_eq!(compare(a, b), Some(want), "{a} vs {b}");
            assert_eq!(compare(b, a), Some(want.reverse()), "{b} vs {a}");
        }
    }

    /// The same answers as dpkg itself, where dpkg is installed.
    #[test]
    fn dpkg_compare_versions_agrees() {
        let parts = [
            "0",
            "1",
            "1.0",
            "1.0~rc1",
            "1.0+b1",
            "1.0a",
            "1:1.0",
            "1.0-1",
            "1.0-1~bpo1",
            "10",
            "9.2p1-2+deb12u9",
            "9.2p1-2+deb12u10",
            "1.0~",
            "1.0.0",
            "a1",
            "1.0-0",
        ];
        for a in parts {
            for b in parts {
                let Ok(st) = std::process::Command::new("dpkg")
                    .args(["--compare-versions", a, "lt", b])
                    .status()
                else {
                    return; // no dpkg here
                };
                let lt = compare(a, b) == Some(Less);
                assert_eq!(st.success(), lt, "{a} lt {b}");
            }
        }
    }

    /// A generated table of hard versions (epochs, tildes before and after
    /// the end, letters against digits and other characters, leading
    /// zeros, empty and `-0` revisions, `+deb12u9` against `+deb12u10`),
    /// sorted by our ordering: dpkg must call every neighbour `lt` or
    /// `eq` as we do. A chain that dpkg agrees with link by link is dpkg's
    /// order, so every pair of the table is checked with one call per
    /// version.
    #[test]
    fn dpkg_agrees_on_a_generated_table_of_hard_pairs() {
        let epochs = ["", "1:", "2:"];
        let upstreams = [
            "1.0", "1.0~rc1", "1.0~", "1.0~~", "1.0a", "1.0+", "1.0.1", "1.00", "01.0", "1.0+b1",
            "9.2p1", "1.0a1", "1a",
        ];
        let revisions = [
            "",
            "-0",
            "-1",
            "-1~bpo1",
            "-2+deb12u9",
            "-2+deb12u10",
            "-a",
            "-1.1",
            "-10",
        ];
        let mut all: Vec<String> = Vec::new();
        for e in epochs {
            for u in upstreams {
                for r in revisions {
                    all.push(format!("{e}{u}{r}"));
                }
            }
        }
        all.sort_by(|a, b| compare(a, b).unwrap_or(Equal));
        for w in all.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            let ours = compare(a, b);
            let op = if ours == Some(Equal) { "eq" } else { "lt" };
            assert!(ours.is_some(), "{a} vs {b}: not a version to us");
            let Ok(st) = std::process::Command::new("dpkg")
                .args(["--compare-versions", a, op, b])
                .status()
            else {
                eprintln!("SKIP: dpkg is not installed");
                return;
            };
            assert!(st.success(), "we say {a} {op} {b}; dpkg disagrees");
        }
        // And the pairs the issue names, both ways round.
        for (a, b) in [
            ("1:9.2p1-2+deb12u9", "1:9.2p1-2+deb12u10"),
            ("1.0~rc1", "1.0"),
            ("1.0", "1:0.1"),
            ("1.0a", "1.0+"),
        ] {
            assert_eq!(compare(a, b), Some(Less), "{a} < {b}");
            let Ok(st) = std::process::Command::new("dpkg")
                .args(["--compare-versions", a, "lt", b])
                .status()
            else {
                return;
            };
            assert!(st.success(), "dpkg: {a} lt {b}");
        }
    }

    #[test]
    fn invalid_versions_are_refused() {
        for v in ["", "a b", ":1", "1:", "x:1", "1.0-", "-1"] {
            assert_eq!(Version::parse(v), None, "{v:?}");
        }
        let v = Version::parse("3:1.2-3-4").unwrap_or_else(|| panic!("valid"));
        assert_eq!((v.epoch, v.upstream, v.revision), (3, "1.2-3", "4"));
    }

    #[test]
    fn stanzas_with_continuations_and_any_case() {
        let data = b"Package: a\nstatus: install ok installed\nArchitecture: amd64\nConffiles:\n /etc/a 0123 obsolete\n /etc/b newconffile\nDescription: x\n more\n\n\nPackage: b\nStatus: purge ok not-installed\n";
        let s = parse(data, Path::new("status")).unwrap_or_default();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].state(), Some("installed"));
        assert_eq!(s[0].line, 1);
        assert_eq!(s[1].line, 11);
        assert_eq!(s[0].get("description"), Some("x\nmore"));
        let c = s[0].conffiles();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].flags, vec!["obsolete".to_owned()]);
        assert_eq!(s[0].source(), Some("a"));
    }

    #[test]
    fn a_foreign_file_names_file_and_line() {
        let e = parse(b"Package: a\n\nthis is not dpkg\n", Path::new("/x/status"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("/x/status:3:"), "{e}");
    }

    #[test]
    fn updates_override_the_status_file() {
        let dir = std::env::temp_dir().join(format!("dpkg-db-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("updates")).unwrap_or_default();
        std::fs::write(
            dir.join("status"),
            "Package: a\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n",
        )
        .unwrap_or_default();
        std::fs::write(
            dir.join("updates/0001"),
            "Package: a\nStatus: install ok half-configured\nArchitecture: all\nVersion: 2\n",
        )
        .unwrap_or_default();
        std::fs::write(dir.join("updates/tmp.i"), "garbage").unwrap_or_default();
        let db = Database::read_admindir(&dir).ok().flatten();
        let _ = std::fs::remove_dir_all(&dir);
        let db = db.unwrap_or_default();
        let a = db.known().next().cloned().unwrap_or_default();
        assert_eq!(
            (a.get("Version"), a.state()),
            (Some("2"), Some("half-configured"))
        );
    }
}

/// Properties of the control-file parser and the version ordering: any
/// bytes give stanzas or one error naming the file and the line; stanzas
/// written as dpkg writes them (lib/dpkg/dump.c: `Name: value`, a
/// continuation line per further line of the value, a blank line between
/// packages) parse back to their fields; no string panics the version
/// code, and its ordering is one.
#[cfg(test)]
mod props {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    /// A field: a name (sometimes one of the known ones), the first line
    /// of its value, and its continuation lines.
    fn field() -> impl Strategy<Value = (String, String, Vec<String>)> {
        (
            prop_oneof![
                proptest::sample::select(KNOWN.to_vec()).prop_map(str::to_owned),
                "[A-Za-z][A-Za-z0-9_-]{0,15}",
            ],
            "([!-~]([ -~]{0,30}[!-~])?)?",
            vec("[ -~]{0,30}[!-~]", 0..3),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_bytes_give_stanzas_or_an_error_naming_file_and_line(
            data in prop_oneof![
                vec(any::<u8>(), 0..400),
                vec(proptest::sample::select(b"Package: a\n \t#:xyz-.".to_vec()), 0..400),
            ],
        ) {
            let lines = data.split(|&c| c == b'\n').count();
            match parse(&data, Path::new("/var/lib/dpkg/status")) {
                Ok(stanzas) => {
                    for s in &stanzas {
                        prop_assert!(s.line >= 1 && s.line <= lines);
                        prop_assert!(s.fields().count() > 0);
                    }
                }
                Err(e) => {
                    prop_assert_eq!(e.code(), 2);
                    let m = e.message();
                    let rest = m.strip_prefix("/var/lib/dpkg/status:").expect("file named");
                    let (n, what) = rest.split_once(':').expect("line named");
                    let n: usize = n.parse().expect("a line number");
                    prop_assert!(n >= 1 && n <= lines, "{}", m);
                    prop_assert!(what.contains("is this a dpkg status file?"), "{}", m);
                    prop_assert_eq!(m.lines().count(), 1);
                }
            }
        }

        #[test]
        fn stanzas_as_dpkg_writes_them_parse_back(
            stanzas in vec(vec(field(), 1..6), 0..5),
        ) {
            let mut text = String::new();
            let mut want = Vec::new();
            for (i, st) in stanzas.iter().enumerate() {
                if i > 0 {
                    text.push('\n');
                }
                let mut fields = Vec::new();
                for (name, first, more) in st {
                    text.push_str(&format!("{name}: {first}\n"));
                    let mut value = first.clone();
                    for m in more {
                        text.push_str(&format!(" {m}\n"));
                        value.push('\n');
                        value.push_str(m);
                    }
                    fields.push((name.clone(), value.into_bytes()));
                }
                want.push(fields);
            }
            let got = parse(text.as_bytes(), Path::new("status")).expect("dpkg's own format");
            let got: Vec<Vec<(String, Vec<u8>)>> = got
                .iter()
                .map(|s| s.fields().map(|(k, v)| (k.to_owned(), v.to_vec())).collect())
                .collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn versions_never_panic_and_order_totally(
            a in "([0-9]{1,3}:)?[0-9A-Za-z.+~:-]{0,12}(-[0-9A-Za-z.+~]{1,6})?",
            b in "([0-9]{1,3}:)?[0-9A-Za-z.+~:-]{0,12}(-[0-9A-Za-z.+~]{1,6})?",
            junk in any::<String>(),
        ) {
            let _ = Version::parse(&junk);
            let _ = compare(&junk, &a);
            if let (Some(x), Some(y)) = (Version::parse(&a), Version::parse(&b)) {
                prop_assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
                prop_assert_eq!(x.cmp(&x), Ordering::Equal);
                prop_assert_eq!(compare(&a, &b), Some(x.cmp(&y)));
            }
        }
    }
}
