//! Parsers of what `/proc` returns, without any I/O.
//!
//! Each parser takes the bytes or text the kernel produced and is unit
//! tested on captured samples, so that a claim that fails is a fact of the
//! kernel, not a parsing accident. A parse error is one line that says
//! which file and what was wrong (`cannot parse stat: no ")"`): when it
//! happens on a real `/proc` it is our bug, and `procfs.rs` says so.
//!
//! Book: "By hand and with the checker" shows where each file comes from.

use std::ffi::CStr;

/// The message of a parse error: `cannot parse status: no Pid: line`.
pub fn error(file: &str, problem: impl std::fmt::Display) -> String {
    format!("cannot parse {file}: {problem}")
}

/// `d_type` of a symbolic link, as `getdents64` reports it.
pub const DT_LNK: u8 = 10;
/// `d_type` of a directory.
pub const DT_DIR: u8 = 4;

/// One `struct linux_dirent64` record from `getdents64(2)`, without its
/// inode number, which no claim reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirent {
    /// The position to `lseek` to for the entry *after* this one.
    pub d_off: i64,
    pub d_type: u8,
    pub name: String,
}

impl Dirent {
    /// The name as a number, for the pid directories.
    pub fn pid(&self) -> Option<i32> {
        parse_pid(&self.name)
    }
}

/// A decimal pid as the kernel writes it: digits only, no leading zero.
/// Strict as the kernel's own `name_to_int()` (fs/proc/util.c) is for
/// a lookup: `0042` is no pid's name, and neither is `+42`, which
/// Rust's `parse` would take.
pub fn parse_pid(name: &str) -> Option<i32> {
    let strict = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_digit())
        && (name == "0" || !name.starts_with('0'));
    if strict { name.parse().ok() } else { None }
}

/// Split a `getdents64` buffer into records.
///
/// Layout (include/linux/dirent.h): `u64 d_ino; s64 d_off; u16 d_reclen;
/// u8 d_type; char d_name[]` with a NUL-terminated name, each record
/// padded to 8 bytes, so `d_reclen` says where the next one starts. A
/// record that does not fit is an error, never a panic: the bytes come
/// from the kernel, but tests feed it anything.
pub fn parse_dirents(mut buf: &[u8]) -> Result<Vec<Dirent>, String> {
    // The name starts after the 8 + 8 + 2 + 1 bytes of the fields.
    const HEADER: usize = 19;
    let bad = |problem: String| format!("cannot parse getdents64: {problem}");
    let mut entries = Vec::new();
    while let Some(header) = buf.get(..HEADER) {
        let reclen = usize::from(u16::from_ne_bytes([header[16], header[17]]));
        let record = buf.get(HEADER..reclen).ok_or_else(|| {
            bad(format!("record length {reclen} outside 19..={}", buf.len()))
        })?;
        let name = CStr::from_bytes_until_nul(record)
            .map_err(|_| bad("name without its NUL".into()))?;
        let d_off = header[8..16].try_into().map_or(0, i64::from_ne_bytes);
        entries.push(Dirent {
            d_off,
            d_type: header[18],
            name: name.to_string_lossy().into_owned(),
        });
        buf = &buf[reclen..];
    }
    match buf.is_empty() {
        true => Ok(entries),
        false => Err(bad("record shorter than its header".into())),
    }
}

/// The ids in `/proc/<pid>/status` (fs/proc/array.c `task_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusIds {
    pub tgid: i32,
    pub pid: i32,
}

/// Read `Tgid:` and `Pid:` from the text of a `status` file. Each is
/// found by its whole key at the start of a line: `PPid:` and `Ngid:`
/// end like them, and the order of the lines is the kernel's to change.
pub fn parse_status(text: &str) -> Result<StatusIds, String> {
    let field = |key: &str| {
        let line = text.lines().find_map(|line| line.strip_prefix(key));
        let value =
            line.ok_or_else(|| error("status", format!("no {key} line")))?;
        let value = value.trim();
        value
            .parse()
            .map_err(|_| error("status", format!("{key} is {value:?}")))
    };
    let (tgid, pid) = (field("Tgid:")?, field("Pid:")?);
    Ok(StatusIds { tgid, pid })
}

