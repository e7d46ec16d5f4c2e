//! A writer for the "newc" cpio format, the one format the kernel
//! unpacks as an initramfs (see the kernel's
//! Documentation/driver-api/early-userspace/buffer-format.rst).
//!
//! The matrix needs one file, `/init`; writing the format here (110-byte
//! ASCII header, name, padding to 4 bytes) beats depending on a `cpio`
//! tool that Debian does not install by default.

/// The fixed magic of a newc header without checksums.
const MAGIC: &str = "070701";

/// A newc archive of one regular file, `name` (without a leading `/`)
/// with permission bits `mode`, then the trailer.
pub(crate) fn archive(name: &str, mode: u32, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    // Inode 1, as a cpio tool numbers its first file; the trailer's
    // fields are all zero.
    push_entry(&mut out, 1, 0o100_000 | mode, name, data);
    push_entry(&mut out, 0, 0, "TRAILER!!!", &[]);
    out
}

fn push_entry(
    out: &mut Vec<u8>,
    ino: u32,
    mode: u32,
    name: &str,
    data: &[u8],
) {
    let size = u32::try_from(data.len()).expect("newc files are < 4 GiB");
    let namesize = u32::try_from(name.len() + 1).expect("short name");
    // ino mode uid gid nlink mtime filesize devmajor devminor
    // rdevmajor rdevminor namesize check: 13 fields, 8 hex digits each.
    let fields = [ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, namesize, 0];
    out.extend_from_slice(MAGIC.as_bytes());
    for f in fields {
        out.extend_from_slice(format!("{f:08X}").as_bytes());
    }
    out.extend_from_slice(name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(data);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while out.len() % 4 != 0 {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(header: &[u8], n: usize) -> u32 {
        let at = 6 + 8 * n;
        let hex = std::str::from_utf8(&header[at..at + 8]).unwrap();
        u32::from_str_radix(hex, 16).unwrap()
    }

    #[test]
    fn one_file_then_trailer_all_aligned() {
        let data = b"#!hello";
        let cpio = archive("init", 0o755, data);
        assert!(cpio.starts_with(b"070701"));
        assert_eq!(field(&cpio, 0), 1, "not the trailer's inode");
        assert_eq!(field(&cpio, 1), 0o100_755, "regular file, rwxr-xr-x");
        assert_eq!(field(&cpio, 6) as usize, data.len());
        assert_eq!(field(&cpio, 11), 5, "name size counts the NUL");
        // 110-byte header + "init\0" = 115, padded to 116.
        assert_eq!(&cpio[110..115], b"init\0");
        assert_eq!(&cpio[116..123], data);
        // Data padded to 124, then the trailer header.
        let trailer = &cpio[124..];
        assert!(trailer.starts_with(b"070701"));
        assert_eq!(&trailer[110..121], b"TRAILER!!!\0");
        assert_eq!(cpio.len() % 4, 0);
    }
}
