//! The output: the records as JSON Lines, or the text view.

use common::cli::Format;
use common::records::package::Package;
use common::{Out, Result};

/// Write the packages in `format` to standard output.
pub fn write(packages: &[Package], format: Format) -> Result<()> {
    let mut out = Out::stdout();
    match format {
        Format::Json => {
            for p in packages {
                out.serialize(p)?;
            }
        }
        Format::Text => {
            for l in text(packages) {
                out.line(&l)?;
            }
        }
    }
    out.finish()
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
