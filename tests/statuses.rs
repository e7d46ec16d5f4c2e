//! The workspace's one table of exit statuses (`exit_status::Status`),
//! as each binary lives it: every status a binary's `--help` documents
//! is reached here, by a real run of that binary, and means the same
//! in each. `cargo xtask`'s jobs are checked in `xtask/`.

use std::process::{Command, Output};

use exit_status::Status;

use crate::support::{CHECKER, DEMO, Refusal, refuse, run};

const WORKSHOP: &str = env!("CARGO_BIN_EXE_workshop-under-test");

/// The statuses a binary's `--help` documents in its `Exit status:`
/// paragraph: `0 ...; 1 ...; 2 ...`.
fn documented(binary: &str) -> Vec<Status> {
    let output = run(Command::new(binary).arg("--help"));
    let help = String::from_utf8_lossy(&output.stdout).into_owned();
    let at = help.find("Exit status:").expect("an Exit status paragraph");
    let paragraph = help[at..].split("\n\n").next().unwrap_or_default();
    let mut statuses: Vec<Status> = paragraph
        .split(';')
        .filter_map(|part| {
            let part = part.trim_start_matches("Exit status:").trim();
            let number = part.split_whitespace().next()?.parse().ok()?;
            Status::from_code(number)
        })
        .collect();
    statuses.dedup();
    statuses
}

/// `lseek(2)` failing with `ESPIPE`: what a kernel whose procfs root
/// cannot seek would answer (`no_llseek`). The offsets claim seeks, so
/// it fails; nothing else the binaries do seeks. (Not `EPERM`: a read
/// the system withholds from the reader is a skip, not a failure.)
fn seeks_refused(command: &mut Command) -> &mut Command {
    let refusal = Refusal {
        syscall: libc::SYS_lseek,
        arg0_bits: None,
        errno: libc::ESPIPE,
    };
    refuse(command, &[refusal])
}

/// Run `command`, require `status`, and return the output.
fn reaches(status: Status, command: &mut Command) -> Output {
    let output = run(command);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        output.status.code(),
        Some(i32::from(status.code())),
        "{command:?} should exit {status}:\n{text}"
    );
    output
}

#[test]
fn the_checker_reaches_every_status_it_documents() {
    let checker = || Command::new(CHECKER);
    let reached = [
        (Status::Ok, reaches(Status::Ok, &mut checker())),
        (
            Status::Failed,
            reaches(Status::Failed, seeks_refused(&mut checker())),
        ),
        (
            Status::Usage,
            reaches(Status::Usage, checker().args(["--threads", "0"])),
        ),
        (
            Status::CannotRun,
            reaches(Status::CannotRun, checker().args(["--proc", "/tmp"])),
        ),
        (
            Status::Skipped,
            reaches(
                Status::Skipped,
                checker().args([
                    "--only",
                    "listing_passes_through_proc_pid_readdir",
                ]),
            ),
        ),
    ];
    let statuses: Vec<Status> = reached.iter().map(|(s, _)| *s).collect();
    assert_eq!(documented(CHECKER), statuses);
    let failed = String::from_utf8_lossy(&reached[1].1.stdout).into_owned();
    assert!(
        failed.contains("FAIL listing_positions_follow_tgid_arithmetic"),
        "{failed}"
    );
    let skipped = String::from_utf8_lossy(&reached[4].1.stdout).into_owned();
    assert!(skipped.contains("nothing was verified"), "{skipped}");
    assert!(!skipped.contains("every claim held"), "{skipped}");
}

#[test]
fn demo_spawner_reaches_every_status_it_documents() {
    let max: u64 = std::fs::read_to_string("/proc/sys/kernel/threads-max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let demo = |args: &[&str]| {
        let mut command = Command::new(DEMO);
        command.args(args);
        command
    };
    let too_many = (max + 1).to_string();
    reaches(Status::Ok, &mut demo(&["--exit-after", "0.1"]));
    reaches(Status::Usage, &mut demo(&["--threads", "0"]));
    reaches(Status::CannotRun, &mut demo(&["--threads", &too_many]));
    assert_eq!(
        documented(DEMO),
        [Status::Ok, Status::Usage, Status::CannotRun]
    );
}

