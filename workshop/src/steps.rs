//! The steps of the walk, in one ordered registry: what each one runs
//! and what it tells the attendee.
//!
//! Every step shows a command and its real output on this kernel, then
//! says in a sentence or two what the output means and which kernel
//! function makes it so, at the kernel version the book pins (Linux
//! 6.12). The ids in the prose are the live ones, so the words point
//! at the lines just printed.
//!
//! Book: "The workshop" includes a transcript of all seven.

use checker::claims::{self, CLAIMS, Claim, Context, Outcome};
use checker::procfs::LiveProc;
use checker::target::Target;

use crate::narrate::{Detail, Narrator};
use crate::shell;

/// One step: its title and what it does.
#[derive(Debug)]
pub struct Step {
    /// Shown in the heading and in `--help`.
    pub title: &'static str,
    pub(crate) run: fn(&mut Walk<'_>),
}

/// The walk, in the article's order.
pub static STEPS: &[Step] = &[
    Step {
        title: "Start the article's program",
        run: start_the_program,
    },
    Step {
        title: "List /proc: the thread is missing",
        run: list_proc,
    },
    Step {
        title: "Open /proc/<TID> by name: the thread is there",
        run: open_by_name,
    },
    Step {
        title: "List /proc/<PID>/task: the way to find threads",
        run: list_task_dir,
    },
    Step {
        title: "Two more claims: strict names, listing offsets",
        run: further_claims,
    },
    Step {
        title: "The kernel's own stacks (root and tracing)",
        run: kernel_stacks,
    },
    Step {
        title: "Every claim, and where to read on",
        run: summary,
    },
];

/// What every step gets: `/proc`, the demo process and the output.
#[derive(Debug)]
pub(crate) struct Walk<'a> {
    pub(crate) proc: &'a LiveProc,
    pub(crate) target: &'a Target,
    pub(crate) say: Narrator,
    /// Whether we may trace the kernel (we are root).
    pub(crate) root: bool,
    /// Whether a claim failed on this kernel (exit status 1).
    pub(crate) failed: bool,
    /// Whether this step runs on its own (`--step N`, `just trace`):
    /// then step 6 says everything the checker saw when it may not
    /// trace, which the whole walk leaves at one sentence.
    pub(crate) alone: bool,
    /// The reason step 6 gave for skipping, which step 7 does not
    /// repeat.
    pub(crate) tracing_skipped: Option<String>,
}

impl Walk<'_> {
    /// The first thread that is not the leader, the one the article
    /// looks for.
    fn tid(&self) -> i32 {
        self.target.threads.first().copied().unwrap_or(0)
    }

    /// Check the claims named `ids` on our demo process and show each
    /// result; a claim this checker does not have is said so.
    fn show_claims(&mut self, ids: &[&str], trace: bool) {
        for id in ids {
            match claims::find(id) {
                Some(claim) => {
                    let outcome = self.check(claim, trace);
                    self.say.claim(claim, &outcome, true);
                }
                None => self.say.note(&format!(
                    "(this checker has no claim {id}; `just check --list` \
                     shows those it has)"
                )),
            }
        }
    }

    fn check(&mut self, claim: &Claim, trace: bool) -> Outcome {
        let cx = Context::new(self.proc, self.target).with_trace(trace);
        let outcome = claim.run(&cx);
        if matches!(outcome, Outcome::Fail { .. }) {
            self.failed = true;
        }
        outcome
    }
}

/// The command an attendee types to start the program the workshop
/// starts for them, with the options `checker::target::Target::spawn`
/// gives it (the workshop reads the same ids from its `--json` ready
/// line, and prints them as the program does).
pub fn spawn_command() -> String {
    format!(
        "just spawn --threads {} --exited 1 --busy-ms {} --name {}",
        crate::cli::THREADS,
        checker::target::BUSY_MS,
        checker::target::THREAD_NAME_PREFIX
    )
}

