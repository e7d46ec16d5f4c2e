//! The checker end to end: its formats, its exit codes, its one-line
//! errors, and that it leaves no process behind.

use std::process::{Command, Stdio};
use std::time::Duration;

use checker::claims::CLAIMS;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::{
    CHECKER, Redactor, Runner, Sleeper, alive, children_of, eventually,
    exited, helpers, human_all_held, junit_testcases, kernel_limit,
    live_target, not_run, proc, run, skipped, spawned, started,
    valid_report_json, wait_bounded, workspace,
};

#[test]
fn the_default_run_holds_every_claim_and_exits_0() {
    let (stdout, _) = exited(&run(&mut Command::new(CHECKER)), 0);
    let held = human_all_held(Runner::Here);
    assert!(stdout.ends_with(&format!("{held}\n")), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "no colour into a pipe");
    // Piped, each claim's statement is one whole line.
    for claim in CLAIMS {
        let line = format!("     {}", claim.statement);
        assert!(stdout.lines().any(|l| l == line), "{line:?} in\n{stdout}");
    }
}

#[test]
fn json_output_is_one_json_document_with_every_claim() {
    let output = run(Command::new(CHECKER).args(["--format", "json"]));
    assert_eq!(output.status.code(), Some(0));
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert_eq!(report["schema_version"], 3);
    assert_eq!(report["target"]["tids"], 4, "the leader and 3 threads");
    assert_eq!(report["target"]["origin"], "spawned");
    let claims = report["claims"].as_array().expect("claims array");
    let ids: Vec<&str> =
        claims.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let registry: Vec<&str> = CLAIMS.iter().map(|c| c.id).collect();
    assert_eq!(ids, registry);
    // Without --trace and --audit the tracing claims and the audit are
    // not run; the pid-namespace claim skips where this machine refuses
    // its probe; the others pass.
    let skipped = skipped(Runner::Here);
    let not_run = not_run();
    for claim in claims {
        let id = claim["id"].as_str().unwrap();
        let expected = match (skipped.contains(&id), not_run.contains(&id)) {
            (true, _) => "skip",
            (_, true) => "not_run",
            _ => "pass",
        };
        assert_eq!(claim["outcome"], expected, "{claim}");
    }
    let passed = CLAIMS.len() - skipped.len() - not_run.len();
    assert_eq!(report["summary"]["pass"], passed);
    assert_eq!(report["summary"]["skip"], skipped.len());
    assert_eq!(report["summary"]["not_run"], not_run.len());
}

#[test]
fn tap_output_is_tap_version_13() {
    let output = run(Command::new(CHECKER).args(["--format", "tap"]));
    let (text, _) = exited(&output, 0);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("TAP version 13"));
    assert_eq!(lines.next(), Some(format!("1..{}", CLAIMS.len()).as_str()));
    // Every test line is `ok N - id` in registry order, and every other
    // line is a comment or an indented YAML block.
    let mut number = 0;
    for line in lines {
        if let Some(rest) = line.strip_prefix("ok ") {
            number += 1;
            let id = CLAIMS[number - 1].id;
            let test = rest.split(" # SKIP ").next().unwrap();
            assert_eq!(test, format!("{number} - {id}"), "{line}");
        } else {
            assert!(
                line.starts_with('#') || line.starts_with("  "),
                "not TAP: {line:?}"
            );
        }
    }
    assert_eq!(number, CLAIMS.len());
}

