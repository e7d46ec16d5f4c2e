//! The workshop, `just` and the checker at a terminal, as a person
//! meets them: keys at a pause, Ctrl-C, output that fits the window,
//! and arguments that reach the programs as they were typed.
//!
//! Each run happens in a pseudo-terminal (`expectrl`) of a set size,
//! under `reaper` (tests/bin/reaper.rs), a child subreaper that tells
//! which processes a run left behind, zombies included, even where
//! init would reap them before a test could look.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use expectrl::session::OsSession;
use expectrl::{Eof, Expect, Session};

use crate::support::{
    CHECKER, DEMO, Refusal, WORKSHOP, exited, refuse, run, scratch_dir, texts,
    workspace,
};

const REAPER: &str = env!("CARGO_BIN_EXE_reaper");

/// Long enough for `just demo` to build the workshop's binary first.
const PATIENCE: Duration = Duration::from_secs(300);

/// A program running in a pseudo-terminal `columns` wide, under
/// `reaper`.
struct Terminal {
    session: OsSession,
    report: PathBuf,
    /// Everything it printed so far, as bytes arrived.
    seen: Vec<u8>,
}

/// How a run ended and what it left, from `reaper`'s report.
#[derive(Debug)]
struct Ended {
    /// `exit N` or `signal N`.
    how: String,
    /// One `stat`-like line per process left behind.
    left: Vec<String>,
    /// Everything printed, escape sequences removed, `\r\n` as `\n`.
    output: String,
}

impl Terminal {
    fn start(program: &str, args: &[&str], columns: u16) -> Terminal {
        let report = std::env::temp_dir().join(format!(
            "reaper-{}-{}-{columns}.txt",
            std::process::id(),
            Path::new(program).file_name().unwrap().to_string_lossy()
        ));
        let _ = std::fs::remove_file(&report);
        // The child waits until the terminal has our size: ptyprocess
        // sets a default size from the parent after the fork.
        let size = format!("50 {columns}");
        let mut command = Command::new(REAPER);
        command
            .arg(&report)
            .args(["--", "sh", "-c"])
            .arg(
                "while [ \"$(stty size)\" != \"$0\" ]; do sleep 0.01; done; \
                 exec \"$@\"",
            )
            .arg(size)
            .arg(program)
            .args(args)
            .current_dir(workspace())
            .env_remove("NO_COLOR")
            .env_remove("CI")
            .env("TERM", "xterm-256color");
        let mut session = Session::spawn(command).expect("spawn in a pty");
        session
            .get_process_mut()
            .set_window_size(columns, 50)
            .expect("set the window size");
        session.set_expect_timeout(Some(PATIENCE));
        Terminal {
            session,
            report,
            seen: Vec::new(),
        }
    }

    /// Wait until the output shows `text`.
    fn wait_for(&mut self, text: &str) {
        match self.session.expect(text) {
            Ok(found) => self.seen.extend_from_slice(found.before()),
            Err(err) => panic!(
                "{err}: no {text:?} in\n{}",
                String::from_utf8_lossy(&self.seen)
            ),
        }
        self.seen.extend_from_slice(text.as_bytes());
    }

    /// Type `keys`.
    fn press(&mut self, keys: &str) {
        self.session.send(keys).expect("type into the pty");
    }

    /// Wait for the end, then read the reaper's report.
    fn ended(mut self) -> Ended {
        match self.session.expect(Eof) {
            // The match is all that was left to read.
            Ok(rest) => {
                self.seen.extend_from_slice(rest.before());
                self.seen.extend_from_slice(rest.get(0).unwrap_or_default());
            }
            Err(err) => panic!(
                "{err}: still running after\n{}",
                String::from_utf8_lossy(&self.seen)
            ),
        }
        let _ = self.session.get_process().wait();
        let report = std::fs::read_to_string(&self.report)
            .unwrap_or_else(|err| panic!("{}: {err}", self.report.display()));
        let _ = std::fs::remove_file(&self.report);
        let mut lines = report.lines();
        let how = lines.next().unwrap_or_default().to_string();
        let left = lines
            .filter_map(|line| line.strip_prefix("left "))
            .map(str::to_string)
            .collect();
        let text = String::from_utf8_lossy(&self.seen);
        let output = anstream::adapter::strip_str(&text)
            .to_string()
            .replace("\r\n", "\n");
        Ended { how, left, output }
    }
}

