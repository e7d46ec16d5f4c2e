//! Each claim, checked on the live kernel against a demo target: one
//! test per claim of the registry (`checker::each_claim!`), so a kernel
//! that breaks one names it.

use checker::claims::{self, CLAIMS, Context, Outcome};

use crate::support::{Runner, live_target, not_run, proc, skipped};

/// The outcome of claim `id` on a fresh demo target with `threads`
/// threads, with tracing and the audit asked for or not.
fn outcome(id: &str, threads: u32, trace: bool, audit: bool) -> Outcome {
    let claim = claims::find(id).unwrap_or_else(|| panic!("no claim {id}"));
    let (proc, target) = (proc(), live_target(threads));
    let cx = Context::new(&proc, &target).with_trace(trace);
    claim.run(&cx.with_audit(audit))
}

/// Check the claim `id` against a fresh demo target with `threads`
/// threads and require a pass.
fn holds(id: &str, threads: u32) {
    // The audit claim runs only when asked; the others ignore it.
    match outcome(id, threads, false, true) {
        Outcome::Pass { observed } => assert!(!observed.is_empty()),
        other => panic!("{id} did not hold on this kernel: {other:?}"),
    }
}

/// One test per claim of the registry, named after it. A tracing claim
/// needs root and a kernel that lets root trace: it passes where it
/// does, and elsewhere skips with the reason, never fails.
macro_rules! live {
    ($($id:ident),* $(,)?) => {
        $(
            #[test]
            fn $id() {
                let claim = claims::find(stringify!($id)).unwrap();
                let refused = skipped(Runner::Here);
                let mount = claim.id == "audit_finds_a_mount_over_a_process";
                match claim.traces() {
                    true => traced_holds_or_skips(claim.id),
                    false if mount => holds_as_root_else_skips(claim.id),
                    false if refused.contains(&claim.id) => {
                        skips_naming_the_refusal(claim.id)
                    }
                    false => holds(claim.id, 3),
                }
            }
        )*
    };
}

checker::each_claim!(live);

/// A claim that mounts: as root it holds; as a user it skips, naming
/// the privilege.
fn holds_as_root_else_skips(id: &str) {
    if nix::unistd::geteuid().is_root() {
        return holds(id, 3);
    }
    match outcome(id, 1, false, true) {
        Outcome::Skip { reason } => {
            assert!(reason.starts_with("needs root: "), "{reason}")
        }
        other => panic!("{id} as a user: {other:?}"),
    }
}

/// Where this system refuses the pid-namespace probe (tests/build.rs
/// found so), its claim must skip, and say why.
fn skips_naming_the_refusal(id: &str) {
    match outcome(id, 1, false, false) {
        Outcome::Skip { reason } => assert!(
            reason.starts_with(
                "cannot make a pid namespace with its own \
                                procfs: "
            ),
            "{reason}"
        ),
        other => panic!("{id} where its probe is refused: {other:?}"),
    }
}

fn traced_holds_or_skips(id: &str) {
    match outcome(id, 1, true, false) {
        Outcome::Pass { .. } => {}
        Outcome::Skip { reason } => {
            assert!(reason.len() > 20, "a vague reason: {reason}");
            // Only what was observed, and no fix that does not exist.
            assert!(!reason.contains("lockdown=none"), "{reason}");
            assert!(!reason.contains("boot without"), "{reason}");
        }
        fail => panic!("{id} failed: {fail:?}"),
    }
}

#[test]
fn claims_that_need_asking_are_not_run_unless_asked_for() {
    let proc = proc();
    let target = live_target(1);
    let cx = Context::new(&proc, &target);
    let opt_in = CLAIMS.iter().filter(|claim| claim.opt_in().is_some());
    let mut flags = Vec::new();
    for claim in opt_in {
        let flag = claim.opt_in().unwrap().flag();
        match claim.run(&cx) {
            Outcome::NotRun { reason } => assert!(reason.contains(flag)),
            other => panic!("{}: {other:?}", claim.id),
        }
        flags.push(flag);
    }
    assert!(flags.contains(&"--trace") && flags.contains(&"--audit"));
}

#[test]
fn a_group_of_two_hundred_threads_holds_every_claim() {
    let proc = proc();
    let target = live_target(200);
    let report = checker::cli::check(&proc, &target, CLAIMS);
    assert!(report.held(), "{}", checker::report::json(&report));
    // The tracing claims and the audit were not asked for; only the
    // pid-namespace claim skips, where this system refuses its probe.
    let skipped = skipped(Runner::Here);
    assert_eq!(report.summary.skip, skipped.len());
    assert_eq!(report.summary.not_run, not_run().len());
}
