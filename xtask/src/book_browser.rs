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
//! - the search finds `proc_pid_lookup` (the index was built and loads).
//!
//! Each page is loaded from the file system with `--dump-dom`, which
//! prints the DOM once the page's scripts have run for the virtual-time
//! budget; no server is needed.
//!
//! Exit statuses, the workspace's: 0 every page passed; 1 a page failed
//! a check; 2 usage; 3 could not run (no built book, Chromium crashed
//! or timed out); 4 skipped, because no Chromium is installed (the
//! message says which package to install).

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use exit_status::Status;

/// The term the search must find: a function every reader looks for.
const SEARCH_TERM: &str = "proc_pid_lookup";

/// How long one page may take, from start to a dumped DOM.
const PAGE_TIMEOUT: Duration = Duration::from_secs(60);

/// Opens every page of the built book in headless Chromium and fails if
/// a page shows a raw {{#include}}, has an empty <code> element, or if
/// the search does not find proc_pid_lookup. Set CHROMIUM to use
/// another browser binary.
#[derive(Debug, clap::Args)]
#[command(after_help = "Exit status: 0 all pages pass; 1 a page fails; 2 \
                        usage error; 3 could not run; 4 skipped: no \
                        Chromium installed.")]
pub(crate) struct Args {
    /// The built book (default: book/build, written by `mdbook build
    /// book`).
    #[arg(long, value_name = "DIR")]
    build_dir: Option<PathBuf>,
}

/// Runs the job and returns its exit status.
pub(crate) fn main(args: Args) -> Status {
    let build_dir = (args.build_dir)
        .unwrap_or_else(|| workspace_root().join("book/build"));
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
    match run(&chromium, &build_dir) {
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
fn run(chromium: &Path, build_dir: &Path) -> Result<Vec<String>, String> {
    let build_dir = build_dir
        .canonicalize()
        .map_err(|e| format!("cannot open {}: {e}", build_dir.display()))?;
    let profile = std::env::temp_dir()
        .join(format!("xtask-book-browser-{}", std::process::id()));
    let result = check_pages(chromium, &build_dir, &profile);
    let _ = std::fs::remove_dir_all(&profile);
    result
}

fn check_pages(
    chromium: &Path,
    build_dir: &Path,
    profile: &Path,
) -> Result<Vec<String>, String> {
    let mut failures = Vec::new();
    let pages = html_pages(build_dir)?;
    for page in &pages {
        let shown = page.strip_prefix(build_dir).unwrap_or(page).display();
        let dom = dump_dom(
            chromium,
            &format!("file://{}", page.display()),
            profile,
        )?;
        let problems = page_problems(&dom);
        println!(
            "{} {shown}",
            if problems.is_empty() { "ok  " } else { "FAIL" }
        );
        failures.extend(problems.into_iter().map(|p| format!("{shown}: {p}")));
    }
    let url = format!(
        "file://{}?search={SEARCH_TERM}",
        build_dir.join("index.html").display()
    );
    let dom = dump_dom(chromium, &url, profile)?;
    match search_result_count(&dom) {
        Some(n) if n > 0 => {
            println!("ok   search for {SEARCH_TERM}: {n} result(s)");
        }
        found => {
            println!("FAIL search for {SEARCH_TERM}");
            failures.push(format!(
                "index.html?search={SEARCH_TERM}: {}; check that \
                 book.toml has [output.html.search] enable = true and that \
                 mdbook was built with its `search` feature",
                match found {
                    None => "the page has no search results list",
                    Some(_) => "the search found nothing",
                }
            ));
        }
    }
    println!(
        "book-browser: {} page(s) and the search checked, {} problem(s)",
        pages.len(),
        failures.len()
    );
    Ok(failures)
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

/// Loads `url` in headless Chromium and returns the DOM after the page's
/// scripts ran.
fn dump_dom(
    chromium: &Path,
    url: &str,
    profile: &Path,
) -> Result<String, String> {
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            // Root in a container has no user namespaces for the sandbox.
            "--no-sandbox",
            "--disable-gpu",
            // The machine has no network: keep Chromium from trying.
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a timeout can end Chromium's helper
        // processes too.
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", chromium.display()))?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + PAGE_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(None) | Err(_) => {
                let pgid = child.id() as i32;
                // SAFETY: kill(2) with a negative pid signals the process
                // group we created for this child; no memory is involved.
                unsafe { libc::kill(-pgid, libc::SIGKILL) };
                let _ = child.wait();
                return Err(format!(
                    "Chromium did not finish {url} within {}s",
                    PAGE_TIMEOUT.as_secs()
                ));
            }
        }
    };
    let dom = out.join().unwrap_or_default();
    let log = err.join().unwrap_or_default();
    if !status.success() || dom.trim().is_empty() {
        return Err(format!(
            "Chromium failed on {url} ({status}); its last messages:\n{}",
            tail(&log, 10)
        ));
    }
    Ok(dom)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
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
            problems.push(format!(
                "empty code block `{}` after \"{}\"",
                &dom[at..open_end],
                text_of(&dom[at.saturating_sub(300)..at])
                    .split_whitespace()
                    .rev()
                    .take(8)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect::<Vec<_>>()
                    .join(" ")
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

/// The workspace root: xtask's manifest sits one level below it.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
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
