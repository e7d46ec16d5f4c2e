//! `churn threads|forks|execs|hog SECS`: tasks that come and go, and
//! load, for the tests that run the checker and the audit on a busy
//! machine. `threads` starts a thread and joins it, over and over;
//! `forks` forks a child that exits at once and reaps it; `execs` runs
//! `true` (fork, exec, exit, reap); `hog` only burns CPU. Each prints
//! `ready` once the first round is done, and stops after SECS seconds
//! (a bound, should the test that started it fail to kill it).

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, fork};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(what), Some(Ok(secs))) =
        (args.first(), args.get(1).map(|s| s.parse::<u64>()))
    else {
        eprintln!("usage: churn threads|forks|execs|hog SECS");
        return ExitCode::from(2);
    };
    let round: fn() = match what.as_str() {
        "threads" => || std::thread::spawn(|| ()).join().unwrap(),
        "forks" => fork_and_reap,
        "execs" => || {
            let _ = std::process::Command::new("true").status();
        },
        "hog" => || {
            let start = Instant::now();
            while start.elapsed() < Duration::from_millis(10) {
                std::hint::spin_loop();
            }
        },
        _ => {
            eprintln!("churn: {what}: not threads, forks, execs or hog");
            return ExitCode::from(2);
        }
    };
    round();
    println!("ready");
    let _ = std::io::stdout().flush();
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        round();
    }
    ExitCode::SUCCESS
}

/// One child, forked and reaped.
fn fork_and_reap() {
    // SAFETY: the process has one thread, and the child only exits.
    match unsafe { fork() }.expect("fork") {
        // SAFETY: _exit(2) is async-signal-safe, and runs no destructor
        // of the parent's state.
        ForkResult::Child => unsafe { libc::_exit(0) },
        ForkResult::Parent { child } => {
            waitpid(child, None).expect("reap the child");
        }
    }
}
