//! `checker audit`: the book's asymmetry as a hidden-task detector.
//!
//! A listing of `/proc` shows thread-group leaders only, and a lookup of
//! `/proc/<id>` resolves any task (claims
//! `listing_shows_the_tgid_but_no_other_tid` and
//! `every_tid_resolves_by_lookup`). So every id that resolves but is not
//! listed must be a thread of a listed process. The audit looks up every
//! id from 1 to the procfs's `pid_max` - 1, compares with one listing,
//! and classifies each id where the two disagree:
//!
//! - a **thread** of a listed group: its `status` says `Tgid:` of a
//!   listed process, and that process's `task/` lists it; counted;
//! - **transient**: gone, or another task (its start time changed), or
//!   listed after all, when looked at again; counted;
//! - a **hidden process**: it resolves, its `Tgid:` is itself, and the
//!   listing does not show it, even on a second look; reported;
//! - an **orphan thread**: its `Tgid:` names a group that is not listed,
//!   or whose `task/` does not list it; reported;
//! - **listed id not resolving**: the listing shows it, a lookup does not,
//!   and both stay so; reported;
//! - **unreadable**: it resolves, but its `status` may not be read (a
//!   `hidepid=` mount, another user's process); how_many, with the note
//!   that root would read it.
//!
//! Listing and lookup also agree on a process hidden by a mount over its
//! `/proc/<pid>`: the listing still names it, and the lookup resolves,
//! but to whatever is mounted there (see `mounts.rs`). So the audit also
//! asks where each lookup ended, and reads the mount table:
//!
//! - a **mount over a process**: a mount whose mount point is inside
//!   the procfs, under a process's directory (`/proc/<pid>`,
//!   `/proc/<pid>/status`, `/proc/<pid>/task/<tid>`...); reported, one
//!   per mount, with the id it covers, what the lookup shows now (an
//!   empty directory, another process's directory) and the mount's id
//!   and source. What the covered directory shows is never taken for
//!   the covered process: the mount is the finding;
//! - a **mount elsewhere** in the procfs (`/proc/sys/fs/binfmt_misc`,
//!   a container's masks over `/proc/kcore`): hides no process; shown,
//!   not reported.
//!
//! The scan is read-only and needs no privilege; it never unmounts
//! anything. Its memory is one bit per id for the listing and a list of
//! the ids that disagree; ids that do not resolve cost nothing. The
//! lookups run on every core, each a `statx(2)` relative to an `O_PATH`
//! descriptor of the procfs root: a call that takes the lookup path
//! (`proc_root_lookup()`, then `proc_pid_lookup()`), opens nothing, and
//! says which mount the walk ended on.

use std::collections::HashSet;
use std::ffi::CStr;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use serde::Serialize;

use crate::harness::{Case, Mark, Suite, TestPoints, Yaml};
pub use crate::harness::{json, junit, tap};
use crate::mounts::{self, Landing, Mount};
use crate::procfs::{ProcError, Procfs};
use crate::report::Kernel;

/// The version of the audit's JSON document; its JSON Schema is
/// `checker/audit.schema.json`. Bumped when a field changes meaning or
/// goes away. Version 1 named itself in a `schema` string and had no
/// mounts; version 2 has the checker's conventions (`schema_version`,
/// `kernel.release`) and the mounts.
pub const SCHEMA_VERSION: u32 = 2;

/// The pause before the second look at ids that disagree: a task that
/// was being created or reaped during the scan is listed, or gone, by
/// then (the churn test of tests/audit.rs finds no false positive).
pub const SETTLE: Duration = Duration::from_millis(50);

/// The claims every verdict rests on, which the report names.
pub const RESTS_ON: [&str; 5] = [
    "listing_shows_the_tgid_but_no_other_tid",
    "every_tid_resolves_by_lookup",
    "tid_status_is_the_threads_own_view",
    "task_dir_lists_the_whole_group_from_any_tid",
    "audit_finds_a_mount_over_a_process",
];

/// One bit per id.
#[derive(Debug, Clone)]
pub struct Ids {
    bits: Vec<u64>,
}

impl Ids {
    pub fn new(max: u32) -> Ids {
        let bits = vec![0; max as usize / 64 + 1];
        Ids { bits }
    }

    pub fn insert(&mut self, id: i32) {
        let Ok(id) = usize::try_from(id) else { return };
        if let Some(word) = self.bits.get_mut(id / 64) {
            *word |= 1 << (id % 64);
        }
    }

    pub fn contains(&self, id: i32) -> bool {
        usize::try_from(id).is_ok_and(|id| {
            self.bits
                .get(id / 64)
                .is_some_and(|w| w & (1 << (id % 64)) != 0)
        })
    }