/// `CAP_SYS_ADMIN`: capability 21 (include/uapi/linux/capability.h).
pub const CAP_SYS_ADMIN: u32 = 21;

/// Whether capability `cap` is in the effective set that the `CapEff:`
/// line of a `status` file shows (hexadecimal, one bit per capability).
pub fn has_capability(status: &str, cap: u32) -> Option<bool> {
    let hex = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
    let caps = u64::from_str_radix(hex.trim(), 16).ok()?;
    Some(caps & (1 << cap) != 0)
}

/// The fields of a `stat` file that the claims use (proc(5), "stat").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// Field 1: the pid the file was opened under.
    pub pid: i32,
    /// Field 2, without the parentheses.
    pub comm: String,
    /// Field 3: `R`, `S`, `Z` (zombie)...
    pub state: char,
    /// Field 4: the parent's pid.
    pub ppid: i32,
    /// Field 9: `PF_*` flags; `PF_KTHREAD` marks kernel threads.
    pub flags: u64,
    /// Fields 14 and 15, in clock ticks.
    pub utime: u64,
    pub stime: u64,
    /// Field 22: start time after boot, in clock ticks; with the pid it
    /// names one task even if the pid is later reused.
    pub starttime: u64,
}

/// `PF_KTHREAD` from include/linux/sched.h.
pub const PF_KTHREAD: u64 = 0x0020_0000;

impl Stat {
    /// CPU time in clock ticks, user plus system.
    pub fn cpu_ticks(&self) -> u64 {
        self.utime + self.stime
    }
}

/// Parse a `stat` line. The comm may hold spaces and parentheses (a
/// thread names itself), so it ends at the *last* `)`; fields are
/// numbered as proc(5) numbers them, the state (field 3) first after it.
pub fn parse_stat(text: &str) -> Result<Stat, String> {
    let bad = |problem: String| error("stat", problem);
    let (pid, rest) =
        (text.split_once(" (")).ok_or_else(|| bad("no \" (\"".into()))?;
    let (comm, rest) =
        (rest.rsplit_once(')')).ok_or_else(|| bad("no \")\"".into()))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| {
        let value = fields
            .get(n - 3)
            .ok_or_else(|| bad(format!("only {} fields", fields.len() + 2)))?;
        (value.parse::<u64>())
            .map_err(|_| bad(format!("field {n} is {value:?}")))
    };
    let pid = (pid.parse()).map_err(|_| bad(format!("pid is {pid:?}")))?;
    let state = (fields.first().and_then(|field| field.chars().next()))
        .ok_or_else(|| bad("no state field".into()))?;
    let ppid = field(4)?;
    Ok(Stat {
        pid,
        comm: comm.to_string(),
        state,
        ppid: i32::try_from(ppid)
            .map_err(|_| bad(format!("ppid {ppid} too large")))?,
        flags: field(9)?,
        utime: field(14)?,
        stime: field(15)?,
        starttime: field(22)?,
    })
}

/// Field 22 of a `stat` line alone, counted as [`parse_stat`] counts:
/// when the task started, in clock ticks after boot, which with its id
/// names one task even after the id is given to another. `None` if the
/// line has no such field.
pub fn parse_starttime(text: &str) -> Option<u64> {
    let (_, fields) = text.rsplit_once(')')?;
    fields.split_whitespace().nth(22 - 3)?.parse().ok()
}

/// The value of `hidepid=` in procfs mount options, when it hides
/// anything: `invisible`, `noaccess` or `ptraceable` (or their old
/// numbers 2, 1 and 4).
pub fn hidepid(options: &str) -> Option<&str> {
    options
        .split(',')
        .find_map(|option| option.strip_prefix("hidepid="))
        .filter(|value| !matches!(*value, "0" | "off"))
}

