//! Booting a kernel under QEMU with the checker as `/init`, bounded by a
//! timeout, and deciding between KVM and TCG by trying.
//!
//! Boot path: the uncompressed ELF `vmlinux` through PVH with the tiny
//! qboot firmware (no BIOS, no in-kernel decompression), else the
//! `vmlinuz` bzImage through SeaBIOS.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::console::{self, Console};
use crate::child;

pub(crate) const QEMU: &str = "qemu-system-x86_64";
pub(crate) const QBOOT: &str = "/usr/share/qemu/qboot.rom";

/// The kernel command line. `quiet loglevel=1` keeps kernel messages
/// from landing inside the report; `panic=-1` with `-no-reboot` turns a
/// guest panic into a QEMU exit at once. The kernel hands `/init` the
/// parameters it does not know as environment: `<VM_MARKER>=1` tells
/// the checker it is this VM's init (see `vm_init` in the checker).
/// After `--`, arguments go to `/init`'s argv.
fn cmdline() -> String {
    format!(
        "console=ttyS0 quiet loglevel=1 panic=-1 {}=1 -- --format json",
        checker::vm_init::VM_MARKER
    )
}

/// The accelerator QEMU uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accel {
    Kvm,
    Tcg,
}

impl Accel {
    /// `kvm`, or else TCG.
    pub(crate) fn named(name: &str) -> Accel {
        if name == "kvm" {
            Accel::Kvm
        } else {
            Accel::Tcg
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

/// Which image QEMU loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BootPath {
    /// ELF `vmlinux` via its PVH entry point, firmware qboot.
    Pvh,
    /// The compressed bzImage via SeaBIOS.
    BzImage,
}

/// What one boot produced.
#[derive(Debug)]
pub(crate) struct Booted {
    pub(crate) console: Console,
    pub(crate) seconds: f64,
    pub(crate) timed_out: bool,
    /// QEMU's own complaints (bad image, missing firmware).
    pub(crate) stderr: String,
}

/// Checks that QEMU is installed; the error says how to install it.
pub(crate) fn check_installed() -> Result<(), String> {
    let found = Command::new(QEMU)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        return Err(format!(
            "{QEMU} not found; install it: apt-get install qemu-system-x86"
        ));
    }
    Ok(())
}

/// Boots `image` with `initrd` and collects the console in `log`.
pub(crate) fn boot(
    image: &Path,
    how: BootPath,
    accel: Accel,
    initrd: &Path,
    log: &Path,
    timeout: Duration,
) -> Result<Booted, String> {
    let mut cmd = Command::new(QEMU);
    cmd.args(["-accel", accel.name(), "-m", "512", "-smp", "1"]);
    // No default devices (VGA, NIC, disks): less to emulate.
    cmd.args(["-nodefaults", "-no-user-config", "-display", "none"]);
    cmd.args(["-serial", "stdio", "-no-reboot"]);
    // qboot starts a PVH kernel fastest; without it (a distribution
    // that does not ship it) QEMU's own firmware boots PVH too.
    if how == BootPath::Pvh && Path::new(QBOOT).is_file() {
        cmd.args(["-bios", QBOOT]);
    }
    cmd.arg("-kernel").arg(image).arg("-initrd").arg(initrd);
    cmd.args(["-append", &cmdline()]);
    let console = File::create(log)
        .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err_log = log.with_extension("stderr");
    let errors = File::create(&err_log)
        .map_err(|e| format!("cannot create {}: {e}", err_log.display()))?;
    // stdin is not a terminal, so QEMU never puts one in raw mode.
    cmd.stdin(Stdio::null()).stdout(console).stderr(errors);
    let start = Instant::now();
    let mut qemu = child::spawn(&mut cmd)
        .map_err(|e| format!("cannot run {QEMU}: {e}"))?;
    let status = qemu
        .wait_timeout(timeout)
        .map_err(|e| format!("waiting for {QEMU}: {e}"))?;
    let seconds = start.elapsed().as_secs_f64();
    let raw = std::fs::read(log).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_log).unwrap_or_default();
    let _ = std::fs::remove_file(&err_log);
    Ok(Booted {
        console: console::parse_console(&String::from_utf8_lossy(&raw)),
        seconds,
        timed_out: status.is_none(),
        stderr: stderr.trim().to_owned(),
    })
}

/// Decides KVM or TCG by booting `image` once with KVM: this machine's
/// `/dev/kvm` may exist and open yet hang every guest, so only a report
/// counts. The answer is cached per host boot (`boot_id`).
pub(crate) fn probe_accel(
    cache: &Path,
    image: &Path,
    initrd: &Path,
    work: &Path,
) -> (Accel, String) {
    let kvm_opens = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok();
    if !kvm_opens {
        return (Accel::Tcg, "no usable /dev/kvm".into());
    }
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .unwrap_or_default();
    let memo: PathBuf = cache.join("accel");
    if let Ok(text) = std::fs::read_to_string(&memo) {
        if let Some((id, accel)) = text.trim().split_once(' ') {
            if id == boot_id.trim() {
                let why = format!("cached probe ({})", memo.display());
                return (Accel::named(accel), why);
            }
        }
    }
    // A KVM boot takes well under a second; TCG needs about 2 s.
    let log = work.join("kvm-probe.log");
    let probe = boot(
        image,
        BootPath::Pvh,
        Accel::Kvm,
        initrd,
        &log,
        Duration::from_secs(5),
    );
    let (accel, why) = match probe {
        Ok(o) if matches!(o.console, Console::Report(_)) => (
            Accel::Kvm,
            format!("KVM probe boot reported in {:.1} s", o.seconds),
        ),
        Ok(o) if o.timed_out => (Accel::Tcg, "KVM probe boot hung".into()),
        Ok(_) => (Accel::Tcg, "KVM probe boot gave no report".into()),
        Err(e) => (Accel::Tcg, format!("KVM probe failed: {e}")),
    };
    let _ = std::fs::write(
        &memo,
        format!("{} {}\n", boot_id.trim(), accel.name()),
    );
    (accel, why)
}
