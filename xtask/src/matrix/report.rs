//! Reading a checker report off a VM's console, and writing the
//! matrix's own report (`target/matrix/report.{json,md}`).
//!
//! The console is the only evidence: QEMU exits 0 even when the guest
//! panics, so a kernel counts as reported only if the checker's report
//! appears between its markers (see `checker/src/vm_init.rs`).

use checker::claims::{CLAIMS, Outcome};
use checker::report::Report;
use checker::vm_init::{
    REPORT_BEGIN as BEGIN, REPORT_END as END, REPORT_PANIC as PANIC,
};
use serde_json::{Value, json};

/// What a console log says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Console {
    /// The text between the markers.
    Report(String),
    /// No report; why, with the console's last lines as evidence.
    NoReport(String),
}

/// Removes terminal escape sequences (the firmware's, the kernel's
/// colour codes) and carriage returns.
pub(crate) fn strip_escapes(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                // CSI: parameters and intermediates up to a final
                // byte in @..~.
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // Charset selection: ESC ( B and friends.
                Some('(' | ')') => {
                    chars.next();
                }
                // Two-byte sequences (ESC c resets the terminal).
                _ => {}
            },
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Finds the report in a raw console log.
pub(crate) fn parse_console(raw: &str) -> Console {
    let text = strip_escapes(raw);
    let lines: Vec<&str> = text.lines().collect();
    let find = |marker: &str| lines.iter().position(|l| l.trim() == marker);
    match (find(BEGIN), find(PANIC)) {
        (Some(begin), _) => {
            let Some(len) =
                lines[begin + 1..].iter().position(|l| l.trim() == END)
            else {
                return Console::NoReport(format!(
                    "report began but never ended (guest died \
                     mid-report?): {}",
                    tail(&lines[begin..], 3)
                ));
            };
            let body: Vec<&str> = lines[begin + 1..begin + 1 + len]
                .iter()
                .copied()
                .filter(|l| !is_printk(l))
                .collect();
            Console::Report(body.join("\n"))
        }
        (None, Some(at)) => Console::NoReport(format!(
            "the checker panicked: {}",
            panic_message(&lines[..at]).unwrap_or("(no message)")
        )),
        (None, None) if lines.iter().all(|l| l.trim().is_empty()) => {
            Console::NoReport("no console output at all".into())
        }
        (None, None) => Console::NoReport(never_reported(&lines)),
    }
}

/// Why a console that has output holds no report: what the kernel said
/// last, named when it is a panic or a missing init.
fn never_reported(lines: &[&str]) -> String {
    let find = |needle: &str| {
        (lines.iter().rev()).find(|l| l.contains(needle)).map(|l| {
            l.trim()
                .trim_start_matches(|c| c != ']')
                .trim_start_matches("] ")
        })
    };
    if let Some(line) = find("No working init found") {
        return format!(
            "the kernel found no working init, never reaching the \
             checker: {line}"
        );
    }
    if let Some(line) = find("Kernel panic - not syncing") {
        return format!(
            "the kernel panicked before the checker reported: {line}"
        );
    }
    format!("no report on the console; last lines: {}", tail(lines, 3))
}

/// Whether a line is a kernel message (`[    1.234567] ...`) that
/// got in between the markers.
fn is_printk(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('[') else {
        return false;
    };
    let Some((stamp, _)) = rest.split_once(']') else {
        return false;
    };
    let stamp = stamp.trim();
    !stamp.is_empty()
        && stamp.contains('.')
        && stamp.chars().all(|c| c.is_ascii_digit() || c == '.')
}

fn panic_message<'a>(lines: &[&'a str]) -> Option<&'a str> {
    let at = lines.iter().rposition(|l| l.contains("panicked at"))?;
    // Rust prints the location line, then the message on the next.
    lines.get(at + 1).or(lines.get(at)).map(|l| l.trim())
}

fn tail(lines: &[&str], n: usize) -> String {
    let useful: Vec<&str> = lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect();
    useful[useful.len().saturating_sub(n)..].join(" | ")
}

