//! The snapshot: every package of the asked managers' databases, in the
//! stable order the records are written in.

use clap::ValueEnum;

use common::records::package::Package;
use common::{Error, Result, Root};

use crate::args::Manager;
use crate::{dpkg, rpm};

/// Every package of the asked managers (all present when `managers` is
/// empty), in the stable order: manager, name, architecture, then version
/// by the manager's ordering (rpm installs several versions of a kernel
/// side by side).
pub fn snapshot(root: &Root, managers: &[Manager]) -> Result<Vec<Package>> {
    let want = |m: Manager| managers.is_empty() || managers.contains(&m);
    let host = root.hostname();
    let mut all = Vec::new();
    let mut found = Vec::new();
    if want(Manager::Dpkg) {
        if let Some(mut p) = dpkg::read(root)? {
            found.push(Manager::Dpkg);
            all.append(&mut p);
        } else if !managers.is_empty() {
            return Err(Error::new(format!(
                "--manager dpkg: no dpkg database ({} does not exist)",
                root.path(common::dpkg::ADMINDIR).join("status").display()
            )));
        }
    }
    if want(Manager::Rpm) {
        if let Some(mut p) = rpm::read(root)? {
            found.push(Manager::Rpm);
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
        let rank = |m: &str| {
            Manager::value_variants()
                .iter()
                .position(|x| x.as_str() == m)
        };
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
