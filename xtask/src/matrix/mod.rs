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
//! (missing tools). Each message says which.

mod apt;
mod child;
mod cpio;
mod initramfs;
mod kernels;
mod qemu;
mod report;
mod verified;
mod vmlinux;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use apt::{AptRoot, CachedKernel, Mirror};
use exit_status::Status;
use kernels::KernelSpec;
use qemu::{Accel, Boot};
use report::{Column, Console};

/// Run the checker on Debian kernels under QEMU, and natively on this
/// machine, and tabulate each claim's outcome per kernel.
#[derive(Debug, clap::Args)]
#[command(after_help = "Exit status: 0 all held; 1 a check failed (a \
                        claim failed, a kernel gave no report, or the \
                        outcomes differ from book/verified/: run `just \
                        matrix --record` and commit); 2 usage error; 3 \
                        could not run (a tool is missing).")]
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
    /// Write the report into book/verified/ for the book's "Verified
    /// on" page (a full run only; then commit it).
    #[arg(long, conflicts_with_all = ["only", "list", "init", "host"])]
    record: bool,
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
    /// Where the report goes: `target/matrix` unless a test says.
    #[arg(skip)]
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
}

/// Entry point from `xtask/src/main.rs`; returns the exit status.
pub(crate) fn main(opts: Args) -> Status {
    // Before any thread starts, so that they all inherit the mask.
    child::handle_signals();
    let result = run(&opts);
    child::stop_if_cancelled();
    match result
        .and_then(|(status, json)| against_recorded(&opts, status, &json))
    {
        Ok(status) => status,
        Err(e) => {
            eprintln!("matrix: {e}");
            Status::CannotRun
        }
    }
}

use crate::{target_dir, workspace};

