//! The claims: one file per claim, named after it, and the ordered
//! registry of them, [`CLAIMS`].
//!
//! Start reading at `listing_shows_the_tgid_but_no_other_tid.rs`, the
//! article's own observation. Each claim file names its book chapter
//! and opens with its [`Claim`]: its one-sentence statement and the
//! kernel code that makes it true at the version the book pins (Linux
//! 6.12.117); then its proof, a function that reads top-down like a
//! kselftest program. A proof returns `Ok` with what it observed, or
//! stops early with [`fail`] ("expected X, found Y") or [`skip`] (the
//! reason this system cannot tell); `?` passes on a [`ProcError`], which
//! names its path, as a failure. A claim never aborts the run.
//!
//! What proofs share is here: the [`Context`] (the procfs, the target,
//! the root listing read once) and [`Context::each_thread`], the one
//! place that tolerates threads that come and go under `--pid`.
//!
//! Where the threads come from: most claims look at the target, a
//! process the checker started (demo-spawner's code, its threads held
//! still) or one named with `--pid`. A claim that only makes system
//! calls about some thread holds one of the checker's own
//! ([`with_own_thread`]); only a claim about another process's life
//! (an exec, an exiting leader, a newer thread group) starts one.
//!
//! Why the shared helpers tolerate so much: the checker runs on busy
//! machines, where other processes fork, exec and exit between any two
//! reads. A failure must mean the kernel, so a read that another
//! process may have changed is read again ([`again_if_failed`],
//! [`bracketed`]), a TID whose thread has gone is set aside
//! ([`Context::gone`]), and a read the system withholds from this
//! reader is a skip ([`withheld`]), never a failure.

use std::cell::{OnceCell, RefCell};
use std::collections::{HashMap, HashSet};
use std::sync::Barrier;
use std::sync::atomic::{AtomicI32, Ordering};

use serde::{Deserialize, Serialize};

use crate::children::Launcher;
use crate::parse::{StatusIds, parse_starttime};
use crate::procfs::{Dirent, ProcError, Procfs};
use crate::sys::{LiveSys, Syscalls};
use crate::target::Target;

/// The one list of claims, in the order reports show them, the
/// article's observation first: calls `$then!` with every claim's id.
/// The registry below expands it, and so do the tests that need one
/// test per claim.
#[macro_export]
macro_rules! each_claim {
    ($then:ident) => {
        $then!(
            listing_shows_the_tgid_but_no_other_tid,
            every_tid_resolves_by_lookup,
            tid_status_is_the_threads_own_view,
            task_dir_lists_the_whole_group_from_any_tid,
            self_links_come_before_the_pids,
            listing_positions_follow_tgid_arithmetic,
            lookup_is_relative_to_the_mounts_pid_namespace,
            pid_names_are_parsed_strictly,
            exited_thread_no_longer_resolves,
            tid_comm_is_the_threads_own_name,
            tid_stat_sums_cpu_over_the_group,
            tid_dir_is_a_process_dir_not_its_task_dir,
            shared_attributes_read_the_same_from_every_thread,
            task_dir_outlives_an_exited_leader,
            kill_finds_a_process_by_any_of_its_tids,
            pidfd_open_refuses_a_thread_id,
            pidfd_thread_opens_a_thread,
            exec_from_a_thread_takes_the_tgid,
            listing_passes_through_proc_pid_readdir,
            tid_lookup_passes_through_proc_pid_lookup,
            cached_dentry_skips_proc_root_lookup,
            audit_finds_no_hidden_process,
            audit_finds_a_mount_over_a_process,
        );
    };
}

/// The registry: declares each claim's module, and lists the claims.
macro_rules! registry {
    ($($claim:ident),* $(,)?) => {
        $(pub mod $claim;)*
        /// Every claim, in the order reports list them.
        pub static CLAIMS: &[&Claim] = &[$(&$claim::CLAIM),*];
    };
}

each_claim!(registry);

pub mod tracing;