    /// How many ids are in: a count of the bits, once per report.
    pub fn len(&self) -> usize {
        self.bits
            .iter()
            .map(|word| word.count_ones() as usize)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the lookups found, before classification.
#[derive(Debug, Clone)]
pub struct Scan {
    /// Ids 1 to `pid_max - 1` were looked up.
    pub pid_max: u32,
    /// The first listing's pids.
    pub listed: Ids,
    /// How many ids resolved.
    pub resolved: usize,
    /// Ids that resolved but were not listed.
    pub unlisted: Vec<i32>,
    /// Ids that were listed but did not resolve.
    pub unresolved: Vec<i32>,
    /// Where a lookup of the procfs root itself ended: its own mount.
    pub procfs: Landing,
    /// Ids whose lookup ended on another mount than the procfs's, with
    /// that mount's id when `statx()` gave one.
    pub mounted: Vec<(i32, Option<u64>)>,
    pub took: Duration,
}

/// The listing of the procfs root as a set of ids.
pub fn listing(proc: &dyn Procfs, pid_max: u32) -> Result<Ids, ProcError> {
    let mut ids = Ids::new(pid_max);
    for pid in proc.pids(".")? {
        ids.insert(pid);
    }
    Ok(ids)
}

/// `pid_max` of the procfs at `root`: its `sys/kernel/pid_max`.
pub fn pid_max(proc: &dyn Procfs) -> Result<u32, ProcError> {
    let path = "sys/kernel/pid_max";
    let text = proc.read(path)?;
    text.trim().parse().map_err(|_| {
        let problem = format!("{:?} is not a number", text.trim());
        proc.parse_error(path, crate::parse::error("pid_max", problem))
    })
}

/// Looks up every id below `pid_max` under `root` on `jobs` threads,
/// after one listing through `proc`; `progress` is called now and then
/// with the ids done so far.
pub fn scan(
    proc: &dyn Procfs,
    root: &Path,
    pid_max: u32,
    jobs: usize,
    progress: &(dyn Fn(u32) + Sync),
) -> Result<Scan, ProcError> {
    let start = Instant::now();
    let listed = listing(proc, pid_max)?;
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    let stat_error = |e: nix::Error| ProcError::new("stat", root, e.into());
    let dir = open(root, flags, Mode::empty()).map_err(stat_error)?;
    let procfs = mounts::landing(&dir, c"").map_err(stat_error)?;
    let (next, done) = (AtomicU32::new(1), AtomicU32::new(0));
    // One worker: chunks of ids until none is left. It counts those that
    // resolve, and keeps the ids where lookup and listing disagree, and
    // those whose lookup ended on another mount than `procfs`'s.
    let worker = || {
        let mut share = Share::default();
        let mut name = [0u8; 16];
        loop {
            let first = next.fetch_add(CHUNK, Ordering::Relaxed);
            if first >= pid_max {
                return share;
            }
            let last = first.saturating_add(CHUNK).min(pid_max);
            for id in first..last {
                // The same walk as fstatat(); the kernel fills in the
                // mount for every call, so asking for it costs nothing.
                let landing = mounts::landing(&dir, decimal(id, &mut name));
                let id = id as i32;
                if let Ok(landing) = &landing {
                    share.resolved += 1;
                    if landing.left(&procfs) {
                        share.mounted.push((id, landing.mount));
                    }
                }
                match (landing.is_ok(), listed.contains(id)) {
                    (true, false) => share.unlisted.push(id),
                    (false, true) => share.unresolved.push(id),
                    _ => {}
                }
            }
            let n = last - first;
            progress(done.fetch_add(n, Ordering::Relaxed) + n);
        }
    };
    let results: Vec<Share> = std::thread::scope(|scope| {
        let workers: Vec<_> =
            (0..jobs.max(1)).map(|_| scope.spawn(worker)).collect();
        workers.into_iter().filter_map(|w| w.join().ok()).collect()
    });
    let mut scan = Scan {
        pid_max,
        listed,
        resolved: 0,
        unlisted: Vec::new(),
        unresolved: Vec::new(),
        procfs,
        mounted: Vec::new(),
        took: Duration::ZERO,
    };
    for share in results {
        scan.resolved += share.resolved;
        scan.unlisted.extend(share.unlisted);
        scan.unresolved.extend(share.unresolved);
        scan.mounted.extend(share.mounted);
    }
    scan.unlisted.sort_unstable();
    scan.unresolved.sort_unstable();
    scan.mounted.sort_unstable();
    scan.took = start.elapsed();
    Ok(scan)
}

/// The whole audit of `proc` (mounted at `root`): every id below its
/// `pid_max` looked up on `jobs` threads (`None`: one per core), then
/// classified; `progress` gets the ids done so far and `pid_max`.
pub fn run(
    proc: &dyn Procfs,
    root: &Path,
    jobs: Option<usize>,
    progress: &(dyn Fn(u32, u32) + Sync),
) -> Result<(Scan, Vec<Verdict>), ProcError> {
    let pid_max = pid_max(proc)?;
    let cores = || std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = jobs.unwrap_or_else(cores);
    let scan =
        scan(proc, root, pid_max, jobs, &|done| progress(done, pid_max))?;
    let verdicts = classify(proc, &scan, SETTLE)?;
    Ok((scan, verdicts))
}

/// Ids a worker takes at a time.
const CHUNK: u32 = 4096;

/// What one worker found.
#[derive(Default)]
struct Share {
    resolved: usize,
    unlisted: Vec<i32>,
    unresolved: Vec<i32>,
    mounted: Vec<(i32, Option<u64>)>,
}

/// `id` in decimal, NUL-terminated, in `buffer`: a name for `fstatat`
/// without an allocation per id.
fn decimal(id: u32, buffer: &mut [u8; 16]) -> &CStr {
    let _ = write!(&mut buffer[..], "{id}\0");
    CStr::from_bytes_until_nul(buffer).unwrap_or(c"0")
}

/// What one id that disagrees turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    Thread,
    Transient,
    Unreadable,
    HiddenProcess,
    OrphanThread,
    ListedNotResolving,
    MountOverProcess,
    MountElsewhere,
}

impl Class {
    /// Whether the report shows it one by one (a finding), rather than
    /// counting it: whether one of its `CHECKS` looks for it.
    pub fn is_finding(self) -> bool {
        CHECKS.iter().any(|(kind, _, _)| *kind == self)
    }

    fn words(self) -> &'static str {
        match self {
            Class::Thread => "thread of a listed process",
            Class::Transient => "transient",
            Class::Unreadable => "unreadable",
            Class::HiddenProcess => "hidden process",
            Class::OrphanThread => "orphan thread",
            Class::ListedNotResolving => "listed id not resolving",
            Class::MountOverProcess => "mount over process",
            Class::MountElsewhere => "mount over no process",
        }
    }
}

