//! Verifying: the packages asked for, the plan of their files, the check
//! (in parallel), and the records in path order or the text view.

use std::collections::BTreeSet;

use common::bytes;
use common::diag::plural;
use common::dpkg::{Database, Stanza};
use common::records::verify::Verify;
use common::{Error, Out, Result, Root, Status};

use crate::args::{Format, Options};
use crate::db::{self, Diversions, Plan};
use crate::{check, rebaseline, rpm};

/// Verify the system (or list the files to re-baseline) as the options
/// say: dpkg's database if there is one, else rpm's.
pub fn run(o: &Options) -> Result<Status> {
    let (root, format, jobs) = (&o.root, o.format, o.jobs);
    let rebaseline = o.rebaseline.as_deref();
    let wanted = o.packages.as_deref();
    let Some(db) = Database::read(root)? else {
        if let Some(plan) = rpm::plan(root, wanted)? {
            if rebaseline.is_some() {
                return Err(Error::new(format!(
                    "--rebaseline reads dpkg's database, and {} is an rpm system; \
                     verify it without --rebaseline",
                    root.base()
                        .map_or("this".to_owned(), |b| b.display().to_string())
                )));
            }
            return verify_rpm(root, &plan, format, jobs);
        }
        return Err(Error::new(format!(
            "{}: no dpkg status file, and {}: no rpm database; pkg-verify verifies \
             dpkg and rpm systems (--root DIR for a mounted one)",
            root.path(common::dpkg::ADMINDIR).join("status").display(),
            common::rpm::db_path(root).display()
        )));
    };
    let div = Diversions::read(&db.admindir)?;
    match rebaseline {
        Some(file) => rebaseline::files(root, &db, &div, file, format, jobs),
        None => verify(root, &db, &div, wanted, format, jobs),
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

pub fn plan_of(db: &Database, div: &Diversions, pkgs: &[&Stanza]) -> Result<Plan> {
    let mut plan = Plan::default();
    for st in pkgs {
        db::add_package(db, div, st, &mut plan)?;
    }
    if !plan.without_list.is_empty() {
        common::warn!(
            "pkg-verify: {} without a file list, taken as having no files \
             (as dpkg does): {}",
            plural(plan.without_list.len(), "package", "packages"),
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
            plural(recs.len(), "problem", "problems"),
            plural(pkgs.len(), "package", "packages"),
            plural(files, "file", "files"),
            plural(packages, "package", "packages"),
        ))?;
    }
    out.finish()?;
    Ok(if recs.is_empty() {
        Status::Ok
    } else {
        Status::Differs
    })
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
