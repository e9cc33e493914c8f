//! The one rule for how many worker threads a tool starts. The tools split
//! their work in ways that fit it (ps-snap streams chunks of pids in order,
//! net-snap interleaves pids, snap-diff splits a file at line boundaries),
//! all on `std::thread::scope`; this decides how many threads that is.
//!
//! Under `--root` the answer is one: a tree on disk is no running system
//! worth racing, and asking the kernel how many CPUs the process may use
//! reads the live `/proc/self` and cgroup files that `--root` promises not
//! to touch. Work too small to share runs on one thread.

/// Threads for `units` pieces of work, each worth a thread of its own only
/// in pieces of `per_thread`, never more than `cap` or the CPUs allowed.
pub fn workers(live: bool, units: usize, per_thread: usize, cap: usize) -> usize {
    let wanted = units.div_ceil(per_thread.max(1)).max(1);
    if !live || wanted == 1 {
        return 1;
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    cpus.min(cap).min(wanted).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_thread_under_root_or_for_little_work() {
        assert_eq!(workers(false, 10_000, 64, 4), 1);
        assert_eq!(workers(true, 10, 64, 4), 1);
        assert_eq!(workers(true, 0, 64, 4), 1);
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(workers(true, 10_000, 64, 4), cpus.min(4));
        assert_eq!(workers(true, 129, 64, 8), cpus.min(3));
    }
}
