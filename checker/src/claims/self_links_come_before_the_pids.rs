//! The two links of the listing that are not thread groups: `self` and
//! `thread-self`.
//! Book: "Beyond the article".

use std::path::Path;

use crate::claims::{Claim, Context, Proof, Stop, fail};
use crate::procfs::DT_LNK;

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "self and thread-self are symlinks listed before the first \
                pid, resolving to the reader's tgid and <tgid>/task/<tid>.",
    kernel: "proc_pid_readdir() (fs/proc/base.c), proc_self_get_link() \
             (fs/proc/self.c), proc_thread_self_get_link() \
             (fs/proc/thread_self.c)",
    opt_in: None,
    since: None,
    check,
};

/// `proc_pid_readdir()` (fs/proc/base.c) emits `self` at position
/// `TGID_OFFSET - 2` and `thread-self` at `TGID_OFFSET - 1`, before its
/// `next_tgid()` loop, as symlinks. Their targets are computed at each
/// read from the reader: `proc_self_get_link()` (fs/proc/self.c) prints
/// the reader's tgid and `proc_thread_self_get_link()`
/// (fs/proc/thread_self.c) `<tgid>/task/<pid>`, both as numbers in the
/// procfs's pid namespace.
fn check(cx: &Context<'_>) -> Proof {
    let listing = cx.root_listing()?;
    let index_of = |name: &str| listing.iter().position(|e| e.name == name);
    let (Some(this), Some(thread)) =
        (index_of("self"), index_of("thread-self"))
    else {
        return fail(
            "self and thread-self in the listing",
            format!("{} lacks one of them", cx.proc_path(".")),
        );
    };
    for entry in [&listing[this], &listing[thread]] {
        if entry.d_type != DT_LNK {
            return fail(
                format!("{} listed as a symlink (DT_LNK)", entry.name),
                format!("d_type {}", entry.d_type),
            );
        }
    }
    let first_pid = (listing.iter().position(|e| e.pid().is_some()))
        .unwrap_or(listing.len());
    if !(this < thread && thread < first_pid) {
        return fail(
            "self, then thread-self, then the first pid",
            format!(
                "self at entry {this}, thread-self at {thread}, first pid \
                 at entry {first_pid}"
            ),
        );
    }
    let me = std::process::id().to_string();
    points_to(cx, "self", &cx.proc.read_link("self")?, &me)?;
    // Read thread-self from a thread that is not the leader, so that
    // its tid differs from the tgid and the link must tell them apart.
    let (tid, link) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let tid = nix::unistd::gettid().as_raw();
            (tid, cx.proc.read_link("thread-self"))
        });
        reader.join().map_err(|_| "the reading thread panicked")
    })
    .or_else(|why| fail("a thread to read thread-self", why))?;
    let expected = format!("{me}/task/{tid}");
    points_to(cx, "thread-self", &link?, &expected)?;
    Ok(format!(
        "entries {this} and {thread} of {}, before the first pid at entry \
         {first_pid}; self -> {me}, and from thread {tid}, thread-self -> \
         {expected}",
        listing.len()
    ))
}

/// Fail unless the link `name` read `link`, pointing to `expected`.
fn points_to(
    cx: &Context<'_>,
    name: &str,
    link: &Path,
    expected: &str,
) -> Result<(), Stop> {
    if link == Path::new(expected) {
        return Ok(());
    }
    fail(
        format!("{} -> {expected}", cx.proc_path(name)),
        format!("{} -> {}", cx.proc_path(name), link.display()),
    )
}
