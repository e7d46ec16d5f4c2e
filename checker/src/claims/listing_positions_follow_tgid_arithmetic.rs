//! Where each entry of the listing sits: positions are arithmetic on
//! thread-group ids, so a seek to a thread's id lands past the thread.
//! Book: "Beyond the article".

use crate::claims::{
    Claim, Context, Proof, Stop, fail, how_many, id_list, skip, spread,
};
use crate::procfs::Dirent;

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "The listing is ordered by tgid at positions TGID_OFFSET + \
                tgid, and seeking to TGID_OFFSET + <TID> resumes at the \
                next tgid, never at the thread.",
    kernel: "proc_pid_readdir() and next_tgid() (fs/proc/base.c), \
             filldir64() (fs/readdir.c)",
    opt_in: None,
    since: None,
    check,
};

/// Position of the first pid entry's predecessor, `self` (fs/proc/
/// internal.h `FIRST_PROCESS_ENTRY`).
pub const FIRST_PROCESS_ENTRY: i64 = 256;
/// `TGID_OFFSET` in fs/proc/base.c: pid entries sit at `TGID_OFFSET +
/// tgid`, after `self` (256) and `thread-self` (257). Since Linux 3.17.
pub const TGID_OFFSET: i64 = FIRST_PROCESS_ENTRY + 2;

/// How many TIDs to seek to: each seek makes `next_tgid()` step over
/// every pid above the TID that is not a leader, the rest of the group
/// included, so seeking to all 10,000 TIDs of a group would be
/// quadratic. A sample spread over the group shows the same arithmetic.
const SEEK_SAMPLE: usize = 16;

/// `proc_pid_readdir()` (fs/proc/base.c) turns the directory position
/// into a pid to start from, `pos - TGID_OFFSET`, and before emitting
/// each thread group sets `ctx->pos = TGID_OFFSET + tgid`; `filldir64()`
/// (fs/readdir.c) stores that position as the previous entry's `d_off`,
/// and at the end the position is moved past every pid (`PID_MAX_LIMIT +
/// TGID_OFFSET`). So a seek to a thread's id lands in `next_tgid()`,
/// which finds the first thread-group leader at or above it: the same
/// skip as in a full listing. `TGID_OFFSET` is 258 since Linux 3.17,
/// when `thread-self` was added.
///
/// Processes start and exit between the listing and the seeks: the
/// whole check runs again on a fresh listing while it fails
/// (`on_root_listing`), and an entry the seek found whose process is
/// gone before it could be asked whether it leads a group proves
/// nothing either way (`Landing::Gone`).
fn check(cx: &Context<'_>) -> Proof {
    let threads = &cx.target.threads;
    if threads.is_empty() {
        return skip(format!(
            "process {} has a single thread: no thread id to seek to",
            cx.target.pid
        ));
    }
    let sample = spread(threads, SEEK_SAMPLE);
    // The target is often the newest process, so nothing follows its
    // threads: then a short-lived process is started after it, whose
    // tgid is the next one, and lives until the proof returns.
    let mut neighbour = None;
    cx.on_root_listing(|listing| {
        in_tgid_order(listing)?;
        let limit = pid_max_limit(listing)?;
        let mut landed = seek_all(cx, &sample, listing)?;
        let nothing_above = |landed: &[Landing]| {
            landed.iter().any(|l| matches!(l, Landing::End))
        };
        if neighbour.is_none() && nothing_above(&landed) {
            neighbour = crate::children::short_lived(cx.launcher(), 1);
            if neighbour.is_some() {
                landed = seek_all(cx, &sample, listing)?;
            }
        }
        let next = landed.iter().find_map(|landing| match landing {
            Landing::Leader(next) => Some(*next),
            _ => None,
        });
        let gone = landed.iter().filter(|l| **l == Landing::Gone).count();
        let pids = listing.iter().filter(|e| e.pid().is_some()).count();
        Ok(format!(
            "{pids} pid entries in tgid order at TGID_OFFSET + tgid; last \
             d_off {limit}; after lseek to TGID_OFFSET + <TID> {}, the \
             listing resumes at the next thread group ({}), never at a \
             thread{}",
            sampled(&sample, threads.len()),
            match next {
                Some(next) => format!("e.g. after {}, at {next}", sample[0]),
                None => "there is none: the listing ends".to_string(),
            },
            match gone {
                0 => String::new(),
                n => format!(
                    "; {} at a process that exited before it could be \
                     asked, which tells nothing",
                    how_many(n, "seek landed")
                ),
            }
        ))
    })
}

