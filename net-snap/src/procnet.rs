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

/// Properties over what a /proc/net table may hold: any bytes never
/// panic the parsers and every non-blank line after the header is either
/// a socket or counted as bad; lines in the kernel's own formats (made
/// here as net/ipv4/tcp_ipv4.c, udp.c, raw.c and net/unix/af_unix.c print
/// them) parse back to the values they were made of.
#[cfg(test)]
mod props {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;
    use crate::sock::{dgram_state, tcp_state};

    fn lines_after_header(text: &[u8]) -> usize {
        text.split(|&b| b == b'\n')
            .skip(1)
            .filter(|l| !l.trim_ascii().is_empty())
            .count()
    }

    fn tableish() -> impl Strategy<Value = Vec<u8>> {
        vec(
            prop_oneof![
                4 => proptest::sample::select(b"0123456789ABCDEFabcdef :\n@/".to_vec()),
                1 => any::<u8>(),
            ],
            0..600,
        )
    }

    /// `%08X` of each native-endian word of the address, as the kernel
    /// prints it.
    fn hex_words(ip: &IpAddr) -> String {
        let b: Vec<u8> = match ip {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        };
        b.chunks(4)
            .map(|w| format!("{:08X}", u32::from_ne_bytes([w[0], w[1], w[2], w[3]])))
            .collect()
    }

    #[derive(Debug, Clone)]
    struct Inet {
        local: IpAddr,
        lport: u16,
        remote: IpAddr,
        rport: u16,
        state: u8,
        tx: u32,
        rx: u32,
        uid: u32,
        inode: u64,
    }

    fn inet(family: Family) -> impl Strategy<Value = Inet> {
        let ip = move || -> BoxedStrategy<IpAddr> {
            match family {
                Family::Inet6 => any::<[u8; 16]>()
                    .prop_map(|b| IpAddr::V6(Ipv6Addr::from(b)))
                    .boxed(),
                _ => any::<[u8; 4]>()
                    .prop_map(|b| IpAddr::V4(Ipv4Addr::from(b)))
                    .boxed(),
            }
        };
        (
            ip(),
            any::<u16>(),
            ip(),
            any::<u16>(),
            1u8..=13,
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            0u64..=u64::from(u32::MAX),
        )
            .prop_map(
                |(local, lport, remote, rport, state, tx, rx, uid, inode)| Inet {
                    local,
                    lport,
                    remote,
                    rport,
                    state,
                    tx,
                    rx,
                    uid,
                    inode,
                },
            )
    }

    fn inet_line(i: usize, s: &Inet) -> String {
        format!(
            "{i:4}: {}:{:04X} {}:{:04X} {:02X} {:08X}:{:08X} 00:00000000 00000000 {:5} {:8} {} 2 0000000000000000 100 0 0 10 0\n",
            hex_words(&s.local),
            s.lport,
            hex_words(&s.remote),
            s.rport,
            s.state,
            s.tx,
            s.rx,
            s.uid,
            0,
            s.inode
        )
    }

    #[derive(Debug, Clone)]
    struct Unix {
        flags: u32,
        ty: u32,
        st: u32,
        inode: u64,
        path: Option<Vec<u8>>,
    }

    fn unix() -> impl Strategy<Value = Unix> {
        (
            prop_oneof![Just(0u32), Just(ACCEPTCON)],
            1u32..=5,
            0u32..=4,
            0u64..=u64::from(u32::MAX),
            proptest::option::of(vec(
                any::<u8>().prop_filter("one line", |&b| b != b'\n'),
                1..60,
            )),
        )
            .prop_map(|(flags, ty, st, inode, path)| Unix {
                flags,
                ty,
                st,
                inode,
                path,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_bytes_give_sockets_or_counted_lines(text in prop_oneof![vec(any::<u8>(), 0..600), tableish()]) {
            let n = lines_after_header(&text);
            for (proto, family) in [
                (Proto::Tcp, Family::Inet),
                (Proto::Udp, Family::Inet6),
                (Proto::Raw, Family::Inet),
            ] {
                let p = parse_inet(&text, proto, family);
                prop_assert_eq!(p.sockets.len() + p.bad, n);
                prop_assert_eq!(p.first_bad.is_some(), p.bad > 0);
            }
            let p = parse_unix(&text);
            prop_assert_eq!(p.sockets.len() + p.bad, n);
        }

        #[test]
        fn inet_tables_parse_back(
            six in any::<bool>(),
            proto in proptest::sample::select(vec![Proto::Tcp, Proto::Udp, Proto::Raw]),
            rows in vec(inet(Family::Inet), 0..8),
            rows6 in vec(inet(Family::Inet6), 0..8),
        ) {
            let (family, rows) = if six { (Family::Inet6, rows6) } else { (Family::Inet, rows) };
            let mut text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n".to_owned();
            for (i, r) in rows.iter().enumerate() {
                text.push_str(&inet_line(i, r));
            }
            let p = parse_inet(text.as_bytes(), proto, family);
            prop_assert_eq!((p.bad, p.first_bad), (0, None));
            prop_assert_eq!(p.sockets.len(), rows.len());
            for (s, r) in p.sockets.iter().zip(&rows) {
                prop_assert_eq!(&s.local, &Some(Addr::Ip(r.local)));
                prop_assert_eq!(s.local_port, Some(r.lport));
                let remote = (!r.remote.is_unspecified()).then_some(Addr::Ip(r.remote));
                prop_assert_eq!(&s.remote, &remote);
                prop_assert_eq!(s.remote_port, (r.rport != 0).then_some(r.rport));
                let state = match proto {
                    Proto::Tcp => tcp_state(r.state),
                    _ => dgram_state(r.state),
                };
                prop_assert_eq!(s.state, state);
                prop_assert_eq!(s.recv_q, Some(r.rx));
                prop_assert_eq!(s.send_q, (state != Some("LISTEN")).then_some(r.tx));
                prop_assert_eq!(s.inode, (r.inode != 0).then_some(r.inode));
                prop_assert_eq!(s.uid, (r.inode != 0).then_some(r.uid));
            }
        }

        #[test]
        fn unix_tables_parse_back(rows in vec(unix(), 0..8)) {
            let mut text = b"Num       RefCount Protocol Flags    Type St Inode Path\n".to_vec();
            for r in &rows {
                text.extend_from_slice(
                    format!(
                        "0000000000000000: 00000002 00000000 {:08X} {:04X} {:02X} {:5}",
                        r.flags, r.ty, r.st, r.inode
                    )
                    .as_bytes(),
                );
                if let Some(p) = &r.path {
                    text.push(b' ');
                    text.extend_from_slice(p);
                }
                text.push(b'\n');
            }
            let p = parse_unix(&text);
            prop_assert_eq!(p.bad, 0);
            prop_assert_eq!(p.sockets.len(), rows.len());
            for (s, r) in p.sockets.iter().zip(&rows) {
                prop_assert_eq!(&s.local, &r.path.clone().map(Addr::Path));
                prop_assert_eq!(s.sock_type, type_name(r.ty));
                prop_assert_eq!(s.inode, (r.inode != 0).then_some(r.inode));
                let state = if r.flags & ACCEPTCON != 0 {
                    "LISTEN"
                } else if r.st == 2 || r.st == 3 {
                    "CONNECTED"
                } else {
                    "UNCONN"
                };
                prop_assert_eq!(s.state, Some(state));
            }
        }
    }
}
