//! The book cannot drift: every include, anchor, line range, claim link
//! and chapter of `book/src` resolves (the whole book; see
//! `book/excerpts/README.md` for the excerpts themselves).
//!
//! mdBook does not fail on a broken `{{#include}}`: it logs an error,
//! leaves the directive in the page and exits 0, and a missing anchor
//! gives an empty code block. So this module checks what mdBook will not,
//! under `cargo test` and without mdBook installed:
//!
//! - every `{{#include}}` and `{{#rustdoc_include}}` names an existing
//!   file; a named anchor has both markers and a non-empty region; a line
//!   range lies within the file and is not blank;
//! - an include of an insta snapshot starts at the first body line, after
//!   the header, so the page shows output and not `source:` lines;
//! - every `claims.md#<id>` link names a claim of
//!   `checker::claims::CLAIMS`, and every other `page.md#anchor` link a
//!   heading of that page;
//! - an include of Markdown (a recorded report, a generated fragment)
//!   brings no heading: the chapter owns its outline, and an included
//!   heading would appear in the page's sidebar;
//! - `SUMMARY.md` and the chapter files agree both ways;
//! - kernel source links name a tag, never a moving branch.
//!
//! The scanning is pure functions of text, tested on small strings
//! below; [`the_book_resolves`] is the one test that reads the real book.
//! A failure names the chapter file and line, what is wrong, and the fix.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::path::{Component, Path, PathBuf};

/// The kernel tag the book quotes; kernel links should name it.
const KERNEL_TAG: &str = "v6.12.117";

/// One problem found in a chapter, located for an editor's "go to line".
#[derive(Debug, Clone, PartialEq, Eq)]
struct Problem {
    /// The chapter, relative to the workspace root (`book/src/x.md`).
    file: String,
    /// 1-based line in `file`.
    line: usize,
    /// What is wrong.
    what: String,
    /// How to put it right.
    fix: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}\n    fix: {}",
            self.file, self.line, self.what, self.fix
        )
    }
}

/// Which part of the target file a directive includes, in mdBook's
/// syntax: `file`, `file:anchor`, `file:N`, `file:N:`, `file::M`,
/// `file:N:M`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selector {
    Whole,
    Anchor(String),
    /// 1-based, inclusive; `None` is the file's first or last line.
    Lines {
        start: Option<usize>,
        end: Option<usize>,
    },
}

/// One `{{#include ...}}` or `{{#rustdoc_include ...}}` in a chapter.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Directive {
    /// 1-based line of the chapter.
    line: usize,
    /// The directive as written, for messages.
    text: String,
    /// The target path as written, relative to the chapter's directory.
    path: String,
    selector: Selector,
}

/// The directives of one chapter, in order. An escaped directive
/// (`\{{#include ...}}`) is mdBook's way to show one literally: skipped.
fn directives(chapter: &str) -> Vec<Directive> {
    let mut found = Vec::new();
    for (index, line) in chapter.lines().enumerate() {
        let mut rest = line;
        let mut offset = 0;
        while let Some(at) = rest.find("{{#") {
            let start = offset + at;
            let after = &line[start + 3..];
            let Some(close) = after.find("}}") else { break };
            let escaped = line[..start].ends_with('\\');
            let body = after[..close].trim();
            let (name, args) =
                body.split_once(char::is_whitespace).unwrap_or((body, ""));
            if !escaped && (name == "include" || name == "rustdoc_include") {
                let (path, selector) = parse_target(args.trim());
                found.push(Directive {
                    line: index + 1,
                    text: line[start..start + 3 + close + 2].to_string(),
                    path,
                    selector,
                });
            }
            offset = start + 3 + close + 2;
            rest = &line[offset..];
        }
    }
    found
}

/// Splits `path[:selector]` the way mdBook reads it.
fn parse_target(args: &str) -> (String, Selector) {
    let Some((path, spec)) = args.split_once(':') else {
        return (args.to_string(), Selector::Whole);
    };
    let number = |s: &str| s.trim().parse::<usize>().ok();
    let selector = match spec.split_once(':') {
        // `file:N:M`, `file:N:`, `file::M`
        Some((start, end)) => Selector::Lines {
            start: number(start),
            end: number(end),
        },
        None => match number(spec) {
            // `file:N` is the single line N.
            Some(n) => Selector::Lines {
                start: Some(n),
                end: Some(n),
            },
            None => Selector::Anchor(spec.trim().to_string()),
        },
    };
    (path.to_string(), selector)
}

