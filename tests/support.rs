//! What the tests share: the binaries under test, live targets, process
//! bookkeeping and the redactions that make snapshots stable.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use checker::parse::parse_stat;
use checker::procfs::LiveProc;
use checker::target::{DemoProgram, Target};

/// `checker`, as built for the tests.
pub(crate) const CHECKER: &str = env!("CARGO_BIN_EXE_checker-under-test");
/// `demo-spawner`, as built for the tests.
pub(crate) const DEMO: &str = env!("CARGO_BIN_EXE_demo-spawner-under-test");

/// The workspace root, for reading sources and the book.
pub(crate) fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
}

/// The live `/proc`.
pub(crate) fn proc() -> LiveProc {
    LiveProc::new("/proc")
}

/// A demo target with `threads` named threads, as the checker starts it.
pub(crate) fn live_target(threads: u32) -> Target {
    Target::spawn(DemoProgram::binary(DEMO), threads, &proc())
        .expect("the demo target starts")
}

/// Make the process `command` starts die with the test thread that
/// starts it (`PR_SET_PDEATHSIG` follows the forking thread): a test
/// that fails between spawn and wait leaves no process behind.
pub(crate) fn dies_with_test(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec the closure makes only the
    // async-signal-safe prctl(2) system call.
    unsafe {
        command.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
            Ok(())
        })
    }
}

/// Run a command to its end, with a bound so a hang fails the test
/// instead of stalling the suite.
pub(crate) fn run(command: &mut Command) -> Output {
    let child = dies_with_test(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    wait_bounded(child, Duration::from_secs(60))
}

/// Wait for `child` to end, killing it after `limit`.
pub(crate) fn wait_bounded(child: Child, limit: Duration) -> Output {
    let pid = child.id() as i32;
    let watchdog = std::thread::spawn(move || {
        let start = Instant::now();
        while start.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(50));
            if !alive(pid) {
                return;
            }
        }
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    });
    let output = child.wait_with_output().expect("wait for the command");
    let _ = watchdog.join();
    output
}

/// Whether `pid` is a running (not zombie) process.
pub(crate) fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(text) => parse_stat(&text).is_ok_and(|stat| stat.state != 'Z'),
        Err(_) => false,
    }
}

/// Every live process whose parent is `parent`.
pub(crate) fn children_of(parent: i32) -> Vec<i32> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("list /proc").flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        else {
            continue;
        };
        if parse_stat(&text).is_ok_and(|s| s.ppid == parent && s.state != 'Z')
        {
            children.push(pid);
        }
    }
    children
}

/// Poll `condition` every 10 ms for up to `limit`.
pub(crate) fn eventually(
    limit: Duration,
    mut condition: impl FnMut() -> bool,
) -> bool {
    let start = Instant::now();
    loop {
        if condition() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Replaces ids and other values that change from run to run with
/// named placeholders, so snapshots compare what matters.
#[derive(Debug, Default)]
pub(crate) struct Redactor {
    names: Vec<(String, String)>,
}

/// Numbers that mean the same on every run and every machine: the
/// kernel's listing constants and small counts.
const STABLE: &[&str] = &["256", "257", "258", "4194304", "4194562"];

impl Redactor {
    /// Redact the number `value` as `[NAME]`.
    pub(crate) fn name(
        mut self,
        value: impl ToString,
        placeholder: &str,
    ) -> Self {
        self.names
            .push((value.to_string(), format!("[{placeholder}]")));
        self
    }

    /// Name the target's ids: `[PID]`, `[TID1]`..., `[EXITED]`.
    pub(crate) fn target(mut self, target: &Target) -> Self {
        self = self.name(target.pid, "PID");
        for (index, thread) in target.threads.iter().enumerate() {
            self = self.name(thread.tid, &format!("TID{}", index + 1));
        }
        for tid in &target.exited {
            self = self.name(tid, "EXITED");
        }
        self
    }

    /// Replace the named numbers, the kernel release (`[KERNEL]`), CPU
    /// tick counts (`[N] ticks`), and any other number of two digits or
    /// more that is not a kernel constant (`[N]`).
    pub(crate) fn redact(&self, text: &str) -> String {
        let release = checker::cli::kernel_release();
        let text = text.replace(&release, "[KERNEL]");
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
            out.push_str(&rest[..start]);
            let digits = &rest[start..];
            let end = digits
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(digits.len());
            let number = &digits[..end];
            rest = &digits[end..];
            // Glued to a letter or `_` (v5, x86_64): not a number of ours.
            let glued = out.ends_with(|c: char| c.is_alphabetic() || c == '_');
            // TAP's plan and summary count claims too.
            let counted = ["1..", "pass ", "fail ", "skip "]
                .iter()
                .any(|w| out.ends_with(w));
            if glued || counted {
                out.push_str(number);
            } else {
                out.push_str(&self.number(number, rest));
            }
        }
        out.push_str(rest);
        out
    }

    fn number(&self, number: &str, after: &str) -> String {
        // `0<TID>`: the leading-zero name of a known id.
        if let Some(inner) = number.strip_prefix('0') {
            if let Some((_, name)) =
                self.names.iter().find(|(v, _)| v == inner)
            {
                return format!("0{name}");
            }
        }
        if let Some((_, name)) = self.names.iter().find(|(v, _)| v == number) {
            return name.clone();
        }
        // Counts of claims are the registry's, the same everywhere.
        let claim_count = [" claims", " passed", " - "]
            .iter()
            .any(|w| after.starts_with(w));
        if claim_count {
            return number.to_string();
        }
        let tick_count = after.starts_with(" tick");
        if tick_count || (number.len() >= 2 && !STABLE.contains(&number)) {
            return "[N]".to_string();
        }
        number.to_string()
    }
}

#[test]
fn redaction_names_ids_and_keeps_constants() {
    let redactor = Redactor::default().name(4242, "PID").name(4243, "TID1");
    assert_eq!(
        redactor.redact("4242 at 4500 (258 + 4242); 04243 and 4243x; 3 of 4; 7 ticks; x86_64"),
        "[PID] at [N] (258 + [PID]); 0[TID1] and [TID1]x; 3 of 4; [N] ticks; x86_64"
    );
}
