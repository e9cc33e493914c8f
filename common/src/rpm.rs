//! rpm's database, read as current rpm keeps it (RHEL 9, Fedora, SUSE:
//! `rpmdb.sqlite`, lib/backend/sqlite.cc: a table
//! `Packages (hnum INTEGER PRIMARY KEY, blob BLOB)`, one package header
//! per row), and its package headers decoded as lib/header.cc lays them
//! out: two big-endian 32-bit counts, `il` index entries and `dl` bytes of
//! data, then `il` entries of (tag, type, offset, count), then the data.
//! The tags and types are those of include/rpm/rpmtag.h. The Berkeley DB
//! (`Packages`) and ndb (`Packages.db`) formats of older systems are
//! refused with a message that names the format and the fallback.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::{Error, Result, Root};

/// Where rpm keeps its database: /var/lib/rpm, or /usr/lib/sysimage/rpm
/// (Fedora and openSUSE, where /var/lib/rpm is a link to it).
pub const DB_DIRS: [&str; 2] = ["/var/lib/rpm", "/usr/lib/sysimage/rpm"];
/// The SQLite database's file name.
pub const SQLITE: &str = "rpmdb.sqlite";

/// Tags (include/rpm/rpmtag.h).
pub mod tag {
    pub const NAME: u32 = 1000;
    pub const VERSION: u32 = 1001;
    pub const RELEASE: u32 = 1002;
    pub const EPOCH: u32 = 1003;
    pub const INSTALLTIME: u32 = 1008;
    pub const ARCH: u32 = 1022;
    pub const FILESIZES: u32 = 1028;
    pub const FILESTATES: u32 = 1029;
    pub const FILEMODES: u32 = 1030;
    pub const FILERDEVS: u32 = 1033;
    pub const FILEMTIMES: u32 = 1034;
    pub const FILEDIGESTS: u32 = 1035;
    pub const FILELINKTOS: u32 = 1036;
    pub const FILEFLAGS: u32 = 1037;
    pub const FILEUSERNAME: u32 = 1039;
    pub const FILEGROUPNAME: u32 = 1040;
    pub const SOURCERPM: u32 = 1044;
    pub const FILEVERIFYFLAGS: u32 = 1045;
    pub const DIRINDEXES: u32 = 1116;
    pub const BASENAMES: u32 = 1117;
    pub const DIRNAMES: u32 = 1118;
    pub const LONGFILESIZES: u32 = 5008;
    pub const FILEDIGESTALGO: u32 = 5011;
}

/// Types (rpmTagType_e).
pub mod ty {
    pub const CHAR: u32 = 1;
    pub const INT8: u32 = 2;
    pub const INT16: u32 = 3;
    pub const INT32: u32 = 4;
    pub const INT64: u32 = 5;
    pub const STRING: u32 = 6;
    pub const BIN: u32 = 7;
    pub const STRING_ARRAY: u32 = 8;
    pub const I18NSTRING: u32 = 9;
}

/// The database file of the system under `root`, for reading and for
/// messages: the first of [`DB_DIRS`] that holds a database of any format,
/// else /var/lib/rpm/rpmdb.sqlite.
pub fn db_path(root: &Root) -> PathBuf {
    for dir in DB_DIRS {
        let sys = root
            .resolve(Path::new(dir))
            .unwrap_or_else(|| PathBuf::from(dir));
        let real = root.path(&sys);
        for f in [SQLITE, "Packages", "Packages.db"] {
            if real.join(f).exists() {
                return real.join(f);
            }
        }
    }
    root.path(DB_DIRS[0]).join(SQLITE)
}

