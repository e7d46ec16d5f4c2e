//! The report: what the claims found, as text for people, TAP for test
//! harnesses, JSON for programs, and Markdown for the book's reference.
//!
//! Book: "Running the checker in CI" shows each format.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use exit_status::Status;
use serde::{Deserialize, Serialize};

use crate::claims::{Claim, Outcome, count};
use crate::target::{Origin, Target};

/// Bumped when a field changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything one run found; `cargo xtask matrix` reads it back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub kernel: Kernel,
    pub proc: String,
    pub target: TargetSummary,
    pub claims: Vec<ClaimResult>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Kernel {
    /// `uname -r`.
    pub release: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetSummary {
    /// `spawned` (the demo) or `existing` (`--pid`).
    pub origin: String,
    pub pid: i32,
    pub comm: String,
    /// Threads besides the leader, when the checks started.
    pub threads: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClaimResult {
    pub id: String,
    pub statement: String,
    pub kernel: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize,
)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub skip: usize,
}

impl Report {
    pub fn new(
        release: String,
        proc: String,
        target: &Target,
        results: Vec<(&'static Claim, Outcome)>,
    ) -> Report {
        let mut summary = Summary::default();
        let claims = results
            .into_iter()
            .map(|(claim, outcome)| {
                match outcome {
                    Outcome::Pass { .. } => summary.pass += 1,
                    Outcome::Fail { .. } => summary.fail += 1,
                    Outcome::Skip { .. } => summary.skip += 1,
                }
                ClaimResult {
                    id: claim.id.to_string(),
                    statement: claim.statement.to_string(),
                    kernel: claim.kernel.to_string(),
                    outcome,
                }
            })
            .collect();
        Report {
            schema_version: SCHEMA_VERSION,
            kernel: Kernel { release },
            proc,
            target: TargetSummary {
                origin: match target.origin {
                    Origin::Spawned => "spawned",
                    Origin::Existing => "existing",
                }
                .to_string(),
                pid: target.pid,
                comm: target.comm.clone(),
                threads: target.threads.len(),
                note: target.note.clone(),
            },
            claims,
            summary,
        }
    }

    /// Whether no claim failed and at least one passed: only then did
    /// every claim that could be told hold.
    pub fn held(&self) -> bool {
        self.status() == Status::Ok
    }

    /// The exit status this report means: a failure outweighs
    /// everything; with none, a run that passed nothing verified
    /// nothing.
    pub fn status(&self) -> Status {
        match self.summary {
            Summary { fail: 1.., .. } => Status::Failed,
            Summary { pass: 0, .. } => Status::Skipped,
            _ => Status::Ok,
        }
    }
}

/// The style of a held claim, and of "every claim held".
pub const PASS: Style = AnsiColor::Green.on_default().bold();
/// The style of a failed claim.
pub const FAIL: Style = AnsiColor::Red.on_default().bold();
/// The style of a skipped claim.
pub const SKIP: Style = AnsiColor::Yellow.on_default().bold();
const DIM: Style = Style::new().dimmed();

/// The style and word a report gives an outcome: `PASS`, `FAIL`, `SKIP`.
pub fn verdict(outcome: &Outcome) -> (Style, &'static str) {
    match outcome {
        Outcome::Pass { .. } => (PASS, "PASS"),
        Outcome::Fail { .. } => (FAIL, "FAIL"),
        Outcome::Skip { .. } => (SKIP, "SKIP"),
    }
}

/// The report for a terminal. It holds ANSI styles; print it through
/// `anstream`, which drops them for pipes and under `NO_COLOR`.
pub fn human(report: &Report) -> String {
    let mut out = String::new();
    let target = &report.target;
    let _ = writeln!(
        out,
        "{} on Linux {}: target {} (pid {}, {} other threads)",
        report.proc,
        report.kernel.release,
        target.comm,
        target.pid,
        target.threads
    );
    if let Some(note) = &target.note {
        let _ = writeln!(out, "note: {note}");
    }
    for result in &report.claims {
        let (style, word) = verdict(&result.outcome);
        let _ = writeln!(out, "\n{style}{word}{style:#} {}", result.id);
        let _ = writeln!(out, "     {DIM}{}{DIM:#}", result.statement);
        match &result.outcome {
            Outcome::Pass { observed } => {
                let _ = writeln!(out, "     observed: {observed}");
            }
            Outcome::Fail { expected, found } => {
                let _ = writeln!(out, "     expected: {expected}");
                let _ = writeln!(out, "     found:    {found}");
                let _ = writeln!(out, "     kernel:   {}", result.kernel);
            }
            Outcome::Skip { reason } => {
                let _ = writeln!(out, "     reason: {reason}");
            }
        }
    }
    let _ = writeln!(out, "\n{}", totals(report));
    out
}

/// The closing line: `14 claims: 11 passed, 0 failed, 3 skipped: every
/// claim held`, styled.
pub fn totals(report: &Report) -> String {
    let summary = report.summary;
    let verdict = match report.status() {
        Status::Ok => format!("{PASS}every claim held{PASS:#}"),
        Status::Skipped => {
            format!("{SKIP}nothing was verified: every claim skipped{SKIP:#}")
        }
        _ => format!("{FAIL}{} failed{FAIL:#}", count(summary.fail, "claim")),
    };
    format!(
        "{}: {} passed, {} failed, {} skipped: {verdict}",
        count(report.claims.len(), "claim"),
        summary.pass,
        summary.fail,
        summary.skip
    )
}

/// The report as TAP version 13, with evidence in YAML blocks.
pub fn tap(report: &Report) -> String {
    let mut out = String::from("TAP version 13\n");
    let _ = writeln!(out, "1..{}", report.claims.len());
    let _ = writeln!(
        out,
        "# Linux {}, target {} (pid {})",
        report.kernel.release, report.target.comm, report.target.pid
    );
    for (index, result) in report.claims.iter().enumerate() {
        let number = index + 1;
        let id = &result.id;
        match &result.outcome {
            Outcome::Pass { observed } => {
                let _ = writeln!(out, "ok {number} - {id}");
                yaml_block(&mut out, &[("observed", observed)]);
            }
            Outcome::Fail { expected, found } => {
                let _ = writeln!(out, "not ok {number} - {id}");
                yaml_block(
                    &mut out,
                    &[
                        ("expected", expected),
                        ("found", found),
                        ("kernel", &result.kernel.to_string()),
                    ],
                );
            }
            Outcome::Skip { reason } => {
                let reason = reason.replace('\n', " ");
                let _ = writeln!(out, "ok {number} - {id} # SKIP {reason}");
            }
        }
    }
    let summary = report.summary;
    let _ = writeln!(
        out,
        "# pass {}, fail {}, skip {}",
        summary.pass, summary.fail, summary.skip
    );
    out
}

/// A TAP YAML diagnostic block; JSON strings are valid YAML scalars.
fn yaml_block(out: &mut String, fields: &[(&str, &String)]) {
    out.push_str("  ---\n");
    for (key, value) in fields {
        let quoted = serde_json::to_string(value).unwrap_or_default();
        let _ = writeln!(out, "  {key}: {quoted}");
    }
    out.push_str("  ...\n");
}

/// The report as one JSON document.
pub fn json(report: &Report) -> String {
    // Strings and numbers only: serialising cannot fail.
    serde_json::to_string_pretty(report).unwrap_or_default() + "\n"
}

/// `--list`: one claim per paragraph.
pub fn list_human(claims: &[&Claim]) -> String {
    let mut out = String::new();
    for claim in claims {
        let _ = writeln!(
            out,
            "{}\n    {}\n    kernel: {}",
            claim.id, claim.statement, claim.kernel
        );
    }
    out
}

#[derive(Serialize)]
struct ListedClaim {
    id: &'static str,
    statement: &'static str,
    kernel: &'static str,
}

/// `--list --format json`.
pub fn list_json(claims: &[&Claim]) -> String {
    let listed: Vec<ListedClaim> = claims
        .iter()
        .map(|claim| ListedClaim {
            id: claim.id,
            statement: claim.statement,
            kernel: claim.kernel,
        })
        .collect();
    serde_json::to_string_pretty(&listed).unwrap_or_default() + "\n"
}

/// `--list --format markdown`: the book's claims reference, one table
/// row per claim, each with an anchor named after the claim so chapters
/// can link `claims.md#<id>`.
pub fn list_markdown(claims: &[&Claim]) -> String {
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('|', "\\|")
    };
    let mut out =
        String::from("| Claim | Statement | Kernel code (Linux 6.12) |\n");
    out.push_str("|---|---|---|\n");
    for claim in claims {
        let _ = writeln!(
            out,
            "| <a id=\"{id}\"></a>`{id}` | {} | {} |",
            escape(claim.statement),
            escape(claim.kernel),
            id = claim.id,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::CLAIMS;

    #[test]
    fn markdown_escapes_angle_brackets_outside_code() {
        let table = list_markdown(CLAIMS);
        assert!(table.contains("/proc/&lt;TID&gt;"), "{table}");
        assert_eq!(table.lines().count(), CLAIMS.len() + 2);
    }
}
