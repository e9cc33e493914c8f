//! The output: the records as JSON Lines, or a table for people.

use common::cli::Format;
use common::records::unit::Unit;
use common::{Error, Out, Result};

/// Write the records (JSON Lines) or the text view.
pub fn write<W: std::io::Write>(units: &[Unit], format: Format, out: &mut Out<W>) -> Result<()> {
    match format {
        Format::Json => {
            for u in units {
                let v = serde_json::to_value(u)
                    .map_err(|e| Error::new(format!("encoding a record: {e}")))?;
                out.record(&v)?;
            }
        }
        Format::Text => {
            let w = units.iter().map(|u| u.name.len()).max().unwrap_or(4).max(4);
            out.line(&format!(
                "{:<w$}  {:<15}  {:<17}  WANTED BY",
                "UNIT", "STATE", "ACTIVE"
            ))?;
            for u in units {
                out.line(&text_line(u, w))?;
            }
        }
    }
    Ok(())
}

/// One unit for people: name, state, what runs now, who pulls it in.
fn text_line(u: &Unit, w: usize) -> String {
    let active = match (&u.active, &u.sub) {
        (Some(a), Some(s)) => format!("{a}/{s}"),
        (Some(a), None) => a.clone(),
        _ => "-".to_owned(),
    };
    let mut tail = match (&u.runlevels, &u.alias_of, &u.wanted_by) {
        (Some(r), _, _) if r.is_empty() => "no runlevel".to_owned(),
        (Some(r), _, _) => format!("runlevels {}", r.join(" ")),
        (_, Some(a), _) => format!("-> {a}"),
        (_, _, Some(wb)) if !wb.is_empty() => wb.join(" "),
        _ => "-".to_owned(),
    };
    if let Some(i) = u.instances.as_ref().filter(|i| !i.is_empty()) {
        tail.push_str(&format!(" [{}]", i.join(" ")));
    }
    format!("{:<w$}  {:<15}  {:<17}  {}", u.name, u.state, active, tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lines_say_state_and_who_pulls_in() {
        let mut u = Unit::new(
            None,
            "ssh.service".into(),
            "service".into(),
            "enabled".into(),
        );
        u.wanted_by = Some(vec!["multi-user.target".into()]);
        assert_eq!(
            text_line(&u, 11),
            "ssh.service  enabled          -                  multi-user.target"
        );
        let mut s = Unit::new(None, "cron".into(), "sysv".into(), "enabled".into());
        s.runlevels = Some(vec!["2".into(), "3".into()]);
        assert!(text_line(&s, 4).ends_with("runlevels 2 3"));
    }
}
