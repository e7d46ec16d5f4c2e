//! pidfds name processes: a thread's id is refused where a lookup of
//! `/proc/<TID>` accepts it.
//! Book: "Beyond the article".

use nix::errno::Errno;

use crate::claims::{Claim, Context, Proof, fail, skip, with_own_thread};

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "pidfd_open(<TID>, 0) is refused for a thread that is not \
                the leader, while pidfd_open(<TGID>, 0) works.",
    kernel: "pidfd_open() (kernel/pid.c) -> pidfd_prepare() (kernel/fork.c) \
             wants a PIDTYPE_TGID task",
    opt_in: None,
    since: None,
    check,
};

/// `pidfd_open()` (kernel/pid.c) finds the pid and calls
/// `pidfd_create()`, whose `pidfd_prepare()` (kernel/fork.c) returns
/// `-EINVAL` unless `pid_has_task(pid, PIDTYPE_TGID)`: without
/// `PIDFD_THREAD` the pid must lead a thread group. That is the check
/// `next_tgid()` makes for the listing, not the one the lookup makes.
/// Linux 6.12 answers EINVAL; kernels may differ in the errno (the
/// evidence names the one seen), not in refusing.
fn check(cx: &Context<'_>) -> Proof {
    // The checker's own process, and a thread of its own held alive:
    // no privilege is needed to open either, so only the kernel's rule
    // can refuse. (In the matrix's VMs the checker is pid 1, which a
    // pidfd names like any other leader.)
    let pid = std::process::id() as i32;
    with_own_thread(|tid| {
        // The leader first: a kernel without pidfd_open says so here,
        // and a refusal of the thread below then means the thread.
        match cx.sys.pidfd_open(pid, 0) {
            Ok(_) => {}
            Err(Errno::ENOSYS) => {
                return skip(
                    "this kernel has no pidfd_open(2) (Linux 5.3 added it)",
                );
            }
            Err(errno) => {
                let expected = format!("pidfd_open({pid}, 0) to work");
                return fail(expected, format!("{errno}"));
            }
        }
        // The same call with the thread's id: any error is the
        // refusal (the errno is evidence, not the claim).
        match cx.sys.pidfd_open(tid, 0) {
            Err(errno) => Ok(format!(
                "pidfd_open({pid}, 0) works; pidfd_open({tid}, 0), of \
                 thread {tid} of {pid}, fails with {errno}"
            )),
            Ok(_) => fail(
                format!("pidfd_open({tid}, 0) refused: {tid} leads no group"),
                format!("it opened a pidfd for thread {tid}"),
            ),
        }
    })
}
