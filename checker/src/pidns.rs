//! The pid-namespace probe: the first process of a new pid namespace,
//! with that namespace's own procfs, for the claim
//! `lookup_is_relative_to_the_mounts_pid_namespace`.
//!
//! The checker starts its own executable with a hidden argument
//! ([`crate::children::PIDNS_PROBE_ARG`]); that fresh process is
//! single-threaded, so it may `unshare(2)` and `fork(2)` in plain Rust:
//!
//! ```text
//! checker ── probe: unshare(CLONE_NEWPID | CLONE_NEWNS), fork()
//!              └── pid 1 of the new namespace: mount --make-rprivate /,
//!                  mount -t proc proc /proc, then wait
//! ```
//!
//! `unshare(CLONE_NEWPID)` does not move the caller: it makes the
//! namespace its *children* are born into, which is why the probe
//! forks, and why the procfs is mounted by the child. A procfs takes
//! the pid namespace of the process that mounts it
//! (`task_active_pid_ns(current)` in `proc_init_fs_context()`,
//! fs/proc/root.c), and only the child lives in the new one. The same
//! is why `unshare --pid --mount-proc` needs `--fork`.
//!
//! Unprivileged (or as a root that lacks `CAP_SYS_ADMIN`, as in most
//! containers), the probe first creates a user namespace, which gives
//! it the capabilities it needs inside. The checker reaches the new
//! procfs as `/proc/<child>/root/proc` (`proc_root_link()` in
//! fs/proc/base.c leads into the child's mount namespace).
//!
//! Rejected: a raw `clone(CLONE_NEWPID | ...)` from the multi-threaded
//! checker, which may then only make system calls until it execs (no
//! allocation, no locks): hundreds of lines of `unsafe` for the same
//! guarantees. Rejected too: `unshare(1)`, which a reader's system may
//! lack. The mounts die with the child's mount namespace; the child
//! dies with the probe (a pipe's end-of-file and `PR_SET_PDEATHSIG`),
//! and the probe with the checker.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::process::{Child, ChildStdin, Stdio};
use std::time::{Duration, Instant};

use exit_status::Status;
use nix::errno::Errno;
use nix::mount::{MsFlags, mount};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sched::{CloneFlags, unshare};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, Pid, fork, geteuid, pipe};

use crate::children::Launcher;
use crate::procfs::{LiveProc, Procfs};

/// How long the probe may take to report: a mount is milliseconds.
const REPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// The probe, running: its child is pid 1 of a new pid namespace with
/// its own procfs on `/proc`. Dropping it ends both and reaps them.
#[derive(Debug)]
pub struct PidNamespaceProbe {
    /// The namespace's first process, as the checker's namespace
    /// numbers it.
    pub pid: i32,
    /// Its end-of-file tells the probe to end.
    stdin: Option<ChildStdin>,
    probe: Child,
}

/// A step of the probe that the kernel refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Which step: `user` (`unshare(CLONE_NEWUSER)`), `pid`
    /// (`unshare(CLONE_NEWPID | CLONE_NEWNS)`), `fork`, `private`
    /// (making `/` a private mount) or `mount` (the procfs).
    pub step: String,
    pub errno: i32,
    /// Whether the probe had created a user namespace first.
    pub in_user_namespace: bool,
    /// Whether, as root, it had first been refused the pid namespace
    /// without a user namespace (EPERM: no `CAP_SYS_ADMIN`).
    pub after_root_refusal: bool,
}

impl PidNamespaceProbe {
    /// Start one, or say why this system cannot.
    pub fn start(launcher: &Launcher) -> Result<PidNamespaceProbe, String> {
        let mut command = launcher.probe();
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let what = "the pid-namespace probe ";
        let mut probe = crate::children::spawn(&mut command, what)?;
        let stdin = probe.stdin.take();
        let line = probe.stdout.take().map(|out| first_line(out.as_fd()));
        let mut running = PidNamespaceProbe {
            pid: 0,
            stdin,
            probe,
        };
        match parse_report(line.as_deref().unwrap_or("")) {
            Ok(pid) => {
                running.pid = pid;
                Ok(running)
            }
            Err(Some(refused)) => {
                Err(crate::pidns::explain(&refused, &Facts::of_this_system()))
            }
            Err(None) => Err(format!(
                "the pid-namespace probe did not report within {} s",
                REPORT_TIMEOUT.as_secs()
            )),
        }
    }
}