impl Ended {
    /// Require an end with `how`, no `error:` line, nothing left.
    fn cleanly(&self, how: &str) {
        let output = &self.output;
        assert_eq!(self.how, how, "{output}");
        assert!(!error_line(output), "{output}");
        assert_eq!(self.left, Vec::<String>::new(), "{output}");
    }
}

/// Whether a line says `error: ...`, as `just` does when a recipe fails
/// or is interrupted, and as cargo does.
fn error_line(output: &str) -> bool {
    output
        .lines()
        .any(|line| line.trim_start().to_lowercase().starts_with("error"))
}

/// The lines wider than `columns`, as a terminal counts columns.
fn too_wide(output: &str, columns: usize) -> Vec<String> {
    output
        .lines()
        .filter(|line| terminal::display_width(line) > columns)
        .map(|line| {
            format!("{} columns: {line}", terminal::display_width(line))
        })
        .collect()
}

/// The start of step 7's closing line, `22 claims: ...`: a walk
/// interrupted mid-step 7 never prints it (step 5's report of its two
/// claims has a closing line of its own).
fn every_claims_totals() -> String {
    format!("{} claims: ", checker::claims::CLAIMS.len())
}

#[test]
#[cfg_attr(
    no_just,
    ignore = "needs just on the PATH: pipx install rust-just, or cargo \
              install just"
)]
fn just_demo_stops_at_a_pause_with_ctrl_c_and_no_error() {
    let mut walk = Terminal::start("just", &["demo"], 80);
    walk.wait_for("[Enter: step 2; q or Ctrl-C: stop]");
    walk.press("\r");
    walk.wait_for("Step 2 of 7");
    walk.wait_for("[Enter: step 3; q or Ctrl-C: stop]");
    walk.press("\x03");
    let ended = walk.ended();
    let output = &ended.output;
    ended.cleanly("exit 0");
    assert!(output.contains("Stopped before step 3"), "{output}");
    assert!(!output.contains("Step 3 of 7"), "{output}");
}

/// `program args`, running `just spawn`, says how to stop it with
/// `says`, and stops on Ctrl-C and on q, leaving nothing behind.
fn spawn_stops_on_a_key(program: &str, args: &[&str], says: &str) {
    for key in ["\x03", "q"] {
        let mut spawn = Terminal::start(program, args, 80);
        spawn.wait_for("My thread's TID: ");
        spawn.wait_for(says);
        spawn.press(key);
        spawn.ended().cleanly("exit 0");
    }
}

#[test]
#[cfg_attr(
    no_just,
    ignore = "needs just on the PATH: pipx install rust-just, or cargo \
              install just"
)]
fn just_spawn_says_how_to_stop_and_stops_on_a_key() {
    spawn_stops_on_a_key("just", &["spawn"], "q or Ctrl-C stops it");
}

#[test]
fn ctrl_c_in_the_middle_of_a_step_leaves_no_zombie() {
    let mut walk = Terminal::start(WORKSHOP, &["--no-pause"], 80);
    // Step 7 runs every claim, a few hundred milliseconds of work.
    walk.wait_for("Step 7 of 7");
    walk.press("\x03");
    let ended = walk.ended();
    let output = &ended.output;
    // Interrupted mid-step: SIGINT ended it, before the totals line.
    assert_eq!(ended.how, format!("signal {}", libc::SIGINT), "{output}");
    assert!(!output.contains(&every_claims_totals()), "{output}");
    assert_eq!(ended.left, Vec::<String>::new(), "{output}");
}

#[test]
fn the_workshop_and_the_report_fit_the_terminal_at_60_80_and_120() {
    for columns in [60, 80, 120] {
        let mut walk = Terminal::start(WORKSHOP, &["--no-pause"], columns);
        walk.wait_for("Step 7 of 7");
        let ended = walk.ended();
        assert_eq!(ended.how, "exit 0", "{}", ended.output);
        let wide = too_wide(&ended.output, columns.into());
        assert!(wide.is_empty(), "at {columns}: {wide:#?}");

        let report = Terminal::start(CHECKER, &[], columns).ended();
        assert_eq!(report.how, "exit 0", "{}", report.output);
        assert!(report.output.contains(", 0 failed, "), "{}", report.output);
        let wide = too_wide(&report.output, columns.into());
        assert!(wide.is_empty(), "at {columns}: {wide:#?}");
    }
}

