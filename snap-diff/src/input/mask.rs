//! The second round: lines compared without the fields the comparison
//! ignores, but with every field that identifies a record.

use super::*;

/// Field names by their length (index), for quick lookups of raw keys.
pub(super) type ByLen = Vec<Vec<Vec<u8>>>;

/// The fields the second round may drop from a line, per kind.
pub(super) struct Masks<'r> {
    pub(super) rules: &'r Rules,
    /// (kind, field names to drop by their length); few kinds, so a list.
    pub(super) cache: Vec<(Option<Vec<u8>>, ByLen)>,
}

impl<'r> Masks<'r> {
    pub(super) fn new(rules: &'r Rules) -> Self {
        Masks {
            rules,
            cache: Vec::new(),
        }
    }

    /// The runs of a line's bytes that hold the fields the comparison
    /// keeps, as (start, end) of each run of consecutive kept fields;
    /// `None` when nothing can be dropped (or the line is unusual: an
    /// escaped key, a kind that is not a plain string).
    pub(super) fn runs(&mut self, text: &[u8]) -> Option<Vec<(u32, u32)>> {
        u32::try_from(text.len()).ok()?;
        let fields = top_fields(text)?;
        let mut kind: Option<&[u8]> = None;
        for &(ks, ke, vs, ve) in &fields {
            if text[ks..ke]
                .strip_prefix(b"\"")
                .and_then(|k| k.strip_suffix(b"\""))
                == Some(pf::KIND.as_bytes())
            {
                let v = &text[vs..ve];
                if v.len() < 2 || v[0] != b'"' || v.contains(&b'\\') {
                    return None;
                }
                kind = Some(&v[1..v.len() - 1]);
            }
        }
        let pos = match self.cache.iter().position(|(k, _)| k.as_deref() == kind) {
            Some(p) => p,
            None => {
                let name = match kind {
                    Some(k) => Some(std::str::from_utf8(k).ok()?),
                    None => None,
                };
                let mut by_len: ByLen = Vec::new();
                for f in self.rules.maskable(name) {
                    if by_len.len() <= f.len() {
                        by_len.resize_with(f.len() + 1, Vec::new);
                    }
                    by_len[f.len()].push(f.into_bytes());
                }
                self.cache.push((kind.map(<[u8]>::to_vec), by_len));
                self.cache.len() - 1
            }
        };
        let drop = &self.cache[pos].1;
        if drop.is_empty() {
            return None;
        }
        let mut runs: Vec<(u32, u32)> = Vec::with_capacity(4);
        let mut open = false;
        for &(ks, ke, _, ve) in &fields {
            let key = &text[ks + 1..ke - 1];
            if key.contains(&b'\\') {
                return None;
            }
            if drop
                .get(key.len())
                .is_some_and(|names| names.iter().any(|n| n == key))
            {
                open = false;
                continue;
            }
            // Offsets fit: the line is shorter than 4 GiB.
            match runs.last_mut() {
                Some(r) if open => r.1 = ve as u32,
                _ => runs.push((ks as u32, ve as u32)),
            }
            open = true;
        }
        Some(runs)
    }

    /// The line without the fields the comparison ignores: its kept runs,
    /// each ended by a newline (which no line holds, so two equal masks
    /// are made of equal runs); `None` as for [`Masks::runs`].
    pub(super) fn masked(&mut self, text: &[u8]) -> Option<Vec<u8>> {
        let runs = self.runs(text)?;
        let mut out = Vec::with_capacity(text.len());
        for &(s, e) in &runs {
            out.extend_from_slice(&text[s as usize..e as usize]);
            out.push(b'\n');
        }
        Some(out)
    }
}

/// Is `mask` the mask of the line `text` whose kept runs are `runs`?
pub(super) fn same_mask(text: &[u8], runs: &[(u32, u32)], mask: &[u8]) -> bool {
    let mut at = 0;
    for &(s, e) in runs {
        let run = &text[s as usize..e as usize];
        let end = at + run.len();
        if mask.get(at..end) != Some(run) || mask.get(end) != Some(&b'\n') {
            return false;
        }
        at = end + 1;
    }
    at == mask.len()
}

/// Index of a (host, boot id) pair; most snapshots have one, so the last
/// pair is tried first without building strings.
pub(super) fn intern(
    table: &mut Vec<(Value, Value)>,
    index: &mut HashMap<(String, String), u32>,
    host: &Cap<'_>,
    boot: &Cap<'_>,
) -> u32 {
    if let Some((i, (h, b))) = table.iter().enumerate().next_back() {
        if host.eq_value(h) && boot.eq_value(b) {
            return i as u32;
        }
    }
    let (h, b) = (host.to_value(), boot.to_value());
    let k = (h.to_string(), b.to_string());
    if let Some(&i) = index.get(&k) {
        return i;
    }
    let i = table.len() as u32;
    table.push((h, b));
    index.insert(k, i);
    i
}
