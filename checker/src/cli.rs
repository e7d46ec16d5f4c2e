//! The command line: options, exit statuses, and the order of a run.
//!
//! Book: "Running the checker in CI" documents the exit statuses, which
//! are the workspace's ([`exit_status::Status`]).

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use exit_status::{Status, Statuses};

use crate::children::Launcher;
use crate::claims::{CLAIMS, Claim, Context};
use crate::procfs::{LiveProc, Procfs, inode, is_procfs};
use crate::report::{self, Report};
use crate::target::Target;
use crate::vm_init;

/// How a reader runs the checker from the workspace, for hints.
pub const RUN: &str = "just check";

/// What the checker's exit statuses mean for it: its `--help` says
/// this list, and `tests/statuses.rs` runs it into each one.
pub const STATUSES: &Statuses = &[
    (Status::Ok, "no claim failed and at least one passed"),
    (
        Status::Failed,
        "a claim failed (with --strict, a skip counts as a failure)",
    ),
    (Status::Usage, "usage error"),
    (
        Status::CannotRun,
        "could not run (no procfs, no such process, the target exited \
         mid-check)",
    ),
    (
        Status::Skipped,
        "nothing could be verified (every selected claim skipped or was \
         not run)",
    ),
];

/// The same for `checker audit`.
pub const AUDIT_STATUSES: &Statuses = &[
    (Status::Ok, "nothing hidden found"),
    (
        Status::Failed,
        "something found (a hidden process, an orphan thread, a listed id \
         that does not resolve, a mount over a process's directory)",
    ),
    (Status::Usage, "usage error"),
    (
        Status::CannotRun,
        "could not run (no procfs, pid_max unreadable)",
    ),
];

/// `checker audit --help` after the options: its statuses, and what it
/// may and may not do.
fn audit_help() -> String {
    exit_status::help(AUDIT_STATUSES)
        + "\n\nRead-only and unprivileged: it never unmounts anything. As \
           root it can also read the status of other users' processes \
           under a hidepid= mount. It sees the mounts of its own mount \
           namespace only."
}

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
    after_help = exit_status::help(STATUSES),
    args_conflicts_with_subcommands = true
)]
pub struct Options {
    /// Check this running process (a thread id selects its process)
    /// instead of starting the demo.
    #[arg(
        long,
        short = 'p',
        value_name = "PID",
        value_parser = parse_pid,
        allow_hyphen_values = true
    )]
    pub pid: Option<i32>,

    /// Threads of the demo target besides its leader.
    #[arg(
        long,
        short = 't',
        value_name = "N",
        default_value_t = 3,
        conflicts_with = "pid",
        value_parser = parse_threads,
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

    /// Fail every claim that skips (for want of a privilege, a facility
    /// or a kernel feature), except one this kernel is too old for: for
    /// CI jobs that expect every claim they ask for to run. Claims not
    /// asked for (--trace, --audit) stay "not run".
    #[arg(long)]
    pub strict: bool,

    /// The procfs to read.
    #[arg(long, value_name = "DIR", default_value = "/proc")]
    pub proc: PathBuf,

    /// Run the audit claim too: every id up to pid_max looked up (a
    /// second or more where pid_max is 4194304).
    #[arg(long)]
    pub audit: bool,

    /// Wrap the human report at this many columns (`main` sets the
    /// terminal's width; `None` keeps lines whole, as for a pipe).
    #[arg(skip)]
    pub width: Option<usize>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What else the checker does than check the claims.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Look for hidden processes: look up every id up to pid_max in the
    /// procfs, compare with its listing, and report each id that
    /// resolves but is neither listed nor a thread of a listed process,
    /// and each mount over a process's directory.
    Audit(AuditOptions),
}

/// `checker audit`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = audit_help())]
pub struct AuditOptions {
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Human)]
    pub format: AuditFormat,

    /// The procfs to audit.
    #[arg(long, value_name = "DIR", default_value = "/proc")]
    pub proc: PathBuf,

    /// Lookups at once (default: the number of cores).
    #[arg(long, value_name = "N", value_parser = parse_jobs)]
    pub jobs: Option<u16>,
}