#[test]
fn piped_output_keeps_its_lines_whole() {
    let output =
        run(Command::new(WORKSHOP).args(["--no-pause", "--step", "2"]));
    let text = String::from_utf8_lossy(&output.stdout);
    // The step's explanation is one paragraph: one line when piped.
    let paragraph = text
        .lines()
        .find(|line| line.starts_with("`ls` reads the directory"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(paragraph.ends_with(" is not."), "{paragraph}");
    // The checker's piped report: checker_cli.rs's default run.
}

#[test]
fn help_fits_80_columns() {
    for (program, name) in [
        (CHECKER, "checker"),
        (WORKSHOP, "workshop"),
        (DEMO, "demo-spawner"),
    ] {
        let (help, _) = exited(&run(Command::new(program).arg("--help")), 0);
        let wide = too_wide(&help, 80);
        assert!(wide.is_empty(), "{name} --help: {wide:#?}");
    }
}

#[test]
#[cfg_attr(
    no_just,
    ignore = "needs just on the PATH: pipx install rust-just, or cargo \
              install just"
)]
fn recipe_arguments_reach_the_program_as_one_word_each() {
    let output = run(&mut just(&["check-pid", "1; echo INJECTED"]));
    let (stdout, stderr) = exited(&output, 2);
    let all = stdout + &stderr;
    assert!(!all.lines().any(|line| line == "INJECTED"), "{all}");
    assert!(all.contains("invalid value '1; echo INJECTED'"), "{all}");

    let output = run(&mut just(&["check", "--only", "a b"]));
    let (_, stderr) = exited(&output, 2);
    assert!(stderr.contains("no claim has the id \"a b\""), "{stderr}");
}

#[test]
#[cfg_attr(
    userns_refused,
    ignore = "needs unprivileged user namespaces, \
    which this system refuses (tests/build.rs probed them)"
)]
fn checker_audit_shows_its_progress_and_stops_at_ctrl_c() {
    // A private pid namespace starts with pid_max at PID_MAX_LIMIT
    // (kernel/pid_namespace.c), 4194304 on 64-bit: a scan of seconds.
    let mut audit = Terminal::start(
        "unshare",
        &[
            "--user",
            "--map-root-user",
            "--pid",
            "--fork",
            "--mount-proc",
            CHECKER,
            "audit",
        ],
        80,
    );
    audit.wait_for("audit: ");
    audit.wait_for(" of 4194303 ids looked up");
    audit.press("\x03");
    let ended = audit.ended();
    let output = &ended.output;
    // Stopped mid-scan, with nothing left running. The checker is the
    // namespace's init, which a signal's default action cannot end: it
    // exits with 128 + SIGINT, and unshare with it.
    assert_eq!(ended.how, "exit 130", "{output}");
    assert!(!output.contains("nothing hidden found"), "{output}");
    assert!(ended.left.is_empty(), "{:?}\n{output}", ended.left);
}

/// `just` with `args`, in the workspace, not at a terminal.
fn just(args: &[&str]) -> Command {
    let mut command = Command::new("just");
    command.args(args).current_dir(workspace());
    command
}

#[test]
#[cfg_attr(
    no_just,
    ignore = "needs just on the PATH: pipx install rust-just, or cargo \
              install just"
)]
fn through_just_a_usage_error_and_a_failed_claim_print_only_the_programs_lines()
 {
    // A usage error: the checker's one line, exactly, and nothing of
    // `just`'s ("error: recipe `check-pid` failed on line ...").
    let direct = run(Command::new(CHECKER).args(["--pid", "0"]));
    let (stdout, stderr) = exited(&run(&mut just(&["check-pid", "0"])), 2);
    assert_eq!(stderr, texts(&direct).1);
    assert_eq!(stderr.lines().count(), 1);
    assert!(stdout.is_empty(), "{stdout}");

    // A failed claim: lseek(2) failing with ESPIPE, as a kernel whose
    // procfs root cannot seek would answer, breaks the offsets claim.
    // The report on stdout, status 1, and not a word on stderr.
    let seeks = Refusal {
        syscall: libc::SYS_lseek,
        arg0_bits: None,
        errno: libc::ESPIPE,
    };
    let claim = "listing_positions_follow_tgid_arithmetic";
    let failed = run(refuse(&mut just(&["check", "--only", claim]), &[seeks]));
    let (stdout, stderr) = exited(&failed, 1);
    assert!(stdout.contains(&format!("FAIL {claim}")), "{stdout}");
    assert_eq!(stderr, "", "{stdout}");
}

