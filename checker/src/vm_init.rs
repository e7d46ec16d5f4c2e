//! PID 1 mode: the checker as `/init` of a throwaway VM.
//!
//! `cargo xtask matrix` boots each Debian kernel of the test matrix with
//! an initramfs holding only this binary as `/init` (see the book's
//! "Kernel matrix" chapter). There is no shell and no other process: the
//! checker mounts what the claims read, prints its report on the console
//! between two marker lines, and powers the machine off.
//!
//! The runner never trusts QEMU's exit status (QEMU exits 0 even when the
//! guest panics), only the text between the markers. So every way out of
//! here must print a marker and power off: a missing report costs the
//! runner a whole timeout and tells the reader nothing.

use std::io::Write;
use std::panic::{self, AssertUnwindSafe};

use nix::mount::{MsFlags, mount};
use nix::sys::reboot::{RebootMode, reboot};

/// Line printed before the report; `cargo xtask matrix` looks for it.
pub const REPORT_BEGIN: &str = "--- checker report begin ---";
/// Line printed after the report.
pub const REPORT_END: &str = "--- checker report end ---";
/// Line printed (then the panic message) when the report closure panics.
pub const REPORT_PANIC: &str = "--- checker panicked ---";

/// The file systems the claims read, in mount order: tracefs lives
/// inside sysfs, so sysfs comes first.
const MOUNTS: &[(&str, &str)] = &[
    ("proc", "/proc"),
    ("devtmpfs", "/dev"),
    ("sysfs", "/sys"),
    ("tracefs", "/sys/kernel/tracing"),
];

/// The variable `cargo xtask matrix` puts on the kernel command line;
/// the kernel passes it to `/init` as environment.
pub const VM_MARKER: &str = "PROC_THREADS_VM";

/// True when this process is the `/init` of a matrix VM: pid 1 *and*
/// started with [`VM_MARKER`]. Pid 1 alone is not enough: `unshare
/// --pid --fork checker` makes the checker pid 1 of a new pid
/// namespace, where mounting and powering off would be wrong.
pub(crate) fn is_init() -> bool {
    std::process::id() == 1
        && std::env::var_os(VM_MARKER).is_some_and(|value| value == "1")
}

/// Mounts `/proc` and friends, prints `report()` between the markers on
/// the console, and powers the machine off.
///
/// Never returns: PID 1 exiting would make the kernel panic ("Attempted
/// to kill init"), which reads as a boot failure to the runner.
pub(crate) fn run_as_init(report: impl FnOnce() -> String) -> ! {
    install_panic_hook();
    mount_all();
    // `catch_unwind` turns a panicking claim into a marked failure; the
    // hook above covers `panic = "abort"` builds, where this cannot.
    let outcome = panic::catch_unwind(AssertUnwindSafe(report));
    let mut out = std::io::stdout().lock();
    // Errors writing to the console have nowhere to go: ignore them.
    let _ = match &outcome {
        Ok(text) => {
            writeln!(out, "{REPORT_BEGIN}\n{}\n{REPORT_END}", text.trim_end())
        }
        Err(_) => writeln!(out, "{REPORT_PANIC}"),
    };
    let _ = out.flush();
    drop(out);
    power_off()
}

/// Mounts each of [`MOUNTS`], creating its directory first. A failure
/// is printed (before the report, so the runner still parses) and
/// skipped: claims that need the file system will skip with a reason.
fn mount_all() {
    for &(fstype, target) in MOUNTS {
        let _ = std::fs::create_dir_all(target);
        let result = mount(
            Some(fstype),
            target,
            Some(fstype),
            MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
            None::<&str>,
        );
        match result {
            // EBUSY: already mounted (devtmpfs.mount=1 kernels).
            Ok(()) | Err(nix::errno::Errno::EBUSY) => {}
            Err(e) => eprintln!("vm_init: mount {fstype} on {target}: {e}"),
        }
    }
}

/// Prints the panic marker and, when the build cannot unwind, powers
/// off right here, since `catch_unwind` in [`run_as_init`] never sees
/// the panic.
fn install_panic_hook() {
    let default = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        // The default hook prints the message and location.
        default(info);
        if cfg!(panic = "abort") {
            println!("{REPORT_PANIC}");
            power_off();
        }
    }));
}

/// Flushes file systems and asks the kernel to power off. With QEMU's
/// `-no-reboot` this ends the QEMU process.
fn power_off() -> ! {
    let _ = std::io::stdout().flush();
    nix::unistd::sync();
    let err = reboot(RebootMode::RB_POWER_OFF);
    // Only an unprivileged caller gets here, never a real PID 1.
    eprintln!("vm_init: reboot(RB_POWER_OFF) failed: {err:?}");
    loop {
        std::thread::park();
    }
}
