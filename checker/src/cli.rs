//! The command line: options, exit codes, and the order of a run.
//!
//! Book: "Running the checker in CI" documents the exit codes.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use crate::claims::{self, CLAIMS, Claim, Context, Outcome};
use crate::procfs::{LiveProc, Procfs, is_procfs};
use crate::report::{self, Report};
use crate::target::{DEMO_SPAWNER_ARG, DemoProgram, Target, TargetError};
use crate::vm_init;

/// Exit status: every claim held (or was skipped).
pub const EXIT_HELD: u8 = 0;
/// Exit status: at least one claim failed on this kernel.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: the command line was wrong.
pub const EXIT_USAGE: u8 = 2;
/// Exit status: this system cannot be checked (no procfs, not Linux).
pub const EXIT_SYSTEM: u8 = 3;
/// Exit status: the target cannot be checked (no such process, a
/// kernel thread, or it exited during the check).
pub const EXIT_TARGET: u8 = 4;

/// Check, on the running kernel, why `ls /proc` misses thread ids while
/// `/proc/<TID>` resolves.
///
/// By default the checker starts a small multi-threaded process of its
/// own (demo-spawner's code) and checks every claim against it; with
/// --pid it checks a process that is already running.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "checker",
    bin_name = "checker",
    version,
    after_help = "Exit status: 0 every claim held or was skipped; \
                  1 a claim failed; 2 usage error; 3 this system cannot \
                  be checked (no procfs); 4 the target cannot be checked \
                  (no such process, kernel thread, exited mid-check)."
)]
pub struct Options {
    /// Check this running process (a thread id selects its process)
    /// instead of starting the demo.
    #[arg(long, short = 'p', value_name = "PID")]
    pub pid: Option<i32>,

    /// Threads of the demo target besides its leader.
    #[arg(
        long,
        short = 't',
        value_name = "N",
        default_value_t = 3,
        conflicts_with = "pid",
        value_parser = clap::value_parser!(u32).range(1..=1_000_000),
    )]
    pub threads: u32,

    /// Output format (markdown only with --list).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// List the claims without checking them.
    #[arg(long)]
    pub list: bool,

    /// Check only the claim with this id (repeatable; see --list).
    #[arg(long, value_name = "ID")]
    pub only: Vec<String>,

    /// Record kernel stacks for the tracing claims (root, tracefs; a
    /// private tracefs instance, removed afterwards).
    #[arg(long)]
    pub trace: bool,

    /// The procfs to read.
    #[arg(long, value_name = "DIR", default_value = "/proc")]
    pub proc: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Text for people, coloured on a terminal (honours NO_COLOR).
    Human,
    /// TAP version 13, for test harnesses.
    Tap,
    /// One JSON document (schema_version 1).
    Json,
    /// A Markdown table of the claims (with --list).
    Markdown,
}

/// The binary's entry point.
pub fn main() -> std::process::ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|arg| arg == DEMO_SPAWNER_ARG) {
        // We are the target the checker started: run demo-spawner.
        args.splice(0..2, [OsString::from("demo-spawner")]);
        return demo_spawner::main_with_args(args);
    }
    if vm_init::is_init() {
        // The first process of a throwaway VM (`cargo xtask matrix`).
        vm_init::run_as_init(|| {
            let mut out = Vec::new();
            let mut options = match Options::try_parse_from(&args) {
                Ok(options) => options,
                Err(err) => return format!("checker: {err}"),
            };
            options.format = Format::Json;
            options.trace = true;
            let code = run(&options, &mut out);
            let text = String::from_utf8_lossy(&out).into_owned();
            if code > EXIT_FAILED && text.is_empty() {
                return format!("checker: exit status {code}");
            }
            text
        })
    }
    let options = match Options::try_parse_from(&args) {
        Ok(options) => options,
        Err(err) => return usage_error(&err).into(),
    };
    let mut out = anstream::stdout();
    let code = run(&options, &mut out);
    let _ = out.flush();
    code.into()
}

