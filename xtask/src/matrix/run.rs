//! One run of the matrix, step by step: fetch and build, the
//! initramfs, the boots, the report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use exit_status::Status;

use super::args::Args;
use super::boot::{self, BootSetup};
use super::fetch::{self, Fetched};
use super::plan::{self, Part, Slice};
use super::qemu::{self, Accel};
use super::report::{KernelRun, MatrixReport};
use super::source::{self, Built};
use super::{initramfs, say, secs};
use crate::debian::Mirror;
use crate::{child, files, target_dir, workspace};

/// The matrix: fetch, build, boot, parse; writes the report into
/// `target/matrix` (a slice's into `target/matrix/slices/<id>`) and
/// returns the exit status and the report.
pub(crate) fn run(opts: &Args) -> Result<(Status, MatrixReport), String> {
    let wall = Instant::now();
    let cache = target_dir().join("matrix-cache");
    let out = opts.out();
    files::mkdir(&cache)?;
    files::mkdir(&out.join("console"))?;
    qemu::check_installed()?;
    // What to boot: the plan, or the one slice of it asked for.
    let plan: Vec<Slice> = plan::plan(opts)?
        .into_iter()
        .filter(|s| opts.slice.as_ref().is_none_or(|id| &s.id == id))
        .collect();
    let tmp = child::TempDir::new(&cache)?;

    // Step 1: fetch kernels (per suite) while the checker builds.
    let ready = fetch_and_build(opts, &plan, &cache, &tmp);
    let init = ready.init?;

    // Step 2: the initramfs, rebuilt each run (the checker changes).
    let initrd = tmp.path().join("initramfs.cpio");
    initramfs::write(&init, &initrd)?;

    // Step 3: boot, as many at once as there are cores.
    let jobs = plan::boot_jobs(&plan, ready.fetched, ready.built);
    let first = jobs.iter().find_map(|job| job.pvh_image());
    let accel = match (opts.accel(), first) {
        (Some(a), _) => a,
        (None, None) => Accel::Tcg,
        (None, Some(image)) => {
            let (a, why) =
                qemu::probe_accel(&cache, &image, &initrd, tmp.path());
            say("qemu", format!("accelerator {}: {why}", a.name()));
            a
        }
    };
    let setup = BootSetup {
        accel,
        init: &init,
        initrd: &initrd,
        consoles: &out.join("console"),
        timeout: opts.timeout(),
    };
    let columns = boot::run_all(&jobs, opts.jobs(), &setup);
    child::stop_if_cancelled();
    drop(tmp);

    // Step 4: the report.
    let slice = opts.slice.as_deref();
    finish(&out, columns, accel.name(), secs(wall), slice)
}

/// What the boots need, fetched and built at once.
struct Ready {
    /// The static checker: `--init`, or built.
    init: Result<PathBuf, String>,
    /// The Debian kernels of the plan.
    fetched: Vec<Fetched>,
    /// The kernels built from source, if the plan has any.
    built: Option<Result<Built, String>>,
}

fn fetch_and_build(
    opts: &Args,
    plan: &[Slice],
    cache: &Path,
    tmp: &child::TempDir,
) -> Ready {
    let workspace = workspace();
    let mut specs = Vec::new();
    let mut mutants = Vec::new();
    for slice in plan {
        match &slice.part {
            Part::Debian(spec) => specs.push(spec.clone()),
            Part::Mutant(m) => mutants.push(m.clone()),
            _ => {}
        }
    }
    let build_source = plan.iter().any(Slice::needs_source_build);
    if !specs.is_empty() {
        let mirror = Mirror::from_system();
        let (debian, security) = (mirror.debian, mirror.security);
        say("apt", format!("mirror {debian} and {security}"));
    }
    let mut suites: Vec<&str> =
        specs.iter().map(|k| k.suite.as_str()).collect();
    suites.sort_unstable();
    suites.dedup();
    std::thread::scope(|s| {
        let kernel = s.spawn(|| {
            build_source.then(|| source::build(&workspace, &mutants))
        });
        let checker = s.spawn(|| match &opts.init {
            Some(path) => Ok(path.clone()),
            None => {
                say("checker", "build (static, release)");
                let t = Instant::now();
                let bin = initramfs::build_checker(&workspace);
                say("checker", format!("built in {:.1} s", secs(t)));
                bin
            }
        });
        let fetches: Vec<_> = (suites.into_iter())
            .map(|suite| {
                let (specs, dirs) = (&specs, (cache, tmp.path()));
                s.spawn(move || {
                    fetch::fetch_suite(suite, specs, dirs, opts.refresh)
                })
            })
            .collect();
        let fetched = (fetches.into_iter())
            .flat_map(|h| h.join().expect("fetch thread panicked"))
            .collect();
        let built = kernel.join().expect("kernel build thread panicked");
        let init = checker.join().expect("build thread panicked");
        Ready {
            init,
            fetched,
            built,
        }
    })
}

