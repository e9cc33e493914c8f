//! The /proc/net text tables (tcp, tcp6, udp, udp6, raw, raw6, unix): the
//! source under `--root`, for other network namespaces (through
//! /proc/PID/net), and wherever sock_diag netlink is refused.
//!
//! Addresses are printed by the kernel as the hex of native-endian 32-bit
//! words (`%08X` of each word), so `0100007F` is 127.0.0.1 on x86 and an IPv6
//! address is four such words, each byte-swapped.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::sock::{type_name, Addr, Family, Proto, Socket};

/// A parsed table: its sockets, and the lines that did not parse.
#[derive(Debug, Default)]
pub struct Parsed {
    pub sockets: Vec<Socket>,
    /// How many lines did not parse.
    pub bad: usize,
    /// The number (from 1, the header) of the first of them.
    pub first_bad: Option<usize>,
}

/// Parse the lines after the header with `line`. A line that does not
/// parse is skipped, not fatal: one odd line (a kernel that prints a field
/// differently, a damaged file in a tree under --root) must not cost the
/// whole snapshot. It is counted, so that the snapshot says it is partial
/// and where the first such line is. Blank lines are not counted.
fn parse_lines(text: &[u8], line: impl Fn(&[u8]) -> Option<Socket>) -> Parsed {
    let mut p = Parsed::default();
    for (i, l) in text.split(|&b| b == b'\n').enumerate().skip(1) {
        if l.trim_ascii().is_empty() {
            continue;
        }
        match line(l) {
            Some(s) => p.sockets.push(s),
            None => {
                p.bad += 1;
                p.first_bad.get_or_insert(i + 1);
            }
        }
    }
    p
}

/// Parse one /proc/net/{tcp,udp,raw}{,6} table.
pub fn parse_inet(text: &[u8], proto: Proto, family: Family) -> Parsed {
    parse_lines(text, |l| parse_inet_line(l, proto, family))
}

fn parse_inet_line(line: &[u8], proto: Proto, family: Family) -> Option<Socket> {
    let line = std::str::from_utf8(line).ok()?;
    let mut f = line.split_ascii_whitespace();
    let _sl = f.next()?;
    let (local, lport) = parse_endpoint(f.next()?, family)?;
    let (remote, rport) = parse_endpoint(f.next()?, family)?;
    let state = u8::from_str_radix(f.next()?, 16).ok()?;
    let (tx, rx) = f.next()?.split_once(':')?;
    let tx = u32::from_str_radix(tx, 16).ok()?;
    let rx = u32::from_str_radix(rx, 16).ok()?;
    let _timer = f.next()?;
    let _retrnsmt = f.next()?;
    let uid: u32 = f.next()?.parse().ok()?;
    let _timeout = f.next()?;
    let inode: u64 = f.next()?.parse().ok()?;
    let mut s = Socket::inet(
        proto, family, local, lport, remote, rport, state, uid, inode,
    );
    s.recv_q = Some(rx);
    // A listener's send queue in netlink is its backlog limit, which this
    // table does not print (its 0 would be made up).
    s.send_q = (s.state != Some("LISTEN")).then_some(tx);
    Some(s)
}

/// `0100007F:0016` -> (127.0.0.1, 22); IPv6 as four native-endian words.
fn parse_endpoint(s: &str, family: Family) -> Option<(IpAddr, u16)> {
    let (a, p) = s.split_once(':')?;
    // Hex digits only: the words below are cut at byte offsets, which must
    // not fall inside a multi-byte character of a damaged line.
    if !a.is_ascii() {
        return None;
    }
    let port = u16::from_str_radix(p, 16).ok()?;
    let ip = match (family, a.len()) {
        (Family::Inet, 8) => IpAddr::V4(Ipv4Addr::from(word(a)?)),
        (Family::Inet6, 32) => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                b[i * 4..i * 4 + 4].copy_from_slice(&word(&a[i * 8..i * 8 + 8])?);
            }
            IpAddr::V6(Ipv6Addr::from(b))
        }
        _ => return None,
    };
    Some((ip, port))
}

/// The bytes in memory of a `%08X`-printed native-endian word.
fn word(hex: &str) -> Option<[u8; 4]> {
    u32::from_str_radix(hex, 16).ok().map(u32::to_ne_bytes)
}

/// `__SO_ACCEPTCON`: the socket listens.
const ACCEPTCON: u32 = 1 << 16;

/// Parse /proc/net/unix:
/// `Num RefCount Protocol Flags Type St Inode [Path]`. The path is the rest
/// of the line after one space (it may contain spaces); the kernel writes an
/// abstract name with a leading `@` and its NUL bytes as `@`.
pub fn parse_unix(text: &[u8]) -> Parsed {
    parse_lines(text, parse_unix_line)
}

