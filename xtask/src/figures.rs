//! `cargo xtask figures`: draws the book's pictures from what the
//! workspace already verifies, so that a picture cannot say what the
//! kernel did not do (the book's figures; `book/figures/`).
//!
//! ```text
//! cargo xtask figures          write book/figures/ from the inputs
//! cargo xtask figures --check  fail if a committed figure is stale
//! ```
//!
//! The inputs are the recorded matrix, `book/verified/report.json`
//! (the kernel stacks the tracing claims recorded on each kernel), and
//! the kernel excerpts of `book/excerpts/` (every label naming kernel
//! code must be in the excerpt it quotes, and the constants of the
//! positions are read from them). The outputs are SVG, committed, so
//! that nobody needs this tool to read the book: the chapters include
//! them inline, where `book/theme/figures.css` colours them for the
//! light and the dark themes.
//!
//! - `two-paths.svg`: the introduction's picture, both paths on the
//!   book's kernel;
//! - `struct-pid.svg`: the listing chapter's, the lists of a `struct
//!   pid`;
//! - `positions.svg`: the listing chapter's, where each entry sits;
//! - `stacks-<kernel>.svg`, one per recorded kernel, and `stacks.md`,
//!   which the "Verified on" page includes: the same paths on every
//!   kernel of the matrix, with what differs from the book's kernel
//!   marked, and why a kernel recorded none.
//!
//! A test (`the_committed_figures_are_current`) regenerates them and
//! fails when a committed one differs, as CI runs it; `just matrix
//! --record` redraws them after recording.
//!
//! Exit statuses: `crate::statuses::FIGURES`, which `--help` shows.

mod draw;
mod inputs;
mod svg;

use std::path::Path;

use crate::matrix::report::{
    ClaimOutcome, KernelKind, KernelRun, MatrixReport,
};
use exit_status::Status;
use inputs::{Excerpts, release, upstream};

/// What to run when they are stale.
const REDRAW: &str = "run `cargo xtask figures` and commit \
                              book/figures/";

/// Draws the book's figures from book/verified/report.json and
/// book/excerpts/ into book/figures/.
#[derive(Debug, clap::Args)]
#[command(after_help = exit_status::help(crate::statuses::FIGURES))]
pub(crate) struct Args {
    /// Write nothing; fail if a committed figure differs from what the
    /// inputs give (what CI runs).
    #[arg(long)]
    check: bool,

    /// The book whose verified/, excerpts/ and figures/ to use
    /// (default: book/ of this workspace).
    #[arg(long, value_name = "DIR")]
    book: Option<std::path::PathBuf>,
}

/// One generated file: its name in `book/figures/` and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Figure {
    pub(crate) file: String,
    pub(crate) text: String,
}

/// Runs the job and returns its exit status.
pub(crate) fn main(args: Args) -> Status {
    let book = args.book.unwrap_or_else(|| crate::workspace().join("book"));
    let figures = match read_inputs(&book).and_then(|(r, x)| draw_all(&r, &x))
    {
        Ok(figures) => figures,
        Err(Problem::Io(why)) => {
            eprintln!("xtask figures: {why}");
            return Status::CannotRun;
        }
        Err(Problem::Draw(why)) => {
            eprintln!("xtask figures: cannot draw the figures:\n{why}");
            return Status::Failed;
        }
    };
    let dir = book.join("figures");
    if args.check {
        let stale = stale(&book, &figures);
        if stale.is_empty() {
            println!(
                "figures: {} file(s) in {} are current",
                figures.len(),
                dir.display()
            );
            return Status::Ok;
        }
        for file in &stale {
            eprintln!("xtask figures: {} is stale", dir.join(file).display());
        }
        eprintln!("xtask figures: {REDRAW}");
        return Status::Failed;
    }
    match write_figures(&book, &figures) {
        Ok(written) => {
            println!(
                "figures: {} file(s) in {}, {written} rewritten",
                figures.len(),
                dir.display()
            );
            Status::Ok
        }
        Err(why) => {
            eprintln!("xtask figures: {why}");
            Status::CannotRun
        }
    }
}

/// Why the figures could not be made.
#[derive(Debug)]
pub(crate) enum Problem {
    /// A file could not be read or written.
    Io(String),
    /// The inputs do not give a figure: the message says which.
    Draw(String),
}

