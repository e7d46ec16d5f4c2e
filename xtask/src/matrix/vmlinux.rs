//! Getting the uncompressed ELF `vmlinux` out of a `vmlinuz` (bzImage),
//! as the kernel's `scripts/extract-vmlinux` does.
//!
//! Why bother: QEMU boots an ELF with a PVH note directly
//! (`-bios qboot.rom`), skipping the firmware and the kernel's own
//! decompressor, which under TCG (no KVM) halves the boot time.
//!
//! The bzImage header says where the compressed payload is (boot
//! protocol 2.08+); the payload's first bytes say how it is compressed.
//! If the header is not usable we fall back to extract-vmlinux's method:
//! search for every compression magic and try each hit.

use std::process::Command;

use crate::child;

/// The compressions a bzImage payload can use (`CONFIG_KERNEL_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    Gzip,
    Xz,
    Lzma,
    Zstd,
    Lz4,
    Bzip2,
    Lzo,
}

impl Compression {
    const ALL: [Compression; 7] = [
        Self::Gzip,
        Self::Xz,
        Self::Lzma,
        Self::Zstd,
        Self::Lz4,
        Self::Bzip2,
        Self::Lzo,
    ];

    /// The leading bytes of a stream, as in scripts/extract-vmlinux.
    fn magic(self) -> &'static [u8] {
        match self {
            Self::Gzip => b"\x1f\x8b\x08",
            Self::Xz => b"\xfd7zXZ\x00",
            Self::Lzma => b"\x5d\x00\x00\x00",
            Self::Zstd => b"\x28\xb5\x2f\xfd",
            Self::Lz4 => b"\x02\x21\x4c\x18",
            Self::Bzip2 => b"BZh",
            Self::Lzo => b"\x89\x4c\x5a",
        }
    }

    /// The decompressing command and the Debian package that has it.
    fn tool(self) -> (&'static str, &'static [&'static str], &'static str) {
        match self {
            Self::Gzip => ("gzip", &["-dc"], "gzip"),
            Self::Xz => ("xz", &["-dc"], "xz-utils"),
            Self::Lzma => ("xz", &["--format=lzma", "-dc"], "xz-utils"),
            Self::Zstd => ("zstd", &["-dc"], "zstd"),
            Self::Lz4 => ("lz4", &["-dc"], "lz4"),
            Self::Bzip2 => ("bzip2", &["-dc"], "bzip2"),
            Self::Lzo => ("lzop", &["-dc"], "lzop"),
        }
    }
}

/// The little-endian number of `N` bytes at `at` of `data`, if there.
pub(crate) fn le<const N: usize>(data: &[u8], at: usize) -> Option<usize> {
    let bytes: [u8; N] = data.get(at..at.checked_add(N)?)?.try_into().ok()?;
    Some(bytes.iter().rev().fold(0, |n, b| n << 8 | usize::from(*b)))
}

/// The compressed payload named by the bzImage boot header, if any.
pub(crate) fn header_payload(image: &[u8]) -> Option<&[u8]> {
    if image.get(0x202..0x206)? != b"HdrS" {
        return None;
    }
    if le::<2>(image, 0x206)? < 0x0208 {
        return None; // No payload_offset before boot protocol 2.08.
    }
    // setup_sects of 0 means 4, for ancient loaders' sake.
    let setup_sects = match *image.get(0x1f1)? {
        0 => 4,
        n => usize::from(n),
    };
    let start = (setup_sects + 1) * 512 + le::<4>(image, 0x248)?;
    image.get(start..start + le::<4>(image, 0x24c)?)
}

/// Which compression a stream starts with.
pub(crate) fn sniff(stream: &[u8]) -> Option<Compression> {
    Compression::ALL
        .into_iter()
        .find(|c| stream.starts_with(c.magic()))
}

/// Every offset where some compression magic starts, in file order,
/// at most `per_kind` per compression (lzma's magic is short and
/// matches by chance).
pub(crate) fn find_magics(
    image: &[u8],
    per_kind: usize,
) -> Vec<(usize, Compression)> {
    let mut hits = Vec::new();
    for c in Compression::ALL {
        let m = c.magic();
        let found = image
            .windows(m.len())
            .enumerate()
            .filter(|(_, w)| *w == m)
            .map(|(at, _)| (at, c))
            .take(per_kind);
        hits.extend(found);
    }
    hits.sort_by_key(|&(at, _)| at);
    hits
}

/// How a kernel image a user names (`--image`) boots, from its bytes:
/// an ELF `vmlinux` through its PVH entry point (its `Xen` note of type
/// `XEN_ELFNOTE_PHYS32_ENTRY`, include/xen/interface/elfnote.h, which
/// `CONFIG_PVH` adds), a bzImage (`HdrS` at 0x202, the x86 boot
/// protocol) through the firmware. Anything else is not a kernel image.
pub(crate) fn boot_of(image: &[u8]) -> Result<super::qemu::BootPath, String> {
    if image.get(0x202..0x206) == Some(b"HdrS") {
        return Ok(super::qemu::BootPath::BzImage);
    }
    if !is_elf(image) {
        let head: Vec<String> =
            image.iter().take(4).map(|b| format!("{b:02x}")).collect();
        return Err(format!(
            "not a kernel image: neither an ELF vmlinux nor a bzImage (it \
             starts with {})",
            if head.is_empty() {
                "nothing".into()
            } else {
                head.join(" ")
            }
        ));
    }
    if image.get(4) != Some(&2) {
        return Err("a 32-bit ELF: the matrix boots x86_64 kernels".into());
    }
    if has_pvh_note(image) {
        Ok(super::qemu::BootPath::Pvh)
    } else {
        Err(
            "an ELF without a PVH entry point (no XEN_ELFNOTE_PHYS32_ENTRY \
             note): build it with CONFIG_PVH, or pass its bzImage \
             (arch/x86/boot/bzImage)"
                .into(),
        )
    }
}