/// One claim's result on one kernel, as the checker reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClaimResult {
    pub(crate) id: String,
    /// `pass`, `fail` or `skip`.
    pub(crate) outcome: String,
    /// What backs the outcome: the checker's `observed` for a pass,
    /// `expected: ...; found: ...` for a fail, the `reason` of a skip.
    /// For the tracing claims, the captured stacks.
    pub(crate) evidence: String,
}

/// One kernel's claims, as the checker reported them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcomes {
    /// `uname -r` of the kernel that ran the checker.
    pub(crate) release: String,
    /// In report order.
    pub(crate) claims: Vec<ClaimResult>,
}

/// Reads the checker's JSON report, with the checker's own type.
pub(crate) fn parse_report(json: &str) -> Result<Outcomes, String> {
    let report: Report = serde_json::from_str(json.trim())
        .map_err(|e| format!("report is not the checker's JSON ({e})"))?;
    let claims = (report.claims.into_iter())
        .map(|c| {
            let (outcome, evidence) = match c.outcome {
                Outcome::Pass { observed } => ("pass", observed),
                Outcome::Fail { expected, found } => {
                    ("fail", format!("expected: {expected}; found: {found}"))
                }
                Outcome::Skip { reason } => ("skip", reason),
                Outcome::NotRun { reason } => ("not_run", reason),
            };
            ClaimResult {
                id: c.id,
                outcome: outcome.to_string(),
                evidence,
            }
        })
        .collect();
    Ok(Outcomes {
        release: report.kernel.release,
        claims,
    })
}

/// Ids of the tracing claims, in registry order: the claims whose
/// evidence is kernel stacks.
pub(crate) fn tracing_claims() -> Vec<&'static str> {
    (CLAIMS.iter())
        .filter(|claim| claim.traces())
        .map(|claim| claim.id)
        .collect()
}

/// Where a column's kernel came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The machine that runs the matrix, natively.
    Host,
    /// A Debian package of `matrix/kernels.list`.
    Debian,
    /// Built from `matrix/kernel-source` with `matrix/kernel.config`.
    Source,
    /// An image the user named with `--image`.
    Image,
    /// The source-built kernel with a patch of `matrix/mutants/`, which
    /// must break exactly `breaks`.
    Mutant { breaks: Vec<String> },
}

impl Kind {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Kind::Host => "host",
            Kind::Debian => "debian",
            Kind::Source => "source",
            Kind::Image => "image",
            Kind::Mutant { .. } => "mutant",
        }
    }
}

/// Whether a mutant was caught: exactly the claims it names failed on
/// it, and no other. The error says which were not.
pub(crate) fn mutant_verdict(
    name: &str,
    breaks: &[String],
    failed: &[String],
) -> Result<(), String> {
    if failed.is_empty() {
        return Err(format!(
            "mutant {name} not caught: no claim failed on it, though it \
             names {}",
            breaks.join(", ")
        ));
    }
    let missed: Vec<&str> = (breaks.iter())
        .filter(|b| !failed.contains(b))
        .map(String::as_str)
        .collect();
    let extra: Vec<&str> = (failed.iter())
        .filter(|f| !breaks.contains(f))
        .map(String::as_str)
        .collect();
    let mut why = Vec::new();
    if !missed.is_empty() {
        why.push(format!(
            "did not break {}, which it names",
            missed.join(", ")
        ));
    }
    if !extra.is_empty() {
        why.push(format!(
            "broke {}, which it does not name",
            extra.join(", ")
        ));
    }
    match why.is_empty() {
        true => Ok(()),
        false => Err(format!("mutant {name} {}", why.join("; and "))),
    }
}

/// One column of the matrix: a kernel and what came of it.
#[derive(Debug)]
pub(crate) struct Column {
    /// Short name: `host`, the package without its prefix, `source`,
    /// an image's file name, `mutant <name>`.
    pub(crate) label: String,
    pub(crate) kind: Kind,
    pub(crate) suite: Option<String>,
    pub(crate) package: Option<String>,
    pub(crate) version: Option<String>,
    /// How it ran: `native`, `pvh/tcg`, `bzimage/kvm`, ...
    pub(crate) how: Option<String>,
    /// Wall time of the boot (or the native run), in seconds.
    pub(crate) seconds: Option<f64>,
    pub(crate) result: Result<Outcomes, String>,
}

