//! The command line of `demo-spawner`: options, help text and the
//! one-line errors, kept apart from the threads themselves.

use std::ffi::OsString;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches, Parser};
use exit_status::{Status, Statuses};

use crate::spawn;

/// What demo-spawner's exit statuses mean for it: its `--help` says
/// this list, and `tests/statuses.rs` runs it into each one.
pub const STATUSES: &Statuses = &[
    (
        Status::Ok,
        "stopped by a key, a signal or --exit-after, or stdout closed (a \
         pipe whose reader left)",
    ),
    (Status::Usage, "usage error"),
    (
        Status::CannotRun,
        "could not run (the system would not give the threads asked for, \
         stdout could not be written, or signals could not be set up)",
    ),
];

/// Spawn threads and print their TIDs, as the article's program does.
///
/// With no options it prints `My TID: <n>` for the main thread and
/// `My thread's TID: <n>` for one spawned thread, then waits: on a
/// terminal for q or Ctrl-C, else for SIGINT or SIGTERM. Look for the
/// thread's TID with `ls /proc`, then `cat /proc/<TID>/comm`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "demo-spawner",
    bin_name = "demo-spawner",
    version,
    after_help = exit_status::help(STATUSES)
)]
pub struct Options {
    /// How many threads to spawn besides the main thread.
    #[arg(
        long,
        short = 't',
        default_value_t = 1,
        value_name = "N",
        value_parser = parse_threads,
    )]
    pub threads: u32,

    /// Name the spawned threads PREFIX-1, PREFIX-2, ... so that each
    /// thread's `comm` differs (the kernel keeps 15 bytes of it).
    #[arg(long, value_name = "PREFIX")]
    pub name: Option<String>,

    /// The process's own name, its main thread's `comm` (the kernel
    /// keeps 15 bytes).
    #[arg(long, value_name = "NAME", default_value = "demo-spawner")]
    pub comm: String,

    /// Print one JSON line (pid, every tid, names) once every thread is
    /// alive and parked, instead of the article's lines.
    #[arg(long)]
    pub json: bool,

    /// Exit by itself after SECS seconds (default: live until Ctrl-C or
    /// SIGTERM).
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub exit_after: Option<Duration>,

    /// Let the first spawned thread burn MS milliseconds of its own CPU
    /// time before it parks, so group-wide CPU times differ from its
    /// siblings' own.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub busy_ms: u64,

    /// Also spawn N threads that exit before the ready line; their TIDs
    /// are reported as `exited` (they no longer resolve in /proc).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub exited: u32,

    /// After the ready line, end the main thread alone, as
    /// pthread_exit(3) from main() does, while the other threads live
    /// on (Ctrl-C and --exit-after still end the process).
    #[arg(long, conflicts_with = "exec_from_thread")]
    pub leader_exits: bool,

    /// After the ready line, let the first spawned thread execve(2)
    /// this program again with the same options (but this one): the
    /// new image prints a ready line of its own.
    #[arg(long)]
    pub exec_from_thread: bool,
}

fn parse_threads(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(0) => Err("0 threads besides the main one leave no thread id \
                       to look for; give 1 or more"
            .into()),
        Ok(count) => Ok(count),
        Err(_) => Err(format!("{text:?} is not a thread count")),
    }
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("{text:?} is not a usable number of seconds"))
}

/// The binary's entry point: parse `std::env::args_os` and run.
pub fn main() -> std::process::ExitCode {
    main_with_args(std::env::args_os())
}

/// Parse `args` (the first one is the program name) and run.
///
/// The checker calls this too, in a child process of its own, so that
/// `cargo run -p checker` needs no separately built `demo-spawner`.
pub fn main_with_args(
    args: impl IntoIterator<Item = OsString>,
) -> std::process::ExitCode {
    let options = Options::command()
        .max_term_width(terminal::HELP_WIDTH)
        .try_get_matches_from(args)
        .and_then(|matches| Options::from_arg_matches(&matches));
    let options = match options {
        Ok(options) => options,
        Err(err) => {
            let help = "'just spawn --help'";
            return exit_status::usage_error("demo-spawner", help, &err)
                .into();
        }
    };
    match spawn::run(&options) {
        Ok(()) => Status::Ok.into(),
        // A closed pipe ends us quietly with 0; a full disk is one line
        // and 3, as in every binary of the workspace.
        Err(spawn::SpawnError::Write(err)) => {
            exit_status::after_write("demo-spawner", Err(err))
                .unwrap_or(Status::CannotRun)
                .into()
        }
        Err(err) => {
            eprintln!("demo-spawner: {err}");
            Status::CannotRun.into()
        }
    }
}
