//! The process the claims look at: one we start, or one already running.
//!
//! By default the checker starts `demo-spawner`'s code as a separate
//! process, as the article used two terminals: the observer is not the
//! observed. The child runs the same executable as the checker (a hidden
//! first argument selects demo-spawner's `main`), so `cargo run -p
//! checker` needs nothing else built. With `--pid` the target is any
//! running process; claims that need a thread we control then skip.
//!
//! A target is pinned with a pidfd (`pidfd_open(2)`): a pid number can
//! be reused once its process has gone, but a pidfd keeps naming the
//! process it was opened for, and becomes readable when that process
//! exits. So "is it still the process we started checking?" has an
//! answer that does not race with pid reuse. Threads are told apart by
//! their start time: a task whose `starttime` is later than the moment
//! the threads were listed is not one of them, whatever its TID.
//!
//! [`PidNamespaceProbe`] is the one process here that is not
//! demo-spawner: the first process of a new pid namespace, with a
//! procfs of its own.

use std::ffi::CString;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use demo_spawner::Ready;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;

use crate::parse::{PF_KTHREAD, parse_stat, parse_status};
use crate::procfs::{Procfs, hidepid, procfs_options};

/// The hidden first argument that turns the checker into demo-spawner.
pub const DEMO_SPAWNER_ARG: &str = "__demo-spawner";

/// Prefix of the spawned threads' names; `comm` shows `tid-demo-1` etc.
pub const THREAD_NAME_PREFIX: &str = "tid-demo";

/// CPU time the first spawned thread burns, so that group-wide CPU
/// times differ visibly from a sleeping sibling's own (30 clock ticks).
pub const BUSY_MS: u64 = 300;

/// How the target came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Started by the checker, running demo-spawner's code.
    Spawned,
    /// Named with `--pid`.
    Existing,
}

/// One thread of the target other than its leader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub tid: i32,
    /// The name we gave it, when we started it.
    pub name: Option<String>,
    /// It burnt CPU before parking (see [`BUSY_MS`]).
    pub busy: bool,
}

/// The target process, as known when the checks start.
#[derive(Debug)]
pub struct Target {
    pub origin: Origin,
    /// Its thread-group id, which is also its leader's TID.
    pub pid: i32,
    /// Its leader's `comm` when the checks started.
    pub comm: String,
    /// Its other threads when the checks started.
    pub threads: Vec<Thread>,
    /// TIDs of its threads that have exited (spawned targets only).
    pub exited: Vec<i32>,
    /// Field 22 of its `stat`: with the pid, names this very process.
    pub starttime: u64,
    /// Something the reader should know, e.g. that `--pid` named a thread.
    pub note: Option<String>,
    /// How to start more demo processes (the offset claim needs one).
    pub demo: DemoProgram,
    /// Why this reader cannot see the process at all, though it exists:
    /// the procfs is mounted with `hidepid=`. Every claim then skips.
    pub hidden: Option<String>,
    /// Clock ticks since boot (the unit of `stat`'s `starttime`) just
    /// after the threads were listed: a task that started later is not
    /// one of them.
    pub listed_at: u64,
    /// The process itself, pinned (see the module's documentation).
    pidfd: Option<OwnedFd>,
    child: Option<Child>,
}

/// Why there is nothing to check. Exit code 4.
#[derive(Debug)]
pub enum TargetError {
    NoSuchProcess {
        pid: i32,
        path: String,
    },
    KernelThread {
        pid: i32,
        comm: String,
    },
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    DemoFailed {
        detail: String,
    },
    Exited {
        pid: i32,
    },
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetError::NoSuchProcess { pid, path } => write!(
                f,
                "no process has pid {pid} ({path} does not exist); \
                 list processes with 'ps -e'"
            ),
            TargetError::KernelThread { pid, comm } => write!(
                f,
                "pid {pid} ({comm}) is a kernel thread: it has no user \
                 threads to check; pick a user process"
            ),
            TargetError::Unreadable { path, source } => {
                write!(f, "cannot read {path}: {source}")
            }
            TargetError::DemoFailed { detail } => {
                write!(f, "the demo target did not start: {detail}")
            }
            TargetError::Exited { pid } => write!(
                f,
                "process {pid} exited while it was being checked; \
                 its results are void, run again"
            ),
        }
    }
}

