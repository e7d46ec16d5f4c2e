//! Each claim against a doctored `/proc`: the live one with one answer
//! changed, as a kernel that behaved differently would give it. Every
//! claim must then fail, with evidence naming what it found.
//!
//! The book's "what a broken claim looks like" comes from here.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use checker::claims::{self, CLAIMS, Context, Outcome};
use checker::procfs::{DT_DIR, Dirent, LiveProc, Op, ProcError, Procfs};
use checker::report::Report;
use checker::sys::{LiveSys, PIDFD_THREAD, Syscalls};
use checker::target::Target;
use nix::errno::Errno;

use crate::support::{Redactor, live_target};

type Answer<T> = Result<T, ProcError>;
type ListHook = Box<dyn Fn(&str, Vec<Dirent>) -> Vec<Dirent> + Sync>;
type ReadHook = Box<dyn Fn(&str, String) -> String + Sync>;
type DirHook = Box<dyn Fn(&str) -> Option<Answer<bool>> + Sync>;
type LinkHook = Box<dyn Fn(&str, PathBuf) -> Answer<PathBuf> + Sync>;
type LinksHook = Box<dyn Fn(&str) -> Option<u64> + Sync>;
type AnswerHook = Box<dyn Fn(&str) -> Option<Answer<String>> + Sync>;

/// The live `/proc` with some answers rewritten.
#[derive(Default)]
struct Doctored {
    list: Option<ListHook>,
    /// Listings from a position other than 0 (after an `lseek`).
    seek: Option<ListHook>,
    read: Option<ReadHook>,
    is_dir: Option<DirHook>,
    link: Option<LinkHook>,
    /// Link counts answered here instead, when it returns `Some`.
    links: Option<LinksHook>,
    /// Reads answered here instead of by the live `/proc`, when it
    /// returns `Some`: files that vanish, or appear.
    answer: Option<AnswerHook>,
    /// Files that exist only here, with their contents.
    files: Vec<(String, String)>,
}

impl Procfs for Doctored {
    fn root(&self) -> &Path {
        Path::new("/proc")
    }

    fn list_from(&self, dir: &str, pos: i64) -> Answer<Vec<Dirent>> {
        let entries = live().list_from(dir, pos)?;
        let hook = if pos == 0 { &self.list } else { &self.seek };
        Ok(match hook {
            Some(hook) => hook(dir, entries),
            None => entries,
        })
    }

    fn read(&self, path: &str) -> Answer<String> {
        if let Some((_, text)) = self.files.iter().find(|(p, _)| p == path) {
            return Ok(text.clone());
        }
        if let Some(answer) = self.answer.as_ref().and_then(|f| f(path)) {
            return answer;
        }
        let text = live().read(path)?;
        Ok(match &self.read {
            Some(hook) => hook(path, text),
            None => text,
        })
    }

    fn is_dir(&self, path: &str) -> Answer<bool> {
        if let Some(answer) = self.is_dir.as_ref().and_then(|hook| hook(path))
        {
            return answer;
        }
        live().is_dir(path)
    }

    fn links(&self, path: &str) -> Answer<u64> {
        match self.links.as_ref().and_then(|hook| hook(path)) {
            Some(links) => Ok(links),
            None => live().links(path),
        }
    }

    fn read_link(&self, path: &str) -> Answer<PathBuf> {
        let target = live().read_link(path)?;
        match &self.link {
            Some(hook) => hook(path, target),
            None => Ok(target),
        }
    }
}

fn live() -> LiveProc {
    LiveProc::new("/proc")
}

/// ENOENT for `path`, as the live layer would report it.
fn enoent(op: Op, path: &str) -> ProcError {
    ProcError::new(
        op,
        Path::new("/proc").join(path),
        io::Error::from_raw_os_error(libc::ENOENT),
    )
}

/// Run claim `id` on `doctored` and require a failure whose report, in
/// every format, reads as Display text; return its evidence.
fn fails(
    id: &str,
    target: &Target,
    doctored: &dyn Procfs,
) -> (String, String) {
    fails_with(id, target, doctored, &LiveSys)
}

/// [`fails`], with the other system calls answered by `sys`.
fn fails_with(
    id: &str,
    target: &Target,
    doctored: &dyn Procfs,
    sys: &dyn Syscalls,
) -> (String, String) {
    let claim = claims::find(id).unwrap();
    // The claim holds on the live kernel...
    let live = live();
    // (`with_audit`: the audit claim runs only when asked.)
    let honest = claim.run(&Context::new(&live, target).with_audit(true));
    assert!(matches!(honest, Outcome::Pass { .. }), "{id}: {honest:?}");
    // ...and fails once /proc answers otherwise.
    let cx = Context::new(doctored, target)
        .with_sys(sys)
        .with_audit(true);
    let report = Report::new(
        checker::cli::kernel_release(),
        "/proc".into(),
        target,
        vec![(claim, claim.run(&cx))],
    );
    crate::support::reads_well(&report);
    match &report.claims[0].outcome {
        Outcome::Fail { expected, found } => (expected.clone(), found.clone()),
        other => panic!("{id} did not fail on a doctored /proc: {other:?}"),
    }
}

