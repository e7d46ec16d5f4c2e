//! Claims about what `/proc/<TID>/` holds once looked up.
//!
//! `proc_pid_lookup()` builds `/proc/<TID>` with `proc_pid_instantiate()`
//! (fs/proc/base.c): a process-style directory (`tgid_base_stuff`) bound
//! to the thread's own task. So its files that show one task show the
//! thread; those that show a whole group show the thread's group.
//!
//! Book: "The lookup path" and "Beyond the article".

use std::collections::BTreeSet;
use std::io;

use crate::claims::listing::spread;
use crate::claims::{Context, Outcome, some};
use crate::parse::{Stat, parse_stat};

/// /proc/<TID>/status is that thread's view: Pid: is the TID, Tgid: the
/// leader.
///
/// `proc_pid_status()` (fs/proc/array.c) calls `task_state()` for the
/// task the directory was built for, which prints `Tgid:` as
/// `task_tgid_nr_ns()` and `Pid:` as `pid_nr_ns()` of that task: the
/// thread's own id, and its leader's.
pub fn tid_status_is_the_threads_own_view(cx: &Context<'_>) -> Outcome {
    let pid = cx.target.pid;
    let mut checked = Vec::new();
    let mut vanished = 0;
    for tid in cx.target.tids() {
        let path = format!("{tid}/status");
        let ids = match cx.status_ids(tid) {
            Ok(ids) => ids,
            Err(_) if cx.gone(tid) => {
                vanished += 1;
                continue;
            }
            Err(err) => {
                return Outcome::fail(
                    format!("{} readable", cx.at(&path)),
                    err.to_string(),
                );
            }
        };
        match ids {
            Ok(ids) if ids.pid == tid && ids.tgid == pid => checked.push(tid),
            // The TID now names another task: its thread has gone.
            Ok(_) if cx.gone(tid) => vanished += 1,
            Ok(ids) => {
                return Outcome::fail(
                    format!("{}: Pid: {tid}, Tgid: {pid}", cx.at(&path)),
                    format!("Pid: {}, Tgid: {}", ids.pid, ids.tgid),
                );
            }
            Err(err) => {
                return Outcome::fail(
                    format!("{} with Pid: and Tgid: lines", cx.at(&path)),
                    format!("{err} (a bug of the checker's parser)"),
                );
            }
        }
    }
    let mut observed = format!(
        "for each of {} TIDs ({}), status says Pid: <TID> and Tgid: {pid}",
        checked.len(),
        some(&checked)
    );
    if vanished > 0 {
        observed += &format!("; {vanished} exited during the check");
    }
    Outcome::pass(observed)
}

/// How many `/proc/<TID>/task/` listings to compare in full: each is as
/// long as the group, so listing all of them would be quadratic. Every
/// TID's `task/` is still checked, by its link count.
const TASK_DIR_SAMPLE: usize = 16;

