//! The claims, in one ordered registry.
//!
//! Each claim is one function named as a true sentence about `/proc`. Its
//! first doc line is the claim (the registry repeats it, and a tidy test
//! checks they agree); the rest names the kernel function that makes it
//! true, at the kernel version the book pins (Linux 6.12.117). A claim
//! returns [`Outcome::Pass`] with what it observed, [`Outcome::Fail`] with
//! what it expected and what `/proc` said, or [`Outcome::Skip`] with the
//! reason it cannot tell on this system. A claim never aborts the run.
//!
//! Where is the claim about X? Listing `/proc` and its offsets:
//! `listing.rs`. Resolving `/proc/<TID>` by name: `lookup.rs`. What is
//! inside `/proc/<TID>/`: `tid_dir.rs`. Which kernel functions run, from
//! recorded kernel stacks: `tracing.rs`.
//!
//! Book: every chapter links its claims; "Claims reference" is generated
//! from [`CLAIMS`].

use std::cell::{OnceCell, RefCell};
use std::collections::{HashMap, HashSet};
use std::io;

use serde::Serialize;

use crate::parse::{Dirent, ParseError, StatusIds, parse_stat, parse_status};
use crate::procfs::Procfs;
use crate::target::{Origin, Target};

pub mod listing;
pub mod lookup;
pub mod tid_dir;
pub mod tracing;

/// One claim of the registry.
#[derive(Debug)]
pub struct Claim {
    /// The function's name, used in reports, `--only` and the book.
    pub id: &'static str,
    /// The claim as one sentence: the function's first doc line.
    pub statement: &'static str,
    /// The kernel code that makes it true, at the pinned version.
    pub kernel: &'static str,
    pub check: fn(&Context<'_>) -> Outcome,
}

/// What checking one claim found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Outcome {
    /// The claim holds; `observed` is the evidence.
    Pass { observed: String },
    /// The claim does not hold on this kernel.
    Fail { expected: String, found: String },
    /// This system cannot tell (privilege, target, kernel feature).
    Skip { reason: String },
}

impl Outcome {
    pub fn pass(observed: impl Into<String>) -> Outcome {
        Outcome::Pass {
            observed: observed.into(),
        }
    }

    pub fn fail(
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Outcome::Fail {
            expected: expected.into(),
            found: found.into(),
        }
    }

    pub fn skip(reason: impl Into<String>) -> Outcome {
        Outcome::Skip {
            reason: reason.into(),
        }
    }

    /// `pass`, `fail` or `skip`.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Pass { .. } => "pass",
            Outcome::Fail { .. } => "fail",
            Outcome::Skip { .. } => "skip",
        }
    }
}

/// Builds a registry entry whose id is the function's own name. A
/// target that the procfs hides from this reader (`hidepid=`) cannot
/// tell any claim, so every check first asks [`Context::hidden`].
macro_rules! claim {
    ($module:ident :: $function:ident, $statement:literal, $kernel:literal) => {
        Claim {
            id: stringify!($function),
            statement: $statement,
            kernel: $kernel,
            check: |cx: &Context<'_>| match cx.hidden() {
                Some(skip) => skip,
                None => $module::$function(cx),
            },
        }
    };
}

