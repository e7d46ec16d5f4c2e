//! Tidy checks of the sources, run by `cargo test`: what a reader of
//! any file can rely on.

use crate::support::workspace;

/// Every `.rs` file of the workspace, outside `target/`.
fn sources() -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![workspace().to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name == "target" || name.to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn every_source_file_opens_with_what_it_is_for() {
    let files = sources();
    assert!(files.len() > 30, "found only {} files", files.len());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("//!"),
            "{} does not open with a `//!` comment saying what it is for",
            file.display()
        );
    }
}

#[test]
fn every_claim_cites_a_kernel_function_and_its_file() {
    for claim in checker::claims::CLAIMS {
        let cited = claim.kernel;
        assert!(
            cited.contains("()")
                && (cited.contains("fs/") || cited.contains("kernel/")),
            "claim {} cites no kernel function and file: {cited}",
            claim.id
        );
    }
}
