//! The thin layer that touches `/proc`: the claims read it only
//! through here (ARCHITECTURE.md names the few modules that read it
//! directly, and why).
//!
//! Claims see `/proc` through the [`Procfs`] trait, so a test can hand
//! a claim a doctored `/proc` (say, a listing that does contain a
//! thread id) and watch the claim fail with evidence. [`LiveProc`] is
//! the real one. It lists directories with the `getdents64(2)` system
//! call itself rather than `readdir(3)`: the claims are about the
//! records the kernel writes, offsets (`d_off`) included, which
//! `readdir(3)` keeps to itself. Turning those bytes into [`Dirent`]s
//! is a parser's job (`parse.rs`), tested without a kernel.
//!
//! Every error is a [`ProcError`], made here, where `/proc` is read: it
//! carries the path and the operation, displays as `/proc/4242/comm: No
//! such file or directory`, and a claim passes it on with `?`.
//!
//! At 10,000 threads the claims make tens of thousands of calls here, so
//! the live layer makes no more system calls than each answer needs: a
//! file is `open`, `read` to the end, `close` (no `statx` for a size
//! hint, as `std::fs::read_to_string` makes), and a directory is listed
//! with 64 KiB `getdents64` calls. Book: "Performance".

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use libc::SYS_getdents64;
use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use nix::unistd::{Whence, lseek};

use crate::parse::{Stat, StatusIds, parse_dirents, parse_stat, parse_status};
// The records a listing returns, for whoever implements [`Procfs`].
pub use crate::parse::{DT_DIR, DT_LNK, Dirent};

/// What `/proc` answered: a value, or an error that names its path.
pub type Answer<T> = Result<T, ProcError>;

/// A view of a procfs mount, addressed by paths relative to its root
/// (`"4242/task"`, `"self"`). The required methods are the system calls;
/// the provided ones read and parse, the same for every view.
pub trait Procfs: Sync {
    /// Where this view is mounted, for messages.
    fn root(&self) -> &Path;
    /// The entries from position `pos` on, in the order the kernel emits
    /// them, with their offsets: `lseek(fd, pos, SEEK_SET)`, then
    /// `getdents64` until the end; `"."` is the root.
    fn list_from(&self, dir: &str, pos: i64) -> Answer<Vec<Dirent>>;
    /// The contents of a file.
    fn read(&self, path: &str) -> Answer<String>;
    /// Whether a path resolves: `Ok(true)` for a directory, `Ok(false)`
    /// for anything else, the error (often `ENOENT`) otherwise.
    fn is_dir(&self, path: &str) -> Answer<bool>;
    /// The link count (`st_nlink`) that `stat(2)` reports for a path:
    /// for a `task` directory procfs computes it from the thread count.
    fn links(&self, path: &str) -> Answer<u64>;
    /// The target of a symbolic link.
    fn read_link(&self, path: &str) -> Answer<PathBuf>;

    /// Every entry of directory `dir`, from the start.
    fn list(&self, dir: &str) -> Answer<Vec<Dirent>> {
        self.list_from(dir, 0)
    }

    /// The numeric entries of `dir`: pids at the root, TIDs in `task/`.
    fn pids(&self, dir: &str) -> Answer<Vec<i32>> {
        Ok(self.list(dir)?.iter().filter_map(Dirent::pid).collect())
    }

    /// `Pid:` and `Tgid:` of a `status` file.
    fn status(&self, path: &str) -> Answer<StatusIds> {
        let text = self.read(path)?;
        parse_status(&text).map_err(|err| self.parse_error(path, err))
    }

    /// The fields of a `stat` file that the claims use.
    fn stat(&self, path: &str) -> Answer<Stat> {
        let text = self.read(path)?;
        parse_stat(&text).map_err(|err| self.parse_error(path, err))
    }

    /// `path` under the root, as messages show it.
    fn path(&self, relative: &str) -> PathBuf {
        match relative {
            "." => self.root().to_path_buf(),
            _ => self.root().join(relative),
        }
    }

    /// The error for a file the kernel wrote that our parser could not
    /// read (`problem`): our bug, not the kernel's, and it says so.
    fn parse_error(&self, path: &str, problem: String) -> ProcError {
        let bug = ": a bug of the checker's parser, not of the kernel; \
                   please report it";
        let err = io::Error::new(io::ErrorKind::InvalidData, problem + bug);
        ProcError::new("read", &self.path(path), err)
    }
}

/// An error from reading `/proc`: what was being done (`op`: `list`,
/// `read`, `stat`, `read the link`), the path it happened at, and the
/// kernel's errno, or for a text our parser could not read, a message
/// that says it is our bug.
#[derive(Debug)]
pub struct ProcError {
    pub op: &'static str,
    pub path: PathBuf,
    err: io::Error,
}

impl ProcError {
    pub fn new(op: &'static str, path: &Path, err: io::Error) -> Self {
        let path = path.to_path_buf();
        ProcError { op, path, err }
    }

    /// Whether the kernel said `ENOENT`: nothing has that name.
    pub fn is_enoent(&self) -> bool {
        self.errno() == Some(libc::ENOENT)
    }

    /// The errno, if the kernel refused (not for a parse error).
    pub fn errno(&self) -> Option<i32> {
        self.err.raw_os_error()
    }

    /// What went wrong, without the path: `No such file or directory`.
    pub fn cause(&self) -> String {
        describe(&self.err)
    }
}

impl fmt::Display for ProcError {
    /// `/proc/4242/comm: No such file or directory`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), describe(&self.err))
    }
}

impl std::error::Error for ProcError {}

/// An I/O error as a person reads it: the errno's description without
/// Rust's `(os error 2)` suffix.
pub fn describe(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(code) => Errno::from_raw(code).desc().to_string(),
        None => err.to_string(),
    }
}

