//! One socket as the kernel describes it, whatever the source (sock_diag
//! netlink or /proc/net text), and its JSON record and text row.
//!
//! Both sources are normalised to the same values here so that a snapshot
//! taken through netlink and one taken from /proc/net (a fallback, another
//! network namespace, a fixture tree) agree field by field.

use std::cmp::Ordering;
use std::net::IpAddr;

use crate::json;

/// Protocol, in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Proto {
    Tcp,
    Udp,
    Raw,
    Unix,
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Raw => "raw",
            Proto::Unix => "unix",
        }
    }
}

/// Address family, in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    Inet,
    Inet6,
    Unix,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Inet => "inet",
            Family::Inet6 => "inet6",
            Family::Unix => "unix",
        }
    }
}

/// A socket address without its port: an IP address, or the name of a Unix
/// socket as raw bytes (`@name` for the abstract namespace, as ss and
/// netstat write it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Addr {
    Ip(IpAddr),
    Path(Vec<u8>),
}

/// One socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket {
    /// Inode of the network namespace the socket lives in.
    pub netns: Option<u64>,
    pub proto: Proto,
    pub family: Family,
    /// `stream`, `dgram`, `seqpacket`, `raw`.
    pub sock_type: Option<&'static str>,
    pub local: Option<Addr>,
    pub local_port: Option<u16>,
    pub remote: Option<Addr>,
    pub remote_port: Option<u16>,
    pub state: Option<&'static str>,
    pub uid: Option<u32>,
    pub inode: Option<u64>,
    /// Unix sockets: the inode of the connected peer (netlink only).
    pub peer_inode: Option<u64>,
    pub recv_q: Option<u32>,
    pub send_q: Option<u32>,
}

/// TCP states by the kernel's number (include/net/tcp_states.h), named as
/// netstat names them.
pub fn tcp_state(n: u8) -> Option<&'static str> {
    Some(match n {
        1 => "ESTABLISHED",
        2 => "SYN_SENT",
        3 => "SYN_RECV",
        4 => "FIN_WAIT1",
        5 => "FIN_WAIT2",
        6 => "TIME_WAIT",
        7 => "CLOSE",
        8 => "CLOSE_WAIT",
        9 => "LAST_ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        12 => "NEW_SYN_RECV",
        13 => "BOUND_INACTIVE",
        _ => return None,
    })
}

/// UDP and raw sockets reuse the TCP state numbers: CLOSE is a socket
/// without a peer (`UNCONN`), ESTABLISHED one that called connect().
pub fn dgram_state(n: u8) -> Option<&'static str> {
    match n {
        7 => Some("UNCONN"),
        n => tcp_state(n),
    }
}

/// Unix sockets by the kernel's `sk_state` (what sock_diag reports).
pub fn unix_state(n: u8) -> Option<&'static str> {
    Some(match n {
        1 => "CONNECTED",
        2 => "CONNECTING",
        7 => "UNCONN",
        10 => "LISTEN",
        _ => return None,
    })
}

/// The socket type by its kernel number (SOCK_STREAM, ...).
pub fn type_name(n: u32) -> Option<&'static str> {
    Some(match n {
        1 => "stream",
        2 => "dgram",
        3 => "raw",
        4 => "rdm",
        5 => "seqpacket",
        _ => return None,
    })
}

impl Socket {
    /// An inet socket: the fields every source has. `uid` and `inode` of 0
    /// with no file behind the socket (TIME_WAIT, request sockets) are
    /// normalised to "none" here.
    #[allow(clippy::too_many_arguments)]
    pub fn inet(
        proto: Proto,
        family: Family,
        local: IpAddr,
        local_port: u16,
        remote: IpAddr,
        remote_port: u16,
        state: u8,
        uid: u32,
        inode: u64,
    ) -> Socket {
        let state_name = match proto {
            Proto::Tcp => tcp_state(state),
            _ => dgram_state(state),
        };
        // A socket with inode 0 has no file: a TIME_WAIT or SYN_RECV
        // mini-socket. The kernel reports uid 0 (netlink) or the listener's
        // uid (/proc) for it; neither is an owner, so both become null.
        let (uid, inode) = if inode == 0 {
            (None, None)
        } else {
            (Some(uid), Some(inode))
        };
        Socket {
            netns: None,
            proto,
            family,
            sock_type: Some(match proto {
                Proto::Tcp => "stream",
                Proto::Udp => "dgram",
                _ => "raw",
            }),
            local: Some(Addr::Ip(local)),
            local_port: Some(local_port),
            remote: (!remote.is_unspecified()).then_some(Addr::Ip(remote)),
            remote_port: (remote_port != 0).then_some(remote_port),
            state: state_name,
            uid,
            inode,
            peer_inode: None,
            recv_q: None,
            send_q: None,
        }
    }