/// /proc/<TGID>/task/ lists every thread, and /proc/<TID>/task/ lists
/// the whole group too.
///
/// `proc_task_readdir()` (fs/proc/base.c) starts from the task of the
/// directory and walks its whole thread group (`first_tid()`,
/// `next_thread()`), whichever thread the directory was built for: the
/// `task` entry is in `tgid_base_stuff`, which `/proc/<TID>` shares.
/// The positions in `task/` are indexes into the group, not ids.
///
/// For every TID, `stat("/proc/<TID>/task")` is checked: its link count
/// is 2 plus the number of threads in the group, which
/// `proc_task_getattr()` (fs/proc/base.c) adds with `get_nr_threads()`
/// of the directory's task. That is one `stat` per thread, not a
/// listing as long as the group; the full listings are compared for a
/// sample spread over the group.
pub fn task_dir_lists_the_whole_group_from_any_tid(
    cx: &Context<'_>,
) -> Outcome {
    let pid = cx.target.pid;
    let expected: BTreeSet<i32> = cx.target.tids().into_iter().collect();
    let group_path = format!("{pid}/task");
    let group = match task_ids(cx, &group_path) {
        Ok(group) => group,
        Err(outcome) => return outcome,
    };
    let missing: Vec<i32> = expected
        .iter()
        .copied()
        .filter(|tid| !group.contains(tid) && !cx.gone(*tid))
        .collect();
    if !missing.is_empty() {
        return Outcome::fail(
            format!("{} to list {}", cx.at(&group_path), some(&missing)),
            format!(
                "it lists {}",
                some(&group.iter().copied().collect::<Vec<_>>())
            ),
        );
    }
    // Every TID: the link count of its task/ counts the whole group.
    let links = 2 + group.len() as u64;
    let mut counted = 0;
    for &tid in &expected {
        let path = format!("{tid}/task");
        match agrees(|| cx.proc.links(&group_path), || cx.proc.links(&path)) {
            Ok(_) => counted += 1,
            Err(_) if cx.gone(tid) => continue,
            Err(Ok(found)) => {
                return Outcome::fail(
                    format!(
                        "{} with {links} links: 2 + the {} threads of the \
                         group",
                        cx.at(&path),
                        group.len()
                    ),
                    format!("{found} links"),
                );
            }
            Err(Err(err)) => {
                return Outcome::fail(
                    format!("{} to stat", cx.at(&path)),
                    err.to_string(),
                );
            }
        }
    }
    let threads: Vec<i32> = cx.target.threads.iter().map(|t| t.tid).collect();
    let sample = spread(&threads, TASK_DIR_SAMPLE);
    let ids = |path: &str| {
        cx.proc.list(path).map(|entries| {
            entries
                .iter()
                .filter_map(|e| e.pid())
                .collect::<BTreeSet<i32>>()
        })
    };
    for &tid in &sample {
        let path = format!("{tid}/task");
        match agrees(|| ids(&group_path), || ids(&path)) {
            Ok(_) => {}
            Err(_) if cx.gone(tid) => continue,
            Err(Ok(listed)) => {
                return Outcome::fail(
                    format!(
                        "{} to list the same threads as {}",
                        cx.at(&path),
                        cx.at(&group_path)
                    ),
                    format!(
                        "{} lists {}",
                        cx.at(&path),
                        some(&listed.iter().copied().collect::<Vec<_>>())
                    ),
                );
            }
            Err(Err(err)) => {
                return Outcome::fail(
                    format!("{} listable", cx.at(&path)),
                    err.to_string(),
                );
            }
        }
    }
    if sample.is_empty() {
        return Outcome::pass(format!(
            "{group_path} lists the {} thread(s) of {pid}; there is no \
             other thread whose task/ to compare",
            group.len()
        ));
    }
    Outcome::pass(format!(
        "{group_path} lists all {} threads; /proc/<TID>/task of each of \
         {counted} TIDs has {links} links (2 + {}), and lists the same \
         threads for {} of them ({})",
        group.len(),
        group.len(),
        sample.len(),
        some(&sample)
    ))
}

/// How many times [`agrees`] reads before it calls a difference real.
const ATTEMPTS: usize = 3;

/// Whether `of_tid` (a TID's `task/` link count or listing) agrees with
/// `of_group` (the leader's), read just before and just after it: equal
/// to either. A real program starts and ends threads meanwhile, so a
/// difference is read again, up to [`ATTEMPTS`] times; a group that
/// stands still (the demo) agrees at once. Returns the last value read
/// of the TID's when they never agree.
fn agrees<T: PartialEq>(
    of_group: impl Fn() -> io::Result<T>,
    of_tid: impl Fn() -> io::Result<T>,
) -> Result<T, io::Result<T>> {
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let before = of_group();
        let found = match of_tid() {
            Ok(found) => found,
            Err(err) => return Err(Err(err)),
        };
        let after = of_group();
        let same = |group: &io::Result<T>| group.as_ref().ok() == Some(&found);
        if same(&before) || same(&after) {
            return Ok(found);
        }
        last = Some(found);
    }
    Err(last.ok_or_else(|| io::Error::other("no attempt")))
}

/// The thread ids listed in a `task/` directory.
fn task_ids(cx: &Context<'_>, path: &str) -> Result<BTreeSet<i32>, Outcome> {
    match cx.proc.list(path) {
        Ok(entries) => Ok(entries.iter().filter_map(|e| e.pid()).collect()),
        Err(err) => Err(Outcome::fail(
            format!("{} listable", cx.at(path)),
            err.to_string(),
        )),
    }
}

