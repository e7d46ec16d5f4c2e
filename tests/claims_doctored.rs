//! Each claim against a doctored `/proc`: the live one with one answer
//! changed, as a kernel that behaved differently would give it. Every
//! claim must then fail, with evidence naming what it found.
//!
//! The book's "what a broken claim looks like" comes from here.

use std::io;
use std::path::{Path, PathBuf};

use checker::claims::{self, Context, Outcome};
use checker::parse::{DT_DIR, Dirent};
use checker::procfs::{LiveProc, Procfs};
use checker::target::Target;

use crate::support::{Redactor, live_target};

type ListHook = Box<dyn Fn(&str, Vec<Dirent>) -> Vec<Dirent> + Sync>;
type ReadHook = Box<dyn Fn(&str, String) -> String + Sync>;
type DirHook = Box<dyn Fn(&str) -> Option<io::Result<bool>> + Sync>;
type LinkHook = Box<dyn Fn(&str, PathBuf) -> PathBuf + Sync>;
type AnswerHook = Box<dyn Fn(&str) -> Option<io::Result<String>> + Sync>;

/// The live `/proc` with some answers rewritten.
#[derive(Default)]
struct Doctored {
    list: Option<ListHook>,
    read: Option<ReadHook>,
    is_dir: Option<DirHook>,
    link: Option<LinkHook>,
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

    fn list_from(&self, dir: &str, pos: i64) -> io::Result<Vec<Dirent>> {
        let entries = live().list_from(dir, pos)?;
        Ok(match &self.list {
            Some(hook) if pos == 0 => hook(dir, entries),
            _ => entries,
        })
    }

    fn read(&self, path: &str) -> io::Result<String> {
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

    fn is_dir(&self, path: &str) -> io::Result<bool> {
        if let Some(answer) = self.is_dir.as_ref().and_then(|hook| hook(path))
        {
            return answer;
        }
        live().is_dir(path)
    }

    fn links(&self, path: &str) -> io::Result<u64> {
        live().links(path)
    }

    fn read_link(&self, path: &str) -> io::Result<PathBuf> {
        let target = live().read_link(path)?;
        Ok(match &self.link {
            Some(hook) => hook(path, target),
            None => target,
        })
    }
}

fn live() -> LiveProc {
    LiveProc::new("/proc")
}

/// Run claim `id` on `doctored` and require a failure; return its
/// evidence.
fn fails(
    id: &str,
    target: &Target,
    doctored: &dyn Procfs,
) -> (String, String) {
    let claim = claims::find(id).unwrap();
    // The claim holds on the live kernel...
    let live = live();
    let honest = (claim.check)(&Context::new(&live, target));
    assert!(matches!(honest, Outcome::Pass { .. }), "{id}: {honest:?}");
    // ...and fails once /proc answers otherwise.
    match (claim.check)(&Context::new(doctored, target)) {
        Outcome::Fail { expected, found } => (expected, found),
        other => panic!("{id} did not fail on a doctored /proc: {other:?}"),
    }
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

#[test]
fn a_listing_that_shows_a_thread_breaks_the_listing_claim() {
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
    let id = "listing_shows_the_tgid_but_no_other_tid";
    let (expected, found) = fails(id, &target, &doctored);
    assert!(expected.contains(&tid.to_string()), "{expected}");
    assert!(found.starts_with(&format!("{tid} listed")), "{found}");

    // What the checker prints then: the snapshot the book shows.
    let report =
        checker::cli::check(&doctored, &target, &[claims::find(id).unwrap()]);
    assert!(!report.held());
    let text = anstream::adapter::strip_str(&checker::report::human(&report))
        .to_string();
    let redacted = Redactor::default().target(&target).redact(&text);
    insta::assert_snapshot!("doctored_listing_fails", redacted);
}

#[test]
fn a_lookup_that_misses_a_thread_breaks_the_lookup_claim() {
    let target = live_target(3);
    let comm = format!("{}/comm", target.threads[1].tid);
    let doctored = Doctored {
        answer: Some(Box::new(move |path| {
            (path == comm).then(|| Err(io::Error::from_raw_os_error(2)))
        })),
        ..Doctored::default()
    };
    let (_, found) = fails("every_tid_resolves_by_lookup", &target, &doctored);
    assert!(found.contains("No such file or directory"), "{found}");
}

#[test]
fn a_procfs_that_ignores_its_namespace_breaks_the_namespace_claim() {
    let target = live_target(3);
    let tid = target.threads[0].tid;
    // As if find_task_by_pid_ns() looked in the reader's namespace: the
    // new namespace's /proc/<TID> shows our thread.
    let doctored = Doctored {
        answer: Some(Box::new(move |path| {
            let suffix = format!("/root/proc/{tid}/stat");
            path.ends_with(&suffix)
                .then(|| live().read(&format!("{tid}/stat")))
        })),
        ..Doctored::default()
    };
    let (_, found) = fails(
        "lookup_is_relative_to_the_mounts_pid_namespace",
        &target,
        &doctored,
    );
    assert!(
        found.contains("a task of the checker's namespace"),
        "{found}"
    );
}

#[test]
fn a_task_dir_whose_link_count_ignores_threads_breaks_the_task_claim() {
    let target = live_target(3);
    let tid = target.threads[1].tid;
    // As if proc_task_getattr() did not add the thread count.
    let doctored = Links(Box::new(move |path| {
        (path == format!("{tid}/task")).then_some(2)
    }));
    let (expected, found) = fails(
        "task_dir_lists_the_whole_group_from_any_tid",
        &target,
        &doctored,
    );
    assert!(expected.contains("with 6 links"), "{expected}");
    assert_eq!(found, "2 links");
}

/// The live `/proc` with some link counts rewritten.
type LinksHook = Box<dyn Fn(&str) -> Option<u64> + Sync>;
struct Links(LinksHook);

impl Procfs for Links {
    fn root(&self) -> &Path {
        Path::new("/proc")
    }
    fn list_from(&self, dir: &str, pos: i64) -> io::Result<Vec<Dirent>> {
        live().list_from(dir, pos)
    }
    fn read(&self, path: &str) -> io::Result<String> {
        live().read(path)
    }
    fn is_dir(&self, path: &str) -> io::Result<bool> {
        live().is_dir(path)
    }
    fn links(&self, path: &str) -> io::Result<u64> {
        (self.0)(path).map_or_else(|| live().links(path), Ok)
    }
    fn read_link(&self, path: &str) -> io::Result<PathBuf> {
        live().read_link(path)
    }
}

#[test]
fn a_status_with_the_leaders_view_breaks_the_status_claim() {
    let target = live_target(3);
    let (pid, tid) = (target.pid, target.threads[0].tid);
    let doctored = Doctored {
        read: Some(Box::new(move |path, text| {
            if path == format!("{tid}/status") {
                text.replace(&format!("Pid:\t{tid}"), &format!("Pid:\t{pid}"))
            } else {
                text
            }
        })),
        ..Doctored::default()
    };
    let (_, found) =
        fails("tid_status_is_the_threads_own_view", &target, &doctored);
    assert_eq!(found, format!("Pid: {pid}, Tgid: {pid}"));
}

#[test]
fn a_task_dir_that_lists_one_thread_breaks_the_task_claim() {
    let target = live_target(3);
    let tid = target.threads[2].tid;
    let doctored = Doctored {
        list: Some(Box::new(move |dir, entries| {
            if dir == format!("{tid}/task") {
                entries
                    .into_iter()
                    .filter(|e| e.pid().is_none() || e.pid() == Some(tid))
                    .collect()
            } else {
                entries
            }
        })),
        ..Doctored::default()
    };
    let (_, found) = fails(
        "task_dir_lists_the_whole_group_from_any_tid",
        &target,
        &doctored,
    );
    assert!(found.ends_with(&format!("/task lists {tid}")), "{found}");
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
            if path == "thread-self" {
                let text = link.to_string_lossy().into_owned();
                let pid = text.split('/').next().unwrap_or("").to_string();
                PathBuf::from(format!("{pid}/task/{pid}"))
            } else {
                link
            }
        })),
        ..Doctored::default()
    };
    fails("self_links_come_before_the_pids", &target, &doctored);
}

