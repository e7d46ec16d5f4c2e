//! What the tests share: the binaries under test, live targets, process
//! bookkeeping and the redactions that make snapshots stable.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use checker::children::Launcher;
use checker::procfs::{LiveProc, Procfs};
use checker::target::Target;

/// `checker`, as built for the tests.
pub(crate) const CHECKER: &str = env!("CARGO_BIN_EXE_checker-under-test");
/// `demo-spawner`, as built for the tests.
pub(crate) const DEMO: &str = env!("CARGO_BIN_EXE_demo-spawner-under-test");
/// The workshop, as built for the tests.
pub(crate) const WORKSHOP: &str = env!("CARGO_BIN_EXE_workshop-under-test");
/// `churn`: tasks that come and go, and load (tests/bin/churn.rs).
const CHURN: &str = env!("CARGO_BIN_EXE_churn");

/// A `churn` process, killed and reaped when dropped, as a [`Sleeper`].
pub(crate) struct Churn(Sleeper);

impl Churn {
    /// Start `churn what` and wait until its first round is done.
    pub(crate) fn start(what: &str) -> Churn {
        let (child, line) = started(Command::new(CHURN).args([what, "600"]));
        assert_eq!(line, "ready\n", "churn {what}");
        Churn(Sleeper(child))
    }

    pub(crate) fn pid(&self) -> i32 {
        self.0.pid() as i32
    }
}

/// A process to look at or to hide, killed and reaped when dropped.
pub(crate) struct Sleeper(pub(crate) Child);

impl Sleeper {
    /// `sleep 300` started by the name `program` (a path to `sleep`, or
    /// a link to it), once it has exec'd: until then its comm is ours.
    pub(crate) fn start(program: &Path) -> Sleeper {
        let child = dies_with_test(Command::new(program).arg("300"))
            .spawn()
            .expect("start sleep");
        let comm = format!("/proc/{}/comm", child.id());
        let name = program.file_name().unwrap().to_string_lossy();
        let wanted: String = name.chars().take(15).chain(['\n']).collect();
        let slept = eventually(Duration::from_secs(10), || {
            std::fs::read_to_string(&comm).is_ok_and(|c| c == wanted)
        });
        assert!(slept, "{comm} never said {wanted}");
        Sleeper(child)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// tests/preload/hide_comm.c, compiled with `cc` into `dir`.
pub(crate) fn preload_library(dir: &Path) -> Result<PathBuf, String> {
    let source = workspace().join("tests/preload/hide_comm.c");
    let library = dir.join("hide_comm.so");
    let output = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&library)
        .arg(&source)
        .arg("-ldl")
        .output()
        .map_err(|err| format!("cc: {err} (apt-get install gcc)"))?;
    match output.status.success() {
        true => Ok(library),
        false => Err(format!(
            "cc {}: {}",
            source.display(),
            String::from_utf8_lossy(&output.stderr)
        )),
    }
}

/// The workspace root, for reading sources and the book.
pub(crate) fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
}