/// The two claims of the article, checked live and shown as the book
/// shows a report: ids as one run's numbers, the human report wrapped
/// at the book's 76 columns (redacted first, so that where lines break
/// does not depend on this run's ids), and TAP and JSON for the CI
/// chapter.
#[test]
fn the_books_short_report_matches_its_snapshots() {
    let proc = proc();
    let target = live_target(3);
    let claims: Vec<&'static checker::claims::Claim> = [
        "listing_shows_the_tgid_but_no_other_tid",
        "every_tid_resolves_by_lookup",
    ]
    .iter()
    .map(|id| checker::claims::find(id).unwrap())
    .collect();
    let report = checker::cli::check(&proc, &target, &claims);
    assert!(report.held(), "{}", checker::report::json(&report));
    let redactor = Redactor::default()
        .target(&target)
        .name(std::process::id(), "CHECKER")
        .with_numbers();
    // Redact every string of the report, then render it.
    let mut value = serde_json::to_value(&report).unwrap();
    redact_strings(&mut value, &redactor);
    value["target"]["leader"] = serde_json::json!(4242);
    let report: checker::report::Report =
        serde_json::from_value(value).unwrap();
    let human = checker::report::human(&report, Some(76));
    let human = anstream::adapter::strip_str(&human).to_string();
    assert!(human.lines().all(|line| line.chars().count() <= 76));
    insta::assert_snapshot!("book_human_report", human);
    insta::assert_snapshot!("book_tap_report", checker::report::tap(&report));
    insta::assert_snapshot!(
        "book_json_report",
        checker::report::json(&report)
    );
}

/// Redact every string in `value`, leaving its numbers and keys.
fn redact_strings(value: &mut serde_json::Value, redactor: &Redactor) {
    match value {
        serde_json::Value::String(text) => *text = redactor.redact(text),
        serde_json::Value::Array(items) => {
            items.iter_mut().for_each(|v| redact_strings(v, redactor));
        }
        serde_json::Value::Object(map) => {
            map.values_mut().for_each(|v| redact_strings(v, redactor));
        }
        _ => {}
    }
}

/// Render a live check in each format, redacted, for the book.
#[test]
#[cfg_attr(
    pidns_refused_here,
    ignore = "the book's reports show the \
    pid-namespace claim holding, and this system refuses its probe \
    (tests/build.rs probed it)"
)]
fn reports_in_each_format_match_their_snapshots() {
    let proc = proc();
    let target = live_target(3);
    let report = checker::cli::check(&proc, &target, CLAIMS);
    assert!(report.held(), "{}", checker::report::json(&report));
    let redactor = Redactor::default()
        .target(&target)
        .name(std::process::id(), "CHECKER");
    let human = checker::report::human(&report, None);
    let human = anstream::adapter::strip_str(&human).to_string();
    insta::assert_snapshot!("human_report", redactor.redact(&human));
    let tap = checker::report::tap(&report);
    insta::assert_snapshot!("tap_report", redactor.redact(&tap));
    let json = checker::report::json(&report);
    insta::assert_snapshot!("json_report", redactor.redact(&json));
}

