//! Exercises `checker::trace` on a real kernel and prints what it
//! recorded: the raw `trace` text (the parser's test samples come from
//! here) and the parsed, redacted stacks (the tracing chapter).
//!
//! Run it as the `/init` of a VM kernel of the matrix:
//!
//! ```text
//! RUSTFLAGS='-C target-feature=+crt-static' cargo build --release \
//!     --example trace_probe --target x86_64-unknown-linux-gnu \
//!     --target-dir target/trace-probe
//! dir=target/trace-probe/x86_64-unknown-linux-gnu/release/examples
//! cargo xtask matrix --no-host --init $dir/trace_probe
//! ```
//!
//! then read `target/matrix/console/<kernel>.log` (the runner reports
//! "no report": this probe prints none). Run natively, it shows why
//! tracing is unavailable on the host.
//!
//! Also checks the cleanup paths: an instance left by a dead process
//! is removed by the next session, SIGTERM removes the instance, and
//! SIGKILL leaves it to the next session.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use checker::trace::{self, Session};

/// The functions traced: both readdir and both lookup levels.
const FUNCTIONS: &[&str] = &[
    "proc_root_readdir",
    "proc_pid_readdir",
    "proc_root_lookup",
    "proc_pid_lookup",
];

fn main() {
    // As the checker does: SIGINT, SIGTERM and SIGHUP remove the
    // instance of a live session (the cleanup checks below send them).
    checker::stop::install();
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("--target") => return target(),
        Some("--session-child") => return session_child(),
        Some("--panic-child") => return panic_child(),
        _ => {}
    }
    let init = std::process::id() == 1;
    if init {
        mount_all();
    }
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default();
    println!("=== kernel {}", kernel.trim());
    probe();
    cleanup_checks();
    println!("=== probe done");
    if init {
        power_off();
    }
}

fn probe() {
    let mut target = spawn_self("--target");
    let mut line = String::new();
    let mut out = BufReader::new(target.stdout.take().expect("piped"));
    out.read_line(&mut line)
        .expect("target prints its thread id");
    let tid: u32 = line.trim().parse().expect("a thread id");
    println!("=== target pid {} thread {tid}", target.id());

    let mut session = match Session::start(FUNCTIONS) {
        Ok(s) => s,
        Err(e) => {
            println!("=== unavailable: {e}");
            stop(target);
            return;
        }
    };
    println!("=== instance {}", session.instance().display());
    let comm = format!("/proc/{tid}/comm");
    let listed = run(&mut session, "listing /proc", || {
        std::fs::read_dir("/proc")
            .expect("read /proc")
            .flatten()
            .any(|e| e.file_name().to_string_lossy() == tid.to_string())
    });
    println!("=== thread id listed: {listed}");
    let first = run(&mut session, "first open of comm", || {
        std::fs::read_to_string(&comm)
    });
    println!("=== comm: {first:?}");
    let second = run(&mut session, "second open of comm", || {
        std::fs::read_to_string(&comm)
    });
    println!("=== comm again: {second:?}");
    let instance = session.instance().to_owned();
    drop(session);
    println!("=== instance removed on drop: {}", !instance.exists());
    stop(target);
}

/// Records `op`, prints the raw trace and each stack, redacted.
fn run<R>(session: &mut Session, what: &str, op: impl FnOnce() -> R) -> R {
    let (r, stacks) = match session.record(op) {
        Ok(x) => x,
        Err(e) => panic!("record {what}: {e}"),
    };
    let raw = std::fs::read_to_string(session.instance().join("trace"))
        .unwrap_or_else(|e| format!("(cannot read trace: {e})"));
    println!("=== raw trace: {what}\n{}=== end raw", raw);
    println!("=== {} stacks: {what}", stacks.len());
    for s in &stacks {
        println!("--- stack\n{}", trace::redacted(s));
    }
    r
}

/// The target process: one extra thread, its id on stdout, then wait
/// for stdin to close.
fn target() {
    let (tx, rx) = std::sync::mpsc::channel();
    let _thread = std::thread::Builder::new()
        .name("probe-thread".into())
        .spawn(move || {
            tx.send(nix::unistd::gettid()).expect("send");
            std::thread::park();
        })
        .expect("spawn");
    let tid = rx.recv().expect("thread id");
    println!("{tid}");
    let _ = std::io::stdout().flush();
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}

/// A process that starts a session, says its instance, and waits to
/// be killed.
fn session_child() {
    match Session::start(FUNCTIONS) {
        Ok(s) => {
            println!("{}", s.instance().display());
            let _ = std::io::stdout().flush();
            std::thread::sleep(Duration::from_secs(60));
            drop(s);
        }
        Err(e) => println!("unavailable: {e}"),
    }
}

/// A process that panics inside `record`: unwinding drops the session.
fn panic_child() {
    let mut s = match Session::start(FUNCTIONS) {
        Ok(s) => s,
        Err(e) => return println!("unavailable: {e}"),
    };
    println!("{}", s.instance().display());
    let _ = std::io::stdout().flush();
    let _ = s.record(|| panic!("on purpose, inside record"));
}

fn cleanup_checks() {
    let tracing = Path::new("/sys/kernel/tracing/instances");
    if !tracing.is_dir() {
        return;
    }
    // A stale instance of a pid that cannot exist.
    let stale = tracing.join("proc-threads-checker-4000000");
    let made = std::fs::create_dir(&stale);
    println!("=== made stale instance: {made:?}");
    for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGKILL] {
        let mut child = spawn_self("--session-child");
        let mut line = String::new();
        let mut out = BufReader::new(child.stdout.take().expect("piped"));
        out.read_line(&mut line).expect("child says its instance");
        let dir = line.trim().to_owned();
        // SAFETY: plain kill(2) of our own child.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait();
        println!(
            "=== signal {signal}: child {status:?}; instance {dir} left \
             behind: {}",
            Path::new(&dir).exists()
        );
    }
    let mut child = spawn_self("--panic-child");
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().expect("piped"));
    out.read_line(&mut line).expect("child says its instance");
    let status = child.wait();
    println!(
        "=== panic: child {status:?}; instance {} left behind: {}",
        line.trim(),
        Path::new(line.trim()).exists()
    );
    println!("=== stale instance still there: {}", stale.exists());
    // The next session removes what SIGKILL left, and the stale one.
    let s = Session::start(FUNCTIONS);
    drop(s);
    let left: Vec<String> = std::fs::read_dir(tracing)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    println!("=== instances after next session: {left:?}");
}

fn spawn_self(arg: &str) -> Child {
    Command::new("/proc/self/exe")
        .arg(arg)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn self")
}

fn stop(mut target: Child) {
    drop(target.stdin.take());
    let _ = target.wait();
}

fn mount_all() {
    use nix::mount::{MsFlags, mount};
    for (fstype, dir) in [
        ("proc", "/proc"),
        ("devtmpfs", "/dev"),
        ("sysfs", "/sys"),
        ("tracefs", "/sys/kernel/tracing"),
    ] {
        let _ = std::fs::create_dir_all(dir);
        let flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC;
        if let Err(e) =
            mount(Some(fstype), dir, Some(fstype), flags, None::<&str>)
        {
            println!("=== mount {fstype} on {dir}: {e}");
        }
    }
}

fn power_off() -> ! {
    let _ = std::io::stdout().flush();
    nix::unistd::sync();
    let _ =
        nix::sys::reboot::reboot(nix::sys::reboot::RebootMode::RB_POWER_OFF);
    loop {
        std::thread::park();
    }
}
