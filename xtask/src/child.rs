//! Child processes and temporary directories that are cleaned up on
//! every way out, Ctrl-C included.
//!
//! Every child (apt-get, dpkg-deb, cargo, the decompressors, QEMU) is
//! started in its own process group, so a terminal's Ctrl-C reaches only
//! this runner; a dedicated thread receives SIGINT/SIGTERM/SIGHUP, stops
//! each live group, removes the temporary directories and exits. If the
//! runner dies anyway (SIGKILL), `PR_SET_PDEATHSIG` takes its children
//! down with it, and the next run removes the orphaned temp directories.
//!
//! A group is stopped with SIGTERM first and SIGKILL only if it is still
//! there after [`GRACE`]: the checker run natively as root holds a
//! tracefs instance, which its SIGTERM handler removes and SIGKILL
//! would leave behind; QEMU and cargo also exit cleanly on SIGTERM.

use std::io::{self, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Process-group ids of live children.
static GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());
/// Temporary directories to remove on a signal.
static TEMP_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Set once a signal arrived: no new child may start.
static CANCELLED: AtomicBool = AtomicBool::new(false);

/// The signals that end the run, with cleanup.
const SIGNALS: [i32; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// How long a child group gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(1);

/// Blocks the ending signals in this (the main) thread, and so in every
/// thread it starts later, and starts the one thread that takes them.
/// Call before starting any other thread.
pub(crate) fn handle_signals() {
    // SAFETY: `sigset_t` is plain data; sigemptyset initialises it.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, exclusively borrowed sigset_t, and the
    // signal numbers are valid. pthread_sigmask only changes this
    // thread's mask.
    unsafe {
        libc::sigemptyset(&mut set);
        for s in SIGNALS {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
    std::thread::spawn(move || {
        loop {
            let mut sig = 0;
            // SAFETY: `set` and `sig` are valid for the call.
            if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
                cancel(sig);
            }
        }
    });
}

/// Kills every child group, removes the temp dirs and exits with the
/// shell's convention for death by signal (128 + number).
fn cancel(sig: i32) -> ! {
    CANCELLED.store(true, Ordering::SeqCst);
    let groups = lock(&GROUPS).clone();
    // The waiting threads reap the stopped children and drop them from
    // GROUPS; wait for that, so that no QEMU outlives the runner.
    let reaped = |limit: Duration| {
        let deadline = Instant::now() + limit;
        while !lock(&GROUPS).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    for &pgid in &groups {
        signal_group(pgid, libc::SIGTERM);
    }
    reaped(GRACE);
    for &pgid in lock(&GROUPS).iter() {
        signal_group(pgid, libc::SIGKILL);
    }
    reaped(Duration::from_secs(2));
    for dir in lock(&TEMP_DIRS).iter() {
        let _ = std::fs::remove_dir_all(dir);
    }
    eprintln!(
        "matrix: interrupted by signal {sig}; stopped {} child process \
         group(s) and removed the temporary directory",
        groups.len()
    );
    std::process::exit(128 + sig);
}

/// After a signal, waits for the signal thread to finish cleaning up
/// and exit the process, so that the main flow neither writes a report
/// of killed boots nor exits with its own status first.
pub(crate) fn stop_if_cancelled() {
    while CANCELLED.load(Ordering::SeqCst) {
        std::thread::park_timeout(Duration::from_secs(1));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking thread cannot leave these lists inconsistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn signal_group(pgid: i32, sig: i32) {
    // SAFETY: kill(2) with a negative pid signals a process group; no
    // memory is involved.
    unsafe { libc::kill(-pgid, sig) };
}

/// A child in its own process group, killed if dropped while running.
#[derive(Debug)]
pub(crate) struct Tracked {
    child: Option<Child>,
    pgid: i32,
}

/// Starts `cmd` in a new process group that dies with this thread.
///
/// `PR_SET_PDEATHSIG` fires when the *thread* that forked exits, so
/// call this from the thread that also waits for the child.
pub(crate) fn spawn(cmd: &mut Command) -> io::Result<Tracked> {
    if CANCELLED.load(Ordering::SeqCst) {
        return Err(io::Error::other("interrupted"));
    }
    cmd.process_group(0);
    // SAFETY: the closure runs between fork and exec and only calls
    // prctl(2), sigemptyset(3), sigprocmask(2) and signal(2), which
    // are async-signal-safe, on a sigset_t of its own stack.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            // A child inherits the blocked mask of handle_signals()
            // through exec, and would never see our SIGTERM: unblock
            // and default the ending signals (a shell may have left
            // SIGINT ignored, too).
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
            for s in SIGNALS {
                libc::signal(s, libc::SIG_DFL);
            }
            Ok(())
        });
    }
    let mut groups = lock(&GROUPS);
    let child = cmd.spawn()?;
    let pgid = i32::try_from(child.id()).expect("pids fit in i32");
    groups.push(pgid);
    Ok(Tracked {
        child: Some(child),
        pgid,
    })
}

impl Tracked {
    /// The child's stdout, if piped, to read as it runs.
    pub(crate) fn take_stdout(&mut self) -> Option<std::process::ChildStdout> {
        self.child.as_mut()?.stdout.take()
    }

    /// The child's stderr, if piped.
    pub(crate) fn take_stderr(&mut self) -> Option<std::process::ChildStderr> {
        self.child.as_mut()?.stderr.take()
    }

    /// Waits up to `limit`; on timeout kills the group and returns
    /// `None`.
    pub(crate) fn wait_timeout(
        &mut self,
        limit: Duration,
    ) -> io::Result<Option<ExitStatus>> {
        let start = Instant::now();
        let child = self.child.as_mut().expect("not yet waited for");
        loop {
            if let Some(status) = child.try_wait()? {
                self.finish();
                return Ok(Some(status));
            }
            if start.elapsed() >= limit {
                self.kill();
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the whole group (SIGTERM, then SIGKILL after [`GRACE`])
    /// and reaps the child.
    pub(crate) fn kill(&mut self) {
        if let Some(child) = self.child.as_mut() {
            signal_group(self.pgid, libc::SIGTERM);
            let deadline = Instant::now() + GRACE;
            while matches!(child.try_wait(), Ok(None))
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            // The group may outlive its leader: kill what is left.
            signal_group(self.pgid, libc::SIGKILL);
            let _ = child.wait();
        }
        self.finish();
    }

    fn finish(&mut self) {
        self.child = None;
        lock(&GROUPS).retain(|&g| g != self.pgid);
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `cmd` to completion, feeding it `input`, and collects its
/// output (like `Command::output`, but tracked).
pub(crate) fn output(
    cmd: &mut Command,
    input: Option<&[u8]>,
) -> io::Result<Output> {
    let stdin = if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    cmd.stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut tracked = spawn(cmd)?;
    let mut child = tracked.child.take().expect("just spawned");
    let pipe = child.stdin.take();
    let result = std::thread::scope(|s| {
        if let (Some(mut pipe), Some(bytes)) = (pipe, input) {
            // A decompressor may stop reading early (EPIPE): fine.
            s.spawn(move || pipe.write_all(bytes));
        }
        child.wait_with_output()
    });
    tracked.finish();
    result
}

/// Runs `cmd` and fails with its stderr unless it exits 0.
pub(crate) fn run_ok(cmd: &mut Command) -> Result<Output, String> {
    let shown = format!("{cmd:?}");
    let out = output(cmd, None).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            format!("cannot run {shown}: program not found")
        } else {
            format!("cannot run {shown}: {e}")
        }
    })?;
    succeeded(&shown, out)
}

/// The output of command `shown`, or its stderr unless it exited 0.
pub(crate) fn succeeded(shown: &str, out: Output) -> Result<Output, String> {
    if out.status.success() {
        return Ok(out);
    }
    let err = String::from_utf8_lossy(&out.stderr);
    Err(format!("{shown} failed ({}): {}", out.status, err.trim()))
}

/// Holds an exclusive `flock(2)` on `path` (created if need be) until
/// dropped; calls `waiting` first if another process holds it. For
/// what separate runs share: a kernel tree, a suite's apt lists.
pub(crate) fn lock_file(
    path: &Path,
    waiting: impl FnOnce(),
) -> Result<nix::fcntl::Flock<std::fs::File>, String> {
    use nix::fcntl::{Flock, FlockArg};
    let failed =
        |e: nix::errno::Errno| format!("cannot lock {}: {e}", path.display());
    let file = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(locked) => Ok(locked),
        Err((file, nix::errno::Errno::EWOULDBLOCK)) => {
            waiting();
            Flock::lock(file, FlockArg::LockExclusive)
                .map_err(|(_, e)| failed(e))
        }
        Err((_, e)) => Err(failed(e)),
    }
}

/// A directory removed on drop and on a signal.
#[derive(Debug)]
pub(crate) struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<parent>/tmp-<pid>-<n>` (the n-th of this process),
    /// first removing leftovers of runs that were killed too hard to
    /// clean up (their pid is gone).
    pub(crate) fn new(parent: &Path) -> Result<TempDir, String> {
        static MADE: std::sync::atomic::AtomicUsize =
            std::sync::atomic::AtomicUsize::new(0);
        remove_orphans(parent);
        let n = MADE.fetch_add(1, Ordering::SeqCst);
        let path = parent.join(format!("tmp-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        crate::files::mkdir(&path)?;
        lock(&TEMP_DIRS).push(path.clone());
        Ok(TempDir { path })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
        lock(&TEMP_DIRS).retain(|p| p != &self.path);
    }
}

fn remove_orphans(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = (name.to_str())
            .and_then(|n| n.strip_prefix("tmp-"))
            .and_then(|n| n.split('-').next())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_mask(pid: u32, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .expect("the child is alive");
        let line = status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .expect("status has the field");
        u64::from_str_radix(line.trim(), 16).expect("a hex mask")
    }

    /// Test that a child sees SIGTERM although the runner blocks it
    /// (signals are taken by one thread), and so stops well within
    /// the grace period: the checker's handler removes its tracefs
    /// instance only if SIGTERM gets through.
    #[test]
    fn children_do_not_inherit_the_blocked_signals() {
        std::thread::spawn(|| {
            // SAFETY: as in handle_signals(); only this thread's mask.
            unsafe {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGTERM);
                libc::pthread_sigmask(
                    libc::SIG_BLOCK,
                    &set,
                    std::ptr::null_mut(),
                );
            }
            let mut sleep =
                spawn(Command::new("sleep").arg("60")).expect("sleep(1) runs");
            let pid = sleep.child.as_ref().unwrap().id();
            let term = 1 << (libc::SIGTERM - 1);
            assert_eq!(status_mask(pid, "SigBlk:") & term, 0);
            assert_eq!(status_mask(pid, "SigIgn:") & term, 0);
            let t = Instant::now();
            sleep.kill();
            assert!(t.elapsed() < GRACE, "took {:?}", t.elapsed());
            assert!(!lock(&GROUPS).contains(&i32::try_from(pid).unwrap()));
        })
        .join()
        .unwrap();
    }
}
