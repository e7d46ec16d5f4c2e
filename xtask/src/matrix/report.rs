//! The matrix's report, one typed value from the boots to the page:
//! what `target/matrix/report.json` holds (and a slice's report, and
//! the recorded copy in `book/verified/`), its Markdown, and the same
//! Markdown for the terminal without the book's anchors.

use serde::{Deserialize, Deserializer, Serialize};

use checker::claims::{CLAIMS, Outcome};
use checker::report::Report;

/// The report of a run, a slice or a merge.
///
/// The fields of these types are in alphabetical order: the order in
/// which the JSON has always been written, so that a re-recorded copy
/// differs only where the facts do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct MatrixReport {
    /// `tcg`, `kvm`; a merge of both says `kvm+tcg`.
    pub(crate) accel: String,
    /// One per column of the plan, in its order.
    pub(crate) kernels: Vec<KernelRun>,
    /// In a slice's report: its id, for `--merge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) slice: Option<String>,
    /// Absent from the recorded copy, as every timing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) wall_seconds: Option<f64>,
}

/// One column of the matrix: a kernel and what came of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct KernelRun {
    /// A mutant's: the claims its patch must break.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) breaks: Option<Vec<String>>,
    /// In report order; none without a report.
    pub(crate) claims: Vec<ClaimRun>,
    /// How it ran: `native`, `pvh/tcg`, `bzimage/kvm`, ...
    pub(crate) how: Option<String>,
    pub(crate) kind: KernelKind,
    /// Short name: `host`, the package without its prefix, `source`,
    /// an image's file name, `mutant <name>`.
    pub(crate) label: String,
    pub(crate) package: Option<String>,
    /// `uname -r` of the kernel that ran the checker.
    pub(crate) release: Option<String>,
    /// Wall time of the boot (or the native run), in seconds: `null`
    /// if there was none, absent from the recorded copy.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub(crate) seconds: Option<Option<f64>>,
    /// `reported`, or why not.
    pub(crate) status: String,
    pub(crate) suite: Option<String>,
    /// A mutant's: `caught`, why not, or `no report`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) verdict: Option<String>,
    /// The package version, or the pinned source's.
    pub(crate) version: Option<String>,
}

/// A key that is there, even as `null`.
fn present<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<f64>>, D::Error> {
    Option::deserialize(d).map(Some)
}

/// Where a column's kernel came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum KernelKind {
    /// The machine that runs the matrix, natively.
    Host,
    /// A Debian package of `matrix/kernels.list`.
    Debian,
    /// Built from `matrix/kernel-source` with `matrix/kernel.config`.
    Source,
    /// An image the user named with `--image`.
    Image,
    /// The source-built kernel with a patch of `matrix/mutants/`, which
    /// must break exactly the claims of its `breaks`.
    Mutant,
}

impl KernelKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            KernelKind::Host => "host",
            KernelKind::Debian => "debian",
            KernelKind::Source => "source",
            KernelKind::Image => "image",
            KernelKind::Mutant => "mutant",
        }
    }

    /// What kind of kernel it is, for a reader.
    pub(crate) fn origin(self) -> &'static str {
        match self {
            KernelKind::Debian => "Debian's package",
            KernelKind::Source => "built from source",
            KernelKind::Host => "the recording host",
            KernelKind::Mutant => "a mutant kernel",
            KernelKind::Image => "an image",
        }
    }
}

/// One claim's result on one kernel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ClaimRun {
    /// What backs the outcome: the checker's `observed` for a pass,
    /// `expected: ...; found: ...` for a fail, the `reason` of a skip;
    /// for the tracing claims, the captured stacks. The recorded copy
    /// keeps only what the page shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) evidence: Option<String>,
    pub(crate) id: String,
    pub(crate) outcome: ClaimOutcome,
}

/// A claim's outcome without its evidence: [`Outcome::word`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ClaimOutcome {
    Pass,
    Fail,
    Skip,
    NotRun,
}

