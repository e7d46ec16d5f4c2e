//! Tidy checks of the sources, run by `cargo test`: what a reader of
//! any file can rely on.

use crate::support::{files_under, workspace};

#[test]
fn every_source_file_opens_with_what_it_is_for() {
    // Every `.rs` file of the workspace, outside `target/`.
    let files = files_under(workspace(), "rs");
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