impl std::error::Error for TargetError {}

/// How to start demo-spawner's code: normally this very executable,
/// told by its first argument to be demo-spawner; tests pass a
/// `demo-spawner` binary instead.
#[derive(Debug, Clone)]
pub struct DemoProgram {
    pub exe: std::path::PathBuf,
    pub args: Vec<std::ffi::OsString>,
}

impl DemoProgram {
    /// The running executable with [`DEMO_SPAWNER_ARG`].
    pub fn this_executable() -> DemoProgram {
        // current_exe() reads /proc/self/exe; with no procfs at /proc
        // (--proc names another mount) argv[0] is the next best name.
        let exe = std::env::current_exe()
            .ok()
            .or_else(|| {
                let arg0 =
                    std::path::PathBuf::from(std::env::args_os().next()?);
                arg0.components().nth(1).is_some().then_some(arg0)
            })
            .unwrap_or_else(|| std::path::PathBuf::from("/proc/self/exe"));
        DemoProgram {
            exe,
            args: vec![DEMO_SPAWNER_ARG.into()],
        }
    }

    /// A `demo-spawner` binary.
    pub fn binary(exe: impl Into<std::path::PathBuf>) -> DemoProgram {
        DemoProgram {
            exe: exe.into(),
            args: Vec::new(),
        }
    }

    /// A command running demo-spawner, ready for its options.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.exe);
        command.args(&self.args);
        command
    }
}

