//! `cargo xtask matrix`: runs the checker on several real Debian
//! kernels under QEMU, plus natively on the host, and tabulates each
//! claim's outcome per kernel release, with the kernel stacks the
//! tracing claims captured (the book's "Verified on" page).
//!
//! Steps, each printed as it happens:
//! 1. fetch: per suite of `matrix/kernels.list`, a private apt
//!    configuration ([`apt`]) resolves each line to the newest matching
//!    package, downloads it and unpacks `vmlinuz` into
//!    `target/matrix-cache/kernels/` (kept across runs), with the ELF
//!    `vmlinux` decompressed from it ([`vmlinux`]). Meanwhile the
//!    checker is built static ([`initramfs`]).
//! 2. initramfs: a newc cpio with the checker as `/init` ([`cpio`]).
//! 3. boot: one QEMU per kernel, as many at once as there are cores,
//!    each bounded by `--timeout` ([`qemu`]); KVM only if a probe boot
//!    shows it works, else TCG.
//! 4. parse: the report between the checker's console markers
//!    ([`report`]); QEMU's exit status is never trusted.
//!
//! Writes `target/matrix/report.{json,md}` (each claim's outcome and
//! evidence per kernel, and the kernel stacks of the tracing claims)
//! and each console to `target/matrix/console/`. Every child runs in
//! its own process group and is stopped on Ctrl-C, with the temporary
//! directory ([`child`]).
//!
//! The matrix also runs a slice at a time ([`plan`]): `--slices`
//! lists the plan's columns (the host, each kernel-list line, the
//! source-built kernel, each mutant, each `--image`) for a CI job
//! matrix, `--slice <id>` runs one into `target/matrix/slices/<id>/`,
//! and `--merge` ([`merge`]) puts their reports together into the
//! report a single run writes, ending as a run ends ([`finish`]).
//!
//! The book's "Verified on" page shows a recorded copy, in
//! `book/verified/` ([`verified`]): `--record` writes it (only from a
//! full run), a plain run compares with it and never writes into the
//! source tree, so CI re-verifies every kernel without dirtying the
//! checkout and says when the page has gone stale.
//!
//! Exit statuses, the workspace's: 0 every kernel reported and no claim
//! failed; 1 a check failed: a claim failed on a kernel, a kernel gave
//! no report (fetch, boot or parse failed), or a kernel's outcomes
//! differ from the recorded ones in `book/verified/` (run `just matrix
//! --record` and commit); 2 usage; 3 the runner itself could not run
//! (missing tools, an unreadable report). `--merge` exits as a run of
//! its plan would, and 1 also when a slice's report is missing. Each
//! message says which.

mod apt;
mod child;
mod cpio;
mod initramfs;
mod kernels;
mod merge;
mod plan;
mod qemu;
mod report;
pub(crate) mod source;
mod verified;
mod vmlinux;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use apt::{AptRoot, CachedKernel, Mirror};
use exit_status::Status;
use kernels::KernelSpec;
use qemu::{Accel, Boot};
use report::{Column, Console, Kind};
use serde_json::Value;

/// Run the checker under QEMU on Debian kernels, a kernel built from
/// source, its mutants and any image given, and natively on this
/// machine; tabulate each claim's outcome per kernel.
#[derive(Debug, clap::Args)]
#[command(after_help = "Exit status: 0 all held; 1 a check failed (a \
                        claim failed, a kernel gave no report, a mutant \
                        was not caught or broke an unnamed claim, a \
                        slice is missing from --merge, or the outcomes \
                        differ from book/verified/: run `just matrix \
                        --record` and commit); 2 usage error; 3 could not \
                        run (a tool is missing, a report is unreadable).")]