/// The (hnum, header blob) rows of the database at `path` (from
/// [`db_path`]); a database of a format not read here is trouble that
/// names `tool` and the way out.
pub fn headers(path: &Path, tool: &str) -> Result<Vec<(i64, Vec<u8>)>> {
    let dbpath = path.parent().unwrap_or(Path::new("/"));
    let other = |what: &str, where_: &str| {
        Err(Error::new(format!(
            "{}: an rpm database in the {what} format ({where_}), which {tool} does not read; \
             list the packages with `rpm -qa --dbpath {}`, or convert the database with \
             `rpmdb --rebuilddb --define '_db_backend sqlite'`",
            path.display(),
            dbpath.display()
        )))
    };
    match path.file_name().and_then(|f| f.to_str()) {
        Some("Packages") => {
            return other("Berkeley DB", "rpm before 4.16, RHEL 8 and older");
        }
        Some("Packages.db") => return other("ndb", "SUSE"),
        _ => {}
    }
    let fail = |what: &str, e: rusqlite::Error| {
        Error::new(format!(
            "{}: {what}: {e}; is it an rpm database? (`rpm -qa --dbpath {}` reads it the way rpm does)",
            path.display(),
            dbpath.display()
        ))
    };
    let db = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| fail("cannot open", e))?;
    let mut st = db
        .prepare("SELECT hnum, blob FROM Packages")
        .map_err(|e| fail("cannot read the Packages table", e))?;
    let rows = st
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
        .map_err(|e| fail("cannot read the Packages table", e))?;
    let mut out = Vec::new();
    for r in rows {
        out.push(r.map_err(|e| fail("cannot read the Packages table", e))?);
    }
    Ok(out)
}

/// The error for a header that does not decode or lacks what it must have.
pub fn damaged(path: &Path, hnum: i64, what: &str) -> Error {
    Error::new(format!(
        "{}: package header {hnum} {what}; check the database with `rpmdb --verifydb --dbpath {}`",
        path.display(),
        path.parent().unwrap_or(Path::new("/")).display()
    ))
}

/// One package header, checked to be as long as its counts say.
#[derive(Debug)]
pub struct Header<'a> {
    index: &'a [u8],
    data: &'a [u8],
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

impl<'a> Header<'a> {
    /// Split a blob into its index and data (hdrblobInit's checks of the
    /// lengths; the entries are checked as they are read).
    pub fn parse(blob: &'a [u8]) -> std::result::Result<Header<'a>, String> {
        let (Some(il), Some(dl)) = (be32(blob, 0), be32(blob, 4)) else {
            return Err(format!("{} bytes, too short for a header", blob.len()));
        };
        // rpm's limits: at most 0xffff tags, 256 MiB of data.
        if il == 0 || il > 0xffff || dl > 256 << 20 {
            return Err(format!("{il} tags and {dl} bytes of data"));
        }
        let (il, dl) = (il as usize, dl as usize);
        let want = 8 + il * 16 + dl;
        if blob.len() != want {
            return Err(format!(
                "{} bytes where {il} tags and {dl} bytes of data make {want}",
                blob.len()
            ));
        }
        Ok(Header {
            index: &blob[8..8 + il * 16],
            data: &blob[8 + il * 16..],
        })
    }

    /// The (type, offset, count) of a tag; the last entry wins, as the
    /// entries rpm adds after the signed region (install time) follow it.
    fn entry(&self, tag: u32) -> Option<(u32, usize, usize)> {
        self.index
            .chunks_exact(16)
            .rev()
            .find(|e| be32(e, 0) == Some(tag))
            .and_then(|e| Some((be32(e, 4)?, be32(e, 8)? as usize, be32(e, 12)? as usize)))
    }

    /// Whether the header has the tag at all.
    pub fn has(&self, tag: u32) -> bool {
        self.entry(tag).is_some()
    }

    /// A string tag (the first of an array), as text.
    pub fn string(&self, tag: u32) -> Option<String> {
        let (t, off, _) = self.entry(tag)?;
        if !matches!(t, ty::STRING | ty::STRING_ARRAY | ty::I18NSTRING) {
            return None;
        }
        let rest = self.data.get(off..)?;
        let end = rest.iter().position(|&c| c == 0)?;
        std::str::from_utf8(&rest[..end]).ok().map(str::to_owned)
    }

    /// Every string of a string array tag (a plain string tag: one), as
    /// bytes; `None` when absent or running past the data.
    pub fn strings(&self, tag: u32) -> Option<Vec<&'a [u8]>> {
        let (t, mut off, count) = self.entry(tag)?;
        if !matches!(t, ty::STRING | ty::STRING_ARRAY | ty::I18NSTRING) {
            return None;
        }
        let count = if t == ty::STRING { 1 } else { count };
        let mut out = Vec::with_capacity(count.min(1 << 16));
        for _ in 0..count {
            let rest = self.data.get(off..)?;
            let end = rest.iter().position(|&c| c == 0)?;
            out.push(&rest[..end]);
            off += end + 1;
        }
        Some(out)
    }

