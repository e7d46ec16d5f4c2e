//! Running the planned boots: one QEMU per kernel (or the checker
//! natively, for the host), as many at once as asked, each bounded by
//! the timeout; each fills in its column of the report.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use checker::report::Report;

use super::console::Console;
use super::fetch::CachedKernel;
use super::plan::{BootJob, BootTarget};
use super::qemu::{self, Accel, BootPath, Booted};
use super::report::{KernelRun, parse_report};
use super::{say, secs, vmlinux};
use crate::child;

/// What every boot shares.
#[derive(Debug)]
pub(crate) struct BootSetup<'a> {
    pub(crate) accel: Accel,
    /// The checker, run natively for the host.
    pub(crate) init: &'a Path,
    pub(crate) initrd: &'a Path,
    /// Where each boot's console log goes.
    pub(crate) consoles: &'a Path,
    pub(crate) timeout: Duration,
}

/// How the image at `path` boots, or why it is not a kernel image.
pub(crate) fn image_boot(path: &Path) -> Result<BootPath, String> {
    // Whole: an ELF's notes can sit anywhere in it (tens of MB at most).
    let head =
        std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    vmlinux::boot_of(&head)
}

impl BootJob {
    /// An image this job boots through PVH, for the accelerator probe.
    pub(crate) fn pvh_image(&self) -> Option<PathBuf> {
        match &self.target {
            BootTarget::Debian(kernel) => Some(kernel.vmlinux()),
            BootTarget::Image(path) => (image_boot(path).ok()
                == Some(BootPath::Pvh))
            .then(|| path.clone()),
            BootTarget::Host | BootTarget::Nothing => None,
        }
    }
}

/// Runs `jobs` on `workers` threads; the columns keep the jobs' order.
pub(crate) fn run_all(
    jobs: &[BootJob],
    workers: usize,
    setup: &BootSetup<'_>,
) -> Vec<KernelRun> {
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<KernelRun>>> =
        jobs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers.min(jobs.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = jobs.get(i) else { break };
                    let column = boot_one(job, setup);
                    *slots[i].lock().unwrap_or_else(|e| e.into_inner()) =
                        Some(column);
                }
            });
        }
    });
    (slots.into_iter())
        .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .map(|column| column.expect("every job ran"))
        .collect()
}

/// One boot, start to end.
fn boot_one(job: &BootJob, setup: &BootSetup<'_>) -> KernelRun {
    let mut column = job.column.clone();
    match &job.target {
        BootTarget::Host => run_host(&mut column, setup),
        BootTarget::Debian(kernel) => run_debian(&mut column, kernel, setup),
        BootTarget::Image(path) => run_image(&mut column, path, setup),
        BootTarget::Nothing => {}
    }
    column
}

/// The checker run natively, as one more column.
fn run_host(column: &mut KernelRun, setup: &BootSetup<'_>) {
    say("host", "run natively: --format json --trace --audit");
    let log = setup.consoles.join("host.json");
    let t = Instant::now();
    let result = run_native(setup.init, &log, setup.timeout);
    let seconds = secs(t);
    say("host", format!("parse ({seconds:.1} s)"));
    column.how = Some("native".into());
    column.seconds = Some(Some(seconds));
    column.set_result(result);
}

fn run_native(
    init: &Path,
    log: &Path,
    timeout: Duration,
) -> Result<Report, String> {
    let stdout = std::fs::File::create(log)
        .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let mut cmd = std::process::Command::new(init);
    // As the VMs do: --trace, so that the tracing claims say why they
    // cannot trace here (not root, lockdown) rather than "not asked";
    // --audit, so that the audit runs here too.
    cmd.args(["--format", "json", "--trace", "--audit"])
        .stdin(std::process::Stdio::null())
        .stdout(stdout);
    let mut p = child::spawn(&mut cmd)
        .map_err(|e| format!("cannot run {}: {e}", init.display()))?;
    // Its exit status says whether claims held; the report says which.
    let status = p.wait_timeout(timeout).map_err(|e| e.to_string())?;
    if status.is_none() {
        return Err(format!("timed out after {} s", timeout.as_secs()));
    }
    let text = std::fs::read_to_string(log).unwrap_or_default();
    parse_report(&text)
        .map_err(|e| format!("{e}; output in {}", log.display()))
}

/// Boots an image of ours or the user's, the way [`image_boot`] says.
fn run_image(column: &mut KernelRun, path: &Path, setup: &BootSetup<'_>) {
    let how = match image_boot(path) {
        Ok(how) => how,
        Err(why) => {
            return column.set_failed(format!("{}: {why}", path.display()));
        }
    };
    let label = column.label.clone();
    let log = setup
        .consoles
        .join(format!("{}.log", label.replace(' ', "-")));
    let name = how_name(how, setup.accel);
    say(&label, format!("boot {} ({name})", path.display()));
    column.how = Some(name);
    let booted =
        qemu::boot(path, how, setup.accel, setup.initrd, &log, setup.timeout);
    take_report(column, booted, &log, setup);
}

/// Boots one fetched kernel: PVH first, the bzImage if PVH showed
/// nothing at all.
fn run_debian(
    column: &mut KernelRun,
    kernel: &CachedKernel,
    setup: &BootSetup<'_>,
) {
    let label = column.label.clone();
    let log = setup.consoles.join(format!("{label}.log"));
    let mut how = BootPath::Pvh;
    let booted = loop {
        let image = match how {
            BootPath::Pvh => kernel.vmlinux(),
            BootPath::BzImage => kernel.vmlinuz(),
        };
        let name = how_name(how, setup.accel);
        say(&label, format!("boot ({name})"));
        let booted = qemu::boot(
            &image,
            how,
            setup.accel,
            setup.initrd,
            &log,
            setup.timeout,
        );
        column.how = Some(name);
        // QEMU refuses an ELF without a PVH note at once, silently on
        // the console; a timeout is a hang, which a retry won't fix.
        let refused = matches!(&booted, Ok(b) if !b.timed_out && b.console
            == Console::NoReport("no console output at all".into()));
        if how == BootPath::Pvh && refused {
            say(&label, "PVH boot printed nothing; trying the bzImage");
            how = BootPath::BzImage;
            continue;
        }
        break booted;
    };
    take_report(column, booted, &log, setup);
}

/// `pvh/tcg`, `bzimage/kvm`: how a column ran.
fn how_name(how: BootPath, accel: Accel) -> String {
    format!("{how:?}/{}", accel.name()).to_lowercase()
}

/// Fills in what one boot gave: the checker's report, or why there is
/// none, with the console log's path when something went wrong.
fn take_report(
    column: &mut KernelRun,
    booted: Result<Booted, String>,
    log: &Path,
    setup: &BootSetup<'_>,
) {
    let result = booted.map_err(|e| format!("boot: {e}")).and_then(|b| {
        column.seconds = Some(Some(b.seconds));
        let took = format!("parse (boot took {:.1} s)", b.seconds);
        say(&column.label, took);
        match b.console {
            Console::Report(text) => parse_report(&text)
                .map_err(|e| format!("parse: {e}; see {}", log.display())),
            Console::NoReport(why) => {
                let mut why = format!("boot: {why}");
                if b.timed_out {
                    let limit = setup.timeout.as_secs();
                    why += &format!(" (killed after {limit} s)");
                }
                if !b.stderr.is_empty() {
                    why += &format!("; qemu: {}", b.stderr);
                }
                Err(format!("{why}; console log: {}", log.display()))
            }
        }
    });
    if let Err(e) = &result {
        say(&column.label, format!("no report: {e}"));
    }
    column.set_result(result);
}
