//! Styled output for the walk, wrapped to the terminal, and the pause
//! between steps (plumbing for "The workshop").
//!
//! Everything goes through `anstream`, which drops the styles when
//! stdout is not a terminal or `NO_COLOR` is set, so a transcript is
//! plain text. Every line is wrapped to the width the walk was given
//! (the terminal's, unless `--width` says): prose at spaces, commands
//! with a `\` continuation, and a command's output only where a line
//! of it would not fit.

use std::io::{BufRead, Write};

use anstyle::{AnsiColor, Style};
use checker::claims::{Claim, Outcome};
use checker::report::{Report, verdict};
use terminal::{Key, Keys};

use crate::shell::Ran;

const TITLE: Style = Style::new().bold().underline();
const HEADING: Style = AnsiColor::Cyan.on_default().bold();
const PROMPT: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

/// What the attendee said at a pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pause {
    /// Go on with the next step.
    Next,
    /// Stop the walk here (`q` or Ctrl-C at a terminal).
    Stop,
}

/// What a one-line claim says under its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detail {
    /// The evidence of a failure, the reason of a skip.
    Own,
    /// Nothing: the next line says the same.
    None,
    /// This instead (a reason already given).
    Text(&'static str),
}

/// Writes the walk to stdout and waits between steps when asked to.
#[derive(Debug)]
pub(crate) struct Narrator {
    out: anstream::Stdout,
    /// Wait for a key before each step after the first.
    pause: bool,
    /// Wrap every line at this many columns; `None` keeps lines whole.
    width: Option<usize>,
    /// The first write to stdout that failed; nothing is written after
    /// it, and the walk stops (`exit_status::after_write` says how).
    failed: Option<std::io::Error>,
}

impl Narrator {
    pub(crate) fn new(pause: bool, width: Option<usize>) -> Narrator {
        Narrator {
            out: anstream::stdout(),
            pause,
            width,
            failed: None,
        }
    }

    /// Write `text` as it is; after a failed write, nothing.
    fn put(&mut self, text: &str) {
        if self.failed.is_none() {
            if let Err(err) = self.out.write_all(text.as_bytes()) {
                self.failed = Some(err);
            }
        }
    }

    /// Whether a write failed: stdout is a closed pipe, or full.
    pub(crate) fn broken(&self) -> bool {
        self.failed.is_some()
    }

