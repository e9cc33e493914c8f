//! `verify` records (pkg-verify): one installed file that no longer matches
//! what its package installed.

use serde::{Deserialize, Serialize};

use super::lossless;

/// The value of `"kind"`.
pub const KIND: &str = "verify";
/// What pairs a problem with itself in another run.
pub const IDENTITY: &[&str] = &["host", "path", "problem"];
/// The fields in the order pkg-verify writes them.
pub const FIELDS: &[&str] = &[
    "kind", "host", "package", "path", "conffile", "problem", "expected", "actual",
];

/// One problem with one file of one package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verify {
    /// Always [`KIND`].
    pub kind: String,
    /// The node name; null when it cannot be read.
    pub host: Option<String>,
    /// The package that installed the file: `NAME`, or `NAME:ARCH` for a
    /// package several architectures of which may be installed.
    pub package: String,
    /// The file, as a system path (under `--root` too); lossless: a string
    /// when UTF-8, else an array of its bytes ([`crate::bytes`]).
    #[serde(with = "lossless::bytes")]
    pub path: Vec<u8>,
    /// The file is one of the package's configuration files (edited on
    /// purpose more often than not).
    pub conffile: bool,
    /// What is wrong.
    pub problem: Problem,
    /// What the package installed (see [`Problem`]); null where nothing is
    /// recorded.
    pub expected: Option<String>,
    /// What is there now; null where there is nothing to show.
    pub actual: Option<String>,
}

impl Verify {
    /// A record of [`KIND`].
    pub fn new(host: Option<String>, package: String, path: Vec<u8>, problem: Problem) -> Self {
        Verify {
            kind: KIND.to_owned(),
            host,
            package,
            path,
            conffile: false,
            problem,
            expected: None,
            actual: None,
        }
    }
}

/// What is wrong with a file. The names follow the columns of
/// `dpkg --verify`'s (and `rpm -V`'s) report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Problem {
    /// `missing`: the path does not exist (`actual`: null, or the error
    /// when the path could not be looked at for another reason).
    Missing,
    /// `M` where dpkg knows a digest: not a regular file (`expected`:
    /// `file`; `actual`: `directory`, `symlink`, ...); rpm's `M` where the
    /// file type differs (`expected`: the type the package installed).
    Type,
    /// `5`: the digest differs (`expected` and `actual`: hex digests; MD5
    /// for dpkg, the package's algorithm for rpm).
    Digest,
    /// `?` in the digest column: the file could not be read (`expected`:
    /// the digest; `actual`: the error).
    Unreadable,
    /// rpm's `M` for the permission bits (`expected` and `actual`: octal,
    /// as `0644`).
    Mode,
    /// rpm's `U`: another owner (`expected` and `actual`: user names, or
    /// the number of a user without one).
    Owner,
    /// rpm's `G`: another group (as for `owner`).
    Group,
    /// rpm's `S`: another size (`expected` and `actual`: bytes).
    Size,
    /// rpm's `L`: a symlink to somewhere else (`expected` and `actual`:
    /// the targets; `actual` the error when the link cannot be read).
    Link,
}

impl Problem {
    /// The name as it appears in records.
    pub fn as_str(self) -> &'static str {
        match self {
            Problem::Missing => "missing",
            Problem::Type => "type",
            Problem::Digest => "digest",
            Problem::Unreadable => "unreadable",
            Problem::Mode => "mode",
            Problem::Owner => "owner",
            Problem::Group => "group",
            Problem::Size => "size",
            Problem::Link => "link",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_spelled_as_documented_and_paths_round_trip() {
        let mut r = Verify::new(
            Some("vm".into()),
            "openssh-server".into(),
            b"/etc/ssh/sshd_\xffconfig".to_vec(),
            Problem::Digest,
        );
        r.conffile = true;
        r.expected = Some("00".into());
        let s = serde_json::to_string(&r).unwrap_or_default();
        assert!(
            s.starts_with(r#"{"kind":"verify","host":"vm","package":"openssh-server","path":[47,"#),
            "{s}"
        );
        assert!(
            s.ends_with(r#""conffile":true,"problem":"digest","expected":"00","actual":null}"#),
            "{s}"
        );
        let v: serde_json::Value = serde_json::from_str(&s).unwrap_or_default();
        assert_eq!(crate::records::tests::keys_of(&v), FIELDS);
        let back: Option<Verify> = serde_json::from_str(&s).ok();
        assert_eq!(back, Some(r));
    }
}
