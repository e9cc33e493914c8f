//! What to restart so that a process runs current code, and the command a
//! careful admin would type for it.
//!
//! The cgroup says it on a systemd system: a service (`systemctl restart
//! nginx.service`), a user's service (`systemctl --user --machine=alice@
//! restart ...`), a user's service manager itself, a login session (the
//! user logs out and in again; `loginctl terminate-session N` ends it for
//! them), a container (`docker restart ID`, `podman restart ID`,
//! `machinectl reboot NAME`), or pid 1 (`systemctl daemon-reexec`). A
//! scope cannot be restarted: it names what to restart by hand. Without a
//! unit (no systemd, or a process outside any unit) the answer comes from
//! the process tree: the ancestor right below pid 1, restarted through its
//! init script when `/etc/init.d` has one of its name, else by hand.

/// What to restart.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Restart {
    /// `unit`, `user-unit`, `user-manager`, `session`, `container`, `init`,
    /// `scope`, `init-script` or `process`.
    pub by: &'static str,
    /// The unit, session scope, container, init script or (for `process`)
    /// the command name of the process to restart.
    pub name: Vec<u8>,
    /// The process to restart, for `init-script` and `process`.
    pub pid: Option<u32>,
    /// The command that restarts it, word by word; `None` where it takes a
    /// person (a scope, a process without init script).
    pub command: Option<Vec<Vec<u8>>>,
}

fn words(w: &[&[u8]]) -> Option<Vec<Vec<u8>>> {
    Some(w.iter().map(|x| x.to_vec()).collect())
}

