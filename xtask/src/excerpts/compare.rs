//! Comparing a kernel excerpt with the kernel source it names, without
//! I/O (the book's kernel excerpts, `book/excerpts/`).
//!
//! Everything here takes text and returns values, so that the unit tests
//! below can run on small inline fixtures: no network, no kernel tree.
//! The thin layer that downloads the source and reads files lives in
//! `source.rs` and `../excerpts.rs`.
//!
//! An excerpt file is a header line followed by the excerpt itself:
//!
//! ```text
//! /* <path>:<line> <what> | Linux <version> */
//! <the kernel's lines, from <line> on, tabs expanded>
//! ```
//!
//! (`book/excerpts/README.md` has a full example.)
//!
//! The excerpt must equal the kernel lines that start at the named line,
//! byte for byte once the kernel's tabs are expanded to 8 columns (the
//! kernel's coding style assumes 8; browsers disagree about a tab at the
//! start of a code block): trailing blanks and all. That strictness is
//! the point. A quote that "looks the same" but is not the same is how
//! books drift from the code they quote.

use std::fmt::Write as _;

/// How a header line must look; quoted in every header error so that the
/// reader can fix the line without opening the README.
pub(crate) const HEADER_FORMAT: &str =
    "/* <path>:<line> <what> | Linux <version> */";

/// At most this many differing lines are shown per excerpt: when a whole
/// function was rewritten, forty "expected/found" pairs bury the news.
const MAX_SHOWN: usize = 8;

/// The first line of an excerpt file, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    /// The kernel file, relative to the top of the tree (`fs/proc/base.c`).
    pub(crate) path: String,
    /// The 1-based kernel line where the excerpt starts.
    pub(crate) line: usize,
    /// Free text for humans: the function, struct or macro excerpted.
    pub(crate) what: String,
    /// The kernel version, as the tree's Makefile spells it (`6.12.117`).
    pub(crate) kernel: String,
}

impl Header {
    /// Parses a header line; the error says what is wrong, not where (the
    /// caller knows the file).
    pub(crate) fn parse(line: &str) -> Result<Header, String> {
        let bad = |why: &str| {
            format!("{why}; a header looks like `{HEADER_FORMAT}`")
        };
        let inner = line
            .strip_prefix("/* ")
            .and_then(|l| l.strip_suffix(" */"))
            .ok_or_else(|| {
                bad("the first line is not a `/* ... */` header")
            })?;
        let (place, release) = inner
            .rsplit_once(" | ")
            .ok_or_else(|| bad("no ` | ` before the kernel version"))?;
        let (location, what) = place
            .split_once(' ')
            .ok_or_else(|| bad("no description after `<path>:<line>`"))?;
        let (path, number) = location
            .rsplit_once(':')
            .ok_or_else(|| bad("no `:<line>` after the kernel path"))?;
        let line =
            number.parse::<usize>().ok().filter(|&n| n > 0).ok_or_else(
                || bad(&format!("line {number:?} is not a number >= 1")),
            )?;
        let kernel = release
            .strip_prefix("Linux ")
            .filter(|v| !v.is_empty() && !v.contains(' '))
            .ok_or_else(|| bad("the release is not `Linux <version>`"))?;
        if path.is_empty() || what.trim().is_empty() {
            return Err(bad("the path or the description is empty"));
        }
        Ok(Header {
            path: path.to_owned(),
            line,
            what: what.trim().to_owned(),
            kernel: kernel.to_owned(),
        })
    }

    /// `Linux 6.12.117`, as headers spell it.
    pub(crate) fn release(&self) -> String {
        format!("Linux {}", self.kernel)
    }
}

/// One excerpt file: where it lives in the book, what it claims to quote,
/// and the quoted lines.
#[derive(Debug, Clone)]
pub(crate) struct Excerpt {
    /// The excerpt file as messages name it (`book/excerpts/x.c`).
    pub(crate) name: String,
    pub(crate) header: Header,
    /// The quoted kernel lines, without their newlines.
    pub(crate) body: Vec<String>,
}

