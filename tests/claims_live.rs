//! Each claim, checked on the live kernel against a demo target: one
//! test per claim, so a kernel that breaks one names it.
//!
//! A tidy test (`tidy.rs`) checks that every claim of the registry has
//! its test here.

use checker::claims::{self, Context, Outcome};

use crate::support::{live_target, proc};

/// Check the claim `id` against a fresh demo target with `threads`
/// threads and require a pass.
fn holds(id: &str, threads: u32) {
    let claim = claims::find(id).unwrap_or_else(|| panic!("no claim {id}"));
    let proc = proc();
    let target = live_target(threads);
    let cx = Context::new(&proc, &target);
    match (claim.check)(&cx) {
        Outcome::Pass { observed } => assert!(!observed.is_empty()),
        other => panic!("{id} did not hold on this kernel: {other:?}"),
    }
}

macro_rules! live {
    ($($id:ident),* $(,)?) => {
        $(
            #[test]
            fn $id() {
                holds(stringify!($id), 3);
            }
        )*
    };
}

live!(
    listing_shows_the_tgid_but_no_other_tid,
    every_tid_resolves_by_lookup,
    tid_status_is_the_threads_own_view,
    task_dir_lists_the_whole_group_from_any_tid,
    self_links_come_before_the_pids,
    listing_positions_follow_tgid_arithmetic,
    lookup_is_relative_to_the_mounts_pid_namespace,
    pid_names_are_parsed_strictly,
    exited_thread_no_longer_resolves,
    tid_comm_is_the_threads_own_name,
    tid_stat_sums_cpu_over_the_group,
);

/// The tracing claims need root and a kernel that lets root trace: they
/// pass where it does, and elsewhere skip with the reason, never fail.
macro_rules! live_or_skip {
    ($($id:ident),* $(,)?) => {
        $(
            #[test]
            fn $id() {
                let claim = claims::find(stringify!($id)).unwrap();
                let proc = proc();
                let target = live_target(1);
                let cx = Context::new(&proc, &target).with_trace(true);
                match (claim.check)(&cx) {
                    Outcome::Pass { .. } => {}
                    Outcome::Skip { reason } => {
                        assert!(reason.len() > 20, "a vague reason: {reason}");
                        eprintln!("skipped: {reason}");
                    }
                    fail => panic!("{} failed: {fail:?}", claim.id),
                }
            }
        )*
    };
}

live_or_skip!(
    listing_passes_through_proc_pid_readdir,
    tid_lookup_passes_through_proc_pid_lookup,
    cached_dentry_skips_proc_root_lookup,
);

#[test]
fn tracing_claims_skip_unless_asked_for() {
    let proc = proc();
    let target = live_target(1);
    let cx = Context::new(&proc, &target);
    let claim = claims::find("listing_passes_through_proc_pid_readdir");
    match (claim.unwrap().check)(&cx) {
        Outcome::Skip { reason } => assert!(reason.contains("--trace")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_group_of_two_hundred_threads_holds_every_claim() {
    let proc = proc();
    let target = live_target(200);
    let all: Vec<_> = claims::CLAIMS.iter().collect();
    let report = checker::cli::check(&proc, &target, &all);
    assert!(report.held(), "{}", checker::report::json(&report));
    // Only the tracing claims skip, as they were not asked for.
    assert_eq!(report.summary.skip, 3);
}
