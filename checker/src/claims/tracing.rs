//! Claims about which kernel code runs, from the kernel's own call
//! stacks: the article's bpftrace evidence, recorded by the checker.
//!
//! Each claim records, in a private tracefs instance (see
//! [`crate::trace`]), the stack of every call of two or three `/proc`
//! functions made by the checker's own thread while it does one thing.
//! Stacks differ between kernels in offsets and inlined frames, so the
//! claims look only for the ordered function names that matter. They
//! run with `--trace` (always when the checker is a VM's `/init`) and
//! skip with the precise reason where tracing is impossible: not root,
//! kernel lockdown, no tracefs, a function the kernel cannot trace.
//!
//! Book: "Tracing it yourself".

use crate::claims::{Context, Outcome};
use crate::target::ShortLived;
use crate::trace::{
    Session, Stack, contains_in_order, entered_in_order, redacted,
};

/// `a <- b <- c`: a stack on one line, innermost first, entry code
/// left out.
fn one_line(stack: &Stack) -> String {
    redacted(stack)
        .lines()
        .filter(|line| *line != "[ENTRY]")
        .collect::<Vec<_>>()
        .join(" <- ")
}

/// Why a tracing claim did not run, or the session.
fn session(cx: &Context<'_>, functions: &[&str]) -> Result<Session, Outcome> {
    if !cx.trace {
        return Err(Outcome::skip(
            "kernel tracing was not asked for: run as root with --trace \
             (or see the book's tracing chapter and `just matrix`)",
        ));
    }
    Session::start(functions).map_err(|why| Outcome::skip(why.reason))
}

/// Listing /proc enters proc_root_readdir and then proc_pid_readdir,
/// both called from iterate_dir.
///
/// `getdents64` calls `iterate_dir()` (fs/readdir.c), which calls the
/// directory's `iterate_shared`: for the procfs root that is
/// `proc_root_readdir()` (fs/proc/root.c), which ends with `return
/// proc_pid_readdir(file, ctx);` (fs/proc/base.c). That is a tail
/// call, so on every kernel of the matrix `proc_pid_readdir`'s stack
/// shows `iterate_dir` as its caller, and the order of the two shows in
/// the order they were entered instead.
pub fn listing_passes_through_proc_pid_readdir(cx: &Context<'_>) -> Outcome {
    let functions = ["proc_root_readdir", "proc_pid_readdir"];
    let mut session = match session(cx, &functions) {
        Ok(session) => session,
        Err(outcome) => return outcome,
    };
    let recorded = session.record(|| cx.proc.list("."));
    drop(session);
    let stacks = match recorded {
        Ok((_, stacks)) => stacks,
        Err(why) => return Outcome::skip(why.reason),
    };
    judge_listing(&stacks)
}

/// The verdict on the stacks recorded while listing `/proc`.
pub fn judge_listing(stacks: &[Stack]) -> Outcome {
    let functions = ["proc_root_readdir", "proc_pid_readdir"];
    let root = stacks
        .iter()
        .find(|s| contains_in_order(s, &["proc_root_readdir", "iterate_dir"]));
    let pid = stacks
        .iter()
        .find(|s| contains_in_order(s, &["proc_pid_readdir", "iterate_dir"]));
    match (root, pid) {
        (Some(root), Some(pid)) if entered_in_order(stacks, &functions) => {
            Outcome::pass(format!(
                "{} stacks; {}; then {}",
                stacks.len(),
                one_line(root),
                one_line(pid)
            ))
        }
        _ => Outcome::fail(
            "proc_root_readdir, then proc_pid_readdir, each called from \
             iterate_dir",
            recorded_stacks(stacks),
        ),
    }
}

/// Opening /proc/<TID>/comm for the first time goes through
/// __lookup_slow, proc_root_lookup and proc_pid_lookup.
///
/// The dentry cache has no `<TID>` entry yet, so the path walk falls to
/// `__lookup_slow()` (fs/namei.c), which asks the procfs root's
/// `lookup`: `proc_root_lookup()` (fs/proc/root.c) tries
/// `proc_pid_lookup()` (fs/proc/base.c) before the static entries. The
/// TID is a thread of a process started for this claim, so nothing has
/// looked it up before.
pub fn tid_lookup_passes_through_proc_pid_lookup(cx: &Context<'_>) -> Outcome {
    match open_fresh_comm(cx, 1) {
        Ok((path, tid, opens)) => {
            judge_lookup(&format!("opening {path} (thread {tid})"), &opens[0])
        }
        Err(outcome) => outcome,
    }
}

/// The functions the lookup claims trace.
const LOOKUP: [&str; 2] = ["proc_root_lookup", "proc_pid_lookup"];

