//! Claims about listing `/proc`: what `getdents64(2)` on the procfs root
//! returns, in what order, at which offsets.
//!
//! The path, at Linux 6.12.117: `getdents64` -> `iterate_dir()` ->
//! `proc_root_readdir()` (fs/proc/root.c), which emits the static entries
//! through `proc_readdir()` and then calls `proc_pid_readdir()`
//! (fs/proc/base.c) for `self`, `thread-self` and one directory per
//! thread group.
//!
//! Book: "The listing path".

use std::collections::HashSet;

use crate::claims::{Context, Outcome, some};
use crate::parse::{DT_LNK, Dirent};
use crate::target::ShortLived;

/// Position of the first pid entry's predecessor, `self` (fs/proc/
/// internal.h `FIRST_PROCESS_ENTRY`).
pub const FIRST_PROCESS_ENTRY: i64 = 256;
/// `TGID_OFFSET` in fs/proc/base.c: pid entries sit at `TGID_OFFSET +
/// tgid`, after `self` (256) and `thread-self` (257). Since Linux 3.17.
pub const TGID_OFFSET: i64 = FIRST_PROCESS_ENTRY + 2;
/// `PID_MAX_LIMIT` on 64-bit (include/linux/threads.h): the listing
/// ends by moving its position past every possible pid.
pub const PID_MAX_LIMIT: i64 = 4 * 1024 * 1024;

/// Listing /proc shows the target's thread-group id and none of its other
/// thread ids.
///
/// `proc_pid_readdir()` (fs/proc/base.c) walks the pid namespace with
/// `next_tgid()`, which takes each allocated pid in turn (`find_ge_pid()`)
/// and keeps it only if `pid_task(pid, PIDTYPE_TGID)` finds a task. Only
/// a thread-group leader is attached to its pid as `PIDTYPE_TGID`
/// (`copy_process()` in kernel/fork.c), so every other thread's pid is
/// stepped over. proc(5) says the same of `/proc/tid`: "not visible when
/// iterating through /proc with getdents(2)".
pub fn listing_shows_the_tgid_but_no_other_tid(cx: &Context<'_>) -> Outcome {
    let listing = match cx.root_listing() {
        Ok(listing) => listing,
        Err(outcome) => return outcome,
    };
    let pid = cx.target.pid;
    if cx.target.threads.is_empty() {
        return Outcome::skip(format!(
            "process {pid} has a single thread: there is no other thread \
             id to look for; pick a multi-threaded process"
        ));
    }
    let listed: HashSet<i32> =
        listing.iter().filter_map(Dirent::pid).collect();
    let tids: Vec<i32> = cx.target.threads.iter().map(|t| t.tid).collect();
    let shown: Vec<i32> = tids
        .iter()
        .copied()
        .filter(|tid| listed.contains(tid))
        .collect();
    if !listed.contains(&pid) {
        return Outcome::fail(
            format!("{pid} among the pid entries of {}", cx.at(".")),
            format!("{pid} missing from {} pid entries", listed.len()),
        );
    }
    if !shown.is_empty() {
        return Outcome::fail(
            format!("none of the thread ids {} listed", some(&tids)),
            format!(
                "{} listed in {} alongside {pid}",
                some(&shown),
                cx.at(".")
            ),
        );
    }
    Outcome::pass(format!(
        "{pid} listed among {} pid entries; none of its {} other thread \
         ids ({}) is",
        listed.len(),
        tids.len(),
        some(&tids)
    ))
}

/// self and thread-self are symlinks listed before the first pid,
/// resolving to the reader's tgid and <tgid>/task/<tid>.
///
/// `proc_pid_readdir()` (fs/proc/base.c) emits `self` at position
/// `TGID_OFFSET - 2` and `thread-self` at `TGID_OFFSET - 1`, before its
/// `next_tgid()` loop, as symlinks. Their targets are computed at each
/// read from the reader: `proc_self_get_link()` (fs/proc/self.c) prints
/// the reader's tgid and `proc_thread_self_get_link()`
/// (fs/proc/thread_self.c) `<tgid>/task/<pid>`, both as numbers in the
/// procfs's pid namespace.
pub fn self_links_come_before_the_pids(cx: &Context<'_>) -> Outcome {
    let listing = match cx.root_listing() {
        Ok(listing) => listing,
        Err(outcome) => return outcome,
    };
    let index_of = |name: &str| listing.iter().position(|e| e.name == name);
    let first_pid = listing.iter().position(|e| e.pid().is_some());
    let (Some(this), Some(thread)) =
        (index_of("self"), index_of("thread-self"))
    else {
        return Outcome::fail(
            "self and thread-self in the listing",
            format!("{} lacks one of them", cx.at(".")),
        );
    };
    for index in [this, thread] {
        if listing[index].d_type != DT_LNK {
            return Outcome::fail(
                format!(
                    "{} listed as a symlink (DT_LNK)",
                    listing[index].name
                ),
                format!("d_type {}", listing[index].d_type),
            );
        }
    }
    let first_pid = first_pid.unwrap_or(listing.len());
    if !(this < thread && thread < first_pid) {
        return Outcome::fail(
            "self, then thread-self, then the first pid",
            format!(
                "self at entry {this}, thread-self at {thread}, first pid \
                 at {first_pid}"
            ),
        );
    }
    let me = std::process::id().to_string();
    let self_link = cx.proc.read_link("self");
    match &self_link {
        Ok(link) if link.as_os_str() == me.as_str() => {}
        other => {
            return Outcome::fail(
                format!("{} -> {me} (the checker's pid)", cx.at("self")),
                format!("{other:?}"),
            );
        }
    }
    // Read thread-self from a thread that is not the leader, so that
    // its tid differs from the tgid and the link must tell them apart.
    let (tid, link) = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let tid = nix::unistd::gettid().as_raw();
                (tid, cx.proc.read_link("thread-self"))
            })
            .join()
            .unwrap_or((0, Err(std::io::Error::other("thread panicked"))))
    });
    let expected = format!("{me}/task/{tid}");
    match link {
        Ok(link) if link.as_os_str() == expected.as_str() => {
            Outcome::pass(format!(
                "entries {this} and {thread} of {}, before the first pid \
                 at entry {first_pid}; self -> {me}, and from thread \
                 {tid}, thread-self -> {expected}",
                listing.len()
            ))
        }
        other => Outcome::fail(
            format!("{} -> {expected}", cx.at("thread-self")),
            format!("{other:?}"),
        ),
    }
}

