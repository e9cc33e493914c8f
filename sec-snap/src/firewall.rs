//! The firewall: the nftables ruleset as `nft` itself reports it, one
//! setting per chain and per rule, and iptables-legacy's rules where the
//! legacy tables are in use. This area runs programs (`nft -j list
//! ruleset`, `nft -a list ruleset`, `iptables-legacy-save`): the kernel's
//! netlink format is theirs to read, and it needs a live system.
//!
//! A rule is named `FAMILY TABLE/CHAIN/POSITION`, its 1-based place in
//! its chain (rule handles are renumbered when a ruleset is loaded again,
//! places are not); its value is the rule as `nft list ruleset` prints
//! it, and `expr` its statements from `nft -j`. A chain is named
//! `FAMILY TABLE/CHAIN`, its value the chain's header line (`type filter
//! hook input priority filter; policy drop;`), empty for a regular chain.
//! Sets, maps and their elements are not written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use common::records::setting::{Detail, Setting};

/// A program on PATH or in the sbin directories (root's PATH has them, a
/// user's often does not).
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(
            ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
                .iter()
                .map(PathBuf::from),
        )
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn firewall(
    tool: &str,
    family: Option<&str>,
    table: Option<&str>,
    chain: Option<&str>,
    position: Option<u64>,
    expr: Option<Value>,
) -> Detail {
    Detail::Firewall {
        tool: tool.to_owned(),
        family: family.map(str::to_owned),
        table: table.map(str::to_owned),
        chain: chain.map(str::to_owned),
        position,
        expr,
    }
}

/// The firewall settings of the running system (`live` false: one setting
/// that says the area needs a live system).
pub fn settings(host: &Option<String>, live: bool) -> Vec<Setting> {
    let null = |name: &str, tool: &str, reason: String| {
        Setting::new(
            host.clone(),
            Value::from(name),
            Value::Null,
            firewall(tool, None, None, None, None, None),
        )
        .because(reason)
    };
    if !live {
        return vec![null(
            "nftables",
            "nftables",
            "the firewall ruleset needs a live system (not read under --root)".into(),
        )];
    }
    let mut out = Vec::new();
    let nft = find_program("nft");
    if let Some(nft) = &nft {
        match nft_ruleset(nft) {
            Ok((json, text)) => out.extend(flatten(host, &json, &text)),
            Err(why) => out.push(null("nftables", "nftables", why)),
        }
    }
    let legacy = legacy_tables();
    if !legacy.is_empty() {
        match find_program("iptables-legacy-save") {
            Some(p) => {
                for (family, cmd) in [("ip", "iptables-legacy-save"), ("ip6", "ip6tables-legacy-save")]
                {
                    if !legacy.iter().any(|(f, _)| f == family) {
                        continue;
                    }
                    let prog = p.with_file_name(cmd);
                    match run(&prog, &[]) {
                        Ok(text) => out.extend(legacy_settings(host, family, &text)),
                        Err(why) => out.push(null(&format!("{family} iptables-legacy"), "iptables-legacy", why)),
                    }
                }
            }
            None => out.push(null(
                "iptables-legacy",
                "iptables-legacy",
                format!(
                    "legacy iptables tables are in use ({}) but iptables-legacy-save is not installed",
                    legacy.iter().map(|(f, t)| format!("{f} {t}")).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }
    if nft.is_none() && out.is_empty() {
        out.push(null(
            "nftables",
            "nftables",
            "nft is not installed (apt-get install nftables) and no legacy iptables table is in use".into(),
        ));
    }
    out
}

/// The legacy tables in use in this network namespace, from
/// /proc/net/ip_tables_names and ip6_tables_names (empty where the
/// x_tables modules were never loaded: nothing to read, nothing loaded).
fn legacy_tables() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (family, f) in [
        ("ip", "/proc/net/ip_tables_names"),
        ("ip6", "/proc/net/ip6_tables_names"),
    ] {
        if let Ok(s) = std::fs::read_to_string(f) {
            for t in s.split_whitespace() {
                out.push((family.to_owned(), t.to_owned()));
            }
        }
    }
    out
}

/// Run a program; its stdout, or why it failed.
fn run(prog: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new(prog)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("{}: {}", prog.display(), common::error::describe_io(&e)))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err.lines().next().unwrap_or("").trim();
        return Err(format!(
            "{} {} failed: {}",
            prog.display(),
            args.join(" "),
            if first.is_empty() {
                "no message"
            } else {
                first
            }
        ));
    }
    String::from_utf8(out.stdout).map_err(|_| format!("{}: output is not UTF-8", prog.display()))
}

fn nft_ruleset(nft: &Path) -> Result<(Value, String), String> {
    let json = run(nft, &["-j", "list", "ruleset"])?;
    let json: Value = serde_json::from_str(&json)
        .map_err(|e| format!("{} -j list ruleset: not JSON ({e})", nft.display()))?;
    let text = run(nft, &["-a", "list", "ruleset"])?;
    Ok((json, text))
}

/// Key of a chain in the text listing.
type ChainKey = (String, String, String);

/// What `nft -a list ruleset` says of each chain: its header line and its
/// rules by handle.
#[derive(Debug, Default)]
pub struct Listing {
    pub headers: HashMap<ChainKey, String>,
    pub rules: HashMap<(String, String, String, u64), String>,
}

/// An nft name as the text listing writes it: bare, or quoted when it
/// needs quotes.
fn unquote(s: &str) -> String {
    s.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s)
        .to_owned()
}

