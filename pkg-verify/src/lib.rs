//! pkg-verify: which installed files no longer match what their packages
//! installed (`dpkg --verify` and `rpm -Va`, as JSON Lines, checked in
//! parallel), and the
//! file-integrity step of patch day: the files the patched packages own
//! now, as a regular expression for `aide --update --limit` or as a list.
//!
//! What dpkg recorded is read in [`db`], files are checked in [`check`]; rpm's
//! packages are read and checked in [`rpm`];
//! the package changes and the AIDE expression are in [`baseline`]; this
//! file holds the options and the output.

pub mod baseline;
pub mod check;
pub mod db;
pub mod rpm;

use std::collections::BTreeSet;
use std::io::Read;
use std::num::NonZeroUsize;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};

use common::bytes;
use common::cli;
use common::dpkg::{Database, Stanza};
use common::records::verify::Verify;
use common::{Error, Out, Result, Root, Status};

use crate::db::{Diversions, Plan};

/// The `pkg-verify` binary.
pub fn main() -> std::process::ExitCode {
    common::run("pkg-verify", || {
        let m = cli::parse(command())?;
        run(&m)
    })
}

/// The command line.
pub fn command() -> Command {
    cli::command(
        "pkg-verify",
        env!("CARGO_PKG_VERSION"),
        "Verify installed files against their packages (dpkg --verify and rpm -Va as JSON Lines), \
         and list the files patched packages own for a file-integrity re-baseline",
    )
    .long_about(
        "Check every file the installed packages put on disk against what dpkg \
         recorded, as `dpkg --verify` does, and write one `verify` record per \
         problem (missing, type, digest, unreadable), in path order, as JSON Lines. \
         On an rpm system (no dpkg status file, an rpm database in \
         /var/lib/rpm/rpmdb.sqlite) check them as `rpm -Va` does, which also \
         compares mode, owner, group, size and link (not the mtime). \
         Files are checked in parallel. A changed configuration file is reported \
         with conffile: true. Files that belong to no package are not looked at.\n\n\
         With --rebaseline FILE, print instead the files that the packages named \
         in FILE (snap-diff output of two pkg-snap snapshots, or package names) \
         own now and that match what the package installed: a regular expression \
         for `aide --update --limit`, or a list of paths.",
    )
    .arg(cli::root_arg())
    .arg(
        Arg::new("format")
            .long("format")
            .value_name("FORMAT")
            .value_parser(["json", "text", "aide-limit", "paths"])
            .help(
                "Output verify records as JSON Lines (json, the default) or a compact \
                 view (text); with --rebaseline: a regular expression for \
                 aide --update --limit (aide-limit, the default) or one path per line \
                 (paths)",
            ),
    )
    .arg(
        Arg::new("package")
            .short('p')
            .long("package")
            .value_name("NAME,...")
            .value_delimiter(',')
            .action(ArgAction::Append)
            .help(
                "Verify only these packages (NAME for every architecture, or NAME:ARCH; \
                 comma-separated or repeated); one that is not installed is trouble",
            ),
    )
    .arg(
        Arg::new("rebaseline")
            .long("rebaseline")
            .value_name("FILE")
            .value_parser(value_parser!(PathBuf))
            .conflicts_with("package")
            .help(
                "Print the files that the packages named in FILE (- for standard input) \
                 own now, for a file-integrity re-baseline (dpkg systems): FILE holds snap-diff change \
                 records of pkg-snap snapshots, pkg-snap package records, or package \
                 names (NAME or NAME:ARCH); files that fail verification are left out",
            ),
    )
    .arg(
        Arg::new("jobs")
            .short('j')
            .long("jobs")
            .value_name("N")
            .value_parser(value_parser!(NonZeroUsize))
            .help("Check files with N threads (default: one per CPU)"),
    )
    .after_help(
        "Examples:\n  \
         pkg-verify > before.json                     # every problem now\n  \
         pkg-verify --package openssh-server --format text\n  \
         pkg-verify | snap-diff before.json -         # what the patch broke\n  \
         snap-diff before-pkg.json after-pkg.json > changes.json\n  \
         limit=$(pkg-verify --rebaseline changes.json) && aide --update --limit \"$limit\"\n\n\
         Exit status: 0 no problem found (or the files were printed), 1 problems found, \
         2 trouble.",
    )
}