/// Doctored-failure tests, each for the claim it names; `DOCTORED`
/// lists those claims.
macro_rules! doctored {
    ($(
        $(#[$attr:meta])*
        fn $test:ident() for $claim:ident $body:block
    )*) => {
        $(
            $(#[$attr])*
            #[test]
            fn $test() {
                #[allow(dead_code)]
                const ID: &str = stringify!($claim);
                $body
            }
        )*
        /// The claims that have a doctored failure here.
        const DOCTORED: &[&str] = &[$(stringify!($claim)),*];
    };
}

/// An entry for `pid` as the kernel would list it.
fn pid_entry(pid: i32) -> Dirent {
    Dirent {
        ino: 1,
        d_off: 258 + i64::from(pid) + 1,
        d_type: DT_DIR,
        name: pid.to_string(),
    }
}

doctored! {
    fn a_listing_that_shows_a_thread_breaks_the_listing_claim()
    for listing_shows_the_tgid_but_no_other_tid {
        let target = live_target(3);
        let tid = target.threads[0].tid;
        let doctored = Doctored {
            list: Some(Box::new(move |dir, mut entries| {
                if dir == "." {
                    entries.push(pid_entry(tid));
                }
                entries
            })),
            ..Doctored::default()
        };
        let (expected, found) = fails(ID, &target, &doctored);
        assert!(expected.contains(&tid.to_string()), "{expected}");
        assert!(found.starts_with(&format!("{tid} listed")), "{found}");

        // What the checker prints then: the snapshot the book shows.
        let claim = claims::find(ID).unwrap();
        let report = checker::cli::check(&doctored, &target, &[claim]);
        assert!(!report.held());
        let text = checker::report::human(&report, None);
        let text = anstream::adapter::strip_str(&text).to_string();
        let redacted =
            Redactor::default().target(&target).with_numbers().redact(&text);
        insta::assert_snapshot!("doctored_listing_fails", redacted);
    }

    /// What the matrix's mutant `readdir-hides-a-comm` does in the
    /// kernel, done to the listing here: every process named like the
    /// audit's bait is left out.
    fn a_listing_that_hides_a_process_breaks_the_audit_claim()
    for audit_finds_no_hidden_process {
        let target = live_target(1);
        let bait = checker::claims::audit_finds_no_hidden_process::BAIT;
        let named_bait = move |pid: i32| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == bait)
        };
        let doctored = Doctored {
            list: Some(Box::new(move |dir, mut entries| {
                if dir == "." {
                    entries.retain(|e| !e.pid().is_some_and(named_bait));
                }
                entries
            })),
            ..Doctored::default()
        };
        let (expected, found) = fails(ID, &target, &doctored);
        assert!(expected.starts_with("no hidden process"), "{expected}");
        // Exactly the bait, with its id and name, and nothing else.
        assert!(found.starts_with("hidden process "), "{found}");
        assert!(found.contains(&format!("({bait})")), "{found}");
        assert!(found.contains("1 thread of it resolves too"), "{found}");
        assert_eq!(found.matches("hidden process").count(), 1, "{found}");
        assert!(!found.contains("orphan thread"), "{found}");
    }

    /// A mount table that leaves out every mount on a process's
    /// directory, as a kernel whose mountinfo did not show them would:
    /// the scan still sees its lookup of the bait end on another mount,
    /// but without the mount that is no finding (a mount gone by the
    /// time the table was read). The bait's thread is then an orphan:
    /// its group's task/ shows the checker's threads.
    #[ignore = "needs root: the claim mounts over /proc/<pid> in a \
                private mount namespace"]
    fn a_mount_table_without_the_mount_breaks_the_mount_claim()
    for audit_finds_a_mount_over_a_process {
        let target = live_target(1);
        let doctored = Doctored {
            read: Some(Box::new(|path, text| {
                if !path.ends_with("/mountinfo") {
                    return text;
                }
                let over_a_pid = |line: &&str| {
                    line.split(' ').nth(4).is_some_and(|point| {
                        point.strip_prefix("/proc/").is_some_and(|rest| {
                            rest.starts_with(|c: char| c.is_ascii_digit())
                        })
                    })
                };
                let kept: Vec<&str> =
                    text.lines().filter(|l| !over_a_pid(l)).collect();
                kept.join("\n") + "\n"
            })),
            ..Doctored::default()
        };
        let (expected, found) = fails(ID, &target, &doctored);
        let bait = checker::claims::audit_finds_a_mount_over_a_process::BAIT;
        assert!(expected.starts_with("exactly one finding: mount "));
        assert!(expected.contains(&format!("({bait})")), "{expected}");
        assert!(!found.contains("mount over process"), "{found}");
        assert!(found.starts_with("orphan thread "), "{found}");
        assert!(found.contains(&format!("({bait})")), "{found}");
    }

    fn a_lookup_that_misses_a_thread_breaks_the_lookup_claim()
    for every_tid_resolves_by_lookup {
        let target = live_target(3);
        let comm = format!("{}/comm", target.threads[1].tid);
        let doctored = Doctored {
            answer: Some(Box::new(move |path| {
                (path == comm).then(|| Err(enoent(Op::Read, path)))
            })),
            ..Doctored::default()
        };
        let (expected, found) = fails(ID, &target, &doctored);
        let path = format!("/proc/{}/comm", target.threads[1].tid);
        assert_eq!(expected, format!("to read {path}"));
        assert_eq!(found, format!("{path}: No such file or directory"));
    }

    #[cfg_attr(pidns_refused_here, ignore = "the claim must hold before \
        its doctored /proc can break it, and this system refuses its \
        pid-namespace probe (tests/build.rs probed it)")]
    fn a_procfs_that_ignores_its_namespace_breaks_the_namespace_claim()
    for lookup_is_relative_to_the_mounts_pid_namespace {
        let target = live_target(3);
        let tid = target.threads[0].tid;
        // As if find_task_by_pid_ns() looked in the reader's namespace:
        // the new namespace's /proc/<TID> shows our thread.
        let doctored = Doctored {
            answer: Some(Box::new(move |path| {
                let suffix = format!("/root/proc/{tid}/stat");
                path.ends_with(&suffix)
                    .then(|| live().read(&format!("{tid}/stat")))
            })),
            ..Doctored::default()
        };
        let (_, found) = fails(ID, &target, &doctored);
        assert!(
            found.contains("a task of the checker's namespace"),
            "{found}"
        );
    }

    fn a_task_dir_whose_link_count_ignores_threads_breaks_the_task_claim()
    for task_dir_lists_the_whole_group_from_any_tid {
        let target = live_target(3);
        let tid = target.threads[1].tid;
        // As if proc_task_getattr() did not add the thread count.
        let doctored = Doctored {
            links: Some(Box::new(move |path| {
                (path == format!("{tid}/task")).then_some(2)
            })),
            ..Doctored::default()
        };
        let (expected, found) = fails(ID, &target, &doctored);
        assert!(expected.contains("with 6 links"), "{expected}");
        assert_eq!(found, "2 links");
    }

    fn a_status_with_the_leaders_view_breaks_the_status_claim()
    for tid_status_is_the_threads_own_view {
        let target = live_target(3);
        let (pid, tid) = (target.pid, target.threads[0].tid);
        let doctored = Doctored {
            read: Some(Box::new(move |path, text| {
                if path == format!("{tid}/status") {
                    text.replace(
                        &format!("Pid:\t{tid}"),
                        &format!("Pid:\t{pid}"),
                    )
                } else {
                    text
                }
            })),
            ..Doctored::default()
        };
        let (_, found) = fails(ID, &target, &doctored);
        assert_eq!(found, format!("Pid: {pid}, Tgid: {pid}"));
    }

    fn a_self_link_to_another_pid_breaks_the_self_claim()
    for self_links_come_before_the_pids {
        let target = live_target(3);
        let doctored = Doctored {
            link: Some(Box::new(|path, link| {
                Ok(if path == "self" { PathBuf::from("1") } else { link })
            })),
            ..Doctored::default()
        };
        let (expected, found) = fails(ID, &target, &doctored);
        let me = std::process::id();
        assert_eq!(expected, format!("/proc/self -> {me}"));
        assert_eq!(found, "/proc/self -> 1");
    }

    fn a_listing_with_a_thread_position_breaks_the_offset_claim()
    for listing_positions_follow_tgid_arithmetic {
        let target = live_target(3);
        let doctored = Doctored {
            list: Some(Box::new(|dir, mut entries| {
                // As if the kernel stored positions one past the tgid.
                if dir == "." {
                    for entry in entries.iter_mut().filter(|e| e.d_off > 258)
                    {
                        entry.d_off += 1;
                    }
                }
                entries
            })),
            ..Doctored::default()
        };
        let (_, found) = fails(ID, &target, &doctored);
        assert!(
            found.starts_with("the entry before it has d_off"),
            "{found}"
        );
    }

    fn a_lax_name_parser_breaks_the_strict_names_claim()
    for pid_names_are_parsed_strictly {
        let target = live_target(3);
        let tid = target.threads[0].tid;
        let doctored = Doctored {
            is_dir: Some(Box::new(move |path| {
                // As if name_to_int() skipped leading zeros.
                (path == format!("0{tid}")).then_some(Ok(true))
            })),
            ..Doctored::default()
        };
        let (expected, found) = fails(ID, &target, &doctored);
        assert_eq!(expected, format!("/proc/0{tid}: ENOENT"));
        assert_eq!(found, format!("/proc/0{tid} resolves"));
    }

    fn an_exited_thread_that_resolves_breaks_the_exit_claim()
    for exited_thread_no_longer_resolves {
        let target = live_target(3);
        let (pid, exited) = (target.pid, target.exited[0]);
        // As if the kernel kept the exited thread in its group's pid
        // table.
        let doctored = Doctored {
            is_dir: Some(Box::new(move |path| {
                (path == exited.to_string()).then_some(Ok(true))
            })),
            files: vec![(
                format!("{exited}/status"),
                format!("Tgid:\t{pid}\nPid:\t{exited}\n"),
            )],
            ..Doctored::default()
        };
        let (_, found) = fails(ID, &target, &doctored);
        assert!(found.starts_with("it still resolves"), "{found}");
    }

    fn a_tid_comm_showing_the_leaders_name_breaks_the_comm_claim()
    for tid_comm_is_the_threads_own_name {
        let target = live_target(3);
        let tid = target.threads[0].tid;
        let doctored = Doctored {
            read: Some(Box::new(move |path, text| {
                if path == format!("{tid}/comm") {
                    "demo-spawner\n".to_string()
                } else {
                    text
                }
            })),
            ..Doctored::default()
        };
        let (_, found) = fails(ID, &target, &doctored);
        assert_eq!(found, "\"demo-spawner\"");
    }

    fn a_tid_stat_with_its_own_times_breaks_the_stat_claim()
    for tid_stat_sums_cpu_over_the_group {
        let target = live_target(3);
        let pid = target.pid;
        let doctored = Doctored {
            // What proc(5) promises: /proc/<TID>/stat the same as
            // /proc/<TGID>/task/<TID>/stat.
            read: Some(Box::new(move |path, text| {
                let Some(tid) = path.strip_suffix("/stat") else {
                    return text;
                };
                if tid.contains('/') || tid == pid.to_string() {
                    return text;
                }
                live()
                    .read(&format!("{pid}/task/{tid}/stat"))
                    .unwrap_or(text)
            })),
            ..Doctored::default()
        };
        let (expected, _) = fails(ID, &target, &doctored);
        assert!(expected.contains("to include busy thread"), "{expected}");
    }

    fn a_tid_dir_without_task_breaks_the_tid_dir_claim()
    for tid_dir_is_a_process_dir_not_its_task_dir {
        let target = live_target(3);
        let tid = target.threads[0].tid;
        // As if /proc/<TID> were built from tid_base_stuff, as the man
        // page's "the same" would have it.
        let doctored = Doctored {
            list: Some(Box::new(move |dir, entries| match dir {
                d if d == tid.to_string() => {
                    entries.into_iter().filter(|e| e.name != "task").collect()
                }
                _ => entries,
            })),
            ..Doctored::default()
        };
        let (expected, found) = fails(ID, &target, &doctored);
        assert!(expected.contains(&format!("/proc/{tid} with the entries")));
        assert_eq!(found, "they differ in task");
    }

    fn a_thread_with_its_own_cwd_breaks_the_shared_attributes_claim()
    for shared_attributes_read_the_same_from_every_thread {
        let target = live_target(3);
        let (pid, tid) = (target.pid, target.threads[1].tid);
        let doctored = Doctored {
            link: Some(Box::new(move |path, link| {
                Ok(match path == format!("{pid}/task/{tid}/cwd") {
                    true => PathBuf::from("/elsewhere"),
                    false => link,
                })
            })),
            ..Doctored::default()
        };
        let (_, found) = fails(ID, &target, &doctored);
        assert_eq!(found, format!("/proc/{pid}/task/{tid}/cwd -> /elsewhere"));
    }

    fn a_task_dir_gone_with_its_leader_breaks_the_exited_leader_claim()
    for task_dir_outlives_an_exited_leader {
        let target = live_target(1);
        // What proc_pid_task(5) says of Linux 2.6.13: once the leader
        // has exited, task/ shows nothing.
        let doctored = Doctored {
            list: Some(Box::new(|dir, entries| match dir.ends_with("/task") {
                true => {
                    entries.into_iter().filter(|e| e.pid().is_none()).collect()
                }
                false => entries,
            })),
            ..Doctored::default()
        };
        let (_, found) = fails(ID, &target, &doctored);
        assert_eq!(found, "it lists nothing");
    }

    fn a_tgkill_that_ignores_the_group_breaks_the_signal_claim()
    for kill_finds_a_process_by_any_of_its_tids {
        let target = live_target(1);
        // As if do_send_specific() did not compare the thread's tgid.
        let sys = Sys {
            tgkill0: Some(Box::new(|_, _| Ok(()))),
            ..Sys::default()
        };
        let (_, found) = fails_with(ID, &target, &live(), &sys);
        assert_eq!(found, "it succeeded; it succeeded");
    }

    fn a_pidfd_for_any_tid_breaks_the_pidfd_claim()
    for pidfd_open_refuses_a_thread_id {
        let target = live_target(1);
        // As if pidfd_prepare() asked for PIDTYPE_PID without the flag.
        let sys = Sys {
            pidfd_open: Some(Box::new(|pid, _| {
                LiveSys.pidfd_open(pid, PIDFD_THREAD)
            })),
            ..Sys::default()
        };
        let (expected, found) = fails_with(ID, &target, &live(), &sys);
        assert!(expected.ends_with("leads no group"), "{expected}");
        assert!(found.starts_with("it opened a pidfd for thread"), "{found}");
    }

    fn a_pidfd_thread_that_refuses_threads_breaks_the_pidfd_thread_claim()
    for pidfd_thread_opens_a_thread {
        let target = live_target(1);
        // As if PIDFD_THREAD were accepted but checked PIDTYPE_TGID.
        let sys = Sys {
            pidfd_open: Some(Box::new(|pid, _| LiveSys.pidfd_open(pid, 0))),
            ..Sys::default()
        };
        let (_, found) = fails_with(ID, &target, &live(), &sys);
        let refused = ["EINVAL", "ENOENT"];
        assert!(refused.iter().any(|e| found.starts_with(e)), "{found}");
    }

    fn an_old_tid_that_still_resolves_breaks_the_exec_claim()
    for exec_from_a_thread_takes_the_tgid {
        let target = live_target(1);
        // As if de_thread() left the exec'ing thread's old id attached.
        let doctored = Doctored {
            is_dir: Some(Box::new(|path| {
                let number = path.parse::<i32>().is_ok();
                number.then_some(Ok(true))
            })),
            ..Doctored::default()
        };
        let (_, found) = fails(ID, &target, &doctored);
        let late = "still resolve 1000 ms after the exec";
        assert!(found.ends_with(late), "{found}");
    }
}

