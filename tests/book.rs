//! The book cannot drift: what mdBook and its link checker leave
//! unchecked in `book/src` is checked here, under `cargo test` and
//! without mdBook installed (see `book/excerpts/README.md` for the
//! excerpts themselves).
//!
//! Left to the tools, which `.ci/book` runs: an `{{#include}}` of a file
//! that does not exist is an error of mdBook's (`.ci/book build` fails
//! on any ERROR or WARN line it logs), and so, with `create-missing =
//! false`, is a chapter that `SUMMARY.md` names but that does not exist;
//! a link to a page or file of the book that does not exist, or to a
//! page not in `SUMMARY.md`, is mdbook-linkcheck2's (`.ci/book links`).
//! [`the_tools_fail_on_what_they_check`] shows both failing.
//!
//! What neither looks at, checked here:
//!
//! - a named anchor has both markers and a non-empty region, and a line
//!   range lies within its file and is not blank (mdBook includes what
//!   it finds, nothing or a part, without a word);
//! - an include of an insta snapshot starts at the first body line,
//!   after the header, so the page shows output and not `source:` lines;
//! - every `claims.md#<id>` link names a claim of
//!   `checker::claims::CLAIMS`, and every other `page.md#anchor` link a
//!   heading of that page (linkcheck2 does not look at `#fragments`);
//! - an include of Markdown (a recorded report, a generated fragment)
//!   brings no heading: the chapter owns its outline, and an included
//!   heading would appear in the page's sidebar;
//! - every chapter file is in `SUMMARY.md` (a page no link reaches is
//!   no link checker's business);
//! - kernel source links name a tag, never a moving branch.
//!
//! A failure names the chapter file and line, what is wrong, and the
//! fix. [`every_check_fails_on_a_broken_book`] shows each failing.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The kernel tag the book quotes; kernel links should name it.
const KERNEL_TAG: &str = "v6.12.117";

/// A problem found in chapter `file` (relative to the workspace root),
/// located for an editor's "go to line".
fn problem(file: &str, line: usize, what: &str, fix: &str) -> String {
    format!("{file}:{line}: {what}\n    fix: {fix}")
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

/// The lines of `anchor`'s region (between `ANCHOR: name` and
/// `ANCHOR_END: name`, markers excluded), or why there is none.
fn anchor_region<'a>(
    lines: &[&'a str],
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

/// Checks one directive of chapter `file` against the text of its
/// target, which a reader of the repository calls `shown`
/// (`tests/snapshots/x.snap`).
fn check_directive(
    file: &str,
    directive: &Directive,
    shown: &str,
    target: &str,
) -> Option<String> {
    let at = |what: String, fix: &str| {
        let what = format!("`{}`: {what}", directive.text);
        Some(problem(file, directive.line, &what, fix))
    };
    let lines: Vec<&str> = target.lines().collect();
    let blank = |region: &[&str]| region.iter().all(|l| l.trim().is_empty());
    if directive.path.ends_with(".snap") {
        let Some(body) = snapshot_body_start(target) else {
            return at(
                format!("{shown} has no insta header (`---` ... `---`)"),
                "let insta write the file; never write snapshots by hand",
            );
        };
        let fix = format!(
            "include the body only: `{{{{#include {}:{body}:}}}}`",
            directive.path
        );
        return match directive.selector {
            Selector::Lines { start, end: None } => match start.unwrap_or(1) {
                start if start < body => at(
                    format!(
                        "starts at line {start}, inside {shown}'s insta \
                         header (lines 1-{})",
                        body - 1
                    ),
                    &fix,
                ),
                start if start > body => at(
                    format!(
                        "starts at line {start}, skipping the first body \
                         lines of {shown} (the body starts at line {body})"
                    ),
                    &fix,
                ),
                _ if blank(&lines[(body - 1).min(lines.len())..]) => at(
                    format!("{shown} has an empty body"),
                    "check the test that writes it",
                ),
                _ => None,
            },
            _ => {
                at(format!("includes more or less than {shown}'s body"), &fix)
            }
        };
    }
    // The region mdBook includes, and what to say if it is blank.
    let (region, blank_what, blank_fix) = match &directive.selector {
        Selector::Whole => (
            lines.clone(),
            format!("{shown} is empty"),
            "include a file with content".to_string(),
        ),
        Selector::Anchor(anchor) => match anchor_region(&lines, anchor) {
            Err(why) => {
                return at(
                    format!("{shown} {why}"),
                    &format!(
                        "add `// ANCHOR: {anchor}` and `// ANCHOR_END: \
                         {anchor}` around the lines to show in {shown}, or \
                         name an anchor it has"
                    ),
                );
            }
            Ok(region) => (
                region,
                format!("anchor `{anchor}` of {shown} is empty"),
                format!(
                    "put the lines to show between the markers in {shown}"
                ),
            ),
        },
        Selector::Lines { start, end } => {
            let first = start.unwrap_or(1);
            let last = end.unwrap_or(lines.len());
            let range = format!("{first}-{last}");
            if first == 0 || first > last || last > lines.len() {
                return at(
                    format!(
                        "line range {range} is not within {shown} (1-{})",
                        lines.len()
                    ),
                    &format!(
                        "name lines that exist, or better, an ANCHOR \
                         region, which does not shift when {shown} changes"
                    ),
                );
            }
            (
                lines[first - 1..last].to_vec(),
                format!("lines {range} of {shown} are blank"),
                "name the lines to show".to_string(),
            )
        }
    };
    if blank(&region) {
        return at(blank_what, &blank_fix);
    }
    let markdown = directive.path.ends_with(".md");
    let heading = headings(&region).next().filter(|_| markdown);
    let what = format!(
        "`{}` brings the heading `{}` into the page, and so into its sidebar",
        directive.text, heading?
    );
    let fix = format!(
        "include a part of {shown} without headings (an ANCHOR region \
         inside them), and write the heading in the chapter"
    );
    Some(problem(file, directive.line, &what, &fix))
}

/// The headings of Markdown `lines`: `#` lines outside code fences.
fn headings<'a>(lines: &[&'a str]) -> impl Iterator<Item = &'a str> {
    let mut fenced = false;
    let lines = lines.to_vec();
    lines.into_iter().filter(move |line| {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            return false;
        }
        !fenced && line.starts_with('#')
    })
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
    let lines: Vec<&str> = chapter.lines().collect();
    let id = |heading: &str| {
        let text = heading.trim_start_matches('#').trim();
        let explicit = text
            .rfind("{#")
            .and_then(|open| text[open + 2..].strip_suffix('}'));
        if let Some(id) = explicit {
            return id.to_string();
        }
        text.chars()
            .filter_map(|c| match c {
                c if c.is_alphanumeric() || c == '_' || c == '-' => {
                    Some(c.to_ascii_lowercase())
                }
                c if c.is_whitespace() => Some('-'),
                _ => None,
            })
            .collect()
    };
    headings(&lines).map(id).collect()
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

