//! `cargo xtask book-browser`: opens every page of the built book in
//! headless Chromium and checks what a reader would get (the book; run by
//! `.ci/book` after `mdbook build`).
//!
//! `tests/book.rs` checks the Markdown; this checks the rendered pages,
//! after mdBook's own processing and the page's JavaScript have run:
//!
//! - no page shows a raw `{{#include ...}}` (mdBook leaves a directive it
//!   cannot resolve in the page, and exits 0);
//! - no page has an empty `<code>` element (a missing anchor or a line
//!   range past the end renders as an empty code block);
//! - the search finds `proc_pid_lookup` (the index was built and loads);
//! - every page fits a desktop window (1280 px) and a phone (390 px), by
//!   the rules of `layout.rs`: nothing cut off, no table or text wider
//!   than its box, only code and tables scrolling sideways, and only on
//!   a phone; no word broken inside itself (measured from the client
//!   rectangles of each word's text range); every figure within its box
//!   and its text large enough to read.
//!
//! Each page is loaded from the file system in headless Chromium, driven
//! over the DevTools protocol (`cdp.rs`), which can emulate a phone's
//! width; no server is needed. Once a page has loaded, `measure.js`
//! measures its layout in the page. Each page is checked once more at
//! 1280 px with the dark colour scheme asked for, in which mdBook opens
//! its dark theme. A full-page screenshot of every page at each width
//! goes to `target/book-screenshots/<width>/` (`desktop-1280`,
//! `phone-390`, `dark-1280`), for a person to look at.
//!
//! Exit statuses: `crate::statuses::BOOK_BROWSER`, which `--help`
//! shows.

use std::path::{Path, PathBuf};
use std::time::Duration;

use exit_status::Status;

mod cdp;
mod layout;

use cdp::Browser;
use layout::{WIDTHS, Width};

/// Evaluated in every page to measure its layout.
const MEASURE_JS: &str = include_str!("book_browser/measure.js");
/// Pages that only gather others: the print view holds every chapter,
/// and the table of contents is the sidebar's.
const NOT_LAID_OUT: [&str; 2] = ["print.html", "toc.html"];
/// Chromium cannot capture a taller page in one screenshot.
const MAX_SHOT_HEIGHT: u32 = 16_384;

/// The term the search must find: a function every reader looks for.
const SEARCH_TERM: &str = "proc_pid_lookup";

/// Opens every page of the built book in headless Chromium and fails if
/// a page shows a raw {{#include}}, has an empty <code> element, does
/// not fit a 1280 px or a 390 px window, breaks a word inside itself or
/// draws a figure too small to read, or if the search does not find
/// proc_pid_lookup; keeps a screenshot of every page at both widths.
/// Set CHROMIUM to use another browser binary.
#[derive(Debug, clap::Args)]
#[command(after_help = exit_status::help(crate::statuses::BOOK_BROWSER))]
pub(crate) struct Args {
    /// The built book (default: book/build, written by `mdbook build
    /// book`).
    #[arg(long, value_name = "DIR")]
    build_dir: Option<PathBuf>,

    /// Where the screenshots go (default:
    /// target/book-screenshots/<width>/<page>.png).
    #[arg(long, value_name = "DIR")]
    screenshots: Option<PathBuf>,
}

/// Runs the job and returns its exit status.
pub(crate) fn main(args: Args) -> Status {
    let build_dir = (args.build_dir)
        .unwrap_or_else(|| crate::workspace().join("book/build"));
    let Some(chromium) = find_chromium() else {
        eprintln!(
            "xtask book-browser: skipped: no Chromium found (looked for \
             $CHROMIUM, chromium and chromium-browser on PATH); install \
             Debian's package with `apt-get install -y chromium`"
        );
        return Status::Skipped;
    };
    if !build_dir.join("index.html").is_file() {
        eprintln!(
            "xtask book-browser: {} has no index.html; build the book \
             first with `mdbook build book`",
            build_dir.display()
        );
        return Status::CannotRun;
    }
    let shots = (args.screenshots)
        .unwrap_or_else(|| crate::target_dir().join("book-screenshots"));
    match run(&chromium, &build_dir, &shots) {
        Ok(failures) if failures.is_empty() => Status::Ok,
        Ok(failures) => {
            for failure in &failures {
                eprintln!("{failure}");
            }
            eprintln!(
                "xtask book-browser: {} problem(s); run `cargo test -p \
                 tests book` for the chapter and line of a broken include",
                failures.len()
            );
            Status::Failed
        }
        Err(why) => {
            eprintln!("xtask book-browser: {why}");
            Status::CannotRun
        }
    }
}

