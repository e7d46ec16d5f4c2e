//! `checker`: see the library's documentation and `checker --help`.

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    checker::main()
}

#[cfg(not(target_os = "linux"))]
fn main() -> std::process::ExitCode {
    eprintln!(
        "checker: /proc and its thread ids are Linux-only; run it on Linux"
    );
    std::process::ExitCode::from(3)
}
