//! A kernel built from Debian's `linux-source`, and the mutant kernels
//! built from it: `cargo xtask kernel`, and the source rows of the
//! matrix (the book's "When the kernel changes").
//!
//! The source package is pinned in `matrix/kernel-source` (a suite, a
//! package, a version), fetched through [`crate::debian`], and unpacked
//! once under
//! `<target>/kernel/<version>/src`. The configuration is `make
//! tinyconfig` plus `matrix/kernel.config`; every option the fragment
//! asks for must survive `make olddefconfig`, or the build stops naming
//! the ones that did not. The build goes into a directory keyed on the
//! version and the fragment, so a change of either builds afresh and
//! anything else reuses the `vmlinux` built before.
//!
//! A mutant is a patch of `matrix/mutants/*.patch` and the claims it
//! must break (its `Breaks:` line). It is built from a copy of the base
//! build directory with the patch applied to the one source tree, so
//! only what the patch touches is compiled again; the patched files get
//! their content and modification time back afterwards, so the base
//! build and the next mutant see the tree as it was.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::debian::LinuxSource;
use crate::{child, files};

/// The pinned source package, relative to the workspace.
pub(crate) const PIN: &str = "matrix/kernel-source";
/// The configuration fragment, relative to the workspace.
pub(crate) const FRAGMENT: &str = "matrix/kernel.config";
/// The mutants: `--mutants`, or `matrix/mutants` of the workspace.
pub(crate) fn mutants_dir(given: Option<&Path>) -> PathBuf {
    given.map_or_else(|| crate::workspace().join("matrix/mutants"), Into::into)
}

/// How often a long build says where it is.
const PROGRESS_EVERY: Duration = Duration::from_secs(15);

/// The source the pin names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pin {
    pub(crate) suite: String,
    pub(crate) package: String,
    pub(crate) version: String,
}

impl Pin {
    /// The package the pin names, for the fetcher.
    fn source(&self) -> LinuxSource<'_> {
        LinuxSource {
            suite: &self.suite,
            package: &self.package,
            version: &self.version,
        }
    }

    /// Parses the pin file: comments, then `<suite> <package> <version>`.
    pub(crate) fn parse(text: &str) -> Result<Pin, String> {
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        let line = lines.next().ok_or("no `<suite> <package> <version>`")?;
        if let Some(extra) = lines.next() {
            return Err(format!("one source only; also found `{extra}`"));
        }
        match line.split_whitespace().collect::<Vec<_>>()[..] {
            [suite, package, version]
                if package.starts_with("linux-source") =>
            {
                Ok(Pin {
                    suite: suite.into(),
                    package: package.into(),
                    version: version.into(),
                })
            }
            _ => Err(format!(
                "`{line}` is not `<suite> linux-source-<x.y> <version>`"
            )),
        }
    }
}

/// A mutant kernel: what it changes, and the claims it must break.
#[derive(Debug, Clone)]
pub(crate) struct Mutant {
    /// The patch's file name without `.patch`.
    pub(crate) name: String,
    pub(crate) patch: PathBuf,
    /// The claims the patch says it breaks.
    pub(crate) breaks: Vec<String>,
}

impl Mutant {
    /// Every `*.patch` of `dir`, by name.
    pub(crate) fn all(dir: &Path) -> Result<Vec<Mutant>, String> {
        let mut mutants = Vec::new();
        for path in files::listed(dir, "patch")? {
            let text = files::read_text(&path)?;
            let breaks = breaks(&text).ok_or_else(|| {
                format!(
                    "{} has no `Breaks: <claim> ...` line naming the claims \
                     it must break",
                    path.display()
                )
            })?;
            let name = path.file_stem().unwrap_or_default();
            mutants.push(Mutant {
                name: name.to_string_lossy().into_owned(),
                patch: path,
                breaks,
            });
        }
        mutants.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(mutants)
    }
}

/// The claims of a patch's `Breaks:` line, before the diff.
pub(crate) fn breaks(patch: &str) -> Option<Vec<String>> {
    let head = patch.split("\n--- ").next()?;
    let line = head.lines().find_map(|l| l.strip_prefix("Breaks:"))?;
    let claims: Vec<String> =
        line.split_whitespace().map(str::to_owned).collect();
    (!claims.is_empty()).then_some(claims)
}

