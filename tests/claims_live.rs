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
    pid_names_are_parsed_strictly,
    exited_thread_no_longer_resolves,
    tid_comm_is_the_threads_own_name,
    tid_stat_sums_cpu_over_the_group,
);

#[test]
fn a_group_of_two_hundred_threads_holds_every_claim() {
    let proc = proc();
    let target = live_target(200);
    let all: Vec<_> = claims::CLAIMS.iter().collect();
    let report = checker::cli::check(&proc, &target, &all);
    assert!(report.held(), "{}", checker::report::json(&report));
    assert_eq!(report.summary.skip, 0);
}
