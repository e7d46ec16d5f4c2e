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

use crate::claims::{Context, Stop, fail, skip, with_own_thread};
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
/// recording the lookup functions each time. The TID is a thread the
/// checker starts for this and holds alive meanwhile
/// ([`with_own_thread`]), so nothing has looked it up before.
pub fn open_fresh_comm(cx: &Context<'_>, times: usize) -> Result<Opens, Stop> {
    let mut session = session(&LOOKUP)?;
    with_own_thread(|tid| {
        let relative = format!("{tid}/comm");
        let path = cx.proc_path(&relative);
        let mut stacks = Vec::with_capacity(times);
        for _ in 0..times {
            let recorded = session.record(|| cx.proc.read(&relative));
            match recorded.or_else(|why| skip(why.reason))? {
                (Ok(_), recorded) => stacks.push(recorded),
                (Err(err), _) => {
                    return fail(format!("{path} readable"), err);
                }
            }
        }
        // The session goes before the thread whose id it looked up.
        drop(session);
        Ok(Opens { path, tid, stacks })
    })
}