    /// The write error that stopped the output, if one did.
    pub(crate) fn take_error(&mut self) -> Option<std::io::Error> {
        self.failed.take()
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

    /// A command without its output (the checker's lines follow),
    /// broken with `\` where it would not fit.
    pub(crate) fn prompt(&mut self, command: &str) {
        for line in command_lines(command, self.width) {
            self.put(&format!("{PROMPT}{line}{PROMPT:#}\n"));
        }
    }

    /// A command as a terminal shows it: `$ command`, then its output.
    pub(crate) fn ran(&mut self, ran: &Ran) {
        self.prompt(&ran.command);
        self.lines(&ran.lines());
    }

    /// Output lines, as they are where they fit; a line too long for
    /// the width is wrapped, indented by two columns after its first.
    pub(crate) fn lines(&mut self, lines: &[String]) {
        for line in lines {
            let fits = self
                .width
                .is_none_or(|width| terminal::display_width(line) <= width);
            if fits {
                self.put(&format!("{line}\n"));
                continue;
            }
            for part in terminal::wrap_after("", line, self.width, "  ") {
                self.put(&format!("{part}\n"));
            }
        }
    }

    /// A paragraph of explanation, after a blank line, wrapped.
    pub(crate) fn say(&mut self, text: &str) {
        self.put("\n");
        for line in terminal::wrap(text, self.width, "") {
            self.put(&format!("{line}\n"));
        }
    }

    /// A one-line remark (wrapped if long), such as why a step skips.
    pub(crate) fn note(&mut self, text: &str) {
        for line in terminal::wrap(text, self.width, "") {
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
        for line in terminal::wrap(claim.statement, self.width, indent) {
            self.put(&format!("{DIM}{line}{DIM:#}\n"));
        }
        let mut fields: Vec<(&str, &str)> = match outcome {
            Outcome::Pass { observed } => vec![("observed", observed)],
            Outcome::Fail { expected, found } => {
                vec![("expected", expected), ("found", found)]
            }
            Outcome::Skip { reason } | Outcome::NotRun { reason } => {
                vec![("reason", reason)]
            }
        };
        if kernel || matches!(outcome, Outcome::Fail { .. }) {
            fields.push(("kernel", claim.kernel));
        }
        for (name, value) in fields {
            let first = format!("{indent}{name}: ");
            for line in terminal::wrap_after(&first, value, self.width, indent)
            {
                self.put(&format!("{line}\n"));
            }
        }
    }

    /// One line per claim: `PASS id`, with the evidence of a failure
    /// and the reason of a skip, as `detail` says.
    pub(crate) fn claim_line(
        &mut self,
        claim: &Claim,
        outcome: &Outcome,
        detail: Detail,
    ) {
        let (style, word) = verdict(outcome);
        self.put(&format!("{style}{word}{style:#} {}\n", claim.id));
        let detail = match (outcome, detail) {
            (Outcome::Pass { .. }, _) => return,
            (Outcome::Skip { .. } | Outcome::NotRun { .. }, Detail::None) => {
                return;
            }
            (
                Outcome::Skip { .. } | Outcome::NotRun { .. },
                Detail::Text(text),
            ) => text.to_string(),
            (Outcome::Fail { expected, found }, _) => {
                format!("expected {expected}; found {found}")
            }
            (
                Outcome::Skip { reason } | Outcome::NotRun { reason },
                Detail::Own,
            ) => reason.clone(),
        };
        for line in terminal::wrap(&detail, self.width, "     ") {
            self.put(&format!("{line}\n"));
        }
    }

    /// A report as the checker prints it (`checker --pid`), at the
    /// walk's width: its header, each claim with its evidence, and the
    /// closing line.
    pub(crate) fn report(&mut self, report: &Report) {
        self.put(&checker::report::human(report, self.width));
    }

    /// The checker's closing line: the counts and the verdict.
    pub(crate) fn totals(&mut self, report: &Report) {
        let text = checker::report::totals(report);
        let fits = self
            .width
            .is_none_or(|width| terminal::display_width(&text) <= width);
        if fits {
            self.put(&format!("{text}\n"));
        } else {
            // Styles do not survive a break: wrap the plain words.
            let plain = anstream::adapter::strip_str(&text).to_string();
            self.note(&plain);
        }
    }

    /// Wait before step `next`, if pausing: at a terminal for a key
    /// (Enter goes on; `q` or Ctrl-C stops; Ctrl-D runs the rest
    /// without stopping), else for a line of stdin (end of input runs
    /// the rest).
    pub(crate) fn pause(&mut self, next: usize) -> Pause {
        if !self.pause {
            return Pause::Next;
        }
        let prompt = format!("[Enter: step {next}; q or Ctrl-C: stop]");
        let Some(mut keys) = Keys::open() else {
            return self.pause_for_a_line(next);
        };
        loop {
            self.put(&format!("\n{DIM}{prompt}{DIM:#} "));
            self.flush();
            let key = loop {
                match keys.read() {
                    Ok(Key::Other) => continue,
                    Ok(key) => break key,
                    Err(_) => break Key::End,
                }
            };
            self.put("\n");
            match key {
                Key::Next => return Pause::Next,
                Key::Stop => return Pause::Stop,
                Key::End => {
                    self.pause = false;
                    return Pause::Next;
                }
                Key::Resumed | Key::Other => continue,
            }
        }
    }

    /// The pause when stdin is not a terminal (`--pause`, a script):
    /// a line goes on; end of input runs the rest without stopping.
    fn pause_for_a_line(&mut self, next: usize) -> Pause {
        self.put(&format!("\n{DIM}[Enter: step {next}]{DIM:#} "));
        self.flush();
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) | Err(_) => {
                self.pause = false;
                self.put("\n");
            }
            Ok(_) => {}
        }
        Pause::Next
    }