/// One claim: a true sentence about `/proc`, and its proof.
#[derive(Debug)]
pub struct Claim {
    /// Its module's name, used in reports, `--only` and the book.
    pub id: &'static str,
    /// The claim as one sentence.
    pub statement: &'static str,
    /// The kernel code that makes it true, at the pinned version.
    pub kernel: &'static str,
    /// The option that runs it, for a claim that runs only when asked
    /// (it needs root, or takes long): without it the claim is reported
    /// as not run, which is neither a pass nor a skip (`--strict` does
    /// not fail it).
    pub opt_in: Option<OptIn>,
    /// The first Linux release that has what the claim is about, when
    /// that is newer than the oldest kernel of the matrix: on an older
    /// kernel the claim skips, and `--strict` does not count that skip.
    pub since: Option<(u32, u32)>,
    /// The proof.
    pub check: fn(&Context<'_>) -> Proof,
}

/// The claim id of the module `path` names (its last segment): so a
/// claim's id is its file's name, written nowhere else. A `const fn`,
/// because each claim's [`Claim`] is a `static` built at compile time.
pub const fn id_of(path: &'static str) -> &'static str {
    let (mut start, bytes) = (path.len(), path.as_bytes());
    while start > 0 && bytes[start - 1] != b':' {
        start -= 1;
    }
    match std::str::from_utf8(bytes.split_at(start).1) {
        Ok(id) => id,
        Err(_) => panic!("a module path is UTF-8"),
    }
}

impl Claim {
    /// Run the proof and say how it came out. A target that the procfs
    /// hides from this reader (`hidepid=`) cannot tell any claim, and
    /// one that exited meanwhile voids what its files said (the run
    /// then ends as could-not-run, `Target::still_alive`).
    pub fn run(&self, cx: &Context<'_>) -> Outcome {
        if let Some(opt_in) = self.opt_in().filter(|o| !cx.asked_for(*o)) {
            return Outcome::NotRun {
                reason: opt_in.not_asked_for().to_string(),
            };
        }
        if let Some(reason) = &cx.target.hidden {
            return Outcome::skip(reason.clone());
        }
        match (self.check)(cx) {
            Ok(observed) => Outcome::Pass { observed },
            Err(Stop::Fail { .. }) if cx.target.has_exited() => {
                Outcome::skip(format!(
                    "process {} exited during the check, so what its \
                     files said proves nothing; run again",
                    cx.target.pid
                ))
            }
            Err(Stop::Fail { expected, found }) => {
                Outcome::Fail { expected, found }
            }
            Err(Stop::Skip { reason }) => Outcome::Skip { reason },
        }
    }

    /// Whether the proof records kernel stacks (`--trace`).
    pub fn traces(&self) -> bool {
        self.opt_in() == Some(OptIn::Trace)
    }

    /// The option that runs this claim, if it runs only when asked.
    pub fn opt_in(&self) -> Option<OptIn> {
        self.opt_in
    }

    /// Whether a kernel `release` (`uname -r`, say `6.1.0-57-cloud-amd64`)
    /// predates what the claim is about.
    pub fn predates(&self, release: &str) -> bool {
        match (self.since, kernel_version(release)) {
            (Some(since), Some(running)) => running < since,
            _ => false,
        }
    }
}

/// `(6, 12)` of `6.12.117+deb12-cloud-amd64`.
pub fn kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut numbers = release.split(|c: char| !c.is_ascii_digit());
    let major = numbers.next()?.parse().ok()?;
    let minor = numbers.next()?.parse().ok()?;
    Some((major, minor))
}

/// What a reader asks for by option, because it needs root or takes
/// long: the claims that need it run only when asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptIn {
    /// `--trace`: record kernel stacks, as root, in a tracefs instance.
    Trace,
    /// `--audit`: look up every id up to `pid_max`.
    Audit,
}

impl OptIn {
    /// The option: `--trace`.
    pub fn flag(self) -> &'static str {
        match self {
            OptIn::Trace => "--trace",
            OptIn::Audit => "--audit",
        }
    }

    /// Why a claim that needs it did not run.
    pub fn not_asked_for(self) -> &'static str {
        match self {
            OptIn::Trace => {
                "not asked for: kernel tracing runs with --trace, as root \
                 (see the book's tracing chapter, or `just matrix`)"
            }
            OptIn::Audit => {
                "not asked for: the audit looks up every id up to pid_max \
                 and runs with --audit (or run `checker audit`)"
            }
        }
    }
}

// ANCHOR: proof_verdicts
/// What a proof returns: what it observed, or why it stopped.
pub type Proof<T = String> = Result<T, Stop>;

