//! What the three tracing claims share: a tracing session, the fresh
//! thread whose first lookup they record, and stacks as evidence.
//!
//! Each of them records, in a private tracefs instance (see
//! [`crate::trace`]), the stack of every call of two `/proc` functions
//! made by the checker's own thread while it does one thing. Stacks
//! differ between kernels in offsets and inlined frames, so the claims
//! look only for the ordered function names that matter. They run with
//! `--trace` (always when the checker is a VM's `/init`) and skip with
//! the reason where tracing is impossible. Book: "Tracing it yourself".

use crate::children::Demo;
use crate::claims::{Context, Stop, fail, skip};
use crate::trace::{Session, Stack, redacted};

/// `a <- b <- c`: a stack on one line, innermost first, entry code
/// left out.
pub fn one_line(stack: &Stack) -> String {
    redacted(stack)
        .lines()
        .filter(|line| *line != "[ENTRY]")
        .collect::<Vec<_>>()
        .join(" <- ")
}

/// What was recorded, for a failure's evidence.
pub fn recorded_stacks(stacks: &[Stack]) -> String {
    if stacks.is_empty() {
        return "no stack recorded".to_string();
    }
    stacks.iter().map(one_line).collect::<Vec<_>>().join("; ")
}

/// A session tracing `functions`, or why a tracing claim cannot run.
/// (A tracing claim runs only with `--trace`: `Claim::run` sees to it.)
pub fn session(functions: &[&str]) -> Result<Session, Stop> {
    Session::start(functions).or_else(|why| skip(why.reason))
}

/// The functions the lookup claims trace.
pub const LOOKUP: [&str; 2] = ["proc_root_lookup", "proc_pid_lookup"];

/// What [`open_fresh_comm`] recorded.
#[derive(Debug)]
pub struct Opens {
    /// `/proc/<TID>/comm` of a thread nothing had looked up.
    pub path: String,
    pub tid: i32,
    /// The stacks recorded during each open, in order.
    pub stacks: Vec<Vec<Stack>>,
}

/// Open `/proc/<TID>/comm` of a fresh thread `times` times in a row,
/// recording the lookup functions each time. The TID is a thread of a
/// process started for this, so nothing has looked it up before.
pub fn open_fresh_comm(cx: &Context<'_>, times: usize) -> Result<Opens, Stop> {
    let mut session = session(&LOOKUP)?;
    let fresh: Option<Demo> = crate::children::short_lived(cx.helpers(), 1);
    let Some(tid) = fresh.as_ref().and_then(|f| f.ready.threads.first())
    else {
        return skip("could not start a process with a fresh thread");
    };
    let (tid, path) = (tid.tid, cx.at(&format!("{}/comm", tid.tid)));
    let mut stacks = Vec::with_capacity(times);
    for _ in 0..times {
        let recorded = session.record(|| std::fs::read_to_string(&path));
        match recorded.or_else(|why| skip(why.reason))? {
            (Ok(_), recorded) => stacks.push(recorded),
            (Err(err), _) => {
                let found =
                    format!("{path}: {}", crate::procfs::describe(&err));
                return fail(format!("{path} readable"), found);
            }
        }
    }
    // The session goes before the process whose thread it looked at.
    drop(session);
    drop(fresh);
    Ok(Opens { path, tid, stacks })
}
