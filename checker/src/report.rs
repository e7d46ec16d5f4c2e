//! The report: what the claims found, as text for people and Markdown
//! for the book's reference here, and through the one renderer of
//! [`crate::harness`] as TAP and JUnit for test harnesses and JSON for
//! programs.
//!
//! Book: "Running the checker in CI" shows each format.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use exit_status::Status;
use serde::{Deserialize, Serialize};

use crate::claims::{Claim, OptIn, Outcome, how_many};
use crate::harness::{Case, Mark, Suite, TestPoints, Yaml};
pub use crate::harness::{json, junit, tap};
use crate::target::Target;

/// Bumped when a field changes meaning or goes away; the JSON Schema of
/// each version is `checker/report.schema.json`. Version 2 named the
/// target's fields so they cannot be misread (`leader`, `tids`);
/// version 3 added the outcome `not_run` (a claim that runs only when
/// asked, and was not) and its how_many, `summary.not_run`.
pub const SCHEMA_VERSION: u32 = 3;

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
    /// The thread-group id, which is the leader's TID.
    pub leader: i32,
    /// The leader's `comm`.
    pub comm: String,
    /// How many thread ids the process had when the checks started,
    /// the leader's included.
    pub tids: usize,
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
    /// Claims that run only when asked (`--trace`, `--audit`) and were
    /// not: counted apart, neither verified nor skipped.
    #[serde(default)]
    pub not_run: usize,
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
                    Outcome::NotRun { .. } => summary.not_run += 1,
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
                origin: match target.demo {
                    Some(_) => "spawned",
                    None => "existing",
                }
                .to_string(),
                leader: target.pid,
                comm: target.comm.clone(),
                tids: 1 + target.threads.len(),
                note: target.note.clone(),
            },
            claims,
            summary,
        }
    }

    /// `--strict`: every skip becomes a failure, but that of a claim
    /// the kernel predates (`Claim::since`), which has nothing to check
    /// there. For CI jobs that expect every claim they ask for to run: a
    /// claim that was not asked for (`Outcome::NotRun`) is no skip, and
    /// stays not run.
    pub fn strict(mut self) -> Report {
        let release = self.kernel.release.clone();
        for result in &mut self.claims {
            let Outcome::Skip { reason } = &result.outcome else {
                continue;
            };
            let predated = crate::claims::find(&result.id)
                .is_some_and(|claim| claim.predates(&release));
            if !predated {
                result.outcome = Outcome::Fail {
                    expected: "the claim to run (--strict fails a skip)"
                        .to_string(),
                    found: format!("it skipped: {reason}"),
                };
                self.summary.skip -= 1;
                self.summary.fail += 1;
            }
        }
        self
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
/// The style of a claim that was not asked for.
pub const NOT_RUN: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

/// The style and word a report gives an outcome: `PASS`, `FAIL`,
/// `SKIP`, `NOT RUN`.
pub fn verdict(outcome: &Outcome) -> (Style, &'static str) {
    match outcome {
        Outcome::Pass { .. } => (PASS, "PASS"),
        Outcome::Fail { .. } => (FAIL, "FAIL"),
        Outcome::Skip { .. } => (SKIP, "SKIP"),
        Outcome::NotRun { .. } => (NOT_RUN, "NOT RUN"),
    }
}

/// The report for a terminal, wrapped at `width` columns (`None`: lines
/// stay whole, as for a pipe). It holds ANSI styles; print it through
/// `anstream`, which drops them for pipes and under `NO_COLOR`.
pub fn human(report: &Report, width: Option<usize>) -> String {
    const INDENT: &str = "     ";
    let mut out = String::new();
    let target = &report.target;
    let header = match target.comm.is_empty() {
        // A target the procfs hides (`hidepid=`): its note says why.
        true => format!(
            "{} on Linux {}: target {}, hidden from this reader",
            report.proc, report.kernel.release, target.leader
        ),
        false => format!(
            "{} on Linux {}: target {} (TGID {}, {})",
            report.proc,
            report.kernel.release,
            target.comm,
            target.leader,
            how_many(target.tids, "thread id")
        ),
    };
    styled(&mut out, terminal::wrap(&header, width, ""), PLAIN);
    if let Some(note) = &target.note {
        let note = terminal::wrap_after("note: ", note, width, "      ");
        styled(&mut out, note, PLAIN);
    }
    for result in &report.claims {
        let (style, word) = verdict(&result.outcome);
        let _ = writeln!(out, "\n{style}{word}{style:#} {}", result.id);
        let statement = terminal::wrap(&result.statement, width, INDENT);
        styled(&mut out, statement, DIM);
        let mut field = |label: &str, value: &str| {
            let first = format!("{INDENT}{label}");
            let lines = terminal::wrap_after(&first, value, width, INDENT);
            styled(&mut out, lines, PLAIN);
        };
        match &result.outcome {
            Outcome::Pass { observed } => field("observed: ", observed),
            Outcome::Fail { expected, found } => {
                field("expected: ", expected);
                field("found:    ", found);
                field("kernel:   ", &result.kernel);
            }
            Outcome::Skip { reason } | Outcome::NotRun { reason } => {
                field("reason: ", reason)
            }
        }
    }
    out.push('\n');
    let (counts, (style, verdict)) = totals_parts(report);
    let whole = format!("{counts}: {verdict}");
    if width.is_none_or(|width| terminal::display_width(&whole) <= width) {
        let _ = writeln!(out, "{}", totals(report));
    } else {
        let counts = format!("{counts}:");
        styled(&mut out, terminal::wrap(&counts, width, ""), PLAIN);
        styled(&mut out, terminal::wrap(&verdict, width, ""), style);
    }
    out
}

const PLAIN: Style = Style::new();

/// Each of `lines` on a line of its own, in `style`.
fn styled(out: &mut String, lines: Vec<String>, style: Style) {
    for line in lines {
        let _ = writeln!(out, "{style}{line}{style:#}");
    }
}

/// The closing line, styled: `22 claims: 22 passed, 0 failed, 0
/// skipped: every claim held`, or with claims that were not asked for,
/// `22 claims: 18 passed, 0 failed, 0 skipped, 4 not run (--trace,
/// --audit): every claim that ran held`.
pub fn totals(report: &Report) -> String {
    let (counts, (style, verdict)) = totals_parts(report);
    format!("{counts}: {style}{verdict}{style:#}")
}

/// The closing line's counts, and its verdict with the verdict's style.
fn totals_parts(report: &Report) -> (String, (Style, String)) {
    let summary = report.summary;
    let ran = match summary.not_run {
        0 => "",
        _ => " that ran",
    };
    let verdict = match report.status() {
        Status::Failed => {
            (FAIL, format!("{} failed", how_many(summary.fail, "claim")))
        }
        Status::Skipped if summary.skip == 0 => {
            (SKIP, "nothing was verified: no claim ran".to_string())
        }
        Status::Skipped => (
            SKIP,
            format!("nothing was verified: every claim{ran} skipped"),
        ),
        _ if summary.skip > 0 => (
            PASS,
            format!(
                "no claim failed; {} could not be verified here",
                summary.skip
            ),
        ),
        _ => (PASS, format!("every claim{ran} held")),
    };
    let mut counts = format!(
        "{}: {} passed, {} failed, {} skipped",
        how_many(report.claims.len(), "claim"),
        summary.pass,
        summary.fail,
        summary.skip
    );
    if summary.not_run > 0 {
        let _ = write!(
            counts,
            ", {} not run ({})",
            summary.not_run,
            not_asked_for(report).join(", ")
        );
    }
    (counts, verdict)
}

/// The options that would have run the claims that were not run, in
/// registry order: `--trace`, `--audit`.
fn not_asked_for(report: &Report) -> Vec<&'static str> {
    let mut flags = Vec::new();
    for result in &report.claims {
        let not_run = matches!(result.outcome, Outcome::NotRun { .. });
        let claim = crate::claims::find(&result.id).filter(|_| not_run);
        let flag = claim.and_then(Claim::opt_in).map(OptIn::flag);
        if let Some(flag) = flag.filter(|flag| !flags.contains(flag)) {
            flags.push(flag);
        }
    }
    flags
}

