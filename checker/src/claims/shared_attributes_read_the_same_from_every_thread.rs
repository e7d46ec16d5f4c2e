//! proc_pid_task(5): "For attributes that are shared by all threads, the
//! contents for each of the files under the task/tid subdirectories will
//! be the same as in the corresponding file in the parent /proc/pid
//! directory".
//! Book: "The man page, sentence by sentence".

use crate::claims::{Claim, Context, Proof, bracketed, fail, id_list};

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "cwd, root and exe, which all threads share, read the same \
                through /proc/<TGID>/ and every /proc/<TGID>/task/<TID>/.",
    kernel: "proc_cwd_link(), proc_root_link() and proc_exe_link() \
             (fs/proc/base.c) on the fs_struct and mm the threads share",
    opt_in: None,
    since: None,
    check,
};

/// The links of a process.
const LINKS: [&str; 3] = ["cwd", "root", "exe"];

/// The three links are in both `tgid_base_stuff` and `tid_base_stuff`
/// (fs/proc/base.c), and read what the directory's task points to:
/// `proc_cwd_link()` and `proc_root_link()` its `fs_struct`
/// (`get_fs_pwd()`, `get_fs_root()`), `proc_exe_link()` its mm's file
/// (`get_task_exe_file()`). Threads share both, as pthread_create(3)
/// asks of clone(2) (`CLONE_FS`, `CLONE_VM`), so every thread's links
/// are the process's.
fn check(cx: &Context<'_>) -> Proof {
    let pid = cx.target.pid;
    let mut process = Vec::new();
    for link in LINKS {
        process.push(cx.proc.read_link(&format!("{pid}/{link}"))?);
    }
    let threads = cx.each_thread(cx.target.tids(), |tid| {
        for (link, expected) in LINKS.iter().zip(&process) {
            let path = format!("{pid}/task/{tid}/{link}");
            if cx.proc.read_link(&path)? == *expected {
                continue;
            }
            // The process may have moved (chdir) since its links were
            // read: a thread's link agrees if it matches the process's
            // read again just before or just after it.
            let of_process = || cx.proc.read_link(&format!("{pid}/{link}"));
            let of_thread = || cx.proc.read_link(&path);
            let (found, agreed) = bracketed(of_process, of_thread)?;
            if !agreed {
                return fail(
                    format!(
                        "{} -> {}",
                        cx.proc_path(&path),
                        expected.display()
                    ),
                    format!("{} -> {}", cx.proc_path(&path), found.display()),
                );
            }
        }
        Ok(())
    })?;
    let tids = threads.tids();
    Ok(format!(
        "cwd -> {}, root -> {} and exe -> {} for /proc/{pid} and for each \
         of its {} ({}){}",
        process[0].display(),
        process[1].display(),
        process[2].display(),
        crate::claims::how_many(tids.len(), "thread"),
        id_list(&tids),
        threads.exited_note()
    ))
}