    pub(crate) fn flush(&mut self) {
        if self.failed.is_none() {
            if let Err(err) = self.out.flush() {
                self.failed = Some(err);
            }
        }
    }
}

/// `command` as a terminal shows it typed: `$ ` and the command, or,
/// where it would not fit `width`, broken at spaces outside quotes into
/// lines ending in ` \` and continued with four spaces. A command that
/// has line breaks of its own keeps them.
pub fn command_lines(command: &str, width: Option<usize>) -> Vec<String> {
    let mut lines = Vec::new();
    for (index, part) in command.lines().enumerate() {
        let body = part.trim_start();
        let start = match index {
            0 => "$ ",
            _ => &part[..part.len() - body.len()],
        };
        let line = format!("{start}{body}");
        let width = match width {
            Some(width) if terminal::display_width(&line) > width => width,
            _ => {
                lines.push(line);
                continue;
            }
        };
        let mut current = String::from(start);
        let mut has_word = false;
        for word in units(&shell_words(body)) {
            // Room for the word, and for ` \` if another line follows.
            let needed = current.chars().count()
                + usize::from(has_word)
                + word.chars().count()
                + 2;
            if has_word && needed > width {
                lines.push(format!("{current} \\"));
                current = String::from("    ");
                has_word = false;
            }
            if has_word {
                current.push(' ');
            }
            current.push_str(&word);
            has_word = true;
        }
        lines.push(current);
    }
    lines
}

/// `words` joined where a line must not break: an option and the value
/// after it (`--only ID`) stay together.
fn units(words: &[&str]) -> Vec<String> {
    let mut units: Vec<String> = Vec::new();
    let mut option = false;
    for word in words {
        match units.last_mut() {
            Some(last) if option && !word.starts_with('-') => {
                last.push(' ');
                last.push_str(word);
                option = false;
            }
            _ => {
                units.push((*word).to_string());
                option = word.starts_with("--");
            }
        }
    }
    units
}

/// The words of a command line, split at spaces outside single and
/// double quotes (each word keeps its quotes).
fn shell_words(line: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut quote = None;
    let mut start = None;
    for (index, c) in line.char_indices() {
        match (quote, c) {
            (None, ' ') => {
                if let Some(from) = start.take() {
                    words.push(&line[from..index]);
                }
                continue;
            }
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), c) if c == open => quote = None,
            _ => {}
        }
        start.get_or_insert(index);
    }
    if let Some(from) = start {
        words.push(&line[from..]);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_command_breaks_outside_quotes() {
        let command = "grep -E '^(Name|Tgid|Pid):' /proc/123456/status";
        assert_eq!(command_lines(command, None), [format!("$ {command}")]);
        assert_eq!(
            command_lines(command, Some(36)),
            [
                "$ grep -E '^(Name|Tgid|Pid):' \\",
                "    /proc/123456/status"
            ]
        );
        for width in 20..80 {
            for line in command_lines(command, Some(width)) {
                let words = line.trim_end_matches(" \\");
                assert!(
                    line.chars().count() <= width
                        || !words.trim().contains(' '),
                    "{line:?} at {width}"
                );
            }
        }
    }

    #[test]
    fn an_option_keeps_its_value_on_its_line() {
        let command = "just check --only first_claim --only second_claim";
        assert_eq!(
            command_lines(command, Some(34)),
            [
                "$ just check --only first_claim \\",
                "    --only second_claim"
            ]
        );
    }

    #[test]
    fn a_command_with_its_own_breaks_keeps_them() {
        let command = "just check --only a \\\n    --only b";
        assert_eq!(
            command_lines(command, Some(40)),
            ["$ just check --only a \\", "    --only b"]
        );
    }
}
