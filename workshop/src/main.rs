//! `workshop`: see the library's documentation and `workshop --help`.

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    workshop::main()
}

#[cfg(not(target_os = "linux"))]
fn main() -> std::process::ExitCode {
    eprintln!(
        "workshop: /proc and its thread ids are Linux-only; run it on \
         Linux (a VM or a container will do)"
    );
    std::process::ExitCode::from(3)
}
