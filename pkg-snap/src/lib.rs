//! pkg-snap: one `package` record per installed package, for the
//! patch-day snapshot before and after the patches (`pkg-snap >
//! before.json`): name, architecture and version exactly as the package
//! manager prints them, the source package, dpkg's status word, why it is
//! installed (apt's or dnf's own records), whether it is on hold, and the
//! package files of it still in the local cache, which a rollback can use
//! without the network. `snap-diff` then says which packages were upgraded
//! or downgraded, by the manager's own version ordering.
//!
//! dpkg's database is read in [`dpkg`], rpm's in [`rpm`]; this file holds
//! the options, the order of the records and the text view.

pub mod cache;
pub mod dpkg;
pub mod rpm;

use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};

use common::cli::{self, Format};
use common::records::package::Package;
use common::{Error, Out, Result, Root, Status};

/// The package managers pkg-snap reads, in the order their records are
/// written.
pub const MANAGERS: [&str; 2] = ["dpkg", "rpm"];

/// The `pkg-snap` binary.
pub fn main() -> ExitCode {
    common::run("pkg-snap", || {
        let m = cli::parse(command())?;
        run(&m)
    })
}

/// The command line.
pub fn command() -> Command {
    cli::command(
        "pkg-snap",
        env!("CARGO_PKG_VERSION"),
        "Snapshot every installed package as JSON Lines, with the cached package files a rollback can use",
    )
    .long_about(
        "Write one `package` record per installed package as JSON Lines, in a \
         stable order (by manager, name, architecture): name, architecture and \
         version exactly as the package manager prints them, source package, \
         dpkg's status word, install reason (manual or auto, from apt's or dnf's \
         records), hold, install time, and the package files of that name in the \
         local cache (/var/cache/apt/archives, dnf's cache). dpkg's database is \
         read as dpkg reads it (the status file with the pending updates of an \
         interrupted run applied); rpm's from its SQLite database. Take one \
         snapshot before and one after the patches and compare them with \
         snap-diff, which says which packages were upgraded or downgraded.",
    )
    .arg(cli::root_arg())
    .arg(cli::format_arg())
    .arg(
        Arg::new("manager")
            .long("manager")
            .value_name("MANAGER,...")
            .value_delimiter(',')
            .action(ArgAction::Append)
            .value_parser(MANAGERS)
            .help(
                "Read only these package managers' databases (dpkg, rpm; \
                 comma-separated or repeated); by default every database present, \
                 and it is an error if there is none",
            ),
    )
    .after_help(
        "Examples:\n  \
         pkg-snap > before.json                     # snapshot before the patches\n  \
         pkg-snap | snap-diff --format text before.json -\n  \
         pkg-snap --format text                     # name, version, architecture\n  \
         pkg-snap | jq -r 'select(.install_reason == \"manual\") | .name'\n  \
         pkg-snap --root /mnt/web01 --manager dpkg  # a mounted system",
    )
}

/// Run with parsed arguments.
pub fn run(m: &ArgMatches) -> Result<Status> {
    let root = cli::root_of(m)?;
    let managers: Vec<&str> = match m.get_many::<String>("manager") {
        Some(v) => v.map(String::as_str).collect(),
        None => Vec::new(),
    };
    let packages = snapshot(&root, &managers)?;
    let mut out = Out::stdout();
    match cli::format_of(m) {
        Format::Json => {
            for p in &packages {
                out.serialize(p)?;
            }
        }
        Format::Text => {
            for l in text(&packages) {
                out.line(&l)?;
            }
        }
    }
    out.finish()?;
    Ok(Status::Ok)
}

/// Every package of the asked managers (all present when `managers` is
/// empty), in the stable order: manager, name, architecture, then version
/// by the manager's ordering (rpm installs several versions of a kernel
/// side by side).
pub fn snapshot(root: &Root, managers: &[&str]) -> Result<Vec<Package>> {
    let want = |m: &str| managers.is_empty() || managers.contains(&m);
    let host = root.hostname();
    let mut all = Vec::new();
    let mut found = Vec::new();
    if want("dpkg") {
        if let Some(mut p) = dpkg::read(root)? {
            found.push("dpkg");
            all.append(&mut p);
        } else if !managers.is_empty() {
            return Err(Error::new(format!(
                "--manager dpkg: no dpkg database ({} does not exist)",
                root.path(common::dpkg::ADMINDIR).join("status").display()
            )));
        }
    }
    if want("rpm") {
        if let Some(mut p) = rpm::read(root)? {
            found.push("rpm");
            all.append(&mut p);
        } else if !managers.is_empty() {
            return Err(Error::new(format!(
                "--manager rpm: no rpm database ({} does not exist)",
                rpm::db_path(root).display()
            )));
        }
    }
    if found.is_empty() {
        return Err(Error::new(format!(
            "no package database under {}: neither {} nor {} exists{}",
            root.base()
                .map_or("/".to_owned(), |b| b.display().to_string()),
            root.path(common::dpkg::ADMINDIR).join("status").display(),
            rpm::db_path(root).display(),
            if root.is_live() {
                ""
            } else {
                " (is --root the top of a system?)"
            }
        )));
    }
    for p in &mut all {
        p.host.clone_from(&host);
    }
    all.sort_by(|a, b| {
        let rank = |m: &str| MANAGERS.iter().position(|x| *x == m);
        rank(&a.manager)
            .cmp(&rank(&b.manager))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.arch.cmp(&b.arch))
            .then_with(|| match (&a.version, &b.version) {
                (Some(x), Some(y)) => {
                    common::records::package::compare(&a.manager, x, y).unwrap_or_else(|| x.cmp(y))
                }
                (x, y) => x.cmp(y),
            })
    });
    Ok(all)
}

/// The text view: `NAME VERSION ARCH` in aligned columns, with a note for
/// a package that is not fully installed, held, or of another manager than
/// the first.
pub fn text(packages: &[Package]) -> Vec<String> {
    let dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".to_owned());
    let wn = packages
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(0)
        .max(4);
    let wv = packages
        .iter()
        .map(|p| p.version.as_deref().map_or(1, str::len))
        .max()
        .unwrap_or(0)
        .max(7);
    let several = packages.iter().any(|p| p.manager != packages[0].manager);
    let mut out = vec![format!("{:<wn$} {:<wv$} ARCH", "NAME", "VERSION")
        .trim_end()
        .to_owned()];
    for p in packages {
        let mut notes = Vec::new();
        if several {
            notes.push(p.manager.clone());
        }
        if p.status != "installed" {
            notes.push(p.status.clone());
        }
        if p.held == Some(true) {
            notes.push("held".to_owned());
        }
        let mut l = format!(
            "{:<wn$} {:<wv$} {}",
            p.name,
            dash(&p.version),
            dash(&p.arch)
        );
        if !notes.is_empty() {
            l.push_str(&format!(" ({})", notes.join(", ")));
        }
        out.push(l);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_view_aligns_and_notes() {
        let mut a = Package::new("dpkg", "openssh-server");
        a.version = Some("1:9.2p1-2+deb12u10".into());
        a.arch = Some("amd64".into());
        let mut b = Package::new("dpkg", "vim");
        b.version = Some("2:9.0".into());
        b.arch = Some("amd64".into());
        b.held = Some(true);
        b.status = "half-configured".into();
        let t = text(&[a, b]);
        assert_eq!(
            t,
            [
                "NAME           VERSION            ARCH",
                "openssh-server 1:9.2p1-2+deb12u10 amd64",
                "vim            2:9.0              amd64 (half-configured, held)",
            ]
        );
    }
}
