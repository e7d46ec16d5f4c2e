//! pidfds for threads: what PIDFD_THREAD added in Linux 6.9.
//! Book: "Beyond the article".

use nix::errno::Errno;

use crate::claims::{Claim, Context, Proof, fail, skip, with_own_thread};
use crate::sys::PIDFD_THREAD;

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "pidfd_open(<TID>, PIDFD_THREAD) opens a pidfd for a thread \
                that is not the leader.",
    kernel: "pidfd_open() (kernel/pid.c) accepts PIDFD_THREAD, and \
             pidfd_prepare() (kernel/fork.c) then wants a PIDTYPE_PID task",
    opt_in: None,
    since: Some((6, 9)),
    check,
};

/// With `PIDFD_THREAD` (`O_EXCL`, include/uapi/linux/pidfd.h),
/// `pidfd_prepare()` (kernel/fork.c) asks `pid_has_task(pid,
/// PIDTYPE_PID)` instead of `PIDTYPE_TGID`: any thread will do, as for
/// a lookup of /proc/<TID>. Linux 6.9 added the flag; an older
/// `pidfd_open()` refuses any flag but `PIDFD_NONBLOCK` with EINVAL, for
/// the leader too, which is how the claim tells "too old" from
/// "refused": on such a kernel, hold an `O_DIRECTORY` descriptor of
/// /proc/<TGID>/task/<TID> to keep a handle on a thread.
fn check(cx: &Context<'_>) -> Proof {
    // The checker's own process and a thread of its own, held alive.
    let pid = std::process::id() as i32;
    with_own_thread(|tid| {
        // The leader first: only a kernel without the flag refuses a
        // leader, so a refusal here says "too old", not "refused".
        match cx.sys.pidfd_open(pid, PIDFD_THREAD) {
            Ok(_) => {}
            Err(errno @ (Errno::EINVAL | Errno::ENOSYS)) => {
                return skip(format!(
                    "this kernel has no PIDFD_THREAD, which Linux 6.9 \
                     added: pidfd_open({pid}, PIDFD_THREAD) of a leader \
                     fails with {errno}"
                ));
            }
            Err(errno) => {
                let expected =
                    format!("pidfd_open({pid}, PIDFD_THREAD) to work");
                return fail(expected, format!("{errno}"));
            }
        }
        match cx.sys.pidfd_open(tid, PIDFD_THREAD) {
            Ok(_) => Ok(format!(
                "pidfd_open({tid}, PIDFD_THREAD) opens a pidfd for thread \
                 {tid} of {pid}, as pidfd_open({pid}, PIDFD_THREAD) does \
                 for its leader"
            )),
            Err(errno) => fail(
                format!("pidfd_open({tid}, PIDFD_THREAD) to work"),
                format!("{errno}"),
            ),
        }
    })
}
