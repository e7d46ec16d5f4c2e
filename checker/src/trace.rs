//! Kernel-path evidence: the kernel's own call stacks behind an
//! operation of the checker, recorded with tracefs's function tracer
//! (the book's "Tracing the kernel" chapter).
//!
//! The article showed, with bpftrace, which kernel functions run when
//! `ls /proc` lists pids and when `/proc/<TID>` is opened. Here the
//! checker records the same thing itself, with nothing installed:
//!
//! ```text
//! instances/proc-threads-checker-<pid>/   a private tracing instance
//!   set_ftrace_filter   proc_pid_lookup   only these functions...
//!   set_ftrace_pid      <our thread id>   ...called by our thread
//!   current_tracer      function
//!   options/func_stack_trace  1           with the stack of each call
//! ```
//!
//! A private instance has its own buffer, filter and tracer, so the
//! system's own tracing (the top-level files) is never touched, and two
//! tracers do not see each other's settings.
//!
//! Why the function tracer and not kprobes or bpftrace: it needs only
//! tracefs, which every kernel of the matrix has built in, and it
//! prints symbol names itself. bpftrace would need an install, BTF and
//! working kprobes.
//!
//! Alternatives rejected: tracing the whole process with
//! `set_ftrace_pid` = the pid plus `options/function-fork` would also
//! record the checker's other threads; the kernel matches
//! `set_ftrace_pid` against the *thread* id (`task->pid`, in
//! `trace_ignore_this_task`, kernel/trace/trace.c), so we write the id
//! of the thread that calls [`Session::record`], and nothing else runs
//! the traced functions on our behalf.

mod cleanup;
pub(crate) use cleanup::remove_after_signal;
mod parse;
mod tracefs;

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use nix::unistd::{Pid, gettid};

pub use parse::{
    Stack, contains_in_order, entered_in_order, parse_trace, redacted,
};

use tracefs::ELSEWHERE;

/// Why tracing cannot be used here, said so that a user can fix it
/// (not root, lockdown in confidentiality mode, tracefs missing, a
/// function not traceable, a refusal from elsewhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    /// One lowercase sentence: what failed, with the path and error,
    /// or, for a refusal, the likely cause; then what to do about it.
    pub reason: String,
    /// For a refusal whose cause the checker could not see for sure:
    /// everything it observed (the full path and error, who it runs
    /// as, lockdown, the security modules, the tracers), for whoever
    /// asks (`just trace` prints it once).
    pub details: Option<String>,
}

impl Unavailable {
    fn new(reason: String) -> Unavailable {
        Unavailable {
            reason,
            details: None,
        }
    }
}

