//! Whose numbers a lookup uses: the namespace of the procfs, not the
//! reader's.
//! Book: "Beyond the article".

use crate::claims::{Claim, Context, Proof, Stop, fail, id_list, skip};
use crate::pidns::PidNamespaceProbe;

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "Lookup is relative to the procfs's pid namespace: in a new \
                namespace's /proc, 1 is its first process and no TID of \
                the target names the target's thread.",
    kernel: "proc_pid_lookup() (fs/proc/base.c) -> find_task_by_pid_ns() \
             (kernel/pid.c) in the namespace of proc_init_fs_context() \
             (fs/proc/root.c)",
    opt_in: None,
    since: None,
    check,
};

/// A procfs belongs to the pid namespace of the process that mounted it:
/// `proc_init_fs_context()` (fs/proc/root.c) takes
/// `task_active_pid_ns(current)`, and `proc_pid_lookup()`
/// (fs/proc/base.c) passes that namespace, `fs_info->pid_ns`, to
/// `find_task_by_pid_ns()` (kernel/pid.c). The reader's own namespace
/// plays no part. So the checker starts a process in a new pid
/// namespace (it is pid 1 there) with a procfs mounted by it, and looks
/// through `/proc/<probe>/root/proc`: there `1` is the probe, and the
/// target's TIDs, numbers of the checker's namespace, name nothing (or,
/// if one happened to be 1, the probe, another task). The kernel's own
/// peer is tools/testing/selftests/proc/proc-multiple-procfs.c.
fn check(cx: &Context<'_>) -> Proof {
    let probe = PidNamespaceProbe::start(cx.launcher()).or_else(skip)?;
    let Ok(outside) = cx.proc.stat(&format!("{}/stat", probe.pid)) else {
        return skip(format!(
            "the probe started in a new pid namespace as {} is not in {}: \
             that procfs is of another pid namespace than the checker's; \
             run the checker inside it",
            probe.pid,
            cx.proc_path(".")
        ));
    };
    let there = format!("{}/root/proc", probe.pid);
    // Who is 1 there? The probe: same start time, and it says so.
    let one = cx.proc.stat(&format!("{there}/1/stat"))?;
    if one.pid != 1 || one.starttime != outside.starttime {
        return fail(
            format!(
                "{}: pid 1, started at {} like the probe",
                cx.proc_path(&format!("{there}/1/stat")),
                outside.starttime
            ),
            format!("pid {}, started at {}", one.pid, one.starttime),
        );
    }
    let names_the_probe = |tid: i32| -> Result<bool, Stop> {
        let path = format!("{there}/{tid}/stat");
        match cx.proc.stat(&path) {
            Err(err) if err.is_enoent() => Ok(false),
            Err(err) => Err(err.into()),
            Ok(stat) if stat.starttime == outside.starttime => Ok(true),
            Ok(stat) => fail(
                format!(
                    "{} to name no task, or the new namespace's own",
                    cx.proc_path(&format!("{there}/{tid}"))
                ),
                format!(
                    "it names {} started at {}: a task of the checker's \
                     namespace",
                    stat.comm, stat.starttime
                ),
            ),
        }
    };
    let tids = cx.target.tids();
    let mut absent = Vec::new();
    let mut probe_again = Vec::new();
    for &tid in &tids {
        match names_the_probe(tid)? {
            false => absent.push(tid),
            true => probe_again.push(tid),
        }
    }
    // The probe's own number here means nothing there either.
    let probe_here = match names_the_probe(probe.pid)? {
        false => "does not resolve there either",
        true => "names the probe there too",
    };
    let mut observed = format!(
        "in a new pid namespace's procfs ({}), 1 is the probe the checker \
         started there; the target's TIDs resolve nowhere there: {} of {} \
         ({}); the probe's pid here, {}, {probe_here}",
        cx.proc_path(&there),
        absent.len(),
        crate::claims::how_many(tids.len(), "TID"),
        id_list(&absent),
        probe.pid,
    );
    if !probe_again.is_empty() {
        observed += &format!(
            "; {} name the probe itself there",
            id_list(&probe_again)
        );
    }
    Ok(observed)
}
