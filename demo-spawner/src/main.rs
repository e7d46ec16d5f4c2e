//! `demo-spawner`: see the library's documentation and `--help`.

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    demo_spawner::main()
}

#[cfg(not(target_os = "linux"))]
fn main() -> std::process::ExitCode {
    eprintln!(
        "demo-spawner: /proc thread ids are Linux-only; run it on Linux"
    );
    std::process::ExitCode::from(3)
}
