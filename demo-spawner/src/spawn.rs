//! Spawning the threads, holding them still, and letting them go.
//!
//! Every spawned thread asks the kernel for its own id with `gettid(2)`
//! (through the `nix` crate, as in the article), reports it, and waits at
//! a barrier. Only when the whole group has reached the barrier does the
//! main thread print anything, so whoever reads the output can be sure
//! that every printed TID belongs to a live thread at that moment. The
//! threads then park until the program is told to stop.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
use nix::sys::signalfd::SignalFd;
use nix::time::{ClockId, clock_gettime};
use nix::unistd::{getpid, gettid};
use serde::{Deserialize, Serialize};

use crate::cli::Options;
use crate::limits;

/// What `--json` prints once every thread is alive and parked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ready {
    /// The process id: the main thread's TID and the thread-group id.
    pub pid: i32,
    /// The spawned threads, in the order they were spawned.
    pub threads: Vec<ThreadInfo>,
    /// TIDs of threads that have already exited (`--exited`).
    pub exited: Vec<i32>,
}

/// One spawned thread that is alive and parked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadInfo {
    pub tid: i32,
    /// The name given with `--name`, as the kernel keeps it in `comm`.
    pub name: Option<String>,
    /// CPU time this thread burnt before parking (`--busy-ms`).
    pub busy_ms: u64,
}

/// Why the threads could not be set up.
#[derive(Debug)]
pub enum SpawnError {
    /// The count asks for more tasks than a system limit allows.
    OverLimit {
        tasks: u64,
        limit: &'static str,
        value: u64,
    },
    /// The kernel refused to create thread `index` of `total`.
    Create {
        index: u32,
        total: u32,
        source: std::io::Error,
        limits: String,
    },
    /// Setting up signals failed.
    Io {
        what: &'static str,
        source: std::io::Error,
    },
    /// Writing the ready output to stdout failed: a closed pipe, which
    /// is no error (`exit_status::after_write`), or a full disk.
    Write(std::io::Error),
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::OverLimit {
                tasks,
                limit,
                value,
            } => write!(
                f,
                "{tasks} threads asked for (main thread included) but \
                 {limit} is {value}; ask for fewer threads"
            ),
            SpawnError::Create {
                index,
                total,
                source,
                limits,
            } => write!(
                f,
                "could not create thread {index} of {total}: {source}; \
                 limits: {limits}"
            ),
            SpawnError::Io { what, source } => {
                write!(f, "cannot {what}: {source}")
            }
            SpawnError::Write(source) => {
                write!(f, "cannot write to stdout: {source}")
            }
        }
    }
}

impl std::error::Error for SpawnError {}

/// Stack size of each spawned thread: they only park, burn a loop or
/// print, and small stacks let a laptop hold 10,000 of them.
const STACK_BYTES: usize = 128 * 1024;

/// Run the program with `options` until a signal or `--exit-after`.
pub fn run(options: &Options) -> Result<(), SpawnError> {
    let tasks = 1 + u64::from(options.threads) + u64::from(options.exited);
    let limits = limits::current();
    if let Some(limit) = limits::exceeded(&limits, tasks) {
        return Err(SpawnError::OverLimit {
            tasks,
            limit: limit.name,
            value: limit.value,
        });
    }
    // The checker starts us under its own name; say who we are, so that
    // `/proc/<PID>/comm` reads the same however we were started. Threads
    // spawned afterwards inherit it unless `--name` names them.
    let comm = std::ffi::CString::new(options.comm.as_str())
        .unwrap_or_else(|_| c"demo-spawner".to_owned());
    let _ = nix::sys::prctl::set_name(&comm);

    // Block the stop signals before any thread exists: threads inherit
    // the mask, so the signals wait for the main thread's signalfd
    // instead of killing the process mid-print.
    let stop_signals = stop_signal_set();
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&stop_signals), None)
        .map_err(|errno| io_error("block SIGINT and SIGTERM", errno))?;
    let signals = SignalFd::new(&stop_signals)
        .map_err(|errno| io_error("open a signalfd", errno))?;

    let exited = spawn_exiting_threads(options.exited, options.threads)?;
    // What the first thread will exec, made before it exists.
    let exec = match options.exec_from_thread {
        true => Some(Reexec::this_program()?),
        false => None,
    };
    let (exec_go, exec_wait) = mpsc::channel::<()>();
    let group = Group::spawn(options, exec.map(|exec| (exec, exec_wait)))?;
    let ready = Ready {
        pid: getpid().as_raw(),
        threads: group.threads.clone(),
        exited,
    };
    if let Err(err) = print_ready(&ready, options.json) {
        group.stop();
        return Err(err);
    }
    // A person at the terminal stops us with a key (see `hint`), even
    // when stdin is a pipe (`echo | just spawn`): then from /dev/tty.
    let mut keys = terminal::Keys::open_terminal();
    hint(keys.is_some(), ready.pid);
    // The first thread may exec now: the ready line is out.
    let _ = exec_go.send(());
    if options.leader_exits {
        leader_exits(signals, keys, options.exit_after);
    }
    let waited = wait_for_stop(&signals, keys.as_mut(), options.exit_after)
        .map_err(|errno| io_error("wait for a signal", errno));
    // The terminal back in line mode before the threads go.
    drop(keys);
    group.stop();
    waited
}