fn unescape(s: &[u8]) -> Vec<u8> {
    // systemd's unit-name escaping: `\x2d` for `-`, and so on.
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && s.get(i + 1) == Some(&b'x') {
            if let Some(b) = s
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 4;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// A container engine's scope or directory in a cgroup path component:
/// (engine, id or name).
fn container(c: &[u8], parent: Option<&[u8]>) -> Option<(&'static str, Vec<u8>)> {
    let id12 = |id: &[u8]| id[..id.len().min(12)].to_vec();
    if let Some(id) = c
        .strip_prefix(b"docker-")
        .and_then(|r| r.strip_suffix(b".scope"))
    {
        return Some(("docker", id12(id)));
    }
    if let Some(id) = c
        .strip_prefix(b"libpod-")
        .and_then(|r| r.strip_suffix(b".scope"))
    {
        // podman's conmon scopes (libpod-conmon-ID.scope) are its monitor.
        if !id.starts_with(b"conmon-") {
            return Some(("podman", id12(id)));
        }
    }
    if let Some(n) = c
        .strip_prefix(b"machine-")
        .and_then(|r| r.strip_suffix(b".scope"))
    {
        return Some(("machinectl", unescape(n)));
    }
    for p in [&b"crio-"[..], b"cri-containerd-"] {
        if let Some(id) = c.strip_prefix(p).and_then(|r| r.strip_suffix(b".scope")) {
            return Some(("kubernetes", id12(id)));
        }
    }
    // cgroupfs driver: /docker/ID.
    if parent == Some(b"docker") && c.len() == 64 && c.iter().all(u8::is_ascii_hexdigit) {
        return Some(("docker", id12(c)));
    }
    None
}

/// What the cgroup path says to restart; `None` when it names no unit
/// (then the process tree decides, see [`from_tree`]). `user_name` names
/// the owner of a user manager's uid.
pub fn from_cgroup(
    cgroup: &[u8],
    mut user_name: impl FnMut(u32) -> Option<String>,
) -> Option<Restart> {
    let comps: Vec<&[u8]> = cgroup
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .collect();
    for (i, c) in comps.iter().enumerate() {
        let parent = i.checked_sub(1).and_then(|j| comps.get(j)).copied();
        if let Some((engine, id)) = container(c, parent) {
            let command = match engine {
                "docker" | "podman" => words(&[engine.as_bytes(), b"restart", &id]),
                "machinectl" => words(&[b"machinectl", b"reboot", &id]),
                // A pod is restarted by its orchestrator, not on the node.
                _ => None,
            };
            return Some(Restart {
                by: "container",
                name: id,
                pid: None,
                command,
            });
        }
    }
    let unit = crate::parse::unit(cgroup)?;
    let manager = comps
        .iter()
        .find(|c| c.starts_with(b"user@") && c.ends_with(b".service"));
    if let Some(m) = manager {
        if *m == unit {
            // The manager's own cgroup has no processes of its own; its
            // processes are in init.scope below it. Same answer.
            return Some(user_manager(m));
        }
        if unit == b"init.scope" {
            return Some(user_manager(m));
        }
        let uid = m
            .strip_prefix(b"user@")
            .and_then(|r| r.strip_suffix(b".service"))
            .and_then(|u| std::str::from_utf8(u).ok())
            .and_then(|u| u.parse::<u32>().ok());
        let who = uid
            .and_then(&mut user_name)
            .or_else(|| uid.map(|u| u.to_string()));
        let command = match (unit.ends_with(b".service"), who) {
            (true, Some(w)) => {
                let machine = format!("--machine={w}@");
                words(&[
                    b"systemctl",
                    b"--user",
                    machine.as_bytes(),
                    b"restart",
                    unit,
                ])
            }
            _ => None,
        };
        return Some(Restart {
            by: "user-unit",
            name: unit.to_vec(),
            pid: None,
            command,
        });
    }
    if let Some(n) = unit
        .strip_prefix(b"session-")
        .and_then(|r| r.strip_suffix(b".scope"))
    {
        return Some(Restart {
            by: "session",
            name: unit.to_vec(),
            pid: None,
            command: words(&[b"loginctl", b"terminate-session", n]),
        });
    }
    if unit == b"init.scope" {
        return Some(Restart {
            by: "init",
            name: unit.to_vec(),
            pid: Some(1),
            command: words(&[b"systemctl", b"daemon-reexec"]),
        });
    }
    if unit.ends_with(b".service") {
        return Some(Restart {
            by: "unit",
            name: unit.to_vec(),
            pid: None,
            command: words(&[b"systemctl", b"restart", unit]),
        });
    }
    Some(Restart {
        by: "scope",
        name: unit.to_vec(),
        pid: None,
        command: None,
    })
}

fn user_manager(m: &[u8]) -> Restart {
    Restart {
        by: "user-manager",
        name: m.to_vec(),
        pid: None,
        command: words(&[b"systemctl", b"restart", m]),
    }
}

/// What to restart for a process no unit holds: `top` is its ancestor
/// right below pid 1 (itself, when its parent is pid 1) and that
/// ancestor's command name; `has_init_script` tells whether
/// `/etc/init.d/NAME` exists. Pid 1 itself is re-executed in place.
pub fn from_tree(pid: u32, top: (u32, &[u8]), has_init_script: bool) -> Restart {
    let (top_pid, comm) = top;
    if pid == 1 {
        let command = if comm == b"systemd" {
            words(&[b"systemctl", b"daemon-reexec"])
        } else if comm == b"init" {
            // sysvinit re-executes itself on `telinit u`.
            words(&[b"telinit", b"u"])
        } else {
            None
        };
        return Restart {
            by: "init",
            name: comm.to_vec(),
            pid: Some(1),
            command,
        };
    }
    if has_init_script {
        return Restart {
            by: "init-script",
            name: comm.to_vec(),
            pid: Some(top_pid),
            command: words(&[b"service", comm, b"restart"]),
        };
    }
    Restart {
        by: "process",
        name: comm.to_vec(),
        pid: Some(top_pid),
        command: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(r: &Restart) -> Option<String> {
        r.command
            .as_ref()
            .map(|c| common::shell::join(c.iter().map(Vec::as_slice)))
    }

    fn names(uid: u32) -> Option<String> {
        (uid == 1000).then(|| "alice".to_owned())
    }

    #[test]
    fn units_sessions_managers_and_containers() {
        let r = from_cgroup(b"/system.slice/nginx.service", names).expect("unit");
        assert_eq!(
            (r.by, cmd(&r).as_deref()),
            ("unit", Some("systemctl restart nginx.service"))
        );
        let r = from_cgroup(
            b"/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service",
            names,
        )
        .expect("user unit");
        assert_eq!(
            (r.by, cmd(&r).as_deref()),
            (
                "user-unit",
                Some("systemctl --user --machine=alice@ restart dbus.service")
            )
        );
        let r = from_cgroup(
            b"/user.slice/user-1001.slice/user@1001.service/init.scope",
            names,
        )
        .expect("manager");
        assert_eq!(
            (r.by, cmd(&r).as_deref()),
            ("user-manager", Some("systemctl restart user@1001.service"))
        );
        let r =
            from_cgroup(b"/user.slice/user-1000.slice/session-7.scope", names).expect("session");
        assert_eq!(
            (r.by, cmd(&r).as_deref()),
            ("session", Some("loginctl terminate-session 7"))
        );
        let r = from_cgroup(b"/init.scope", names).expect("init");
        assert_eq!(
            (r.by, cmd(&r).as_deref()),
            ("init", Some("systemctl daemon-reexec"))
        );
        let id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let r = from_cgroup(format!("/system.slice/docker-{id}.scope").as_bytes(), names)
            .expect("docker");
        assert_eq!(
            (r.by, cmd(&r).as_deref()),
            ("container", Some("docker restart 0123456789ab"))
        );
        let r = from_cgroup(format!("/docker/{id}").as_bytes(), names).expect("cgroupfs");
        assert_eq!(cmd(&r).as_deref(), Some("docker restart 0123456789ab"));
        let r =
            from_cgroup(b"/machine.slice/machine-web\\x2d1.scope/payload", names).expect("nspawn");
        assert_eq!(cmd(&r).as_deref(), Some("machinectl reboot web-1"));
        let r = from_cgroup(b"/system.slice/run-r1.scope", names).expect("scope");
        assert_eq!((r.by, r.command.is_none()), ("scope", true));
        assert_eq!(from_cgroup(b"/", names), None);
        assert_eq!(from_cgroup(b"/user.slice", names), None);
    }

    #[test]
    fn process_tree_without_units() {
        let r = from_tree(812, (700, b"nginx"), true);
        assert_eq!(
            (r.by, r.pid, cmd(&r).as_deref()),
            ("init-script", Some(700), Some("service nginx restart"))
        );
        let r = from_tree(812, (700, b"agent"), false);
        assert_eq!(
            (r.by, r.pid, r.command.is_none()),
            ("process", Some(700), true)
        );
        let r = from_tree(1, (1, b"init"), false);
        assert_eq!(cmd(&r).as_deref(), Some("telinit u"));
    }
}
