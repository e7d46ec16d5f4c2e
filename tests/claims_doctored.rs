//! Each claim against a doctored `/proc`: the live one with one answer
//! changed, as a kernel that behaved differently would give it. Every
//! claim must then fail, with evidence naming what it found.
//!
//! One table, [`doctored!`], holds a row per doctoring (a
//! `checker::doctored::Doctored`) with the outcome it must give: the
//! failures, one or more per claim, and what the claims tolerate (churn,
//! a refused read), each next to the contradiction that still breaks it.
//!
//! The book's "what a broken claim looks like" comes from here.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use checker::claims::{self, CLAIMS, Context, Outcome};
use checker::doctored::{Doctored, pid_entry};
use checker::procfs::{Dirent, ProcError, Procfs};
use checker::report::Report;
use checker::sys::{LiveSys, PIDFD_THREAD, Syscalls};
use checker::target::Target;

use crate::support::{Redactor, helpers, live_target, proc};

/// A doctored kernel, and what a claim's outcome on it must say.
struct Row {
    kernel: Doctored,
    /// Checks of a failure's `expected`.
    expected: Vec<Text>,
    /// Checks of what the claim found: a failure's evidence, a pass's
    /// observation, a skip's reason.
    found: Vec<Text>,
}

fn doctor(kernel: Doctored) -> Row {
    Row {
        kernel,
        expected: Vec::new(),
        found: Vec::new(),
    }
}

impl Row {
    fn expected(mut self, text: Text) -> Row {
        self.expected.push(text);
        self
    }

    fn found(mut self, text: Text) -> Row {
        self.found.push(text);
        self
    }
}

/// What a text of an outcome must be.
#[derive(Debug)]
enum Text {
    Is(String),
    Starts(String),
    Ends(String),
    Has(String),
    Lacks(String),
    Once(String),
    Either(Box<Text>, Box<Text>),
}

/// `is(text)` for `Text::Is(text.to_string())`, and so on.
macro_rules! checks {
    ($($name:ident: $variant:ident),*) => {$(
        fn $name(text: impl ToString) -> Text {
            Text::$variant(text.to_string())
        }
    )*};
}

checks!(
    is: Is, starts: Starts, ends: Ends, has: Has, lacks: Lacks, once: Once
);

fn either(one: Text, other: Text) -> Text {
    Text::Either(Box::new(one), Box::new(other))
}

impl Text {
    fn holds(&self, text: &str) -> bool {
        match self {
            Text::Is(it) => text == it,
            Text::Starts(it) => text.starts_with(it.as_str()),
            Text::Ends(it) => text.ends_with(it.as_str()),
            Text::Has(it) => text.contains(it.as_str()),
            Text::Lacks(it) => !text.contains(it.as_str()),
            Text::Once(it) => text.matches(it.as_str()).count() == 1,
            Text::Either(one, other) => one.holds(text) || other.holds(text),
        }
    }
}

fn check(what: &str, text: &str, checks: &[Text]) {
    for check in checks {
        assert!(check.holds(text), "{what} {text:?}: not {check:?}");
    }
}

/// Claim `id` holds on the live kernel and fails on `row`'s, with a
/// report that reads as Display text in every format, and the evidence
/// the row names.
fn breaks(id: &str, target: &Target, row: Row) {
    let claim = claims::find(id).unwrap();
    // (`with_audit`: the audit claim runs only when asked.)
    let honest = claim.run(&Context::new(&proc(), target).with_audit(true));
    assert!(matches!(honest, Outcome::Pass { .. }), "{id}: {honest:?}");
    let kernel = &row.kernel;
    let cx = Context::new(kernel, target)
        .with_sys(kernel)
        .with_audit(true);
    let report = Report::new(
        checker::cli::kernel_release(),
        "/proc".into(),
        target,
        vec![(claim, claim.run(&cx))],
    );
    crate::support::reads_well(&report);
    match &report.claims[0].outcome {
        Outcome::Fail { expected, found } => {
            check("expected", expected, &row.expected);
            check("found", found, &row.found);
        }
        other => panic!("{id} did not fail on a doctored /proc: {other:?}"),
    }
}