/// The 1-based line where an insta snapshot's body starts: the line after
/// the header's closing `---`. `None` if the text has no such header.
fn snapshot_body_start(snapshot: &str) -> Option<usize> {
    let mut lines = snapshot.lines().enumerate();
    if lines.next()?.1 != "---" {
        return None;
    }
    lines
        .find(|(_, line)| *line == "---")
        .map(|(index, _)| index + 2)
}

/// The lines of `anchor`'s region in `source` (between `ANCHOR: name` and
/// `ANCHOR_END: name`, markers excluded), or why there is none.
fn anchor_region<'a>(
    source: &'a str,
    anchor: &str,
) -> Result<Vec<&'a str>, String> {
    let is_marker = |line: &str, marker: &str| {
        line.split(marker).nth(1).is_some_and(|rest| {
            rest.trim_start()
                .split(|c: char| {
                    !(c.is_alphanumeric() || c == '_' || c == '-')
                })
                .next()
                == Some(anchor)
        })
    };
    let lines: Vec<&str> = source.lines().collect();
    let begin = lines
        .iter()
        .position(|line| is_marker(line, "ANCHOR:"))
        .ok_or_else(|| format!("has no `ANCHOR: {anchor}` line"))?;
    let end = lines[begin..]
        .iter()
        .position(|line| is_marker(line, "ANCHOR_END:"))
        .map(|n| begin + n)
        .ok_or_else(|| {
            format!(
                "has `ANCHOR: {anchor}` (line {}) but no \
                 `ANCHOR_END: {anchor}` after it",
                begin + 1
            )
        })?;
    // mdBook drops the markers of other anchors nested in the region.
    Ok(lines[begin + 1..end]
        .iter()
        .copied()
        .filter(|line| !line.contains("ANCHOR:"))
        .filter(|line| !line.contains("ANCHOR_END:"))
        .collect())
}

/// Checks one directive against its target's text (`None`: no such
/// file). `shown` is the target as a reader of the repository would
/// write it (`tests/snapshots/x.snap`); `file` is the chapter.
fn check_directive(
    file: &str,
    directive: &Directive,
    shown: &str,
    target: Option<&str>,
) -> Vec<Problem> {
    let problem = |what: String, fix: String| Problem {
        file: file.to_string(),
        line: directive.line,
        what: format!("`{}`: {what}", directive.text),
        fix,
    };
    let is_snapshot = directive.path.ends_with(".snap");
    let Some(target) = target else {
        let fix = if is_snapshot {
            "run the test that writes this snapshot (`cargo test`, then \
             `cargo insta review`), or correct the snapshot's name"
                .to_string()
        } else {
            format!("correct the path: it is relative to {file}'s directory")
        };
        return vec![problem(format!("no such file {shown}"), fix)];
    };
    let lines: Vec<&str> = target.lines().collect();
    let blank = |region: &[&str]| region.iter().all(|l| l.trim().is_empty());
    if is_snapshot {
        let Some(body) = snapshot_body_start(target) else {
            return vec![problem(
                format!("{shown} has no insta header (`---` ... `---`)"),
                "let insta write the file; never write snapshots by hand"
                    .to_string(),
            )];
        };
        let fix = format!(
            "include the body only: \
             `{{{{#include {}:{body}:}}}}`",
            directive.path
        );
        let start = match &directive.selector {
            Selector::Lines { start, end: None } => start.unwrap_or(1),
            _ => {
                return vec![problem(
                    format!("includes more or less than {shown}'s body"),
                    fix,
                )];
            }
        };
        if start < body {
            return vec![problem(
                format!(
                    "starts at line {start}, inside {shown}'s insta \
                     header (lines 1-{})",
                    body - 1
                ),
                fix,
            )];
        }
        if start > body {
            return vec![problem(
                format!(
                    "starts at line {start}, skipping the first body \
                     lines of {shown} (the body starts at line {body})"
                ),
                fix,
            )];
        }
        if blank(&lines[(body - 1).min(lines.len())..]) {
            return vec![problem(
                format!("{shown} has an empty body"),
                "check the test that writes it".to_string(),
            )];
        }
        return Vec::new();
    }
    match &directive.selector {
        Selector::Whole if blank(&lines) => vec![problem(
            format!("{shown} is empty"),
            "include a file with content".to_string(),
        )],
        Selector::Whole => Vec::new(),
        Selector::Anchor(anchor) => match anchor_region(target, anchor) {
            Err(why) => vec![problem(
                format!("{shown} {why}"),
                format!(
                    "add `// ANCHOR: {anchor}` and `// ANCHOR_END: \
                     {anchor}` around the lines to show in {shown}, or \
                     name an anchor it has"
                ),
            )],
            Ok(region) if blank(&region) => vec![problem(
                format!("anchor `{anchor}` of {shown} is empty"),
                format!(
                    "put the lines to show between the markers in {shown}"
                ),
            )],
            Ok(_) => Vec::new(),
        },
        Selector::Lines { start, end } => {
            let first = start.unwrap_or(1);
            let last = end.unwrap_or(lines.len());
            let range = format!("{first}-{last}");
            if first == 0 || first > last || last > lines.len() {
                vec![problem(
                    format!(
                        "line range {range} is not within {shown} \
                         (1-{})",
                        lines.len()
                    ),
                    format!(
                        "name lines that exist, or better, an ANCHOR \
                         region, which does not shift when {shown} changes"
                    ),
                )]
            } else if blank(&lines[first - 1..last]) {
                vec![problem(
                    format!("lines {range} of {shown} are blank"),
                    "name the lines to show".to_string(),
                )]
            } else {
                Vec::new()
            }
        }
    }
}

