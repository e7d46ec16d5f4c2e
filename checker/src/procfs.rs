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
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use nix::unistd::{Whence, lseek};

use crate::parse::{
    ParseError, Stat, StatusIds, parse_dirents, parse_stat, parse_status,
};
// The records a listing returns, for whoever implements [`Procfs`].
pub use crate::parse::{DT_DIR, DT_LNK, Dirent};

/// A view of a procfs mount, addressed by paths relative to its root
/// (`"4242/task"`, `"self"`). The required methods are the system calls;
/// the provided ones read and parse, the same for every view.
pub trait Procfs: Sync {
    /// Where this view is mounted, for messages.
    fn root(&self) -> &Path;
    /// The entries from position `pos` on, in the order the kernel emits
    /// them, with their offsets: `lseek(fd, pos, SEEK_SET)`, then
    /// `getdents64` until the end; `"."` is the root.
    fn list_from(&self, dir: &str, pos: i64)
    -> Result<Vec<Dirent>, ProcError>;
    /// The contents of a file.
    fn read(&self, path: &str) -> Result<String, ProcError>;
    /// Whether a path resolves: `Ok(true)` for a directory, `Ok(false)`
    /// for anything else, the error (often `ENOENT`) otherwise.
    fn is_dir(&self, path: &str) -> Result<bool, ProcError>;
    /// The link count (`st_nlink`) that `stat(2)` reports for a path:
    /// for a `task` directory procfs computes it from the thread count.
    fn links(&self, path: &str) -> Result<u64, ProcError>;
    /// The target of a symbolic link.
    fn read_link(&self, path: &str) -> Result<PathBuf, ProcError>;

    /// Every entry of directory `dir`, from the start.
    fn list(&self, dir: &str) -> Result<Vec<Dirent>, ProcError> {
        self.list_from(dir, 0)
    }

    /// The numeric entries of `dir`: pids at the root, TIDs in `task/`.
    fn pids(&self, dir: &str) -> Result<Vec<i32>, ProcError> {
        Ok(self.list(dir)?.iter().filter_map(Dirent::pid).collect())
    }

    /// `Pid:` and `Tgid:` of a `status` file.
    fn status(&self, path: &str) -> Result<StatusIds, ProcError> {
        let text = self.read(path)?;
        parse_status(&text).map_err(|err| self.parse_error(path, err))
    }

    /// The fields of a `stat` file that the claims use.
    fn stat(&self, path: &str) -> Result<Stat, ProcError> {
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

    /// The error for a file the kernel wrote that we could not parse.
    fn parse_error(&self, path: &str, err: ParseError) -> ProcError {
        let path = self.path(path);
        ProcError {
            op: Op::Read,
            path,
            cause: Cause::Parse(err),
        }
    }
}

/// What was being done when `/proc` answered with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    List,
    Read,
    Stat,
    ReadLink,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::List => "list",
            Op::Read => "read",
            Op::Stat => "stat",
            Op::ReadLink => "read the link",
        })
    }
}

/// An error from reading `/proc`, with the path it happened at.
#[derive(Debug)]
pub struct ProcError {
    pub op: Op,
    pub path: PathBuf,
    cause: Cause,
}

/// Whose the error is: a refusal is the system's answer (a claim may
/// skip or fail on it), a text we could not parse is our bug, and the
/// message says so.
#[derive(Debug)]
enum Cause {
    /// The kernel refused: the system's answer.
    Io(io::Error),
    /// The kernel answered and our parser could not read it: our bug.
    Parse(ParseError),
}

impl ProcError {
    /// `op` on `path` failed with `err`.
    pub fn new(op: Op, path: impl Into<PathBuf>, err: io::Error) -> Self {
        let (path, cause) = (path.into(), Cause::Io(err));
        ProcError { op, path, cause }
    }

    /// Whether the kernel said `ENOENT`: nothing has that name.
    pub fn is_enoent(&self) -> bool {
        self.errno() == Some(libc::ENOENT)
    }

    /// The errno, if the kernel refused (not for a parse error).
    pub fn errno(&self) -> Option<i32> {
        match &self.cause {
            Cause::Io(err) => err.raw_os_error(),
            Cause::Parse(_) => None,
        }
    }

    /// Whether our parser, not the kernel, failed.
    pub fn is_our_bug(&self) -> bool {
        matches!(self.cause, Cause::Parse(_))
    }

    /// What went wrong, without the path: `No such file or directory`.
    pub fn cause(&self) -> String {
        match &self.cause {
            Cause::Io(err) => describe(err),
            Cause::Parse(err) => format!(
                "{err}: a bug of the checker's parser, not of the kernel; \
                 please report it"
            ),
        }
    }
}

impl fmt::Display for ProcError {
    /// `/proc/4242/comm: No such file or directory`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.cause())
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

/// The real procfs, normally at `/proc`.
#[derive(Debug, Clone)]
pub struct LiveProc {
    root: PathBuf,
}

impl LiveProc {
    pub fn new(root: impl Into<PathBuf>) -> LiveProc {
        LiveProc { root: root.into() }
    }
}

impl Procfs for LiveProc {
    fn root(&self) -> &Path {
        &self.root
    }

