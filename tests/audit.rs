//! `checker audit` on the live kernel: nothing hidden found while tasks
//! come and go, its report in each format, and its exit statuses; as
//! root, a process hidden by each kind of mount over its `/proc/<pid>`
//! found; a userspace hider (`LD_PRELOAD`) that fools `ps` and not the
//! audit. Every JSON report is checked against checker/audit.schema.json.
//!
//! The classifier itself, each kind of finding from doctored answers,
//! is tested in checker/src/audit.rs; a kernel that really hides a
//! process is the matrix's mutant `readdir-hides-a-comm`.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::{
    CHECKER, Churn, DEMO, Redactor, Sleeper, alive, counts_redacted, exited,
    fits_schema, junit_testcases, preload_library, proc, rewrapped, run,
    scratch_dir, started, texts,
};

/// The audit report's JSON Schema, relative to the workspace.
const AUDIT_SCHEMA: &str = "checker/audit.schema.json";

/// The status and the JSON report of an audit that ran, checked against
/// the schema.
fn parsed(output: Output) -> (Option<i32>, serde_json::Value, String) {
    let (stdout, stderr) = texts(&output);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    fits_schema(AUDIT_SCHEMA, &stdout);
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
        let json = ["audit", "--format", "json"];
        let (code, report, text) =
            parsed(run(Command::new(CHECKER).args(json)));
        assert_eq!(report["findings"], serde_json::json!([]), "{text}");
        assert_eq!(code, Some(0), "{text}");
        assert_eq!(report["schema_version"], 2, "{text}");
        assert_eq!(
            report["kernel"]["release"],
            checker::cli::kernel_release(),
            "{text}"
        );
        let listed = report["listed"].as_u64().unwrap();
        let resolved = report["resolved"].as_u64().unwrap();
        assert!(resolved >= listed && listed > 0, "{text}");
        transient += report["transient"].as_u64().unwrap();
    }
    // Both churners were seen alive, by both views.
    assert!(alive(threads.pid()));
    assert!(alive(forks.pid()));
    eprintln!("transient ids over 5 audits under churn: {transient}");
    // The human report shows the transient count, and says what it is.
    let (human, _) = exited(&run(Command::new(CHECKER).arg("audit")), 0);
    assert!(
        human.contains(
            " transient (tasks that started or ended during the audit: \
             gone, replaced or listed when looked at again 50 ms later)"
        ),
        "{human}"
    );
    assert!(human.contains("\nnothing hidden found\n"), "{human}");
    assert!(!human.contains("FOUND"), "{human}");
}

#[test]
fn the_audit_reports_in_tap_and_junit_naming_what_it_checked() {
    let tap = run(Command::new(CHECKER).args(["audit", "--format", "tap"]));
    let (text, _) = exited(&tap, 0);
    assert!(
        text.starts_with("TAP version 13\n1..4\n# ids 1 to "),
        "{text}"
    );
    assert_eq!(text.matches("\nok ").count(), 4, "{text}");
    let junit =
        run(Command::new(CHECKER).args(["audit", "--format", "junit"]));
    let (xml, _) = exited(&junit, 0);
    let cases = junit_testcases(&xml);
    let names: Vec<&str> = cases.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "no process is hidden from the listing",
            "every unlisted id is a thread of a listed process",
            "every listed id resolves",
            "no mount covers a process directory",
        ],
        "{xml}"
    );
    assert!(cases.iter().all(|c| c.1 != "failure"), "{xml}");
}

#[test]
fn an_audit_that_cannot_run_says_why_with_status_3() {
    // Not a procfs.
    let output = run(Command::new(CHECKER).args(["audit", "--proc", "/tmp"]));
    let (_, stderr) = exited(&output, 3);
    assert!(stderr.starts_with("checker: audit: /tmp"), "{stderr}");
    // A usage error is 2, as for the claims (statuses.rs's
    // usage_errors_point_to_a_help_that_lists_the_option: --jobs 0).
    let output = run(Command::new(CHECKER).args(["--trace", "audit"]));
    let (_, stderr) = exited(&output, 2);
    assert!(stderr.contains("cannot be used with"), "{stderr}");
}

#[test]
fn audit_help_matches_its_snapshot() {
    let output = run(Command::new(CHECKER).args(["audit", "--help"]));
    insta::assert_snapshot!("audit_help", exited(&output, 0).0);
}

/// demo-spawner named `name`, with one thread besides its leader, once
/// both are alive.
fn demo(name: &str) -> Sleeper {
    let args = ["--comm", name, "--json", "--exit-after", "120"];
    let mut demo = Command::new(DEMO);
    let (child, line) = started(demo.args(args));
    assert!(line.starts_with('{'), "{line}");
    Sleeper(child)
}