/// Reads the recorded report and the excerpts of the book at `book`.
fn read_inputs(book: &Path) -> Result<(MatrixReport, Excerpts), Problem> {
    let report_path = book.join("verified/report.json");
    let text = crate::files::read_text(&report_path).map_err(Problem::Io)?;
    let report = serde_json::from_str(&text).map_err(|e| {
        Problem::Draw(format!(
            "{} is not the matrix's report: {e}",
            report_path.display()
        ))
    })?;
    let files = excerpt_files(&book.join("excerpts")).map_err(Problem::Io)?;
    let excerpts = Excerpts::parse(&files).map_err(Problem::Draw)?;
    Ok((report, excerpts))
}

/// The `(file name, text)` of every excerpt (`*.c`) in `dir`, by name.
fn excerpt_files(dir: &Path) -> Result<Vec<(String, String)>, String> {
    let mut files = Vec::new();
    for path in crate::files::listed(dir, "c")? {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        files.push((name.into_owned(), crate::files::read_text(&path)?));
    }
    Ok(files)
}

/// A file name for a kernel's figure: `stacks-6.12.117.svg`,
/// `stacks-7.3.4-source.svg`.
fn stacks_file(kernel: &KernelRun) -> String {
    let suffix = match kernel.kind {
        KernelKind::Debian => String::new(),
        kind => format!("-{}", kind.name()),
    };
    format!("stacks-{}{suffix}.svg", upstream(kernel))
}

/// Every figure, from the report and the excerpts.
pub(crate) fn draw_all(
    report: &MatrixReport,
    excerpts: &Excerpts,
) -> Result<Vec<Figure>, Problem> {
    let kernels = &report.kernels;
    let version = &excerpts.version;
    // The book's kernel: Debian's package of the excerpts' release.
    let reference = (kernels.iter())
        .find(|k| k.kind == KernelKind::Debian && upstream(k) == version)
        .ok_or_else(|| {
            Problem::Draw(format!(
                "book/verified/report.json records no Debian kernel \
                 {version}, the release book/excerpts/ quotes; run `just \
                 matrix --record`"
            ))
        })?;
    let mut figures = vec![
        Figure {
            file: "two-paths.svg".into(),
            text: draw::two_paths(excerpts, reference)
                .map_err(Problem::Draw)?,
        },
        Figure {
            file: "struct-pid.svg".into(),
            text: draw::struct_pid(excerpts).map_err(Problem::Draw)?,
        },
        Figure {
            file: "positions.svg".into(),
            text: draw::positions(excerpts).map_err(Problem::Draw)?,
        },
    ];
    let (stacks, fragment) = stacks(kernels, reference)?;
    figures.extend(stacks);
    figures.push(Figure {
        file: "stacks.md".into(),
        text: fragment,
    });
    Ok(figures)
}

/// The tracing claims' evidence of a kernel, to compare kernels.
fn traces(kernel: &KernelRun) -> Vec<(ClaimOutcome, &str)> {
    (draw::traced().into_iter())
        .filter_map(|id| kernel.outcome(id))
        .collect()
}

/// One figure per kernel that recorded stacks, and the fragment the
/// "Verified on" page includes: the figures side by side, then a note
/// for the kernels that drew none (mutants with the stacks of the
/// kernel they were built from, kernels where tracing skipped).
fn stacks(
    kernels: &[KernelRun],
    reference: &KernelRun,
) -> Result<(Vec<Figure>, String), Problem> {
    let ids = draw::traced();
    let mut figures: Vec<Figure> = Vec::new();
    let mut drawn: Vec<&KernelRun> = Vec::new();
    let mut notes = String::new();
    let mut same: Vec<(&KernelRun, &KernelRun)> = Vec::new();
    for kernel in kernels {
        let passed = |id| {
            kernel.outcome(id).map(|(o, _)| o) == Some(ClaimOutcome::Pass)
        };
        if !(passed(ids[0]) && passed(ids[1])) {
            let why: Vec<(&str, &str)> = (ids.into_iter())
                .filter_map(|id| kernel.outcome(id).map(|(o, e)| (id, o, e)))
                .filter(|(_, o, _)| *o != ClaimOutcome::Pass)
                .map(|(id, _, e)| (id, e))
                .collect();
            notes += &not_drawn(kernel, &why);
            continue;
        }
        // A mutant that recorded the stacks of the kernel it was built
        // from is named, not drawn again.
        let twin = (drawn.iter()).find(|k| {
            kernel.kind == KernelKind::Mutant
                && k.kind == KernelKind::Source
                && traces(k) == traces(kernel)
        });
        if let Some(twin) = twin {
            same.push((kernel, twin));
            continue;
        }
        let mut file = stacks_file(kernel);
        let mut n = 2;
        while figures.iter().any(|f| f.file == file) {
            file = stacks_file(kernel).replace(".svg", &format!("-{n}.svg"));
            n += 1;
        }
        let id =
            format!("fig-{}", file.trim_end_matches(".svg").replace('.', "-"));
        let text = draw::kernel_stacks(kernel, reference, &id)
            .map_err(Problem::Draw)?;
        figures.push(Figure { file, text });
        drawn.push(kernel);
    }
    let mut md = String::from(
        "<!-- Generated by `cargo xtask figures` from \
         book/verified/report.json; do not edit by hand. -->\n\n\
         <div class=\"fig-row\">\n\n",
    );
    for figure in &figures {
        md += &format!("{{{{#include {}}}}}\n\n", figure.file);
    }
    md += "</div>\n";
    md += &same_as_source(&same);
    Ok((figures, md + &notes))
}

