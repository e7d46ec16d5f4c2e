//! What test harnesses read: TAP version 13, JUnit XML and JSON, one
//! renderer for the claims' report ([`crate::report`]) and the audit's
//! ([`crate::audit`]). Each report says what its test points are
//! ([`TestPoints`]); only this file knows the formats (plumbing for
//! the book's "Running the checker in CI").

use std::fmt::Write as _;

use serde::Serialize;

/// A report as test points, in order.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The tool: JUnit's `<testsuites>` around the suite (the claims'
    /// report, one suite per kernel); `None` for a suite that stands
    /// alone (the audit's).
    pub tool: Option<&'static str>,
    /// JUnit's `<testsuite name>`.
    pub name: String,
    /// JUnit's `classname` of every testcase.
    pub classname: &'static str,
    /// TAP: the comment after the plan.
    pub head: String,
    /// TAP: the comment after the last test point.
    pub tail: Option<String>,
    /// JUnit: the suite's `<properties>`.
    pub properties: Vec<(&'static str, String)>,
    /// JUnit: the suite's own `<system-out>`.
    pub output: Option<String>,
    pub cases: Vec<Case>,
}

/// One test point.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub mark: Mark,
    /// TAP: the YAML block under the test point.
    pub yaml: Vec<(&'static str, Yaml)>,
}

/// How a test point ended, with what JUnit shows of it.
#[derive(Debug, Clone)]
pub enum Mark {
    /// `ok`; JUnit's `<system-out>`, if there is something to show.
    Ok { output: Option<String> },
    /// `not ok`; JUnit's `<failure>`, with its `type` if it has one.
    NotOk {
        message: String,
        kind: Option<&'static str>,
        text: String,
    },
    /// `ok ... # SKIP`; JUnit's `<skipped>`.
    Skip { reason: String },
}

/// A value of a TAP YAML block.
#[derive(Debug, Clone)]
pub enum Yaml {
    /// Text, written as a JSON string (which YAML reads as a scalar).
    Text(String),
    /// A list of JSON documents, one per line.
    List(Vec<String>),
}

/// What a report says of itself to TAP and JUnit.
pub trait TestPoints {
    fn suite(&self) -> Suite;
}

/// The report as TAP version 13, with evidence in YAML blocks.
pub fn tap(report: &impl TestPoints) -> String {
    let suite = report.suite();
    let mut out = format!("TAP version 13\n1..{}\n", suite.cases.len());
    let _ = writeln!(out, "# {}", suite.head);
    for (index, case) in suite.cases.iter().enumerate() {
        let (number, name) = (index + 1, &case.name);
        let _ = match &case.mark {
            Mark::Ok { .. } => writeln!(out, "ok {number} - {name}"),
            Mark::NotOk { .. } => writeln!(out, "not ok {number} - {name}"),
            Mark::Skip { reason } => {
                let reason = reason.replace('\n', " ");
                writeln!(out, "ok {number} - {name} # SKIP {reason}")
            }
        };
        if case.yaml.is_empty() {
            continue;
        }
        out.push_str("  ---\n");
        for (key, value) in &case.yaml {
            match value {
                Yaml::Text(text) => {
                    let quoted = serde_json::to_string(text);
                    let quoted = quoted.unwrap_or_default();
                    let _ = writeln!(out, "  {key}: {quoted}");
                }
                Yaml::List(items) => {
                    let _ = writeln!(out, "  {key}:");
                    for item in items {
                        let _ = writeln!(out, "    - {item}");
                    }
                }
            }
        }
        out.push_str("  ...\n");
    }
    if let Some(tail) = &suite.tail {
        let _ = writeln!(out, "# {tail}");
    }
    out
}

/// The report as JUnit XML, as GitLab, Jenkins and most CI dashboards
/// read it: one `<testcase>` per test point. A suite under a tool's
/// `<testsuites>` (the claims') is written an element a line, a suite
/// alone (the audit's) a testcase a line, as each has always been.
pub fn junit(report: &impl TestPoints) -> String {
    let suite = report.suite();
    let count = |of: fn(&Mark) -> bool| {
        suite.cases.iter().filter(|case| of(&case.mark)).count()
    };
    let tests = suite.cases.len();
    let failures = count(|mark| matches!(mark, Mark::NotOk { .. }));
    let skipped = count(|mark| matches!(mark, Mark::Skip { .. }));
    let counts = format!(
        "tests=\"{tests}\" failures=\"{failures}\" errors=\"0\"{}",
        match suite.tool {
            Some(_) => format!(" skipped=\"{skipped}\""),
            None => String::new(),
        }
    );
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let indent = match suite.tool {
        Some(tool) => {
            let _ = writeln!(out, "<testsuites name=\"{tool}\" {counts}>");
            "  "
        }
        None => "",
    };
    let name = xml(&suite.name);
    let _ = writeln!(out, "{indent}<testsuite name=\"{name}\" {counts}>");
    if !suite.properties.is_empty() {
        let _ = writeln!(out, "{indent}  <properties>");
        for (name, value) in &suite.properties {
            let _ = writeln!(
                out,
                "{indent}    <property name=\"{name}\" value=\"{}\"/>",
                xml(value)
            );
        }
        let _ = writeln!(out, "{indent}  </properties>");
    }
    if let Some(output) = &suite.output {
        let output = xml(output);
        let _ = writeln!(out, "{indent}  <system-out>{output}</system-out>");
    }
    for case in &suite.cases {
        let _ = write!(
            out,
            "{indent}  <testcase classname=\"{}\" name=\"{}\"",
            suite.classname,
            xml(&case.name)
        );
        let child = match &case.mark {
            Mark::Ok { output: None } => None,
            Mark::Ok {
                output: Some(output),
            } => Some(format!("<system-out>{}</system-out>", xml(output))),
            Mark::NotOk {
                message,
                kind,
                text,
            } => Some(format!(
                "<failure message=\"{}\"{}>{}</failure>",
                xml(message),
                kind.map(|kind| format!(" type=\"{kind}\""))
                    .unwrap_or_default(),
                xml(text)
            )),
            Mark::Skip { reason } => {
                Some(format!("<skipped message=\"{}\"/>", xml(reason)))
            }
        };
        let _ = match (child, suite.tool) {
            (None, _) => writeln!(out, "/>"),
            (Some(child), None) => writeln!(out, ">{child}</testcase>"),
            (Some(child), Some(_)) => {
                writeln!(out, ">\n{indent}    {child}\n{indent}  </testcase>")
            }
        };
    }
    let _ = writeln!(out, "{indent}</testsuite>");
    if suite.tool.is_some() {
        out.push_str("</testsuites>\n");
    }
    out
}

/// Text as XML character data or an attribute value.
pub fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab and newline are not
            // XML 1.0 characters at all.
            c if c.is_control() && c != '\n' && c != '\t' => {
                out.push('\u{fffd}')
            }
            c => out.push(c),
        }
    }
    out
}

/// The report as one JSON document.
pub fn json(report: &impl Serialize) -> String {
    // Strings and numbers only: serialising cannot fail.
    serde_json::to_string_pretty(report).unwrap_or_default() + "\n"
}
