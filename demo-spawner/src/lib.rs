//! The article's program, built to be observed.
//!
//! By default it prints the main thread's TID and one spawned thread's
//! TID, exactly as the article's program does, then keeps the thread
//! alive until SIGINT or SIGTERM. Options add threads, names, a CPU-burning
//! thread, threads that exit at once, a machine-readable ready line and a
//! bound on its life: what the checker and the workshop need to observe
//! a thread group from the outside.
//!
//! Book: "The mystery" chapter runs this program.

#![cfg(target_os = "linux")]

mod cli;
mod limits;
mod spawn;

pub use cli::{Options, STATUSES, main, main_with_args};
pub use spawn::{Ready, SpawnError, ThreadInfo, article_lines, run};
