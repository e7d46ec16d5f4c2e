//! What each job's exit statuses mean for it: one list per job, from
//! which its `--help` paragraph is generated
//! (`exit_status::help`), and which `xtask/tests/statuses.rs` iterates
//! (it includes this file, as xtask is a binary without a library).

use exit_status::{Status, Statuses};

/// `cargo xtask excerpts`.
pub(crate) const EXCERPTS: &Statuses = &[
    (Status::Ok, "all match"),
    (Status::Failed, "an excerpt differs or is malformed"),
    (Status::Usage, "usage error"),
    (Status::CannotRun, "could not run"),
    (
        Status::Skipped,
        "skipped: no apt source for the kernel package",
    ),
];

/// `cargo xtask book-browser`.
pub(crate) const BOOK_BROWSER: &Statuses = &[
    (Status::Ok, "all pages pass"),
    (Status::Failed, "a page fails"),
    (Status::Usage, "usage error"),
    (Status::CannotRun, "could not run"),
    (Status::Skipped, "skipped: no Chromium installed"),
];

/// `cargo xtask figures`.
pub(crate) const FIGURES: &Statuses = &[
    (Status::Ok, "written or current"),
    (Status::Failed, "a figure is stale or cannot be drawn"),
    (Status::Usage, "usage error"),
    (Status::CannotRun, "could not read or write a file"),
];

/// `cargo xtask matrix`.
pub(crate) const MATRIX: &Statuses = &[
    (Status::Ok, "all held"),
    (
        Status::Failed,
        "a check failed (a claim failed, a kernel gave no report, a mutant \
         was not caught or broke an unnamed claim, a slice is missing from \
         --merge, or the outcomes differ from book/verified/: run `just \
         matrix --record` and commit)",
    ),
    (Status::Usage, "usage error"),
    (
        Status::CannotRun,
        "could not run (a tool is missing, a report is unreadable)",
    ),
];

/// `cargo xtask kernel`.
pub(crate) const KERNEL: &Statuses = &[
    (Status::Ok, "built (or cached)"),
    (Status::Usage, "usage error"),
    (
        Status::CannotRun,
        "could not run (the source could not be fetched, or a build \
         failed)",
    ),
];
