//! Configuration files are text. Binary junk (a NUL, invalid UTF-8, control
//! characters) is reported at its first line; the rest is still read so the
//! entries before the damage are checked too.

/// The text of `bytes` and the 1-based line of the first non-text byte.
pub fn decode(bytes: &[u8]) -> (String, Option<usize>) {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let bad_utf8 = std::str::from_utf8(bytes).err().map(|e| e.valid_up_to());
    let bad_ctl = bytes
        .iter()
        .position(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c) || b == 0x7f);
    let first = match (bad_utf8, bad_ctl) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let line = first.map(|pos| 1 + bytes[..pos].iter().filter(|&&b| b == b'\n').count());
    (text, line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_bad_line() {
        assert_eq!(decode(b"a\nb\n").1, None);
        assert_eq!(decode(b"a\nb\x00\n").1, Some(2));
        assert_eq!(decode(b"a\n\nc\xff").1, Some(3));
        assert_eq!(decode(b"\tx\r\n").1, None);
    }
}
