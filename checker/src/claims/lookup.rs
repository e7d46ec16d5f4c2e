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
use crate::parse::parse_status;

/// Looking up /proc/<TID> works for every thread: the directory stats,
/// comm and status read.
///
/// `proc_pid_lookup()` (fs/proc/base.c) turns the name into a number
/// with `name_to_int()` and asks `find_task_by_pid_ns()` (kernel/pid.c),
/// which is `pid_task(find_pid_ns(nr, ns), PIDTYPE_PID)`: every task,
/// leader or not, is attached to its own pid as `PIDTYPE_PID`. The
/// directory it instantiates (`proc_pid_instantiate()`) is a process
/// directory, with the same entries as `/proc/<TGID>` (`tgid_base_stuff`).
pub fn every_tid_resolves_by_lookup(cx: &Context<'_>) -> Outcome {
    let mut checked = Vec::new();
    let mut vanished = Vec::new();
    for tid in cx.target.tids() {
        let outcome = resolve(cx, tid);
        match outcome {
            Ok(()) => checked.push(tid),
            Err(_) if cx.vanished(tid) => vanished.push(tid),
            Err(found) => {
                return Outcome::fail(
                    format!(
                        "{} to stat as a directory with comm and status",
                        cx.at(&tid.to_string())
                    ),
                    found,
                );
            }
        }
    }
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
    for file in ["comm", "status"] {
        let path = format!("{tid}/{file}");
        cx.proc
            .read(&path)
            .map_err(|err| format!("{}: {err}", cx.at(&path)))?;
    }
    Ok(())
}

/// /proc/0<TID> and /proc/<TID>x do not resolve, though /proc/<TID> does.
///
/// `name_to_int()` (fs/proc/util.c) accepts only plain decimal: a leading
/// `0` is refused outright (so that one pid has one name) and any
/// non-digit ends the parse with a failure. `proc_pid_lookup()` then
/// returns `-ENOENT` and the lookup falls back to no static entry.
pub fn pid_names_are_parsed_strictly(cx: &Context<'_>) -> Outcome {
    let tid = match cx.target.threads.first() {
        Some(thread) => thread.tid,
        None => cx.target.pid,
    };
    let plain = tid.to_string();
    if let Err(err) = cx.proc.is_dir(&plain) {
        return Outcome::fail(
            format!("{} to resolve", cx.at(&plain)),
            err.to_string(),
        );
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
    Outcome::pass(format!("{tid} resolves; 0{tid} and {tid}x give ENOENT"))
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