/// The note for the mutants that recorded the stacks of the kernel
/// they were built from (`(mutant, source)` pairs).
fn same_as_source(same: &[(&KernelRun, &KernelRun)]) -> String {
    let [(_, twin), ..] = same[..] else {
        return String::new();
    };
    let mutants: Vec<String> = (same.iter())
        .map(|(k, _)| {
            format!("<code>{}</code>", k.label.trim_start_matches("mutant "))
        })
        .collect();
    format!(
        "\n<p class=\"fig-note\">The {} mutant kernel{} ({}), built \
         from the same source, recorded the same stacks as Linux {} \
         {}.</p>\n",
        same.len(),
        if same.len() == 1 { "" } else { "s" },
        mutants.join(", "),
        upstream(twin),
        twin.kind.origin()
    )
}

/// Why `kernel` has no figure: the evidence of each tracing claim that
/// did not pass (`why`), one note per reason.
fn not_drawn(kernel: &KernelRun, why: &[(&str, &str)]) -> String {
    let who = format!(
        "Linux {} ({}, {})",
        upstream(kernel),
        release(kernel),
        kernel.kind.origin()
    );
    let mut reasons: Vec<(Vec<&str>, &str)> = Vec::new();
    for &(id, evidence) in why {
        match reasons.iter_mut().find(|(_, e)| *e == evidence) {
            Some((ids, _)) => ids.push(id),
            None => reasons.push((vec![id], evidence)),
        }
    }
    let mut md = String::new();
    for (ids, evidence) in reasons {
        let claims: Vec<String> =
            ids.iter().map(|id| format!("<code>{id}</code>")).collect();
        let which = match claims.len() {
            1 => format!("the claim {} did not pass", claims[0]),
            n => format!(
                "{} tracing claims ({}) did not pass, for one reason",
                if n == 3 {
                    "the three".to_string()
                } else {
                    n.to_string()
                },
                claims.join(", ")
            ),
        };
        md += &format!(
            "\n<p class=\"fig-note\">On {}, {which}: {}</p>\n",
            html(&who),
            html(evidence)
        );
    }
    md
}

/// Text for HTML, with `code` spans.
fn html(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        let escaped = svg::escape(part);
        out += &match i % 2 {
            1 => format!("<code>{escaped}</code>"),
            _ => escaped,
        };
    }
    out
}

/// The figure files that differ from `figures`, or are missing, or
/// are left over from a kernel no longer recorded.
fn stale(book: &Path, figures: &[Figure]) -> Vec<String> {
    let dir = book.join("figures");
    let mut stale: Vec<String> = (figures.iter())
        .filter(|f| {
            std::fs::read_to_string(dir.join(&f.file)).ok().as_ref()
                != Some(&f.text)
        })
        .map(|f| f.file.clone())
        .collect();
    stale.extend(leftovers(book, figures));
    stale
}

/// Files of `book/figures/` that the generator does not write.
fn leftovers(book: &Path, figures: &[Figure]) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(book.join("figures")) else {
        return Vec::new();
    };
    let mut left: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !figures.iter().any(|f| f.file == *name))
        .collect();
    left.sort();
    left
}

/// Writes the figures that are stale and removes leftovers; returns how
/// many files changed.
fn write_figures(book: &Path, figures: &[Figure]) -> Result<usize, String> {
    let dir = book.join("figures");
    crate::files::mkdir(&dir)?;
    let stale = stale(book, figures);
    for file in &stale {
        let path = dir.join(file);
        match figures.iter().find(|f| f.file == *file) {
            Some(figure) => {
                crate::files::write(&path, figure.text.as_bytes())?
            }
            None => std::fs::remove_file(&path).map_err(|e| {
                format!("cannot remove {}: {e}", path.display())
            })?,
        }
    }
    Ok(stale.len())
}

