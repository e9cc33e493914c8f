//! SysV init scripts: every executable in /etc/init.d, with the runlevels
//! whose /etc/rcN.d start it (an `S` link: `S01cron`, the name after the
//! two-digit sequence number, as sysv-rc and systemd-sysv-generator read
//! them).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;

use common::Root;

/// The runlevel directories, in order.
pub const RUNLEVELS: [&str; 8] = ["S", "0", "1", "2", "3", "4", "5", "6"];

/// Files in /etc/init.d that are not services.
const NOT_SCRIPTS: [&str; 5] = ["README", "skeleton", "rc", "rcS", "rc.local.d"];

/// One init script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub name: String,
    /// Runlevels it starts in, in [`RUNLEVELS`] order.
    pub runlevels: Vec<String>,
}

/// The init scripts under `root`, by name, and how many entries had names
/// that are not UTF-8 (left out: a script name is a record's identity).
pub fn scripts(root: &Root) -> (Vec<Script>, usize) {
    let mut skipped = 0;
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let Ok(rd) = fs::read_dir(root.path("/etc/init.d")) else {
        return (Vec::new(), 0);
    };
    for e in rd.flatten() {
        let Ok(n) = e.file_name().into_string() else {
            skipped += 1;
            continue;
        };
        if n.starts_with('.')
            || n.ends_with('~')
            || n.contains(".dpkg-")
            || NOT_SCRIPTS.contains(&n.as_str())
        {
            continue;
        }
        // Follow a symlinked script inside the root.
        let sys = std::path::Path::new("/etc/init.d").join(&n);
        let Some(real) = root.resolve(&sys).map(|p| root.path(p)) else {
            continue;
        };
        match fs::metadata(&real) {
            Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => {
                by_name.insert(n, Vec::new());
            }
            _ => {}
        }
    }
    for rl in RUNLEVELS {
        let Ok(rd) = fs::read_dir(root.path(format!("/etc/rc{rl}.d"))) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(n) = e.file_name().into_string() else {
                continue;
            };
            if let Some(script) = start_link(&n) {
                if let Some(levels) = by_name.get_mut(script) {
                    if !levels.iter().any(|l| l == rl) {
                        levels.push(rl.to_owned());
                    }
                }
            }
        }
    }
    let list = by_name
        .into_iter()
        .map(|(name, mut runlevels)| {
            runlevels.sort_by_key(|l| RUNLEVELS.iter().position(|x| x == l));
            Script { name, runlevels }
        })
        .collect();
    (list, skipped)
}

/// The script an `rcN.d` entry starts: `S01cron` -> `cron`.
fn start_link(n: &str) -> Option<&str> {
    let rest = n.strip_prefix('S')?;
    let b = rest.as_bytes();
    if b.len() > 2 && b[0].is_ascii_digit() && b[1].is_ascii_digit() {
        Some(&rest[2..])
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_links_name_their_script() {
        assert_eq!(start_link("S01cron"), Some("cron"));
        assert_eq!(start_link("K01cron"), None);
        assert_eq!(start_link("S1cron"), None);
        assert_eq!(start_link("README"), None);
    }
}
