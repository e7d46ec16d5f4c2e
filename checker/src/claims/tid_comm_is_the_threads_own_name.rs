//! What `/proc/<TID>/comm` says: the thread's own name.
//! Book: "Beyond the article".

use std::collections::HashMap;

use crate::claims::{
    Claim, Context, Proof, Stop, bracketed, fail, how_many, skip,
};

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "/proc/<TID>/comm shows the thread's own name while \
                /proc/<TGID>/comm keeps the leader's.",
    kernel: "comm_show() (fs/proc/base.c) -> proc_task_name() \
             (fs/proc/array.c)",
    opt_in: None,
    since: None,
    check,
};

/// `comm_show()` (fs/proc/base.c) prints `proc_task_name()`
/// (fs/proc/array.c) of the directory's own task, and a thread's name is
/// per task (`PR_SET_NAME` and `pthread_setname_np` set `current->comm`).
fn check(cx: &Context<'_>) -> Proof {
    let pid = cx.target.pid;
    let comm = |path: &str| -> Result<String, crate::procfs::ProcError> {
        Ok(cx.proc.read(path)?.trim_end_matches('\n').to_string())
    };
    // A task's own name, as its entry in the group's task/ shows it,
    // read just before and just after `path`: a thread of another
    // program may rename itself at any time (the names we gave our own
    // demo's threads stay put).
    let own_name = |tid: i32, path: &str| -> Result<String, Stop> {
        let own = || comm(&format!("{pid}/task/{tid}/comm"));
        let (shown, agreed) = bracketed(own, || comm(path))?;
        if !agreed {
            let expected = format!("{}: \"{}\"", cx.proc_path(path), own()?);
            return fail(expected, format!("\"{shown}\""));
        }
        Ok(shown)
    };
    let leader = own_name(pid, &format!("{pid}/comm"))?;
    // The names we gave the threads, if we started them.
    let given: HashMap<i32, &str> = (cx.target.demo_threads().iter())
        .filter_map(|t| Some((t.tid, t.name.as_deref()?)))
        .collect();
    let threads = cx.each_thread(cx.target.threads.clone(), |tid| {
        let path = format!("{tid}/comm");
        let shown = own_name(tid, &path)?;
        match given.get(&tid) {
            Some(name) if shown != *name => {
                let expected = format!("{}: \"{name}\"", cx.proc_path(&path));
                fail(expected, format!("\"{shown}\""))
            }
            _ => Ok(shown),
        }
    })?;
    let named: Vec<&(i32, String)> = threads
        .held
        .iter()
        .filter(|(_, name)| *name != leader)
        .collect();
    let Some((tid, name)) = named.first() else {
        return skip(format!(
            "every thread of {pid} is named like its leader (\"{leader}\"), \
             so the names cannot tell the files apart; pick a process with \
             named threads"
        ));
    };
    Ok(format!(
        "{pid}/comm shows \"{leader}\"; {} have their own name in \
         /proc/<TID>/comm, e.g. /proc/{tid}/comm shows \"{name}\"{}",
        how_many(named.len(), "thread"),
        threads.exited_note()
    ))
}
