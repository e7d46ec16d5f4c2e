//! Probes, when xtask is built, for what some of its tests need that a
//! machine may not have, so that those tests are listed as ignored, with
//! the reason, instead of passing without running:
//!
//! - `no_chromium`: no `chromium` or `chromium-browser` on the PATH (nor
//!   `$CHROMIUM`); the book-browser tests that open real pages need it.

use std::process::{Command, Stdio};

fn main() {
    println!("cargo:rustc-check-cfg=cfg(no_chromium)");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PATH");
    println!("cargo:rerun-if-env-changed=CHROMIUM");
    let chromium = std::env::var_os("CHROMIUM")
        .filter(|path| !path.is_empty())
        .into_iter()
        .chain(["chromium".into(), "chromium-browser".into()])
        .any(|program: std::ffi::OsString| {
            Command::new(program)
                .arg("--version")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        });
    if !chromium {
        println!("cargo:rustc-cfg=no_chromium");
    }
}