pub(crate) struct Args {
    /// Only lines of the kernel list containing TEXT (repeatable).
    #[arg(long = "kernel", value_name = "TEXT")]
    only: Vec<String>,
    /// The kernel list (default: matrix/kernels.list).
    #[arg(long, value_name = "PATH")]
    list: Option<PathBuf>,
    /// Boot this static binary as /init instead of building the
    /// checker.
    #[arg(long, value_name = "PATH")]
    init: Option<PathBuf>,
    /// Skip the native run on this machine.
    #[arg(long = "no-host", action = clap::ArgAction::SetFalse)]
    host: bool,
    /// Skip the Debian kernels of the kernel list.
    #[arg(long = "no-debian", action = clap::ArgAction::SetFalse)]
    debian: bool,
    /// Skip the kernel built from matrix/kernel-source, and its mutants.
    #[arg(long = "no-source", action = clap::ArgAction::SetFalse)]
    source: bool,
    /// Boot this kernel image too: an ELF vmlinux with a PVH entry, or
    /// a bzImage (repeatable).
    #[arg(long = "image", value_name = "PATH")]
    images: Vec<PathBuf>,
    /// The mutant patches (default: matrix/mutants).
    #[arg(long, value_name = "DIR")]
    mutants: Option<PathBuf>,
    /// Write the report into book/verified/ for the book's "Verified
    /// on" page (a full run or a full --merge only; then commit it).
    #[arg(
        long,
        conflicts_with_all = [
            "only", "list", "init", "host", "debian", "source", "images",
            "mutants", "slice",
        ]
    )]
    record: bool,
    /// Print the plan's slices as JSON, one object each (id, kind,
    /// name, source_build), and exit: a CI job matrix.
    #[arg(long, conflicts_with_all = ["slice", "merge", "record"])]
    slices: bool,
    /// Only build the static checker the VMs boot as /init, print its
    /// path, and exit (CI builds it once for every slice's --init).
    #[arg(long, conflicts_with_all = ["slices", "slice", "merge", "init"])]
    build_init: bool,
    /// Run one slice of the plan (an id --slices prints) and write its
    /// report into target/matrix/slices/<ID>/.
    #[arg(long, value_name = "ID")]
    slice: Option<String>,
    /// Put the reports of slices together into target/matrix/, as one
    /// run of the same plan would have written them.
    #[arg(
        long,
        value_name = "REPORT",
        num_args = 1..,
        conflicts_with_all = [
            "slice", "init", "refresh", "jobs", "timeout", "accel",
        ]
    )]
    merge: Vec<PathBuf>,
    /// Run apt-get update even if the lists are fresh.
    #[arg(long)]
    refresh: bool,
    /// Boots at once (default: the number of cores).
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..),
    )]
    jobs: Option<u32>,
    /// Limit per boot, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
    /// kvm or tcg (default: probe whether KVM works).
    #[arg(long, value_name = "NAME", value_parser = ["kvm", "tcg"])]
    accel: Option<String>,
    /// Where the report goes (default: target/matrix, a slice's
    /// target/matrix/slices/<ID>).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

impl Args {
    fn jobs(&self) -> usize {
        let cores =
            std::thread::available_parallelism().map_or(1, |n| n.get());
        self.jobs.map_or(cores, |n| n as usize)
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout)
    }

    fn accel(&self) -> Option<Accel> {
        match self.accel.as_deref() {
            Some("kvm") => Some(Accel::Kvm),
            Some(_) => Some(Accel::Tcg),
            None => None,
        }
    }

    /// Where the report goes.
    fn out(&self) -> PathBuf {
        match (&self.out, &self.slice) {
            (Some(out), _) => out.clone(),
            (None, Some(id)) => plan::default_out(&target_dir(), id),
            (None, None) => target_dir().join("matrix"),
        }
    }
}

/// Why a job stopped before it could judge any kernel.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The command line asks for what cannot be (status 2).
    Usage(String),
    /// A file, a tool or the network failed us (status 3).
    CannotRun(String),
}

impl From<String> for Stop {
    fn from(why: String) -> Stop {
        Stop::CannotRun(why)
    }
}

/// Entry point from `xtask/src/main.rs`; returns the exit status.
pub(crate) fn main(opts: Args) -> Status {
    // Before any thread starts, so that they all inherit the mask.
    child::handle_signals();
    if opts.slices {
        return print_slices(&opts);
    }
    if opts.build_init {
        return match initramfs::build_checker(&workspace()) {
            Ok(path) => {
                println!("{}", path.display());
                Status::Ok
            }
            Err(why) => {
                eprintln!("matrix: {why}");
                Status::CannotRun
            }
        };
    }
    let result = match opts.merge.is_empty() {
        false => merge::merge(&opts),
        true => check_usage(&opts).and_then(|()| Ok(run(&opts)?)),
    };
    child::stop_if_cancelled();
    let checked = result.and_then(|(status, json)| {
        Ok(against_recorded(&opts, status, &json)?)
    });
    match checked {
        Ok(status) => status,
        Err(Stop::Usage(why)) => {
            eprintln!("matrix: {why}");
            Status::Usage
        }
        Err(Stop::CannotRun(why)) => {
            eprintln!("matrix: {why}");
            Status::CannotRun
        }
    }
}

