//! `cargo xtask matrix`: runs the checker on several real Debian
//! kernels under QEMU, plus natively on the host, and tabulates each
//! claim's outcome per kernel release, with the kernel stacks the
//! tracing claims captured (the book's "Verified on" page).
//!
//! Steps, each printed as it happens:
//! 1. fetch: per suite of `matrix/kernels.list`, the private apt
//!    configuration of [`crate::debian`] resolves each line to the
//!    newest matching package, downloads it and unpacks `vmlinuz` into
//!    `target/matrix-cache/kernels/` (kept across runs), with the ELF
//!    `vmlinux` decompressed from it ([`fetch`], [`vmlinux`]).
//!    Meanwhile the checker is built static ([`initramfs`]), and the
//!    kernel of `matrix/kernel-source` with its mutants ([`source`]).
//! 2. initramfs: a newc cpio with the checker as `/init` ([`cpio`]).
//! 3. boot: the plan's columns ([`plan`]) booted, one QEMU per kernel,
//!    as many at once as there are cores, each bounded by `--timeout`
//!    ([`boot`], [`qemu`]); KVM only if a probe boot shows it works,
//!    else TCG.
//! 4. parse: the report between the checker's console markers
//!    ([`console`]); QEMU's exit status is never trusted.
//!
//! Writes `target/matrix/report.{json,md}` ([`report`]: each claim's
//! outcome and evidence per kernel, and the kernel stacks of the
//! tracing claims) and each console to `target/matrix/console/`
//! ([`run`] puts the steps together). Every child runs in its own
//! process group and is stopped on Ctrl-C, with the temporary
//! directory ([`crate::child`]).
//!
//! The matrix also runs a slice at a time ([`plan`]): `--slices`
//! lists the plan's columns (the host, each kernel-list line, the
//! source-built kernel, each mutant, each `--image`) for a CI job
//! matrix, `--slice <id>` runs one into `target/matrix/slices/<id>/`,
//! and `--merge` ([`merge`]) puts their reports together into the
//! report a single run writes, ending as a run ends ([`run::finish`]).
//!
//! The book's "Verified on" page shows a recorded copy, in
//! `book/verified/` ([`verified`]): `--record` writes it (only from a
//! full run), a plain run compares with it and never writes into the
//! source tree, so CI re-verifies every kernel without dirtying the
//! checkout and says when the page has gone stale.
//!
//! Exit statuses: `crate::statuses::MATRIX`, which `--help` shows;
//! `--merge` exits as a run of its plan would.

mod args;
mod boot;
mod console;
mod cpio;
mod fetch;
mod initramfs;
mod kernels;
mod merge;
mod plan;
mod qemu;
pub(crate) mod report;
mod run;
mod source;
mod verified;
mod vmlinux;

use std::time::Instant;

use exit_status::Status;

pub(crate) use args::{Args, KernelArgs};

/// Why a job stopped before it could judge any kernel.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The command line asks for what cannot be (status 2).
    Usage(String),
    /// A file, a tool or the network failed us (status 3).
    CannotRun(String),
}

impl From<String> for Stop {
    fn from(why: String) -> Stop {
        Stop::CannotRun(why)
    }
}

/// Entry point from `xtask/src/main.rs`; returns the exit status.
pub(crate) fn main(opts: Args) -> Status {
    // Before any thread starts, so that they all inherit the mask.
    crate::child::handle_signals();
    if opts.slices {
        return plan::print(&opts);
    }
    if opts.build_init {
        return match initramfs::build_checker(&crate::workspace()) {
            Ok(path) => {
                println!("{}", path.display());
                Status::Ok
            }
            Err(why) => {
                eprintln!("matrix: {why}");
                Status::CannotRun
            }
        };
    }
    let result = match opts.merge.is_empty() {
        false => merge::merge(&opts),
        true => args::check_usage(&opts).and_then(|()| Ok(run::run(&opts)?)),
    };
    crate::child::stop_if_cancelled();
    let checked = result.and_then(|(status, report)| {
        Ok(verified::against_recorded(opts.record, status, &report)?)
    });
    let (status, why) = match checked {
        Ok(status) => return status,
        Err(Stop::Usage(why)) => (Status::Usage, why),
        Err(Stop::CannotRun(why)) => (Status::CannotRun, why),
    };
    eprintln!("matrix: {why}");
    status
}

/// Entry point of `cargo xtask kernel`.
pub(crate) fn kernel_main(args: KernelArgs) -> Status {
    crate::child::handle_signals();
    let workspace = crate::workspace();
    let dir = source::mutants_dir(args.mutants.as_deref());
    let built = source::Mutant::all(&dir)
        .and_then(|mutants| source::build(&workspace, &mutants));
    crate::child::stop_if_cancelled();
    let built = match built {
        Ok(built) => built,
        Err(why) => {
            eprintln!("kernel: {why}");
            return Status::CannotRun;
        }
    };
    let (pin, vmlinux) = (&built.pin, built.vmlinux.display());
    println!("{} {}: {vmlinux}", pin.package, pin.version);
    let mut status = Status::Ok;
    for (mutant, vmlinux) in &built.mutants {
        match vmlinux {
            Ok(path) => println!("mutant {}: {}", mutant.name, path.display()),
            Err(why) => {
                eprintln!("kernel: mutant {}: {why}", mutant.name);
                status = Status::CannotRun;
            }
        }
    }
    status
}

fn say(who: &str, what: impl std::fmt::Display) {
    eprintln!("matrix: [{who}] {what}");
}

fn secs(since: Instant) -> f64 {
    since.elapsed().as_secs_f64()
}