/// How to stop us, on stderr when it is a terminal: a key (`q` or
/// Ctrl-C, read as keys so that stopping is not an interruption that
/// `just` reports as an error), or a signal when we run in the
/// background or without a terminal for input.
fn hint(keys: bool, pid: i32) {
    use std::io::IsTerminal;
    let stderr = std::io::stderr();
    if !stderr.is_terminal() {
        return;
    }
    let how = match keys {
        true => "q or Ctrl-C stops it".to_string(),
        false => format!("`kill {pid}` stops it"),
    };
    let _ = writeln!(stderr.lock(), "({how}.)");
}

/// End the main thread alone, and leave the waiting for a stop signal
/// to a thread that then ends the process.
///
/// pthread_exit(3) in the main thread asks the kernel for exit(2), which
/// ends the calling thread only: its task becomes a zombie that is not
/// reaped while the group has other threads (`delay_group_leader()` in
/// kernel/exit.c). We make that system call ourselves rather than call
/// pthread_exit, whose forced unwinding through Rust frames with
/// destructors is undefined behaviour; nothing of the main thread's is
/// needed afterwards.
fn leader_exits(
    signals: SignalFd,
    mut keys: Option<terminal::Keys>,
    limit: Option<Duration>,
) -> ! {
    let waiter =
        thread::Builder::new()
            .stack_size(STACK_BYTES)
            .spawn(move || {
                let _ = wait_for_stop(&signals, keys.as_mut(), limit);
                drop(keys);
                std::process::exit(0)
            });
    if waiter.is_err() {
        std::process::exit(3);
    }
    loop {
        // SAFETY: exit(2) ends this thread; it touches no memory of
        // ours, and no code of this thread runs after it.
        unsafe { libc::syscall(libc::SYS_exit, 0) };
    }
}

/// This program, as it was started (the executable, and its arguments
/// but `--exec-from-thread`), ready for execv(2).
struct Reexec {
    program: std::ffi::CString,
    args: Vec<std::ffi::CString>,
}

impl Reexec {
    fn this_program() -> Result<Reexec, SpawnError> {
        use std::os::unix::ffi::OsStringExt;
        let cstring = |bytes: Vec<u8>| {
            std::ffi::CString::new(bytes).map_err(|_| SpawnError::Io {
                what: "pass an argument with a NUL byte to execve",
                source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
            })
        };
        let exe =
            std::env::current_exe().map_err(|source| SpawnError::Io {
                what: "find this program's executable",
                source,
            })?;
        let args = std::env::args_os()
            .filter(|arg| arg != "--exec-from-thread")
            .map(|arg| cstring(arg.into_vec()))
            .collect::<Result<_, _>>()?;
        Ok(Reexec {
            program: cstring(exe.into_os_string().into_vec())?,
            args,
        })
    }

    /// Replace the whole process with the program: the kernel first
    /// ends every other thread and gives this one the thread-group id
    /// (`de_thread()` in fs/exec.c).
    fn exec(&self) {
        let _ = nix::unistd::execv(&self.program, &self.args);
    }
}

fn stop_signal_set() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGHUP);
    set
}

