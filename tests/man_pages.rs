//! Every tool has a man page that says at least what `--help` says: every
//! long option in `--help` appears in the page, and every page (section 1
//! and 5) renders without a warning under `groff -man -ww -z`.

mod common;

use std::path::Path;
use std::process::Command;

const TOOLS: [&str; 5] = [
    "ps-snap",
    "net-snap",
    "snap-diff",
    "cfg-backup",
    "boot-check",
];

fn man_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/man"))
}

/// `--long` options named in a help text.
fn long_options(help: &str) -> Vec<String> {
    let mut opts = Vec::new();
    for word in help.split(|c: char| {
        c.is_whitespace() || c == ',' || c == '[' || c == ']' || c == '=' || c == '<'
    }) {
        if let Some(name) = word.strip_prefix("--") {
            let name: String = name
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if !name.is_empty() && !opts.contains(&name) {
                opts.push(name);
            }
        }
    }
    opts
}

/// Help of the tool and, for tools with subcommands, of each subcommand.
fn all_help(tool: &str) -> String {
    let top = common::run(tool, ["--help"], None);
    top.expect_code(0);
    let mut text = top.stdout_str();
    // Subcommands are listed under "Commands:" as "  name  description".
    if let Some(pos) = text.find("Commands:") {
        let subs: Vec<String> = text[pos..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .filter(|s| s != "help")
            .collect();
        for sub in subs {
            let r = common::run(tool, [sub.as_str(), "--help"], None);
            r.expect_code(0);
            text.push_str(&r.stdout_str());
        }
    }
    text
}

#[test]
fn every_help_option_is_in_the_man_page() {
    for tool in TOOLS {
        let page_path = man_dir().join(format!("{tool}.1"));
        let page = std::fs::read_to_string(&page_path)
            .unwrap_or_else(|e| panic!("{}: {e}", page_path.display()));
        let help = all_help(tool);
        for opt in long_options(&help) {
            let roff = format!("\\-\\-{}", opt.replace('-', "\\-"));
            assert!(
                page.contains(&roff) || page.contains(&format!("--{opt}")),
                "{tool}: --{opt} is in --help but not in {}",
                page_path.display()
            );
        }
        for section in [
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "EXIT STATUS",
            "EXAMPLES",
        ] {
            assert!(
                page.contains(&format!(".SH {section}"))
                    || page.contains(&format!(".SH \"{section}\"")),
                "{}: no {section} section",
                page_path.display()
            );
        }
    }
}

#[test]
fn man_pages_render_without_warnings() {
    if Command::new("groff").arg("--version").output().is_err() {
        eprintln!("SKIP: groff is not installed (apt-get install groff-base)");
        return;
    }
    let mut pages: Vec<_> = std::fs::read_dir(man_dir())
        .expect("man/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("1" | "5")))
        .collect();
    pages.sort();
    assert!(
        pages.len() > TOOLS.len(),
        "expected a page per tool and snap-records.5"
    );
    for page in pages {
        let out = Command::new("groff")
            .args(["-man", "-ww", "-z"])
            .arg(&page)
            .output()
            .expect("run groff");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.trim().is_empty(),
            "{}: groff warnings:\n{stderr}",
            page.display()
        );
    }
}

#[test]
fn long_options_are_found() {
    assert_eq!(
        long_options(
            "  -r, --root <DIR>  x\n      --format <FORMAT>  [default: json]\n  --deleted-only"
        ),
        vec!["root", "format", "deleted-only"]
    );
}
