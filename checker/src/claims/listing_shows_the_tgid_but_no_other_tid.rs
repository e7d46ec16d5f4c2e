//! The article's observation, as a claim: `ls /proc` shows a process
//! but none of its other threads.
//! Book: "The listing path".

use crate::claims::{Claim, Context, Proof, fail, how_many, id_list, skip};

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "Listing /proc shows the target's thread-group id and none \
                of its other thread ids.",
    kernel: "next_tgid() (fs/proc/base.c) keeps only pids with a \
             PIDTYPE_TGID task",
    opt_in: None,
    since: None,
    check,
};

/// `proc_pid_readdir()` (fs/proc/base.c) walks the pid namespace with
/// `next_tgid()`, which takes each allocated pid in turn (`find_ge_pid()`)
/// and keeps it only if `pid_task(pid, PIDTYPE_TGID)` finds a task. Only
/// a thread-group leader is attached to its pid as `PIDTYPE_TGID`
/// (`copy_process()` in kernel/fork.c), so every other thread's pid is
/// stepped over. proc_pid_task(5) says the same of `/proc/tid`: "not
/// visible when iterating through /proc with getdents(2)".
// ANCHOR: proof
fn check(cx: &Context<'_>) -> Proof {
    let pid = cx.target.pid;
    // The ids the kernel gave the target's other threads: what `ls
    // /proc` would have to show if it listed threads.
    let tids = &cx.target.threads;
    if tids.is_empty() {
        return skip(format!(
            "process {pid} has a single thread: there is no other thread \
             id to look for; pick a multi-threaded process"
        ));
    }
    // What `ls /proc` reads: the root directory's entries, from
    // getdents64, as numbers.
    let listed = cx.listed_pids()?;
    let root = cx.proc.root().display();
    // The leader's id is the process's: it must be there, or the
    // listing proves nothing about the others.
    if !listed.contains(&pid) {
        return fail(
            format!("{pid} among the pid entries of {root}"),
            format!("{pid} missing from {} pid entries", listed.len()),
        );
    }
    // A listed TID breaks the claim, unless its thread has exited and
    // the number went to a new process since (`Context::gone`).
    let shown: Vec<i32> = (tids.iter().copied())
        .filter(|&tid| listed.contains(&tid) && !cx.gone(tid))
        .collect();
    if !shown.is_empty() {
        return fail(
            format!("none of the thread ids {} listed", id_list(tids)),
            format!("{} listed in {root} alongside {pid}", id_list(&shown)),
        );
    }
    Ok(format!(
        "{pid} listed among {} pid entries; none of its {} ({}) is listed",
        listed.len(),
        how_many(tids.len(), "other thread id"),
        id_list(tids)
    ))
}
// ANCHOR_END: proof
