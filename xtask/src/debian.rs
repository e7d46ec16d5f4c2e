//! Debian packages, fetched through a private apt configuration: the
//! one way this workspace gets Debian's files, for the kernels of the
//! matrix's list, the `linux-source` the matrix builds a kernel from,
//! and the `linux-source` the book's excerpts quote.
//!
//! Why not the system's apt: the matrix needs suites a bookworm
//! machine does not list (bullseye-security, trixie-backports), and
//! adding them would change what the machine installs. Each suite gets
//! its own apt "root" under `<target>/matrix-cache/apt/<suite>/`: a
//! generated `apt.conf`, passed as `APT_CONFIG`, points every `Dir::`
//! setting there, so `apt-get update` and `apt-get download` work for
//! any suite, without root, and `/etc/apt` and `/var/lib/apt` are never
//! touched. One root per suite also makes "the package names of this
//! suite" a plain `apt-cache pkgnames` query.
//!
//! The mirror is the one this machine already uses, read from
//! `/etc/apt/sources.list*` at run time: a package registry is the
//! only network this project's machines have.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use crate::{child, files};

/// The Debian archive key ring (package `debian-archive-keyring`); it
/// holds the keys of the current, previous and next releases.
const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

/// How old a suite's package lists may get before `apt-get update`.
const LISTS_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// Why a package could not be had.
#[derive(Debug)]
pub(crate) enum FetchError {
    /// This machine cannot get it: a tool or the archive key ring is
    /// not installed, the mirror is out of reach or does not carry it.
    Unavailable(String),
    /// Something that should have worked did not.
    Failed(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Unavailable(why) | FetchError::Failed(why) => {
                f.write_str(why)
            }
        }
    }
}

impl From<FetchError> for String {
    fn from(e: FetchError) -> String {
        e.to_string()
    }
}

fn failed(why: String) -> FetchError {
    FetchError::Failed(why)
}

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
    suite: String,
    dir: PathBuf,
    /// Who speaks in messages: `matrix`, `xtask excerpts`.
    who: &'static str,
}

