//! `cargo xtask`: the project's automation, one subcommand per job.
//!
//! Each job lives in its own module with its own arguments; this file
//! only parses the command line and dispatches. Every job exits with the
//! workspace's statuses (`exit_status::Status`): 0 ok, 1 a check
//! failed, 2 usage, 3 could not run, 4 skipped.

mod book_browser;
mod child;
mod debian;
mod excerpts;
mod figures;
mod files;
mod matrix;
mod statuses;

use clap::{CommandFactory, FromArgMatches, Parser};
use exit_status::Status;

/// The project's automation.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
enum Job {
    /// Check the built book in headless Chromium.
    BookBrowser(book_browser::Args),
    /// Compare the book's kernel excerpts with the kernel source.
    Excerpts(excerpts::Args),
    /// Draw the book's figures from the recorded stacks and the
    /// excerpts.
    Figures(figures::Args),
    /// Boot the checker on Debian kernels, a kernel built from source,
    /// its mutants and images you name, under QEMU.
    Matrix(matrix::Args),
    /// Build the kernel of matrix/kernel-source and its mutants.
    Kernel(matrix::KernelArgs),
}

/// The workspace root: xtask's manifest sits one level below it.
pub(crate) fn workspace() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Cargo's target directory, where every job keeps what it fetches,
/// builds and writes: `CARGO_TARGET_DIR` (relative to the current
/// directory, as cargo reads it) or the workspace's `target/`, which
/// git ignores and `cargo clean` empties.
pub(crate) fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|dir| !dir.is_empty())
        .and_then(|dir| std::path::absolute(dir).ok())
        .unwrap_or_else(|| workspace().join("target"))
}

fn main() -> std::process::ExitCode {
    // Help that fits an 80-column terminal, as every binary's does.
    let command = Job::command().max_term_width(terminal::HELP_WIDTH);
    let job = command
        .try_get_matches()
        .and_then(|matches| Job::from_arg_matches(&matches));
    let job = match job {
        Ok(job) => job,
        Err(err) => {
            let help = "'cargo xtask --help'";
            return exit_status::usage_error("xtask", help, &err).into();
        }
    };
    let status: Status = match job {
        Job::BookBrowser(args) => book_browser::main(args),
        Job::Excerpts(args) => excerpts::main(args),
        Job::Figures(args) => figures::main(args),
        Job::Matrix(args) => matrix::main(args),
        Job::Kernel(args) => matrix::kernel_main(args),
    };
    status.into()
}
