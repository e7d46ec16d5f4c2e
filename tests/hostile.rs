//! The checker under hostile and unusual conditions, each run for real
//! on this machine: another pid namespace, procfs mount options, races,
//! unprivileged and missing `/proc`, and garbage fed to the parsers.
//!
//! A test that needs root says so (`#[ignore = "needs root: ..."]`:
//! `cargo test` lists it as ignored, `.ci/run` runs it as root), and one
//! that needs a facility a system may refuse is ignored where
//! `tests/build.rs` found it refused; none returns early as a pass. Each
//! leaves no process and no mount behind (mounts are made in private
//! mount namespaces, which die with their last process). The peers among the
//! kernel's selftests are tools/testing/selftests/proc/
//! proc-fsconfig-hidepid.c, proc-subset-pid.c and proc-multiple-procfs.c.
//! Book: "Performance" (the races) and "Beyond the article".

use std::io;
use std::process::{Command, Output};
use std::time::Duration;

use checker::claims::{self, CLAIMS, Context, Outcome};
use checker::doctored::Doctored;
use checker::mounts::parse_mountinfo;
use checker::parse::{parse_dirents, parse_stat, parse_status};
use checker::procfs::Procfs;
use checker::target::Target;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::{
    CHECKER, DEMO, Refusal, Runner, WORKSHOP, alive, as_a_user, eventually,
    exited, helpers, live_target, proc, refuse, run, spawned, tap_all_held,
    texts, wait_bounded,
};

/// Run `script` with `sh` in private mount (and, if asked, pid)
/// namespaces; `$CHECKER` and `$DEMO` name the binaries.
fn in_namespaces(flags: &[&str], script: &str) -> Output {
    run(Command::new("unshare")
        .args(flags)
        .args(["sh", "-c", script])
        .env("CHECKER", CHECKER)
        .env("DEMO", DEMO))
}

/// Our procfs mounts, as the host sees them: none may survive a test.
fn host_proc_mounts() -> usize {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains(" - proc "))
        .count()
}

#[test]
#[ignore = "needs root: unshare --pid --mount-proc, without a user namespace"]
fn the_checker_holds_inside_a_new_pid_namespace() {
    let mounts = host_proc_mounts();
    let output = in_namespaces(
        &["--pid", "--fork", "--mount-proc"],
        // Not `exec`: as pid 1 the checker would take itself for the
        // /init of a `just matrix` VM (vm_init::is_init()).
        "\"$CHECKER\" --format tap",
    );
    let (stdout, _) = exited(&output, 0);
    // Inside, the checker's own pid is small and the namespace claim
    // held against a namespace nested in this one.
    assert!(stdout.contains("ok 7 - lookup_is_relative"), "{stdout}");
    assert!(!stdout.contains("not ok"), "{stdout}");
    assert_eq!(host_proc_mounts(), mounts, "a procfs mount leaked");
}

#[test]
#[cfg_attr(
    userns_refused,
    ignore = "needs unprivileged user namespaces, \
    which this system refuses (tests/build.rs probed them)"
)]
fn an_unprivileged_user_namespace_holds_the_checker_too() {
    // In a user and pid namespace of an unprivileged user: what a
    // non-root reader who runs the checker in a container gets.
    let output = run(as_a_user("unshare")
        .args(["--user", "--pid", "--fork", "--mount-proc"])
        .args(["sh", "-c", "\"$0\" --format tap", CHECKER]));
    let (stdout, _) = exited(&output, 0);
    assert!(!stdout.contains("not ok"), "{stdout}");
}

/// The TAP report of the checker run as `nobody` with `--pid pid` on a
/// procfs mounted with hidepid=invisible, in a private mount namespace:
/// every claim skips, naming the option, and no mount leaks.
fn hidden_by_hidepid(pid: i32) -> String {
    let mounts = host_proc_mounts();
    let script = format!(
        "dir=$(mktemp -d) && mount -t proc -o hidepid=invisible proc \
         \"$dir\" && setpriv --reuid=65534 --regid=65534 --clear-groups \
         \"$CHECKER\" --pid {pid} --proc \"$dir\" --format tap; \
         code=$?; umount \"$dir\"; rmdir \"$dir\"; exit $code"
    );
    let output = in_namespaces(&["--mount"], &script);
    // Nothing could be verified: the skipped status, not a pass.
    let (stdout, _) = exited(&output, 4);
    assert!(!stdout.contains("not ok"), "{stdout}");
    let skips = stdout.matches("# SKIP").count();
    assert_eq!(skips, CLAIMS.len(), "every claim skips: {stdout}");
    assert!(stdout.contains("hidepid=invisible"), "{stdout}");
    assert_eq!(host_proc_mounts(), mounts, "a procfs mount leaked");
    stdout
}