/// `--record`: writes the book's copy of a complete report. Otherwise
/// compares with it; a change turns exit status 0 into 4.
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
/// `target/matrix` and returns the exit status and the JSON report.
fn run(opts: &Args) -> Result<(Status, serde_json::Value), String> {
    let wall = Instant::now();
    let workspace = workspace();
    let cache = target_dir().join("matrix-cache");
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| target_dir().join("matrix"));
    apt::mkdir(&cache)?;
    apt::mkdir(&out.join("console"))?;
    qemu::check_installed()?;

    let list = opts
        .list
        .clone()
        .unwrap_or_else(|| workspace.join("matrix/kernels.list"));
    let text = std::fs::read_to_string(&list).map_err(|e| {
        format!(
            "cannot read {}: {e}; it lists the kernels to boot, one \
             `<suite> <package-glob>` per line",
            list.display()
        )
    })?;
    let specs: Vec<KernelSpec> = kernels::parse_list(&text)
        .map_err(|e| format!("{}: {e}", list.display()))?
        .into_iter()
        .filter(|k| {
            opts.only.is_empty()
                || opts.only.iter().any(|o| {
                    k.suite.contains(o.as_str()) || k.glob.contains(o.as_str())
                })
        })
        .collect();
    let tmp = child::TempDir::new(&cache)?;

    // Step 1: fetch kernels (per suite) while the checker builds.
    let mirror = Mirror::from_system();
    say(
        "apt",
        format!("mirror {} and {}", mirror.debian, mirror.security),
    );
    let (init, fetched) = std::thread::scope(|s| {
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
        (build.join().expect("build thread panicked"), fetched)
    });
    let init = init?;

    // Step 2: the initramfs, rebuilt each run (the checker changes).
    let initrd = tmp.path().join("initramfs.cpio");
    initramfs::write(&init, &initrd)?;

    // Step 3: boot, as many at once as there are cores.
    let first = fetched.iter().find_map(|f| f.kernel.as_ref().ok());
    let accel = match (opts.accel(), first) {
        (Some(a), _) => a,
        (None, None) => Accel::Tcg,
        (None, Some(k)) => {
            let (a, why) =
                qemu::probe_accel(&cache, &k.vmlinux(), &initrd, tmp.path());
            say("qemu", format!("accelerator {}: {why}", a.name()));
            a
        }
    };
    let mut jobs: Vec<Job> = Vec::new();
    if opts.host {
        jobs.push(Job::Host);
    }
    jobs.extend(fetched.into_iter().map(Job::Vm));
    let ctx = Ctx {
        accel,
        init: &init,
        initrd: &initrd,
        consoles: &out.join("console"),
        timeout: opts.timeout(),
    };
    let columns = run_jobs(jobs, opts.jobs(), &ctx);
    child::stop_if_cancelled();

    // Step 4: the report.
    let wall = secs(wall);
    let json = report::to_json(&columns, accel.name(), wall);
    let md = report::to_markdown(&json);
    let pretty = serde_json::to_string_pretty(&json).expect("JSON values");
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
    drop(tmp);
    let no_report = columns.iter().any(|c| c.result.is_err());
    let failed = columns.iter().any(|c| {
        c.result
            .iter()
            .flat_map(|o| &o.claims)
            .any(|r| r.outcome == "fail")
    });
    let code = if no_report || failed {
        Status::Failed
    } else {
        Status::Ok
    };
    Ok((code, json))
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
    say("host", "run natively: --format json --trace");
    let log = ctx.consoles.join("host.json");
    let t = Instant::now();
    let result = run_native(ctx.init, &log, ctx.timeout);
    let seconds = secs(t);
    say("host", format!("parse ({seconds:.1} s)"));
    Column {
        label: "host".into(),
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
    // cannot trace here (not root, lockdown) rather than "not asked".
    cmd.args(["--format", "json", "--trace"])
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

/// Boots one fetched kernel: PVH first, the bzImage if PVH showed
/// nothing at all.
fn run_vm(f: &Fetched, ctx: &Ctx<'_>) -> Column {
    let label = match &f.package {
        Some(p) => kernels::label(p).to_owned(),
        None => f.spec.glob.clone(),
    };
    let mut column = Column {
        label: label.clone(),
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
    column.result = match outcome {
        Err(e) => Err(format!("boot: {e}")),
        Ok(o) => {
            column.seconds = Some(o.seconds);
            say(&label, format!("parse (boot took {:.1} s)", o.seconds));
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
                    Err(why)
                }
            }
        }
    };
    if let Err(e) = &column.result {
        say(&label, format!("no report: {e}"));
    }
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

    /// Whether `program` runs at all.
    fn installed(program: &str) -> bool {
        std::process::Command::new(program)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok()
    }

    /// Test that one VM kernel boots the checker end to end and every
    /// claim, tracing included, holds on it: fetch (cached in
    /// `target/matrix-cache`), static build (own target dir, so no
    /// deadlock with the `cargo test` that runs this), initramfs, boot,
    /// report. 6.12 is the kernel the book quotes.
    #[test]
    fn the_book_kernel_boots_and_every_claim_holds() {
        for (program, package) in [
            (qemu::QEMU, "qemu-system-x86"),
            ("apt-get", "apt"),
            ("dpkg-deb", "dpkg"),
        ] {
            if installed(program) {
                continue;
            }
            let why = format!(
                "{program} not found; install it: apt-get install {package}"
            );
            assert!(std::env::var_os("CI").is_none(), "{why}");
            eprintln!("skipped: {why}");
            return;
        }
        let mut opts = test_args(&[]);
        opts.only = vec!["6.12.".into()];
        opts.host = false;
        opts.out = Some(target_dir().join("matrix-test"));
        let (code, json) = run(&opts).expect("the runner runs");
        let kernels = json["kernels"].as_array().expect("a kernels array");
        assert_eq!(kernels.len(), 1, "one kernel: {json:#}");
        let k = &kernels[0];
        assert_eq!(k["status"], "reported", "{k:#}");
        let claims = k["claims"].as_array().expect("claims");
        assert!(claims.len() >= 13, "{k:#}");
        for c in claims {
            assert_eq!(c["outcome"], "pass", "{c:#}");
        }
        assert_eq!(code, Status::Ok);
    }
}