    /// The sort key of RECORDS.md: protocol, family, local address and
    /// port, remote address and port, inode.
    pub fn cmp_key(&self, other: &Socket) -> Ordering {
        (self.proto, self.family)
            .cmp(&(other.proto, other.family))
            .then_with(|| self.local.cmp(&other.local))
            .then_with(|| self.local_port.cmp(&other.local_port))
            .then_with(|| self.remote.cmp(&other.remote))
            .then_with(|| self.remote_port.cmp(&other.remote_port))
            .then_with(|| self.inode.cmp(&other.inode))
            .then_with(|| self.state.cmp(&other.state))
    }

    /// True for what `ss -l` shows: listeners, and sockets that receive
    /// without a connection (unconnected datagram, raw, unix).
    pub fn is_listening(&self) -> bool {
        matches!(self.state, Some("LISTEN") | Some("UNCONN"))
    }
}

/// The owners of a socket as the record says them.
pub type Holders<'a> = Option<Vec<(u32, Option<&'a [u8]>)>>;

/// Everything of a record that does not come from the socket itself.
pub struct Context<'a> {
    /// The host name, already encoded as JSON (`"vm"` or `null`).
    pub host_json: &'a str,
    pub user: Option<&'a str>,
    pub processes: Holders<'a>,
}

fn addr_json(buf: &mut String, a: &Option<Addr>) {
    use std::fmt::Write;
    match a {
        None => buf.push_str("null"),
        Some(Addr::Ip(ip)) => {
            buf.push('"');
            // Writing to a String cannot fail.
            let _ = write!(buf, "{ip}");
            buf.push('"');
        }
        Some(Addr::Path(p)) => json::bytes(buf, p),
    }
}

/// Append the `socket` record (one JSON object and its newline), fields in
/// their documented order.
pub fn write_record(buf: &mut String, s: &Socket, cx: Context<'_>) {
    let n = |buf: &mut String, v: Option<u64>| json::opt_num(buf, v);
    buf.push_str("{\"kind\":\"socket\",\"host\":");
    buf.push_str(cx.host_json);
    buf.push_str(",\"netns\":");
    n(buf, s.netns);
    buf.push_str(",\"proto\":\"");
    buf.push_str(s.proto.name());
    buf.push_str("\",\"family\":\"");
    buf.push_str(s.family.name());
    buf.push_str("\",\"type\":");
    json::opt_str(buf, s.sock_type);
    buf.push_str(",\"local_addr\":");
    addr_json(buf, &s.local);
    buf.push_str(",\"local_port\":");
    n(buf, s.local_port.map(u64::from));
    buf.push_str(",\"remote_addr\":");
    addr_json(buf, &s.remote);
    buf.push_str(",\"remote_port\":");
    n(buf, s.remote_port.map(u64::from));
    buf.push_str(",\"state\":");
    json::opt_str(buf, s.state);
    buf.push_str(",\"uid\":");
    n(buf, s.uid.map(u64::from));
    buf.push_str(",\"user\":");
    json::opt_str(buf, cx.user);
    buf.push_str(",\"inode\":");
    n(buf, s.inode);
    buf.push_str(",\"peer_inode\":");
    n(buf, s.peer_inode);
    buf.push_str(",\"processes\":");
    match cx.processes {
        None => buf.push_str("null"),
        Some(list) => {
            buf.push('[');
            for (i, (pid, comm)) in list.into_iter().enumerate() {
                if i > 0 {
                    buf.push(',');
                }
                buf.push_str("{\"pid\":");
                json::num(buf, u64::from(pid));
                buf.push_str(",\"comm\":");
                match comm {
                    Some(c) => json::bytes(buf, c),
                    None => buf.push_str("null"),
                }
                buf.push('}');
            }
            buf.push(']');
        }
    }
    buf.push_str(",\"recv_q\":");
    n(buf, s.recv_q.map(u64::from));
    buf.push_str(",\"send_q\":");
    n(buf, s.send_q.map(u64::from));
    buf.push_str("}\n");
}