fn io_error(what: &'static str, errno: nix::Error) -> SpawnError {
    SpawnError::Io {
        what,
        source: std::io::Error::from(errno),
    }
}

/// The parked threads and what it takes to release them.
struct Group {
    threads: Vec<ThreadInfo>,
    handles: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

impl Group {
    /// Spawn the threads and return once every one of them has reported
    /// its TID. A thread reports only after it has done its work, and
    /// then parks until `stop`, so the reports act as the barrier: once
    /// all are in, every reported TID belongs to a live, parked thread.
    fn spawn(
        options: &Options,
        mut exec: Option<(Reexec, mpsc::Receiver<()>)>,
    ) -> Result<Group, SpawnError> {
        let total = options.threads;
        let stop = Arc::new(AtomicBool::new(false));
        let (sender, receiver) = mpsc::channel();
        let mut handles = Vec::with_capacity(total as usize);
        for index in 1..=total {
            let name = options.name.as_ref().map(|p| thread_name(p, index));
            let busy = if index == 1 { options.busy_ms } else { 0 };
            let work = ThreadWork {
                index,
                busy_ms: busy,
                report: sender.clone(),
                stop: Arc::clone(&stop),
                exec: if index == 1 { exec.take() } else { None },
            };
            let mut builder = thread::Builder::new().stack_size(STACK_BYTES);
            if let Some(name) = name {
                builder = builder.name(name);
            }
            match builder.spawn(move || work.run()) {
                Ok(handle) => handles.push(handle),
                Err(source) => {
                    // Release the threads created so far before saying
                    // why: no thread of ours outlives the error.
                    let limits = limits::describe(&limits::current());
                    Group {
                        threads: Vec::new(),
                        handles,
                        stop,
                    }
                    .stop();
                    return Err(SpawnError::Create {
                        index,
                        total,
                        source,
                        limits,
                    });
                }
            }
        }
        drop(sender);
        // Ends when every thread has reported and dropped its sender.
        let mut reports: Vec<Report> = receiver.iter().collect();
        reports.sort_by_key(|report| report.index);
        let threads = reports.into_iter().map(|report| report.info).collect();
        Ok(Group {
            threads,
            handles,
            stop,
        })
    }

    /// Release and join every thread.
    fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        for handle in &self.handles {
            handle.thread().unpark();
        }
        for handle in self.handles {
            let _ = handle.join();
        }
    }
}

/// A spawned thread's report of itself, sent to the main thread.
struct Report {
    /// The thread's place in spawn order, from 1.
    index: u32,
    info: ThreadInfo,
}

/// What one spawned thread does, moved into it.
struct ThreadWork {
    index: u32,
    busy_ms: u64,
    report: mpsc::Sender<Report>,
    stop: Arc<AtomicBool>,
    /// What to exec once the main thread says go (`--exec-from-thread`).
    exec: Option<(Reexec, mpsc::Receiver<()>)>,
}

impl ThreadWork {
    fn run(self) {
        // ANCHOR: thread_tid
        // The kernel's id for this thread: not the process id.
        let tid = gettid();
        // ANCHOR_END: thread_tid
        burn_cpu(Duration::from_millis(self.busy_ms));
        let name = thread::current().name().map(str::to_string);
        let info = ThreadInfo {
            tid: tid.as_raw(),
            name,
            busy_ms: self.busy_ms,
        };
        let _ = self.report.send(Report {
            index: self.index,
            info,
        });
        drop(self.report);
        if let Some((exec, go)) = &self.exec {
            if go.recv().is_ok() {
                exec.exec();
            }
        }
        // `park` may wake spuriously: the flag is what says stop.
        while !self.stop.load(Ordering::SeqCst) {
            thread::park();
        }
    }
}

/// `PREFIX-<index>`, cut to the 15 bytes that `comm` holds so that what
/// we report is what `/proc/<TID>/comm` shows.
fn thread_name(prefix: &str, index: u32) -> String {
    let mut name = format!("{prefix}-{index}");
    while name.len() > 15 {
        name.pop();
    }
    name
}

