//! The workspace's one integration-test crate: end-to-end runs of the
//! binaries, each claim on the live kernel and on a doctored `/proc`,
//! the snapshots the book includes, and tidy checks of the sources.
//!
//! Snapshots live in `tests/snapshots/`; review changes with
//! `cargo insta review`. Book: every output block comes from here.

#![cfg(target_os = "linux")]

mod at_a_terminal;
mod audit;
mod book;
mod by_hand;
mod checker_cli;
mod claims_doctored;
mod claims_live;
mod demo;
mod hostile;
mod statuses;
mod support;
mod tidy;
mod trace;
mod workshop;
