//! Mounts inside the audited procfs: the other way to hide a process
//! from `ps` without a kernel module (MITRE ATT&CK T1564.013, "Hide
//! Artifacts: Bind Mounts").
//!
//! `mount --bind <empty dir> /proc/<pid>` leaves the listing of `/proc`
//! as it was: `getdents64` asks the procfs directory itself for its
//! entries (`iterate_dir()` calls `proc_root_readdir()`), and that
//! never looks at the mount table. A path walk does: after each
//! component, `handle_mounts()` (fs/namei.c) steps onto whatever is
//! mounted there. So `/proc/<pid>` is still listed, still resolves, and
//! shows something else: an empty directory, or another process's
//! directory. Neither view disagrees with the other, which is all the
//! audit compared before; it now also asks where each lookup ended.
//!
//! Two sources, both read-only:
//!
//! - `statx()` on the lookup the scan already makes reports the mount
//!   the walk ended on (`stx_mnt_id`) and whether the result is a
//!   mount's root (`STATX_ATTR_MOUNT_ROOT`): both since Linux 5.8, and
//!   filled in by `vfs_statx()` for `fstatat()` as well (fs/stat.c), so
//!   asking costs nothing;
//! - the mount table of the auditor's mount namespace
//!   (`/proc/thread-self/mountinfo`), for mounts deeper down
//!   (`/proc/<pid>/status`, `/proc/<pid>/task/<tid>`), which a lookup of
//!   `/proc/<pid>` does not cross.
//!
//! The parser takes text and is tested on a captured sample; the one
//! system call is [`landing`]. Book: "Hidden processes", the section on
//! mounts.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, OwnedFd};

use serde::Serialize;

/// One line of `mountinfo` (proc(5); written by `show_mountinfo()` in
/// fs/proc_namespace.c).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mount {
    /// The mount id, as `statx()` reports it in `stx_mnt_id`.
    pub id: u64,
    /// The id of the mount it sits on.
    #[serde(skip)]
    pub parent: u64,
    /// Where it is mounted, in the auditor's view (`/proc/4242`).
    pub point: String,
    /// The file system type (`proc`, `tmpfs`, `ext4`).
    pub fstype: String,
    /// The mount's source, as `mount` was told it (`tmpfs`, `/dev/vda`).
    pub source: String,
    /// Which directory of its file system it shows: `/` for a whole
    /// file system, `/4243` for a bind mount of `/proc/4243`.
    pub root: String,
    /// Its file system's options: `rw,hidepid=invisible` for a procfs
    /// that hides other users' processes.
    #[serde(skip)]
    pub options: String,
}

/// Parses the text of a `mountinfo` file.
pub fn parse_mountinfo(text: &str) -> Result<Vec<Mount>, String> {
    text.lines()
        .filter(|line| !line.is_empty())
        .map(parse_line)
        .collect()
}

fn parse_line(line: &str) -> Result<Mount, String> {
    let bad = |what: &str| {
        crate::parse::error("mountinfo", format!("{what} in {line:?}"))
    };
    // The optional fields end at a lone "-": what follows it is the
    // file system's type, source and options.
    let (mount, fs) = line
        .split_once(" - ")
        .ok_or_else(|| bad("no \" - \" separator"))?;
    let mut fields = mount.split(' ');
    let mut number = |what: &str| {
        fields
            .next()
            .and_then(|field| field.parse::<u64>().ok())
            .ok_or_else(|| bad(what))
    };
    let id = number("no mount id")?;
    let parent = number("no parent id")?;
    let mut fields = fields.skip(1); // major:minor
    let root = fields.next().ok_or_else(|| bad("no root"))?;
    let point = fields.next().ok_or_else(|| bad("no mount point"))?;
    let mut fs = fs.split(' ');
    let fstype = fs.next().ok_or_else(|| bad("no file system type"))?;
    let source = fs.next().ok_or_else(|| bad("no source"))?;
    Ok(Mount {
        id,
        parent,
        point: crate::parse::unescape(point),
        fstype: crate::parse::unescape(fstype),
        source: crate::parse::unescape(source),
        root: crate::parse::unescape(root),
        options: fs.next().unwrap_or_default().to_string(),
    })
}

