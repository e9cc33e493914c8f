//! The ssh daemon's configuration. On a live system: `sshd -T`, which
//! resolves `Include` and fills in every default, so that an upgrade that
//! changes a default is seen; this is the one setting read by running the
//! program that owns it, and it needs root and the host keys. Under
//! `--root`: the global part of DIR/etc/ssh/sshd_config with its `Include`
//! files (globs relative to /etc/ssh, in name order, read in place), each
//! keyword's first value winning as sshd takes it, and the keywords that
//! sshd collects (`Port`, `ListenAddress`, `HostKey`, `AcceptEnv`,
//! `Subsystem`, `AllowUsers`, ...) collecting every value. Defaults are
//! not filled in there, and a `Match` block ends what is read of its
//! file: those need sshd itself.
//!
//! A keyword is named in lower case as `sshd -T` prints it; a keyword
//! `sshd -T` prints on several lines has them joined by newlines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use common::bytes::path_value;
use common::records::setting::{Detail, Setting};
use common::{Error, Result, Root};

use crate::firewall::find_program;

/// Keywords sshd collects from every line instead of keeping the first.
const COLLECTED: [&str; 11] = [
    "acceptenv",
    "allowgroups",
    "allowusers",
    "denygroups",
    "denyusers",
    "hostcertificate",
    "hostkey",
    "listenaddress",
    "port",
    "subsystem",
    "include",
];

fn detail(source: &str, file: Option<&Path>, line: Option<u64>) -> Detail {
    Detail::Sshd {
        source: source.to_owned(),
        configured_file: file.map(path_value),
        configured_line: line,
    }
}

/// The settings of this area.
pub fn settings(root: &Root, host: &Option<String>) -> Result<Vec<Setting>> {
    if root.is_live() {
        return Ok(live(host));
    }
    offline(root, host)
}

fn null(host: &Option<String>, source: &str, reason: String) -> Vec<Setting> {
    vec![Setting::new(
        host.clone(),
        Value::from("sshd"),
        Value::Null,
        detail(source, None, None),
    )
    .because(reason)]
}

fn live(host: &Option<String>) -> Vec<Setting> {
    let Some(sshd) = find_program("sshd") else {
        return null(host, "sshd -T", "sshd is not installed".into());
    };
    let out = match Command::new(&sshd)
        .arg("-T")
        .stdin(std::process::Stdio::null())
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            return null(
                host,
                "sshd -T",
                format!("{}: {}", sshd.display(), common::error::describe_io(&e)),
            )
        }
    };
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return null(
            host,
            "sshd -T",
            format!(
                "{} -T failed: {}",
                sshd.display(),
                err.lines().next().unwrap_or("no message").trim()
            ),
        );
    }
    parse_t(&String::from_utf8_lossy(&out.stdout))
        .into_iter()
        .map(|(k, v)| {
            Setting::new(
                host.clone(),
                Value::from(k),
                Value::from(v),
                detail("sshd -T", None, None),
            )
        })
        .collect()
}

/// `sshd -T` output: `keyword value...` lines; a keyword on several lines
/// keeps them all, in order, joined by newlines.
pub fn parse_t(text: &str) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        let (k, v) = line.split_once(' ').unwrap_or((line, ""));
        let e = m.entry(k.to_ascii_lowercase()).or_default();
        if !e.is_empty() {
            e.push('\n');
        }
        e.push_str(v);
    }
    m
}

/// One keyword's value from the files, with where it was first set.
#[derive(Debug, Clone)]
struct Found {
    value: String,
    file: PathBuf,
    line: u64,
}

fn offline(root: &Root, host: &Option<String>) -> Result<Vec<Setting>> {
    let main = Path::new("/etc/ssh/sshd_config");
    if !root.path(main).exists() {
        return Ok(null(
            host,
            "files",
            format!(
                "{} does not exist (no ssh server configured under --root)",
                root.path(main).display()
            ),
        ));
    }
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    read_file(root, main, &mut found, 0)?;
    Ok(found
        .into_iter()
        .map(|(k, f)| {
            Setting::new(
                host.clone(),
                Value::from(k),
                Value::from(f.value),
                detail("files", Some(&f.file), Some(f.line)),
            )
        })
        .collect())
}

/// Split a line into words the way sshd's `argv_split` does for the
/// simple cases: blanks separate, double quotes group.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

