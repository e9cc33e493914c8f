//! `patchday-completions OUTDIR TOOL...`: write the bash, zsh and fish
//! completions of each TOOL from its own clap definition, as
//! OUTDIR/bash/TOOL, OUTDIR/zsh/_TOOL and OUTDIR/fish/TOOL.fish.
//!
//! Internal to the build: `make` runs it with the Makefile's TOOLS list and
//! `make install` installs what it wrote, not this binary. A new tool is one
//! line in `tool()` below.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap_complete::Shell;

/// The clap definition of a tool, by its name.
fn tool(name: &str) -> Option<clap::Command> {
    Some(match name {
        "ps-snap" => ps_snap::command(),
        "net-snap" => net_snap::command(),
        "snap-diff" => snap_diff::command(),
        "cfg-backup" => cfg_backup::command(),
        "boot-check" => boot_check::command(),
        "svc-snap" => svc_snap::command(),
        "pkg-snap" => pkg_snap::command(),
        "sec-snap" => sec_snap::command(),
        "pkg-verify" => pkg_verify::command(),
        _ => return None,
    })
}

/// Where `make install` puts each shell's file, relative to OUTDIR.
fn file_name(shell: Shell, tool: &str) -> PathBuf {
    match shell {
        Shell::Zsh => Path::new("zsh").join(format!("_{tool}")),
        Shell::Fish => Path::new("fish").join(format!("{tool}.fish")),
        _ => Path::new("bash").join(tool),
    }
}

/// clap_complete's bash script spells a subcommand's state two ways when
/// the program name has a hyphen: the loop over the words arrives at
/// `cfg__backup__subcmd__save`, the case arms wait for
/// `cfg__subcmd__backup__subcmd__save`, so no option of a subcommand ever
/// completes (clap-rs/clap#6421, open). Spell the arms as the loop does.
fn fix_bash_hyphen(script: &[u8], name: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(script);
    let wrong = name.replace('-', "__subcmd__");
    let right = name.replace('-', "__");
    if wrong == right {
        return script.to_vec();
    }
    text.replace(&format!("{wrong}__subcmd__"), &format!("{right}__subcmd__"))
        .into_bytes()
}

fn write(out: &Path, name: &str, cmd: &clap::Command) -> Result<(), String> {
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let path = out.join(file_name(shell, name));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), name, &mut buf);
        if shell == Shell::Bash {
            buf = fix_bash_hyphen(&buf, name);
        }
        // Whole file or nothing: a temporary name, then rename.
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, &buf)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(out), names) = (args.next(), args.collect::<Vec<_>>()) else {
        eprintln!("usage: patchday-completions OUTDIR TOOL...");
        return ExitCode::from(2);
    };
    let out = PathBuf::from(out);
    for name in &names {
        let name = name.to_string_lossy();
        let Some(cmd) = tool(&name) else {
            eprintln!(
                "patchday-completions: unknown tool {name}: add its line to tool() in src/bin/patchday-completions.rs"
            );
            return ExitCode::from(2);
        };
        if let Err(e) = write(&out, &name, &cmd) {
            eprintln!("patchday-completions: {e}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_completes_every_subcommand_and_option() {
        let cmd = tool("cfg-backup").expect("registered");
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd.clone(), "cfg-backup", &mut buf);
            let text = String::from_utf8(buf).expect("utf-8");
            for word in ["save", "restore", "--store", "--package", "--dry-run"] {
                let word = if shell == Shell::Fish {
                    word.trim_start_matches('-')
                } else {
                    word
                };
                assert!(text.contains(word), "{shell}: no {word}");
            }
        }
        assert!(tool("no-such-tool").is_none());
    }
}
