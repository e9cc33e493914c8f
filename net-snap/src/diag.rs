//! The kernel's sock_diag netlink interface (NETLINK_SOCK_DIAG), the source
//! `ss` reads: one dump request per protocol and family, answered with one
//! binary message per socket. Built by hand on a nix netlink socket: the
//! requests are two fixed C structs and the answers a handful of fields, far
//! less code than a general netlink crate and no extra dependency.
//!
//! A dump the kernel marks NLM_F_DUMP_INTR (a socket came or went while
//! it was dumped) is taken again. Layouts, named field by field in the
//! offset modules below (include/uapi/linux/inet_diag.h, unix_diag.h,
//! netlink.h):
//! nlmsghdr {u32 len; u16 type; u16 flags; u32 seq; u32 pid} (16 bytes);
//! inet_diag_req_v2 {u8 family, protocol, ext, raw_protocol; u32 states;
//! inet_diag_sockid id} (56); inet_diag_sockid {be16 sport, dport;
//! be32 src[4], dst[4]; u32 if; u32 cookie[2]} (48); inet_diag_msg {u8
//! family, state, timer, retrans; sockid; u32 expires, rqueue, wqueue, uid,
//! inode} (72); unix_diag_req {u8 family, protocol; u16 pad; u32 states,
//! ino, show; u32 cookie[2]} (24); unix_diag_msg {u8 family, type, state,
//! pad; u32 ino; u32 cookie[2]} (16) followed by attributes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{
    recv, sendto, socket, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType,
};

use crate::sock::{type_name, unix_state, Addr, Family, Proto, Socket};

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 1;
/// Set by the kernel on a dump message when the table changed while it was
/// being dumped: the dump may have missed or repeated entries.
const NLM_F_DUMP_INTR: u16 = 0x10;
const NLM_F_DUMP: u16 = 0x300;
/// How many times an interrupted dump is taken again before the caller
/// falls back to /proc/net.
const DUMP_TRIES: usize = 5;

const AF_UNIX: u8 = 1;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

const UDIAG_SHOW_NAME: u32 = 0x01;
const UDIAG_SHOW_PEER: u32 = 0x04;
const UDIAG_SHOW_RQLEN: u32 = 0x10;
const UDIAG_SHOW_UID: u32 = 0x40;
const UNIX_DIAG_NAME: u16 = 0;
const UNIX_DIAG_PEER: u16 = 2;
const UNIX_DIAG_RQLEN: u16 = 4;
const UNIX_DIAG_UID: u16 = 7;

/// Byte offsets of `struct nlmsghdr` (linux/netlink.h).
mod nlmsghdr {
    pub const LEN: usize = 0;
    pub const TYPE: usize = 4;
    pub const FLAGS: usize = 6;
    pub const SEQ: usize = 8;
    pub const SIZE: usize = 16;
    /// `struct nlmsgerr` and a DONE with an error start with an `int error`.
    pub const ERROR: usize = SIZE;
}

/// Byte offsets of `struct nlattr` (linux/netlink.h).
mod nlattr {
    pub const LEN: usize = 0;
    pub const TYPE: usize = 2;
    pub const SIZE: usize = 4;
    /// The type bits; the top two are NLA_F_NESTED and NLA_F_NET_BYTEORDER.
    pub const TYPE_MASK: u16 = 0x3fff;
}

/// Byte offsets of `struct inet_diag_req_v2` (linux/inet_diag.h).
mod inet_req {
    pub const FAMILY: usize = 0;
    pub const PROTOCOL: usize = 1;
    pub const RAW_PROTOCOL: usize = 3;
    pub const STATES: usize = 4;
    pub const SIZE: usize = 56;
}

/// Byte offsets of `struct inet_diag_msg` and its `inet_diag_sockid`.
mod inet_msg {
    pub const FAMILY: usize = 0;
    pub const STATE: usize = 1;
    pub const SPORT: usize = 4;
    pub const DPORT: usize = 6;
    pub const SRC: usize = 8;
    pub const DST: usize = 24;
    pub const RQUEUE: usize = 56;
    pub const WQUEUE: usize = 60;
    pub const UID: usize = 64;
    pub const INODE: usize = 68;
    pub const SIZE: usize = 72;
}

