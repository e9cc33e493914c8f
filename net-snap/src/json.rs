//! A small JSON writer for the one record shape this tool prints.
//!
//! Building a `serde_json::Value` per socket (an ordered map with 18 owned
//! keys) was half of the user time with 20,000 sockets; writing the fixed
//! field list straight into one reused buffer removes that. The output is
//! byte-identical to serde_json's compact form (same escapes), and the tests
//! decode it with serde_json to keep it honest.

/// Append `s` as a JSON string.
pub fn str(buf: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        buf.push_str(&s[start..i]);
        if esc.is_empty() {
            buf.push_str("\\u00");
            buf.push(char::from(HEX[usize::from(b >> 4)]));
            buf.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            buf.push_str(esc);
        }
        start = i + 1;
    }
    buf.push_str(&s[start..]);
    buf.push('"');
}

/// Append raw system bytes in the `common::bytes` convention: a string when
/// UTF-8, else an array of the byte values.
pub fn bytes(buf: &mut String, b: &[u8]) {
    match std::str::from_utf8(b) {
        Ok(s) => str(buf, s),
        Err(_) => {
            buf.push('[');
            for (i, &x) in b.iter().enumerate() {
                if i > 0 {
                    buf.push(',');
                }
                num(buf, u64::from(x));
            }
            buf.push(']');
        }
    }
}

/// Append an unsigned integer.
pub fn num(buf: &mut String, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &tmp[i..] {
        buf.push(char::from(d));
    }
}

/// Append an optional integer (`null` for none).
pub fn opt_num(buf: &mut String, n: Option<u64>) {
    match n {
        Some(n) => num(buf, n),
        None => buf.push_str("null"),
    }
}

/// Append an optional string (`null` for none).
pub fn opt_str(buf: &mut String, s: Option<&str>) {
    match s {
        Some(s) => str(buf, s),
        None => buf.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_like_serde_json() {
        for s in ["plain", "q\"b\\s", "ctl\n\t\r\x08\x0c\x01\x1f", "ü€", ""] {
            let mut b = String::new();
            str(&mut b, s);
            assert_eq!(b, serde_json::to_string(s).expect("encode"));
        }
    }

    #[test]
    fn bytes_follow_the_common_convention() {
        for raw in [&b"/run/x"[..], b"caf\xe9", b""] {
            let mut b = String::new();
            bytes(&mut b, raw);
            assert_eq!(b, common::bytes::bytes_value(raw).to_string(), "{raw:?}");
        }
    }

    #[test]
    fn numbers() {
        let mut b = String::new();
        for n in [0, 7, 10, 4026531840, u64::MAX] {
            b.clear();
            num(&mut b, n);
            assert_eq!(b, n.to_string());
        }
    }
}
