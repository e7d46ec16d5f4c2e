//! Claims about resolving `/proc/<TID>` by name.
//!
//! The path, at Linux 6.12.117: a path walk that misses the dentry cache
//! calls `__lookup_slow()` -> `proc_root_lookup()` (fs/proc/root.c) ->
//! `proc_pid_lookup()` (fs/proc/base.c), which parses the name with
//! `name_to_int()` (fs/proc/util.c), finds the task with
//! `find_task_by_pid_ns()` (kernel/pid.c) and builds the directory with
//! `proc_pid_instantiate()`. Nothing on that path asks whether the task
//! leads its thread group.
//!
//! Book: "The lookup path".

use std::time::{Duration, Instant};

use crate::claims::{Context, Outcome, is_enoent, some};
use crate::parse::{Stat, parse_stat, parse_status};
use crate::target::PidNamespaceProbe;

/// Looking up /proc/<TID> works for every thread: the directory stats,
/// comm and status read.
///
/// `proc_pid_lookup()` (fs/proc/base.c) turns the name into a number
/// with `name_to_int()` and asks `find_task_by_pid_ns()` (kernel/pid.c),
/// which is `pid_task(find_pid_ns(nr, ns), PIDTYPE_PID)`: every task,
/// leader or not, is attached to its own pid as `PIDTYPE_PID`. The
/// directory it instantiates (`proc_pid_instantiate()`) is a process
/// directory, with the same entries as `/proc/<TGID>` (`tgid_base_stuff`).
///
/// Three system calls groups per thread: `stat` of the directory (the
/// lookup itself), then `comm` (what the article ran) and `status`
/// opened and read. The benchmark compares them with the same reads in
/// bare system calls, and with `comm` alone (book: "Performance").
pub fn every_tid_resolves_by_lookup(cx: &Context<'_>) -> Outcome {
    let mut checked = Vec::new();
    let mut vanished = Vec::new();
    for tid in cx.target.tids() {
        match resolve(cx, tid) {
            Ok(()) => checked.push(tid),
            Err(_) if cx.gone(tid) => vanished.push(tid),
            Err(found) => {
                return Outcome::fail(
                    format!(
                        "{} to stat as a directory, with comm and status \
                         readable",
                        cx.at(&tid.to_string())
                    ),
                    found,
                );
            }
        }
    }
    // A TID whose thread left the group during the check may have
    // resolved to a newer task: count it as gone, not as checked.
    let (checked, left) = cx.still_in_group(checked);
    vanished.extend(left);
    let mut observed = format!(
        "{} of {} TIDs resolve as directories with readable comm and \
         status ({})",
        checked.len(),
        checked.len() + vanished.len(),
        some(&checked)
    );
    if !vanished.is_empty() {
        observed += &format!(
            "; {} exited during the check ({})",
            vanished.len(),
            some(&vanished)
        );
    }
    Outcome::pass(observed)
}

/// Stat `/proc/<tid>`, then read its `comm` and `status`.
fn resolve(cx: &Context<'_>, tid: i32) -> Result<(), String> {
    let dir = tid.to_string();
    match cx.proc.is_dir(&dir) {
        Ok(true) => {}
        Ok(false) => {
            return Err(format!("{} is not a directory", cx.at(&dir)));
        }
        Err(err) => return Err(format!("{}: {err}", cx.at(&dir))),
    }
    let comm = format!("{tid}/comm");
    cx.proc
        .read(&comm)
        .map_err(|err| format!("{}: {err}", cx.at(&comm)))?;
    // Read once for this claim and the status claim, which checks the
    // ids; a parse error is that claim's to report.
    cx.status_ids(tid)
        .map(|_| ())
        .map_err(|err| format!("{}: {err}", cx.at(&format!("{tid}/status"))))
}