/// Output of the verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Text,
    AideLimit,
    Paths,
}

/// Run with parsed arguments.
pub fn run(m: &ArgMatches) -> Result<Status> {
    let root = cli::root_of(m)?;
    let jobs = m
        .get_one::<NonZeroUsize>("jobs")
        .copied()
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get);
    let format = m.get_one::<String>("format").map(String::as_str);
    let rebaseline = m.get_one::<PathBuf>("rebaseline");
    let format = match (format, rebaseline.is_some()) {
        (None | Some("json"), false) => Format::Json,
        (Some("text"), false) => Format::Text,
        (None | Some("aide-limit"), true) => Format::AideLimit,
        (Some("paths"), true) => Format::Paths,
        (Some(f), true) => {
            return Err(Error::new(format!(
                "--format {f} does not go with --rebaseline: use --format aide-limit or paths"
            )))
        }
        (Some(f), false) => {
            return Err(Error::new(format!(
                "--format {f} lists files for a re-baseline: give --rebaseline FILE \
                 (or --format json or text to verify)"
            )))
        }
    };
    let wanted: Option<Vec<String>> = m
        .get_many::<String>("package")
        .map(|v| v.cloned().collect());
    let Some(db) = Database::read(&root)? else {
        if let Some(plan) = rpm::plan(&root, wanted.as_deref())? {
            if rebaseline.is_some() {
                return Err(Error::new(format!(
                    "--rebaseline reads dpkg's database, and {} is an rpm system;                      verify it without --rebaseline",
                    root.base().map_or("this".to_owned(), |b| b.display().to_string())
                )));
            }
            return verify_rpm(&root, &plan, format, jobs);
        }
        return Err(Error::new(format!(
            "{}: no dpkg status file, and {}: no rpm database; pkg-verify verifies \
             dpkg and rpm systems (--root DIR for a mounted one)",
            root.path(common::dpkg::ADMINDIR).join("status").display(),
            common::rpm::db_path(&root).display()
        )));
    };
    let div = Diversions::read(&db.admindir)?;
    match rebaseline {
        Some(file) => rebaseline_files(&root, &db, &div, file, format, jobs),
        None => verify(&root, &db, &div, wanted.as_deref(), format, jobs),
    }
}

/// Verify the files of rpm's packages.
fn verify_rpm(root: &Root, plan: &rpm::Plan, format: Format, jobs: usize) -> Result<Status> {
    let found = check::par_check(
        &plan.entries,
        jobs,
        || common::names::Names::new(root),
        |i, e, names, buf, found| rpm::check_one(root, i, e, names, buf, found),
    );
    let host = root.hostname();
    let recs = found
        .into_iter()
        .map(|f| {
            let e = &plan.entries[f.entry];
            let mut r = Verify::new(
                host.clone(),
                plan.packages[e.pkg as usize].clone(),
                e.path.clone(),
                f.problem,
            );
            r.conffile = e.conffile();
            r.expected = f.expected;
            r.actual = f.actual;
            r
        })
        .collect();
    emit(recs, plan.entries.len(), plan.packages.len(), format)
}

/// The packages dpkg would verify: every one it knows (all but
/// `not-installed`), or the ones named (NAME for every architecture,
/// NAME:ARCH for one), each named one required to be installed.
fn select<'a>(db: &'a Database, wanted: Option<&[String]>, what: &str) -> Result<Vec<&'a Stanza>> {
    let known: Vec<&Stanza> = db.known().collect();
    let Some(wanted) = wanted else {
        return Ok(known);
    };
    let mut out = BTreeSet::new();
    for w in wanted {
        let (name, arch) = match w.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (w.as_str(), None),
        };
        let hits: Vec<usize> = known
            .iter()
            .enumerate()
            .filter(|(_, s)| s.package() == Some(name) && arch.is_none_or(|a| s.arch() == Some(a)))
            .map(|(i, _)| i)
            .collect();
        if hits.is_empty() {
            return Err(Error::new(format!(
                "{what} {w}: package is not installed (dpkg -l {name} shows what dpkg knows)"
            )));
        }
        out.extend(hits);
    }
    Ok(out.into_iter().map(|i| known[i]).collect())
}