/// Spin until this thread has used `budget` of CPU time. Its own CPU
/// clock, not the wall clock, so a loaded machine still gets the full
/// amount into `/proc/<TGID>/task/<TID>/stat`.
fn burn_cpu(budget: Duration) {
    if budget.is_zero() {
        return;
    }
    let used = || {
        clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
            .map(Duration::from)
            .unwrap_or(budget)
    };
    let start = used();
    while used().saturating_sub(start) < budget {
        std::hint::spin_loop();
    }
}

/// Spawn `count` threads that report their TID and end at once, and join
/// them, so that their TIDs are of threads that have exited.
fn spawn_exiting_threads(
    count: u32,
    threads: u32,
) -> Result<Vec<i32>, SpawnError> {
    let mut tids = Vec::with_capacity(count as usize);
    for index in 1..=count {
        let handle = thread::Builder::new()
            .stack_size(STACK_BYTES)
            .spawn(|| gettid().as_raw())
            .map_err(|source| SpawnError::Create {
                index,
                total: count + threads,
                source,
                limits: limits::describe(&limits::current()),
            })?;
        // A join cannot fail here: the closure does not panic.
        tids.push(handle.join().unwrap_or(0));
    }
    Ok(tids)
}

/// Print the ready output: the article's lines, or one JSON line.
fn print_ready(ready: &Ready, json: bool) -> Result<(), SpawnError> {
    let mut out = std::io::stdout().lock();
    let written = if json {
        // Serialising plain integers and strings cannot fail.
        let line = serde_json::to_string(ready).unwrap_or_default();
        writeln!(out, "{line}")
    } else {
        let tids: Vec<i32> = ready.threads.iter().map(|t| t.tid).collect();
        article_lines(ready.pid, &tids)
            .iter()
            .try_for_each(|line| writeln!(out, "{line}"))
    };
    written
        .and_then(|()| out.flush())
        .map_err(SpawnError::Write)
}

/// The lines the article's program prints, in a fixed order, for
/// process `pid` and its threads `tids`: the workshop shows the same
/// lines for the demo it starts.
pub fn article_lines(pid: i32, tids: &[i32]) -> Vec<String> {
    // ANCHOR: article_lines
    let mut lines = vec![format!("My TID: {pid}")];
    for tid in tids {
        lines.push(format!("My thread's TID: {tid}"));
    }
    // ANCHOR_END: article_lines
    lines
}

/// Wait for SIGINT, SIGTERM or SIGHUP, for a key that stops us (with
/// `keys`: `q`, Ctrl-C, Ctrl-D), or until `limit` has passed.
fn wait_for_stop(
    signals: &SignalFd,
    mut keys: Option<&mut terminal::Keys>,
    limit: Option<Duration>,
) -> nix::Result<()> {
    let deadline = limit.map(|limit| std::time::Instant::now() + limit);
    loop {
        let timeout = match deadline {
            None => PollTimeout::NONE,
            // poll(2) takes at most i32::MAX ms (24 days): cap longer.
            Some(deadline) => {
                let left = deadline
                    .saturating_duration_since(std::time::Instant::now());
                PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX)
            }
        };
        let mut fds = vec![PollFd::new(
            std::os::fd::AsFd::as_fd(signals),
            PollFlags::POLLIN,
        )];
        if let Some(keys) = &keys {
            fds.push(PollFd::new(keys.fd(), PollFlags::POLLIN));
        }
        let ready = match poll(&mut fds, timeout) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(errno) => return Err(errno),
            Ok(0) => return Ok(()), // `limit` has passed.
            Ok(_) => fds.iter().map(|fd| fd.any().unwrap_or(false)),
        };
        let ready: Vec<bool> = ready.collect();
        if ready[0] {
            return Ok(()); // A stop signal.
        }
        let key = keys.as_mut().map(|keys| keys.read());
        match key {
            Some(Ok(terminal::Key::Stop | terminal::Key::End)) => {
                return Ok(());
            }
            Some(Err(_)) => keys = None, // Gone: signals still stop us.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_names_fit_in_comm() {
        assert_eq!(thread_name("worker", 12), "worker-12");
        assert_eq!(thread_name("a-very-long-prefix", 1), "a-very-long-pre");
    }

    #[test]
    fn article_lines_put_the_main_thread_first() {
        assert_eq!(
            article_lines(10, &[11, 12]),
            ["My TID: 10", "My thread's TID: 11", "My thread's TID: 12"]
        );
    }
}