/// Whether an ELF64 file has a `Xen` note of type 18, the PVH entry.
fn has_pvh_note(elf: &[u8]) -> bool {
    const PT_NOTE: usize = 4;
    const XEN_ELFNOTE_PHYS32_ENTRY: usize = 18;
    let (u16_at, u32_at) = (|at| le::<2>(elf, at), |at| le::<4>(elf, at));
    let u64_at = |at| le::<8>(elf, at);
    let notes = || -> Option<bool> {
        let (phoff, entsize, count) =
            (u64_at(0x20)?, u16_at(0x36)?, u16_at(0x38)?);
        for index in 0..count {
            let ph = phoff + index * entsize;
            if u32_at(ph)? != PT_NOTE {
                continue;
            }
            let (mut at, end) =
                (u64_at(ph + 8)?, u64_at(ph + 8)? + u64_at(ph + 32)?);
            while at + 12 <= end {
                let (namesz, descsz) = (u32_at(at)?, u32_at(at + 4)?);
                let kind = u32_at(at + 8)?;
                let name = elf.get(at + 12..at + 12 + namesz)?;
                if name.starts_with(b"Xen") && kind == XEN_ELFNOTE_PHYS32_ENTRY
                {
                    return Some(true);
                }
                at += 12
                    + namesz.next_multiple_of(4)
                    + descsz.next_multiple_of(4);
            }
        }
        Some(false)
    };
    notes().unwrap_or(false)
}

/// Whether `data` is an ELF file.
pub(crate) fn is_elf(data: &[u8]) -> bool {
    data.starts_with(b"\x7fELF")
}

/// Decompresses the kernel inside `image` (a bzImage) to its ELF.
pub(crate) fn extract(image: &[u8]) -> Result<Vec<u8>, String> {
    let mut tried = Vec::new();
    let from_header = header_payload(image).and_then(|p| Some((p, sniff(p)?)));
    if let Some((payload, c)) = from_header {
        match decompress(c, payload)? {
            Some(elf) => return Ok(elf),
            None => tried.push(format!("{c:?} at the header's offset")),
        }
    }
    for (at, c) in find_magics(image, 8) {
        if let Some(elf) = decompress(c, &image[at..])? {
            return Ok(elf);
        }
        tried.push(format!("{c:?} at {at:#x}"));
    }
    Err(format!(
        "found no compressed ELF (tried: {}); is this a bzImage?",
        if tried.is_empty() {
            "nothing".into()
        } else {
            tried.join(", ")
        }
    ))
}

/// Runs the decompressor; `Ok(None)` when its output is not an ELF.
///
/// Its exit status is ignored, like extract-vmlinux does: the kernel's
/// build appends the uncompressed size after the stream, which the
/// tools report as trailing garbage after writing the whole output.
fn decompress(
    c: Compression,
    stream: &[u8],
) -> Result<Option<Vec<u8>>, String> {
    let (program, args, package) = c.tool();
    let out = child::output(Command::new(program).args(args), Some(stream))
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "{program} not found (needed for a {c:?} kernel); \
                     install it: apt-get install {package}"
                )
            } else {
                format!("running {program}: {e}")
            }
        })?;
    Ok(is_elf(&out.stdout).then_some(out.stdout))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake bzImage: setup_sects = 1, payload at +16 of the
    /// protected-mode code (1024), 8 bytes long.
    fn fake_bzimage(payload: &[u8]) -> Vec<u8> {
        let mut img = vec![0u8; 1024 + 16];
        img[0x1f1] = 1;
        img[0x202..0x206].copy_from_slice(b"HdrS");
        img[0x206..0x208].copy_from_slice(&0x020fu16.to_le_bytes());
        img[0x248..0x24c].copy_from_slice(&16u32.to_le_bytes());
        let len = u32::try_from(payload.len()).unwrap();
        img[0x24c..0x250].copy_from_slice(&len.to_le_bytes());
        img.extend_from_slice(payload);
        img.extend_from_slice(b"tail");
        img
    }

    #[test]
    fn header_locates_the_payload() {
        let img = fake_bzimage(b"\x28\xb5\x2f\xfdzstd");
        let payload = header_payload(&img).unwrap();
        assert_eq!(payload, b"\x28\xb5\x2f\xfdzstd");
        assert_eq!(sniff(payload), Some(Compression::Zstd));
    }

    #[test]
    fn header_is_ignored_without_signature_or_when_too_old() {
        let mut img = fake_bzimage(b"x");
        img[0x202] = b'X';
        assert_eq!(header_payload(&img), None);
        let mut img = fake_bzimage(b"x");
        img[0x206..0x208].copy_from_slice(&0x0207u16.to_le_bytes());
        assert_eq!(header_payload(&img), None);
        assert_eq!(header_payload(b"short"), None);
    }

    #[test]
    fn magic_search_lists_hits_in_file_order() {
        let img = b"..BZh..\x02\x21\x4c\x18..\x1f\x8b\x08..BZh";
        let hits = find_magics(img, 8);
        assert_eq!(
            hits,
            vec![
                (2, Compression::Bzip2),
                (7, Compression::Lz4),
                (13, Compression::Gzip),
                (18, Compression::Bzip2),
            ]
        );
        assert_eq!(find_magics(img, 1).len(), 3, "one bzip2 hit kept");
    }

    #[test]
    fn sniff_knows_each_magic() {
        for c in Compression::ALL {
            assert_eq!(sniff(c.magic()), Some(c));
        }
        assert_eq!(sniff(b"\x7fELF"), None);
    }
}
