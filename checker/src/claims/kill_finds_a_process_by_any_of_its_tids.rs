//! Signals look ids up the way a path lookup does: any thread's id names
//! its process.
//! Book: "Beyond the article".

use nix::errno::Errno;

use crate::claims::{Claim, Context, Proof, fail, skip, with_own_thread};

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "kill(<TID>, 0) succeeds for a thread that is not the \
                leader, as a lookup of /proc/<TID> does, while \
                tgkill(<another TGID>, <TID>, 0) fails with ESRCH.",
    kernel: "kill_pid_info_type() and do_send_specific() (kernel/signal.c)",
    opt_in: None,
    since: None,
    check,
};

/// kill(2) of a positive id goes to `kill_proc_info()` ->
/// `kill_pid_info()` -> `kill_pid_info_type()` (kernel/signal.c), which
/// finds the task with `pid_task(pid, PIDTYPE_PID)`, any thread, and
/// signals its whole group (`PIDTYPE_TGID`): so `kill -0 <TID>` says
/// "alive" for a thread, and `kill <TID>` signals its process, as a
/// pidfile check that took a TID for a process would. tgkill(2) goes to
/// `do_send_specific()`, which finds the thread the same way but
/// refuses it with `-ESRCH` unless `task_tgid_vnr(p) == tgid`. Signal 0
/// checks, and delivers nothing.
fn check(cx: &Context<'_>) -> Proof {
    // The checker's own process and a thread of its own, held alive:
    // signalling its own group needs no privilege
    // (`check_kill_permission()` lets `same_thread_group()` through),
    // so only the lookup can say no.
    let pid = std::process::id() as i32;
    // A thread group that thread is not in: the target's. Not pid 1,
    // which is the checker itself when it is a VM's /init.
    let other = cx.target.pid;
    if other == pid {
        return skip(
            "the target is the checker itself: it has no other thread \
             group to name; check another process",
        );
    }
    with_own_thread(|tid| {
        if let Err(errno) = cx.sys.kill0(tid) {
            return fail(
                format!("kill({tid}, 0) to succeed"),
                format!("{errno}"),
            );
        }
        // The thread's own group accepts it; any other is ESRCH, even
        // one that exists: do_send_specific() compares the tgid only.
        match (cx.sys.tgkill0(other, tid), cx.sys.tgkill0(pid, tid)) {
            (Err(Errno::ESRCH), Ok(())) => Ok(format!(
                "kill({tid}, 0) succeeds for thread {tid} of {pid}; \
                 tgkill({pid}, {tid}, 0) succeeds and tgkill({other}, \
                 {tid}, 0) fails with ESRCH"
            )),
            (wrong, right) => fail(
                format!(
                    "tgkill({other}, {tid}, 0): ESRCH, and tgkill({pid}, \
                     {tid}, 0) to succeed"
                ),
                format!("{}; {}", said(wrong), said(right)),
            ),
        }
    })
}

/// What a signal 0 call answered, for the evidence.
fn said(result: Result<(), Errno>) -> String {
    match result {
        Ok(()) => "it succeeded".to_string(),
        Err(errno) => format!("it failed with {errno}"),
    }
}
