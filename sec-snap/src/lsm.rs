//! Mandatory access control: the security modules the kernel runs
//! (/sys/kernel/security/lsm), SELinux's mode and policy
//! (/sys/fs/selinux, and /etc/selinux/config for the next boot), and
//! AppArmor's profiles with their modes
//! (/sys/kernel/security/apparmor/profiles, one `NAME (MODE)` per line,
//! as `aa-status` reads them).
//!
//! Settings: `lsm` (the module list), `selinux` (`enforcing` or
//! `permissive`), `selinux.policyvers`, `selinux.config` (the SELINUX=
//! and SELINUXTYPE= the next boot uses, readable under --root),
//! `apparmor` (`enabled` or `disabled`), and `apparmor:PROFILE` with the
//! profile's mode (`enforce`, `complain`, `kill`, `unconfined`). Where
//! neither SELinux nor AppArmor is there, one `mac` setting with a null
//! value says so.

use std::io::ErrorKind;

use serde_json::Value;

use common::records::setting::{Detail, Setting};
use common::Root;

fn read(root: &Root, p: &str) -> std::io::Result<String> {
    std::fs::read_to_string(root.path(p)).map(|s| s.trim_end_matches('\n').to_owned())
}

fn setting(host: &Option<String>, module: Option<&str>, name: &str, value: Value) -> Setting {
    Setting::new(
        host.clone(),
        Value::from(name),
        value,
        Detail::Lsm {
            module: module.map(str::to_owned),
        },
    )
}

/// The `KEY=value` lines of /etc/selinux/config.
fn selinux_config(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// `NAME (MODE)` lines of AppArmor's profiles file.
pub fn apparmor_profiles(text: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| {
            let l = l.trim_end();
            let open = l.rfind(" (")?;
            let mode = l[open + 2..].strip_suffix(')')?;
            Some((l[..open].to_owned(), mode.to_owned()))
        })
        .collect();
    v.sort();
    v
}

/// The settings of this area; `live` tells whether /sys is the running
/// kernel's (under --root only the SELinux configuration file is read).
pub fn settings(root: &Root, host: &Option<String>) -> Vec<Setting> {
    let live_note = if root.is_live() {
        ""
    } else {
        " (under --root DIR only DIR/sys is looked at; the running kernel's modules need a live system)"
    };
    let mut out = Vec::new();
    match read(root, "/sys/kernel/security/lsm") {
        Ok(s) => out.push(setting(host, None, "lsm", Value::from(s))),
        Err(e) => out.push(setting(host, None, "lsm", Value::Null).because(format!(
            "{}: {}{}",
            root.path("/sys/kernel/security/lsm").display(),
            if e.kind() == ErrorKind::NotFound {
                "not there (is securityfs mounted on /sys/kernel/security?)".to_owned()
            } else {
                common::error::describe_io(&e)
            },
            live_note
        ))),
    }
    let mut mac = false;
    if let Ok(e) = read(root, "/sys/fs/selinux/enforce") {
        mac = true;
        let mode = match e.trim() {
            "1" => Value::from("enforcing"),
            "0" => Value::from("permissive"),
            _ => Value::Null,
        };
        out.push(setting(host, Some("selinux"), "selinux", mode));
        let v = read(root, "/sys/fs/selinux/policyvers")
            .ok()
            .map(|s| s.trim().to_owned());
        out.push(setting(
            host,
            Some("selinux"),
            "selinux.policyvers",
            v.map_or(Value::Null, Value::from),
        ));
    }
    if let Ok(text) = read(root, "/etc/selinux/config") {
        let conf = selinux_config(&text);
        let get = |k: &str| {
            conf.iter()
                .rev()
                .find(|(x, _)| x == k)
                .map(|(_, v)| v.clone())
        };
        let v = format!(
            "SELINUX={} SELINUXTYPE={}",
            get("SELINUX").unwrap_or_default(),
            get("SELINUXTYPE").unwrap_or_default()
        );
        out.push(setting(
            host,
            Some("selinux"),
            "selinux.config",
            Value::from(v),
        ));
    }
    if let Ok(en) = read(root, "/sys/module/apparmor/parameters/enabled") {
        mac = true;
        let v = if en.trim() == "Y" {
            "enabled"
        } else {
            "disabled"
        };
        out.push(setting(host, Some("apparmor"), "apparmor", Value::from(v)));
        match read(root, "/sys/kernel/security/apparmor/profiles") {
            Ok(p) => {
                for (name, mode) in apparmor_profiles(&p) {
                    out.push(setting(
                        host,
                        Some("apparmor"),
                        &format!("apparmor:{name}"),
                        Value::from(mode),
                    ));
                }
            }
            Err(e) if v == "enabled" => out.push(
                setting(host, Some("apparmor"), "apparmor:profiles", Value::Null).because(format!(
                    "{}: {}",
                    root.path("/sys/kernel/security/apparmor/profiles")
                        .display(),
                    common::error::describe_io(&e)
                )),
            ),
            Err(_) => {}
        }
    }
    if !mac {
        out.push(
            setting(host, None, "mac", Value::Null).because(format!(
                "no SELinux (/sys/fs/selinux) and no AppArmor (/sys/module/apparmor) on this system{live_note}"
            )),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_and_modes() {
        let p = apparmor_profiles(
            "/usr/sbin/cupsd (enforce)\nnvidia_modprobe (complain)\nunix-chkpwd (enforce)\nbroken line\n",
        );
        assert_eq!(
            p,
            [
                ("/usr/sbin/cupsd".to_owned(), "enforce".to_owned()),
                ("nvidia_modprobe".to_owned(), "complain".to_owned()),
                ("unix-chkpwd".to_owned(), "enforce".to_owned())
            ]
        );
    }

    #[test]
    fn fixture_tree_with_apparmor() {
        let dir = std::env::temp_dir().join(format!("sec-snap-lsm-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let w = |rel: &str, s: &str| {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, s).expect("write");
        };
        w("sys/kernel/security/lsm", "lockdown,capability,apparmor\n");
        w("sys/module/apparmor/parameters/enabled", "Y\n");
        w(
            "sys/kernel/security/apparmor/profiles",
            "b (complain)\na (enforce)\n",
        );
        let root = Root::new(Some(&dir)).expect("root");
        let s = settings(&root, &None);
        let pairs: Vec<(String, Value)> = s
            .iter()
            .map(|s| (s.name.as_str().unwrap_or("").to_owned(), s.value.clone()))
            .collect();
        assert_eq!(
            pairs,
            [
                (
                    "lsm".to_owned(),
                    Value::from("lockdown,capability,apparmor")
                ),
                ("apparmor".to_owned(), Value::from("enabled")),
                ("apparmor:a".to_owned(), Value::from("enforce")),
                ("apparmor:b".to_owned(), Value::from("complain")),
            ]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
