//! demo-spawner end to end: the article's output, the ready line, the
//! clean exits and the one-line errors.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use demo_spawner::Ready;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::{
    DEMO, Redactor, alive, error_line, exited, kernel_limit, run, spawned,
    wait_bounded,
};

/// Start demo-spawner with `args` and read `lines` lines of its output.
fn start(args: &[&str], lines: usize) -> (std::process::Child, Vec<String>) {
    let mut child = spawned(Command::new(DEMO).args(args));
    let stdout = child.stdout.take().expect("piped stdout");
    let read: Vec<String> = BufReader::new(stdout)
        .lines()
        .take(lines)
        .map(|line| line.expect("utf-8 output"))
        .collect();
    (child, read)
}

#[test]
fn default_output_is_the_articles_two_lines() {
    let (child, lines) = start(&[], 2);
    let pid = child.id() as i32;
    // The ids are the last word of each line; the words before them are
    // the snapshot's business, so that a change of wording shows there,
    // and in the book, after review.
    let number = |line: &str| -> i32 {
        line.rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{line:?} does not end in an id"))
    };
    assert_eq!(number(&lines[0]), pid);
    let tid = number(&lines[1]);
    assert_ne!(tid, pid, "the thread's TID is not the process id");
    let text = lines.join("\n") + "\n";
    let redacted = Redactor::default()
        .name(pid, "PID")
        .name(tid, "TID1")
        .with_numbers()
        .redact(&text);
    insta::assert_snapshot!("default_output", redacted);
    // The thread is alive while the program waits for Ctrl-C.
    assert!(std::fs::metadata(format!("/proc/{tid}")).is_ok());
    // Ctrl-C ends it cleanly, with status 0.
    kill(Pid::from_raw(pid), Signal::SIGINT).expect("signal the demo");
    let output = wait_bounded(child, Duration::from_secs(10));
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(!alive(tid));
}

#[test]
fn json_ready_line_names_live_parked_threads() {
    let (child, lines) =
        start(&["--json", "-t", "3", "--name", "w", "--exited", "1"], 1);
    let ready: Ready = serde_json::from_str(&lines[0]).expect("JSON line");
    assert_eq!(ready.pid, child.id() as i32);
    assert_eq!(ready.threads.len(), 3);
    for (index, thread) in ready.threads.iter().enumerate() {
        let name = format!("w-{}", index + 1);
        assert_eq!(thread.name.as_deref(), Some(name.as_str()));
        let comm =
            std::fs::read_to_string(format!("/proc/{}/comm", thread.tid))
                .expect("a reported thread is alive");
        assert_eq!(comm.trim_end(), name);
    }
    assert_eq!(ready.exited.len(), 1);
    // SIGTERM, as well as Ctrl-C's SIGINT, ends it with status 0.
    kill(Pid::from_raw(ready.pid), Signal::SIGTERM).unwrap();
    let output = wait_bounded(child, Duration::from_secs(10));
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

#[test]
fn exit_after_bounds_its_life() {
    let output = run(Command::new(DEMO).args(["--exit-after", "0.2"]));
    assert_eq!(exited(&output, 0).0.lines().count(), 2);
}

#[test]
fn zero_threads_is_a_usage_error() {
    let line = error_line(Command::new(DEMO).args(["--threads", "0"]), 2);
    assert_eq!(
        line,
        "demo-spawner: invalid value '0' for '--threads <N>': 0 threads \
         besides the main one leave no thread id to look for; give 1 or \
         more; see 'just spawn --help'\n"
    );
}

#[test]
fn a_count_over_threads_max_names_the_limit() {
    let max = kernel_limit("threads-max");
    let count = (max + 1).to_string();
    let line = error_line(Command::new(DEMO).args(["--threads", &count]), 3);
    assert!(
        line.contains(&format!("/proc/sys/kernel/threads-max is {max}")),
        "{line}"
    );
}

/// A pids cgroup of our own, removed on drop.
struct PidsCgroup {
    dir: std::path::PathBuf,
}

impl PidsCgroup {
    /// A cgroup that allows `max` tasks, in the pids hierarchy (cgroup
    /// v1) or the unified one (v2); `None` when this machine gives us
    /// neither (not root, or the pids controller is not available).
    fn new(max: u32) -> Option<PidsCgroup> {
        let name = format!("proc-threads-test-{}", std::process::id());
        let v1 = std::path::Path::new("/sys/fs/cgroup/pids");
        let v2 = std::path::Path::new("/sys/fs/cgroup");
        let v2_has_pids =
            std::fs::read_to_string(v2.join("cgroup.subtree_control"))
                .is_ok_and(|controllers| controllers.contains("pids"));
        let parent = if v1.join("pids.max").exists()
            || v1.join("cgroup.procs").exists()
        {
            v1
        } else if v2_has_pids {
            v2
        } else {
            return None;
        };
        let dir = parent.join(name);
        std::fs::create_dir(&dir).ok()?;
        let cgroup = PidsCgroup { dir };
        std::fs::write(cgroup.dir.join("pids.max"), max.to_string()).ok()?;
        Some(cgroup)
    }
}

impl Drop for PidsCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[test]
#[ignore = "needs root: creates a pids cgroup that limits the demo"]
fn a_thread_the_kernel_refuses_is_a_one_line_error() {
    // A pids cgroup that holds 20 tasks (the main thread and 19 more):
    // the kernel refuses thread 20 with EAGAIN, as at any real limit,
    // while the limits demo-spawner checks beforehand allow 101 tasks.
    let cgroup = PidsCgroup::new(20).expect(
        "a pids cgroup (cgroup v1 /sys/fs/cgroup/pids, or v2 with pids in \
         cgroup.subtree_control)",
    );
    let procs = std::ffi::CString::new(
        cgroup
            .dir
            .join("cgroup.procs")
            .into_os_string()
            .into_encoded_bytes(),
    )
    .unwrap();
    let mut command = Command::new(DEMO);
    command.args(["--threads", "100"]);
    // SAFETY: between fork and exec the closure makes only the
    // async-signal-safe open(2), write(2) and close(2) calls, on a path
    // prepared before the fork.
    unsafe {
        command.pre_exec(move || {
            // "0" moves the writing process into the cgroup.
            let fd = libc::open(procs.as_ptr(), libc::O_WRONLY);
            if fd < 0 || libc::write(fd, c"0".as_ptr().cast(), 1) != 1 {
                return Err(std::io::Error::last_os_error());
            }
            libc::close(fd);
            Ok(())
        });
    }
    let line = error_line(&mut command, 3);
    assert!(
        line.starts_with("demo-spawner: could not create thread 20 of 100: "),
        "{line}"
    );
    assert!(line.contains("Resource temporarily unavailable"), "{line}");
    assert!(line.contains("the cgroup's pids.max"), "{line}");
    drop(cgroup);
}