/// Where a seek to `TGID_OFFSET + <TID>` resumed the listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Landing {
    /// At a thread-group leader above the TID: as the claim says.
    Leader(i32),
    /// Nowhere: no thread group at or above the TID.
    End,
    /// At a process that was gone before its `status` could be read:
    /// it started after the listing and exited at once, which tells
    /// nothing about where the seek went.
    Gone,
}

/// Seek to `TGID_OFFSET + <TID>` for each TID of `sample`, and fail at
/// the first seek that resumed at an id that is not a thread-group
/// leader above the TID.
fn seek_all(
    cx: &Context<'_>,
    sample: &[i32],
    listing: &[Dirent],
) -> Result<Vec<Landing>, Stop> {
    let mut landed = Vec::with_capacity(sample.len());
    for &tid in sample {
        let position = TGID_OFFSET + i64::from(tid);
        let entries = cx.proc.list_from(".", position)?;
        let Some(first) = entries.first() else {
            landed.push(Landing::End);
            continue;
        };
        let landing = match first.pid().filter(|&next| next > tid) {
            Some(next) => leads_a_group(cx, next, listing),
            None => None,
        };
        let Some(landing) = landing else {
            return fail(
                format!(
                    "after lseek to {position} (TGID_OFFSET + {tid}), the \
                     first thread-group id above {tid}"
                ),
                format!("{} (d_off {})", first.name, first.d_off),
            );
        };
        landed.push(landing);
    }
    Ok(landed)
}

/// `for each of the 2 TIDs (4243, 4244)`, or `for 16 of the 10000 TIDs,
/// spread over the group (…)`.
fn sampled(sample: &[i32], of: usize) -> String {
    match sample.len() == of {
        true => format!(
            "for each of the {} ({})",
            how_many(of, "TID"),
            id_list(sample)
        ),
        false => format!(
            "for {} of the {of} TIDs, spread over the group ({})",
            sample.len(),
            id_list(sample)
        ),
    }
}

/// Fail at the first entry whose offsets break the arithmetic.
fn in_tgid_order(listing: &[Dirent]) -> Result<(), Stop> {
    let mut previous_pid = None;
    for (index, entry) in listing.iter().enumerate() {
        let expected = match (entry.name.as_str(), entry.pid()) {
            ("self", _) => FIRST_PROCESS_ENTRY,
            ("thread-self", _) => FIRST_PROCESS_ENTRY + 1,
            (_, Some(pid)) => TGID_OFFSET + i64::from(pid),
            (name, None) => match previous_pid {
                Some(pid) => {
                    return fail(
                        "only pid entries after the first pid",
                        format!("{name} after pid {pid}"),
                    );
                }
                None => continue,
            },
        };
        if let Some(pid) = entry.pid() {
            if let Some(previous) = previous_pid.filter(|&p| p >= pid) {
                return fail(
                    "pid entries in increasing order",
                    format!("{pid} after {previous}"),
                );
            }
            previous_pid = Some(pid);
        }
        // An entry's position is its predecessor's d_off. The first
        // entry's is not observable: the listing starts at 0 and, with
        // no static entries before it (a procfs mounted with
        // subset=pid), proc_root_readdir() jumps to FIRST_PROCESS_ENTRY.
        let Some(before) = index.checked_sub(1).map(|i| &listing[i]) else {
            continue;
        };
        if before.d_off != expected {
            return fail(
                format!("{} at position {expected}", entry.name),
                format!("the entry before it has d_off {}", before.d_off),
            );
        }
    }
    Ok(())
}

