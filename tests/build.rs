//! Probes, when the tests are built, for what some tests need that a
//! system may refuse, so that those tests are reported as ignored, with
//! the reason, where it is refused: `cargo test` has no way for a
//! running test to say "skipped", and one that returns early would be
//! counted as a pass.
//!
//! - `userns_refused`: an unprivileged user cannot create a user
//!   namespace and mount a procfs in a new pid namespace inside it
//!   (Ubuntu 24.04's AppArmor, a container's seccomp policy,
//!   `user.max_user_namespaces = 0`). As root the probe asks for
//!   `nobody`, as the tests that run the checker as a user do.
//! - `pidns_refused_here`: the checker's own pid-namespace probe would
//!   be refused to whoever runs the tests: neither a pid namespace
//!   without a user namespace (root with `CAP_SYS_ADMIN`) nor one
//!   inside a user namespace can be had.
//! - `no_python3`: no `python3` on the PATH.
//! - `no_just`: no `just` on the PATH (the tests of the justfile's
//!   recipes need it: `pip install rust-just` or `cargo install just`).
//! - `no_linkcheck`: no `mdbook-linkcheck2` on the PATH (the test of the
//!   book's link check needs it; `.ci/book tools` installs it).
//! - `no_cc`: no C compiler `cc` on the PATH (the test that builds an
//!   `LD_PRELOAD` library needs it); `no_ps`: no `ps` (procps).
//!
//! The probes run when this crate is built for a target directory, so
//! a user and root who share one share the answers; `.ci/run` gives its
//! unprivileged user a target directory of its own, and sets
//! `PROC_THREADS_PROBE` to probe again where it refuses user
//! namespaces.

use std::process::{Command, Stdio};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PATH");
    // A tool installed into a directory already on the PATH (`cargo
    // install just` into ~/.cargo/bin) changes no variable: Cargo
    // watches each directory's entries instead, and probes again when
    // one is added or removed. (A directory that does not exist would
    // make Cargo run this script on every build, so it is left out.)
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.is_absolute() && dir.is_dir() {
                println!("cargo:rerun-if-changed={}", dir.display());
            }
        }
    }
    // Set to anything new to probe again in the same target directory:
    // `.ci/run` does, when it runs the suite where user namespaces are
    // refused.
    println!("cargo:rerun-if-env-changed=PROC_THREADS_PROBE");
    // SAFETY: geteuid(2) has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let in_user_namespace =
        ["--user", "--pid", "--fork", "--mount-proc", "true"];
    let here = runs(Command::new("unshare").args(in_user_namespace));
    let as_user = match root {
        false => here,
        true => runs(
            Command::new("setpriv")
                .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg("unshare")
                .args(in_user_namespace),
        ),
    };
    // The same, without a user namespace.
    let privileged =
        root && runs(Command::new("unshare").args(&in_user_namespace[1..]));
    let tool = |name: &str| runs(Command::new(name).arg("--version"));
    let refused = [
        ("userns_refused", !as_user),
        ("pidns_refused_here", !(privileged || here)),
        ("no_python3", !tool("python3")),
        ("no_just", !tool("just")),
        ("no_linkcheck", !tool("mdbook-linkcheck2")),
        ("no_cc", !tool("cc")),
        ("no_ps", !tool("ps")),
    ];
    for (cfg, set) in refused {
        println!("cargo:rustc-check-cfg=cfg({cfg})");
        if set {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
}

/// Whether `command` runs and exits 0.
fn runs(command: &mut Command) -> bool {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
