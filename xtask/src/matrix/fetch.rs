//! The kernels of the kernel list, fetched: per line, the newest
//! package of its suite that matches, downloaded through the private
//! apt configuration ([`crate::debian`]) and kept in
//! `<target>/matrix-cache/kernels/<package>/` as the `vmlinuz` the
//! package holds and the ELF `vmlinux` decompressed from it
//! ([`super::vmlinux`]).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use super::kernels::{self, KernelSpec};
use super::{say, secs, vmlinux};
use crate::debian::AptRoot;
use crate::{child, files};

/// A kernel as kept in the cache: `<cache>/kernels/<package>/`.
#[derive(Debug, Clone)]
pub(crate) struct CachedKernel {
    pub(crate) dir: PathBuf,
    /// The Debian package version, e.g. `6.1.192-2`.
    pub(crate) version: String,
}

impl CachedKernel {
    pub(crate) fn vmlinux(&self) -> PathBuf {
        self.dir.join("vmlinux")
    }
    pub(crate) fn vmlinuz(&self) -> PathBuf {
        self.dir.join("vmlinuz")
    }

    /// The cached kernel for `package`, if an earlier run made it.
    pub(crate) fn find(cache: &Path, package: &str) -> Option<CachedKernel> {
        let dir = cache.join("kernels").join(package);
        let version = std::fs::read_to_string(dir.join("version")).ok()?;
        Some(CachedKernel {
            dir,
            version: version.trim().to_owned(),
        })
    }
}

/// A kernel line after the fetch.
#[derive(Debug)]
pub(crate) struct Fetched {
    pub(crate) spec: KernelSpec,
    pub(crate) package: Option<String>,
    pub(crate) kernel: Result<CachedKernel, String>,
}

/// Updates one suite's lists, then resolves and fetches its kernels.
pub(crate) fn fetch_suite(
    suite: &str,
    specs: &[KernelSpec],
    (cache, tmp): (&Path, &Path),
    refresh: bool,
) -> Vec<Fetched> {
    let mine = specs.iter().filter(|k| k.suite == suite);
    let root = AptRoot::open(suite, "matrix")
        .and_then(|root| root.update(refresh).map(|()| root));
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
            Ok(p) => fetch_kernel(&root, p, cache, tmp),
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
fn fetch_kernel(
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
    files::mkdir(&dir)?;
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
    let kernel = unpack_kernel(&deb, package, &dir, cache)?;
    let _ = std::fs::remove_dir_all(&dir);
    say(label, format!("extract: done in {:.1} s", secs(t)));
    Ok(kernel)
}

/// Unpacks `deb` under `work`, decompresses its kernel, and moves
/// `vmlinuz`, `vmlinux` and `version` into the cache in one rename, so
/// an interrupted run never leaves half a kernel there.
fn unpack_kernel(
    deb: &Path,
    package: &str,
    work: &Path,
    cache: &Path,
) -> Result<CachedKernel, String> {
    let tree = work.join(format!("deb-{package}"));
    let mut cmd = Command::new("dpkg-deb");
    child::run_ok(cmd.arg("-x").arg(deb).arg(&tree))?;
    let vmlinuz = find_vmlinuz(&tree).ok_or_else(|| {
        format!(
            "no vmlinuz* under {} (from {}); does the package hold the \
             kernel image? From 7.x it is in linux-binary-*",
            tree.display(),
            deb.display()
        )
    })?;
    let image = files::read(&vmlinuz)?;
    let elf = vmlinux::extract(&image)
        .map_err(|e| format!("{}: {e}", vmlinuz.display()))?;
    let staged = work.join(format!("kernel-{package}"));
    files::mkdir(&staged)?;
    files::write(&staged.join("vmlinuz"), &image)?;
    files::write(&staged.join("vmlinux"), &elf)?;
    let version = deb_version(deb).unwrap_or_default();
    files::write(&staged.join("version"), version.as_bytes())?;
    let _ = std::fs::remove_dir_all(&tree);
    let dest = cache.join("kernels").join(package);
    files::mkdir(&cache.join("kernels"))?;
    let _ = std::fs::remove_dir_all(&dest);
    std::fs::rename(&staged, &dest).map_err(|e| {
        format!(
            "cannot move {} to {}: {e}",
            staged.display(),
            dest.display()
        )
    })?;
    Ok(CachedKernel { dir: dest, version })
}

/// Finds `boot/vmlinuz-*` (up to 6.x) or `usr/lib/modules/*/vmlinuz`
/// (7.x `linux-binary-*`).
fn find_vmlinuz(root: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(root).ok()?;
    let mut dirs = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let ty = entry.file_type().ok()?;
        let name = entry.file_name();
        if ty.is_file() && name.to_string_lossy().starts_with("vmlinuz") {
            return Some(path);
        }
        if ty.is_dir() {
            dirs.push(path);
        }
    }
    dirs.iter().find_map(|d| find_vmlinuz(d))
}

/// The version in a `name_version_arch.deb` file name (`%3a` is `:`).
fn deb_version(deb: &Path) -> Option<String> {
    let name = deb.file_name()?.to_str()?;
    let version = name.strip_suffix(".deb")?.split('_').nth(1)?;
    Some(version.replace("%3a", ":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deb_version_is_the_middle_field() {
        let deb = Path::new(
            "/x/linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb",
        );
        assert_eq!(deb_version(deb).as_deref(), Some("6.1.192-2"));
        let deb = Path::new("p_1%3a2.0-1_all.deb");
        assert_eq!(deb_version(deb).as_deref(), Some("1:2.0-1"));
    }
}