impl Column {
    /// `reported`, or why not.
    fn status(&self) -> String {
        match &self.result {
            Ok(_) => "reported".into(),
            Err(e) => e.clone(),
        }
    }

    /// The ids of the claims that failed on this kernel.
    pub(crate) fn failed(&self) -> Vec<String> {
        (self.result.iter().flat_map(|o| &o.claims))
            .filter(|c| c.outcome == "fail")
            .map(|c| c.id.clone())
            .collect()
    }

    /// For a mutant that reported, whether it was caught.
    pub(crate) fn verdict(&self) -> Option<Result<(), String>> {
        let Kind::Mutant { breaks } = &self.kind else {
            return None;
        };
        let name = self.label.trim_start_matches("mutant ");
        self.result.as_ref().ok()?;
        Some(mutant_verdict(name, breaks, &self.failed()))
    }
}

/// The matrix as JSON: the runner's `report.json`, and the input of
/// [`to_markdown`].
pub(crate) fn to_json(columns: &[Column], accel: &str, wall: f64) -> Value {
    let kernels: Vec<Value> = columns
        .iter()
        .map(|c| {
            let claims: Vec<Value> = c
                .result
                .iter()
                .flat_map(|o| &o.claims)
                .map(|r| {
                    json!({
                        "id": r.id,
                        "outcome": r.outcome,
                        "evidence": r.evidence,
                    })
                })
                .collect();
            let mut column = json!({
                "label": c.label,
                "kind": c.kind.name(),
                "suite": c.suite,
                "package": c.package,
                "version": c.version,
                "release": c.result.as_ref().ok().map(|o| &o.release),
                "how": c.how,
                "seconds": c.seconds.map(round2),
                "status": c.status(),
                "claims": claims,
            });
            if let Kind::Mutant { breaks } = &c.kind {
                column["breaks"] = json!(breaks);
                column["verdict"] = json!(match c.verdict() {
                    Some(Ok(())) => "caught".to_string(),
                    Some(Err(why)) => why,
                    None => "no report".to_string(),
                });
            }
            column
        })
        .collect();
    json!({
        "accel": accel,
        "wall_seconds": round2(wall),
        "kernels": kernels,
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A kernel entry of the JSON report, read back for rendering.
struct Kernel<'a> {
    v: &'a Value,
}

impl<'a> Kernel<'a> {
    fn str(&self, key: &str) -> Option<&'a str> {
        self.v.get(key).and_then(Value::as_str)
    }

    fn reported(&self) -> bool {
        self.str("status") == Some("reported")
    }

    /// Column header: the release that ran (marked when it is the
    /// host's), else the label.
    fn header(&self) -> String {
        let label = self.str("label").unwrap_or("?");
        let kind = self.str("kind").unwrap_or("debian");
        match (self.str("release"), kind) {
            (Some(r), "host" | "source" | "image") => format!("{r} ({kind})"),
            (Some(r), _) => r.to_owned(),
            (None, _) => label.to_owned(),
        }
    }

    /// A short column name for the claims table, so that seven
    /// columns fit the book's page: the upstream release (`6.12.117`
    /// from the version `6.12.117-1~deb12u1`), and what the kernel is
    /// unless it is Debian's package. The kernels table below it gives
    /// the full release.
    fn short_header(&self) -> String {
        let kind = self.str("kind").unwrap_or("debian");
        let Some(from) = self.str("version").or(self.str("release")) else {
            return self.header();
        };
        let upstream = from.split(['-', '+']).next().unwrap_or(from);
        match kind {
            "debian" => upstream.to_owned(),
            kind => format!("{upstream} ({kind})"),
        }
    }

    fn is_mutant(&self) -> bool {
        self.str("kind") == Some("mutant")
    }

    fn claims(&self) -> impl Iterator<Item = &'a Value> {
        self.v
            .get("claims")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    }

    fn claim(&self, id: &str) -> Option<&'a Value> {
        self.claims()
            .find(|c| c.get("id").and_then(Value::as_str) == Some(id))
    }
}