/// Lookup is relative to the procfs's pid namespace: in a new namespace's
/// /proc, 1 is its first process and no TID of the target names the
/// target's thread.
///
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
pub fn lookup_is_relative_to_the_mounts_pid_namespace(
    cx: &Context<'_>,
) -> Outcome {
    let probe = match PidNamespaceProbe::start() {
        Ok(probe) => probe,
        Err(reason) => return Outcome::skip(reason),
    };
    let outside = format!("{}/stat", probe.pid);
    let probe_start = match read_stat(cx, &outside) {
        Ok(stat) => stat.starttime,
        Err(err) => {
            return Outcome::skip(format!(
                "the probe started in a new pid namespace as {} is not \
                 in {} ({err}): that procfs is of another pid namespace \
                 than the checker's; run the checker inside it",
                probe.pid,
                cx.at(".")
            ));
        }
    };
    let there = format!("{}/root/proc", probe.pid);
    // Who is 1 there? The probe: same start time, and it says so.
    let one = format!("{there}/1/stat");
    match read_stat(cx, &one) {
        Ok(stat) if stat.pid == 1 && stat.starttime == probe_start => {}
        Ok(stat) => {
            return Outcome::fail(
                format!(
                    "{}: pid 1, started at {probe_start} like the probe",
                    cx.at(&one)
                ),
                format!("pid {}, started at {}", stat.pid, stat.starttime),
            );
        }
        Err(err) => {
            return Outcome::fail(format!("{} readable", cx.at(&one)), err);
        }
    }
    let mut absent = Vec::new();
    let mut probe_again = Vec::new();
    let tids = cx.target.tids();
    for &tid in &tids {
        match resolves_there(cx, &there, tid, probe_start) {
            Ok(false) => absent.push(tid),
            Ok(true) => probe_again.push(tid),
            Err(outcome) => return outcome,
        }
    }
    // The probe's own number here means nothing there either.
    let probe_here = match resolves_there(cx, &there, probe.pid, probe_start) {
        Ok(false) => "does not resolve there either",
        Ok(true) => "names the probe there too",
        Err(outcome) => return outcome,
    };
    let mut observed = format!(
        "in a new pid namespace's procfs ({}), 1 is the probe the checker \
         started there; {} of the target's {} TIDs resolve nowhere there \
         ({}); the probe's pid here, {}, {probe_here}",
        cx.at(&there),
        absent.len(),
        tids.len(),
        some(&absent),
        probe.pid,
    );
    if !probe_again.is_empty() {
        observed +=
            &format!("; {} name the probe itself there", some(&probe_again));
    }
    Outcome::pass(observed)
}

/// Whether `<there>/<tid>` resolves to the probe (`Ok(true)`), to nothing
/// (`Ok(false)`), or, breaking the claim, to a task of our namespace.
fn resolves_there(
    cx: &Context<'_>,
    there: &str,
    tid: i32,
    probe_start: u64,
) -> Result<bool, Outcome> {
    let path = format!("{there}/{tid}/stat");
    match cx.proc.read(&path) {
        Err(err) if is_enoent(&err) => return Ok(false),
        Err(err) => {
            return Err(Outcome::fail(
                format!("{}: a stat file, or ENOENT", cx.at(&path)),
                err.to_string(),
            ));
        }
        Ok(_) => {}
    }
    match read_stat(cx, &path) {
        Err(err) => {
            Err(Outcome::fail(format!("{} readable", cx.at(&path)), err))
        }
        Ok(stat) if stat.starttime == probe_start => Ok(true),
        Ok(stat) => Err(Outcome::fail(
            format!(
                "{} to name no task, or the new namespace's own",
                cx.at(&format!("{there}/{tid}"))
            ),
            format!(
                "it names {:?} started at {}: a task of the checker's \
                 namespace",
                stat.comm, stat.starttime
            ),
        )),
    }
}

/// A `stat` file, parsed; errors as text for evidence.
fn read_stat(cx: &Context<'_>, path: &str) -> Result<Stat, String> {
    let text = cx
        .proc
        .read(path)
        .map_err(|err| format!("{}: {err}", cx.at(path)))?;
    parse_stat(&text).map_err(|err| {
        format!("{}: {err} (a bug of the checker's parser)", cx.at(path))
    })
}

