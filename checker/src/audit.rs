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
//!   `hidepid=` mount, another user's process); counted, with the note
//!   that root would read it.
//!
//! The scan is read-only and needs no privilege. Its memory is one bit
//! per id for the listing and a list of the ids that disagree; ids that
//! do not resolve cost nothing. The lookups run on every core, each an
//! `fstatat(2)` relative to an `O_PATH` descriptor of the procfs root:
//! a call that takes the lookup path (`proc_root_lookup()`, then
//! `proc_pid_lookup()`) and opens nothing.

use std::ffi::CStr;
use std::fmt::Write as _;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::fcntl::AtFlags;
use nix::fcntl::{OFlag, open};
use nix::sys::stat::{Mode, fstatat};
use serde::Serialize;

use crate::procfs::{ProcError, Procfs};

/// The pause before the second look at ids that disagree: a task that
/// was being created or reaped during the scan is listed, or gone, by
/// then (the churn test of tests/audit.rs finds no false positive).
pub const SETTLE: Duration = Duration::from_millis(50);

/// The claims every verdict rests on, which the report names.
pub const RESTS_ON: [&str; 4] = [
    "listing_shows_the_tgid_but_no_other_tid",
    "every_tid_resolves_by_lookup",
    "tid_status_is_the_threads_own_view",
    "task_dir_lists_the_whole_group_from_any_tid",
];

/// One bit per id.
#[derive(Debug, Clone)]
pub struct Ids {
    bits: Vec<u64>,
    count: usize,
}

impl Ids {
    pub fn new(max: u32) -> Ids {
        Ids {
            bits: vec![0; max as usize / 64 + 1],
            count: 0,
        }
    }

    pub fn insert(&mut self, id: i32) {
        let Ok(id) = usize::try_from(id) else { return };
        if let Some(word) = self.bits.get_mut(id / 64) {
            let bit = 1 << (id % 64);
            if *word & bit == 0 {
                *word |= bit;
                self.count += 1;
            }
        }
    }

    pub fn contains(&self, id: i32) -> bool {
        usize::try_from(id).is_ok_and(|id| {
            self.bits
                .get(id / 64)
                .is_some_and(|w| w & (1 << (id % 64)) != 0)
        })
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
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
        let err = crate::parse::ParseError {
            file: "pid_max",
            problem: format!("{:?} is not a number", text.trim()),
        };
        proc.parse_error(path, err)
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
    let dir = open(root, flags, Mode::empty()).map_err(|e| {
        ProcError::new(crate::procfs::Op::Stat, root, e.into())
    })?;
    let next = AtomicU32::new(1);
    let done = AtomicU32::new(0);
    let results: Vec<(usize, Vec<i32>, Vec<i32>)> =
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..jobs.max(1))
                .map(|_| {
                    scope.spawn(|| {
                        lookups(&dir, &listed, pid_max, &next, &done, progress)
                    })
                })
                .collect();
            workers.into_iter().filter_map(|w| w.join().ok()).collect()
        });
    let mut scan = Scan {
        pid_max,
        listed,
        resolved: 0,
        unlisted: Vec::new(),
        unresolved: Vec::new(),
        took: Duration::ZERO,
    };
    for (resolved, unlisted, unresolved) in results {
        scan.resolved += resolved;
        scan.unlisted.extend(unlisted);
        scan.unresolved.extend(unresolved);
    }
    scan.unlisted.sort_unstable();
    scan.unresolved.sort_unstable();
    scan.took = start.elapsed();
    Ok(scan)
}

/// Ids taken by a worker at a time.
const CHUNK: u32 = 4096;