impl TestPoints for Report {
    /// One test point per claim: a pass shows what was observed, a
    /// failure what was expected and found and the kernel code, a skip
    /// its reason. TAP and JUnit have no "not run": a claim that was
    /// not asked for is a skip whose reason says so.
    fn suite(&self) -> Suite {
        let cases = (self.claims.iter()).map(|result| {
            let text = |value: &String| Yaml::Text(value.clone());
            let (mark, yaml) = match &result.outcome {
                Outcome::Pass { observed } => (
                    Mark::Ok {
                        output: Some(observed.clone()),
                    },
                    vec![("observed", text(observed))],
                ),
                Outcome::Fail { expected, found } => (
                    Mark::NotOk {
                        message: format!("expected {expected}; found {found}"),
                        kind: Some("claim"),
                        text: format!(
                            "expected: {expected}\nfound: {found}\nkernel: {}",
                            result.kernel
                        ),
                    },
                    vec![
                        ("expected", text(expected)),
                        ("found", text(found)),
                        ("kernel", text(&result.kernel)),
                    ],
                ),
                Outcome::Skip { reason } | Outcome::NotRun { reason } => {
                    let reason = reason.clone();
                    (Mark::Skip { reason }, Vec::new())
                }
            };
            Case {
                name: result.id.clone(),
                mark,
                yaml,
            }
        });
        let (summary, release) = (self.summary, &self.kernel.release);
        Suite {
            tool: Some("checker"),
            name: format!("proc-threads claims on Linux {release}"),
            classname: "checker",
            head: format!(
                "Linux {release}, target {} (pid {})",
                self.target.comm, self.target.leader
            ),
            tail: Some(format!(
                "pass {}, fail {}, skip {}, not run {}",
                summary.pass, summary.fail, summary.skip, summary.not_run
            )),
            properties: vec![
                ("kernel", release.clone()),
                ("proc", self.proc.clone()),
                ("target", self.target.comm.clone()),
            ],
            output: None,
            cases: cases.collect(),
        }
    }
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