impl Target {
    /// Start demo-spawner's code with `threads` named threads (the first
    /// burns CPU) plus one that has already exited, and wait until every
    /// thread is parked.
    pub fn spawn(
        demo: DemoProgram,
        threads: u32,
        proc: &dyn Procfs,
    ) -> Result<Target, TargetError> {
        let mut program = demo.command();
        program
            .args(["--json", "--exited", "1", "--name", THREAD_NAME_PREFIX])
            .args(["--threads", &threads.to_string()])
            .args(["--busy-ms", &BUSY_MS.to_string()])
            // A bound in case both our kill and the death signal fail.
            .args(["--exit-after", "3600"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        die_with_parent(&mut program);
        let mut child =
            program.spawn().map_err(|err| TargetError::DemoFailed {
                detail: format!("cannot start {program:?}: {err}"),
            })?;
        let ready = read_ready_line(&mut child);
        let ready = match ready {
            Ok(ready) => ready,
            Err(detail) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(TargetError::DemoFailed { detail });
            }
        };
        let mut target = Target {
            origin: Origin::Spawned,
            pid: ready.pid,
            comm: String::new(),
            threads: ready
                .threads
                .iter()
                .map(|thread| Thread {
                    tid: thread.tid,
                    name: thread.name.clone(),
                    busy: thread.busy_ms > 0,
                })
                .collect(),
            exited: ready.exited.clone(),
            starttime: 0,
            note: None,
            demo,
            hidden: None,
            listed_at: ticks_since_boot(),
            pidfd: pidfd_open(ready.pid).ok(),
            child: Some(child),
        };
        let (comm, starttime) = identity(proc, ready.pid)?;
        target.comm = comm;
        target.starttime = starttime;
        Ok(target)
    }

    /// Look at the running process `pid`. A thread's id is accepted and
    /// redirected to its thread group, with a note saying so.
    pub fn existing(
        demo: DemoProgram,
        proc: &dyn Procfs,
        pid: i32,
    ) -> Result<Target, TargetError> {
        // Pin the process before reading anything about it.
        let pidfd = pidfd_open(pid).ok();
        let status_path = format!("{pid}/status");
        let status = match proc.read(&status_path) {
            Ok(status) => status,
            Err(source) => {
                if let (Some(pidfd), Some(reason)) =
                    (&pidfd, hidden_by_mount(proc, pid, &source))
                {
                    return Ok(Target::hidden(demo, pid, pidfd, reason));
                }
                return Err(unreadable_or_gone(
                    proc,
                    pid,
                    &status_path,
                    source,
                ));
            }
        };
        let ids =
            parse_status(&status).map_err(|err| TargetError::Unreadable {
                path: display(proc, &status_path),
                source: std::io::Error::other(err),
            })?;
        let mut note = None;
        if ids.tgid != pid {
            note = Some(format!(
                "{pid} is a thread of process {}: checking process {}",
                ids.tgid, ids.tgid
            ));
        }
        let pid = ids.tgid;
        let pidfd = match note {
            // A thread's id: pin its process instead.
            Some(_) => pidfd_open(pid).ok(),
            None => pidfd,
        };
        let stat_path = format!("{pid}/stat");
        let stat_text = proc.read(&stat_path).map_err(|source| {
            unreadable_or_gone(proc, pid, &stat_path, source)
        })?;
        let stat =
            parse_stat(&stat_text).map_err(|err| TargetError::Unreadable {
                path: display(proc, &stat_path),
                source: std::io::Error::other(err),
            })?;
        if stat.flags & PF_KTHREAD != 0 {
            return Err(TargetError::KernelThread {
                pid,
                comm: stat.comm,
            });
        }
        let task_path = format!("{pid}/task");
        let tasks = proc.list(&task_path).map_err(|source| {
            unreadable_or_gone(proc, pid, &task_path, source)
        })?;
        let listed_at = ticks_since_boot();
        let threads = tasks
            .iter()
            .filter_map(|entry| entry.pid())
            .filter(|&tid| tid != pid)
            .map(|tid| Thread {
                tid,
                name: None,
                busy: false,
            })
            .collect();
        let comm = proc
            .read(&format!("{pid}/comm"))
            .map(|comm| comm.trim_end().to_string())
            .unwrap_or(stat.comm);
        Ok(Target {
            origin: Origin::Existing,
            pid,
            comm,
            threads,
            exited: Vec::new(),
            starttime: stat.starttime,
            note,
            demo,
            hidden: None,
            listed_at,
            pidfd,
            child: None,
        })
    }

    /// A process that exists (we hold a pidfd for it) but that this
    /// procfs hides from us.
    fn hidden(
        demo: DemoProgram,
        pid: i32,
        pidfd: &OwnedFd,
        reason: String,
    ) -> Target {
        Target {
            origin: Origin::Existing,
            pid,
            comm: String::new(),
            threads: Vec::new(),
            exited: Vec::new(),
            starttime: 0,
            note: Some(reason.clone()),
            demo,
            hidden: Some(reason),
            listed_at: ticks_since_boot(),
            pidfd: pidfd.try_clone().ok(),
            child: None,
        }
    }

    /// Whether the process has exited, as its pidfd tells: a process
    /// that has exited (even a zombie not yet reaped) makes its pidfd
    /// readable. Without a pidfd (kernels before 5.3), `false`.
    pub fn has_exited(&self) -> bool {
        let Some(pidfd) = &self.pidfd else {
            return false;
        };
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
    }

    /// Whether a task that started at `starttime` (clock ticks since
    /// boot, `stat` field 22) started after the threads were listed, so
    /// is none of them even if it has one of their TIDs.
    ///
    /// A TID freed by an exiting thread can be given to a new task only
    /// after the pid numbers wrap around `pid_max`; the tick (10 ms) in
    /// which the list was taken is the blind spot, far shorter than a
    /// wrap-around takes.
    pub fn started_after_listing(&self, starttime: u64) -> bool {
        starttime > self.listed_at
    }

    /// Every TID of the target, leader first.
    pub fn tids(&self) -> Vec<i32> {
        let mut tids = vec![self.pid];
        tids.extend(self.threads.iter().map(|thread| thread.tid));
        tids
    }

    /// Fail if the process we started checking is gone or is another
    /// process under a reused pid: then no result about it holds.
    pub fn still_alive(&self, proc: &dyn Procfs) -> Result<(), TargetError> {
        if self.has_exited() {
            return Err(TargetError::Exited { pid: self.pid });
        }
        if self.hidden.is_some() {
            // Its /proc entry is hidden; the pidfd above is the proof.
            return Ok(());
        }
        match identity(proc, self.pid) {
            Ok((_, starttime)) if starttime == self.starttime => Ok(()),
            _ => Err(TargetError::Exited { pid: self.pid }),
        }
    }
}

impl Drop for Target {
    /// Kill and reap the process we started: no leftover process, and
    /// no zombie.
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A demo-spawner process started for one claim, killed and reaped
/// when dropped: a process newer than the target, or a thread that
/// nothing has looked up yet.
#[derive(Debug)]
pub struct ShortLived {
    child: Child,
    /// Its ready line: pid and thread ids.
    pub ready: Ready,
}

impl ShortLived {
    /// Start one with `threads` threads and wait until they are parked.
    pub fn start(demo: &DemoProgram, threads: u32) -> Option<ShortLived> {
        let mut command = demo.command();
        command
            .args(["--json", "--exit-after", "60"])
            .args(["--threads", &threads.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        die_with_parent(&mut command);
        let mut child = command.spawn().ok()?;
        match read_ready_line(&mut child) {
            Ok(ready) => Some(ShortLived { child, ready }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                None
            }
        }
    }
}

impl Drop for ShortLived {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first process of a new pid namespace, with that namespace's own
/// procfs mounted on `/proc` in a private mount namespace: a second
/// view of the same kernel in which every pid has another number.
///
/// From outside it is reached as `/proc/<pid>/root/proc`: the `root`
/// link leads into its mount namespace (`proc_root_link()` in
/// fs/proc/base.c), so the checker reads the namespace's procfs through
/// its own. Unprivileged, it also creates a user namespace, which
/// gives it the right to mount there. It is killed and reaped when
/// dropped; its mounts die with its mount namespace.
#[derive(Debug)]
pub struct PidNamespaceProbe {
    /// Its pid, as the checker's namespace numbers it.
    pub pid: i32,
    /// Held open to keep it alive: it exits when it reads end-of-file.
    hold: Option<OwnedFd>,
}

impl PidNamespaceProbe {
    /// Start one, or say why this system cannot.
    pub fn start() -> Result<PidNamespaceProbe, String> {
        let mut flags = libc::CLONE_NEWPID | libc::CLONE_NEWNS;
        let user = !nix::unistd::geteuid().is_root();
        if user {
            flags |= libc::CLONE_NEWUSER;
        }
        let how = if user {
            "clone(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS)"
        } else {
            "clone(CLONE_NEWPID | CLONE_NEWNS)"
        };
        // Everything the child needs, made before it exists: between a
        // fork of a multi-threaded process and its end, the child may
        // only make system calls (no allocation, no locks).
        let root = CString::from(c"/");
        let proc = CString::from(c"/proc");
        let fstype = CString::from(c"proc");
        let (ready_r, ready_w) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                .map_err(|err| format!("cannot make a pipe: {err}"))?;
        let (hold_r, hold_w) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                .map_err(|err| format!("cannot make a pipe: {err}"))?;
        // SAFETY: a raw clone without CLONE_VM and with a null stack
        // behaves as fork(2): the child gets a copy of our memory and
        // runs on from here. It calls only `probe_child`, which makes
        // system calls on memory prepared above and never returns.
        let pid = unsafe {
            libc::syscall(
                libc::SYS_clone,
                (flags | libc::SIGCHLD) as libc::c_ulong,
                0usize,
                0usize,
                0usize,
                0usize,
            )
        };
        if pid == 0 {
            // SAFETY: see above; the pointers are of CStrings that live
            // in this copy of the parent's memory.
            unsafe {
                probe_child(
                    ready_w.as_raw_fd(),
                    hold_r.as_raw_fd(),
                    [root.as_ptr(), proc.as_ptr(), fstype.as_ptr()],
                )
            }
        }
        if pid < 0 {
            let err = io::Error::last_os_error();
            return Err(format!(
                "cannot create a pid namespace: {how}: {err}; {}",
                namespace_fix(user)
            ));
        }
        drop((ready_w, hold_r));
        let probe = PidNamespaceProbe {
            pid: pid as i32,
            hold: Some(hold_w),
        };
        // The child writes one byte when its procfs is mounted, or the
        // step that failed and its errno.
        let mut fds = [PollFd::new(ready_r.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, PollTimeout::from(5000u16));
        let mut answer = [0u8; 5];
        let read = nix::unistd::read(&ready_r, &mut answer).unwrap_or(0);
        match (read, answer[0]) {
            (1, 0) => Ok(probe),
            (5, step) => {
                let errno = i32::from_ne_bytes([
                    answer[1], answer[2], answer[3], answer[4],
                ]);
                let what = match step {
                    1 => "make / a private mount (MS_REC | MS_PRIVATE)",
                    _ => "mount a procfs on /proc in the new namespace",
                };
                Err(format!(
                    "the new pid namespace could not {what}: {}; {}",
                    io::Error::from_raw_os_error(errno),
                    namespace_fix(user)
                ))
            }
            _ => Err(format!(
                "the first process of the new pid namespace did not \
                 report ({how}); {}",
                namespace_fix(user)
            )),
        }
    }
}

impl Drop for PidNamespaceProbe {
    fn drop(&mut self) {
        // End-of-file on its pipe ends it; SIGKILL in case it is stuck.
        drop(self.hold.take());
        let pid = nix::unistd::Pid::from_raw(self.pid);
        let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(pid, None);
    }
}

fn namespace_fix(user: bool) -> &'static str {
    if user {
        "unprivileged user namespaces may be off (sysctl \
         user.max_user_namespaces, kernel.unprivileged_userns_clone, or a \
         container's seccomp policy); run as root to check this claim"
    } else {
        "a container may forbid new namespaces (seccomp, or a /proc with \
         masked entries); run on a host or a VM"
    }
}

/// The probe's life, in the child of the raw clone: pid 1 of its pid
/// namespace, alone in a copy of our mount namespace.
///
/// # Safety
///
/// Call only in the child of a fork-like clone; the pointers must be
/// NUL-terminated strings.
unsafe fn probe_child(
    ready: i32,
    hold: i32,
    [root, proc, fstype]: [*const libc::c_char; 3],
) -> ! {
    let fail = |step: u8| -> ! {
        // SAFETY: errno and write(2) on a 5-byte stack buffer; _exit.
        unsafe {
            let errno = (*libc::__errno_location()).to_ne_bytes();
            let message = [step, errno[0], errno[1], errno[2], errno[3]];
            libc::write(ready, message.as_ptr().cast(), message.len());
            libc::_exit(1)
        }
    };
    // SAFETY: system calls on the NUL-terminated strings we were given
    // and on stack buffers; no allocation, no lock.
    unsafe {
        // Die with the checker even if it is SIGKILLed. (getppid() is
        // 0 here, the parent being outside our pid namespace; if it
        // died before this line, our pipe's end-of-file ends us.)
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        // Close our copies of the checker's other descriptors (its
        // end of our pipes, other children's pipes): a copy held here
        // would delay the end-of-file someone else waits for.
        let (low, high) = (ready.min(hold) as u32, ready.max(hold) as u32);
        for (first, last) in [(3, low - 1), (low + 1, high - 1)] {
            if first <= last {
                libc::syscall(libc::SYS_close_range, first, last, 0);
            }
        }
        libc::syscall(libc::SYS_close_range, high + 1, u32::MAX, 0);
        // Our mounts must not propagate back into the checker's
        // namespace.
        let private = libc::MS_REC | libc::MS_PRIVATE;
        if libc::mount(
            std::ptr::null(),
            root,
            std::ptr::null(),
            private,
            std::ptr::null(),
        ) != 0
        {
            fail(1);
        }
        let flags = libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        if libc::mount(fstype, proc, fstype, flags, std::ptr::null()) != 0 {
            fail(2);
        }
        let ok = 0u8;
        libc::write(ready, (&raw const ok).cast(), 1);
        // Wait for end-of-file: the checker is done with us.
        let mut byte = 0u8;
        while libc::read(hold, (&raw mut byte).cast(), 1) > 0 {}
        libc::_exit(0)
    }
}

/// Make the kernel kill the process `command` starts when its parent
/// dies, even by SIGKILL: no demo process outlives its checker.
fn die_with_parent(command: &mut Command) {
    let parent = nix::unistd::getpid();
    // SAFETY: between fork and exec the closure only makes the
    // async-signal-safe prctl(2) and getppid(2) system calls.
    unsafe {
        command.pre_exec(move || {
            // The signal follows the *thread* that forked, so demo
            // processes are started from the checker's main thread.
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
            // Not "is the parent init?": as a VM's /init, it is.
            if nix::unistd::getppid() != parent {
                // The parent died before the line above took effect.
                return Err(std::io::Error::other("parent gone"));
            }
            Ok(())
        });
    }
}

/// `pidfd_open(2)`: a file descriptor that names process `pid` for as
/// long as it is open, whatever later gets its number.
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes two integers and returns a new file
    // descriptor or -1; it touches no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor to us, open and
    // owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
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

/// Why `pid` exists but `proc` does not show it, if the reason is a
/// `hidepid=` mount option: then the reader is not allowed to see it,
/// and that is a fact of this system, not a broken claim.
fn hidden_by_mount(
    proc: &dyn Procfs,
    pid: i32,
    error: &io::Error,
) -> Option<String> {
    if error.kind() != io::ErrorKind::NotFound {
        return None;
    }
    let root = std::fs::canonicalize(proc.root()).ok()?;
    let mountinfo = proc.read("self/mountinfo").ok()?;
    let options = procfs_options(&mountinfo, &root)?;
    let value = hidepid(&options)?;
    Some(format!(
        "process {pid} exists (pidfd_open found it) but {} is mounted \
         with hidepid={value}, which hides other users' processes \
         (has_pid_permissions() in fs/proc/base.c); run as its owner or \
         as root, or use a procfs without hidepid",
        proc.root().display()
    ))
}

/// The leader's `comm` and its start time.
fn identity(
    proc: &dyn Procfs,
    pid: i32,
) -> Result<(String, u64), TargetError> {
    let path = format!("{pid}/stat");
    let text = proc
        .read(&path)
        .map_err(|source| unreadable_or_gone(proc, pid, &path, source))?;
    let stat = parse_stat(&text).map_err(|err| TargetError::Unreadable {
        path: display(proc, &path),
        source: std::io::Error::other(err),
    })?;
    Ok((stat.comm, stat.starttime))
}

fn display(proc: &dyn Procfs, relative: &str) -> String {
    proc.root().join(relative).display().to_string()
}

fn unreadable_or_gone(
    proc: &dyn Procfs,
    pid: i32,
    path: &str,
    source: std::io::Error,
) -> TargetError {
    if source.kind() == std::io::ErrorKind::NotFound {
        TargetError::NoSuchProcess {
            pid,
            path: display(proc, &pid.to_string()),
        }
    } else {
        TargetError::Unreadable {
            path: display(proc, path),
            source,
        }
    }
}

/// Read demo-spawner's `--json` ready line, or say why there is none.
fn read_ready_line(child: &mut Child) -> Result<Ready, String> {
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        let _ = BufReader::new(stdout).read_line(&mut line);
    }
    if line.trim().is_empty() {
        // It ended without a ready line: its stderr says why.
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        let status = child.wait().map_err(|err| err.to_string())?;
        let stderr = stderr.trim();
        return Err(if stderr.is_empty() {
            format!("it exited ({status}) without a ready line")
        } else {
            stderr.to_string()
        });
    }
    serde_json::from_str(&line)
        .map_err(|err| format!("unreadable ready line {line:?}: {err}"))
}
