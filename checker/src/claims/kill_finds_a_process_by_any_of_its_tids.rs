//! Signals look ids up the way a path lookup does: any thread's id names
//! its process.

use nix::errno::Errno;

use crate::claims::{Chapter, Claim, Context, Proof, fail};

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "kill(<TID>, 0) succeeds for a thread that is not the \
                leader, as a lookup of /proc/<TID> does, while \
                tgkill(<another TGID>, <TID>, 0) fails with ESRCH.",
    kernel: "kill_pid_info_type() and do_send_specific() (kernel/signal.c)",
    chapter: Chapter::Beyond,
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
    // A process of our own: any reader may signal it and open it.
    let (_demo, pid, tid) = cx.own_demo()?;
    if let Err(errno) = cx.sys.kill0(tid) {
        return fail(format!("kill({tid}, 0) to succeed"), format!("{errno}"));
    }
    // The checker's own tgid: a thread group that thread is not in.
    let other = std::process::id() as i32;
    match (cx.sys.tgkill0(other, tid), cx.sys.tgkill0(pid, tid)) {
        (Err(Errno::ESRCH), Ok(())) => Ok(format!(
            "kill({tid}, 0) succeeds for thread {tid} of {pid}; \
             tgkill({pid}, {tid}, 0) succeeds and tgkill({other}, {tid}, 0) \
             fails with ESRCH"
        )),
        (wrong, right) => fail(
            format!(
                "tgkill({other}, {tid}, 0): ESRCH, and tgkill({pid}, {tid}, \
                 0) to succeed"
            ),
            format!("{}; {}", said(wrong), said(right)),
        ),
    }
}

fn said(result: Result<(), Errno>) -> String {
    match result {
        Ok(()) => "it succeeded".to_string(),
        Err(errno) => format!("it failed with {errno}"),
    }
}
