//! The process the claims look at: one we start, or one already running.
//!
//! By default the checker starts demo-spawner's code as a separate
//! process ([`crate::children`]), as the article used two terminals: the
//! observer is not the observed. With `--pid` the target is any running
//! process; claims that need a thread we control then skip. (A claim
//! about a system call on any thread needs no target: it holds a thread
//! of the checker's own, `claims::with_own_thread`.)
//!
//! A target is pinned with a pidfd (`pidfd_open(2)`): a pid number can
//! be reused once its process has gone, but a pidfd keeps naming the
//! process it was opened for, and becomes readable when that process
//! exits. So "is it still the process we started checking?" has an
//! answer that does not race with pid reuse. Threads are told apart by
//! their start time: a task whose `starttime` is later than the moment
//! the threads were listed is not one of them, whatever its TID.

use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use demo_spawner::ThreadInfo;

use crate::children::{Demo, Launcher};
use crate::mounts::{parse_mountinfo, procfs_at};
use crate::parse::{PF_KTHREAD, hidepid};
use crate::procfs::{ProcError, Procfs};
use crate::sys::pidfd_open;

/// Prefix of the spawned threads' names; `comm` shows `tid-demo-1` etc.
pub const THREAD_NAME_PREFIX: &str = "tid-demo";

/// CPU time the first spawned thread burns, so that group-wide CPU
/// times differ visibly from a sleeping sibling's own (30 clock ticks).
pub const BUSY_MS: u64 = 300;

/// The target process, as known when the checks start.
#[derive(Debug)]
pub struct Target {
    /// Its thread-group id, which is also its leader's TID.
    pub pid: i32,
    /// The TIDs of its other threads when the checks started.
    pub threads: Vec<i32>,
    /// Clock ticks since boot (the unit of `stat`'s `starttime`) just
    /// after the threads were listed: a task that started later is not
    /// one of them.
    pub listed_at: u64,
    /// The process itself, pinned (see the module's documentation).
    pidfd: Option<OwnedFd>,
    /// The demo process, if we started it (not under `--pid`): what it
    /// said of its threads (names, the busy one, those that exited).
    /// Killed and reaped on drop.
    pub demo: Option<Demo>,
    /// How to start more processes (some claims need one).
    pub launcher: Launcher,
    /// Why this reader cannot see the process at all, though it exists:
    /// the procfs is mounted with `hidepid=`. Every claim then skips.
    pub hidden: Option<String>,
    /// For the report: its leader's `comm` when the checks started, and
    /// what the reader should know (that `--pid` named a thread).
    pub comm: String,
    pub note: Option<String>,
    /// Field 22 of its `stat`: with the pid, names this very process.
    pub starttime: u64,
}

impl Target {
    /// Start demo-spawner's code with `threads` named threads (the first
    /// burns CPU) plus one that has already exited, and wait until every
    /// thread is parked.
    pub fn spawn(
        launcher: Launcher,
        threads: u32,
        proc: &dyn Procfs,
    ) -> Result<Target, String> {
        let mut command = launcher.demo();
        command
            .args(["--exited", "1", "--name", THREAD_NAME_PREFIX])
            .args(["--threads", &threads.to_string()])
            .args(["--busy-ms", &BUSY_MS.to_string()])
            // A bound in case both our kill and the death signal fail.
            .args(["--exit-after", "3600"]);
        let demo = Demo::start(command).map_err(|detail| {
            format!("the demo target did not start: {detail}")
        })?;
        let ready = &demo.ready;
        let pid = ready.pid;
        let stat = proc
            .stat(&format!("{pid}/stat"))
            .map_err(|err| unreadable_or_gone(proc, pid, err))?;
        Ok(Target {
            comm: stat.comm,
            threads: ready.threads.iter().map(|thread| thread.tid).collect(),
            starttime: stat.starttime,
            ..Target::bare(launcher, pid, pidfd_open(pid, 0).ok(), Some(demo))
        })
    }

