//! The listing path, from the kernel's own stacks.
//! Book: "Tracing it yourself".

use crate::claims::tracing::{one_line, recorded_stacks, session};
use crate::claims::{Claim, Context, OptIn, Proof, fail, skip};
use crate::trace::{Stack, contains_in_order, entered_in_order};

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "Listing /proc enters proc_root_readdir and then \
                proc_pid_readdir, both called from iterate_dir.",
    kernel: "iterate_dir() (fs/readdir.c) -> proc_root_readdir() \
             (fs/proc/root.c) -> proc_pid_readdir() (fs/proc/base.c)",
    opt_in: Some(OptIn::Trace),
    since: None,
    check,
};

const FUNCTIONS: [&str; 2] = ["proc_root_readdir", "proc_pid_readdir"];

/// `getdents64` calls `iterate_dir()` (fs/readdir.c), which calls the
/// directory's `iterate_shared`: for the procfs root that is
/// `proc_root_readdir()` (fs/proc/root.c), which ends with `return
/// proc_pid_readdir(file, ctx);` (fs/proc/base.c). That is a tail
/// call, so on every kernel of the matrix `proc_pid_readdir`'s stack
/// shows `iterate_dir` as its caller, and the order of the two shows in
/// the order they were entered instead.
fn check(cx: &Context<'_>) -> Proof {
    let mut session = session(&FUNCTIONS)?;
    let recorded = session.record(|| cx.proc.list("."));
    drop(session);
    let (_, stacks) = recorded.or_else(|why| skip(why.reason))?;
    judge(&stacks)
}

/// The verdict on the stacks recorded while listing `/proc`.
pub fn judge(stacks: &[Stack]) -> Proof {
    let called_from_iterate_dir = |function| {
        (stacks.iter())
            .find(|s| contains_in_order(s, &[function, "iterate_dir"]))
    };
    let root = called_from_iterate_dir("proc_root_readdir");
    let pid = called_from_iterate_dir("proc_pid_readdir");
    match (root, pid) {
        (Some(root), Some(pid)) if entered_in_order(stacks, &FUNCTIONS) => {
            Ok(format!(
                "{}; {}; then {}",
                crate::claims::how_many(stacks.len(), "stack"),
                one_line(root),
                one_line(pid)
            ))
        }
        _ => fail(
            "proc_root_readdir, then proc_pid_readdir, each called from \
             iterate_dir",
            recorded_stacks(stacks),
        ),
    }
}