#[test]
#[ignore = "needs root: mounts a procfs with hidepid=invisible"]
fn hidepid_turns_another_users_process_into_skips() {
    // A root-owned target, and a nobody-owned checker reading a
    // hidepid=invisible procfs in a private mount namespace.
    let target = live_target(2);
    hidden_by_hidepid(target.pid);
}

#[test]
#[ignore = "needs root: mounts a procfs with hidepid=invisible"]
fn hidepid_turns_a_thread_of_another_users_process_into_skips() {
    // A thread's id is no process's: pidfd_open(tid, 0) refuses it, yet
    // the thread exists, and the checker must say it is hidden, not
    // that no such process exists.
    let target = live_target(2);
    let tid = target.threads[1];
    let stdout = hidden_by_hidepid(tid);
    let hidden = format!("task {tid} exists (");
    assert!(stdout.contains(&hidden), "{stdout}");
}

#[test]
#[ignore = "needs root: mounts a procfs with hidepid=invisible"]
fn hidepid_still_shows_the_checker_its_own_demo() {
    let script = "dir=$(mktemp -d) && chmod 755 \"$dir\" && mount -t proc \
         -o hidepid=invisible proc \"$dir\" && setpriv --reuid=65534 \
         --regid=65534 --clear-groups \"$CHECKER\" --proc \"$dir\" \
         --format tap; code=$?; umount \"$dir\"; rmdir \"$dir\"; exit $code";
    let output = in_namespaces(&["--mount"], script);
    let (stdout, _) = exited(&output, 0);
    let summary = tap_all_held(Runner::User);
    assert!(stdout.contains(&summary), "{stdout}");
}

#[test]
#[ignore = "needs root: mounts a procfs with subset=pid"]
fn subset_pid_has_no_static_entries_and_the_listing_claims_hold() {
    let script = "dir=$(mktemp -d) && mount -t proc -o subset=pid proc \
         \"$dir\" && ls -a \"$dir\" | grep -v '^[0-9]*$' | tr '\\n' ' ' && \
         echo && \"$CHECKER\" --proc \"$dir\" --format tap; code=$?; \
         umount \"$dir\"; rmdir \"$dir\"; exit $code";
    let output = in_namespaces(&["--mount"], script);
    let (stdout, stderr) = texts(&output);
    assert!(
        !(stderr.contains("subset") && stderr.contains("mount")),
        "this kernel refuses subset=pid (Linux 5.8 added it): {stderr}"
    );
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    // Only the pid directories and the two links: no static entry,
    // not even `.` and `..` (proc_readdir() returns before them).
    let first = stdout.lines().next().unwrap_or_default();
    assert_eq!(first.trim(), "self thread-self", "{stdout}");
    for id in [
        "listing_shows_the_tgid_but_no_other_tid",
        "self_links_come_before_the_pids",
        "listing_positions_follow_tgid_arithmetic",
    ] {
        let line = stdout.lines().find(|line| line.ends_with(id));
        assert!(line.is_some_and(|l| l.starts_with("ok ")), "{stdout}");
    }
}

#[test]
#[ignore = "needs root: unmounts /proc in a private mount namespace"]
fn no_proc_at_all_is_one_line_and_exit_3() {
    let output =
        in_namespaces(&["--mount"], "umount -l /proc && exec \"$CHECKER\"");
    let (_, stderr) = exited(&output, 3);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("checker: /proc is not a procfs"),
        "{stderr}"
    );
}

#[test]
fn as_a_user_every_claim_holds_or_skips_for_tracing() {
    let output = run(as_a_user(CHECKER).args(["--format", "tap"]));
    let (stdout, _) = exited(&output, 0);
    let summary = tap_all_held(Runner::User);
    assert!(stdout.contains(&summary), "{stdout}");
}