    /// Look at the running process `pid`. A thread's id is accepted and
    /// redirected to its thread group, with a note saying so.
    pub fn existing(
        launcher: Launcher,
        proc: &dyn Procfs,
        pid: i32,
    ) -> Result<Target, String> {
        // Pin the process before reading anything about it.
        let pidfd = pidfd_open(pid, 0).ok();
        let ids = match proc.status(&format!("{pid}/status")) {
            Ok(ids) => ids,
            Err(err) => {
                let hidden = hidden_by_mount(proc, &err)
                    .and_then(|option| hidden(proc, pid, pidfd, &option));
                return match hidden {
                    Some((pidfd, reason)) => {
                        Ok(Target::hidden(launcher, pid, pidfd, reason))
                    }
                    None => Err(unreadable_or_gone(proc, pid, err)),
                };
            }
        };
        let note = (ids.tgid != pid).then(|| {
            let tgid = ids.tgid;
            format!(
                "{pid} is a thread of process {tgid}: checking process {tgid}"
            )
        });
        let pid = ids.tgid;
        let pidfd = match note {
            // A thread's id: pin its process instead.
            Some(_) => pidfd_open(pid, 0).ok(),
            None => pidfd,
        };
        let gone = |err| unreadable_or_gone(proc, pid, err);
        let stat = proc.stat(&format!("{pid}/stat")).map_err(gone)?;
        if stat.flags & PF_KTHREAD != 0 {
            return Err(format!(
                "pid {pid} ({}) is a kernel thread: it has no user threads \
                 to check; pick a user process",
                stat.comm
            ));
        }
        let tids = proc.pids(&format!("{pid}/task")).map_err(gone)?;
        let listed_at = ticks_since_boot();
        let threads = tids.into_iter().filter(|&tid| tid != pid).collect();
        let comm = proc
            .read(&format!("{pid}/comm"))
            .map(|comm| comm.trim_end().to_string())
            .unwrap_or(stat.comm);
        Ok(Target {
            comm,
            threads,
            starttime: stat.starttime,
            note,
            listed_at,
            ..Target::bare(launcher, pid, pidfd, None)
        })
    }

    /// A task that exists (we hold a pidfd for it, or kill(2) found
    /// it) but that this procfs hides from us.
    fn hidden(
        launcher: Launcher,
        pid: i32,
        pidfd: Option<OwnedFd>,
        reason: String,
    ) -> Target {
        Target {
            note: Some(reason.clone()),
            hidden: Some(reason),
            ..Target::bare(launcher, pid, pidfd, None)
        }
    }

    /// Process `pid` with nothing known of it yet: what the constructors
    /// above learn replaces these empty fields.
    fn bare(
        launcher: Launcher,
        pid: i32,
        pidfd: Option<OwnedFd>,
        demo: Option<Demo>,
    ) -> Target {
        Target {
            pid,
            threads: Vec::new(),
            listed_at: ticks_since_boot(),
            pidfd,
            demo,
            launcher,
            hidden: None,
            comm: String::new(),
            note: None,
            starttime: 0,
        }
    }

    /// Every TID of the target, leader first.
    pub fn tids(&self) -> Vec<i32> {
        let mut tids = vec![self.pid];
        tids.extend(&self.threads);
        tids
    }

    /// What the demo we started said of its threads, in order: their
    /// names, and the one that burnt CPU. None under `--pid`.
    pub fn demo_threads(&self) -> &[ThreadInfo] {
        self.demo.as_ref().map_or(&[], |demo| &demo.ready.threads)
    }

    /// The TIDs of the demo's threads that have exited before the checks
    /// (`--exited`). None under `--pid`.
    pub fn exited(&self) -> &[i32] {
        self.demo.as_ref().map_or(&[], |demo| &demo.ready.exited)
    }

    /// Whether the process has exited, as its pidfd tells: a process
    /// that has exited (even a zombie not yet reaped) makes its pidfd
    /// readable. Without a pidfd (kernels before 5.3), `false`.
    ///
    /// Why not look at `/proc/<pid>`: once the process is reaped its
    /// pid may name another process, whose directory answers as if it
    /// were ours. A poll with no timeout asks without waiting.
    pub fn has_exited(&self) -> bool {
        self.pidfd.as_ref().is_some_and(|pidfd| {
            let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
            matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
        })
    }