/// The listing is ordered by tgid at positions TGID_OFFSET + tgid, and
/// seeking to TGID_OFFSET + <TID> resumes at the next tgid, never at the
/// thread.
///
/// `proc_pid_readdir()` (fs/proc/base.c) turns the directory position
/// into a pid to start from, `pos - TGID_OFFSET`, and before emitting
/// each thread group sets `ctx->pos = TGID_OFFSET + tgid`; `filldir64()`
/// (fs/readdir.c) stores that position as the previous entry's `d_off`,
/// and at the end the position is moved past every pid (`PID_MAX_LIMIT +
/// TGID_OFFSET`). So a seek to a thread's id lands in `next_tgid()`,
/// which finds the first thread-group leader at or above it: the same
/// skip as in a full listing. `TGID_OFFSET` is 258 since Linux 3.17,
/// when `thread-self` was added.
pub fn listing_positions_follow_tgid_arithmetic(cx: &Context<'_>) -> Outcome {
    let listing = match cx.root_listing() {
        Ok(listing) => listing,
        Err(outcome) => return outcome,
    };
    if let Some(outcome) = offset_mismatch(listing) {
        return outcome;
    }
    let pids = listing.iter().filter(|entry| entry.pid().is_some()).count();
    let threads: Vec<i32> = cx.target.threads.iter().map(|t| t.tid).collect();
    if threads.is_empty() {
        return Outcome::skip(format!(
            "process {} has a single thread: no thread id to seek to",
            cx.target.pid
        ));
    }
    // Each seek makes next_tgid() step over every pid above the TID
    // that is not a leader, the rest of the group included: seeking to
    // all 10,000 TIDs of a group would be quadratic. A sample spread
    // over the group shows the same arithmetic.
    let sample = spread(&threads, SEEK_SAMPLE);
    let seek_all = |_: ()| -> std::io::Result<Vec<Vec<Dirent>>> {
        sample
            .iter()
            .map(|&tid| cx.proc.list_from(".", TGID_OFFSET + i64::from(tid)))
            .collect()
    };
    let mut resumed = seek_all(());
    // The target is often the newest process, so nothing follows its
    // threads: start a short-lived process after it, whose tgid is then
    // the next one, and seek again while it lives.
    let neighbour = match &resumed {
        Ok(lists) if lists.iter().any(Vec::is_empty) => {
            ShortLived::start(&cx.target.demo, 1)
        }
        _ => None,
    };
    if neighbour.is_some() {
        // Kept alive until the claim returns: the check below reads its
        // status.
        resumed = seek_all(());
    }
    let resumed = match resumed {
        Ok(lists) => lists,
        Err(err) => {
            return Outcome::fail(
                "a listing after the seek",
                format!("{}: {err}", cx.at(".")),
            );
        }
    };
    let mut next_tgids = Vec::new();
    for (&tid, entries) in sample.iter().zip(&resumed) {
        let seek = format!(
            "lseek to {} (TGID_OFFSET + {tid})",
            TGID_OFFSET + i64::from(tid)
        );
        let Some(first) = entries.first() else {
            // Nothing above: the listing ends, as it must with no
            // thread group at or above the TID.
            continue;
        };
        let leader = first
            .pid()
            .filter(|&next| next > tid && is_group_leader(cx, next, listing));
        match leader {
            Some(next) => next_tgids.push(next),
            None => {
                return Outcome::fail(
                    format!(
                        "after {seek}, the first thread-group id above \
                         {tid}"
                    ),
                    format!("{:?} (d_off {})", first.name, first.d_off),
                );
            }
        }
    }
    let first = match next_tgids.first() {
        Some(next) => format!("after {}, at {next}", sample[0]),
        None => "none: the listing ends".to_string(),
    };
    Outcome::pass(format!(
        "{pids} pid entries in tgid order at TGID_OFFSET + tgid, last d_off \
         {}; after lseek to TGID_OFFSET + <TID> for {} of the {} TIDs \
         ({}), the listing resumes at the next thread group ({first}), \
         never at a thread",
        PID_MAX_LIMIT + TGID_OFFSET,
        sample.len(),
        threads.len(),
        some(&sample),
    ))
}

