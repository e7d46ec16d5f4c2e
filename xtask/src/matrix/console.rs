//! Reading the checker's report off a VM's console.
//!
//! The console is the only evidence: QEMU exits 0 even when the guest
//! panics, so a kernel counts as reported only if the checker's report
//! appears between its markers (see `checker/src/vm_init.rs`).

use checker::vm_init::{
    REPORT_BEGIN as BEGIN, REPORT_END as END, REPORT_PANIC as PANIC,
};

/// What a console log says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Console {
    /// The text between the markers.
    Report(String),
    /// No report; why, with the console's last lines as evidence.
    NoReport(String),
}

/// Removes terminal escape sequences (the firmware's, the kernel's
/// colour codes) and carriage returns.
pub(crate) fn strip_escapes(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                // CSI: parameters and intermediates up to a final
                // byte in @..~.
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // Charset selection: ESC ( B and friends.
                Some('(' | ')') => {
                    chars.next();
                }
                // Two-byte sequences (ESC c resets the terminal).
                _ => {}
            },
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Finds the report in a raw console log.
pub(crate) fn parse_console(raw: &str) -> Console {
    let text = strip_escapes(raw);
    let lines: Vec<&str> = text.lines().collect();
    let find = |marker: &str| lines.iter().position(|l| l.trim() == marker);
    match (find(BEGIN), find(PANIC)) {
        (Some(begin), _) => {
            let Some(len) =
                lines[begin + 1..].iter().position(|l| l.trim() == END)
            else {
                return Console::NoReport(format!(
                    "report began but never ended (guest died \
                     mid-report?): {}",
                    tail(&lines[begin..], 3)
                ));
            };
            let body: Vec<&str> = lines[begin + 1..begin + 1 + len]
                .iter()
                .copied()
                .filter(|l| !is_printk(l))
                .collect();
            Console::Report(body.join("\n"))
        }
        (None, Some(at)) => Console::NoReport(format!(
            "the checker panicked: {}",
            panic_message(&lines[..at]).unwrap_or("(no message)")
        )),
        (None, None) if lines.iter().all(|l| l.trim().is_empty()) => {
            Console::NoReport("no console output at all".into())
        }
        (None, None) => Console::NoReport(never_reported(&lines)),
    }
}

/// Why a console that has output holds no report: what the kernel said
/// last, named when it is a panic or a missing init.
fn never_reported(lines: &[&str]) -> String {
    let find = |needle: &str| {
        (lines.iter().rev()).find(|l| l.contains(needle)).map(|l| {
            l.trim()
                .trim_start_matches(|c| c != ']')
                .trim_start_matches("] ")
        })
    };
    if let Some(line) = find("No working init found") {
        return format!(
            "the kernel found no working init, never reaching the \
             checker: {line}"
        );
    }
    if let Some(line) = find("Kernel panic - not syncing") {
        return format!(
            "the kernel panicked before the checker reported: {line}"
        );
    }
    format!("no report on the console; last lines: {}", tail(lines, 3))
}

/// Whether a line is a kernel message (`[    1.234567] ...`) that
/// got in between the markers.
fn is_printk(line: &str) -> bool {
    let Some(rest) = line.strip_prefix('[') else {
        return false;
    };
    let Some((stamp, _)) = rest.split_once(']') else {
        return false;
    };
    let stamp = stamp.trim();
    !stamp.is_empty()
        && stamp.contains('.')
        && stamp.chars().all(|c| c.is_ascii_digit() || c == '.')
}

fn panic_message<'a>(lines: &[&'a str]) -> Option<&'a str> {
    let at = lines.iter().rposition(|l| l.contains("panicked at"))?;
    // Rust prints the location line, then the message on the next.
    lines.get(at + 1).or(lines.get(at)).map(|l| l.trim())
}

fn tail(lines: &[&str], n: usize) -> String {
    let useful: Vec<&str> = lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect();
    useful[useful.len().saturating_sub(n)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_csi_charset_and_reset_sequences() {
        let raw = "\u{1b}c\u{1b}[?7l\u{1b}[2J\u{1b}(Bboot\r\nok\u{1b}[0m\r\n";
        assert_eq!(strip_escapes(raw), "boot\nok\n");
    }

    #[test]
    fn finds_the_report_between_markers() {
        let raw = format!(
            "\u{1b}[2J[    0.1] hello\r\n{BEGIN}\r\n{{\"x\":\r\n\
             [    1.605538] random: crng init done\r\n1}}\r\n{END}\r\n\
             [    2.0] reboot: Power down\r\n"
        );
        assert_eq!(parse_console(&raw), Console::Report("{\"x\":\n1}".into()));
    }

    #[test]
    fn a_begun_but_unended_report_is_no_report() {
        let raw = format!("{BEGIN}\n{{\"x\":\nKernel panic - not syncing\n");
        let Console::NoReport(why) = parse_console(&raw) else {
            panic!("should not count as a report")
        };
        assert!(why.contains("never ended"), "{why}");
        assert!(why.contains("Kernel panic"), "{why}");
    }

    #[test]
    fn a_panic_marker_reports_the_message() {
        let raw = format!(
            "thread 'main' panicked at checker/src/main.rs:3:5:\n\
             claim table is empty\n{PANIC}\n"
        );
        assert_eq!(
            parse_console(&raw),
            Console::NoReport(
                "the checker panicked: claim table is empty".into()
            )
        );
    }

    #[test]
    fn silence_a_missing_init_and_a_kernel_panic_are_named() {
        assert_eq!(
            parse_console("\u{1b}c\r\n"),
            Console::NoReport("no console output at all".into())
        );
        let no_init = "[ 0.9] Run /init as init process\n\
                       [ 0.9] Kernel panic - not syncing: No working init \
                       found.  Try passing init= option to kernel.\n";
        let Console::NoReport(why) = parse_console(no_init) else {
            panic!()
        };
        assert!(why.starts_with("the kernel found no working init"), "{why}");
        let panic = "[ 1.6] Kernel panic - not syncing: VFS: Unable to mount \
                     root fs\n[ 1.7] ---[ end Kernel panic ]---\n";
        let Console::NoReport(why) = parse_console(panic) else {
            panic!()
        };
        assert_eq!(
            why,
            "the kernel panicked before the checker reported: Kernel panic \
             - not syncing: VFS: Unable to mount root fs"
        );
    }

    #[test]
    fn printk_lines_are_recognised() {
        assert!(is_printk("[    1.605538] random: crng init done"));
        assert!(!is_printk("[1, 2]"));
        assert!(!is_printk("[]"));
    }
}