#[test]
fn strict_fails_every_skip_and_leaves_what_was_not_asked_for() {
    let tap = |asked: &[&str], strict: bool| {
        let mut command = Command::new(CHECKER);
        command.args(["--format", "tap"]).args(asked);
        if strict {
            command.arg("--strict");
        }
        let output = run(&mut command);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        (output.status.code(), stdout)
    };
    let line = |stdout: &str, id: &str| {
        let line = stdout
            .lines()
            .find(|l| {
                l.ends_with(&format!(" - {id}"))
                    || l.contains(&format!(" - {id} # SKIP"))
            })
            .unwrap_or_else(|| panic!("{id}: {stdout}"));
        line.to_string()
    };
    // Without --trace and --audit, and with them (then tracing skips
    // where this system refuses it, and --strict fails it).
    for asked in [&[][..], &["--trace", "--audit"][..]] {
        let (_, plain) = tap(asked, false);
        let (code, strict) = tap(asked, true);
        let mut failed = 0;
        for claim in CLAIMS {
            let before = line(&plain, claim.id);
            let after = line(&strict, claim.id);
            let not_run = before.contains(" # SKIP not asked for");
            assert_eq!(not_run, asked.is_empty() && claim.opt_in().is_some());
            let skipped = before.contains(" # SKIP ") && !not_run;
            // The host's kernel postdates every claim's `since` (if it
            // did not, such a skip would stay a skip).
            match skipped && !claim.predates(&checker::cli::kernel_release()) {
                true => {
                    assert!(after.starts_with("not ok"), "{after}");
                    failed += 1;
                }
                false => assert!(
                    after.starts_with("ok") && after == before,
                    "{before} became {after}"
                ),
            }
        }
        assert_eq!(code, Some(i32::from(failed > 0)), "{asked:?}: {strict}");
        let not_run = match asked.is_empty() {
            true => not_run().len(),
            false => 0,
        };
        let passed = CLAIMS.len() - failed - not_run;
        let counts = format!("# pass {passed}, fail {failed}, skip 0");
        assert!(strict.contains(&counts), "{strict}");
    }
    // With no skip, --strict changes nothing: status 0.
    let output = run(Command::new(CHECKER).args([
        "--strict",
        "--only",
        "listing_shows_the_tgid_but_no_other_tid",
    ]));
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn junit_output_is_xml_with_one_testcase_per_claim() {
    let output = run(Command::new(CHECKER).args(["--format", "junit"]));
    let (xml, _) = exited(&output, 0);
    let cases = junit_testcases(&xml);
    let names: Vec<&str> =
        cases.iter().map(|(name, _, _)| name.as_str()).collect();
    let registry: Vec<&str> = CLAIMS.iter().map(|c| c.id).collect();
    assert_eq!(names, registry);
    // A claim that was not asked for is a skipped testcase too, whose
    // message says so.
    let mut skipped = skipped(Runner::Here);
    let not_run = not_run();
    skipped.extend(&not_run);
    for (name, element, text) in &cases {
        match skipped.contains(&name.as_str()) {
            true => {
                assert_eq!(element, "skipped", "{name}");
                assert!(text.len() > 20, "a skip without its reason: {name}");
                let asked = !not_run.contains(&name.as_str());
                assert_eq!(text.starts_with("not asked for"), !asked);
            }
            false => {
                assert_eq!(element, "system-out", "{name}");
                assert!(!text.is_empty(), "{name}: what was observed");
            }
        }
    }
    assert!(xml.contains(&format!("skipped=\"{}\"", skipped.len())));
}

#[test]
fn every_json_snapshot_fits_the_shipped_schema() {
    let dir = workspace().join("tests/snapshots");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        let body = text.splitn(3, "---\n").nth(2).unwrap_or_default();
        if !body.trim_start().starts_with("{\n  \"schema_version\"") {
            continue;
        }
        // The redactions stand in for numbers: `[PID]` and `[N]`.
        let placeholder = |inner: &str| {
            let upper = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit();
            !inner.is_empty() && inner.chars().all(upper)
        };
        let mut pieces = body.split('[');
        let mut json = pieces.next().unwrap_or_default().to_string();
        for piece in pieces {
            match piece.split_once(']') {
                Some((inner, after)) if placeholder(inner) => {
                    json += &format!("1{after}")
                }
                _ => json += &format!("[{piece}"),
            }
        }
        valid_report_json(&json);
        checked += 1;
    }
    assert!(checked >= 1, "no JSON snapshot in {}", dir.display());
}

#[test]
fn help_matches_its_snapshot() {
    let (help, _) = exited(&run(Command::new(CHECKER).arg("--help")), 0);
    insta::assert_snapshot!("help", help);
}

#[test]
fn the_claims_reference_is_generated_from_the_registry() {
    let output =
        run(Command::new(CHECKER).args(["--list", "--format", "markdown"]));
    let (table, _) = exited(&output, 0);
    for claim in CLAIMS {
        assert!(table.contains(&format!("<a id=\"{}\"></a>", claim.id)));
    }
    insta::assert_snapshot!("claims_reference", table);
}

/// The checker's one-line error for `args`, with exit `code`.
fn error_line(args: &[&str], code: i32) -> String {
    let line =
        crate::support::error_line(Command::new(CHECKER).args(args), code);
    assert!(line.starts_with("checker: "), "{line}");
    line
}