fn kernels(report: &Value) -> Vec<Kernel<'_>> {
    report
        .get("kernels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|v| Kernel { v })
        .collect()
}

/// Claim ids in first-seen order over all kernels.
fn claim_ids<'a>(kernels: &[Kernel<'a>]) -> Vec<&'a str> {
    let mut ids: Vec<&str> = Vec::new();
    for k in kernels {
        for id in k.claims().filter_map(|c| c.get("id")?.as_str()) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// Text for a Markdown table cell: a `|` would end the cell, `<word`
/// would open an HTML tag in the book, and a placeholder such as
/// `[TID]` outside a code span would read as a reference link (and
/// the link check would flag it).
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_code = false;
    while let Some(c) = chars.next() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '[' | ']' if !in_code => {
                out.push('\\');
                out.push(c);
            }
            '|' => out += "\\|",
            '<' if chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '/') =>
            {
                out += "&lt;";
            }
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The matrix as Markdown, from its JSON ([`to_json`], or the recorded
/// copy in `book/verified/`): claims by kernel; one row per kernel;
/// the kernel stacks each tracing claim captured, per kernel; the
/// reasons and findings of other claims that did not pass.
///
/// The stacks section sits between mdBook `ANCHOR: stacks` comments,
/// so a chapter can include just it.
pub(crate) fn to_markdown(report: &Value) -> String {
    let all = kernels(report);
    let (mutants, kernels): (Vec<Kernel<'_>>, Vec<Kernel<'_>>) =
        all.into_iter().partition(Kernel::is_mutant);
    let ids = claim_ids(&kernels);
    let outcome = |k: &Kernel<'_>, id: &str| -> (String, String) {
        match k.claim(id) {
            _ if !k.reported() => ("no report".into(), String::new()),
            None => ("(absent)".into(), String::new()),
            Some(c) => {
                let get = |key| c.get(key).and_then(Value::as_str);
                (
                    get("outcome").unwrap_or("?").to_owned(),
                    get("evidence").unwrap_or("").to_owned(),
                )
            }
        }
    };

    // Between anchors, and every heading outside them, so that a page
    // can include a part without its headings reaching its outline.
    let mut md = String::from("<!-- ANCHOR: outcomes -->\n| claim |");
    for k in &kernels {
        md += &format!(" {} |", k.short_header());
    }
    md += "\n|---|";
    md += &"---|".repeat(kernels.len());
    md += "\n";
    for id in &ids {
        md += &format!("| `{id}` |");
        for k in &kernels {
            md += &format!(" {} |", outcome(k, id).0);
        }
        md += "\n";
    }

    // Timings only where the JSON has them: the recorded copy leaves
    // them out, so that re-recording changes nothing when nothing
    // changed.
    let timed = kernels.iter().any(|k| k.v.get("seconds").is_some());
    md += "\n| kernel | package | version | how |";
    md += if timed {
        " seconds | status |\n"
    } else {
        " status |\n"
    };
    md += "|---|---|---|---|---|";
    md += if timed { "---|\n" } else { "\n" };
    for k in &kernels {
        let opt = |key| k.str(key).unwrap_or("-");
        md += &format!(
            "| {} | {} | {} | {} |",
            k.header(),
            opt("package"),
            opt("version"),
            opt("how")
        );
        if timed {
            match k.v.get("seconds").and_then(Value::as_f64) {
                Some(s) => md += &format!(" {s:.1} |"),
                None => md += " - |",
            }
        }
        md += &format!(" {} |\n", cell(opt("status")));
    }
    md += "<!-- ANCHOR_END: outcomes -->\n";

    let tracing = tracing_claims();
    md += "\n## Kernel stacks\n\n<!-- ANCHOR: stacks -->\n";
    let traced: Vec<&&str> =
        ids.iter().filter(|id| tracing.contains(id)).collect();
    for (n, id) in traced.iter().enumerate() {
        md += &format!(
            "\n### `{id}`\n\n| kernel | outcome | evidence |\n\
             |---|---|---|\n"
        );
        for k in &kernels {
            let (o, e) = outcome(k, id);
            // A reason this kernel gave for an earlier claim (a host
            // that refuses tracing) is named, not repeated.
            let earlier = traced[..n]
                .iter()
                .find(|other| !e.is_empty() && outcome(k, other).1 == e);
            let e = match earlier {
                Some(other) => format!("the same as for `{other}`"),
                None => cell(&e),
            };
            md += &format!("| {} | {o} | {e} |\n", k.header());
        }
    }
    md += "<!-- ANCHOR_END: stacks -->\n";

    let mut others = String::new();
    for k in &kernels {
        for id in ids.iter().filter(|id| !tracing.contains(id)) {
            let (o, e) = outcome(k, id);
            if o == "skip" || o == "fail" {
                others += &format!(
                    "| {} | `{id}` | {o} | {} |\n",
                    k.header(),
                    cell(&e)
                );
            }
        }
    }
    md += "\n## Other skips and failures\n\n<!-- ANCHOR: others -->\n";
    if others.is_empty() {
        md += "No other claim skipped or failed.\n";
    } else {
        md += "| kernel | claim | outcome | evidence |\n|---|---|---|---|\n";
        md += &others;
    }
    md += "<!-- ANCHOR_END: others -->\n";
    if !mutants.is_empty() {
        md += &mutants_markdown(&mutants);
    }
    md
}