impl AptRoot {
    /// Writes (or rewrites) the configuration of `suite`.
    pub(crate) fn open(
        suite: &str,
        who: &'static str,
    ) -> Result<AptRoot, FetchError> {
        if !Path::new(KEYRING).exists() {
            return Err(FetchError::Unavailable(format!(
                "{KEYRING} is missing; install it: \
                 apt-get install debian-archive-keyring"
            )));
        }
        let dir = crate::target_dir().join("matrix-cache/apt").join(suite);
        for sub in [
            "etc/apt.conf.d",
            "etc/sources.list.d",
            "etc/preferences.d",
            "etc/trusted.gpg.d",
            "state/lists/partial",
            "cache/archives/partial",
            "log",
        ] {
            files::mkdir(&dir.join(sub)).map_err(failed)?;
        }
        let sources = format!(
            "deb [signed-by={KEYRING}] {} {suite} main\n",
            Mirror::from_system().uri_for(suite)
        );
        let d = dir.display();
        // Dir::Etc moves apt.conf.d too, so the host's settings (and
        // its post-update hooks) stay out; the empty status file makes
        // the host's installed packages irrelevant.
        let conf = format!(
            "// Generated by `cargo xtask`; rewritten every run.\n\
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
        files::write(&dir.join("etc/sources.list"), sources.as_bytes())
            .and_then(|()| files::write(&dir.join("state/status"), b""))
            .and_then(|()| files::write(&dir.join("apt.conf"), conf.as_ref()))
            .map_err(failed)?;
        Ok(AptRoot {
            suite: suite.to_owned(),
            dir,
            who,
        })
    }

    fn say(&self, what: impl std::fmt::Display) {
        eprintln!("{}: [{}] {what}", self.who, self.suite);
    }

    /// This root's lock, held while apt-get writes into it: the slices
    /// of a fanned-out matrix are processes of their own.
    fn lock(&self) -> Result<nix::fcntl::Flock<std::fs::File>, FetchError> {
        child::lock_file(&self.dir.join("xtask.lock"), || {
            self.say("another process runs apt-get here; waiting")
        })
        .map_err(failed)
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("APT_CONFIG", self.dir.join("apt.conf"));
        cmd
    }

    /// Runs `apt-get update` if the lists are missing, older than a
    /// day, or `force`d. A failed update with older lists at hand is a
    /// warning, so that this works offline.
    pub(crate) fn update(&self, force: bool) -> Result<(), FetchError> {
        // One update at a time: the kernel build and the suite's fetch
        // share a suite's lists, and a second `apt-get update` on them
        // fails at once on their lock ("Could not get lock"). The one
        // that waited then finds the lists fresh.
        static UPDATING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one = UPDATING.lock().unwrap_or_else(|e| e.into_inner());
        let _ours = self.lock()?;
        let stamp = self.dir.join("state/updated");
        let age = std::fs::metadata(&stamp)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok());
        if !force && age.is_some_and(|a| a < LISTS_MAX_AGE) {
            return Ok(());
        }
        let t = std::time::Instant::now();
        let mut update = self.command("apt-get");
        // apt-get exits 0 when it could fetch no index at all (offline,
        // say), with a warning: no lists is a failed update here, so
        // that no stamp keeps the next run from trying again.
        let lists = |out: Output| match self.has_lists() {
            true => Ok(out),
            false => Err(failed(format!(
                "apt-get update fetched no package list: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))),
        };
        match run_tool(update.args(["-q", "update"]), "apt").and_then(lists) {
            Ok(_) => {
                let secs = t.elapsed().as_secs_f64();
                self.say(format!("apt-get update in {secs:.1} s"));
                files::write(&stamp, b"").map_err(failed)
            }
            Err(e) if age.is_some() => {
                self.say(format!(
                    "warning: apt-get update failed, using the lists of \
                     an earlier run: {e}"
                ));
                Ok(())
            }
            Err(e) => Err(FetchError::Unavailable(format!(
                "{e}\n(private apt config: {}; check the network, or \
                 that the suite exists on the mirror)",
                self.dir.join("apt.conf").display()
            ))),
        }
    }

    /// Whether the lists hold a suite's package index.
    fn has_lists(&self) -> bool {
        let lists = std::fs::read_dir(self.dir.join("state/lists"));
        (lists.into_iter().flatten().flatten())
            .any(|e| e.file_name().to_string_lossy().contains("_Packages"))
    }

    /// Every package name of the suite starting with `prefix`.
    pub(crate) fn package_names(
        &self,
        prefix: &str,
    ) -> Result<Vec<String>, FetchError> {
        let out = run_tool(
            self.command("apt-cache").args(["pkgnames", prefix]),
            "apt",
        )?;
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(text.lines().map(str::to_owned).collect())
    }

    /// Downloads `package` (`name` or `name=version`) into `dir`;
    /// returns the `.deb`'s path.
    pub(crate) fn download(
        &self,
        package: &str,
        dir: &Path,
    ) -> Result<PathBuf, FetchError> {
        let mut cmd = self.command("apt-get");
        cmd.args(["-q", "download", package]).current_dir(dir);
        {
            let _ours = self.lock()?;
            run_tool(&mut cmd, "apt").map_err(|e| {
                FetchError::Unavailable(format!(
                    "apt-get could not download {package} from {}: {e}",
                    self.suite
                ))
            })?;
        }
        let name = package.split('=').next().unwrap_or(package);
        let prefix = format!("{name}_");
        std::fs::read_dir(dir)
            .map_err(|e| {
                failed(format!("cannot list {}: {e}", dir.display()))
            })?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.starts_with(&prefix) && n.ends_with(".deb")
                })
            })
            .ok_or_else(|| {
                failed(format!(
                    "apt-get download left no {prefix}*.deb in {}",
                    dir.display()
                ))
            })
    }
}