/// Byte offsets of `struct unix_diag_req` (linux/unix_diag.h).
mod unix_req {
    pub const FAMILY: usize = 0;
    pub const STATES: usize = 4;
    pub const SHOW: usize = 12;
    pub const SIZE: usize = 24;
}

/// Byte offsets of `struct unix_diag_msg`.
mod unix_msg {
    pub const FAMILY: usize = 0;
    pub const TYPE: usize = 1;
    pub const STATE: usize = 2;
    pub const INO: usize = 4;
    pub const SIZE: usize = 16;
}

/// Netlink messages and attributes are aligned to 4 bytes.
const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// States 0..=12 (through NEW_SYN_RECV): everything /proc/net/tcp lists.
/// BOUND_INACTIVE (13, bound but never listening) is left out, as netstat
/// and `ss -a` leave it out.
pub const ALL_STATES: u32 = (1 << 13) - 1;

/// One open NETLINK_SOCK_DIAG socket and its receive buffer.
pub struct Diag {
    fd: OwnedFd,
    buf: Vec<u8>,
    seq: u32,
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_ne_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_ne_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn be16_at(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}

impl Diag {
    pub fn open() -> Result<Diag, Errno> {
        let fd = socket(
            AddressFamily::Netlink,
            SockType::Raw,
            SockFlag::SOCK_CLOEXEC,
            SockProtocol::NetlinkSockDiag,
        )?;
        // The kernel fills at most 32 KiB per message batch; twice that
        // leaves room and keeps the number of recv calls minimal.
        Ok(Diag {
            fd,
            buf: vec![0; 64 * 1024],
            seq: 0,
        })
    }

    /// Dump the sockets of one inet protocol and family in `states` (a bit
    /// mask of TCP state numbers).
    pub fn inet(
        &mut self,
        proto: Proto,
        family: Family,
        states: u32,
    ) -> Result<Vec<Socket>, Errno> {
        let (af, ipproto) = (
            if family == Family::Inet6 {
                AF_INET6
            } else {
                AF_INET
            },
            match proto {
                Proto::Tcp => 6u8,
                Proto::Udp => 17,
                _ => 255,
            },
        );
        let mut req = [0u8; inet_req::SIZE];
        req[inet_req::FAMILY] = af;
        req[inet_req::PROTOCOL] = ipproto;
        // raw_diag matches this byte against the socket's protocol unless it
        // is IPPROTO_RAW: 255 asks for every raw socket.
        req[inet_req::RAW_PROTOCOL] = if proto == Proto::Raw { 255 } else { 0 };
        req[inet_req::STATES..inet_req::STATES + 4].copy_from_slice(&states.to_ne_bytes());
        self.dump_retrying(&req, |m, out| {
            if let Some(s) = parse_inet(m, proto, family) {
                out.push(s);
            }
        })
    }

    /// Dump every Unix socket with its name, peer, queues and uid.
    pub fn unix(&mut self) -> Result<Vec<Socket>, Errno> {
        let mut req = [0u8; unix_req::SIZE];
        req[unix_req::FAMILY] = AF_UNIX;
        req[unix_req::STATES..unix_req::STATES + 4].copy_from_slice(&u32::MAX.to_ne_bytes());
        let show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | UDIAG_SHOW_UID;
        req[unix_req::SHOW..unix_req::SHOW + 4].copy_from_slice(&show.to_ne_bytes());
        self.dump_retrying(&req, |m, out| {
            if let Some(s) = parse_unix(m) {
                out.push(s);
            }
        })
    }

    /// A whole dump, taken again when the kernel says a change interrupted
    /// it (NLM_F_DUMP_INTR, which iproute2's `rtnl_dump_filter_l` watches
    /// for too); still interrupted after [`DUMP_TRIES`] tries it is
    /// `EINTR`, and the caller reads /proc/net instead.
    fn dump_retrying(
        &mut self,
        req: &[u8],
        each: impl Fn(&[u8], &mut Vec<Socket>),
    ) -> Result<Vec<Socket>, Errno> {
        for _ in 0..DUMP_TRIES {
            let mut out = Vec::new();
            let interrupted = self.dump(req, |m| each(m, &mut out))?;
            if !interrupted {
                return Ok(out);
            }
        }
        Err(Errno::EINTR)
    }

