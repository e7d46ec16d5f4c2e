//! What happens to a thread's directory when the thread is gone.
//! Book: "The lookup path".

use std::time::{Duration, Instant};

use crate::claims::{Claim, Context, Proof, fail, skip};

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "A thread that has exited no longer resolves: /proc/<TID> \
                gives ENOENT.",
    kernel: "release_task() (kernel/exit.c) -> __unhash_process() -> \
             detach_pid() (kernel/pid.c)",
    opt_in: None,
    since: None,
    check,
};

/// How long a thread that has been joined may take to leave `/proc`.
///
/// `pthread_join` returns when the kernel clears the thread's tid word
/// (`mm_release()` in kernel/fork.c), which happens before
/// `exit_notify()` (kernel/exit.c) releases the task; on a loaded
/// machine the gap can be visible.
const RELEASE_GRACE: Duration = Duration::from_secs(1);

/// An exiting thread that is not the leader reaps itself:
/// `exit_notify()` (kernel/exit.c) calls `release_task()`, whose
/// `__unhash_process()` detaches the task from its pid with
/// `detach_pid()` (kernel/pid.c). From then on `find_task_by_pid_ns()`
/// finds nothing and `proc_pid_lookup()` answers `-ENOENT`.
// ANCHOR: proof
fn check(cx: &Context<'_>) -> Proof {
    let Some(&tid) = cx.target.exited().first() else {
        return skip(
            "needs a thread known to have exited, which only a target the \
             checker starts has; run without --pid",
        );
    };
    let path = tid.to_string();
    let start = Instant::now();
    while start.elapsed() < RELEASE_GRACE {
        match cx.proc.is_dir(&path) {
            Err(err) if err.is_enoent() => {
                return Ok(format!(
                    "thread {tid} of {} was joined; {} gives ENOENT",
                    cx.target.pid,
                    cx.proc_path(&path)
                ));
            }
            Err(err) => {
                return fail(format!("{}: ENOENT", cx.proc_path(&path)), err);
            }
            Ok(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    // Still there: either the kernel kept it, or a new task got the id.
    let reused = (cx.proc.status(&format!("{tid}/status")))
        .is_ok_and(|ids| ids.tgid != cx.target.pid);
    if reused {
        return skip(format!(
            "TID {tid} was given to another task after its thread exited; \
             run again"
        ));
    }
    fail(
        format!("{}: ENOENT", cx.proc_path(&path)),
        format!(
            "it still resolves {} ms after thread {tid} was joined",
            RELEASE_GRACE.as_millis()
        ),
    )
}
// ANCHOR_END: proof
