//! Fetching Debian kernel packages through a private apt configuration.
//!
//! Each suite gets its own apt "root" under the cache
//! (`target/matrix-cache/apt/<suite>/`): a generated `apt.conf`, passed
//! as `APT_CONFIG`, points every `Dir::` setting there, so `apt-get
//! update` and `apt-get download` work for any suite, without root, and
//! `/etc/apt` and `/var/lib/apt` are never touched. One root per suite
//! also makes "the package names of this suite" a plain `apt-cache
//! pkgnames` query.
//!
//! The mirror is the one this machine already uses, read from
//! `/etc/apt/sources.list*` at run time.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use super::{child, vmlinux};

/// The Debian archive key ring (package `debian-archive-keyring`); it
/// holds the keys of the current, previous and next releases.
const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

/// How old a suite's package lists may get before `apt-get update`.
const LISTS_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// The Debian mirror: the main archive and the security archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mirror {
    pub(crate) debian: String,
    pub(crate) security: String,
}

impl Mirror {
    /// Reads the mirror from this machine's apt sources.
    pub(crate) fn from_system() -> Mirror {
        let mut uris = Vec::new();
        let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
        if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
            let mut more: Vec<PathBuf> =
                dir.flatten().map(|e| e.path()).collect();
            more.sort();
            files.extend(more);
        }
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            match file.extension().and_then(|e| e.to_str()) {
                Some("sources") => uris.extend(deb822_uris(&text)),
                Some("list") => uris.extend(one_line_uris(&text)),
                _ => {}
            }
        }
        pick_mirror(&uris)
    }

    /// The archive that carries `suite`.
    fn uri_for(&self, suite: &str) -> &str {
        if suite.ends_with("-security") {
            &self.security
        } else {
            &self.debian
        }
    }
}

/// URIs of `deb` entries in one-line-style sources (`sources.list`).
pub(crate) fn one_line_uris(text: &str) -> Vec<String> {
    let mut uris = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some(rest) = line.strip_prefix("deb ") else {
            continue;
        };
        let mut rest = rest.trim_start();
        // Skip `[ option=value ... ]`.
        if rest.starts_with('[') {
            match rest.find(']') {
                Some(end) => rest = rest[end + 1..].trim_start(),
                None => continue,
            }
        }
        if let Some(uri) = rest.split_whitespace().next() {
            uris.push(uri.to_owned());
        }
    }
    uris
}

/// URIs of enabled `deb` stanzas in deb822-style sources (`*.sources`).
pub(crate) fn deb822_uris(text: &str) -> Vec<String> {
    let mut uris = Vec::new();
    for stanza in text.split("\n\n") {
        let field = |name: &str| {
            stanza.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
            })
        };
        let is_deb = field("Types")
            .is_some_and(|t| t.split_whitespace().any(|t| t == "deb"));
        let enabled = field("Enabled").is_none_or(|e| e != "no");
        if is_deb && enabled {
            let list = field("URIs").unwrap_or("").split_whitespace();
            uris.extend(list.map(str::to_owned));
        }
    }
    uris
}

/// Picks the Debian archive (`.../debian`) and security archive
/// (`.../debian-security`) among `uris`; `deb.debian.org` if none.
pub(crate) fn pick_mirror(uris: &[String]) -> Mirror {
    let find = |suffix: &str| {
        uris.iter()
            .map(|u| u.trim_end_matches('/'))
            .find(|u| u.ends_with(suffix))
            .map(str::to_owned)
    };
    let debian = find("/debian")
        .unwrap_or_else(|| "http://deb.debian.org/debian".to_owned());
    let security = find("/debian-security")
        .unwrap_or_else(|| format!("{debian}-security"));
    Mirror { debian, security }
}

/// A private apt configuration for one suite.
#[derive(Debug)]
pub(crate) struct AptRoot {
    pub(crate) suite: String,
    dir: PathBuf,
}

