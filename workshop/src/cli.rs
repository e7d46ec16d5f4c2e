//! The command line: options, exit codes, and the order of a run.
//!
//! Book: "The workshop" documents the options and exit codes.

use std::ffi::OsString;
use std::io::IsTerminal;

use checker::children::Helpers;
use checker::procfs::{LiveProc, is_procfs};
use checker::target::Target;
use clap::{CommandFactory, FromArgMatches, Parser};
use exit_status::Status;

use crate::narrate::Narrator;
use crate::steps::{STEPS, Walk};

/// The threads the demo program starts besides its leader: two, so
/// that every claim has a busy thread and an idle sibling to compare.
pub const THREADS: u32 = 2;

/// Walk through the article live on this kernel: why `ls /proc` misses
/// a thread's id while `/proc/<TID>` opens.
///
/// Each step shows a command, its real output here, and what it means.
/// On a terminal the walk waits for Enter between steps; Ctrl-C ends it
/// and the demo program with it.
#[derive(Debug, Clone, Parser)]
#[command(name = "workshop", bin_name = "workshop", version)]
pub struct Options {
    /// Run every step without waiting for Enter (the default when stdin
    /// is not a terminal or CI is set).
    #[arg(long)]
    pub no_pause: bool,

    /// Wait for Enter between steps even when stdin is not a terminal
    /// (a script drives the walk).
    #[arg(long, conflicts_with = "no_pause")]
    pub pause: bool,

    /// Wrap the narration at N columns (0: do not wrap).
    #[arg(long, value_name = "N", default_value_t = crate::narrate::WIDTH)]
    pub width: usize,

    /// Run only step N (see the list below).
    #[arg(long, value_name = "N", value_parser = parse_step)]
    pub step: Option<usize>,
}

fn parse_step(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=STEPS.len()).contains(&n) => Ok(n),
        _ => Err(format!("there are steps 1 to {}", STEPS.len())),
    }
}

/// The list of steps and the exit codes, for `--help`, made from
/// [`STEPS`] so that the help cannot drift from the walk.
fn after_help() -> String {
    let mut text = String::from("Steps:\n");
    for (index, step) in STEPS.iter().enumerate() {
        text += &format!("  {}  {}\n", index + 1, step.title);
    }
    text += "\nExit status: 0 the walk ended and no claim failed; 1 a \
             claim failed; 2 usage error; 3 could not run (no procfs at \
             /proc, or the demo program did not start). Ctrl-C ends the \
             walk by SIGINT (a shell shows 130), and the kernel ends the \
             demo program with it.";
    text
}

/// The binary's entry point.
pub fn main() -> std::process::ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    if let Some(code) = checker::children::dispatch(&args) {
        // A process the walk started: the demo program, or a probe.
        return code;
    }
    let command = Options::command().after_help(after_help());
    let options = command
        .try_get_matches_from(&args)
        .and_then(|matches| Options::from_arg_matches(&matches));
    match options {
        Ok(options) => run(&options).into(),
        Err(err) => {
            let help = "'just demo --help'";
            exit_status::usage_error("workshop", help, &err).into()
        }
    }
}

/// Whether to wait for Enter between steps: only for a person at a
/// terminal, unless the options say otherwise.
fn pausing(options: &Options) -> bool {
    if options.no_pause {
        return false;
    }
    if options.pause {
        return true;
    }
    std::io::stdin().is_terminal() && std::env::var_os("CI").is_none()
}

/// Run the walk that `options` ask for and return the exit status.
///
/// Ctrl-C during a step is not caught: SIGINT's default action ends
/// the workshop at once, and the kernel then kills the demo program,
/// which asked for that with `PR_SET_PDEATHSIG` (see
/// `checker::target`); a tracing session removes its tracefs instance
/// in its own SIGINT handler first. Ctrl-C while the walk waits for
/// Enter also reaps the demo program before we die (`interrupt.rs`).
/// Either way a shell sees status 130.
pub fn run(options: &Options) -> Status {
    let root = std::path::Path::new("/proc");
    match is_procfs(root) {
        Ok(true) => {}
        _ => {
            eprintln!(
                "workshop: /proc is not a procfs; mount one with 'mount -t \
                 proc proc /proc' (in a container, do not mask /proc)"
            );
            return Status::CannotRun;
        }
    }
    let proc = LiveProc::new(root);
    // Started from the main thread: the death signal follows the
    // thread that forked, and the main thread lives as long as we do.
    let helpers = Helpers::this_executable();
    let target = match Target::spawn(helpers, THREADS, &proc) {
        Ok(target) => target,
        Err(err) => {
            eprintln!("workshop: {err}");
            return Status::CannotRun;
        }
    };
    let mut walk = Walk {
        proc: &proc,
        target: &target,
        say: Narrator::new(
            pausing(options),
            nix::unistd::Pid::from_raw(target.pid),
            options.width,
        ),
        root: nix::unistd::geteuid().is_root(),
        failed: false,
    };
    let total = STEPS.len();
    let numbers: Vec<usize> = match options.step {
        Some(number) => vec![number],
        None => (1..=total).collect(),
    };
    walk.say.title(&format!(
        "The missing threads, live on Linux {}",
        checker::cli::kernel_release()
    ));
    if options.step.is_some_and(|number| number > 1) {
        walk.say.note(&format!(
            "(The demo program runs as process {} with threads {}; step 1 \
             introduces it.)",
            target.pid,
            target
                .threads
                .iter()
                .map(|thread| thread.tid.to_string())
                .collect::<Vec<_>>()
                .join(" and ")
        ));
    }
    for (index, &number) in numbers.iter().enumerate() {
        if index > 0 {
            walk.say.pause(number);
        }
        let step = &STEPS[number - 1];
        walk.say.heading(number, total, step.title);
        (step.run)(&mut walk);
    }
    walk.say.flush();
    let failed = walk.failed;
    // Kill and reap the demo program (Target's Drop): no process left.
    drop(target);
    if failed { Status::Failed } else { Status::Ok }
}
