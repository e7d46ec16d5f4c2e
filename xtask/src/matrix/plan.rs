//! The matrix's plan, cut into slices: what `cargo xtask matrix` boots,
//! one entry per column of its report, so that a CI system's job
//! matrix can run each column in a job of its own
//! (`.github/workflows/ci.yml`) and `--merge` can put them together.
//!
//! A slice is the host, one line of `matrix/kernels.list`, the kernel
//! built from `matrix/kernel-source`, one mutant of `matrix/mutants/`,
//! or one `--image`. The plan lists them in the order a single run
//! reports them, and is computed from those files alone (no network,
//! no build), so that adding a kernel line or a mutant adds a slice,
//! and a job, with no other edit.
//!
//! Slice ids are what `--slice` takes and what names a slice's
//! artifact: letters, digits and `.+~_-` only (an artifact name may
//! not hold `*`, `/` or `:`).

use std::io::Write;
use std::path::{Path, PathBuf};

use exit_status::Status;
use serde::Serialize;

use super::Args;
use super::fetch::{CachedKernel, Fetched};
use super::kernels::{self, KernelSpec};
use super::report::{KernelKind, KernelRun};
use super::source::{self, Built, Mutant, Pin};

/// What one slice runs.
#[derive(Debug, Clone)]
pub(crate) enum Part {
    /// The checker natively on the machine that runs the slice.
    Host,
    /// The newest package a line of the kernel list names.
    Debian(KernelSpec),
    /// The kernel built from `matrix/kernel-source`.
    Source,
    /// That kernel with one patch of `matrix/mutants/`.
    Mutant(Mutant),
    /// A kernel image named with `--image`.
    Image(PathBuf),
}

/// One column of the matrix, as a unit of work.
#[derive(Debug, Clone)]
pub(crate) struct Slice {
    pub(crate) id: String,
    pub(crate) part: Part,
}

impl Part {
    /// The column this part gives before anything ran: labelled as
    /// the report labels a kernel it could not have.
    pub(crate) fn column(&self) -> KernelRun {
        match self {
            Part::Host => KernelRun::new("host", KernelKind::Host),
            Part::Debian(spec) => {
                let mut k = KernelRun::new(&spec.glob, KernelKind::Debian);
                k.suite = Some(spec.suite.clone());
                k
            }
            Part::Source => KernelRun::new("source", KernelKind::Source),
            Part::Mutant(m) => KernelRun::mutant(&m.name, &m.breaks),
            Part::Image(path) => {
                let name = path.file_name().unwrap_or(path.as_os_str());
                KernelRun::new(name.to_string_lossy(), KernelKind::Image)
            }
        }
    }
}

impl Slice {
    /// Whether the slice boots the kernel built from source (so a CI
    /// job for it needs that build first).
    pub(crate) fn needs_source_build(&self) -> bool {
        matches!(self.part, Part::Source | Part::Mutant(_))
    }

    /// A name that says which kernel, for a CI job's title.
    pub(crate) fn name(&self, pin: Option<&Pin>) -> String {
        let built = match pin {
            Some(pin) => format!("{} {}", pin.package, pin.version),
            None => format!("the source of {}", source::PIN),
        };
        match &self.part {
            Part::Host => "host: the runner's own kernel, natively".into(),
            Part::Debian(spec) => format!("{} {}", spec.suite, spec.glob),
            Part::Source => format!("{built}, built from source"),
            Part::Mutant(m) => format!("mutant {} of {built}", m.name),
            Part::Image(path) => format!("image {}", path.display()),
        }
    }
}

/// The plan of a run with these options: `--no-host`, `--no-debian`,
/// `--kernel`, `--list`, `--no-source`, `--mutants` and `--image`
/// shape it as they shape a single run.
pub(crate) fn plan(opts: &Args) -> Result<Vec<Slice>, String> {
    let workspace = crate::workspace();
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
        .filter(|_| opts.debian)
        .filter(|k| {
            opts.only.is_empty()
                || opts.only.iter().any(|o| {
                    k.suite.contains(o.as_str()) || k.glob.contains(o.as_str())
                })
        })
        .collect();
    let mutants = match opts.source {
        true => Mutant::all(&source::mutants_dir(opts.mutants.as_deref()))?,
        false => Vec::new(),
    };
    let mut parts = Vec::new();
    if opts.host {
        parts.push(Part::Host);
    }
    parts.extend(specs.into_iter().map(Part::Debian));
    if opts.source {
        parts.push(Part::Source);
        parts.extend(mutants.into_iter().map(Part::Mutant));
    }
    parts.extend(opts.images.iter().cloned().map(Part::Image));
    Ok(with_ids(parts))
}