#[test]
fn a_pid_that_does_not_exist_could_not_be_checked() {
    // A pid in range that no process has: the highest free one.
    let pid_max = kernel_limit("pid_max");
    let free = (1..pid_max)
        .rev()
        .find(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
        .expect("a free pid");
    let line = error_line(&["--pid", &free.to_string()], 3);
    assert_eq!(
        line,
        format!(
            "checker: no process has pid {free} (/proc/{free} does not \
             exist); list processes with 'ps -e'\n"
        )
    );
}

#[test]
fn pid_takes_1_to_pid_max_less_1_and_says_so() {
    let pid_max = kernel_limit("pid_max");
    let range = format!(
        "pids run from 1 to {} here (/proc/sys/kernel/pid_max)",
        pid_max - 1
    );
    let beyond = pid_max.to_string();
    for args in [
        &["--pid", "-5"][..],
        &["--pid=-5"],
        &["--pid", "0"],
        &["--pid", &beyond],
        &["--pid", "99999999999"],
        &["--pid", "abc"],
        &["-p", "1; echo INJECTED"],
    ] {
        let line = error_line(args, 2);
        assert!(line.contains(&range), "{args:?}: {line}");
        assert!(line.contains("see 'just check --help'"), "{line}");
    }
    // The top of the range is a pid, whether or not a process has it.
    let top = (pid_max - 1).to_string();
    let output = run(Command::new(CHECKER).args(["--pid", &top, "--list"]));
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn counts_of_one_are_singular() {
    // A process with one thread: every count of its ids is 1.
    let single = Sleeper::start(std::path::Path::new("sleep"));
    let pid = single.pid().to_string();
    let output = run(Command::new(CHECKER).args(["--pid", &pid]));
    drop(single);
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("1 thread id)"), "{report}");
    let words: Vec<&str> = report.split_whitespace().collect();
    for pair in words.windows(2) {
        let plural = ["TIDs", "threads", "claims", "stacks", "ids", "ids)"];
        assert!(
            !(pair[0] == "1" && plural.contains(&pair[1])),
            "\"1 {}\" in\n{report}",
            pair[1]
        );
    }
    let one = run(Command::new(CHECKER)
        .args(["--only", "listing_shows_the_tgid_but_no_other_tid"]));
    let one = String::from_utf8_lossy(&one.stdout);
    assert!(one.contains("\n1 claim: 1 passed"), "{one}");
}

#[test]
fn a_kernel_thread_could_not_be_checked() {
    // What `--pid` of a kernel thread reads: its stat flags have
    // PF_KTHREAD. (In a container's pid namespace no kernel thread is
    // visible, so the answer is doctored: pid 1 with kthreadd's flags.)
    let doctored =
        checker::doctored::Doctored::live().edit("1/stat", |text| {
            // The fields after the comm: state is field 3, so the flags,
            // field 9, are the seventh; kthreadd's have PF_KTHREAD
            // (0x00200000).
            let after = &text[text.rfind(')').unwrap() + 2..];
            let mut fields: Vec<&str> = after.split(' ').collect();
            fields[6] = "2129984";
            format!("1 (kthreadd) {}", fields.join(" "))
        });
    let err = checker::target::Target::existing(helpers(), &doctored, 1)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "pid 1 (kthreadd) is a kernel thread: it has no user threads to \
         check; pick a user process"
    );
}

#[test]
fn a_directory_that_is_not_procfs_could_not_be_checked() {
    let line = error_line(&["--proc", "/tmp"], 3);
    assert_eq!(
        line,
        "checker: /tmp is not a procfs; point --proc at a mounted one \
         (`findmnt -t proc` lists them)\n"
    );
    let line = error_line(&["--proc", "/nonexistent"], 3);
    assert!(
        line.contains("cannot use /nonexistent: No such file or directory"),
        "{line}"
    );
}