/// The mistakes of a command line that show before anything is
/// fetched or built: a file that is not a kernel image, a slice that
/// is not in the plan.
fn check_usage(opts: &Args) -> Result<(), Stop> {
    for image in &opts.images {
        if let Err(why) = image_boot(image) {
            let image = image.display();
            return Err(Stop::Usage(format!("--image {image}: {why}")));
        }
    }
    if let Some(id) = &opts.slice {
        let plan = plan::plan(opts)?;
        if !plan.iter().any(|s| &s.id == id) {
            let ids: Vec<&str> = plan.iter().map(|s| s.id.as_str()).collect();
            return Err(Stop::Usage(format!(
                "--slice {id}: no such slice in this plan; it has {} \
                 (`--slices` describes them)",
                ids.join(", ")
            )));
        }
    }
    Ok(())
}

/// `--slices`: the plan as one line of JSON on stdout.
fn print_slices(opts: &Args) -> Status {
    let plan = match plan::plan(opts) {
        Ok(plan) => plan,
        Err(why) => {
            eprintln!("matrix: {why}");
            return Status::CannotRun;
        }
    };
    let json = plan::to_json(&plan, plan::pin().as_ref());
    let line = serde_json::to_string(&json).expect("JSON values");
    let mut stdout = std::io::stdout().lock();
    let written = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
    exit_status::after_write("matrix", written).unwrap_or(Status::Ok)
}

use crate::{target_dir, workspace};

/// `cargo xtask kernel`: builds the kernel of `matrix/kernel-source` and
/// the mutants, as the matrix would, and says where they are: for a
/// kernel developer who wants the images, or to build ahead of a run.
#[derive(Debug, clap::Args)]
#[command(after_help = "Exit status: 0 built (or cached); 2 usage error; \
                        3 could not run (the source could not be fetched, \
                        or a build failed).")]
pub(crate) struct KernelArgs {
    /// The mutant patches (default: matrix/mutants).
    #[arg(long, value_name = "DIR")]
    mutants: Option<PathBuf>,
}

/// Entry point of `cargo xtask kernel`.
pub(crate) fn kernel_main(args: KernelArgs) -> Status {
    child::handle_signals();
    let workspace = workspace();
    let dir = args.mutants.unwrap_or(workspace.join(source::MUTANTS));
    let cache = target_dir().join("matrix-cache");
    let built = source::Mutant::all(&dir)
        .and_then(|mutants| source::build(&workspace, &cache, &mutants));
    child::stop_if_cancelled();
    match built {
        Ok(built) => {
            println!(
                "{} {}: {}",
                built.pin.package,
                built.pin.version,
                built.vmlinux.display()
            );
            let mut status = Status::Ok;
            for (mutant, vmlinux) in &built.mutants {
                match vmlinux {
                    Ok(path) => {
                        println!("mutant {}: {}", mutant.name, path.display())
                    }
                    Err(why) => {
                        eprintln!("kernel: mutant {}: {why}", mutant.name);
                        status = Status::CannotRun;
                    }
                }
            }
            status
        }
        Err(why) => {
            eprintln!("kernel: {why}");
            Status::CannotRun
        }
    }
}

/// `--record`: writes the book's copy of a complete report. Otherwise
/// compares with it; a change turns exit status 0 into 1.
fn against_recorded(
    opts: &Args,
    code: Status,
    fresh: &serde_json::Value,
) -> Result<Status, String> {
    let workspace = workspace();
    let dir = workspace.join(verified::DIR);
    if opts.record {
        let text = apt::read(&workspace.join("matrix/kernels.list"))?;
        let specs = kernels::parse_list(&String::from_utf8_lossy(&text))?;
        let missing = verified::missing(&specs, fresh);
        if !missing.is_empty() {
            say(
                "record",
                format!(
                    "not recording: no report for {}; {} is unchanged",
                    missing.join(", "),
                    dir.display()
                ),
            );
            return Ok(code.worst(Status::Failed));
        }
        verified::record(&workspace, fresh)?;
        say(
            "record",
            format!("wrote {}/report.{{json,md}}; commit them", dir.display()),
        );
        return Ok(code);
    }
    let path = dir.join("report.json");
    let recorded = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|e| format!("{} is not JSON ({e})", path.display()))?,
        Err(e) => {
            say("verified", format!("cannot read {}: {e}", path.display()));
            return Ok(code);
        }
    };
    let drift = verified::compare(&recorded, fresh);
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
        format!("the \"Verified on\" page is stale: {}", verified::FIX),
    );
    Ok(code.worst(Status::Failed))
}

