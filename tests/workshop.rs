//! The workshop end to end: its transcript (the book's "The workshop"
//! includes it), a run to the end as root and as an unprivileged user,
//! and Ctrl-C mid-walk, after which no process of the walk is left.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use std::os::fd::AsFd;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigHandler, Signal, kill, killpg};
use nix::unistd::Pid;

use crate::support::{
    CHECKER, Redactor, WORKSHOP, alive, as_a_user, children_of,
    dies_with_test, error_line, eventually, exited, run, wait_bounded,
    workspace,
};

/// `command`, which runs the workshop, with plain output and no pauses:
/// stdin is not a terminal (`support::run` closes it), and nothing
/// forces colour.
fn plain_walk(mut command: Command) -> Command {
    command
        .arg("--no-pause")
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CI");
    command
}

/// The ids that step 1 prints: the demo's pid (`My TID:`), then its
/// other threads' TIDs (`My thread's TID:`).
fn ids(transcript: &str) -> (i32, Vec<i32>) {
    let number = |line: &str, prefix: &str| {
        line.strip_prefix(prefix)
            .and_then(|n| n.trim().parse().ok())
    };
    let pid = transcript
        .lines()
        .find_map(|line| number(line, "My TID: "))
        .unwrap_or_else(|| panic!("no `My TID:` line in\n{transcript}"));
    let tids = transcript
        .lines()
        .filter_map(|line| number(line, "My thread's TID: "))
        .collect();
    (pid, tids)
}

/// Assert that the walk ended with status 0 and that the demo process
/// it started, and every thread of it, is gone.
fn ran_to_the_end_and_left_nothing(output: &Output) -> String {
    let (stdout, _) = exited(output, 0);
    assert!(stdout.contains("Step 7 of 7"), "{stdout}");
    let (pid, tids) = ids(&stdout);
    for id in std::iter::once(pid).chain(tids) {
        assert!(
            eventually(Duration::from_secs(5), || !alive(id)),
            "{id} of the demo outlived the workshop"
        );
    }
    stdout
}

/// `exe`, or a copy of it that any user may run: `nobody` needs search
/// permission on every directory above it.
struct Runnable {
    path: PathBuf,
    copy: Option<PathBuf>,
}

impl Runnable {
    fn new(exe: &str, tag: &str) -> Runnable {
        let exe = PathBuf::from(exe);
        let others_may = |path: &Path| {
            std::fs::metadata(path)
                .is_ok_and(|meta| meta.permissions().mode() & 0o001 != 0)
        };
        if exe.ancestors().all(others_may) {
            return Runnable {
                path: exe,
                copy: None,
            };
        }
        let dir = std::env::temp_dir()
            .join(format!("workshop-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("workshop");
        std::fs::copy(&exe, &path).unwrap();
        for target in [&dir, &path] {
            let mode = std::fs::Permissions::from_mode(0o755);
            std::fs::set_permissions(target, mode).unwrap();
        }
        Runnable {
            path,
            copy: Some(dir),
        }
    }
}

impl Drop for Runnable {
    fn drop(&mut self) {
        if let Some(dir) = &self.copy {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The transcript is recorded as an unprivileged user (`nobody` when
/// the tests run as root), so that step 6 reads the same on every host:
/// as root it depends on whether this kernel lets root trace.
#[test]
#[cfg_attr(
    userns_refused,
    ignore = "the book's transcript shows the \
    pid-namespace claim holding for a user, and this system refuses user \
    namespaces (tests/build.rs probed them)"
)]
fn the_demo_transcript_matches_its_snapshot() {
    let exe = Runnable::new(WORKSHOP, "transcript");
    let mut command = plain_walk(as_a_user(&exe.path));
    let transcript =
        ran_to_the_end_and_left_nothing(&run(command.args(["--width", "0"])));
    let (pid, tids) = ids(&transcript);
    assert_eq!(tids.len(), 2, "{transcript}");
    assert!(transcript.contains("needs root"), "{transcript}");
    let exited = transcript
        .lines()
        .find_map(|line| {
            line.strip_prefix("One id is missing from the list: ")
        })
        .and_then(|rest| rest.split('.').next())
        .unwrap_or_else(|| panic!("no missing id in\n{transcript}"));
    let redactor = Redactor::default()
        .name(pid, "PID")
        .name(tids[0], "TID1")
        .name(tids[1], "TID2")
        .name(exited, "EXITED")
        .keep(checker::target::BUSY_MS)
        .with_numbers();
    // Wrapped after redaction, so that where lines break does not
    // depend on how many digits this run's ids have.
    let redacted = rewrap(&redactor.redact(&transcript));
    insta::assert_snapshot!("demo_transcript", redacted);
}

/// The width of the book's transcript: its code blocks show 76
/// columns without scrolling.
const BOOK_WIDTH: usize = 76;

/// Wrap every line longer than the book's width as the workshop would
/// at that width: a command with `\` continuations, the rest as prose
/// that keeps its indent.
fn rewrap(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let wrapped = if line.chars().count() <= BOOK_WIDTH {
            vec![line.to_string()]
        } else if let Some(command) = line.strip_prefix("$ ") {
            workshop::narrate::command_lines(command, Some(BOOK_WIDTH))
        } else {
            let body = line.trim_start_matches(' ');
            let indent = &line[..line.len() - body.len()];
            terminal::wrap(body, Some(BOOK_WIDTH), indent)
        };
        for line in wrapped {
            out += &line;
            out.push('\n');
        }
    }
    out
}

#[test]
#[ignore = "needs root: the walk as root traces the kernel where it may"]
fn the_walk_runs_to_the_end_as_root() {
    let output = run(&mut plain_walk(Command::new(WORKSHOP)));
    let transcript = ran_to_the_end_and_left_nothing(&output);
    assert!(transcript.contains(", 0 failed, "), "{transcript}");
}

/// The walk, pausing before each step, in a process group of its own,
/// with stdin, stdout and stderr pipes of ours.
fn paused_walk() -> std::process::Child {
    let mut command = Command::new(WORKSHOP);
    // SIGINT at its default, as in a terminal's job, whatever this test
    // inherited: a harness started in the background of a script runs
    // with SIGINT ignored, and the workshop keeps an ignored SIGINT
    // ignored, as the shell's convention asks (checker::stop::install).
    // SAFETY: between fork and exec only sigaction(2), which is
    // async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            nix::sys::signal::signal(Signal::SIGINT, SigHandler::SigDfl)?;
            Ok(())
        });
    }
    dies_with_test(&mut command)
        .arg("--pause")
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the workshop starts")
}