#[test]
fn threads_that_come_and_go_are_not_failures() {
    // The target is this test process: its test threads come and go,
    // and a churner makes sure some do during the check.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let batch: Vec<_> = (0..8)
                    .map(|_| {
                        std::thread::spawn(|| {
                            std::thread::sleep(Duration::from_millis(2))
                        })
                    })
                    .collect();
                for thread in batch {
                    let _ = thread.join();
                }
            }
        })
    };
    let me = std::process::id().to_string();
    let outputs: Vec<Output> = (0..3)
        .map(|_| run(Command::new(CHECKER).args(["--pid", &me])))
        .collect();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    churn.join().unwrap();
    for output in outputs {
        exited(&output, 0);
    }
}

#[test]
fn a_target_that_exits_mid_check_voids_the_run() {
    // An existing target (as --pid), killed once the checks reach it.
    let demo = live_target(3);
    let target = Target::existing(helpers(), &proc(), demo.pid).unwrap();
    // The live `/proc`, killing the target process at the first read of
    // one of its threads' files: a target that exits mid-check.
    let (pid, trigger) = (demo.pid, format!("{}/comm", target.threads[1]));
    let doctored = Doctored::live().read(move |path, text| {
        if path != trigger {
            return text;
        }
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        eventually(Duration::from_secs(5), || !alive(pid));
        proc().read(path)
    });
    let report = checker::cli::check(&doctored, &target, CLAIMS);
    // The claims saw threads vanish, and did not call that a failure...
    assert!(report.held(), "{}", checker::report::json(&report));
    // ...and the run as a whole is void: exit 3 with this message.
    let err = target.still_alive(&proc()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "process {} exited while it was being checked; its results \
             are void, run again",
            demo.pid
        )
    );
}

#[test]
fn the_binary_exits_3_when_its_target_dies_mid_check() {
    // Kill a 2,000-thread target while the checker works on it, until
    // one run is caught in the middle (a few tries at most).
    for attempt in 0..10u64 {
        let demo = live_target(2_000);
        let pid = demo.pid.to_string();
        let child = spawned(Command::new(CHECKER).args(["--pid", &pid]));
        std::thread::sleep(Duration::from_millis(40 + attempt * 15));
        drop(demo);
        let output = wait_bounded(child, Duration::from_secs(60));
        let (stdout, stderr) = texts(&output);
        if stderr.contains("exited while it was being checked") {
            assert_eq!(output.status.code(), Some(3), "{stderr}");
            assert_eq!(stderr.lines().count(), 1, "{stderr}");
            return;
        }
        // Too early (no such process) or too late (done): try again.
        assert!(
            matches!(output.status.code(), Some(0) | Some(3)),
            "{stdout}{stderr}"
        );
    }
    panic!("never caught the target exiting mid-check in 10 tries");
}

/// `clone3` with `set_tid`: a process with exactly the pid we name
/// (root only: CAP_CHECKPOINT_RESTORE). It pauses until killed.
fn process_with_pid(pid: i32) -> io::Result<i32> {
    #[repr(C)]
    #[derive(Default)]
    struct CloneArgs {
        flags: u64,
        pidfd: u64,
        child_tid: u64,
        parent_tid: u64,
        exit_signal: u64,
        stack: u64,
        stack_size: u64,
        tls: u64,
        set_tid: u64,
        set_tid_size: u64,
        cgroup: u64,
    }
    let tids = [pid];
    let args = CloneArgs {
        exit_signal: libc::SIGCHLD as u64,
        set_tid: tids.as_ptr() as u64,
        set_tid_size: 1,
        ..CloneArgs::default()
    };
    // SAFETY: clone3 without CLONE_VM forks; the child only calls
    // pause(2) and _exit(2), which are async-signal-safe.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &args as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match ret {
        0 => {
            // SAFETY: see above.
            unsafe {
                libc::pause();
                libc::_exit(0)
            }
        }
        n if n < 0 => Err(io::Error::last_os_error()),
        n => Ok(n as i32),
    }
}