impl ClaimOutcome {
    pub(crate) fn word(self) -> &'static str {
        match self {
            ClaimOutcome::Pass => "pass",
            ClaimOutcome::Fail => "fail",
            ClaimOutcome::Skip => "skip",
            ClaimOutcome::NotRun => "not_run",
        }
    }
}

impl From<checker::report::ClaimResult> for ClaimRun {
    fn from(c: checker::report::ClaimResult) -> ClaimRun {
        let (outcome, evidence) = match c.outcome {
            Outcome::Pass { observed } => (ClaimOutcome::Pass, observed),
            Outcome::Fail { expected, found } => (
                ClaimOutcome::Fail,
                format!("expected: {expected}; found: {found}"),
            ),
            Outcome::Skip { reason } => (ClaimOutcome::Skip, reason),
            Outcome::NotRun { reason } => (ClaimOutcome::NotRun, reason),
        };
        ClaimRun {
            evidence: Some(evidence),
            id: c.id,
            outcome,
        }
    }
}

/// Reads the checker's JSON report, with the checker's own type.
pub(crate) fn parse_report(json: &str) -> Result<Report, String> {
    serde_json::from_str(json.trim())
        .map_err(|e| format!("report is not the checker's JSON ({e})"))
}

/// Ids of the tracing claims, in registry order: the claims whose
/// evidence is kernel stacks.
pub(crate) fn tracing_claims() -> Vec<&'static str> {
    (CLAIMS.iter())
        .filter(|claim| claim.traces())
        .map(|claim| claim.id)
        .collect()
}

impl KernelRun {
    /// A column with nothing known yet but its name.
    pub(crate) fn new(label: impl Into<String>, kind: KernelKind) -> Self {
        KernelRun {
            breaks: None,
            claims: Vec::new(),
            how: None,
            kind,
            label: label.into(),
            package: None,
            release: None,
            seconds: Some(None),
            status: String::new(),
            suite: None,
            verdict: None,
            version: None,
        }
    }

    /// The column of a mutant that must break `breaks`.
    pub(crate) fn mutant(name: &str, breaks: &[String]) -> Self {
        let mut run =
            KernelRun::new(format!("mutant {name}"), KernelKind::Mutant);
        run.breaks = Some(breaks.to_vec());
        run
    }

    /// Takes the checker's report, or why there is none.
    pub(crate) fn set_result(&mut self, result: Result<Report, String>) {
        match result {
            Ok(report) => {
                self.release = Some(report.kernel.release);
                self.claims =
                    report.claims.into_iter().map(Into::into).collect();
                self.status = "reported".into();
            }
            Err(why) => self.set_failed(why),
        }
    }

    /// No report after all: drops the claims, says why.
    pub(crate) fn set_failed(&mut self, why: String) {
        self.release = None;
        self.claims.clear();
        self.status = why;
    }

    pub(crate) fn reported(&self) -> bool {
        self.status == "reported"
    }

    /// The claim `id`, if this kernel reported it.
    pub(crate) fn claim(&self, id: &str) -> Option<&ClaimRun> {
        self.claims.iter().find(|c| c.id == id)
    }

    /// The outcome and evidence of claim `id`, if reported.
    pub(crate) fn outcome(&self, id: &str) -> Option<(ClaimOutcome, &str)> {
        let claim = self.claim(id)?;
        Some((claim.outcome, claim.evidence.as_deref().unwrap_or("")))
    }

    /// The ids of the claims that failed on this kernel.
    pub(crate) fn failed(&self) -> Vec<String> {
        (self.claims.iter())
            .filter(|c| c.outcome == ClaimOutcome::Fail)
            .map(|c| c.id.clone())
            .collect()
    }

    /// For a mutant that reported, whether it was caught.
    pub(crate) fn mutant_verdict(&self) -> Option<Result<(), String>> {
        let breaks = self.breaks.as_ref()?;
        let name = self.label.trim_start_matches("mutant ");
        self.reported()
            .then(|| judge_mutant(name, breaks, &self.failed()))
    }

