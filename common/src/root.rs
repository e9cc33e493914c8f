//! `--root DIR`: read the system under DIR instead of `/`.
//!
//! Every path a tool reads goes through [`Root::path`], so a fixture tree (a
//! fake `/proc`, `/boot`, dpkg database) or a mounted system in a rescue shell
//! is read exactly like the live one. Under a root nothing of the live system
//! is consulted: no NSS, no `uname`, no netlink.

use std::ffi::OsStr;
use std::fs;
use std::path::{Component, Path, PathBuf};

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

    /// Follow the symlinks of system path `p` the way the kernel would, but
    /// inside the root: every component is looked at in turn (a symlinked
    /// directory on the way as well as the last name), an absolute link
    /// target is taken relative to DIR, never to the host, and `..` never
    /// climbs out of it. So DIR/boot -> /mnt/boot reads DIR/mnt/boot, and
    /// merged-/usr's DIR/lib -> usr/lib finds DIR/usr/lib/modules. Returns
    /// the system path of the final target, free of symlinks (it need not
    /// exist), or `None` for a loop (more than 40 links, as Linux allows).
    pub fn resolve(&self, p: &Path) -> Option<PathBuf> {
        // Components still to walk, last first; `done` is already resolved.
        let mut todo: Vec<std::ffi::OsString> = Vec::new();
        let push = |todo: &mut Vec<std::ffi::OsString>, path: &Path| {
            for c in path.components().rev() {
                match c {
                    Component::Normal(n) => todo.push(n.to_os_string()),
                    Component::ParentDir => todo.push("..".into()),
                    _ => {}
                }
            }
        };
        push(&mut todo, p);
        let mut done = PathBuf::from("/");
        let mut links = 0;
        while let Some(c) = todo.pop() {
            if c == ".." {
                done.pop();
                continue;
            }
            let next = done.join(&c);
            let real = self.path(&next);
            match fs::symlink_metadata(&real) {
                Ok(m) if m.file_type().is_symlink() => {
                    links += 1;
                    if links > 40 {
                        return None;
                    }
                    let target = fs::read_link(&real).ok()?;
                    if target.is_absolute() {
                        done = PathBuf::from("/");
                    }
                    push(&mut todo, &target);
                }
                _ => done = next,
            }
        }
        Some(done)
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

/// Lexically clean a system path (`a/../b`, `./`), keeping it absolute: a
/// relative path is taken from `/`, and `..` at the top stays at `/`.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
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
    fn normalize_stays_absolute() {
        assert_eq!(
            normalize(Path::new("/boot/../x/./y")),
            PathBuf::from("/x/y")
        );
        assert_eq!(normalize(Path::new("/../..")), PathBuf::from("/"));
        assert_eq!(normalize(Path::new("etc//x/")), PathBuf::from("/etc/x"));
    }

    #[test]
    fn resolve_follows_links_inside_the_root() {
        use std::os::unix::fs::symlink;
        let dir = std::env::temp_dir().join(format!("root-resolve-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("boot")).expect("mkdir");
        fs::create_dir_all(dir.join("usr")).expect("mkdir");
        fs::write(dir.join("boot/vmlinuz-6.1"), "k").expect("write");
        // Absolute target: relative to the root, not the host.
        symlink("/boot/vmlinuz-6.1", dir.join("vmlinuz")).expect("link");
        // Relative target, through another link.
        symlink("../vmlinuz", dir.join("usr/kernel")).expect("link");
        // `..` cannot climb out of the root.
        symlink("../../../../boot/vmlinuz-6.1", dir.join("boot/up")).expect("link");
        symlink("nowhere", dir.join("boot/dangling")).expect("link");
        symlink("loop-b", dir.join("boot/loop-a")).expect("link");
        symlink("loop-a", dir.join("boot/loop-b")).expect("link");
        let r = Root::new(Some(&dir)).expect("root");
        let k = Some(PathBuf::from("/boot/vmlinuz-6.1"));
        assert_eq!(r.resolve(Path::new("/vmlinuz")), k);
        assert_eq!(r.resolve(Path::new("/usr/kernel")), k);
        assert_eq!(r.resolve(Path::new("/boot/up")), k);
        assert_eq!(r.resolve(Path::new("/boot/./vmlinuz-6.1")), k);
        assert_eq!(
            r.resolve(Path::new("/boot/dangling")),
            Some(PathBuf::from("/boot/nowhere"))
        );
        assert_eq!(
            r.resolve(Path::new("/missing")),
            Some(PathBuf::from("/missing"))
        );
        assert_eq!(r.resolve(Path::new("/boot/loop-a")), None);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn resolve_follows_directory_links_inside_the_root() {
        use std::os::unix::fs::symlink;
        let dir = std::env::temp_dir().join(format!("root-resolve-dirs-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("mnt/boot")).expect("mkdir");
        fs::create_dir_all(dir.join("usr/lib/modules/6.1")).expect("mkdir");
        fs::write(dir.join("mnt/boot/vmlinuz-6.1"), "k").expect("write");
        // An absolute link on the way: inside the root, not the host's /mnt.
        symlink("/mnt/boot", dir.join("boot")).expect("link");
        // Merged /usr: /lib -> usr/lib; and an absolute variant.
        symlink("usr/lib", dir.join("lib")).expect("link");
        symlink("/usr/lib", dir.join("lib64")).expect("link");
        // `..` after a directory link is taken from where the link points.
        fs::create_dir_all(dir.join("etc")).expect("mkdir");
        symlink("../mnt/boot", dir.join("etc/b")).expect("link");
        let r = Root::new(Some(&dir)).expect("root");
        assert_eq!(
            r.resolve(Path::new("/boot/vmlinuz-6.1")),
            Some(PathBuf::from("/mnt/boot/vmlinuz-6.1"))
        );
        assert_eq!(
            r.resolve(Path::new("/lib/modules/6.1")),
            Some(PathBuf::from("/usr/lib/modules/6.1"))
        );
        assert_eq!(
            r.resolve(Path::new("/lib64/modules/6.1")),
            Some(PathBuf::from("/usr/lib/modules/6.1"))
        );
        assert_eq!(
            r.resolve(Path::new("/etc/b/../../usr/lib")),
            Some(PathBuf::from("/usr/lib"))
        );
        assert_eq!(
            r.resolve(Path::new("/boot/../../../etc")),
            Some(PathBuf::from("/etc"))
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn slash_is_live() {
        assert!(Root::new(Some(Path::new("/"))).expect("/").is_live());
    }
}
