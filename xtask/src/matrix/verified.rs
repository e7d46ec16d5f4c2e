//! The recorded matrix behind the book's "Verified on" page
//! (`book/verified/report.{json,md}`), and the check that a fresh run
//! still agrees with it.
//!
//! `cargo xtask matrix --record` writes the recorded copy; it is
//! committed. A plain run (what CI does) never writes into the source
//! tree, so CI cannot leave it dirty; instead it compares each kernel's
//! outcomes with the recorded ones and fails (exit 1) when a kernel that
//! is in both now gives different outcomes: the page would be stale.
//! A kernel that ran but is not recorded (Debian published a new
//! package, or CI's host kernel is not the recording machine's) is
//! only mentioned: nothing recorded is contradicted.
//!
//! The recorded copy changes only when the facts do: it leaves out the
//! timings, keeps evidence only where the page shows it (the tracing
//! claims' stacks, the reasons of skips and failures) and redacts the
//! process ids in it (`[PID]`, `[TID]`).

use std::path::Path;

use exit_status::Status;

use super::kernels::{self, KernelSpec};
use super::report::{ClaimOutcome, KernelKind, KernelRun, MatrixReport};
use super::say;
use crate::files;

/// Where the recorded copy lives, relative to the workspace.
const DIR: &str = "book/verified";

/// What to type when the recorded copy is stale.
const RECORD: &str = "run `just matrix --record` and commit \
                              book/verified/";

/// `--record`: writes the book's copy of a complete report. Otherwise
/// compares with it; a change turns exit status 0 into 1.
pub(crate) fn against_recorded(
    record: bool,
    code: Status,
    fresh: &MatrixReport,
) -> Result<Status, String> {
    let workspace = crate::workspace();
    let dir = workspace.join(DIR);
    if record {
        let list = files::read(&workspace.join("matrix/kernels.list"))?;
        let specs = kernels::parse_list(&String::from_utf8_lossy(&list))?;
        let missing = missing(&specs, fresh);
        if !missing.is_empty() {
            let (missing, dir) = (missing.join(", "), dir.display());
            say(
                "record",
                format!(
                    "not recording: no report for {missing}; {dir} is unchanged"
                ),
            );
            return Ok(code.worst(Status::Failed));
        }
        write_record(&workspace, fresh)?;
        let wrote =
            format!("wrote {}/report.{{json,md}}; commit them", dir.display());
        say("record", wrote);
        return Ok(code);
    }
    let path = dir.join("report.json");
    let recorded = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            format!("{} is not the matrix's report ({e})", path.display())
        })?,
        Err(e) => {
            say("verified", format!("cannot read {}: {e}", path.display()));
            return Ok(code);
        }
    };
    let drift = compare(&recorded, fresh);
    for note in &drift.notes {
        say("verified", note);
    }
    if drift.changed.is_empty() {
        say(
            "verified",
            "every kernel also in book/verified/ gave its recorded outcomes",
        );
        return Ok(code);
    }
    for change in &drift.changed {
        say("verified", format!("changed: {change}"));
    }
    say(
        "verified",
        format!("the \"Verified on\" page is stale: {RECORD}"),
    );
    Ok(code.worst(Status::Failed))
}

/// The recorded form of a runner's report.
pub(crate) fn recorded(fresh: &MatrixReport) -> MatrixReport {
    let tracing = super::report::tracing_claims();
    let mut report = fresh.clone();
    report.wall_seconds = None;
    for k in &mut report.kernels {
        k.seconds = None;
        for c in &mut k.claims {
            let shown = tracing.contains(&c.id.as_str())
                || c.outcome != ClaimOutcome::Pass;
            c.evidence = c.evidence.as_deref().filter(|_| shown).map(redact);
        }
    }
    report
}

/// Replaces the process ids in evidence text by placeholders: they
/// differ from run to run and say nothing about the kernel.
pub(crate) fn redact(text: &str) -> String {
    let mut out = text.to_owned();
    for (prefix, placeholder) in [
        ("/proc/", "[TID]"),
        ("(thread ", "[TID]"),
        ("proc-threads-checker-", "[PID]"),
        // The audit's evidence: ids, counts and start times.
        ("hidden process ", "[PID]"),
        ("Tgid ", "[PID]"),
        ("resolves too: ", "[TID]"),
        ("start time ", "[N]"),
        ("/proc lists ", "[N]"),
    ] {
        out = redact_after(&out, prefix, placeholder);
    }
    out
}

