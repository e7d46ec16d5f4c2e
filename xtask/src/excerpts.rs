//! `cargo xtask excerpts`: checks that every kernel excerpt the book
//! quotes (`book/excerpts/*.c`) is a verbatim copy of the kernel source
//! its header names (the book's kernel excerpts).
//!
//! ```text
//! cargo xtask excerpts               check against the pinned kernel,
//!                                    fetched from Debian into target/
//! cargo xtask excerpts --source DIR  check against an unpacked tree
//! cargo xtask excerpts --locate      regenerate book/excerpts/LOCATIONS.md
//! ```
//!
//! Exit statuses: `crate::statuses::EXCERPTS`, which `--help` shows;
//! CI tells a stale book (1) from a machine that cannot judge (4).
//!
//! The comparison is in `excerpts/compare.rs`, free of I/O; this file and
//! `excerpts/source.rs` are the thin layer that reads files and fetches
//! the source through [`crate::debian`], as the kernel matrix does.

mod compare;
mod locate;
mod source;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use compare::{Excerpt, Verdict};
use exit_status::Status;
use source::{KernelTree, PINNED, SourceError};

/// Where the excerpts live, relative to the workspace root.
const EXCERPT_DIR: &str = "book/excerpts";

/// Checks that every book/excerpts/*.c file is a verbatim copy of the
/// kernel source its first line names, pinned to Linux 6.12.117
/// (Debian linux-source-6.12). Without --source the source is fetched
/// with `apt-get download` into target/kernel-src/ and reused.
#[derive(Debug, clap::Args)]
#[command(after_help = exit_status::help(crate::statuses::EXCERPTS))]
pub(crate) struct Args {
    /// Compare with an already unpacked kernel tree (the directory
    /// that holds Makefile, fs/ and kernel/).
    #[arg(long, value_name = "DIR", conflicts_with = "locate")]
    source: Option<PathBuf>,
    /// Find each excerpt in Linux 6.1.192 and 6.12.117 and write
    /// book/excerpts/LOCATIONS.md.
    #[arg(long)]
    locate: bool,
}

/// Runs the job and returns its exit status.
pub(crate) fn main(args: Args) -> Status {
    let result = match args.locate {
        true => write_locations(),
        false => check(args.source.as_deref()),
    };
    let (status, why) = match result {
        Ok(status) => return status,
        Err(SourceError::Unavailable(why)) => {
            (Status::Skipped, format!("skipped: {why}"))
        }
        Err(SourceError::Malformed(why)) => (Status::Failed, why),
        Err(SourceError::Failed(why)) => (Status::CannotRun, why),
    };
    eprintln!("xtask excerpts: {why}");
    status
}

/// Where fetched kernel sources are cached.
fn cache_dir() -> PathBuf {
    crate::target_dir().join("kernel-src")
}

/// Reads and parses every excerpt, sorted by file name. All malformed
/// excerpts are reported, not only the first.
fn load_excerpts(root: &Path) -> Result<Vec<Excerpt>, SourceError> {
    let dir = root.join(EXCERPT_DIR);
    let paths = crate::files::listed(&dir, "c").map_err(|e| {
        SourceError::Failed(format!(
            "{e}; run from the workspace that holds {EXCERPT_DIR}/"
        ))
    })?;
    let mut excerpts = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let file = path.file_name().unwrap_or_default().to_string_lossy();
        let name = format!("{EXCERPT_DIR}/{file}");
        let parsed = fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {name}: {e}"))
            .and_then(|text| Excerpt::parse(&name, &text));
        match parsed {
            Ok(excerpt) => excerpts.push(excerpt),
            Err(why) => errors.push(why),
        }
    }
    if excerpts.is_empty() && errors.is_empty() {
        errors.push(format!(
            "no excerpts (*.c) in {}; see {EXCERPT_DIR}/README.md",
            dir.display()
        ));
    }
    if errors.is_empty() {
        Ok(excerpts)
    } else {
        Err(SourceError::Malformed(errors.join("\nxtask excerpts: ")))
    }
}

/// The files to extract from a tree: every file an excerpt names, and
/// the Makefile that states the tree's version.
fn needed_files(excerpts: &[Excerpt]) -> BTreeSet<String> {
    let named = excerpts.iter().map(|e| e.header.path.clone());
    named.chain(["Makefile".to_owned()]).collect()
}

/// Fails unless the tree at `root` is the kernel version `tree` names:
/// a check against the wrong tree would prove nothing.
fn ensure_version(root: &Path, tree: &KernelTree) -> Result<(), SourceError> {
    let makefile = root.join("Makefile");
    let text = fs::read_to_string(&makefile).map_err(|e| {
        SourceError::Failed(format!(
            "cannot read {}: {e}; is {} the top of a kernel tree (the \
             directory that holds Makefile, fs/ and kernel/)?",
            makefile.display(),
            root.display()
        ))
    })?;
    match compare::makefile_version(&text) {
        Some(version) if version == tree.kernel => Ok(()),
        Some(version) => Err(SourceError::Failed(format!(
            "{} is Linux {version}, but the excerpts quote {}; pass a \
             Linux {} tree, or run without --source to fetch it",
            root.display(),
            tree.release(),
            tree.kernel
        ))),
        None => Err(SourceError::Failed(format!(
            "{} has no VERSION/PATCHLEVEL/SUBLEVEL: not a kernel's top \
             Makefile",
            makefile.display()
        ))),
    }
}

