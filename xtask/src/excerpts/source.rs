//! Getting the kernel source that the book's excerpts quote: Debian's
//! `linux-source-*` packages, fetched with apt into a cache under the
//! workspace's `target/` directory (the book's kernel excerpts).
//!
//! The package is a 150 MB `.deb` holding one `.tar.xz` of the whole
//! tree. We keep the unpacked tarball, and from it extract only the files
//! the excerpts name (plus the top `Makefile`, which says the version):
//! a few hundred kilobytes instead of 1.5 GB of tree. Later runs find
//! those files and touch neither apt nor tar.
//!
//! Why apt and not kernel.org: the only network this project's machines
//! have is a package registry, and Debian's tree is what Debian's kernels
//! are built from, patches included.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A kernel tree we can fetch: one Debian source package, pinned to one
/// version so that the check means the same thing next year.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tree {
    /// The Debian package, also the top directory inside its tarball.
    pub(crate) package: &'static str,
    /// The exact Debian version to download.
    pub(crate) deb_version: &'static str,
    /// The kernel version the tree's Makefile states.
    pub(crate) kernel: &'static str,
}

impl Tree {
    /// `Linux 6.12.117 (Debian linux-source-6.12)`, for messages.
    pub(crate) fn release(&self) -> String {
        format!("Linux {} (Debian {})", self.kernel, self.package)
    }
}

/// The tree the book's walkthrough quotes; every excerpt names it.
///
/// Bumping it: change these three fields, run `cargo xtask excerpts`,
/// and fix what it reports (usually only line numbers move).
pub(crate) const PINNED: Tree = Tree {
    package: "linux-source-6.12",
    deb_version: "6.12.117-1~deb12u1",
    kernel: "6.12.117",
};

/// The previous Debian stable kernel, for the locations table only.
pub(crate) const OLDER: Tree = Tree {
    package: "linux-source-6.1",
    deb_version: "6.1.192-2",
    kernel: "6.1.192",
};

/// Why the source could not be had.
#[derive(Debug)]
pub(crate) enum SourceError {
    /// This machine cannot provide the source (no apt, package not in
    /// the apt sources): not a verdict on the excerpts. Skipped (4).
    Unavailable(String),
    /// An excerpt of the book is broken (a bad header, the wrong
    /// release): the book's fault. Failed (1).
    Malformed(String),
    /// Something that should have worked did not. Could not run (3).
    Failed(String),
}

/// Makes sure `files` (paths inside the tree) of `tree` are on disk under
/// `cache`, and returns the tree's top directory.
///
/// A file the tarball does not hold is not an error here: the caller
/// reports it against the excerpt that names it.
pub(crate) fn fetch(
    tree: &Tree,
    cache: &Path,
    files: &BTreeSet<String>,
) -> Result<PathBuf, SourceError> {
    let dir = cache.join(format!("{}_{}", tree.package, tree.deb_version));
    let root = dir.join("tree").join(tree.package);
    if files.iter().all(|file| root.join(file).is_file()) {
        return Ok(root);
    }
    let tarball = unpacked_tarball(tree, &dir)?;
    // Extract into a fresh directory and swap it in only when tar is
    // done, so an interrupted run never leaves half-written files that
    // a later run would take for the kernel's.
    let fresh = dir.join("tree.new");
    remove_dir_if_present(&fresh)?;
    create_dir(&fresh)?;
    eprintln!(
        "xtask excerpts: extracting {} files from {} (a minute at most)",
        files.len(),
        tarball.display()
    );
    let members = files.iter().map(|file| format!("{}/{file}", tree.package));
    let output = Command::new("tar")
        .arg("-xJf")
        .arg(&tarball)
        .arg("-C")
        .arg(&fresh)
        .args(members)
        .output()
        .map_err(|e| missing_tool("tar", "tar xz-utils", &e))?;
    if !output.status.success() && !only_missing_members(&output.stderr) {
        return Err(SourceError::Failed(format!(
            "tar could not extract from {}: {}; delete {} and run again",
            tarball.display(),
            String::from_utf8_lossy(&output.stderr).trim(),
            dir.display()
        )));
    }
    let final_dir = dir.join("tree");
    remove_dir_if_present(&final_dir)?;
    fs::rename(&fresh, &final_dir).map_err(|e| {
        SourceError::Failed(format!(
            "cannot rename {} to {}: {e}",
            fresh.display(),
            final_dir.display()
        ))
    })?;
    Ok(root)
}