/// The files a unified diff changes: its `+++ b/<path>` lines.
pub(crate) fn patched_files(patch: &str) -> Vec<String> {
    patch
        .lines()
        .filter_map(|l| l.strip_prefix("+++ b/"))
        .map(|p| p.split('\t').next().unwrap_or(p).to_owned())
        .collect()
}

/// FNV-1a, for cache keys that stay the same across toolchains.
pub(crate) fn fnv(parts: &[&[u8]]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.iter().chain([&0xff]) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// What [`build`] made.
#[derive(Debug, Clone)]
pub(crate) struct Built {
    pub(crate) pin: Pin,
    pub(crate) vmlinux: PathBuf,
    /// The mutants, each with its vmlinux or why it could not be built.
    pub(crate) mutants: Vec<(Mutant, Result<PathBuf, String>)>,
}

fn say(what: impl std::fmt::Display) {
    eprintln!("matrix: [kernel] {what}");
}

/// Fetches, configures and builds the pinned source (unless cached),
/// then each mutant of `mutants` (unless cached).
pub(crate) fn build(
    workspace: &Path,
    mutants: &[Mutant],
) -> Result<Built, String> {
    let pin_text = files::read(&workspace.join(PIN))?;
    let pin = Pin::parse(&String::from_utf8_lossy(&pin_text))
        .map_err(|e| format!("{PIN}: {e}"))?;
    let fragment = files::read(&workspace.join(FRAGMENT))?;
    let root = crate::target_dir().join("kernel").join(&pin.version);
    files::mkdir(&root)?;
    // One build in this tree at a time: the slices of a fanned-out
    // matrix are separate processes, and a mutant patches the one
    // source tree in place.
    let _lock = child::lock_file(&root.join("lock"), || {
        say(format!(
            "another process builds in {}; waiting",
            root.display()
        ))
    })?;
    let key = fnv(&[pin.version.as_bytes(), &fragment]);
    let base = root.join(format!("build-{key}"));
    let vmlinux = base.join("vmlinux");
    if base.join("done").is_file() && vmlinux.is_file() {
        say(format!(
            "{} {}: cached ({})",
            pin.package,
            pin.version,
            base.display()
        ));
    } else {
        // The source only when something must be built: a CI job that
        // was handed the images (CI's kernel artifact) needs none.
        let src = unpacked_source(&pin, &root)?;
        configure(&src, &base, &workspace.join(FRAGMENT))?;
        let t = Instant::now();
        say(format!(
            "building {} {} into {} (minutes; a line every {} s)",
            pin.package,
            pin.version,
            base.display(),
            PROGRESS_EVERY.as_secs()
        ));
        make(&src, &base)?;
        files::write(&base.join("done"), b"")?;
        say(format!("built in {:.0} s", t.elapsed().as_secs_f64()));
    }
    let mut built = Vec::new();
    for mutant in mutants {
        let result = build_mutant((&pin, &root), &base, &key, mutant);
        if let Err(e) = &result {
            say(format!("mutant {}: {e}", mutant.name));
        }
        built.push((mutant.clone(), result));
    }
    Ok(Built {
        pin,
        vmlinux,
        mutants: built,
    })
}

/// The unpacked source tree, fetched and unpacked unless it is there.
fn unpacked_source(pin: &Pin, root: &Path) -> Result<PathBuf, String> {
    let src = root.join("src");
    if src.join(".unpacked").is_file() {
        return Ok(src);
    }
    let t = Instant::now();
    let tarball = pin.source().tarball(root, "matrix")?;
    let _ = fs::remove_dir_all(&src);
    files::mkdir(&src)?;
    say(format!(
        "unpacking {} into {}",
        tarball.display(),
        src.display()
    ));
    pin.source().extract(&tarball, &src, &[])?;
    if !src.join("Makefile").is_file() {
        return Err(format!(
            "{} held no kernel tree ({} has no Makefile)",
            tarball.display(),
            src.display()
        ));
    }
    // The tree is all a build needs: 150 MB less to keep.
    let _ = fs::remove_file(&tarball);
    files::write(&src.join(".unpacked"), pin.version.as_bytes())?;
    say(format!("unpacked in {:.0} s", t.elapsed().as_secs_f64()));
    Ok(src)
}

/// `make tinyconfig`, the fragment, `make olddefconfig`; then every
/// option of the fragment must be in the result.
fn configure(src: &Path, build: &Path, fragment: &Path) -> Result<(), String> {
    let _ = fs::remove_dir_all(build);
    files::mkdir(build)?;
    let o = format!("O={}", build.display());
    let config_make = |target: &str| {
        child::run_ok(
            Command::new("make").arg("-C").arg(src).args([&o, target]),
        )
    };
    config_make("tinyconfig")?;
    child::run_ok(
        Command::new(src.join("scripts/kconfig/merge_config.sh"))
            .current_dir(src)
            .args(["-m", "-O"])
            .arg(build)
            .arg(build.join(".config"))
            .arg(fragment),
    )?;
    config_make("olddefconfig")?;
    let config = fs::read_to_string(build.join(".config"))
        .map_err(|e| format!("cannot read the .config: {e}"))?;
    let fragment = files::read_text(fragment)?;
    let dropped = dropped_options(&fragment, &config);
    if !dropped.is_empty() {
        return Err(format!(
            "{FRAGMENT} asks for {} but this kernel's Kconfig did not keep \
             {} (a dependency is off, or the option has another name in \
             this version); fix the fragment",
            dropped.join(", "),
            if dropped.len() == 1 { "it" } else { "them" }
        ));
    }
    Ok(())
}

/// The options of `fragment` that `config` does not have as asked.
pub(crate) fn dropped_options(fragment: &str, config: &str) -> Vec<String> {
    let has = |line: &str| config.lines().any(|l| l.trim() == line);
    fragment
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("CONFIG_"))
        .filter(|line| match line.split_once('=') {
            Some((name, "n")) => {
                !has(&format!("# {name} is not set"))
                    && config
                        .lines()
                        .any(|l| l.starts_with(&format!("{name}=")))
            }
            _ => !has(line),
        })
        .map(str::to_owned)
        .collect()
}