/// One id, classified, with the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub kind: Class,
    /// The id looked at; for a mount, the process whose directory it
    /// is in (0 for a mount over no process).
    pub id: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tgid: Option<i32>,
    /// What the lookup said, first and on the second look.
    pub lookup: String,
    /// What the listings said.
    pub listing: String,
    /// The mount, for a mount over a process (or over none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mount: Option<Mount>,
    /// The process whose directory a lookup of the covered one shows
    /// now (a bind mount of `/proc/<other>`): evidence, never the
    /// covered process's identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shows_process: Option<i32>,
}

impl Verdict {
    /// A verdict on `id` with its evidence, and nothing else known.
    fn new(class: Class, id: i32, lookup: String, listing: String) -> Self {
        Verdict {
            kind: class,
            id,
            comm: None,
            tgid: None,
            lookup,
            listing,
            mount: None,
            shows_process: None,
        }
    }

    /// What it is, of which id: `hidden process 4242 (name)`.
    fn title(&self) -> String {
        let name = self.comm.as_deref().map(|comm| format!(" ({comm})"));
        let name = name.unwrap_or_default();
        format!("{} {}{name}", self.kind.words(), self.id)
    }
}

/// What `status` and `stat` say of an id, if they can be read.
enum Seen {
    Gone,
    Unreadable(String),
    Task { tgid: i32, comm: String, start: u64 },
}

fn look(proc: &dyn Procfs, id: i32) -> Seen {
    let status = proc.status(&format!("{id}/status"));
    let stat = proc.stat(&format!("{id}/stat"));
    match (status, stat) {
        (Ok(ids), Ok(stat)) => Seen::Task {
            tgid: ids.tgid,
            comm: stat.comm,
            start: stat.starttime,
        },
        (Err(e), _) | (_, Err(e)) if e.is_enoent() => Seen::Gone,
        (Err(e), _) | (_, Err(e)) => Seen::Unreadable(e.to_string()),
    }
}

/// Whether `tgid`'s `task/` lists `id`.
fn in_task_dir(proc: &dyn Procfs, tgid: i32, id: i32) -> bool {
    proc.pids(&format!("{tgid}/task"))
        .is_ok_and(|tids| tids.contains(&id))
}

/// Classifies every id of `scan` where lookup and listing disagree,
/// looking again (after `settle`) at each one that is not at once a
/// thread of a listed process, and every mount inside the procfs (from
/// the mount table, read after the scan). The second look lists `proc`
/// again.
pub fn classify(
    proc: &dyn Procfs,
    scan: &Scan,
    settle: Duration,
) -> Result<Vec<Verdict>, ProcError> {
    let root = proc.root().display().to_string();
    // Mounts first: under one, what a lookup shows is not the process.
    let mut verdicts = mount_verdicts(proc, scan)?;
    let under: HashSet<i32> = verdicts
        .iter()
        .filter(|v| v.kind == Class::MountOverProcess)
        .map(|v| v.id)
        .collect();
    // One second look for all: a pause, then a fresh listing, read
    // once and asked whether it lists an id.
    let mut second: Option<Ids> = None;
    let mut listed_again = |id: i32| -> Result<bool, ProcError> {
        if second.is_none() {
            std::thread::sleep(settle);
            second = Some(listing(proc, scan.pid_max)?);
        }
        Ok(second.as_ref().is_some_and(|ids| ids.contains(id)))
    };
    let ms = settle.as_millis();
    for &id in scan.unlisted.iter().filter(|id| !under.contains(id)) {
        let (tgid, comm, start) = match look(proc, id) {
            Seen::Task { tgid, comm, start } => (tgid, comm, start),
            seen => {
                let (kind, lookup) = match seen {
                    Seen::Unreadable(why) => (
                        Class::Unreadable,
                        format!("{root}/{id} resolves; {why}"),
                    ),
                    _ => (
                        Class::Transient,
                        format!(
                            "{root}/{id} resolved, then its status was gone"
                        ),
                    ),
                };
                let listing = format!("not among the pids of {root}");
                verdicts.push(Verdict::new(kind, id, lookup, listing));
                continue;
            }
        };
        let group_listed = scan.listed.contains(tgid);
        let verdict = |kind, lookup, listing| Verdict {
            comm: Some(comm.clone()),
            tgid: Some(tgid),
            ..Verdict::new(kind, id, lookup, listing)
        };
        if tgid != id && under.contains(&tgid) {
            // Its group's directory, task/ included, is under a mount:
            // the mount's finding tells of it.
            let lookup = format!(
                "{root}/{id}: Tgid {tgid}, whose directory is under a mount"
            );
            let not = if group_listed { "" } else { "not " };
            let listing = format!("its group {tgid} is {not}listed");
            verdicts.push(verdict(Class::Thread, lookup, listing));
            continue;
        }
        if tgid != id && group_listed && in_task_dir(proc, tgid, id) {
            let lookup = format!("{root}/{id}: Tgid {tgid}");
            let listing =
                format!("{tgid} is listed, and {root}/{tgid}/task lists {id}");
            verdicts.push(verdict(Class::Thread, lookup, listing));
            continue;
        }
        // Not plainly a thread of a listed process: look again. Its
        // group's id is its own when it is a leader (tgid == id).
        let group_relisted = listed_again(tgid)?;
        let again = look(proc, id);
        let kind = match &again {
            Seen::Gone => Class::Transient,
            Seen::Task { start: s, .. } if *s != start => Class::Transient,
            Seen::Task { tgid: t, .. } if *t != tgid => Class::Transient,
            Seen::Unreadable(_) => Class::Unreadable,
            Seen::Task { .. } if tgid == id && group_relisted => {
                Class::Transient
            }
            Seen::Task { .. }
                if tgid != id
                    && group_relisted
                    && in_task_dir(proc, tgid, id) =>
            {
                Class::Transient
            }
            Seen::Task { .. } if tgid == id => Class::HiddenProcess,
            Seen::Task { .. } => Class::OrphanThread,
        };
        let second = match &again {
            Seen::Gone => "gone".to_string(),
            Seen::Unreadable(why) => why.clone(),
            Seen::Task { tgid, start, .. } => {
                format!("still resolves, Tgid {tgid}, start time {start}")
            }
        };
        let lookup = format!(
            "{root}/{id} resolves: Tgid {tgid}, comm {comm}, start time \
             {start}; {ms} ms later: {second}"
        );
        let listing = match (tgid == id, group_listed) {
            (true, _) => format!(
                "{root} lists {} pids, {root}/{id} not among them",
                scan.listed.len()
            ),
            (false, true) => format!(
                "its group {tgid} is listed, but its task/ does not list it"
            ),
            (false, false) => format!("its group {tgid} is not listed"),
        };
        let again = if group_relisted {
            "listed"
        } else {
            "still not listed"
        };
        let listing = format!("{listing}; re-listed {ms} ms later: {again}");
        verdicts.push(verdict(kind, lookup, listing));
    }
    for &id in &scan.unresolved {
        let relisted = listed_again(id)?;
        let resolves = proc.is_dir(&id.to_string()).is_ok();
        let kind = match (resolves, relisted) {
            (false, true) => Class::ListedNotResolving,
            _ => Class::Transient,
        };
        let now = if resolves { "did" } else { "still did not" };
        let lookup =
            format!("{root}/{id} did not resolve; {ms} ms later it {now}");
        let now = if relisted { "still listed" } else { "gone" };
        let listing =
            format!("listed in {root}; re-listed {ms} ms later: {now}");
        verdicts.push(Verdict::new(kind, id, lookup, listing));
    }
    Ok(with_threads_in_their_process(verdicts))
}