/// Open `/proc/<TID>/comm` of a fresh thread `times` times in a row,
/// recording the lookup functions each time: the path, the TID, and
/// the stacks of each open. A failed read fails the claim; tracing that
/// cannot work skips it.
fn open_fresh_comm(
    cx: &Context<'_>,
    times: usize,
) -> Result<(String, i32, Vec<Vec<Stack>>), Outcome> {
    let mut session = session(cx, &LOOKUP)?;
    let fresh = ShortLived::start(&cx.target.demo, 1);
    let Some(tid) = fresh.as_ref().and_then(|f| f.ready.threads.first())
    else {
        return Err(Outcome::skip(
            "could not start a process with a fresh thread",
        ));
    };
    let (tid, path) = (tid.tid, cx.at(&format!("{}/comm", tid.tid)));
    let mut opens = Vec::with_capacity(times);
    for _ in 0..times {
        match session.record(|| std::fs::read_to_string(&path)) {
            Ok((Ok(_), stacks)) => opens.push(stacks),
            Ok((Err(err), _)) => {
                return Err(Outcome::fail(
                    format!("{path} readable"),
                    err.to_string(),
                ));
            }
            Err(why) => return Err(Outcome::skip(why.reason)),
        }
    }
    // The session goes before the process whose thread it looked at.
    drop(session);
    drop(fresh);
    Ok((path, tid, opens))
}

/// The verdict on the stacks recorded while opening a fresh
/// `/proc/<TID>/comm`; `what` says which open, for the evidence.
pub fn judge_lookup(what: &str, stacks: &[Stack]) -> Outcome {
    let wanted = ["proc_pid_lookup", "proc_root_lookup", "__lookup_slow"];
    if let Some(stack) = stacks.iter().find(|s| contains_in_order(s, &wanted))
    {
        return Outcome::pass(format!("{what}: {}", one_line(stack)));
    }
    // The tracer sometimes records a call with only its caller and no
    // stack (seen on 5.10): then the chain shows as two links, one per
    // traced function, entered in order.
    let link = |pair: &[&str]| {
        stacks
            .iter()
            .find(|s| contains_in_order(s, pair))
            .map(one_line)
    };
    let links = (
        link(&["proc_root_lookup", "__lookup_slow"]),
        link(&["proc_pid_lookup", "proc_root_lookup"]),
    );
    match links {
        (Some(root), Some(pid)) if entered_in_order(stacks, &LOOKUP) => {
            Outcome::pass(format!("{what}: {root}; then {pid}"))
        }
        _ => Outcome::fail(
            "a stack with proc_pid_lookup <- proc_root_lookup <- \
             __lookup_slow",
            recorded_stacks(stacks),
        ),
    }
}

/// A second open of the same /proc/<TID>/comm, with the dentry cached,
/// does not reach proc_root_lookup.
///
/// The first lookup left a dentry for `<TID>` in the dentry cache, and
/// `pid_revalidate()` (fs/proc/base.c) keeps it valid while the task
/// lives; the path walk's `lookup_fast()` (fs/namei.c) finds it, so
/// neither `__lookup_slow()` nor `proc_root_lookup()` runs again. This
/// is the article's guess, checked: the claim requires that the first
/// open did reach `proc_root_lookup`, so an empty trace cannot pass.
pub fn cached_dentry_skips_proc_root_lookup(cx: &Context<'_>) -> Outcome {
    match open_fresh_comm(cx, 2) {
        Ok((path, _, opens)) => judge_cached(&path, &opens[0], &opens[1]),
        Err(outcome) => outcome,
    }
}

/// The verdict on the stacks of a first and a second open of `path`.
pub fn judge_cached(path: &str, first: &[Stack], second: &[Stack]) -> Outcome {
    let reached = |stacks: &[Stack]| {
        stacks
            .iter()
            .any(|s| contains_in_order(s, &["proc_root_lookup"]))
    };
    if !reached(first) {
        return Outcome::fail(
            "the first open to reach proc_root_lookup",
            recorded_stacks(first),
        );
    }
    if reached(second) {
        return Outcome::fail(
            "no proc_root_lookup in the second open",
            recorded_stacks(second),
        );
    }
    Outcome::pass(format!(
        "first open of {path}: {} stacks through proc_root_lookup; second \
         open: {} stacks, none through proc_root_lookup",
        first.len(),
        second.len()
    ))
}

/// What was recorded, for a failure's evidence.
fn recorded_stacks(stacks: &[Stack]) -> String {
    if stacks.is_empty() {
        return "no stack recorded".to_string();
    }
    stacks.iter().map(one_line).collect::<Vec<_>>().join("; ")
}