impl Drop for PidNamespaceProbe {
    /// End-of-file on its stdin: the probe kills and reaps its child,
    /// then exits. If it is stuck, SIGKILL, whose death signal ends
    /// the child too.
    fn drop(&mut self) {
        drop(self.stdin.take());
        let start = Instant::now();
        while start.elapsed() < REPORT_TIMEOUT {
            match self.probe.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            }
        }
        crate::children::end(&mut self.probe);
    }
}

/// The first line of `fd`, waiting at most [`REPORT_TIMEOUT`].
fn first_line(fd: std::os::fd::BorrowedFd<'_>) -> String {
    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
    let ms = REPORT_TIMEOUT.as_millis() as u16;
    if !matches!(poll(&mut fds, PollTimeout::from(ms)), Ok(n) if n > 0) {
        return String::new();
    }
    let Ok(owned) = fd.try_clone_to_owned() else {
        return String::new();
    };
    let mut line = String::new();
    let _ = BufReader::new(std::fs::File::from(owned)).read_line(&mut line);
    line
}

/// `ready <pid>`, or `refused <step> <errno> <in-user> <after-root>`
/// with the two flags as 0 or 1.
fn parse_report(line: &str) -> Result<i32, Option<Refused>> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["ready", pid] => pid.parse().map_err(|_| None),
        ["refused", step, errno, user, root] => Err(Some(Refused {
            step: (*step).to_string(),
            errno: errno.parse().unwrap_or(0),
            in_user_namespace: *user == "1",
            after_root_refusal: *root == "1",
        })),
        _ => Err(None),
    }
}

/// What the system says about its user namespaces and our privilege,
/// read when a step was refused, to say why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub root: bool,
    /// `CAP_SYS_ADMIN` is in our effective set (`CapEff:` of
    /// `/proc/self/status`).
    pub cap_sys_admin: Option<bool>,
    /// `/proc/sys/kernel/apparmor_restrict_unprivileged_userns`
    /// (Ubuntu 23.10 and later).
    pub apparmor_restricts_userns: Option<bool>,
    /// `/proc/sys/kernel/unprivileged_userns_clone` (Debian's and
    /// Ubuntu's older patch).
    pub unprivileged_userns_clone: Option<bool>,
    /// `/proc/sys/user/max_user_namespaces`.
    pub max_user_namespaces: Option<u64>,
}

impl Facts {
    /// Read off this system; what cannot be read stays unknown.
    pub fn of_this_system() -> Facts {
        let proc = LiveProc::new("/proc");
        let number = |path: &str| -> Option<u64> {
            proc.read(path).ok()?.trim().parse().ok()
        };
        let on = |path: &str| number(path).map(|value| value == 1);
        Facts {
            root: geteuid().is_root(),
            cap_sys_admin: crate::procfs::cap_sys_admin(),
            apparmor_restricts_userns: on(
                "sys/kernel/apparmor_restrict_unprivileged_userns",
            ),
            unprivileged_userns_clone: on(
                "sys/kernel/unprivileged_userns_clone",
            ),
            max_user_namespaces: number("sys/user/max_user_namespaces"),
        }
    }
}