/// Why kernel tracing of `functions` cannot be used here, found by
/// trying: `None` when a session starts (and is removed again).
pub fn unavailable(functions: &[&str]) -> Option<Unavailable> {
    Session::start(functions).err()
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Unavailable {}

/// A private tracefs instance that records the kernel stack of every
/// call of a few functions made by one thread of this process.
///
/// Removed on drop and on panic (by unwinding), and on SIGINT, SIGTERM
/// and SIGHUP by the handler of [`crate::stop`] in the programs that
/// install it; an instance left by SIGKILL is removed by the next
/// [`Session::start`]. One session per process at a time.
#[derive(Debug)]
pub struct Session {
    /// `<tracefs>/instances/proc-threads-checker-<pid>`.
    dir: PathBuf,
    /// The tracefs mount point, if we mounted it (unmounted on drop).
    mounted: Option<PathBuf>,
    /// The thread that `set_ftrace_pid` names.
    tid: Pid,
    /// Last field: dropped after `drop` removed the instance.
    _guard: cleanup::Guard,
}

impl Session {
    /// Sets up an instance tracing `functions` for the calling thread.
    ///
    /// Fails, with the reason, when tracing is impossible here: not
    /// root, tracefs not mountable, a refusal, a function that this
    /// kernel cannot trace (inlined, or `notrace`).
    pub fn start(functions: &[&str]) -> Result<Session, Unavailable> {
        let fs = tracefs::locate()?;
        cleanup::remove_stale(&fs.dir);
        let name = format!("{}{}", cleanup::PREFIX, std::process::id());
        let dir = fs.dir.join("instances").join(name);
        let mounted = fs.mounted_by_us.then(|| fs.dir.clone());
        let guard = match cleanup::Guard::register(&dir, mounted.as_deref()) {
            Ok(g) => g,
            Err(e) => {
                if let Some(m) = &mounted {
                    tracefs::unmount(m);
                }
                return Err(e);
            }
        };
        // From here on, dropping `session` undoes everything.
        let session = Session {
            dir,
            mounted,
            tid: gettid(),
            _guard: guard,
        };
        // Ours, left by an earlier session whose removal failed.
        let _ = std::fs::remove_dir(&session.dir);
        std::fs::create_dir(&session.dir).map_err(|e| {
            tracefs::explain("creating the instance", &session.dir, &e)
        })?;
        session.configure(functions)?;
        Ok(session)
    }

    /// The instance's directory, for messages and cleanup tests.
    pub fn instance(&self) -> &Path {
        &self.dir
    }

    /// Runs `op`, then returns the stacks recorded while it ran.
    ///
    /// The buffer is cleared before, and the calling thread becomes the
    /// traced one. Each stack's first frame is the traced function.
    pub fn record<R>(
        &mut self,
        op: impl FnOnce() -> R,
    ) -> Result<(R, Vec<Stack>), Unavailable> {
        let tid = gettid();
        if tid != self.tid {
            self.write("set_ftrace_pid", &tid.to_string())?;
            self.tid = tid;
        }
        // Opening `trace` for writing with O_TRUNC empties the buffer.
        self.write("trace", "")?;
        self.write("tracing_on", "1")?;
        let result = op();
        self.write("tracing_on", "0")?;
        let path = self.dir.join("trace");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| tracefs::explain("reading", &path, &e))?;
        Ok((result, parse_trace(&text)))
    }

    /// Configures the fresh instance, in the order the kernel's
    /// documentation asks: filter before tracer, so that the function
    /// tracer never hooks every function of the kernel, and the stack
    /// option last, since it appears only with the function tracer on
    /// some kernels. Recording stays off until [`Session::record`].
    fn configure(&self, functions: &[&str]) -> Result<(), Unavailable> {
        self.write("tracing_on", "0")?;
        self.write("set_ftrace_pid", &self.tid.to_string())?;
        self.filter(functions)?;
        self.write("current_tracer", "function")
            .map_err(|e| self.no_function_tracer(e))?;
        self.write("options/func_stack_trace", "1")?;
        Ok(())
    }

    /// Writes each name to `set_ftrace_filter` with its own `write`:
    /// the kernel takes one name per write, and a name it cannot trace
    /// fails that write with EINVAL, which tells us which one.
    fn filter(&self, functions: &[&str]) -> Result<(), Unavailable> {
        let path = self.dir.join("set_ftrace_filter");
        let mut file = self.open(&path)?;
        for &function in functions {
            let line = format!("{function}\n");
            match file.write_all(line.as_bytes()) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                    return Err(Unavailable::new(format!(
                        "function {function} is not traceable on this \
                         kernel (not in available_filter_functions: \
                         inlined, or marked notrace); {ELSEWHERE}"
                    )));
                }
                Err(e) => {
                    let what = format!("writing `{function}` to");
                    return Err(tracefs::explain(&what, &path, &e));
                }
            }
        }
        Ok(())
    }

    /// `current_tracer` refused `function`: say which tracers there are.
    fn no_function_tracer(&self, e: Unavailable) -> Unavailable {
        let path = self.dir.join("available_tracers");
        match std::fs::read_to_string(&path) {
            Ok(list) if !list.split_whitespace().any(|t| t == "function") => {
                Unavailable::new(format!(
                    "this kernel has no function tracer (available_tracers: \
                     {}; it needs CONFIG_FUNCTION_TRACER); {ELSEWHERE}",
                    list.trim()
                ))
            }
            _ => e,
        }
    }

    /// Writes `value` to the instance's file `name` (whole, truncating).
    fn write(&self, name: &str, value: &str) -> Result<(), Unavailable> {
        let path = self.dir.join(name);
        let mut file = self.open(&path)?;
        file.write_all(value.as_bytes()).map_err(|e| {
            tracefs::explain(&format!("writing `{value}` to"), &path, &e)
        })
    }

    /// Opens an instance file for writing with O_TRUNC, which resets
    /// the files where that means something (`trace`, the filters).
    fn open(&self, path: &Path) -> Result<std::fs::File, Unavailable> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(path);
        file.map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => Unavailable::new(format!(
                "{} does not exist: this kernel lacks per-instance \
                 function tracing; {ELSEWHERE}",
                path.display()
            )),
            _ => tracefs::explain("opening", path, &e),
        })
    }
}

impl Drop for Session {
    /// Removes the instance. `rmdir` also stops its tracer and frees
    /// its buffer; turning tracing off first only stops recording
    /// sooner. EBUSY means a file of the instance is still open (a
    /// reader elsewhere); a few retries cover a reader closing.
    fn drop(&mut self) {
        let _ = self.write("tracing_on", "0");
        let mut result = std::fs::remove_dir(&self.dir);
        for _ in 0..10 {
            match &result {
                Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    result = std::fs::remove_dir(&self.dir);
                }
                _ => break,
            }
        }
        match result {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => eprintln!(
                "checker: cannot remove tracefs instance {}: {e}; the \
                 next traced run removes it, or `rmdir` it",
                self.dir.display()
            ),
        }
        if let Some(m) = &self.mounted {
            tracefs::unmount(m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Test that starting a session either works or says why not, on
    /// whatever host runs the tests (this project's development host
    /// refuses tracing to root), and that a working session sees `ls
    /// /proc` pass through `proc_root_readdir`.
    #[test]
    fn start_traces_or_gives_a_reason() {
        let functions = ["proc_root_readdir"];
        let mut session = match Session::start(&functions) {
            Ok(s) => s,
            Err(e) => {
                assert!(!e.reason.is_empty());
                eprintln!("skip: {e}");
                return;
            }
        };
        let instance = session.instance().to_owned();
        let (count, stacks) = session
            .record(|| std::fs::read_dir("/proc").map(|d| d.count()))
            .expect("record");
        assert!(count.expect("read /proc") > 0);
        assert!(
            stacks.iter().any(|s| contains_in_order(
                s,
                &["proc_root_readdir", "iterate_dir"]
            )),
            "{stacks:?}"
        );
        drop(session);
        assert!(!instance.exists(), "{} left behind", instance.display());
    }
}
