//! The article's guess about the second open, checked from the
//! kernel's own stacks.
//! Book: "Tracing it yourself".

use crate::claims::tracing::{open_fresh_comm, recorded_stacks};
use crate::claims::{Claim, Context, OptIn, Proof, fail};
use crate::trace::{Stack, contains_in_order};

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "A second open of the same /proc/<TID>/comm, with the \
                dentry cached, does not reach proc_root_lookup.",
    kernel: "lookup_fast() (fs/namei.c) with pid_revalidate() \
             (fs/proc/base.c)",
    opt_in: Some(OptIn::Trace),
    since: None,
    check,
};

/// The first lookup left a dentry for `<TID>` in the dentry cache, and
/// `pid_revalidate()` (fs/proc/base.c) keeps it valid while the task
/// lives; the path walk's `lookup_fast()` (fs/namei.c) finds it, so
/// neither `__lookup_slow()` nor `proc_root_lookup()` runs again. The
/// claim requires that the first open did reach `proc_root_lookup`, so
/// an empty trace cannot pass.
fn check(cx: &Context<'_>) -> Proof {
    let opens = open_fresh_comm(cx, 2)?;
    judge(&opens.path, &opens.stacks[0], &opens.stacks[1])
}

/// The verdict on the stacks of a first and a second open of `path`.
pub fn judge(path: &str, first: &[Stack], second: &[Stack]) -> Proof {
    let reached = |stacks: &[Stack]| {
        (stacks.iter()).any(|s| contains_in_order(s, &["proc_root_lookup"]))
    };
    if !reached(first) {
        return fail(
            "the first open to reach proc_root_lookup",
            recorded_stacks(first),
        );
    }
    if reached(second) {
        return fail(
            "no proc_root_lookup in the second open",
            recorded_stacks(second),
        );
    }
    Ok(format!(
        "first open of {path}: {} through proc_root_lookup; second open: \
         {}, none through proc_root_lookup",
        crate::claims::how_many(first.len(), "stack"),
        crate::claims::how_many(second.len(), "stack")
    ))
}