fn start_the_program(w: &mut Walk<'_>) {
    let target = w.target;
    w.say.prompt(&spawn_command());
    let tids = &target.threads;
    w.say.lines(&demo_spawner::article_lines(target.pid, tids));
    w.say.say(&format!(
        "The workshop runs this program for you until the end of the walk. \
         It is one process with three threads: its process id, {pid}, is \
         also the TID of its first thread, and the two threads it started \
         have TIDs of their own. All of them come from the same pool of \
         ids: copy_process() (kernel/fork.c) calls alloc_pid() \
         (kernel/pid.c) for every new thread, and the first thread's id \
         doubles as the thread-group id, the TGID.",
        pid = target.pid
    ));
    if let Some(exited) = target.exited().first() {
        // The busy thread is the first one the program started, not its
        // first thread (the leader): the distinction of this walk.
        let threads = target.demo_threads();
        let busy = (threads.iter())
            .find(|thread| thread.busy_ms > 0)
            .or(threads.first());
        let busy = match busy {
            Some(thread) => format!(
                "{}{}, the first of the threads it started,",
                thread.tid,
                thread
                    .name
                    .as_ref()
                    .map(|name| format!(" ({name})"))
                    .unwrap_or_default()
            ),
            None => "the first of the threads it started".to_string(),
        };
        w.say.say(&format!(
            "One id is missing from the list: {exited}. Before it printed \
             anything, the program (--exited 1) started one more thread, \
             let it end and joined it, on purpose: step 7 checks that a \
             thread that has exited no longer resolves in /proc. \
             --busy-ms made {busy} burn {BUSY_MS} ms of CPU, for step 7's \
             claim on /proc/<TID>/stat.",
            BUSY_MS = checker::target::BUSY_MS
        ));
    }
}

fn list_proc(w: &mut Walk<'_>) {
    let (pid, tid) = (w.target.pid, w.tid());
    let missing = shell::run(&format!("ls /proc | grep -w {tid}"));
    w.say.ran(&missing);
    w.say.ran(&shell::run(&format!("ls /proc | grep -w {pid}")));
    w.say.say(&format!(
        "`ls` reads the directory with getdents64(2), which procfs answers \
         with proc_root_readdir() (fs/proc/root.c) and then \
         proc_pid_readdir() (fs/proc/base.c). Its loop steps through the \
         ids with next_tgid(), which keeps only the ids that lead a thread \
         group: {pid} is listed, {tid} is not."
    ));
    if missing.code != Some(1) {
        w.say.say(
            "This kernel did not behave as the book's does: step 7 says \
             which claim broke, and how.",
        );
    }
}

fn open_by_name(w: &mut Walk<'_>) {
    let tid = w.tid();
    w.say.ran(&shell::run(&format!("cat /proc/{tid}/comm")));
    w.say.ran(&shell::run(&format!(
        "grep -E '^(Name|Tgid|Pid):' /proc/{tid}/status"
    )));
    w.say.say(&format!(
        "Opening a path does not list any directory: the kernel looks up \
         each name in turn. For a name in /proc, proc_root_lookup() \
         (fs/proc/root.c) calls proc_pid_lookup() (fs/proc/base.c), whose \
         find_task_by_pid_ns() finds any task by its id, leader or not, \
         and builds /proc/{tid} for it. Its status names the thread \
         (Pid:) and the group it belongs to (Tgid:)."
    ));
}

fn list_task_dir(w: &mut Walk<'_>) {
    let pid = w.target.pid;
    w.say.ran(&shell::run(&format!("ls /proc/{pid}/task")));
    w.say.say(
        "Every process directory has a task/ directory that lists all of \
         its threads: proc_task_readdir() (fs/proc/base.c) walks the group \
         with first_tid() and next_tid(). This is the way proc(5) documents \
         to find a process's threads, and the one `ps -L` and `top -H` \
         use.",
    );
}

/// The claims step 5 shows, by id, in the registry's order, which is
/// the order the checker reports them in.
const FURTHER: [&str; 2] = [
    "listing_positions_follow_tgid_arithmetic",
    "pid_names_are_parsed_strictly",
];

fn further_claims(w: &mut Walk<'_>) {
    let (pid, tid) = (w.target.pid, w.tid());
    w.say.ran(&shell::run(&format!("cat /proc/0{tid}/comm")));
    let claims: Vec<&'static Claim> =
        FURTHER.iter().filter_map(|id| claims::find(id)).collect();
    if claims.len() < FURTHER.len() {
        // A checker without one of them: say which, claim by claim.
        w.show_claims(&FURTHER, false);
        return;
    }
    // The checker's own report on the walk's demo: what this command,
    // typed in another terminal while the walk runs, prints.
    w.say.prompt(&format!(
        "just check-pid {pid} --only {} --only {}",
        FURTHER[0], FURTHER[1]
    ));
    let report = checker::cli::check(w.proc, w.target, &claims);
    if report.status() == exit_status::Status::Failed {
        w.failed = true;
    }
    w.say.report(&report);
    w.say.say(
        "The checker tests what follows from the same kernel code. A \
         position in the listing is arithmetic on thread-group ids, \
         TGID_OFFSET + tgid, so seeking to a thread's position lands on the \
         next process, never on the thread. And a name in /proc must be a \
         number written as the kernel writes it: name_to_int() \
         (fs/proc/util.c) refuses a leading zero.",
    );
}

/// The tracing claims of step 6, by id.
const TRACING: [&str; 3] = [
    "listing_passes_through_proc_pid_readdir",
    "tid_lookup_passes_through_proc_pid_lookup",
    "cached_dentry_skips_proc_root_lookup",
];