#[test]
fn the_workshop_reaches_every_status_it_documents() {
    let walk = || {
        let mut command = Command::new(WORKSHOP);
        command.arg("--no-pause");
        command
    };
    // statfs(2) refused: the workshop cannot tell that /proc is a
    // procfs, and says so.
    let no_statfs = Refusal {
        syscall: libc::SYS_statfs,
        arg0_bits: None,
        errno: libc::ENOSYS,
    };
    reaches(Status::Ok, &mut walk());
    reaches(Status::Failed, seeks_refused(&mut walk()));
    reaches(Status::Usage, walk().args(["--step", "99"]));
    let output = reaches(Status::CannotRun, refuse(&mut walk(), &[no_statfs]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("workshop: "), "{stderr}");
    assert_eq!(
        documented(WORKSHOP),
        [Status::Ok, Status::Failed, Status::Usage, Status::CannotRun]
    );
}

#[test]
fn the_one_table_is_what_the_book_readme_and_architecture_show() {
    let table = exit_status::table();
    // The book includes the snapshot; the two Markdown files at the
    // top of the tree cannot include, so they hold the same text.
    insta::assert_snapshot!("exit_statuses", table);
    for doc in ["README.md", "ARCHITECTURE.md"] {
        let text =
            std::fs::read_to_string(crate::support::workspace().join(doc))
                .unwrap();
        assert!(
            text.contains(&table),
            "{doc} does not show the exit-status table of \
             exit-status/src/lib.rs; paste this:\n{table}"
        );
    }
}

/// Where a run's stdout goes, for the one rule of output errors.
#[derive(Debug, Clone, Copy)]
enum Stdout {
    /// A pipe whose reader has left: `checker | head` once head ends.
    ClosedPipe,
    /// `/dev/full`: every write fails with ENOSPC, as on a full disk.
    Full,
}

/// Run `program args` with stdout going where `to` says, stdin closed.
fn written_to(to: Stdout, program: &str, args: &[&str]) -> Output {
    let stdout = match to {
        Stdout::ClosedPipe => {
            let (read, write) = nix::unistd::pipe().expect("a pipe");
            drop(read);
            std::process::Stdio::from(write)
        }
        Stdout::Full => std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full")
            .into(),
    };
    let child = crate::support::dies_with_test(
        Command::new(program)
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("CI"),
    )
    .stdin(std::process::Stdio::null())
    .stdout(stdout)
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("the program starts");
    // Bounded: a program that missed the error and waits (demo-spawner
    // until a signal) is killed, and fails the test.
    crate::support::wait_bounded(child, std::time::Duration::from_secs(60))
}

/// Every way of running `program` that writes to stdout obeys the one
/// rule: a closed pipe ends it quietly with 0; a full disk with one
/// line on stderr and 3 (`exit_status::after_write`).
fn obeys_the_output_rule(program: &str, name: &str, runs: &[&[&str]]) {
    for args in runs {
        let closed = written_to(Stdout::ClosedPipe, program, args);
        let stderr = String::from_utf8_lossy(&closed.stderr);
        assert_eq!(closed.status.code(), Some(0), "{name} {args:?}: {stderr}");
        assert_eq!(stderr, "", "{name} {args:?} into a closed pipe");

        let full = written_to(Stdout::Full, program, args);
        let stderr = String::from_utf8_lossy(&full.stderr);
        assert_eq!(full.status.code(), Some(3), "{name} {args:?}: {stderr}");
        assert_eq!(
            stderr,
            format!(
                "{name}: cannot write to stdout: No space left on device (os \
                 error 28)\n"
            ),
            "{name} {args:?} into /dev/full"
        );
    }
}

#[test]
fn the_checker_obeys_the_output_rule() {
    let runs: &[&[&str]] = &[&[], &["--help"], &["--list"], &["--version"]];
    obeys_the_output_rule(CHECKER, "checker", runs);
    obeys_the_output_rule(CHECKER, "checker", &[&["audit", "--help"]]);
}

#[test]
fn demo_spawner_obeys_the_output_rule() {
    let runs: &[&[&str]] = &[&[], &["--json"], &["--help"]];
    obeys_the_output_rule(DEMO, "demo-spawner", runs);
}

#[test]
fn the_workshop_obeys_the_output_rule() {
    let runs: &[&[&str]] = &[&["--no-pause"], &["--step", "3"], &["--help"]];
    obeys_the_output_rule(WORKSHOP, "workshop", runs);
}

#[test]
fn usage_errors_point_to_a_help_that_lists_the_option() {
    let usage = |args: &[&str]| {
        let output = run(Command::new(CHECKER).args(args));
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        stderr
    };
    // The audit's options are in the audit's help.
    for args in [&["audit", "--jobs", "0"][..], &["audit", "--bogus"]] {
        let line = usage(args);
        assert!(line.ends_with("see 'just check audit --help'\n"), "{line}");
    }
    let audit = run(Command::new(CHECKER).args(["audit", "--help"]));
    assert!(String::from_utf8_lossy(&audit.stdout).contains("--jobs <N>"));
    // Every value to pick from, in words; no Rust range syntax.
    let markdown = usage(&["--format", "markdown"]);
    assert!(
        markdown.contains("pick human, tap, json or junit"),
        "{markdown}"
    );
    let xml = usage(&["--format", "xml"]);
    assert!(
        xml.contains("pick human, tap, json, junit or markdown"),
        "{xml}"
    );
    let threads = usage(&["--threads", "0"]);
    assert!(threads.contains("1 to 1000000 threads besides its leader"));
    assert!(!threads.contains("..="), "{threads}");
    let jobs = usage(&["audit", "--jobs", "0"]);
    assert!(!jobs.contains("..="), "{jobs}");
}
