//! The process the claims look at: one we start, or one already running.
//!
//! By default the checker starts `demo-spawner`'s code as a separate
//! process, as the article used two terminals: the observer is not the
//! observed. The child runs the same executable as the checker (a hidden
//! first argument selects demo-spawner's `main`), so `cargo run -p
//! checker` needs nothing else built. With `--pid` the target is any
//! running process; claims that need a thread we control then skip.

use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use demo_spawner::Ready;
use nix::sys::signal::Signal;

use crate::parse::{PF_KTHREAD, parse_stat, parse_status};
use crate::procfs::Procfs;

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
        let exe = std::env::current_exe()
            .unwrap_or_else(|_| std::path::PathBuf::from("/proc/self/exe"));
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
        let status_path = format!("{pid}/status");
        let status = proc.read(&status_path).map_err(|source| {
            unreadable_or_gone(proc, pid, &status_path, source)
        })?;
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
            child: None,
        })
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