/// Replaces each run of digits right after `prefix`.
fn redact_after(text: &str, prefix: &str, placeholder: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let (head, tail) = rest.split_at(at + prefix.len());
        out += head;
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        // `/proc/0<TID>`: the zero is the point, not part of the id
        // (and `/proc/0[TID]`, already redacted, stays as it is).
        let zero = tail.starts_with('0')
            && (digits > 1 || tail[1..].starts_with('['));
        if zero {
            out.push('0');
        }
        if digits > usize::from(zero) {
            out += placeholder;
        }
        rest = &tail[digits..];
    }
    out + rest
}

/// Writes the recorded copy of `fresh` into `<workspace>/book/verified`.
fn write_record(workspace: &Path, fresh: &MatrixReport) -> Result<(), String> {
    let dir = workspace.join(DIR);
    files::mkdir(&dir)?;
    let report = recorded(fresh);
    files::write(&dir.join("report.json"), report.to_json().as_bytes())?;
    files::write(&dir.join("report.md"), report.markdown().as_bytes())?;
    // The book's pictures of the stacks are drawn from the same report.
    crate::figures::redraw(workspace)
}

/// How a fresh run compares with the recorded copy.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Drift {
    /// Kernels in both whose outcomes differ, with how.
    pub(crate) changed: Vec<String>,
    /// Kernels that ran but are not recorded.
    pub(crate) notes: Vec<String>,
}

/// `(label, release)` identifies a kernel: the host's label is always
/// `host`, and only the same release is the same kernel.
fn key(k: &KernelRun) -> (&str, &str) {
    (&k.label, k.release.as_deref().unwrap_or(""))
}

/// Compares the kernels of `fresh` that reported with the recorded ones.
pub(crate) fn compare(recorded: &MatrixReport, fresh: &MatrixReport) -> Drift {
    let mut drift = Drift::default();
    for f in fresh.kernels.iter().filter(|f| f.reported()) {
        let (label, release) = key(f);
        let Some(r) = recorded.kernels.iter().find(|r| key(r) == key(f))
        else {
            drift.notes.push(format!(
                "{release} ({label}) is not in {DIR}/report.json"
            ));
            continue;
        };
        let mut how = Vec::new();
        for c in &f.claims {
            let now = c.outcome.word();
            match r.claim(&c.id).map(|w| w.outcome.word()) {
                Some(old) if old != now => {
                    how.push(format!("{}: recorded {old}, now {now}", c.id))
                }
                Some(_) => {}
                None => how.push(format!("{}: new claim, now {now}", c.id)),
            }
        }
        for c in r.claims.iter().filter(|c| f.claim(&c.id).is_none()) {
            how.push(format!("{}: recorded, now absent", c.id));
        }
        if !how.is_empty() {
            drift
                .changed
                .push(format!("{release} ({label}): {}", how.join("; ")));
        }
    }
    // A recorded kernel that did not run (`--kernel`, `--no-host`, a
    // newer package) is not mentioned: nothing contradicts it.
    drift
}