    /// Why this column fails the matrix, if it does: no report, a
    /// mutant not caught exactly, or a claim that failed on a kernel
    /// that is not a mutant (a mutant's failures are the point: only
    /// its verdict counts).
    pub(crate) fn failure(&self) -> Option<String> {
        if !self.reported() {
            return Some(format!(
                "no report from {}: {}",
                self.label, self.status
            ));
        }
        match self.mutant_verdict() {
            Some(verdict) => verdict.err(),
            None if !self.failed().is_empty() => Some(format!(
                "{}: {} failed",
                self.label,
                self.failed().join(", ")
            )),
            None => None,
        }
    }

    /// The upstream release: `6.12.117` from the package version
    /// `6.12.117-1~deb12u1`, else the release up to its first `-` or
    /// `+` (`6.18.44` from `6.18.44-fc-v1045`).
    pub(crate) fn upstream(&self) -> Option<&str> {
        let from = self.version.as_deref().or(self.release.as_deref())?;
        from.split(['-', '+']).next()
    }

    /// Column header: the release that ran (marked when it is not a
    /// Debian package or a mutant), else the label.
    fn header(&self) -> String {
        match (&self.release, self.kind) {
            (Some(r), KernelKind::Debian | KernelKind::Mutant) => r.clone(),
            (Some(r), kind) => format!("{r} ({})", kind.name()),
            (None, _) => self.label.clone(),
        }
    }

    /// A short column name for the claims table, so that seven
    /// columns fit the book's page: the upstream release, and what
    /// the kernel is unless it is Debian's package. The kernels table
    /// below it gives the full release.
    fn short_header(&self) -> String {
        match (self.upstream(), self.kind) {
            (None, _) => self.header(),
            (Some(upstream), KernelKind::Debian) => upstream.to_owned(),
            (Some(upstream), kind) => format!("{upstream} ({})", kind.name()),
        }
    }

    /// The outcome and evidence of claim `id`, as a table shows them.
    fn cells(&self, id: &str) -> (&str, &str) {
        match self.outcome(id) {
            _ if !self.reported() => ("no report", ""),
            None => ("(absent)", ""),
            Some((outcome, evidence)) => (outcome.word(), evidence),
        }
    }
}

