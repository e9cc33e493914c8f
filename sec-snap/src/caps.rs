//! File capabilities: the `security.capability` extended attribute
//! (`struct vfs_cap_data`, linux/capability.h) decoded and written the way
//! `getcap` prints it (libcap's `cap_to_text`), such as `cap_net_raw=ep`.
//!
//! The attribute: a little-endian `magic_etc` word (revision in the top
//! byte, bit 0 the effective flag), then a (permitted, inheritable) pair of
//! 32-bit words per 32 capabilities (one pair in revision 1, two in 2 and
//! 3), and in revision 3 the namespace root uid. The file's effective set
//! is permitted | inheritable when the effective flag is set, none
//! otherwise (libcap `_fcaps_load`).

/// The capability names libcap 2.66 knows, by number.
pub const NAMES: [&str; 41] = [
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

const REV_MASK: u32 = 0xff00_0000;
const REV1: u32 = 0x0100_0000;
const REV2: u32 = 0x0200_0000;
const REV3: u32 = 0x0300_0000;
const FLAG_EFFECTIVE: u32 = 0x1;

// libcap's flag bits: 1 << CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE.
const EFF: u8 = 1;
const PER: u8 = 2;
const INH: u8 = 4;

/// Decoded file capabilities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCaps {
    pub permitted: u64,
    pub inheritable: u64,
    pub effective: bool,
    /// Revision 3: the user namespace root the capabilities apply to.
    pub rootid: Option<u32>,
}