/// How `checker audit` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// Text for people, wrapped to the terminal.
    Human,
    /// TAP version 13, one test point per kind of finding.
    Tap,
    /// One JSON document, whose `schema_version` names its shape.
    Json,
    /// JUnit XML, one testcase per kind of finding.
    Junit,
}

/// The most threads `--threads` starts besides the leader.
const MAX_THREADS: u32 = 1_000_000;

/// `--threads`: a count of threads besides the leader, said in words
/// rather than in Rust's range syntax.
fn parse_threads(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(count) if (1..=MAX_THREADS).contains(&count) => Ok(count),
        _ => Err(format!(
            "the demo starts 1 to {MAX_THREADS} threads besides its leader"
        )),
    }
}

/// `checker audit --jobs`: how many lookups run at once.
fn parse_jobs(text: &str) -> Result<u16, String> {
    match text.trim().parse::<u16>() {
        Ok(jobs) if jobs >= 1 => Ok(jobs),
        _ => Err(format!("lookups at once run from 1 to {}", u16::MAX)),
    }
}

/// Where the kernel says how far pids go.
const PID_MAX: &str = "/proc/sys/kernel/pid_max";

/// A pid as the kernel hands them out: 1 up to pid_max - 1, since
/// alloc_pid() allocates below pid_max (kernel/pid.c).
fn parse_pid(text: &str) -> Result<i32, String> {
    let pid_max = crate::audit::pid_max(&LiveProc::new("/proc"))
        .ok()
        .map(i64::from);
    let range = match pid_max {
        Some(max) => {
            format!("pids run from 1 to {} here ({PID_MAX})", max - 1)
        }
        None => format!("pids run from 1 to pid_max - 1 ({PID_MAX})"),
    };
    let pid = match text.trim().parse::<i64>() {
        Ok(pid) => pid,
        Err(_) => return Err(format!("not a number; {range}")),
    };
    let limit = pid_max.unwrap_or(i64::from(i32::MAX));
    match i32::try_from(pid) {
        Ok(pid) if pid >= 1 && i64::from(pid) < limit => Ok(pid),
        _ => Err(format!("not a process id; {range}")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Text for people, coloured on a terminal (honours NO_COLOR).
    Human,
    /// TAP version 13, for test harnesses.
    Tap,
    /// One JSON document, whose `schema_version` names its shape.
    Json,
    /// JUnit XML, one testcase per claim, for CI dashboards.
    Junit,
    /// A Markdown table of the claims (with --list).
    Markdown,
}

/// The binary's entry point.
pub fn main() -> std::process::ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    if let Some(code) = crate::children::dispatch(&args) {
        // We are a process the checker started: the demo, or a probe.
        return code;
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
            // Every claim must run in a VM the matrix boots, but one
            // that kernel is too old for.
            options.trace = true;
            options.audit = true;
            options.strict = true;
            let status = run(&options, &mut out);
            let text = String::from_utf8_lossy(&out).into_owned();
            if text.is_empty() {
                return format!("checker: exit status {status}");
            }
            text
        })
    }
    let matches = command().try_get_matches_from(&args);
    let options = matches.and_then(|m| Options::from_arg_matches(&m));
    let mut options = match options {
        Ok(options) => options,
        Err(err) => {
            // The help that lists the option in question: the audit's
            // own for `checker audit ...` (options cannot come before a
            // subcommand: `args_conflicts_with_subcommands`).
            let help = match args.get(1).is_some_and(|arg| arg == "audit") {
                true => format!("'{RUN} audit --help'"),
                false => format!("'{RUN} --help'"),
            };
            return exit_status::usage_error("checker", &help, &err).into();
        }
    };
    // Ctrl-C mid-run: our children killed and reaped before we go.
    crate::stop::install();
    options.width = terminal::width();
    let mut out = anstream::stdout();
    if let Some(Command::Audit(audit)) = &options.command {
        return audit_main(audit, options.width, &mut out).into();
    }
    run(&options, &mut out).into()
}

