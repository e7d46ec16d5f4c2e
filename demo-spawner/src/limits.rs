//! The system's limits on how many threads a process may create.
//!
//! A thread is a task like any other, so the same limits bound threads
//! and processes: `/proc/sys/kernel/threads-max` (all tasks on the
//! system), `/proc/sys/kernel/pid_max` (ids to give out) and, for users
//! other than root, `RLIMIT_NPROC` (tasks per user). We check the first
//! three before spawning so that an impossible count fails with the limit
//! it hits rather than halfway through.

use nix::sys::resource::{Resource, getrlimit};
use nix::unistd::geteuid;

/// One limit that a number of tasks was checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Limit {
    /// Where the limit is set, e.g. `/proc/sys/kernel/threads-max`.
    pub(crate) name: &'static str,
    pub(crate) value: u64,
}

/// The limits that apply to this process now; unreadable ones are left
/// out (the kernel enforces them anyway; we only explain).
pub(crate) fn current() -> Vec<Limit> {
    let mut limits = Vec::new();
    for name in ["/proc/sys/kernel/threads-max", "/proc/sys/kernel/pid_max"] {
        if let Some(value) = read_number(name) {
            limits.push(Limit { name, value });
        }
    }
    // Root is exempt from RLIMIT_NPROC (see `is_rlimit_overlimit` callers
    // in kernel/fork.c), so only name it where it binds.
    if !geteuid().is_root() {
        if let Ok((soft, _)) = getrlimit(Resource::RLIMIT_NPROC) {
            if soft != libc::RLIM_INFINITY {
                limits.push(Limit {
                    name: "RLIMIT_NPROC (ulimit -u)",
                    value: soft,
                });
            }
        }
    }
    limits
}

/// A finite address-space limit, which makes thread stacks fail to map.
pub(crate) fn address_space() -> Option<u64> {
    match getrlimit(Resource::RLIMIT_AS) {
        Ok((soft, _)) if soft != libc::RLIM_INFINITY => Some(soft),
        _ => None,
    }
}

/// The first limit that `tasks` would exceed, if any.
pub(crate) fn exceeded(limits: &[Limit], tasks: u64) -> Option<&Limit> {
    limits.iter().find(|limit| tasks > limit.value)
}

/// `threads-max 192730, pid_max 4194304`: the limits, for an error line.
pub(crate) fn describe(limits: &[Limit]) -> String {
    let mut parts: Vec<String> = limits
        .iter()
        .map(|limit| format!("{} = {}", limit.name, limit.value))
        .collect();
    if let Some(bytes) = address_space() {
        parts.push(format!("RLIMIT_AS (ulimit -v) = {bytes} bytes"));
    }
    parts.push("the cgroup's pids.max".to_string());
    parts.join(", ")
}

fn read_number(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_limit_exceeded_is_named() {
        let limits = [
            Limit {
                name: "a",
                value: 10,
            },
            Limit {
                name: "b",
                value: 5,
            },
        ];
        assert_eq!(exceeded(&limits, 5), None);
        assert_eq!(exceeded(&limits, 6).map(|l| l.name), Some("b"));
        assert_eq!(exceeded(&limits, 11).map(|l| l.name), Some("a"));
    }
}
