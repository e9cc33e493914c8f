//! The records, the netstat-like table and the one line of a partial
//! snapshot.

use std::collections::HashMap;

use common::cli::Format;
use common::names::Names;
use common::partial::{Noun, Partial, Reason};
use common::{Out, Result, Root};

use crate::snapshot::Snapshot;
use crate::sock;
use crate::sock::{Context, Family, Proto};

/// Write the records or the table.
pub fn write(snap: &Snapshot, root: &Root, format: Format, all_netns: bool) -> Result<()> {
    let mut out = Out::stdout();
    match format {
        Format::Json => {
            let host = root.hostname();
            let mut names = Names::new(root);
            let mut users: HashMap<u32, Option<String>> = HashMap::new();
            let mut buf = Vec::with_capacity(64 * 1024);
            for s in &snap.sockets {
                let user = match s.uid {
                    Some(u) => users.entry(u).or_insert_with(|| names.user(u)).as_deref(),
                    None => None,
                };
                let cx = Context {
                    host: host.as_deref(),
                    user,
                    processes: snap.owners.of(s.inode),
                };
                sock::write_record(&mut buf, s, cx);
                if buf.len() >= 60 * 1024 {
                    out.raw(&buf)?;
                    buf.clear();
                }
            }
            out.raw(&buf)?;
        }
        Format::Text => {
            for line in text_table(snap, all_netns) {
                out.line(&line)?;
            }
        }
    }
    out.finish()
}

/// The netstat-like table, columns sized to their content.
pub fn text_table(snap: &Snapshot, all_netns: bool) -> Vec<String> {
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(snap.sockets.len() + 1);
    let mut head = vec![
        "Proto",
        "Recv-Q",
        "Send-Q",
        "Local Address",
        "Foreign Address",
        "State",
        "PID/Program",
    ];
    if all_netns {
        head.insert(0, "Netns");
    }
    rows.push(head.into_iter().map(str::to_owned).collect());
    let dash = |v: Option<u32>| v.map_or_else(|| "-".to_owned(), |n| n.to_string());
    for s in &snap.sockets {
        let proto = match (s.proto, s.family, s.sock_type) {
            (Proto::Unix, _, Some("stream")) => "u_str".to_owned(),
            (Proto::Unix, _, Some("dgram")) => "u_dgr".to_owned(),
            (Proto::Unix, _, Some("seqpacket")) => "u_seq".to_owned(),
            (p, Family::Inet6, _) => format!("{}6", p.name()),
            (p, _, _) => p.name().to_owned(),
        };
        let procs = match snap.owners.of(s.inode) {
            None => "?".to_owned(),
            Some(v) if v.is_empty() => "-".to_owned(),
            Some(v) => v
                .iter()
                .map(|(pid, comm)| match comm {
                    Some(c) => format!("{pid}/{}", common::bytes::display(c)),
                    None => pid.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
        };
        let mut row = vec![
            proto,
            dash(s.recv_q),
            dash(s.send_q),
            sock::endpoint_text(s.family, &s.local, s.local_port),
            sock::endpoint_text(s.family, &s.remote, s.remote_port),
            s.state.unwrap_or("-").to_owned(),
            procs,
        ];
        if all_netns {
            row.insert(0, s.netns.map_or_else(|| "-".to_owned(), |n| n.to_string()));
        }
        rows.push(row);
    }
    let cols = rows[0].len();
    let mut width = vec![0usize; cols];
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    rows.iter()
        .map(|r| {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate() {
                if i + 1 == cols {
                    line.push_str(c);
                } else {
                    line.push_str(&format!("{c:<w$} ", w = width[i]));
                }
            }
            line
        })
        .collect()
}

/// The one summary line of what could not be read (RECORDS.md: at most
/// one line, never one per item): the parts of processes (fd tables:
/// owners; namespace links: netns), the tables of other network
/// namespaces, and table lines that did not parse, each with its count and
/// reason. Even root can be refused (a hardened or sandboxed pid 1); the
/// line says which case this is, so the hint to run as root is only given
/// where it helps.
pub fn partial_line(snap: &Snapshot, as_root: bool) -> Option<String> {
    const PREFIX: &str = "partial snapshot: ";
    let mut netns = Partial::default();
    netns.add(
        "sockets",
        snap.netns_unreadable,
        Reason::Text("their processes exited or are not readable"),
    );
    let bad = (!snap.bad_lines.is_empty()).then(|| {
        let n: usize = snap.bad_lines.iter().map(|b| b.count).sum();
        let files: Vec<String> = snap
            .bad_lines
            .iter()
            .map(|b| match b.count {
                1 => format!("{}:{}", b.path.display(), b.first),
                c => format!("{}:{} and {} more", b.path.display(), b.first, c - 1),
            })
            .collect();
        format!(
            "{PREFIX}{n} malformed {} skipped ({})",
            if n == 1 { "line" } else { "lines" },
            files.join(", ")
        )
    });
    let parts: Vec<String> = [
        snap.owners
            .partial
            .summary(Noun("process", "processes"), &["owners", "netns"], as_root),
        netns.summary(
            Noun("network namespace", "network namespaces"),
            &[],
            as_root,
        ),
        bad,
    ]
    .into_iter()
    .flatten()
    .map(|l| {
        l.strip_prefix(PREFIX)
            .map_or_else(|| l.clone(), str::to_owned)
    })
    .collect();
    (!parts.is_empty()).then(|| format!("{PREFIX}{}", parts.join("; ")))
}