/// One worker's share: chunks of ids until none is left. Returns how
/// many resolved, and the ids where lookup and listing disagree.
fn lookups(
    dir: &OwnedFd,
    listed: &Ids,
    pid_max: u32,
    next: &AtomicU32,
    done: &AtomicU32,
    progress: &(dyn Fn(u32) + Sync),
) -> (usize, Vec<i32>, Vec<i32>) {
    let (mut resolved, mut unlisted, mut unresolved) =
        (0, Vec::new(), Vec::new());
    let mut name = [0u8; 16];
    loop {
        let first = next.fetch_add(CHUNK, Ordering::Relaxed);
        if first >= pid_max {
            break;
        }
        let last = first.saturating_add(CHUNK).min(pid_max);
        for id in first..last {
            let resolves = fstatat(
                dir,
                decimal(id, &mut name),
                AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .is_ok();
            let id = id as i32;
            resolved += usize::from(resolves);
            match (resolves, listed.contains(id)) {
                (true, false) => unlisted.push(id),
                (false, true) => unresolved.push(id),
                _ => {}
            }
        }
        progress(
            done.fetch_add(last - first, Ordering::Relaxed) + last - first,
        );
    }
    (resolved, unlisted, unresolved)
}

/// `id` in decimal, NUL-terminated, in `buffer`: a name for `fstatat`
/// without an allocation per id.
fn decimal(id: u32, buffer: &mut [u8; 16]) -> &CStr {
    let mut digits = [0u8; 10];
    let mut n = id;
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in 0..len {
        buffer[i] = digits[len - 1 - i];
    }
    buffer[len] = 0;
    CStr::from_bytes_with_nul(&buffer[..=len]).unwrap_or(c"0")
}

/// What one id that disagrees turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Thread,
    Transient,
    Unreadable,
    HiddenProcess,
    OrphanThread,
    ListedNotResolving,
}

impl Kind {
    /// Whether the report shows it one by one (a finding), rather than
    /// counting it.
    pub fn is_finding(self) -> bool {
        matches!(
            self,
            Kind::HiddenProcess
                | Kind::OrphanThread
                | Kind::ListedNotResolving
        )
    }

    /// The words for `n` of this kind: "1 hidden process", "2 hidden
    /// processes".
    fn plural(self, n: usize) -> &'static str {
        match (self, n == 1) {
            (Kind::HiddenProcess, false) => "hidden processes",
            (Kind::OrphanThread, false) => "orphan threads",
            (Kind::ListedNotResolving, false) => "listed ids not resolving",
            _ => self.words(),
        }
    }

    fn words(self) -> &'static str {
        match self {
            Kind::Thread => "thread of a listed process",
            Kind::Transient => "transient",
            Kind::Unreadable => "unreadable",
            Kind::HiddenProcess => "hidden process",
            Kind::OrphanThread => "orphan thread",
            Kind::ListedNotResolving => "listed id not resolving",
        }
    }
}