/// The mount table of the auditor's mount namespace, as the procfs
/// shows it: `thread-self/mountinfo`, the calling thread's (a thread
/// may have a mount namespace of its own, as the claim
/// `audit_finds_a_mount_over_a_process` gives one; `self/` would show
/// the thread-group leader's), or `self/mountinfo` where there is no
/// `thread-self` (before Linux 3.17).
fn mount_table(proc: &dyn Procfs) -> Result<Vec<Mount>, ProcError> {
    let (path, text) = match proc.read("thread-self/mountinfo") {
        Ok(text) => ("thread-self/mountinfo", text),
        Err(err) if err.is_enoent() => {
            ("self/mountinfo", proc.read("self/mountinfo")?)
        }
        Err(err) => return Err(err),
    };
    mounts::parse_mountinfo(&text).map_err(|err| proc.parse_error(path, err))
}

/// Every mount inside the procfs, classified: over a process directory
/// (a finding) or over none (shown); and every id whose lookup ended on
/// a mount that the table, read after the scan, no longer has
/// (transient: unmounted meanwhile, or its process ended).
fn mount_verdicts(
    proc: &dyn Procfs,
    scan: &Scan,
) -> Result<Vec<Verdict>, ProcError> {
    let root = proc.root().display().to_string();
    let table = mount_table(proc)?;
    // The procfs's own mount: statx's answer for its root, or else the
    // last procfs mounted at the root's path.
    let at_root = || Some(mounts::procfs_at(&table, &root)?.id);
    let procfs = scan.procfs.mount.or_else(at_root);
    let inside = procfs.map_or_else(Vec::new, |id| mounts::inside(&table, id));
    let mut verdicts = Vec::new();
    for (mount, relative) in inside {
        let Some(id) = mounts::process_of(&relative) else {
            let lookup = format!("{root}/{relative} is a mount point");
            verdicts.push(Verdict {
                mount: Some(mount),
                ..Verdict::new(Class::MountElsewhere, 0, lookup, String::new())
            });
            continue;
        };
        let (shows, shows_process) = what_it_shows(proc, &relative, id);
        let mut lookup = format!("{root}/{relative} now shows {shows}");
        let seen = scan.mounted.iter().find(|(m, _)| *m == id);
        if let (Some((_, Some(on))), true) = (seen, relative == id.to_string())
        {
            let procfs = procfs.map_or_else(String::new, |p| format!(" {p}"));
            let _ = write!(
                lookup,
                "; the scan's lookup of {root}/{id} ended on mount {on} \
                 (statx), not on the procfs's mount{procfs}"
            );
        }
        let listing = match scan.listed.contains(id) {
            true => format!(
                "{root} lists {id}: a listing does not see what is mounted \
                 on its entries"
            ),
            false => format!("{root} does not list {id}"),
        };
        verdicts.push(Verdict {
            mount: Some(mount),
            shows_process,
            ..Verdict::new(Class::MountOverProcess, id, lookup, listing)
        });
    }
    // The ids the scan saw on another mount, which the table no longer
    // has a mount for: gone by the time it was read.
    for &(id, on) in &scan.mounted {
        let over = |v: &Verdict| v.kind == Class::MountOverProcess;
        if verdicts.iter().any(|v| over(v) && v.id == id) {
            continue;
        }
        let point = format!("{root}/{id}");
        let on =
            on.map_or_else(|| "a mount".to_string(), |m| format!("mount {m}"));
        let lookup = format!(
            "the scan's lookup of {point} ended on {on}; the mount table \
             read after the scan has no mount on {point}"
        );
        let transient = Class::Transient;
        verdicts.push(Verdict::new(transient, id, lookup, String::new()));
    }
    Ok(verdicts)
}

