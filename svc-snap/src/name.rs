//! Unit names as systemd reads them (src/basic/unit-name.c,
//! src/basic/unit-file.c): which names are valid, plain, instance or
//! template, and which unit types may be aliased or templated.

/// The unit types, as the suffix of a unit name spells them.
pub const TYPES: [&str; 11] = [
    "service",
    "mount",
    "swap",
    "socket",
    "target",
    "device",
    "automount",
    "timer",
    "path",
    "slice",
    "scope",
];

/// systemd's UNIT_NAME_MAX: a name is shorter than this.
const NAME_MAX: usize = 256;

/// What kind of name a valid unit name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `ssh.service`
    Plain,
    /// `getty@tty1.service`
    Instance,
    /// `getty@.service`
    Template,
}

/// The kind of a valid unit name, `None` for anything systemd would not
/// take as a unit name (`unit_name_is_valid`).
pub fn classify(n: &str) -> Option<Kind> {
    let b = n.as_bytes();
    if b.is_empty() || b.len() >= NAME_MAX {
        return None;
    }
    let e = n.rfind('.')?;
    if e == 0 || !TYPES.contains(&&n[e + 1..]) {
        return None;
    }
    let mut at = None;
    for (i, &c) in b[..e].iter().enumerate() {
        if c == b'@' && at.is_none() {
            at = Some(i);
        }
        if !(c.is_ascii_alphanumeric() || matches!(c, b'@' | b':' | b'-' | b'_' | b'.' | b'\\')) {
            return None;
        }
    }
    match at {
        None => Some(Kind::Plain),
        Some(0) => None,
        Some(a) if e > a + 1 => Some(Kind::Instance),
        Some(_) => Some(Kind::Template),
    }
}

/// True for a valid unit name.
pub fn is_valid(n: &str) -> bool {
    classify(n).is_some()
}

/// True for a valid instance name (`getty@tty1.service`).
pub fn is_instance(n: &str) -> bool {
    classify(n) == Some(Kind::Instance)
}

/// True for a valid template name (`getty@.service`).
pub fn is_template(n: &str) -> bool {
    classify(n) == Some(Kind::Template)
}

/// The type suffix of a valid name (`service`).
pub fn unit_type(n: &str) -> Option<&str> {
    classify(n)?;
    n.rfind('.').map(|e| &n[e + 1..])
}

/// The template of an instance or template name (`getty@tty1.service` ->
/// `getty@.service`), `None` for plain or invalid names
/// (`unit_name_template`).
pub fn template_of(n: &str) -> Option<String> {
    match classify(n)? {
        Kind::Plain => None,
        Kind::Instance | Kind::Template => {
            let at = n.find('@')?;
            let e = n.rfind('.')?;
            Some(format!("{}{}", &n[..=at], &n[e..]))
        }
    }
}

/// The instance part of an instance name (`tty1`).
pub fn instance_of(n: &str) -> Option<&str> {
    if !is_instance(n) {
        return None;
    }
    let at = n.find('@')?;
    let e = n.rfind('.')?;
    Some(&n[at + 1..e])
}

/// `template` with `instance` filled in (`unit_name_replace_instance`).
pub fn with_instance(template: &str, instance: &str) -> Option<String> {
    let at = template.find('@')?;
    let e = template.rfind('.')?;
    let n = format!("{}{}{}", &template[..=at], instance, &template[e..]);
    is_valid(&n).then_some(n)
}

/// Types whose units may have aliases (`unit_type_may_alias`).
pub fn may_alias(t: &str) -> bool {
    matches!(
        t,
        "service" | "socket" | "target" | "device" | "timer" | "path"
    )
}

/// Types whose units may be templates (`unit_type_may_template`).
pub fn may_template(t: &str) -> bool {
    matches!(t, "service" | "socket" | "target" | "timer" | "path")
}

/// Directory entries systemd skips everywhere (`hidden_or_backup_file`):
/// dot files, editor and package-manager backups.
pub fn hidden_or_backup(n: &[u8]) -> bool {
    if n.first() == Some(&b'.')
        || n == b"lost+found"
        || n == b"aquota.user"
        || n == b"aquota.group"
        || n.last() == Some(&b'~')
    {
        return true;
    }
    let Some(dot) = n.iter().rposition(|&c| c == b'.') else {
        return false;
    };
    matches!(
        &n[dot + 1..],
        b"rpmnew"
            | b"rpmsave"
            | b"rpmorig"
            | b"dpkg-old"
            | b"dpkg-new"
            | b"dpkg-tmp"
            | b"dpkg-dist"
            | b"dpkg-bak"
            | b"dpkg-backup"
            | b"dpkg-remove"
            | b"ucf-new"
            | b"ucf-old"
            | b"ucf-dist"
            | b"swp"
            | b"bak"
            | b"old"
            | b"new"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_classified_as_systemd_does() {
        assert_eq!(classify("ssh.service"), Some(Kind::Plain));
        assert_eq!(classify("getty@tty1.service"), Some(Kind::Instance));
        assert_eq!(classify("getty@.service"), Some(Kind::Template));
        assert_eq!(classify("dev-disk-by\\x2duuid-1.swap"), Some(Kind::Plain));
        for bad in [
            "",
            ".service",
            "@x.service",
            "ssh",
            "ssh.conf",
            "multi-user.target.wants",
            "a b.service",
            "é.service",
        ] {
            assert_eq!(classify(bad), None, "{bad}");
        }
        assert!(!is_valid(&format!("{}.service", "a".repeat(250))));
    }

    #[test]
    fn templates_and_instances() {
        assert_eq!(
            template_of("getty@tty1.service").as_deref(),
            Some("getty@.service")
        );
        assert_eq!(
            template_of("getty@.service").as_deref(),
            Some("getty@.service")
        );
        assert_eq!(template_of("ssh.service"), None);
        assert_eq!(instance_of("getty@tty1.service"), Some("tty1"));
        assert_eq!(
            with_instance("getty@.service", "tty2").as_deref(),
            Some("getty@tty2.service")
        );
        assert_eq!(unit_type("foo.timer"), Some("timer"));
    }

    #[test]
    fn backups_are_hidden() {
        assert!(hidden_or_backup(b".x.conf"));
        assert!(hidden_or_backup(b"x.conf~"));
        assert!(hidden_or_backup(b"x.conf.dpkg-old"));
        assert!(!hidden_or_backup(b"override.conf"));
        assert!(!hidden_or_backup(b"ssh.service"));
    }
}
