//! `reaper REPORT -- COMMAND...`: runs COMMAND as a child subreaper, so
//! that every process COMMAND leaves behind, a zombie included, becomes
//! our child instead of init's; once COMMAND has ended, writes to the
//! file REPORT how it ended and which processes it left (then kills and
//! reaps them), and exits as COMMAND did.
//!
//! For the tests that press Ctrl-C: on a system whose init reaps
//! orphans, a zombie the program left would vanish before a test could
//! see it. Ctrl-C at the terminal reaches us too (we are in the
//! foreground job): a handler that does nothing keeps us alive, and,
//! unlike ignoring SIGINT, leaves COMMAND its default action.

use std::fmt::Write as _;
use std::process::{Command, ExitCode};

use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

extern "C" fn nothing(_: libc::c_int) {}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(report), Some("--"), Some(program)) =
        (args.get(1), args.get(2).map(String::as_str), args.get(3))
    else {
        eprintln!("usage: reaper REPORT -- COMMAND...");
        return ExitCode::from(2);
    };
    nix::sys::prctl::set_child_subreaper(true)
        .expect("PR_SET_CHILD_SUBREAPER");
    let keep_alive = SigAction::new(
        SigHandler::Handler(nothing),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in [Signal::SIGINT, Signal::SIGQUIT, Signal::SIGTSTP] {
        // SAFETY: the handler does nothing.
        unsafe { signal::sigaction(sig, &keep_alive) }.expect("sigaction");
    }
    let child = Command::new(program).args(&args[4..]).spawn();
    let child = match child {
        Ok(child) => Pid::from_raw(child.id() as i32),
        Err(err) => {
            eprintln!("reaper: cannot run {program}: {err}");
            return ExitCode::from(127);
        }
    };
    let (ended, code) = loop {
        match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, code)) => {
                break (format!("exit {code}"), code);
            }
            Ok(WaitStatus::Signaled(_, sig, _)) => {
                break (format!("signal {}", sig as i32), 128 + sig as i32);
            }
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(err) => panic!("waitpid: {err}"),
        }
    };
    let mut text = format!("{ended}\n");
    for (pid, line) in children() {
        let _ = writeln!(text, "left {line}");
        let _ = signal::kill(pid, Signal::SIGKILL);
    }
    // Reap all we killed, and zombies.
    while let Ok(status) = waitpid(None, Some(WaitPidFlag::__WALL)) {
        if matches!(status, WaitStatus::StillAlive) {
            break;
        }
    }
    std::fs::write(report, text).expect("write the report");
    ExitCode::from(u8::try_from(code).unwrap_or(255))
}

/// Our children, from /proc: each with its `stat` line (pid, comm,
/// state), zombies included.
fn children() -> Vec<(Pid, String)> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat"))
        else {
            continue;
        };
        // pid (comm) state ppid ...: comm may hold spaces and ')'.
        let Some(after) = stat.rfind(')').map(|at| &stat[at + 2..]) else {
            continue;
        };
        let fields: Vec<&str> = after.split_whitespace().collect();
        if fields.get(1) == Some(&me.as_str()) {
            let head = &stat[..stat.rfind(')').unwrap_or(0) + 1];
            found.push((Pid::from_raw(pid), format!("{head} {}", fields[0])));
        }
    }
    found
}