/// The mutant kernels: each one's patch, the claims it must break,
/// those that broke, and the verdict; then, per mutant, the evidence of
/// each failed claim, between `ANCHOR: mutant-<name>` comments.
fn mutants_markdown(mutants: &[Kernel<'_>]) -> String {
    let list = |k: &Kernel<'_>, key: &str| -> Vec<String> {
        (k.v.get(key).and_then(Value::as_array).into_iter().flatten())
            .filter_map(|v| v.as_str().map(|s| format!("`{s}`")))
            .collect()
    };
    fn failed<'a>(k: &Kernel<'a>) -> Vec<&'a Value> {
        k.claims()
            .filter(|c| {
                c.get("outcome").and_then(Value::as_str) == Some("fail")
            })
            .collect()
    }
    let mut md = String::from(
        "\n## Mutant kernels\n\n<!-- ANCHOR: mutants -->\n\
         | mutant | claims it must break | claims that failed | verdict |\n\
         |---|---|---|---|\n",
    );
    for k in mutants {
        let name = k.str("label").unwrap_or("?").trim_start_matches("mutant ");
        let broke: Vec<String> = failed(k)
            .iter()
            .filter_map(|c| c.get("id")?.as_str())
            .map(|id| format!("`{id}`"))
            .collect();
        let verdict = match k.str("verdict") {
            Some("caught") => "caught".to_string(),
            Some(why) => cell(why),
            None => cell(&k.header()),
        };
        md += &format!(
            "| `{name}` | {} | {} | {verdict} |\n",
            list(k, "breaks").join(", "),
            if broke.is_empty() {
                "none".into()
            } else {
                broke.join(", ")
            },
        );
    }
    md += "<!-- ANCHOR_END: mutants -->\n";
    // Each mutant's evidence is a table of its own, named in its
    // header rather than by a heading, so that a chapter can include
    // one (`mutant-<name>`) or all (`mutant-evidence`).
    md += "\n<!-- ANCHOR: mutant-evidence -->\n";
    for (n, k) in mutants.iter().enumerate() {
        let name = k.str("label").unwrap_or("?").trim_start_matches("mutant ");
        if n > 0 {
            md += "\n";
        }
        md += &format!(
            "<!-- ANCHOR: mutant-{name} -->\n\
             | claim that failed on `{name}` ({}) | evidence |\n|---|---|\n",
            k.str("release").unwrap_or("?")
        );
        for c in failed(k) {
            let field = |key| c.get(key).and_then(Value::as_str).unwrap_or("");
            md += &format!(
                "| `{}` | {} |\n",
                field("id"),
                cell(field("evidence"))
            );
        }
        md += &format!("<!-- ANCHOR_END: mutant-{name} -->\n");
    }
    md += "<!-- ANCHOR_END: mutant-evidence -->\n";
    md
}