/// Every claim, in the order reports list them: the article's own
/// observation first, then what follows from the same kernel code.
pub static CLAIMS: &[Claim] = &[
    claim!(
        listing::listing_shows_the_tgid_but_no_other_tid,
        "Listing /proc shows the target's thread-group id and none of its \
         other thread ids.",
        "next_tgid() (fs/proc/base.c) keeps only pids with a \
         PIDTYPE_TGID task"
    ),
    claim!(
        lookup::every_tid_resolves_by_lookup,
        "Looking up /proc/<TID> works for every thread: the directory \
         stats, comm and status read.",
        "proc_pid_lookup() (fs/proc/base.c) -> find_task_by_pid_ns() \
         (kernel/pid.c)"
    ),
    claim!(
        tid_dir::tid_status_is_the_threads_own_view,
        "/proc/<TID>/status is that thread's view: Pid: is the TID, Tgid: \
         the leader.",
        "task_state() (fs/proc/array.c)"
    ),
    claim!(
        tid_dir::task_dir_lists_the_whole_group_from_any_tid,
        "/proc/<TGID>/task/ lists every thread, and /proc/<TID>/task/ lists \
         the whole group too.",
        "proc_task_readdir() and first_tid() (fs/proc/base.c)"
    ),
    claim!(
        listing::self_links_come_before_the_pids,
        "self and thread-self are symlinks listed before the first pid, \
         resolving to the reader's tgid and <tgid>/task/<tid>.",
        "proc_pid_readdir() (fs/proc/base.c), proc_self_get_link() \
         (fs/proc/self.c), proc_thread_self_get_link() \
         (fs/proc/thread_self.c)"
    ),
    claim!(
        listing::listing_positions_follow_tgid_arithmetic,
        "The listing is ordered by tgid at positions TGID_OFFSET + tgid, \
         and seeking to TGID_OFFSET + <TID> resumes at the next tgid, \
         never at the thread.",
        "proc_pid_readdir() and next_tgid() (fs/proc/base.c), \
         filldir64() (fs/readdir.c)"
    ),
    claim!(
        lookup::lookup_is_relative_to_the_mounts_pid_namespace,
        "Lookup is relative to the procfs's pid namespace: in a new \
         namespace's /proc, 1 is its first process and no TID of the \
         target names the target's thread.",
        "proc_pid_lookup() (fs/proc/base.c) -> find_task_by_pid_ns() \
         (kernel/pid.c) in the namespace of proc_init_fs_context() \
         (fs/proc/root.c)"
    ),
    claim!(
        lookup::pid_names_are_parsed_strictly,
        "/proc/0<TID> and /proc/<TID>x do not resolve, though /proc/<TID> \
         does.",
        "name_to_int() (fs/proc/util.c)"
    ),
    claim!(
        lookup::exited_thread_no_longer_resolves,
        "A thread that has exited no longer resolves: /proc/<TID> gives \
         ENOENT.",
        "release_task() (kernel/exit.c) -> __unhash_process() -> \
         detach_pid() (kernel/pid.c)"
    ),
    claim!(
        tid_dir::tid_comm_is_the_threads_own_name,
        "/proc/<TID>/comm shows the thread's own name while \
         /proc/<TGID>/comm keeps the leader's.",
        "comm_show() (fs/proc/base.c) -> proc_task_name() \
         (fs/proc/array.c)"
    ),
    claim!(
        tid_dir::tid_stat_sums_cpu_over_the_group,
        "/proc/<TID>/stat shows the TID first but CPU times summed over \
         the group, unlike /proc/<TGID>/task/<TID>/stat.",
        "proc_tgid_stat() -> do_task_stat(whole=1) vs proc_tid_stat() \
         (fs/proc/array.c)"
    ),
    claim!(
        tracing::listing_passes_through_proc_pid_readdir,
        "Listing /proc enters proc_root_readdir and then proc_pid_readdir, \
         both called from iterate_dir.",
        "iterate_dir() (fs/readdir.c) -> proc_root_readdir() \
         (fs/proc/root.c) -> proc_pid_readdir() (fs/proc/base.c)"
    ),
    claim!(
        tracing::tid_lookup_passes_through_proc_pid_lookup,
        "Opening /proc/<TID>/comm for the first time goes through \
         __lookup_slow, proc_root_lookup and proc_pid_lookup.",
        "__lookup_slow() (fs/namei.c) -> proc_root_lookup() \
         (fs/proc/root.c) -> proc_pid_lookup() (fs/proc/base.c)"
    ),
    claim!(
        tracing::cached_dentry_skips_proc_root_lookup,
        "A second open of the same /proc/<TID>/comm, with the dentry \
         cached, does not reach proc_root_lookup.",
        "lookup_fast() (fs/namei.c) with pid_revalidate() \
         (fs/proc/base.c)"
    ),
];

/// Look a claim up by id.
pub fn find(id: &str) -> Option<&'static Claim> {
    CLAIMS.iter().find(|claim| claim.id == id)
}

/// What every claim gets: `/proc`, the target, and what is read once
/// for all of them.
pub struct Context<'a> {
    pub proc: &'a dyn Procfs,
    pub target: &'a Target,
    /// Whether the tracing claims may record kernel stacks (`--trace`).
    pub trace: bool,
    /// The listing of the procfs root, read once: claims that need it
    /// share one `getdents64` pass, even at 10,000 threads.
    root: OnceCell<Result<Vec<Dirent>, String>>,
    /// The ids in each TID's `status`, kept from the first read: the
    /// lookup claim reads `status` and the status claim checks the ids,
    /// without reading 10,000 files twice. Ids, not text, so that the
    /// cache stays small (a `status` is about 1.5 KiB).
    statuses: RefCell<HashMap<i32, StatusIds>>,
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("root", &self.proc.root())
            .field("target", &self.target.pid)
            .finish_non_exhaustive()
    }
}