impl AptRoot {
    /// Creates (or refreshes) the configuration under
    /// `<cache>/apt/<suite>/`.
    pub(crate) fn new(
        cache: &Path,
        suite: &str,
        mirror: &Mirror,
    ) -> Result<AptRoot, String> {
        if !Path::new(KEYRING).exists() {
            return Err(format!(
                "{KEYRING} is missing; install it: \
                 apt-get install debian-archive-keyring"
            ));
        }
        let dir = cache.join("apt").join(suite);
        for sub in [
            "etc/apt.conf.d",
            "etc/sources.list.d",
            "etc/preferences.d",
            "etc/trusted.gpg.d",
            "state/lists/partial",
            "cache/archives/partial",
            "log",
        ] {
            mkdir(&dir.join(sub))?;
        }
        let sources = format!(
            "deb [signed-by={KEYRING}] {} {suite} main\n",
            mirror.uri_for(suite)
        );
        let d = dir.display();
        // Dir::Etc moves apt.conf.d too, so the host's settings (and
        // its post-update hooks) stay out; the empty status file makes
        // the host's installed packages irrelevant.
        let conf = format!(
            "// Generated by `cargo xtask matrix`; rewritten every run.\n\
             Dir::Etc \"{d}/etc\";\n\
             Dir::State \"{d}/state\";\n\
             Dir::State::status \"{d}/state/status\";\n\
             Dir::Cache \"{d}/cache\";\n\
             Dir::Log \"{d}/log\";\n\
             APT::Architecture \"amd64\";\n\
             APT::Architectures {{ \"amd64\"; }};\n\
             Acquire::Languages \"none\";\n\
             Acquire::GzipIndexes \"true\";\n\
             // The _apt user cannot write into a workspace.\n\
             APT::Sandbox::User \"root\";\n"
        );
        write(&dir.join("etc/sources.list"), sources.as_bytes())?;
        write(&dir.join("state/status"), b"")?;
        write(&dir.join("apt.conf"), conf.as_bytes())?;
        Ok(AptRoot {
            suite: suite.to_owned(),
            dir,
        })
    }

    /// This root's lock, held while apt-get writes into it.
    fn lock(&self) -> Result<nix::fcntl::Flock<std::fs::File>, String> {
        child::lock_file(&self.dir.join("xtask.lock"), || {
            eprintln!(
                "matrix: [{}] another process runs apt-get here; waiting",
                self.suite
            )
        })
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("APT_CONFIG", self.dir.join("apt.conf"));
        cmd
    }

    /// Runs `apt-get update` if the lists are missing, older than a
    /// day, or `force`d. Returns whether it ran. A failed update with
    /// older lists at hand is a warning, so the matrix runs offline.
    pub(crate) fn update(&self, force: bool) -> Result<bool, String> {
        // One update at a time: the kernel build and the suite's fetch
        // share a suite's lists, and a second `apt-get update` on them
        // fails at once on their lock ("Could not get lock"). The one
        // that waited then finds the lists fresh.
        static UPDATING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one = UPDATING.lock().unwrap_or_else(|e| e.into_inner());
        // And one across processes: the slices of a fanned-out matrix.
        let _ours = self.lock()?;
        let stamp = self.dir.join("state/updated");
        let age = std::fs::metadata(&stamp)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok());
        if !force && age.is_some_and(|a| a < LISTS_MAX_AGE) {
            return Ok(false);
        }
        let mut cmd = self.command("apt-get");
        cmd.args(["-q", "update"]);
        match child::run_ok(&mut cmd) {
            Ok(_) => {
                write(&stamp, b"")?;
                Ok(true)
            }
            Err(e) if age.is_some() => {
                eprintln!(
                    "matrix: [{}] warning: apt-get update failed, using \
                     the lists of an earlier run: {e}",
                    self.suite
                );
                Ok(false)
            }
            Err(e) => Err(format!(
                "{e}\n(private apt config: {}; check the network, or \
                 that the suite exists on the mirror)",
                self.dir.join("apt.conf").display()
            )),
        }
    }

    /// Every package name of the suite starting with `prefix`.
    pub(crate) fn package_names(
        &self,
        prefix: &str,
    ) -> Result<Vec<String>, String> {
        let mut cmd = self.command("apt-cache");
        cmd.args(["pkgnames", prefix]);
        let out = child::run_ok(&mut cmd)?;
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(text.lines().map(str::to_owned).collect())
    }

    /// Downloads `package` into `dir`; returns the `.deb`'s path.
    pub(crate) fn download(
        &self,
        package: &str,
        dir: &Path,
    ) -> Result<PathBuf, String> {
        self.download_spec(package, package, dir)
    }

    /// Downloads `version` of `package` into `dir`.
    pub(crate) fn download_version(
        &self,
        package: &str,
        version: &str,
        dir: &Path,
    ) -> Result<PathBuf, String> {
        self.download_spec(&format!("{package}={version}"), package, dir)
    }

    fn download_spec(
        &self,
        spec: &str,
        package: &str,
        dir: &Path,
    ) -> Result<PathBuf, String> {
        let mut cmd = self.command("apt-get");
        cmd.args(["-q", "download", spec]).current_dir(dir);
        {
            let _ours = self.lock()?;
            child::run_ok(&mut cmd)?;
        }
        let prefix = format!("{package}_");
        std::fs::read_dir(dir)
            .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.starts_with(&prefix) && n.ends_with(".deb")
                })
            })
            .ok_or_else(|| {
                format!(
                    "apt-get download left no {prefix}*.deb in {}",
                    dir.display()
                )
            })
    }
}

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