/// Claim `id` holds on `row`'s kernel, observing what the row names.
fn spares(id: &str, target: &Target, row: Row) {
    let claim = claims::find(id).unwrap();
    match claim.run(&Context::new(&row.kernel, target)) {
        Outcome::Pass { observed } => check("observed", &observed, &row.found),
        other => panic!("{id} failed on churn: {other:?}"),
    }
}

/// Claim `id` skips on `row`'s kernel, for the reason the row names.
fn skips(id: &str, target: &Target, row: Row) {
    let claim = claims::find(id).unwrap();
    match claim.run(&Context::new(&row.kernel, target)) {
        Outcome::Skip { reason } => check("reason", &reason, &row.found),
        other => panic!("{id}: {other:?}"),
    }
}

/// One test per row of (doctoring, expected outcome):
///
/// `test: verdict claim on target => |target| row;`
///
/// runs `claim` on `target` and the row's doctored kernel, and requires
/// the verdict: [`breaks`], [`spares`] or [`skips`].
macro_rules! doctored {
    ($(
        $(#[$attr:meta])*
        $test:ident: $verdict:ident $claim:ident on $target:expr =>
            |$t:pat_param| $row:expr;
    )*) => {
        $(
            $(#[$attr])*
            #[test]
            fn $test() {
                let target = $target;
                let $t: &Target = &target;
                $verdict(stringify!($claim), &target, $row);
            }
        )*
        /// Every row's verdict and claim.
        const ROWS: &[(&str, &str)] =
            &[$((stringify!($verdict), stringify!($claim))),*];
    };
}

/// The live `/proc`, whose root lists `tid` as if it named a process.
fn showing(tid: i32) -> Doctored {
    Doctored::live().list(move |dir, entries| {
        if dir == "." {
            entries.push(pid_entry(tid));
        }
    })
}

/// Every position of a root listing one past the tgid's.
fn one_past(entries: &mut [Dirent]) {
    for entry in entries.iter_mut().filter(|e| e.d_off > 258) {
        entry.d_off += 1;
    }
}

/// Every number resolves, as a directory.
fn every_number(
    path: &str,
    answer: Result<bool, ProcError>,
) -> Result<bool, ProcError> {
    match path.parse::<i32>() {
        Ok(_) => Ok(true),
        Err(_) => answer,
    }
}

/// An id above `above` that names no task now: what a seek finds when
/// the process it landed on exited before it could be asked.
fn vanished_id_above(above: i32) -> i32 {
    (above + 1..i32::MAX)
        .find(|id| !Path::new(&format!("/proc/{id}")).exists())
        .unwrap()
}

/// A seek into the root that lands on `first`.
fn landing_on(first: i32) -> impl Fn(&str, &mut Vec<Dirent>) + Sync {
    move |dir, entries| {
        if dir == "." {
            entries.insert(0, pid_entry(first));
        }
    }
}

doctored! {
    a_listing_that_shows_a_thread_breaks_the_listing_claim:
    breaks listing_shows_the_tgid_but_no_other_tid on live_target(3) => |t| {
        let tid = t.threads[0];
        doctor(showing(tid))
            .expected(has(tid))
            .found(starts(format!("{tid} listed")))
    };

    /// What the matrix's mutant `readdir-hides-a-comm` does in the
    /// kernel, done to the listing here: every process named like the
    /// audit's bait is left out.
    a_listing_that_hides_a_process_breaks_the_audit_claim:
    breaks audit_finds_no_hidden_process on live_target(1) => |_| {
        let bait = claims::audit_finds_no_hidden_process::BAIT;
        let named_bait = move |pid: i32| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == bait)
        };
        let kernel = Doctored::live().list(move |dir, entries| {
            if dir == "." {
                entries.retain(|e| !e.pid().is_some_and(named_bait));
            }
        });
        // Exactly the bait, with its id and name, and nothing else.
        doctor(kernel)
            .expected(starts("no hidden process"))
            .found(starts("hidden process "))
            .found(has(format!("({bait})")))
            .found(has("1 thread of it resolves too"))
            .found(once("hidden process"))
            .found(lacks("orphan thread"))
    };

    /// A mount table that leaves out every mount on a process's
    /// directory, as a kernel whose mountinfo did not show them would:
    /// the scan still sees its lookup of the bait end on another mount,
    /// but without the mount that is no finding (a mount gone by the
    /// time the table was read). The bait's thread is then an orphan:
    /// its group's task/ shows the checker's threads.
    #[ignore = "needs root: the claim mounts over /proc/<pid> in a \
                private mount namespace"]
    a_mount_table_without_the_mount_breaks_the_mount_claim:
    breaks audit_finds_a_mount_over_a_process on live_target(1) => |_| {
        let over_a_pid = |line: &&str| {
            line.split(' ').nth(4).is_some_and(|point| {
                point.strip_prefix("/proc/").is_some_and(|rest| {
                    rest.starts_with(|c: char| c.is_ascii_digit())
                })
            })
        };
        let kernel = Doctored::live().read(move |path, text| {
            if !path.ends_with("/mountinfo") {
                return text;
            }
            text.map(|text| {
                let kept: Vec<&str> =
                    text.lines().filter(|l| !over_a_pid(l)).collect();
                kept.join("\n") + "\n"
            })
        });
        let bait = claims::audit_finds_a_mount_over_a_process::BAIT;
        doctor(kernel)
            .expected(starts("exactly one finding: mount "))
            .expected(has(format!("({bait})")))
            .found(lacks("mount over process"))
            .found(starts("orphan thread "))
            .found(has(format!("({bait})")))
    };

    a_lookup_that_misses_a_thread_breaks_the_lookup_claim:
    breaks every_tid_resolves_by_lookup on live_target(3) => |t| {
        let comm = format!("{}/comm", t.threads[1]);
        doctor(Doctored::live().error(&comm, libc::ENOENT))
            .expected(is(format!("to read /proc/{comm}")))
            .found(is(format!("/proc/{comm}: No such file or directory")))
    };

    #[cfg_attr(pidns_refused_here, ignore = "the claim must hold before \
        its doctored /proc can break it, and this system refuses its \
        pid-namespace probe (tests/build.rs probed it)")]
    a_procfs_that_ignores_its_namespace_breaks_the_namespace_claim:
    breaks lookup_is_relative_to_the_mounts_pid_namespace
    on live_target(3) => |t| {
        let tid = t.threads[0];
        // As if find_task_by_pid_ns() looked in the reader's namespace:
        // the new namespace's /proc/<TID> shows our thread.
        let theirs = format!("/root/proc/{tid}/stat");
        let kernel = Doctored::live().read(move |path, text| {
            match path.ends_with(&theirs) {
                true => proc().read(&format!("{tid}/stat")),
                false => text,
            }
        });
        doctor(kernel).found(has("a task of the checker's namespace"))
    };

    a_task_dir_whose_link_count_ignores_threads_breaks_the_task_claim:
    breaks task_dir_lists_the_whole_group_from_any_tid
    on live_target(3) => |t| {
        // As if proc_task_getattr() did not add the thread count.
        let task = format!("{}/task", t.threads[1]);
        doctor(Doctored::live().links(task, 2))
            .expected(has("with 6 links"))
            .found(is("2 links"))
    };

    a_status_with_the_leaders_view_breaks_the_status_claim:
    breaks tid_status_is_the_threads_own_view on live_target(3) => |t| {
        let (pid, tid) = (t.pid, t.threads[0]);
        let (own, leaders) = (format!("Pid:\t{tid}"), format!("Pid:\t{pid}"));
        let kernel = Doctored::live()
            .edit(format!("{tid}/status"), move |text| {
                text.replace(&own, &leaders)
            });
        doctor(kernel).found(is(format!("Pid: {pid}, Tgid: {pid}")))
    };

    a_self_link_to_another_pid_breaks_the_self_claim:
    breaks self_links_come_before_the_pids on live_target(3) => |_| {
        let me = std::process::id();
        doctor(Doctored::live().link("self", "1"))
            .expected(is(format!("/proc/self -> {me}")))
            .found(is("/proc/self -> 1"))
    };

    self_listed_after_the_pids_breaks_the_self_claim:
    breaks self_links_come_before_the_pids on live_target(3) => |_| {
        let kernel = Doctored::live().list(|dir, entries| {
            let at = entries.iter().position(|e| e.name == "self");
            if let (".", Some(at)) = (dir, at) {
                let entry = entries.remove(at);
                entries.push(entry);
            }
        });
        doctor(kernel)
            .expected(is("self, then thread-self, then the first pid"))
    };

    a_thread_self_link_to_the_leader_breaks_the_self_claim:
    breaks self_links_come_before_the_pids on live_target(3) => |_| {
        doctor(Doctored::live().read_link(|path, link| {
            if path != "thread-self" {
                return link;
            }
            let link = link?.to_string_lossy().into_owned();
            let pid = link.split('/').next().unwrap_or("");
            Ok(PathBuf::from(format!("{pid}/task/{pid}")))
        }))
    };

    a_listing_with_a_thread_position_breaks_the_offset_claim:
    breaks listing_positions_follow_tgid_arithmetic on live_target(3) => |_| {
        // As if the kernel stored positions one past the tgid.
        let kernel = Doctored::live().list(|dir, entries| {
            if dir == "." {
                one_past(entries);
            }
        });
        doctor(kernel).found(starts("the entry before it has d_off"))
    };

    a_lax_name_parser_breaks_the_strict_names_claim:
    breaks pid_names_are_parsed_strictly on live_target(3) => |t| {
        let tid = t.threads[0];
        // As if name_to_int() skipped leading zeros.
        doctor(Doctored::live().dir(format!("0{tid}")))
            .expected(is(format!("/proc/0{tid}: ENOENT")))
            .found(is(format!("/proc/0{tid} resolves")))
    };

    an_exited_thread_that_resolves_breaks_the_exit_claim:
    breaks exited_thread_no_longer_resolves on live_target(3) => |t| {
        let (pid, exited) = (t.pid, t.exited()[0]);
        // As if the kernel kept the exited thread in its group's pid
        // table.
        let status = format!("Tgid:\t{pid}\nPid:\t{exited}\n");
        let kernel = Doctored::live()
            .dir(exited.to_string())
            .file(format!("{exited}/status"), status);
        doctor(kernel).found(starts("it still resolves"))
    };

    a_tid_comm_showing_the_leaders_name_breaks_the_comm_claim:
    breaks tid_comm_is_the_threads_own_name on live_target(3) => |t| {
        let comm = format!("{}/comm", t.threads[0]);
        doctor(Doctored::live().file(comm, "demo-spawner\n"))
            .found(is("\"demo-spawner\""))
    };

    a_tid_stat_with_its_own_times_breaks_the_stat_claim:
    breaks tid_stat_sums_cpu_over_the_group on live_target(3) => |t| {
        let pid = t.pid;
        // What proc(5) promises: /proc/<TID>/stat the same as
        // /proc/<TGID>/task/<TID>/stat.
        let kernel = Doctored::live().read(move |path, text| {
            let Some(tid) = path.strip_suffix("/stat") else {
                return text;
            };
            if tid.contains('/') || tid == pid.to_string() {
                return text;
            }
            let task = format!("{pid}/task/{tid}/stat");
            text.map(|text| proc().read(&task).unwrap_or(text))
        });
        doctor(kernel).expected(has("to include busy thread"))
    };

    a_tid_dir_without_task_breaks_the_tid_dir_claim:
    breaks tid_dir_is_a_process_dir_not_its_task_dir
    on live_target(3) => |t| {
        let tid = t.threads[0];
        // As if /proc/<TID> were built from tid_base_stuff, as the man
        // page's "the same" would have it.
        let kernel = Doctored::live().list(move |dir, entries| {
            if dir == tid.to_string() {
                entries.retain(|e| e.name != "task");
            }
        });
        doctor(kernel)
            .expected(has(format!("/proc/{tid} with the entries")))
            .found(is("they differ in task"))
    };

    a_thread_with_its_own_cwd_breaks_the_shared_attributes_claim:
    breaks shared_attributes_read_the_same_from_every_thread
    on live_target(3) => |t| {
        let cwd = format!("{}/task/{}/cwd", t.pid, t.threads[1]);
        doctor(Doctored::live().link(&cwd, "/elsewhere"))
            .found(is(format!("/proc/{cwd} -> /elsewhere")))
    };

    a_task_dir_gone_with_its_leader_breaks_the_exited_leader_claim:
    breaks task_dir_outlives_an_exited_leader on live_target(1) => |_| {
        // What proc_pid_task(5) says of Linux 2.6.13: once the leader
        // has exited, task/ shows nothing.
        let kernel = Doctored::live().list(|dir, entries| {
            if dir.ends_with("/task") {
                entries.retain(|e| e.pid().is_none());
            }
        });
        doctor(kernel).found(is("it lists nothing"))
    };

    a_tgkill_that_ignores_the_group_breaks_the_signal_claim:
    breaks kill_finds_a_process_by_any_of_its_tids on live_target(1) => |_| {
        // As if do_send_specific() did not compare the thread's tgid.
        doctor(Doctored::live().tgkill0(|_, _| Ok(())))
            .found(is("it succeeded; it succeeded"))
    };

    a_pidfd_for_any_tid_breaks_the_pidfd_claim:
    breaks pidfd_open_refuses_a_thread_id on live_target(1) => |_| {
        // As if pidfd_prepare() asked for PIDTYPE_PID without the flag.
        let kernel = Doctored::live()
            .pidfd_open(|pid, _| LiveSys.pidfd_open(pid, PIDFD_THREAD));
        doctor(kernel)
            .expected(ends("leads no group"))
            .found(starts("it opened a pidfd for thread"))
    };

    a_pidfd_thread_that_refuses_threads_breaks_the_pidfd_thread_claim:
    breaks pidfd_thread_opens_a_thread on live_target(1) => |_| {
        // As if PIDFD_THREAD were accepted but checked PIDTYPE_TGID.
        let kernel =
            Doctored::live().pidfd_open(|pid, _| LiveSys.pidfd_open(pid, 0));
        doctor(kernel).found(either(starts("EINVAL"), starts("ENOENT")))
    };

    an_old_tid_that_still_resolves_breaks_the_exec_claim:
    breaks exec_from_a_thread_takes_the_tgid on live_target(1) => |_| {
        // As if de_thread() left the exec'ing thread's old id attached.
        doctor(Doctored::live().is_dir(every_number))
            .found(ends("still resolve 1000 ms after the exec"))
    };

    // What the claims tolerate, and what still breaks them. Other
    // processes start, exit and exec between any two reads a claim
    // makes, and a reader may be refused another user's files: neither
    // is the kernel's fault. Each row below doctors /proc the way churn
    // or a refusal would, once, and the claim must hold (or skip); the
    // same answer given on every read is a real contradiction, and the
    // claim must still fail.

    a_seek_that_lands_on_a_process_gone_at_once_is_no_failure:
    spares listing_positions_follow_tgid_arithmetic
    on live_target(3) => |t| {
        let gone = vanished_id_above(t.threads[2]);
        doctor(Doctored::live().seek(landing_on(gone)))
            .found(has("exited before it could be"))
    };

    /// What next_tgid() would give if it kept threads (the matrix's
    /// mutant next-tgid-keeps-threads), on every seek and every listing.
    a_seek_that_lands_on_the_thread_every_time_still_fails:
    breaks listing_positions_follow_tgid_arithmetic
    on live_target(3) => |t| {
        let tid = t.threads[0];
        doctor(Doctored::live().seek(landing_on(tid)))
            .expected(has("the first thread-group id above"))
            .found(starts(format!("{tid} (d_off")))
    };

    /// The d_off arithmetic broken in the first listing only, as a
    /// process that exits between two getdents64 calls leaves it.
    /// Spoiled on every listing, it fails:
    /// a_listing_with_a_thread_position_breaks_the_offset_claim.
    a_listing_spoiled_once_by_churn_is_read_again:
    spares listing_positions_follow_tgid_arithmetic
    on live_target(3) => |_| {
        let listings = AtomicUsize::new(0);
        doctor(Doctored::live().list(move |dir, entries| {
            if dir == "." && listings.fetch_add(1, Ordering::SeqCst) == 0 {
                one_past(entries);
            }
        }))
    };

    /// The process's cwd read first, before a chdir; every later read
    /// (its threads', and the process's again) after it. A thread whose
    /// cwd differs on every read still fails it:
    /// a_thread_with_its_own_cwd_breaks_the_shared_attributes_claim.
    a_process_that_moved_between_two_reads_keeps_the_attributes_claim:
    spares shared_attributes_read_the_same_from_every_thread
    on live_target(3) => |t| {
        let cwd = format!("{}/cwd", t.pid);
        let first = AtomicBool::new(true);
        doctor(Doctored::live().read_link(move |path, link| {
            match path == cwd && first.swap(false, Ordering::SeqCst) {
                true => Ok(PathBuf::from("/before")),
                false => link,
            }
        }))
    };

    a_link_withheld_from_the_reader_is_a_skip_naming_it:
    skips shared_attributes_read_the_same_from_every_thread
    on live_target(3) => |t| {
        let cwd = format!("{}/cwd", t.pid);
        doctor(Doctored::live().error(&cwd, libc::EACCES))
            .found(has(format!("/proc/{cwd}")))
            .found(has("Permission denied"))
            .found(has("as its owner or as root"))
    };

    /// Every id resolves; those that name no task now answer as a task
    /// of process 1, as a number reused by another process does.
    /// Resolving in its own group still fails it:
    /// an_old_tid_that_still_resolves_breaks_the_exec_claim.
    an_old_tid_given_to_another_process_since_is_no_failure:
    spares exec_from_a_thread_takes_the_tgid on live_target(1) => |_| {
        let kernel = Doctored::live().is_dir(every_number).read(|path, text| {
            let gone = text.as_ref().is_err_and(ProcError::is_enoent);
            match path.strip_suffix("/status").map(str::parse::<i32>) {
                Some(Ok(id)) if gone => Ok(format!("Tgid:\t1\nPid:\t{id}\n")),
                _ => text,
            }
        });
        doctor(kernel)
    };
}

