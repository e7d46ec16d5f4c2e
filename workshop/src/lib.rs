//! The workshop: `just demo` walks through the article live, on the
//! attendee's own kernel, one step at a time.
//!
//! Each step prints the command an attendee would type, its real
//! output on this machine, and a sentence or two on what it means and
//! which kernel function is responsible. The steps are one ordered
//! registry, [`steps::STEPS`]; `--help`, `--step N` and the book's
//! chapter follow it.
//!
//! Where is X? The options, exit codes and the order of a run:
//! `cli.rs`. The steps and their narration: `steps.rs`. Running the
//! shell commands the attendee would type: `shell.rs`. Styled output,
//! wrapped to the terminal, and the pause between steps: `narrate.rs`.
//! Ctrl-C during a step: `checker::stop`.
//!
//! Book: "The workshop".

#![cfg(target_os = "linux")]

pub mod cli;
pub mod narrate;
mod shell;
pub mod steps;

pub use cli::{Options, main, run};
