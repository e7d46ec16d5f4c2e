//! What `/proc/<TID>/status` says: the thread's own ids.
//! Book: "Beyond the article".

use crate::claims::{Claim, Context, Proof, fail, id_list};

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "/proc/<TID>/status is that thread's view: Pid: is the \
                TID, Tgid: the leader.",
    kernel: "task_state() (fs/proc/array.c)",
    opt_in: None,
    since: None,
    check,
};

/// `proc_pid_status()` (fs/proc/array.c) calls `task_state()` for the
/// task the directory was built for, which prints `Tgid:` as
/// `task_tgid_nr_ns()` and `Pid:` as `pid_nr_ns()` of that task: the
/// thread's own id, and its leader's.
fn check(cx: &Context<'_>) -> Proof {
    let pid = cx.target.pid;
    let threads = cx.each_thread(cx.target.tids(), |tid| {
        let ids = cx.status_ids(tid)?;
        if ids.pid != tid || ids.tgid != pid {
            let path = cx.proc_path(&format!("{tid}/status"));
            return fail(
                format!("{path}: Pid: {tid}, Tgid: {pid}"),
                format!("Pid: {}, Tgid: {}", ids.pid, ids.tgid),
            );
        }
        Ok(())
    })?;
    let tids = threads.tids();
    Ok(format!(
        "for each of {} ({}), status says Pid: <TID> and Tgid: {pid}{}",
        crate::claims::how_many(tids.len(), "TID"),
        id_list(&tids),
        threads.exited_note()
    ))
}
