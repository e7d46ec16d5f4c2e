//! The thin layer that touches `/proc`; everything else goes through it.
//!
//! Claims see `/proc` only through the [`Procfs`] trait, so a test can
//! hand a claim a doctored `/proc` (say, a listing that does contain a
//! thread id) and watch the claim fail with evidence. [`LiveProc`] is the
//! real one: it lists directories with `getdents64(2)` itself, because
//! the claims are about the offsets (`d_off`) that `readdir(3)` hides.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use nix::unistd::{Whence, lseek};

use crate::parse::{Dirent, parse_dirents};

/// A view of a procfs mount, addressed by paths relative to its root
/// (`"4242/task"`, `"self"`).
pub trait Procfs: Sync {
    /// Where this view is mounted, for messages.
    fn root(&self) -> &Path;
    /// Every entry of directory `dir`, in the order the kernel emits
    /// them, with their offsets; `"."` is the root.
    fn list(&self, dir: &str) -> io::Result<Vec<Dirent>> {
        self.list_from(dir, 0)
    }
    /// The entries from position `pos` on: `lseek(fd, pos, SEEK_SET)`,
    /// then `getdents64` until the end.
    fn list_from(&self, dir: &str, pos: i64) -> io::Result<Vec<Dirent>>;
    /// The contents of a file.
    fn read(&self, path: &str) -> io::Result<String>;
    /// Whether a path resolves: `Ok(true)` for a directory, `Ok(false)`
    /// for anything else, the error (often `ENOENT`) otherwise.
    fn is_dir(&self, path: &str) -> io::Result<bool>;
    /// The target of a symbolic link.
    fn read_link(&self, path: &str) -> io::Result<PathBuf>;
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

    fn path(&self, relative: &str) -> PathBuf {
        if relative == "." {
            self.root.clone()
        } else {
            self.root.join(relative)
        }
    }
}

impl Procfs for LiveProc {
    fn root(&self) -> &Path {
        &self.root
    }

    fn list_from(&self, dir: &str, pos: i64) -> io::Result<Vec<Dirent>> {
        let fd = open(
            &self.path(dir),
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        if pos != 0 {
            lseek(&fd, pos, Whence::SeekSet)?;
        }
        getdents_to_end(&fd)
    }

    fn read(&self, path: &str) -> io::Result<String> {
        std::fs::read_to_string(self.path(path))
    }

    fn is_dir(&self, path: &str) -> io::Result<bool> {
        Ok(std::fs::metadata(self.path(path))?.is_dir())
    }

    fn read_link(&self, path: &str) -> io::Result<PathBuf> {
        std::fs::read_link(self.path(path))
    }
}

/// Buffer for one `getdents64` call: /proc with 10,000 processes is
/// about 300 KiB of records, so a few calls list it all.
const GETDENTS_BYTES: usize = 64 * 1024;

fn getdents_to_end(fd: &OwnedFd) -> io::Result<Vec<Dirent>> {
    let mut entries = Vec::new();
    let mut buf = vec![0u8; GETDENTS_BYTES];
    loop {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the
        // duration of the call, and `fd` is an open directory we own.
        let read = unsafe {
            libc::syscall(
                libc::SYS_getdents64,
                fd.as_raw_fd(),
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        match read {
            0 => return Ok(entries),
            n if n < 0 => return Err(io::Error::last_os_error()),
            n => {
                let records = parse_dirents(&buf[..n as usize])
                    .map_err(|err| io::Error::other(err.to_string()))?;
                entries.extend(records);
            }
        }
    }
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
        let me = std::process::id().to_string();
        let names: Vec<String> = proc
            .list(".")
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert!(names.contains(&me), "{me} not in {names:?}");
        assert!(proc.is_dir(&me).unwrap());
        assert!(proc.read(&format!("{me}/comm")).is_ok());
    }

    #[test]
    fn errors_are_io_errors_with_the_kernels_errno() {
        let proc = LiveProc::new("/proc");
        let err = proc.is_dir("0not-a-pid").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