/// Why a proof stopped before it passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The claim does not hold on this kernel.
    Fail { expected: String, found: String },
    /// This system cannot tell (privilege, target, kernel feature).
    Skip { reason: String },
}

/// Stop the proof: the claim expected `expected`, `/proc` said `found`.
pub fn fail<T>(expected: impl ToString, found: impl ToString) -> Proof<T> {
    let (expected, found) = (expected.to_string(), found.to_string());
    Err(Stop::Fail { expected, found })
}

/// Stop the proof: this system cannot tell, for `reason`.
pub fn skip<T>(reason: impl ToString) -> Proof<T> {
    let reason = reason.to_string();
    Err(Stop::Skip { reason })
}
// ANCHOR_END: proof_verdicts

impl From<ProcError> for Stop {
    /// A read that `/proc` answered with an error: the path and the
    /// error are the evidence. But a read the system withholds from
    /// this reader (`EACCES`, `EPERM`) proves nothing about the claim:
    /// that is a skip, naming the file and what would let it be read.
    fn from(err: ProcError) -> Stop {
        let expected = format!("to {} {}", err.op, err.path.display());
        let found = err.to_string();
        match withheld(&err) {
            Some(reason) => Stop::Skip { reason },
            None => Stop::Fail { expected, found },
        }
    }
}

/// Why a reader was refused `err`'s file, if the system refused it
/// (`EACCES`, `EPERM`), with the privilege that would let it read.
///
/// In Linux 6.12 (fs/proc/base.c, lines of 6.12.118) procfs shows
/// another process's links `cwd`, `root` and `exe` only if
/// `ptrace_may_access(PTRACE_MODE_READ_FSCREDS)` allows
/// (`call_proc_get_link()`, 1779-1800), which it does for the
/// process's owner while the process is dumpable, and for root; its
/// `environ` (mode 0400, `environ_open()`, 980-983) likewise; its
/// `syscall` (mode 0400) needs ptrace attach access (`lock_trace()`,
/// 439-449); its `stack` needs `CAP_SYS_ADMIN` (`proc_pid_stack()`,
/// 477-478).
pub fn withheld(err: &ProcError) -> Option<String> {
    if !matches!(err.errno(), Some(libc::EACCES | libc::EPERM)) {
        return None;
    }
    let file = err.path.file_name()?.to_string_lossy();
    let privilege = match &*file {
        "cwd" | "root" | "exe" | "environ" => {
            "ptrace read access to the process (ptrace_may_access() in \
             fs/proc/base.c): run as its owner or as root"
        }
        "syscall" => {
            "ptrace attach access to the process (lock_trace() in \
             fs/proc/base.c): run as its owner or as root"
        }
        "stack" => "CAP_SYS_ADMIN (proc_pid_stack()): run as root",
        _ => "a privilege this reader lacks: run as root",
    };
    Some(format!(
        "this reader may not {} {} ({}); it needs {privilege}",
        err.op,
        err.path.display(),
        err.cause()
    ))
}

/// What checking one claim found, as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Outcome {
    /// The claim holds; `observed` is the evidence.
    Pass { observed: String },
    /// The claim does not hold on this kernel.
    Fail { expected: String, found: String },
    /// This system cannot tell (privilege, target, kernel feature).
    Skip { reason: String },
    /// The claim runs only when asked for (`--trace`, `--audit`), and
    /// was not: neither a pass nor a skip.
    #[serde(rename = "not_run")]
    NotRun { reason: String },
}

impl Outcome {
    pub fn skip(reason: impl Into<String>) -> Outcome {
        Outcome::Skip {
            reason: reason.into(),
        }
    }

    /// `pass`, `fail`, `skip` or `not_run`.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Pass { .. } => "pass",
            Outcome::Fail { .. } => "fail",
            Outcome::Skip { .. } => "skip",
            Outcome::NotRun { .. } => "not_run",
        }
    }
}

/// Look a claim up by id.
pub fn find(id: &str) -> Option<&'static Claim> {
    CLAIMS.iter().copied().find(|claim| claim.id == id)
}

