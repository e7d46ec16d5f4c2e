//! What a detector of hidden processes does, as a claim: every id that
//! resolves in `/proc` is listed, or is a thread of a listed process.
//! Runs only when asked (`--audit`, see `Claim::opt_in`): it looks up
//! every id up to `pid_max`.
//! Book: "Hidden processes, and why detectors trip over threads".

use crate::audit::{self, Class};
use crate::children::short_lived_with;
use crate::claims::{Claim, Context, OptIn, Proof, fail, skip};

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "An audit of every id up to pid_max finds no process that \
                resolves but is neither listed nor a thread of a listed \
                one, a freshly started process included.",
    kernel: "proc_pid_readdir() lists every thread-group leader, \
             proc_pid_lookup() resolves every task (fs/proc/base.c)",
    opt_in: Some(OptIn::Audit),
    since: None,
    check,
};

/// The name of the process the claim starts before it looks: a kernel
/// that hides processes by name, as the matrix's mutant
/// `readdir-hides-a-comm` does, leaves it out of the listing.
pub const BAIT: &str = "audit-bait";

/// `proc_pid_readdir()` (fs/proc/base.c) lists every thread-group
/// leader, and `proc_pid_lookup()` resolves every task, so an id that
/// resolves without being listed must be a thread whose group is
/// listed and whose `task/` names it. `audit.rs` looks up every id and
/// classifies those that disagree, looking twice before it reports one.
// ANCHOR: proof
fn check(cx: &Context<'_>) -> Proof {
    let bait = short_lived_with(cx.launcher(), 1, &["--comm", BAIT])
        .or_else(|why| skip(format!("could not start the bait: {why}")))?;
    let (scan, verdicts) = audit::run(cx.proc, cx.proc.root(), None, &|_, _| {})?;
    let found: Vec<String> = verdicts
        .iter()
        .filter(|v| v.kind.is_finding())
        .map(audit::one_line)
        .collect();
    if !found.is_empty() {
        return fail(
            "no hidden process, orphan thread, listed id that does not \
             resolve or mount over a process",
            found.join("; "),
        );
    }
    if !scan.listed.contains(bait.pid()) {
        return fail(
            format!("the bait {} ({BAIT}) listed", bait.pid()),
            "it is not listed, though the audit found nothing hidden",
        );
    }
    let transient = verdicts.iter().filter(|v| v.kind == Class::Transient);
    Ok(format!(
        "ids 1 to {}: {} resolve, {} listed, the bait {} ({BAIT}) among \
         them, {} transient",
        scan.pid_max - 1,
        scan.resolved,
        scan.listed.len(),
        bait.pid(),
        transient.count()
    ))
}
// ANCHOR_END: proof