/// Redraws the figures of the workspace at `root` (after `just matrix
/// --record` wrote a new report).
pub(crate) fn redraw(root: &Path) -> Result<(), String> {
    let book = root.join("book");
    let figures = read_inputs(&book)
        .and_then(|(r, x)| draw_all(&r, &x))
        .map_err(|p| match p {
            Problem::Io(why) | Problem::Draw(why) => why,
        })?;
    write_figures(&book, &figures).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> std::path::PathBuf {
        crate::workspace().join("book")
    }

    fn inputs() -> (MatrixReport, Excerpts) {
        read_inputs(&book()).unwrap_or_else(|p| panic!("{p:?}"))
    }

    fn draw(report: &MatrixReport, excerpts: &Excerpts) -> Vec<Figure> {
        draw_all(report, excerpts).unwrap_or_else(|p| panic!("{p:?}"))
    }

    fn file<'a>(figures: &'a [Figure], name: &str) -> &'a str {
        &figures.iter().find(|f| f.file == name).unwrap().text
    }

    /// What CI runs: the committed figures are what the recorded
    /// stacks and the excerpts give; each with its text alternative
    /// (`<title>`, `<desc>`) and no blank line, which would end the
    /// HTML block of the page that includes it.
    #[test]
    fn the_committed_figures_are_current() {
        let (report, excerpts) = inputs();
        let figures = draw(&report, &excerpts);
        for svg in figures.iter().filter(|f| f.file.ends_with(".svg")) {
            let (desc, blank) = ("-desc\">", "\n\n");
            let file = &svg.file;
            assert!(svg.text.contains(desc), "{file} has no <desc>");
            assert!(!svg.text.contains(blank), "{file} has a blank line");
        }
        let stale = stale(&book(), &figures);
        assert!(
            stale.is_empty(),
            "{} stale in book/figures: {}; {REDRAW}",
            stale.len(),
            stale.join(", ")
        );
    }

    /// A recorded stack that changes changes the picture: the
    /// committed one is then stale.
    #[test]
    fn a_changed_recorded_stack_redraws_the_picture() {
        let (mut report, excerpts) = inputs();
        let before = draw(&report, &excerpts);
        let k612 = (report.kernels.iter_mut())
            .find(|k| release(k).starts_with("6.12."))
            .unwrap();
        for claim in &mut k612.claims {
            if claim.id == draw::lookup_claim() {
                let e = claim.evidence.as_deref().unwrap();
                claim.evidence = Some(e.replace("walk_component <- ", ""));
            }
        }
        let after = draw(&report, &excerpts);
        let (was, now) = (
            file(&before, "two-paths.svg"),
            file(&after, "two-paths.svg"),
        );
        assert_ne!(was, now);
        assert!(!now.contains(">walk_component<"), "{now}");
    }

    /// A label that its excerpt no longer has stops the drawing, and
    /// names the excerpt.
    #[test]
    fn a_label_its_excerpt_lacks_fails_the_drawing() {
        let (report, _) = inputs();
        let mut files = excerpt_files(&book().join("excerpts")).unwrap();
        for (name, text) in &mut files {
            if name == "next_tgid.c" {
                *text = text.replace("PIDTYPE_TGID", "PIDTYPE_PID");
            }
            if name == "TGID_OFFSET.c" {
                *text = text.replace("+ 2", "+ 3");
            }
        }
        let changed = Excerpts::parse(&files).unwrap();
        match draw_all(&report, &changed) {
            Err(Problem::Draw(why)) => {
                assert!(
                    why.contains(
                        "book/excerpts/next_tgid.c does not \
                                      contain"
                    ),
                    "{why}"
                );
            }
            other => panic!("drew with a changed excerpt: {other:?}"),
        }
        // The constants are read, not assumed.
        let mut only_offset = files.clone();
        for (name, text) in &mut only_offset {
            if name == "next_tgid.c" {
                *text = text.replace("PIDTYPE_PID", "PIDTYPE_TGID");
            }
        }
        let x = Excerpts::parse(&only_offset).unwrap();
        let positions = draw::positions(&x).unwrap();
        assert!(positions.contains(">4501<"), "TGID_OFFSET + 4242 = 4501");
    }

    #[test]
    fn a_report_without_the_books_kernel_is_refused() {
        let (_, excerpts) = inputs();
        let report = MatrixReport::new(Vec::new(), "tcg", 0.0);
        match draw_all(&report, &excerpts) {
            Err(Problem::Draw(why)) => {
                assert!(why.contains("records no Debian kernel"), "{why}")
            }
            other => panic!("{other:?}"),
        }
    }
}