/// Gives each part its id; a second part with the same id (two images
/// of one file name) gets `-2`, and so on.
fn with_ids(parts: Vec<Part>) -> Vec<Slice> {
    let mut slices: Vec<Slice> = Vec::new();
    for part in parts {
        let base = match &part {
            Part::Host => "host".to_owned(),
            Part::Debian(spec) => {
                // `linux-image-6.1.0-*-cloud-amd64` -> `6.1.0-x-cloud-amd64`
                format!("debian-{}", kernels::label(&spec.glob))
                    .replace('*', "x")
            }
            Part::Source => "source".to_owned(),
            Part::Mutant(m) => format!("mutant-{}", m.name),
            Part::Image(path) => {
                let name = path.file_name().unwrap_or(path.as_os_str());
                format!("image-{}", name.to_string_lossy())
            }
        };
        let base = safe(&base);
        let mut id = base.clone();
        let mut n = 1;
        while slices.iter().any(|s| s.id == id) {
            n += 1;
            id = format!("{base}-{n}");
        }
        slices.push(Slice { id, part });
    }
    slices
}

/// `text` with every character an artifact name or a shell word would
/// trip on replaced by `_`.
fn safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() => c,
            '.' | '+' | '~' | '_' | '-' => c,
            _ => '_',
        })
        .collect()
}

/// One slice as `--slices` prints it, for a CI workflow's job matrix.
#[derive(Debug, PartialEq, Serialize)]
struct SliceEntry {
    id: String,
    kind: KernelKind,
    /// Which kernel, for the job's title.
    name: String,
    /// Whether the job needs the kernel built from source first.
    source_build: bool,
}

/// The entries of `slices`; `pin` names the source-built kernel.
fn entries(slices: &[Slice], pin: Option<&Pin>) -> Vec<SliceEntry> {
    (slices.iter())
        .map(|s| SliceEntry {
            id: s.id.clone(),
            kind: s.part.column().kind,
            name: s.name(pin),
            source_build: s.needs_source_build(),
        })
        .collect()
}

/// `--slices`: the plan as one line of JSON on stdout.
pub(crate) fn print(opts: &Args) -> Status {
    let plan = match plan(opts) {
        Ok(plan) => plan,
        Err(why) => {
            eprintln!("matrix: {why}");
            return Status::CannotRun;
        }
    };
    // The pinned source, for names; the run that needs it says why it
    // cannot be read.
    let pin = std::fs::read_to_string(crate::workspace().join(source::PIN))
        .ok()
        .and_then(|text| Pin::parse(&text).ok());
    let line = serde_json::to_string(&entries(&plan, pin.as_ref()))
        .expect("slices serialize");
    let mut stdout = std::io::stdout().lock();
    let written = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
    exit_status::after_write("matrix", written).unwrap_or(Status::Ok)
}

/// One column's boot, as planned once the kernels are at hand.
#[derive(Debug)]
pub(crate) struct BootJob {
    /// The column, with what is known before the boot.
    pub(crate) column: KernelRun,
    pub(crate) target: BootTarget,
}

/// What a column boots.
#[derive(Debug)]
pub(crate) enum BootTarget {
    /// The checker natively, on this machine.
    Host,
    /// A kernel of the kernel list, fetched.
    Debian(CachedKernel),
    /// A kernel image of ours or the user's: booted as it is.
    Image(PathBuf),
    /// Nothing: the column's status says why.
    Nothing,
}