impl<'a> Context<'a> {
    pub fn new(proc: &'a dyn Procfs, target: &'a Target) -> Context<'a> {
        Context {
            proc,
            target,
            trace: false,
            root: OnceCell::new(),
            statuses: RefCell::new(HashMap::new()),
        }
    }

    /// The same, with the tracing claims allowed to record stacks.
    pub fn with_trace(mut self, trace: bool) -> Context<'a> {
        self.trace = trace;
        self
    }

    /// The entries of the procfs root, or why they could not be read.
    pub fn root_listing(&self) -> Result<&[Dirent], Outcome> {
        self.root
            .get_or_init(|| {
                self.proc.list(".").map_err(|err| {
                    format!("cannot list {}: {err}", self.at("."))
                })
            })
            .as_deref()
            .map_err(|message| Outcome::fail("a listing", message.clone()))
    }

    /// The ids in `/proc/<tid>/status`, read once per run. The outer
    /// error is the read's, the inner one the parser's.
    pub fn status_ids(
        &self,
        tid: i32,
    ) -> io::Result<Result<StatusIds, ParseError>> {
        if let Some(ids) = self.statuses.borrow().get(&tid) {
            return Ok(Ok(*ids));
        }
        let parsed = parse_status(&self.proc.read(&format!("{tid}/status"))?);
        if let Ok(ids) = parsed {
            self.statuses.borrow_mut().insert(tid, ids);
        }
        Ok(parsed)
    }

    /// A path under the procfs root, for messages.
    pub fn at(&self, relative: &str) -> String {
        let root = self.proc.root();
        if relative == "." {
            root.display().to_string()
        } else {
            root.join(relative).display().to_string()
        }
    }

    /// Whether we started the target and so know its threads' names,
    /// CPU use and exited threads.
    pub fn spawned(&self) -> bool {
        self.target.origin == Origin::Spawned
    }

    /// Every claim's skip when the target is hidden from this reader.
    pub fn hidden(&self) -> Option<Outcome> {
        self.target.hidden.as_ref().map(Outcome::skip)
    }

    /// Whether thread `tid` of an existing target has gone since its
    /// threads were listed. Threads come and go in real programs; that
    /// is not a broken claim. A claim asks only when `/proc` surprised
    /// it, so this costs one lookup, not a listing.
    ///
    /// Gone means: the process has exited (its pidfd says so), or
    /// `/proc/<PID>/task/<tid>` no longer resolves (`proc_task_lookup()`
    /// finds only threads of the group), or the task there started after
    /// the listing, so its TID was given to a new thread. A TID is never
    /// taken for the thread it once named.
    pub fn gone(&self, tid: i32) -> bool {
        if self.spawned() {
            return false;
        }
        if self.target.has_exited() {
            return true;
        }
        let path = format!("{}/task/{tid}/stat", self.target.pid);
        match self.proc.read(&path).map(|text| parse_stat(&text)) {
            Ok(Ok(stat)) => self.target.started_after_listing(stat.starttime),
            _ => true,
        }
    }

    /// Of `tids`, those still in the group when the claim ends, and
    /// those that left it meanwhile (existing targets only: one listing
    /// of `/proc/<PID>/task`, however many threads). A claim that
    /// observed something of a TID that then left cannot be sure it
    /// observed the thread, so it does not count it.
    pub fn still_in_group(&self, tids: Vec<i32>) -> (Vec<i32>, Vec<i32>) {
        if self.spawned() {
            return (tids, Vec::new());
        }
        let path = format!("{}/task", self.target.pid);
        let now: HashSet<i32> = match self.proc.list(&path) {
            Ok(entries) => entries.iter().filter_map(Dirent::pid).collect(),
            Err(_) => HashSet::new(),
        };
        tids.into_iter().partition(|tid| now.contains(tid))
    }
}

/// `4243, 4244, 4245` or `4243, 4244, 4245, … (10000 in all)`: short
/// evidence however many threads there are.
pub fn some(ids: &[i32]) -> String {
    const SHOWN: usize = 5;
    let shown: Vec<String> =
        ids.iter().take(SHOWN).map(|id| id.to_string()).collect();
    if ids.len() > SHOWN {
        format!("{}, … ({} in all)", shown.join(", "), ids.len())
    } else {
        shown.join(", ")
    }
}

/// Whether an I/O error is `ENOENT`.
pub fn is_enoent(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::ENOENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_ids_are_unique() {
        for (index, claim) in CLAIMS.iter().enumerate() {
            assert!(
                CLAIMS[..index].iter().all(|other| other.id != claim.id),
                "{} twice in CLAIMS",
                claim.id
            );
        }
    }

    #[test]
    fn evidence_stays_short() {
        assert_eq!(some(&[1, 2]), "1, 2");
        let many: Vec<i32> = (1..=10_000).collect();
        assert_eq!(some(&many), "1, 2, 3, 4, 5, … (10000 in all)");
    }
}
