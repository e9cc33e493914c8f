//! Package files in a local cache directory (apt's archives, dnf's
//! `packages/` directories), by package name, read from their file names
//! ([`common::records::package::cached_version`]).

use std::collections::HashMap;
use std::io::ErrorKind;
use std::path::Path;

use common::records::package::cached_version;
use common::{Error, Result, Root};

/// The package files of a cache directory, by package name: (arch, system
/// path). Names that are not package file names (`lock`, `partial/`) are
/// left out.
pub struct Cache {
    by_name: HashMap<String, Vec<(String, String)>>,
}

impl Cache {
    /// The files ending in `ext` in the directory `dir` (a system path; a
    /// missing directory holds nothing).
    pub fn read(root: &Root, dir: &str, ext: &str) -> Result<Cache> {
        let mut c = Cache {
            by_name: HashMap::new(),
        };
        c.add_dir(root, Path::new(dir), ext)?;
        Ok(c)
    }

    /// Add the files of one more directory.
    pub fn add_dir(&mut self, root: &Root, dir: &Path, ext: &str) -> Result<()> {
        let real = root.path(dir);
        let rd = match std::fs::read_dir(&real) {
            Ok(rd) => rd,
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                return Ok(())
            }
            Err(e) => return Err(Error::io(&real, &e)),
        };
        for e in rd {
            let e = e.map_err(|e| Error::io(&real, &e))?;
            // Package file names are ASCII by construction; anything else
            // is no package file.
            let Some(file) = e.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if !file.ends_with(ext) {
                continue;
            }
            let sys = dir.join(&file).to_string_lossy().into_owned();
            if let Some((name, _, arch)) = cached_version(&sys) {
                self.by_name.entry(name).or_default().push((arch, sys));
            }
        }
        Ok(())
    }

    /// The cached files of a package, sorted: those of its architecture,
    /// and of `all` (`noarch`) either way round, since a package may move
    /// between an architecture and none from one version to the next.
    pub fn files(&self, name: &str, arch: Option<&str>) -> Vec<String> {
        let Some(v) = self.by_name.get(name) else {
            return Vec::new();
        };
        let indep = |a: &str| a == "all" || a == "noarch";
        let mut out: Vec<String> = v
            .iter()
            .filter(|(a, _)| match arch {
                Some(want) => a == want || indep(a) || indep(want),
                None => true,
            })
            .map(|(_, p)| p.clone())
            .collect();
        out.sort();
        out
    }
}