fn parse_unix_line(line: &[u8]) -> Option<Socket> {
    let mut rest = line;
    let mut fields = [&b""[..]; 7];
    for f in fields.iter_mut() {
        let start = rest.iter().position(|&b| b != b' ')?;
        rest = &rest[start..];
        let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        *f = &rest[..end];
        rest = &rest[end..];
    }
    let hex = |b: &[u8]| u32::from_str_radix(std::str::from_utf8(b).ok()?, 16).ok();
    let flags = hex(fields[3])?;
    let ty = hex(fields[4])?;
    let st = hex(fields[5])?;
    let inode: u64 = std::str::from_utf8(fields[6]).ok()?.parse().ok()?;
    let path = rest.strip_prefix(b" ").filter(|p| !p.is_empty());
    // St is derived from sk_state by the kernel: 3 (and 2 for a socket not
    // yet accepted) is ESTABLISHED, the rest CLOSE; ACCEPTCON is LISTEN.
    let state = if flags & ACCEPTCON != 0 {
        "LISTEN"
    } else if st == 3 || st == 2 {
        "CONNECTED"
    } else {
        "UNCONN"
    };
    Some(Socket {
        netns: None,
        proto: Proto::Unix,
        family: Family::Unix,
        sock_type: type_name(ty),
        local: path.map(|p| Addr::Path(p.to_vec())),
        local_port: None,
        remote: None,
        remote_port: None,
        state: Some(state),
        uid: None,
        inode: (inode != 0).then_some(inode),
        peer_inode: None,
        recv_q: None,
        send_q: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:0016 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 1583 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:A000 0100007F:0016 01 0000000A:00000002 00:00000000 00000000  1000        0 99 1 0000000000000000 20 4 30 10 -1\n   2: 0100007F:A001 0100007F:0016 06 00000000:00000000 03:00000F9F 00000000     0        0 0 3 0000000000000000\n";

    #[test]
    fn tcp4_lines() {
        let v = parse_inet(TCP.as_bytes(), Proto::Tcp, Family::Inet).sockets;
        assert_eq!(v.len(), 3);
        let l = &v[0];
        assert_eq!(l.local, Some(Addr::Ip("127.0.0.1".parse().expect("ip"))));
        assert_eq!((l.local_port, l.state), (Some(22), Some("LISTEN")));
        assert_eq!((l.recv_q, l.send_q), (Some(3), None));
        assert_eq!((l.remote.clone(), l.remote_port), (None, None));
        let e = &v[1];
        assert_eq!((e.local_port, e.remote_port), (Some(0xA000), Some(22)));
        assert_eq!((e.uid, e.inode, e.send_q), (Some(1000), Some(99), Some(10)));
        assert_eq!(v[2].state, Some("TIME_WAIT"));
        assert_eq!((v[2].uid, v[2].inode), (None, None));
    }

    #[test]
    fn tcp6_words_are_byte_swapped() {
        // ::1 and ::ffff:127.0.0.1 as the kernel prints them on little endian.
        let text = "hdr\n   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1\n   1: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6 1\n";
        let v = parse_inet(text.as_bytes(), Proto::Tcp, Family::Inet6).sockets;
        let shown: Vec<String> = v
            .iter()
            .map(|s| match &s.local {
                Some(Addr::Ip(ip)) => ip.to_string(),
                _ => String::new(),
            })
            .collect();
        if cfg!(target_endian = "little") {
            assert_eq!(shown, ["::1", "::ffff:127.0.0.1"]);
        }
    }

    #[test]
    fn malformed_lines_are_counted_not_fatal() {
        let mut text = TCP.as_bytes().to_vec();
        text.extend_from_slice(b"garbage\n   9: 0100007F:ZZZZ 00000000:0000 0A\n\n\xff\n");
        let p = parse_inet(&text, Proto::Tcp, Family::Inet);
        assert_eq!(p.sockets.len(), 3);
        assert_eq!((p.bad, p.first_bad), (3, Some(5)));
        // 32 bytes, but not 32 hex digits: a word boundary falls inside "€".
        let euro = "hdr\n 0: €€€aaaaaaaaaaaaaaaaaaaaaaa:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 5 1\n";
        let p = parse_inet(euro.as_bytes(), Proto::Tcp, Family::Inet6);
        assert_eq!((p.sockets.len(), p.bad), (0, 1));
        let ok = parse_inet(TCP.as_bytes(), Proto::Tcp, Family::Inet);
        assert_eq!((ok.bad, ok.first_bad), (0, None));
        let u = parse_unix(b"Num RefCount\n0: 1 0 zz 1 1 1 /x\n0000000000000000: 00000002 00000000 00010000 0001 01 21510 /run/s\n");
        assert_eq!((u.sockets.len(), u.bad, u.first_bad), (1, 1, Some(2)));
    }

    #[test]
    fn unix_lines_with_spaces_abstract_and_none() {
        let text = b"Num       RefCount Protocol Flags    Type St Inode Path\n0000000000000000: 00000002 00000000 00010000 0001 01 21510 /run/my sock\n0000000000000000: 00000002 00000000 00000000 0002 01  4321 @abs@x\n0000000000000000: 00000003 00000000 00000000 0001 03  1580\n0000000000000000: 00000002 00000000 00000000 0005 01   77 /tmp/\xff\n";
        let v = parse_unix(text).sockets;
        assert_eq!(v.len(), 4);
        assert_eq!(v[0].local, Some(Addr::Path(b"/run/my sock".to_vec())));
        assert_eq!(
            (v[0].state, v[0].sock_type),
            (Some("LISTEN"), Some("stream"))
        );
        assert_eq!(v[1].local, Some(Addr::Path(b"@abs@x".to_vec())));
        assert_eq!(
            (v[1].state, v[1].sock_type),
            (Some("UNCONN"), Some("dgram"))
        );
        assert_eq!((v[2].local.clone(), v[2].state), (None, Some("CONNECTED")));
        assert_eq!(v[2].inode, Some(1580));
        assert_eq!(v[3].sock_type, Some("seqpacket"));
        assert_eq!(v[3].local, Some(Addr::Path(b"/tmp/\xff".to_vec())));
    }
}
