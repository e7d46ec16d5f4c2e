//! proc_pid_task(5) says that the contents of `/proc/<TID>/` "are the
//! same as the corresponding /proc/pid/task/tid directories". They are
//! not: this claim shows what holds instead.
//! Book: "The man page, sentence by sentence".

use std::collections::BTreeSet;

use crate::claims::{Claim, Context, Proof, fail, id_list, skip, spread};
use crate::procfs::ProcError;

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "/proc/<TID>/ has the entries of a process directory, as \
                /proc/<TGID>/ has, not those of /proc/<TGID>/task/<TID>/: \
                task/ is only in the first.",
    kernel: "proc_pid_instantiate() with tgid_base_stuff vs \
             proc_task_instantiate() with tid_base_stuff (fs/proc/base.c)",
    opt_in: None,
    since: None,
    check,
};

/// How many threads' directories to list: a sample, spread over the
/// group, shows the same tables.
const SAMPLE: usize = 16;

/// `proc_pid_lookup()` builds `/proc/<TID>` with `proc_pid_instantiate()`,
/// whose directory lists `tgid_base_stuff`, the table of a process
/// directory, whichever task it was built for; `proc_task_lookup()`
/// builds `/proc/<TGID>/task/<TID>` with `proc_task_instantiate()`,
/// which lists `tid_base_stuff` (both in fs/proc/base.c). The tables
/// differ: `task` (and, with the kernel options that add them,
/// `mountstats`, `timers`, `coredump_filter` and more) only in the first,
/// `children` (`CONFIG_PROC_CHILDREN`) only in the second. So the man
/// page's "the same" is wrong for the directories themselves, as it is
/// for `stat` (see `tid_stat_sums_cpu_over_the_group`).
fn check(cx: &Context<'_>) -> Proof {
    let pid = cx.target.pid;
    let entries = |dir: &str| -> Result<BTreeSet<String>, ProcError> {
        let names = cx.proc.list(dir)?.into_iter().map(|e| e.name);
        Ok(names.filter(|name| name != "." && name != "..").collect())
    };
    let process = entries(&pid.to_string())?;
    let sample = spread(&cx.target.threads, SAMPLE);
    if sample.is_empty() {
        return skip(format!(
            "process {pid} has a single thread: there is no /proc/<TID> \
             of another thread to compare; pick a multi-threaded process"
        ));
    }
    let mut differ = (Vec::new(), Vec::new());
    let threads = cx.each_thread(sample, |tid| {
        let tid_dir = entries(&tid.to_string())?;
        if tid_dir != process {
            let odd: Vec<String> =
                tid_dir.symmetric_difference(&process).cloned().collect();
            return fail(
                format!(
                    "{} with the entries of {}",
                    cx.proc_path(&tid.to_string()),
                    cx.proc_path(&pid.to_string())
                ),
                format!("they differ in {}", names(&odd)),
            );
        }
        let task_dir = entries(&format!("{pid}/task/{tid}"))?;
        if !tid_dir.contains("task") || task_dir.contains("task") {
            return fail(
                format!(
                    "task/ in {}, not in {}",
                    cx.proc_path(&tid.to_string()),
                    cx.proc_path(&format!("{pid}/task/{tid}"))
                ),
                format!(
                    "task/ {} in the first, {} in the second",
                    presence(&tid_dir),
                    presence(&task_dir)
                ),
            );
        }
        differ.0 = tid_dir.difference(&task_dir).cloned().collect();
        differ.1 = task_dir.difference(&tid_dir).cloned().collect();
        Ok(())
    })?;
    let (only_tid, only_task) = differ;
    Ok(format!(
        "for {} of {pid}'s threads ({}), /proc/<TID>/ lists the {} entries \
         of /proc/{pid}/; only there: {}; only in task/<TID>/: {}{}",
        threads.held.len(),
        id_list(&threads.tids()),
        process.len(),
        names(&only_tid),
        names(&only_task),
        threads.exited_note()
    ))
}

fn presence(entries: &BTreeSet<String>) -> &'static str {
    match entries.contains("task") {
        true => "present",
        false => "absent",
    }
}

fn names(list: &[String]) -> String {
    match list.is_empty() {
        true => "nothing".to_string(),
        false => list.join(", "),
    }
}
