//! `just bench`, second part: `checker audit` against `unhide-linux
//! proc` and against the least work that answers "which ids resolve",
//! at this machine's `pid_max` and at 4,194,304; then both tools on the
//! same hidden processes.
//!
//! Side by side, in one run:
//!
//! - **bare loop**: `fstatat(<procfs root fd>, "<id>")` for every id
//!   from 1 to `pid_max - 1`, in plain system calls, on one thread and
//!   on as many threads as the audit uses (ids handed out in chunks, as
//!   the audit does): the floor of any such scan;
//! - **audit**: `checker audit --format json`, the release binary, as
//!   an operator runs it: the listing, every lookup (a `statx()`, which
//!   also says on which mount the lookup ended), the second look at
//!   what disagrees, the mount table, the report;
//! - **unhide**: `unhide-linux proc` (Debian's `unhide`), which looks
//!   up every id up to `pid_max` and asks `ps` about those it finds
//!   (where it is not installed, the row says so).
//!
//! The 4,194,304 rows run in a private pid namespace with its own
//! procfs (`unshare --pid --fork --mount-proc`, and `--user
//! --map-root-user` for a normal user), whose `pid_max` is 4,194,304
//! on this project's kernels or is set so there. Times are medians of
//! several rounds after a warm-up (unhide, at minutes per round there,
//! runs once).
//!
//! Then, as root, **hidden processes side by side**: a process hidden by
//! each technique the book's "Hidden processes" chapter shows (an empty
//! directory bound over its `/proc/<pid>`, another process's directory
//! bound there, a tmpfs there, each in a private mount namespace; a
//! `LD_PRELOAD` library that filters `readdir()`), and both tools run
//! on it, once each: what each reports, and how long it took. The
//! matrix's mutant kernel `readdir-hides-a-comm` is the last row, from
//! the recorded run in book/verified/report.json (unhide cannot run in
//! those VMs: their only program is the checker).
//!
//! Built by `cargo bench`, never by `cargo test`. Book: "Hidden
//! processes, and why detectors trip over threads".

mod common;
// The helpers of the test binary, not all of which are used here.
#[allow(dead_code)]
#[path = "../support.rs"]
mod support;

use std::io::Write as _;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::{medians, ratio};
use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use support::{CHECKER, Sleeper, preload_library};

const ROUNDS: usize = 5;
/// Rounds at this machine's pid_max, where one round takes tens of
/// milliseconds and a moment of another process's load weighs more.
const ROUNDS_SMALL: usize = 21;
/// What systemd sets, and what a new pid namespace starts with.
const BIG: u32 = 4_194_304;
/// The child mode that measures inside the private pid namespace.
const IN_NAMESPACE: &str = "__in_namespace";

/// The targets: at this machine's pid_max at least this many times
/// faster than `unhide-linux proc`, ...
const TARGET_UNHIDE: f64 = 10.0;
/// ... and at both pid_max within this factor of the bare loop on the
/// same cores. (Under 5 s at 4,194,304 is out of reach by lookups on 2
/// cores: the bare loop alone takes longer there.)
const TARGET_BARE: f64 = 1.1;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    if args.iter().any(|a| a == IN_NAMESPACE) {
        let pid_max = raise_pid_max();
        measure(pid_max, jobs, false);
        return;
    }
    println!(
        "audit benchmark on Linux {}",
        checker::cli::kernel_release()
    );
    println!(
        "{jobs} cores; medians of {ROUNDS_SMALL} rounds ({ROUNDS} at \
         {BIG}, unhide once there) after a warm-up, the bare loops and the \
         audit taking turns in each round; times in seconds"
    );
    let pid_max = read_pid_max();
    measure(pid_max, jobs, true);
    in_a_namespace();
    side_by_side();
}