/// One id, classified, with the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub kind: Kind,
    pub id: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tgid: Option<i32>,
    /// What the lookup said, first and on the second look.
    pub lookup: String,
    /// What the listings said.
    pub listing: String,
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
/// thread of a listed process. The second look lists `proc` again.
pub fn classify(
    proc: &dyn Procfs,
    scan: &Scan,
    settle: Duration,
) -> Result<Vec<Verdict>, ProcError> {
    let root = proc.root().display().to_string();
    let mut verdicts = Vec::new();
    // One second look for all: a pause, then a fresh listing.
    let mut second: Option<Ids> = None;
    let mut second_look = || -> Result<Ids, ProcError> {
        if second.is_none() {
            std::thread::sleep(settle);
            second = Some(listing(proc, scan.pid_max)?);
        }
        Ok(second.clone().unwrap_or_else(|| Ids::new(0)))
    };
    for &id in &scan.unlisted {
        let first = look(proc, id);
        let verdict = |kind,
                       comm: Option<String>,
                       tgid,
                       lookup: String,
                       listing: String| {
            Verdict {
                kind,
                id,
                comm,
                tgid,
                lookup,
                listing,
            }
        };
        let (tgid, comm, start) = match first {
            Seen::Gone => {
                verdicts.push(verdict(
                    Kind::Transient,
                    None,
                    None,
                    format!("{root}/{id} resolved, then its status was gone"),
                    format!("not among the pids of {root}"),
                ));
                continue;
            }
            Seen::Unreadable(why) => {
                verdicts.push(verdict(
                    Kind::Unreadable,
                    None,
                    None,
                    format!("{root}/{id} resolves; {why}"),
                    format!("not among the pids of {root}"),
                ));
                continue;
            }
            Seen::Task { tgid, comm, start } => (tgid, comm, start),
        };
        let group_listed = scan.listed.contains(tgid);
        if tgid != id && group_listed && in_task_dir(proc, tgid, id) {
            verdicts.push(verdict(
                Kind::Thread,
                Some(comm),
                Some(tgid),
                format!("{root}/{id}: Tgid {tgid}"),
                format!("{tgid} is listed, and {root}/{tgid}/task lists {id}"),
            ));
            continue;
        }
        // Not plainly a thread of a listed process: look again.
        let relisted = second_look()?;
        let again = look(proc, id);
        let lookup_first = format!(
            "{root}/{id} resolves: Tgid {tgid}, comm {comm}, start time \
             {start}"
        );
        let listing_first = match tgid == id {
            true => format!(
                "{root} lists {} pids, {root}/{id} not among them",
                scan.listed.len()
            ),
            false => format!(
                "its group {tgid} is {}",
                if group_listed {
                    "listed, but its task/ does not list it"
                } else {
                    "not listed"
                }
            ),
        };
        let kind = match &again {
            Seen::Gone => Kind::Transient,
            Seen::Task { start: s, .. } if *s != start => Kind::Transient,
            Seen::Task { tgid: t, .. } if *t != tgid => Kind::Transient,
            Seen::Unreadable(_) => Kind::Unreadable,
            Seen::Task { .. } if tgid == id && relisted.contains(id) => {
                Kind::Transient
            }
            Seen::Task { .. }
                if tgid != id
                    && relisted.contains(tgid)
                    && in_task_dir(proc, tgid, id) =>
            {
                Kind::Transient
            }
            Seen::Task { .. } if tgid == id => Kind::HiddenProcess,
            Seen::Task { .. } => Kind::OrphanThread,
        };
        let second = match &again {
            Seen::Gone => "gone".to_string(),
            Seen::Unreadable(why) => why.clone(),
            Seen::Task { tgid, start, .. } => {
                format!("still resolves, Tgid {tgid}, start time {start}")
            }
        };
        let listed_again = match tgid == id {
            true => relisted.contains(id),
            false => relisted.contains(tgid),
        };
        verdicts.push(verdict(
            kind,
            Some(comm),
            Some(tgid),
            format!(
                "{lookup_first}; {} ms later: {second}",
                settle.as_millis()
            ),
            format!(
                "{listing_first}; re-listed {} ms later: {}",
                settle.as_millis(),
                if listed_again {
                    "listed"
                } else {
                    "still not listed"
                }
            ),
        ));
    }
    for &id in &scan.unresolved {
        let relisted = second_look()?;
        let resolves = proc.is_dir(&id.to_string()).is_ok();
        let kind = match (resolves, relisted.contains(id)) {
            (false, true) => Kind::ListedNotResolving,
            _ => Kind::Transient,
        };
        verdicts.push(Verdict {
            kind,
            id,
            comm: None,
            tgid: None,
            lookup: format!(
                "{root}/{id} did not resolve; {} ms later it {}",
                settle.as_millis(),
                if resolves { "did" } else { "still did not" }
            ),
            listing: format!(
                "listed in {root}; re-listed {} ms later: {}",
                settle.as_millis(),
                if relisted.contains(id) {
                    "still listed"
                } else {
                    "gone"
                }
            ),
        });
    }
    Ok(with_threads_in_their_process(verdicts))
}

/// A hidden process's threads are part of that one finding: an orphan
/// thread whose group is a hidden process is told in the process's
/// evidence, not as a finding of its own.
fn with_threads_in_their_process(verdicts: Vec<Verdict>) -> Vec<Verdict> {
    let hidden: Vec<i32> = verdicts
        .iter()
        .filter(|v| v.kind == Kind::HiddenProcess)
        .map(|v| v.id)
        .collect();
    let (threads, mut kept): (Vec<Verdict>, Vec<Verdict>) =
        verdicts.into_iter().partition(|v| {
            v.kind == Kind::OrphanThread
                && v.tgid.is_some_and(|tgid| hidden.contains(&tgid))
        });
    for process in kept.iter_mut().filter(|v| v.kind == Kind::HiddenProcess) {
        let ids: Vec<String> = threads
            .iter()
            .filter(|t| t.tgid == Some(process.id))
            .map(|t| t.id.to_string())
            .collect();
        if !ids.is_empty() {
            let verb = if ids.len() == 1 {
                "resolves"
            } else {
                "resolve"
            };
            let _ = write!(
                process.lookup,
                "; {} of it {verb} too: {}",
                crate::claims::count(ids.len(), "thread"),
                ids.join(", ")
            );
        }
    }
    kept
}

