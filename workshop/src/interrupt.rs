//! Ctrl-C while the walk waits for Enter: end the demo program and reap
//! it, then die of the signal as if we had not caught it (plumbing for
//! "The workshop", section "Stopping it").
//!
//! Without this, SIGINT's default action would still end everything:
//! the kernel kills the demo program when we die (`PR_SET_PDEATHSIG`).
//! But the dead demo would then wait as a zombie for init to reap it,
//! and in a container whose first process does not reap, `ps` would
//! list it `<defunct>` for good. Waiting for Enter is where a person
//! presses Ctrl-C, so that is where we catch it; during a step (a few
//! milliseconds) the default action and the death signal do the job,
//! and a tracing session's own handler can take its turn.

use std::ffi::c_int;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

/// The signals that end a waiting walk: Ctrl-C, `kill`, a closed
/// terminal.
const SIGNALS: [Signal; 3] = [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP];

/// The demo program's pid, for the handler; 0 when there is none.
static DEMO: AtomicI32 = AtomicI32::new(0);

/// Run `wait` (a blocking read of stdin) with the handlers installed
/// for the signals that still have their default action.
pub(crate) fn while_waiting<R>(demo: Pid, wait: impl FnOnce() -> R) -> R {
    DEMO.store(demo.as_raw(), Ordering::SeqCst);
    // SA_RESETHAND: the handler runs once, then the default action is
    // back for the re-raise.
    let ours = SigAction::new(
        SigHandler::Handler(end_demo_and_die),
        SaFlags::SA_RESETHAND,
        SigSet::empty(),
    );
    let mut replaced = Vec::new();
    for sig in SIGNALS {
        // SAFETY: the handler makes only async-signal-safe calls.
        let Ok(old) = (unsafe { signal::sigaction(sig, &ours) }) else {
            continue;
        };
        if matches!(old.handler(), SigHandler::SigDfl) {
            replaced.push((sig, old));
        } else {
            // Ignored (`nohup`) or someone else's: leave it so.
            // SAFETY: puts back exactly what was there.
            let _ = unsafe { signal::sigaction(sig, &old) };
        }
    }
    let result = wait();
    for (sig, old) in replaced {
        // SAFETY: puts back the default action that was there.
        let _ = unsafe { signal::sigaction(sig, &old) };
    }
    DEMO.store(0, Ordering::SeqCst);
    result
}

/// Kill the demo program and reap it, then re-raise: we end the way
/// the signal says, and a shell sees status 128 + the signal (130).
///
/// Only async-signal-safe calls: `kill`, `waitpid` and `raise` are
/// plain system calls.
extern "C" fn end_demo_and_die(sig: c_int) {
    let demo = DEMO.swap(0, Ordering::SeqCst);
    if demo > 0 {
        let demo = Pid::from_raw(demo);
        let _ = signal::kill(demo, Signal::SIGKILL);
        let _ = waitpid(demo, None);
    }
    if let Ok(sig) = Signal::try_from(sig) {
        let _ = signal::raise(sig);
    }
}
