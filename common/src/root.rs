//! `--root DIR`: read the system under DIR instead of `/`.
//!
//! Every path a tool reads goes through [`Root::path`], so a fixture tree (a
//! fake `/proc`, `/boot`, dpkg database) or a mounted system in a rescue shell
//! is read exactly like the live one. Under a root nothing of the live system
//! is consulted: no NSS, no `uname`, no netlink.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Default)]
pub struct Root {
    base: Option<PathBuf>,
}

impl Root {
    /// The live system (`/`).
    pub fn live() -> Self {
        Root { base: None }
    }

    /// The system under `dir`; `None` or `/` mean the live system. The
    /// directory must exist.
    pub fn new(dir: Option<&Path>) -> Result<Self> {
        match dir {
            None => Ok(Self::live()),
            Some(d) if d == Path::new("/") => Ok(Self::live()),
            Some(d) => match std::fs::metadata(d) {
                Ok(m) if m.is_dir() => Ok(Root {
                    base: Some(d.to_path_buf()),
                }),
                Ok(_) => Err(Error::new(format!(
                    "--root {}: not a directory",
                    d.display()
                ))),
                Err(e) => Err(Error::io(d, &e).context("--root")),
            },
        }
    }

    /// True when reading the running system itself.
    pub fn is_live(&self) -> bool {
        self.base.is_none()
    }

    /// The base directory, `None` on the live system.
    pub fn base(&self) -> Option<&Path> {
        self.base.as_deref()
    }

    /// The real path of the absolute system path `abs` (`/proc/1/stat` ->
    /// `DIR/proc/1/stat`). A relative `abs` is taken as relative to `/`.
    pub fn path(&self, abs: impl AsRef<Path>) -> PathBuf {
        let abs = abs.as_ref();
        match &self.base {
            None => {
                if abs.is_absolute() {
                    abs.to_path_buf()
                } else {
                    Path::new("/").join(abs)
                }
            }
            Some(base) => {
                let rel = abs.strip_prefix("/").unwrap_or(abs);
                base.join(rel)
            }
        }
    }

    /// The inverse of [`Root::path`]: the system path of a real path under
    /// the root (`DIR/etc/x` -> `/etc/x`), or `None` when it lies outside.
    pub fn system_path(&self, real: &Path) -> Option<PathBuf> {
        match &self.base {
            None => Some(real.to_path_buf()),
            Some(base) => real
                .strip_prefix(base)
                .ok()
                .map(|rel| Path::new("/").join(rel)),
        }
    }

    /// The node name: `uname -n` on the live system; under a root the
    /// content of DIR/proc/sys/kernel/hostname or DIR/etc/hostname.
    pub fn hostname(&self) -> Option<String> {
        if self.is_live() {
            if let Ok(u) = nix::sys::utsname::uname() {
                return u.nodename().to_str().map(str::to_owned);
            }
        }
        ["/proc/sys/kernel/hostname", "/etc/hostname"]
            .iter()
            .find_map(|p| read_trimmed(&self.path(p)))
    }

    /// The boot id (DIR/proc/sys/kernel/random/boot_id), lower-case UUID.
    pub fn boot_id(&self) -> Option<String> {
        read_trimmed(&self.path("/proc/sys/kernel/random/boot_id"))
    }

    /// The running kernel release (`uname -r`) on the live system only:
    /// under a root there is no running kernel to speak of.
    pub fn running_release(&self) -> Option<String> {
        if !self.is_live() {
            return None;
        }
        nix::sys::utsname::uname()
            .ok()
            .and_then(|u| u.release().to_str().map(str::to_owned))
    }
}

fn read_trimmed(p: &Path) -> Option<String> {
    let s = std::fs::read_to_string(p).ok()?;
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// Helper for displaying an `OsStr` in messages (never in data).
pub fn show(s: &OsStr) -> String {
    s.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_paths_are_unchanged() {
        let r = Root::live();
        assert_eq!(r.path("/proc/1/stat"), PathBuf::from("/proc/1/stat"));
        assert_eq!(r.path("etc/passwd"), PathBuf::from("/etc/passwd"));
    }

    #[test]
    fn rooted_paths_are_joined_and_inverted() {
        let dir = std::env::temp_dir();
        let r = Root::new(Some(&dir)).expect("temp dir exists");
        assert_eq!(r.path("/proc/1/stat"), dir.join("proc/1/stat"));
        assert_eq!(
            r.system_path(&dir.join("etc/x")),
            Some(PathBuf::from("/etc/x"))
        );
        assert_eq!(r.system_path(Path::new("/elsewhere")), None);
    }

    #[test]
    fn missing_root_is_trouble() {
        let e = Root::new(Some(Path::new("/nonexistent/root/dir"))).expect_err("missing");
        assert_eq!(e.code(), 2);
        assert!(e.to_string().contains("/nonexistent/root/dir"), "{e}");
    }

    #[test]
    fn slash_is_live() {
        assert!(Root::new(Some(Path::new("/"))).expect("/").is_live());
    }
}