/// What `relative` (inside the directory of process `id`) shows now that
/// something is mounted on it, and the process whose directory that is,
/// if it is one: read through the mount, as any program would. The
/// `status` it shows is another process's, or a copy of this one's; it
/// is reported as what the mount shows, never as process `id`.
fn what_it_shows(
    proc: &dyn Procfs,
    relative: &str,
    id: i32,
) -> (String, Option<i32>) {
    if let Ok(ids) = proc.status(&format!("{relative}/status")) {
        let comm = proc
            .stat(&format!("{relative}/stat"))
            .map(|stat| format!(" ({})", stat.comm))
            .unwrap_or_default();
        let whose = match (ids.pid == ids.tgid, ids.pid == id) {
            (true, true) => format!("the directory of process {id} itself"),
            (true, false) => {
                format!("the directory of process {}{comm}", ids.pid)
            }
            (false, _) => format!(
                "the directory of thread {} of process {}{comm}",
                ids.pid, ids.tgid
            ),
        };
        return (whose, Some(ids.pid));
    }
    match proc.list(relative) {
        Ok(entries) => {
            let n = entries
                .iter()
                .filter(|e| e.name != "." && e.name != "..")
                .count();
            let what = match n {
                0 => "an empty directory".to_string(),
                1 => "a directory of 1 entry".to_string(),
                n => format!("a directory of {n} entries"),
            };
            (what, None)
        }
        Err(_) => match proc.is_dir(relative) {
            Ok(false) => ("a file".to_string(), None),
            Ok(true) => ("a directory it may not list".to_string(), None),
            Err(err) => (format!("nothing readable ({})", err.cause()), None),
        },
    }
}

/// A hidden process's threads are part of that one finding: an orphan
/// thread whose group is a hidden process is told in the process's
/// evidence, not as a finding of its own. So are the threads of a
/// process under a mount, counted as threads.
fn with_threads_in_their_process(verdicts: Vec<Verdict>) -> Vec<Verdict> {
    let hidden: Vec<i32> = (verdicts.iter())
        .filter(|v| v.kind == Class::HiddenProcess)
        .map(|v| v.id)
        .collect();
    let (orphans, mut kept): (Vec<Verdict>, Vec<Verdict>) =
        verdicts.into_iter().partition(|v| {
            v.kind == Class::OrphanThread
                && v.tgid.is_some_and(|tgid| hidden.contains(&tgid))
        });
    let threads: Vec<Verdict> = kept
        .iter()
        .filter(|v| v.kind == Class::Thread)
        .cloned()
        .collect();
    let mut told_mounts = HashSet::new();
    for process in &mut kept {
        let mounted = process.kind == Class::MountOverProcess;
        let of_it = match process.kind {
            Class::HiddenProcess => &orphans,
            // Told once, in the first mount over the process.
            _ if mounted && told_mounts.insert(process.id) => &threads,
            _ => continue,
        };
        let ids: Vec<String> = (of_it.iter())
            .filter(|t| t.tgid == Some(process.id) && t.id != process.id)
            .map(|t| match &t.comm {
                Some(comm) if mounted => format!("{} ({comm})", t.id),
                _ => t.id.to_string(),
            })
            .collect();
        if !ids.is_empty() {
            let n = crate::claims::how_many(ids.len(), "thread");
            let verb = if ids.len() == 1 {
                "resolves"
            } else {
                "resolve"
            };
            let _ = write!(
                process.lookup,
                "; {n} of it {verb} too: {}",
                ids.join(", ")
            );
        }
    }
    kept
}

/// A finding in one line, for a claim's evidence.
pub fn one_line(verdict: &Verdict) -> String {
    let mount = verdict
        .mount
        .as_ref()
        .map(|m| format!(": mount {}", mount_words(m)))
        .unwrap_or_default();
    let (lookup, listing) = (&verdict.lookup, &verdict.listing);
    format!("{}{mount}: {lookup}; {listing}", verdict.title())
}

/// A mount in words: "id 613 on /proc/4242: proc, source proc, root
/// /4243".
pub fn mount_words(mount: &Mount) -> String {
    format!(
        "id {} on {}: {}, source {}, root {}",
        mount.id, mount.point, mount.fstype, mount.source, mount.root
    )
}

/// The audit's result: counts, and the findings with their evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// The shape of this document: [`SCHEMA_VERSION`].
    pub schema_version: u32,
    pub kernel: Kernel,
    pub proc: String,
    /// Ids 1 to `pid_max - 1` were looked up.
    pub pid_max: u32,
    pub resolved: usize,
    pub listed: usize,
    pub threads: usize,
    pub transient: usize,
    pub unreadable: usize,
    pub findings: Vec<Verdict>,
    /// Mounts inside the procfs over no process directory
    /// (`/proc/sys/fs/binfmt_misc`, a container's masks): they hide no
    /// process, and are shown rather than reported.
    pub other_mounts: Vec<Mount>,
    pub seconds: f64,
    /// The claims the verdicts rest on.
    pub rests_on: Vec<&'static str>,
}

impl Audit {
    pub fn new(
        kernel: String,
        proc: &str,
        scan: &Scan,
        verdicts: Vec<Verdict>,
    ) -> Audit {
        let count = |kind| verdicts.iter().filter(|v| v.kind == kind).count();
        let other_mounts = verdicts
            .iter()
            .filter(|v| v.kind == Class::MountElsewhere)
            .filter_map(|v| v.mount.clone())
            .collect();
        Audit {
            schema_version: SCHEMA_VERSION,
            kernel: Kernel { release: kernel },
            proc: proc.to_string(),
            pid_max: scan.pid_max,
            resolved: scan.resolved,
            listed: scan.listed.len(),
            threads: count(Class::Thread),
            transient: count(Class::Transient),
            unreadable: count(Class::Unreadable),
            findings: verdicts
                .into_iter()
                .filter(|v| v.kind.is_finding())
                .collect(),
            other_mounts,
            seconds: scan.took.as_secs_f64(),
            rests_on: RESTS_ON.to_vec(),
        }
    }