fn say(who: &str, what: impl std::fmt::Display) {
    eprintln!("matrix: [{who}] {what}");
}

/// A kernel line after the fetch step.
#[derive(Debug)]
struct Fetched {
    spec: KernelSpec,
    package: Option<String>,
    kernel: Result<CachedKernel, String>,
}

/// The matrix: fetch, build, boot, parse; writes the report into
/// `target/matrix` (a slice's into `target/matrix/slices/<id>`) and
/// returns the exit status and the JSON report.
fn run(opts: &Args) -> Result<(Status, Value), String> {
    let wall = Instant::now();
    let workspace = workspace();
    let cache = target_dir().join("matrix-cache");
    let out = opts.out();
    apt::mkdir(&cache)?;
    apt::mkdir(&out.join("console"))?;
    qemu::check_installed()?;

    // What to boot: the plan, or the one slice of it asked for.
    let plan: Vec<plan::Slice> = plan::plan(opts)?
        .into_iter()
        .filter(|s| opts.slice.as_ref().is_none_or(|id| &s.id == id))
        .collect();
    let host = plan.iter().any(|s| matches!(s.part, plan::Part::Host));
    let source_column =
        plan.iter().any(|s| matches!(s.part, plan::Part::Source));
    let mut specs = Vec::new();
    let mut mutants = Vec::new();
    let mut images = Vec::new();
    for slice in &plan {
        match &slice.part {
            plan::Part::Debian(spec) => specs.push(spec.clone()),
            plan::Part::Mutant(m) => mutants.push(m.clone()),
            plan::Part::Image(path) => images.push(path.clone()),
            plan::Part::Host | plan::Part::Source => {}
        }
    }
    let build_source = source_column || !mutants.is_empty();
    let tmp = child::TempDir::new(&cache)?;

    // Step 1: fetch kernels (per suite) while the checker builds.
    let mirror = Mirror::from_system();
    if !specs.is_empty() {
        say(
            "apt",
            format!("mirror {} and {}", mirror.debian, mirror.security),
        );
    }
    let (init, fetched, built) = std::thread::scope(|s| {
        let kernel = s.spawn(|| {
            build_source.then(|| source::build(&workspace, &cache, &mutants))
        });
        let build = s.spawn(|| match &opts.init {
            Some(path) => Ok(path.clone()),
            None => {
                say("checker", "build (static, release)");
                let t = Instant::now();
                let bin = initramfs::build_checker(&workspace);
                say("checker", format!("built in {:.1} s", secs(t)));
                bin
            }
        });
        let mut suites: Vec<&str> =
            specs.iter().map(|k| k.suite.as_str()).collect();
        suites.sort_unstable();
        suites.dedup();
        let fetches: Vec<_> = suites
            .into_iter()
            .map(|suite| {
                let (specs, mirror) = (&specs, &mirror);
                let (cache, tmp) = (&cache, tmp.path());
                s.spawn(move || {
                    fetch_suite(suite, specs, mirror, cache, tmp, opts.refresh)
                })
            })
            .collect();
        let mut fetched: Vec<Fetched> = fetches
            .into_iter()
            .flat_map(|h| h.join().expect("fetch thread panicked"))
            .collect();
        fetched.sort_by_key(|f| f.spec.line);
        let built = kernel.join().expect("kernel build thread panicked");
        (build.join().expect("build thread panicked"), fetched, built)
    });
    let init = init?;

    // Step 2: the initramfs, rebuilt each run (the checker changes).
    let initrd = tmp.path().join("initramfs.cpio");
    initramfs::write(&init, &initrd)?;

    // Step 3: boot, as many at once as there are cores, in the plan's
    // order (which `--merge` follows too).
    let mut jobs: Vec<Job> = Vec::new();
    if host {
        jobs.push(Job::Host);
    }
    jobs.extend(fetched.into_iter().map(Job::Vm));
    match built {
        None => {}
        // Without the base kernel there is no mutant either: each
        // gets a column that says so, so that none goes unnamed.
        Some(Err(e)) => {
            let why = format!("kernel build: {e}");
            if source_column {
                jobs.push(Job::Failed {
                    label: "source".into(),
                    kind: Kind::Source,
                    why: why.clone(),
                });
            }
            jobs.extend(mutants.iter().map(|m| Job::Failed {
                label: format!("mutant {}", m.name),
                kind: Kind::Mutant {
                    breaks: m.breaks.clone(),
                },
                why: why.clone(),
            }));
        }
        Some(Ok(built)) => {
            if source_column {
                jobs.push(Job::Image {
                    label: "source".into(),
                    kind: Kind::Source,
                    path: built.vmlinux.clone(),
                    version: Some(built.pin.version.clone()),
                });
            }
            for (mutant, vmlinux) in built.mutants {
                let label = format!("mutant {}", mutant.name);
                let kind = Kind::Mutant {
                    breaks: mutant.breaks.clone(),
                };
                jobs.push(match vmlinux {
                    Ok(path) => Job::Image {
                        label,
                        kind,
                        path,
                        version: Some(built.pin.version.clone()),
                    },
                    Err(why) => Job::Failed {
                        label,
                        kind,
                        why: format!("mutant build: {why}"),
                    },
                });
            }
        }
    }
    for path in &images {
        let name = path.file_name().unwrap_or(path.as_os_str());
        jobs.push(Job::Image {
            label: name.to_string_lossy().into_owned(),
            kind: Kind::Image,
            path: path.clone(),
            version: None,
        });
    }
    let first = jobs.iter().find_map(Job::pvh_image);
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
    let ctx = Ctx {
        accel,
        init: &init,
        initrd: &initrd,
        consoles: &out.join("console"),
        timeout: opts.timeout(),
    };
    let columns = run_jobs(jobs, opts.jobs(), &ctx);
    child::stop_if_cancelled();
    drop(tmp);

    // Step 4: the report.
    let slice = opts.slice.as_deref();
    finish(&out, &columns, accel.name(), secs(wall), slice)
}