#[test]
fn a_listing_with_a_thread_position_breaks_the_offset_claim() {
    let target = live_target(3);
    let doctored = Doctored {
        list: Some(Box::new(|dir, mut entries| {
            // As if the kernel stored positions one past the tgid.
            if dir == "." {
                for entry in entries.iter_mut().filter(|e| e.d_off > 258) {
                    entry.d_off += 1;
                }
            }
            entries
        })),
        ..Doctored::default()
    };
    let (_, found) = fails(
        "listing_positions_follow_tgid_arithmetic",
        &target,
        &doctored,
    );
    assert!(
        found.starts_with("the entry before it has d_off"),
        "{found}"
    );
}

#[test]
fn a_lax_name_parser_breaks_the_strict_names_claim() {
    let target = live_target(3);
    let tid = target.threads[0].tid;
    let doctored = Doctored {
        is_dir: Some(Box::new(move |path| {
            // As if name_to_int() skipped leading zeros.
            (path == format!("0{tid}")).then_some(Ok(true))
        })),
        ..Doctored::default()
    };
    let (expected, found) =
        fails("pid_names_are_parsed_strictly", &target, &doctored);
    assert_eq!(expected, format!("/proc/0{tid}: ENOENT"));
    assert_eq!(found, "Ok(true)");
}

#[test]
fn an_exited_thread_that_resolves_breaks_the_exit_claim() {
    let target = live_target(3);
    let (pid, exited) = (target.pid, target.exited[0]);
    // As if the kernel kept the exited thread in its group's pid table.
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
    let (_, found) =
        fails("exited_thread_no_longer_resolves", &target, &doctored);
    assert!(found.starts_with("it still resolves"), "{found}");
}

#[test]
fn a_tid_comm_showing_the_leaders_name_breaks_the_comm_claim() {
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
    let (_, found) =
        fails("tid_comm_is_the_threads_own_name", &target, &doctored);
    assert_eq!(found, "\"demo-spawner\"");
}

#[test]
fn a_tid_stat_with_its_own_times_breaks_the_stat_claim() {
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
    let (expected, _) =
        fails("tid_stat_sums_cpu_over_the_group", &target, &doctored);
    assert!(expected.contains("to include busy thread"), "{expected}");
}

/// The tracing claims read stacks, not `/proc`: their doctored
/// failures feed altered captures to their verdicts, in `trace.rs`.
const TRACING: &[&str] = &[
    "listing_passes_through_proc_pid_readdir",
    "tid_lookup_passes_through_proc_pid_lookup",
    "cached_dentry_skips_proc_root_lookup",
];

#[test]
fn every_claim_has_a_doctored_failure_here() {
    let source = include_str!("claims_doctored.rs");
    for claim in claims::CLAIMS {
        if TRACING.contains(&claim.id) {
            continue;
        }
        assert!(
            source.contains(&format!("\"{}\"", claim.id)),
            "claim {} has no doctored-failure test in tests/claims_doctored.rs",
            claim.id
        );
    }
}