/// A finding in one line, for a claim's evidence.
pub fn one_line(verdict: &Verdict) -> String {
    let name = verdict
        .comm
        .as_deref()
        .map(|comm| format!(" ({comm})"))
        .unwrap_or_default();
    format!(
        "{} {}{name}: {}; {}",
        verdict.kind.words(),
        verdict.id,
        verdict.lookup,
        verdict.listing
    )
}

/// The audit's result: counts, and the findings with their evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// Names this document's shape.
    pub schema: &'static str,
    pub kernel: String,
    pub proc: String,
    /// Ids 1 to `pid_max - 1` were looked up.
    pub pid_max: u32,
    pub resolved: usize,
    pub listed: usize,
    pub threads: usize,
    pub transient: usize,
    pub unreadable: usize,
    pub findings: Vec<Verdict>,
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
        Audit {
            schema: "proc-threads-audit/1",
            kernel,
            proc: proc.to_string(),
            pid_max: scan.pid_max,
            resolved: scan.resolved,
            listed: scan.listed.len(),
            threads: count(Kind::Thread),
            transient: count(Kind::Transient),
            unreadable: count(Kind::Unreadable),
            findings: verdicts
                .into_iter()
                .filter(|v| v.kind.is_finding())
                .collect(),
            seconds: scan.took.as_secs_f64(),
            rests_on: RESTS_ON.to_vec(),
        }
    }

    /// Nothing found: every id that resolves is listed or a thread of a
    /// listed process, or was passing by.
    pub fn clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// One line of counts.
    pub fn counts(&self) -> String {
        format!(
            "ids 1 to {} looked up in {:.1} s: {} resolve, {} listed, {} \
             threads of listed processes, {} transient, {} unreadable",
            self.pid_max - 1,
            self.seconds,
            self.resolved,
            self.listed,
            self.threads,
            self.transient,
            self.unreadable
        )
    }
}

/// The three checks a report shows, each passing when it found nothing.
const CHECKS: [(Kind, &str); 3] = [
    (Kind::HiddenProcess, "no process is hidden from the listing"),
    (
        Kind::OrphanThread,
        "every unlisted id is a thread of a listed process",
    ),
    (Kind::ListedNotResolving, "every listed id resolves"),
];

