//! `checker audit` on the live kernel: nothing hidden found while tasks
//! come and go, its report in each format, and its exit statuses.
//!
//! The classifier itself, each kind of finding from doctored answers,
//! is tested in checker/src/audit.rs; a kernel that really hides a
//! process is the matrix's mutant `readdir-hides-a-comm`.

use std::process::Command;

use crate::support::{CHECKER, Churn, junit_testcases, run};

/// Every field of `checker audit --format json`, parsed.
fn audit_json() -> (Option<i32>, serde_json::Value, String) {
    let output =
        run(Command::new(CHECKER).args(["audit", "--format", "json"]));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    (output.status.code(), report, stdout)
}

#[test]
fn under_thread_and_process_churn_the_audit_finds_nothing_hidden() {
    let threads = Churn::start("threads");
    let forks = Churn::start("forks");
    // Several audits: each races thousands of tasks that start and end
    // while it looks up every id.
    let mut transient = 0;
    for _ in 0..5 {
        let (code, report, text) = audit_json();
        assert_eq!(report["findings"], serde_json::json!([]), "{text}");
        assert_eq!(code, Some(0), "{text}");
        assert_eq!(report["schema"], "proc-threads-audit/1", "{text}");
        let listed = report["listed"].as_u64().unwrap();
        let resolved = report["resolved"].as_u64().unwrap();
        assert!(resolved >= listed && listed > 0, "{text}");
        transient += report["transient"].as_u64().unwrap();
    }
    // Both churners were seen alive, by both views.
    assert!(crate::support::alive(threads.pid()));
    assert!(crate::support::alive(forks.pid()));
    eprintln!("transient ids over 5 audits under churn: {transient}");
    // The human report shows the transient count, and says so.
    let output = run(Command::new(CHECKER).arg("audit"));
    let human = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{human}");
    assert!(human.contains(" transient"), "{human}");
    assert!(human.contains("\nnothing hidden found\n"), "{human}");
    assert!(!human.contains("FOUND"), "{human}");
}

#[test]
fn the_audit_reports_in_tap_and_junit_naming_what_it_checked() {
    let tap = run(Command::new(CHECKER).args(["audit", "--format", "tap"]));
    let text = String::from_utf8_lossy(&tap.stdout);
    assert_eq!(tap.status.code(), Some(0), "{text}");
    assert!(
        text.starts_with("TAP version 13\n1..3\n# ids 1 to "),
        "{text}"
    );
    assert_eq!(text.matches("\nok ").count(), 3, "{text}");
    let junit =
        run(Command::new(CHECKER).args(["audit", "--format", "junit"]));
    let xml = String::from_utf8_lossy(&junit.stdout);
    assert_eq!(junit.status.code(), Some(0), "{xml}");
    let cases = junit_testcases(&xml);
    let names: Vec<&str> = cases.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "no process is hidden from the listing",
            "every unlisted id is a thread of a listed process",
            "every listed id resolves",
        ],
        "{xml}"
    );
    assert!(cases.iter().all(|c| c.1 != "failure"), "{xml}");
}

#[test]
fn an_audit_that_cannot_run_says_why_with_status_3() {
    // Not a procfs.
    let output = run(Command::new(CHECKER).args(["audit", "--proc", "/tmp"]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.starts_with("checker: audit: /tmp"), "{stderr}");
    // A usage error is 2, as for the claims.
    let output = run(Command::new(CHECKER).args(["audit", "--jobs", "0"]));
    assert_eq!(output.status.code(), Some(2));
    let output = run(Command::new(CHECKER).args(["--trace", "audit"]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}

#[test]
fn audit_help_matches_its_snapshot() {
    let output = run(Command::new(CHECKER).args(["audit", "--help"]));
    assert_eq!(output.status.code(), Some(0));
    insta::assert_snapshot!(
        "audit_help",
        String::from_utf8_lossy(&output.stdout)
    );
}