/// Time the bare loops, the audit and unhide at `pid_max`, print them
/// with the ratios and the verdicts on the targets.
fn measure(pid_max: u32, jobs: usize, here: bool) {
    println!();
    let place = match here {
        true => "this machine",
        false => "a private pid namespace",
    };
    println!("pid_max {pid_max} ({place}):");
    let rounds = if pid_max >= BIG { ROUNDS } else { ROUNDS_SMALL };
    // In turns, so that a burst of load elsewhere falls on all three.
    let [bare_one, bare_all, audit] = medians(
        rounds,
        [
            &mut || bare_loop(pid_max, 1),
            &mut || bare_loop(pid_max, jobs),
            &mut run_audit,
        ],
    );
    let unhide = unhide(if pid_max >= BIG { 1 } else { ROUNDS });
    println!("  bare loop, 1 thread        {:>8.3}", secs(bare_one));
    println!("  bare loop, {jobs} threads       {:>8.3}", secs(bare_all));
    println!(
        "  checker audit              {:>8.3}  {:.2}x the bare loop on \
         {jobs} threads",
        secs(audit),
        ratio(audit, bare_all)
    );
    match &unhide {
        Ok(time) => println!(
            "  unhide-linux proc          {:>8.3}  the audit is {:.1}x \
             faster",
            secs(*time),
            ratio(*time, audit)
        ),
        Err(why) => println!("  unhide-linux proc          not run: {why}"),
    }
    if let (true, Ok(time)) = (pid_max < BIG, unhide) {
        let faster = ratio(time, audit);
        common::verdict(
            "  ",
            &format!(
                "at least {TARGET_UNHIDE:.0}x faster than unhide-linux proc \
                 at pid_max {pid_max}"
            ),
            faster >= TARGET_UNHIDE,
            &format!("{faster:.1}x"),
        );
    }
    let of_bare = ratio(audit, bare_all);
    common::verdict(
        "  ",
        &format!(
            "within {TARGET_BARE}x of the bare loop on {jobs} threads at \
             pid_max {pid_max}"
        ),
        of_bare <= TARGET_BARE,
        &format!("{of_bare:.2}x"),
    );
}

/// Run this benchmark again inside a private pid namespace, its output
/// in ours.
fn in_a_namespace() {
    let exe = std::env::current_exe().expect("this benchmark's path");
    let mut command = Command::new("unshare");
    if !nix::unistd::geteuid().is_root() {
        // A user namespace gives a normal user the right to make the
        // pid namespace and mount its procfs.
        command.args(["--user", "--map-root-user"]);
    }
    command
        .args(["--pid", "--fork", "--mount-proc", "--"])
        .arg(exe)
        .arg(IN_NAMESPACE);
    match command.status() {
        Ok(status) if status.success() => {}
        Ok(status) => println!(
            "\npid_max {BIG}: not measured: the run in a private pid \
             namespace ended with {status} (unshare refused? user \
             namespaces may be off)"
        ),
        Err(err) => println!("\npid_max {BIG}: not measured: unshare: {err}"),
    }
}

fn read_pid_max() -> u32 {
    support::kernel_limit("pid_max") as u32
}

/// In the namespace: pid_max at 4,194,304, set if it is lower and the
/// namespace lets us.
fn raise_pid_max() -> u32 {
    if read_pid_max() < BIG {
        let _ = std::fs::write("/proc/sys/kernel/pid_max", BIG.to_string());
    }
    read_pid_max()
}

/// The bare loop: `fstatat` of every id on `threads` threads, ids
/// handed out in chunks of 4096.
fn bare_loop(pid_max: u32, threads: usize) {
    let dir: OwnedFd = open(
        "/proc",
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .expect("open /proc");
    let next = AtomicU32::new(1);
    let found = AtomicU32::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut here = 0;
                // SAFETY: a plain C struct, valid when zeroed.
                let mut stat = unsafe { std::mem::zeroed::<libc::stat>() };
                loop {
                    let first = next.fetch_add(4096, Ordering::Relaxed);
                    if first >= pid_max {
                        break;
                    }
                    for id in first..(first + 4096).min(pid_max) {
                        // The name on the stack, as a C loop would
                        // snprintf it.
                        let mut name = [0u8; 16];
                        let mut cursor = std::io::Cursor::new(&mut name[..]);
                        write!(cursor, "{id}\0").expect("16 bytes");
                        // SAFETY: an open fd, a NUL-terminated name, a
                        // stat buffer of ours.
                        let resolves = unsafe {
                            libc::fstatat(
                                dir.as_raw_fd(),
                                name.as_ptr().cast(),
                                &mut stat,
                                libc::AT_SYMLINK_NOFOLLOW,
                            )
                        } == 0;
                        here += u32::from(resolves);
                    }
                }
                found.fetch_add(here, Ordering::Relaxed);
            });
        }
    });
    assert!(found.load(Ordering::Relaxed) > 0, "no id resolves");
}