/// What every proof gets: `/proc`, the target, and what is read once
/// for all of them.
pub struct Context<'a> {
    pub proc: &'a dyn Procfs,
    /// The other system calls the claims make (signals, pidfds).
    pub sys: &'a dyn Syscalls,
    pub target: &'a Target,
    /// What the reader asked for (`--trace`, `--audit`).
    asked: Vec<OptIn>,
    /// The listing of the procfs root, read once: claims that need it
    /// share one `getdents64` pass, even at 10,000 threads.
    listing: OnceCell<Result<Vec<Dirent>, ProcError>>,
    /// The ids in each TID's `status`, kept from the first read: the
    /// lookup claim reads `status` and the status claim checks the ids,
    /// without reading 10,000 files twice.
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
            sys: &LiveSys,
            target,
            asked: Vec::new(),
            listing: OnceCell::new(),
            statuses: RefCell::new(HashMap::new()),
        }
    }

    /// Whether the reader asked for what `opt_in` names.
    pub fn asked_for(&self, opt_in: OptIn) -> bool {
        self.asked.contains(&opt_in)
    }

    /// The same, with other answers to the other system calls.
    pub fn with_sys(mut self, sys: &'a dyn Syscalls) -> Context<'a> {
        self.sys = sys;
        self
    }

    /// The same, with the tracing claims allowed to record stacks.
    pub fn with_trace(mut self, trace: bool) -> Context<'a> {
        self.asked.extend(trace.then_some(OptIn::Trace));
        self
    }

    /// The same, with the audit claim allowed to scan every id.
    pub fn with_audit(mut self, audit: bool) -> Context<'a> {
        self.asked.extend(audit.then_some(OptIn::Audit));
        self
    }

    /// `relative` under the procfs root, for evidence: `/proc/4242`.
    pub fn proc_path(&self, relative: &str) -> String {
        self.proc.path(relative).display().to_string()
    }

    // ANCHOR: proof_root_listing
    /// The entries that `getdents64` lists at the procfs root, in the
    /// kernel's order, with their offsets.
    pub fn root_listing(&self) -> Result<&[Dirent], Stop> {
        // Read once, by the first claim that asks: a listing of 10,000
        // processes is 300 KiB, and every claim that needs one sees the
        // same moment. An error stays the evidence of every claim.
        let listing = self.listing.get_or_init(|| self.proc.list("."));
        let expected = format!("to list {}", self.proc.root().display());
        listing.as_deref().or_else(|err| fail(expected, err))
    }
    // ANCHOR_END: proof_root_listing

    /// `proof` on the root listing: first on the one read for every
    /// claim, then, while it fails, on fresh listings
    /// ([`again_if_failed`]): a listing is a moment of a machine where
    /// processes come and go.
    pub fn on_root_listing<T>(
        &self,
        mut proof: impl FnMut(&[Dirent]) -> Result<T, Stop>,
    ) -> Result<T, Stop> {
        again_if_failed(|attempt| match attempt {
            0 => proof(self.root_listing()?),
            _ => proof(&self.proc.list(".")?),
        })
    }

    // ANCHOR: proof_listed_pids
    /// The pids among them: the numeric names (`self`, `sys` and the
    /// other fixed entries are not pids).
    pub fn listed_pids(&self) -> Result<HashSet<i32>, Stop> {
        let pids = self.root_listing()?.iter().filter_map(Dirent::pid);
        Ok(pids.collect())
    }
    // ANCHOR_END: proof_listed_pids

    // ANCHOR: proof_status_ids
    /// `Pid:` and `Tgid:` of `/proc/<tid>/status`, read once per run.
    pub fn status_ids(&self, tid: i32) -> Result<StatusIds, ProcError> {
        if let Some(ids) = self.statuses.borrow().get(&tid) {
            return Ok(*ids);
        }
        let ids = self.proc.status(&format!("{tid}/status"))?;
        self.statuses.borrow_mut().insert(tid, ids);
        Ok(ids)
    }
    // ANCHOR_END: proof_status_ids

    /// How to start the processes some claims need.
    pub fn launcher(&self) -> &Launcher {
        &self.target.launcher
    }

    /// Whether we started the target and so know its threads' names,
    /// CPU use and exited threads. Such a target holds still: its
    /// threads are parked until we end it, so nothing about it changes
    /// under a proof.
    pub fn spawned(&self) -> bool {
        self.target.demo.is_some()
    }

    // ANCHOR: proof_each_thread
    /// Check `each` for every TID of `tids`, and tell a thread that
    /// exited (or left the group) during the check from one that broke
    /// the claim.
    ///
    /// Threads come and go in real programs, and that is not a broken
    /// claim: a TID whose check stopped is looked at again, and counts
    /// as exited if its thread is gone. One whose check passed but that
    /// left the group before the end may have been answered by a newer
    /// task with its number, so it counts as exited too. Any other stop
    /// is the claim's. A target we started holds still: there, every
    /// stop is the claim's.
    pub fn each_thread<T>(
        &self,
        tids: impl IntoIterator<Item = i32>,
        mut each: impl FnMut(i32) -> Result<T, Stop>,
    ) -> Result<Threads<T>, Stop> {
        let mut held = Vec::new();
        let mut exited = Vec::new();
        for tid in tids {
            match each(tid) {
                Ok(value) => held.push((tid, value)),
                Err(_) if self.gone(tid) => exited.push(tid),
                Err(stop) => return Err(stop),
            }
        }
        if !self.spawned() && !held.is_empty() {
            let now: HashSet<i32> = self
                .proc
                .pids(&format!("{}/task", self.target.pid))
                .unwrap_or_default()
                .into_iter()
                .collect();
            let (stayed, left): (Vec<_>, Vec<_>) =
                held.into_iter().partition(|(tid, _)| now.contains(tid));
            held = stayed;
            exited.extend(left.into_iter().map(|(tid, _)| tid));
        }
        Ok(Threads { held, exited })
    }
    // ANCHOR_END: proof_each_thread

    // ANCHOR: proof_gone
    /// Whether thread `tid` of an existing target has gone since its
    /// threads were listed: the process has exited (its pidfd says so),
    /// or `/proc/<PID>/task/<tid>` no longer resolves
    /// (`proc_task_lookup()` finds only threads of the group), or the
    /// task there started after the listing, so its TID was given to a
    /// new thread. A TID is never taken for the thread it once named.
    pub fn gone(&self, tid: i32) -> bool {
        // A target we started holds still: its threads are all there.
        // A start time, not a name, tells tasks apart: a TID is free
        // again once its thread has exited, and after the pid numbers
        // wrap around `pid_max` a new thread may get it. The clock tick
        // (10 ms) in which the threads were listed is the blind spot,
        // far shorter than a wrap-around takes.
        let stat = format!("{}/task/{tid}/stat", self.target.pid);
        let start = || parse_starttime(&self.proc.read(&stat).ok()?);
        self.target.demo.is_none()
            && (self.target.has_exited()
                || start().is_none_or(|start| start > self.target.listed_at))
    }
    // ANCHOR_END: proof_gone
}