/// Why the probe could not run, from the step the kernel refused and
/// what the system says: what was observed, and a fix that exists.
pub fn explain(refused: &Refused, facts: &Facts) -> String {
    let errno = Errno::from_raw(refused.errno);
    let what = match refused.step.as_str() {
        "user" => "unshare(CLONE_NEWUSER)",
        "pid" => "unshare(CLONE_NEWPID | CLONE_NEWNS)",
        "fork" => "fork() into the new pid namespace",
        "private" => "making / a private mount (MS_REC | MS_PRIVATE)",
        _ => "mounting a procfs in the new namespace",
    };
    let mut observed = format!("{what} failed with {errno}");
    if refused.after_root_refusal {
        observed = format!(
            "as root, unshare(CLONE_NEWPID | CLONE_NEWNS) failed with \
             EPERM, and then {observed}"
        );
    }
    let denied = matches!(errno, Errno::EPERM | Errno::EACCES);
    let capless = facts.root && facts.cap_sys_admin == Some(false);
    let why = if facts.apparmor_restricts_userns == Some(true)
        && refused.in_user_namespace
        && denied
    {
        "AppArmor restricts unprivileged user namespaces here \
         (kernel.apparmor_restrict_unprivileged_userns = 1, the default \
         on Ubuntu 24.04 and later): run the checker as root (`sudo`), \
         or allow them with `sudo sysctl \
         kernel.apparmor_restrict_unprivileged_userns=0`"
    } else if refused.step == "user"
        && facts.unprivileged_userns_clone == Some(false)
    {
        "unprivileged user namespaces are off \
         (kernel.unprivileged_userns_clone = 0): run the checker as root, \
         or enable them with `sudo sysctl \
         kernel.unprivileged_userns_clone=1`"
    } else if refused.step == "user" && facts.max_user_namespaces == Some(0) {
        "user namespaces are off (user.max_user_namespaces = 0): run the \
         checker as root, or raise the limit with `sudo sysctl \
         user.max_user_namespaces=15000`"
    } else if capless || refused.after_root_refusal {
        "the checker runs as root without CAP_SYS_ADMIN (CapEff in \
         /proc/self/status), which a pid namespace needs, as in most \
         containers, and no user namespace could give it: run it on the \
         host, in a VM, or in a container started with --cap-add \
         SYS_ADMIN"
    } else if refused.step == "user" && denied {
        "the kernel refused to create a user namespace; a seccomp policy \
         (a container runtime's default one forbids it) or a security \
         module may deny it: run the checker as root, on the host or in \
         a VM"
    } else if refused.step == "mount" && refused.in_user_namespace && denied {
        "in a user namespace the kernel mounts a new procfs only where \
         the whole of an existing one is visible (mount_too_revealing() \
         in fs/namespace.c), and a container that masks parts of /proc \
         hides some: run the checker on the host or in a VM"
    } else {
        "run the checker on the host or in a VM"
    };
    format!(
        "cannot make a pid namespace with its own procfs: {observed}; {why}"
    )
}

/// The probe's own life: the hidden argument lands here. It reports on
/// stdout, one line, and exits when stdin reaches end-of-file.
pub(crate) fn probe_main() -> Status {
    let mut out = std::io::stdout();
    let line = match start_namespace() {
        Ok((child, hold)) => {
            let _ = writeln!(out, "ready {child}");
            let _ = out.flush();
            // Until the checker closes our stdin.
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            drop(hold);
            let _ = kill(child, Signal::SIGKILL);
            let _ = waitpid(child, None);
            return Status::Ok;
        }
        Err(refused) => format!(
            "refused {} {} {} {}",
            refused.step,
            refused.errno,
            u8::from(refused.in_user_namespace),
            u8::from(refused.after_root_refusal),
        ),
    };
    let _ = writeln!(out, "{line}");
    Status::CannotRun
}

/// Unshare, fork the namespace's first process, and wait until it has
/// mounted its procfs. Returns it and the pipe end whose closing ends
/// it.
fn start_namespace() -> Result<(Pid, OwnedFd), Refused> {
    let namespaces = CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS;
    // Root tries without a user namespace first; a root without
    // CAP_SYS_ADMIN (a container's) is refused and falls back to one.
    let as_root = match geteuid().is_root() {
        true => Some(unshare(namespaces)),
        false => None,
    };
    let after_root_refusal = as_root == Some(Err(Errno::EPERM));
    let refused = |step: &str, errno: Errno, user: bool| Refused {
        step: step.to_string(),
        errno: errno as i32,
        in_user_namespace: user,
        after_root_refusal,
    };
    if let Some(Err(errno)) = as_root.filter(|_| !after_root_refusal) {
        return Err(refused("pid", errno, false));
    }
    let user = as_root.is_none() || after_root_refusal;
    if user {
        unshare(CloneFlags::CLONE_NEWUSER)
            .map_err(|e| refused("user", e, false))?;
        unshare(namespaces).map_err(|e| refused("pid", e, true))?;
    }
    let (report_r, report_w) = pipe().map_err(|e| refused("fork", e, user))?;
    let (hold_r, hold_w) = pipe().map_err(|e| refused("fork", e, user))?;
    // SAFETY: this process is single-threaded (a fresh exec that
    // started no thread), so the child may do anything after fork.
    match unsafe { fork() }.map_err(|e| refused("fork", e, user))? {
        ForkResult::Child => {
            drop((report_r, hold_w));
            first_process(report_w, hold_r)
        }
        ForkResult::Parent { child } => {
            drop((report_w, hold_r));
            let mut answer = String::new();
            let _ = std::fs::File::from(report_r).read_to_string(&mut answer);
            match answer.split_whitespace().collect::<Vec<_>>()[..] {
                ["ok"] => Ok((child, hold_w)),
                [step, errno] => {
                    let _ = waitpid(child, None);
                    let errno = Errno::from_raw(errno.parse().unwrap_or(0));
                    Err(refused(step, errno, user))
                }
                _ => {
                    let _ = waitpid(child, None);
                    Err(refused("fork", Errno::ECHILD, user))
                }
            }
        }
    }
}