/// Checks every page, then the search; returns the problems found.
fn run(
    chromium: &Path,
    build_dir: &Path,
    shots: &Path,
) -> Result<Vec<String>, String> {
    let build_dir = build_dir
        .canonicalize()
        .map_err(|e| format!("cannot open {}: {e}", build_dir.display()))?;
    let profile = std::env::temp_dir()
        .join(format!("xtask-book-browser-{}", std::process::id()));
    let result = check_pages(chromium, &build_dir, &profile, shots);
    let _ = std::fs::remove_dir_all(&profile);
    result
}

/// What one page gave: its name and its problems.
type Checked = (String, Vec<String>);

fn check_pages(
    chromium: &Path,
    build_dir: &Path,
    profile: &Path,
    shots: &Path,
) -> Result<Vec<String>, String> {
    let mut failures = Vec::new();
    let pages = html_pages(build_dir)?;
    // Two browsers at once, each with a profile directory of its own.
    let workers = 2;
    let checked: Vec<Result<Checked, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let pages = &pages;
                let profile = profile.join(worker.to_string());
                scope.spawn(move || {
                    let mut browser = match Browser::launch(chromium, &profile)
                    {
                        Ok(browser) => browser,
                        Err(why) => return vec![Err(why)],
                    };
                    pages
                        .iter()
                        .skip(worker)
                        .step_by(workers)
                        .map(|page| {
                            check_page(&mut browser, build_dir, page, shots)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<Result<Checked, String>> = Vec::new();
        for handle in handles {
            all.extend(handle.join().unwrap_or_default());
        }
        all
    });
    let mut checked = checked.into_iter().collect::<Result<Vec<_>, _>>()?;
    checked.sort();
    for (shown, problems) in checked {
        println!(
            "{} {shown}",
            if problems.is_empty() { "ok  " } else { "FAIL" }
        );
        failures.extend(problems.into_iter().map(|p| format!("{shown}: {p}")));
    }
    failures.extend(check_search(chromium, build_dir, profile)?);
    println!(
        "book-browser: {} page(s) at {} and the search checked, {} \
         problem(s); screenshots in {}",
        pages.len(),
        WIDTHS.map(Width::label).join(", "),
        failures.len(),
        shots.display()
    );
    Ok(failures)
}

/// The book's search, which fills its results a moment after the
/// page loads: the problem it shows, if any.
fn check_search(
    chromium: &Path,
    build_dir: &Path,
    profile: &Path,
) -> Result<Option<String>, String> {
    let mut browser = Browser::launch(chromium, &profile.join("search"))?;
    let url = format!(
        "file://{}?search={SEARCH_TERM}",
        build_dir.join("index.html").display()
    );
    browser.open(&url, WIDTHS[0].px, WIDTHS[0].mobile)?;
    std::thread::sleep(Duration::from_secs(1));
    let dom = outer_html(&mut browser)?;
    drop(browser);
    let why = match search_result_count(&dom) {
        Some(n) if n > 0 => {
            println!("ok   search for {SEARCH_TERM}: {n} result(s)");
            return Ok(None);
        }
        None => "the page has no search results list",
        Some(_) => "the search found nothing",
    };
    println!("FAIL search for {SEARCH_TERM}");
    Ok(Some(format!(
        "index.html?search={SEARCH_TERM}: {why}; check that book.toml has \
         [output.html.search] enable = true and that mdbook was built with \
         its `search` feature"
    )))
}

/// The page's DOM as it stands, after its scripts ran.
fn outer_html(browser: &mut Browser) -> Result<String, String> {
    let dom = browser.evaluate("document.documentElement.outerHTML")?;
    Ok(dom.as_str().unwrap_or_default().to_string())
}

/// One page at every width: what the DOM shows, how it lays out, and a
/// screenshot.
fn check_page(
    browser: &mut Browser,
    build_dir: &Path,
    page: &Path,
    shots: &Path,
) -> Result<Checked, String> {
    let shown = page.strip_prefix(build_dir).unwrap_or(page);
    let url = format!("file://{}", page.display());
    let mut problems = Vec::new();
    let laid_out = !NOT_LAID_OUT.iter().any(|name| shown.ends_with(name));
    for (index, width) in WIDTHS.into_iter().enumerate() {
        browser.color_scheme(width.dark)?;
        browser.open(&url, width.px, width.mobile)?;
        if index == 0 {
            problems.extend(page_problems(&outer_html(browser)?));
        }
        if !laid_out {
            break;
        }
        let report = browser.evaluate(MEASURE_JS)?;
        let measure = layout::from_value(&report)?;
        problems.extend(layout::problems(&measure, width));
        let shot = shots.join(width.name).join(shown.with_extension("png"));
        if let Some(dir) = shot.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                format!("cannot create {}: {e}", dir.display())
            })?;
        }
        let height = measure.height.clamp(400, MAX_SHOT_HEIGHT);
        browser.screenshot(width.px, height, width.mobile, &shot)?;
    }
    Ok((shown.display().to_string(), problems))
}