/// A `linux-source-<x.y>` package at one version: the kernel tree
/// Debian builds its kernels from, patches included, as one `.tar.xz`
/// inside the `.deb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LinuxSource<'a> {
    pub(crate) suite: &'a str,
    pub(crate) package: &'a str,
    pub(crate) version: &'a str,
}

impl LinuxSource<'_> {
    /// The tree's tarball, `<dir>/<package>.tar.xz`: downloaded and
    /// taken out of its `.deb` unless an earlier run did.
    pub(crate) fn tarball(
        &self,
        dir: &Path,
        who: &'static str,
    ) -> Result<PathBuf, FetchError> {
        let tarball = dir.join(format!("{}.tar.xz", self.package));
        if tarball.is_file() {
            return Ok(tarball);
        }
        let apt = AptRoot::open(self.suite, who)?;
        apt.update(false)?;
        let work = dir.join("download");
        let _ = std::fs::remove_dir_all(&work);
        files::mkdir(&work).map_err(failed)?;
        let spec = format!("{}={}", self.package, self.version);
        apt.say(format!("apt-get download {spec}"));
        let deb = apt.download(&spec, &work)?;
        let unpacked = work.join("deb");
        let mut dpkg = Command::new("dpkg-deb");
        run_tool(dpkg.arg("-x").arg(&deb).arg(&unpacked), "dpkg")?;
        let inner =
            unpacked.join("usr/src").join(tarball.file_name().unwrap());
        std::fs::rename(&inner, &tarball).map_err(|e| {
            failed(format!(
                "{} holds no usr/src/{}.tar.xz ({e}): has the package's \
                 layout changed? This is a bug of xtask's",
                deb.display(),
                self.package
            ))
        })?;
        let _ = std::fs::remove_dir_all(&work);
        Ok(tarball)
    }

    /// Extracts `members` of the tree (paths inside it; all of it when
    /// empty) from `tarball` into `dest`, the tree's top directory
    /// dropped. A member the tree lacks is left out, not an error: the
    /// caller says where it matters.
    pub(crate) fn extract(
        &self,
        tarball: &Path,
        dest: &Path,
        members: &[String],
    ) -> Result<(), FetchError> {
        let mut tar = Command::new("tar");
        tar.arg("-xJf").arg(tarball).arg("-C").arg(dest);
        tar.arg("--strip-components=1");
        tar.args(members.iter().map(|m| format!("{}/{m}", self.package)));
        let out = tool_output(&mut tar, "tar and xz-utils")?;
        // GNU tar extracts the members it has, then fails for the rest.
        let stderr = String::from_utf8_lossy(&out.stderr);
        let only_missing = stderr.lines().all(|line| {
            line.ends_with("Not found in archive")
                || line.contains("Exiting with failure status")
        });
        match out.status.success() || only_missing {
            true => Ok(()),
            false => Err(failed(format!(
                "tar could not extract from {}: {}; delete it and run \
                 again",
                tarball.display(),
                stderr.trim()
            ))),
        }
    }
}

/// Runs `cmd`, a tool of the Debian package(s) `from`, to its end.
fn tool_output(cmd: &mut Command, from: &str) -> Result<Output, FetchError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    child::output(cmd, None).map_err(|e| match e.kind() {
        ErrorKind::NotFound => FetchError::Unavailable(format!(
            "`{program}` is not installed; install {from}"
        )),
        _ => failed(format!("cannot run {program}: {e}")),
    })
}

/// Runs `cmd` as [`tool_output`] does, and fails with its stderr unless it
/// exits 0.
fn run_tool(cmd: &mut Command, from: &str) -> Result<Output, FetchError> {
    let shown = format!("{cmd:?}");
    child::succeeded(&shown, tool_output(cmd, from)?).map_err(failed)
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
}
