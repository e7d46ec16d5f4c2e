//! Never leaving a tracefs instance behind: what a signal handler
//! removes, and removal of instances left by a checker that was killed
//! (plumbing for the tracing chapter).
//!
//! The ways a session can end, and who removes its instance:
//! - return, error or panic (the workspace unwinds on panic): the
//!   session's `Drop`;
//! - SIGINT, SIGTERM, SIGHUP: the handler of [`crate::stop`], which the
//!   programs (the checker, the workshop) install in `main`; it calls
//!   [`remove_after_signal`], then the process dies of the signal;
//! - SIGKILL, a power cut, `panic = "abort"`, `std::process::exit`, or
//!   a signal in a program without that handler (a test): nothing
//!   removes it then, so the next session removes every
//!   `proc-threads-checker-<pid>` instance whose process is gone
//!   ([`remove_stale`]).

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use libc::c_char;
use nix::errno::Errno;
use nix::sys::signal;
use nix::unistd::Pid;

use super::Unavailable;

/// Instance names are this prefix and the checker's pid.
pub(super) const PREFIX: &str = "proc-threads-checker-";

/// The live session's instance directory, for a signal handler: a
/// `CString` leaked with `into_raw`, or null when no session is live.
/// Also the "one session per process" lock (the instance name has only
/// the pid in it, so there cannot be two).
static INSTANCE: AtomicPtr<c_char> = AtomicPtr::new(ptr::null_mut());
/// The tracefs mount point when the session mounted it, else null.
static MOUNT: AtomicPtr<c_char> = AtomicPtr::new(ptr::null_mut());

/// Holds the process's single session slot; dropping it releases the
/// slot. It removes nothing itself: the session does, before dropping
/// this.
#[derive(Debug)]
pub(super) struct Guard(());

impl Guard {
    /// Takes the slot for `instance` (and `mount`, our tracefs mount).
    pub(super) fn register(
        instance: &Path,
        mount: Option<&Path>,
    ) -> Result<Guard, Unavailable> {
        let raw = c_path(instance).into_raw();
        let taken = INSTANCE.compare_exchange(
            ptr::null_mut(),
            raw,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        if taken.is_err() {
            // SAFETY: `raw` came from `into_raw` above and was not
            // published, so this is its only owner.
            drop(unsafe { CString::from_raw(raw) });
            return Err(Unavailable::new(
                "a tracing session is already live in this process (its \
                 instance name holds only the pid); drop it first"
                    .into(),
            ));
        }
        if let Some(m) = mount {
            free(MOUNT.swap(c_path(m).into_raw(), Ordering::SeqCst));
        }
        Ok(Guard(()))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // A handler that raced us took the pointer with `swap` and owns
        // it; then we get null.
        free(INSTANCE.swap(ptr::null_mut(), Ordering::SeqCst));
        free(MOUNT.swap(ptr::null_mut(), Ordering::SeqCst));
    }
}

fn c_path(path: &Path) -> CString {
    // Paths we build never hold a NUL byte.
    CString::new(path.as_os_str().as_bytes()).expect("path without NUL")
}

fn free(raw: *mut c_char) {
    if !raw.is_null() {
        // SAFETY: non-null values of INSTANCE and MOUNT come from
        // `CString::into_raw`, and `swap` gave us the only copy.
        drop(unsafe { CString::from_raw(raw) });
    }
}

/// Removes the live session's instance (and our tracefs mount) from
/// [`crate::stop`]'s signal handler, which leaves the process no other
/// chance to do it. Only async-signal-safe calls: `rmdir` and `umount2`
/// (plain system calls). `rmdir` of an instance also turns its tracer
/// off; it fails with EBUSY if a file of the instance is open at this
/// very moment (the session opens them for microseconds), and then the
/// next session's [`remove_stale`] removes it.
pub(crate) fn remove_after_signal() {
    let dir = INSTANCE.swap(ptr::null_mut(), Ordering::SeqCst);
    let mount = MOUNT.swap(ptr::null_mut(), Ordering::SeqCst);
    // The strings are leaked: the process is about to end.
    // SAFETY: non-null pointers are NUL-terminated strings from
    // `CString::into_raw`, and the swaps made them ours alone.
    unsafe {
        if !dir.is_null() {
            libc::rmdir(dir);
        }
        if !mount.is_null() {
            libc::umount2(mount, libc::MNT_DETACH);
        }
    }
}

/// Removes the instances of checkers that no longer run (killed by
/// SIGKILL, or the machine went down).
///
/// An instance whose pid is alive is left alone even if that pid now
/// belongs to another program: wrongly keeping an instance costs a
/// little memory, wrongly removing one breaks someone's trace.
pub(super) fn remove_stale(tracefs: &Path) {
    let Ok(entries) = std::fs::read_dir(tracefs.join("instances")) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name.strip_prefix(PREFIX).and_then(|pid| pid.parse().ok());
        let Some(pid) = pid else {
            continue;
        };
        if signal::kill(Pid::from_raw(pid), None) == Err(Errno::ESRCH) {
            let _ = std::fs::remove_dir(entry.path());
        }
    }
}
