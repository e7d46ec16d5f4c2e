//! `just bench`: the checker's core claims against the least work that
//! answers the same question, and against the article's shell method.
//!
//! One run, side by side, for targets of 1, 100, 1,000 and 10,000
//! threads:
//!
//! - **reference**: the floor, in plain system calls: one `getdents64`
//!   pass over `/proc`, then `open` + `read` + `close` of
//!   `/proc/<TID>/comm` for every thread;
//! - **same reads**: what the two core claims read, in plain system
//!   calls: the same pass, then for every thread `stat` of
//!   `/proc/<TID>`, and `comm` and `status` read (the lookup claim
//!   checks all three, as its statement says);
//! - **core claims**: the checker's `listing_shows_the_tgid_but_no_other_tid`
//!   and `every_tid_resolves_by_lookup`, through its library, as a run
//!   checks them;
//! - **shell**: `ls -l /proc | grep <TID>` then `cat /proc/<TID>/comm`,
//!   one `sh -c` per thread, on a sample of threads (it costs
//!   milliseconds each);
//! - **peak memory**: of a child process that runs only the checker's
//!   code, every claim (tracing ones skip) against the 10,000-thread
//!   target as `--pid` would, read with `getrusage(RUSAGE_SELF)`: the
//!   target is another process and is not counted.
//!
//! Times are medians of several rounds after one warm-up round, so
//! that the first lookup of each `/proc/<TID>` (which builds its
//! dentry and inode) is paid by neither side. Built by `cargo bench`,
//! never by `cargo test`. Book: "Performance".

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{medians, ratio};

use checker::children::Launcher;
use checker::claims::{self, CLAIMS, Claim};
use checker::procfs::LiveProc;
use checker::target::Target;

/// The checker binary, whose hidden arguments start the demo.
const CHECKER: &str = env!("CARGO_BIN_EXE_checker-under-test");
const SIZES: [u32; 4] = [1, 100, 1_000, 10_000];
const ROUNDS: usize = 7;
const SHELL_SAMPLE: usize = 20;
/// The child mode that measures the checker's peak memory.
const PEAK_ARG: &str = "__peak";

/// The targets: core claims within this factor of the same reads in
/// bare system calls at 10,000 threads (what the checker adds to the
/// reads its claims must make: the claim framework, and the tolerance
/// of churn, which on a machine at rest reads nothing more), ...
const TARGET_SAME_READS: f64 = 1.1;
/// ... at least this many times faster per thread than the shell ...
const TARGET_SHELL: f64 = 200.0;
/// ... and a peak resident set under this many KiB.
const TARGET_PEAK_KIB: u64 = 20 * 1024;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == PEAK_ARG) {
        let pid = args.get(at + 1).and_then(|p| p.parse().ok());
        peak_child(pid.expect("__peak <pid>"));
        return;
    }
    println!(
        "checker benchmark on Linux {}",
        checker::cli::kernel_release()
    );
    println!(
        "median of {ROUNDS} rounds after a warm-up; times in milliseconds"
    );
    println!();
    println!(
        "{:>8} {:>10} {:>11} {:>12} {:>7} {:>11} {:>8}",
        "threads",
        "reference",
        "same reads",
        "core claims",
        "ratio",
        "same-reads",
        "us/TID"
    );
    let proc = LiveProc::new("/proc");
    let core: Vec<&'static Claim> = [
        "listing_shows_the_tgid_but_no_other_tid",
        "every_tid_resolves_by_lookup",
    ]
    .iter()
    .map(|id| claims::find(id).expect("a core claim"))
    .collect();
    let mut last = None;
    for threads in SIZES {
        let target = Target::spawn(Launcher::at(CHECKER), threads, &proc)
            .expect("the demo target starts");
        let tids = target.tids();
        let floor = || reference(&tids, false);
        let ours = || {
            let report = checker::cli::check(&proc, &target, &core);
            assert!(report.held(), "{}", checker::report::json(&report));
        };
        // The claims raced against the same reads, round by round, so
        // that both meet the same machine.
        let [same_time, core_time] =
            medians(ROUNDS, [&mut || reference(&tids, true), &mut || ours()]);
        let [reference_time, _] =
            medians(ROUNDS, [&mut || floor(), &mut || {}]);
        println!(
            "{threads:>8} {:>10.2} {:>11.2} {:>12.2} {:>6.2}x {:>10.2}x \
             {:>8.2}",
            ms(reference_time),
            ms(same_time),
            ms(core_time),
            ratio(core_time, reference_time),
            ratio(core_time, same_time),
            micros(core_time) / tids.len() as f64
        );
        last = Some((target, core_time, same_time));
    }
    let (target, core_time, same_time) = last.expect("sizes");
    let tids = target.tids();
    let per_thread = core_time / tids.len() as u32;
    let shell = shell_method(&tids);
    let peak = peak_of_checker(target.pid);
    println!();
    println!(
        "article's shell method: {:.2} ms per thread ({} threads \
         sampled), {:.0}x the checker's {:.2} us per thread",
        ms(shell),
        SHELL_SAMPLE,
        ratio(shell, per_thread),
        micros(per_thread)
    );
    match &peak {
        Ok((kib, took)) => println!(
            "checker's peak memory, every claim on the 10000-thread \
             target (--pid): {:.1} MiB (took {:.0} ms)",
            *kib as f64 / 1024.0,
            ms(*took)
        ),
        Err(err) => println!("checker's peak memory: not measured: {err}"),
    }
    println!();
    // The reference reads less than the claims must (no `stat`, no
    // `status`): it is shown above as the floor, not held as a target.
    let core_ratio = ratio(core_time, same_time);
    common::verdict(
        "",
        &format!(
            "core claims within {TARGET_SAME_READS}x of the same reads in \
             bare system calls, at 10000 threads"
        ),
        core_ratio <= TARGET_SAME_READS,
        &format!("{core_ratio:.2}x"),
    );
    let shell_ratio = ratio(shell, per_thread);
    common::verdict(
        "",
        &format!(
            "at least {TARGET_SHELL:.0}x faster per thread than the shell"
        ),
        shell_ratio >= TARGET_SHELL,
        &format!("{shell_ratio:.0}x"),
    );
    if let Ok((kib, _)) = peak {
        common::verdict(
            "",
            "checker's peak memory under 20 MiB",
            kib < TARGET_PEAK_KIB,
            &format!("{:.1} MiB", kib as f64 / 1024.0),
        );
    }
    let _ = std::io::stdout().flush();
}

fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1e3
}

fn micros(time: Duration) -> f64 {
    time.as_secs_f64() * 1e6
}

/// The floor: what any program must do to answer "which TIDs does the
/// listing show, and does each resolve?", in bare system calls. With
/// `same_reads`, also what the lookup claim reads besides `comm`: a
/// `stat` of `/proc/<TID>` and its `status`.
fn reference(tids: &[i32], same_reads: bool) {
    // SAFETY: plain system calls on buffers we own, sized as passed;
    // every descriptor opened here is closed here.
    unsafe {
        let proc = c"/proc";
        let dir =
            libc::open(proc.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
        assert!(dir >= 0, "open /proc");
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = libc::syscall(
                libc::SYS_getdents64,
                dir,
                buf.as_mut_ptr(),
                buf.len(),
            );
            assert!(n >= 0, "getdents64");
            if n == 0 {
                break;
            }
        }
        libc::close(dir);
        let mut path = Vec::with_capacity(32);
        let mut text = [0u8; 4096];
        let mut read_all = |path: &[u8]| {
            let fd = libc::open(path.as_ptr().cast(), libc::O_RDONLY);
            assert!(fd >= 0, "open {}", String::from_utf8_lossy(path));
            while libc::read(fd, text.as_mut_ptr().cast(), text.len()) > 0 {}
            libc::close(fd);
        };
        let mut stat = std::mem::zeroed::<libc::stat>();
        for tid in tids {
            if same_reads {
                path.clear();
                write!(path, "/proc/{tid}\0").expect("a path");
                let found = libc::stat(path.as_ptr().cast(), &mut stat);
                assert_eq!(found, 0, "stat /proc/{tid}");
            }
            path.clear();
            write!(path, "/proc/{tid}/comm\0").expect("a path");
            read_all(&path);
            if same_reads {
                path.clear();
                write!(path, "/proc/{tid}/status\0").expect("a path");
                read_all(&path);
            }
        }
    }
}

/// The article's method for one thread, as a reader would type it,
/// timed per thread over a sample spread across the group.
fn shell_method(tids: &[i32]) -> Duration {
    let step = (tids.len() / SHELL_SAMPLE).max(1);
    let sample: Vec<i32> = tids
        .iter()
        .step_by(step)
        .take(SHELL_SAMPLE)
        .copied()
        .collect();
    let start = Instant::now();
    for tid in &sample {
        let status = Command::new("sh")
            .args([
                "-c",
                "ls -l /proc | grep -w -- \"$1\"; cat /proc/\"$1\"/comm",
                "sh",
                &tid.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("sh runs");
        // grep finds nothing for a thread: the pipeline's status is
        // cat's, which must succeed.
        assert!(status.success(), "cat /proc/{tid}/comm failed");
    }
    start.elapsed() / sample.len() as u32
}

/// Run this program as `__peak <pid>` and read what it reports.
fn peak_of_checker(pid: i32) -> Result<(u64, Duration), String> {
    let exe = std::env::current_exe().map_err(|err| err.to_string())?;
    let output = Command::new(exe)
        .args([PEAK_ARG, &pid.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|err| err.to_string())?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut words = text.split_whitespace();
    let kib = words.next().and_then(|w| w.parse().ok());
    let micros = words.next().and_then(|w| w.parse().ok());
    match (kib, micros) {
        (Some(kib), Some(micros)) => Ok((kib, Duration::from_micros(micros))),
        _ => Err(format!("the child said {text:?} ({})", output.status)),
    }
}

/// The child: only the checker's code, every claim but the tracing
/// ones, on process `pid` as `checker --pid` would see it; then its own
/// peak resident set in KiB and the time taken in microseconds.
fn peak_child(pid: i32) {
    let start = Instant::now();
    let proc = LiveProc::new("/proc");
    let target = Target::existing(Launcher::at(CHECKER), &proc, pid)
        .expect("the target is there");
    // The tracing claims skip: tracing is not asked for.
    let report = checker::cli::check(&proc, &target, CLAIMS);
    let text = checker::report::json(&report);
    assert!(report.held(), "{text}");
    let took = start.elapsed();
    let usage = nix::sys::resource::getrusage(
        nix::sys::resource::UsageWho::RUSAGE_SELF,
    )
    .expect("getrusage");
    // ru_maxrss is in KiB on Linux.
    println!("{} {}", usage.max_rss(), took.as_micros());
}