/// Start the walk pausing before step 2 (stdin a pipe we keep open),
/// read step 1 up to the prompt for Enter, then send SIGINT as `group`
/// says: to the whole process group as Ctrl-C at a terminal does, or
/// to the workshop alone as `kill -INT` does.
fn interrupt_at_the_first_pause(group: bool) {
    let mut child = paused_walk();
    let workshop = child.id() as i32;
    let stdin = child.stdin.take();
    let mut stdout = child.stdout.take().expect("piped stdout");
    let (pid, tids) = ids(&read_until(&mut stdout, "[Enter: step 2]"));
    assert!(children_of(workshop).contains(&pid), "the demo is ours");
    let sent = if group {
        killpg(Pid::from_raw(workshop), Signal::SIGINT)
    } else {
        kill(Pid::from_raw(workshop), Signal::SIGINT)
    };
    sent.expect("signal the workshop");
    let output = wait_bounded(child, Duration::from_secs(10));
    drop(stdin);
    // SIGINT's default action, after the handler: a shell shows 130.
    assert_eq!(output.status.signal(), Some(libc::SIGINT), "{output:?}");
    // Killed and reaped before the workshop died: not even a zombie.
    assert!(!Path::new(&format!("/proc/{pid}")).exists(), "{pid} left");
    for tid in tids {
        assert!(!alive(tid), "thread {tid} of the demo left behind");
    }
}

#[test]
fn sigint_to_the_workshop_alone_leaves_no_process_behind() {
    interrupt_at_the_first_pause(false);
}

#[test]
fn ctrl_c_to_the_process_group_leaves_no_process_behind() {
    interrupt_at_the_first_pause(true);
}

#[test]
fn help_lists_the_steps_and_exit_codes() {
    let (help, _) = exited(&run(Command::new(WORKSHOP).arg("--help")), 0);
    for (index, step) in workshop::steps::STEPS.iter().enumerate() {
        let line = format!("  {}  {}", index + 1, step.title);
        assert!(help.contains(&line), "{line:?} not in\n{help}");
    }
    assert!(help.contains("Exit status:"), "{help}");
    error_line(Command::new(WORKSHOP).args(["--step", "9"]), 2);
}

