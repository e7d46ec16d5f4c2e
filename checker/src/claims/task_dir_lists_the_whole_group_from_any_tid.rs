//! Where the threads are listed: `task/`, from the leader's directory
//! and from any thread's.
//! Book: "Beyond the article".

use std::collections::BTreeSet;

use crate::claims::{
    Claim, Context, Proof, bracketed, fail, how_many, id_list, spread,
};
use crate::procfs::ProcError;

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "/proc/<TGID>/task/ lists every thread, and \
                /proc/<TID>/task/ lists the whole group too.",
    kernel: "proc_task_readdir() and first_tid() (fs/proc/base.c)",
    opt_in: None,
    since: None,
    check,
};

/// How many `/proc/<TID>/task/` listings to compare in full: each is as
/// long as the group, so listing all of them would be quadratic. Every
/// TID's `task/` is still checked, by its link count.
const SAMPLE: usize = 16;

/// `proc_task_readdir()` (fs/proc/base.c) starts from the task of the
/// directory and walks its whole thread group (`first_tid()`,
/// `next_tid()`), whichever thread the directory was built for: the
/// `task` entry is in `tgid_base_stuff`, which `/proc/<TID>` shares.
/// The positions in `task/` are indexes into the group, not ids.
///
/// For every TID, `stat("/proc/<TID>/task")` is checked: its link count
/// is 2 plus the number of threads in the group, which
/// `proc_task_getattr()` (fs/proc/base.c) adds with `get_nr_threads()`
/// of the directory's task. That is one `stat` per thread, not a
/// listing as long as the group; the full listings are compared for a
/// sample spread over the group.
fn check(cx: &Context<'_>) -> Proof {
    let pid = cx.target.pid;
    let group_path = format!("{pid}/task");
    let listed = |path: &str| -> Result<BTreeSet<i32>, ProcError> {
        Ok(cx.proc.pids(path)?.into_iter().collect())
    };
    let group = listed(&group_path)?;
    let each_listed = cx.each_thread(cx.target.tids(), |tid| {
        if !group.contains(&tid) {
            let group: Vec<i32> = group.iter().copied().collect();
            return fail(
                format!("{} to list {tid}", cx.proc_path(&group_path)),
                format!("it lists {}", id_list(&group)),
            );
        }
        Ok(())
    })?;
    // Every TID: the link count of its task/ counts the whole group.
    let links = 2 + group.len() as u64;
    let counted = cx.each_thread(cx.target.tids(), |tid| {
        let path = format!("{tid}/task");
        let of_group = || cx.proc.links(&group_path);
        let (found, agreed) = bracketed(of_group, || cx.proc.links(&path))?;
        if !agreed {
            return fail(
                format!(
                    "{} with {links} links: 2 + the {} of the group",
                    cx.proc_path(&path),
                    how_many(group.len(), "thread"),
                ),
                format!("{found} links"),
            );
        }
        Ok(())
    })?;
    // A sample: the same threads listed as in the leader's task/.
    let sample = spread(&cx.target.threads, SAMPLE);
    let compared = cx.each_thread(sample, |tid| {
        let path = format!("{tid}/task");
        let (found, agreed) =
            bracketed(|| listed(&group_path), || listed(&path))?;
        if !agreed {
            let found: Vec<i32> = found.into_iter().collect();
            return fail(
                format!(
                    "{} to list the same threads as {}",
                    cx.proc_path(&path),
                    cx.proc_path(&group_path)
                ),
                format!("{} lists {}", cx.proc_path(&path), id_list(&found)),
            );
        }
        Ok(())
    })?;
    let compared = compared.tids();
    if compared.is_empty() {
        return Ok(format!(
            "{group_path} lists the {} of {pid}; there is no other thread \
             whose task/ to compare",
            how_many(group.len(), "thread")
        ));
    }
    Ok(format!(
        "{group_path} lists all {}; /proc/<TID>/task of each of {} has \
         {links} links (2 + {}), and lists the same threads for {} of \
         them ({}){}",
        how_many(group.len(), "thread"),
        how_many(counted.held.len(), "TID"),
        group.len(),
        compared.len(),
        id_list(&compared),
        each_listed.exited_note()
    ))
}