    /// The values of an integer array tag of any width (char and int8 to
    /// int64), widened; `None` when absent, not an integer or running past
    /// the data.
    pub fn ints(&self, tag: u32) -> Option<Vec<u64>> {
        let (t, off, count) = self.entry(tag)?;
        let width = match t {
            ty::CHAR | ty::INT8 => 1,
            ty::INT16 => 2,
            ty::INT32 => 4,
            ty::INT64 => 8,
            _ => return None,
        };
        let bytes = self
            .data
            .get(off..off.checked_add(count.checked_mul(width)?)?)?;
        Some(
            bytes
                .chunks_exact(width)
                .map(|c| c.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b)))
                .collect(),
        )
    }

    /// The first value of a 32-bit integer tag.
    pub fn int32(&self, tag: u32) -> Option<u32> {
        let (t, off, count) = self.entry(tag)?;
        if t != ty::INT32 || count == 0 {
            return None;
        }
        be32(self.data, off)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header as rpm lays it out, of (tag, type, count, data) entries.
    fn blob(entries: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, t, count, d) in entries {
            let align = match *t {
                ty::INT16 => 2,
                ty::INT32 => 4,
                ty::INT64 => 8,
                _ => 1,
            };
            while data.len() % align != 0 {
                data.push(0);
            }
            index.extend(tag.to_be_bytes());
            index.extend(t.to_be_bytes());
            index.extend((data.len() as u32).to_be_bytes());
            index.extend(count.to_be_bytes());
            data.extend(d);
        }
        let mut out = Vec::new();
        out.extend((entries.len() as u32).to_be_bytes());
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    #[test]
    fn headers_decode_and_damage_is_caught() {
        let b = blob(&[
            (tag::NAME, ty::STRING, 1, b"bash\0".to_vec()),
            (tag::EPOCH, ty::INT32, 1, 2u32.to_be_bytes().to_vec()),
            (tag::ARCH, ty::STRING, 1, b"x86_64\0".to_vec()),
            (tag::BASENAMES, ty::STRING_ARRAY, 2, b"a\0bc\0".to_vec()),
            (tag::FILEMODES, ty::INT16, 2, vec![0x81, 0xa4, 0x41, 0xed]),
            (
                tag::FILEFLAGS,
                ty::INT32,
                2,
                vec![0, 0, 0, 1, 0, 0, 0, 0x40],
            ),
        ]);
        let h = Header::parse(&b).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(h.string(tag::NAME).as_deref(), Some("bash"));
        assert_eq!(h.int32(tag::EPOCH), Some(2));
        assert_eq!(h.string(tag::ARCH).as_deref(), Some("x86_64"));
        assert_eq!(h.string(tag::VERSION), None);
        assert_eq!(h.int32(tag::NAME), None, "a string is no integer");
        assert_eq!(h.strings(tag::BASENAMES), Some(vec![&b"a"[..], &b"bc"[..]]));
        assert_eq!(h.ints(tag::FILEMODES), Some(vec![0o100644, 0o40755]));
        assert_eq!(h.ints(tag::FILEFLAGS), Some(vec![1, 0x40]));
        assert_eq!(h.ints(tag::NAME), None);
        assert!(Header::parse(&b[..b.len() - 1]).is_err());
        assert!(Header::parse(&[0, 0]).is_err());
        // An offset past the data reads as absent, not as a crash.
        let mut bad = b.clone();
        bad[8 + 8..8 + 12].copy_from_slice(&1000u32.to_be_bytes());
        let h = Header::parse(&bad).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(h.string(tag::NAME), None);
        // A count past the data too.
        let mut bad = b.clone();
        bad[8 + 3 * 16 + 12..8 + 3 * 16 + 16].copy_from_slice(&9u32.to_be_bytes());
        let h = Header::parse(&bad).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(h.strings(tag::BASENAMES), None);
    }
}

/// Properties of the header decoder: any bytes are a header or an error,
/// and no accessor of a header panics, whatever its index says; headers
/// laid out as rpm lays them out (lib/header.c: big-endian index entries
/// of tag, type, offset, count, then the data) give back their values.
#[cfg(test)]
mod props {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    /// A value of a tag: strings (one for STRING) or integers of a width.
    #[derive(Debug, Clone)]
    enum Value {
        Strings(u32, Vec<Vec<u8>>),
        Ints(u32, Vec<u64>),
    }