/// Read `stdout` of a running walk until `text` appears; all of it.
/// Bytes, not lines: a prompt ends without a newline. Bounded: a text
/// that never comes fails the test, and does not hang it.
fn read_until(stdout: &mut std::process::ChildStdout, text: &str) -> String {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(text) {
        let mut fds = [PollFd::new(stdout.as_fd(), PollFlags::POLLIN)];
        let ready = poll(&mut fds, PollTimeout::from(60_000u16));
        let so_far = String::from_utf8_lossy(&seen).into_owned();
        assert!(matches!(ready, Ok(n) if n > 0), "no {text:?}: {so_far}");
        let read = stdout.read(&mut chunk).expect("read the walk");
        assert!(read > 0, "ended before {text:?}: {so_far}");
        seen.extend_from_slice(&chunk[..read]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

/// Digits as `N`: two runs of the same report differ in counts of the
/// system's processes, and in nothing else.
fn digits_as_n(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if !c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('N') {
            out.push('N');
        }
    }
    out
}

/// Step 5 shows `just check-pid <PID> --only A --only B`: what it
/// prints must be what that command prints, run on the walk's demo
/// while the walk waits before step 6.
#[test]
fn step_5_shows_what_its_command_prints() {
    use std::io::Write;
    let mut child = paused_walk();
    // Enter before steps 2 to 5; the walk then waits before step 6.
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin.write_all(b"\n\n\n\n").expect("type Enter");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let walk = read_until(&mut stdout, "[Enter: step 6]");
    let (pid, _) = ids(&walk);
    let prompt = walk
        .lines()
        .find(|line| line.starts_with("$ just check-pid "))
        .unwrap_or_else(|| panic!("no check-pid command in\n{walk}"));
    let args: Vec<&str> = prompt
        .trim_start_matches("$ just check-pid ")
        .split(' ')
        .collect();
    assert_eq!(args[0], pid.to_string(), "{prompt}");
    // The command, while the demo still runs.
    let command = run(Command::new(CHECKER)
        .arg("--pid")
        .args(&args)
        .env("NO_COLOR", "1"));
    drop(stdin);
    let _ = wait_bounded(child, Duration::from_secs(60));
    let (printed, _) = exited(&command, 0);
    let mut shown = String::new();
    for line in walk.split_once(prompt).unwrap().1.lines().skip(1) {
        shown += line;
        shown.push('\n');
        if line.contains(" claims: ") {
            break;
        }
    }
    assert_eq!(digits_as_n(&shown), digits_as_n(&printed));
}

/// As root where the kernel refuses tracing, step 6 says why in one
/// short sentence, and step 7 does not say it again.
#[test]
#[ignore = "needs root: step 6 traces only as root"]
fn a_refused_trace_is_said_once_and_briefly() {
    let output =
        run(plain_walk(Command::new(WORKSHOP)).args(["--width", "80"]));
    let transcript = ran_to_the_end_and_left_nothing(&output);
    let step_6 = transcript
        .split("Step 6 of 7")
        .nth(1)
        .and_then(|rest| rest.split("Step 7 of 7").next())
        .unwrap_or_else(|| panic!("{transcript}"));
    let Some(skipped) = step_6.split("Skipped: ").nth(1) else {
        // This kernel lets root trace: step 6 shows the stacks.
        return;
    };
    let sentence: Vec<&str> =
        skipped.lines().take_while(|l| !l.is_empty()).collect();
    assert!(sentence.len() <= 2, "{step_6}");
    let step_7 = transcript.split("Step 7 of 7").nth(1).unwrap();
    assert!(
        step_7.contains("skipped for the reason step 6 gave"),
        "{step_7}"
    );
    let reason = sentence.join(" ");
    let first_words: String = reason.chars().take(30).collect();
    assert!(!step_7.contains(&first_words), "{step_7}");
    assert!(!step_6.contains("What the checker saw"), "{step_6}");
}

/// The hosting page and the README's workshop type no figure of time or
/// size for setting up, fetching or building: `just workshop-check`
/// measures them, and the page includes what it recorded.
#[test]
fn the_workshop_pages_type_no_timings() {
    let root = workspace();
    let hosting =
        std::fs::read_to_string(root.join("book/src/hosting.md")).unwrap();
    assert!(hosting.contains("{{#include ../measured/workshop.md}}"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let workshop = readme
        .split("## The workshop")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap();
    let typed = |text: &str| -> Vec<String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        words
            .windows(2)
            .filter(|pair| {
                let number = pair[0]
                    .trim_start_matches(['(', '~'])
                    .replace(['.', ','], "")
                    .chars()
                    .all(|c| c.is_ascii_digit());
                let unit = pair[1].trim_end_matches([')', ',', ';', '.']);
                number
                    && !pair[0].is_empty()
                    && ["s", "ms", "min", "minutes", "seconds", "MB", "GB"]
                        .contains(&unit)
            })
            .map(|pair| pair.join(" "))
            .collect()
    };
    assert_eq!(typed(&hosting), Vec::<String>::new(), "hosting.md");
    assert_eq!(typed(workshop), Vec::<String>::new(), "README.md");
    let recorded =
        std::fs::read_to_string(root.join("book/measured/workshop.md"))
            .expect(
                "book/measured/workshop.md: run .ci/workshop-check --record",
            );
    assert!(recorded.starts_with("Measured on "), "{recorded}");
    assert!(recorded.contains("by `just workshop-check`"), "{recorded}");
}