/// `make vmlinux` in `build`, saying every [`PROGRESS_EVERY`] how far
/// it got; the last lines of its output on failure.
fn make(src: &Path, build: &Path) -> Result<(), String> {
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let log_path = build.join("make.log");
    let mut cmd = Command::new("make");
    cmd.arg("-C")
        .arg(src)
        .arg(format!("O={}", build.display()))
        .arg(format!("-j{jobs}"))
        .arg("vmlinux")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut make =
        child::spawn(&mut cmd).map_err(|e| format!("cannot run make: {e}"))?;
    let stderr = make.take_stderr();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = stderr {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut text);
        }
        text
    });
    let mut log = Vec::new();
    let (start, mut said) = (Instant::now(), Instant::now());
    let mut compiled = 0;
    if let Some(stdout) = make.take_stdout() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.trim_start().starts_with("CC ") {
                compiled += 1;
            }
            if said.elapsed() >= PROGRESS_EVERY {
                say(format!(
                    "{compiled} files compiled in {:.0} s; now: {}",
                    start.elapsed().as_secs_f64(),
                    line.trim()
                ));
                said = Instant::now();
            }
            log.push(line);
        }
    }
    let status = make
        .wait_timeout(Duration::from_secs(3600))
        .map_err(|e| e.to_string())?;
    let errors = errors.join().unwrap_or_default();
    let _ = fs::write(&log_path, log.join("\n") + "\n" + &errors);
    match status {
        Some(status) if status.success() => Ok(()),
        _ => {
            let tail: Vec<&str> = errors.lines().rev().take(8).collect();
            Err(format!(
                "make vmlinux failed (log: {}): {}",
                log_path.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            ))
        }
    }
}

