//! The matrix's command line: what `cargo xtask matrix` and `cargo
//! xtask kernel` take, and the mistakes in it that show before anything
//! is fetched or built.

use std::path::PathBuf;
use std::time::Duration;

use super::boot::image_boot;
use super::qemu::Accel;
use super::{Stop, plan};
use crate::target_dir;

/// Run the checker under QEMU on Debian kernels, a kernel built from
/// source, its mutants and any image given, and natively on this
/// machine; tabulate each claim's outcome per kernel.
#[derive(Debug, clap::Args)]
#[command(after_help = exit_status::help(crate::statuses::MATRIX))]
pub(crate) struct Args {
    /// Only lines of the kernel list containing TEXT (repeatable).
    #[arg(long = "kernel", value_name = "TEXT")]
    pub(crate) only: Vec<String>,
    /// The kernel list (default: matrix/kernels.list).
    #[arg(long, value_name = "PATH")]
    pub(crate) list: Option<PathBuf>,
    /// Boot this static binary as /init instead of building the
    /// checker.
    #[arg(long, value_name = "PATH")]
    pub(crate) init: Option<PathBuf>,
    /// Skip the native run on this machine.
    #[arg(long = "no-host", action = clap::ArgAction::SetFalse)]
    pub(crate) host: bool,
    /// Skip the Debian kernels of the kernel list.
    #[arg(long = "no-debian", action = clap::ArgAction::SetFalse)]
    pub(crate) debian: bool,
    /// Skip the kernel built from matrix/kernel-source, and its mutants.
    #[arg(long = "no-source", action = clap::ArgAction::SetFalse)]
    pub(crate) source: bool,
    /// Boot this kernel image too: an ELF vmlinux with a PVH entry, or
    /// a bzImage (repeatable).
    #[arg(long = "image", value_name = "PATH")]
    pub(crate) images: Vec<PathBuf>,
    /// The mutant patches (default: matrix/mutants).
    #[arg(long, value_name = "DIR")]
    pub(crate) mutants: Option<PathBuf>,
    /// Write the report into book/verified/ for the book's "Verified
    /// on" page (a full run or a full --merge only; then commit it).
    #[arg(
        long,
        conflicts_with_all = [
            "only", "list", "init", "host", "debian", "source", "images",
            "mutants", "slice",
        ]
    )]
    pub(crate) record: bool,
    /// Print the plan's slices as JSON, one object each (id, kind,
    /// name, source_build), and exit: a CI job matrix.
    #[arg(long, conflicts_with_all = ["slice", "merge", "record"])]
    pub(crate) slices: bool,
    /// Only build the static checker the VMs boot as /init, print its
    /// path, and exit (CI builds it once for every slice's --init).
    #[arg(long, conflicts_with_all = ["slices", "slice", "merge", "init"])]
    pub(crate) build_init: bool,
    /// Run one slice of the plan (an id --slices prints) and write its
    /// report into target/matrix/slices/<ID>/.
    #[arg(long, value_name = "ID")]
    pub(crate) slice: Option<String>,
    /// Put the reports of slices together into target/matrix/, as one
    /// run of the same plan would have written them.
    #[arg(
        long,
        value_name = "REPORT",
        num_args = 1..,
        conflicts_with_all = [
            "slice", "init", "refresh", "jobs", "timeout", "accel",
        ]
    )]
    pub(crate) merge: Vec<PathBuf>,
    /// Run apt-get update even if the lists are fresh.
    #[arg(long)]
    pub(crate) refresh: bool,
    /// Boots at once (default: the number of cores).
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..),
    )]
    pub(crate) jobs: Option<u32>,
    /// Limit per boot, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub(crate) timeout: u64,
    /// kvm or tcg (default: probe whether KVM works).
    #[arg(long, value_name = "NAME", value_parser = ["kvm", "tcg"])]
    pub(crate) accel: Option<String>,
    /// Where the report goes (default: target/matrix, a slice's
    /// target/matrix/slices/<ID>).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
}

impl Args {
    pub(crate) fn jobs(&self) -> usize {
        let cores =
            std::thread::available_parallelism().map_or(1, |n| n.get());
        self.jobs.map_or(cores, |n| n as usize)
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout)
    }

    pub(crate) fn accel(&self) -> Option<Accel> {
        self.accel.as_deref().map(Accel::named)
    }

    /// Where the report goes.
    pub(crate) fn out(&self) -> PathBuf {
        match (&self.out, &self.slice) {
            (Some(out), _) => out.clone(),
            (None, Some(id)) => plan::default_out(&target_dir(), id),
            (None, None) => target_dir().join("matrix"),
        }
    }
}

/// The mistakes of a command line that show before anything is
/// fetched or built: a file that is not a kernel image, a slice that
/// is not in the plan.
pub(crate) fn check_usage(opts: &Args) -> Result<(), Stop> {
    for image in &opts.images {
        if let Err(why) = image_boot(image) {
            let image = image.display();
            return Err(Stop::Usage(format!("--image {image}: {why}")));
        }
    }
    if let Some(id) = &opts.slice {
        let plan = plan::plan(opts)?;
        if !plan.iter().any(|s| &s.id == id) {
            let ids: Vec<&str> = plan.iter().map(|s| s.id.as_str()).collect();
            return Err(Stop::Usage(format!(
                "--slice {id}: no such slice in this plan; it has {} \
                 (`--slices` describes them)",
                ids.join(", ")
            )));
        }
    }
    Ok(())
}

/// `cargo xtask kernel`: builds the kernel of `matrix/kernel-source` and
/// the mutants, as the matrix would, and says where they are: for a
/// kernel developer who wants the images, or to build ahead of a run.
#[derive(Debug, clap::Args)]
#[command(after_help = exit_status::help(crate::statuses::KERNEL))]
pub(crate) struct KernelArgs {
    /// The mutant patches (default: matrix/mutants).
    #[arg(long, value_name = "DIR")]
    pub(crate) mutants: Option<PathBuf>,
}
