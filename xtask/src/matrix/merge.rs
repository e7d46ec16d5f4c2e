//! `cargo xtask matrix --merge <report.json>...`: the reports of slices
//! that ran apart (a CI job each, or one process each in `.ci/run`)
//! put together into the report one run of the same plan writes, with
//! the same rules and the same exit status.
//!
//! The plan comes from this checkout, as `--slices` computes it; each
//! slice's report is read back, its column judged again, and the report is
//! written by the code a single run ends with, so the two cannot
//! differ but in timings. A mutant's verdict is judged again here,
//! against the `Breaks:` line of this checkout's patch, not taken from
//! the slice. A slice with no report among the inputs gets a column
//! that says so and fails the merge by its id, as a kernel that gave
//! no report fails a run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use exit_status::Status;

use super::plan::{self, Slice};
use super::report::{KernelRun, MatrixReport};
use super::{Args, Stop, run, say};

/// The entry point of `--merge`.
pub(crate) fn merge(opts: &Args) -> Result<(Status, MatrixReport), Stop> {
    let plan = plan::plan(opts)?;
    let mut reports = Vec::new();
    for path in &opts.merge {
        reports.push((path.clone(), read_slice(path)?));
    }
    let merged = assemble(&plan, reports)?;
    for (id, why) in &merged.failed {
        say("merge", format!("slice {id} failed: {why}"));
    }
    let (accel, wall) = (&merged.accel, merged.wall);
    let (status, report) =
        run::finish(&opts.out(), merged.columns, accel, wall, None)?;
    let failed: Vec<&str> =
        merged.failed.iter().map(|(id, _)| id.as_str()).collect();
    say(
        "merge",
        match failed.len() {
            0 => format!("all {} slices reported", plan.len()),
            n => format!(
                "{n} of {} slices failed or are missing: {}",
                plan.len(),
                failed.join(", ")
            ),
        },
    );
    Ok((status, report))
}

