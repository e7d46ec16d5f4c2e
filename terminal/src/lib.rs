//! What the workspace's programs need of a terminal: how wide it is,
//! text wrapped to that width, and single keys read at a pause.
//!
//! Output for a person fits the window it is shown in: [`width`] is the
//! terminal's width when stdout is one (80 columns when the terminal
//! does not say), and `None` when stdout is a pipe or a file, where a
//! line stays whole for `grep` and for the next program. [`wrap`]
//! breaks prose at spaces to a width.
//!
//! [`Keys`] reads one key at a time from the terminal, with the
//! terminal's own Ctrl-C turned off, so that a program that waits for a
//! person can tell "go on" from "stop" and stop without a signal: a
//! signal would reach every process of the foreground job, and `just`
//! reports a recipe interrupted by SIGINT as an error.

#![cfg(unix)]

mod keys;
mod wrap;

pub use keys::{Key, Keys, restore_after_signal};
pub use wrap::{display_width, wrap, wrap_after};

/// The width assumed for a terminal that does not report its size.
pub const FALLBACK_WIDTH: usize = 80;

/// The widest `--help` gets, even on a wider terminal or piped, so that
/// it reads in a standard 80-column terminal (clap's `max_term_width`).
pub const HELP_WIDTH: usize = 80;

/// The width to wrap stdout at: the terminal's, when stdout is a
/// terminal; `None` when it is not (nothing is wrapped).
pub fn width() -> Option<usize> {
    use std::io::IsTerminal;
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return None;
    }
    Some(match terminal_size::terminal_size_of(&stdout) {
        Some((terminal_size::Width(columns), _)) if columns > 0 => {
            usize::from(columns)
        }
        _ => FALLBACK_WIDTH,
    })
}