/// /proc/<TID>/comm shows the thread's own name while /proc/<TGID>/comm
/// keeps the leader's.
///
/// `comm_show()` (fs/proc/base.c) prints `proc_task_name()`
/// (fs/proc/array.c) of the directory's own task, and a thread's name is
/// per task (`PR_SET_NAME` and `pthread_setname_np` set `current->comm`).
pub fn tid_comm_is_the_threads_own_name(cx: &Context<'_>) -> Outcome {
    let pid = cx.target.pid;
    let leader_path = format!("{pid}/comm");
    let leader = match cx.proc.read(&leader_path) {
        Ok(text) => text.trim_end_matches('\n').to_string(),
        Err(err) => {
            return Outcome::fail(
                format!("{} readable", cx.at(&leader_path)),
                err.to_string(),
            );
        }
    };
    if leader != cx.target.comm {
        return Outcome::fail(
            format!("{}: {:?}", cx.at(&leader_path), cx.target.comm),
            format!("{leader:?}"),
        );
    }
    let mut named = Vec::new();
    for thread in &cx.target.threads {
        let tid = thread.tid;
        // The thread's own name: given by us, or as its task/ entry in
        // its group shows it.
        let own = match &thread.name {
            Some(name) => Ok(name.clone()),
            None => cx.proc.read(&format!("{pid}/task/{tid}/comm")),
        };
        let path = format!("{tid}/comm");
        let shown = cx.proc.read(&path);
        let (own, shown) = match (own, shown) {
            (Ok(own), Ok(shown)) => {
                (own.trim_end_matches('\n').to_string(), shown)
            }
            _ if cx.gone(tid) => continue,
            (_, Err(err)) | (Err(err), _) => {
                return Outcome::fail(
                    format!("{} readable", cx.at(&path)),
                    err.to_string(),
                );
            }
        };
        let shown = shown.trim_end_matches('\n');
        if shown != own {
            if cx.gone(tid) {
                continue;
            }
            return Outcome::fail(
                format!("{}: {own:?}", cx.at(&path)),
                format!("{shown:?}"),
            );
        }
        if own != leader {
            named.push((tid, own));
        }
    }
    let Some((tid, name)) = named.first() else {
        return Outcome::skip(format!(
            "every thread of {pid} is named like its leader ({leader:?}), \
             so the names cannot tell the files apart; pick a process \
             with named threads"
        ));
    };
    Outcome::pass(format!(
        "{} shows {leader:?}; {} threads have their own name in \
         /proc/<TID>/comm, e.g. /proc/{tid}/comm shows {name:?}",
        leader_path,
        named.len()
    ))
}

