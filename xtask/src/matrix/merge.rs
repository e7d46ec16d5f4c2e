//! `cargo xtask matrix --merge <report.json>...`: the reports of slices
//! that ran apart (a CI job each, or one process each in `.ci/run`)
//! put together into the report one run of the same plan writes, with
//! the same rules and the same exit status.
//!
//! The plan comes from this checkout, as `--slices` computes it; each
//! slice's report is read back into a [`Column`] and the report is
//! written by the code a single run ends with, so the two cannot
//! differ but in timings. A mutant's verdict is judged again here,
//! against the `Breaks:` line of this checkout's patch, not taken from
//! the slice. A slice with no report among the inputs gets a column
//! that says so and fails the merge by its id, as a kernel that gave
//! no report fails a run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::plan::{self, Part, Slice};
use super::report::{ClaimResult, Column, Kind, Outcomes};
use super::{Args, Stop, say};
use exit_status::Status;

/// A slice's `report.json`, as `finish` wrote it: the matrix's report
/// with one kernel, and the slice's id.
#[derive(Debug, Deserialize)]
struct SliceReport {
    slice: String,
    accel: String,
    wall_seconds: f64,
    kernels: Vec<Kernel>,
}

/// One kernel of a report (see `report::to_json`).
#[derive(Debug, Deserialize)]
struct Kernel {
    label: String,
    kind: String,
    suite: Option<String>,
    package: Option<String>,
    version: Option<String>,
    release: Option<String>,
    how: Option<String>,
    seconds: Option<f64>,
    status: String,
    claims: Vec<Claim>,
    breaks: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct Claim {
    id: String,
    outcome: String,
    evidence: Option<String>,
}

/// The entry point of `--merge`.
pub(crate) fn merge(opts: &Args) -> Result<(Status, Value), Stop> {
    let plan = plan::plan(opts)?;
    let mut reports = Vec::new();
    for path in &opts.merge {
        reports.push((path.clone(), read(path)?));
    }
    let merged = assemble(&plan, reports)?;
    for (id, why) in &merged.failed {
        say("merge", format!("slice {id} failed: {why}"));
    }
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| crate::target_dir().join("matrix"));
    let (status, json) = super::finish(
        &out,
        &merged.columns,
        &merged.accel,
        merged.wall,
        None,
    )?;
    let failed: Vec<&str> =
        merged.failed.iter().map(|(id, _)| id.as_str()).collect();
    if failed.is_empty() {
        say("merge", format!("all {} slices reported", plan.len()));
    } else {
        say(
            "merge",
            format!(
                "{} of {} slices failed or are missing: {}",
                failed.len(),
                plan.len(),
                failed.join(", ")
            ),
        );
    }
    Ok((status, json))
}

fn read(path: &Path) -> Result<SliceReport, Stop> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Stop::CannotRun(format!("cannot read {}: {e}", path.display()))
    })?;
    let report: SliceReport = serde_json::from_str(&text).map_err(|e| {
        Stop::CannotRun(format!(
            "{} is not the report of a slice (`cargo xtask matrix --slice \
             ID` writes one): {e}",
            path.display()
        ))
    })?;
    if report.kernels.len() != 1 {
        return Err(Stop::CannotRun(format!(
            "{}: a slice's report has one kernel; this one has {}",
            path.display(),
            report.kernels.len()
        )));
    }
    Ok(report)
}

/// What the slices add up to.
#[derive(Debug)]
struct Merged {
    /// In the plan's order.
    columns: Vec<Column>,
    /// The accelerator of every slice; `kvm+tcg` if they differed.
    accel: String,
    /// The longest slice's wall time: the slices ran side by side.
    wall: f64,
    /// Each slice that fails the matrix, by id, with why.
    failed: Vec<(String, String)>,
}

/// The plan's columns from the slices' reports, in the plan's order.
fn assemble(
    plan: &[Slice],
    reports: Vec<(PathBuf, SliceReport)>,
) -> Result<Merged, Stop> {
    let mut by_id: BTreeMap<String, (PathBuf, SliceReport)> = BTreeMap::new();
    for (path, report) in reports {
        if !plan.iter().any(|s| s.id == report.slice) {
            let ids: Vec<&str> = plan.iter().map(|s| s.id.as_str()).collect();
            return Err(Stop::Usage(format!(
                "{}: slice {} is not in the plan of this merge ({}); \
                 give --merge the options the slices ran with (--kernel, \
                 --no-host, --image, ...)",
                path.display(),
                report.slice,
                ids.join(", ")
            )));
        }
        if let Some((first, _)) = by_id.get(&report.slice) {
            return Err(Stop::Usage(format!(
                "slice {} is given twice: {} and {}",
                report.slice,
                first.display(),
                path.display()
            )));
        }
        by_id.insert(report.slice.clone(), (path, report));
    }
    let mut accels: Vec<String> =
        by_id.values().map(|(_, r)| r.accel.clone()).collect();
    accels.sort();
    accels.dedup();
    let wall =
        (by_id.values().map(|(_, r)| r.wall_seconds)).fold(0.0, f64::max);
    let mut columns = Vec::new();
    let mut failed = Vec::new();
    for slice in plan {
        let column = match by_id.remove(&slice.id) {
            Some((path, mut report)) => {
                let kernel = report.kernels.remove(0);
                column(slice, kernel, &path)
            }
            None => missing(slice),
        };
        if let Some(why) = super::failure(&column) {
            failed.push((slice.id.clone(), why));
        }
        columns.push(column);
    }
    Ok(Merged {
        columns,
        accel: match accels.is_empty() {
            true => "none".into(),
            false => accels.join("+"),
        },
        wall,
        failed,
    })
}

