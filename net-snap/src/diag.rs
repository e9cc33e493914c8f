//! The kernel's sock_diag netlink interface (NETLINK_SOCK_DIAG), the source
//! `ss` reads: one dump request per protocol and family, answered with one
//! binary message per socket. Built by hand on a nix netlink socket: the
//! requests are two fixed C structs and the answers a handful of fields, far
//! less code than a general netlink crate and no extra dependency.
//!
//! Layouts (include/uapi/linux/inet_diag.h, unix_diag.h, netlink.h):
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
const NLM_F_DUMP: u16 = 0x300;

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
        let mut req = [0u8; 56];
        req[0] = af;
        req[1] = ipproto;
        // raw_diag matches this byte against the socket's protocol unless it
        // is IPPROTO_RAW: 255 asks for every raw socket.
        req[3] = if proto == Proto::Raw { 255 } else { 0 };
        req[4..8].copy_from_slice(&states.to_ne_bytes());
        let mut out = Vec::new();
        self.dump(&req, |m| {
            if let Some(s) = parse_inet(m, proto, family) {
                out.push(s);
            }
        })?;
        Ok(out)
    }

    /// Dump every Unix socket with its name, peer, queues and uid.
    pub fn unix(&mut self) -> Result<Vec<Socket>, Errno> {
        let mut req = [0u8; 24];
        req[0] = AF_UNIX;
        req[4..8].copy_from_slice(&u32::MAX.to_ne_bytes());
        let show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | UDIAG_SHOW_UID;
        req[12..16].copy_from_slice(&show.to_ne_bytes());
        let mut out = Vec::new();
        self.dump(&req, |m| {
            if let Some(s) = parse_unix(m) {
                out.push(s);
            }
        })?;
        Ok(out)
    }

    /// Send one dump request and hand each answer's payload to `each`
    /// until NLMSG_DONE; an NLMSG_ERROR becomes its errno.
    fn dump(&mut self, payload: &[u8], mut each: impl FnMut(&[u8])) -> Result<(), Errno> {
        self.seq = self.seq.wrapping_add(1);
        let len = 16 + payload.len();
        let mut msg = Vec::with_capacity(len);
        msg.extend_from_slice(&(len as u32).to_ne_bytes());
        msg.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
        msg.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        msg.extend_from_slice(&self.seq.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(payload);
        let fd = self.fd.as_raw_fd();
        sendto(fd, &msg, &NetlinkAddr::new(0, 0), MsgFlags::empty())?;
        loop {
            let n = match recv(fd, &mut self.buf, MsgFlags::empty()) {
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                return Err(Errno::EIO);
            }
            let mut data = &self.buf[..n];
            while data.len() >= 16 {
                let mlen = u32_at(data, 0) as usize;
                let mtype = u16_at(data, 4);
                if mlen < 16 || mlen > data.len() {
                    return Err(Errno::EIO);
                }
                if u32_at(data, 8) == self.seq {
                    match mtype {
                        // Both carry an errno (negative) after the header:
                        // a dump the kernel cannot do (no raw_diag: ENOENT)
                        // ends in a DONE with an error, not in an ERROR.
                        NLMSG_DONE | NLMSG_ERROR => {
                            let err = if mlen >= 20 {
                                i32::from_ne_bytes([data[16], data[17], data[18], data[19]])
                            } else if mtype == NLMSG_DONE {
                                0
                            } else {
                                -(Errno::EIO as i32)
                            };
                            return if err < 0 {
                                Err(Errno::from_raw(-err))
                            } else {
                                Ok(())
                            };
                        }
                        SOCK_DIAG_BY_FAMILY => each(&data[16..mlen]),
                        _ => {}
                    }
                }
                let step = (mlen + 3) & !3;
                data = &data[step.min(data.len())..];
            }
        }
    }
}

/// One inet_diag_msg.
fn parse_inet(m: &[u8], proto: Proto, family: Family) -> Option<Socket> {
    if m.len() < 72 {
        return None;
    }
    let ip = |at: usize| -> IpAddr {
        if m[0] == AF_INET6 {
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
        ip(8),
        be16_at(m, 4),
        ip(24),
        be16_at(m, 6),
        m[1],
        u32_at(m, 64),
        u64::from(u32_at(m, 68)),
    );
    s.recv_q = Some(u32_at(m, 56));
    s.send_q = Some(u32_at(m, 60));
    Some(s)
}

/// One unix_diag_msg with its attributes.
fn parse_unix(m: &[u8]) -> Option<Socket> {
    if m.len() < 16 || m[0] != AF_UNIX {
        return None;
    }
    let inode = u64::from(u32_at(m, 4));
    let mut s = Socket {
        netns: None,
        proto: Proto::Unix,
        family: Family::Unix,
        sock_type: type_name(u32::from(m[1])),
        local: None,
        local_port: None,
        remote: None,
        remote_port: None,
        state: unix_state(m[2]),
        uid: None,
        inode: (inode != 0).then_some(inode),
        peer_inode: None,
        recv_q: None,
        send_q: None,
    };
    let mut a = &m[16..];
    while a.len() >= 4 {
        let alen = u16_at(a, 0) as usize;
        let atype = u16_at(a, 2) & 0x3fff;
        if alen < 4 || alen > a.len() {
            break;
        }
        let v = &a[4..alen];
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
        a = &a[((alen + 3) & !3).min(a.len())..];
    }
    Some(s)
}

/// A sun_path as /proc/net/unix prints it: a path up to its NUL; an
/// abstract name (leading NUL) as `@` and its NUL bytes as `@`.
pub fn unix_name(v: &[u8]) -> Vec<u8> {
    if v[0] == 0 {
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
        let mut m = [0u8; 72];
        m[0] = AF_INET;
        m[1] = 10;
        m[4..6].copy_from_slice(&8080u16.to_be_bytes());
        m[8..12].copy_from_slice(&[127, 0, 0, 1]);
        m[60..64].copy_from_slice(&128u32.to_ne_bytes());
        m[64..68].copy_from_slice(&1000u32.to_ne_bytes());
        m[68..72].copy_from_slice(&42u32.to_ne_bytes());
        let s = parse_inet(&m, Proto::Tcp, Family::Inet).expect("decodes");
        assert_eq!(s.local, Some(Addr::Ip("127.0.0.1".parse().expect("ip"))));
        assert_eq!((s.local_port, s.state), (Some(8080), Some("LISTEN")));
        assert_eq!(
            (s.uid, s.inode, s.send_q),
            (Some(1000), Some(42), Some(128))
        );
        assert_eq!(s.remote, None);
    }

    #[test]
    fn live_dump_sees_own_listener() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let Ok(mut d) = Diag::open() else {
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