/// What a run and a merge end with: writes `report.{json,md}` into
/// `out` (a slice's JSON also names the slice, for `--merge`), prints
/// the Markdown, and judges the columns.
fn finish(
    out: &Path,
    columns: &[Column],
    accel: &str,
    wall: f64,
    slice: Option<&str>,
) -> Result<(Status, Value), String> {
    let mut json = report::to_json(columns, accel, wall);
    let md = report::to_markdown(&json);
    if let Some(id) = slice {
        json["slice"] = Value::from(id);
    }
    let pretty = serde_json::to_string_pretty(&json).expect("JSON values");
    apt::mkdir(out)?;
    apt::write(&out.join("report.json"), (pretty + "\n").as_bytes())?;
    apt::write(&out.join("report.md"), md.as_bytes())?;
    print!("{}", report::for_terminal(&md));
    say(
        "matrix",
        format!(
            "wrote {} and report.md in {wall:.1} s",
            out.join("report.json").display()
        ),
    );
    let mut code = Status::Ok;
    for c in columns {
        if let Some(Ok(())) = c.verdict() {
            say("mutants", format!("{} caught", c.label));
        }
        if let Some(why) = failure(c) {
            let who = if c.verdict().is_some() {
                "mutants"
            } else {
                "matrix"
            };
            say(who, why);
            code = Status::Failed;
        }
    }
    Ok((code, json))
}

/// Why a column fails the matrix, if it does: no report, a mutant not
/// caught exactly, or a claim that failed on a kernel that is not a
/// mutant (a mutant's failures are the point: only its verdict counts).
pub(crate) fn failure(c: &Column) -> Option<String> {
    if let Err(why) = &c.result {
        return Some(format!("no report from {}: {why}", c.label));
    }
    match c.verdict() {
        Some(verdict) => verdict.err(),
        None if !c.failed().is_empty() => {
            Some(format!("{}: {} failed", c.label, c.failed().join(", ")))
        }
        None => None,
    }
}

fn secs(since: Instant) -> f64 {
    since.elapsed().as_secs_f64()
}