/// Whether tar failed only because some requested paths are not in the
/// archive (GNU tar still extracts the others).
fn only_missing_members(stderr: &[u8]) -> bool {
    String::from_utf8_lossy(stderr).lines().all(|line| {
        line.ends_with("Not found in archive")
            || line.contains("Exiting with failure status")
    })
}

/// The package's `.tar.xz`, downloading and unpacking the `.deb` first
/// if this cache does not hold it yet.
fn unpacked_tarball(tree: &Tree, dir: &Path) -> Result<PathBuf, SourceError> {
    let unpacked = dir.join("unpacked");
    let tarball = unpacked
        .join("usr/src")
        .join(format!("{}.tar.xz", tree.package));
    if tarball.is_file() {
        return Ok(tarball);
    }
    let download = dir.join("download");
    remove_dir_if_present(&download)?;
    create_dir(&download)?;
    let spec = format!("{}={}", tree.package, tree.deb_version);
    eprintln!(
        "xtask excerpts: apt-get download {spec} into {}",
        download.display()
    );
    let output = Command::new("apt-get")
        .args(["download", "--quiet", &spec])
        .current_dir(&download)
        .output()
        .map_err(|e| missing_tool("apt-get", "apt", &e))?;
    if !output.status.success() {
        return Err(SourceError::Unavailable(format!(
            "apt-get could not download {spec}:\n{}\n\
             this check needs a Debian or Ubuntu apt source that carries \
             {} version {} (Debian bookworm-security does); check with \
             `apt-cache policy {}` after `apt-get update`, or point the \
             check at an unpacked Linux {} tree with \
             `cargo xtask excerpts --source DIR`; if the archive has \
             dropped that version, bump the tree in \
             xtask/src/excerpts/source.rs and fix what the check reports",
            String::from_utf8_lossy(&output.stderr).trim(),
            tree.package,
            tree.deb_version,
            tree.package,
            tree.kernel
        )));
    }
    let deb = fs::read_dir(&download)
        .map_err(|e| io_failed("cannot list", &download, &e))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension() == Some(OsStr::new("deb")))
        .ok_or_else(|| {
            SourceError::Failed(format!(
                "apt-get reported success but left no .deb in {}",
                download.display()
            ))
        })?;
    remove_dir_if_present(&unpacked)?;
    let status = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(&unpacked)
        .status()
        .map_err(|e| missing_tool("dpkg-deb", "dpkg", &e))?;
    if !status.success() {
        return Err(SourceError::Failed(format!(
            "dpkg-deb -x {} failed ({status}); delete {} and run again",
            deb.display(),
            dir.display()
        )));
    }
    // The tarball now holds everything the .deb did that we need.
    remove_dir_if_present(&download)?;
    if !tarball.is_file() {
        return Err(SourceError::Failed(format!(
            "{} does not hold {}: has the package's layout changed? \
             This is a bug of xtask's, not of the excerpts",
            deb.display(),
            tarball.display()
        )));
    }
    Ok(tarball)
}

/// The error for a tool that is not installed.
fn missing_tool(
    tool: &str,
    package: &str,
    error: &std::io::Error,
) -> SourceError {
    if error.kind() == ErrorKind::NotFound {
        SourceError::Unavailable(format!(
            "`{tool}` is not installed; this check needs a Debian or \
             Ubuntu system with apt (install: {package}), or an unpacked \
             Linux {} tree given with `cargo xtask excerpts --source DIR`",
            PINNED.kernel
        ))
    } else {
        SourceError::Failed(format!("cannot run `{tool}`: {error}"))
    }
}

fn io_failed(what: &str, path: &Path, error: &std::io::Error) -> SourceError {
    SourceError::Failed(format!("{what} {}: {error}", path.display()))
}

fn create_dir(path: &Path) -> Result<(), SourceError> {
    fs::create_dir_all(path).map_err(|e| io_failed("cannot create", path, &e))
}

fn remove_dir_if_present(path: &Path) -> Result<(), SourceError> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => {
            Err(io_failed("cannot remove", path, &e))
        }
        _ => Ok(()),
    }
}
