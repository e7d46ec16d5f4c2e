//! The command line of `demo-spawner`: options, help text and the
//! one-line errors, kept apart from the threads themselves.

use std::ffi::OsString;
use std::time::Duration;

use clap::Parser;

use crate::spawn::{self, ExitCode};

/// Spawn threads and print their TIDs, as the article's program does.
///
/// With no options it prints `My TID: <n>` for the main thread and
/// `My thread's TID: <n>` for one spawned thread, then waits for Ctrl-C.
/// Look for the thread's TID with `ls /proc`, then `cat /proc/<TID>/comm`.
#[derive(Debug, Clone, Parser)]
#[command(name = "demo-spawner", bin_name = "demo-spawner", version)]
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
}

fn parse_threads(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(0) => Err("a process needs at least 1 thread to show".into()),
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
    let options = match Options::try_parse_from(args) {
        Ok(options) => options,
        Err(err) => return report_usage_error(&err),
    };
    match spawn::run(&options) {
        Ok(()) => ExitCode::Clean.into(),
        Err(err) => {
            eprintln!("demo-spawner: {err}");
            err.exit_code().into()
        }
    }
}

/// Print clap's help and version as they are, but any usage error as one
/// line, so a script or a workshop attendee sees the cause at once.
fn report_usage_error(err: &clap::Error) -> std::process::ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            ExitCode::Clean.into()
        }
        _ => {
            eprintln!(
                "demo-spawner: {}; see 'demo-spawner --help'",
                first_line(err)
            );
            ExitCode::Usage.into()
        }
    }
}

/// The first line of a clap error, without its `error: ` prefix.
fn first_line(err: &clap::Error) -> String {
    let rendered = err.render().to_string();
    let line = rendered.lines().next().unwrap_or("invalid arguments");
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}