/// Which lines of the kernel list, and whether the host, have no
/// reported kernel in `report`: empty when the recording is complete.
pub(crate) fn missing(
    specs: &[KernelSpec],
    report: &MatrixReport,
) -> Vec<String> {
    let reported: Vec<&KernelRun> =
        report.kernels.iter().filter(|k| k.reported()).collect();
    let mut missing = Vec::new();
    for spec in specs {
        let found = reported.iter().any(|k| {
            k.suite.as_deref() == Some(&spec.suite)
                && kernels::glob_matches(
                    &spec.glob,
                    k.package.as_deref().unwrap_or(""),
                )
        });
        if !found {
            missing.push(format!(
                "{} {} (kernel list line {})",
                spec.suite, spec.glob, spec.line
            ));
        }
    }
    if !reported.iter().any(|k| k.label == "host") {
        missing.push("the host".into());
    }
    if !reported.iter().any(|k| k.kind == KernelKind::Source) {
        missing.push(format!("the kernel built from {}", super::source::PIN));
    }
    for k in &report.kernels {
        if k.kind == KernelKind::Mutant && !k.reported() {
            missing.push(k.label.clone());
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::report::ClaimRun;

    fn read(rel: &str) -> String {
        let path = crate::workspace().join(rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("cannot read {}: {e}; {RECORD}", path.display())
        })
    }

    fn committed() -> MatrixReport {
        serde_json::from_str(&read("book/verified/report.json"))
            .expect("book/verified/report.json is the matrix's report")
    }

    /// The page shows what the runner rendered: nothing typed by hand.
    #[test]
    fn the_verified_page_is_rendered_from_the_recorded_json() {
        let report = committed();
        assert!(
            report.to_json() == read("book/verified/report.json"),
            "book/verified/report.json is not as the runner writes it; {RECORD}"
        );
        assert_eq!(
            recorded(&report),
            report,
            "book/verified/report.json is not in recorded form; {RECORD}"
        );
        assert!(
            read("book/verified/report.md") == report.markdown(),
            "book/verified/report.md is not what the runner renders from \
             book/verified/report.json; {RECORD}"
        );
    }

    #[test]
    fn the_recorded_report_covers_every_listed_kernel_and_the_host() {
        let specs = kernels::parse_list(&read("matrix/kernels.list"))
            .expect("matrix/kernels.list parses");
        let missing = missing(&specs, &committed());
        assert!(
            missing.is_empty(),
            "book/verified/report.json has no report for {}; {RECORD}",
            missing.join(", ")
        );
    }

    #[test]
    fn redaction_replaces_only_the_ids() {
        assert_eq!(
            redact(
                "opening /proc/79/comm (thread 79): a <- b; \
                 instances/proc-threads-checker-25146/set_ftrace_pid; \
                 /proc/self; 4 stacks"
            ),
            "opening /proc/[TID]/comm (thread [TID]): a <- b; \
             instances/proc-threads-checker-[PID]/set_ftrace_pid; \
             /proc/self; 4 stacks"
        );
        assert_eq!(redact("/proc/024 resolves"), "/proc/0[TID] resolves");
        assert_eq!(
            redact(
                "hidden process 53 (audit-bait): /proc/53 resolves: Tgid 53, \
                 start time 518; 1 thread of it resolves too: 54; /proc \
                 lists 24 pids, /proc/53 not among them"
            ),
            "hidden process [PID] (audit-bait): /proc/[TID] resolves: Tgid \
             [PID], start time [N]; 1 thread of it resolves too: [TID]; \
             /proc lists [N] pids, /proc/[TID] not among them"
        );
        let once = redact("/proc/024 resolves");
        assert_eq!(redact(&once), once, "redacting twice changes nothing");
        assert_eq!(
            redact("/proc/0 and /proc/7"),
            "/proc/[TID] and /proc/[TID]"
        );
    }

    fn kernel(
        label: &str,
        release: &str,
        claims: &[(&str, &str)],
    ) -> KernelRun {
        let mut k = KernelRun::new(label, KernelKind::Debian);
        k.release = Some(release.into());
        k.seconds = Some(Some(3.2));
        k.status = "reported".into();
        k.claims = (claims.iter())
            .map(|(id, o)| ClaimRun {
                evidence: Some("e".into()),
                id: id.to_string(),
                outcome: serde_json::from_str(&format!("{o:?}")).unwrap(),
            })
            .collect();
        k
    }

    #[test]
    fn recording_drops_timings_and_unshown_evidence() {
        let t = super::super::report::tracing_claims()[0];
        let claims = [("a", "pass"), ("b", "skip"), (t, "pass")];
        let r = recorded(&MatrixReport::new(
            vec![kernel("host", "6.1", &claims)],
            "tcg",
            13.0,
        ));
        assert_eq!(r.wall_seconds, None);
        let k = &r.kernels[0];
        assert_eq!(k.seconds, None);
        assert_eq!(
            serde_json::to_string(&k.claims[0]).unwrap(),
            r#"{"id":"a","outcome":"pass"}"#
        );
        assert_eq!(k.claims[1].evidence.as_deref(), Some("e"));
        assert_eq!(k.claims[2].evidence.as_deref(), Some("e"));
    }

    #[test]
    fn only_a_kernel_in_both_with_other_outcomes_is_a_change() {
        let report = |kernels| MatrixReport::new(kernels, "tcg", 13.0);
        let recorded = report(vec![
            kernel("host", "6.18", &[("a", "pass"), ("b", "skip")]),
            kernel("6.1.0-56", "6.1.0-56", &[("a", "pass"), ("b", "pass")]),
            kernel("5.10.0-46", "5.10.0-46", &[("a", "pass")]),
        ]);
        let fresh = report(vec![
            kernel("host", "6.8", &[("a", "pass"), ("b", "skip")]),
            kernel(
                "6.1.0-56",
                "6.1.0-56",
                &[("a", "pass"), ("b", "fail"), ("c", "pass")],
            ),
            kernel("5.10.0-47", "5.10.0-47", &[("a", "pass")]),
        ]);
        let drift = compare(&recorded, &fresh);
        assert_eq!(
            drift.changed,
            ["6.1.0-56 (6.1.0-56): b: recorded pass, now fail; c: new \
              claim, now pass"]
        );
        assert_eq!(
            drift.notes,
            [
                "6.8 (host) is not in book/verified/report.json",
                "5.10.0-47 (5.10.0-47) is not in book/verified/report.json",
            ]
        );
        assert_eq!(compare(&fresh, &fresh), Drift::default());
    }
}
