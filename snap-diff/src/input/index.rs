//! Hashing lines, and the multiset of BEFORE's lines that AFTER's lines
//! cancel against.

use super::*;

/// A fast 64-bit hash of a line (collisions are resolved by comparing the
/// bytes, so it needs speed and spread, not secrecy).
pub fn line_hash(b: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = (b.len() as u64).wrapping_mul(K);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(23) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(23) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    // fmix64 (MurmurHash3's finaliser): every input bit reaches every
    // output bit, which the table's use of the top and low bits needs.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The key of the table is already a hash.
#[derive(Default)]
pub(super) struct PassHasher(u64);

impl Hasher for PassHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(super) const NONE: u32 = u32::MAX;

/// One line kept for later: where its bytes are, and its number.
#[derive(Clone, Copy)]
pub(super) struct LineRef {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) line: u64,
}

/// Lines with identical bytes: a queue through `next`, oldest first.
pub(super) struct Bucket {
    /// First item with these bytes (to compare against).
    pub(super) first: u32,
    /// Oldest item not yet taken.
    pub(super) head: u32,
    /// Last item (to append).
    pub(super) tail: u32,
    /// Another bucket with the same hash.
    pub(super) chain: u32,
}

/// A multiset of byte strings (items numbered 0, 1, ... in the order they
/// are added): `take` removes the oldest item equal to the bytes given.
#[derive(Default)]
pub(super) struct Multiset {
    pub(super) map: HashMap<u64, u32, BuildHasherDefault<PassHasher>>,
    pub(super) buckets: Vec<Bucket>,
    pub(super) next: Vec<u32>,
}

impl Multiset {
    pub(super) fn bucket<'a>(
        &self,
        h: u64,
        bytes: &[u8],
        get: impl Fn(u32) -> &'a [u8],
    ) -> (u32, u32) {
        let mut b = self.map.get(&h).copied().unwrap_or(NONE);
        let mut last = NONE;
        while b != NONE {
            let bk = &self.buckets[b as usize];
            if get(bk.first) == bytes {
                break;
            }
            last = b;
            b = bk.chain;
        }
        (b, last)
    }

    /// Add item `idx` (the next number) with `bytes`; `get` gives the bytes
    /// of an earlier item.
    pub(super) fn add<'a>(&mut self, idx: u32, bytes: &[u8], get: impl Fn(u32) -> &'a [u8]) {
        let h = line_hash(bytes);
        let (b, last) = self.bucket(h, bytes, get);
        self.next.push(NONE);
        if b == NONE {
            let nb = self.buckets.len() as u32;
            self.buckets.push(Bucket {
                first: idx,
                head: idx,
                tail: idx,
                chain: NONE,
            });
            if last == NONE {
                self.map.insert(h, nb);
            } else {
                self.buckets[last as usize].chain = nb;
            }
        } else {
            let bk = &mut self.buckets[b as usize];
            if bk.head == NONE {
                bk.head = idx;
            } else {
                self.next[bk.tail as usize] = idx;
            }
            bk.tail = idx;
        }
    }

    /// Take the oldest item equal to `bytes`.
    pub(super) fn take<'a>(&mut self, bytes: &[u8], get: impl Fn(u32) -> &'a [u8]) -> Option<u32> {
        let (b, _) = self.bucket(line_hash(bytes), bytes, get);
        if b == NONE {
            return None;
        }
        let bk = &mut self.buckets[b as usize];
        let i = bk.head;
        if i == NONE {
            return None;
        }
        bk.head = self.next[i as usize];
        Some(i)
    }
}

/// Items by a hash, oldest first per hash; `take` checks a candidate with
/// the caller, since different items may share a hash.
#[derive(Default)]
pub(super) struct HashIndex {
    /// hash -> (first, last) node.
    pub(super) ends: HashMap<u64, (u32, u32), BuildHasherDefault<PassHasher>>,
    /// (item, next node).
    pub(super) nodes: Vec<(usize, u32)>,
}

impl HashIndex {
    pub(super) fn push(&mut self, h: u64, item: usize) {
        let n = self.nodes.len() as u32;
        self.nodes.push((item, NONE));
        match self.ends.get_mut(&h) {
            Some((_, last)) => {
                self.nodes[*last as usize].1 = n;
                *last = n;
            }
            None => {
                self.ends.insert(h, (n, n));
            }
        }
    }

    /// Remove and return the oldest item with hash `h` that `same` accepts.
    pub(super) fn take(&mut self, h: u64, mut same: impl FnMut(usize) -> bool) -> Option<usize> {
        let &(first, last) = self.ends.get(&h)?;
        let (mut prev, mut n) = (NONE, first);
        while n != NONE {
            let (item, next) = self.nodes[n as usize];
            if same(item) {
                match (prev == NONE, n == last) {
                    (true, true) => {
                        self.ends.remove(&h);
                    }
                    (true, false) => {
                        self.ends.insert(h, (next, last));
                    }
                    (false, is_last) => {
                        self.nodes[prev as usize].1 = next;
                        if is_last {
                            self.ends.insert(h, (first, prev));
                        }
                    }
                }
                return Some(item);
            }
            (prev, n) = (n, next);
        }
        None
    }
}