#[test]
fn self_listed_after_the_pids_breaks_the_self_claim() {
    let target = live_target(3);
    let doctored = Doctored {
        list: Some(Box::new(|dir, mut entries| {
            if dir == "." {
                let at = entries.iter().position(|e| e.name == "self");
                if let Some(at) = at {
                    let entry = entries.remove(at);
                    entries.push(entry);
                }
            }
            entries
        })),
        ..Doctored::default()
    };
    let (expected, _) =
        fails("self_links_come_before_the_pids", &target, &doctored);
    assert_eq!(expected, "self, then thread-self, then the first pid");
}

#[test]
fn a_thread_self_link_to_the_leader_breaks_the_self_claim() {
    let target = live_target(3);
    let doctored = Doctored {
        link: Some(Box::new(|path, link| {
            Ok(if path == "thread-self" {
                let text = link.to_string_lossy().into_owned();
                let pid = text.split('/').next().unwrap_or("").to_string();
                PathBuf::from(format!("{pid}/task/{pid}"))
            } else {
                link
            })
        })),
        ..Doctored::default()
    };
    fails("self_links_come_before_the_pids", &target, &doctored);
}

#[test]
fn every_claim_has_a_doctored_failure() {
    // The tracing claims read stacks, not `/proc`: their doctored
    // failures feed altered captures to their verdicts, in `trace.rs`.
    for claim in CLAIMS.iter().filter(|claim| !claim.traces()) {
        assert!(
            DOCTORED.contains(&claim.id),
            "claim {} has no doctored failure in tests/claims_doctored.rs",
            claim.id
        );
    }
}

