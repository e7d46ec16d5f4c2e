//! The thin layer that touches `/proc`; everything else goes through it.
//!
//! Claims see `/proc` only through the [`Procfs`] trait, so a test can
//! hand a claim a doctored `/proc` (say, a listing that does contain a
//! thread id) and watch the claim fail with evidence. [`LiveProc`] is the
//! real one: it lists directories with `getdents64(2)` itself, because
//! the claims are about the offsets (`d_off`) that `readdir(3)` hides.
//!
//! At 10,000 threads the claims make tens of thousands of calls here, so
//! the live layer does no more system calls than each answer needs: a
//! file is `open`, `read` to the end, `close` (no `statx` for a size
//! hint, as `std::fs::read_to_string` makes), and a directory is listed
//! with 64 KiB `getdents64` calls. Book: "Performance".

use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
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
    /// The link count (`st_nlink`) that `stat(2)` reports for a path:
    /// for a `task` directory procfs computes it from the thread count.
    fn links(&self, path: &str) -> io::Result<u64>;
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
        let mut file = std::fs::File::open(self.path(path))?;
        // Most /proc files the claims read (comm, stat, status) fit in
        // one read; the second read sees the end of the file.
        let mut bytes = vec![0u8; READ_BYTES];
        let mut len = 0;
        loop {
            if len == bytes.len() {
                bytes.resize(len * 2, 0);
            }
            match file.read(&mut bytes[len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        bytes.truncate(len);
        String::from_utf8(bytes)
            .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))
    }

    fn is_dir(&self, path: &str) -> io::Result<bool> {
        Ok(std::fs::metadata(self.path(path))?.is_dir())
    }

    fn links(&self, path: &str) -> io::Result<u64> {
        Ok(std::fs::metadata(self.path(path))?.nlink())
    }

    fn read_link(&self, path: &str) -> io::Result<PathBuf> {
        std::fs::read_link(self.path(path))
    }
}

/// First buffer for reading a file: `status`, the longest file the
/// claims read per thread, is about 1.5 KiB.
const READ_BYTES: usize = 4096;

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

/// The options of the procfs mounted at `root`, from the text of a
/// `mountinfo` file: the superblock options after the ` - proc <source>
/// ` separator, such as `rw,hidepid=invisible,subset=pid`.
///
/// Mount points are written with octal escapes for space, tab, newline
/// and backslash (`show_mountinfo()` in fs/proc_namespace.c); the last
/// mount at a point is the visible one.
pub fn procfs_options(mountinfo: &str, root: &Path) -> Option<String> {
    let root = root.to_str()?;
    mountinfo.lines().rev().find_map(|line| {
        let (mount, fs) = line.split_once(" - ")?;
        let point = mount.split(' ').nth(4)?;
        let mut fs = fs.split(' ');
        let kind = fs.next()?;
        let options = fs.nth(1)?;
        (kind == "proc" && unescape(point) == root)
            .then(|| options.to_string())
    })
}

/// The value of `hidepid=` in procfs mount options, when it hides
/// anything: `invisible`, `noaccess` or `ptraceable` (or their old
/// numbers 2, 1 and 4).
pub fn hidepid(options: &str) -> Option<&str> {
    options
        .split(',')
        .find_map(|option| option.strip_prefix("hidepid="))
        .filter(|value| !matches!(*value, "0" | "off"))
}

/// Undo mountinfo's `\ooo` escapes.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let octal = bytes.get(at + 1..at + 4).filter(|digits| {
            bytes[at] == b'\\'
                && digits.iter().all(|d| (b'0'..=b'7').contains(d))
        });
        match octal {
            Some(digits) => {
                let value = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                out.push(value as u8);
                at += 4;
            }
            None => {
                out.push(bytes[at]);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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

    #[test]
    fn procfs_options_are_read_from_mountinfo() {
        let info = "22 27 0:21 / /proc rw,relatime - proc proc rw\n\
            63 43 0:39 / /tmp/a\\040b rw - proc proc \
            rw,hidepid=invisible,subset=pid\n";
        let proc = procfs_options(info, Path::new("/proc")).unwrap();
        assert_eq!(proc, "rw");
        assert_eq!(hidepid(&proc), None);
        let spaced = procfs_options(info, Path::new("/tmp/a b")).unwrap();
        assert_eq!(hidepid(&spaced), Some("invisible"));
        assert_eq!(hidepid("rw,hidepid=0"), None);
        assert_eq!(procfs_options(info, Path::new("/tmp")), None);
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