/// Undo mountinfo's `\ooo` escapes.
pub fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let octal = bytes.get(at + 1..at + 4).filter(|digits| {
            bytes[at] == b'\\'
                && digits.iter().all(|d| (b'0'..=b'7').contains(d))
        });
        match octal {
            Some(digits) => {
                let value = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                out.push(value as u8);
                at += 4;
            }
            None => {
                out.push(bytes[at]);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encode records as the kernel's filldir64 does.
    fn record(ino: u64, off: i64, kind: u8, name: &str) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(ino.to_ne_bytes());
        out.extend(off.to_ne_bytes());
        let len = (19 + name.len() + 1).next_multiple_of(8);
        out.extend((len as u16).to_ne_bytes());
        out.push(kind);
        out.extend(name.as_bytes());
        out.resize(len, 0);
        out
    }

    #[test]
    fn dirents_keep_order_offsets_and_types() {
        let mut buf = record(1, 256, DT_DIR, "uptime");
        buf.extend(record(2, 257, DT_LNK, "self"));
        buf.extend(record(3, 259, DT_DIR, "1"));
        let entries = parse_dirents(&buf).unwrap();
        let names: Vec<_> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["uptime", "self", "1"]);
        assert_eq!(entries[1].d_off, 257);
        assert_eq!(entries[1].d_type, DT_LNK);
        assert_eq!(entries[2].pid(), Some(1));
    }

    #[test]
    fn truncated_dirents_are_an_error_not_a_panic() {
        let buf = record(1, 256, DT_DIR, "uptime");
        for len in 1..buf.len() {
            assert!(parse_dirents(&buf[..len]).is_err(), "len {len}");
        }
        let mut bad = buf.clone();
        bad[16] = 3;
        bad[17] = 0;
        assert!(parse_dirents(&bad).is_err());
    }

    #[test]
    fn pids_are_strict_decimal() {
        assert_eq!(parse_pid("4242"), Some(4242));
        assert_eq!(parse_pid("0"), Some(0));
        for bad in ["04242", "4242x", "", "+1", "-1", "self"] {
            assert_eq!(parse_pid(bad), None, "{bad}");
        }
    }

    /// Captured from `/proc/<TID>/status` of a demo-spawner thread.
    const STATUS: &str = "Name:\ttid-demo-1\nUmask:\t0022\nState:\tS \
        (sleeping)\nTgid:\t17343\nNgid:\t0\nPid:\t17345\nPPid:\t17000\n";

    #[test]
    fn capabilities_are_bits_of_cap_eff() {
        let root = "CapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
        assert_eq!(has_capability(root, CAP_SYS_ADMIN), Some(true));
        let user = "CapEff:\t0000000000000000\n";
        assert_eq!(has_capability(user, CAP_SYS_ADMIN), Some(false));
        assert_eq!(has_capability(STATUS, CAP_SYS_ADMIN), None);
    }

    #[test]
    fn status_gives_the_threads_pid_and_its_groups_tgid() {
        let ids = parse_status(STATUS).unwrap();
        assert_eq!((ids.tgid, ids.pid), (17343, 17345));
        // `Ngid:` and `PPid:` must not be mistaken for `Pid:`.
        let err = parse_status("Tgid:\t1\nPPid:\t0\n").unwrap_err();
        assert_eq!(err, "cannot parse status: no Pid: line");
        assert!(parse_status("Tgid:\tx\nPid:\t1\n").is_err());
    }

    /// Captured from `/proc/<TID>/stat`; the comm has a space and a `)`.
    const STAT: &str = "17345 (a) b) S 17000 17343 17000 34816 17343 \
        4194368 93 0 0 0 21 3 0 0 20 0 4 0 123456 12345678 200 \
        18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 -1 1 0 0 0 0 0\n";

    #[test]
    fn stat_fields_count_from_the_last_parenthesis() {
        let stat = parse_stat(STAT).unwrap();
        assert_eq!(stat.pid, 17345);
        assert_eq!(stat.comm, "a) b");
        assert_eq!((stat.state, stat.ppid), ('S', 17000));
        assert_eq!(stat.flags, 4_194_368);
        assert_eq!((stat.utime, stat.stime), (21, 3));
        assert_eq!(stat.cpu_ticks(), 24);
        assert_eq!(stat.starttime, 123_456);
    }

    #[test]
    fn the_start_time_alone_is_field_22() {
        assert_eq!(parse_starttime(STAT), Some(123_456));
        assert_eq!(parse_starttime("1 (x) S 1 2"), None);
    }

    #[test]
    fn short_or_garbled_stat_is_an_error_not_a_panic() {
        for bad in ["", "1 (x", "x (y) S", "1 (x) S 1 2", ")( 1 (", "1 ()"] {
            assert!(parse_stat(bad).is_err(), "{bad:?}");
        }
    }
}