fn plan_of(db: &Database, div: &Diversions, pkgs: &[&Stanza]) -> Result<Plan> {
    let mut plan = Plan::default();
    for st in pkgs {
        db::add_package(db, div, st, &mut plan)?;
    }
    if !plan.without_list.is_empty() {
        eprintln!(
            "pkg-verify: {} package{} without a file list, taken as having no files \
             (as dpkg does): {}",
            plan.without_list.len(),
            if plan.without_list.len() == 1 {
                ""
            } else {
                "s"
            },
            plan.without_list.join(", ")
        );
    }
    Ok(plan)
}

fn verify(
    root: &Root,
    db: &Database,
    div: &Diversions,
    wanted: Option<&[String]>,
    format: Format,
    jobs: usize,
) -> Result<Status> {
    let pkgs = select(db, wanted, "--package")?;
    let plan = plan_of(db, div, &pkgs)?;
    let found = check::check(root, &plan, jobs);
    let host = root.hostname();
    let recs: Vec<Verify> = found
        .into_iter()
        .map(|f| {
            let e = &plan.entries[f.entry];
            let mut r = Verify::new(
                host.clone(),
                plan.packages[e.pkg as usize].clone(),
                e.path.clone(),
                f.problem,
            );
            r.conffile = e.conffile;
            r.expected = f.expected;
            r.actual = f.actual;
            r
        })
        .collect();
    emit(recs, plan.entries.len(), plan.packages.len(), format)
}

/// Write the records in path order (and the text view's summary); 1 when
/// there is any.
fn emit(mut recs: Vec<Verify>, files: usize, packages: usize, format: Format) -> Result<Status> {
    recs.sort_by(|a, b| (&a.path, &a.package, a.problem).cmp(&(&b.path, &b.package, b.problem)));
    let mut out = Out::stdout();
    for r in &recs {
        match format {
            Format::Text => out.line(&text_line(r))?,
            _ => {
                let v = serde_json::to_value(r)
                    .map_err(|e| Error::new(format!("encoding a record: {e}")))?;
                out.record(&v)?;
            }
        }
    }
    if format == Format::Text {
        let pkgs: BTreeSet<&str> = recs.iter().map(|r| r.package.as_str()).collect();
        out.line(&format!(
            "# {} in {} ({} of {} checked)",
            plural(recs.len(), "problem"),
            plural(pkgs.len(), "package"),
            plural(files, "file"),
            plural(packages, "package"),
        ))?;
    }
    out.finish()?;
    Ok(if recs.is_empty() {
        Status::Ok
    } else {
        Status::Differs
    })
}

/// `1 file`, `2 files`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `PROBLEM c PACKAGE PATH (expected -> actual)`, the `c` marking a
/// conffile as in dpkg's report.
fn text_line(r: &Verify) -> String {
    let mut s = format!(
        "{:<10} {} {} {}",
        r.problem.as_str(),
        if r.conffile { 'c' } else { ' ' },
        r.package,
        bytes::display(&r.path)
    );
    match (&r.expected, &r.actual) {
        (Some(e), Some(a)) => s.push_str(&format!(" ({e} -> {a})")),
        (None, Some(a)) => s.push_str(&format!(" ({a})")),
        _ => {}
    }
    s
}

fn rebaseline_files(
    root: &Root,
    db: &Database,
    div: &Diversions,
    file: &std::path::Path,
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
        eprintln!(
            "pkg-verify: {} left out{}: changed since {} package installed {} \
             (pkg-verify --package NAME --format text shows them)",
            plural(left_out.len(), "file"),
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
        eprintln!(
            "pkg-verify: not installed, so owning no files: {}",
            absent.join(", ")
        );
    }
    if !input.removed.is_empty() {
        eprintln!(
            "pkg-verify: removed by the patch, owning no files now: {} \
             (the integrity tool reports their files as removed)",
            input.removed.join(", ")
        );
    }
    if paths.is_empty() {
        eprintln!("pkg-verify: no files to re-baseline: {name} names no installed package");
    }
    Ok(Status::Ok)
}
