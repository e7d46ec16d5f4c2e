//! The claims: one file per claim, named after it, and the ordered
//! registry of them, [`CLAIMS`].
//!
//! Start reading at `listing_shows_the_tgid_but_no_other_tid.rs`, the
//! article's own observation. Each claim file opens with its
//! [`Claim`]: its one-sentence statement, the kernel code that makes
//! it true at the version the book pins (Linux 6.12.117), and its book
//! chapter; then its proof, a function that reads top-down like a
//! kselftest program. A proof returns `Ok` with what it observed, or
//! stops early with [`fail`] ("expected X, found Y") or [`skip`] (the
//! reason this system cannot tell); `?` passes on a [`ProcError`], which
//! names its path, as a failure. A claim never aborts the run.
//!
//! What proofs share is here: the [`Context`] (the procfs, the target,
//! the root listing read once) and [`Context::each_thread`], the one
//! place that tolerates threads that come and go under `--pid`.

use std::cell::{OnceCell, RefCell};
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::children::{Demo, Helpers};
use crate::parse::StatusIds;
use crate::procfs::{Dirent, ProcError, Procfs};
use crate::sys::{LiveSys, Syscalls};
use crate::target::{Origin, Target};

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
    /// Where the book explains it.
    pub chapter: Chapter,
    /// The first Linux release that has what the claim is about, when
    /// that is newer than the oldest kernel of the matrix: on an older
    /// kernel the claim skips, and `--strict` does not count that skip.
    pub since: Option<(u32, u32)>,
    /// The proof.
    pub check: fn(&Context<'_>) -> Proof,
}

/// The claim id of the module `path` names (its last segment): so a
/// claim's id is its file's name, written nowhere else.
pub const fn id_of(path: &'static str) -> &'static str {
    let bytes = path.as_bytes();
    let mut start = bytes.len();
    while start > 0 && bytes[start - 1] != b':' {
        start -= 1;
    }
    let (_, last) = bytes.split_at(start);
    match std::str::from_utf8(last) {
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
        self.chapter == Chapter::Tracing
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

/// The book chapter that explains a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chapter {
    Listing,
    Lookup,
    Beyond,
    ManPage,
    Tracing,
    Hidden,
}

impl Chapter {
    /// The chapter's page in `book/src/`.
    pub fn page(self) -> &'static str {
        match self {
            Chapter::Listing => "listing.md",
            Chapter::Lookup => "lookup.md",
            Chapter::Beyond => "beyond.md",
            Chapter::ManPage => "man-page.md",
            Chapter::Tracing => "tracing.md",
            Chapter::Hidden => "hidden.md",
        }
    }

    /// The chapter's title.
    pub fn title(self) -> &'static str {
        match self {
            Chapter::Listing => "The listing path",
            Chapter::Lookup => "The lookup path",
            Chapter::Beyond => "Beyond the article",
            Chapter::ManPage => "The man page, sentence by sentence",
            Chapter::Tracing => "Tracing it yourself",
            Chapter::Hidden => {
                "Hidden processes, and why detectors trip over threads"
            }
        }
    }
}

/// What a proof returns: what it observed, or why it stopped.
pub type Proof = Result<String, Stop>;

/// Why a proof stopped before it passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The claim does not hold on this kernel.
    Fail { expected: String, found: String },
    /// This system cannot tell (privilege, target, kernel feature).
    Skip { reason: String },
}

/// Stop the proof: the claim expected `expected`, `/proc` said `found`.
pub fn fail<T>(
    expected: impl ToString,
    found: impl ToString,
) -> Result<T, Stop> {
    let (expected, found) = (expected.to_string(), found.to_string());
    Err(Stop::Fail { expected, found })
}

/// Stop the proof: this system cannot tell, for `reason`.
pub fn skip<T>(reason: impl ToString) -> Result<T, Stop> {
    Err(Stop::Skip {
        reason: reason.to_string(),
    })
}

impl From<ProcError> for Stop {
    /// A read that `/proc` refused: the path and the error are the
    /// evidence.
    fn from(err: ProcError) -> Stop {
        Stop::Fail {
            expected: format!("to {} {}", err.op, err.path.display()),
            found: err.to_string(),
        }
    }
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
}

