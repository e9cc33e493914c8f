//! The output: the records as JSON Lines, or one line per setting for
//! people.

use serde_json::Value;

use common::bytes::display_value;
use common::cli::Format;
use common::records::setting::{Detail, Setting};
use common::{Error, Out, Result};

/// Write the settings as JSON Lines or text.
pub fn write<W: std::io::Write>(
    settings: &[Setting],
    format: Format,
    out: &mut Out<W>,
) -> Result<()> {
    let mut buf = Vec::with_capacity(512);
    for s in settings {
        buf.clear();
        match format {
            Format::Json => {
                serde_json::to_writer(&mut buf, s)
                    .map_err(|e| Error::new(format!("encoding a record: {e}")))?;
                buf.push(b'\n');
            }
            Format::Text => {
                buf.extend_from_slice(text_line(s).as_bytes());
                buf.push(b'\n');
            }
        }
        out.raw(&buf)?;
    }
    Ok(())
}

/// One line for people: `AREA NAME VALUE` and what the area adds.
pub fn text_line(s: &Setting) -> String {
    let name = display_value(&s.name);
    let value = match &s.value {
        Value::Null => format!("- ({})", s.reason.as_deref().unwrap_or("unknown")),
        v => display_value(v),
    };
    let mut line = format!("{:<8} {name} = {value}", s.area());
    match &s.detail {
        Detail::Sysctl {
            configured: Some(c),
            configured_file,
            configured_line,
            differs,
        } => {
            let file = configured_file
                .as_ref()
                .map(display_value)
                .unwrap_or_default();
            line.push_str(&format!(
                "  [boot: {c} from {file}:{}{}]",
                configured_line.unwrap_or(0),
                if *differs == Some(true) {
                    ", DIFFERS"
                } else {
                    ""
                }
            ));
        }
        Detail::File {
            user,
            group,
            uid,
            gid,
            capabilities,
            package,
            ..
        } => {
            let who = |n: &Option<String>, id: &Option<u32>| {
                n.clone()
                    .or_else(|| id.map(|i| i.to_string()))
                    .unwrap_or_else(|| "-".into())
            };
            line.push_str(&format!("  {} {}", who(user, uid), who(group, gid)));
            if let Some(c) = capabilities {
                line.push_str(&format!("  {c}"));
            }
            line.push_str(&format!(
                "  [{}]",
                package.as_deref().unwrap_or("no package")
            ));
        }
        Detail::Sshd {
            configured_file: Some(f),
            configured_line,
            ..
        } => line.push_str(&format!(
            "  [{}:{}]",
            display_value(f),
            configured_line.unwrap_or(0)
        )),
        _ => {}
    }
    line.replace('\n', "\\n")
}