/// Reads the book under `root` (the workspace) and returns every problem.
fn check_book(root: &Path, claim_ids: &BTreeSet<&str>) -> Vec<String> {
    let src = root.join("book/src");
    // Paths as a reader of the repository writes them:
    // `tests/snapshots/x.snap`, not `book/src/../../tests/...`.
    let shown = |path: &Path| {
        let path = fs::canonicalize(path).unwrap_or(path.to_path_buf());
        let root = fs::canonicalize(root).unwrap_or(root.to_path_buf());
        let path = path.strip_prefix(root).unwrap_or(&path);
        path.display().to_string()
    };
    let chapters = crate::support::files_under(&src, "md");

    let mut problems = Vec::new();
    let summary_path = src.join("SUMMARY.md");
    let summary = fs::read_to_string(&summary_path).unwrap_or_default();
    for chapter in chapters.iter().filter(|c| **c != summary_path) {
        let name = chapter.strip_prefix(&src).unwrap().display();
        if !summary.contains(&format!("]({name})")) {
            problems.push(problem(
                &shown(chapter),
                1,
                "is not in SUMMARY.md, so mdBook never renders it",
                &format!("add it to {} or delete it", shown(&summary_path)),
            ));
        }
    }

    let claims_page = shown(&src.join("claims.md"));
    for chapter in &chapters {
        let file = shown(chapter);
        let text = fs::read_to_string(chapter).unwrap_or_default();
        let dir = chapter.parent().unwrap_or(&src);
        for directive in directives(&text) {
            // A file that does not exist is mdBook's error.
            let target = dir.join(&directive.path);
            if let Ok(content) = fs::read_to_string(&target) {
                let shown = shown(&target);
                problems.extend(check_directive(
                    &file, &directive, &shown, &content,
                ));
            }
        }
        for (line, page, fragment) in fragment_links(&text) {
            let target = dir.join(&page);
            let (what, fix) = if shown(&target) == claims_page {
                if claim_ids.contains(fragment.as_str()) {
                    continue;
                }
                let ids: Vec<&str> = claim_ids.iter().copied().collect();
                (
                    format!(
                        "links to claim `{fragment}`, which \
                         checker::claims::CLAIMS does not have"
                    ),
                    format!(
                        "use a claim id from the registry: {}",
                        ids.join(", ")
                    ),
                )
            } else {
                let page_text = fs::read_to_string(&target).ok();
                if page_text
                    .is_some_and(|t| heading_ids(&t).contains(&fragment))
                {
                    continue;
                }
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
            problems.push(problem(&file, line, &what, &fix));
        }
        for (line, url) in unpinned_kernel_links(&text) {
            problems.push(problem(
                &file,
                line,
                &format!("kernel link {url} does not name a tag"),
                &format!(
                    "point it at the tag the book quotes, e.g. \
                     https://elixir.bootlin.com/linux/{KERNEL_TAG}/..."
                ),
            ));
        }
    }
    problems
}

/// The one test over the real book: it fails with every problem listed.
#[test]
fn the_book_resolves() {
    let ids: BTreeSet<&str> = checker::claims::CLAIMS
        .iter()
        .map(|claim| claim.id)
        .collect();
    let problems = check_book(crate::support::workspace(), &ids);
    assert!(
        problems.is_empty(),
        "the book has {} broken reference(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// A directory of this test's own, with `files` (path, text) in it.
fn scratch_book(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let root = crate::support::scratch_dir(name);
    for (path, text) in files {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    root
}

/// One chapter of what each check must let pass, and one line of each
/// thing it must not: the problems name them in order, and nothing else.
#[test]
fn every_check_fails_on_a_broken_book() {
    let chapter = "\
# One
{{#include s.rs}} {{#rustdoc_include s.rs:a}} \\{{#include s.rs:nil}}
{{#include s.rs:ab}} {{#include s.rs:1:3}} {{#include s.rs::2}}
{{#include x.snap:5:}} {{#include ../r/r.md:table}} {{#include gone.rs}}
[a](claims.md#listing_x) [b](two.md#next-tgid) [c](two.md#what-proctid-is)
[Linux](https://elixir.bootlin.com/linux/v6.12.117/source/fs/proc/base.c)
{{#include s.rs:thread_tid}}
{{#include s.rs:open}}
{{#include s.rs:hollow}}
{{#include s.rs:2:12}} {{#include s.rs:12:}} {{#include s.rs:7:7}}
{{#include x.snap:3:}}
{{#include x.snap}} {{#include x.snap:6:}} {{#include empty.snap:4:}}
{{#include empty.rs}} {{#include bare.snap:5:}}
{{#include ../r/r.md:old}} {{#include ../r/r.md}}
[a](claims.md#no_such_claim) [b](two.md#nowhere) [c](two.md#not-a-heading)
[Linux](https://elixir.bootlin.com/linux/latest/source/fs/proc/base.c)
";
    let source = "// ANCHOR: ab\nx\n// ANCHOR_END: ab\n// ANCHOR: a\ny\n\
                  // ANCHOR: hollow\n\n// ANCHOR: inner\n// ANCHOR_END: \
                  hollow\n// ANCHOR_END: a\n// ANCHOR: open\n";
    let report = "## Mutant kernels\n\n<!-- ANCHOR: table -->\n| a |\n\
                  ```sh\n# a comment\n```\n<!-- ANCHOR_END: table -->\n\
                  <!-- ANCHOR: old -->\n### `m` on 7.3.4\n\n| c |\n\
                  <!-- ANCHOR_END: old -->\n";
    let two = "# Two\n## next_tgid: where ids drop {#next-tgid}\n\
               ```sh\n# not a heading\n```\n## What /proc/\\<TID\\> is\n";
    let snapshot = "---\nsource: tests/demo.rs\nexpression: out\n---\n\
                    My TID: [PID]\n";
    let root = scratch_book(
        "broken-book",
        &[
            ("book/src/SUMMARY.md", "- [One](one.md)\n- [Two](two.md)\n"),
            ("book/src/one.md", chapter),
            ("book/src/two.md", two),
            ("book/src/orphan.md", "# Nobody's\n"),
            ("book/src/s.rs", source),
            ("book/r/r.md", report),
            ("book/src/x.snap", snapshot),
            ("book/src/empty.snap", "---\nsource: a\n---\n\n"),
            ("book/src/empty.rs", "\n"),
            ("book/src/bare.snap", "My TID: 4242\n"),
        ],
    );
    let problems = check_book(&root, &BTreeSet::from(["listing_x"]));
    let _ = fs::remove_dir_all(&root);
    let broken = [
        "book/src/orphan.md:1: is not in SUMMARY.md",
        "book/src/one.md:7: `{{#include s.rs:thread_tid}}`: book/src/s.rs \
         has no `ANCHOR: thread_tid` line\n    fix: add `// ANCHOR: \
         thread_tid`",
        "book/src/one.md:8: `{{#include s.rs:open}}`: book/src/s.rs has \
         `ANCHOR: open` (line 11) but no `ANCHOR_END: open` after it",
        "book/src/one.md:9: `{{#include s.rs:hollow}}`: anchor `hollow` of \
         book/src/s.rs is empty",
        "book/src/one.md:10: `{{#include s.rs:2:12}}`: line range 2-12 is \
         not within book/src/s.rs (1-11)",
        "book/src/one.md:10: `{{#include s.rs:12:}}`: line range 12-11",
        "book/src/one.md:10: `{{#include s.rs:7:7}}`: lines 7-7 of \
         book/src/s.rs are blank",
        "book/src/one.md:11: `{{#include x.snap:3:}}`: starts at line 3, \
         inside book/src/x.snap's insta header (lines 1-4)\n    fix: \
         include the body only: `{{#include x.snap:5:}}`",
        "book/src/one.md:12: `{{#include x.snap}}`: includes more or less \
         than book/src/x.snap's body",
        "book/src/one.md:12: `{{#include x.snap:6:}}`: starts at line 6, \
         skipping the first body lines",
        "book/src/one.md:12: `{{#include empty.snap:4:}}`: \
         book/src/empty.snap has an empty body",
        "book/src/one.md:13: `{{#include empty.rs}}`: book/src/empty.rs is \
         empty",
        "book/src/one.md:13: `{{#include bare.snap:5:}}`: \
         book/src/bare.snap has no insta header (`---` ... `---`)",
        "book/src/one.md:14: `{{#include ../r/r.md:old}}` brings the \
         heading `### `m` on 7.3.4` into the page, and so into its sidebar\
         \n    fix: include a part of book/r/r.md without headings",
        "book/src/one.md:14: `{{#include ../r/r.md}}` brings the heading \
         `## Mutant kernels` into the page",
        "book/src/one.md:15: links to claim `no_such_claim`, which \
         checker::claims::CLAIMS does not have\n    fix: use a claim id \
         from the registry: listing_x",
        "book/src/one.md:15: links to `two.md#nowhere`, but book/src/two.md \
         has no heading with that id",
        "book/src/one.md:15: links to `two.md#not-a-heading`",
        "book/src/one.md:16: kernel link https://elixir.bootlin.com/linux/\
         latest/source/fs/proc/base.c does not name a tag",
    ];
    let all = problems.join("\n");
    for (problem, start) in problems.iter().zip(broken) {
        assert!(problem.starts_with(start), "{start:?}, not in\n{all}");
    }
    assert_eq!(problems.len(), broken.len(), "{all}");
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
}

/// `.ci/book step` on a book of `files`: its status and all it printed.
fn ci_book(step: &str, files: &[(&str, &str)]) -> (Option<i32>, String) {
    let root = scratch_book(&format!("book-{step}"), files);
    let output = std::process::Command::new(
        crate::support::workspace().join(".ci/book"),
    )
    .arg(step)
    .env("BOOK", &root)
    .output()
    .expect(".ci/book runs");
    let _ = fs::remove_dir_all(&root);
    let (stdout, stderr) = crate::support::texts(&output);
    (output.status.code(), stdout + &stderr)
}

/// What this file leaves to the tools, they check: `.ci/book links` on a
/// small book with a broken link, a broken anchor and an include of a
/// missing file must fail naming the link (mdbook-linkcheck2) and the
/// file (mdBook); `.ci/book build` of a book whose `SUMMARY.md` names a
/// missing chapter must fail naming it (mdBook). The real book passes
/// both.
#[test]
#[cfg_attr(
    no_linkcheck,
    ignore = "needs mdbook-linkcheck2 on the PATH: `.ci/book tools` \
              installs it (cargo install --locked mdbook-linkcheck2)"
)]
fn the_tools_fail_on_what_they_check() {
    let toml = (
        "book.toml",
        "[book]\ntitle = \"t\"\n[build]\ncreate-missing = false\n",
    );
    let (status, all) = ci_book(
        "links",
        &[
            toml,
            (
                "src/SUMMARY.md",
                "# Summary\n\n- [One](one.md)\n- [Two](two.md)\n",
            ),
            (
                "src/one.md",
                "# One\n\nSee [the missing page](missing.md) and \
                 [two](two.md).\n\n{{#include no-such-file.rs}}\n",
            ),
            (
                "src/two.md",
                "# Two\n\nBack to [a section that is not there]\
                 (one.md#nowhere).\n",
            ),
        ],
    );
    assert_eq!(status, Some(1), "{all}");
    assert!(all.contains("missing.md"), "{all}");
    assert!(all.contains("no-such-file.rs"), "{all}");
    let (status, all) = ci_book(
        "build",
        &[toml, ("src/SUMMARY.md", "# Summary\n\n- [Gone](gone.md)\n")],
    );
    assert_eq!(status, Some(1), "{all}");
    assert!(all.contains("gone.md"), "{all}");
}