/// The command line, with help that fits an 80-column terminal (or a
/// narrower one).
pub fn command() -> clap::Command {
    Options::command().max_term_width(terminal::HELP_WIDTH)
}

/// Run the checks that `options` ask for, write the result to `out`, and
/// return the exit status. Problems that stop the run go to stderr, in
/// one line.
pub fn run(options: &Options, out: &mut dyn Write) -> Status {
    if options.list {
        return written(list(options.format), out).unwrap_or(Status::Ok);
    }
    let selected = match select(&options.only) {
        Ok(selected) => selected,
        Err(message) => return error(Status::Usage, message),
    };
    if options.format == Format::Markdown {
        let reports: Vec<String> = Format::value_variants()
            .iter()
            .filter(|format| **format != Format::Markdown)
            .filter_map(|format| format.to_possible_value())
            .map(|value| value.get_name().to_string())
            .collect();
        return error(
            Status::Usage,
            format!(
                "--format markdown lists the claims; use it with --list, \
                 or pick {} for a report; see '{RUN} --help'",
                exit_status::one_of(&reports)
            ),
        );
    }
    if let Err(message) = usable_procfs(&options.proc) {
        return error(Status::CannotRun, message);
    }
    let proc = LiveProc::new(&options.proc);
    let launcher = Launcher::this_executable();
    let target = match options.pid {
        Some(pid) => Target::existing(launcher, &proc, pid),
        None => Target::spawn(launcher, options.threads, &proc),
    };
    let target = match target {
        Ok(target) => target,
        Err(err) => return error(Status::CannotRun, err),
    };
    let cx = Context::new(&proc, &target)
        .with_trace(options.trace)
        .with_audit(options.audit);
    let mut report = check_in(&cx, &selected);
    if options.strict {
        report = report.strict();
    }
    if let Err(err) = target.still_alive(&proc) {
        return error(Status::CannotRun, err);
    }
    drop(target);
    let text = match options.format {
        Format::Human => report::human(&report, options.width),
        Format::Tap => report::tap(&report),
        Format::Junit => report::junit(&report),
        Format::Json | Format::Markdown => report::json(&report),
    };
    written(text, out).unwrap_or(report.status())
}

/// `checker audit`: scan, classify, report.
pub fn audit_main(
    options: &AuditOptions,
    width: Option<usize>,
    out: &mut dyn Write,
) -> Status {
    let audit = match audit(options) {
        Ok(audit) => audit,
        Err(message) => {
            return error(Status::CannotRun, format!("audit: {message}"));
        }
    };
    let text = match options.format {
        AuditFormat::Human => crate::audit::human(&audit, width),
        AuditFormat::Tap => crate::audit::tap(&audit),
        AuditFormat::Junit => crate::audit::junit(&audit),
        AuditFormat::Json => crate::audit::json(&audit),
    };
    let status = match audit.clean() {
        true => Status::Ok,
        false => Status::Failed,
    };
    written(text, out).unwrap_or(status)
}

/// The audit of the procfs `options` name, with a progress line on a
/// terminal's stderr (at most four a second); or why it cannot be had.
fn audit(options: &AuditOptions) -> Result<crate::audit::Audit, String> {
    use std::io::IsTerminal;
    usable_procfs(&options.proc)?;
    let proc = LiveProc::new(&options.proc);
    let show = std::io::stderr().is_terminal();
    let last = std::sync::Mutex::new(std::time::Instant::now());
    let progress = |done: u32, pid_max: u32| {
        // One worker writes, the others go on looking ids up.
        let Ok(mut last) = last.try_lock() else {
            return;
        };
        if show && last.elapsed().as_millis() >= 250 {
            *last = std::time::Instant::now();
            crate::stop::progress_shown(true);
            eprint!("\raudit: {done} of {} ids looked up", pid_max - 1);
        }
    };
    let jobs = options.jobs.map(usize::from);
    let found = crate::audit::run(&proc, &options.proc, jobs, &progress);
    if show {
        eprint!("\r\x1b[K");
        crate::stop::progress_shown(false);
    }
    let (scan, verdicts) = found.map_err(|err| err.to_string())?;
    let shown = options.proc.display().to_string();
    Ok(crate::audit::Audit::new(
        kernel_release(),
        &shown,
        &scan,
        verdicts,
    ))
}