/// The headings (`#` lines outside code fences) of the part of `target`
/// that `directive` includes, when `target` is Markdown.
fn included_headings(directive: &Directive, target: &str) -> Vec<String> {
    if !directive.path.ends_with(".md") {
        return Vec::new();
    }
    let lines: Vec<&str> = match &directive.selector {
        Selector::Whole => target.lines().collect(),
        Selector::Anchor(anchor) => {
            anchor_region(target, anchor).unwrap_or_default()
        }
        Selector::Lines { start, end } => {
            let all: Vec<&str> = target.lines().collect();
            let first = start.unwrap_or(1).max(1) - 1;
            let last = end.unwrap_or(all.len()).min(all.len());
            all.get(first..last)
                .map(<[&str]>::to_vec)
                .unwrap_or_default()
        }
    };
    let mut fenced = false;
    let mut found = Vec::new();
    for line in lines {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            found.push(line.to_string());
        }
    }
    found
}

/// Links to pages of the book with a fragment, `page.md#fragment`, as
/// (line, page as written, fragment).
fn fragment_links(chapter: &str) -> Vec<(usize, String, String)> {
    let mut found = Vec::new();
    for (index, line) in chapter.lines().enumerate() {
        for (at, _) in line.match_indices(".md#") {
            let page_start =
                line[..at].rfind(['(', ' ', '"']).map_or(0, |p| p + 1);
            let fragment: String = line[at + 4..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            let page = format!("{}.md", &line[page_start..at]);
            found.push((index + 1, page, fragment));
        }
    }
    found
}

/// The ids mdBook gives the headings of a chapter: an explicit
/// `{#id}`, or else the heading's text, lowercased, with spaces turned
/// into `-` and punctuation other than `_` and `-` dropped.
fn heading_ids(chapter: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut in_fence = false;
    for line in chapter.lines() {
        if line.starts_with("```") {
            in_fence = !in_fence;
        }
        if in_fence || !line.starts_with('#') {
            continue;
        }
        let text = line.trim_start_matches('#').trim();
        let explicit = text
            .rfind("{#")
            .and_then(|open| text[open + 2..].strip_suffix('}'));
        if let Some(id) = explicit {
            ids.insert(id.to_string());
            continue;
        }
        let id = text
            .chars()
            .filter_map(|c| match c {
                c if c.is_alphanumeric() || c == '_' || c == '-' => {
                    Some(c.to_ascii_lowercase())
                }
                c if c.is_whitespace() => Some('-'),
                _ => None,
            })
            .collect();
        ids.insert(id);
    }
    ids
}

/// Kernel source links that do not name a tag, as (line, url): they
/// would show different code as the branch moves.
fn unpinned_kernel_links(chapter: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (index, line) in chapter.lines().enumerate() {
        for (at, _) in line.match_indices("https://") {
            let url: String = line[at..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !")>\"'`".contains(*c))
                .collect();
            if is_unpinned_kernel_link(&url) {
                found.push((index + 1, url));
            }
        }
    }
    found
}

fn is_unpinned_kernel_link(url: &str) -> bool {
    let tagged = |segment: &str| {
        segment.starts_with('v')
            && segment[1..].starts_with(|c: char| c.is_ascii_digit())
    };
    if let Some(rest) = url.split("elixir.bootlin.com/linux/").nth(1) {
        return !tagged(rest.split('/').next().unwrap_or(""));
    }
    if url.contains("git.kernel.org") {
        let query = url.split_once('?').map_or("", |(_, q)| q);
        return !query.split(['&', '#']).any(|kv| {
            kv.strip_prefix("h=").is_some_and(tagged)
                || kv.strip_prefix("id=").is_some()
        });
    }
    for tree in ["/blob/", "/tree/"] {
        if let Some(rest) = url
            .split("github.com/torvalds/linux")
            .nth(1)
            .and_then(|r| r.strip_prefix(tree))
        {
            return !tagged(rest.split('/').next().unwrap_or(""));
        }
    }
    false
}

/// The chapter files `SUMMARY.md` links to, as (line, path): every
/// `[title](path)` on a list line or a prefix/suffix chapter line.
fn summary_chapters(summary: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (index, line) in summary.lines().enumerate() {
        let Some(open) = line.find("](") else {
            continue;
        };
        let Some(close) = line[open..].find(')') else {
            continue;
        };
        let path = line[open + 2..open + close].trim();
        if !path.is_empty() {
            found.push((index + 1, path.to_string()));
        }
    }
    found
}

/// `base/rel` with `.` and `..` resolved lexically, so that messages show
/// `tests/snapshots/x.snap` rather than `book/src/../../tests/...`.
fn join(base: &Path, rel: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for part in base.join(rel).components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Reads the book under `root` (the workspace) and returns every problem.
fn check_book(root: &Path, claim_ids: &BTreeSet<&str>) -> Vec<Problem> {
    let src = root.join("book/src");
    let shown = |path: &Path| {
        path.strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    let mut chapters = Vec::new();
    let mut pending = vec![src.clone()];
    while let Some(dir) = pending.pop() {
        let entries = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                chapters.push(path);
            }
        }
    }
    chapters.sort();

    let mut problems = Vec::new();
    let summary_path = src.join("SUMMARY.md");
    let summary = fs::read_to_string(&summary_path).unwrap_or_default();
    let listed: Vec<(usize, PathBuf)> = summary_chapters(&summary)
        .into_iter()
        .map(|(line, path)| (line, join(&src, &path)))
        .collect();
    for (line, path) in &listed {
        if !path.is_file() {
            problems.push(Problem {
                file: shown(&summary_path),
                line: *line,
                what: format!("names {}, which does not exist", shown(path)),
                fix: "write the chapter, or remove its line (the book \
                      has create-missing = false)"
                    .to_string(),
            });
        }
    }
    for chapter in &chapters {
        if *chapter != summary_path
            && !listed.iter().any(|(_, p)| p == chapter)
        {
            problems.push(Problem {
                file: shown(chapter),
                line: 1,
                what: "is not in SUMMARY.md, so mdBook never renders it"
                    .to_string(),
                fix: format!(
                    "add it to {} or delete it",
                    shown(&summary_path)
                ),
            });
        }
    }

    for chapter in &chapters {
        let file = shown(chapter);
        let text = fs::read_to_string(chapter).unwrap_or_default();
        let dir = chapter.parent().unwrap_or(&src);
        for directive in directives(&text) {
            let target = join(dir, &directive.path);
            let content = fs::read_to_string(&target).ok();
            problems.extend(check_directive(
                &file,
                &directive,
                &shown(&target),
                content.as_deref(),
            ));
            let headings = content
                .as_deref()
                .map(|c| included_headings(&directive, c))
                .unwrap_or_default();
            if let Some(heading) = headings.first() {
                problems.push(Problem {
                    file: file.clone(),
                    line: directive.line,
                    what: format!(
                        "`{}` brings the heading `{heading}` into the page, \
                         and so into its sidebar",
                        directive.text
                    ),
                    fix: format!(
                        "include a part of {} without headings (an \
                         ANCHOR region inside them), and write the heading \
                         in the chapter",
                        shown(&target)
                    ),
                });
            }
        }
        for (line, page, fragment) in fragment_links(&text) {
            let target = join(dir, &page);
            let known = if target == src.join("claims.md") {
                claim_ids.contains(fragment.as_str())
            } else {
                let page_text = fs::read_to_string(&target).ok();
                page_text.is_some_and(|t| heading_ids(&t).contains(&fragment))
            };
            if known {
                continue;
            }
            let (what, fix) = if target == src.join("claims.md") {
                (
                    format!(
                        "links to claim `{fragment}`, which \
                         checker::claims::CLAIMS does not have"
                    ),
                    format!(
                        "use a claim id from the registry: {}",
                        claim_ids
                            .iter()
                            .copied()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            } else {
                (
                    format!(
                        "links to `{page}#{fragment}`, but {} has no \
                         heading with that id",
                        shown(&target)
                    ),
                    format!(
                        "give the heading an explicit id: \
                         `## Title {{#{fragment}}}`"
                    ),
                )
            };
            problems.push(Problem {
                file: file.clone(),
                line,
                what,
                fix,
            });
        }
        for (line, url) in unpinned_kernel_links(&text) {
            problems.push(Problem {
                file: file.clone(),
                line,
                what: format!("kernel link {url} does not name a tag"),
                fix: format!(
                    "point it at the tag the book quotes, e.g. \
                     https://elixir.bootlin.com/linux/{KERNEL_TAG}/..."
                ),
            });
        }
    }
    problems
}

/// The one test over the real book: it fails with every problem listed.
#[test]
fn the_book_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace");
    let ids: BTreeSet<&str> = checker::claims::CLAIMS
        .iter()
        .map(|claim| claim.id)
        .collect();
    let problems = check_book(root, &ids);
    let report: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    assert!(
        problems.is_empty(),
        "the book has {} broken reference(s):\n{}",
        problems.len(),
        report.join("\n")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNAP: &str =
        "---\nsource: tests/demo.rs\nexpression: out\n---\nMy TID: [PID]\n";

    fn one(chapter: &str) -> Directive {
        let mut found = directives(chapter);
        assert_eq!(found.len(), 1, "{found:?}");
        found.remove(0)
    }

    fn check(chapter: &str, target: Option<&str>) -> Vec<String> {
        let directive = one(chapter);
        check_directive("book/src/x.md", &directive, "t/f", target)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn directives_are_found_with_their_selectors() {
        let chapter = "text\n```c\n{{#include ../excerpts/a.c}}\n```\n\
                       {{#rustdoc_include ../../d/s.rs:thread_tid}} and \
                       {{#include x.snap:5:}}\n{{#include f::3}} \
                       {{#include f:7}} \\{{#include escaped.rs}}\n\
                       {{#title not an include}}";
        let found: Vec<(usize, String, Selector)> = directives(chapter)
            .into_iter()
            .map(|d| (d.line, d.path, d.selector))
            .collect();
        let lines = |start, end| Selector::Lines { start, end };
        assert_eq!(
            found,
            vec![
                (3, "../excerpts/a.c".into(), Selector::Whole),
                (
                    5,
                    "../../d/s.rs".into(),
                    Selector::Anchor("thread_tid".into())
                ),
                (5, "x.snap".into(), lines(Some(5), None)),
                (6, "f".into(), lines(None, Some(3))),
                (6, "f".into(), lines(Some(7), Some(7))),
            ]
        );
    }

    #[test]
    fn missing_file_is_reported_with_chapter_line_and_fix() {
        let report = check("\n{{#include ../../a.rs:x}}\n", None);
        assert_eq!(
            report,
            [
                "book/src/x.md:2: `{{#include ../../a.rs:x}}`: no such file \
              t/f\n    fix: correct the path: it is relative to \
              book/src/x.md's directory"
            ]
        );
    }

    #[test]
    fn missing_snapshot_says_how_to_create_it() {
        let report = check("{{#include a.snap:5:}}", None);
        assert!(report[0].contains("cargo insta review"), "{report:?}");
    }

    #[test]
    fn missing_anchor_is_reported() {
        let source = "fn a() {}\n// ANCHOR: other\nx\n// ANCHOR_END: other\n";
        let report = check("{{#include s.rs:thread_tid}}", Some(source));
        assert_eq!(report.len(), 1);
        assert!(
            report[0].contains("t/f has no `ANCHOR: thread_tid` line"),
            "{report:?}"
        );
        assert!(report[0].contains("fix: add `// ANCHOR: thread_tid`"));
    }

    #[test]
    fn anchor_without_end_is_reported() {
        let source = "// ANCHOR: a\nlet x = 1;\n";
        let report = check("{{#include s.rs:a}}", Some(source));
        assert!(report[0].contains("no `ANCHOR_END: a`"), "{report:?}");
    }

    #[test]
    fn empty_anchor_region_is_reported() {
        let source = "// ANCHOR: a\n\n// ANCHOR: inner\n// ANCHOR_END: a\n";
        let report = check("{{#include s.rs:a}}", Some(source));
        assert!(report[0].contains("anchor `a` of t/f is empty"));
    }

    #[test]
    fn anchor_names_match_whole_words_only() {
        let source = "// ANCHOR: ab\nx\n// ANCHOR_END: ab\n\
                      // ANCHOR: a\ny\n// ANCHOR_END: a\n";
        assert_eq!(anchor_region(source, "a").unwrap(), ["y"]);
        assert!(check("{{#include s.rs:ab}}", Some(source)).is_empty());
    }

    #[test]
    fn line_range_must_lie_within_the_file() {
        let source = "a\nb\nc\n";
        assert!(check("{{#include f:2:3}}", Some(source)).is_empty());
        let report = check("{{#include f:2:9}}", Some(source));
        assert!(report[0].contains("line range 2-9 is not within t/f (1-3)"));
        let report = check("{{#include f:4:}}", Some(source));
        assert!(report[0].contains("line range 4-3"), "{report:?}");
        let report = check("{{#include f:2:2}}", Some("a\n \nc\n"));
        assert!(report[0].contains("lines 2-2 of t/f are blank"));
    }

    #[test]
    fn an_included_markdown_part_may_not_bring_headings() {
        let report = "## Mutant kernels\n\n<!-- ANCHOR: mutants -->\n\
                      | a | b |\n<!-- ANCHOR_END: mutants -->\n\
                      <!-- ANCHOR: old -->\n### `m` on 7.3.4\n\n| c |\n\
                      <!-- ANCHOR_END: old -->\n```sh\n# a comment\n```\n";
        let headings =
            |chapter: &str| included_headings(&one(chapter), report);
        assert!(headings("{{#include r.md:mutants}}").is_empty());
        assert_eq!(headings("{{#include r.md:old}}"), ["### `m` on 7.3.4"]);
        assert_eq!(headings("{{#include r.md}}").len(), 2);
        assert_eq!(headings("{{#include r.md:1:3}}"), ["## Mutant kernels"]);
        // Only Markdown: a shell comment in a script is no heading.
        assert!(
            included_headings(&one("{{#include s.sh}}"), "# x\n").is_empty()
        );
    }

    #[test]
    fn snapshot_body_starts_after_the_header() {
        assert_eq!(snapshot_body_start(SNAP), Some(5));
        assert_eq!(snapshot_body_start("---\nsource: a\n---\nx\n"), Some(4));
        assert_eq!(snapshot_body_start("no header\n"), None);
    }

    #[test]
    fn snapshot_include_must_start_at_the_body() {
        assert!(check("{{#include a.snap:5:}}", Some(SNAP)).is_empty());
        let report = check("{{#include a.snap:3:}}", Some(SNAP));
        assert_eq!(
            report,
            [
                "book/src/x.md:1: `{{#include a.snap:3:}}`: starts at line 3, \
              inside t/f's insta header (lines 1-4)\n    fix: include the \
              body only: `{{#include a.snap:5:}}`"
            ]
        );
        let whole = check("{{#include a.snap}}", Some(SNAP));
        assert!(whole[0].contains("more or less than t/f's body"));
        let late = check("{{#include a.snap:6:}}", Some(SNAP));
        assert!(late[0].contains("skipping the first body lines"));
    }

    #[test]
    fn fragment_links_and_heading_ids() {
        let chapter = "See [a](claims.md#listing_x) and\n\
                       [b](lookup.md#the-dentry-cache), [c](#local).";
        assert_eq!(
            fragment_links(chapter),
            [
                (1, "claims.md".into(), "listing_x".into()),
                (2, "lookup.md".into(), "the-dentry-cache".into()),
            ]
        );
        let ids = heading_ids(
            "# The lookup path\n## next_tgid: where ids drop {#next-tgid}\n\
             ```sh\n# not a heading\n```\n## What /proc/\\<TID\\> is\n",
        );
        let expected = ["next-tgid", "the-lookup-path", "what-proctid-is"];
        assert_eq!(
            ids.iter().map(String::as_str).collect::<Vec<_>>(),
            expected
        );
    }

    #[test]
    fn kernel_links_must_name_a_tag() {
        let pinned = [
            "https://elixir.bootlin.com/linux/v6.12.117/C/ident/pid_task",
            "https://git.kernel.org/pub/scm/linux/kernel/git/stable/\
             linux.git/tree/fs/proc/base.c?h=v6.12.117#n3555",
            "https://github.com/torvalds/linux/blob/v6.12/fs/proc/base.c",
            "https://docs.kernel.org/filesystems/proc.html",
        ];
        for url in pinned {
            assert!(!is_unpinned_kernel_link(url), "{url}");
        }
        let moving = [
            "https://elixir.bootlin.com/linux/latest/source/fs/proc/base.c",
            "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/\
             linux.git/tree/fs/proc/base.c",
            "https://git.kernel.org/pub/scm/linux/kernel/git/stable/\
             linux.git/tree/fs/proc/base.c?h=linux-6.12.y",
            "https://github.com/torvalds/linux/blob/master/fs/proc/base.c",
        ];
        for url in moving {
            assert!(is_unpinned_kernel_link(url), "{url}");
        }
        let chapter = "x\n[a]: https://elixir.bootlin.com/linux/latest/A\n";
        assert_eq!(unpinned_kernel_links(chapter)[0].0, 2);
    }

    #[test]
    fn summary_chapters_are_read_from_links() {
        let summary = "# Summary\n\n[Intro](introduction.md)\n\n# Part\n\n\
                       - [One](one.md)\n  - [Two](sub/two.md)\n";
        assert_eq!(
            summary_chapters(summary),
            [
                (3, "introduction.md".into()),
                (7, "one.md".into()),
                (8, "sub/two.md".into()),
            ]
        );
    }

    #[test]
    fn join_resolves_parent_directories() {
        assert_eq!(
            join(Path::new("/w/book/src"), "../../tests/snapshots/a.snap"),
            Path::new("/w/tests/snapshots/a.snap")
        );
    }
}

/// `.ci/book links` on a small book with a broken link and a broken
/// anchor: it must fail, naming both, where the real book passes.
#[test]
#[cfg_attr(
    no_linkcheck,
    ignore = "needs mdbook-linkcheck2 on the PATH: `.ci/book tools` \
              installs it (cargo install --locked mdbook-linkcheck2)"
)]
fn the_link_check_fails_on_a_broken_link() {
    let root = std::env::temp_dir()
        .join(format!("book-links-{}", std::process::id()));
    let book = root.join("broken-book");
    let src = book.join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(book.join("book.toml"), "[book]\ntitle = \"t\"\n").unwrap();
    std::fs::write(
        src.join("SUMMARY.md"),
        "# Summary\n\n- [One](one.md)\n- [Two](two.md)\n",
    )
    .unwrap();
    std::fs::write(
        src.join("one.md"),
        "# One\n\nSee [the missing page](missing.md) and [two](two.md).\n",
    )
    .unwrap();
    std::fs::write(
        src.join("two.md"),
        "# Two\n\nBack to [a section that is not there](one.md#nowhere).\n",
    )
    .unwrap();
    let output = std::process::Command::new(
        crate::support::workspace().join(".ci/book"),
    )
    .arg("links")
    .env("BOOK", &book)
    .output()
    .expect(".ci/book runs");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(&root);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("missing.md"), "{all}");
}
