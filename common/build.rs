//! Records the git commit the tools are built from, for `--version`.
//!
//! In a git checkout it is `git rev-parse --short HEAD`; in a release
//! tarball, or where git is not installed, "unknown". A packager building from a tarball can name the
//! commit with the environment variable PATCHDAY_COMMIT.

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

fn main() {
    println!("cargo:rerun-if-env-changed=PATCHDAY_COMMIT");
    let commit = std::env::var("PATCHDAY_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(from_git)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=PATCHDAY_COMMIT={commit}");
}

/// The commit of the workspace checkout this crate sits in, if it is one.
fn from_git() -> Option<String> {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")?;
    let workspace = Path::new(&manifest).parent()?;
    // A checkout has .git (a directory, or a file in a worktree); a tarball
    // unpacked inside some other repository must not take that one's commit.
    if !workspace.join(".git").exists() {
        return None;
    }
    // Rebuild when HEAD moves: HEAD itself (another branch checked out), the
    // branch it points at (a commit), and packed-refs (after git gc). Only
    // files that exist: cargo reruns a script whose watched file is missing
    // on every build, and that would rebuild every tool every time.
    let mut watch = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    watch.extend(git(workspace, &["symbolic-ref", "-q", "HEAD"]));
    for what in &watch {
        if let Some(p) = git(workspace, &["rev-parse", "--git-path", what]) {
            let p = workspace.join(p);
            if p.exists() {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }
    }
    git(workspace, &["rev-parse", "--short", "HEAD"])
}
