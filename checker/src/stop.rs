//! Ctrl-C, `kill` or a closed terminal in the middle of a run: every
//! child we started is killed and reaped, a tracing instance is
//! removed, the terminal is put back, and then the process ends the way
//! the signal says (a shell shows 130 for Ctrl-C).
//!
//! Without this the kernel would still kill our children when we die
//! (they ask for `PR_SET_PDEATHSIG`, see [`crate::children`]), but they
//! would wait as zombies for init to reap them, and in a container
//! whose first process does not reap, `ps` would list them `<defunct>`
//! for good. A child that a terminal's Ctrl-C reached too (it is in the
//! same foreground job) is a zombie of ours already; reaping it here is
//! what makes it go.
//!
//! A child of a child needs one more step. Ctrl-C at a terminal reaches
//! the whole foreground job, so the pid-namespace probe dies of it at
//! once, and the first process of its namespace, which dies with it,
//! would be left a zombie of init's. So [`install`] also makes us a
//! child subreaper (`PR_SET_CHILD_SUBREAPER`): orphans of our children
//! become ours, and the handler reaps them too.
//!
//! The programs install the handler ([`install`]) in `main`; library
//! users (the tests) do not, and their children are still covered by
//! the death signal and by their own `Drop`.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

/// The signals that end a run: Ctrl-C, `kill`, a closed terminal.
const SIGNALS: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// Room for the children alive at once: the target, a short-lived
/// process or probe of the claim that runs, a command of the workshop.
/// A child that finds no slot is still killed by its death signal.
const SLOTS: usize = 32;

/// The pids of live children; 0 marks a free slot.
static CHILDREN: [AtomicI32; SLOTS] = [const { AtomicI32::new(0) }; SLOTS];

/// Note a child we started, for the handler to kill and reap.
pub fn adopt(pid: u32) {
    let Ok(pid) = i32::try_from(pid) else { return };
    for slot in &CHILDREN {
        let free =
            slot.compare_exchange(0, pid, Ordering::SeqCst, Ordering::SeqCst);
        if free.is_ok() {
            return;
        }
    }
}

/// Forget a child we have reaped ourselves.
pub fn release(pid: u32) {
    let Ok(pid) = i32::try_from(pid) else { return };
    for slot in &CHILDREN {
        let _ =
            slot.compare_exchange(pid, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// Install the handler for each signal that still has its default
/// action, and become a child subreaper. A signal ignored at startup
/// stays ignored (`nohup`, a background job), as the shell's
/// convention asks.
pub fn install() {
    // Without it a grandchild may be left a zombie (see above): worth
    // nothing to fail for.
    let _ = nix::sys::prctl::set_child_subreaper(true);
    // SA_RESETHAND: the handler runs once, then the default action is
    // back for the re-raise.
    let ours = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESETHAND,
        SigSet::empty(),
    );
    for sig in SIGNALS {
        // SAFETY: `on_signal` only makes async-signal-safe calls.
        let Ok(old) = (unsafe { signal::sigaction(sig, &ours) }) else {
            continue;
        };
        if !matches!(old.handler(), SigHandler::SigDfl) {
            // SAFETY: puts back exactly what was there.
            let _ = unsafe { signal::sigaction(sig, &old) };
        }
    }
}

/// Whether a progress line stands on the terminal's stderr (`checker
/// audit`): the handler erases it, so that the shell's prompt does not
/// land after it.
static PROGRESS: AtomicBool = AtomicBool::new(false);

/// Say that a progress line is shown on stderr, or is gone.
pub fn progress_shown(shown: bool) {
    PROGRESS.store(shown, Ordering::SeqCst);
}

/// How long the handler reaps children it did not start itself (the
/// orphans of its children, dying of their death signal): at most
/// `REAP_ROUNDS` rounds of `REAP_PAUSE`.
const REAP_ROUNDS: u32 = 200;
const REAP_PAUSE: std::time::Duration = std::time::Duration::from_millis(5);

/// The handler. Only async-signal-safe calls: `rmdir` and `umount2`
/// for the tracing instance, `kill`, `waitpid`, `nanosleep`, `write`,
/// `getpid` and `tcsetattr` (plain system calls and an ioctl), then
/// `raise`, or `_exit` as a pid namespace's init.
extern "C" fn on_signal(sig: libc::c_int) {
    crate::trace::remove_after_signal();
    for slot in &CHILDREN {
        let pid = slot.swap(0, Ordering::SeqCst);
        if pid > 0 {
            let pid = Pid::from_raw(pid);
            let _ = signal::kill(pid, Signal::SIGKILL);
            let _ = waitpid(pid, None);
        }
    }
    // Every child left is dying now, of its death signal: reap them
    // until there is none (ECHILD), for a second at most.
    for _ in 0..REAP_ROUNDS {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => std::thread::sleep(REAP_PAUSE),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    if PROGRESS.load(Ordering::SeqCst) {
        let erase = b"\r\x1b[K";
        // SAFETY: write(2) of a static buffer is async-signal-safe.
        let _ = unsafe { libc::write(2, erase.as_ptr().cast(), erase.len()) };
    }
    terminal::restore_after_signal();
    // The init of a pid namespace (`unshare --pid --fork checker ...`)
    // would survive the signal raised below: the kernel drops a signal
    // whose action is the default for a SIGNAL_UNKILLABLE task
    // (sig_task_ignored(), kernel/signal.c:94-96 in Linux 7.3.4). It
    // exits as a shell reports a death by signal instead.
    if nix::unistd::getpid().as_raw() == 1 {
        // SAFETY: _exit(2) is async-signal-safe.
        unsafe { libc::_exit(128 + sig) };
    }
    // SA_RESETHAND restored the default action; the signal is blocked
    // until we return, then it ends the process.
    // SAFETY: raise(3) is async-signal-safe.
    unsafe { libc::raise(sig) };
}