impl Excerpt {
    /// Parses an excerpt file; errors start with `name:line:` like a
    /// compiler's, so editors can jump to them.
    pub(crate) fn parse(name: &str, text: &str) -> Result<Excerpt, String> {
        let mut lines = split_lines(text).into_iter();
        let first = lines.next().unwrap_or_default();
        let header =
            Header::parse(first).map_err(|why| format!("{name}:1: {why}"))?;
        let body: Vec<String> = lines.map(str::to_owned).collect();
        if let Some(at) = body.iter().position(|line| line.contains('\t')) {
            return Err(format!(
                "{name}:{}: a tab; excerpts hold the kernel's lines with \
                 tabs expanded to 8 columns (`expand -t 8`)",
                Self::FIRST_BODY_LINE + at
            ));
        }
        if body.is_empty() {
            return Err(format!(
                "{name}: the excerpt is empty; copy the kernel lines that \
                 start at {}:{} below the header",
                header.path, header.line
            ));
        }
        Ok(Excerpt {
            name: name.to_owned(),
            header,
            body,
        })
    }

    /// The excerpt's first line in the excerpt file (1 is the header).
    const FIRST_BODY_LINE: usize = 2;
}

/// One line where the excerpt and the kernel disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineDiff {
    /// The line in the excerpt file (the header is line 1).
    pub(crate) excerpt_line: usize,
    /// The line in the kernel file it was compared with.
    pub(crate) kernel_line: usize,
    /// The kernel's line; `None` past the end of the kernel file.
    pub(crate) expected: Option<String>,
    /// The excerpt's line.
    pub(crate) found: String,
}

/// What comparing one excerpt with its kernel file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The excerpt equals the kernel lines at the header's line.
    Matches,
    /// The excerpt equals the kernel lines elsewhere: the code moved (a
    /// patch above it added or removed lines) and only the header's line
    /// number is stale.
    Moved { found_at: usize },
    /// Some lines differ. `at` is the kernel line the excerpt was aligned
    /// with: the header's line, or where the excerpt's first line now
    /// stands if the code moved as well as changed.
    Differs { at: usize, lines: Vec<LineDiff> },
}

/// Splits text into lines without their `\n`, keeping everything else.
///
/// Not `str::lines`: that also strips a `\r`, and an excerpt saved with
/// CRLF endings is not a verbatim copy of a kernel file.
pub(crate) fn split_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.split('\n').collect();
    // A final newline ends the last line; it does not start a new one.
    if lines.last() == Some(&"") {
        lines.pop();
    }
    lines
}

/// `line` with each tab expanded to the next multiple of 8 columns, as
/// the kernel's coding style reads it.
pub(crate) fn expand_tabs(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut column = 0;
    for c in line.chars() {
        if c == '\t' {
            let next = (column / 8 + 1) * 8;
            out.extend(std::iter::repeat_n(' ', next - column));
            column = next;
        } else {
            out.push(c);
            column += 1;
        }
    }
    out
}

/// The lines of a kernel file as excerpts hold them: split as
/// [`split_lines`] does, tabs expanded.
fn kernel_lines(source: &str) -> Vec<String> {
    split_lines(source).into_iter().map(expand_tabs).collect()
}

/// Whether `body` equals `source` from the 1-based line `at` on.
fn matches_at(body: &[String], source: &[String], at: usize) -> bool {
    at >= 1
        && source
            .get(at - 1..at - 1 + body.len())
            .is_some_and(|window| window.iter().eq(body.iter()))
}

/// Of `candidates`, the one nearest to `line` (the earlier on a tie).
fn nearest(
    candidates: impl Iterator<Item = usize>,
    line: usize,
) -> Option<usize> {
    candidates.min_by_key(|&c| (c.abs_diff(line), c))
}