#[test]
fn every_claim_has_a_doctored_failure() {
    // The tracing claims read stacks, not `/proc`: their doctored
    // failures feed altered captures to their verdicts, in `trace.rs`.
    for claim in CLAIMS.iter().filter(|claim| !claim.traces()) {
        assert!(
            ROWS.contains(&("breaks", claim.id)),
            "claim {} has no doctored failure in tests/claims_doctored.rs",
            claim.id
        );
    }
}

/// What the checker prints when the listing shows a thread: the
/// snapshot the book shows.
#[test]
fn doctored_listing_fails() {
    let target = live_target(3);
    let doctored = showing(target.threads[0]);
    let claim = claims::find("listing_shows_the_tgid_but_no_other_tid");
    let report = checker::cli::check(&doctored, &target, &[claim.unwrap()]);
    assert!(!report.held());
    let text = checker::report::human(&report, None);
    let text = anstream::adapter::strip_str(&text).to_string();
    let redacted = Redactor::default()
        .target(&target)
        .with_numbers()
        .redact(&text);
    insta::assert_snapshot!("doctored_listing_fails", redacted);
}

#[test]
fn a_tid_listed_after_its_thread_exited_and_the_number_was_reused_passes() {
    let demo = checker::children::short_lived(&helpers(), 3).unwrap();
    let pid = demo.pid();
    let target = Target::existing(helpers(), &proc(), pid).unwrap();
    let tid = target.threads[1];
    let id = "listing_shows_the_tgid_but_no_other_tid";
    // The thread exited, and a new process got its number: listed, but
    // no longer in its group's task/.
    let task = format!("{pid}/task/{tid}/stat");
    spares(id, &target, doctor(showing(tid).error(task, libc::ENOENT)));
    // The thread still in its group, and listed: the claim fails.
    let listed = starts(format!("{tid} listed"));
    breaks(id, &target, doctor(showing(tid)).found(listed));
}