    /// Nothing found: every id that resolves is listed or a thread of a
    /// listed process, or was passing by, and no mount covers a process
    /// directory.
    pub fn clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// One line of counts, saying what "transient" means.
    pub fn counts(&self) -> String {
        format!(
            "ids 1 to {} looked up in {:.1} s: {} resolve, {} listed, {} \
             threads of listed processes, {} transient (tasks that \
             started or ended during the audit: gone, replaced or listed \
             when looked at again {} ms later), {} unreadable",
            self.pid_max - 1,
            self.seconds,
            self.resolved,
            self.listed,
            self.threads,
            self.transient,
            SETTLE.as_millis(),
            self.unreadable
        )
    }

    /// The mounts over no process, in one line, if there are any.
    fn other_mounts_line(&self) -> Option<String> {
        let mounts: Vec<String> = self
            .other_mounts
            .iter()
            .map(|m| format!("{} on {} (id {})", m.fstype, m.point, m.id))
            .collect();
        (!mounts.is_empty()).then(|| {
            format!(
                "mounted inside {} over no process directory, so hiding \
                 none: {}",
                self.proc,
                mounts.join(", ")
            )
        })
    }
}

/// The checks a report shows, each passing when it found nothing, with
/// the words for one and for more of what it finds.
const CHECKS: [(Class, &str, [&str; 2]); 4] = [
    (
        Class::HiddenProcess,
        "no process is hidden from the listing",
        ["hidden process", "hidden processes"],
    ),
    (
        Class::OrphanThread,
        "every unlisted id is a thread of a listed process",
        ["orphan thread", "orphan threads"],
    ),
    (
        Class::ListedNotResolving,
        "every listed id resolves",
        ["listed id not resolving", "listed ids not resolving"],
    ),
    (
        Class::MountOverProcess,
        "no mount covers a process directory",
        [
            "mount over a process directory",
            "mounts over process directories",
        ],
    ),
];

/// The report for people, wrapped at `width`.
pub fn human(audit: &Audit, width: Option<usize>) -> String {
    let mut out = String::new();
    let mut say = |lines: Vec<String>| {
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
    };
    let (proc, release) = (&audit.proc, &audit.kernel.release);
    let head = format!("audit of {proc} on Linux {release}");
    say(terminal::wrap(&head, width, ""));
    say(terminal::wrap(&audit.counts(), width, ""));
    if let Some(mounts) = audit.other_mounts_line() {
        say(terminal::wrap(&mounts, width, ""));
    }
    for finding in &audit.findings {
        say(vec![format!("\nFOUND {}", finding.title())]);
        let mount = finding.mount.as_ref().map(mount_words);
        let lines = [
            ("mount: ", mount.as_ref()),
            ("lookup: ", Some(&finding.lookup)),
            ("listing: ", Some(&finding.listing)),
        ];
        for (label, text) in lines.iter().filter_map(|(l, t)| Some((l, (*t)?)))
        {
            let label = format!("      {label}");
            say(terminal::wrap_after(&label, text, width, "      "));
        }
    }
    let found: Vec<String> = (CHECKS.iter())
        .map(|(kind, _, words)| {
            let n = audit.findings.iter().filter(|f| f.kind == *kind).count();
            (n, words[usize::from(n > 1)])
        })
        .filter(|(n, _)| *n > 0)
        .map(|(n, words)| format!("{n} {words}"))
        .collect();
    let verdict = match audit.clean() {
        true => "nothing hidden found".to_string(),
        false => format!("found {}", found.join(", ")),
    };
    say(vec![format!("\n{verdict}")]);
    let rests = audit.rests_on.join(", ");
    let rests = format!("(the verdicts rest on the claims {rests})");
    say(terminal::wrap(&rests, width, ""));
    out
}