/// A mutant's vmlinux: the base build directory copied, the patch
/// applied to the tree, `make`, and the tree restored.
fn build_mutant(
    (pin, root): (&Pin, &Path),
    base: &Path,
    key: &str,
    mutant: &Mutant,
) -> Result<PathBuf, String> {
    let patch = files::read(&mutant.patch)?;
    let mkey = fnv(&[key.as_bytes(), &patch]);
    let dir = base.with_file_name(format!("mutant-{}-{mkey}", mutant.name));
    let vmlinux = dir.join("vmlinux");
    if vmlinux.is_file() {
        return Ok(vmlinux);
    }
    let src = &unpacked_source(pin, root)?;
    let t = Instant::now();
    say(format!(
        "mutant {}: building from {}",
        mutant.name,
        mutant.patch.display()
    ));
    let work = dir.with_extension("build");
    let _ = fs::remove_dir_all(&work);
    child::run_ok(Command::new("cp").arg("-a").arg(base).arg(&work))?;
    let text = String::from_utf8_lossy(&patch).into_owned();
    let saved = save(src, &patched_files(&text))?;
    let mut apply = Command::new("patch");
    apply
        .args(["-p1", "--forward", "--batch", "--no-backup-if-mismatch"])
        .arg("-i")
        .arg(&mutant.patch)
        .current_dir(src);
    let built = child::run_ok(&mut apply)
        .map_err(|e| {
            format!("the patch does not apply to {}: {e}", src.display())
        })
        .and_then(|_| make(src, &work));
    restore(saved)?;
    built?;
    files::mkdir(&dir)?;
    fs::rename(work.join("vmlinux"), &vmlinux)
        .map_err(|e| format!("cannot keep the mutant's vmlinux: {e}"))?;
    let _ = fs::remove_dir_all(&work);
    say(format!(
        "mutant {}: built in {:.0} s",
        mutant.name,
        t.elapsed().as_secs_f64()
    ));
    Ok(vmlinux)
}

/// The content and modification time of `files` of the tree.
type Saved = Vec<(PathBuf, Vec<u8>, SystemTime)>;

fn save(src: &Path, files: &[String]) -> Result<Saved, String> {
    let mut saved = Vec::new();
    for file in files {
        let path = src.join(file);
        let bytes = fs::read(&path).map_err(|e| {
            format!("the patch names {file}, not in the tree: {e}")
        })?;
        let mtime = fs::metadata(&path)
            .and_then(|m| m.modified())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        saved.push((path, bytes, mtime));
    }
    Ok(saved)
}

/// Puts the saved files back, modification times included, so that
/// no build takes them for changed.
fn restore(saved: Saved) -> Result<(), String> {
    for (path, bytes, mtime) in saved {
        fs::write(&path, bytes)
            .and_then(|()| fs::File::options().write(true).open(&path))
            .and_then(|file| file.set_modified(mtime))
            .map_err(|e| format!("cannot restore {}: {e}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pin_is_one_line_of_three_words() {
        let pin = Pin::parse(
            "# comment\ntrixie-backports linux-source-7.3 7.3.4-1~bpo13+1\n",
        )
        .unwrap();
        assert_eq!(pin.package, "linux-source-7.3");
        assert!(Pin::parse("a b\n").is_err());
        assert!(
            Pin::parse("s linux-source-7.3 v\ns linux-source-7.2 v\n")
                .is_err()
        );
        assert!(Pin::parse("s linux-image-7.3 v\n").is_err());
    }

    #[test]
    fn a_patch_names_what_it_breaks_and_what_it_changes() {
        let patch = "Make X.\n\nBreaks: a_claim b_claim\n\n\
                     --- a/fs/proc/base.c\n+++ b/fs/proc/base.c\n\
                     @@ -1 +1 @@\n";
        assert_eq!(breaks(patch).unwrap(), ["a_claim", "b_claim"]);
        assert_eq!(patched_files(patch), ["fs/proc/base.c"]);
        assert_eq!(breaks("no line\n--- a/x\n+++ b/x\n"), None);
    }

    #[test]
    fn a_dropped_option_is_named() {
        let fragment = "# c\nCONFIG_A=y\nCONFIG_B=y\nCONFIG_C=n\nCONFIG_D=n\n";
        let config = "CONFIG_A=y\n# CONFIG_C is not set\nCONFIG_D=y\n";
        assert_eq!(
            dropped_options(fragment, config),
            ["CONFIG_B=y", "CONFIG_D=n"]
        );
    }

    #[test]
    fn cache_keys_change_with_any_part() {
        assert_eq!(fnv(&[b"a", b"b"]), fnv(&[b"a", b"b"]));
        assert_ne!(fnv(&[b"a", b"b"]), fnv(&[b"ab"]));
        assert_ne!(fnv(&[b"7.3.4", b"x"]), fnv(&[b"7.3.4", b"y"]));
    }
}