/// A slice's `report.json`, as `finish` wrote it: the matrix's report
/// with one kernel, and the slice's id.
fn read_slice(path: &Path) -> Result<MatrixReport, Stop> {
    let text = crate::files::read_text(path).map_err(Stop::CannotRun)?;
    let report = serde_json::from_str::<MatrixReport>(&text)
        .map_err(|e| e.to_string())
        .and_then(|r| match r.slice {
            Some(_) => Ok(r),
            None => Err("it names no slice".to_string()),
        })
        .map_err(|e| {
            Stop::CannotRun(format!(
                "{} is not the report of a slice (`cargo xtask matrix \
                 --slice ID` writes one): {e}",
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
    columns: Vec<KernelRun>,
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
    reports: Vec<(PathBuf, MatrixReport)>,
) -> Result<Merged, Stop> {
    let mut by_id: BTreeMap<String, (PathBuf, MatrixReport)> = BTreeMap::new();
    for (path, report) in reports {
        let id = report.slice.clone().unwrap_or_default();
        if !plan.iter().any(|s| s.id == id) {
            let ids: Vec<&str> = plan.iter().map(|s| s.id.as_str()).collect();
            return Err(Stop::Usage(format!(
                "{}: slice {id} is not in the plan of this merge ({}); \
                 give --merge the options the slices ran with (--kernel, \
                 --no-host, --image, ...)",
                path.display(),
                ids.join(", ")
            )));
        }
        if let Some((first, _)) = by_id.get(&id) {
            return Err(Stop::Usage(format!(
                "slice {id} is given twice: {} and {}",
                first.display(),
                path.display()
            )));
        }
        by_id.insert(id, (path, report));
    }
    let mut accels: Vec<String> =
        by_id.values().map(|(_, r)| r.accel.clone()).collect();
    accels.sort();
    accels.dedup();
    let wall = (by_id.values())
        .map(|(_, r)| r.wall_seconds.unwrap_or(0.0))
        .fold(0.0, f64::max);
    let mut columns = Vec::new();
    let mut failed = Vec::new();
    for slice in plan {
        let column = match by_id.remove(&slice.id) {
            Some((path, mut report)) => {
                column(slice, report.kernels.remove(0), &path)
            }
            // Labelled as a single run labels a kernel it could not
            // have.
            None => {
                let mut column = slice.part.column();
                column.set_failed(format!(
                    "missing: no report of slice {} among the merged ones",
                    slice.id
                ));
                column
            }
        };
        if let Some(why) = column.failure() {
            failed.push((slice.id.clone(), why));
        }
        columns.push(column);
    }
    let accel = match accels.is_empty() {
        true => "none".into(),
        false => accels.join("+"),
    };
    Ok(Merged {
        columns,
        accel,
        wall,
        failed,
    })
}

/// A slice's kernel read back, judged by this checkout's plan: a
/// report of another kind, or of a patch that named other claims, is
/// not this slice's (it ran from another checkout).
fn column(slice: &Slice, mut k: KernelRun, path: &Path) -> KernelRun {
    let planned = slice.part.column();
    if k.kind != planned.kind {
        k.set_failed(format!(
            "{} holds a {} kernel, not the {} this slice boots",
            path.display(),
            k.kind.name(),
            planned.kind.name()
        ));
    }
    if let (Some(breaks), Some(ran)) = (&planned.breaks, &k.breaks) {
        if ran != breaks {
            k.set_failed(format!(
                "the slice ran with `Breaks: {}`, but this checkout's \
                 patch names {}: run the slice again",
                ran.join(" "),
                breaks.join(" ")
            ));
        }
    }
    for c in &mut k.claims {
        c.evidence.get_or_insert_default();
    }
    k.kind = planned.kind;
    k.breaks = planned.breaks;
    k
}

/// The rules a merge shares with a run, and what `xtask/tests/` checks
/// through the binary (`statuses.rs`: a failed claim, a missing slice,
/// a slice outside the plan or given twice, each by id) and with QEMU
/// (`matrix.rs`: a merge gives the single run's report), are not tested
/// again here; these are the rules only a merge has.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::kernels::KernelSpec;
    use crate::matrix::plan::Part;
    use crate::matrix::report::ClaimRun;
    use crate::matrix::source::Mutant;

    /// The host, a line of the kernel list, and a mutant that must
    /// break `b`.
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
        let parts = [Part::Host, Part::Debian(spec), Part::Mutant(mutant)];
        let ids = ["host", "debian-6.1.0-x-cloud-amd64", "mutant-m"];
        (ids.into_iter().zip(parts))
            .map(|(id, part)| Slice {
                id: id.into(),
                part,
            })
            .collect()
    }

    /// Each slice's report, as `finish` writes it: `a` passed on every
    /// kernel, and `b` too but on the mutant, which broke it.
    fn slice_reports() -> Vec<(PathBuf, MatrixReport)> {
        (plan().iter())
            .map(|slice| {
                let mut k = slice.part.column();
                let b = if k.breaks.is_some() { "fail" } else { "pass" };
                k.release = Some("6.1.0-57-cloud-amd64".into());
                k.status = "reported".into();
                k.claims = [("a", "pass"), ("b", b)]
                    .map(|(id, o)| ClaimRun {
                        evidence: Some(format!("{id} was {o}")),
                        id: id.to_string(),
                        outcome: serde_json::from_str(&format!("{o:?}"))
                            .unwrap(),
                    })
                    .into();
                let mut report = MatrixReport::new(vec![k], "tcg", 9.5);
                report.slice = Some(slice.id.clone());
                let path = PathBuf::from(format!("{}/report.json", slice.id));
                (path, serde_json::from_str(&report.to_json()).unwrap())
            })
            .collect()
    }

    #[test]
    fn a_missing_slice_is_labelled_as_a_run_labels_it_and_fails_by_id() {
        let mut reports = slice_reports();
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
        let suite = merged.columns[1].suite.as_deref();
        assert_eq!(suite, Some("bookworm-security"));
        assert_eq!(merged.wall, 9.5, "the longest slice's");
    }

    #[test]
    fn a_slice_that_ran_with_another_breaks_line_is_not_believed() {
        let mut reports = slice_reports();
        reports[2].1.kernels[0].breaks = Some(vec!["a".into()]);
        let merged = assemble(&plan(), reports).unwrap();
        assert_eq!(merged.failed[0].0, "mutant-m");
        assert!(merged.failed[0].1.contains("run the slice again"));
    }

    #[test]
    fn accelerators_that_differ_are_both_named() {
        let mut reports = slice_reports();
        reports[0].1.accel = "kvm".into();
        let merged = assemble(&plan(), reports).unwrap();
        assert_eq!(merged.accel, "kvm+tcg");
    }
}
