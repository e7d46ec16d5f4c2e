//! The workspace's one table of exit statuses (`exit_status::Status`),
//! as each binary lives it: every status in a binary's own list (from
//! which its `--help` paragraph is generated) is reached here, by a
//! real run of that binary, and means the same in each. `cargo
//! xtask`'s jobs are checked in `xtask/`.

use std::process::{Command, Output};

use exit_status::{Status, Statuses};

use crate::support::{
    CHECKER, DEMO, Refusal, WORKSHOP, dies_with_test, error_line,
    kernel_limit, refuse, run, texts, wait_bounded,
};

/// Run each of `runs` (a status and the command that reaches it), in
/// the order of the binary's list `statuses`, and return the outputs:
/// every status the binary documents is reached, and the test knows no
/// run of a status it does not document.
fn reach_each(
    statuses: &Statuses,
    runs: Vec<(Status, Command)>,
) -> Vec<(Status, Output)> {
    let documented: Vec<Status> = statuses.iter().map(|s| s.0).collect();
    let known: Vec<Status> = runs.iter().map(|run| run.0).collect();
    assert_eq!(documented, known, "the statuses its --help documents");
    (runs.into_iter())
        .map(|(status, mut command)| (status, reaches(status, &mut command)))
        .collect()
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

/// `program args`, to run.
fn command(program: &str, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command.args(args);
    command
}

/// Run `command`, require `status`, and return the output.
fn reaches(status: Status, command: &mut Command) -> Output {
    let output = run(command);
    let (stdout, stderr) = texts(&output);
    assert_eq!(
        output.status.code(),
        Some(i32::from(status.code())),
        "{command:?} should exit {status}:\n{stdout}{stderr}"
    );
    output
}

#[test]
fn the_checker_reaches_every_status_it_documents() {
    let checker = |args: &[&str]| command(CHECKER, args);
    let mut failed = checker(&[]);
    seeks_refused(&mut failed);
    let skipped = ["--only", "listing_passes_through_proc_pid_readdir"];
    let reached = reach_each(
        checker::cli::STATUSES,
        vec![
            (Status::Ok, checker(&[])),
            (Status::Failed, failed),
            (Status::Usage, checker(&["--threads", "0"])),
            (Status::CannotRun, checker(&["--proc", "/tmp"])),
            (Status::Skipped, checker(&skipped)),
        ],
    );
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
    let max = kernel_limit("threads-max");
    let demo = |args: &[&str]| command(DEMO, args);
    let too_many = (max + 1).to_string();
    reach_each(
        demo_spawner::STATUSES,
        vec![
            (Status::Ok, demo(&["--exit-after", "0.1"])),
            (Status::Usage, demo(&["--threads", "0"])),
            (Status::CannotRun, demo(&["--threads", &too_many])),
        ],
    );
}

#[test]
fn the_workshop_reaches_every_status_it_documents() {
    let walk =
        |args: &[&str]| command(WORKSHOP, &[&["--no-pause"], args].concat());
    // statfs(2) refused: the workshop cannot tell that /proc is a
    // procfs, and says so.
    let no_statfs = Refusal {
        syscall: libc::SYS_statfs,
        arg0_bits: None,
        errno: libc::ENOSYS,
    };
    let mut failed = walk(&[]);
    seeks_refused(&mut failed);
    let mut cannot = walk(&[]);
    refuse(&mut cannot, &[no_statfs]);
    let reached = reach_each(
        workshop::cli::STATUSES,
        vec![
            (Status::Ok, walk(&[])),
            (Status::Failed, failed),
            (Status::Usage, walk(&["--step", "99"])),
            (Status::CannotRun, cannot),
        ],
    );
    let stderr = String::from_utf8_lossy(&reached[3].1.stderr);
    assert!(stderr.starts_with("workshop: "), "{stderr}");
}

/// The one table, as the book includes it (`book/src/ci.md`); the
/// README and ARCHITECTURE.md point there.
#[test]
fn the_one_table_is_the_snapshot_the_book_includes() {
    let table = exit_status::table();
    insta::assert_snapshot!("exit_statuses", table);
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
    let child = dies_with_test(
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
    wait_bounded(child, std::time::Duration::from_secs(60))
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
    // `--pid 1`: the report on a process the checker did not start.
    let runs: &[&[&str]] = &[
        &[],
        &["--pid", "1"],
        &["--help"],
        &["--list"],
        &["--version"],
        &["audit", "--help"],
    ];
    obeys_the_output_rule(CHECKER, "checker", runs);
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
    let usage = |args: &[&str]| error_line(&mut command(CHECKER, args), 2);
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