/// Write `text`; a status if that ends the run (a closed pipe ends it
/// quietly with status 0).
fn written(text: String, out: &mut dyn Write) -> Option<Status> {
    let result = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    exit_status::after_write("checker", result)
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
    check_in(&Context::new(proc, target).with_trace(trace), claims)
}

/// Check `claims` in `cx`, in registry order.
pub fn check_in(cx: &Context<'_>, claims: &[&'static Claim]) -> Report {
    let results = claims.iter().map(|claim| (*claim, claim.run(cx)));
    Report::new(
        kernel_release(),
        cx.proc.root().display().to_string(),
        cx.target,
        results.collect(),
    )
}

/// `uname -r`.
pub fn kernel_release() -> String {
    nix::sys::utsname::uname()
        .map(|name| name.release().to_string_lossy().into_owned())
        .unwrap_or_else(|_| "unknown".to_string())
}

fn list(format: Format) -> String {
    match format {
        Format::Human | Format::Tap | Format::Junit => {
            report::list_human(CLAIMS)
        }
        Format::Json => report::list_json(CLAIMS),
        Format::Markdown => report::list_markdown(CLAIMS),
    }
}

/// The claims `--only` names, in registry order; all if none.
fn select(only: &[String]) -> Result<Vec<&'static Claim>, String> {
    if let Some(id) = only.iter().find(|id| crate::claims::find(id).is_none())
    {
        return Err(format!(
            "no claim has the id {id:?}; list them with `{RUN} --list` \
             (or `cargo run -p checker -- --list`)"
        ));
    }
    let wanted = |claim: &&Claim| {
        only.is_empty() || only.iter().any(|id| id == claim.id)
    };
    Ok(CLAIMS.iter().copied().filter(wanted).collect())
}

/// Whether `dir` is a procfs of the checker's own pid namespace, or what
/// to do about it.
fn usable_procfs(dir: &Path) -> Result<(), String> {
    let shown = dir.display();
    match is_procfs(dir) {
        Ok(true) => {}
        Ok(false) => {
            return Err(format!(
                "{shown} is not a procfs; point --proc at a mounted one \
                 (`findmnt -t proc` lists them)"
            ));
        }
        Err(err) => {
            return Err(format!(
                "cannot use {shown}: {}; the checker needs a mounted \
                 procfs (`findmnt -t proc` lists them)",
                crate::procfs::describe(&err)
            ));
        }
    }
    // /proc/1, /proc/self or /proc/sys are procfs, but not its root.
    if inode(dir).is_some_and(|ino| ino != 1) {
        return Err(format!(
            "{shown} is a directory inside a procfs, not its root; point \
             --proc at the directory it is mounted on, such as /proc \
             (`findmnt -t proc` lists them)"
        ));
    }
    // A procfs numbers pids in the namespace that mounted it; its
    // `self` names us there. Ids we learn from getpid() and gettid()
    // are our own namespace's, so they must agree.
    let me = std::process::id().to_string();
    match LiveProc::new(dir).read_link("self") {
        Ok(link) if link == Path::new(&me) => Ok(()),
        Ok(link) => Err(format!(
            "{shown} is the procfs of another pid namespace: its self is \
             {}, but this process is {me} in its own; run the checker in \
             the namespace that mounted {shown}",
            link.display()
        )),
        Err(err) if err.is_enoent() => Err(format!(
            "{shown} is the procfs of a pid namespace this process is not \
             in ({shown}/self does not resolve); run the checker in the \
             namespace that mounted it"
        )),
        Err(err) => Err(format!("cannot use {shown}: {err}")),
    }
}

/// Say `message` in one line on stderr and return `status`.
fn error(status: Status, message: impl std::fmt::Display) -> Status {
    eprintln!("checker: {message}");
    status
}