#[test]
fn a_thread_that_renames_itself_between_two_reads_keeps_the_comm_claim() {
    let named = ["--name", "tid-demo"];
    let demo = checker::children::short_lived_with(&helpers(), 2, &named);
    let demo = demo.unwrap();
    let pid = demo.pid();
    let target = Target::existing(helpers(), &proc(), pid).unwrap();
    let comm = format!("{pid}/task/{}/comm", target.threads[0]);
    // Its name under task/ read once before a pthread_setname_np(), and
    // after it from then on.
    let first = AtomicBool::new(true);
    let kernel = Doctored::live().read(move |path, text| {
        match path == comm && first.swap(false, Ordering::SeqCst) {
            true => Ok("old-name\n".to_string()),
            false => text,
        }
    });
    spares("tid_comm_is_the_threads_own_name", &target, doctor(kernel));
    // A name that differs on every read still fails it:
    // a_tid_comm_showing_the_leaders_name_breaks_the_comm_claim.
}

/// A procfs mounted with `hidepid=invisible`, on which process `pid`
/// is hidden, as a reader who may not see it gets it.
fn hiding(pid: i32) -> Doctored {
    let mountinfo = "22 1 0:21 / /proc rw - proc proc rw,hidepid=invisible";
    Doctored::live()
        .error(pid.to_string(), libc::ENOENT)
        .file("self/mountinfo", format!("{mountinfo}\n"))
}