/// The kind the plan gives a slice's column.
fn kind(slice: &Slice) -> Kind {
    match &slice.part {
        Part::Host => Kind::Host,
        Part::Debian(_) => Kind::Debian,
        Part::Source => Kind::Source,
        Part::Mutant(m) => Kind::Mutant {
            breaks: m.breaks.clone(),
        },
        Part::Image(_) => Kind::Image,
    }
}

/// A slice's kernel read back, judged by this checkout's plan.
fn column(slice: &Slice, k: Kernel, path: &Path) -> Column {
    let kind = kind(slice);
    let claims = (k.claims.into_iter())
        .map(|c| ClaimResult {
            id: c.id,
            outcome: c.outcome,
            evidence: c.evidence.unwrap_or_default(),
        })
        .collect();
    let mut result = match k.status.as_str() {
        "reported" => Ok(Outcomes {
            release: k.release.unwrap_or_default(),
            claims,
        }),
        why => Err(why.to_owned()),
    };
    // A report of another kind, or of a patch that named other claims,
    // is not this slice's: it ran from another checkout.
    if k.kind != kind.name() {
        result = Err(format!(
            "{} holds a {} kernel, not the {} this slice boots",
            path.display(),
            k.kind,
            kind.name()
        ));
    }
    let breaks = match &kind {
        Kind::Mutant { breaks } => Some(breaks),
        _ => None,
    };
    let other = match (breaks, &k.breaks) {
        (Some(breaks), Some(ran)) if ran != breaks => Some((breaks, ran)),
        _ => None,
    };
    if let Some((breaks, ran)) = other {
        result = Err(format!(
            "the slice ran with `Breaks: {}`, but this checkout's patch \
             names {}: run the slice again",
            ran.join(" "),
            breaks.join(" ")
        ));
    }
    Column {
        label: k.label,
        kind,
        suite: k.suite,
        package: k.package,
        version: k.version,
        how: k.how,
        seconds: k.seconds,
        result,
    }
}