/// A procfs mounted with `hidepid=invisible`, on which process `pid`
/// is hidden, as a reader who may not see it gets it.
fn hiding(pid: i32) -> Doctored {
    let mountinfo = "22 1 0:21 / /proc rw - proc proc rw,hidepid=invisible";
    Doctored {
        answer: Some(Box::new(move |path| {
            let hidden = path.starts_with(&format!("{pid}/"));
            hidden.then(|| Err(enoent(Op::Read, path)))
        })),
        files: vec![("self/mountinfo".into(), format!("{mountinfo}\n"))],
        ..Doctored::default()
    }
}

#[test]
fn every_skip_reads_as_text_for_people() {
    use crate::support::{helpers, reads_well};
    let live = live();
    let mut reports = Vec::new();
    // A target with one thread, idle: the claims that need a second
    // thread, a named one, an exited one or a busy one skip, and so do
    // the tracing claims, without --trace and (here) with it.
    let single = checker::children::short_lived(&helpers(), 1).unwrap();
    let one = Target::existing(helpers(), &live, single.ready.pid).unwrap();
    reports.push(checker::cli::check(&live, &one, CLAIMS));
    reports.push(checker::cli::check_with(&live, &one, CLAIMS, true));
    let sleepy = Command::new("sleep").arg("30").spawn().unwrap();
    let sleeper = sleepy.id() as i32;
    let alone = Target::existing(helpers(), &live, sleeper).unwrap();
    reports.push(checker::cli::check(&live, &alone, CLAIMS));
    // A target the procfs hides: every claim skips.
    let hides = hiding(single.ready.pid);
    let hidden =
        Target::existing(helpers(), &hides, single.ready.pid).unwrap();
    reports.push(checker::cli::check(&hides, &hidden, CLAIMS));
    let mut sleepy = sleepy;
    let _ = sleepy.kill();
    let _ = sleepy.wait();
    let mut skips = 0;
    for report in &reports {
        reads_well(report);
        skips += report.summary.skip + report.summary.not_run;
    }
    // Every claim the hidden target was asked for skips; the others
    // were not asked for.
    let hidden = reports[3].summary;
    assert_eq!(hidden.skip + hidden.not_run, CLAIMS.len());
    assert_eq!(hidden.pass + hidden.fail, 0);
    assert!(skips >= 2 * CLAIMS.len(), "{skips} skips");
}