/// Pid 1 of the new namespace: mount, say so, wait for the pipe's
/// end-of-file, exit.
fn first_process(report: OwnedFd, hold: OwnedFd) -> ! {
    // Die with the probe even if it is SIGKILLed (getppid() is 0 here:
    // the parent is outside our pid namespace, so the pipe below is
    // what tells us if it died before this line).
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    let mut report = std::fs::File::from(report);
    // Our mounts must not propagate back into the checker's namespace.
    let private = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
    let mounted =
        mount(None::<&str>, "/", None::<&str>, private, None::<&str>)
            .map_err(|e| ("private", e))
            .and_then(|()| {
                let flags = MsFlags::MS_NOSUID
                    | MsFlags::MS_NODEV
                    | MsFlags::MS_NOEXEC;
                mount(Some("proc"), "/proc", Some("proc"), flags, None::<&str>)
                    .map_err(|e| ("mount", e))
            });
    let _ = match mounted {
        Ok(()) => writeln!(report, "ok"),
        Err((step, errno)) => writeln!(report, "{step} {}", errno as i32),
    };
    drop(report);
    let _ = std::fs::File::from(hold).read_to_end(&mut Vec::new());
    std::process::exit(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(step: &str, errno: i32, user: bool) -> Refused {
        Refused {
            step: step.into(),
            errno,
            in_user_namespace: user,
            after_root_refusal: false,
        }
    }

    #[test]
    fn the_report_line_is_parsed() {
        assert_eq!(parse_report("ready 4242\n"), Ok(4242));
        assert_eq!(
            parse_report("refused user 1 0 0\n"),
            Err(Some(refused("user", 1, false)))
        );
        assert_eq!(parse_report(""), Err(None));
    }

    #[test]
    fn apparmors_restriction_is_named_where_it_applies() {
        let ubuntu = Facts {
            apparmor_restricts_userns: Some(true),
            ..Facts::default()
        };
        let why = explain(&refused("mount", libc::EPERM, true), &ubuntu);
        assert!(
            why.contains("kernel.apparmor_restrict_unprivileged_userns = 1"),
            "{why}"
        );
        assert!(why.contains("EPERM: Operation not permitted"), "{why}");
        // As root, without a user namespace, AppArmor's knob is not it.
        let root = Facts {
            root: true,
            cap_sys_admin: Some(false),
            ..ubuntu
        };
        let why = explain(&refused("pid", libc::EPERM, false), &root);
        assert!(why.contains("without CAP_SYS_ADMIN"), "{why}");
        // A container's root: refused the pid namespace, then the user
        // namespace that would have given the capability.
        let after = Refused {
            after_root_refusal: true,
            ..refused("user", libc::EPERM, false)
        };
        let why = explain(&after, &Facts::default());
        assert!(why.contains("as root, unshare(CLONE_NEWPID"), "{why}");
        assert!(why.contains("then unshare(CLONE_NEWUSER)"), "{why}");
        assert!(why.contains("without CAP_SYS_ADMIN"), "{why}");
    }

    #[test]
    fn the_older_knobs_and_seccomp_are_told_apart() {
        let off = Facts {
            unprivileged_userns_clone: Some(false),
            ..Facts::default()
        };
        let why = explain(&refused("user", libc::EPERM, false), &off);
        assert!(why.contains("unprivileged_userns_clone = 0"), "{why}");
        let none = Facts {
            max_user_namespaces: Some(0),
            ..Facts::default()
        };
        let why = explain(&refused("user", libc::ENOSPC, false), &none);
        assert!(why.contains("max_user_namespaces = 0"), "{why}");
        let why =
            explain(&refused("user", libc::EPERM, false), &Facts::default());
        assert!(why.contains("seccomp"), "{why}");
        let why =
            explain(&refused("mount", libc::EPERM, true), &Facts::default());
        assert!(why.contains("mount_too_revealing()"), "{why}");
    }
}