/// The real procfs, mounted at the path it holds, normally `/proc`.
#[derive(Debug, Clone)]
pub struct LiveProc(PathBuf);

impl LiveProc {
    pub fn new(root: impl Into<PathBuf>) -> LiveProc {
        LiveProc(root.into())
    }
}

impl Procfs for LiveProc {
    fn root(&self) -> &Path {
        &self.0
    }

    fn list_from(&self, dir: &str, pos: i64) -> Answer<Vec<Dirent>> {
        let path = self.path(dir);
        getdents_from(&path, pos).map_err(|e| ProcError::new("list", &path, e))
    }

    fn read(&self, path: &str) -> Answer<String> {
        let path = self.path(path);
        read_whole(&path).map_err(|err| ProcError::new("read", &path, err))
    }

    fn is_dir(&self, path: &str) -> Answer<bool> {
        // stat(2) of `/proc/<id>` is a lookup: `proc_pid_lookup()`
        // decides whether the name resolves.
        let path = self.path(path);
        match std::fs::metadata(&path) {
            Ok(meta) => Ok(meta.is_dir()),
            Err(err) => Err(ProcError::new("stat", &path, err)),
        }
    }

    fn links(&self, path: &str) -> Answer<u64> {
        let path = self.path(path);
        match std::fs::metadata(&path) {
            Ok(meta) => Ok(meta.nlink()),
            Err(err) => Err(ProcError::new("stat", &path, err)),
        }
    }

    fn read_link(&self, path: &str) -> Answer<PathBuf> {
        let path = self.path(path);
        std::fs::read_link(&path)
            .map_err(|err| ProcError::new("read the link", &path, err))
    }
}

/// `open`, `read` to the end, `close`: a /proc file the claims read
/// (comm, stat, status) fits in the first read, and the second sees its
/// end. Through `take`, whose `read_to_end` asks for no size hint, where
/// `File`'s would first make a `statx` and an `lseek`. The first buffer
/// is 4 KiB: `status`, the longest file the claims read per thread, is
/// about 1.5 KiB.
fn read_whole(path: &Path) -> io::Result<String> {
    let mut bytes = Vec::with_capacity(4096);
    File::open(path)?.take(u64::MAX).read_to_end(&mut bytes)?;
    String::from_utf8(bytes).map_err(io::Error::other)
}

/// Every record of directory `path` from position `pos` on: `lseek`
/// there, then one `getdents64` call after another until it returns 0,
/// the end. Each call fills the buffer with as many whole records as
/// fit, and moves the directory's position past them. 64 KiB a call:
/// /proc with 10,000 processes is about 300 KiB of records.
fn getdents_from(path: &Path, pos: i64) -> io::Result<Vec<Dirent>> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    let dir = open(path, flags, Mode::empty())?;
    // A listing resumes where `lseek` puts it: at an entry's `d_off`,
    // the position of the entry after it. The kernel decides what a
    // position means; for the procfs root, see
    // `listing_positions_follow_tgid_arithmetic`.
    if pos != 0 {
        lseek(&dir, pos, Whence::SeekSet)?;
    }
    let mut entries = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let (fd, at, room) = (dir.as_raw_fd(), buf.as_mut_ptr(), buf.len());
        // SAFETY: `at` is valid for writes of `room` bytes for the
        // duration of the call, and `fd` is an open directory we own.
        let read = unsafe { libc::syscall(SYS_getdents64, fd, at, room) };
        let read = Errno::result(read)? as usize;
        if read == 0 {
            return Ok(entries);
        }
        let records = parse_dirents(&buf[..read]);
        entries.extend(records.map_err(io::Error::other)?);
    }
}

/// Whether this process has `CAP_SYS_ADMIN` in its effective set, as
/// `/proc/self/status` says; `None` if that cannot be read.
pub fn cap_sys_admin() -> Option<bool> {
    let status = LiveProc::new("/proc").read("self/status").ok()?;
    crate::parse::has_capability(&status, crate::parse::CAP_SYS_ADMIN)
}

/// The inode number of `dir`, if it can be had: the root directory of
/// a procfs is inode 1 (`PROC_ROOT_INO`, include/linux/proc_ns.h,
/// given to `proc_root` in fs/proc/root.c), and no other directory of
/// it is.
pub fn inode(dir: &Path) -> Option<u64> {
    std::fs::metadata(dir).ok().map(|meta| meta.ino())
}

/// Whether `path` is on a procfs (statfs's `f_type` is `PROC_SUPER_MAGIC`).
pub fn is_procfs(path: &Path) -> io::Result<bool> {
    let stat = nix::sys::statfs::statfs(path)?;
    Ok(stat.filesystem_type() == nix::sys::statfs::PROC_SUPER_MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_the_path_and_read_like_the_kernels_errno() {
        let proc = LiveProc::new("/proc");
        let err = proc.is_dir("0not-a-pid").unwrap_err();
        assert!(err.is_enoent());
        assert_eq!(
            err.to_string(),
            "/proc/0not-a-pid: No such file or directory"
        );
        let err = proc.read("self/no-such-file").unwrap_err();
        assert_eq!(err.op, "read");
        assert_eq!(err.path, Path::new("/proc/self/no-such-file"));
    }

    #[test]
    fn a_parse_error_says_it_is_our_bug() {
        let proc = LiveProc::new("/proc");
        // `comm` is not a `stat` file: the parser refuses it.
        let err = proc.stat("self/comm").unwrap_err();
        assert_eq!(err.errno(), None);
        assert!(err.to_string().starts_with("/proc/self/comm: cannot parse"));
        assert!(err.to_string().contains("a bug of the checker's parser"));
    }
}
