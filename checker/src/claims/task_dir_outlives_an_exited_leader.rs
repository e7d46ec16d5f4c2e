//! proc_pid_task(5): "In a multithreaded process, the contents of the
//! /proc/pid/task directory are not available if the main thread has
//! already terminated (typically by calling pthread_exit(3))." On the
//! kernels of the matrix they are; this claim shows it.
//! Book: "The man page, sentence by sentence".

use std::time::{Duration, Instant};

use crate::children::short_lived_with;
use crate::claims::{Claim, Context, Proof, fail, id_list, skip};

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "After the leader calls pthread_exit while other threads \
                live, /proc/<TGID>/task/ still lists every thread, the \
                leader among them as a zombie.",
    kernel: "exit_notify() and wait_consider_task() (kernel/exit.c) \
             keep a leader with live threads a zombie; first_tid() \
             (fs/proc/base.c)",
    opt_in: None,
    since: None,
    check,
};

/// How long the leader may take to become a zombie after its ready line.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// A leader that exits while its group has other threads is not
/// reaped. `exit_notify()` (kernel/exit.c) releases a leader at once
/// only if `thread_group_empty(tsk)` (and its parent does not want to
/// wait), and `wait_consider_task()` passes over a zombie leader while
/// `delay_group_leader()` says its group still has threads ("we don't
/// reap group leaders with subthreads"; kernel/exit.c:763-765 and
/// 1475-1478 in 6.12). The zombie stays attached to its pid, so
/// `first_tid()` (fs/proc/base.c) still finds it with `pid_task(pid,
/// PIDTYPE_PID)` and walks the whole thread list from it. The man
/// page's sentence was written for Linux 2.6.13 (its source says so),
/// when `task/` was read differently.
fn check(cx: &Context<'_>) -> Proof {
    // A process of our own whose leader exits after its ready line.
    let demo = short_lived_with(cx.launcher(), 2, &["--leader-exits"])
        .or_else(|why| skip(format!("could not start the demo: {why}")))?;
    let pid = demo.pid();
    let status = format!("{pid}/status");
    let start = Instant::now();
    let state = loop {
        let text = cx.proc.read(&status)?;
        let state = (text.lines())
            .find_map(|line| line.strip_prefix("State:"))
            .map(|state| state.trim().to_string())
            .unwrap_or_default();
        if state.starts_with('Z') || start.elapsed() > EXIT_GRACE {
            break state;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    if !state.starts_with('Z') {
        return fail(
            format!(
                "{}: State: Z after the leader exited",
                cx.proc_path(&status)
            ),
            format!("State: {state} {} ms later", EXIT_GRACE.as_millis()),
        );
    }
    let listed = cx.proc.pids(&format!("{pid}/task"))?;
    let mut expected = vec![pid];
    expected.extend(demo.ready.threads.iter().map(|t| t.tid));
    let missing: Vec<i32> = (expected.iter().copied())
        .filter(|t| !listed.contains(t))
        .collect();
    if !missing.is_empty() {
        return fail(
            format!(
                "{} to list {}",
                cx.proc_path(&format!("{pid}/task")),
                id_list(&expected)
            ),
            match listed.is_empty() {
                true => "it lists nothing".to_string(),
                false => format!(
                    "it lists {}, without {}",
                    id_list(&listed),
                    id_list(&missing)
                ),
            },
        );
    }
    Ok(format!(
        "the leader of {pid} exited: State: {state}; /proc/{pid}/task lists \
         {} ({}): the zombie leader and the live threads",
        crate::claims::how_many(listed.len(), "thread"),
        id_list(&listed)
    ))
}
