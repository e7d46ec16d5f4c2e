//! The churn harness: the whole checker, run again and again on a
//! machine where other processes fork, exec and exit all the time, a
//! process starts and joins threads in a loop, and every core is busy.
//! A FAIL must mean the kernel, so here no claim may fail, for root nor
//! for a user who may not read root's files.
//!
//! This is a test binary of its own (the crate's other tests are in
//! `main.rs`) so that the load it makes runs alone: Cargo runs test
//! binaries one after the other, and the other tests have time bounds
//! that a machine with every core busy could break. It is not timed:
//! `just bench` measures what the tolerance costs.

#![cfg(target_os = "linux")]

// The helpers of the main test binary, not all of which are used here.
#[allow(dead_code)]
mod support;

use std::process::{Command, Output};

use crate::support::{
    CHECKER, Churn, alive, as_a_user, live_target, run, texts,
};

/// Full runs of the checker under churn, by whoever runs the tests.
const RUNS: usize = 50;
/// Runs as an unprivileged user, on a process of root's.
const RUNS_AS_USER: usize = 20;

/// The load: a process that starts and joins threads, one that forks
/// and reaps children, one that runs `true` (fork, exec, exit), each
/// in a tight loop, and a CPU hog per core. All killed when dropped.
fn churn() -> Vec<Churn> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut load: Vec<Churn> =
        ["threads", "forks", "execs"].map(Churn::start).into();
    load.extend((0..cores).map(|_| Churn::start("hog")));
    load
}

/// The lines of a TAP report that are not `ok`, with the YAML block of
/// evidence under each.
fn failures(output: &Output) -> Vec<String> {
    let text = String::from_utf8_lossy(&output.stdout);
    let mut failed = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with("not ok") {
            continue;
        }
        let mut evidence = vec![line.to_string()];
        while let Some(next) = lines.next_if(|l| l.starts_with("  ")) {
            evidence.push(next.to_string());
        }
        failed.push(evidence.join("\n"));
    }
    failed
}

#[test]
fn under_churn_no_claim_fails() {
    let load = churn();
    let mut failed = Vec::new();
    for number in 0..RUNS {
        let mut command = Command::new(CHECKER);
        command.args(["--format", "tap"]);
        // Every tenth run audits too: every id up to pid_max looked up
        // while tasks come and go.
        if number % 10 == 9 {
            command.arg("--audit");
        }
        let output = run(&mut command);
        let code = output.status.code();
        let found = failures(&output);
        if code != Some(0) || !found.is_empty() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            failed.push(format!("run {number}: {code:?} {found:#?} {stderr}"));
        }
    }
    // The load ran throughout: every churner was still at work.
    for churner in &load {
        assert!(alive(churner.pid()), "a churner died");
    }
    assert!(
        failed.is_empty(),
        "{} of {RUNS} runs: {failed:#?}",
        failed.len()
    );
    eprintln!("{RUNS} runs of the checker under churn: no claim failed");
}

#[test]
#[ignore = "needs root: runs the checker as a user on a process of root's"]
fn as_a_user_on_a_process_of_roots_no_claim_fails_under_churn() {
    let _load = churn();
    // Root's multi-threaded process, which the user may list and read
    // in part: its cwd, root and exe links are withheld.
    let target = live_target(8);
    let pid = target.pid.to_string();
    let mut skipped = String::new();
    for number in 0..RUNS_AS_USER {
        let output =
            run(as_a_user(CHECKER).args(["--pid", &pid, "--format", "tap"]));
        let (stdout, stderr) = texts(&output);
        assert_eq!(failures(&output), Vec::<String>::new(), "run {number}");
        let code = output.status.code();
        assert!(matches!(code, Some(0 | 4)), "{code:?}: {stdout}{stderr}");
        skipped = stdout;
    }
    // A withheld file is a skip that names it and the privilege.
    let cwd = format!("/proc/{pid}/cwd");
    let shared = skipped
        .lines()
        .find(|l| l.contains("shared_attributes_read_the_same"))
        .unwrap();
    assert!(shared.contains("# SKIP"), "{shared}");
    assert!(shared.contains(&cwd), "{shared}");
    assert!(shared.contains("run as its owner or as root"), "{shared}");
}
