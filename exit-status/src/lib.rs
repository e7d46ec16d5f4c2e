//! The exit statuses of every binary and `cargo xtask` job of the
//! workspace, defined once ([`Status`], with its [`Status::meaning`]
//! and [`table`]), with the two exits they all share: a usage error and
//! a closed pipe.
//!
//! 4 is the kernel selftests' "skip" (`KSFT_SKIP` in
//! tools/testing/selftests/kselftest.h), which CI users know: a job
//! that verified nothing is neither green nor red. The meaning of a
//! number never differs between binaries. Each binary keeps one list
//! of the statuses it can return, with what each means there
//! ([`Statuses`]); its `--help` paragraph is generated from that list
//! ([`help`]) and its tests iterate it. The one table is the book's
//! "Running the checker in CI", which includes the snapshot of
//! [`table`]; the README and ARCHITECTURE.md point to it.

use std::fmt;
use std::io;

/// An exit status of the table above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Everything that was checked held, or the program ended as asked.
    Ok = 0,
    /// A check did not hold.
    Failed = 1,
    /// The command line was wrong.
    Usage = 2,
    /// The system cannot be checked, or a tool the job needs is missing.
    CannotRun = 3,
    /// Nothing could be verified: every selected check skipped.
    Skipped = 4,
}

impl Status {
    /// Every status, in the table's order.
    pub const ALL: [Status; 5] = [
        Status::Ok,
        Status::Failed,
        Status::Usage,
        Status::CannotRun,
        Status::Skipped,
    ];

    /// The status as a process exit code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// What the status means, in every binary.
    pub fn meaning(self) -> &'static str {
        match self {
            Status::Ok => {
                "ok: every check held (at least one did), or the program \
                 ended as asked"
            }
            Status::Failed => {
                "failed: a check did not hold: a claim on this kernel, a \
                 book excerpt, a kernel of the matrix"
            }
            Status::Usage => "usage: the command line was wrong",
            Status::CannotRun => {
                "could not run: no procfs, no such process, a target that \
                 exited mid-check, a missing tool"
            }
            Status::Skipped => {
                "skipped: nothing could be verified; every selected check \
                 skipped, with its reason"
            }
        }
    }

    /// What to do about it.
    pub fn remedy(self) -> &'static str {
        match self {
            Status::Ok => "nothing",
            Status::Failed => {
                "read the report: it names the check, what was expected \
                 and what was found"
            }
            Status::Usage => {
                "read the one-line error and the `--help` it names"
            }
            Status::CannotRun => {
                "read the one-line error: it names what is missing; the \
                 kernel was not at fault"
            }
            Status::Skipped => {
                "read the reasons: they say what privilege or feature \
                 would let the check run"
            }
        }
    }

    /// The status with exit code `code`, if the table has one.
    pub fn from_code(code: i32) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|s| i32::from(s.code()) == code)
    }

    /// The worse of two statuses, for a job made of several checks: a
    /// failure outweighs everything, then "could not run", then a skip.
    pub fn worst(self, other: Status) -> Status {
        let rank = |s: Status| match s {
            Status::Ok => 0,
            Status::Skipped => 1,
            Status::CannotRun => 2,
            Status::Usage => 3,
            Status::Failed => 4,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

impl From<Status> for std::process::ExitCode {
    fn from(status: Status) -> Self {
        std::process::ExitCode::from(status.code())
    }
}

impl fmt::Display for Status {
    /// `3 (could not run)`: the number and its meaning, for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let meaning = match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Usage => "usage error",
            Status::CannotRun => "could not run",
            Status::Skipped => "skipped",
        };
        write!(f, "{} ({meaning})", self.code())
    }
}