/// The procfs mounted at `point`: the last one mounted there, which is
/// the one a path walk sees.
pub fn procfs_at<'a>(mounts: &'a [Mount], point: &str) -> Option<&'a Mount> {
    let at = |m: &&Mount| m.fstype == "proc" && m.point == point;
    mounts.iter().rev().find(at)
}

/// The mounts inside the procfs mount `procfs` (its mount id), at any
/// depth, each with its path relative to the procfs's root
/// (`4242/status`): the mounts on the procfs, the mounts on those, and
/// so on. A mount point outside the procfs's own (a `mount --move`
/// elsewhere) is left out.
pub fn inside(mounts: &[Mount], procfs: u64) -> Vec<(Mount, String)> {
    let Some(top) = mounts.iter().rev().find(|m| m.id == procfs) else {
        return Vec::new();
    };
    let prefix = match top.point.as_str() {
        "/" => "/".to_string(),
        point => format!("{point}/"),
    };
    let mut within = vec![procfs];
    let mut found = Vec::new();
    // Parents come before their children in mountinfo, but a mount
    // moved later may not: go round until nothing new turns up.
    loop {
        let before = within.len();
        for mount in mounts {
            if within.contains(&mount.id) || !within.contains(&mount.parent) {
                continue;
            }
            within.push(mount.id);
            if let Some(relative) = mount.point.strip_prefix(&prefix) {
                found.push((mount.clone(), relative.to_string()));
            }
        }
        if within.len() == before {
            break;
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.id.cmp(&b.0.id)));
    found
}

/// The process id that a path relative to the procfs's root is about:
/// its first component when that is a pid (`4242/task/4244` -> 4242);
/// `None` for the procfs's other entries (`sys/fs/binfmt_misc`).
pub fn process_of(relative: &str) -> Option<i32> {
    crate::parse::parse_pid(relative.split('/').next()?)
}

/// Where a lookup ended: the mount `statx()` reports, and whether what
/// it found is that mount's root. Either is `None` when the kernel does
/// not say (before Linux 5.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Landing {
    pub mount: Option<u64>,
    pub mount_root: Option<bool>,
}

impl Landing {
    /// Whether a lookup below `procfs` (the procfs root's own landing)
    /// left the procfs's mount: it ended on another mount, or on a
    /// mount's root.
    pub fn left(&self, procfs: &Landing) -> bool {
        let elsewhere = match (self.mount, procfs.mount) {
            (Some(here), Some(there)) => here != there,
            _ => false,
        };
        elsewhere || self.mount_root == Some(true)
    }
}

