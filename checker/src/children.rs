//! The processes the checker starts, and the guarantee that none
//! outlives it.
//!
//! Every child runs the checker's own executable: a hidden first
//! argument turns it into demo-spawner (the target, or a short-lived
//! process a claim needs) or into the pid-namespace probe
//! ([`crate::pidns`]). So `cargo run -p checker` needs nothing else
//! built, and the workshop, which calls [`dispatch`] too, gets the same
//! children from its own executable.
//!
//! No child outlives the checker, even under SIGKILL: each one asks the
//! kernel for `PR_SET_PDEATHSIG` before it runs anything, and the
//! checker kills and reaps each one when it is done with it (no zombie
//! is left for a pid 1 that may not reap), or, on Ctrl-C, in the
//! handler of [`crate::stop`].

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};

use demo_spawner::Ready;
use nix::sys::signal::Signal;

/// The hidden first argument that turns the executable into
/// demo-spawner.
pub const DEMO_SPAWNER_ARG: &str = "__demo-spawner";
/// The hidden first argument that turns it into the pid-namespace
/// probe.
pub const PIDNS_PROBE_ARG: &str = "__pid-namespace-probe";

/// Runs the child role that `args[1]` asks for, if it is a hidden
/// argument; `None` means "carry on as yourself". Call it first thing
/// in `main`.
pub fn dispatch(args: &[OsString]) -> Option<std::process::ExitCode> {
    let role = args.get(1)?;
    if role == DEMO_SPAWNER_ARG {
        let mut rest = vec![OsString::from("demo-spawner")];
        rest.extend(args[2..].iter().cloned());
        return Some(demo_spawner::main_with_args(rest));
    }
    if role == PIDNS_PROBE_ARG {
        return Some(crate::pidns::probe_main().into());
    }
    None
}

/// How the checker launches its children: an executable whose hidden
/// first argument ([`dispatch`]) makes it demo-spawner or the probe;
/// normally the running one, and the checker binary a test built.
#[derive(Debug, Clone)]
pub struct Launcher {
    exe: PathBuf,
}

impl Launcher {
    /// The running executable, which must call [`dispatch`].
    pub fn this_executable() -> Launcher {
        // current_exe() reads /proc/self/exe; with no procfs at /proc
        // (--proc names another mount) argv[0] is the next best name.
        let exe = std::env::current_exe()
            .ok()
            .or_else(|| {
                let arg0 = PathBuf::from(std::env::args_os().next()?);
                arg0.components().nth(1).is_some().then_some(arg0)
            })
            .unwrap_or_else(|| PathBuf::from("/proc/self/exe"));
        Launcher { exe }
    }

    /// Another executable whose `main` calls [`dispatch`].
    pub fn at(exe: impl Into<PathBuf>) -> Launcher {
        Launcher { exe: exe.into() }
    }

    /// A command running demo-spawner, ready for its options; it dies
    /// with the thread that spawns it.
    pub fn demo(&self) -> Command {
        self.child(DEMO_SPAWNER_ARG)
    }

    /// A command running the pid-namespace probe.
    pub(crate) fn probe(&self) -> Command {
        self.child(PIDNS_PROBE_ARG)
    }

    fn child(&self, role: &str) -> Command {
        let mut command = Command::new(&self.exe);
        command.arg(role);
        die_with_parent(&mut command);
        command
    }
}

/// Make the kernel kill the process `command` starts when its parent
/// dies, even by SIGKILL.
///
/// The signal follows the *thread* that forked, so children are started
/// from the checker's main thread, which lives as long as the checker.
fn die_with_parent(command: &mut Command) {
    let parent = nix::unistd::getpid();
    // SAFETY: between fork and exec the closure only makes the
    // async-signal-safe prctl(2) and getppid(2) system calls.
    unsafe {
        command.pre_exec(move || {
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

/// A running demo-spawner that has printed its ready line; killed and
/// reaped when dropped.
#[derive(Debug)]
pub struct Demo {
    child: Child,
    /// Where its ready lines come from.
    stdout: Option<BufReader<ChildStdout>>,
    /// Its ready line: pid and thread ids.
    pub ready: Ready,
}

impl Demo {
    /// Start `command` (a [`Launcher::demo`] with options; `--json` is
    /// added) and wait for its ready line: every thread alive and
    /// parked. The error is demo-spawner's own message.
    pub fn start(mut command: Command) -> Result<Demo, String> {
        command
            .arg("--json")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = spawn(&mut command, "")?;
        let mut stdout = child.stdout.take().map(BufReader::new);
        match read_ready_line(&mut child, stdout.as_mut()) {
            Ok(ready) => Ok(Demo {
                child,
                stdout,
                ready,
            }),
            Err(detail) => {
                end(&mut child);
                Err(detail)
            }
        }
    }

    /// The next ready line, as a program the demo exec'd prints it
    /// (`--exec-from-thread`).
    pub fn next_ready(&mut self) -> Result<Ready, String> {
        read_ready_line(&mut self.child, self.stdout.as_mut())
    }

    /// The demo's pid.
    pub fn pid(&self) -> i32 {
        self.ready.pid
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        end(&mut self.child);
    }
}

/// Start `command` (`what` it runs, for the error: `the probe `) and
/// put it on [`crate::stop`]'s list.
pub(crate) fn spawn(
    command: &mut Command,
    what: &str,
) -> Result<Child, String> {
    let child = command.spawn().map_err(|err| {
        let err = crate::procfs::describe(&err);
        format!("cannot start {what}{command:?}: {err}")
    })?;
    crate::stop::adopt(child.id());
    Ok(child)
}

/// Kill and reap `child`, and take it off [`crate::stop`]'s list.
pub fn end(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
    crate::stop::release(child.id());
}

/// A demo process started for one claim, with `threads` threads: a
/// process newer than the target, or a thread nothing has looked up.
/// `None` when it cannot start; the claim then skips.
pub fn short_lived(launcher: &Launcher, threads: u32) -> Option<Demo> {
    short_lived_with(launcher, threads, &[]).ok()
}

/// The same, with demo-spawner options `extra`; the error is its own.
pub fn short_lived_with(
    launcher: &Launcher,
    threads: u32,
    extra: &[&str],
) -> Result<Demo, String> {
    let mut command = launcher.demo();
    command
        .args(["--exit-after", "60"])
        .args(["--threads", &threads.to_string()])
        .args(extra);
    Demo::start(command)
}

/// Read demo-spawner's `--json` ready line, or say why there is none.
fn read_ready_line(
    child: &mut Child,
    stdout: Option<&mut BufReader<ChildStdout>>,
) -> Result<Ready, String> {
    let mut line = String::new();
    if let Some(stdout) = stdout {
        let _ = stdout.read_line(&mut line);
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