/// Read the text listing (`nft -a list ruleset`): `table FAMILY NAME {`,
/// `chain NAME {`, header statements ending in `;`, and rules ending in
/// `# handle N`. Other blocks (sets, maps, flowtables) are skipped.
pub fn parse_listing(text: &str) -> Listing {
    let mut l = Listing::default();
    let mut table: Option<(String, String)> = None;
    let mut chain: Option<String> = None;
    let mut other_depth = 0usize;
    for raw in text.lines() {
        let line = raw.trim();
        // Drop the handle comment of block openers: `chain input { # handle 1`.
        let (body, handle) = match line.rsplit_once(" # handle ") {
            Some((b, h)) => (b.trim_end(), h.trim().parse::<u64>().ok()),
            None => (line, None),
        };
        if other_depth > 0 {
            other_depth += body.matches('{').count();
            other_depth -= body.matches('}').count().min(other_depth);
            continue;
        }
        if body == "}" {
            if chain.take().is_none() {
                table = None;
            }
            continue;
        }
        if let Some(rest) = body
            .strip_prefix("table ")
            .and_then(|r| r.strip_suffix(" {"))
        {
            if let Some((fam, name)) = rest.split_once(' ') {
                table = Some((fam.to_owned(), unquote(name)));
            }
            continue;
        }
        let Some((fam, tab)) = &table else { continue };
        if chain.is_none() {
            if let Some(name) = body
                .strip_prefix("chain ")
                .and_then(|r| r.strip_suffix(" {"))
            {
                chain = Some(unquote(name));
            } else if body.ends_with('{') {
                other_depth = 1;
            }
            continue;
        }
        let Some(ch) = &chain else { continue };
        match handle {
            Some(h) => {
                l.rules
                    .insert((fam.clone(), tab.clone(), ch.clone(), h), body.to_owned());
            }
            None if !body.is_empty() => {
                let hdr = l
                    .headers
                    .entry((fam.clone(), tab.clone(), ch.clone()))
                    .or_default();
                if !hdr.is_empty() {
                    hdr.push(' ');
                }
                hdr.push_str(body);
            }
            None => {}
        }
    }
    l
}

/// One setting per chain and rule of `nft -j list ruleset`, values from
/// the text listing.
pub fn flatten(host: &Option<String>, json: &Value, text: &str) -> Vec<Setting> {
    let listing = parse_listing(text);
    let mut out = Vec::new();
    let mut positions: HashMap<ChainKey, u64> = HashMap::new();
    let items = json
        .get("nftables")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let s = |o: &Value, k: &str| o.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    for item in &items {
        if let Some(c) = item.get("chain") {
            let key = (s(c, "family"), s(c, "table"), s(c, "name"));
            let value = listing.headers.get(&key).cloned().unwrap_or_default();
            out.push(Setting::new(
                host.clone(),
                Value::from(format!("{} {}/{}", key.0, key.1, key.2)),
                Value::from(value),
                firewall(
                    "nftables",
                    Some(&key.0),
                    Some(&key.1),
                    Some(&key.2),
                    None,
                    None,
                ),
            ));
        } else if let Some(r) = item.get("rule") {
            let key = (s(r, "family"), s(r, "table"), s(r, "chain"));
            let pos = positions.entry(key.clone()).or_insert(0);
            *pos += 1;
            let handle = r.get("handle").and_then(Value::as_u64);
            let expr = r.get("expr").cloned().unwrap_or(Value::Null);
            let text = handle.and_then(|h| {
                listing
                    .rules
                    .get(&(key.0.clone(), key.1.clone(), key.2.clone(), h))
                    .cloned()
            });
            let value = text.map_or_else(|| Value::from(expr.to_string()), Value::from);
            out.push(Setting::new(
                host.clone(),
                Value::from(format!("{} {}/{}/{}", key.0, key.1, key.2, pos)),
                value,
                firewall(
                    "nftables",
                    Some(&key.0),
                    Some(&key.1),
                    Some(&key.2),
                    Some(*pos),
                    Some(expr),
                ),
            ));
        }
    }
    out
}