/// The column of a slice that gave no report: labelled as a single
/// run labels a kernel it could not have.
fn missing(slice: &Slice) -> Column {
    let (label, suite) = match &slice.part {
        Part::Host => ("host".to_owned(), None),
        Part::Debian(spec) => (spec.glob.clone(), Some(spec.suite.clone())),
        Part::Source => ("source".to_owned(), None),
        Part::Mutant(m) => (format!("mutant {}", m.name), None),
        Part::Image(path) => {
            let name = path.file_name().unwrap_or(path.as_os_str());
            (name.to_string_lossy().into_owned(), None)
        }
    };
    Column {
        label,
        kind: kind(slice),
        suite,
        package: None,
        version: None,
        how: None,
        seconds: None,
        result: Err(format!(
            "missing: no report of slice {} among the merged ones",
            slice.id
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::kernels::KernelSpec;
    use crate::matrix::report;
    use crate::matrix::source::Mutant;
    use serde_json::json;

    fn plan() -> Vec<Slice> {
        let spec = KernelSpec {
            suite: "bookworm-security".into(),
            glob: "linux-image-6.1.0-*-cloud-amd64".into(),
            line: 7,
        };
        let mutant = Mutant {
            name: "m".into(),
            patch: PathBuf::from("m.patch"),
            breaks: vec!["b".into()],
        };
        vec![
            Slice {
                id: "host".into(),
                part: Part::Host,
            },
            Slice {
                id: "debian-6.1.0-x-cloud-amd64".into(),
                part: Part::Debian(spec),
            },
            Slice {
                id: "mutant-m".into(),
                part: Part::Mutant(mutant),
            },
        ]
    }

    fn claims(outcomes: &[(&str, &str)]) -> Vec<ClaimResult> {
        (outcomes.iter())
            .map(|(id, o)| ClaimResult {
                id: id.to_string(),
                outcome: o.to_string(),
                evidence: format!("{id} was {o}"),
            })
            .collect()
    }

    /// The columns a single run of [`plan`] would give.
    fn single_run() -> Vec<Column> {
        let column = |label: &str, kind: Kind, o: &[(&str, &str)]| Column {
            label: label.into(),
            kind,
            suite: None,
            package: None,
            version: None,
            how: Some("pvh/tcg".into()),
            seconds: Some(4.25),
            result: Ok(Outcomes {
                release: "6.1.0-57-cloud-amd64".into(),
                claims: claims(o),
            }),
        };
        let mut debian = column(
            "6.1.0-57-cloud-amd64",
            Kind::Debian,
            &[("a", "pass"), ("b", "skip")],
        );
        debian.suite = Some("bookworm-security".into());
        debian.package = Some("linux-image-6.1.0-57-cloud-amd64".into());
        debian.version = Some("6.1.162-1".into());
        let breaks = vec!["b".to_string()];
        vec![
            column("host", Kind::Host, &[("a", "pass"), ("b", "pass")]),
            debian,
            column(
                "mutant m",
                Kind::Mutant { breaks },
                &[("a", "pass"), ("b", "fail")],
            ),
        ]
    }

    /// Each column as its slice's report, as `finish` writes it.
    fn slice_reports(columns: &[Column]) -> Vec<(PathBuf, SliceReport)> {
        (plan().iter().zip(columns))
            .map(|(slice, c)| {
                let mut json =
                    report::to_json(std::slice::from_ref(c), "tcg", 9.5);
                json["slice"] = json!(slice.id);
                let path = PathBuf::from(format!("{}/report.json", slice.id));
                (path, serde_json::from_value(json).unwrap())
            })
            .collect()
    }

    #[test]
    fn slices_merge_into_the_single_runs_report() {
        let single = single_run();
        let merged = assemble(&plan(), slice_reports(&single)).unwrap();
        assert_eq!(merged.failed, []);
        assert_eq!(
            report::to_json(&merged.columns, &merged.accel, 31.0),
            report::to_json(&single, "tcg", 31.0)
        );
        assert_eq!(merged.wall, 9.5);
    }

    #[test]
    fn a_missing_slice_is_a_column_that_fails_by_its_id() {
        let mut reports = slice_reports(&single_run());
        reports.remove(1);
        let merged = assemble(&plan(), reports).unwrap();
        let ids: Vec<&str> =
            merged.failed.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["debian-6.1.0-x-cloud-amd64"]);
        assert_eq!(
            merged.failed[0].1,
            "no report from linux-image-6.1.0-*-cloud-amd64: missing: no \
             report of slice debian-6.1.0-x-cloud-amd64 among the merged \
             ones"
        );
        let json = report::to_json(&merged.columns, &merged.accel, 1.0);
        assert_eq!(json["kernels"][1]["suite"], "bookworm-security");
    }

    #[test]
    fn a_mutant_is_judged_again_by_this_checkouts_breaks_line() {
        let mut single = single_run();
        // The slice's mutant broke nothing: not caught, by name.
        single[2].result = Ok(Outcomes {
            release: "7.3.4".into(),
            claims: claims(&[("a", "pass"), ("b", "pass")]),
        });
        let merged = assemble(&plan(), slice_reports(&single)).unwrap();
        assert_eq!(
            merged.failed,
            [(
                "mutant-m".to_string(),
                "mutant m not caught: no claim failed on it, though it \
                 names b"
                    .to_string()
            )]
        );
        // A slice that ran with another Breaks: line is not believed.
        let mut reports = slice_reports(&single_run());
        reports[2].1.kernels[0].breaks = Some(vec!["a".into()]);
        let merged = assemble(&plan(), reports).unwrap();
        assert_eq!(merged.failed[0].0, "mutant-m");
        assert!(merged.failed[0].1.contains("run the slice again"));
    }

    #[test]
    fn a_failed_claim_or_no_report_fails_its_slice() {
        let mut single = single_run();
        single[0].result = Err("boot: timed out".into());
        single[1].result = Ok(Outcomes {
            release: "6.1".into(),
            claims: claims(&[("a", "fail")]),
        });
        let merged = assemble(&plan(), slice_reports(&single)).unwrap();
        let failed: Vec<(&str, &str)> = (merged.failed.iter())
            .map(|(id, why)| (id.as_str(), why.as_str()))
            .collect();
        assert_eq!(
            failed,
            [
                ("host", "no report from host: boot: timed out"),
                (
                    "debian-6.1.0-x-cloud-amd64",
                    "6.1.0-57-cloud-amd64: a failed"
                ),
            ]
        );
    }

    #[test]
    fn a_slice_outside_the_plan_or_given_twice_is_a_usage_error() {
        let mut reports = slice_reports(&single_run());
        reports[0].1.slice = "image-vmlinux".into();
        let Err(Stop::Usage(why)) = assemble(&plan(), reports) else {
            panic!("an unknown slice must be a usage error")
        };
        assert!(why.contains("slice image-vmlinux is not in the plan"));
        let mut reports = slice_reports(&single_run());
        let again = slice_reports(&single_run()).remove(0);
        reports.push(again);
        let Err(Stop::Usage(why)) = assemble(&plan(), reports) else {
            panic!("a slice given twice must be a usage error")
        };
        assert!(why.starts_with("slice host is given twice"), "{why}");
    }

    #[test]
    fn accelerators_that_differ_are_both_named() {
        let mut reports = slice_reports(&single_run());
        reports[0].1.accel = "kvm".into();
        let merged = assemble(&plan(), reports).unwrap();
        assert_eq!(merged.accel, "kvm+tcg");
    }
}