#[test]
#[ignore = "needs root: clone3() with set_tid needs CAP_CHECKPOINT_RESTORE"]
fn a_reused_tid_is_not_taken_for_the_thread_it_named() {
    // A thread of ours, listed as part of the target (this process)...
    let (tx, rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        tx.send(nix::unistd::gettid().as_raw()).unwrap();
        let _ = go_rx.recv();
    });
    let tid = rx.recv().unwrap();
    let me = std::process::id() as i32;
    let target = Target::existing(helpers(), &proc(), me).unwrap();
    assert!(target.threads.contains(&tid));
    // ...exits, and another process is given its TID.
    go_tx.send(()).unwrap();
    thread.join().unwrap();
    let mut other = Err(io::Error::other("not tried"));
    eventually(Duration::from_secs(2), || {
        other = process_with_pid(tid);
        !matches!(&other, Err(e) if e.raw_os_error() == Some(libc::EEXIST))
    });
    let other = match other {
        Ok(pid) => nix::unistd::Pid::from_raw(pid),
        Err(err) => panic!("cannot create a process with pid {tid}: {err}"),
    };
    let proc = proc();
    let cx = Context::new(&proc, &target);
    let mut outcomes = Vec::new();
    for id in [
        "every_tid_resolves_by_lookup",
        "tid_status_is_the_threads_own_view",
        "tid_comm_is_the_threads_own_name",
    ] {
        outcomes.push((id, claims::find(id).unwrap().run(&cx)));
    }
    let _ = nix::sys::signal::kill(other, nix::sys::signal::SIGKILL);
    let _ = nix::sys::wait::waitpid(other, None);
    for (id, outcome) in outcomes {
        match outcome {
            // The comm claim just leaves a gone thread out; the others
            // say that it went.
            Outcome::Pass { observed } => assert!(
                id == "tid_comm_is_the_threads_own_name"
                    || observed.contains("exited during the check"),
                "{id}: {observed}"
            ),
            Outcome::Skip { .. } => {}
            fail => panic!("{id} took {tid}'s new task for ours: {fail:?}"),
        }
    }
}

/// A small deterministic generator (xorshift64*): the same inputs on
/// every run, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = (self.next() as usize) % (max + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// Replace a few bytes of `sample` at random: garbage near real input
/// reaches deeper than garbage alone.
fn mutate(rng: &mut Rng, sample: &[u8]) -> Vec<u8> {
    let mut out = sample.to_vec();
    for _ in 0..(1 + rng.next() % 4) {
        if out.is_empty() {
            break;
        }
        let at = (rng.next() as usize) % out.len();
        match rng.next() % 3 {
            0 => out[at] = rng.next() as u8,
            1 => out.truncate(at),
            _ => out.insert(at, b"()0 \n:\t"[(rng.next() % 7) as usize]),
        }
    }
    out
}

#[test]
fn the_parsers_never_panic_on_arbitrary_bytes() {
    let me = std::process::id();
    let status = std::fs::read(format!("/proc/{me}/status")).unwrap();
    let stat = std::fs::read(format!("/proc/{me}/stat")).unwrap();
    let mountinfo = std::fs::read("/proc/self/mountinfo").unwrap();
    let mut listing = Vec::new();
    {
        // One real getdents64 buffer of /proc, raw.
        use std::os::fd::AsRawFd;
        let dir = std::fs::File::open("/proc").unwrap();
        let mut buf = vec![0u8; 4096];
        // SAFETY: buf is writable for its length; dir is open.
        let n = unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                dir.as_raw_fd(),
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        assert!(n > 0);
        listing.extend_from_slice(&buf[..n as usize]);
    }
    assert!(parse_dirents(&listing).is_ok());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..20_000 {
        let bytes = if round % 2 == 0 {
            rng.bytes(600)
        } else {
            let sample = match round % 8 {
                1 => &status,
                3 => &stat,
                5 => &mountinfo,
                _ => &listing,
            };
            mutate(&mut rng, sample)
        };
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_dirents(&bytes);
        let _ = parse_status(&text);
        let _ = parse_stat(&text);
        let _ = parse_mountinfo(&text);
    }
}

/// `unshare(2)` with `CLONE_NEWUSER` refused, as Ubuntu's AppArmor
/// (for an unprivileged user) or a container's seccomp policy refuses
/// it.
const NO_USER_NAMESPACES: Refusal = Refusal {
    syscall: libc::SYS_unshare,
    arg0_bits: Some(libc::CLONE_NEWUSER as u32),
    errno: libc::EPERM,
};

/// The claims of a JSON report, by id: outcome and the text behind it.
fn outcomes(stdout: &str) -> Vec<(String, String, String)> {
    let report: serde_json::Value = serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let text = |claim: &serde_json::Value, key: &str| {
        claim[key].as_str().unwrap_or_default().to_string()
    };
    report["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|claim| {
            let evidence = [text(claim, "observed"), text(claim, "reason")];
            (text(claim, "id"), text(claim, "outcome"), evidence.concat())
        })
        .collect()
}

const NAMESPACE_CLAIM: &str = "lookup_is_relative_to_the_mounts_pid_namespace";