// ANCHOR: proof_threads
/// What [`Context::each_thread`] found: the TIDs whose check held, with
/// what each check returned, and those that exited meanwhile.
#[derive(Debug)]
pub struct Threads<T> {
    pub held: Vec<(i32, T)>,
    pub exited: Vec<i32>,
}

impl<T> Threads<T> {
    /// The TIDs whose check held.
    pub fn tids(&self) -> Vec<i32> {
        self.held.iter().map(|(tid, _)| *tid).collect()
    }

    /// `; 2 exited during the check (4250, 4251)`, or nothing.
    pub fn exited_note(&self) -> String {
        match self.exited.len() {
            0 => String::new(),
            n => format!(
                "; {n} exited during the check ({})",
                id_list(&self.exited)
            ),
        }
    }
}
// ANCHOR_END: proof_threads

// ANCHOR: proof_evidence
/// `4243, 4244, 4245` or `4243, 4244, 4245, 4246, 4247, … (10000 in
/// all)`: short evidence however many threads there are.
pub fn id_list(ids: &[i32]) -> String {
    let shown: Vec<String> = ids.iter().take(5).map(i32::to_string).collect();
    match ids.len() {
        n if n > 5 => format!("{}, … ({n} in all)", shown.join(", ")),
        _ => shown.join(", "),
    }
}

/// `1 thread`, `2 threads`: a count with its noun, singular or plural.
pub fn how_many(n: usize, noun: &str) -> String {
    let plural = if n == 1 { "" } else { "s" };
    format!("{n} {noun}{plural}")
}
// ANCHOR_END: proof_evidence