/// Where to see the stacks when this machine cannot record them.
const SEE_TRACING: &str = "the book's chapter \"Tracing it yourself\" \
    shows them, and `just matrix` records them on VM kernels";

fn kernel_stacks(w: &mut Walk<'_>) {
    if let Some(id) = TRACING.iter().find(|id| claims::find(id).is_none()) {
        w.say.note(&format!(
            "Skipped: this checker has no tracing claim {id} yet; \
             {SEE_TRACING}."
        ));
        return;
    }
    if !w.root {
        w.say.note(&format!(
            "Skipped: recording kernel stacks needs root: `just trace` \
             builds the workshop as you and runs only this step under \
             sudo; {SEE_TRACING}."
        ));
        return;
    }
    let results: Vec<(&Claim, Outcome)> = TRACING
        .iter()
        .filter_map(|id| claims::find(id))
        .map(|claim| (claim, w.check(claim, true)))
        .collect();
    // One reason for all three (a refusal, no tracefs) is said once,
    // in a sentence; what the checker saw, only when step 6 runs alone.
    if let Some(reason) = same_skip_reason(&results) {
        w.say.note(&format!("Skipped: {reason}"));
        let functions = ["proc_pid_readdir"];
        let details = match w.alone {
            true => checker::trace::unavailable(&functions)
                .and_then(|why| why.details),
            false => None,
        };
        if let Some(details) = details {
            w.say.say(&format!("What the checker saw: {details}."));
        }
        w.tracing_skipped = Some(reason);
        return;
    }
    w.say.note(&format!(
        "The tracing claims, checked on the walk's demo ({}) with \
         `--trace`, and the stacks the kernel recorded:",
        w.target.pid
    ));
    for (claim, outcome) in &results {
        w.say.claim(claim, outcome, false);
    }
    w.say.say(
        "These are the kernel's own call stacks, recorded by its function \
         tracer while the checker listed /proc and opened /proc/<TID>. \
         Listing enters proc_root_readdir() and then proc_pid_readdir(); \
         opening enters proc_root_lookup() and then proc_pid_lookup(), but \
         only the first time: after that the dentry cache answers the \
         lookup without asking procfs.",
    );
}

/// The reason, if every result is a skip for that same reason.
fn same_skip_reason(results: &[(&Claim, Outcome)]) -> Option<String> {
    let mut reasons = results.iter().map(|(_, outcome)| match outcome {
        Outcome::Skip { reason } => Some(reason),
        _ => None,
    });
    let first = reasons.next()??;
    reasons
        .all(|reason| reason == Some(first))
        .then(|| first.clone())
}

/// Whether both are skips (or both not run) for the same reason.
fn same_skip(one: &Outcome, other: &Outcome) -> bool {
    matches!(
        (one, other),
        (Outcome::Skip { reason: a }, Outcome::Skip { reason: b })
        | (Outcome::NotRun { reason: a }, Outcome::NotRun { reason: b })
            if a == b
    )
}

fn summary(w: &mut Walk<'_>) {
    // Not a command's output: the walk's own summary of every claim on
    // its demo, one line each, which it says in so many words.
    w.say.note(&format!(
        "Every claim of the checker, on the walk's demo ({}), one line \
         each:",
        w.target.pid
    ));
    let all = CLAIMS;
    let report = checker::cli::check_with(w.proc, w.target, all, w.root);
    let outcomes: Vec<&Outcome> =
        report.claims.iter().map(|result| &result.outcome).collect();
    let said = w.tracing_skipped.clone();
    for (index, (claim, outcome)) in all.iter().zip(&outcomes).enumerate() {
        // A reason shared by the next claim is said once, after it; a
        // reason step 6 gave is not said again.
        let repeated = outcomes
            .get(index + 1)
            .is_some_and(|next| same_skip(outcome, next));
        let detail = match outcome {
            Outcome::Skip { .. } | Outcome::NotRun { .. } if repeated => {
                Detail::None
            }
            Outcome::Skip { reason } if Some(reason) == said.as_ref() => {
                Detail::Text("skipped for the reason step 6 gave")
            }
            _ => Detail::Own,
        };
        w.say.claim_line(claim, outcome, detail);
    }
    w.say.totals(&report);
    if report.status() == exit_status::Status::Failed {
        w.failed = true;
    }
    w.say.say(
        "`just check` runs the same claims on a demo of its own and prints \
         the evidence behind every line, and `just check-pid <PID>` checks \
         a program you already run. Read on in the book (`just serve` \
         serves it locally): \"The listing path\" and \"The lookup path\" \
         for the kernel code of steps 2 and 3, \"Beyond the article\" for \
         the claims of step 5, \"Tracing it yourself\" for step 6, and \
         \"Claims reference\" for every claim.",
    );
}