/// How many TIDs to seek to: see `listing_positions_follow_tgid_arithmetic`.
const SEEK_SAMPLE: usize = 16;

/// At most `count` items spread evenly over `items`, first and last
/// included.
pub(crate) fn spread(items: &[i32], count: usize) -> Vec<i32> {
    if items.len() <= count {
        return items.to_vec();
    }
    (0..count)
        .map(|i| items[i * (items.len() - 1) / (count - 1)])
        .collect()
}

/// The first entry whose offsets break the arithmetic, as a failure.
fn offset_mismatch(listing: &[Dirent]) -> Option<Outcome> {
    let mut previous_pid = None;
    for (index, entry) in listing.iter().enumerate() {
        let expected = match entry.name.as_str() {
            "self" => FIRST_PROCESS_ENTRY,
            "thread-self" => FIRST_PROCESS_ENTRY + 1,
            name => match entry.pid() {
                Some(pid) => TGID_OFFSET + i64::from(pid),
                None if previous_pid.is_some() => {
                    return Some(Outcome::fail(
                        "only pid entries after the first pid",
                        format!("{name:?} after pid {previous_pid:?}"),
                    ));
                }
                None => continue,
            },
        };
        if let Some(pid) = entry.pid() {
            if previous_pid.is_some_and(|prev| prev >= pid) {
                return Some(Outcome::fail(
                    "pid entries in increasing order",
                    format!("{pid} after {}", previous_pid.unwrap_or(0)),
                ));
            }
            previous_pid = Some(pid);
        }
        // An entry's position is its predecessor's d_off. The first
        // entry's is not observable: the listing starts at 0 and, with
        // no static entries before it (a procfs mounted with
        // subset=pid), proc_root_readdir() jumps to FIRST_PROCESS_ENTRY.
        let Some(before) = index.checked_sub(1) else {
            continue;
        };
        let position = Some(listing[before].d_off);
        if position != Some(expected) {
            return Some(Outcome::fail(
                format!("{:?} at position {expected}", entry.name),
                format!("the entry before it has d_off {position:?}"),
            ));
        }
    }
    let last = listing.last().map(|entry| entry.d_off);
    if last != Some(PID_MAX_LIMIT + TGID_OFFSET) {
        return Some(Outcome::fail(
            format!(
                "the last entry's d_off PID_MAX_LIMIT + TGID_OFFSET = {}",
                PID_MAX_LIMIT + TGID_OFFSET
            ),
            format!("{last:?}"),
        ));
    }
    None
}

/// Whether `pid` leads a thread group: listed at the start, or (if it
/// was created since) its `status` says `Tgid:` is itself.
fn is_group_leader(cx: &Context<'_>, pid: i32, listing: &[Dirent]) -> bool {
    listing.iter().any(|entry| entry.pid() == Some(pid))
        || cx
            .proc
            .read(&format!("{pid}/status"))
            .ok()
            .and_then(|text| crate::parse::parse_status(&text).ok())
            .is_some_and(|ids| ids.tgid == pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, d_off: i64) -> Dirent {
        Dirent {
            ino: 1,
            d_off,
            d_type: if name.contains("self") { DT_LNK } else { 4 },
            name: name.to_string(),
        }
    }

    /// The shape of a real listing: a static entry, the links, two pids.
    fn listing() -> Vec<Dirent> {
        vec![
            entry("uptime", 256),
            entry("self", 257),
            entry("thread-self", 259),
            entry("1", 300),
            entry("42", PID_MAX_LIMIT + TGID_OFFSET),
        ]
    }

    #[test]
    fn a_real_shaped_listing_has_no_mismatch() {
        assert_eq!(offset_mismatch(&listing()), None);
    }

    #[test]
    fn a_wrong_d_off_is_named() {
        let mut bad = listing();
        bad[3].d_off = 299;
        let Some(Outcome::Fail { expected, found }) = offset_mismatch(&bad)
        else {
            panic!("no failure");
        };
        assert_eq!(expected, "\"42\" at position 300");
        assert_eq!(found, "the entry before it has d_off Some(299)");
    }

    #[test]
    fn out_of_order_pids_fail() {
        let mut bad = listing();
        bad.swap(3, 4);
        assert!(matches!(offset_mismatch(&bad), Some(Outcome::Fail { .. })));
    }
}
