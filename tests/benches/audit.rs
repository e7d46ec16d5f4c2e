//! `just bench`, second part: `checker audit` against `unhide-linux
//! proc` and against the least work that answers "which ids resolve",
//! at this machine's `pid_max` and at 4,194,304.
//!
//! Side by side, in one run:
//!
//! - **bare loop**: `fstatat(<procfs root fd>, "<id>")` for every id
//!   from 1 to `pid_max - 1`, in plain system calls, on one thread and
//!   on as many threads as the audit uses (ids handed out in chunks, as
//!   the audit does): the floor of any such scan;
//! - **audit**: `checker audit --format json`, the release binary, as
//!   an operator runs it: the listing, every lookup, the second look at
//!   what disagrees, the report;
//! - **unhide**: `unhide-linux proc` (Debian's `unhide`), which looks
//!   up every id up to `pid_max` and asks `ps` about those it finds
//!   (where it is not installed, the row says so).
//!
//! The 4,194,304 rows run in a private pid namespace with its own
//! procfs (`unshare --pid --fork --mount-proc`, and `--user
//! --map-root-user` for a normal user), whose `pid_max` is 4,194,304
//! on this project's kernels or is set so there. Times are medians of
//! several rounds after a warm-up (unhide, at minutes per round there,
//! runs once). Built by `cargo bench`, never by `cargo test`. Book:
//! "Hidden processes, and why detectors trip over threads".

use std::io::Write as _;
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;

const CHECKER: &str = env!("CARGO_BIN_EXE_checker-under-test");
const ROUNDS: usize = 5;
/// What systemd sets, and what a new pid namespace starts with.
const BIG: u32 = 4_194_304;
/// The child mode that measures inside the private pid namespace.
const IN_NAMESPACE: &str = "__in_namespace";

/// The targets: at this machine's pid_max at least this many
/// times faster than `unhide-linux proc`, ...
const TARGET_UNHIDE: f64 = 10.0;
/// ... and at 4,194,304 under this many seconds, ...
const TARGET_SECONDS: f64 = 5.0;
/// ... within this factor of the bare loop on the same cores.
const TARGET_BARE: f64 = 1.5;

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
        "{jobs} cores; median of {ROUNDS} rounds after a warm-up \
         (unhide once at {BIG}); times in seconds"
    );
    let pid_max = read_pid_max();
    measure(pid_max, jobs, true);
    in_a_namespace();
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
    let bare_one = median(|| bare_loop(pid_max, 1));
    let bare_all = median(|| bare_loop(pid_max, jobs));
    let audit = median(run_audit);
    let rounds = if pid_max >= BIG { 1 } else { ROUNDS };
    let unhide = unhide(rounds);
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
    if pid_max < BIG {
        if let Ok(time) = unhide {
            let faster = ratio(time, audit);
            verdict(
                &format!(
                    "at least {TARGET_UNHIDE:.0}x faster than unhide-linux \
                     proc at pid_max {pid_max}"
                ),
                faster >= TARGET_UNHIDE,
                &format!("{faster:.1}x"),
            );
        }
    } else {
        verdict(
            &format!("a full audit under {TARGET_SECONDS:.0} s at {pid_max}"),
            secs(audit) < TARGET_SECONDS,
            &format!("{:.2} s", secs(audit)),
        );
        let of_bare = ratio(audit, bare_all);
        verdict(
            &format!(
                "within {TARGET_BARE}x of the bare loop on {jobs} threads"
            ),
            of_bare <= TARGET_BARE,
            &format!("{of_bare:.2}x"),
        );
    }
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
    let text = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .expect("read /proc/sys/kernel/pid_max");
    text.trim().parse().expect("pid_max is a number")
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

/// The median of `ROUNDS` timed calls after one warm-up.
fn median(mut f: impl FnMut()) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn verdict(what: &str, met: bool, figure: &str) {
    let word = if met { "met" } else { "MISSED" };
    println!("  target {word}: {what} ({figure})");
}

fn secs(time: Duration) -> f64 {
    time.as_secs_f64()
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}