/// Every `.html` file under `dir`, sorted.
fn html_pages(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut pages = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "html") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    Ok(pages)
}

/// `$CHROMIUM`, else `chromium` or `chromium-browser` on `PATH`.
fn find_chromium() -> Option<PathBuf> {
    // An empty CHROMIUM is no choice, as an empty PATH entry is none.
    if let Some(path) = std::env::var_os("CHROMIUM").filter(|p| !p.is_empty())
    {
        return Some(path.into());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| {
            ["chromium", "chromium-browser"].map(|name| dir.join(name))
        })
        .find(|candidate| candidate.is_file())
}

/// What is wrong with one rendered page: raw include directives and
/// empty `<code>` elements, each with a little context.
fn page_problems(dom: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for directive in ["{{#include", "{{#rustdoc_include"] {
        for (at, _) in dom.match_indices(directive) {
            let end = dom[at..].find("}}").map_or(dom.len(), |e| at + e + 2);
            problems.push(format!(
                "raw `{}` reached the page: mdBook could not resolve it",
                &dom[at..end.min(at + 160)]
            ));
        }
    }
    let mut from = 0;
    while let Some(at) = dom[from..].find("<code").map(|a| from + a) {
        from = at + 5;
        // `<code>` or `<code class=...>`, not `<codeblock>`.
        if !dom[from..].starts_with(['>', ' ']) {
            continue;
        }
        let Some(open_end) = dom[from..].find('>').map(|e| from + e + 1)
        else {
            break;
        };
        let Some(close) = dom[open_end..].find("</code>") else {
            break;
        };
        let inner = &dom[open_end..open_end + close];
        if text_of(inner).trim().is_empty() {
            let before = text_of(&dom[at.saturating_sub(300)..at]);
            let words: Vec<&str> = before.split_whitespace().collect();
            problems.push(format!(
                "empty code block `{}` after \"{}\"",
                &dom[at..open_end],
                words[words.len().saturating_sub(8)..].join(" ")
            ));
        }
        from = open_end + close;
    }
    problems
}

