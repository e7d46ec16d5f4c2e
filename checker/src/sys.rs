//! The thin layer of system calls that are not reads of `/proc`: the
//! signal and pidfd calls some claims make. Like [`crate::procfs`], a
//! trait, so that a test can hand a claim a kernel that answers
//! otherwise and watch the claim fail.
//!
//! These calls take ids, as a path lookup of `/proc/<id>` does, and
//! each asks the kernel its own question about the id: kill(2) any
//! task's, tgkill(2) a task's within a group, pidfd_open(2) a group
//! leader's (or any task's with `PIDFD_THREAD`). The claims of the
//! book's "Beyond the article" compare those answers with the two
//! paths of `/proc`. tgkill and pidfd_open are made as raw system
//! calls: the libc crate declares no `pidfd_open`, and `tgkill` only
//! for glibc.

use std::os::fd::{FromRawFd, OwnedFd};

use nix::errno::Errno;

/// `PIDFD_THREAD` (include/uapi/linux/pidfd.h, Linux 6.9): a pidfd for
/// a thread rather than a thread group. It is `O_EXCL`.
pub const PIDFD_THREAD: u32 = libc::O_EXCL as u32;

/// The system calls the claims make besides reading `/proc`.
pub trait Syscalls: Sync {
    /// kill(2) with signal 0: whether `pid` names a process we may
    /// signal.
    fn kill0(&self, pid: i32) -> Result<(), Errno>;
    /// tgkill(2) with signal 0: whether `tid` is a thread of `tgid`.
    fn tgkill0(&self, tgid: i32, tid: i32) -> Result<(), Errno>;
    /// pidfd_open(2).
    fn pidfd_open(&self, pid: i32, flags: u32) -> Result<OwnedFd, Errno>;
}

/// The running kernel.
#[derive(Debug, Clone, Copy, Default)]
pub struct LiveSys;

impl Syscalls for LiveSys {
    fn kill0(&self, pid: i32) -> Result<(), Errno> {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None)
    }

    fn tgkill0(&self, tgid: i32, tid: i32) -> Result<(), Errno> {
        // SAFETY: tgkill takes three integers; signal 0 delivers nothing.
        let result = unsafe { libc::syscall(libc::SYS_tgkill, tgid, tid, 0) };
        Errno::result(result).map(drop)
    }

    fn pidfd_open(&self, pid: i32, flags: u32) -> Result<OwnedFd, Errno> {
        pidfd_open(pid, flags)
    }
}

/// `pidfd_open(pid, flags)`: a file descriptor that names the process
/// (or, with [`PIDFD_THREAD`], the thread) for as long as it is open,
/// whatever later gets its number.
pub fn pidfd_open(pid: i32, flags: u32) -> Result<OwnedFd, Errno> {
    // SAFETY: pidfd_open takes two integers and returns a new file
    // descriptor or -1; it touches no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, flags) };
    let fd = Errno::result(fd)?;
    // SAFETY: the kernel just returned this descriptor to us, open and
    // owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}