type Kill0 = Box<dyn Fn(i32) -> Result<(), Errno> + Sync>;
type Tgkill0 = Box<dyn Fn(i32, i32) -> Result<(), Errno> + Sync>;
type PidfdOpen =
    Box<dyn Fn(i32, u32) -> Result<std::os::fd::OwnedFd, Errno> + Sync>;

/// The live kernel's other system calls, some answered otherwise.
#[derive(Default)]
struct Sys {
    kill0: Option<Kill0>,
    tgkill0: Option<Tgkill0>,
    pidfd_open: Option<PidfdOpen>,
}

impl Syscalls for Sys {
    fn kill0(&self, pid: i32) -> Result<(), Errno> {
        self.kill0
            .as_ref()
            .map_or_else(|| LiveSys.kill0(pid), |f| f(pid))
    }
    fn tgkill0(&self, tgid: i32, tid: i32) -> Result<(), Errno> {
        match &self.tgkill0 {
            Some(hook) => hook(tgid, tid),
            None => LiveSys.tgkill0(tgid, tid),
        }
    }
    fn pidfd_open(
        &self,
        pid: i32,
        flags: u32,
    ) -> Result<std::os::fd::OwnedFd, Errno> {
        match &self.pidfd_open {
            Some(hook) => hook(pid, flags),
            None => LiveSys.pidfd_open(pid, flags),
        }
    }
}