/// The text of an HTML fragment: tags dropped, entities left as they are.
fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// How many `<li>` the search results list holds; `None` if the page
/// has no such list. mdBook 0.5 calls it `#mdbook-searchresults`, 0.4
/// `#searchresults`.
fn search_result_count(dom: &str) -> Option<usize> {
    let at = ["id=\"mdbook-searchresults\"", "id=\"searchresults\""]
        .iter()
        .find_map(|id| dom.find(id))?;
    let start = dom[at..].find('>').map(|e| at + e + 1)?;
    let end = dom[start..].find("</ul>").map_or(dom.len(), |e| start + e);
    Some(dom[start..end].matches("<li").count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_include_is_reported() {
        let dom = "<p>{{#include ../../tests/snapshots/a.snap:5:}}</p>";
        let expected = "raw `{{#include ../../tests/snapshots/a.snap:5:}}` \
                        reached the page: mdBook could not resolve it";
        assert_eq!(page_problems(dom), [expected]);
    }

    #[test]
    fn empty_code_block_is_reported_with_context() {
        let dom = "<h2>The program</h2><p>Run it:</p><pre><code \
                   class=\"language-rust\">\n</code></pre>";
        let problems = page_problems(dom);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with(
                "empty code block `<code class=\"language-rust\">` after \
                 \"The programRun it:\""
            ),
            "{problems:?}"
        );
    }

    #[test]
    fn code_with_highlighted_text_is_not_empty() {
        let dom = "<pre><code class=\"hljs\"><span class=\"k\">fn\
                   </span></code></pre><code>x</code><codex></codex>";
        assert!(page_problems(dom).is_empty());
    }

    /// Fixture pages shaped like the book's: a 750 px column, code that
    /// scrolls sideways, tables in a scrolling wrapper.
    fn fixture_page(body: &str) -> String {
        format!(
            "<!DOCTYPE html><html><head><meta name=\"viewport\" \
             content=\"width=device-width\"><style>body {{ margin: 0 }} \
             main {{ max-width: 750px; margin: 0 auto; padding: 0 15px }} \
             pre > code {{ display: block; overflow-x: auto; \
             white-space: pre }} .wrap {{ overflow-x: auto }} \
             td {{ white-space: nowrap; padding: 0 20px }}</style></head>\
             <body><main>{body}</main></body></html>"
        )
    }

    /// What [`check_page`] finds in each of `pages` (a name and the
    /// body of a fixture page), a book of their own under `root`.
    fn check_fixtures(
        root: &Path,
        pages: &[(&str, &str)],
    ) -> Vec<Vec<String>> {
        let chromium = find_chromium().expect("build.rs found Chromium");
        let book = root.join("book");
        std::fs::create_dir_all(&book).unwrap();
        let mut browser = Browser::launch(&chromium, &root.join("profile"))
            .expect("Chromium starts");
        (pages.iter())
            .map(|(name, body)| {
                let page = book.join(name);
                std::fs::write(&page, fixture_page(body)).unwrap();
                check_page(&mut browser, &book, &page, root).unwrap().1
            })
            .collect()
    }

    #[test]
    #[cfg_attr(
        no_chromium,
        ignore = "needs Chromium: apt-get install -y chromium (xtask's \
                  build.rs found none)"
    )]
    fn a_wide_output_block_fails_at_1280_and_a_wide_table_at_390() {
        let root = std::env::temp_dir()
            .join(format!("xtask-layout-test-{}", std::process::id()));
        let output = format!("<pre><code>{}</code></pre>", "x".repeat(200));
        // A table too wide for a phone, in a box that clips it.
        let cells = "<td>claim_id</td>".repeat(5);
        let table = format!(
            "<div style=\"overflow-x: hidden\"><table><tr>{cells}</tr>\
             </table></div>"
        );
        let fits = "<p>Short.</p><pre><code>ls /proc</code></pre>";
        let [output, table, fits] = <[_; 3]>::try_from(check_fixtures(
            &root,
            &[
                ("output.html", &output),
                ("table.html", &table),
                ("fits.html", fits),
            ],
        ))
        .unwrap();
        // At 1280 px, and again at 1280 px in the dark theme.
        assert_eq!(output.len(), 2, "{output:?}");
        assert!(output[1].starts_with("at 1280 px in the dark theme"));
        assert!(
            output[0].starts_with(
                "at 1280 px a code block needs a sideways \
                                   scroll"
            ),
            "{output:?}"
        );
        assert_eq!(table.len(), 1, "{table:?}");
        assert!(
            table[0].starts_with("at 390 px a table does not fit"),
            "{table:?}"
        );
        assert_eq!(fits, Vec::<String>::new());
        assert!(root.join("phone-390/fits.png").is_file());
        let _ = std::fs::remove_dir_all(&root);
    }

    /// The broken-word rule, on the book's two ways of laying out a
    /// table of long words: `overflow-wrap: anywhere` in the cells (what
    /// `book/theme/fit.css` did) squeezes the table into a phone's
    /// width by breaking words letter by letter, and the rule must
    /// catch it; whole words in a wrapper that scrolls sideways (what
    /// it does now) must pass at both widths.
    #[test]
    #[cfg_attr(
        no_chromium,
        ignore = "needs Chromium: apt-get install -y chromium (xtask's \
                  build.rs found none)"
    )]
    fn a_table_that_breaks_words_fails_and_one_that_scrolls_passes() {
        let root = crate::target_dir()
            .join(format!("xtask-broken-words-{}", std::process::id()));
        let words = [
            "verification",
            "proc_pid_readdir",
            "getdents64",
            "thread-group",
            "lookup",
            "outcome",
        ];
        let row: String =
            words.iter().map(|w| format!("<td>{w}</td>")).collect();
        let table = format!(
            "<div class=\"wrap\"><table><tr>{row}</tr><tr>{row}</tr>\
             </table></div><p>The rule looks at words, not at this \
             paragraph, which wraps at its spaces as prose does.</p>"
        );
        let anywhere = table.replace(
            "<div class=\"wrap\">",
            "<style>td { overflow-wrap: anywhere; white-space: normal }\
             </style><div>",
        );
        let whole = table.replace(
            "<div class=\"wrap\">",
            "<style>td { white-space: normal }</style><div class=\"wrap\">",
        );
        let [anywhere, whole] = <[_; 2]>::try_from(check_fixtures(
            &root,
            &[("anywhere.html", &anywhere), ("whole.html", &whole)],
        ))
        .unwrap();
        let at_390 = "at 390 px a word is broken inside itself in a table";
        assert!(
            anywhere.iter().any(|p| p.starts_with(at_390)),
            "no broken word found at 390 px: {anywhere:?}"
        );
        for problem in &anywhere {
            assert!(
                problem.contains(
                    "a word is broken inside itself in a \
                                  table: \""
                ),
                "{anywhere:?}"
            );
        }
        assert_eq!(whole, Vec::<String>::new());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn search_results_are_counted() {
        let dom = "<div><ul id=\"searchresults\"><li><a>x</a></li>\
                   <li>y</li></ul></div><ul><li>z</li></ul>";
        assert_eq!(search_result_count(dom), Some(2));
        let v05 = "<div id=\"mdbook-searchresults-outer\"><ul \
                   id=\"mdbook-searchresults\"><li>x</li></ul></div>";
        assert_eq!(search_result_count(v05), Some(1));
        let empty = "<ul id=\"searchresults\"></ul>";
        assert_eq!(search_result_count(empty), Some(0));
        assert_eq!(search_result_count("<p></p>"), None);
    }
}