fn run_audit() {
    let output = Command::new(CHECKER)
        .args(["audit", "--format", "json"])
        .stdin(Stdio::null())
        .output()
        .expect("checker audit runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
}

/// `unhide-linux proc`, `rounds` times after a warm-up (none for one
/// round): the median.
fn unhide(rounds: usize) -> Result<Duration, String> {
    let once = || -> Result<Duration, String> {
        let start = Instant::now();
        let status = Command::new("unhide-linux")
            .arg("proc")
            // It writes no log without -f; run it where it may.
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|err| match err.kind() {
                std::io::ErrorKind::NotFound => {
                    "not installed (apt-get install unhide)".to_string()
                }
                _ => format!("unhide-linux: {err}"),
            })?;
        // Its exit status says nothing about what it found.
        let _ = status;
        Ok(start.elapsed())
    };
    if rounds == 1 {
        return once();
    }
    once()?;
    let mut times =
        (0..rounds).map(|_| once()).collect::<Result<Vec<_>, _>>()?;
    times.sort();
    Ok(times[times.len() / 2])
}

fn secs(time: Duration) -> f64 {
    time.as_secs_f64()
}

/// A technique of the side-by-side table: its name, and how it hides
/// process `hidden` (`shown` is another process, for the bind mount of
/// another process's directory).
enum Hiding {
    /// `mount <args>` in a private mount namespace.
    Mount(String),
    /// The `LD_PRELOAD` library, hiding processes by this comm.
    Preload(PathBuf, &'static str),
}

/// The comm of the process the `LD_PRELOAD` library hides.
const PRELOAD_COMM: &str = "preload-hidden";

/// Both tools on each kind of hidden process, once each, as a Markdown
/// table the book's chapter shows.
fn side_by_side() {
    println!();
    println!("hidden processes, side by side:");
    if !nix::unistd::geteuid().is_root() {
        println!(
            "  not run: needs root (mounts over /proc/<pid> in a private \
             mount namespace); run `sudo just bench`"
        );
        return;
    }
    let scratch = std::env::temp_dir()
        .join(format!("audit-bench-{}", std::process::id()));
    std::fs::create_dir_all(scratch.join("empty")).expect("scratch dir");
    let hidden = Sleeper::start(Path::new("sleep"));
    let shown = Sleeper::start(Path::new("sleep"));
    let (v, b) = (hidden.pid(), shown.pid());
    let mut rows = vec![
        (
            format!("empty directory bound over /proc/{v}"),
            Hiding::Mount(format!(
                "--bind {} /proc/{v}",
                scratch.join("empty").display()
            )),
            v,
        ),
        (
            format!("/proc/{b} (another process) bound over /proc/{v}"),
            Hiding::Mount(format!("--bind /proc/{b} /proc/{v}")),
            v,
        ),
        (
            format!("tmpfs mounted over /proc/{v}"),
            Hiding::Mount(format!("-t tmpfs tmpfs /proc/{v}")),
            v,
        ),
    ];
    // The LD_PRELOAD row needs a C compiler and its own process.
    let preloaded = preload_library(&scratch).map(|library| {
        let link = scratch.join(PRELOAD_COMM);
        let _ = std::os::unix::fs::symlink(which("sleep"), &link);
        (library, Sleeper::start(&link))
    });
    match &preloaded {
        Ok((library, process)) => rows.push((
            format!("LD_PRELOAD readdir() filter hiding {}", process.pid()),
            Hiding::Preload(library.clone(), PRELOAD_COMM),
            process.pid(),
        )),
        Err(why) => println!("  LD_PRELOAD row not run: {why}"),
    }
    println!();
    println!("| technique | `unhide-linux proc` | `checker audit` |");
    println!("|---|---|---|");
    for (name, hiding, pid) in &rows {
        let (unhide, unhide_time) =
            under(hiding, &["unhide-linux", "proc"], unhide_words);
        let checker = std::path::PathBuf::from(CHECKER);
        let args = [checker.to_str().unwrap(), "audit", "--format", "json"];
        let (audit, audit_time) = under(hiding, &args, audit_words);
        // The audit must find exactly the hidden process, and each mount
        // over it; the LD_PRELOAD filter hides nothing from getdents64.
        match hiding {
            Hiding::Mount(_) => assert!(
                audit.starts_with(&format!("mount over process {pid} ")),
                "{name}: {audit}"
            ),
            Hiding::Preload(..) => {
                assert_eq!(audit, "nothing hidden (exit 0)", "{name}")
            }
        }
        println!(
            "| {name} | {unhide} ({:.2} s) | {audit} ({:.2} s) |",
            secs(unhide_time),
            secs(audit_time)
        );
    }
    println!(
        "| mutant kernel `readdir-hides-a-comm` (matrix VM) | not run: \
         the VM's only program is the checker | {} |",
        recorded_mutant()
    );
    drop(preloaded);
    let _ = std::fs::remove_dir_all(&scratch);
}

/// Run `command` hidden by `hiding`: in a private mount namespace with
/// the mount made first, or with the library preloaded. Returns what
/// `words` makes of its output, and how long it took (the mount
/// included, a few milliseconds).
fn under(
    hiding: &Hiding,
    command: &[&str],
    words: fn(&std::process::Output) -> String,
) -> (String, Duration) {
    let mut run = match hiding {
        Hiding::Mount(args) => {
            let mut run = Command::new("unshare");
            run.args(["--mount", "--propagation", "private", "sh", "-c"])
                .arg(format!("mount {args} || exit 99; exec \"$@\""))
                .arg("sh")
                .args(command);
            run
        }
        Hiding::Preload(library, comm) => {
            let mut run = Command::new(command[0]);
            run.args(&command[1..])
                .env("LD_PRELOAD", library)
                .env("HIDE_COMM", comm);
            run
        }
    };
    let start = Instant::now();
    let output = run
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .output()
        .expect("run a tool on a hidden process");
    let took = start.elapsed();
    assert_ne!(output.status.code(), Some(99), "the mount failed");
    (words(&output), took)
}

/// What unhide reported: its "Found HIDDEN PID" lines.
fn unhide_words(output: &std::process::Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout);
    let found: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("Found HIDDEN PID: "))
        .collect();
    match found.as_slice() {
        [] => "nothing found".to_string(),
        pids => format!("Found HIDDEN PID: {}", pids.join(", ")),
    }
}

