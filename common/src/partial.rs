//! What a snapshot could not read, for its one summary line on stderr.
//!
//! RECORDS.md asks for `null` in the record and at most one line per kind of
//! trouble, never a line per item: `partial snapshot: exe, maps of 57
//! processes unreadable (permission denied; run as root)`. [`Partial`]
//! counts, per item (a process, a namespace), which parts were unreadable
//! and why, and writes that line.

use std::collections::BTreeMap;

use nix::errno::Errno;

/// Why a part could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The kernel refused or failed the read.
    Errno(Errno),
    /// The file was read but did not parse.
    Malformed,
    /// A reason the tool words itself.
    Text(&'static str),
}

/// The items counted, singular and plural (`process`, `processes`).
#[derive(Debug, Clone, Copy)]
pub struct Noun(pub &'static str, pub &'static str);

/// Unreadable parts, counted once per item.
#[derive(Debug, Default)]
pub struct Partial {
    /// Part -> number of items where it was unreadable.
    fields: BTreeMap<&'static str, usize>,
    /// Items with at least one unreadable part.
    items: usize,
    /// The distinct reasons, in the order first seen.
    reasons: Vec<Reason>,
}

impl Partial {
    /// Part `field` of one item was unreadable. `seen` belongs to the item
    /// (false before its first note), so an item with several unreadable
    /// parts counts once.
    pub fn note(&mut self, seen: &mut bool, field: &'static str, why: Reason) {
        *self.fields.entry(field).or_default() += 1;
        if !*seen {
            *seen = true;
            self.items += 1;
        }
        self.reason(why);
    }

    /// Part `field` of `n` items was unreadable, counted elsewhere.
    pub fn add(&mut self, field: &'static str, n: usize, why: Reason) {
        if n == 0 {
            return;
        }
        *self.fields.entry(field).or_default() += n;
        self.items += n;
        self.reason(why);
    }

    fn reason(&mut self, why: Reason) {
        if !self.reasons.contains(&why) {
            self.reasons.push(why);
        }
    }

    /// Add another reader's counts.
    pub fn merge(&mut self, other: Partial) {
        for (k, n) in other.fields {
            *self.fields.entry(k).or_default() += n;
        }
        self.items += other.items;
        for r in other.reasons {
            self.reason(r);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items == 0
    }

    /// The one line, or `None` when everything was read. Parts are named in
    /// `order` (then any others, by name) so the line does not depend on
    /// which thread saw what first. A refused read says `run as root`
    /// unless `as_root` (containers and hardened kernels refuse root too).
    pub fn summary(&self, noun: Noun, order: &[&str], as_root: bool) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let mut names: Vec<&str> = order
            .iter()
            .copied()
            .filter(|f| self.fields.contains_key(f))
            .collect();
        names.extend(self.fields.keys().filter(|k| !order.contains(k)));
        let denied = |r: &Reason| matches!(r, Reason::Errno(Errno::EACCES | Errno::EPERM));
        let mut why: Vec<String> = Vec::new();
        if self.reasons.iter().any(denied) {
            why.push(if as_root {
                "permission denied, even to root".to_owned()
            } else {
                "permission denied; run as root".to_owned()
            });
        }
        for r in self.reasons.iter().filter(|r| !denied(r)) {
            why.push(match r {
                Reason::Errno(e) => e.desc().to_lowercase(),
                Reason::Malformed => "unexpected content".to_owned(),
                Reason::Text(t) => (*t).to_owned(),
            });
        }
        let n = self.items;
        Some(format!(
            "partial snapshot: {} of {n} {} unreadable ({})",
            names.join(", "),
            if n == 1 { noun.0 } else { noun.1 },
            why.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROCESS: Noun = Noun("process", "processes");
    const ORDER: &[&str] = &["stat", "status", "cmdline", "exe", "cgroup", "maps"];

    #[test]
    fn one_line_with_fields_in_order_and_reasons() {
        let mut p = Partial::default();
        let mut a = false;
        p.note(&mut a, "maps", Reason::Errno(Errno::EACCES));
        p.note(&mut a, "exe", Reason::Errno(Errno::EACCES));
        let mut b = false;
        p.note(&mut b, "exe", Reason::Errno(Errno::EPERM));
        assert_eq!(
            p.summary(PROCESS, ORDER, false).as_deref(),
            Some("partial snapshot: exe, maps of 2 processes unreadable (permission denied; run as root)")
        );
        assert_eq!(
            p.summary(PROCESS, ORDER, true).as_deref(),
            Some("partial snapshot: exe, maps of 2 processes unreadable (permission denied, even to root)")
        );
        assert_eq!(Partial::default().summary(PROCESS, ORDER, false), None);

        let mut q = Partial::default();
        let mut c = false;
        q.note(&mut c, "status", Reason::Malformed);
        q.note(&mut c, "maps", Reason::Errno(Errno::EISDIR));
        assert_eq!(
            q.summary(PROCESS, ORDER, true).as_deref(),
            Some("partial snapshot: status, maps of 1 process unreadable (unexpected content; is a directory)")
        );
    }

    #[test]
    fn counted_elsewhere_and_merged() {
        let mut p = Partial::default();
        p.add("sockets", 0, Reason::Text("gone"));
        assert!(p.is_empty());
        p.add("sockets", 1, Reason::Text("their processes exited"));
        let ns = Noun("network namespace", "network namespaces");
        assert_eq!(
            p.summary(ns, &[], false).as_deref(),
            Some("partial snapshot: sockets of 1 network namespace unreadable (their processes exited)")
        );
        let mut q = Partial::default();
        q.add("owners", 2, Reason::Errno(Errno::EACCES));
        q.add("zeta", 1, Reason::Text("gone"));
        p.merge(q);
        assert_eq!(
            p.summary(ns, &["owners"], false).as_deref(),
            Some("partial snapshot: owners, sockets, zeta of 4 network namespaces unreadable (permission denied; run as root; their processes exited; gone)")
        );
    }
}
