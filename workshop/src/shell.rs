//! Running the commands an attendee would type, for real, and showing
//! their output as a terminal would (plumbing for "The workshop").
//!
//! The commands run under `sh -c` exactly as printed, so the transcript
//! is what the attendee's own `ls`, `grep` and `cat` say. Rejected:
//! doing the same in Rust and printing the equivalent command, which
//! would show our reading of `/proc` while claiming to show `ls`'s.

use std::process::{Command, Stdio};

/// What one command printed and how it ended.
#[derive(Debug)]
pub(crate) struct Ran {
    pub(crate) command: String,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    /// The exit status, or `None` if it did not exit normally.
    pub(crate) code: Option<i32>,
}

impl Ran {
    /// The lines after the `$ command` line: stdout, then stderr, then
    /// a note of a non-zero exit status (`grep` that finds nothing
    /// prints nothing and exits with 1, which is the point).
    pub(crate) fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .stdout
            .lines()
            .chain(self.stderr.lines())
            .map(str::to_string)
            .collect();
        match self.code {
            Some(0) => {}
            Some(code) if lines.is_empty() => {
                lines.push(format!("(no output; exit status {code})"));
            }
            Some(code) => lines.push(format!("(exit status {code})")),
            None => lines.push("(ended by a signal)".to_string()),
        }
        lines
    }
}

/// Run `command` with `sh -c`, stdin closed, in the C locale so that
/// error messages read the same on every machine. Ctrl-C meanwhile
/// kills and reaps it (`checker::stop`), like the demo program.
pub(crate) fn run(command: &str) -> Ran {
    let child = Command::new("sh")
        .args(["-c", command])
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let output = child.and_then(|child| {
        let pid = child.id();
        checker::stop::adopt(pid);
        let output = child.wait_with_output();
        checker::stop::release(pid);
        output
    });
    match output {
        Ok(output) => Ran {
            command: command.to_string(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            code: output.status.code(),
        },
        Err(err) => Ran {
            command: command.to_string(),
            stdout: String::new(),
            stderr: format!(
                "workshop: cannot run sh: {err}; the steps need a POSIX \
                 shell with ls, grep and cat"
            ),
            code: Some(127),
        },
    }
}