/// Compares one excerpt with the text of the kernel file it names.
pub(crate) fn compare(excerpt: &Excerpt, source: &str) -> Verdict {
    let source = kernel_lines(source);
    let body = &excerpt.body;
    let stated = excerpt.header.line;
    if matches_at(body, &source, stated) {
        return Verdict::Matches;
    }
    let starts = 1..=source.len();
    let whole = starts.clone().filter(|&at| matches_at(body, &source, at));
    if let Some(found_at) = nearest(whole, stated) {
        return Verdict::Moved { found_at };
    }
    // Changed, and perhaps moved too. Align on the kernel line that agrees
    // with the most excerpt lines among the header's line and every place
    // where the excerpt's first line occurs: one edited line should be
    // reported as one line, not as a shifted block.
    let score = |at: usize| {
        body.iter()
            .zip(source.iter().skip(at - 1))
            .filter(|(b, s)| b == s)
            .count()
    };
    let anchors = starts.filter(|&at| source[at - 1] == body[0]);
    let mut candidates: Vec<usize> = anchors.chain([stated]).collect();
    candidates.sort_by_key(|&at| {
        (std::cmp::Reverse(score(at)), at.abs_diff(stated), at)
    });
    let at = candidates[0];
    let lines = body
        .iter()
        .enumerate()
        .filter_map(|(i, found)| {
            let kernel_line = at + i;
            let expected = source.get(kernel_line - 1);
            (expected != Some(found)).then(|| LineDiff {
                excerpt_line: Excerpt::FIRST_BODY_LINE + i,
                kernel_line,
                expected: expected.cloned(),
                found: found.clone(),
            })
        })
        .collect();
    Verdict::Differs { at, lines }
}

/// Where an excerpt stands in some kernel tree, for the locations table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    /// The whole excerpt occurs, unchanged, from this line on.
    Same(usize),
    /// Only the excerpt's first line occurs here: the code changed.
    FirstLineOnly(usize),
    /// Not even the first line occurs in that file.
    NotFound,
}

/// Finds an excerpt in another tree's copy of its file, preferring the
/// place nearest to the header's line when there are several.
pub(crate) fn locate(excerpt: &Excerpt, source: &str) -> Location {
    let source = kernel_lines(source);
    let stated = excerpt.header.line;
    let starts = 1..=source.len();
    let whole = starts
        .clone()
        .filter(|&at| matches_at(&excerpt.body, &source, at));
    if let Some(at) = nearest(whole, stated) {
        return Location::Same(at);
    }
    let first = starts.filter(|&at| source[at - 1] == excerpt.body[0]);
    nearest(first, stated).map_or(Location::NotFound, Location::FirstLineOnly)
}

/// Renders a verdict as the lines a reader needs to fix the excerpt; an
/// empty string for a match.
///
/// Lines are quoted with `{:?}` so that a tab, a trailing blank or a `\r`
/// is visible: those are exactly the differences a reader cannot see.
pub(crate) fn explain(excerpt: &Excerpt, verdict: &Verdict) -> String {
    let Header {
        path, line, kernel, ..
    } = &excerpt.header;
    let name = &excerpt.name;
    let mut out = String::new();
    match verdict {
        Verdict::Matches => {}
        Verdict::Moved { found_at } => {
            let _ = writeln!(
                out,
                "{name}:1: the code moved: the excerpt matches \
                 {path}:{found_at} (Linux {kernel}), not {path}:{line}; \
                 change the header to `{path}:{found_at}`"
            );
        }
        Verdict::Differs { at, lines } => {
            let _ = writeln!(
                out,
                "{name}: {} of {} excerpt lines differ from {path} \
                 (Linux {kernel})",
                lines.len(),
                excerpt.body.len()
            );
            if at != line {
                let _ = writeln!(
                    out,
                    "{name}:1: the code also moved: its first line is at \
                     {path}:{at}, not {path}:{line}; change the header to \
                     `{path}:{at}`"
                );
            }
            for diff in lines.iter().take(MAX_SHOWN) {
                let expected = match &diff.expected {
                    Some(text) => format!("{text:?}"),
                    None => "(end of file)".to_owned(),
                };
                let _ = writeln!(
                    out,
                    "{name}:{}: differs from {path}:{}\n  \
                     expected (kernel):  {expected}\n  \
                     found (excerpt):    {:?}",
                    diff.excerpt_line, diff.kernel_line, diff.found
                );
            }
            if lines.len() > MAX_SHOWN {
                let _ = writeln!(
                    out,
                    "{name}: ... and {} more differing lines",
                    lines.len() - MAX_SHOWN
                );
            }
            let last = at + excerpt.body.len() - 1;
            let _ = writeln!(
                out,
                "{name}: fix: copy {path} lines {at}-{last} verbatim below \
                 the header (see book/excerpts/README.md)"
            );
        }
    }
    out
}

