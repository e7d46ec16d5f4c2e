//! Prose broken into lines that fit a width.

/// The columns `line` takes on a terminal: one per character, a tab up
/// to the next multiple of 8, and none for ANSI escape sequences
/// (`ESC [ ... letter`), which style the text but take no room.
pub fn display_width(line: &str) -> usize {
    let mut columns = 0;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                // CSI: ESC [ parameters, then one final letter.
                if chars.next() == Some('[') {
                    for c in chars.by_ref() {
                        if c.is_ascii_alphabetic() {
                            break;
                        }
                    }
                }
            }
            '\t' => columns += 8 - columns % 8,
            _ => columns += 1,
        }
    }
    columns
}

/// Break `text` into lines of at most `width` columns, each starting
/// with `indent`; `None` keeps it on one line.
///
/// Lines break at spaces. A word longer than a whole line (a long path,
/// an id) breaks after its last `/`, `_`, `-` or `,` that fits, or where
/// the line ends if it has none, so that no line is ever wider than
/// `width`. Runs of whitespace, newlines included, become one space.
pub fn wrap(text: &str, width: Option<usize>, indent: &str) -> Vec<String> {
    wrap_after(indent, text, width, indent)
}

/// [`wrap`], with the first line starting with `first` (a label such
/// as `"     found:    "`, kept as it is) and the others with `indent`.
pub fn wrap_after(
    first: &str,
    text: &str,
    width: Option<usize>,
    indent: &str,
) -> Vec<String> {
    let width = width.unwrap_or(usize::MAX);
    // Room for text after a line's start; at least one column, however
    // deep the indent, so that every character finds a line.
    let room_after =
        |start: &str| width.saturating_sub(start.chars().count()).max(1);
    let mut lines = Vec::new();
    let mut start = first;
    let mut line = String::new();
    let mut used = 0;
    for word in text.split_whitespace() {
        let mut word = word;
        let mut length = word.chars().count();
        if used > 0 && used + 1 + length <= room_after(start) {
            line.push(' ');
            line.push_str(word);
            used += 1 + length;
            continue;
        }
        if used > 0 {
            lines.push(format!("{start}{line}"));
            line.clear();
            start = indent;
        }
        while length > room_after(start) {
            let (head, tail) = split_word(word, room_after(start));
            lines.push(format!("{start}{head}"));
            start = indent;
            word = tail;
            length = word.chars().count();
        }
        line.push_str(word);
        used = length;
    }
    if used > 0 {
        lines.push(format!("{start}{line}"));
    }
    lines
}

/// `word` split after at most `room` characters: after the last break
/// character within them, or at `room` if there is none.
fn split_word(word: &str, room: usize) -> (&str, &str) {
    let cut = word
        .char_indices()
        .nth(room)
        .map_or(word.len(), |(index, _)| index);
    let at = word[..cut]
        .rfind(['/', '_', '-', ','])
        .map(|index| index + 1)
        .filter(|&index| index < cut && index > 0)
        .unwrap_or(cut);
    word.split_at(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_at_spaces_and_indents() {
        assert_eq!(
            wrap("one two three four", Some(9), "  "),
            ["  one two", "  three", "  four"]
        );
        assert!(wrap("   ", Some(5), "").is_empty());
        assert_eq!(wrap("a b  c\nd", None, "> "), ["> a b c d"]);
    }

    #[test]
    fn a_word_longer_than_a_line_breaks_after_a_slash_or_at_the_edge() {
        assert_eq!(
            wrap("see /sys/kernel/security/lockdown now", Some(12), ""),
            ["see", "/sys/kernel/", "security/", "lockdown now"]
        );
        assert_eq!(wrap("abcdefghij", Some(4), ""), ["abcd", "efgh", "ij"]);
        // An indent as wide as the line still leaves a column of room.
        assert_eq!(wrap("ab", Some(2), "  "), ["  a", "  b"]);
    }

    #[test]
    fn a_label_starts_the_first_line_only() {
        assert_eq!(
            wrap_after("  found:    ", "aa bb cc", Some(16), "  "),
            ["  found:    aa", "  bb cc"]
        );
    }

    #[test]
    fn no_line_is_wider_than_asked() {
        let text = "listing_positions_follow_tgid_arithmetic: expected \
                    /proc/4194304/task/4194305/stat to read 12 fields; \
                    proc_pid_readdir <- iterate_dir <- __x64_sys_getdents64";
        for width in 5..100 {
            for line in wrap(text, Some(width), "     ") {
                assert!(display_width(&line) <= width.max(6), "{line:?}");
            }
        }
    }

    #[test]
    fn escapes_take_no_room_and_tabs_reach_the_next_stop() {
        assert_eq!(display_width("\u{1b}[1;32mPASS\u{1b}[0m x"), 6);
        assert_eq!(display_width("Name:\ttid"), 11);
        assert_eq!(display_width("\t"), 8);
    }
}
