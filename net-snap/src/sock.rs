//! One socket as the kernel describes it, whatever the source (sock_diag
//! netlink or /proc/net text), and its JSON record and text row.
//!
//! Both sources are normalised to the same values here so that a snapshot
//! taken through netlink and one taken from /proc/net (a fallback, another
//! network namespace, a fixture tree) agree field by field.

use std::cmp::Ordering;
use std::net::IpAddr;

use common::jsonw::{Obj, Val};
use common::records::socket::{self, field as sf, holder_field as hf};

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
    /// The host name (`None`: unknown, `null`).
    pub host: Option<&'a str>,
    pub user: Option<&'a str>,
    pub processes: Holders<'a>,
}

fn addr_json(v: Val<'_>, a: &Option<Addr>) {
    match a {
        None => v.null(),
        Some(Addr::Ip(ip)) => v.display(ip),
        Some(Addr::Path(p)) => v.bytes(p),
    }
}

/// Append the `socket` record (one JSON object and its newline), fields in
/// their documented order.
pub fn write_record(buf: &mut Vec<u8>, s: &Socket, cx: Context<'_>) {
    let mut w = Obj::new(buf);
    w.key(sf::KIND).str(socket::KIND);
    w.key(sf::HOST).opt_str(cx.host);
    w.key(sf::NETNS).opt_num(s.netns);
    w.key(sf::PROTO).str(s.proto.name());
    w.key(sf::FAMILY).str(s.family.name());
    w.key(sf::TYPE).opt_str(s.sock_type);
    addr_json(w.key(sf::LOCAL_ADDR), &s.local);
    w.key(sf::LOCAL_PORT).opt_num(s.local_port);
    addr_json(w.key(sf::REMOTE_ADDR), &s.remote);
    w.key(sf::REMOTE_PORT).opt_num(s.remote_port);
    w.key(sf::STATE).opt_str(s.state);
    w.key(sf::UID).opt_num(s.uid);
    w.key(sf::USER).opt_str(cx.user);
    w.key(sf::INODE).opt_num(s.inode);
    w.key(sf::PEER_INODE).opt_num(s.peer_inode);
    match cx.processes {
        None => w.key(sf::PROCESSES).null(),
        Some(list) => {
            let mut a = w.key(sf::PROCESSES).array();
            for (pid, comm) in list {
                let mut p = a.item().object();
                p.key(hf::PID).num(pid);
                p.key(hf::COMM).opt_bytes(comm);
                p.end();
            }
            a.end();
        }
    }
    w.key(sf::RECV_Q).opt_num(s.recv_q);
    w.key(sf::SEND_Q).opt_num(s.send_q);
    w.end();
    buf.push(b'\n');
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
        let mut buf = Vec::new();
        let cx = Context {
            host: Some("vm"),
            user: Some("root"),
            processes: Some(vec![
                (1, Some(&b"sshd"[..])),
                (2, Some(&b"\xff"[..])),
                (3, None),
            ]),
        };
        write_record(&mut buf, &s, cx);
        assert!(buf.ends_with(b"}\n"));
        let v: serde_json::Value = serde_json::from_slice(&buf).expect("valid JSON");
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
        assert_eq!(keys, socket::FIELDS);
        // The fast writer and the record type agree byte for byte.
        let rec: socket::Socket = serde_json::from_slice(&buf).expect("the type reads it");
        let mut again = serde_json::to_vec(&rec).expect("serialize");
        again.push(b'\n');
        assert_eq!(again, buf);
        buf.clear();
        let cx = Context {
            host: None,
            user: None,
            processes: None,
        };
        write_record(&mut buf, &s, cx);
        let v: serde_json::Value = serde_json::from_slice(&buf).expect("valid JSON");
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