#[test]
fn every_skip_reads_as_text_for_people() {
    use crate::support::reads_well;
    let live = proc();
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

/// The report `checker audit` gives on a kernel that hides a process
/// from the listing, as the matrix's mutant `readdir-hides-a-comm`
/// does, here done to the listing in userspace: exactly the bait, with
/// its id, its name and its thread. Book: the hidden-processes chapter.
#[test]
fn the_audit_report_names_the_hidden_process_and_its_thread() {
    use checker::audit;
    use checker::claims::audit_finds_no_hidden_process::BAIT;

    let comm = ["--comm", BAIT];
    let bait = checker::children::short_lived_with(&helpers(), 1, &comm);
    let bait = bait.unwrap();
    let pid = bait.pid();
    let doctored = Doctored::live().list(move |dir, entries| {
        if dir == "." {
            entries.retain(|e| e.pid() != Some(pid));
        }
    });
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
    let text = audit::human(&report, None);
    assert!(
        text.lines().nth(1).unwrap().starts_with("ids 1 to "),
        "{text}"
    );
    let tid = bait.ready.threads[0].tid;
    let whole = Redactor::default()
        .name(pid, "PID")
        .name(tid, "TID1")
        .keep(audit::SETTLE.as_millis())
        .with_numbers()
        .redact(&crate::support::counts_redacted(&text));
    let redacted = crate::support::rewrapped(&whole, 76);
    insta::assert_snapshot!("audit_report_of_a_hidden_process", redacted);
}