#[test]
#[cfg_attr(
    no_just,
    ignore = "needs just on the PATH: pipx install rust-just, or cargo \
              install just"
)]
fn ctrl_c_in_the_middle_of_a_step_through_just_adds_no_error_line() {
    let mut walk = Terminal::start("just", &["demo", "--no-pause"], 80);
    walk.wait_for("Step 7 of 7");
    walk.press("\x03");
    let ended = walk.ended();
    let output = &ended.output;
    // The workshop dies of SIGINT; `just` says nothing of it ("error:
    // recipe `demo` was terminated on line ... by signal 2") and ends
    // with 130, as a shell shows an interrupted program.
    ended.cleanly("exit 130");
    assert!(!output.contains(&every_claims_totals()), "{output}");
    let last = output.lines().rev().find(|line| !line.trim().is_empty());
    assert!(
        last.is_some_and(|line| !line.contains("recipe")),
        "{output}"
    );
}

#[test]
#[cfg_attr(
    no_just,
    ignore = "needs just on the PATH: pipx install rust-just, or cargo \
              install just"
)]
fn just_spawn_with_stdin_a_pipe_still_says_how_to_stop_and_stops_on_a_key() {
    // `echo | just spawn`: stdin is a pipe, but a person watches the
    // terminal, whose keys demo-spawner reads from /dev/tty.
    let piped = ["-c", "echo | exec just spawn"];
    spawn_stops_on_a_key("sh", &piped, "(q or Ctrl-C stops it.)");
}

#[test]
#[cfg_attr(
    no_just,
    ignore = "needs just on the PATH: pipx install rust-just, or cargo \
              install just"
)]
fn just_list_fits_80_columns() {
    let output = run(&mut just(&["--list"]));
    let (list, _) = exited(&output, 0);
    assert!(list.contains("workshop-check"), "{list}");
    let wide = too_wide(&list, 80);
    assert!(wide.is_empty(), "{wide:#?}");
}

/// `dir`, empty, filled with symlinks to every program on `PATH` but the
/// C compilers: a system where `cc` is missing, without uninstalling it.
fn path_without_cc(dir: &Path) -> String {
    let compiler = |name: &str| {
        matches!(name, "cc" | "gcc" | "c89" | "c99" | "c89-gcc" | "c99-gcc")
            || name.starts_with("gcc-")
            || name.contains("-linux-gnu-gcc")
    };
    let path = std::env::var_os("PATH").unwrap_or_default();
    for bin in std::env::split_paths(&path) {
        let Ok(entries) = std::fs::read_dir(&bin) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let link = dir.join(&name);
            if compiler(&name.to_string_lossy()) || link.exists() {
                continue;
            }
            let _ = std::os::unix::fs::symlink(entry.path(), link);
        }
    }
    dir.display().to_string()
}

#[test]
#[cfg_attr(
    no_just,
    ignore = "needs just on the PATH: pipx install rust-just, or cargo \
              install just"
)]
fn without_cc_just_setup_says_what_to_install_in_one_line() {
    let dir = scratch_dir("path-without-cc");
    let path = path_without_cc(&dir);
    let output = run(just(&["setup"]).env("PATH", &path));
    let _ = std::fs::remove_dir_all(&dir);
    let (stdout, stderr) = exited(&output, 3);
    assert_eq!(
        stderr,
        "missing cc (a C linker): sudo apt install gcc, or sudo dnf install \
         gcc\n"
    );
    assert!(too_wide(&stderr, 80).is_empty(), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
}