#[test]
fn where_user_namespaces_are_refused_the_checker_skips_naming_it() {
    let mut command = as_a_user(CHECKER);
    command.args(["--format", "json"]);
    let output = run(refuse(&mut command, &[NO_USER_NAMESPACES]));
    let (stdout, _) = exited(&output, 0);
    for (id, outcome, evidence) in outcomes(&stdout) {
        // Not asked for: the tracing claims and the audit.
        let not_run = checker::claims::find(&id).unwrap().opt_in().is_some();
        match id.as_str() {
            NAMESPACE_CLAIM => {
                assert_eq!(outcome, "skip", "{evidence}");
                assert!(
                    evidence.contains(
                        "unshare(CLONE_NEWUSER) failed with \
                                       EPERM: Operation not permitted"
                    ),
                    "{evidence}"
                );
                assert!(evidence.contains("seccomp"), "{evidence}");
            }
            _ if not_run => {
                assert_eq!(outcome, "not_run", "{id}: {evidence}")
            }
            _ => assert_eq!(outcome, "pass", "{id}: {evidence}"),
        }
    }
}

#[test]
fn where_user_namespaces_are_refused_the_workshop_says_why_and_ends_well() {
    let mut command = as_a_user(WORKSHOP);
    command
        .args(["--no-pause", "--width", "0"])
        .env("NO_COLOR", "1");
    let output = run(refuse(&mut command, &[NO_USER_NAMESPACES]));
    let (stdout, _) = exited(&output, 0);
    let summary = stdout.split("Step 7 of 7").nth(1).unwrap_or_default();
    let skip = format!("SKIP {NAMESPACE_CLAIM}");
    let at = summary.find(&skip).unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        summary[at..].contains("unshare(CLONE_NEWUSER) failed with EPERM"),
        "{summary}"
    );
    assert!(!stdout.contains("FAIL "), "{stdout}");
}

/// `setpriv` arguments that run a root process without CAP_SYS_ADMIN,
/// as root in a container runs: out of the bounding set, so that exec
/// does not give it back.
const WITHOUT_CAP_SYS_ADMIN: [&str; 2] =
    ["--bounding-set=-sys_admin", "--inh-caps=-sys_admin"];

#[test]
#[ignore = "needs root: runs the checker as root without CAP_SYS_ADMIN"]
fn as_root_without_cap_sys_admin_the_checker_passes_what_it_can() {
    let output = run(Command::new("setpriv")
        .args(WITHOUT_CAP_SYS_ADMIN)
        .args([CHECKER, "--trace", "--format", "json"]));
    let (stdout, _) = exited(&output, 0);
    for (id, outcome, evidence) in outcomes(&stdout) {
        let claim = checker::claims::find(&id).unwrap();
        if claim.opt_in() == Some(checker::claims::OptIn::Audit) {
            // Not asked for: the audit claims run with --audit only.
            assert_eq!(outcome, "not_run", "{id}: {evidence}");
            assert!(evidence.contains("--audit"), "{evidence}");
        } else if claim.traces() {
            // tracefs is not mounted here, and mounting needs the
            // capability.
            assert_eq!(outcome, "skip", "{id}: {evidence}");
            assert!(evidence.contains("without CAP_SYS_ADMIN"), "{evidence}");
        } else {
            // The pid-namespace claim too: a user namespace gives the
            // probe the capability inside it.
            assert_eq!(outcome, "pass", "{id}: {evidence}");
        }
    }
}

#[test]
#[ignore = "needs root: runs the checker as root without CAP_SYS_ADMIN"]
fn as_a_containers_root_the_namespace_claim_skips_naming_the_capability() {
    // No CAP_SYS_ADMIN, and no user namespace to get it from: a
    // container runtime's defaults.
    let mut command = Command::new("setpriv");
    command
        .args(WITHOUT_CAP_SYS_ADMIN)
        .args([CHECKER, "--format", "json"]);
    let output = run(refuse(&mut command, &[NO_USER_NAMESPACES]));
    let (stdout, _) = exited(&output, 0);
    let (_, outcome, reason) = outcomes(&stdout)
        .into_iter()
        .find(|(id, _, _)| id == NAMESPACE_CLAIM)
        .unwrap();
    assert_eq!(outcome, "skip", "{reason}");
    assert!(reason.contains("as root, unshare(CLONE_NEWPID"), "{reason}");
    assert!(reason.contains("without CAP_SYS_ADMIN"), "{reason}");
}