/// The report for people, wrapped at `width`.
pub fn human(audit: &Audit, width: Option<usize>) -> String {
    let mut out = String::new();
    let head = format!("audit of {} on Linux {}", audit.proc, audit.kernel);
    for line in terminal::wrap(&head, width, "") {
        let _ = writeln!(out, "{line}");
    }
    for line in terminal::wrap(&audit.counts(), width, "") {
        let _ = writeln!(out, "{line}");
    }
    for finding in &audit.findings {
        let name = finding
            .comm
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "\nFOUND {} {}{name}",
            finding.kind.words(),
            finding.id
        );
        for (label, text) in [
            ("lookup: ", &finding.lookup),
            ("listing: ", &finding.listing),
        ] {
            for line in terminal::wrap_after(
                &format!("      {label}"),
                text,
                width,
                "      ",
            ) {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    let found: Vec<String> = CHECKS
        .iter()
        .map(|(kind, _)| {
            let n = audit.findings.iter().filter(|f| f.kind == *kind).count();
            (n, kind.plural(n))
        })
        .filter(|(n, _)| *n > 0)
        .map(|(n, words)| format!("{n} {words}"))
        .collect();
    let verdict = match audit.clean() {
        true => "nothing hidden found".to_string(),
        false => format!("found {}", found.join(", ")),
    };
    let _ = writeln!(out, "\n{verdict}");
    let rests = format!(
        "(the verdicts rest on the claims {})",
        audit.rests_on.join(", ")
    );
    for line in terminal::wrap(&rests, width, "") {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// The report as TAP version 13: one test point per check.
pub fn tap(audit: &Audit) -> String {
    let mut out = format!(
        "TAP version 13\n1..{}\n# {}\n",
        CHECKS.len(),
        audit.counts()
    );
    for (number, (kind, name)) in CHECKS.iter().enumerate() {
        let found: Vec<&Verdict> =
            audit.findings.iter().filter(|f| f.kind == *kind).collect();
        if found.is_empty() {
            let _ = writeln!(out, "ok {} - {name}", number + 1);
            continue;
        }
        let _ = writeln!(out, "not ok {} - {name}", number + 1);
        out.push_str("  ---\n  found:\n");
        for finding in found {
            let quoted = serde_json::to_string(&finding).unwrap_or_default();
            let _ = writeln!(out, "    - {quoted}");
        }
        out.push_str("  ...\n");
    }
    out
}

/// The report as one JSON document.
pub fn json(audit: &Audit) -> String {
    serde_json::to_string_pretty(audit).unwrap_or_default() + "\n"
}

/// The report as JUnit XML: one testcase per check.
pub fn junit(audit: &Audit) -> String {
    let failures = CHECKS
        .iter()
        .filter(|(kind, _)| audit.findings.iter().any(|f| f.kind == *kind))
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuite name=\"checker audit\" tests=\"{}\" \
         failures=\"{failures}\" errors=\"0\">",
        CHECKS.len()
    );
    let _ = writeln!(
        out,
        "  <system-out>{}</system-out>",
        crate::report::xml(&audit.counts())
    );
    for (kind, name) in CHECKS {
        let found: Vec<String> = audit
            .findings
            .iter()
            .filter(|f| f.kind == kind)
            .map(|f| {
                format!(
                    "{} {}: {}; {}",
                    f.id,
                    f.comm.as_deref().unwrap_or(""),
                    f.lookup,
                    f.listing
                )
            })
            .collect();
        let _ = write!(
            out,
            "  <testcase classname=\"audit\" name=\"{}\"",
            crate::report::xml(name)
        );
        if found.is_empty() {
            out.push_str("/>\n");
        } else {
            let _ = writeln!(
                out,
                "><failure message=\"{}\">{}</failure></testcase>",
                crate::report::xml(&format!("{} found", found.len())),
                crate::report::xml(&found.join("\n"))
            );
        }
    }
    out.push_str("</testsuite>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procfs::{Dirent, Op};
    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::sync::Mutex;

    /// A doctored procfs: its tasks (id: Tgid, comm, start time), what
    /// its listing shows, and how some ids change between two looks.
    struct Doctored {
        root: PathBuf,
        tasks: HashMap<i32, (i32, &'static str, u64)>,
        /// Ids gone at their second look.
        vanish: Vec<i32>,
        /// Ids whose status may not be read.
        denied: Vec<i32>,
        /// What a listing of the root shows: the second look's.
        listed: Vec<i32>,
        looks: Mutex<HashMap<i32, usize>>,
    }

    fn enoent(path: &str) -> ProcError {
        let err = std::io::Error::from_raw_os_error(libc::ENOENT);
        ProcError::new(Op::Read, format!("/proc/{path}"), err)
    }

    impl Doctored {
        fn task(
            &self,
            path: &str,
            count: bool,
        ) -> Result<(i32, i32, &'static str, u64), ProcError> {
            let id: i32 = path
                .split('/')
                .next()
                .unwrap()
                .parse()
                .map_err(|_| enoent(path))?;
            if self.denied.contains(&id) {
                let err = std::io::Error::from_raw_os_error(libc::EACCES);
                return Err(ProcError::new(
                    Op::Read,
                    format!("/proc/{path}"),
                    err,
                ));
            }
            let mut looks = self.looks.lock().unwrap();
            let seen = looks.entry(id).or_default();
            if count && path.ends_with("/status") {
                *seen += 1;
            }
            if self.vanish.contains(&id) && *seen > 1 {
                return Err(enoent(path));
            }
            let (tgid, comm, start) =
                *self.tasks.get(&id).ok_or_else(|| enoent(path))?;
            Ok((id, tgid, comm, start))
        }
    }

    impl Procfs for Doctored {
        fn root(&self) -> &Path {
            &self.root
        }
        fn list_from(
            &self,
            dir: &str,
            _pos: i64,
        ) -> Result<Vec<Dirent>, ProcError> {
            let dirent = |id: &i32| Dirent {
                ino: 1,
                d_off: 0,
                d_type: 4,
                name: id.to_string(),
            };
            if dir == "." {
                return Ok(self.listed.iter().map(dirent).collect());
            }
            let tgid: i32 = dir
                .trim_end_matches("/task")
                .parse()
                .map_err(|_| enoent(dir))?;
            let tids = self
                .tasks
                .iter()
                .filter(|(_, t)| t.0 == tgid)
                .map(|(id, _)| *id);
            Ok(tids.map(|id| dirent(&id)).collect())
        }
        fn read(&self, path: &str) -> Result<String, ProcError> {
            let (id, tgid, comm, start) = self.task(path, true)?;
            if path.ends_with("/status") {
                return Ok(format!(
                    "Name:\t{comm}\nTgid:\t{tgid}\nPid:\t{id}\n"
                ));
            }
            let zeros = |n| vec!["0"; n].join(" ");
            Ok(format!(
                "{id} ({comm}) S 1 {} {start} {}\n",
                zeros(17),
                zeros(30)
            ))
        }
        fn is_dir(&self, path: &str) -> Result<bool, ProcError> {
            self.task(&format!("{path}/x"), false).map(|_| true)
        }
        fn links(&self, _: &str) -> Result<u64, ProcError> {
            Ok(2)
        }
        fn read_link(&self, path: &str) -> Result<PathBuf, ProcError> {
            Err(enoent(path))
        }
    }

    fn ids(of: &[i32]) -> Ids {
        let mut ids = Ids::new(100);
        of.iter().for_each(|&id| ids.insert(id));
        ids
    }

    #[test]
    fn each_kind_of_disagreement_is_told_apart() {
        let tasks = HashMap::from([
            (10, (10, "listed", 5)),
            (11, (10, "its-thread", 5)), // thread of listed 10
            (20, (20, "hidden", 7)),     // a process not listed
            (21, (20, "hidden-t", 7)),   // and its thread
            (30, (31, "orphan", 8)),     // its group 31 is not listed
            (40, (40, "passing", 9)),    // gone at the second look
            (50, (50, "denied", 9)),     // status unreadable
            (60, (60, "newborn", 9)),    // listed by the second look
        ]);
        let proc = Doctored {
            root: "/proc".into(),
            tasks,
            vanish: vec![40],
            denied: vec![50],
            listed: vec![10, 60, 70],
            looks: Mutex::new(HashMap::new()),
        };
        let scan = Scan {
            pid_max: 100,
            listed: ids(&[10, 70, 80]),
            resolved: 8,
            unlisted: vec![11, 20, 21, 30, 40, 50, 60],
            // 70 stays listed without resolving; 80 leaves the listing.
            unresolved: vec![70, 80],
            took: Duration::ZERO,
        };
        let verdicts = classify(&proc, &scan, Duration::ZERO).unwrap();
        let kind_of =
            |id| verdicts.iter().find(|v| v.id == id).map(|v| v.kind);
        assert_eq!(kind_of(11), Some(Kind::Thread));
        assert_eq!(kind_of(20), Some(Kind::HiddenProcess));
        assert_eq!(
            kind_of(21),
            None,
            "a hidden process's thread is told in its finding"
        );
        assert_eq!(kind_of(30), Some(Kind::OrphanThread));
        assert_eq!(kind_of(40), Some(Kind::Transient));
        assert_eq!(kind_of(50), Some(Kind::Unreadable));
        assert_eq!(kind_of(60), Some(Kind::Transient));
        assert_eq!(kind_of(70), Some(Kind::ListedNotResolving));
        assert_eq!(kind_of(80), Some(Kind::Transient));
        let hidden = verdicts.iter().find(|v| v.id == 20).unwrap();
        assert_eq!(hidden.comm.as_deref(), Some("hidden"));
        assert!(
            hidden.lookup.contains("1 thread of it resolves too: 21"),
            "{hidden:?}"
        );
        assert!(hidden.listing.contains("still not listed"), "{hidden:?}");
        let audit = Audit::new("6.12".into(), "/proc", &scan, verdicts);
        assert_eq!(audit.findings.len(), 3);
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
