//! Finding tracefs, and turning a refused tracefs operation into a
//! reason the user can act on (plumbing for the tracing chapter).
//!
//! The kernel says little when it refuses: EPERM means "not root" to
//! one user and "kernel lockdown" to another. So a failure is explained
//! here, after the fact, by looking at who we are and what
//! `/sys/kernel/security/lockdown` says.

use std::io;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags, mount, umount2};

use super::Unavailable;

/// Where tracefs is normally mounted (since Linux 4.1).
pub(super) const TRACEFS: &str = "/sys/kernel/tracing";
/// The older place, inside debugfs, which mounts tracefs there itself.
const DEBUGFS_TRACING: &str = "/sys/kernel/debug/tracing";
/// The lockdown LSM's state, e.g. `none [integrity] confidentiality`.
const LOCKDOWN: &str = "/sys/kernel/security/lockdown";
const SECURITYFS: &str = "/sys/kernel/security";

/// The advice every "you cannot trace here" reason ends with.
pub(super) const ELSEWHERE: &str = "see the book's tracing chapter, or \
     `just matrix` to trace on VM kernels";

/// A usable tracefs mount.
#[derive(Debug)]
pub(super) struct Tracefs {
    pub(super) dir: PathBuf,
    /// True when we mounted it, so the session unmounts it again.
    pub(super) mounted_by_us: bool,
}

/// Finds tracefs, mounting it at [`TRACEFS`] when it is not mounted
/// anywhere we look and we may mount.
pub(super) fn locate() -> Result<Tracefs, Unavailable> {
    for dir in [TRACEFS, DEBUGFS_TRACING] {
        if Path::new(dir).join("instances").is_dir() {
            return Ok(Tracefs {
                dir: dir.into(),
                mounted_by_us: false,
            });
        }
    }
    if Path::new(TRACEFS).join("trace").exists() {
        return Err(Unavailable::new(format!(
            "{TRACEFS} has no `instances` directory: this kernel is too \
             old for private tracing instances; {ELSEWHERE}"
        )));
    }
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    match mount(
        Some("tracefs"),
        TRACEFS,
        Some("tracefs"),
        flags,
        None::<&str>,
    ) {
        Ok(()) => Ok(Tracefs {
            dir: TRACEFS.into(),
            mounted_by_us: true,
        }),
        Err(Errno::EPERM) if !is_root() => Err(not_root(&format!(
            "tracefs is not mounted at {TRACEFS} and only root may mount it"
        ))),
        Err(Errno::ENOENT) => Err(Unavailable::new(format!(
            "{TRACEFS} does not exist: this kernel has no tracefs \
             (CONFIG_TRACING is off); {ELSEWHERE}"
        ))),
        Err(e) => Err(Unavailable::new(format!(
            "tracefs is not mounted at {TRACEFS} and mounting it failed: \
             {e}; mount it with `mount -t tracefs tracefs {TRACEFS}`"
        ))),
    }
}

/// Unmounts the tracefs we mounted. Lazily, so that a file still open
/// somewhere cannot keep the mount alive.
pub(super) fn unmount(dir: &Path) {
    let _ = umount2(dir, MntFlags::MNT_DETACH);
}

/// Explains why `what` (an operation on `path`) failed with `err`.
///
/// `what` reads like "writing `function` to"; the reason then names
/// the path, the error and, when the error is a refusal, the likely
/// cause and what to do.
pub(super) fn explain(
    what: &str,
    path: &Path,
    err: &io::Error,
) -> Unavailable {
    let errno = Errno::from_raw(err.raw_os_error().unwrap_or(0));
    // `EPERM: Operation not permitted`: the name is what people search.
    let did = match err.raw_os_error() {
        Some(_) => format!("{what} {}: {errno}", path.display()),
        None => format!("{what} {}: {err}", path.display()),
    };
    match errno {
        Errno::EACCES | Errno::EPERM if !is_root() => not_root(&did),
        Errno::EPERM => refused_as_root(&did),
        Errno::ENODEV => Unavailable::new(format!(
            "function tracing is disabled in this kernel ({did}); \
             ftrace shuts itself off after an internal error, see `dmesg`"
        )),
        _ => Unavailable::new(format!("{did}; {ELSEWHERE}")),
    }
}

fn not_root(did: &str) -> Unavailable {
    Unavailable::new(format!(
        "not root: tracing needs CAP_SYS_ADMIN ({did}); run as root, \
         or {ELSEWHERE}"
    ))
}

/// EPERM although we are root: the kernel's policy, not ours. The
/// usual policy is lockdown, whose state we quote when we can read it.
fn refused_as_root(did: &str) -> Unavailable {
    let reason = match lockdown() {
        Some(state) if selected(&state) == Some("confidentiality") => {
            format!(
                "kernel lockdown (confidentiality) forbids tracefs: \
                 {LOCKDOWN} says `{state}` ({did})"
            )
        }
        Some(state) if selected(&state) == Some("integrity") => format!(
            "the kernel refuses function tracing even to root, and it \
             is locked down: {LOCKDOWN} says `{state}` ({did}); boot \
             without lockdown (no Secure Boot, `lockdown=none`)"
        ),
        Some(state) => format!(
            "the kernel refuses function tracing even to root, though \
             lockdown is off ({LOCKDOWN} says `{state}`); a security \
             module may forbid it ({did})"
        ),
        None => format!(
            "the kernel refuses function tracing even to root ({did}); \
             its lockdown state is unknown ({LOCKDOWN} is unreadable)"
        ),
    };
    Unavailable::new(format!("{reason}; {ELSEWHERE}"))
}

/// The bracketed (selected) word of the lockdown file.
fn selected(state: &str) -> Option<&str> {
    let start = state.find('[')? + 1;
    let end = start + state[start..].find(']')?;
    Some(&state[start..end])
}

/// The lockdown file's one line. securityfs is often not mounted (it
/// is not, on this project's development host); then, as root, we
/// mount it for the one read and unmount it again.
fn lockdown() -> Option<String> {
    let read = || {
        std::fs::read_to_string(LOCKDOWN)
            .ok()
            .map(|s| s.trim().to_owned())
    };
    if let Some(state) = read() {
        return Some(state);
    }
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    let fs = Some("securityfs");
    mount(fs, SECURITYFS, fs, flags, None::<&str>).ok()?;
    let state = read();
    let _ = umount2(SECURITYFS, MntFlags::MNT_DETACH);
    state
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_selected_lockdown_mode_is_the_bracketed_one() {
        let sel = selected;
        assert_eq!(sel("none [integrity] confidentiality"), Some("integrity"));
        assert_eq!(sel("[none] integrity confidentiality"), Some("none"));
        assert_eq!(sel("none integrity"), None);
    }
}
