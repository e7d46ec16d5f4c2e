//! The recorded matrix behind the book's "Verified on" page
//! (`book/verified/report.{json,md}`), and the check that a fresh run
//! still agrees with it.
//!
//! `cargo xtask matrix --record` writes the recorded copy; it is
//! committed. A plain run (what CI does) never writes into the source
//! tree, so CI cannot leave it dirty; instead it compares each kernel's
//! outcomes with the recorded ones and fails (exit 4) when a kernel that
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

use serde_json::{Value, json};

use super::{apt, kernels, report};

/// Where the recorded copy lives, relative to the workspace.
pub(crate) const DIR: &str = "book/verified";

/// What to type when the recorded copy is stale.
pub(crate) const FIX: &str = "run `just matrix --record` and commit \
                              book/verified/";

/// The recorded form of a runner's report.
pub(crate) fn recorded(fresh: &Value) -> Value {
    let tracing = report::tracing_claims();
    let mut v = fresh.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("wall_seconds");
    }
    let list = v.get_mut("kernels").and_then(Value::as_array_mut);
    for k in list.into_iter().flatten() {
        let Some(k) = k.as_object_mut() else { continue };
        k.remove("seconds");
        let claims = k.get_mut("claims").and_then(Value::as_array_mut);
        for c in claims.into_iter().flatten() {
            let get = |key| c.get(key).and_then(Value::as_str);
            let shown = tracing.contains(&get("id").unwrap_or(""))
                || get("outcome") != Some("pass");
            let Some(c) = c.as_object_mut() else { continue };
            match (shown, c.get("evidence").and_then(Value::as_str)) {
                (true, Some(e)) => {
                    let e = redact(e);
                    c.insert("evidence".into(), json!(e));
                }
                _ => {
                    c.remove("evidence");
                }
            }
        }
    }
    v
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
pub(crate) fn record(workspace: &Path, fresh: &Value) -> Result<(), String> {
    let dir = workspace.join(DIR);
    apt::mkdir(&dir)?;
    let v = recorded(fresh);
    let pretty = serde_json::to_string_pretty(&v).expect("JSON values");
    apt::write(&dir.join("report.json"), (pretty + "\n").as_bytes())?;
    apt::write(&dir.join("report.md"), report::to_markdown(&v).as_bytes())?;
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
fn key(k: &Value) -> (String, String) {
    let s = |f| k.get(f).and_then(Value::as_str).unwrap_or("").to_owned();
    (s("label"), s("release"))
}

fn outcomes(k: &Value) -> Vec<(String, String)> {
    let list = k.get("claims").and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .map(|c| {
            let s =
                |f| c.get(f).and_then(Value::as_str).unwrap_or("").to_owned();
            (s("id"), s("outcome"))
        })
        .collect()
}

fn list(report: &Value) -> &[Value] {
    report
        .get("kernels")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Compares the kernels of `fresh` that reported with the recorded ones.
pub(crate) fn compare(recorded: &Value, fresh: &Value) -> Drift {
    let mut drift = Drift::default();
    for f in list(fresh) {
        if f.get("status").and_then(Value::as_str) != Some("reported") {
            continue;
        }
        let (label, release) = key(f);
        let Some(r) = list(recorded).iter().find(|r| key(r) == key(f)) else {
            drift.notes.push(format!(
                "{release} ({label}) is not in {DIR}/report.json"
            ));
            continue;
        };
        let (was, now) = (outcomes(r), outcomes(f));
        let mut how = Vec::new();
        for (id, o) in &now {
            match was.iter().find(|(w, _)| w == id) {
                Some((_, old)) if old != o => {
                    how.push(format!("{id}: recorded {old}, now {o}"));
                }
                Some(_) => {}
                None => how.push(format!("{id}: new claim, now {o}")),
            }
        }
        for (id, _) in &was {
            if !now.iter().any(|(n, _)| n == id) {
                how.push(format!("{id}: recorded, now absent"));
            }
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
    specs: &[kernels::KernelSpec],
    report: &Value,
) -> Vec<String> {
    let reported: Vec<&Value> = list(report)
        .iter()
        .filter(|k| {
            k.get("status").and_then(Value::as_str) == Some("reported")
        })
        .collect();
    fn field<'a>(k: &'a Value, f: &str) -> &'a str {
        k.get(f).and_then(Value::as_str).unwrap_or("")
    }
    let mut missing = Vec::new();
    for spec in specs {
        let found = reported.iter().any(|k| {
            field(k, "suite") == spec.suite
                && kernels::glob_matches(&spec.glob, field(k, "package"))
        });
        if !found {
            missing.push(format!(
                "{} {} (kernel list line {})",
                spec.suite, spec.glob, spec.line
            ));
        }
    }
    if !reported.iter().any(|k| field(k, "label") == "host") {
        missing.push("the host".into());
    }
    if !reported.iter().any(|k| field(k, "kind") == "source") {
        missing.push(format!("the kernel built from {}", super::source::PIN));
    }
    for k in list(report) {
        let reported = field(k, "status") == "reported";
        if field(k, "kind") == "mutant" && !reported {
            missing.push(field(k, "label").to_owned());
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
    }

    fn read(rel: &str) -> String {
        let path = workspace().join(rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("cannot read {}: {e}; {FIX}", path.display())
        })
    }

    fn committed() -> Value {
        serde_json::from_str(&read("book/verified/report.json"))
            .expect("book/verified/report.json is JSON")
    }

    /// The page shows what the runner rendered: nothing typed by hand.
    #[test]
    fn the_verified_page_is_rendered_from_the_recorded_json() {
        let json = committed();
        assert_eq!(
            recorded(&json),
            json,
            "book/verified/report.json is not in recorded form; {FIX}"
        );
        assert!(
            read("book/verified/report.md") == report::to_markdown(&json),
            "book/verified/report.md is not what the runner renders from \
             book/verified/report.json; {FIX}"
        );
    }

    #[test]
    fn the_recorded_report_covers_every_listed_kernel_and_the_host() {
        let specs = kernels::parse_list(&read("matrix/kernels.list"))
            .expect("matrix/kernels.list parses");
        let missing = missing(&specs, &committed());
        assert!(
            missing.is_empty(),
            "book/verified/report.json has no report for {}; {FIX}",
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

    fn kernel(label: &str, release: &str, claims: &[(&str, &str)]) -> Value {
        let claims: Vec<Value> = claims
            .iter()
            .map(|(id, o)| json!({"id": id, "outcome": o, "evidence": "e"}))
            .collect();
        json!({"label": label, "release": release, "seconds": 3.2,
               "status": "reported", "claims": claims})
    }

    #[test]
    fn recording_drops_timings_and_unshown_evidence() {
        let t = report::tracing_claims()[0];
        let fresh = json!({"accel": "tcg", "wall_seconds": 13.0,
            "kernels": [kernel("host", "6.1", &[("a", "pass"),
                ("b", "skip"), (t, "pass")])]});
        let r = recorded(&fresh);
        assert_eq!(r.get("wall_seconds"), None);
        let k = &r["kernels"][0];
        assert_eq!(k.get("seconds"), None);
        assert_eq!(k["claims"][0], json!({"id": "a", "outcome": "pass"}));
        assert_eq!(k["claims"][1]["evidence"], "e");
        assert_eq!(k["claims"][2]["evidence"], "e");
    }

    #[test]
    fn only_a_kernel_in_both_with_other_outcomes_is_a_change() {
        let recorded = json!({"kernels": [
            kernel("host", "6.18", &[("a", "pass"), ("b", "skip")]),
            kernel("6.1.0-56", "6.1.0-56", &[("a", "pass"), ("b", "pass")]),
            kernel("5.10.0-46", "5.10.0-46", &[("a", "pass")]),
        ]});
        let fresh = json!({"kernels": [
            kernel("host", "6.8", &[("a", "pass"), ("b", "skip")]),
            kernel("6.1.0-56", "6.1.0-56", &[("a", "pass"), ("b", "fail"),
                ("c", "pass")]),
            kernel("5.10.0-47", "5.10.0-47", &[("a", "pass")]),
        ]});
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