/// /proc/0<TID> and /proc/<TID>x do not resolve, though /proc/<TID> does.
///
/// `name_to_int()` (fs/proc/util.c) accepts only plain decimal: a leading
/// `0` is refused outright (so that one pid has one name) and any
/// non-digit ends the parse with a failure. `proc_pid_lookup()` then
/// returns `-ENOENT` and the lookup falls back to no static entry.
/// Checked for every TID: two failed lookups each, no listing.
pub fn pid_names_are_parsed_strictly(cx: &Context<'_>) -> Outcome {
    let mut checked = Vec::new();
    for tid in cx.target.tids() {
        let plain = tid.to_string();
        match cx.proc.is_dir(&plain) {
            Ok(_) => {}
            Err(_) if cx.gone(tid) => continue,
            Err(err) => {
                return Outcome::fail(
                    format!("{} to resolve", cx.at(&plain)),
                    err.to_string(),
                );
            }
        }
        for odd in [format!("0{tid}"), format!("{tid}x")] {
            match cx.proc.is_dir(&odd) {
                Err(err) if is_enoent(&err) => {}
                other => {
                    return Outcome::fail(
                        format!("{}: ENOENT", cx.at(&odd)),
                        format!("{other:?}"),
                    );
                }
            }
        }
        checked.push(tid);
    }
    let Some(tid) = cx.target.threads.first().map(|t| t.tid) else {
        return Outcome::pass(format!(
            "{pid} resolves; 0{pid} and {pid}x give ENOENT",
            pid = cx.target.pid
        ));
    };
    Outcome::pass(format!(
        "{tid} resolves; 0{tid} and {tid}x give ENOENT; so for all {} \
         TIDs ({})",
        checked.len(),
        some(&checked)
    ))
}

/// How long a thread that has been joined may take to leave `/proc`.
///
/// `pthread_join` returns when the kernel clears the thread's tid word
/// (`mm_release()`), which happens before `exit_notify()` releases the
/// task; on a loaded machine the gap can be visible.
const RELEASE_GRACE: Duration = Duration::from_secs(1);

/// A thread that has exited no longer resolves: /proc/<TID> gives
/// ENOENT.
///
/// An exiting thread that is not the leader reaps itself:
/// `exit_notify()` (kernel/exit.c) calls `release_task()`, whose
/// `__unhash_process()` detaches the task from its pid with
/// `detach_pid()` (kernel/pid.c). From then on `find_task_by_pid_ns()`
/// finds nothing and `proc_pid_lookup()` answers `-ENOENT`.
pub fn exited_thread_no_longer_resolves(cx: &Context<'_>) -> Outcome {
    let Some(&tid) = cx.target.exited.first() else {
        return Outcome::skip(
            "needs a thread known to have exited, which only a target the \
             checker starts has; run without --pid",
        );
    };
    let path = tid.to_string();
    let start = Instant::now();
    loop {
        match cx.proc.is_dir(&path) {
            Err(err) if is_enoent(&err) => {
                return Outcome::pass(format!(
                    "thread {tid} of {} was joined; {} gives ENOENT",
                    cx.target.pid,
                    cx.at(&path)
                ));
            }
            Err(err) => {
                return Outcome::fail(
                    format!("{}: ENOENT", cx.at(&path)),
                    err.to_string(),
                );
            }
            Ok(_) if start.elapsed() < RELEASE_GRACE => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(_) => break,
        }
    }
    // Still there: either the kernel kept it, or a new task got the id.
    let status = cx.proc.read(&format!("{tid}/status"));
    let reused = status
        .ok()
        .and_then(|text| parse_status(&text).ok())
        .is_some_and(|ids| ids.tgid != cx.target.pid);
    if reused {
        Outcome::skip(format!(
            "TID {tid} was given to another task after its thread exited; \
             run again"
        ))
    } else {
        Outcome::fail(
            format!("{}: ENOENT", cx.at(&path)),
            format!(
                "it still resolves {} ms after thread {tid} was joined",
                RELEASE_GRACE.as_millis()
            ),
        )
    }
}