/// Run `proof` with a thread of the checker's own held alive, and give
/// it that thread's TID: a thread any reader may signal and open, and
/// whose id nothing has looked up yet. It waits at a barrier until
/// `proof` returns, as kselftest's proc/thread-self.c holds its thread
/// (the procfs crate's live tests do the same). A claim that only makes
/// system calls about a thread needs no process of its own for it.
pub fn with_own_thread<T>(
    proof: impl FnOnce(i32) -> Result<T, Stop>,
) -> Result<T, Stop> {
    let barrier = Barrier::new(2);
    let tid = AtomicI32::new(0);
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new().spawn_scoped(scope, || {
            tid.store(nix::unistd::gettid().as_raw(), Ordering::SeqCst);
            barrier.wait(); // its TID is known
            barrier.wait(); // the proof is done: end
        });
        if let Err(err) = thread {
            return skip(format!("could not start a thread: {err}"));
        }
        barrier.wait();
        // The second wait, however the proof ends (a panic too), so
        // that the scope is never left waiting for the thread.
        let _release = Release(&barrier);
        proof(tid.load(Ordering::SeqCst))
    })
}

/// Waits at the barrier when dropped.
struct Release<'a>(&'a Barrier);

impl Drop for Release<'_> {
    fn drop(&mut self) {
        self.0.wait();
    }
}

/// At most `count` items spread evenly over `items`, the first and
/// (for a count of 2 or more) the last included: a sample where
/// checking every thread would be quadratic.
pub fn spread(items: &[i32], count: usize) -> Vec<i32> {
    match count {
        _ if items.len() <= count => items.to_vec(),
        0 => Vec::new(),
        1 => items[..1].to_vec(),
        _ => (0..count)
            .map(|i| items[i * (items.len() - 1) / (count - 1)])
            .collect(),
    }
}

/// How many times a failure that other processes may have caused is
/// read afresh before it stands.
pub const ATTEMPTS: usize = 3;

/// Run `step`, and while it fails run it again, on fresh reads, up to
/// [`ATTEMPTS`] times in all; `step` gets the attempt's number, 0
/// first. The failure stands only if every attempt fails.
///
/// Other processes start, exit and exec between any two reads a proof
/// makes: a listing read a moment ago can name a process that is gone
/// by the next read, or miss one that came since, and a proof that
/// compares two reads can meet a contradiction that no single moment
/// held. A kernel that breaks the claim breaks it on every attempt;
/// churn does not line up the same way three times running.
pub fn again_if_failed<T>(
    mut step: impl FnMut(usize) -> Result<T, Stop>,
) -> Result<T, Stop> {
    let mut attempt = 0;
    loop {
        match step(attempt) {
            Err(Stop::Fail { .. }) if attempt + 1 < ATTEMPTS => attempt += 1,
            other => return other,
        }
    }
}