/// Updates one suite's lists, then resolves and fetches its kernels.
fn fetch_suite(
    suite: &str,
    specs: &[KernelSpec],
    mirror: &Mirror,
    cache: &Path,
    tmp: &Path,
    refresh: bool,
) -> Vec<Fetched> {
    let mine = specs.iter().filter(|k| k.suite == suite);
    let root = AptRoot::new(cache, suite, mirror).and_then(|root| {
        let t = Instant::now();
        if root.update(refresh)? {
            say(suite, format!("apt-get update in {:.1} s", secs(t)));
        }
        Ok(root)
    });
    let root = match root {
        Ok(r) => r,
        Err(e) => {
            return mine
                .map(|spec| Fetched {
                    spec: spec.clone(),
                    package: None,
                    kernel: Err(format!("fetch: {e}")),
                })
                .collect();
        }
    };
    mine.map(|spec| {
        let package = resolve(&root, spec);
        let kernel = match &package {
            Ok(p) => fetch(&root, p, cache, tmp),
            Err(e) => Err(e.clone()),
        };
        Fetched {
            spec: spec.clone(),
            package: package.ok(),
            kernel: kernel.map_err(|e| format!("fetch: {e}")),
        }
    })
    .collect()
}

/// The newest package of the suite matching the line's glob.
fn resolve(root: &AptRoot, spec: &KernelSpec) -> Result<String, String> {
    let prefix = spec.glob.split('*').next().unwrap_or("");
    let names = root.package_names(prefix)?;
    let found =
        kernels::newest_match(&spec.glob, names.iter().map(|n| n.as_str()));
    let package = found.ok_or_else(|| {
        format!(
            "no package in {} matches {} (kernel list line {}); see \
             what there is with `APT_CONFIG=target/matrix-cache/apt/{}/\
             apt.conf apt-cache pkgnames {prefix}`",
            spec.suite, spec.glob, spec.line, spec.suite
        )
    })?;
    say(&spec.suite, format!("{} -> {package}", spec.glob));
    Ok(package.to_owned())
}

/// The kernel from the cache, else downloaded and unpacked into it.
fn fetch(
    root: &AptRoot,
    package: &str,
    cache: &Path,
    tmp: &Path,
) -> Result<CachedKernel, String> {
    let label = kernels::label(package);
    if let Some(k) = CachedKernel::find(cache, package) {
        say(label, format!("fetch: cached ({})", k.version));
        return Ok(k);
    }
    let t = Instant::now();
    let dir = tmp.join(package);
    apt::mkdir(&dir)?;
    say(label, "fetch: apt-get download");
    let deb = root.download(package, &dir)?;
    let size = std::fs::metadata(&deb).map_or(0, |m| m.len());
    say(
        label,
        format!(
            "fetch: {:.1} MB in {:.1} s; extract vmlinux",
            size as f64 / 1e6,
            secs(t)
        ),
    );
    let t = Instant::now();
    let kernel = apt::unpack_kernel(&deb, package, &dir, cache)?;
    let _ = std::fs::remove_dir_all(&dir);
    say(label, format!("extract: done in {:.1} s", secs(t)));
    Ok(kernel)
}

#[derive(Debug)]
enum Job {
    Host,
    Vm(Fetched),
    /// A kernel image of ours or the user's: booted as it is.
    Image {
        label: String,
        kind: Kind,
        path: PathBuf,
        version: Option<String>,
    },
    /// A kernel that could not be had: a column that says why.
    Failed {
        label: String,
        kind: Kind,
        why: String,
    },
}

impl Job {
    /// An image this job boots through PVH, for the accelerator probe.
    fn pvh_image(&self) -> Option<PathBuf> {
        match self {
            Job::Vm(f) => f.kernel.as_ref().ok().map(|k| k.vmlinux()),
            Job::Image { path, .. } => (image_boot(path).ok()
                == Some(Boot::Pvh))
            .then(|| path.clone()),
            _ => None,
        }
    }
}

/// How the image at `path` boots, or why it is not a kernel image.
fn image_boot(path: &Path) -> Result<Boot, String> {
    // Whole: an ELF's notes can sit anywhere in it (tens of MB at most).
    let head =
        std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    vmlinux::boot_of(&head)
}

/// What every boot shares.
#[derive(Debug)]
struct Ctx<'a> {
    accel: Accel,
    init: &'a Path,
    initrd: &'a Path,
    consoles: &'a Path,
    timeout: Duration,
}

