//! A test double: a doctored kernel, whose `/proc` ([`Procfs`]) and
//! other system calls ([`Syscalls`]) answer as the live ones do, except
//! where a test changed an answer, as a kernel that behaved otherwise
//! would give it. The claims never use it; tests hand it to them in
//! place of [`LiveProc`] and [`LiveSys`].
//!
//! Built in one expression: where the answers start from
//! ([`Doctored::live`], or [`Doctored::empty`] for a procfs made up
//! whole), then the changes, each applied to the answer so far, in the
//! order they were added:
//!
//! ```
//! # use checker::doctored::Doctored;
//! // A kernel whose /proc/4242/comm names another program.
//! let kernel = Doctored::live().file("4242/comm", "other\n");
//! ```
//!
//! `tests/claims_doctored.rs` makes each claim fail with one (the
//! book's "By hand and with the checker" shows such a failure); the
//! audit's unit tests make up a whole procfs with one.

use std::fmt;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use crate::procfs::{Answer, DT_DIR, Dirent, LiveProc, ProcError, Procfs};
use crate::sys::{LiveSys, Syscalls};

/// A change to the answers of one operation: given the path asked for
/// and the answer so far, the answer to give.
type Edit<T> = Box<dyn Fn(&str, Answer<T>) -> Answer<T> + Sync>;

type Tgkill0 = Box<dyn Fn(i32, i32) -> Result<(), Errno> + Sync>;
type PidfdOpen = Box<dyn Fn(i32, u32) -> Result<OwnedFd, Errno> + Sync>;

/// A kernel with some answers changed; see the module.
#[derive(Default)]
pub struct Doctored {
    /// Where answers start from: the live `/proc`, or none (every path
    /// is `ENOENT`).
    live: Option<LiveProc>,
    lists: Vec<Edit<Vec<Dirent>>>,
    /// Listings from a position other than 0 (after an `lseek`).
    seeks: Vec<Edit<Vec<Dirent>>>,
    reads: Vec<Edit<String>>,
    dirs: Vec<Edit<bool>>,
    links: Vec<Edit<u64>>,
    targets: Vec<Edit<PathBuf>>,
    tgkill0: Option<Tgkill0>,
    pidfd_open: Option<PidfdOpen>,
}

impl Doctored {
    /// The live `/proc` and system calls, unchanged so far.
    pub fn live() -> Doctored {
        Doctored {
            live: Some(LiveProc::new("/proc")),
            ..Doctored::empty()
        }
    }

    /// A procfs at `/proc` with nothing in it, for a test to fill: every
    /// path is `ENOENT` until a change answers for it. (The system calls
    /// are still the live ones.)
    pub fn empty() -> Doctored {
        Doctored::default()
    }

    /// Listings from the start: `edit(dir, entries)` changes them.
    pub fn list(
        mut self,
        edit: impl Fn(&str, &mut Vec<Dirent>) + Sync + 'static,
    ) -> Self {
        self.lists.push(entries_by(edit));
        self
    }

    /// Listings from another position, after an `lseek`: as
    /// [`Doctored::list`].
    pub fn seek(
        mut self,
        edit: impl Fn(&str, &mut Vec<Dirent>) + Sync + 'static,
    ) -> Self {
        self.seeks.push(entries_by(edit));
        self
    }

    /// Reads of files: `edit(path, answer)` is the answer now.
    pub fn read(
        mut self,
        edit: impl Fn(&str, Answer<String>) -> Answer<String> + Sync + 'static,
    ) -> Self {
        self.reads.push(Box::new(edit));
        self
    }

    /// Whether a path resolves (as a directory): as [`Doctored::read`].
    pub fn is_dir(
        mut self,
        edit: impl Fn(&str, Answer<bool>) -> Answer<bool> + Sync + 'static,
    ) -> Self {
        self.dirs.push(Box::new(edit));
        self
    }

    /// The targets of symbolic links: as [`Doctored::read`].
    pub fn read_link<F>(mut self, edit: F) -> Self
    where
        F: Fn(&str, Answer<PathBuf>) -> Answer<PathBuf> + Sync + 'static,
    {
        self.targets.push(Box::new(edit));
        self
    }

    /// `path` reads as `text`, whether or not it exists.
    pub fn file(
        self,
        path: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        let text = text.into();
        self.read(at(path, move || Ok(text.clone())))
    }

    /// The text of `path`, changed by `edit`.
    pub fn edit(
        self,
        path: impl Into<String>,
        edit: impl Fn(String) -> String + Sync + 'static,
    ) -> Self {
        let path = path.into();
        self.read(move |asked, answer| match asked == path {
            true => answer.map(&edit),
            false => answer,
        })
    }

    /// `dir` is a directory that lists the ids `pids`, in that order.
    pub fn entries(
        mut self,
        dir: impl Into<String>,
        pids: impl IntoIterator<Item = i32>,
    ) -> Self {
        let dir = dir.into();
        let entries: Vec<Dirent> = pids.into_iter().map(pid_entry).collect();
        self.lists
            .push(at(dir.clone(), move || Ok(entries.clone())));
        self.is_dir(at(dir, || Ok(true)))
    }

    /// `path` resolves, as a directory.
    pub fn dir(self, path: impl Into<String>) -> Self {
        self.is_dir(at(path, || Ok(true)))
    }

    /// `path` is a symbolic link to `target`.
    pub fn link(
        self,
        path: impl Into<String>,
        target: impl Into<PathBuf>,
    ) -> Self {
        let target = target.into();
        self.read_link(at(path, move || Ok(target.clone())))
    }

