//! `--rebaseline FILE`: the files the packages named in FILE own now and
//! that match what the package installed, for a file-integrity tool.

use std::collections::BTreeSet;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use common::diag::plural;
use common::dpkg::{Database, Stanza};
use common::{Error, Out, Result, Root, Status};

use crate::args::Format;
use crate::db::Diversions;
use crate::verify::plan_of;
use crate::{baseline, check};

/// Print the files to re-baseline, and on stderr what was left out.
pub fn files(
    root: &Root,
    db: &Database,
    div: &Diversions,
    file: &Path,
    format: Format,
    jobs: usize,
) -> Result<Status> {
    let (data, name) = if file.as_os_str() == "-" {
        let mut d = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut d)
            .map_err(|e| Error::new(format!("reading standard input: {e}")))?;
        (d, "<stdin>".to_owned())
    } else {
        (
            std::fs::read(file).map_err(|e| Error::io(file, &e).context("--rebaseline"))?,
            file.display().to_string(),
        )
    };
    let input = baseline::parse(&data, &name)?;
    let mut pkgs = Vec::new();
    let mut absent = Vec::new();
    for p in &input.packages {
        let hits: Vec<&Stanza> = db
            .known()
            .filter(|s| {
                s.package() == Some(p.name.as_str())
                    && p.arch.as_deref().is_none_or(|a| s.arch() == Some(a))
            })
            .collect();
        if hits.is_empty() {
            absent.push(match &p.arch {
                Some(a) => format!("{}:{a}", p.name),
                None => p.name.clone(),
            });
        }
        pkgs.extend(hits);
    }
    let plan = plan_of(db, div, &pkgs)?;
    let found = check::check(root, &plan, jobs);
    let bad: BTreeSet<usize> = found.iter().map(|f| f.entry).collect();
    let mut paths: Vec<Vec<u8>> = plan
        .entries
        .iter()
        .enumerate()
        .filter(|(i, e)| !bad.contains(i) && e.path != b"/.")
        .map(|(_, e)| {
            check::real_path(root, &e.path)
                .as_os_str()
                .as_bytes()
                .to_vec()
        })
        .collect();
    paths.sort();
    paths.dedup();
    let mut out = Out::stdout();
    match format {
        Format::Paths => {
            for p in &paths {
                out.raw(p)?;
                out.raw(b"\n")?;
            }
        }
        _ => out.line(&baseline::regex(&paths))?,
    }
    out.finish()?;
    let left_out: BTreeSet<(&[u8], bool)> = found
        .iter()
        .map(|f| {
            let e = &plan.entries[f.entry];
            (e.path.as_slice(), e.conffile)
        })
        .collect();
    if !left_out.is_empty() {
        let conf = left_out.iter().filter(|(_, c)| *c).count();
        common::warn!(
            "pkg-verify: {} left out{}: changed since {} package installed {} \
             (pkg-verify --package NAME --format text shows them)",
            plural(left_out.len(), "file", "files"),
            match conf {
                0 => String::new(),
                1 => " (1 of them a conffile)".to_owned(),
                n => format!(" ({n} of them conffiles)"),
            },
            if left_out.len() == 1 { "its" } else { "their" },
            if left_out.len() == 1 { "it" } else { "them" },
        );
    }
    if !absent.is_empty() {
        common::warn!(
            "pkg-verify: not installed, so owning no files: {}",
            absent.join(", ")
        );
    }
    if !input.removed.is_empty() {
        common::warn!(
            "pkg-verify: removed by the patch, owning no files now: {} \
             (the integrity tool reports their files as removed)",
            input.removed.join(", ")
        );
    }
    if paths.is_empty() {
        common::warn!("pkg-verify: no files to re-baseline: {name} names no installed package");
    }
    Ok(Status::Ok)
}