/// Runs `jobs` on `workers` threads; columns keep the jobs' order.
fn run_jobs(jobs: Vec<Job>, workers: usize, ctx: &Ctx<'_>) -> Vec<Column> {
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Column>>> =
        jobs.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers.min(jobs.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(job) = jobs.get(i) else { break };
                    let column = match job {
                        Job::Host => run_host(ctx),
                        Job::Vm(f) => run_vm(f, ctx),
                        Job::Image {
                            label,
                            kind,
                            path,
                            version,
                        } => run_image(label, kind, path, version, ctx),
                        Job::Failed { label, kind, why } => Column {
                            label: label.clone(),
                            kind: kind.clone(),
                            suite: None,
                            package: None,
                            version: None,
                            how: None,
                            seconds: None,
                            result: Err(why.clone()),
                        },
                    };
                    *slots[i].lock().unwrap_or_else(|e| e.into_inner()) =
                        Some(column);
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|m| {
            let slot = m.into_inner().unwrap_or_else(|e| e.into_inner());
            slot.expect("every job ran")
        })
        .collect()
}

/// The checker run natively, as one more column.
fn run_host(ctx: &Ctx<'_>) -> Column {
    say("host", "run natively: --format json --trace --audit");
    let log = ctx.consoles.join("host.json");
    let t = Instant::now();
    let result = run_native(ctx.init, &log, ctx.timeout);
    let seconds = secs(t);
    say("host", format!("parse ({seconds:.1} s)"));
    Column {
        label: "host".into(),
        kind: Kind::Host,
        suite: None,
        package: None,
        version: None,
        how: Some("native".into()),
        seconds: Some(seconds),
        result,
    }
}

fn run_native(
    init: &Path,
    log: &Path,
    timeout: Duration,
) -> Result<report::Outcomes, String> {
    let stdout = std::fs::File::create(log)
        .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let mut cmd = std::process::Command::new(init);
    // As the VMs do: --trace, so that the tracing claims say why they
    // cannot trace here (not root, lockdown) rather than "not asked";
    // --audit, so that the audit runs here too.
    cmd.args(["--format", "json", "--trace", "--audit"])
        .stdin(std::process::Stdio::null())
        .stdout(stdout);
    let mut p = child::spawn(&mut cmd)
        .map_err(|e| format!("cannot run {}: {e}", init.display()))?;
    // Its exit status says whether claims held; the report says which.
    let status = p.wait_timeout(timeout).map_err(|e| e.to_string())?;
    if status.is_none() {
        return Err(format!("timed out after {} s", timeout.as_secs()));
    }
    let text = std::fs::read_to_string(log).unwrap_or_default();
    report::parse_report(&text)
        .map_err(|e| format!("{e}; output in {}", log.display()))
}

/// Boots an image of ours or the user's, the way [`image_boot`] says.
fn run_image(
    label: &str,
    kind: &Kind,
    path: &Path,
    version: &Option<String>,
    ctx: &Ctx<'_>,
) -> Column {
    let mut column = Column {
        label: label.to_owned(),
        kind: kind.clone(),
        suite: None,
        package: None,
        version: version.clone(),
        how: None,
        seconds: None,
        result: Err(String::new()),
    };
    let how = match image_boot(path) {
        Ok(how) => how,
        Err(why) => {
            column.result = Err(format!("{}: {why}", path.display()));
            return column;
        }
    };
    let name = format!("{how:?}/{}", ctx.accel.name()).to_lowercase();
    let log = ctx
        .consoles
        .join(format!("{}.log", label.replace(' ', "-")));
    say(label, format!("boot {} ({name})", path.display()));
    column.how = Some(name);
    let outcome =
        qemu::boot(path, how, ctx.accel, ctx.initrd, &log, ctx.timeout);
    column.result = booted(outcome, &log, ctx, &mut column.seconds, label);
    column
}