/// `statx(dir, name)` without following a final symbolic link or
/// triggering an automount, as `fstatat(2)` does (`vfs_fstatat()` adds
/// `AT_NO_AUTOMOUNT`): the same path walk, and the kernel fills in the
/// mount id and `STATX_ATTR_MOUNT_ROOT` for every call (`vfs_statx()`,
/// fs/stat.c). An empty `name` asks about `dir` itself.
pub fn landing(dir: &OwnedFd, name: &CStr) -> nix::Result<Landing> {
    let mut flags = libc::AT_SYMLINK_NOFOLLOW | libc::AT_NO_AUTOMOUNT;
    if name.is_empty() {
        flags |= libc::AT_EMPTY_PATH;
    }
    // SAFETY: a plain C struct, valid when zeroed.
    let mut buf = unsafe { std::mem::zeroed::<libc::statx>() };
    // SAFETY: an open fd, a NUL-terminated name, a statx buffer of ours
    // that lives through the call.
    let rc = unsafe {
        libc::statx(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags,
            libc::STATX_TYPE | libc::STATX_MNT_ID,
            &mut buf,
        )
    };
    if rc != 0 {
        return Err(nix::errno::Errno::last());
    }
    let root = libc::STATX_ATTR_MOUNT_ROOT as u64;
    Ok(Landing {
        mount: (buf.stx_mask & libc::STATX_MNT_ID != 0)
            .then_some(buf.stx_mnt_id),
        mount_root: (buf.stx_attributes_mask & root != 0)
            .then_some(buf.stx_attributes & root != 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::hidepid;

    /// From a Linux 6.18 host, in a private mount namespace: an empty
    /// directory bound over /proc/1762, a tmpfs on /proc/1763/fd, a
    /// procfs bound over /proc/1770, binfmt_misc inside /proc/sys, and
    /// a mount point with a space.
    const SAMPLE: &str = "\
23 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
48 23 0:21 / /proc rw,relatime - proc proc rw
66 48 254:0 /tmp/tmp.ymZ0jFPSiV /proc/1762 rw,relatime - ext4 /dev/vda rw
67 48 0:40 / /proc/1763/fd rw,relatime - tmpfs tmpfs rw
68 48 0:21 /1771 /proc/1770 rw,relatime - proc proc rw
69 48 0:41 / /proc/sys/fs/binfmt_misc rw,relatime - binfmt_misc binfmt_misc rw
70 23 0:42 / /mnt/a\\040b rw - tmpfs my\\040tmpfs rw
71 66 0:43 / /proc/1762/x rw - tmpfs tmpfs rw
";

    #[test]
    fn mountinfo_lines_are_parsed_with_their_escapes() {
        let mounts = parse_mountinfo(SAMPLE).unwrap();
        assert_eq!(mounts.len(), 8);
        assert_eq!(
            mounts[2],
            Mount {
                id: 66,
                parent: 48,
                point: "/proc/1762".into(),
                fstype: "ext4".into(),
                source: "/dev/vda".into(),
                root: "/tmp/tmp.ymZ0jFPSiV".into(),
                options: "rw".into(),
            }
        );
        assert_eq!(mounts[6].point, "/mnt/a b");
        assert_eq!(mounts[6].source, "my tmpfs");
        let err = parse_mountinfo("12 x").unwrap_err();
        assert!(err.to_string().contains("mountinfo"), "{err}");
    }

    #[test]
    fn procfs_options_are_read_from_mountinfo() {
        let info = "22 27 0:21 / /proc rw,relatime - proc proc rw\n\
            63 43 0:39 / /tmp/a\\040b rw - proc proc \
            rw,hidepid=invisible,subset=pid\n";
        let mounts = parse_mountinfo(info).unwrap();
        let options = |point| procfs_at(&mounts, point).map(|m| &m.options);
        let proc = options("/proc").unwrap();
        assert_eq!(proc, "rw");
        assert_eq!(hidepid(proc), None);
        let spaced = options("/tmp/a b").unwrap();
        assert_eq!(hidepid(spaced), Some("invisible"));
        assert_eq!(hidepid("rw,hidepid=0"), None);
        assert_eq!(options("/tmp"), None);
    }

    #[test]
    fn mounts_inside_the_procfs_are_found_at_any_depth() {
        let mounts = parse_mountinfo(SAMPLE).unwrap();
        let found: Vec<(u64, String)> = inside(&mounts, 48)
            .into_iter()
            .map(|(m, relative)| (m.id, relative))
            .collect();
        assert_eq!(
            found,
            [
                (66, "1762".to_string()),
                (71, "1762/x".to_string()),
                (67, "1763/fd".to_string()),
                (68, "1770".to_string()),
                (69, "sys/fs/binfmt_misc".to_string()),
            ]
        );
        assert_eq!(process_of("1763/fd"), Some(1763));
        assert_eq!(process_of("sys/fs/binfmt_misc"), None);
        assert_eq!(process_of("01763"), None);
        assert!(inside(&mounts, 999).is_empty());
    }

    #[test]
    fn a_lookup_left_the_procfs_when_it_ended_on_another_mount() {
        let procfs = Landing {
            mount: Some(48),
            mount_root: Some(true),
        };
        let plain = Landing {
            mount: Some(48),
            mount_root: Some(false),
        };
        let bound = Landing {
            mount: Some(66),
            mount_root: Some(true),
        };
        assert!(!plain.left(&procfs));
        assert!(bound.left(&procfs));
        // A kernel that says only one of the two still tells.
        let old = Landing {
            mount: None,
            mount_root: Some(true),
        };
        assert!(old.left(&procfs));
    }
}