/// Unpacks `deb` under `work`, decompresses its kernel, and moves
/// `vmlinuz`, `vmlinux` and `version` into the cache in one rename, so
/// an interrupted run never leaves half a kernel there.
pub(crate) fn unpack_kernel(
    deb: &Path,
    package: &str,
    work: &Path,
    cache: &Path,
) -> Result<CachedKernel, String> {
    let tree = work.join(format!("deb-{package}"));
    let mut cmd = Command::new("dpkg-deb");
    cmd.arg("-x").arg(deb).arg(&tree);
    child::run_ok(&mut cmd)?;
    let vmlinuz = find_vmlinuz(&tree).ok_or_else(|| {
        format!(
            "no vmlinuz* under {} (from {}); does the package hold the \
             kernel image? From 7.x it is in linux-binary-*",
            tree.display(),
            deb.display()
        )
    })?;
    let image = read(&vmlinuz)?;
    let elf = vmlinux::extract(&image)
        .map_err(|e| format!("{}: {e}", vmlinuz.display()))?;
    let staged = work.join(format!("kernel-{package}"));
    mkdir(&staged)?;
    write(&staged.join("vmlinuz"), &image)?;
    write(&staged.join("vmlinux"), &elf)?;
    let version = deb_version(deb).unwrap_or_default();
    write(&staged.join("version"), version.as_bytes())?;
    let _ = std::fs::remove_dir_all(&tree);
    let dest = cache.join("kernels").join(package);
    mkdir(&cache.join("kernels"))?;
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
pub(crate) fn deb_version(deb: &Path) -> Option<String> {
    let name = deb.file_name()?.to_str()?;
    let version = name.strip_suffix(".deb")?.split('_').nth(1)?;
    Some(version.replace("%3a", ":"))
}

pub(crate) fn mkdir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| {
        format!("cannot create {}: {e}; is it writable?", dir.display())
    })
}

pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_sources_skip_options_comments_and_deb_src() {
        let text = "# comment\n\
            deb [signed-by=/k.gpg arch=amd64] http://m.example/debian \
            bookworm main\n\
            deb-src http://src.example/debian bookworm main\n\
            deb https://packages.cloud.google.com/apt cloud-sdk main\n";
        assert_eq!(
            one_line_uris(text),
            [
                "http://m.example/debian",
                "https://packages.cloud.google.com/apt"
            ]
        );
    }

    #[test]
    fn deb822_sources_respect_types_and_enabled() {
        let text = "Types: deb\n\
            URIs: http://deb.debian.org/debian\n\
            Suites: bookworm\n\n\
            Types: deb\n\
            URIs: http://deb.debian.org/debian-security/\n\
            Suites: bookworm-security\n\n\
            Types: deb-src\n\
            URIs: http://src.example/debian\n\n\
            Types: deb\n\
            Enabled: no\n\
            URIs: http://off.example/debian\n";
        assert_eq!(
            deb822_uris(text),
            [
                "http://deb.debian.org/debian",
                "http://deb.debian.org/debian-security/"
            ]
        );
    }

    #[test]
    fn mirror_picks_debian_archives_or_derives_or_defaults() {
        let uris = [
            "https://deb.nodesource.com/node_20.x".to_owned(),
            "http://m.example/debian/".to_owned(),
            "http://m.example/debian-security".to_owned(),
        ];
        let m = pick_mirror(&uris);
        assert_eq!(m.debian, "http://m.example/debian");
        assert_eq!(m.security, "http://m.example/debian-security");
        assert_eq!(m.uri_for("bookworm-security"), m.security);
        assert_eq!(m.uri_for("trixie-backports"), m.debian);
        let m = pick_mirror(&uris[1..2]);
        assert_eq!(m.security, "http://m.example/debian-security");
        let m = pick_mirror(&[]);
        assert_eq!(m.debian, "http://deb.debian.org/debian");
    }

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
