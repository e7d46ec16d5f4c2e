//! The other half of the article's observation: every thread id opens
//! by name, listed or not.
//! Book: "The lookup path".

use crate::claims::{Claim, Context, Proof, fail, id_list};

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "Looking up /proc/<TID> works for every thread: the \
                directory stats, comm and status read.",
    kernel: "proc_pid_lookup() (fs/proc/base.c) -> find_task_by_pid_ns() \
             (kernel/pid.c)",
    opt_in: None,
    since: None,
    check,
};

/// `proc_pid_lookup()` (fs/proc/base.c) turns the name into a number
/// with `name_to_int()` and asks `find_task_by_pid_ns()` (kernel/pid.c),
/// which is `pid_task(find_pid_ns(nr, ns), PIDTYPE_PID)`: every task,
/// leader or not, is attached to its own pid as `PIDTYPE_PID`. The
/// directory it instantiates (`proc_pid_instantiate()`) is a process
/// directory, with the same entries as `/proc/<TGID>` (`tgid_base_stuff`).
///
/// Three system call groups per thread: `stat` of the directory (the
/// lookup itself), then `comm` (what the article ran) and `status`
/// opened and read. The benchmark compares them with the same reads in
/// bare system calls (book: "Performance").
// ANCHOR: proof
fn check(cx: &Context<'_>) -> Proof {
    // Every TID, the leader's too: the lookup makes no difference
    // between them. Under `--pid` a thread may exit while we look;
    // `each_thread` tells that from a broken claim.
    let threads = cx.each_thread(cx.target.tids(), |tid| {
        // `stat("/proc/<TID>")`: the path walk asks the procfs root to
        // look the name up, which is the claim.
        let dir = tid.to_string();
        if !cx.proc.is_dir(&dir)? {
            return fail(
                format!("{} to be a directory", cx.proc_path(&dir)),
                "it is not a directory",
            );
        }
        // What the article ran: `cat /proc/<TID>/comm`. A file that
        // resolves but cannot be read would not be a lookup that works.
        cx.proc.read(&format!("{tid}/comm"))?;
        // Read once for this claim and the status claim, which checks
        // the ids.
        cx.status_ids(tid)?;
        Ok(())
    })?;
    let resolved = threads.tids();
    Ok(format!(
        "resolved as directories with readable comm and status: {} of {} \
         ({}){}",
        resolved.len(),
        crate::claims::how_many(resolved.len() + threads.exited.len(), "TID"),
        id_list(&resolved),
        threads.exited_note()
    ))
}
// ANCHOR_END: proof