/// Decode the attribute; `None` when it is not a `vfs_cap_data` of a
/// known revision and size.
pub fn decode(raw: &[u8]) -> Option<FileCaps> {
    let word = |i: usize| -> Option<u32> {
        raw.get(i * 4..i * 4 + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
    };
    let magic = word(0)?;
    let (blocks, size) = match magic & REV_MASK {
        REV1 => (1, 12),
        REV2 => (2, 20),
        REV3 => (2, 24),
        _ => return None,
    };
    if raw.len() != size {
        return None;
    }
    let mut permitted = 0u64;
    let mut inheritable = 0u64;
    for b in 0..blocks {
        permitted |= u64::from(word(1 + 2 * b)?) << (32 * b);
        inheritable |= u64::from(word(2 + 2 * b)?) << (32 * b);
    }
    let rootid = if magic & REV_MASK == REV3 {
        Some(word(5)?)
    } else {
        None
    };
    Some(FileCaps {
        permitted,
        inheritable,
        effective: magic & FLAG_EFFECTIVE != 0,
        rootid,
    })
}

impl FileCaps {
    /// The e/i/p state of capability `n` (libcap's `getstateflags`).
    fn state(&self, n: u32) -> u8 {
        let bit = 1u64 << n;
        let mut f = 0;
        if self.permitted & bit != 0 {
            f |= PER;
        }
        if self.inheritable & bit != 0 {
            f |= INH;
        }
        if self.effective && (self.permitted | self.inheritable) & bit != 0 {
            f |= EFF;
        }
        f
    }

    /// The text `getcap` prints after the path: libcap's `cap_to_text`,
    /// with `[rootid=N]` appended for a namespaced revision 3 attribute as
    /// getcap appends it. `known` is the number of capabilities the
    /// kernel knows (`cap_max_bits()`, /proc/sys/kernel/cap_last_cap + 1):
    /// the prevailing state is chosen among those, the rest is added as
    /// `+flags` groups after them.
    pub fn to_text(&self, known: u32) -> String {
        const MAXBITS: u32 = 64;
        let known = known.min(MAXBITS);
        let flags = |f: usize| {
            let mut s = String::new();
            if f & EFF as usize != 0 {
                s.push('e');
            }
            if f & INH as usize != 0 {
                s.push('i');
            }
            if f & PER as usize != 0 {
                s.push('p');
            }
            s
        };
        let name = |c: u32| match NAMES.get(c as usize) {
            Some(n) => (*n).to_owned(),
            None => c.to_string(),
        };
        let group = |range: std::ops::Range<u32>, t: usize| -> String {
            range
                .filter(|&c| self.state(c) as usize == t)
                .map(name)
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut histo = [0usize; 8];
        for n in 0..known {
            histo[self.state(n) as usize] += 1;
        }
        // The most common state, "none" winning ties.
        let mut m = 7usize;
        for t in (0..7).rev() {
            if histo[t] >= histo[m] {
                m = t;
            }
        }
        let mut buf = format!("={}", flags(m));
        // Where the text starts: libcap shortens "= a,b+ep" to "a,b=ep".
        let mut base = 0usize;
        for t in (0..8).rev() {
            if t == m || histo[t] == 0 {
                continue;
            }
            buf.push(' ');
            buf.push_str(&group(0..known, t));
            let up = t & !m;
            if up != 0 {
                let mut op = '+';
                if buf.as_bytes().get(base) == Some(&b'=')
                    && buf.as_bytes().get(base + 1) == Some(&b' ')
                {
                    base += 2;
                    op = '=';
                }
                buf.push(op);
                buf.push_str(&flags(up));
            }
            let down = !t & m & 7;
            if down != 0 {
                buf.push('-');
                buf.push_str(&flags(down));
            }
        }
        // Bits the kernel does not know: all `+`.
        let mut rest = [0usize; 8];
        for n in known..MAXBITS {
            rest[self.state(n) as usize] += 1;
        }
        for t in (1..8).rev() {
            if rest[t] == 0 {
                continue;
            }
            buf.push(' ');
            buf.push_str(&group(known..MAXBITS, t));
            buf.push('+');
            buf.push_str(&flags(t));
        }
        let mut text = buf[base..].to_owned();
        if let Some(r) = self.rootid.filter(|&r| r != 0) {
            text.push_str(&format!(" [rootid={r}]"));
        }
        text
    }
}

/// How many capabilities the running kernel knows
/// (/proc/sys/kernel/cap_last_cap + 1); under --root, or where it cannot
/// be read, the number of names libcap knows.
pub fn known_caps(live: bool) -> u32 {
    let names = NAMES.len() as u32;
    if !live {
        return names;
    }
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .map_or(names, |n| n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2(magic_flags: u32, p: u64, i: u64) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(REV2 | magic_flags).to_le_bytes());
        v.extend_from_slice(&(p as u32).to_le_bytes());
        v.extend_from_slice(&(i as u32).to_le_bytes());
        v.extend_from_slice(&((p >> 32) as u32).to_le_bytes());
        v.extend_from_slice(&((i >> 32) as u32).to_le_bytes());
        v
    }

    #[test]
    fn getcap_spelling() {
        // cap_net_raw=ep
        let c = decode(&v2(1, 1 << 13, 0)).expect("decode");
        assert_eq!(c.to_text(41), "cap_net_raw=ep");
        // gst-ptp-helper: cap_net_bind_service,cap_net_admin=ep
        let c = decode(&v2(1, (1 << 10) | (1 << 12), 0)).expect("decode");
        assert_eq!(c.to_text(41), "cap_net_bind_service,cap_net_admin=ep");
        // Two groups: inheritable before permitted, the second with '+'
        // (what setcap 'cap_net_raw=p cap_setuid+i' leaves, as getcap
        // prints it).
        let c = decode(&v2(0, 1 << 13, 1 << 7)).expect("decode");
        assert_eq!(c.to_text(41), "cap_setuid=i cap_net_raw+p");
        // A bit the kernel does not know comes after, with '+'; one libcap
        // has no name for is shown by number.
        let c = decode(&v2(1, (1 << 40) | (1 << 13), 0)).expect("decode");
        assert_eq!(c.to_text(40), "cap_net_raw=ep cap_checkpoint_restore+ep");
        let c = decode(&v2(0, 1 << 45, 0)).expect("decode");
        assert_eq!(c.to_text(41), "= 45+p");
    }

    #[test]
    fn revisions_and_sizes() {
        let mut r1 = Vec::new();
        r1.extend_from_slice(&(REV1 | 1).to_le_bytes());
        r1.extend_from_slice(&(1u32 << 13).to_le_bytes());
        r1.extend_from_slice(&0u32.to_le_bytes());
        assert_eq!(
            decode(&r1).map(|c| c.to_text(41)).as_deref(),
            Some("cap_net_raw=ep")
        );
        let mut r3 = v2(1, 1 << 13, 0);
        r3[3] = 3;
        r3.extend_from_slice(&1000u32.to_le_bytes());
        assert_eq!(
            decode(&r3).map(|c| c.to_text(41)).as_deref(),
            Some("cap_net_raw=ep [rootid=1000]")
        );
        assert_eq!(decode(&r3[..20]), None);
        assert_eq!(decode(b"junk"), None);
    }
}