/// The Markdown for a terminal: without the mdBook anchor comments.
pub(crate) fn for_terminal(md: &str) -> String {
    md.lines()
        .filter(|l| !l.starts_with("<!-- ANCHOR"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"{"schema_version":2,
        "kernel":{"release":"6.1.0-56-cloud-amd64"}, "proc":"/proc",
        "target":{"origin":"spawned","leader":2,"comm":"demo","tids":4},
        "claims":[
          {"id":"a","statement":"","kernel":"","outcome":"pass",
           "observed":"x <- y"},
          {"id":"b","statement":"","kernel":"","outcome":"skip",
           "reason":"no tracefs"},
          {"id":"c","statement":"","kernel":"","outcome":"fail",
           "expected":"1","found":"2"}],
        "summary":{"pass":1,"fail":1,"skip":1}}"#;

    #[test]
    fn strips_csi_charset_and_reset_sequences() {
        let raw = "\u{1b}c\u{1b}[?7l\u{1b}[2J\u{1b}(Bboot\r\nok\u{1b}[0m\r\n";
        assert_eq!(strip_escapes(raw), "boot\nok\n");
    }

    #[test]
    fn finds_the_report_between_markers() {
        let raw = format!(
            "\u{1b}[2J[    0.1] hello\r\n{BEGIN}\r\n{{\"x\":\r\n\
             [    1.605538] random: crng init done\r\n1}}\r\n{END}\r\n\
             [    2.0] reboot: Power down\r\n"
        );
        assert_eq!(parse_console(&raw), Console::Report("{\"x\":\n1}".into()));
    }

    #[test]
    fn a_begun_but_unended_report_is_no_report() {
        let raw = format!("{BEGIN}\n{{\"x\":\nKernel panic - not syncing\n");
        let Console::NoReport(why) = parse_console(&raw) else {
            panic!("should not count as a report")
        };
        assert!(why.contains("never ended"), "{why}");
        assert!(why.contains("Kernel panic"), "{why}");
    }

    #[test]
    fn a_panic_marker_reports_the_message() {
        let raw = format!(
            "thread 'main' panicked at checker/src/main.rs:3:5:\n\
             claim table is empty\n{PANIC}\n"
        );
        assert_eq!(
            parse_console(&raw),
            Console::NoReport(
                "the checker panicked: claim table is empty".into()
            )
        );
    }

    #[test]
    fn silence_and_kernel_panics_are_no_report() {
        assert_eq!(
            parse_console("\u{1b}c\r\n"),
            Console::NoReport("no console output at all".into())
        );
        let raw = "[ 1.6] Kernel panic - not syncing: VFS\n[ 1.7] end\n";
        let Console::NoReport(why) = parse_console(raw) else {
            panic!()
        };
        assert!(why.contains("Kernel panic"), "{why}");
    }

    #[test]
    fn a_missing_init_and_a_panic_are_named() {
        let no_init = "[ 0.9] Run /init as init process\n\
                       [ 0.9] Kernel panic - not syncing: No working init \
                       found.  Try passing init= option to kernel.\n";
        let Console::NoReport(why) = parse_console(no_init) else {
            panic!()
        };
        assert!(why.starts_with("the kernel found no working init"), "{why}");
        let panic = "[ 1.6] Kernel panic - not syncing: VFS: Unable to mount \
                     root fs\n[ 1.7] ---[ end Kernel panic ]---\n";
        let Console::NoReport(why) = parse_console(panic) else {
            panic!()
        };
        assert_eq!(
            why,
            "the kernel panicked before the checker reported: Kernel panic \
             - not syncing: VFS: Unable to mount root fs"
        );
    }

    #[test]
    fn printk_lines_are_recognised() {
        assert!(is_printk("[    1.605538] random: crng init done"));
        assert!(!is_printk("[1, 2]"));
        assert!(!is_printk("[]"));
    }

    #[test]
    fn parses_release_outcomes_and_evidence() {
        let o = parse_report(REPORT).unwrap();
        assert_eq!(o.release, "6.1.0-56-cloud-amd64");
        let got: Vec<(&str, &str, &str)> = o
            .claims
            .iter()
            .map(|c| (&*c.id, &*c.outcome, &*c.evidence))
            .collect();
        assert_eq!(
            got,
            [
                ("a", "pass", "x <- y"),
                ("b", "skip", "no tracefs"),
                ("c", "fail", "expected: 1; found: 2"),
            ]
        );
        let err = parse_report("{}").unwrap_err();
        assert!(err.contains("missing field `schema_version`"), "{err}");
        let bad = REPORT.replace(r#""outcome":"pass""#, r#""outcome":"x""#);
        let err = parse_report(&bad).unwrap_err();
        assert!(err.contains("unknown variant `x`"), "{err}");
    }

    #[test]
    fn the_registry_names_the_three_tracing_claims() {
        assert_eq!(
            tracing_claims(),
            [
                "listing_passes_through_proc_pid_readdir",
                "tid_lookup_passes_through_proc_pid_lookup",
                "cached_dentry_skips_proc_root_lookup",
            ]
        );
    }

    fn columns() -> Vec<Column> {
        let ok = Column {
            label: "host".into(),
            kind: Kind::Host,
            suite: None,
            package: None,
            version: None,
            how: Some("native".into()),
            seconds: Some(0.25),
            result: parse_report(REPORT),
        };
        let failed = Column {
            label: "5.10.0-46-cloud-amd64".into(),
            kind: Kind::Debian,
            suite: Some("bullseye-security".into()),
            package: Some("linux-image-5.10.0-46-cloud-amd64".into()),
            version: Some("5.10.262-1".into()),
            how: Some("pvh/tcg".into()),
            seconds: Some(30.0),
            result: Err("timed out | killed".into()),
        };
        vec![ok, failed]
    }

    #[test]
    fn markdown_has_a_row_per_claim_and_per_kernel() {
        let md = to_markdown(&to_json(&columns(), "tcg", 31.0));
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines[0], "<!-- ANCHOR: outcomes -->");
        assert_eq!(lines[1], "| claim | 6.1.0 (host) | 5.10.262 |");
        assert_eq!(lines[3], "| `a` | pass | no report |");
        assert_eq!(lines[4], "| `b` | skip | no report |");
        assert!(md.contains("| 30.0 | timed out \\| killed |"), "{md}");
        // Neither `a`, `b` nor `c` is a tracing claim: no stacks, and
        // the skip and the fail are listed with their evidence.
        assert!(md.contains("<!-- ANCHOR: stacks -->\n<!-- ANCHOR_END"));
        assert!(md.contains("| `b` | skip | no tracefs |"), "{md}");
        assert!(md.contains("| `c` | fail | expected: 1; found: 2 |"));
        assert!(!for_terminal(&md).contains("ANCHOR"));
    }

    #[test]
    fn tracing_claims_get_a_table_of_stacks_per_kernel() {
        let id = tracing_claims()[0];
        let report = REPORT.replace("\"a\"", &format!("{id:?}"));
        let mut cols = columns();
        cols[0].result = parse_report(&report);
        let md = to_markdown(&to_json(&cols, "tcg", 31.0));
        let table = format!(
            "### `{id}`\n\n| kernel | outcome | evidence |\n|---|---|---|\n\
             | 6.1.0-56-cloud-amd64 (host) | pass | x <- y |\n\
             | 5.10.0-46-cloud-amd64 | no report |  |\n"
        );
        assert!(md.contains(&table), "{md}");
    }

    #[test]
    fn a_reason_repeated_for_the_next_tracing_claim_is_named_once() {
        let [first, second, ..] = tracing_claims()[..] else {
            panic!("three tracing claims")
        };
        let report = REPORT
            .replace("\"a\"", &format!("{first:?}"))
            .replace("\"b\"", &format!("{second:?}"))
            .replace(
                "\"pass\",\n           \"observed\":\"x <- y\"",
                "\"skip\",\n           \"reason\":\"no tracefs\"",
            );
        let mut cols = columns();
        cols[0].result = parse_report(&report);
        let md = to_markdown(&to_json(&cols, "tcg", 31.0));
        assert_eq!(md.matches("no tracefs").count(), 1, "{md}");
        assert!(md.contains(&format!("| skip | the same as for `{first}` |")));
    }

    #[test]
    fn included_parts_carry_no_heading() {
        let mut cols = columns();
        cols.push(Column {
            label: "mutant m".into(),
            kind: Kind::Mutant {
                breaks: vec!["c".into()],
            },
            suite: None,
            package: None,
            version: None,
            how: None,
            seconds: None,
            result: parse_report(REPORT),
        });
        let md = to_markdown(&to_json(&cols, "tcg", 31.0));
        // The parts the book includes; the stacks are for the terminal
        // (the book draws them: `cargo xtask figures`).
        let mut open: Vec<&str> = Vec::new();
        for line in md.lines() {
            if let Some(name) = line.strip_prefix("<!-- ANCHOR: ") {
                open.push(name.trim_end_matches(" -->"));
            } else if line.starts_with("<!-- ANCHOR_END: ") {
                open.pop();
            } else if line.starts_with('#') {
                assert!(
                    open.is_empty() || open == ["stacks"],
                    "{line:?} inside {open:?}"
                );
            }
        }
        assert!(md.contains("<!-- ANCHOR: outcomes -->"));
        assert!(md.contains("<!-- ANCHOR: others -->"));
        assert!(md.contains("<!-- ANCHOR: mutant-evidence -->"));
    }

    #[test]
    fn cells_escape_pipes_and_tags_but_not_arrows() {
        assert_eq!(cell("a | b"), "a \\| b");
        assert_eq!(
            cell("/proc/[TID] (`none [integrity]`)"),
            "/proc/\\[TID\\] (`none [integrity]`)"
        );
        assert_eq!(
            cell("/proc/<TID> </b> x <- y"),
            "/proc/&lt;TID> &lt;/b> x <- y"
        );
    }

    #[test]
    fn a_mutant_is_caught_only_by_exactly_the_claims_it_names() {
        let claims = |ids: &[&str]| -> Vec<String> {
            ids.iter().map(|s| s.to_string()).collect()
        };
        let breaks = claims(&["a", "b"]);
        assert_eq!(mutant_verdict("m", &breaks, &claims(&["b", "a"])), Ok(()));
        let none = mutant_verdict("m", &breaks, &[]).unwrap_err();
        assert_eq!(
            none,
            "mutant m not caught: no claim failed on it, though it names a, b"
        );
        let odd =
            mutant_verdict("m", &breaks, &claims(&["a", "c"])).unwrap_err();
        assert_eq!(
            odd,
            "mutant m did not break b, which it names; and broke c, which \
             it does not name"
        );
    }

    #[test]
    fn mutants_get_their_own_table_not_columns_of_the_claims_table() {
        let mut cols = columns();
        cols.push(Column {
            label: "mutant m".into(),
            kind: Kind::Mutant {
                breaks: vec!["c".into()],
            },
            suite: None,
            package: None,
            version: None,
            how: None,
            seconds: None,
            result: parse_report(REPORT),
        });
        let md = to_markdown(&to_json(&cols, "tcg", 31.0));
        assert!(md.lines().nth(1).unwrap().matches('|').count() == 4, "{md}");
        assert!(md.contains("| `m` | `c` | `c` | caught |"), "{md}");
        assert!(md.contains("<!-- ANCHOR: mutant-m -->"), "{md}");
        assert!(md.contains("| `c` | expected: 1; found: 2 |"), "{md}");
    }
}
