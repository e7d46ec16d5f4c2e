//! What `/proc/<TID>/stat` says: the thread's id, and the whole group's
//! CPU time.
//! Book: "Beyond the article".

use crate::claims::{Claim, Context, Proof, fail, id_list, skip, spread};
use crate::parse::Stat;

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "/proc/<TID>/stat shows the TID first but CPU times summed \
                over the group, unlike /proc/<TGID>/task/<TID>/stat.",
    kernel: "proc_tgid_stat() -> do_task_stat(whole=1) vs proc_tid_stat() \
             (fs/proc/array.c)",
    opt_in: None,
    since: None,
    check,
};

/// How many threads' group-wide `stat` to read: `do_task_stat(whole=1)`
/// walks the whole group to sum it, so reading it for every thread
/// would be quadratic, in the kernel (8 s at 10,000 threads on the
/// book's machine).
const SAMPLE: usize = 16;

/// `/proc/<TID>` is a process directory, so its `stat` is
/// `proc_tgid_stat()` (fs/proc/array.c), which calls `do_task_stat(...,
/// whole=1)`: utime and stime come from `thread_group_cputime_adjusted()`
/// over every thread of the group. `/proc/<TGID>/task/<TID>/stat` is
/// `proc_tid_stat()`, `whole=0`: that thread's own times. Field 1 is the
/// pid the directory was built for in both. proc(5) says the two files
/// have "the same contents"; for a thread that sleeps while a sibling
/// works, they do not.
fn check(cx: &Context<'_>) -> Proof {
    let pid = cx.target.pid;
    // Own CPU time of each thread first, so that the group's, read
    // after, can only have grown.
    let own = cx.each_thread(cx.target.threads.clone(), |tid| {
        Ok(cx.proc.stat(&format!("{pid}/task/{tid}/stat"))?)
    })?;
    let own = &own.held;
    let busy = match cx.target.demo_threads().iter().find(|t| t.busy_ms > 0) {
        Some(thread) => own.iter().find(|(tid, _)| *tid == thread.tid),
        None => own.iter().max_by_key(|(_, stat)| stat.cpu_ticks()),
    };
    let idle = (own.iter())
        .filter(|(tid, _)| Some(*tid) != busy.map(|(b, _)| *b))
        .min_by_key(|(_, stat)| stat.cpu_ticks());
    let (Some((busy, busy_own)), Some((idle, idle_own))) = (busy, idle) else {
        let fix = match cx.spawned() {
            true => "run with --threads 2 or more",
            false => "pick a process with more threads",
        };
        return skip(format!(
            "needs two threads besides the leader of {pid}; {fix}"
        ));
    };
    if busy_own.cpu_ticks() <= idle_own.cpu_ticks() {
        return skip(format!(
            "no thread of {pid} has used more CPU than another ({} ticks \
             each), so the sums cannot be told apart",
            idle_own.cpu_ticks()
        ));
    }
    // Then /proc/<TID>/stat of a sample, the idle thread included: its
    // own TID first, and at least the busy thread's CPU time (ticks
    // are rounded per thread: allow one tick of rounding).
    let tids: Vec<i32> = own.iter().map(|(tid, _)| *tid).collect();
    let mut sample = spread(&tids, SAMPLE);
    if !sample.contains(idle) {
        sample.push(*idle);
    }
    let own_of =
        |tid: i32| own.iter().find(|(t, _)| *t == tid).map(|(_, s)| s);
    let group = cx.each_thread(sample.iter().copied(), |tid| {
        let path = format!("{tid}/stat");
        let group: Stat = cx.proc.stat(&path)?;
        if group.pid != tid {
            return fail(
                format!("{}: field 1 is {tid}", cx.proc_path(&path)),
                format!("field 1 is {}", group.pid),
            );
        }
        let tid_own = own_of(tid).map_or(0, Stat::cpu_ticks);
        let ticks = group.cpu_ticks() + 1;
        if ticks < busy_own.cpu_ticks() || ticks < tid_own {
            return fail(
                format!(
                    "{}'s CPU ticks to include busy thread {busy}'s",
                    cx.proc_path(&path)
                ),
                format!(
                    "{path}: {} ticks; {pid}/task/{tid}/stat: {tid_own} \
                     ticks; busy thread {busy}'s own: {} ticks",
                    group.cpu_ticks(),
                    busy_own.cpu_ticks()
                ),
            );
        }
        Ok(group.cpu_ticks())
    })?;
    let Some(idle_group) = (group.held.iter())
        .find(|(tid, _)| tid == idle)
        .map(|(_, ticks)| *ticks)
    else {
        return skip(format!(
            "thread {idle} of {pid} exited during the check; run again"
        ));
    };
    // The idle thread makes the difference visible: its group view has
    // more than its own.
    let evidence = format!(
        "{idle}/stat: {idle_group} ticks; {pid}/task/{idle}/stat: {} \
         ticks; busy thread {busy}'s own: {} ticks",
        idle_own.cpu_ticks(),
        busy_own.cpu_ticks()
    );
    if idle_group <= idle_own.cpu_ticks() {
        return fail(
            format!(
                "{}'s CPU ticks to include busy thread {busy}'s",
                cx.proc_path(&format!("{idle}/stat"))
            ),
            evidence,
        );
    }
    Ok(format!(
        "for {} of {} ({}), /proc/<TID>/stat has the TID as field 1 and \
         at least the busy thread's ticks; {evidence}",
        group.held.len(),
        crate::claims::how_many(own.len(), "thread"),
        id_list(&group.tids())
    ))
}