    /// Fail if the process we started checking is gone or is another
    /// process under a reused pid: then no result about it holds. (Its
    /// `/proc` entry may be hidden: then the pidfd is the proof.)
    pub fn still_alive(&self, proc: &dyn Procfs) -> Result<(), String> {
        let stat = || proc.stat(&format!("{}/stat", self.pid));
        let alive = !self.has_exited()
            && (self.hidden.is_some()
                || stat().is_ok_and(|stat| stat.starttime == self.starttime));
        match alive {
            true => Ok(()),
            false => Err(format!(
                "process {} exited while it was being checked; its results \
                 are void, run again",
                self.pid
            )),
        }
    }
}

/// Now, in the clock ticks of `stat`'s `starttime`: `CLOCK_BOOTTIME`
/// divided by the tick length (`nsec_to_clock_t()`, kernel/time/time.c).
pub fn ticks_since_boot() -> u64 {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME)
        .map(|time| Duration::new(time.tv_sec() as u64, time.tv_nsec() as u32))
        .unwrap_or_default();
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100)
        .max(1) as u128;
    (now.as_nanos() * hz / 1_000_000_000) as u64
}

/// The `hidepid=` value `proc` is mounted with, if that may be why
/// reading it gave `error`: under `hidepid=invisible` (and
/// `ptraceable`) another user's `/proc/<pid>` does not resolve
/// (`ENOENT`), under `hidepid=noaccess` it resolves but its files
/// refuse (`EPERM`): `proc_pid_permission()` and `proc_pid_lookup()` in
/// fs/proc/base.c (6.12.118: 745-771, 3497-3499).
fn hidden_by_mount(proc: &dyn Procfs, error: &ProcError) -> Option<String> {
    if !matches!(error.errno(), Some(libc::ENOENT | libc::EPERM)) {
        return None;
    }
    let root = std::fs::canonicalize(proc.root()).ok()?;
    let mountinfo = proc.read("self/mountinfo").ok()?;
    let mounts = parse_mountinfo(&mountinfo).ok()?;
    let procfs = procfs_at(&mounts, root.to_str()?)?;
    hidepid(&procfs.options).map(str::to_string)
}

/// Whether task `pid` exists though the procfs hides it, with the
/// proof, a pidfd to pin it where one can be had, and the reason every
/// claim skips. A thread's id is not a process's, so `pidfd_open(pid,
/// 0)` refuses it (the claim `pidfd_open_refuses_a_thread_id`);
/// `PIDFD_THREAD` (Linux 6.9) accepts it, and so does `kill(pid, 0)`,
/// which finds any task by id (`kill_pid_info_type()` calls
/// `pid_task(pid, PIDTYPE_PID)`, kernel/signal.c 1493-1513 in
/// 6.12.118) and answers `EPERM`, not `ESRCH`, for one we may not
/// signal.
fn hidden(
    proc: &dyn Procfs,
    pid: i32,
    pidfd: Option<OwnedFd>,
    hidepid: &str,
) -> Option<(Option<OwnedFd>, String)> {
    let thread = crate::sys::PIDFD_THREAD;
    let (pidfd, proof) = match pidfd {
        Some(pidfd) => (Some(pidfd), "pidfd_open found it".to_string()),
        None => match pidfd_open(pid, thread) {
            Ok(pidfd) => {
                (Some(pidfd), "pidfd_open with PIDFD_THREAD found it".into())
            }
            Err(_) => match nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                None,
            ) {
                Ok(()) => (None, format!("kill({pid}, 0) found it")),
                Err(nix::errno::Errno::EPERM) => {
                    (None, format!("kill({pid}, 0) answers EPERM, not ESRCH"))
                }
                Err(_) => return None,
            },
        },
    };
    let reason = format!(
        "task {pid} exists ({proof}) but {} is mounted with \
         hidepid={hidepid}, which hides other users' processes from this \
         reader (has_pid_permissions() in fs/proc/base.c); run as its \
         owner or as root, or use a procfs without hidepid",
        proc.root().display()
    );
    Some((pidfd, reason))
}

/// A missing file of `pid` means there is no such process; anything
/// else is an error reading it.
fn unreadable_or_gone(proc: &dyn Procfs, pid: i32, err: ProcError) -> String {
    match err.is_enoent() {
        true => format!(
            "no process has pid {pid} ({} does not exist); list processes \
             with 'ps -e'",
            proc.path(&pid.to_string()).display()
        ),
        false => format!("cannot read {err}"),
    }
}