/// Every file under `dir` named `*.<ext>`, sorted; `target/` and hidden
/// entries left out.
pub(crate) fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries.flatten() {
            let (path, name) = (entry.path(), entry.file_name());
            if name == "target" || name.to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// A fresh directory of the test's own, `<name>-<pid>` under the
/// build's scratch directory.
pub(crate) fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// The number in `/proc/sys/kernel/<name>` (`pid_max`, `threads-max`).
pub(crate) fn kernel_limit(name: &str) -> i64 {
    let path = format!("/proc/sys/kernel/{name}");
    let text = std::fs::read_to_string(&path).expect(&path);
    text.trim().parse().expect("a number")
}

/// The live `/proc`.
pub(crate) fn proc() -> LiveProc {
    LiveProc::new("/proc")
}

/// The processes a claim starts (the demo, the pid-namespace probe),
/// from the checker binary under test and its hidden arguments.
pub(crate) fn helpers() -> Launcher {
    Launcher::at(CHECKER)
}

/// A demo target with `threads` named threads, as the checker starts it.
pub(crate) fn live_target(threads: u32) -> Target {
    Target::spawn(helpers(), threads, &proc()).expect("the demo target starts")
}

/// Start `command`, dying with the test, and read the first line of its
/// stdout: the line a helper prints once it is ready.
pub(crate) fn started(command: &mut Command) -> (Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = dies_with_test(command)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the command starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("read its first line");
    (child, line)
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

/// A command that runs `program` as an unprivileged user: as `nobody`
/// (with `setpriv`) when the tests run as root, else as whoever runs
/// them. What a reader at a laptop gets, on either kind of run.
pub(crate) fn as_a_user(program: impl AsRef<std::ffi::OsStr>) -> Command {
    if !nix::unistd::geteuid().is_root() {
        return Command::new(program);
    }
    let mut command = Command::new("setpriv");
    command
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(program);
    command
}

/// Start `command`, dying with the test: stdin closed, stdout and
/// stderr piped.
pub(crate) fn spawned(command: &mut Command) -> Child {
    dies_with_test(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts")
}

/// Run a command to its end, with a bound so a hang fails the test
/// instead of stalling the suite.
pub(crate) fn run(command: &mut Command) -> Output {
    wait_bounded(spawned(command), Duration::from_secs(60))
}

/// The stdout and stderr of a run, as text.
pub(crate) fn texts(output: &Output) -> (String, String) {
    let text = |bytes| String::from_utf8_lossy(bytes).into_owned();
    (text(&output.stdout), text(&output.stderr))
}

/// [`texts`] of a run that must have exited with `code`: if it did
/// not, the failure shows both.
pub(crate) fn exited(output: &Output, code: i32) -> (String, String) {
    let (stdout, stderr) = texts(output);
    assert_eq!(output.status.code(), Some(code), "{stdout}{stderr}");
    (stdout, stderr)
}

/// The one line on stderr of a run that must exit with `code` and
/// print nothing else.
pub(crate) fn error_line(command: &mut Command, code: i32) -> String {
    let output = run(command);
    let (stdout, stderr) = texts(&output);
    assert_eq!(output.status.code(), Some(code), "{command:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stdout.is_empty(),
        "nothing printed before the error: {stdout}"
    );
    stderr
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
    proc()
        .stat(&format!("{pid}/stat"))
        .is_ok_and(|s| s.state != 'Z')
}

/// Every live process whose parent is `parent`.
pub(crate) fn children_of(parent: i32) -> Vec<i32> {
    let child = |pid: &i32| {
        let stat = proc().stat(&format!("{pid}/stat"));
        stat.is_ok_and(|s| s.ppid == parent && s.state != 'Z')
    };
    let pids = proc().pids(".").expect("list /proc");
    pids.into_iter().filter(child).collect()
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
    /// Numbers kept as they are, though they would be `[N]`.
    kept: Vec<String>,
    /// Write the named ids as the fixed numbers of [`AS_NUMBERS`].
    numbers: bool,
}

/// The ids the book's transcripts show, instead of `[PID]` and `[TID1]`:
/// a bracketed name in a command a reader pastes is shell syntax (a
/// glob, and a bracket expression to `grep`). The book says at first use
/// that these are one run's ids. The exited thread sits between the
/// leader and its threads, as its id was handed out there.
const AS_NUMBERS: &[(&str, &str)] = &[
    ("[PID]", "4242"),
    ("[EXITED]", "4243"),
    ("[TID1]", "4244"),
    ("[TID2]", "4245"),
    ("[TID3]", "4246"),
    ("[OTHER]", "4250"),
];

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

    /// Keep the number `value` as it is (a constant of ours, such as the
    /// demo's `--busy-ms`).
    pub(crate) fn keep(mut self, value: impl ToString) -> Self {
        self.kept.push(value.to_string());
        self
    }

    /// Write the named ids as realistic numbers (see [`AS_NUMBERS`]).
    pub(crate) fn with_numbers(mut self) -> Self {
        self.numbers = true;
        self
    }

    /// Name the target's ids: `[PID]`, `[TID1]`..., `[EXITED]`.
    pub(crate) fn target(mut self, target: &Target) -> Self {
        self = self.name(target.pid, "PID");
        for (index, tid) in target.threads.iter().enumerate() {
            self = self.name(tid, &format!("TID{}", index + 1));
        }
        for tid in target.exited() {
            self = self.name(tid, "EXITED");
        }
        self
    }

    /// Replace the named numbers, the kernel release (`[KERNEL]`), CPU
    /// tick counts (`[N] ticks`), and any other number of two digits or
    /// more that is not a kernel constant (`[N]`).
    pub(crate) fn redact(&self, text: &str) -> String {
        let release = checker::cli::kernel_release();
        // Where this checkout and its build are, which differ between
        // machines: the binary first, as it may sit inside the checkout.
        let text = text
            .replace(CHECKER, "[CHECKER-BINARY]")
            .replace(&workspace().display().to_string(), "[WORKSPACE]")
            .replace(&release, "[KERNEL]");
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
            // Glued to a letter or `_` (v5, x86_64), or a word size
            // (64-bit): not a number of ours.
            let glued = out.ends_with(|c: char| c.is_alphabetic() || c == '_')
                || rest.starts_with("-bit");
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
        let shown = |name: &String| {
            let number = AS_NUMBERS
                .iter()
                .find(|(placeholder, _)| self.numbers && placeholder == name);
            number.map_or(name.clone(), |(_, n)| n.to_string())
        };
        // `0<TID>`: the leading-zero name of a known id.
        if let Some(inner) = number.strip_prefix('0') {
            if let Some((_, name)) =
                self.names.iter().find(|(v, _)| v == inner)
            {
                return format!("0{}", shown(name));
            }
        }
        if let Some((_, name)) = self.names.iter().find(|(v, _)| v == number) {
            return shown(name);
        }
        if self.kept.iter().any(|kept| kept == number) {
            return number.to_string();
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
fn with_numbers_the_ids_read_as_one_run_s() {
    let redactor = Redactor::default()
        .name(31337, "PID")
        .name(31340, "TID1")
        .keep(300)
        .with_numbers();
    assert_eq!(
        redactor.redact("ls /proc | grep -w 31340; 031337 300 ms, 4100"),
        "ls /proc | grep -w 4244; 04242 300 ms, [N]"
    );
}

#[test]
fn redaction_names_ids_and_keeps_constants() {
    let redactor = Redactor::default().name(4242, "PID").name(4243, "TID1");
    assert_eq!(
        redactor.redact(
            "4242 at 4500 (258 + 4242); 04243 and 4243x; 3 of 4; 7 ticks; \
             x86_64, 64-bit"
        ),
        "[PID] at [N] (258 + [PID]); 0[TID1] and [TID1]x; 3 of 4; [N] \
         ticks; x86_64, 64-bit"
    );
}

/// Fail unless a report, in every format, reads well: no Rust Debug
/// form instead of text for people (`Some(299)`, `Err(Os { code: 2,
/// .. })`, `None`), JSON that the shipped schema accepts, and JUnit that
/// an XML parser reads with one testcase per claim.
pub(crate) fn reads_well(report: &checker::report::Report) {
    let human = checker::report::human(report, None);
    let json = checker::report::json(report);
    let junit = checker::report::junit(report);
    let formats = [
        ("human", anstream::adapter::strip_str(&human).to_string()),
        ("tap", checker::report::tap(report)),
        ("json", json.clone()),
        ("junit", junit.clone()),
    ];
    for (format, text) in formats {
        for debug in ["Some(", "None", "Err(", "Ok(", "Os {"] {
            assert!(
                !text.contains(debug),
                "{debug} in the {format} report:\n{text}"
            );
        }
    }
    valid_report_json(&json);
    let cases = junit_testcases(&junit);
    assert_eq!(cases.len(), report.claims.len(), "{junit}");
}

/// The shipped JSON Schema of the checker's report.
pub(crate) const SCHEMA: &str = "checker/report.schema.json";

/// Fail unless `text` is a report that `checker/report.schema.json`
/// accepts.
pub(crate) fn valid_report_json(text: &str) {
    fits_schema(SCHEMA, text);
}

/// Fail unless `text` is a JSON document that the JSON Schema in
/// `file` (relative to the workspace) accepts.
pub(crate) fn fits_schema(file: &str, text: &str) {
    let path = workspace().join(file);
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .expect("the schema is JSON");
    let url = schema["$id"].as_str().expect("the schema has an $id");
    let mut compiler = boon::Compiler::new();
    let mut schemas = boon::Schemas::new();
    compiler.add_resource(url, schema.clone()).unwrap();
    let index = compiler
        .compile(url, &mut schemas)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let report: serde_json::Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    if let Err(err) = schemas.validate(&report, index) {
        panic!("the report does not fit {file}: {err:#}\n{text}");
    }
}

/// The testcases of a JUnit report, as an XML parser reads it: each
/// testcase's name, and the name of its first child element (`failure`,
/// `skipped`, `system-out`) with that element's `message` or text.
pub(crate) fn junit_testcases(xml: &str) -> Vec<(String, String, String)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut cases = Vec::new();
    let mut open: Option<(String, String, String)> = None;
    let mut in_text = false;
    loop {
        let event = reader.read_event().unwrap_or_else(|e| {
            panic!("not XML at {}: {e}\n{xml}", reader.buffer_position())
        });
        let attr = |tag: &quick_xml::events::BytesStart<'_>, key: &[u8]| {
            (tag.attributes().flatten())
                .find(|a| a.key.as_ref() == key)
                .map(|a| a.unescape_value().unwrap().into_owned())
                .unwrap_or_default()
        };
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(tag) | Event::Empty(tag)
                if tag.name().as_ref() == b"testcase" =>
            {
                open =
                    Some((attr(&tag, b"name"), String::new(), String::new()));
                if empty {
                    cases.extend(open.take());
                }
            }
            Event::Start(tag) | Event::Empty(tag) => {
                if let Some(case) = open.as_mut().filter(|c| c.1.is_empty()) {
                    case.1 =
                        String::from_utf8_lossy(tag.name().as_ref()).into();
                    case.2 = attr(&tag, b"message");
                    in_text = case.2.is_empty();
                }
            }
            Event::Text(text) if in_text => {
                if let Some(case) = open.as_mut() {
                    case.2 += &text.unescape().unwrap();
                }
            }
            Event::End(tag) if tag.name().as_ref() == b"testcase" => {
                cases.extend(open.take());
                in_text = false;
            }
            Event::End(_) => in_text = false,
            Event::Eof => break,
            _ => {}
        }
    }
    cases
}

/// A system call a [`refuse`] filter answers with an error instead of
/// running it: what a kernel, a container runtime or a security module
/// that forbids it would answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Refusal {
    pub(crate) syscall: libc::c_long,
    /// Refuse only when the first argument has one of these bits (for
    /// `unshare(CLONE_NEWUSER)`); `None` refuses every call.
    pub(crate) arg0_bits: Option<u32>,
    pub(crate) errno: i32,
}

/// The audit architecture of the seccomp data this filter expects
/// (include/uapi/linux/audit.h).
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;

/// Install, in the process `command` starts, a seccomp filter that
/// makes each of `refusals` fail with its errno (seccomp(2),
/// `SECCOMP_RET_ERRNO`). No privilege needed: `PR_SET_NO_NEW_PRIVS`
/// first. The filter is inherited by every process it starts.
pub(crate) fn refuse<'a>(
    command: &'a mut Command,
    refusals: &[Refusal],
) -> &'a mut Command {
    use std::os::unix::process::CommandExt;
    // BPF on struct seccomp_data: nr at 0, arch at 4, args[0] at 16
    // (its low 32 bits, on these little-endian machines).
    let stmt = |code: u32, k: u32| libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    };
    let jump = |k: u32, jt: u8, jf: u8| libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt,
        jf,
        k,
    };
    let load =
        |offset: u32| stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, offset);
    let ret = |k: u32| stmt(libc::BPF_RET | libc::BPF_K, k);
    let mut program = vec![
        load(4),
        jump(AUDIT_ARCH, 1, 0),
        ret(libc::SECCOMP_RET_KILL_PROCESS),
    ];
    for refusal in refusals {
        let errno = libc::SECCOMP_RET_ERRNO | refusal.errno as u32;
        program.push(load(0));
        match refusal.arg0_bits {
            None => {
                program.push(jump(refusal.syscall as u32, 0, 1));
                program.push(ret(errno));
            }
            Some(bits) => {
                program.push(jump(refusal.syscall as u32, 0, 4));
                program.push(load(16));
                program.push(stmt(
                    libc::BPF_ALU | libc::BPF_AND | libc::BPF_K,
                    bits,
                ));
                program.push(jump(0, 1, 0));
                program.push(ret(errno));
            }
        }
    }
    program.push(ret(libc::SECCOMP_RET_ALLOW));
    // SAFETY: between fork and exec the closure makes only the
    // async-signal-safe prctl(2) system call, on a program built before
    // the fork and moved into the closure.
    unsafe {
        command.pre_exec(move || {
            let filter = libc::sock_fprog {
                len: program.len() as u16,
                filter: program.as_ptr().cast_mut(),
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &filter as *const libc::sock_fprog,
                ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// Who runs the checker in a test: the test process itself, or an
/// unprivileged user ([`as_a_user`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Runner {
    Here,
    User,
}

/// The claims that skip on a run of the checker by `who` on this
/// machine: the pid-namespace claim where its probe is refused (as
/// `tests/build.rs` found).
pub(crate) fn skipped(who: Runner) -> Vec<&'static str> {
    let refused = match who {
        Runner::Here => cfg!(pidns_refused_here),
        Runner::User => cfg!(userns_refused),
    };
    let pidns = "lookup_is_relative_to_the_mounts_pid_namespace";
    match refused {
        true => vec![pidns],
        false => Vec::new(),
    }
}

/// The claims that do not run unless asked for (`--trace`, `--audit`).
pub(crate) fn not_run() -> Vec<&'static str> {
    let claims = checker::claims::CLAIMS.iter();
    claims
        .filter(|claim| claim.opt_in().is_some())
        .map(|claim| claim.id)
        .collect()
}

/// How many claims pass, skip and are not run on a run by `who`
/// without `--trace` or `--audit` in which every claim that does not
/// skip here passes.
fn all_held(who: Runner) -> (usize, usize, usize) {
    let (skips, not_run) = (skipped(who).len(), not_run().len());
    let passed = checker::claims::CLAIMS.len() - skips - not_run;
    (passed, skips, not_run)
}

/// `# pass N, fail 0, skip M, not run 4`: the TAP summary of that run.
pub(crate) fn tap_all_held(who: Runner) -> String {
    let (passed, skips, not_run) = all_held(who);
    format!("# pass {passed}, fail 0, skip {skips}, not run {not_run}")
}

/// The closing line of the human report of the same run.
pub(crate) fn human_all_held(who: Runner) -> String {
    let (passed, skips, not_run) = all_held(who);
    let claims = checker::claims::CLAIMS.len();
    let verdict = match skips {
        0 => "every claim that ran held".to_string(),
        n => format!("no claim failed; {n} could not be verified here"),
    };
    format!(
        "{claims} claims: {passed} passed, 0 failed, {skips} skipped, \
         {not_run} not run (--trace, --audit): {verdict}"
    )
}

/// An audit report for people with every number of its counts
/// paragraph (after the first line, up to a blank one) as `[N]`: the
/// counts differ from run to run, the transient ones most. Wrap it only
/// after that ([`rewrapped`]), so that a count of another width (99
/// pids or 100) cannot move a line break.
pub(crate) fn counts_redacted(report: &str) -> String {
    let mut lines: Vec<String> = report.lines().map(str::to_owned).collect();
    for line in lines.iter_mut().skip(1).take_while(|l| !l.is_empty()) {
        let number = |w: &str| w.starts_with(|c: char| c.is_ascii_digit());
        let words: Vec<&str> = line
            .split(' ')
            .map(|w| if number(w) { "[N]" } else { w })
            .collect();
        *line = words.join(" ");
    }
    lines.join("\n") + "\n"
}

/// `text`, whose lines are whole, wrapped at `width` columns, each line
/// with its own indentation on every line it becomes: for snapshots
/// whose numbers are redacted before they are wrapped, so that a number
/// of another width (99 pids or 100) cannot move a line break.
pub(crate) fn rewrapped(text: &str, width: usize) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let words = line.trim_start();
        let indent = &line[..line.len() - words.len()];
        for wrapped in terminal::wrap(words, Some(width), indent) {
            out += &(wrapped + "\n");
        }
        if words.is_empty() {
            out.push('\n');
        }
    }
    out
}