/// What the audit reported: each finding, its kind, id and mount.
fn audit_words(output: &std::process::Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let code = output.status.code().unwrap_or(-1);
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    if findings.is_empty() {
        return format!("nothing hidden (exit {code})");
    }
    let words: Vec<String> = findings
        .iter()
        .map(|f| {
            let kind = f["kind"].as_str().unwrap_or("").replace('-', " ");
            let mut words = format!("{kind} {}", f["id"]);
            if let Some(mount) = f.get("mount") {
                words += &format!(
                    " (mount {}: {} {}",
                    mount["id"], mount["fstype"], mount["root"]
                );
                if let Some(shown) = f.get("shows_process") {
                    words += &format!(", showing process {shown}");
                }
                words.push(')');
            }
            words.replace('"', "")
        })
        .collect();
    format!("{} (exit {code})", words.join("; "))
}

/// The audit claim's evidence on the mutant `readdir-hides-a-comm`, as
/// the matrix recorded it.
fn recorded_mutant() -> String {
    let path = support::workspace().join("book/verified/report.json");
    let report: serde_json::Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let kernels = report["kernels"].as_array().cloned().unwrap_or_default();
    let mutant = kernels
        .iter()
        .find(|k| k["label"] == "mutant readdir-hides-a-comm");
    let claim = mutant.and_then(|k| {
        k["claims"].as_array().and_then(|claims| {
            claims
                .iter()
                .find(|c| c["id"] == "audit_finds_no_hidden_process")
                .cloned()
        })
    });
    match claim {
        Some(claim) => {
            let evidence = claim["evidence"].as_str().unwrap_or("");
            let found = evidence.split("; found: ").nth(1).unwrap_or(evidence);
            let first = found.split(": ").next().unwrap_or(found);
            format!(
                "{first} (claim {})",
                claim["outcome"].as_str().unwrap_or("")
            )
        }
        None => "not in book/verified/report.json".to_string(),
    }
}

/// Where `program` is on the PATH.
fn which(program: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("no {program} on the PATH"))
}