/// The report `checker audit` gives on a kernel that hides a process
/// from the listing, as the matrix's mutant `readdir-hides-a-comm`
/// does, here done to the listing in userspace: exactly the bait, with
/// its id, its name and its thread. Book: the hidden-processes chapter.
#[test]
fn the_audit_report_names_the_hidden_process_and_its_thread() {
    use checker::audit;
    use checker::claims::audit_finds_no_hidden_process::BAIT;

    let bait = checker::children::short_lived_with(
        &crate::support::helpers(),
        1,
        &["--comm", BAIT],
    )
    .unwrap();
    let pid = bait.pid();
    let doctored = Doctored {
        list: Some(Box::new(move |dir, mut entries| {
            if dir == "." {
                entries.retain(|e| e.pid() != Some(pid));
            }
            entries
        })),
        ..Doctored::default()
    };
    let pid_max = audit::pid_max(&doctored).unwrap();
    let scan = audit::scan(&doctored, Path::new("/proc"), pid_max, 2, &|_| {})
        .unwrap();
    let verdicts = audit::classify(&doctored, &scan, audit::SETTLE).unwrap();
    let report = audit::Audit::new(
        checker::cli::kernel_release(),
        "/proc",
        &scan,
        verdicts,
    );
    assert_eq!(report.findings.len(), 1, "{}", audit::json(&report));
    crate::support::fits_schema(
        "checker/audit.schema.json",
        &audit::json(&report),
    );
    // The counts differ from run to run, the transient ones most: every
    // number of their paragraph is redacted. The report is wrapped at 76
    // columns only after that, so that a count of another width (99
    // pids or 100) cannot move a line break.
    let text = audit::human(&report, None);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    assert!(lines[1].starts_with("ids 1 to "), "{text}");
    for line in lines.iter_mut().skip(1).take_while(|l| !l.is_empty()) {
        let mut words: Vec<&str> = line.split(' ').collect();
        for word in &mut words {
            if word.starts_with(|c: char| c.is_ascii_digit()) {
                *word = "[N]";
            }
        }
        *line = words.join(" ");
    }
    let tid = bait.ready.threads[0].tid;
    let whole = Redactor::default()
        .name(pid, "PID")
        .name(tid, "TID1")
        .keep(audit::SETTLE.as_millis())
        .with_numbers()
        .redact(&(lines.join("\n") + "\n"));
    let redacted = crate::support::rewrapped(&whole, 76);
    insta::assert_snapshot!("audit_report_of_a_hidden_process", redacted);
}

