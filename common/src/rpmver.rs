//! rpm's version ordering, as `rpm` itself orders versions: `rpmvercmp`
//! of rpmio/rpmvercmp.c (segments of letters or digits, digits newer than
//! letters, `~` older than everything, even the end of the string, `^`
//! newer than the end but older than any other segment), and the
//! epoch-version-release comparison of lib/rpmvercmp.c's `rpmVersionCompare`
//! (epoch first, a missing epoch being 0, then version, then release).

use std::cmp::Ordering;

/// `rpmvercmp(a, b)`: compare two version (or release) strings.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    // rpm's risalnum/risdigit/risalpha: ASCII only, whatever the locale.
    let sep = |c: u8| c != 0 && !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    let (mut one, mut two) = (0usize, 0usize);
    while at(a, one) != 0 || at(b, two) != 0 {
        while sep(at(a, one)) {
            one += 1;
        }
        while sep(at(b, two)) {
            two += 1;
        }
        let (c1, c2) = (at(a, one), at(b, two));
        // The tilde sorts before everything else.
        if c1 == b'~' || c2 == b'~' {
            if c1 != b'~' {
                return Ordering::Greater;
            }
            if c2 != b'~' {
                return Ordering::Less;
            }
            one += 1;
            two += 1;
            continue;
        }
        // The caret: like the tilde, except that the end of a string (the
        // base version) sorts before it.
        if c1 == b'^' || c2 == b'^' {
            if c1 == 0 {
                return Ordering::Less;
            }
            if c2 == 0 {
                return Ordering::Greater;
            }
            if c1 != b'^' {
                return Ordering::Greater;
            }
            if c2 != b'^' {
                return Ordering::Less;
            }
            one += 1;
            two += 1;
            continue;
        }
        if c1 == 0 || c2 == 0 {
            break;
        }
        // The next segment: all digits or all letters, as the first
        // string's character says.
        let isnum = c1.is_ascii_digit();
        let class = |c: u8| {
            if isnum {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let (mut e1, mut e2) = (one, two);
        while class(at(a, e1)) {
            e1 += 1;
        }
        while class(at(b, e2)) {
            e2 += 1;
        }
        // Different types: a number is newer than letters.
        if two == e2 {
            return if isnum {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (mut s1, mut s2) = (&a[one..e1], &b[two..e2]);
        if isnum {
            while s1.first() == Some(&b'0') {
                s1 = &s1[1..];
            }
            while s2.first() == Some(&b'0') {
                s2 = &s2[1..];
            }
            match s1.len().cmp(&s2.len()) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        match s1.cmp(s2) {
            Ordering::Equal => {}
            o => return o,
        }
        one = e1;
        two = e2;
    }
    match (at(a, one) == 0, at(b, two) == 0) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

/// An rpm version as pkg-snap writes it: `[epoch:]version-release`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evr<'a> {
    pub epoch: u64,
    pub version: &'a str,
    pub release: &'a str,
}

impl<'a> Evr<'a> {
    /// Split `[epoch:]version[-release]`; `None` for an empty version or a
    /// non-numeric epoch.
    pub fn parse(s: &'a str) -> Option<Evr<'a>> {
        let (epoch, rest) = match s.split_once(':') {
            Some((e, r)) => (e.parse::<u64>().ok()?, r),
            None => (0, s),
        };
        let (version, release) = rest.rsplit_once('-').unwrap_or((rest, ""));
        if version.is_empty() {
            return None;
        }
        Some(Evr {
            epoch,
            version,
            release,
        })
    }
}

impl Ord for Evr<'_> {
    fn cmp(&self, o: &Self) -> Ordering {
        self.epoch
            .cmp(&o.epoch)
            .then_with(|| rpmvercmp(self.version, o.version))
            .then_with(|| rpmvercmp(self.release, o.release))
    }
}

impl PartialOrd for Evr<'_> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Compare two `[epoch:]version-release` strings as rpm does; `None` when
/// either is not one.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    Some(Evr::parse(a)?.cmp(&Evr::parse(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every active case of rpm's own tests/rpmvercmp.at, as
    /// `RPMVERCMP(a, b, result)`.
    const RPMVERCMP_AT: &str = "
RPMVERCMP(1.0, 1.0, 0)
RPMVERCMP(1.0, 2.0, -1)
RPMVERCMP(2.0, 1.0, 1)
RPMVERCMP(2.0.1, 2.0.1, 0)
RPMVERCMP(2.0, 2.0.1, -1)
RPMVERCMP(2.0.1, 2.0, 1)
RPMVERCMP(2.0.1a, 2.0.1a, 0)
RPMVERCMP(2.0.1a, 2.0.1, 1)
RPMVERCMP(2.0.1, 2.0.1a, -1)
RPMVERCMP(5.5p1, 5.5p1, 0)
RPMVERCMP(5.5p1, 5.5p2, -1)
RPMVERCMP(5.5p2, 5.5p1, 1)
RPMVERCMP(5.5p10, 5.5p10, 0)
RPMVERCMP(5.5p1, 5.5p10, -1)
RPMVERCMP(5.5p10, 5.5p1, 1)
RPMVERCMP(10xyz, 10.1xyz, -1)
RPMVERCMP(10.1xyz, 10xyz, 1)
RPMVERCMP(xyz10, xyz10, 0)
RPMVERCMP(xyz10, xyz10.1, -1)
RPMVERCMP(xyz10.1, xyz10, 1)
RPMVERCMP(xyz.4, xyz.4, 0)
RPMVERCMP(xyz.4, 8, -1)
RPMVERCMP(8, xyz.4, 1)
RPMVERCMP(xyz.4, 2, -1)
RPMVERCMP(2, xyz.4, 1)
RPMVERCMP(5.5p2, 5.6p1, -1)
RPMVERCMP(5.6p1, 5.5p2, 1)
RPMVERCMP(5.6p1, 6.5p1, -1)
RPMVERCMP(6.5p1, 5.6p1, 1)
RPMVERCMP(6.0.rc1, 6.0, 1)
RPMVERCMP(6.0, 6.0.rc1, -1)
RPMVERCMP(10b2, 10a1, 1)
RPMVERCMP(10a2, 10b2, -1)
RPMVERCMP(1.0aa, 1.0aa, 0)
RPMVERCMP(1.0a, 1.0aa, -1)
RPMVERCMP(1.0aa, 1.0a, 1)
RPMVERCMP(10.0001, 10.0001, 0)
RPMVERCMP(10.0001, 10.1, 0)
RPMVERCMP(10.1, 10.0001, 0)
RPMVERCMP(10.0001, 10.0039, -1)
RPMVERCMP(10.0039, 10.0001, 1)
RPMVERCMP(4.999.9, 5.0, -1)
RPMVERCMP(5.0, 4.999.9, 1)
RPMVERCMP(20101121, 20101121, 0)
RPMVERCMP(20101121, 20101122, -1)
RPMVERCMP(20101122, 20101121, 1)
RPMVERCMP(2_0, 2_0, 0)
RPMVERCMP(2.0, 2_0, 0)
RPMVERCMP(2_0, 2.0, 0)
RPMVERCMP(a, a, 0)
RPMVERCMP(a+, a+, 0)
RPMVERCMP(a+, a_, 0)
RPMVERCMP(a_, a+, 0)
RPMVERCMP(+a, +a, 0)
RPMVERCMP(+a, _a, 0)
RPMVERCMP(_a, +a, 0)
RPMVERCMP(+_, +_, 0)
RPMVERCMP(_+, +_, 0)
RPMVERCMP(_+, _+, 0)
RPMVERCMP(+, _, 0)
RPMVERCMP(_, +, 0)
RPMVERCMP(1.0~rc1, 1.0~rc1, 0)
RPMVERCMP(1.0~rc1, 1.0, -1)
RPMVERCMP(1.0, 1.0~rc1, 1)
RPMVERCMP(1.0~rc1, 1.0~rc2, -1)
RPMVERCMP(1.0~rc2, 1.0~rc1, 1)
RPMVERCMP(1.0~rc1~git123, 1.0~rc1~git123, 0)
RPMVERCMP(1.0~rc1~git123, 1.0~rc1, -1)
RPMVERCMP(1.0~rc1, 1.0~rc1~git123, 1)
RPMVERCMP(1.0^, 1.0^, 0)
RPMVERCMP(1.0^, 1.0, 1)
RPMVERCMP(1.0, 1.0^, -1)
RPMVERCMP(1.0^git1, 1.0^git1, 0)
RPMVERCMP(1.0^git1, 1.0, 1)
RPMVERCMP(1.0, 1.0^git1, -1)
RPMVERCMP(1.0^git1, 1.0^git2, -1)
RPMVERCMP(1.0^git2, 1.0^git1, 1)
RPMVERCMP(1.0^git1, 1.01, -1)
RPMVERCMP(1.01, 1.0^git1, 1)
RPMVERCMP(1.0^20160101, 1.0^20160101, 0)
RPMVERCMP(1.0^20160101, 1.0.1, -1)
RPMVERCMP(1.0.1, 1.0^20160101, 1)
RPMVERCMP(1.0^20160101^git1, 1.0^20160101^git1, 0)
RPMVERCMP(1.0^20160102, 1.0^20160101^git1, 1)
RPMVERCMP(1.0^20160101^git1, 1.0^20160102, -1)
RPMVERCMP(1.0~rc1^git1, 1.0~rc1^git1, 0)
RPMVERCMP(1.0~rc1^git1, 1.0~rc1, 1)
RPMVERCMP(1.0~rc1, 1.0~rc1^git1, -1)
RPMVERCMP(1.0^git1~pre, 1.0^git1~pre, 0)
RPMVERCMP(1.0^git1, 1.0^git1~pre, 1)
RPMVERCMP(1.0^git1~pre, 1.0^git1, -1)
";

    /// The cases of rpmvercmp.at, each as (a, b, expected).
    pub fn cases() -> Vec<(String, String, Ordering)> {
        RPMVERCMP_AT
            .lines()
            .filter_map(|l| l.strip_prefix("RPMVERCMP(")?.strip_suffix(')'))
            .map(|args| {
                let p: Vec<&str> = args.split(", ").collect();
                let want = match p[2] {
                    "-1" => Ordering::Less,
                    "0" => Ordering::Equal,
                    _ => Ordering::Greater,
                };
                (p[0].to_owned(), p[1].to_owned(), want)
            })
            .collect()
    }

    #[test]
    fn rpms_own_test_cases() {
        let cases = cases();
        assert_eq!(cases.len(), 91);
        for (a, b, want) in cases {
            assert_eq!(rpmvercmp(&a, &b), want, "rpmvercmp({a}, {b})");
        }
    }

    /// The same answers as rpm itself, where rpm is installed (CI installs
    /// it): its Lua `rpm.vercmp`, as tests/rpmvercmp.at asks it.
    #[test]
    fn rpm_agrees_where_installed() {
        let cases = cases();
        let mut script = String::new();
        for (a, b, _) in &cases {
            script.push_str(&format!("print(rpm.vercmp(\"{a}\", \"{b}\") .. \" \") "));
        }
        let Ok(out) = std::process::Command::new("rpm")
            .arg("--eval")
            .arg(format!("%{{lua: {script}}}"))
            .output()
        else {
            eprintln!("SKIP: rpm is not installed (apt-get install rpm)");
            return;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        let got: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(got.len(), cases.len(), "rpm printed: {text}");
        for ((a, b, _), g) in cases.iter().zip(got) {
            let ours = match rpmvercmp(a, b) {
                Ordering::Less => "-1",
                Ordering::Equal => "0",
                Ordering::Greater => "1",
            };
            assert_eq!(ours, g, "rpmvercmp({a}, {b})");
        }
    }

    #[test]
    fn epoch_version_release() {
        use Ordering::*;
        for (a, b, want) in [
            ("1:1.0-1", "2.0-1", Greater),
            ("1.0-1.el9", "1.0-1.el9_1", Less),
            ("2.34-60.el9", "2.34-100.el9", Less),
            ("0:1.0-1", "1.0-1", Equal),
            ("1.0~rc1-1", "1.0-1", Less),
        ] {
            assert_eq!(compare(a, b), Some(want), "{a} vs {b}");
        }
        assert_eq!(compare("x:1", "1"), None);
        assert_eq!(compare("", "1"), None);
    }
}