/// `addr:port` for the text table, IPv6 in brackets, `*` for no port or
/// no address, Unix names escaped.
pub fn endpoint_text(family: Family, addr: &Option<Addr>, port: Option<u16>) -> String {
    let port = port.map_or_else(|| "*".to_owned(), |p| p.to_string());
    match (family, addr) {
        (_, Some(Addr::Path(p))) => common::bytes::display(p),
        (Family::Unix, None) => "*".to_owned(),
        (Family::Inet6, Some(Addr::Ip(ip))) => format!("[{ip}]:{port}"),
        (_, Some(Addr::Ip(ip))) => format!("{ip}:{port}"),
        (Family::Inet6, None) => format!("[::]:{port}"),
        (Family::Inet, None) => format!("0.0.0.0:{port}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn states_are_netstat_names() {
        assert_eq!(tcp_state(10), Some("LISTEN"));
        assert_eq!(tcp_state(6), Some("TIME_WAIT"));
        assert_eq!(dgram_state(7), Some("UNCONN"));
        assert_eq!(dgram_state(1), Some("ESTABLISHED"));
        assert_eq!(tcp_state(99), None);
        assert_eq!(unix_state(10), Some("LISTEN"));
    }

    #[test]
    fn fileless_sockets_have_no_owner_fields() {
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let s = Socket::inet(Proto::Tcp, Family::Inet, lo, 80, lo, 5000, 6, 0, 0);
        assert_eq!((s.uid, s.inode, s.state), (None, None, Some("TIME_WAIT")));
        let any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let l = Socket::inet(Proto::Tcp, Family::Inet, any, 22, any, 0, 10, 0, 7);
        assert_eq!((l.remote.clone(), l.remote_port), (None, None));
        assert_eq!((l.uid, l.inode), (Some(0), Some(7)));
        assert!(l.is_listening());
    }

    #[test]
    fn record_is_json_with_every_field_in_order() {
        let lo = IpAddr::V6(Ipv6Addr::LOCALHOST);
        let mut s = Socket::inet(Proto::Tcp, Family::Inet6, lo, 22, lo, 0, 10, 0, 9);
        s.netns = Some(4026531840);
        let mut buf = String::new();
        let cx = Context {
            host_json: "\"vm\"",
            user: Some("root"),
            processes: Some(vec![
                (1, Some(&b"sshd"[..])),
                (2, Some(&b"\xff"[..])),
                (3, None),
            ]),
        };
        write_record(&mut buf, &s, cx);
        assert!(buf.ends_with("}\n"));
        let v: serde_json::Value = serde_json::from_str(&buf).expect("valid JSON");
        assert_eq!(
            v,
            serde_json::json!({"kind": "socket", "host": "vm", "netns": 4026531840u64,
                "proto": "tcp", "family": "inet6", "type": "stream",
                "local_addr": "::1", "local_port": 22, "remote_addr": "::1",
                "remote_port": null, "state": "LISTEN", "uid": 0, "user": "root",
                "inode": 9, "peer_inode": null,
                "processes": [{"pid": 1, "comm": "sshd"}, {"pid": 2, "comm": [255]},
                              {"pid": 3, "comm": null}],
                "recv_q": null, "send_q": null})
        );
        let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
        assert_eq!(keys[0], "kind");
        assert_eq!(keys[17], "send_q");
        buf.clear();
        let cx = Context {
            host_json: "null",
            user: None,
            processes: None,
        };
        write_record(&mut buf, &s, cx);
        let v: serde_json::Value = serde_json::from_str(&buf).expect("valid JSON");
        assert!(v["processes"].is_null() && v["host"].is_null());
    }

    #[test]
    fn endpoints_read_like_netstat() {
        let v6 = Some(Addr::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!(endpoint_text(Family::Inet6, &v6, Some(22)), "[::1]:22");
        assert_eq!(endpoint_text(Family::Inet, &None, None), "0.0.0.0:*");
        let p = Some(Addr::Path(b"/run/a b\xff".to_vec()));
        assert_eq!(endpoint_text(Family::Unix, &p, None), "/run/a b\\xff");
    }
}