/// /proc/<TID>/stat shows the TID first but CPU times summed over the
/// group, unlike /proc/<TGID>/task/<TID>/stat.
///
/// `/proc/<TID>` is a process directory, so its `stat` is
/// `proc_tgid_stat()` (fs/proc/array.c), which calls `do_task_stat(...,
/// whole=1)`: utime and stime come from `thread_group_cputime_adjusted()`
/// over every thread of the group. `/proc/<TGID>/task/<TID>/stat` is
/// `proc_tid_stat()`, `whole=0`: that thread's own times. Field 1 is the
/// pid the directory was built for in both. proc(5) says the two files
/// have "the same contents"; for a thread that sleeps while a sibling
/// works, they do not.
pub fn tid_stat_sums_cpu_over_the_group(cx: &Context<'_>) -> Outcome {
    let pid = cx.target.pid;
    // Own CPU time of each thread first, so that the group's, read
    // after, can only have grown.
    let mut own: Vec<(i32, Stat)> = Vec::new();
    for tid in cx.target.threads.iter().map(|thread| thread.tid) {
        match read_stat(cx, &format!("{pid}/task/{tid}/stat")) {
            Ok(stat) => own.push((tid, stat)),
            Err(_) if cx.gone(tid) => continue,
            Err(outcome) => return outcome,
        }
    }
    let busy = match cx.target.threads.iter().find(|t| t.busy) {
        Some(thread) => own.iter().find(|(tid, _)| *tid == thread.tid),
        None => own.iter().max_by_key(|(_, stat)| stat.cpu_ticks()),
    };
    let idle = own
        .iter()
        .filter(|(tid, _)| Some(*tid) != busy.map(|(b, _)| *b))
        .min_by_key(|(_, stat)| stat.cpu_ticks());
    let (Some((busy, busy_own)), Some((idle, idle_own))) = (busy, idle) else {
        let fix = if cx.spawned() {
            "run with --threads 2 or more"
        } else {
            "pick a process with more threads"
        };
        return Outcome::skip(format!(
            "needs two threads besides the leader of {pid}; {fix}"
        ));
    };
    if busy_own.cpu_ticks() <= idle_own.cpu_ticks() {
        return Outcome::skip(format!(
            "no thread of {pid} has used more CPU than another ({} ticks \
             each), so the sums cannot be told apart",
            idle_own.cpu_ticks()
        ));
    }
    // Then /proc/<TID>/stat of a sample of threads, the idle one
    // included: its own TID first, and at least the busy thread's CPU
    // time (ticks are rounded per thread: allow one tick of rounding).
    // Not of every thread: do_task_stat(whole=1) walks the whole group
    // to sum it, so reading it for every thread would be quadratic, in
    // the kernel (8 s at 10,000 threads on the book's machine).
    let tids: Vec<i32> = own.iter().map(|(tid, _)| *tid).collect();
    let mut sample = spread(&tids, STAT_SAMPLE);
    if !sample.contains(idle) {
        sample.push(*idle);
    }
    let mut idle_group = None;
    let mut checked = 0;
    for (tid, tid_own) in own.iter().filter(|(tid, _)| sample.contains(tid)) {
        let path = format!("{tid}/stat");
        let group = match read_stat(cx, &path) {
            Ok(stat) => stat,
            Err(_) if cx.gone(*tid) => continue,
            Err(outcome) => return outcome,
        };
        if group.pid != *tid {
            if cx.gone(*tid) {
                continue;
            }
            return Outcome::fail(
                format!("{}: field 1 is {tid}", cx.at(&path)),
                format!("field 1 is {}", group.pid),
            );
        }
        let sums = group.cpu_ticks() + 1 >= busy_own.cpu_ticks()
            && group.cpu_ticks() + 1 >= tid_own.cpu_ticks();
        if !sums {
            return Outcome::fail(
                format!(
                    "{}'s CPU ticks to include busy thread {busy}'s",
                    cx.at(&path)
                ),
                format!(
                    "{path}: {} ticks; {pid}/task/{tid}/stat: {} ticks; \
                     busy thread {busy}'s own: {} ticks",
                    group.cpu_ticks(),
                    tid_own.cpu_ticks(),
                    busy_own.cpu_ticks()
                ),
            );
        }
        if tid == idle {
            idle_group = Some(group.cpu_ticks());
        }
        checked += 1;
    }
    let Some(idle_group) = idle_group else {
        return Outcome::skip(format!(
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
    if idle_group > idle_own.cpu_ticks() {
        Outcome::pass(format!(
            "for {checked} of {} threads ({}), /proc/<TID>/stat has the \
             TID as field 1 and at least the busy thread's ticks; \
             {evidence}",
            own.len(),
            some(&sample)
        ))
    } else {
        Outcome::fail(
            format!(
                "{}'s CPU ticks to include busy thread {busy}'s",
                cx.at(&format!("{idle}/stat"))
            ),
            evidence,
        )
    }
}

/// How many threads' group-wide `stat` to read: see
/// `tid_stat_sums_cpu_over_the_group`.
const STAT_SAMPLE: usize = 16;

fn read_stat(cx: &Context<'_>, path: &str) -> Result<Stat, Outcome> {
    let text = cx.proc.read(path).map_err(|err| {
        Outcome::fail(format!("{} readable", cx.at(path)), err.to_string())
    })?;
    parse_stat(&text).map_err(|err| {
        Outcome::fail(
            format!("{} in stat format", cx.at(path)),
            format!("{err} (a bug of the checker's parser)"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_spread_over_the_whole_group() {
        let tids: Vec<i32> = (100..200).collect();
        let sample = spread(&tids, 4);
        assert_eq!(sample, [100, 133, 166, 199]);
        assert_eq!(spread(&tids[..3], 4), [100, 101, 102]);
    }
}