    /// Send one dump request and hand each answer's payload to `each`
    /// until NLMSG_DONE; an NLMSG_ERROR becomes its errno. `Ok(true)` when
    /// a message of the dump carried NLM_F_DUMP_INTR.
    fn dump(&mut self, payload: &[u8], mut each: impl FnMut(&[u8])) -> Result<bool, Errno> {
        self.seq = self.seq.wrapping_add(1);
        let len = nlmsghdr::SIZE + payload.len();
        let mut msg = Vec::with_capacity(len);
        msg.extend_from_slice(&(len as u32).to_ne_bytes());
        msg.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        msg.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        msg.extend_from_slice(&self.seq.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(payload);
        let fd = self.fd.as_raw_fd();
        sendto(fd, &msg, &NetlinkAddr::new(0, 0), MsgFlags::empty())?;
        let mut interrupted = false;
        loop {
            let n = match recv(fd, &mut self.buf, MsgFlags::empty()) {
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                return Err(Errno::EIO);
            }
            match walk(&self.buf[..n], self.seq, &mut interrupted, &mut each)? {
                Walk::More => {}
                Walk::Done => return Ok(interrupted),
            }
        }
    }
}

/// Where a batch of dump messages left the dump.
#[derive(Debug, PartialEq, Eq)]
enum Walk {
    More,
    Done,
}

/// The messages of one received batch: each socket message's payload to
/// `each`, NLM_F_DUMP_INTR noted, the end or the error of the dump found.
fn walk(
    mut data: &[u8],
    seq: u32,
    interrupted: &mut bool,
    each: &mut impl FnMut(&[u8]),
) -> Result<Walk, Errno> {
    while data.len() >= nlmsghdr::SIZE {
        let mlen = u32_at(data, nlmsghdr::LEN) as usize;
        let mtype = u16_at(data, nlmsghdr::TYPE);
        if mlen < nlmsghdr::SIZE || mlen > data.len() {
            return Err(Errno::EIO);
        }
        if u32_at(data, nlmsghdr::SEQ) == seq {
            if u16_at(data, nlmsghdr::FLAGS) & NLM_F_DUMP_INTR != 0 {
                *interrupted = true;
            }
            match mtype {
                // Both carry an errno (negative) after the header: a dump
                // the kernel cannot do (no raw_diag: ENOENT) ends in a DONE
                // with an error, not in an ERROR.
                NLMSG_DONE | NLMSG_ERROR => {
                    let e = nlmsghdr::ERROR;
                    let err = if mlen >= e + 4 {
                        i32::from_ne_bytes([data[e], data[e + 1], data[e + 2], data[e + 3]])
                    } else if mtype == NLMSG_DONE {
                        0
                    } else {
                        -(Errno::EIO as i32)
                    };
                    return if err < 0 {
                        // i32::MIN has no positive: no errno, an I/O error.
                        Err(err.checked_neg().map_or(Errno::EIO, Errno::from_raw))
                    } else {
                        Ok(Walk::Done)
                    };
                }
                SOCK_DIAG_BY_FAMILY => each(&data[nlmsghdr::SIZE..mlen]),
                _ => {}
            }
        }
        data = &data[align4(mlen).min(data.len())..];
    }
    Ok(Walk::More)
}

/// One inet_diag_msg.
fn parse_inet(m: &[u8], proto: Proto, family: Family) -> Option<Socket> {
    if m.len() < inet_msg::SIZE {
        return None;
    }
    let ip = |at: usize| -> IpAddr {
        if m[inet_msg::FAMILY] == AF_INET6 {
            let mut b = [0u8; 16];
            b.copy_from_slice(&m[at..at + 16]);
            IpAddr::V6(Ipv6Addr::from(b))
        } else {
            IpAddr::V4(Ipv4Addr::new(m[at], m[at + 1], m[at + 2], m[at + 3]))
        }
    };
    let mut s = Socket::inet(
        proto,
        family,
        ip(inet_msg::SRC),
        be16_at(m, inet_msg::SPORT),
        ip(inet_msg::DST),
        be16_at(m, inet_msg::DPORT),
        m[inet_msg::STATE],
        u32_at(m, inet_msg::UID),
        u64::from(u32_at(m, inet_msg::INODE)),
    );
    s.recv_q = Some(u32_at(m, inet_msg::RQUEUE));
    s.send_q = Some(u32_at(m, inet_msg::WQUEUE));
    Some(s)
}

/// One unix_diag_msg with its attributes.
fn parse_unix(m: &[u8]) -> Option<Socket> {
    if m.len() < unix_msg::SIZE || m[unix_msg::FAMILY] != AF_UNIX {
        return None;
    }
    let inode = u64::from(u32_at(m, unix_msg::INO));
    let mut s = Socket {
        netns: None,
        proto: Proto::Unix,
        family: Family::Unix,
        sock_type: type_name(u32::from(m[unix_msg::TYPE])),
        local: None,
        local_port: None,
        remote: None,
        remote_port: None,
        state: unix_state(m[unix_msg::STATE]),
        uid: None,
        inode: (inode != 0).then_some(inode),
        peer_inode: None,
        recv_q: None,
        send_q: None,
    };
    let mut a = &m[unix_msg::SIZE..];
    while a.len() >= nlattr::SIZE {
        let alen = u16_at(a, nlattr::LEN) as usize;
        let atype = u16_at(a, nlattr::TYPE) & nlattr::TYPE_MASK;
        if alen < nlattr::SIZE || alen > a.len() {
            break;
        }
        let v = &a[nlattr::SIZE..alen];
        match atype {
            UNIX_DIAG_NAME if !v.is_empty() => s.local = Some(Addr::Path(unix_name(v))),
            UNIX_DIAG_PEER if v.len() >= 4 => {
                let p = u64::from(u32_at(v, 0));
                s.peer_inode = (p != 0).then_some(p);
            }
            UNIX_DIAG_RQLEN if v.len() >= 8 => {
                s.recv_q = Some(u32_at(v, 0));
                s.send_q = Some(u32_at(v, 4));
            }
            UNIX_DIAG_UID if v.len() >= 4 => s.uid = Some(u32_at(v, 0)),
            _ => {}
        }
        a = &a[align4(alen).min(a.len())..];
    }
    Some(s)
}

/// A sun_path as /proc/net/unix prints it: a path up to its NUL; an
/// abstract name (leading NUL) as `@` and its NUL bytes as `@`.
pub fn unix_name(v: &[u8]) -> Vec<u8> {
    if v.first() == Some(&0) {
        v.iter().map(|&b| if b == 0 { b'@' } else { b }).collect()
    } else {
        let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
        v[..end].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_names_match_proc() {
        assert_eq!(unix_name(b"/run/x.sock\0"), b"/run/x.sock");
        assert_eq!(unix_name(b"\0abs\0x"), b"@abs@x");
    }

    #[test]
    fn inet_message_decodes() {
        let mut m = [0u8; inet_msg::SIZE];
        m[inet_msg::FAMILY] = AF_INET;
        m[inet_msg::STATE] = 10;
        m[inet_msg::SPORT..inet_msg::SPORT + 2].copy_from_slice(&8080u16.to_be_bytes());
        m[inet_msg::SRC..inet_msg::SRC + 4].copy_from_slice(&[127, 0, 0, 1]);
        m[inet_msg::WQUEUE..inet_msg::WQUEUE + 4].copy_from_slice(&128u32.to_ne_bytes());
        m[inet_msg::UID..inet_msg::UID + 4].copy_from_slice(&1000u32.to_ne_bytes());
        m[inet_msg::INODE..inet_msg::INODE + 4].copy_from_slice(&42u32.to_ne_bytes());
        let s = parse_inet(&m, Proto::Tcp, Family::Inet).expect("decodes");
        assert_eq!(s.local, Some(Addr::Ip("127.0.0.1".parse().expect("ip"))));
        assert_eq!((s.local_port, s.state), (Some(8080), Some("LISTEN")));
        assert_eq!(
            (s.uid, s.inode, s.send_q),
            (Some(1000), Some(42), Some(128))
        );
        assert_eq!(s.remote, None);
    }

    /// A netlink message: header with `flags` and `seq`, then `payload`.
    fn nlmsg(mtype: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let len = nlmsghdr::SIZE + payload.len();
        let mut m = Vec::new();
        m.extend_from_slice(&(len as u32).to_ne_bytes());
        m.extend_from_slice(&mtype.to_ne_bytes());
        m.extend_from_slice(&flags.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(payload);
        m.resize(align4(len), 0);
        m
    }

    #[test]
    fn walk_notes_an_interrupted_dump_and_its_end() {
        let mut batch = nlmsg(SOCK_DIAG_BY_FAMILY, NLM_F_DUMP_INTR, 7, &[1, 2, 3]);
        batch.extend(nlmsg(SOCK_DIAG_BY_FAMILY, 0, 6, &[9])); // another request's
        batch.extend(nlmsg(SOCK_DIAG_BY_FAMILY, 0, 7, &[4]));
        let mut seen = Vec::new();
        let mut intr = false;
        let w = walk(&batch, 7, &mut intr, &mut |p: &[u8]| seen.push(p.to_vec()));
        assert_eq!(w, Ok(Walk::More));
        assert!(intr);
        assert_eq!(seen, vec![vec![1, 2, 3], vec![4]]);

        let mut intr = false;
        let done = nlmsg(NLMSG_DONE, 0, 7, &0i32.to_ne_bytes());
        assert_eq!(
            walk(&done, 7, &mut intr, &mut |_: &[u8]| {}),
            Ok(Walk::Done)
        );
        assert!(!intr);
        let refused = nlmsg(NLMSG_DONE, 0, 7, &(-(Errno::ENOENT as i32)).to_ne_bytes());
        assert_eq!(
            walk(&refused, 7, &mut intr, &mut |_: &[u8]| {}),
            Err(Errno::ENOENT)
        );
        // An error no errno can be (i32::MIN has no positive) is EIO,
        // not a panic.
        let odd = nlmsg(NLMSG_ERROR, 0, 7, &i32::MIN.to_ne_bytes());
        assert_eq!(
            walk(&odd, 7, &mut intr, &mut |_: &[u8]| {}),
            Err(Errno::EIO)
        );
        let mut short = nlmsg(SOCK_DIAG_BY_FAMILY, 0, 7, &[1]);
        short[0] = 200; // a length past the batch
        assert_eq!(
            walk(&short, 7, &mut intr, &mut |_: &[u8]| {}),
            Err(Errno::EIO)
        );
    }

    #[test]
    fn live_dump_sees_own_listener() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let Ok(mut d) = Diag::open() else {
            assert!(
                std::env::var_os("PATCHDAY_STRICT").is_none_or(|v| v != "1"),
                "no sock_diag netlink"
            );
            eprintln!("SKIP: no sock_diag netlink");
            return;
        };
        let v = d
            .inet(Proto::Tcp, Family::Inet, ALL_STATES)
            .expect("tcp dump");
        assert!(v
            .iter()
            .any(|s| s.local_port == Some(port) && s.state == Some("LISTEN")));
    }
}

/// Properties of the netlink walk and the message decoders: any bytes
/// never panic them, and messages laid out as the kernel lays them out
/// (linux/netlink.h, inet_diag.h, unix_diag.h) decode to the values they
/// were made of.
#[cfg(test)]
mod props {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;
    use crate::sock::{tcp_state, unix_state};

    fn nlmsg(mtype: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let len = nlmsghdr::SIZE + payload.len();
        let mut m = Vec::with_capacity(align4(len));
        m.extend_from_slice(&(len as u32).to_ne_bytes());
        m.extend_from_slice(&mtype.to_ne_bytes());
        m.extend_from_slice(&flags.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(payload);
        m.resize(align4(len), 0);
        m
    }

    fn nlattr(atype: u16, v: &[u8]) -> Vec<u8> {
        let len = nlattr::SIZE + v.len();
        let mut a = Vec::with_capacity(align4(len));
        a.extend_from_slice(&(len as u16).to_ne_bytes());
        a.extend_from_slice(&atype.to_ne_bytes());
        a.extend_from_slice(v);
        a.resize(align4(len), 0);
        a
    }

    /// One message of a batch: (ours, interrupted, payload).
    fn message() -> impl Strategy<Value = (bool, bool, Vec<u8>)> {
        (any::<bool>(), any::<bool>(), vec(any::<u8>(), 0..100))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn nothing_panics_on_any_bytes(b in vec(any::<u8>(), 0..300), seq in 0u32..3) {
            let mut intr = false;
            let _ = walk(&b, seq, &mut intr, &mut |m: &[u8]| {
                let _ = parse_inet(m, Proto::Tcp, Family::Inet6);
                let _ = parse_unix(m);
            });
            let _ = parse_inet(&b, Proto::Udp, Family::Inet);
            let _ = parse_unix(&b);
            let _ = unix_name(&b);
        }

        #[test]
        fn a_batch_gives_our_payloads_in_order_and_its_end(
            msgs in vec(message(), 0..8),
            end in proptest::option::of(prop_oneof![Just(0i32), Just(i32::MIN), any::<i32>()]),
            seq in 1u32..1000,
        ) {
            let mut batch = Vec::new();
            for (ours, intr, p) in &msgs {
                let flags = if *intr { NLM_F_DUMP_INTR | 2 } else { 2 };
                batch.extend(nlmsg(SOCK_DIAG_BY_FAMILY, flags, if *ours { seq } else { seq - 1 }, p));
            }
            if let Some(e) = end {
                batch.extend(nlmsg(NLMSG_DONE, 2, seq, &e.to_ne_bytes()));
            }
            let mut seen = Vec::new();
            let mut intr = false;
            let w = walk(&batch, seq, &mut intr, &mut |p: &[u8]| seen.push(p.to_vec()));
            let want: Vec<Vec<u8>> = msgs.iter().filter(|m| m.0).map(|m| m.2.clone()).collect();
            prop_assert_eq!(seen, want);
            prop_assert_eq!(intr, msgs.iter().any(|m| m.0 && m.1));
            match end {
                None => prop_assert_eq!(w, Ok(Walk::More)),
                Some(e) if e >= 0 => prop_assert_eq!(w, Ok(Walk::Done)),
                Some(_) => prop_assert!(w.is_err()),
            }
        }

        #[test]
        fn an_inet_message_decodes(
            six in any::<bool>(),
            src in any::<[u8; 16]>(),
            dst in any::<[u8; 16]>(),
            ports in any::<(u16, u16)>(),
            state in 1u8..=12,
            queues in any::<(u32, u32)>(),
            uid in any::<u32>(),
            inode in any::<u32>(),
            attrs in vec(any::<u8>(), 0..40),
        ) {
            let mut m = vec![0u8; inet_msg::SIZE];
            m[inet_msg::FAMILY] = if six { AF_INET6 } else { AF_INET };
            m[inet_msg::STATE] = state;
            m[inet_msg::SPORT..inet_msg::SPORT + 2].copy_from_slice(&ports.0.to_be_bytes());
            m[inet_msg::DPORT..inet_msg::DPORT + 2].copy_from_slice(&ports.1.to_be_bytes());
            m[inet_msg::SRC..inet_msg::SRC + 16].copy_from_slice(&src);
            m[inet_msg::DST..inet_msg::DST + 16].copy_from_slice(&dst);
            m[inet_msg::RQUEUE..inet_msg::RQUEUE + 4].copy_from_slice(&queues.0.to_ne_bytes());
            m[inet_msg::WQUEUE..inet_msg::WQUEUE + 4].copy_from_slice(&queues.1.to_ne_bytes());
            m[inet_msg::UID..inet_msg::UID + 4].copy_from_slice(&uid.to_ne_bytes());
            m[inet_msg::INODE..inet_msg::INODE + 4].copy_from_slice(&inode.to_ne_bytes());
            m.extend_from_slice(&attrs);
            let family = if six { Family::Inet6 } else { Family::Inet };
            let s = parse_inet(&m, Proto::Tcp, family).expect("a whole message");
            let ip = |b: [u8; 16]| {
                if six {
                    IpAddr::V6(Ipv6Addr::from(b))
                } else {
                    IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
                }
            };
            prop_assert_eq!(&s.local, &Some(Addr::Ip(ip(src))));
            prop_assert_eq!(s.local_port, Some(ports.0));
            let remote = (!ip(dst).is_unspecified()).then_some(Addr::Ip(ip(dst)));
            prop_assert_eq!(&s.remote, &remote);
            prop_assert_eq!(s.remote_port, (ports.1 != 0).then_some(ports.1));
            prop_assert_eq!(s.state, tcp_state(state));
            prop_assert_eq!((s.recv_q, s.send_q), (Some(queues.0), Some(queues.1)));
            prop_assert_eq!(s.inode, (inode != 0).then_some(u64::from(inode)));
            prop_assert_eq!(s.uid, (inode != 0).then_some(uid));
            prop_assert!(parse_inet(&m[..inet_msg::SIZE - 1], Proto::Tcp, family).is_none());
        }

        #[test]
        fn a_unix_message_and_its_attributes_decode(
            ty in 1u8..=5,
            state in proptest::sample::select(vec![1u8, 2, 7, 10]),
            inode in any::<u32>(),
            name in proptest::option::of(prop_oneof![
                "/[a-z/._-]{1,40}".prop_map(|s| { let mut b = s.into_bytes(); b.push(0); b }),
                vec(any::<u8>(), 1..40).prop_map(|mut b| { b.insert(0, 0); b }),
            ]),
            peer in proptest::option::of(any::<u32>()),
            rq in proptest::option::of(any::<(u32, u32)>()),
            uid in proptest::option::of(any::<u32>()),
            junk in proptest::option::of((any::<u16>(), vec(any::<u8>(), 0..12))),
        ) {
            let mut m = vec![0u8; unix_msg::SIZE];
            m[unix_msg::FAMILY] = AF_UNIX;
            m[unix_msg::TYPE] = ty;
            m[unix_msg::STATE] = state;
            m[unix_msg::INO..unix_msg::INO + 4].copy_from_slice(&inode.to_ne_bytes());
            if let Some((t, v)) = &junk {
                // An attribute of a kind not asked for is passed over.
                let t = *t & nlattr::TYPE_MASK;
                if ![UNIX_DIAG_NAME, UNIX_DIAG_PEER, UNIX_DIAG_RQLEN, UNIX_DIAG_UID].contains(&t) {
                    m.extend(nlattr(t, v));
                }
            }
            if let Some(n) = &name {
                m.extend(nlattr(UNIX_DIAG_NAME, n));
            }
            if let Some(p) = peer {
                m.extend(nlattr(UNIX_DIAG_PEER, &p.to_ne_bytes()));
            }
            if let Some((r, w)) = rq {
                let mut v = r.to_ne_bytes().to_vec();
                v.extend_from_slice(&w.to_ne_bytes());
                m.extend(nlattr(UNIX_DIAG_RQLEN, &v));
            }
            if let Some(u) = uid {
                m.extend(nlattr(UNIX_DIAG_UID, &u.to_ne_bytes()));
            }
            let s = parse_unix(&m).expect("a unix message");
            prop_assert_eq!(s.sock_type, type_name(u32::from(ty)));
            prop_assert_eq!(s.state, unix_state(state));
            prop_assert_eq!(s.inode, (inode != 0).then_some(u64::from(inode)));
            prop_assert_eq!(&s.local, &name.as_deref().map(|n| Addr::Path(unix_name(n))));
            prop_assert_eq!(s.peer_inode, peer.filter(|&p| p != 0).map(u64::from));
            prop_assert_eq!((s.recv_q, s.send_q), (rq.map(|q| q.0), rq.map(|q| q.1)));
            prop_assert_eq!(s.uid, uid);
        }
    }
}