/// `mount` (the shell words after `mount`), then `checker audit` with
/// `args`, in a private mount namespace (`unshare -m`), as the issue's
/// operator did; then the mount table's line for `point`, which must
/// still be there: the audit unmounts nothing.
fn audit_under(mount: &str, point: &str, args: &[&str]) -> Output {
    let script = format!(
        "mount {mount} || exit 99
\"$0\" audit \"$@\"
status=$?
grep -q \" {point} \" /proc/self/mountinfo || echo 'the mount went' >&2
exit $status"
    );
    let output = run(Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(script)
        .arg(CHECKER)
        .args(args));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(99), "mount {mount}: {stderr}");
    assert!(!stderr.contains("the mount went"), "{stderr}");
    output
}

/// The one finding of an audit under `mount`, which must be a mount over
/// process `pid`, with the audit's "found" status, in JSON (checked
/// against the schema) and for people.
fn the_mount_over(pid: u32, mount: &str) -> serde_json::Value {
    let point = format!("/proc/{pid}");
    let (code, report, text) =
        parsed(audit_under(mount, &point, &["--format", "json"]));
    assert_eq!(code, Some(1), "{text}");
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{text}");
    let finding = findings[0].clone();
    assert_eq!(finding["kind"], "mount-over-process", "{text}");
    assert_eq!(finding["id"], pid, "{text}");
    assert_eq!(finding["mount"]["point"], point.as_str(), "{text}");
    let mount_id = finding["mount"]["id"].as_u64().unwrap();
    assert!(mount_id > 0, "{text}");
    // The same, for people: the covered pid and the mount, by id.
    let output = audit_under(mount, &point, &[]);
    let (human, _) = exited(&output, 1);
    assert!(
        human.contains(&format!("\nFOUND mount over process {pid}\n")),
        "{human}"
    );
    assert!(human.contains("      mount: id "), "{human}");
    assert!(human.contains(&format!(" on {point}: ")), "{human}");
    assert!(
        human.contains("\nfound 1 mount over a process directory\n"),
        "{human}"
    );
    finding
}

#[test]
#[ignore = "needs root: bind-mounts an empty directory over /proc/<pid> \
            in a private mount namespace"]
fn an_empty_directory_bound_over_a_process_is_found() {
    let hidden = Sleeper::start(Path::new("sleep"));
    let empty = scratch_dir("audit-empty");
    let mount = format!("--bind {} /proc/{}", empty.display(), hidden.pid());
    let finding = the_mount_over(hidden.pid(), &mount);
    assert_eq!(finding["mount"]["root"], empty.to_str().unwrap());
    let lookup = finding["lookup"].as_str().unwrap();
    assert!(lookup.contains("now shows an empty directory"), "{lookup}");
    assert!(lookup.contains("ended on mount"), "{lookup}");
    assert!(finding.get("shows_process").is_none(), "{finding}");
}

#[test]
#[ignore = "needs root: bind-mounts /proc/<other> over /proc/<pid> in a \
            private mount namespace"]
fn another_process_bound_over_a_process_is_found_not_taken_for_it() {
    let hidden = Sleeper::start(Path::new("sleep"));
    let shown = Sleeper::start(Path::new("sleep"));
    let mount = format!("--bind /proc/{} /proc/{}", shown.pid(), hidden.pid());
    let finding = the_mount_over(hidden.pid(), &mount);
    // ps shows the other process twice; the audit names the hidden one,
    // and the other only as what the mount shows.
    assert_eq!(finding["shows_process"], shown.pid(), "{finding}");
    assert_eq!(finding["mount"]["fstype"], "proc", "{finding}");
    assert_eq!(finding["mount"]["source"], "proc", "{finding}");
    assert_eq!(
        finding["mount"]["root"],
        format!("/{}", shown.pid()),
        "{finding}"
    );
    assert!(finding.get("tgid").is_none() && finding.get("comm").is_none());
    let lookup = finding["lookup"].as_str().unwrap();
    assert!(
        lookup.contains(&format!(
            "now shows the directory of process {} (sleep)",
            shown.pid()
        )),
        "{lookup}"
    );
    // The report the book shows, wrapped for its column.
    let report = report_under_a_bind(hidden.pid(), shown.pid());
    insta::assert_snapshot!("audit_report_of_a_bind_mount", report);
}

