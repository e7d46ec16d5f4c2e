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

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::kernels::{self, KernelSpec};
use super::source::{self, Mutant, Pin};
use super::{Args, apt};

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

impl Slice {
    /// The report's `kind` of the column this slice gives.
    pub(crate) fn kind(&self) -> &'static str {
        match self.part {
            Part::Host => "host",
            Part::Debian(_) => "debian",
            Part::Source => "source",
            Part::Mutant(_) => "mutant",
            Part::Image(_) => "image",
        }
    }

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
        true => Mutant::all(
            &opts
                .mutants
                .clone()
                .unwrap_or(workspace.join(source::MUTANTS)),
        )?,
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

/// The pinned source, for names; `None` if the pin cannot be read
/// (the run that needs it says why).
pub(crate) fn pin() -> Option<Pin> {
    let text = apt::read(&crate::workspace().join(source::PIN)).ok()?;
    Pin::parse(&String::from_utf8_lossy(&text)).ok()
}

/// The plan as JSON, one object per slice: what `--slices` prints and
/// a CI workflow turns into its job matrix.
pub(crate) fn to_json(slices: &[Slice], pin: Option<&Pin>) -> Value {
    let list: Vec<Value> = slices
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "kind": s.kind(),
                "name": s.name(pin),
                "source_build": s.needs_source_build(),
            })
        })
        .collect();
    Value::Array(list)
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
            to_json(&slices, Some(&pin)),
            json!([
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
