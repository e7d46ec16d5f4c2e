//! The lookup path, from the kernel's own stacks.
//! Book: "Tracing it yourself".

use crate::claims::tracing::{
    LOOKUP, one_line, open_fresh_comm, recorded_stacks,
};
use crate::claims::{Claim, Context, OptIn, Proof, fail};
use crate::trace::{Stack, contains_in_order, entered_in_order};

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "Opening /proc/<TID>/comm for the first time goes through \
                __lookup_slow, proc_root_lookup and proc_pid_lookup.",
    kernel: "__lookup_slow() (fs/namei.c) -> proc_root_lookup() \
             (fs/proc/root.c) -> proc_pid_lookup() (fs/proc/base.c)",
    opt_in: Some(OptIn::Trace),
    since: None,
    check,
};

/// The dentry cache has no `<TID>` entry yet, so the path walk falls to
/// `__lookup_slow()` (fs/namei.c), which asks the procfs root's
/// `lookup`: `proc_root_lookup()` (fs/proc/root.c) tries
/// `proc_pid_lookup()` (fs/proc/base.c) before the static entries. The
/// TID is a thread the checker starts for this claim, so nothing has
/// looked it up before.
fn check(cx: &Context<'_>) -> Proof {
    let opens = open_fresh_comm(cx, 1)?;
    let what = format!("opening {} (thread {})", opens.path, opens.tid);
    judge(&what, &opens.stacks[0])
}

/// The verdict on the stacks recorded while opening a fresh
/// `/proc/<TID>/comm`; `what` says which open, for the evidence.
pub fn judge(what: &str, stacks: &[Stack]) -> Proof {
    let wanted = ["proc_pid_lookup", "proc_root_lookup", "__lookup_slow"];
    if let Some(stack) = stacks.iter().find(|s| contains_in_order(s, &wanted))
    {
        return Ok(format!("{what}: {}", one_line(stack)));
    }
    // The tracer sometimes records a call with only its caller and no
    // stack (seen on 5.10): then the chain shows as two links, one per
    // traced function, entered in order.
    let link = |pair: &[&str]| {
        (stacks.iter().find(|s| contains_in_order(s, pair))).map(one_line)
    };
    let links = (
        link(&["proc_root_lookup", "__lookup_slow"]),
        link(&["proc_pid_lookup", "proc_root_lookup"]),
    );
    match links {
        (Some(root), Some(pid)) if entered_in_order(stacks, &LOOKUP) => {
            Ok(format!("{what}: {root}; then {pid}"))
        }
        _ => fail(
            "a stack with proc_pid_lookup <- proc_root_lookup <- \
             __lookup_slow",
            recorded_stacks(stacks),
        ),
    }
}