#[test]
fn usage_errors_are_one_line_with_exit_2() {
    let line = error_line(&["--only", "no_such_claim"], 2);
    assert!(
        line.contains("list them with `just check --list`"),
        "{line}"
    );
    let line = error_line(&["--threads", "0"], 2);
    assert!(line.contains("see 'just check --help'"), "{line}");
    let line = error_line(&["--format", "markdown"], 2);
    assert!(line.contains("use it with --list"), "{line}");
    error_line(&["--pid", "1", "--threads", "2"], 2);
}

#[test]
#[cfg_attr(
    userns_refused,
    ignore = "needs unprivileged user namespaces, \
    which this system refuses (tests/build.rs probed them)"
)]
fn a_procfs_of_another_pid_namespace_is_refused() {
    // The host's /proc seen from inside a new pid namespace: its
    // numbers are not the checker's, so nothing it says can be checked.
    let output = run(Command::new("unshare")
        .args(["--user", "--map-root-user", "--pid", "--fork"])
        .args(["sh", "-c", "exec \"$0\" --proc /proc", CHECKER]));
    let (_, stderr) = exited(&output, 3);
    assert!(
        stderr.starts_with(
            "checker: /proc is the procfs of another pid namespace"
        ),
        "{stderr}"
    );
}

#[test]
fn a_thread_id_checks_its_process_with_a_note() {
    let target = live_target(2);
    let tid = target.threads[0].to_string();
    let output = run(Command::new(CHECKER).args(["--pid", &tid]));
    let (stdout, _) = exited(&output, 0);
    let note = format!(
        "note: {tid} is a thread of process {0}: checking process {0}",
        target.pid
    );
    assert!(stdout.contains(&note), "{stdout}");
}

#[test]
fn sigkill_mid_run_leaves_no_process_behind() {
    let child = spawned(Command::new(CHECKER).args(["--threads", "50"]));
    let checker = child.id() as i32;
    // Wait until the checker has started its target: that is the
    // process that must not outlive it.
    let mut targets = Vec::new();
    let started = eventually(Duration::from_secs(10), || {
        targets = children_of(checker);
        !targets.is_empty()
    });
    assert!(started, "the checker started no target");
    kill(Pid::from_raw(checker), Signal::SIGKILL).unwrap();
    let output = wait_bounded(child, Duration::from_secs(10));
    assert_eq!(output.status.code(), None, "killed by a signal");
    for target in targets {
        assert!(
            eventually(Duration::from_secs(5), || !alive(target)),
            "target {target} outlived its checker"
        );
    }
}

/// A multi-threaded Python program: a real process this project did not
/// write.
const PYTHON_THREADS: &str = r#"
import sys, threading, time
stop = threading.Event()
def burn():
    total = 0
    for i in range(3_000_000):
        total += i
    stop.wait()
threads = [threading.Thread(target=stop.wait) for _ in range(4)]
threads.append(threading.Thread(target=burn))
for t in threads:
    t.start()
time.sleep(1.0)
print("ready", flush=True)
sys.stdin.read()
stop.set()
"#;

#[test]
#[cfg_attr(
    no_python3,
    ignore = "needs python3 (apt-get install python3), \
    which tests/build.rs did not find"
)]
fn a_python_program_with_threads_holds_every_claim_that_applies() {
    let (mut python, line) = started(
        Command::new("python3")
            .args(["-c", PYTHON_THREADS])
            .stdin(Stdio::piped()),
    );
    assert_eq!(line, "ready\n");
    let pid = python.id().to_string();
    let output =
        run(Command::new(CHECKER).args(["--pid", &pid, "--format", "json"]));
    drop(python.stdin.take());
    let _ = python.wait();
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("JSON report");
    assert_eq!(output.status.code(), Some(0), "{report:#}");
    // The main thread and the five it started.
    assert_eq!(report["target"]["tids"], 6);
    for claim in report["claims"].as_array().unwrap() {
        assert_ne!(claim["outcome"], "fail", "{claim:#}");
    }
    // The claims that need a thread we control skip; the others pass.
    assert!(
        report["summary"]["pass"].as_u64().unwrap() >= 7,
        "{report:#}"
    );
}