    /// A report of two skips, on kernel `release`: one of a claim that
    /// needs Linux 6.9, one of a claim any kernel has.
    fn two_skips(release: &str) -> Report {
        let skip = |id: &str| ClaimResult {
            id: id.into(),
            statement: String::new(),
            kernel: String::new(),
            outcome: Outcome::skip("a reason"),
        };
        Report {
            schema_version: SCHEMA_VERSION,
            kernel: Kernel {
                release: release.into(),
            },
            proc: "/proc".into(),
            target: TargetSummary {
                origin: "spawned".into(),
                leader: 2,
                comm: "demo".into(),
                tids: 2,
                note: None,
            },
            claims: vec![
                skip("pidfd_thread_opens_a_thread"),
                skip("listing_passes_through_proc_pid_readdir"),
            ],
            summary: Summary {
                pass: 0,
                fail: 0,
                skip: 2,
                not_run: 0,
            },
        }
    }

    /// A report of one pass, one skip and a tracing claim not run.
    fn mixed(skipped: bool) -> Report {
        let mut report = two_skips("6.12.117+deb12-cloud-amd64");
        report.claims[0].id = "every_tid_resolves_by_lookup".into();
        report.claims[0].outcome = Outcome::Pass {
            observed: "seen".into(),
        };
        report.claims[1].outcome = Outcome::NotRun {
            reason: "not asked for".into(),
        };
        report.summary = Summary {
            pass: 1,
            fail: 0,
            skip: 0,
            not_run: 1,
        };
        if skipped {
            let mut skip = report.claims[0].clone();
            skip.id = "pidfd_thread_opens_a_thread".into();
            skip.outcome = Outcome::skip("no PIDFD_THREAD");
            report.claims.push(skip);
            report.summary.skip = 1;
        }
        report
    }

    #[test]
    fn strict_leaves_a_claim_that_was_not_asked_for_not_run() {
        let strict = mixed(false).strict();
        assert_eq!(strict.claims[1].outcome.word(), "not_run");
        assert_eq!(strict.status(), Status::Ok);
        let line = anstream::adapter::strip_str(&totals(&strict)).to_string();
        assert_eq!(
            line,
            "2 claims: 1 passed, 0 failed, 0 skipped, 1 not run (--trace): \
             every claim that ran held"
        );
        // A skip is not "held"; with --strict it fails.
        let skipped = mixed(true);
        let line = anstream::adapter::strip_str(&totals(&skipped)).to_string();
        assert!(
            line.ends_with("no claim failed; 1 could not be verified here"),
            "{line}"
        );
        assert_eq!(skipped.strict().status(), Status::Failed);
        assert!(tap(&strict).contains("# SKIP not asked for"));
        assert!(
            tap(&strict).ends_with("# pass 1, fail 0, skip 0, not run 1\n")
        );
    }

    #[test]
    fn strict_fails_every_skip_but_of_a_claim_the_kernel_predates() {
        let old = two_skips("6.1.0-57-cloud-amd64").strict();
        assert_eq!(old.claims[0].outcome.word(), "skip");
        assert_eq!(old.claims[1].outcome.word(), "fail");
        assert_eq!((old.summary.skip, old.summary.fail), (1, 1));
        assert_eq!(old.status(), Status::Failed);
        let new = two_skips("6.12.117+deb12-cloud-amd64").strict();
        assert_eq!(new.summary.fail, 2);
        // Without --strict, nothing was verified: skipped, not held.
        assert_eq!(two_skips("6.1.0").status(), Status::Skipped);
    }

    #[test]
    fn junit_escapes_what_xml_would_read_as_markup() {
        let mut report = two_skips("6.12");
        report.claims[0].outcome = Outcome::Fail {
            expected: "<a & \"b\">".into(),
            found: "\u{1}".into(),
        };
        let xml = junit(&report);
        assert!(xml.contains("&lt;a &amp; &quot;b&quot;&gt;"), "{xml}");
        assert!(!xml.contains('\u{1}'), "{xml}");
    }
}