// What the claims tolerate, and what still breaks them. Other processes
// start, exit and exec between any two reads a claim makes, and a reader
// may be refused another user's files: neither is the kernel's fault.
// Each test below doctors /proc the way churn or a refusal would, once,
// and the claim must hold (or skip); the same answer given on every
// read is a real contradiction, and the claim must still fail.

/// Run claim `id` on `doctored` and return its outcome.
fn outcome(id: &str, target: &Target, doctored: &dyn Procfs) -> Outcome {
    let claim = claims::find(id).unwrap();
    claim.run(&Context::new(doctored, target))
}

/// An id above `above` that names no task now: what a seek finds when
/// the process it landed on exited before it could be asked.
fn vanished_id_above(above: i32) -> i32 {
    (above + 1..i32::MAX)
        .find(|id| !Path::new(&format!("/proc/{id}")).exists())
        .unwrap()
}

/// The first entry a seek into the root finds, replaced by `first`.
fn seek_landing_on(first: i32) -> ListHook {
    Box::new(move |dir, mut entries| {
        if dir == "." {
            entries.insert(0, pid_entry(first));
        }
        entries
    })
}

#[test]
fn a_seek_that_lands_on_a_process_gone_at_once_is_no_failure() {
    let id = "listing_positions_follow_tgid_arithmetic";
    let target = live_target(3);
    let gone = vanished_id_above(target.threads[2].tid);
    let doctored = Doctored {
        seek: Some(seek_landing_on(gone)),
        ..Doctored::default()
    };
    match outcome(id, &target, &doctored) {
        Outcome::Pass { observed } => {
            assert!(
                observed.contains("exited before it could be"),
                "{observed}"
            )
        }
        other => panic!("{id} failed on churn: {other:?}"),
    }
}

#[test]
fn a_seek_that_lands_on_the_thread_every_time_still_fails() {
    let target = live_target(3);
    let tid = target.threads[0].tid;
    // What next_tgid() would give if it kept threads (the matrix's
    // mutant next-tgid-keeps-threads), on every seek and every listing.
    let doctored = Doctored {
        seek: Some(seek_landing_on(tid)),
        ..Doctored::default()
    };
    let id = "listing_positions_follow_tgid_arithmetic";
    let (expected, found) = fails(id, &target, &doctored);
    assert!(expected.contains("the first thread-group id above"));
    assert!(found.starts_with(&format!("{tid} (d_off")), "{found}");
}

#[test]
fn a_listing_spoiled_once_by_churn_is_read_again() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let target = live_target(3);
    // The d_off arithmetic broken in the first listing only, as a
    // process that exits between two getdents64 calls leaves it.
    let listings = AtomicUsize::new(0);
    let doctored = Doctored {
        list: Some(Box::new(move |dir, mut entries| {
            if dir == "." && listings.fetch_add(1, Ordering::SeqCst) == 0 {
                for entry in entries.iter_mut().filter(|e| e.d_off > 258) {
                    entry.d_off += 1;
                }
            }
            entries
        })),
        ..Doctored::default()
    };
    let id = "listing_positions_follow_tgid_arithmetic";
    let outcome = outcome(id, &target, &doctored);
    assert!(matches!(outcome, Outcome::Pass { .. }), "{outcome:?}");
    // Spoiled on every listing, it fails:
    // a_listing_with_a_thread_position_breaks_the_offset_claim.
}

#[test]
fn a_tid_listed_after_its_thread_exited_and_the_number_was_reused_passes() {
    use crate::support::helpers;
    let demo = checker::children::short_lived(&helpers(), 3).unwrap();
    let pid = demo.pid();
    let target = Target::existing(helpers(), &live(), pid).unwrap();
    let tid = target.threads[1].tid;
    let listed = move |dir: &str, mut entries: Vec<Dirent>| {
        if dir == "." {
            entries.push(pid_entry(tid));
        }
        entries
    };
    // The thread exited, and a new process got its number: listed, but
    // no longer in its group's task/.
    let reused = Doctored {
        list: Some(Box::new(listed)),
        answer: Some(Box::new(move |path| {
            (path == format!("{pid}/task/{tid}/stat"))
                .then(|| Err(enoent(Op::Read, path)))
        })),
        ..Doctored::default()
    };
    let id = "listing_shows_the_tgid_but_no_other_tid";
    let outcome = outcome(id, &target, &reused);
    assert!(matches!(outcome, Outcome::Pass { .. }), "{outcome:?}");
    // The thread still in its group, and listed: the claim fails.
    let still = Doctored {
        list: Some(Box::new(listed)),
        ..Doctored::default()
    };
    let (_, found) = fails(id, &target, &still);
    assert!(found.starts_with(&format!("{tid} listed")), "{found}");
}