/// What a run and a merge end with: writes `report.{json,md}` into
/// `out` (a slice's JSON also names the slice, for `--merge`), prints
/// the report, and judges the columns.
pub(crate) fn finish(
    out: &Path,
    columns: Vec<KernelRun>,
    accel: &str,
    wall: f64,
    slice: Option<&str>,
) -> Result<(Status, MatrixReport), String> {
    let mut report = MatrixReport::new(columns, accel, wall);
    report.slice = slice.map(str::to_owned);
    files::mkdir(out)?;
    files::write(&out.join("report.json"), report.to_json().as_bytes())?;
    files::write(&out.join("report.md"), report.markdown().as_bytes())?;
    print!("{}", report.terminal());
    let json = out.join("report.json");
    let wrote =
        format!("wrote {} and report.md in {wall:.1} s", json.display());
    say("matrix", wrote);
    let mut code = Status::Ok;
    for c in &report.kernels {
        let verdict = c.mutant_verdict();
        if let Some(Ok(())) = verdict {
            say("mutants", format!("{} caught", c.label));
        }
        if let Some(why) = c.failure() {
            let who = if verdict.is_some() {
                "mutants"
            } else {
                "matrix"
            };
            say(who, why);
            code = Status::Failed;
        }
    }
    Ok((code, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::fetch::CachedKernel;
    use crate::matrix::report::{ClaimOutcome, KernelKind};
    use clap::Parser;

    /// The matrix's arguments as a command line would give them.
    fn test_args(args: &[&str]) -> Args {
        #[derive(Parser)]
        struct Command {
            #[command(flatten)]
            args: Args,
        }
        let argv = std::iter::once("matrix").chain(args.iter().copied());
        Command::try_parse_from(argv).expect("valid arguments").args
    }

    /// Test that one VM kernel boots the checker end to end and every
    /// claim, tracing included, holds on it: fetch (cached in
    /// `target/matrix-cache`), static build (own target dir, so no
    /// deadlock with the `cargo test` that runs this), initramfs, boot,
    /// report. 6.12 is the kernel the book quotes. Then the same kernel
    /// again, named with `--image`: its ELF vmlinux and its bzImage.
    #[test]
    #[ignore = "needs qemu-system-x86, apt-get and dpkg-deb: fetches and \
                boots Debian's 6.12 (.ci/run installs them and runs it)"]
    fn the_book_kernel_boots_and_every_claim_holds_also_as_an_image() {
        let mut opts = test_args(&["--no-source", "--no-host"]);
        opts.only = vec!["6.12.".into()];
        opts.out = Some(target_dir().join("matrix-test"));
        let (code, report) = run(&opts).expect("the runner runs");
        assert_eq!(report.kernels.len(), 1, "one kernel: {report:#?}");
        let k = &report.kernels[0];
        assert_eq!(k.status, "reported", "{k:#?}");
        assert_eq!(k.claims.len(), checker::claims::CLAIMS.len(), "{k:#?}");
        for c in &k.claims {
            assert_eq!(c.outcome, ClaimOutcome::Pass, "{c:#?}");
        }
        assert_eq!(code, Status::Ok);

        // The same kernel, as a developer would name an image of theirs.
        let package = k.package.as_deref().unwrap();
        let cache = target_dir().join("matrix-cache");
        let cached = CachedKernel::find(&cache, package).unwrap();
        let (vmlinux, bzimage) = (cached.vmlinux(), cached.vmlinuz());
        let mut opts = test_args(&["--no-source", "--no-host", "--no-debian"]);
        opts.images = vec![vmlinux, bzimage];
        opts.out = Some(target_dir().join("matrix-test-images"));
        let (code, report) = run(&opts).expect("the runner runs");
        let hows: Vec<&str> = (report.kernels.iter())
            .map(|k| k.how.as_deref().unwrap())
            .collect();
        assert_eq!(hows, ["pvh/tcg", "bzimage/tcg"], "{report:#?}");
        for k in &report.kernels {
            assert_eq!(k.kind, KernelKind::Image, "{k:#?}");
            assert_eq!(k.release, report.kernels[0].release);
            assert_eq!(k.status, "reported", "{k:#?}");
        }
        assert_eq!(code, Status::Ok);
    }
}
