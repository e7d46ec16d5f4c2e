//! Which names a lookup accepts: a pid written as the kernel writes it,
//! and nothing else.
//! Book: "Beyond the article".

use crate::claims::{Claim, Context, Proof, fail, id_list};

pub static CLAIM: Claim = Claim {
    id: crate::claims::id_of(module_path!()),
    statement: "/proc/0<TID> and /proc/<TID>x do not resolve, though \
                /proc/<TID> does.",
    kernel: "name_to_int() (fs/proc/util.c)",
    opt_in: None,
    since: None,
    check,
};

/// `name_to_int()` (fs/proc/util.c) accepts only plain decimal: a leading
/// `0` is refused outright (so that one pid has one name) and any
/// non-digit ends the parse with a failure. `proc_pid_lookup()` then
/// returns `-ENOENT` and the lookup falls back to no static entry.
/// Checked for every TID: two failed lookups each, no listing.
// ANCHOR: proof
fn check(cx: &Context<'_>) -> Proof {
    let threads = cx.each_thread(cx.target.tids(), |tid| {
        cx.proc.is_dir(&tid.to_string())?;
        for odd in [format!("0{tid}"), format!("{tid}x")] {
            let expected = format!("{}: ENOENT", cx.proc_path(&odd));
            match cx.proc.is_dir(&odd) {
                Err(err) if err.is_enoent() => {}
                Err(err) => return fail(expected, err),
                Ok(_) => {
                    return fail(
                        expected,
                        format!("{} resolves", cx.proc_path(&odd)),
                    );
                }
            }
        }
        Ok(())
    })?;
    let tids = threads.tids();
    let tid = cx.target.threads.first().copied().unwrap_or(cx.target.pid);
    Ok(format!(
        "{tid} resolves; 0{tid} and {tid}x give ENOENT; so for all {} \
         ({}){}",
        crate::claims::how_many(tids.len(), "TID"),
        id_list(&tids),
        threads.exited_note()
    ))
}
// ANCHOR_END: proof