/// One setting per chain (its policy) and rule of `iptables-save` output;
/// packet counters are left out.
pub fn legacy_settings(host: &Option<String>, family: &str, text: &str) -> Vec<Setting> {
    let mut out = Vec::new();
    let mut table = String::new();
    let mut positions: HashMap<String, u64> = HashMap::new();
    for line in text.lines() {
        if let Some(t) = line.strip_prefix('*') {
            table = t.trim().to_owned();
            positions.clear();
        } else if let Some(c) = line.strip_prefix(':') {
            let mut w = c.split_whitespace();
            let (Some(chain), Some(policy)) = (w.next(), w.next()) else {
                continue;
            };
            out.push(Setting::new(
                host.clone(),
                Value::from(format!("{family} {table}/{chain}")),
                Value::from(policy),
                firewall(
                    "iptables-legacy",
                    Some(family),
                    Some(&table),
                    Some(chain),
                    None,
                    None,
                ),
            ));
        } else if let Some(rest) = line.strip_prefix("-A ") {
            let chain = rest.split_whitespace().next().unwrap_or("").to_owned();
            let pos = positions.entry(chain.clone()).or_insert(0);
            *pos += 1;
            out.push(Setting::new(
                host.clone(),
                Value::from(format!("{family} {table}/{chain}/{pos}")),
                Value::from(line),
                firewall(
                    "iptables-legacy",
                    Some(family),
                    Some(&table),
                    Some(&chain),
                    Some(*pos),
                    None,
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_rules_and_headers() {
        let text = "table inet t { # handle 1\n\tset s { # handle 3\n\t\ttype ipv4_addr\n\t\telements = { 10.0.0.1 }\n\t}\n\tchain input { # handle 1\n\t\ttype filter hook input priority filter; policy drop;\n\t\ttcp dport 22 accept # handle 2\n\t\tiif \"lo\" accept comment \"loop back\" # handle 4\n\t}\n\tchain \"my chain\" { # handle 5\n\t\tip saddr @s drop # handle 6\n\t}\n}\n";
        let l = parse_listing(text);
        let k = |c: &str, h| ("inet".to_owned(), "t".to_owned(), c.to_owned(), h);
        assert_eq!(
            l.rules.get(&k("input", 2)).map(String::as_str),
            Some("tcp dport 22 accept")
        );
        assert_eq!(
            l.rules.get(&k("input", 4)).map(String::as_str),
            Some("iif \"lo\" accept comment \"loop back\"")
        );
        assert_eq!(
            l.rules.get(&k("my chain", 6)).map(String::as_str),
            Some("ip saddr @s drop")
        );
        assert_eq!(l.rules.len(), 3, "{l:?}");
        assert_eq!(
            l.headers
                .get(&("inet".into(), "t".into(), "input".into()))
                .map(String::as_str),
            Some("type filter hook input priority filter; policy drop;")
        );
    }

    #[test]
    fn iptables_save_lines() {
        let text = "# Generated by iptables-save\n*filter\n:INPUT DROP [10:600]\n:FORWARD ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n";
        let s = legacy_settings(&None, "ip", text);
        let names: Vec<_> = s
            .iter()
            .map(|s| s.name.as_str().unwrap_or("").to_owned())
            .collect();
        assert_eq!(
            names,
            [
                "ip filter/INPUT",
                "ip filter/FORWARD",
                "ip filter/INPUT/1",
                "ip filter/INPUT/2"
            ]
        );
        assert_eq!(s[0].value, "DROP");
        assert_eq!(s[3].value, "-A INPUT -p tcp --dport 22 -j ACCEPT");
    }
}
