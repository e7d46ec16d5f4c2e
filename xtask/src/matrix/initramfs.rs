//! The guest's user space: the checker, built static, as the only file
//! (`/init`) of an initramfs.
//!
//! Static because the initramfs has no dynamic loader or libc; built
//! for an explicit `--target` so that `+crt-static` does not reach
//! build scripts and proc macros, and in its own target dir so it does
//! not evict the normal build's artifacts.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::cpio;
use super::vmlinux::le;
use crate::{child, files};

const TARGET: &str = "x86_64-unknown-linux-gnu";

/// Builds the checker statically; returns the binary's path.
pub(crate) fn build_checker(workspace: &Path) -> Result<PathBuf, String> {
    let target_dir = crate::target_dir().join("matrix-build");
    let cargo = std::env::var_os("CARGO").unwrap_or("cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "--release", "-p", "checker"])
        .args(["--target", TARGET])
        .arg("--target-dir")
        .arg(&target_dir)
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .current_dir(workspace);
    child::run_ok(&mut cmd).map_err(|e| {
        format!(
            "{e}\n(or pass --init <static binary> to boot another \
             program)"
        )
    })?;
    Ok(target_dir.join(TARGET).join("release/checker"))
}

/// Writes an initramfs holding `init` as `/init`; checks that `init`
/// is a static ELF first, since a dynamic one fails only inside the
/// guest ("Failed to execute /init").
pub(crate) fn write(init: &Path, out: &Path) -> Result<(), String> {
    let data = files::read(init)?;
    match elf_is_static(&data) {
        Some(true) => {}
        Some(false) => {
            return Err(format!(
                "{} is dynamically linked; build it with \
                 RUSTFLAGS='-C target-feature=+crt-static' and \
                 --target {TARGET}",
                init.display()
            ));
        }
        None => {
            return Err(format!("{} is not a 64-bit ELF", init.display()));
        }
    }
    files::write(out, &cpio::archive("init", 0o755, &data))
}

/// `Some(true)` for a 64-bit little-endian ELF without a `PT_INTERP`
/// program header (static or static-pie), `None` if not such an ELF.
pub(crate) fn elf_is_static(elf: &[u8]) -> Option<bool> {
    const PT_INTERP: usize = 3;
    if !elf.starts_with(b"\x7fELF\x02\x01") {
        return None;
    }
    let phoff = le::<8>(elf, 0x20)?;
    let (size, count) = (le::<2>(elf, 0x36)?, le::<2>(elf, 0x38)?);
    for i in 0..count {
        let at = phoff + i * size;
        if le::<4>(elf, at)? == PT_INTERP {
            return Some(false);
        }
    }
    Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 header with the given program header types.
    fn elf(types: &[u32]) -> Vec<u8> {
        let mut e = vec![0u8; 64];
        e[..6].copy_from_slice(b"\x7fELF\x02\x01");
        e[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        e[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        let n = u16::try_from(types.len()).unwrap();
        e[0x38..0x3a].copy_from_slice(&n.to_le_bytes());
        for t in types {
            let mut ph = vec![0u8; 56];
            ph[..4].copy_from_slice(&t.to_le_bytes());
            e.extend(ph);
        }
        e
    }

    #[test]
    fn interp_header_means_dynamic() {
        assert_eq!(elf_is_static(&elf(&[6, 1, 1])), Some(true));
        assert_eq!(elf_is_static(&elf(&[6, 3, 1])), Some(false));
        assert_eq!(elf_is_static(b"#!/bin/sh"), None);
        // Truncated program headers: not a usable ELF.
        assert_eq!(elf_is_static(&elf(&[1])[..66]), None);
    }

    #[test]
    fn this_test_binary_is_an_elf() {
        let me = std::env::current_exe().unwrap();
        assert!(elf_is_static(&std::fs::read(me).unwrap()).is_some());
    }
}