impl Outcome {
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
    /// Whether the tracing claims may record kernel stacks (`--trace`).
    pub trace: bool,
    /// Whether the audit claim may scan every id (`--audit`).
    pub audit: bool,
    /// The listing of the procfs root, read once: claims that need it
    /// share one `getdents64` pass, even at 10,000 threads.
    listing: OnceCell<Result<Vec<Dirent>, String>>,
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
            trace: false,
            audit: false,
            listing: OnceCell::new(),
            statuses: RefCell::new(HashMap::new()),
        }
    }

    /// The same, with other answers to the other system calls.
    pub fn with_sys(mut self, sys: &'a dyn Syscalls) -> Context<'a> {
        self.sys = sys;
        self
    }

    /// The same, with the tracing claims allowed to record stacks.
    pub fn with_trace(mut self, trace: bool) -> Context<'a> {
        self.trace = trace;
        self
    }

    /// The same, with the audit claim allowed to scan every id.
    pub fn with_audit(mut self, audit: bool) -> Context<'a> {
        self.audit = audit;
        self
    }

    /// `relative` under the procfs root, for evidence: `/proc/4242`.
    pub fn at(&self, relative: &str) -> String {
        self.proc.path(relative).display().to_string()
    }

    /// The entries that `getdents64` lists at the procfs root, in the
    /// kernel's order, with their offsets.
    pub fn root_listing(&self) -> Result<&[Dirent], Stop> {
        let listing = self.listing.get_or_init(|| {
            self.proc.list(".").map_err(|err| err.to_string())
        });
        match listing {
            Ok(entries) => Ok(entries),
            Err(found) => fail(format!("to list {}", self.at(".")), found),
        }
    }

    /// The pids among them.
    pub fn listed_pids(&self) -> Result<HashSet<i32>, Stop> {
        let pids = self.root_listing()?.iter().filter_map(Dirent::pid);
        Ok(pids.collect())
    }

    /// `Pid:` and `Tgid:` of `/proc/<tid>/status`, read once per run.
    pub fn status_ids(&self, tid: i32) -> Result<StatusIds, ProcError> {
        if let Some(ids) = self.statuses.borrow().get(&tid) {
            return Ok(*ids);
        }
        let ids = self.proc.status(&format!("{tid}/status"))?;
        self.statuses.borrow_mut().insert(tid, ids);
        Ok(ids)
    }

    /// How to start the processes some claims need.
    pub fn helpers(&self) -> &Helpers {
        &self.target.helpers
    }

    /// A demo process of our own with one thread besides its leader,
    /// which any reader may signal and open, and whose ids nothing has
    /// looked up yet; with its pid and that thread's TID.
    pub fn own_demo(&self) -> Result<(Demo, i32, i32), Stop> {
        let Some(demo) = crate::children::short_lived(self.helpers(), 1)
        else {
            return skip("could not start a process with a thread of its own");
        };
        let (pid, tid) = (demo.pid(), demo.ready.threads[0].tid);
        Ok((demo, pid, tid))
    }

    /// Whether we started the target and so know its threads' names,
    /// CPU use and exited threads.
    pub fn spawned(&self) -> bool {
        self.target.origin == Origin::Spawned
    }

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

    /// Whether thread `tid` of an existing target has gone since its
    /// threads were listed: the process has exited (its pidfd says so),
    /// or `/proc/<PID>/task/<tid>` no longer resolves
    /// (`proc_task_lookup()` finds only threads of the group), or the
    /// task there started after the listing, so its TID was given to a
    /// new thread. A TID is never taken for the thread it once named.
    pub fn gone(&self, tid: i32) -> bool {
        if self.spawned() {
            return false;
        }
        if self.target.has_exited() {
            return true;
        }
        let path = format!("{}/task/{tid}/stat", self.target.pid);
        match self.proc.stat(&path) {
            Ok(stat) => self.target.started_after_listing(stat.starttime),
            Err(_) => true,
        }
    }
}

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
                some(&self.exited)
            ),
        }
    }
}

/// `4243, 4244, 4245` or `4243, 4244, 4245, 4246, 4247, … (10000 in
/// all)`: short evidence however many threads there are.
pub fn some(ids: &[i32]) -> String {
    let shown: Vec<String> = ids.iter().take(5).map(i32::to_string).collect();
    match ids.len() {
        n if n > 5 => format!("{}, … ({n} in all)", shown.join(", ")),
        _ => shown.join(", "),
    }
}

/// `1 thread`, `2 threads`: a count with its noun, singular or plural.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// At most `count` items spread evenly over `items`, first and last
/// included: a sample where checking every thread would be quadratic.
pub fn spread(items: &[i32], count: usize) -> Vec<i32> {
    if items.len() <= count {
        return items.to_vec();
    }
    (0..count)
        .map(|i| items[i * (items.len() - 1) / (count - 1)])
        .collect()
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
        assert_eq!(some(&[1, 2]), "1, 2");
        let many: Vec<i32> = (1..=10_000).collect();
        assert_eq!(some(&many), "1, 2, 3, 4, 5, … (10000 in all)");
        assert_eq!(count(1, "claim"), "1 claim");
        assert_eq!(count(0, "TID"), "0 TIDs");
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
    fn samples_spread_over_the_whole_group() {
        let tids: Vec<i32> = (100..200).collect();
        assert_eq!(spread(&tids, 4), [100, 133, 166, 199]);
        assert_eq!(spread(&tids[..3], 4), [100, 101, 102]);
    }
}