/// Read `read`, with `reference` read just before and just after it,
/// and whether `read` agreed with either: for two reads that another
/// process can change in between (a thread that starts or exits
/// changes every `task/` listing of its group), agreement with the
/// state before or after is agreement. Up to [`ATTEMPTS`] tries before
/// a disagreement stands; returns what `read` last found.
pub fn bracketed<T: PartialEq>(
    reference: impl Fn() -> Result<T, ProcError>,
    read: impl Fn() -> Result<T, ProcError>,
) -> Result<(T, bool), ProcError> {
    let mut attempt = 1;
    loop {
        let before = reference();
        let found = read()?;
        let after = reference();
        let same = |reference: &Result<T, ProcError>| {
            reference.as_ref().is_ok_and(|value| *value == found)
        };
        let agreed = same(&before) || same(&after);
        if agreed || attempt == ATTEMPTS {
            return Ok((found, agreed));
        }
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_ids_are_unique_and_their_modules_names() {
        for (index, claim) in CLAIMS.iter().enumerate() {
            assert!(
                CLAIMS[..index].iter().all(|other| other.id != claim.id),
                "{} twice in CLAIMS",
                claim.id
            );
            assert!(!claim.id.contains(':'), "{}", claim.id);
        }
        assert_eq!(id_of("checker::claims::a_b"), "a_b");
        assert_eq!(id_of("plain"), "plain");
    }

    #[test]
    fn evidence_stays_short_and_counts_read_well() {
        assert_eq!(id_list(&[1, 2]), "1, 2");
        let many: Vec<i32> = (1..=10_000).collect();
        assert_eq!(id_list(&many), "1, 2, 3, 4, 5, … (10000 in all)");
        assert_eq!(how_many(1, "claim"), "1 claim");
        assert_eq!(how_many(0, "TID"), "0 TIDs");
    }

    #[test]
    fn kernel_versions_are_read_from_releases() {
        assert_eq!(
            kernel_version("6.12.117+deb12-cloud-amd64"),
            Some((6, 12))
        );
        assert_eq!(kernel_version("5.10.0-46-cloud-amd64"), Some((5, 10)));
        assert_eq!(kernel_version("7.3.4"), Some((7, 3)));
        assert_eq!(kernel_version("unknown"), None);
    }

    #[test]
    fn samples_spread_over_the_whole_group_and_never_panic() {
        let tids: Vec<i32> = (100..200).collect();
        assert_eq!(spread(&tids, 4), [100, 133, 166, 199]);
        assert_eq!(spread(&tids[..3], 4), [100, 101, 102]);
        // Samples of any size.
        assert_eq!(spread(&tids, 0), Vec::<i32>::new());
        assert_eq!(spread(&tids, 1), [100]);
        assert_eq!(spread(&tids, 2), [100, 199]);
        assert_eq!(spread(&[], 0), Vec::<i32>::new());
        assert_eq!(spread(&[], 3), Vec::<i32>::new());
    }

    fn failure() -> Stop {
        Stop::Fail {
            expected: "x".into(),
            found: "y".into(),
        }
    }

    #[test]
    fn a_failure_stands_only_if_every_attempt_fails() {
        let mut attempts = Vec::new();
        let once = again_if_failed(|attempt| {
            attempts.push(attempt);
            if attempt == 0 {
                Err(failure())
            } else {
                Ok(attempt)
            }
        });
        assert_eq!(once, Ok(1));
        assert_eq!(attempts, [0, 1]);
        let mut tries = 0;
        let always = again_if_failed(|_| -> Result<(), Stop> {
            tries += 1;
            Err(failure())
        });
        assert_eq!(always, Err(failure()));
        assert_eq!(tries, ATTEMPTS);
        // A skip is an answer: it is not asked again.
        let mut tries = 0;
        let skipped = again_if_failed(|_| -> Result<(), Stop> {
            tries += 1;
            skip("no")
        });
        assert!(matches!(skipped, Err(Stop::Skip { .. })));
        assert_eq!(tries, 1);
    }

    #[test]
    fn a_read_agrees_with_the_reference_before_or_after_it() {
        use std::cell::Cell;
        // The reference changes between the read before and the one
        // after (a thread started): the read matches the one after.
        let reads = Cell::new(0);
        let reference = || {
            reads.set(reads.get() + 1);
            Ok(if reads.get() == 1 { 3 } else { 4 })
        };
        assert_eq!(bracketed(reference, || Ok(4)).unwrap(), (4, true));
        // A read that matches neither, every time, disagrees.
        let reads = Cell::new(0);
        let counted = || {
            reads.set(reads.get() + 1);
            Ok(3)
        };
        assert_eq!(bracketed(counted, || Ok(5)).unwrap(), (5, false));
        assert_eq!(reads.get(), 2 * ATTEMPTS);
    }

    #[test]
    fn a_withheld_read_is_a_skip_naming_the_file_and_the_privilege() {
        use std::path::Path;
        let refused = ProcError::new(
            "read the link",
            Path::new("/proc/1/cwd"),
            std::io::Error::from_raw_os_error(libc::EACCES),
        );
        let Stop::Skip { reason } = Stop::from(refused) else {
            panic!("a refused read must skip");
        };
        assert!(reason.contains("/proc/1/cwd"), "{reason}");
        assert!(reason.contains("Permission denied"), "{reason}");
        assert!(reason.contains("run as its owner or as root"), "{reason}");
        // Any other error is evidence against the claim.
        let gone = ProcError::new(
            "read",
            Path::new("/proc/1/comm"),
            std::io::Error::from_raw_os_error(libc::ENOENT),
        );
        assert!(matches!(Stop::from(gone), Stop::Fail { .. }));
    }
}