/// What one boot gave: the checker's report, or why there is none,
/// with the console log's path when something went wrong.
fn booted(
    outcome: Result<qemu::Outcome, String>,
    log: &Path,
    ctx: &Ctx<'_>,
    seconds: &mut Option<f64>,
    label: &str,
) -> Result<report::Outcomes, String> {
    let result = match outcome {
        Err(e) => Err(format!("boot: {e}")),
        Ok(o) => {
            *seconds = Some(o.seconds);
            say(label, format!("parse (boot took {:.1} s)", o.seconds));
            match o.console {
                Console::Report(text) => report::parse_report(&text)
                    .map_err(|e| format!("parse: {e}; see {}", log.display())),
                Console::NoReport(why) => {
                    let mut why = format!("boot: {why}");
                    if o.timed_out {
                        why += &format!(
                            " (killed after {} s)",
                            ctx.timeout.as_secs()
                        );
                    }
                    if !o.stderr.is_empty() {
                        why += &format!("; qemu: {}", o.stderr);
                    }
                    Err(format!("{why}; console log: {}", log.display()))
                }
            }
        }
    };
    if let Err(e) = &result {
        say(label, format!("no report: {e}"));
    }
    result
}

/// Boots one fetched kernel: PVH first, the bzImage if PVH showed
/// nothing at all.
fn run_vm(f: &Fetched, ctx: &Ctx<'_>) -> Column {
    let label = match &f.package {
        Some(p) => kernels::label(p).to_owned(),
        None => f.spec.glob.clone(),
    };
    let mut column = Column {
        label: label.clone(),
        kind: Kind::Debian,
        suite: Some(f.spec.suite.clone()),
        package: f.package.clone(),
        version: f.kernel.as_ref().ok().map(|k| k.version.clone()),
        how: None,
        seconds: None,
        result: Err(String::new()),
    };
    let kernel = match &f.kernel {
        Ok(k) => k,
        Err(e) => {
            column.result = Err(e.clone());
            return column;
        }
    };
    let log = ctx.consoles.join(format!("{label}.log"));
    let mut how = Boot::Pvh;
    let outcome = loop {
        let image = match how {
            Boot::Pvh => kernel.vmlinux(),
            Boot::BzImage => kernel.vmlinuz(),
        };
        let name = format!("{how:?}/{}", ctx.accel.name()).to_lowercase();
        say(&label, format!("boot ({name})"));
        let o =
            qemu::boot(&image, how, ctx.accel, ctx.initrd, &log, ctx.timeout);
        column.how = Some(name);
        // QEMU refuses an ELF without a PVH note at once, silently on
        // the console; a timeout is a hang, which a retry won't fix.
        let refused = matches!(&o, Ok(o) if !o.timed_out && o.console
            == Console::NoReport("no console output at all".into()));
        if how == Boot::Pvh && refused {
            say(&label, "PVH boot printed nothing; trying the bzImage");
            how = Boot::BzImage;
            continue;
        }
        break o;
    };
    column.result = booted(outcome, &log, ctx, &mut column.seconds, &label);
    column
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let (code, json) = run(&opts).expect("the runner runs");
        let kernels = json["kernels"].as_array().expect("a kernels array");
        assert_eq!(kernels.len(), 1, "one kernel: {json:#}");
        let k = &kernels[0];
        assert_eq!(k["status"], "reported", "{k:#}");
        let claims = k["claims"].as_array().expect("claims");
        assert_eq!(claims.len(), checker::claims::CLAIMS.len(), "{k:#}");
        for c in claims {
            assert_eq!(c["outcome"], "pass", "{c:#}");
        }
        assert_eq!(code, Status::Ok);

        // The same kernel, as a developer would name an image of theirs.
        let package = k["package"].as_str().unwrap();
        let cache = target_dir().join("matrix-cache");
        let cached = CachedKernel::find(&cache, package).unwrap();
        let (vmlinux, bzimage) = (cached.vmlinux(), cached.vmlinuz());
        let mut opts = test_args(&["--no-source", "--no-host", "--no-debian"]);
        opts.images = vec![vmlinux, bzimage];
        opts.out = Some(target_dir().join("matrix-test-images"));
        let (code, json) = run(&opts).expect("the runner runs");
        let kernels = json["kernels"].as_array().unwrap();
        let hows: Vec<&str> =
            kernels.iter().map(|k| k["how"].as_str().unwrap()).collect();
        assert_eq!(hows, ["pvh/tcg", "bzimage/tcg"], "{json:#}");
        for k in kernels {
            assert_eq!(k["kind"], "image", "{k:#}");
            assert_eq!(k["release"], json["kernels"][0]["release"]);
            assert_eq!(k["status"], "reported", "{k:#}");
        }
        assert_eq!(code, Status::Ok);
    }
}
