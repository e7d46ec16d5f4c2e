//! The tracing claims' verdicts on kernel stacks captured in the VMs of
//! `cargo xtask matrix` (Debian's 5.10, 6.1, 6.12 and 7.3 kernels), and
//! the redacted stacks the book shows. The host that runs the tests
//! need not be able to trace: the captures are the evidence.

use checker::claims::{
    Proof, cached_dentry_skips_proc_root_lookup as cached,
    listing_passes_through_proc_pid_readdir as listing,
    tid_lookup_passes_through_proc_pid_lookup as lookup,
};
use checker::trace::{Stack, contains_in_order, parse_trace, redacted};

use crate::support::workspace;

const KERNELS: &[&str] = &["5.10", "6.1", "6.12", "7.3"];

/// The stacks of one capture, `samples/<kernel>-<what>.txt`.
fn capture(kernel: &str, what: &str) -> Vec<Stack> {
    let path = workspace()
        .join(format!("checker/src/trace/samples/{kernel}-{what}.txt"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    parse_trace(&text)
}

fn passes(proof: Proof) {
    assert!(proof.is_ok(), "{proof:?}");
}

fn fails(proof: Proof) {
    assert!(
        matches!(proof, Err(checker::claims::Stop::Fail { .. })),
        "{proof:?}"
    );
}

#[test]
fn every_kernels_captures_pass_the_tracing_claims() {
    for kernel in KERNELS {
        passes(listing::judge(&capture(kernel, "listing")));
        let lookup = capture(kernel, "lookup");
        passes(lookup::judge("first open", &lookup));
        passes(cached::judge("comm", &lookup, &capture(kernel, "cached")));
    }
}

/// What the parser makes of each capture, beyond the claims' verdicts:
/// two `getdents64` calls, each entering both readdir functions, and no
/// stack holding both (`proc_root_readdir()` tail-calls
/// `proc_pid_readdir()`); one stack per traced lookup function, named
/// as its first frame, with function names only (no ftrace trampoline
/// or address); nothing at all in the second open.
#[test]
fn every_kernels_captures_parse_into_their_stacks() {
    let symbol = |frame: &String| {
        let shape = |c: char| c.is_ascii_alphanumeric() || "_.".contains(c);
        !frame.starts_with("0x") && frame.chars().all(shape)
    };
    for kernel in KERNELS {
        let listing = capture(kernel, "listing");
        assert_eq!(listing.len(), 4, "{kernel}");
        let both = ["proc_pid_readdir", "proc_root_readdir"];
        assert!(!listing.iter().any(|s| contains_in_order(s, &both)));
        let lookup = capture(kernel, "lookup");
        let first: Vec<&str> =
            lookup.iter().map(|s| s.frames[0].as_str()).collect();
        assert_eq!(first, ["proc_root_lookup", "proc_pid_lookup"], "{kernel}");
        let wanted = ["proc_pid_lookup", "proc_root_lookup", "__lookup_slow"];
        assert!(contains_in_order(&lookup[1], &wanted), "{kernel}");
        let frames = lookup.iter().flat_map(|s| &s.frames);
        assert!(frames.clone().all(symbol), "{kernel}: {lookup:?}");
        assert_eq!(capture(kernel, "cached"), [], "{kernel}");
    }
}

/// The redacted lookup differs between kernels only in the middle of
/// the path walk: 6.12's is 5.10's (bar compiler suffixes); 7.3 inlines
/// walk_component and renamed do_filp_open.
#[test]
fn redacted_lookups_differ_between_kernels_only_in_the_middle() {
    let lookup = |kernel| redacted(&capture(kernel, "lookup")[1]);
    let v5_10 = "\
proc_pid_lookup
proc_root_lookup
__lookup_slow
walk_component
link_path_walk
path_openat
do_filp_open
do_sys_openat2
__x64_sys_openat
[ENTRY]
";
    assert_eq!(lookup("5.10"), v5_10);
    assert_eq!(lookup("6.12"), v5_10);
    let v7_3 = "\
proc_pid_lookup
proc_root_lookup
__lookup_slow
lookup_slow
link_path_walk
path_openat
do_file_open
do_sys_openat2
__x64_sys_openat
[ENTRY]
";
    assert_eq!(lookup("7.3"), v7_3);
}

/// Drop every frame named `name`, as if that function were not called.
fn without(stacks: &[Stack], name: &str) -> Vec<Stack> {
    stacks
        .iter()
        .map(|stack| Stack {
            frames: stack
                .frames
                .iter()
                .filter(|frame| *frame != name)
                .cloned()
                .collect(),
        })
        .filter(|stack| !stack.frames.is_empty())
        .collect()
}

#[test]
fn a_listing_without_proc_pid_readdir_fails() {
    let stacks = capture("6.12", "listing");
    fails(listing::judge(&without(&stacks, "proc_pid_readdir")));
    fails(listing::judge(&without(&stacks, "iterate_dir")));
}

#[test]
fn a_lookup_that_bypasses_proc_root_lookup_fails() {
    let stacks = capture("6.12", "lookup");
    fails(lookup::judge(
        "first open",
        &without(&stacks, "proc_root_lookup"),
    ));
    fails(lookup::judge("first open", &[]));
}

#[test]
fn a_second_open_that_looks_up_again_fails() {
    let lookup = capture("6.12", "lookup");
    fails(cached::judge("comm", &lookup, &lookup));
    // Nothing recorded at all proves nothing: that fails too.
    fails(cached::judge("comm", &[], &[]));
}

#[test]
fn redacted_stacks_match_their_snapshot() {
    let mut text = String::new();
    for (what, title) in [
        ("listing", "ls /proc (getdents64)"),
        ("lookup", "first cat /proc/<TID>/comm"),
        ("cached", "second cat /proc/<TID>/comm"),
    ] {
        text += &format!("# {title}\n");
        let stacks = capture("6.12", what);
        if stacks.is_empty() {
            text += "(no call of proc_root_lookup or proc_pid_lookup)\n";
        }
        for stack in stacks {
            text += &redacted(&stack);
            text += "\n";
        }
    }
    insta::assert_snapshot!("stacks", text);
}
