//! `socket` records (net-snap): one socket, its two ends and its owners.

use serde::{Deserialize, Serialize};

use crate::bytes::Bytes;

/// The value of `"kind"`.
pub const KIND: &str = "socket";

/// The field names, each spelled once; [`FIELDS`] lists them in the order
/// net-snap writes them.
pub mod field {
    pub const KIND: &str = "kind";
    pub const HOST: &str = "host";
    pub const NETNS: &str = "netns";
    pub const PROTO: &str = "proto";
    pub const FAMILY: &str = "family";
    pub const TYPE: &str = "type";
    pub const LOCAL_ADDR: &str = "local_addr";
    pub const LOCAL_PORT: &str = "local_port";
    pub const REMOTE_ADDR: &str = "remote_addr";
    pub const REMOTE_PORT: &str = "remote_port";
    pub const STATE: &str = "state";
    pub const UID: &str = "uid";
    pub const USER: &str = "user";
    pub const INODE: &str = "inode";
    pub const PEER_INODE: &str = "peer_inode";
    pub const PROCESSES: &str = "processes";
    pub const RECV_Q: &str = "recv_q";
    pub const SEND_Q: &str = "send_q";
}

/// The fields of a `processes` entry.
pub mod holder_field {
    pub const PID: &str = "pid";
    pub const COMM: &str = "comm";
}

use field as f;

/// The top-level fields in the order net-snap writes them.
pub const FIELDS: &[&str] = &[
    f::KIND,
    f::HOST,
    f::NETNS,
    f::PROTO,
    f::FAMILY,
    f::TYPE,
    f::LOCAL_ADDR,
    f::LOCAL_PORT,
    f::REMOTE_ADDR,
    f::REMOTE_PORT,
    f::STATE,
    f::UID,
    f::USER,
    f::INODE,
    f::PEER_INODE,
    f::PROCESSES,
    f::RECV_Q,
    f::SEND_Q,
];

/// Identity of a listening or unconnected socket (snap-diff): its local end.
pub const LISTENER_IDENTITY: &[&str] = &[
    f::HOST,
    f::NETNS,
    f::PROTO,
    f::FAMILY,
    f::LOCAL_ADDR,
    f::LOCAL_PORT,
];
/// Identity of a connection: both ends.
pub const CONNECTION_IDENTITY: &[&str] = &[
    f::HOST,
    f::NETNS,
    f::PROTO,
    f::FAMILY,
    f::LOCAL_ADDR,
    f::LOCAL_PORT,
    f::REMOTE_ADDR,
    f::REMOTE_PORT,
];
/// The pids of the owning processes, as snap-diff's field paths name them
/// (`processes[].pid`).
pub const PROCESSES_PID: &str = "processes[].pid";
/// Fields snap-diff ignores by default: inode numbers (its own and a unix
/// peer's) are new for every socket, queue lengths change by the packet,
/// and the owners compare by the set of their names only.
pub const VOLATILE: &[&str] = &[f::INODE, f::PEER_INODE, f::RECV_Q, f::SEND_Q, PROCESSES_PID];

/// One socket as `man 5 snap-records` documents it; `null` (`None`) where
/// a field does not apply or could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Socket {
    /// Always [`KIND`].
    pub kind: String,
    pub host: Option<String>,
    /// The inode of the socket's network namespace.
    pub netns: Option<u64>,
    /// `tcp`, `udp`, `raw`, `unix`.
    pub proto: String,
    /// `inet`, `inet6`, `unix`.
    pub family: String,
    /// `stream`, `dgram`, `seqpacket`, `raw`.
    #[serde(rename = "type")]
    pub sock_type: Option<String>,
    /// An IP address in its text form, or a unix socket's name (bytes,
    /// `@` first for the abstract namespace).
    pub local_addr: Option<Bytes>,
    pub local_port: Option<u16>,
    pub remote_addr: Option<Bytes>,
    pub remote_port: Option<u16>,
    /// netstat's names (`LISTEN`, `ESTABLISHED`, `UNCONN`, ...).
    pub state: Option<String>,
    pub uid: Option<u32>,
    pub user: Option<String>,
    pub inode: Option<u64>,
    /// Unix sockets: the connected peer's inode.
    pub peer_inode: Option<u64>,
    /// The processes that hold the socket open.
    pub processes: Option<Vec<Holder>>,
    pub recv_q: Option<u32>,
    pub send_q: Option<u32>,
}

/// A process holding a socket open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holder {
    pub pid: u32,
    pub comm: Option<Bytes>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::tests::keys_of;

    #[test]
    fn keys_are_fields_in_order_and_round_trip() {
        let s = Socket {
            kind: KIND.into(),
            host: Some("vm".into()),
            netns: Some(4026531840),
            proto: "unix".into(),
            family: "unix".into(),
            sock_type: Some("stream".into()),
            local_addr: Some(Bytes::from(&b"/run/a b\xff"[..])),
            local_port: None,
            remote_addr: None,
            remote_port: None,
            state: Some("LISTEN".into()),
            uid: Some(0),
            user: Some("root".into()),
            inode: Some(9),
            peer_inode: None,
            processes: Some(vec![
                Holder {
                    pid: 1,
                    comm: Some(Bytes::from("sshd")),
                },
                Holder {
                    pid: 2,
                    comm: Some(Bytes::from(&b"\xff"[..])),
                },
                Holder { pid: 3, comm: None },
            ]),
            recv_q: None,
            send_q: Some(0),
        };
        let v = serde_json::to_value(&s).expect("serialize");
        assert_eq!(keys_of(&v), FIELDS);
        let text = serde_json::to_string(&s).expect("serialize");
        let back: Socket = serde_json::from_str(&text).expect("deserialize");
        assert_eq!(back, s);
        assert_eq!(serde_json::to_string(&back).expect("again"), text);
        let mut v = v;
        v["extra"] = 1.into();
        assert!(serde_json::from_value::<Socket>(v).is_err());
    }

    #[test]
    fn processes_pid_names_the_holder_field() {
        assert_eq!(
            PROCESSES_PID,
            format!("{}[].{}", field::PROCESSES, holder_field::PID)
        );
    }
}
