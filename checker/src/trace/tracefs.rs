//! Finding tracefs, and turning a refused tracefs operation into a
//! reason that says what was observed (plumbing for the tracing chapter).
//!
//! The kernel says little when it refuses: EPERM means "not root" to
//! one user, "kernel lockdown" to another, and something else again to
//! a third. So a failure is explained here, after the fact, by what the
//! checker can see: who it is and which capabilities it holds, what
//! `/sys/kernel/security/lockdown` and `/sys/kernel/security/lsm` say,
//! and whether `available_tracers` lists `function`. The reason states
//! those facts and only those, and a fix only where one exists.
//!
//! Lockdown, at Linux 6.12.117: `lockdown_is_locked_down()`
//! (security/lockdown/lockdown.c) refuses a reason when the kernel's
//! level is at or above it, and include/linux/security.h orders
//! `LOCKDOWN_TRACEFS` and `LOCKDOWN_KPROBES` after
//! `LOCKDOWN_INTEGRITY_MAX`: integrity mode allows tracefs, only
//! confidentiality mode restricts it. `lockdown=` accepts `integrity`
//! and `confidentiality` only (`lockdown_param()`), so there is no
//! command-line switch that turns a lockdown off. tracefs itself makes
//! no capability check (fs/tracefs/inode.c, kernel/trace/trace.c):
//! root owns its files; mounting it needs `CAP_SYS_ADMIN`.
//!
//! Who else can refuse, at Linux 6.12.117: opening a tracing file such
//! as `set_ftrace_pid` calls `tracing_check_open_get_tr()`
//! (kernel/trace/trace.c:577-592, from `pid_open()` in
//! kernel/trace/ftrace.c:8339-8348), which asks
//! `security_locked_down(LOCKDOWN_TRACEFS)` (security/security.c:
//! 5873-5876): every security module's `locked_down` hook, not only
//! lockdown's. The BPF LSM implements every hook of
//! include/linux/lsm_hook_defs.h (security/bpf/hooks.c:13-16), that one
//! included (lsm_hook_defs.h:445), so a BPF program attached there
//! refuses tracefs with the error it returns. With lockdown allowing
//! tracefs and `bpf` among the active modules, a BPF LSM program is the
//! likely cause; the checker cannot see BPF programs, so it says
//! "likely".

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
/// The active security modules, e.g. `lockdown,capability,bpf`.
const LSM: &str = "/sys/kernel/security/lsm";
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
    let mounted = mount(
        Some("tracefs"),
        TRACEFS,
        Some("tracefs"),
        flags,
        None::<&str>,
    );
    let observed = || Observed::now();
    match mounted {
        Ok(()) => Ok(Tracefs {
            dir: TRACEFS.into(),
            mounted_by_us: true,
        }),
        Err(Errno::ENOENT) => Err(Unavailable::new(format!(
            "{TRACEFS} does not exist: this kernel has no tracefs \
             (CONFIG_TRACING is off); {ELSEWHERE}"
        ))),
        Err(errno) => Err(Unavailable::new(not_mounted(errno, &observed()))),
    }
}

/// Why tracefs could not be mounted, from what was observed.
fn not_mounted(errno: Errno, observed: &Observed) -> String {
    let did = format!(
        "tracefs is not mounted at {TRACEFS}, and mounting it failed \
         with {errno}"
    );
    if errno == Errno::EPERM && !observed.root {
        return format!(
            "{did}: only root may mount it; run the checker as root \
             (`sudo`), or {ELSEWHERE}"
        );
    }
    if errno == Errno::EPERM && observed.cap_sys_admin == Some(false) {
        return format!(
            "{did}: the checker runs as root without CAP_SYS_ADMIN \
             (CapEff in /proc/self/status), which mounting needs, as in \
             most containers; mount it first with `mount -t tracefs \
             tracefs {TRACEFS}` where root has that capability, or \
             {ELSEWHERE}"
        );
    }
    format!("{did}; mount it with `mount -t tracefs tracefs {TRACEFS}`")
}

/// Unmounts the tracefs we mounted. Lazily, so that a file still open
/// somewhere cannot keep the mount alive.
pub(super) fn unmount(dir: &Path) {
    let _ = umount2(dir, MntFlags::MNT_DETACH);
}

/// What the checker could see when the kernel refused it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Observed {
    pub(super) root: bool,
    /// `CAP_SYS_ADMIN` in our effective set (`CapEff:` of
    /// `/proc/self/status`), if that could be read.
    pub(super) cap_sys_admin: Option<bool>,
    /// The lockdown file's line: `none [integrity] confidentiality`.
    pub(super) lockdown: Option<String>,
    /// The security modules: `lockdown,capability,landlock,bpf`.
    pub(super) lsm: Option<String>,
    /// The top-level `available_tracers`.
    pub(super) tracers: Option<String>,
}