/// The boots of `plan`, in its order (which `--merge` follows too),
/// from the kernels fetched and built for it.
pub(crate) fn boot_jobs(
    plan: &[Slice],
    mut fetched: Vec<Fetched>,
    built: Option<Result<Built, String>>,
) -> Vec<BootJob> {
    let version = built.as_ref().and_then(|b| b.as_ref().ok());
    let version = version.map(|b| b.pin.version.clone());
    let mut jobs = Vec::new();
    for slice in plan {
        let mut column = slice.part.column();
        let target = match (&slice.part, &built) {
            (Part::Host, _) => Ok(BootTarget::Host),
            (Part::Debian(spec), _) => {
                let at = fetched.iter().position(|f| f.spec == *spec);
                let f = fetched.remove(at.expect("a fetch per line"));
                if let Some(package) = &f.package {
                    column.label = kernels::label(package).to_owned();
                }
                column.package = f.package;
                column.version =
                    f.kernel.as_ref().ok().map(|k| k.version.clone());
                f.kernel.map(BootTarget::Debian)
            }
            (Part::Image(path), _) => Ok(BootTarget::Image(path.clone())),
            // Without the base kernel there is no mutant either: each
            // gets a column that says so, so that none goes unnamed.
            (_, Some(Err(e))) => Err(format!("kernel build: {e}")),
            (_, None) => Err("kernel build: not run".to_owned()),
            (Part::Source, Some(Ok(b))) => {
                Ok(BootTarget::Image(b.vmlinux.clone()))
            }
            (Part::Mutant(m), Some(Ok(b))) => {
                let (_, vmlinux) = (b.mutants.iter())
                    .find(|(built, _)| built.name == m.name)
                    .expect("every planned mutant is built");
                (vmlinux.clone())
                    .map(BootTarget::Image)
                    .map_err(|why| format!("mutant build: {why}"))
            }
        };
        if let (Part::Source | Part::Mutant(_), Ok(_)) = (&slice.part, &target)
        {
            column.version = version.clone();
        }
        let target = target.unwrap_or_else(|why| {
            column.set_failed(why);
            BootTarget::Nothing
        });
        jobs.push(BootJob { column, target });
    }
    jobs
}

/// Where a slice's report goes unless `--out` says: beside the single
/// run's, under `slices/<id>`.
pub(crate) fn default_out(target: &Path, id: &str) -> PathBuf {
    target.join("matrix").join("slices").join(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(suite: &str, glob: &str, line: usize) -> KernelSpec {
        KernelSpec {
            suite: suite.into(),
            glob: glob.into(),
            line,
        }
    }

    fn mutant(name: &str) -> Mutant {
        Mutant {
            name: name.into(),
            patch: PathBuf::from(format!("{name}.patch")),
            breaks: vec!["a_claim".into()],
        }
    }

    #[test]
    fn ids_name_the_kernel_and_are_safe_for_artifact_names() {
        let slices = with_ids(vec![
            Part::Host,
            Part::Debian(spec("s", "linux-image-6.1.0-*-cloud-amd64", 2)),
            Part::Debian(spec("t", "linux-binary-7.*+deb13-cloud-amd64", 3)),
            Part::Source,
            Part::Mutant(mutant("next-tgid-keeps-threads")),
            Part::Image(PathBuf::from("/boot/vmlinuz-6.8: new")),
        ]);
        let ids: Vec<&str> = slices.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "host",
                "debian-6.1.0-x-cloud-amd64",
                "debian-7.x+deb13-cloud-amd64",
                "source",
                "mutant-next-tgid-keeps-threads",
                "image-vmlinuz-6.8__new",
            ]
        );
    }

    #[test]
    fn a_repeated_id_gets_a_number() {
        let slices = with_ids(vec![
            Part::Debian(spec("bookworm", "linux-image-*", 1)),
            Part::Debian(spec("trixie", "linux-image-*", 2)),
            Part::Image(PathBuf::from("a/vmlinux")),
            Part::Image(PathBuf::from("b/vmlinux")),
        ]);
        let ids: Vec<&str> = slices.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            ["debian-x", "debian-x-2", "image-vmlinux", "image-vmlinux-2"]
        );
    }

    #[test]
    fn the_json_says_which_kernel_and_which_need_the_source_build() {
        let pin = Pin {
            suite: "trixie-backports".into(),
            package: "linux-source-7.3".into(),
            version: "7.3.4-1~bpo13+1".into(),
        };
        let slices = with_ids(vec![
            Part::Debian(spec("bookworm-security", "linux-image-6.1.0-*", 4)),
            Part::Mutant(mutant("m")),
        ]);
        assert_eq!(
            serde_json::to_value(entries(&slices, Some(&pin))).unwrap(),
            serde_json::json!([
                {"id": "debian-6.1.0-x", "kind": "debian",
                 "name": "bookworm-security linux-image-6.1.0-*",
                 "source_build": false},
                {"id": "mutant-m", "kind": "mutant",
                 "name": "mutant m of linux-source-7.3 7.3.4-1~bpo13+1",
                 "source_build": true},
            ])
        );
    }
}
