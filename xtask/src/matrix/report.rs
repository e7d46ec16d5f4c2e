//! Reading a checker report off a VM's console, and writing the
//! matrix's own report (`target/matrix/report.{json,md}`).
//!
//! The console is the only evidence: QEMU exits 0 even when the guest
//! panics, so a kernel counts as reported only if the checker's report
//! appears between its markers (see `checker/src/vm_init.rs`).

use serde_json::{Value, json};

/// Marker lines; must match `checker/src/vm_init.rs`.
pub(crate) const BEGIN: &str = "--- checker report begin ---";
pub(crate) const END: &str = "--- checker report end ---";
pub(crate) const PANIC: &str = "--- checker panicked ---";

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
        (None, None) => Console::NoReport(format!(
            "no report on the console; last lines: {}",
            tail(&lines, 3)
        )),
    }
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

/// One kernel's claims, as the checker reported them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcomes {
    /// `uname -r` of the kernel that ran the checker.
    pub(crate) release: String,
    /// `(claim id, outcome)` in report order; outcome is `pass`,
    /// `fail` or `skip`.
    pub(crate) claims: Vec<(String, String)>,
}

/// Reads the checker's JSON report. The one place that knows its
/// schema: `{"kernel": {"release": ...}, "claims": [{"id": ...,
/// "outcome": ...}, ...]}`.
pub(crate) fn parse_report(json: &str) -> Result<Outcomes, String> {
    let v: Value = serde_json::from_str(json.trim())
        .map_err(|e| format!("report is not JSON ({e})"))?;
    let release = v
        .pointer("/kernel/release")
        .and_then(Value::as_str)
        .ok_or("report has no string kernel.release")?
        .to_owned();
    let list = v
        .get("claims")
        .and_then(Value::as_array)
        .ok_or("report has no claims array")?;
    let mut claims = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let field = |name: &str| {
            c.get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or(format!("claims[{i}] has no string {name:?}"))
        };
        claims.push((field("id")?, field("outcome")?));
    }
    Ok(Outcomes { release, claims })
}

/// One column of the matrix: a kernel and what came of it.
#[derive(Debug)]
pub(crate) struct Column {
    /// Short name: `host`, or the package without its prefix.
    pub(crate) label: String,
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

    fn outcome(&self, id: &str) -> Option<&str> {
        let o = self.result.as_ref().ok()?;
        o.claims
            .iter()
            .find(|(c, _)| c == id)
            .map(|(_, o)| o.as_str())
    }

    /// Column header: the release that ran, else the label.
    fn header(&self) -> &str {
        match &self.result {
            Ok(o) => &o.release,
            Err(_) => &self.label,
        }
    }
}

/// Claim ids in first-seen order over all columns.
fn claim_ids(columns: &[Column]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for c in columns {
        for (id, _) in c.result.iter().flat_map(|o| &o.claims) {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
    }
    ids
}

/// The matrix as JSON.
pub(crate) fn to_json(columns: &[Column], accel: &str, wall: f64) -> Value {
    let kernels: Vec<Value> = columns
        .iter()
        .map(|c| {
            let claims: Vec<Value> = c
                .result
                .iter()
                .flat_map(|o| &o.claims)
                .map(|(id, outcome)| json!({"id": id, "outcome": outcome}))
                .collect();
            json!({
                "label": c.label,
                "suite": c.suite,
                "package": c.package,
                "version": c.version,
                "release": c.result.as_ref().ok().map(|o| &o.release),
                "how": c.how,
                "seconds": c.seconds.map(round2),
                "status": c.status(),
                "claims": claims,
            })
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

/// The matrix as Markdown: claims by kernel, then one row per kernel.
pub(crate) fn to_markdown(columns: &[Column]) -> String {
    let mut md = String::from("| claim |");
    for c in columns {
        md += &format!(" {} |", c.header());
    }
    md += "\n|---|";
    md += &"---|".repeat(columns.len());
    md += "\n";
    for id in claim_ids(columns) {
        md += &format!("| `{id}` |");
        for c in columns {
            let cell = match (&c.result, c.outcome(&id)) {
                (Ok(_), Some(o)) => o,
                (Ok(_), None) => "(absent)",
                (Err(_), _) => "no report",
            };
            md += &format!(" {cell} |");
        }
        md += "\n";
    }
    md += "\n| kernel | package | version | how | seconds | status |\n";
    md += "|---|---|---|---|---|---|\n";
    for c in columns {
        let opt = |s: &Option<String>| s.clone().unwrap_or("-".into());
        let secs = c.seconds.map_or("-".into(), |s| format!("{s:.1}"));
        // A `|` in an error message would end the cell.
        let status = c.status().replace('|', "\\|");
        md += &format!(
            "| {} | {} | {} | {} | {secs} | {status} |\n",
            c.header(),
            opt(&c.package),
            opt(&c.version),
            opt(&c.how),
        );
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"{"kernel":{"release":"6.1.0-56-cloud-amd64"},
        "claims":[{"id":"a","outcome":"pass"},
                  {"id":"b","outcome":"skip","reason":"no tracefs"}]}"#;

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
    fn printk_lines_are_recognised() {
        assert!(is_printk("[    1.605538] random: crng init done"));
        assert!(!is_printk("[1, 2]"));
        assert!(!is_printk("[]"));
    }

    #[test]
    fn parses_release_and_outcomes() {
        let o = parse_report(REPORT).unwrap();
        assert_eq!(o.release, "6.1.0-56-cloud-amd64");
        assert_eq!(
            o.claims,
            [("a".into(), "pass".into()), ("b".into(), "skip".into())]
        );
        assert!(parse_report("{}").unwrap_err().contains("kernel.release"));
        let bad = r#"{"kernel":{"release":"x"},"claims":[{"id":"a"}]}"#;
        assert!(parse_report(bad).unwrap_err().contains("claims[0]"));
    }

    #[test]
    fn markdown_has_a_row_per_claim_and_per_kernel() {
        let ok = Column {
            label: "host".into(),
            suite: None,
            package: None,
            version: None,
            how: Some("native".into()),
            seconds: Some(0.25),
            result: parse_report(REPORT),
        };
        let failed = Column {
            label: "5.10.0-46-cloud-amd64".into(),
            suite: Some("bullseye-security".into()),
            package: Some("linux-image-5.10.0-46-cloud-amd64".into()),
            version: Some("5.10.262-1".into()),
            how: Some("pvh/tcg".into()),
            seconds: Some(30.0),
            result: Err("timed out | killed".into()),
        };
        let md = to_markdown(&[ok, failed]);
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(
            lines[0],
            "| claim | 6.1.0-56-cloud-amd64 | 5.10.0-46-cloud-amd64 |"
        );
        assert_eq!(lines[2], "| `a` | pass | no report |");
        assert_eq!(lines[3], "| `b` | skip | no report |");
        assert!(md.contains("| 30.0 | timed out \\| killed |"), "{md}");
    }
}