impl Observed {
    /// Read off this system; what cannot be read stays unknown.
    fn now() -> Observed {
        let security = securityfs(|| (read_line(LOCKDOWN), read_line(LSM)));
        let (lockdown, lsm) = security.unwrap_or((None, None));
        Observed {
            root: nix::unistd::geteuid().is_root(),
            cap_sys_admin: crate::procfs::cap_sys_admin(),
            lockdown,
            lsm,
            tracers: [TRACEFS, DEBUGFS_TRACING].into_iter().find_map(|dir| {
                read_line(&format!("{dir}/available_tracers"))
            }),
        }
    }
}

/// Explains why `what` (an operation on `path`) failed with `err`.
///
/// `what` reads like "writing `function` to"; the reason then names
/// the path and the error and, when the error is a refusal, what the
/// checker observed about who refused.
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
    let refused = matches!(errno, Errno::EACCES | Errno::EPERM);
    if refused {
        let file = path.file_name().unwrap_or(path.as_os_str());
        // `EPERM`: the name, which people search for.
        let short = format!("{errno:?} on {}", file.to_string_lossy());
        return diagnose(&short, &did, &Observed::now());
    }
    let reason = match errno {
        Errno::ENODEV => format!(
            "function tracing is disabled in this kernel ({did}); ftrace \
             shuts itself off after an internal error, see `dmesg`"
        ),
        _ => format!("{did}; {ELSEWHERE}"),
    };
    Unavailable::new(reason)
}

/// Why a tracefs operation was refused, from what was observed: the
/// reason is one short sentence with the likely cause (`short` is the
/// errno and the file: `EPERM on set_ftrace_pid`); `did`, the full
/// path and error, goes with the rest into the details.
pub(super) fn diagnose(
    short: &str,
    did: &str,
    observed: &Observed,
) -> Unavailable {
    if !observed.root {
        return Unavailable::new(format!(
            "tracing needs root ({short}); run the checker as root \
             (`sudo`), or {ELSEWHERE}"
        ));
    }
    let mode = observed.lockdown.as_deref().and_then(selected);
    if mode == Some("confidentiality") {
        return Unavailable::new(format!(
            "kernel lockdown is in confidentiality mode ({LOCKDOWN} says \
             `{}`), which refuses tracefs to everyone ({short}); \
             {ELSEWHERE}",
            observed.lockdown.as_deref().unwrap_or_default()
        ));
    }
    let bpf = observed
        .lsm
        .as_deref()
        .is_some_and(|lsm| lsm.split(',').any(|module| module == "bpf"));
    let cause = match bpf {
        true => "likely by a BPF LSM program",
        false => "by something the checker cannot see",
    };
    let mut facts = vec![did.to_string()];
    facts.push(match observed.cap_sys_admin {
        Some(true) => "the checker runs as root with CAP_SYS_ADMIN".into(),
        Some(false) => "the checker runs as root without CAP_SYS_ADMIN, \
                        which tracefs does not check (only file \
                        ownership)"
            .into(),
        None => "the checker runs as root".to_string(),
    });
    facts.push(match (&observed.lockdown, mode) {
        (Some(line), Some("integrity")) => format!(
            "lockdown is in integrity mode (`{line}`), which allows \
             tracefs: only confidentiality mode refuses it"
        ),
        (Some(line), _) => format!("lockdown is off (`{line}`)"),
        (None, _) => {
            format!("the lockdown state is unknown ({LOCKDOWN} is unreadable)")
        }
    });
    if let Some(lsm) = &observed.lsm {
        facts.push(match bpf {
            true => format!(
                "the active security modules are {lsm}: bpf runs BPF \
                 programs on every security hook, tracefs's included, and \
                 the checker cannot see them"
            ),
            false => format!("the active security modules are {lsm}"),
        });
    }
    if let Some(tracers) = &observed.tracers {
        let function = tracers.split_whitespace().any(|t| t == "function");
        facts.push(format!(
            "available_tracers {} function",
            if function { "lists" } else { "does not list" }
        ));
    }
    Unavailable {
        reason: format!(
            "tracing refused to root ({short}), {cause}; {ELSEWHERE}"
        ),
        details: Some(facts.join("; ")),
    }
}

/// The bracketed (selected) word of the lockdown file.
fn selected(state: &str) -> Option<&str> {
    let start = state.find('[')? + 1;
    let end = start + state[start..].find(']')?;
    Some(&state[start..end])
}

/// A file's first line, trimmed.
fn read_line(path: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.lines().next()?.trim().to_owned())
}

