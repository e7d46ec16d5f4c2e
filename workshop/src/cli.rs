//! The command line: options, exit codes, and the order of a run.
//!
//! Book: "The workshop" documents the options and exit codes.

use std::ffi::OsString;
use std::io::IsTerminal;

use checker::children::Launcher;
use checker::procfs::{LiveProc, is_procfs};
use checker::target::Target;
use clap::{CommandFactory, FromArgMatches, Parser};
use exit_status::{Status, Statuses};

use crate::narrate::{Narrator, Pause};
use crate::steps::{STEPS, Walk};

/// What the workshop's exit statuses mean for it: its `--help` says
/// this list, and `tests/statuses.rs` runs it into each one.
pub const STATUSES: &Statuses = &[
    (
        Status::Ok,
        "the walk ended, or was stopped at a pause, and no claim failed, \
         or stdout closed (a pipe whose reader left)",
    ),
    (Status::Failed, "a claim failed"),
    (Status::Usage, "usage error"),
    (
        Status::CannotRun,
        "could not run (no procfs at /proc, the demo program did not \
         start, or stdout could not be written)",
    ),
];

/// The threads the demo program starts besides its leader: two, so
/// that every claim has a busy thread and an idle sibling to compare.
pub const THREADS: u32 = 2;

/// Walk through the article live on this kernel: why `ls /proc` misses
/// a thread's id while `/proc/<TID>` opens.
///
/// Each step shows a command, its real output here, and what it means.
/// On a terminal the walk waits for a key between steps: Enter goes on,
/// q or Ctrl-C stops (status 0), Ctrl-D runs the rest without stopping.
#[derive(Debug, Clone, Parser)]
#[command(name = "workshop", bin_name = "workshop", version)]
pub struct Options {
    /// Run every step without waiting for Enter (the default when stdin
    /// is not a terminal or CI is set).
    #[arg(long)]
    pub no_pause: bool,

    /// Wait for a line of stdin between steps even when stdin is not a
    /// terminal (a script drives the walk).
    #[arg(long, conflicts_with = "no_pause")]
    pub pause: bool,

    /// Wrap every line at N columns (default: the terminal's width, 80
    /// if it does not say; lines stay whole when stdout is not a
    /// terminal); 0 does not wrap.
    #[arg(long, value_name = "N")]
    pub width: Option<usize>,

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
/// [`STEPS`] and [`STATUSES`] so that the help cannot drift from the
/// walk.
fn after_help() -> String {
    let mut text = String::from("Steps:\n");
    for (index, step) in STEPS.iter().enumerate() {
        text += &format!("  {}  {}\n", index + 1, step.title);
    }
    text += "\n";
    text += &exit_status::help(STATUSES);
    text += " Ctrl-C during a step ends the walk by SIGINT (a shell shows \
             130) once the demo program is killed and reaped.";
    text
}

/// The binary's entry point.
pub fn main() -> std::process::ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    if let Some(code) = checker::children::dispatch(&args) {
        // A process the walk started: the demo program, or a probe.
        return code;
    }
    let command = Options::command()
        .after_help(after_help())
        .max_term_width(terminal::HELP_WIDTH);
    let options = command
        .try_get_matches_from(&args)
        .and_then(|matches| Options::from_arg_matches(&matches));
    match options {
        Ok(options) => {
            // Ctrl-C or `kill` during a step: the demo program and the
            // commands of the step killed and reaped before we go.
            checker::stop::install();
            run(&options).into()
        }
        Err(err) => {
            let help = "'just demo --help'";
            exit_status::usage_error("workshop", help, &err).into()
        }
    }
}

/// The width to wrap at: `--width` (0: none), else the terminal's.
fn width(options: &Options) -> Option<usize> {
    match options.width {
        Some(0) => None,
        Some(width) => Some(width),
        None => terminal::width(),
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
/// At a pause on a terminal, Ctrl-C is a key like `q` (see
/// [`crate::narrate`]): the walk stops there, the demo program is
/// killed and reaped, and the status is 0, as for a walk that ended.
/// During a step, Ctrl-C is the signal: `checker::stop`'s handler,
/// which `main` installs, kills and reaps the demo and any command of
/// the step and removes a tracing instance, and then SIGINT ends us (a
/// shell sees 130). Without that handler (a library caller) the kernel
/// still kills the demo, which asked for `PR_SET_PDEATHSIG`.
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
    let launcher = Launcher::this_executable();
    let target = match Target::spawn(launcher, THREADS, &proc) {
        Ok(target) => target,
        Err(err) => {
            eprintln!("workshop: {err}");
            return Status::CannotRun;
        }
    };
    let mut walk = Walk {
        proc: &proc,
        target: &target,
        say: Narrator::new(pausing(options), width(options)),
        root: nix::unistd::geteuid().is_root(),
        failed: false,
        alone: options.step.is_some(),
        tracing_skipped: None,
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
                .map(|tid| tid.to_string())
                .collect::<Vec<_>>()
                .join(" and ")
        ));
    }
    for (index, &number) in numbers.iter().enumerate() {
        if walk.say.broken() {
            break; // Nobody reads on: a closed pipe, or a full disk.
        }
        if index > 0 && walk.say.pause(number) == Pause::Stop {
            walk.say.note(&format!(
                "Stopped before step {number}; `just step {number}` runs \
                 that step alone."
            ));
            break;
        }
        let step = &STEPS[number - 1];
        walk.say.heading(number, total, step.title);
        (step.run)(&mut walk);
    }
    walk.say.flush();
    let failed = walk.failed;
    let unwritten = walk.say.take_error();
    // Kill and reap the demo program (Target's Drop): no process left.
    drop(target);
    if let Some(err) = unwritten {
        // A closed pipe is 0 and silent; a full disk one line and 3.
        return exit_status::after_write("workshop", Err(err))
            .unwrap_or(Status::CannotRun);
    }
    if failed { Status::Failed } else { Status::Ok }
}