    /// `stat(path)` counts `links` links.
    pub fn links(mut self, path: impl Into<String>, links: u64) -> Self {
        self.links.push(at(path, move || Ok(links)));
        self
    }

    /// `path` and every path under it answer `errno` to whatever is
    /// asked: `ENOENT` for a task that is gone or hidden, `EACCES` for
    /// one the reader may not see.
    pub fn error(mut self, path: impl Into<String>, errno: i32) -> Self {
        let path = path.into();
        fn under<T>(op: &'static str, path: &str, errno: i32) -> Edit<T> {
            let path = path.to_string();
            Box::new(move |asked, answer| {
                let rest = asked.strip_prefix(path.as_str());
                match rest.is_some_and(|r| r.is_empty() || r.starts_with('/'))
                {
                    true => Err(proc_error(op, asked, errno)),
                    false => answer,
                }
            })
        }
        self.lists.push(under("list", &path, errno));
        self.seeks.push(under("list", &path, errno));
        self.reads.push(under("read", &path, errno));
        self.dirs.push(under("stat", &path, errno));
        self.links.push(under("stat", &path, errno));
        self.targets.push(under("read the link", &path, errno));
        self
    }

    /// tgkill(2) with signal 0 answered by `call(tgid, tid)` instead.
    pub fn tgkill0(
        mut self,
        call: impl Fn(i32, i32) -> Result<(), Errno> + Sync + 'static,
    ) -> Self {
        self.tgkill0 = Some(Box::new(call));
        self
    }

    /// pidfd_open(2) answered by `call(pid, flags)` instead.
    pub fn pidfd_open(
        mut self,
        call: impl Fn(i32, u32) -> Result<OwnedFd, Errno> + Sync + 'static,
    ) -> Self {
        self.pidfd_open = Some(Box::new(call));
        self
    }

    /// The answer of the live `/proc` (`ENOENT` from an empty one),
    /// through `edits`.
    fn answer<T>(
        &self,
        edits: &[Edit<T>],
        op: &'static str,
        path: &str,
        live: impl FnOnce(&LiveProc) -> Answer<T>,
    ) -> Answer<T> {
        let first = match &self.live {
            Some(proc) => live(proc),
            None => Err(proc_error(op, path, libc::ENOENT)),
        };
        edits.iter().fold(first, |answer, edit| edit(path, answer))
    }
}

/// The error the live layer gives when the kernel answers `errno` to
/// `op` on `path` (relative to `/proc`).
pub fn proc_error(op: &'static str, path: &str, errno: i32) -> ProcError {
    let err = io::Error::from_raw_os_error(errno);
    ProcError::new(op, &Path::new("/proc").join(path), err)
}

/// An entry for `pid` at the root of `/proc`, with the `d_off` the
/// kernel gives it when the next thread-group id is `pid + 1`: before
/// each group `proc_pid_readdir()` sets the position to `TGID_OFFSET`
/// (258) + tgid, and `filldir64()` stores it as the previous entry's
/// `d_off` (fs/proc/base.c, fs/readdir.c, Linux 6.12).
pub fn pid_entry(pid: i32) -> Dirent {
    Dirent {
        d_off: 258 + i64::from(pid) + 1,
        d_type: DT_DIR,
        name: pid.to_string(),
    }
}

/// An edit that answers `answer()` for `path` and leaves other paths.
fn at<T: 'static>(
    path: impl Into<String>,
    answer: impl Fn() -> Answer<T> + Sync + 'static,
) -> Edit<T> {
    let path = path.into();
    Box::new(move |asked, so_far| match asked == path {
        true => answer(),
        false => so_far,
    })
}

fn entries_by(
    edit: impl Fn(&str, &mut Vec<Dirent>) + Sync + 'static,
) -> Edit<Vec<Dirent>> {
    Box::new(move |dir, answer| {
        let mut entries = answer?;
        edit(dir, &mut entries);
        Ok(entries)
    })
}

impl fmt::Debug for Doctored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Doctored")
            .field("live", &self.live.is_some())
            .finish_non_exhaustive()
    }
}

impl Procfs for Doctored {
    fn root(&self) -> &Path {
        Path::new("/proc")
    }

    fn list_from(&self, dir: &str, pos: i64) -> Answer<Vec<Dirent>> {
        let edits = if pos == 0 { &self.lists } else { &self.seeks };
        self.answer(edits, "list", dir, |proc| proc.list_from(dir, pos))
    }

    fn read(&self, path: &str) -> Answer<String> {
        self.answer(&self.reads, "read", path, |proc| proc.read(path))
    }

    fn is_dir(&self, path: &str) -> Answer<bool> {
        self.answer(&self.dirs, "stat", path, |proc| proc.is_dir(path))
    }

    fn links(&self, path: &str) -> Answer<u64> {
        self.answer(&self.links, "stat", path, |proc| proc.links(path))
    }

    fn read_link(&self, path: &str) -> Answer<PathBuf> {
        let live = |proc: &LiveProc| proc.read_link(path);
        self.answer(&self.targets, "read the link", path, live)
    }
}

impl Syscalls for Doctored {
    fn kill0(&self, pid: i32) -> Result<(), Errno> {
        LiveSys.kill0(pid)
    }

    fn tgkill0(&self, tgid: i32, tid: i32) -> Result<(), Errno> {
        match &self.tgkill0 {
            Some(call) => call(tgid, tid),
            None => LiveSys.tgkill0(tgid, tid),
        }
    }

    fn pidfd_open(&self, pid: i32, flags: u32) -> Result<OwnedFd, Errno> {
        match &self.pidfd_open {
            Some(call) => call(pid, flags),
            None => LiveSys.pidfd_open(pid, flags),
        }
    }
}
