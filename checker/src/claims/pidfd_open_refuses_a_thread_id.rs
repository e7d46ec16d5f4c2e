//! pidfds name processes: a thread's id is refused where a lookup of
//! /proc/<TID> accepts it.

use nix::errno::Errno;

use crate::claims::{Chapter, Claim, Context, Proof, fail, skip};

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "pidfd_open(<TID>, 0) is refused for a thread that is not \
                the leader, while pidfd_open(<TGID>, 0) works.",
    kernel: "pidfd_open() (kernel/pid.c) -> pidfd_prepare() (kernel/fork.c) \
             wants a PIDTYPE_TGID task",
    chapter: Chapter::Beyond,
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
    // A process of our own: any reader may signal it and open it.
    let (_demo, pid, tid) = cx.own_demo()?;
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
    match cx.sys.pidfd_open(tid, 0) {
        Err(errno) => Ok(format!(
            "pidfd_open({pid}, 0) works; pidfd_open({tid}, 0), of thread \
             {tid} of {pid}, fails with {errno}"
        )),
        Ok(_) => fail(
            format!("pidfd_open({tid}, 0) refused: {tid} leads no group"),
            format!("it opened a pidfd for thread {tid}"),
        ),
    }
}