/// Run the checks that `options` ask for, write the result to `out`, and
/// return the exit status. Problems that stop the run go to stderr.
pub fn run(options: &Options, out: &mut dyn Write) -> u8 {
    if options.list {
        return list(options.format, out);
    }
    let selected = match select(&options.only) {
        Ok(selected) => selected,
        Err(message) => {
            eprintln!("checker: {message}");
            return EXIT_USAGE;
        }
    };
    if options.format == Format::Markdown {
        eprintln!(
            "checker: --format markdown lists the claims; use it with \
             --list, or pick human, tap or json"
        );
        return EXIT_USAGE;
    }
    if let Err(message) = usable_procfs(&options.proc) {
        eprintln!("checker: {message}");
        return EXIT_SYSTEM;
    }
    let proc = LiveProc::new(&options.proc);
    let target = match options.pid {
        Some(pid) => {
            Target::existing(DemoProgram::this_executable(), &proc, pid)
        }
        None => Target::spawn(
            DemoProgram::this_executable(),
            options.threads,
            &proc,
        ),
    };
    let target = match target {
        Ok(target) => target,
        Err(err) => return target_error(&err),
    };
    let report = check_with(&proc, &target, &selected, options.trace);
    if let Err(err) = target.still_alive(&proc) {
        return target_error(&err);
    }
    drop(target);
    let text = match options.format {
        Format::Human => report::human(&report),
        Format::Tap => report::tap(&report),
        Format::Json | Format::Markdown => report::json(&report),
    };
    if out.write_all(text.as_bytes()).is_err() {
        // A closed pipe (`checker | head`): nothing left to tell.
        return EXIT_SYSTEM;
    }
    if report.held() {
        EXIT_HELD
    } else {
        EXIT_FAILED
    }
}

/// Check `claims` against `target` through `proc`, in registry order,
/// without kernel tracing.
pub fn check(
    proc: &dyn Procfs,
    target: &Target,
    claims: &[&'static Claim],
) -> Report {
    check_with(proc, target, claims, false)
}

/// [`check`], with the tracing claims recording stacks if `trace`.
pub fn check_with(
    proc: &dyn Procfs,
    target: &Target,
    claims: &[&'static Claim],
    trace: bool,
) -> Report {
    let cx = Context::new(proc, target).with_trace(trace);
    let results: Vec<(&'static Claim, Outcome)> = claims
        .iter()
        .map(|claim| (*claim, (claim.check)(&cx)))
        .collect();
    Report::new(
        kernel_release(),
        proc.root().display().to_string(),
        target,
        results,
    )
}

/// `uname -r`.
pub fn kernel_release() -> String {
    nix::sys::utsname::uname()
        .map(|name| name.release().to_string_lossy().into_owned())
        .unwrap_or_else(|_| "unknown".to_string())
}

fn list(format: Format, out: &mut dyn Write) -> u8 {
    let text = match format {
        Format::Human | Format::Tap => report::list_human(CLAIMS),
        Format::Json => report::list_json(CLAIMS),
        Format::Markdown => report::list_markdown(CLAIMS),
    };
    match out.write_all(text.as_bytes()) {
        Ok(()) => EXIT_HELD,
        Err(_) => EXIT_SYSTEM,
    }
}

/// The claims `--only` names, in registry order; all if none.
fn select(only: &[String]) -> Result<Vec<&'static Claim>, String> {
    for id in only {
        if claims::find(id).is_none() {
            return Err(format!(
                "no claim has the id {id:?}; 'checker --list' shows them"
            ));
        }
    }
    Ok(CLAIMS
        .iter()
        .filter(|claim| {
            only.is_empty() || only.iter().any(|id| id == claim.id)
        })
        .collect())
}

/// Whether `dir` is a procfs we can read, or what to do about it.
fn usable_procfs(dir: &std::path::Path) -> Result<(), String> {
    match is_procfs(dir) {
        Ok(true) => Ok(()),
        Ok(false) => Err(format!(
            "{} is not a procfs; mount one with 'mount -t proc proc {}'",
            dir.display(),
            dir.display()
        )),
        Err(err) => Err(format!(
            "cannot use {}: {err}; the checker needs a mounted procfs \
             ('mount -t proc proc {}')",
            dir.display(),
            dir.display()
        )),
    }
}

fn target_error(err: &TargetError) -> u8 {
    eprintln!("checker: {err}");
    EXIT_TARGET
}

/// Print clap's help and version as they are, any usage error as one
/// line.
fn usage_error(err: &clap::Error) -> u8 {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            EXIT_HELD
        }
        _ => {
            let rendered = err.render().to_string();
            let line = rendered.lines().next().unwrap_or("invalid arguments");
            let line = line.strip_prefix("error: ").unwrap_or(line);
            eprintln!("checker: {line}; see 'checker --help'");
            EXIT_USAGE
        }
    }
}