/// Reads `VERSION`, `PATCHLEVEL` and `SUBLEVEL` from a kernel Makefile:
/// `6.12.117`. `None` if the text is not a kernel's top Makefile.
pub(crate) fn makefile_version(makefile: &str) -> Option<String> {
    let value = |key: &str| {
        makefile.lines().find_map(|line| {
            let (name, value) = line.split_once('=')?;
            (name.trim() == key).then(|| value.trim().to_owned())
        })
    };
    let version = value("VERSION")?;
    let patchlevel = value("PATCHLEVEL")?;
    let sublevel = value("SUBLEVEL")?;
    Some(format!("{version}.{patchlevel}.{sublevel}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for fs/proc/root.c: a few lines before the function so
    /// that line numbers are not trivially 1.
    const ROOT_C: &str = "\
// SPDX-License-Identifier: GPL-2.0
#include \"internal.h\"

static struct dentry *proc_root_lookup(struct inode * dir, \
struct dentry * dentry, unsigned int flags)
{
\tif (!proc_pid_lookup(dentry, flags))
\t\treturn NULL;

\treturn proc_lookup(dir, dentry, flags);
}
";

    const HEADER: &str = "/* fs/proc/root.c:4 proc_root_lookup() | \
                          Linux 6.12.117 */";

    /// The excerpt of `ROOT_C`'s function, with the given header: its
    /// lines with tabs expanded.
    fn excerpt_with(header: &str) -> String {
        let function: Vec<String> = split_lines(ROOT_C)[3..]
            .iter()
            .map(|l| expand_tabs(l))
            .collect();
        format!("{header}\n{}\n", function.join("\n"))
    }

    fn parse(text: &str) -> Excerpt {
        Excerpt::parse("book/excerpts/proc_root_lookup.c", text).unwrap()
    }

    #[test]
    fn header_names_file_line_function_and_release() {
        let header = Header::parse(HEADER).unwrap();
        assert_eq!(header.path, "fs/proc/root.c");
        assert_eq!(header.line, 4);
        assert_eq!(header.what, "proc_root_lookup()");
        assert_eq!(header.kernel, "6.12.117");
        assert_eq!(header.release(), "Linux 6.12.117");
    }

    #[test]
    fn malformed_header_is_an_error_that_shows_the_format() {
        let text = "// fs/proc/root.c:4 proc_root_lookup()\n{\n";
        let err = Excerpt::parse("book/excerpts/x.c", text).unwrap_err();
        assert!(err.starts_with("book/excerpts/x.c:1: "), "{err}");
        assert!(err.contains(HEADER_FORMAT), "{err}");
    }

    #[test]
    fn one_altered_line_is_reported_with_both_line_numbers() {
        // Drop the `!`: the excerpt now says the opposite of the kernel.
        let altered = excerpt_with(HEADER).replace(
            "        if (!proc_pid_lookup(dentry, flags))",
            "        if (proc_pid_lookup(dentry, flags))",
        );
        let excerpt = parse(&altered);
        let verdict = compare(&excerpt, ROOT_C);
        assert_eq!(
            verdict,
            Verdict::Differs {
                at: 4,
                lines: vec![LineDiff {
                    excerpt_line: 4,
                    kernel_line: 6,
                    expected: Some(
                        "        if (!proc_pid_lookup(dentry, flags))"
                            .to_owned()
                    ),
                    found: "        if (proc_pid_lookup(dentry, flags))"
                        .to_owned(),
                }],
            }
        );
        assert_eq!(
            explain(&excerpt, &verdict),
            "\
book/excerpts/proc_root_lookup.c: 1 of 7 excerpt lines differ from \
fs/proc/root.c (Linux 6.12.117)
book/excerpts/proc_root_lookup.c:4: differs from fs/proc/root.c:6
  expected (kernel):  \"        if (!proc_pid_lookup(dentry, flags))\"
  found (excerpt):    \"        if (proc_pid_lookup(dentry, flags))\"
book/excerpts/proc_root_lookup.c: fix: copy fs/proc/root.c lines 4-10 \
verbatim below the header (see book/excerpts/README.md)
"
        );
    }

    #[test]
    fn a_tab_left_in_an_excerpt_is_refused() {
        let with_tab = format!("{HEADER}\n{{\n\treturn 0;\n}}\n");
        let err = Excerpt::parse("book/excerpts/x.c", &with_tab).unwrap_err();
        assert!(err.starts_with("book/excerpts/x.c:3: a tab"), "{err}");
        assert_eq!(expand_tabs("\tab\tc"), "        ab      c");
        assert_eq!(expand_tabs(".mode\t\t= x"), ".mode           = x");
    }

    #[test]
    fn moved_function_is_reported_with_its_new_line() {
        // A patch added three lines above the function.
        let moved = ROOT_C.replacen(
            "#include \"internal.h\"\n",
            "#include \"internal.h\"\n#include \"a.h\"\n#include \"b.h\"\n\n",
            1,
        );
        let excerpt = parse(&excerpt_with(HEADER));
        let verdict = compare(&excerpt, &moved);
        assert_eq!(verdict, Verdict::Moved { found_at: 7 });
        assert_eq!(
            explain(&excerpt, &verdict),
            "book/excerpts/proc_root_lookup.c:1: the code moved: the excerpt \
             matches fs/proc/root.c:7 (Linux 6.12.117), not \
             fs/proc/root.c:4; change the header to `fs/proc/root.c:7`\n"
        );
    }

    #[test]
    fn moved_and_changed_function_is_aligned_on_its_new_place() {
        let changed = ROOT_C
            .replacen("#include \"internal.h\"\n", "#include \"x.h\"\n\n", 1)
            .replace("\t\treturn NULL;", "\t\treturn ERR_PTR(-ENOENT);");
        let excerpt = parse(&excerpt_with(HEADER));
        let verdict = compare(&excerpt, &changed);
        let Verdict::Differs { at, lines } = &verdict else {
            panic!("expected Differs, got {verdict:?}");
        };
        assert_eq!(*at, 5);
        assert_eq!(lines.len(), 1);
        assert_eq!((lines[0].excerpt_line, lines[0].kernel_line), (5, 8));
        let report = explain(&excerpt, &verdict);
        assert!(
            report.contains(
                "the code also moved: its first line is at \
                 fs/proc/root.c:5, not fs/proc/root.c:4"
            ),
            "{report}"
        );
    }

    #[test]
    fn excerpt_running_past_the_end_of_the_file_says_so() {
        let truncated = ROOT_C.replace("}\n", "");
        let excerpt = parse(&excerpt_with(HEADER));
        let report = explain(&excerpt, &compare(&excerpt, &truncated));
        assert!(
            report.contains(
                "book/excerpts/proc_root_lookup.c:8: differs from \
                 fs/proc/root.c:10\n  expected (kernel):  (end of file)"
            ),
            "{report}"
        );
    }

    #[test]
    fn crlf_excerpt_is_not_verbatim() {
        let crlf = excerpt_with(HEADER).replace('\n', "\r\n");
        // The header keeps its `\r` too, so it no longer parses: say so
        // rather than compare lines that can never match.
        assert!(Excerpt::parse("x.c", &crlf).is_err());
    }

    #[test]
    fn locate_tells_same_text_from_changed_text() {
        let excerpt = parse(&excerpt_with(HEADER));
        assert_eq!(locate(&excerpt, ROOT_C), Location::Same(4));
        let shifted = format!("\n\n{ROOT_C}");
        assert_eq!(locate(&excerpt, &shifted), Location::Same(6));
        let changed = ROOT_C.replace("return NULL", "return 0");
        assert_eq!(locate(&excerpt, &changed), Location::FirstLineOnly(4));
        assert_eq!(locate(&excerpt, "int x;\n"), Location::NotFound);
    }

    #[test]
    fn makefile_version_reads_the_three_levels() {
        let makefile = "# SPDX-License-Identifier: GPL-2.0\nVERSION = 6\n\
                        PATCHLEVEL = 12\nSUBLEVEL = 117\nEXTRAVERSION =\n";
        assert_eq!(makefile_version(makefile).as_deref(), Some("6.12.117"));
        assert_eq!(makefile_version("all:\n"), None);
    }
}