/// `read` with securityfs mounted. securityfs is often not mounted (it
/// is not, on this project's development host); then, as root, we
/// mount it for the one read and unmount it again.
fn securityfs<T>(read: impl Fn() -> T) -> Option<T> {
    if Path::new(LOCKDOWN).exists() || Path::new(LSM).exists() {
        return Some(read());
    }
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    let fs = Some("securityfs");
    mount(fs, SECURITYFS, fs, flags, None::<&str>).ok()?;
    let answer = read();
    let _ = umount2(SECURITYFS, MntFlags::MNT_DETACH);
    Some(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured on this project's development host, where root is
    /// refused tracing (`set_ftrace_pid` of an instance: EPERM).
    fn host() -> Observed {
        Observed {
            root: true,
            cap_sys_admin: Some(true),
            lockdown: Some("none [integrity] confidentiality".into()),
            lsm: Some("lockdown,capability,landlock,bpf".into()),
            tracers: Some("function_graph function nop".into()),
        }
    }

    const DID: &str = "opening /sys/kernel/tracing/instances/x/\
                       set_ftrace_pid: EPERM: Operation not permitted";
    const SHORT: &str = "EPERM on set_ftrace_pid";

    #[test]
    fn the_selected_lockdown_mode_is_the_bracketed_one() {
        let sel = selected;
        assert_eq!(sel("none [integrity] confidentiality"), Some("integrity"));
        assert_eq!(sel("[none] integrity confidentiality"), Some("none"));
        assert_eq!(sel("none integrity"), None);
    }

    #[test]
    fn a_refusal_is_one_short_sentence_with_the_likely_cause() {
        let why = diagnose(SHORT, DID, &host());
        let reason = &why.reason;
        // Two lines at 80 columns, in the workshop's step 6 too.
        let step_6 = format!("Skipped: {reason}");
        let lines = terminal::wrap(&step_6, Some(80), "");
        assert!(lines.len() <= 2, "{lines:#?}");
        assert!(reason.contains(SHORT), "{reason}");
        assert!(reason.contains("likely by a BPF LSM program"), "{reason}");
        assert!(reason.ends_with(ELSEWHERE), "{reason}");
        // The facts are in the details, once, and agree with the cause.
        let details = why.details.unwrap();
        assert!(details.starts_with(DID), "{details}");
        assert!(details.contains("integrity mode"), "{details}");
        assert!(details.contains("which allows tracefs"), "{details}");
        assert!(details.contains("lockdown,capability,landlock,bpf"));
        assert!(details.contains("available_tracers lists function"));
        assert!(!details.contains("none of these"), "{details}");
        // No fix that does not exist, and no blame on lockdown.
        assert!(!details.contains("lockdown=none"), "{details}");
        assert!(!details.contains("boot without"), "{details}");
    }

    #[test]
    fn confidentiality_mode_is_named_as_the_refusal() {
        let observed = Observed {
            lockdown: Some("none integrity [confidentiality]".into()),
            ..host()
        };
        let why = diagnose(SHORT, DID, &observed).reason;
        assert!(why.starts_with("kernel lockdown is in confidentiality"));
        assert!(why.contains("refuses tracefs to everyone"), "{why}");
    }

    #[test]
    fn lockdown_off_and_unknown_are_said_as_such() {
        let off = Observed {
            lockdown: Some("[none] integrity confidentiality".into()),
            lsm: Some("capability,selinux".into()),
            ..host()
        };
        let why = diagnose(SHORT, DID, &off);
        assert!(why.reason.contains("something the checker cannot see"));
        let details = why.details.unwrap();
        assert!(details.contains("lockdown is off"), "{details}");
        assert!(!details.contains("BPF"), "{details}");
        let unknown = Observed {
            lockdown: None,
            lsm: None,
            tracers: Some("nop".into()),
            ..host()
        };
        let details = diagnose(SHORT, DID, &unknown).details.unwrap();
        assert!(details.contains("lockdown state is unknown"), "{details}");
        assert!(details.contains("does not list function"), "{details}");
    }

    #[test]
    fn a_user_is_told_to_be_root_and_root_without_the_capability_so() {
        let user = Observed {
            root: false,
            ..host()
        };
        let why = diagnose(SHORT, DID, &user).reason;
        assert!(why.starts_with("tracing needs root"), "{why}");
        let capless = Observed {
            cap_sys_admin: Some(false),
            ..host()
        };
        let details = diagnose(SHORT, DID, &capless).details.unwrap();
        assert!(details.contains("without CAP_SYS_ADMIN"), "{details}");
        let mount = not_mounted(Errno::EPERM, &capless);
        assert!(mount.contains("without CAP_SYS_ADMIN"), "{mount}");
        assert!(mount.contains("mount -t tracefs tracefs"), "{mount}");
    }
}