/// What a program's statuses mean for it, in the order its `--help`
/// lists them: `(Status::Usage, "usage error")`.
pub type Statuses = [(Status, &'static str)];

/// The `Exit status:` paragraph of a program's `--help`, generated from
/// its list: `Exit status: 0 all match; 1 an excerpt differs; 2 usage
/// error.`
pub fn help(statuses: &Statuses) -> String {
    let each: Vec<String> = (statuses.iter())
        .map(|(status, means)| format!("{} {means}", status.code()))
        .collect();
    format!("Exit status: {}.", each.join("; "))
}

/// The table as Markdown, which the book includes.
pub fn table() -> String {
    let mut out =
        String::from("| status | meaning | what to do |\n|---|---|---|\n");
    for status in Status::ALL {
        out += &format!(
            "| {} | {} | {} |\n",
            status.code(),
            status.meaning(),
            status.remedy()
        );
    }
    out
}

/// Prints a clap result the way every binary of the workspace does:
/// `--help` and `--version` as clap renders them (status 0, or what
/// [`after_write`] makes of a failed write: a closed pipe is still 0, a
/// full disk is 3 with one line); any usage error as one line,
/// `<program>: <what is wrong>; see <help>`, with status 2. `help`
/// names a command the reader has, such as `just check --help`.
pub fn usage_error(program: &str, help: &str, err: &clap::Error) -> Status {
    use clap::error::ErrorKind;
    use std::io::Write;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let printed = err.print().and_then(|()| io::stdout().flush());
            after_write(program, printed).unwrap_or(Status::Ok)
        }
        _ => {
            eprintln!("{program}: {}; see {help}", first_line(err));
            Status::Usage
        }
    }
}

/// The first line of a clap error, without its `error: ` prefix, and
/// with the values to pick from when clap lists them on a later line
/// (`--format xml`: `...; pick human, tap or json`).
pub fn first_line(err: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    let rendered = err.render().to_string();
    let line = rendered.lines().next().unwrap_or("invalid arguments");
    let line = line.strip_prefix("error: ").unwrap_or(line).to_string();
    match err.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(values)) if !values.is_empty() => {
            format!("{line}: pick {}", one_of(values))
        }
        _ => line,
    }
}

/// `a, b or c`: values to pick from, as a sentence says them.
pub fn one_of<S: AsRef<str>>(values: &[S]) -> String {
    let values: Vec<&str> = values.iter().map(AsRef::as_ref).collect();
    match values.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// What a failed write to stdout means for the exit status: a closed
/// pipe (`checker | head`) is the reader's choice, not an error, so it
/// stops the program quietly with status 0, as ripgrep does. Any other
/// write error is said in one line and the program could not run.
pub fn after_write(program: &str, written: io::Result<()>) -> Option<Status> {
    match written {
        Ok(()) => None,
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => {
            Some(Status::Ok)
        }
        Err(err) => {
            eprintln!("{program}: cannot write to stdout: {err}");
            Some(Status::CannotRun)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_tables() {
        let codes: Vec<u8> = Status::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4]);
        assert_eq!(Status::from_code(4), Some(Status::Skipped));
        assert_eq!(Status::from_code(130), None);
        assert_eq!(Status::CannotRun.to_string(), "3 (could not run)");
    }

    #[test]
    fn a_failure_outweighs_a_skip_and_a_skip_outweighs_ok() {
        assert_eq!(Status::Ok.worst(Status::Skipped), Status::Skipped);
        assert_eq!(Status::Skipped.worst(Status::Failed), Status::Failed);
        assert_eq!(Status::Failed.worst(Status::CannotRun), Status::Failed);
        assert_eq!(Status::CannotRun.worst(Status::Ok), Status::CannotRun);
    }

    #[test]
    fn a_closed_pipe_is_quiet_success() {
        let pipe = io::Error::from(io::ErrorKind::BrokenPipe);
        assert_eq!(after_write("x", Err(pipe)), Some(Status::Ok));
        assert_eq!(after_write("x", Ok(())), None);
        let full = io::Error::from_raw_os_error(28);
        assert_eq!(after_write("x", Err(full)), Some(Status::CannotRun));
    }

    #[test]
    fn the_help_paragraph_is_the_list_in_order() {
        let statuses: &Statuses =
            &[(Status::Ok, "all match"), (Status::Usage, "usage error")];
        assert_eq!(help(statuses), "Exit status: 0 all match; 2 usage error.");
    }

    #[test]
    fn values_to_pick_from_read_as_a_sentence() {
        assert_eq!(one_of(&["human"]), "human");
        assert_eq!(one_of(&["human", "tap", "json"]), "human, tap or json");
        assert_eq!(one_of::<&str>(&[]), "");
    }

    #[test]
    fn an_invalid_value_names_the_values_on_its_one_line() {
        let command = clap::Command::new("x").arg(
            clap::Arg::new("format")
                .long("format")
                .value_parser(["human", "tap", "json"]),
        );
        let err = command
            .try_get_matches_from(["x", "--format", "xml"])
            .unwrap_err();
        assert_eq!(
            first_line(&err),
            "invalid value 'xml' for '--format <format>': pick human, tap \
             or json"
        );
    }
}
