//! `cargo xtask`: the project's automation, one subcommand per job.
//!
//! Each job lives in its own module with its own arguments; this file
//! only parses the command line and dispatches. Every job exits with the
//! workspace's statuses (`exit_status::Status`): 0 ok, 1 a check
//! failed, 2 usage, 3 could not run, 4 skipped.

mod book_browser;
mod excerpts;
mod matrix;

use clap::Parser;
use exit_status::Status;

/// The project's automation.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
enum Job {
    /// Check the built book in headless Chromium.
    BookBrowser(book_browser::Args),
    /// Compare the book's kernel excerpts with the kernel source.
    Excerpts(excerpts::Args),
    /// Boot the checker on Debian kernels under QEMU.
    Matrix(matrix::Args),
}

fn main() -> std::process::ExitCode {
    let job = match Job::try_parse() {
        Ok(job) => job,
        Err(err) => {
            let help = "'cargo xtask --help'";
            return exit_status::usage_error("xtask", help, &err).into();
        }
    };
    let status: Status = match job {
        Job::BookBrowser(args) => book_browser::main(args),
        Job::Excerpts(args) => excerpts::main(args),
        Job::Matrix(args) => matrix::main(args),
    };
    status.into()
}
