//! What execve(2) from a thread does to the ids: the thread becomes the
//! leader, under the leader's id.
//! Book: "Beyond the article".

use std::time::{Duration, Instant};

use crate::children::short_lived_with;
use crate::claims::{Claim, Context, Proof, fail, id_list, skip};

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "When a thread that is not the leader calls execve, the \
                process keeps its TGID, now the id of the exec'ing thread, \
                and that thread's old TID no longer resolves.",
    kernel: "de_thread() (fs/exec.c) -> exchange_tids() (kernel/pid.c), \
             then release_task() of the old leader",
    opt_in: None,
    since: None,
    check,
};

/// How long the released ids may take to leave `/proc`.
const RELEASE_GRACE: Duration = Duration::from_secs(1);

/// execve(2) keeps one thread: `de_thread()` (fs/exec.c) kills the
/// others and, when the caller is not the leader, waits for the old
/// leader to become a zombie, then swaps the two tasks' pids with
/// `exchange_tids()` (kernel/pid.c) and moves the group's ids to the
/// caller with `transfer_pid()`. The caller goes on under the old
/// leader's pid, the TGID, as the new leader; the old leader, now
/// holding the caller's old pid, is released (`release_task()`), so the
/// caller's old TID names nothing. The demo's first thread execs the
/// demo again (`--exec-from-thread`), which then prints its ids.
fn check(cx: &Context<'_>) -> Proof {
    let mut demo = short_lived_with(cx.launcher(), 2, &["--exec-from-thread"])
        .or_else(|why| skip(format!("could not start the demo: {why}")))?;
    let before = demo.ready.clone();
    let after = demo
        .next_ready()
        .or_else(|why| fail("the exec'd program's ready line", why))?;
    let pid = before.pid;
    let old: Vec<i32> = before.threads.iter().map(|t| t.tid).collect();
    let exec = old[0];
    if after.pid != pid {
        return fail(
            format!("the program thread {exec} exec'd to run as {pid}"),
            format!("it runs as {}", after.pid),
        );
    }
    let ids = cx.proc.status(&format!("{pid}/status"))?;
    if ids.pid != pid || ids.tgid != pid {
        return fail(
            format!(
                "{}: Pid: {pid}, Tgid: {pid}",
                cx.proc_path(&format!("{pid}/status"))
            ),
            format!("Pid: {}, Tgid: {}", ids.pid, ids.tgid),
        );
    }
    // The old threads' ids, the exec'ing one's included, are gone.
    let start = Instant::now();
    let mut resolving: Vec<i32> = old.clone();
    while !resolving.is_empty() && start.elapsed() < RELEASE_GRACE {
        resolving.retain(|tid| cx.proc.is_dir(&tid.to_string()).is_ok());
        std::thread::sleep(Duration::from_millis(5));
    }
    let reused: Vec<i32> = after.threads.iter().map(|t| t.tid).collect();
    resolving.retain(|tid| !reused.contains(tid));
    // An old TID that resolves as a task of another process went to a
    // new task since (pid numbers wrap around at pid_max): it is not
    // the old thread.
    resolving.retain(|tid| {
        let status = cx.proc.status(&format!("{tid}/status"));
        status.map_or(true, |ids| ids.tgid == pid)
    });
    if !resolving.is_empty() {
        return fail(
            format!(
                "/proc/<TID> of the old threads {} to give ENOENT",
                id_list(&old)
            ),
            format!(
                "{} still resolve {} ms after the exec",
                id_list(&resolving),
                RELEASE_GRACE.as_millis()
            ),
        );
    }
    Ok(format!(
        "thread {exec} of {pid} exec'd; the new program runs as {pid} \
         (status: Pid: {pid}, Tgid: {pid}), its threads are {}, and the \
         old TIDs {} give ENOENT",
        id_list(&reused),
        id_list(&old)
    ))
}