impl TestPoints for Audit {
    /// One test point per check of `CHECKS`, passing when it found
    /// nothing; a failing one lists its findings, whole in TAP's YAML,
    /// one line each in JUnit's `<failure>`.
    fn suite(&self) -> Suite {
        let cases = CHECKS.iter().map(|(kind, name, _)| {
            let found: Vec<&Verdict> =
                self.findings.iter().filter(|f| f.kind == *kind).collect();
            let (mark, yaml) = match found.len() {
                0 => (Mark::Ok { output: None }, Vec::new()),
                n => {
                    let json = (found.iter())
                        .map(|f| serde_json::to_string(f).unwrap_or_default());
                    let lines: Vec<String> =
                        found.iter().map(|f| one_line(f)).collect();
                    let mark = Mark::NotOk {
                        message: format!("{n} found"),
                        kind: None,
                        text: lines.join("\n"),
                    };
                    (mark, vec![("found", Yaml::List(json.collect()))])
                }
            };
            Case {
                name: name.to_string(),
                mark,
                yaml,
            }
        });
        Suite {
            tool: None,
            name: "checker audit".to_string(),
            classname: "audit",
            head: self.counts(),
            tail: None,
            properties: Vec::new(),
            output: Some(self.counts()),
            cases: cases.collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctored::{Doctored, proc_error};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A task of a made-up procfs: id, Tgid, comm, start time.
    type Task = (i32, i32, &'static str, u64);

    /// A procfs of `tasks`, whose root lists `listed` (what its second
    /// look shows), with no mount inside it.
    fn procfs(tasks: &[Task], listed: &[i32]) -> Doctored {
        let mountinfo = "22 1 0:21 / /proc rw - proc proc rw\n";
        let proc = Doctored::empty()
            .file("thread-self/mountinfo", mountinfo)
            .entries(".", listed.to_vec());
        tasks.iter().fold(proc, |proc, &task| {
            let (id, tgid, _, _) = task;
            let group = tasks.iter().filter(|t| t.1 == tgid).map(|t| t.0);
            shows(proc, &id.to_string(), task)
                .dir(id.to_string())
                .entries(format!("{id}/task"), group.collect::<Vec<_>>())
        })
    }

    /// `proc` whose directory `dir` has the `status` and `stat` of `task`.
    fn shows(proc: Doctored, dir: &str, task: Task) -> Doctored {
        let (id, tgid, comm, start) = task;
        let zeros = |n| vec!["0"; n].join(" ");
        let stat =
            format!("{id} ({comm}) S 1 {} {start} {}\n", zeros(17), zeros(30));
        proc.file(
            format!("{dir}/status"),
            format!("Name:\t{comm}\nTgid:\t{tgid}\nPid:\t{id}\n"),
        )
        .file(format!("{dir}/stat"), stat)
    }

    /// `proc` with an empty directory mounted on `point`.
    fn empty_mount(proc: Doctored, point: &str) -> Doctored {
        let under = format!("{point}/");
        proc.entries(point, []).read(move |path, answer| {
            match path.starts_with(&under) {
                true => Err(proc_error("read", path, libc::ENOENT)),
                false => answer,
            }
        })
    }

    /// A scan of ids below 100 on the procfs [`PROCFS`] whose listing
    /// has `listed`, and nothing else found yet.
    fn scan_of(listed: &[i32]) -> Scan {
        let mut ids = Ids::new(100);
        listed.iter().for_each(|&id| ids.insert(id));
        Scan {
            pid_max: 100,
            listed: ids,
            resolved: 0,
            unlisted: Vec::new(),
            unresolved: Vec::new(),
            procfs: PROCFS,
            mounted: Vec::new(),
            took: Duration::ZERO,
        }
    }

    #[test]
    fn each_kind_of_disagreement_is_told_apart() {
        let tasks = [
            (10, 10, "listed", 5),
            (11, 10, "its-thread", 5), // thread of listed 10
            (20, 20, "hidden", 7),     // a process not listed
            (21, 20, "hidden-t", 7),   // and its thread
            (30, 31, "orphan", 8),     // its group 31 is not listed
            (40, 40, "passing", 9),    // gone at the second look
            (50, 50, "denied", 9),     // status unreadable
            (60, 60, "newborn", 9),    // listed by the second look
        ];
        // 40's second read of its status, and every read after it,
        // find it gone.
        let looks = AtomicUsize::new(0);
        let proc = procfs(&tasks, &[10, 60, 70])
            .error("50", libc::EACCES)
            .read(move |path, answer| {
                if path == "40/status" {
                    looks.fetch_add(1, Ordering::SeqCst);
                }
                let gone = looks.load(Ordering::SeqCst) > 1;
                match gone && path.starts_with("40/") {
                    true => Err(proc_error("read", path, libc::ENOENT)),
                    false => answer,
                }
            });
        let scan = Scan {
            resolved: 8,
            unlisted: vec![11, 20, 21, 30, 40, 50, 60],
            // 70 stays listed without resolving; 80 leaves the listing.
            unresolved: vec![70, 80],
            ..scan_of(&[10, 70, 80])
        };
        let verdicts = classify(&proc, &scan, Duration::ZERO).unwrap();
        let kind_of =
            |id| verdicts.iter().find(|v| v.id == id).map(|v| v.kind);
        assert_eq!(kind_of(11), Some(Class::Thread));
        assert_eq!(kind_of(20), Some(Class::HiddenProcess));
        assert_eq!(
            kind_of(21),
            None,
            "a hidden process's thread is told in its finding"
        );
        assert_eq!(kind_of(30), Some(Class::OrphanThread));
        assert_eq!(kind_of(40), Some(Class::Transient));
        assert_eq!(kind_of(50), Some(Class::Unreadable));
        assert_eq!(kind_of(60), Some(Class::Transient));
        assert_eq!(kind_of(70), Some(Class::ListedNotResolving));
        assert_eq!(kind_of(80), Some(Class::Transient));
        let hidden = verdicts.iter().find(|v| v.id == 20).unwrap();
        assert_eq!(hidden.comm.as_deref(), Some("hidden"));
        assert!(
            hidden.lookup.contains("1 thread of it resolves too: 21"),
            "{hidden:?}"
        );
        assert!(hidden.listing.contains("still not listed"), "{hidden:?}");
        let audit = Audit::new("6.12".into(), "/proc", &scan, verdicts);
        assert_eq!(audit.findings.len(), 3);
        assert!(audit.other_mounts.is_empty());
        assert_eq!(
            (audit.threads, audit.transient, audit.unreadable),
            (1, 3, 1)
        );
        assert!(!audit.clean());
        let tap = tap(&audit);
        assert!(tap.contains("not ok 1 - no process is hidden"), "{tap}");
        assert!(
            human(&audit, Some(60))
                .contains("FOUND hidden process 20 (hidden)")
        );
    }

    /// The procfs root's own landing: mount 22, a mount's root.
    const PROCFS: Landing = Landing {
        mount: Some(22),
        mount_root: Some(true),
    };

    /// Test that a process under a mount is reported as such, and never
    /// as the process whose directory the mount shows: the doctored
    /// procfs answers with the directory of process 10 for /proc/20, as
    /// `mount --bind /proc/10 /proc/20` makes the kernel answer.
    #[test]
    fn a_mount_over_a_process_is_a_finding_of_its_own() {
        let tasks = [
            (10, 10, "decoy", 5),
            (20, 20, "covered", 6),
            (21, 20, "covered-t", 6), // its thread, unlisted
            (30, 30, "under-tmpfs", 7),
            (40, 40, "tasks-hidden", 8),
            (41, 40, "its-thread", 8), // task/ of 40 is covered
        ];
        let mountinfo = "\
22 1 0:21 / /proc rw,relatime - proc proc rw
90 22 0:21 /10 /proc/20 rw,relatime - proc proc rw
91 22 0:40 / /proc/30 rw,relatime - tmpfs tmpfs rw
92 22 0:41 / /proc/40/task rw,relatime - tmpfs none rw
93 22 0:42 / /proc/sys/fs/binfmt_misc rw - binfmt_misc binfmt_misc rw
";
        // /proc/10 bound on /proc/20; empty directories on the others.
        let bound = shows(procfs(&tasks, &[10, 20, 30, 40]), "20", tasks[0])
            .entries("20/task", [10])
            .file("thread-self/mountinfo", mountinfo);
        let proc = empty_mount(empty_mount(bound, "30"), "40/task");
        let scan = Scan {
            resolved: 6,
            unlisted: vec![21, 41],
            // 60 was under mount 95 during the scan, gone since.
            mounted: vec![(20, Some(90)), (30, Some(91)), (60, Some(95))],
            ..scan_of(&[10, 20, 30, 40])
        };
        let verdicts = classify(&proc, &scan, Duration::ZERO).unwrap();
        let audit = Audit::new("6.12".into(), "/proc", &scan, verdicts);
        let found: Vec<(Class, i32, u64)> = audit
            .findings
            .iter()
            .map(|f| (f.kind, f.id, f.mount.as_ref().unwrap().id))
            .collect();
        assert_eq!(
            found,
            [
                (Class::MountOverProcess, 20, 90),
                (Class::MountOverProcess, 30, 91),
                (Class::MountOverProcess, 40, 92),
            ],
            "{}",
            json(&audit)
        );
        // What /proc/20 shows is process 10's directory: evidence, not
        // a verdict about 10 or a second identity for 20.
        let bound = &audit.findings[0];
        assert_eq!(bound.shows_process, Some(10));
        assert_eq!((bound.comm.as_deref(), bound.tgid), (None, None));
        assert!(
            bound.lookup.starts_with(
                "/proc/20 now shows the directory of process 10 (decoy); \
                 the scan's lookup of /proc/20 ended on mount 90 (statx), \
                 not on the procfs's mount 22"
            ),
            "{bound:?}"
        );
        assert!(
            bound
                .lookup
                .ends_with("1 thread of it resolves too: 21 (covered-t)"),
            "{bound:?}"
        );
        assert!(bound.listing.starts_with("/proc lists 20"), "{bound:?}");
        let tmpfs = &audit.findings[1];
        assert!(
            tmpfs
                .lookup
                .starts_with("/proc/30 now shows an empty directory"),
            "{tmpfs:?}"
        );
        assert_eq!(tmpfs.shows_process, None);
        // Deeper down: 40's task/ is covered, so its thread 41 is not
        // listed there, yet 41 is told with the mount, not as an orphan.
        let deeper = &audit.findings[2];
        assert!(
            deeper
                .lookup
                .starts_with("/proc/40/task now shows an empty"),
            "{deeper:?}"
        );
        assert!(deeper.lookup.contains("41 (its-thread)"), "{deeper:?}");
        assert_eq!(
            (audit.threads, audit.transient, audit.unreadable),
            (2, 1, 0)
        );
        let other: Vec<u64> =
            audit.other_mounts.iter().map(|m| m.id).collect();
        assert_eq!(other, [93]);
        // Every format carries the new kind.
        let tap = tap(&audit);
        assert!(tap.contains("1..4\n"), "{tap}");
        assert!(
            tap.contains("not ok 4 - no mount covers a process directory"),
            "{tap}"
        );
        assert!(tap.contains("\"kind\":\"mount-over-process\""), "{tap}");
        let junit = junit(&audit);
        assert!(junit.contains("tests=\"4\" failures=\"1\""), "{junit}");
        assert!(junit.contains("mount over process 20"), "{junit}");
        let human = human(&audit, Some(76));
        assert!(human.contains("\nFOUND mount over process 20\n"), "{human}");
        assert!(
            human.contains("mount: id 90 on /proc/20: proc, source proc,"),
            "{human}"
        );
        assert!(human.contains("(id 93)"), "{human}");
        assert!(
            human.contains("\nfound 3 mounts over process directories\n"),
            "{human}"
        );
        let doc: serde_json::Value =
            serde_json::from_str(&json(&audit)).unwrap();
        assert_eq!(doc["schema_version"], SCHEMA_VERSION);
        assert_eq!(doc["kernel"]["release"], "6.12");
        assert_eq!(doc["findings"][0]["mount"]["source"], "proc");
        assert_eq!(doc["findings"][0]["shows_process"], 10);
    }

    #[test]
    fn decimal_names_have_no_padding() {
        let mut buffer = [0u8; 16];
        assert_eq!(decimal(1, &mut buffer), c"1");
        assert_eq!(decimal(4194303, &mut buffer), c"4194303");
        assert_eq!(decimal(10, &mut buffer), c"10");
    }

    #[test]
    fn ids_are_counted_once() {
        let mut ids = Ids::new(100);
        ids.insert(64);
        ids.insert(64);
        ids.insert(99);
        ids.insert(1000);
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(64) && ids.contains(99) && !ids.contains(63));
        assert!(!ids.contains(-1) && !ids.contains(1000));
    }
}