/// The human report, at 76 columns, of an audit made in this process,
/// on a thread with a mount namespace of its own (allowed in a process
/// of many threads: only a new user namespace needs a single thread),
/// where `/proc/<shown>` is bound over `/proc/<hidden>`. Counts and
/// mount ids redacted.
fn report_under_a_bind(hidden: u32, shown: u32) -> String {
    use checker::audit;
    use nix::mount::{MsFlags, mount};
    let none: Option<&str> = None;
    let text = std::thread::spawn(move || {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).unwrap();
        let private = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
        mount(none, "/", none, private, none).unwrap();
        let (from, to) = (format!("/proc/{shown}"), format!("/proc/{hidden}"));
        mount(
            Some(from.as_str()),
            to.as_str(),
            none,
            MsFlags::MS_BIND,
            none,
        )
        .unwrap();
        let proc = proc();
        let pid_max = audit::pid_max(&proc).unwrap();
        let scan = audit::scan(&proc, Path::new("/proc"), pid_max, 2, &|_| {})
            .unwrap();
        let verdicts = audit::classify(&proc, &scan, audit::SETTLE).unwrap();
        let release = checker::cli::kernel_release();
        let report = audit::Audit::new(release, "/proc", &scan, verdicts);
        fits_schema(AUDIT_SCHEMA, &audit::json(&report));
        // Wrapped only once its numbers are redacted, below.
        audit::human(&report, None)
    })
    .join()
    .unwrap();
    let whole = Redactor::default()
        .name(hidden, "PID")
        .name(shown, "OTHER")
        .keep(audit::SETTLE.as_millis())
        .with_numbers()
        .redact(&counts_redacted(&text));
    rewrapped(&whole, 76)
}

#[test]
#[ignore = "needs root: mounts a tmpfs over /proc/<pid> in a private \
            mount namespace"]
fn a_tmpfs_over_a_process_is_found() {
    let hidden = Sleeper::start(Path::new("sleep"));
    let mount = format!("-t tmpfs audit-tmpfs /proc/{}", hidden.pid());
    let finding = the_mount_over(hidden.pid(), &mount);
    assert_eq!(finding["mount"]["fstype"], "tmpfs", "{finding}");
    assert_eq!(finding["mount"]["source"], "audit-tmpfs", "{finding}");
    let lookup = finding["lookup"].as_str().unwrap();
    assert!(lookup.contains("now shows an empty directory"), "{lookup}");
}

/// Test that a `LD_PRELOAD` library that filters `readdir()`, as
/// libprocesshider does, fools `ps` but not the checker: it lists with
/// `getdents64` itself. Had the audit's listing missed the process while
/// its lookup resolved, the audit would report a hidden process.
#[test]
#[cfg_attr(
    no_cc,
    ignore = "needs a C compiler: no cc on the PATH \
                            (apt-get install gcc)"
)]
#[cfg_attr(
    no_ps,
    ignore = "needs ps: none on the PATH (apt-get install \
                            procps)"
)]
fn a_readdir_filter_fools_ps_but_not_the_checker() {
    const NAME: &str = "preload-hidden";
    let library = preload_library(&scratch_dir("audit-preload"))
        .unwrap_or_else(|why| panic!("{why}"));
    // Two thread ids, so that the claims have one to look for.
    let hidden = demo(NAME);
    let pid = hidden.pid().to_string();
    let preload = |command: &mut Command| {
        command.env("LD_PRELOAD", &library).env("HIDE_COMM", NAME);
    };
    let pids = |with_library: bool| {
        let mut ps = Command::new("ps");
        ps.args(["-e", "-o", "pid="]);
        if with_library {
            preload(&mut ps);
        }
        let output = run(&mut ps);
        assert!(output.status.success());
        String::from_utf8_lossy(&output.stdout)
            .split_whitespace()
            .any(|p| p == pid)
    };
    assert!(pids(false), "ps shows {pid} without the library");
    assert!(!pids(true), "ps shows {pid} with the library: not fooled");
    // The audit under the same library: nothing hidden, exit 0.
    let mut audit = Command::new(CHECKER);
    audit.args(["audit", "--format", "json"]);
    preload(&mut audit);
    let (code, report, text) = parsed(run(&mut audit));
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(report["findings"], serde_json::json!([]), "{text}");
    // And the claims on that process: the listing shows it.
    let mut claims = Command::new(CHECKER);
    claims
        .args(["--pid", &pid, "--format", "json"])
        .args(["--only", "listing_shows_the_tgid_but_no_other_tid"]);
    preload(&mut claims);
    let output = run(&mut claims);
    let (text, _) = exited(&output, 0);
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["claims"][0]["outcome"], "pass", "{text}");
    assert_eq!(report["target"]["leader"], hidden.pid(), "{text}");
}
