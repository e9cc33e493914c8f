//! The kernel as old code: the running kernel is older than the one the
//! boot loader starts next, or its package was removed from disk.
//!
//! Which kernel boots next is boot-check's answer (its resolution of the
//! default entry, GRUB's saved and next entry included), taken through
//! boot-check's library entry point and its `reboot-pending` and
//! `running-kernel-modules` checks, so the two tools never disagree and
//! this module stays the only place that knows boot-check. Reading the
//! newest /boot/vmlinuz instead, as needrestart does, is wrong whenever
//! the boot loader pins another kernel.

use std::cmp::Ordering;

use boot_check::checks::{self, Check, St};
use boot_check::system::Sys;
use common::jsonw::Obj;
use common::records::kernel::{self, field as kf};
use common::records::process::restart_field as rf;
use common::Root;

/// A running kernel that a reboot would replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleKernel {
    /// `uname -r`.
    pub running: String,
    /// The release of the entry that boots next, when known.
    pub next_boot: Option<String>,
    /// The next boot starts a newer kernel.
    pub older: bool,
    /// The running kernel's modules directory is gone: its package was
    /// removed.
    pub removed: bool,
}

/// The stale running kernel of the system under `root`; `None` when it
/// runs what boots next, or nothing can be told (under `--root` there is
/// no running kernel; without a boot loader configuration nothing boots
/// next that ps-snap could name).
pub fn check(root: &Root) -> Option<StaleKernel> {
    if !root.is_live() {
        return None;
    }
    let sys = Sys::new(root.clone());
    judge(&checks::run(&sys).checks)
}

/// The decision, from boot-check's checks.
pub fn judge(checks: &[Check]) -> Option<StaleKernel> {
    let pending = checks.iter().find(|c| c.id == "reboot-pending")?;
    let running = pending.running_kernel.clone()?;
    let next_boot = pending.default_kernel.clone();
    let older = next_boot
        .as_deref()
        .is_some_and(|n| boot_check::kernels::vercmp(&running, n) == Ordering::Less);
    let removed = checks
        .iter()
        .any(|c| c.id == "running-kernel-modules" && c.status == St::Warn);
    (older || removed).then_some(StaleKernel {
        running,
        next_boot,
        older,
        removed,
    })
}

impl StaleKernel {
    /// The `kernel` record.
    pub fn write(&self, host: Option<&str>, boot_id: Option<&str>, buf: &mut Vec<u8>) {
        let mut w = Obj::new(buf);
        w.key(kf::KIND).str(kernel::KIND);
        w.key(kf::HOST).opt_str(host);
        w.key(kf::BOOT_ID).opt_str(boot_id);
        w.key(kf::RUNNING).str(&self.running);
        w.key(kf::NEXT_BOOT).opt_str(self.next_boot.as_deref());
        w.key(kf::OLDER).bool(self.older);
        w.key(kf::REMOVED).bool(self.removed);
        let mut r = w.key(kf::RESTART).object();
        r.key(rf::BY).str("reboot");
        r.key(rf::NAME).str(&self.running);
        r.key(rf::PID).null();
        r.key(rf::COMMAND).bytes_array(&[b"reboot"]);
        r.end();
        w.end();
    }

    /// The block of the `--deleted` text view.
    pub fn text(&self) -> Vec<String> {
        let why = match (self.older, &self.next_boot) {
            (true, Some(n)) if self.removed => {
                format!("older than {n}, which boots next, and its modules were removed")
            }
            (true, Some(n)) => format!("older than {n}, which boots next"),
            _ => "its modules were removed from disk".to_owned(),
        };
        vec![
            format!("kernel {}: the running kernel is {why}", self.running),
            "  boot-check --format text && reboot".to_owned(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(running: Option<&str>, next: Option<&str>) -> Check {
        let mut c = Check::new("reboot-pending", St::Ok, "k", "m");
        c.running_kernel = running.map(str::to_owned);
        c.default_kernel = next.map(str::to_owned);
        c
    }

    #[test]
    fn older_removed_or_current() {
        let k = judge(&[pending(Some("6.1.0-25-amd64"), Some("6.1.0-28-amd64"))]).expect("older");
        assert!(k.older && !k.removed);
        // Numbers compare as numbers: 6.1.0-9 is older than 6.1.0-10.
        assert!(judge(&[pending(Some("6.1.0-9-amd64"), Some("6.1.0-10-amd64"))]).is_some());
        assert_eq!(
            judge(&[pending(Some("6.1.0-28-amd64"), Some("6.1.0-28-amd64"))]),
            None
        );
        // A pinned older kernel boots next: the running one is not old.
        assert_eq!(
            judge(&[pending(Some("6.1.0-28-amd64"), Some("6.1.0-25-amd64"))]),
            None
        );
        assert_eq!(judge(&[pending(None, Some("6.1.0-28-amd64"))]), None);
        let gone = Check::new("running-kernel-modules", St::Warn, "6.1.0-25-amd64", "m");
        let k = judge(&[pending(Some("6.1.0-25-amd64"), None), gone]).expect("removed");
        assert!(k.removed && !k.older);
        let mut buf = Vec::new();
        k.write(Some("web1"), None, &mut buf);
        let v: serde_json::Value = serde_json::from_slice(&buf).expect("json");
        assert_eq!(v["kind"], "kernel");
        assert_eq!(v["next_boot"], serde_json::Value::Null);
        assert_eq!(v["restart"]["command"], serde_json::json!(["reboot"]));
        let rec: kernel::Kernel = serde_json::from_slice(&buf).expect("the type reads it");
        assert_eq!(serde_json::to_vec(&rec).expect("serialize"), buf);
    }
}