#[test]
fn a_process_that_moved_between_two_reads_keeps_the_attributes_claim() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let target = live_target(3);
    let pid = target.pid;
    // The process's cwd read first, before a chdir; every later read
    // (its threads', and the process's again) after it.
    let first = AtomicBool::new(true);
    let doctored = Doctored {
        link: Some(Box::new(move |path, link| {
            let moved = path == format!("{pid}/cwd")
                && first.swap(false, Ordering::SeqCst);
            Ok(if moved {
                PathBuf::from("/before")
            } else {
                link
            })
        })),
        ..Doctored::default()
    };
    let id = "shared_attributes_read_the_same_from_every_thread";
    let outcome = outcome(id, &target, &doctored);
    assert!(matches!(outcome, Outcome::Pass { .. }), "{outcome:?}");
    // A thread whose cwd differs on every read still fails it:
    // a_thread_with_its_own_cwd_breaks_the_shared_attributes_claim.
}

#[test]
fn a_link_withheld_from_the_reader_is_a_skip_naming_it() {
    let target = live_target(3);
    let pid = target.pid;
    let doctored = Doctored {
        link: Some(Box::new(move |path, link| {
            if path == format!("{pid}/cwd") {
                let denied = io::Error::from_raw_os_error(libc::EACCES);
                return Err(ProcError::new(
                    Op::ReadLink,
                    Path::new("/proc").join(path),
                    denied,
                ));
            }
            Ok(link)
        })),
        ..Doctored::default()
    };
    let id = "shared_attributes_read_the_same_from_every_thread";
    match outcome(id, &target, &doctored) {
        Outcome::Skip { reason } => {
            assert!(reason.contains(&format!("/proc/{pid}/cwd")), "{reason}");
            assert!(reason.contains("Permission denied"), "{reason}");
            assert!(reason.contains("as its owner or as root"), "{reason}");
        }
        other => panic!("{id}: {other:?}"),
    }
}

#[test]
fn an_old_tid_given_to_another_process_since_is_no_failure() {
    let target = live_target(1);
    // Every id resolves; those that name no task now answer as a task of
    // process 1, as a number reused by another process does.
    let doctored = Doctored {
        is_dir: Some(Box::new(|path| {
            path.parse::<i32>().is_ok().then_some(Ok(true))
        })),
        answer: Some(Box::new(|path| {
            let id = path.strip_suffix("/status")?.parse::<i32>().ok()?;
            let live = live().read(path);
            let gone = live.as_ref().is_err_and(ProcError::is_enoent);
            gone.then(|| Ok(format!("Tgid:\t1\nPid:\t{id}\n")))
        })),
        ..Doctored::default()
    };
    let id = "exec_from_a_thread_takes_the_tgid";
    let outcome = outcome(id, &target, &doctored);
    assert!(matches!(outcome, Outcome::Pass { .. }), "{outcome:?}");
    // Resolving in its own group still fails it:
    // an_old_tid_that_still_resolves_breaks_the_exec_claim.
}

#[test]
fn a_thread_that_renames_itself_between_two_reads_keeps_the_comm_claim() {
    use crate::support::helpers;
    use std::sync::atomic::{AtomicBool, Ordering};
    let named = ["--name", "tid-demo"];
    let demo = checker::children::short_lived_with(&helpers(), 2, &named);
    let demo = demo.unwrap();
    let pid = demo.pid();
    let target = Target::existing(helpers(), &live(), pid).unwrap();
    let tid = target.threads[0].tid;
    // Its name under task/ read once before a pthread_setname_np(), and
    // after it from then on.
    let first = AtomicBool::new(true);
    let doctored = Doctored {
        read: Some(Box::new(move |path, text| {
            let before = path == format!("{pid}/task/{tid}/comm")
                && first.swap(false, Ordering::SeqCst);
            if before {
                "old-name\n".to_string()
            } else {
                text
            }
        })),
        ..Doctored::default()
    };
    let id = "tid_comm_is_the_threads_own_name";
    let outcome = outcome(id, &target, &doctored);
    assert!(matches!(outcome, Outcome::Pass { .. }), "{outcome:?}");
    // A name that differs on every read still fails it:
    // a_tid_comm_showing_the_leaders_name_breaks_the_comm_claim.
}
