//! Styled output for the walk, and the pause between steps (plumbing
//! for "The workshop").
//!
//! Everything goes through `anstream`, which drops the styles when
//! stdout is not a terminal or `NO_COLOR` is set, so a transcript is
//! plain text.

use std::io::{BufRead, Write};

use anstyle::{AnsiColor, Style};
use checker::claims::{Claim, Outcome};
use checker::report::{Report, verdict};
use nix::unistd::Pid;

use crate::interrupt;
use crate::shell::Ran;

const TITLE: Style = Style::new().bold().underline();
const HEADING: Style = AnsiColor::Cyan.on_default().bold();
const PROMPT: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

/// Prose is wrapped to this width by default, so that it reads the same
/// in a terminal and in the book's code block.
pub const WIDTH: usize = 76;

/// Writes the walk to stdout and waits between steps when asked to.
#[derive(Debug)]
pub(crate) struct Narrator {
    out: anstream::Stdout,
    /// Wait for Enter before each step after the first.
    pause: bool,
    /// The demo program, which Ctrl-C during a wait ends and reaps.
    demo: Pid,
    /// Wrap prose at this many columns; 0 leaves it unwrapped.
    width: usize,
}

impl Narrator {
    pub(crate) fn new(pause: bool, demo: Pid, width: usize) -> Narrator {
        Narrator {
            out: anstream::stdout(),
            pause,
            demo,
            width,
        }
    }

    /// Write `text` as it is. A closed stdout is not worth stopping
    /// the demo's clean shutdown for, so write errors are dropped.
    fn put(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
    }

    /// The walk's title line.
    pub(crate) fn title(&mut self, text: &str) {
        self.put(&format!("{TITLE}{text}{TITLE:#}\n"));
    }

    /// `Step 2 of 7: ...`, after a blank line.
    pub(crate) fn heading(
        &mut self,
        number: usize,
        total: usize,
        title: &str,
    ) {
        self.put(&format!(
            "\n{HEADING}Step {number} of {total}: {title}{HEADING:#}\n\n"
        ));
    }

    /// A command without its output (the checker's lines follow); a
    /// long one is continued with `\` on lines of its own.
    pub(crate) fn prompt(&mut self, command: &str) {
        for (index, line) in command.lines().enumerate() {
            let dollar = if index == 0 { "$ " } else { "" };
            self.put(&format!("{PROMPT}{dollar}{line}{PROMPT:#}\n"));
        }
    }

    /// A command as a terminal shows it: `$ command`, then its output.
    pub(crate) fn ran(&mut self, ran: &Ran) {
        self.prompt(&ran.command);
        for line in ran.lines() {
            self.put(&format!("{line}\n"));
        }
    }

    /// Output lines, as they are.
    pub(crate) fn lines(&mut self, lines: &[String]) {
        for line in lines {
            self.put(&format!("{line}\n"));
        }
    }

    /// A paragraph of explanation, after a blank line, wrapped.
    pub(crate) fn say(&mut self, text: &str) {
        self.put("\n");
        for line in wrap(text, self.width, "") {
            self.put(&format!("{line}\n"));
        }
    }

    /// A one-line remark (wrapped if long), such as why a step skips.
    pub(crate) fn note(&mut self, text: &str) {
        for line in wrap(text, self.width, "") {
            self.put(&format!("{line}\n"));
        }
    }

    /// One claim's result as the checker reports it: the verdict and
    /// id, the statement, then the evidence, the reason or (with
    /// `kernel`, or on a failure) the kernel code.
    pub(crate) fn claim(
        &mut self,
        claim: &Claim,
        outcome: &Outcome,
        kernel: bool,
    ) {
        let (style, word) = verdict(outcome);
        self.put(&format!("{style}{word}{style:#} {}\n", claim.id));
        let indent = "     ";
        for line in wrap(claim.statement, self.width, indent) {
            self.put(&format!("{DIM}{line}{DIM:#}\n"));
        }
        let mut fields: Vec<(&str, &str)> = match outcome {
            Outcome::Pass { observed } => vec![("observed", observed)],
            Outcome::Fail { expected, found } => {
                vec![("expected", expected), ("found", found)]
            }
            Outcome::Skip { reason } => vec![("reason", reason)],
        };
        if kernel || matches!(outcome, Outcome::Fail { .. }) {
            fields.push(("kernel", claim.kernel));
        }
        for (name, value) in fields {
            let text = format!("{name}: {value}");
            for line in wrap(&text, self.width, indent) {
                self.put(&format!("{line}\n"));
            }
        }
    }

    /// One line per claim: `PASS id`, with the evidence of a failure
    /// and (if `reason`) the reason of a skip.
    pub(crate) fn claim_line(
        &mut self,
        claim: &Claim,
        outcome: &Outcome,
        reason: bool,
    ) {
        let (style, word) = verdict(outcome);
        self.put(&format!("{style}{word}{style:#} {}\n", claim.id));
        let detail = match outcome {
            Outcome::Pass { .. } => return,
            Outcome::Skip { .. } if !reason => return,
            Outcome::Fail { expected, found } => {
                format!("expected {expected}; found {found}")
            }
            Outcome::Skip { reason } => reason.clone(),
        };
        for line in wrap(&detail, self.width, "     ") {
            self.put(&format!("{line}\n"));
        }
    }

    /// The checker's closing line: the counts and the verdict.
    pub(crate) fn totals(&mut self, report: &Report) {
        self.put(&format!("{}\n", checker::report::totals(report)));
    }

    /// Wait for Enter before step `next`, if pausing. End of input
    /// (Ctrl-D) means "run the rest without stopping".
    pub(crate) fn pause(&mut self, next: usize) {
        if !self.pause {
            return;
        }
        let mut line = String::new();
        let demo = self.demo;
        // The handler is in place before the prompt asks for Ctrl-C.
        let read = interrupt::while_waiting(demo, || {
            self.put(&format!(
                "\n{DIM}[Enter: step {next}; Ctrl-C: stop]{DIM:#} "
            ));
            let _ = self.out.flush();
            std::io::stdin().lock().read_line(&mut line)
        });
        match read {
            Ok(0) | Err(_) => {
                self.pause = false;
                self.put("\n");
            }
            Ok(_) => {}
        }
    }

    pub(crate) fn flush(&mut self) {
        let _ = self.out.flush();
    }
}

/// Break `text` into lines of at most `width` columns (a longer word
/// gets a line of its own), each starting with `indent`; a `width` of 0
/// keeps it on one line.
pub fn wrap(text: &str, width: usize, indent: &str) -> Vec<String> {
    let width = if width == 0 { usize::MAX } else { width };
    let mut lines = Vec::new();
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        let empty = line.len() == indent.len();
        let fits = line.chars().count() + 1 + word.chars().count() <= width;
        if !empty && !fits {
            lines.push(std::mem::replace(&mut line, String::from(indent)));
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if line.len() > indent.len() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_breaks_at_spaces_and_indents() {
        assert_eq!(
            wrap("one two three four", 9, "  "),
            ["  one two", "  three", "  four"]
        );
        assert_eq!(wrap("averylongword x", 5, ""), ["averylongword", "x"]);
        assert!(wrap("   ", 5, "").is_empty());
    }
}
