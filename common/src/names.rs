//! User and group names, cached.
//!
//! On the live system names come from NSS (getpwuid_r/getgrgid_r), so LDAP or
//! sssd users resolve as `ps` resolves them. Under `--root DIR` they come from
//! DIR/etc/passwd and DIR/etc/group only: the host's users say nothing about a
//! mounted system's files. An id without a name is `None` (a JSON `null`).

use std::collections::HashMap;
use std::fs;

use nix::unistd::{Gid, Group, Uid, User};

use crate::root::Root;

#[derive(Debug, Default)]
pub struct Names {
    live: bool,
    users: HashMap<u32, Option<String>>,
    groups: HashMap<u32, Option<String>>,
    user_ids: HashMap<String, u32>,
    group_ids: HashMap<String, u32>,
}

impl Names {
    pub fn new(root: &Root) -> Self {
        let mut n = Names {
            live: root.is_live(),
            ..Default::default()
        };
        if !n.live {
            for (id, name) in parse_db(&fs::read(root.path("/etc/passwd")).unwrap_or_default()) {
                n.users.entry(id).or_insert_with(|| Some(name.clone()));
                n.user_ids.entry(name).or_insert(id);
            }
            for (id, name) in parse_db(&fs::read(root.path("/etc/group")).unwrap_or_default()) {
                n.groups.entry(id).or_insert_with(|| Some(name.clone()));
                n.group_ids.entry(name).or_insert(id);
            }
        }
        n
    }

    /// The name of user `uid`, if it has one.
    pub fn user(&mut self, uid: u32) -> Option<String> {
        if let Some(v) = self.users.get(&uid) {
            return v.clone();
        }
        let v = if self.live {
            User::from_uid(Uid::from_raw(uid))
                .ok()
                .flatten()
                .map(|u| u.name)
        } else {
            None
        };
        self.users.insert(uid, v.clone());
        v
    }

    /// The name of group `gid`, if it has one.
    pub fn group(&mut self, gid: u32) -> Option<String> {
        if let Some(v) = self.groups.get(&gid) {
            return v.clone();
        }
        let v = if self.live {
            Group::from_gid(Gid::from_raw(gid))
                .ok()
                .flatten()
                .map(|g| g.name)
        } else {
            None
        };
        self.groups.insert(gid, v.clone());
        v
    }

    /// The uid of user `name`, if known.
    pub fn uid_of(&mut self, name: &str) -> Option<u32> {
        if let Some(&id) = self.user_ids.get(name) {
            return Some(id);
        }
        if !self.live {
            return None;
        }
        let id = User::from_name(name).ok().flatten()?.uid.as_raw();
        self.user_ids.insert(name.to_owned(), id);
        Some(id)
    }

    /// The gid of group `name`, if known.
    pub fn gid_of(&mut self, name: &str) -> Option<u32> {
        if let Some(&id) = self.group_ids.get(name) {
            return Some(id);
        }
        if !self.live {
            return None;
        }
        let id = Group::from_name(name).ok().flatten()?.gid.as_raw();
        self.group_ids.insert(name.to_owned(), id);
        Some(id)
    }
}

/// `name:x:id:...` lines of passwd(5) or group(5); comments, blank lines,
/// NIS `+`/`-` entries and lines that do not parse are skipped.
fn parse_db(data: &[u8]) -> Vec<(u32, String)> {
    let text = String::from_utf8_lossy(data);
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with('+') && !l.starts_with('-'))
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let _pw = f.next()?;
            let id = f.next()?.trim().parse().ok()?;
            (!name.is_empty()).then(|| (id, name.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_passwd_lines() {
        let db = parse_db(
            b"root:x:0:0:root:/root:/bin/bash\n# c\n\nsshd:x:105:65534::/run/sshd:/usr/sbin/nologin\nbroken\n+nis::::\n",
        );
        assert_eq!(db, vec![(0, "root".into()), (105, "sshd".into())]);
    }

    #[test]
    fn rooted_names_come_from_the_tree_only() {
        let dir = std::env::temp_dir().join(format!("names-test-{}", std::process::id()));
        fs::create_dir_all(dir.join("etc")).expect("mkdir");
        fs::write(
            dir.join("etc/passwd"),
            "alice:x:1234:1234::/home/alice:/bin/sh\n",
        )
        .expect("write");
        fs::write(dir.join("etc/group"), "staff:x:50:\n").expect("write");
        let root = Root::new(Some(&dir)).expect("root");
        let mut n = Names::new(&root);
        assert_eq!(n.user(1234).as_deref(), Some("alice"));
        // uid 0 is not in this passwd: no name, even though the host has root.
        assert_eq!(n.user(0), None);
        assert_eq!(n.group(50).as_deref(), Some("staff"));
        assert_eq!(n.uid_of("alice"), Some(1234));
        assert_eq!(n.gid_of("nobody-here"), None);
        let _ = fs::remove_dir_all(&dir);
    }
}