    fn list_from(
        &self,
        dir: &str,
        pos: i64,
    ) -> Result<Vec<Dirent>, ProcError> {
        let path = self.path(dir);
        let error = |err: io::Error| ProcError::new(Op::List, &path, err);
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let fd = open(&path, flags, Mode::empty()).map_err(io::Error::from);
        let fd = fd.map_err(error)?;
        // A listing resumes where `lseek` puts it: at an entry's
        // `d_off`, the position of the entry after it. The kernel
        // decides what a position means; for the procfs root, see
        // `listing_positions_follow_tgid_arithmetic`.
        if pos != 0 {
            let seek = lseek(&fd, pos, Whence::SeekSet);
            seek.map_err(|err| error(err.into()))?;
        }
        getdents_to_end(&fd).map_err(error)
    }

    fn read(&self, path: &str) -> Result<String, ProcError> {
        let path = self.path(path);
        read_whole(&path).map_err(|err| ProcError::new(Op::Read, path, err))
    }

    fn is_dir(&self, path: &str) -> Result<bool, ProcError> {
        // stat(2) of `/proc/<id>` is a lookup: `proc_pid_lookup()`
        // decides whether the name resolves.
        let path = self.path(path);
        match std::fs::metadata(&path) {
            Ok(meta) => Ok(meta.is_dir()),
            Err(err) => Err(ProcError::new(Op::Stat, path, err)),
        }
    }

    fn links(&self, path: &str) -> Result<u64, ProcError> {
        let path = self.path(path);
        match std::fs::metadata(&path) {
            Ok(meta) => Ok(meta.nlink()),
            Err(err) => Err(ProcError::new(Op::Stat, path, err)),
        }
    }

    fn read_link(&self, path: &str) -> Result<PathBuf, ProcError> {
        let path = self.path(path);
        std::fs::read_link(&path)
            .map_err(|err| ProcError::new(Op::ReadLink, path, err))
    }
}

/// First buffer for reading a file: `status`, the longest file the
/// claims read per thread, is about 1.5 KiB.
const READ_BYTES: usize = 4096;

/// Buffer for one `getdents64` call: /proc with 10,000 processes is
/// about 300 KiB of records, so a few calls list it all.
const GETDENTS_BYTES: usize = 64 * 1024;

/// `open`, `read` to the end, `close`: a /proc file the claims read
/// (comm, stat, status) fits in the first read, and the second sees
/// its end. Through `take`, whose `read_to_end` asks for no size
/// hint, where `File`'s would first make a `statx` and an `lseek`.
fn read_whole(path: &Path) -> io::Result<String> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::with_capacity(READ_BYTES);
    file.take(u64::MAX).read_to_end(&mut bytes)?;
    String::from_utf8(bytes)
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))
}

/// Every record of an open directory, from where it stands: one
/// `getdents64` call after another until it returns 0, the end. Each
/// call fills the buffer with as many whole records as fit, and the
/// directory's position moves past them.
fn getdents_to_end(fd: &OwnedFd) -> io::Result<Vec<Dirent>> {
    let mut entries = Vec::new();
    let mut buf = vec![0u8; GETDENTS_BYTES];
    loop {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the
        // duration of the call, and `fd` is an open directory we own.
        let read = Errno::result(unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                fd.as_raw_fd(),
                buf.as_mut_ptr(),
                buf.len(),
            )
        })?;
        if read == 0 {
            return Ok(entries);
        }
        let records = parse_dirents(&buf[..read as usize])
            .map_err(|err| io::Error::other(err.to_string()))?;
        entries.extend(records);
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
    fn live_listing_of_proc_holds_our_own_pid() {
        let proc = LiveProc::new("/proc");
        let me = std::process::id() as i32;
        assert!(proc.pids(".").unwrap().contains(&me));
        assert!(proc.is_dir(&me.to_string()).unwrap());
        assert!(proc.read(&format!("{me}/comm")).is_ok());
    }

    #[test]
    fn errors_carry_the_path_and_read_like_the_kernels_errno() {
        let proc = LiveProc::new("/proc");
        let err = proc.is_dir("0not-a-pid").unwrap_err();
        assert!(err.is_enoent());
        assert!(!err.is_our_bug());
        assert_eq!(
            err.to_string(),
            "/proc/0not-a-pid: No such file or directory"
        );
        let err = proc.read("self/no-such-file").unwrap_err();
        assert_eq!(err.op, Op::Read);
        assert_eq!(err.path, Path::new("/proc/self/no-such-file"));
    }

    #[test]
    fn a_parse_error_says_it_is_our_bug() {
        let proc = LiveProc::new("/proc");
        // `comm` is not a `stat` file: the parser refuses it.
        let err = proc.stat("self/comm").unwrap_err();
        assert!(err.is_our_bug());
        assert!(err.to_string().starts_with("/proc/self/comm: cannot parse"));
        assert!(err.to_string().contains("a bug of the checker's parser"));
    }

    #[test]
    fn links_of_a_task_dir_count_its_threads() {
        // proc_task_getattr(): 2 + the number of threads; we have at
        // least the test harness's thread.
        let proc = LiveProc::new("/proc");
        let me = std::process::id();
        assert!(proc.links(&format!("{me}/task")).unwrap() >= 3);
    }
}