/// `PID_MAX_LIMIT` as the last entry's `d_off` tells it: at the end
/// `proc_pid_readdir()` sets the position to `PID_MAX_LIMIT +
/// TGID_OFFSET`. include/linux/threads.h makes the limit 4 Mi on 64-bit,
/// `PID_MAX_DEFAULT` (32 Ki) on 32-bit, and `PAGE_SIZE * 8` with
/// `CONFIG_BASE_SMALL`; any other end breaks the arithmetic. The
/// evidence says which held: `4194562 = TGID_OFFSET + PID_MAX_LIMIT
/// 4194304 (64-bit)`.
fn pid_max_limit(listing: &[Dirent]) -> Result<String, Stop> {
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .unwrap_or(4096);
    let documented = [
        (4 * 1024 * 1024, "64-bit".to_string()),
        (
            0x8000,
            "32-bit, or CONFIG_BASE_SMALL with 4 KiB pages".into(),
        ),
        (page * 8, format!("CONFIG_BASE_SMALL, {page}-byte pages")),
    ];
    let last = listing.last().map_or(0, |entry| entry.d_off);
    let found = documented
        .iter()
        .find(|(limit, _)| last == TGID_OFFSET + limit);
    match found {
        Some((value, kind)) => Ok(format!(
            "{last} = TGID_OFFSET + PID_MAX_LIMIT {value} ({kind})"
        )),
        None => fail(
            format!(
                "the last entry's d_off TGID_OFFSET + PID_MAX_LIMIT: {}",
                documented
                    .iter()
                    .map(|(limit, _)| (TGID_OFFSET + limit).to_string())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            format!("d_off {last}"),
        ),
    }
}

/// Whether `pid` leads a thread group: listed at the start, or (if it
/// was created since) its `status` says `Tgid:` is itself; `None` if
/// it does not, `Landing::Gone` if it was gone before it could tell.
fn leads_a_group(
    cx: &Context<'_>,
    pid: i32,
    listing: &[Dirent],
) -> Option<Landing> {
    if listing.iter().any(|entry| entry.pid() == Some(pid)) {
        return Some(Landing::Leader(pid));
    }
    match cx.proc.status(&format!("{pid}/status")) {
        Ok(ids) if ids.tgid == pid => Some(Landing::Leader(pid)),
        Ok(_) => None,
        Err(err) if err.is_enoent() => Some(Landing::Gone),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procfs::DT_LNK;

    fn entry(name: &str, d_off: i64) -> Dirent {
        Dirent {
            d_off,
            d_type: if name.contains("self") { DT_LNK } else { 4 },
            name: name.to_string(),
        }
    }

    /// The shape of a real listing: a static entry, the links, two pids.
    fn listing(end: i64) -> Vec<Dirent> {
        vec![
            entry("uptime", 256),
            entry("self", 257),
            entry("thread-self", 259),
            entry("1", 300),
            entry("42", end),
        ]
    }

    #[test]
    fn a_small_kernels_end_is_one_of_the_documented_limits() {
        let small = pid_max_limit(&listing(258 + 32768)).unwrap();
        assert!(small.contains("PID_MAX_LIMIT 32768 (32-bit"), "{small}");
        let Err(Stop::Fail { found, .. }) = pid_max_limit(&listing(9999))
        else {
            panic!("an odd end must fail");
        };
        assert_eq!(found, "d_off 9999");
    }

    #[test]
    fn a_wrong_d_off_is_named() {
        let mut bad = listing(4_194_562);
        bad[3].d_off = 299;
        assert_eq!(
            in_tgid_order(&bad),
            Err(Stop::Fail {
                expected: "42 at position 300".into(),
                found: "the entry before it has d_off 299".into(),
            })
        );
    }

    #[test]
    fn out_of_order_pids_fail() {
        let mut bad = listing(4_194_562);
        bad.swap(3, 4);
        assert!(in_tgid_order(&bad).is_err());
    }
}