/// Whether a mutant was caught: exactly the claims it names failed on
/// it, and no other. The error says which were not.
fn judge_mutant(
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

impl MatrixReport {
    /// The report of `kernels`, each mutant judged.
    pub(crate) fn new(
        mut kernels: Vec<KernelRun>,
        accel: &str,
        wall: f64,
    ) -> Self {
        for k in &mut kernels {
            k.seconds = k.seconds.map(|s| s.map(round2));
            k.verdict = (k.kind == KernelKind::Mutant).then(|| {
                match k.mutant_verdict() {
                    Some(Ok(())) => "caught".to_string(),
                    Some(Err(why)) => why,
                    None => "no report".to_string(),
                }
            });
        }
        MatrixReport {
            accel: accel.to_owned(),
            kernels,
            slice: None,
            wall_seconds: Some(round2(wall)),
        }
    }

    /// As `report.json` holds it.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serializes") + "\n"
    }

    /// The report as Markdown: claims by kernel; one row per kernel;
    /// the kernel stacks each tracing claim captured, per kernel; the
    /// reasons and findings of other claims that did not pass; the
    /// mutants. Each part sits between mdBook `ANCHOR` comments, and
    /// every heading outside them, so that a page can include a part
    /// without its headings reaching the page's outline.
    pub(crate) fn markdown(&self) -> String {
        let (mutants, kernels): (Vec<&KernelRun>, Vec<&KernelRun>) = self
            .kernels
            .iter()
            .partition(|k| k.kind == KernelKind::Mutant);
        // Claim ids in first-seen order over all kernels.
        let mut ids: Vec<&str> = Vec::new();
        for c in kernels.iter().flat_map(|k| &k.claims) {
            if !ids.contains(&c.id.as_str()) {
                ids.push(&c.id);
            }
        }
        let tracing = tracing_claims();
        let (traced, others): (Vec<&str>, Vec<&str>) =
            ids.iter().partition(|id| tracing.contains(id));
        let mut md = outcomes_table(&kernels, &ids);
        md += &stacks_tables(&kernels, &traced);
        md += &others_table(&kernels, &others);
        if !mutants.is_empty() {
            md += &mutants_tables(&mutants);
        }
        md
    }

    /// The Markdown for a terminal: without the mdBook anchor comments.
    pub(crate) fn terminal(&self) -> String {
        (self.markdown().lines())
            .filter(|l| !l.starts_with("<!-- ANCHOR"))
            .map(|l| format!("{l}\n"))
            .collect()
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
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

/// The outcome of each claim on each kernel, then one row per kernel.
fn outcomes_table(kernels: &[&KernelRun], ids: &[&str]) -> String {
    let mut md = String::from("<!-- ANCHOR: outcomes -->\n| claim |");
    for k in kernels {
        md += &format!(" {} |", k.short_header());
    }
    md += &format!("\n|---|{}\n", "---|".repeat(kernels.len()));
    for id in ids {
        md += &format!("| `{id}` |");
        for k in kernels {
            md += &format!(" {} |", k.cells(id).0);
        }
        md += "\n";
    }
    // Timings only where the report has them: the recorded copy
    // leaves them out, so that re-recording changes nothing when
    // nothing changed.
    let timed = kernels.iter().any(|k| k.seconds.is_some());
    md += match timed {
        true => {
            "\n| kernel | package | version | how | seconds | status |\n\
                 |---|---|---|---|---|---|\n"
        }
        false => {
            "\n| kernel | package | version | how | status |\n\
                  |---|---|---|---|---|\n"
        }
    };
    for k in kernels {
        let opt = |v: &Option<String>| v.clone().unwrap_or("-".into());
        md += &format!(
            "| {} | {} | {} | {} |",
            k.header(),
            opt(&k.package),
            opt(&k.version),
            opt(&k.how)
        );
        match k.seconds {
            Some(Some(s)) => md += &format!(" {s:.1} |"),
            _ if timed => md += " - |",
            _ => {}
        }
        md += &format!(" {} |\n", cell(&k.status));
    }
    md + "<!-- ANCHOR_END: outcomes -->\n"
}

/// A table per tracing claim: its outcome and stacks on each kernel.
fn stacks_tables(kernels: &[&KernelRun], traced: &[&str]) -> String {
    let mut md =
        String::from("\n## Kernel stacks\n\n<!-- ANCHOR: stacks -->\n");
    for (n, id) in traced.iter().enumerate() {
        md += &format!(
            "\n### `{id}`\n\n| kernel | outcome | evidence |\n\
             |---|---|---|\n"
        );
        for k in kernels {
            let (o, e) = k.cells(id);
            // A reason this kernel gave for an earlier claim (a host
            // that refuses tracing) is named, not repeated.
            let earlier = (traced[..n].iter())
                .find(|other| !e.is_empty() && k.cells(other).1 == e);
            let e = match earlier {
                Some(other) => format!("the same as for `{other}`"),
                None => cell(e),
            };
            md += &format!("| {} | {o} | {e} |\n", k.header());
        }
    }
    md + "<!-- ANCHOR_END: stacks -->\n"
}

/// The skips and failures of the claims that are not tracing claims.
fn others_table(kernels: &[&KernelRun], others: &[&str]) -> String {
    let mut rows = String::new();
    for k in kernels {
        for id in others {
            let (o, e) = k.cells(id);
            if o == "skip" || o == "fail" {
                rows += &format!(
                    "| {} | `{id}` | {o} | {} |\n",
                    k.header(),
                    cell(e)
                );
            }
        }
    }
    let mut md = String::from(
        "\n## Other skips and failures\n\n<!-- ANCHOR: others -->\n",
    );
    match rows.is_empty() {
        true => md += "No other claim skipped or failed.\n",
        false => {
            md +=
                "| kernel | claim | outcome | evidence |\n|---|---|---|---|\n";
            md += &rows;
        }
    }
    md + "<!-- ANCHOR_END: others -->\n"
}

/// The mutant kernels: each one's patch, the claims it must break,
/// those that broke, and the verdict; then, per mutant, the evidence of
/// each failed claim, between `ANCHOR: mutant-<name>` comments.
fn mutants_tables(mutants: &[&KernelRun]) -> String {
    let code = |ids: &[String]| -> Vec<String> {
        ids.iter().map(|id| format!("`{id}`")).collect()
    };
    let mut md = String::from(
        "\n## Mutant kernels\n\n<!-- ANCHOR: mutants -->\n\
         | mutant | claims it must break | claims that failed | verdict |\n\
         |---|---|---|---|\n",
    );
    for k in mutants {
        let name = k.label.trim_start_matches("mutant ");
        let broke = code(&k.failed());
        let verdict = match k.verdict.as_deref() {
            Some("caught") => "caught".to_string(),
            Some(why) => cell(why),
            None => cell(&k.header()),
        };
        md += &format!(
            "| `{name}` | {} | {} | {verdict} |\n",
            code(k.breaks.as_deref().unwrap_or_default()).join(", "),
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
        let name = k.label.trim_start_matches("mutant ");
        if n > 0 {
            md += "\n";
        }
        md += &format!(
            "<!-- ANCHOR: mutant-{name} -->\n\
             | claim that failed on `{name}` ({}) | evidence |\n|---|---|\n",
            k.release.as_deref().unwrap_or("?")
        );
        for id in k.failed() {
            let (_, evidence) = k.cells(&id);
            md += &format!("| `{id}` | {} |\n", cell(evidence));
        }
        md += &format!("<!-- ANCHOR_END: mutant-{name} -->\n");
    }
    md + "<!-- ANCHOR_END: mutant-evidence -->\n"
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
    fn parses_release_outcomes_and_evidence() {
        let mut k = KernelRun::new("host", KernelKind::Host);
        k.set_result(parse_report(REPORT));
        assert_eq!(k.release.as_deref(), Some("6.1.0-56-cloud-amd64"));
        let got: Vec<(&str, &str, &str)> = (k.claims.iter())
            .map(|c| (&*c.id, c.outcome.word(), k.outcome(&c.id).unwrap().1))
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

    fn columns() -> Vec<KernelRun> {
        let mut ok = KernelRun::new("host", KernelKind::Host);
        ok.how = Some("native".into());
        ok.seconds = Some(Some(0.25));
        ok.set_result(parse_report(REPORT));
        let mut failed =
            KernelRun::new("5.10.0-46-cloud-amd64", KernelKind::Debian);
        failed.suite = Some("bullseye-security".into());
        failed.package = Some("linux-image-5.10.0-46-cloud-amd64".into());
        failed.version = Some("5.10.262-1".into());
        failed.how = Some("pvh/tcg".into());
        failed.seconds = Some(Some(30.0));
        failed.set_failed("timed out | killed".into());
        vec![ok, failed]
    }

    #[test]
    fn markdown_has_a_row_per_claim_and_per_kernel() {
        let report = MatrixReport::new(columns(), "tcg", 31.0);
        let md = report.markdown();
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
        assert!(!report.terminal().contains("ANCHOR"));
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
        assert_eq!(judge_mutant("m", &breaks, &claims(&["b", "a"])), Ok(()));
        let none = judge_mutant("m", &breaks, &[]).unwrap_err();
        assert_eq!(
            none,
            "mutant m not caught: no claim failed on it, though it names a, b"
        );
        let odd =
            judge_mutant("m", &breaks, &claims(&["a", "c"])).unwrap_err();
        assert_eq!(
            odd,
            "mutant m did not break b, which it names; and broke c, which \
             it does not name"
        );
    }
}