fn read_file(
    root: &Root,
    file: &Path,
    found: &mut BTreeMap<String, Found>,
    depth: usize,
) -> Result<()> {
    if depth > 16 {
        return Err(Error::new(format!(
            "{}: Include nested more than 16 deep; is there a loop?",
            root.path(file).display()
        )));
    }
    let real = root.path(root.resolve(file).unwrap_or_else(|| file.to_path_buf()));
    let text = std::fs::read(&real).map_err(|e| Error::io(&real, &e))?;
    let text = String::from_utf8_lossy(&text);
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        // `Keyword value` or `Keyword=value`.
        let (k, rest) = match l.find(|c: char| c.is_whitespace() || c == '=') {
            Some(p) => (
                &l[..p],
                l[p..].trim_start_matches(|c: char| c.is_whitespace() || c == '='),
            ),
            None => (l, ""),
        };
        let k = k.to_ascii_lowercase();
        if k == "match" {
            break;
        }
        let args = words(rest);
        if k == "include" {
            for pat in &args {
                let pat = if pat.starts_with('/') {
                    PathBuf::from(pat)
                } else {
                    Path::new("/etc/ssh").join(pat)
                };
                for inc in glob_files(root, &pat) {
                    read_file(root, &inc, found, depth + 1)?;
                }
            }
            continue;
        }
        let value = args.join(" ");
        match found.get_mut(&k) {
            Some(f) if COLLECTED.contains(&k.as_str()) => {
                f.value.push('\n');
                f.value.push_str(&value);
            }
            Some(_) => {}
            None => {
                found.insert(
                    k,
                    Found {
                        value,
                        file: file.to_path_buf(),
                        line: i as u64 + 1,
                    },
                );
            }
        }
    }
    Ok(())
}

/// The files a glob in the last component names (`sshd_config.d/*.conf`),
/// in name order; a plain path names itself when it exists.
fn glob_files(root: &Root, pat: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (pat.parent(), pat.file_name()) else {
        return Vec::new();
    };
    let name = name.to_string_lossy();
    if !name.contains(['*', '?', '[']) {
        return if root.path(pat).is_file() {
            vec![pat.to_path_buf()]
        } else {
            Vec::new()
        };
    }
    let Ok(rd) = std::fs::read_dir(root.path(dir)) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            !n.starts_with('.')
                && crate::sysctl::glob_match(name.as_bytes(), n.as_bytes())
                && e.path().is_file()
        })
        .map(|e| dir.join(e.file_name()))
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sshd_t_lines() {
        let m = parse_t("port 22\nport 2222\npermitrootlogin without-password\nsubsystem sftp /usr/lib/openssh/sftp-server\n");
        assert_eq!(m.get("port").map(String::as_str), Some("22\n2222"));
        assert_eq!(
            m.get("permitrootlogin").map(String::as_str),
            Some("without-password")
        );
    }

    #[test]
    fn files_first_value_wins_includes_in_place() {
        let dir = std::env::temp_dir().join(format!("sec-snap-sshd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let w = |rel: &str, s: &str| {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, s).expect("write");
        };
        w(
            "etc/ssh/sshd_config",
            "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\nPort 22\nPasswordAuthentication=no\nMatch User bob\n  PermitRootLogin no\n",
        );
        w(
            "etc/ssh/sshd_config.d/10-a.conf",
            "permitrootlogin no\nPort 2222\n",
        );
        w(
            "etc/ssh/sshd_config.d/20-b.conf",
            "AcceptEnv \"LANG LC_*\"\n",
        );
        let root = Root::new(Some(&dir)).expect("root");
        let s = settings(&root, &None).expect("read");
        let get = |k: &str| {
            s.iter()
                .find(|x| x.name == k)
                .map(|x| x.value.as_str().unwrap_or("").to_owned())
        };
        assert_eq!(get("permitrootlogin").as_deref(), Some("no"));
        assert_eq!(get("port").as_deref(), Some("2222\n22"));
        assert_eq!(get("passwordauthentication").as_deref(), Some("no"));
        assert_eq!(get("acceptenv").as_deref(), Some("LANG LC_*"));
        let prl = s.iter().find(|x| x.name == "permitrootlogin").expect("set");
        match &prl.detail {
            Detail::Sshd {
                configured_file,
                configured_line,
                ..
            } => {
                assert_eq!(
                    configured_file,
                    &Some(Value::from("/etc/ssh/sshd_config.d/10-a.conf"))
                );
                assert_eq!(configured_line, &Some(1));
            }
            other => panic!("{other:?}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