/// The pinned check: every excerpt against the pinned tree.
fn check(source: Option<&Path>) -> Result<Status, SourceError> {
    let root = crate::workspace();
    let excerpts = load_excerpts(&root)?;
    // Headers must all name the pinned release: the book promises one
    // kernel version throughout the walkthrough.
    let wrong: Vec<String> = excerpts
        .iter()
        .filter(|e| e.header.kernel != PINNED.kernel)
        .map(|e| {
            format!(
                "{}:1: names {}, but the excerpts are pinned to {}; \
                 see {EXCERPT_DIR}/README.md",
                e.name,
                e.header.release(),
                PINNED.release()
            )
        })
        .collect();
    if !wrong.is_empty() {
        return Err(SourceError::Malformed(wrong.join("\nxtask excerpts: ")));
    }
    let tree_root = match source {
        Some(dir) => dir.to_path_buf(),
        None => source::fetch_files(
            &PINNED,
            &cache_dir(),
            &needed_files(&excerpts),
        )?,
    };
    ensure_version(&tree_root, &PINNED)?;
    let mut failed = 0;
    for excerpt in &excerpts {
        let header = &excerpt.header;
        let kernel_file = tree_root.join(&header.path);
        let report = match fs::read_to_string(&kernel_file) {
            Ok(text) => {
                let verdict = compare::compare(excerpt, &text);
                (verdict != Verdict::Matches)
                    .then(|| compare::explain(excerpt, &verdict))
            }
            Err(e) => Some(format!(
                "{}:1: cannot read {} in {}: {e}; does the header name a \
                 file of that tree?\n",
                excerpt.name,
                header.path,
                tree_root.display()
            )),
        };
        let word = if report.is_some() { "FAIL" } else { "ok  " };
        println!("{word} {} = {}:{}", excerpt.name, header.path, header.line);
        if let Some(report) = report {
            failed += 1;
            print!("{report}");
        }
    }
    let total = excerpts.len();
    if failed == 0 {
        println!("all {total} excerpts match {}", PINNED.release());
        Ok(Status::Ok)
    } else {
        println!(
            "{failed} of {total} excerpts do not match {}",
            PINNED.release()
        );
        Ok(Status::Failed)
    }
}

/// `--locate`: finds every excerpt in every fetchable tree and writes the
/// table to `book/excerpts/LOCATIONS.md` (and to stdout).
fn write_locations() -> Result<Status, SourceError> {
    let root = crate::workspace();
    let excerpts = load_excerpts(&root)?;
    let files = needed_files(&excerpts);
    let mut found = vec![Vec::new(); excerpts.len()];
    for tree in locate::trees() {
        let tree_root = source::fetch_files(tree, &cache_dir(), &files)?;
        ensure_version(&tree_root, tree)?;
        for (excerpt, row) in excerpts.iter().zip(&mut found) {
            // A file missing from an older tree is a finding, not an
            // error: the code lived elsewhere then.
            let text =
                fs::read_to_string(tree_root.join(&excerpt.header.path))
                    .unwrap_or_default();
            row.push(compare::locate(excerpt, &text));
        }
    }
    let table = locate::render(&excerpts, &found);
    let path = root.join(EXCERPT_DIR).join("LOCATIONS.md");
    crate::files::write(&path, table.as_bytes())
        .map_err(SourceError::Failed)?;
    print!("{table}");
    eprintln!("xtask excerpts: wrote {}", path.display());
    Ok(Status::Ok)
}

/// Tidy checks on the book's own files. They need neither the network nor
/// a kernel tree, so they run under `cargo test --workspace`; the
/// comparison with the kernel itself is `cargo xtask excerpts`.
#[cfg(test)]
mod tests {
    use super::*;

    fn excerpts() -> Vec<Excerpt> {
        match load_excerpts(&crate::workspace()) {
            Ok(excerpts) => excerpts,
            Err(
                SourceError::Failed(why)
                | SourceError::Malformed(why)
                | SourceError::Unavailable(why),
            ) => panic!("{why}"),
        }
    }

    #[test]
    fn locations_table_agrees_with_excerpt_headers() {
        // Catches an excerpt added or re-pinned without regenerating the
        // table; the other columns need the trees, so only this one is
        // checked here.
        let path = crate::workspace().join(EXCERPT_DIR).join("LOCATIONS.md");
        let table = fs::read_to_string(&path).unwrap();
        let pinned_column = locate::COLUMNS
            .iter()
            .position(|c| c.title.contains(PINNED.source.package))
            .unwrap();
        for excerpt in excerpts() {
            let file = excerpt.name.rsplit('/').next().unwrap();
            let stem = file.trim_end_matches(".c");
            let row = table
                .lines()
                .find(|line| line.starts_with(&format!("| `{stem}`:")))
                .unwrap_or_else(|| {
                    panic!(
                        "{} has no row in {}; run `{}`",
                        excerpt.name,
                        path.display(),
                        locate::REGENERATE
                    )
                });
            let cells: Vec<&str> = row.split(" | ").collect();
            assert_eq!(
                cells[2 + pinned_column],
                excerpt.header.line.to_string(),
                "{}: its row in {} disagrees with its header; run `{}`",
                excerpt.name,
                path.display(),
                locate::REGENERATE
            );
        }
    }
}
