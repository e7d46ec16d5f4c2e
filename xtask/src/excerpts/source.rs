//! Getting the kernel source that the book's excerpts quote: Debian's
//! `linux-source-*` packages, fetched through [`crate::debian`] into a
//! cache under the workspace's `target/` directory (the book's kernel
//! excerpts).
//!
//! The package is a 150 MB `.deb` holding one `.tar.xz` of the whole
//! tree. We keep the tarball, and from it extract only the files the
//! excerpts name (plus the top `Makefile`, which says the version): a
//! few hundred kilobytes instead of 1.5 GB of tree. Later runs find
//! those files and touch neither apt nor tar.
//!
//! Why apt and not kernel.org: the only network this project's machines
//! have is a package registry, and Debian's tree is what Debian's kernels
//! are built from, patches included.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::debian::{FetchError, LinuxSource};

/// A kernel tree we can fetch: one Debian source package, pinned to one
/// version so that the check means the same thing next year.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KernelTree {
    /// The Debian package, in the suite that carries that version.
    pub(crate) source: LinuxSource<'static>,
    /// The kernel version the tree's Makefile states.
    pub(crate) kernel: &'static str,
}

impl KernelTree {
    /// `Linux 6.12.117 (Debian linux-source-6.12)`, for messages.
    pub(crate) fn release(&self) -> String {
        format!("Linux {} (Debian {})", self.kernel, self.source.package)
    }
}

/// The tree the book's walkthrough quotes; every excerpt names it.
///
/// Bumping it: change these fields, run `cargo xtask excerpts`, and fix
/// what it reports (usually only line numbers move).
pub(crate) const PINNED: KernelTree = KernelTree {
    source: LinuxSource {
        suite: "bookworm-security",
        package: "linux-source-6.12",
        version: "6.12.117-1~deb12u1",
    },
    kernel: "6.12.117",
};

/// The previous Debian stable kernel, for the locations table only.
pub(crate) const OLDER: KernelTree = KernelTree {
    source: LinuxSource {
        suite: "bookworm-security",
        package: "linux-source-6.1",
        version: "6.1.192-2",
    },
    kernel: "6.1.192",
};

/// Why the source could not be had.
#[derive(Debug)]
pub(crate) enum SourceError {
    /// This machine cannot provide the source (no apt, the mirror does
    /// not carry the package): not a verdict on the excerpts. Skipped
    /// (4).
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
pub(crate) fn fetch_files(
    tree: &KernelTree,
    cache: &Path,
    files: &BTreeSet<String>,
) -> Result<PathBuf, SourceError> {
    let source = &tree.source;
    let dir = cache.join(format!("{}_{}", source.package, source.version));
    let root = dir.join("tree");
    if files.iter().all(|file| root.join(file).is_file()) {
        return Ok(root);
    }
    let unavailable = |why: FetchError| match why {
        FetchError::Unavailable(why) => SourceError::Unavailable(format!(
            "{why}\nthis check needs Debian's {} {} from {}, through the \
             apt mirror this machine uses; or point it at an unpacked \
             Linux {} tree with `cargo xtask excerpts --source DIR`; if \
             the archive has dropped that version, bump the tree in \
             xtask/src/excerpts/source.rs and fix what the check reports",
            source.package, source.version, source.suite, tree.kernel
        )),
        FetchError::Failed(why) => SourceError::Failed(why),
    };
    let tarball = source
        .tarball(&dir, "xtask excerpts")
        .map_err(unavailable)?;
    // Extract into a fresh directory and swap it in only when tar is
    // done, so an interrupted run never leaves half-written files that
    // a later run would take for the kernel's.
    let fresh = dir.join("tree.new");
    let failed = |e: std::io::Error| {
        SourceError::Failed(format!("{}: {e}", dir.display()))
    };
    let _ = fs::remove_dir_all(&fresh);
    fs::create_dir_all(&fresh).map_err(failed)?;
    eprintln!(
        "xtask excerpts: extracting {} files from {} (a minute at most)",
        files.len(),
        tarball.display()
    );
    let members: Vec<String> = files.iter().cloned().collect();
    source
        .extract(&tarball, &fresh, &members)
        .map_err(unavailable)?;
    let _ = fs::remove_dir_all(&root);
    fs::rename(&fresh, &root).map_err(failed)?;
    Ok(root)
}
