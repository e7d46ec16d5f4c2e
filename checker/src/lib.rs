//! Asserts, on the running kernel, why `ls /proc` misses thread ids while
//! `/proc/<TID>` resolves, and what else follows from the same code.
//!
//! A run starts a target (see [`target`], and [`children`] for the
//! processes it starts), checks every claim of the registry in
//! [`claims`] against it through the thin `/proc` layer in [`procfs`],
//! and reports pass / fail with evidence / skip with a reason
//! ([`report`]). Parsers of `/proc` text live in [`parse`], without
//! I/O. Tests hand the claims a doctored kernel instead ([`doctored`]).
//! Start reading at `claims/listing_shows_the_tgid_but_no_other_tid.rs`.
//!
//! Book: "By hand and with the checker".

#![cfg(target_os = "linux")]

pub mod audit;
pub mod children;
pub mod claims;
pub mod cli;
pub mod doctored;
pub mod harness;
pub mod mounts;
pub mod parse;
pub mod pidns;
pub mod procfs;
pub mod report;
pub mod stop;
pub mod sys;
pub mod target;
pub mod trace;
pub mod vm_init;

pub use cli::{Options, main, run};
