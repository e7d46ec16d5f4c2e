//! Hiding a process by a mount over its `/proc/<pid>`, as a claim: the
//! listing still names it, a lookup shows what is mounted there, and
//! the audit reports exactly that process under exactly that mount.
//! Runs only when asked (`--audit`, see `Claim::opt_in`), and as root:
//! it mounts, in a mount namespace of one thread of its own.
//! Book: "Hidden processes, and why detectors trip over threads".

use std::path::Path;

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};

use crate::audit::{self, Class, Scan, Verdict};
use crate::children::short_lived_with;
use crate::claims::{Claim, Context, OptIn, Proof, Stop, fail, skip};
use crate::procfs::Procfs;

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "A process whose /proc/<pid> has another process's \
                directory bound over it is still listed, and the audit \
                reports exactly it, with that mount.",
    kernel: "proc_pid_readdir() lists the pid (fs/proc/base.c); a path \
             walk steps onto the mount (handle_mounts(), fs/namei.c), \
             whose id statx() returns (vfs_statx_path(), fs/stat.c)",
    opt_in: Some(OptIn::Audit),
    since: None,
    check,
};

/// The name of the process the claim hides under a mount.
pub const BAIT: &str = "mount-bait";

/// `getdents64` of `/proc` asks the procfs directory itself for its
/// entries (`iterate_dir()` calls `proc_root_readdir()`): a mount on
/// `/proc/<pid>` changes nothing there. A lookup of `/proc/<pid>` ends
/// on the mount's root (`handle_mounts()` after each component of the
/// walk), and `statx()` says which mount that is. The claim binds the
/// checker's own directory over the bait's, audits, and wants the bait
/// reported under that mount, showing the checker's directory, and
/// nothing else: in particular not the checker, whose directory the
/// bait's name now shows.
// ANCHOR: proof
fn check(cx: &Context<'_>) -> Proof {
    let bait = short_lived_with(cx.launcher(), 1, &["--comm", BAIT])
        .or_else(|why| skip(format!("could not start the bait: {why}")))?;
    let decoy = std::process::id() as i32;
    let (bait_pid, proc) = (bait.pid(), cx.proc);
    // The mount and the audit, on a thread of their own that has a mount
    // namespace of its own: nothing else sees the mount, and it goes
    // when the thread ends.
    let (mount_id, scan, verdicts) = std::thread::scope(|scope| {
        let hidden = scope.spawn(|| hide_and_audit(proc, bait_pid, decoy));
        hidden
            .join()
            .unwrap_or_else(|_| skip("the audit thread panicked"))
    })?;
    if !scan.listed.contains(bait_pid) {
        return fail(
            format!("the bait {bait_pid} ({BAIT}) listed, a mount over it"),
            "it is not listed",
        );
    }
    let found: Vec<&Verdict> =
        verdicts.iter().filter(|v| v.kind.is_finding()).collect();
    let exactly = match found.as_slice() {
        [v] => {
            v.kind == Class::MountOverProcess
                && v.id == bait_pid
                && v.mount.as_ref().is_some_and(|m| m.id == mount_id)
                && v.shows_process == Some(decoy)
        }
        _ => false,
    };
    if !exactly {
        let found: Vec<String> =
            found.iter().map(|v| audit::one_line(v)).collect();
        return fail(
            format!(
                "exactly one finding: mount {mount_id} over process \
                 {bait_pid} ({BAIT}), showing process {decoy}'s directory"
            ),
            match found.is_empty() {
                true => "nothing found".to_string(),
                false => found.join("; "),
            },
        );
    }
    Ok(format!(
        "ids 1 to {}: process {bait_pid} ({BAIT}) is listed, and with \
         process {decoy}'s directory bound over it the audit reports \
         exactly it, under mount {mount_id}",
        scan.pid_max - 1
    ))
}
// ANCHOR_END: proof

/// On a thread of its own: a private mount namespace, the checker's
/// directory `decoy` bound over the bait's, then the audit. Returns the
/// mount's id, the scan and the verdicts.
fn hide_and_audit(
    proc: &dyn Procfs,
    bait: i32,
    decoy: i32,
) -> Result<(u64, Scan, Vec<Verdict>), Stop> {
    let root = proc.root();
    unshare(CloneFlags::CLONE_NEWNS).or_else(|err| {
        skip(format!(
            "needs root: a mount namespace of its own (unshare(CLONE_NEWNS) \
             needs CAP_SYS_ADMIN), where it mounts over the bait's \
             directory: {}",
            err.desc()
        ))
    })?;
    // The copied mounts may be shared with the namespace we came from:
    // make them private, so that the mount below stays here.
    let none: Option<&str> = None;
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)
        .or_else(|err| skip(format!("mount --make-rprivate /: {err}")))?;
    let (source, target) = (root.join(decoy.to_string()), dir(root, bait));
    mount(Some(&source), &target, none, MsFlags::MS_BIND, none).or_else(
        |err| {
            skip(format!(
                "mount --bind {} {}: {err}",
                source.display(),
                target.display()
            ))
        },
    )?;
    let mount_id = mount_id(root, bait)?;
    let (scan, verdicts) = audit::run(proc, root, None, &|_, _| {})?;
    Ok((mount_id, scan, verdicts))
}

fn dir(root: &Path, pid: i32) -> std::path::PathBuf {
    root.join(pid.to_string())
}

/// The id of the mount a lookup of `<root>/<pid>` ends on, by `statx()`.
fn mount_id(root: &Path, pid: i32) -> Result<u64, Stop> {
    use nix::fcntl::{OFlag, open};
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    let at = open(root, flags, nix::sys::stat::Mode::empty())
        .or_else(|err| skip(format!("open {}: {err}", root.display())))?;
    let name = std::ffi::CString::new(pid.to_string()).unwrap_or_default();
    match crate::mounts::landing(&at, &name) {
        Ok(landing) => landing.mount.map_or_else(
            || skip("statx() gave no mount id: Linux 5.8 or later has it"),
            Ok,
        ),
        Err(err) => skip(format!("statx {}: {err}", dir(root, pid).display())),
    }
}