    fn value() -> impl Strategy<Value = Value> {
        let text = || vec(1u8..=255, 0..20);
        prop_oneof![
            text().prop_map(|s| Value::Strings(ty::STRING, vec![s])),
            vec(text(), 1..5).prop_map(|v| Value::Strings(ty::STRING_ARRAY, v)),
            vec(any::<u8>(), 1..5)
                .prop_map(|v| Value::Ints(ty::INT8, v.into_iter().map(u64::from).collect())),
            vec(any::<u16>(), 1..5)
                .prop_map(|v| Value::Ints(ty::INT16, v.into_iter().map(u64::from).collect())),
            vec(any::<u32>(), 1..5)
                .prop_map(|v| Value::Ints(ty::INT32, v.into_iter().map(u64::from).collect())),
            vec(any::<u64>(), 1..5).prop_map(|v| Value::Ints(ty::INT64, v)),
        ]
    }

    /// The blob of (tag, value) entries, aligned as rpm aligns them.
    fn blob(entries: &[(u32, Value)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, v) in entries {
            let (t, count) = match v {
                Value::Strings(t, s) => (*t, s.len()),
                Value::Ints(t, n) => (*t, n.len()),
            };
            let width = match t {
                ty::INT16 => 2,
                ty::INT32 => 4,
                ty::INT64 => 8,
                _ => 1,
            };
            while data.len() % width != 0 {
                data.push(0);
            }
            index.extend(tag.to_be_bytes());
            index.extend(t.to_be_bytes());
            index.extend((data.len() as u32).to_be_bytes());
            index.extend((count as u32).to_be_bytes());
            match v {
                Value::Strings(_, s) => {
                    for x in s {
                        data.extend_from_slice(x);
                        data.push(0);
                    }
                }
                Value::Ints(_, n) => {
                    for x in n {
                        data.extend_from_slice(&x.to_be_bytes()[8 - width..]);
                    }
                }
            }
        }
        let mut out = Vec::new();
        out.extend((entries.len() as u32).to_be_bytes());
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    fn every_accessor(h: &Header<'_>, tag: u32) {
        let _ = h.has(tag);
        let _ = h.string(tag);
        let _ = h.strings(tag);
        let _ = h.ints(tag);
        let _ = h.int32(tag);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_bytes_are_a_header_or_an_error(b in vec(any::<u8>(), 0..300)) {
            match Header::parse(&b) {
                Ok(h) => {
                    for tag in h.index.chunks_exact(16).filter_map(|e| be32(e, 0)) {
                        every_accessor(&h, tag);
                    }
                }
                Err(e) => prop_assert!(!e.is_empty()),
            }
        }

        #[test]
        fn a_damaged_index_never_panics_an_accessor(
            values in vec(value(), 1..6),
            damage in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        ) {
            let entries: Vec<(u32, Value)> =
                values.into_iter().enumerate().map(|(i, v)| (1000 + i as u32, v)).collect();
            let mut b = blob(&entries);
            let index_end = 8 + entries.len() * 16;
            for (at, byte) in damage {
                b[8 + at.index(index_end - 8)] = byte;
            }
            if let Ok(h) = Header::parse(&b) {
                for (tag, _) in &entries {
                    every_accessor(&h, *tag);
                }
            }
        }

        #[test]
        fn headers_give_back_their_values(values in vec(value(), 1..8)) {
            let entries: Vec<(u32, Value)> =
                values.into_iter().enumerate().map(|(i, v)| (1000 + i as u32, v)).collect();
            let b = blob(&entries);
            let h = Header::parse(&b).expect("rpm's own layout");
            for (tag, v) in &entries {
                prop_assert!(h.has(*tag));
                match v {
                    Value::Strings(_, s) => {
                        let want: Vec<&[u8]> = s.iter().map(Vec::as_slice).collect();
                        prop_assert_eq!(h.strings(*tag), Some(want));
                        prop_assert_eq!(
                            h.string(*tag),
                            std::str::from_utf8(&s[0]).ok().map(str::to_owned)
                        );
                        prop_assert_eq!(h.ints(*tag), None);
                    }
                    Value::Ints(t, n) => {
                        prop_assert_eq!(h.ints(*tag), Some(n.clone()));
                        let first = (*t == ty::INT32).then(|| n[0] as u32);
                        prop_assert_eq!(h.int32(*tag), first);
                        prop_assert_eq!(h.strings(*tag), None);
                    }
                }
            }
            prop_assert!(!h.has(999));
            prop_assert!(Header::parse(&b[..b.len() - 1]).is_err());
        }
    }
}
