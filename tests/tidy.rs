//! Tidy checks of the sources, run by `cargo test`: the registry and
//! the claim functions agree, and every claim is tested.

use checker::claims::CLAIMS;

use crate::support::workspace;

/// The source of every claims module, concatenated.
fn claim_sources() -> String {
    let dir = workspace().join("checker/src/claims");
    let mut text = String::new();
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        text += &std::fs::read_to_string(entry.path()).unwrap();
    }
    text
}

/// The first paragraph of the `///` doc comment above `pub fn name(`,
/// joined into one line.
fn first_doc_sentence(source: &str, name: &str) -> Option<String> {
    let lines: Vec<&str> = source.lines().collect();
    let at = lines
        .iter()
        .position(|line| line.starts_with(&format!("pub fn {name}(")))?;
    let mut doc: Vec<&str> = lines[..at]
        .iter()
        .rev()
        .take_while(|line| line.starts_with("///"))
        .map(|line| line.trim_start_matches("///").trim())
        .collect();
    doc.reverse();
    let first: Vec<&str> =
        doc.into_iter().take_while(|l| !l.is_empty()).collect();
    Some(first.join(" "))
}

#[test]
fn every_claims_statement_is_its_functions_first_doc_line() {
    let source = claim_sources();
    for claim in CLAIMS {
        let doc = first_doc_sentence(&source, claim.id).unwrap_or_else(|| {
            panic!("no `pub fn {}(` in checker/src/claims", claim.id)
        });
        assert_eq!(
            doc, claim.statement,
            "the registry's statement of {} differs from its doc comment",
            claim.id
        );
    }
}

#[test]
fn every_claims_doc_names_the_kernel_code() {
    let source = claim_sources();
    for claim in CLAIMS {
        let at = source.find(&format!("pub fn {}(", claim.id)).unwrap();
        let before = &source[..at];
        let doc_start = before.rfind("\n\n").unwrap_or(0);
        let doc = &before[doc_start..];
        assert!(
            doc.contains("()")
                && (doc.contains("fs/") || doc.contains("kernel/")),
            "the doc of {} names no kernel function and file",
            claim.id
        );
    }
}

#[test]
fn every_claim_has_a_live_test() {
    let tests =
        std::fs::read_to_string(workspace().join("tests/claims_live.rs"))
            .unwrap();
    for claim in CLAIMS {
        assert!(
            tests.contains(&format!("    {},\n", claim.id)),
            "claim {} has no live test in tests/claims_live.rs",
            claim.id
        );
    }
}

#[test]
fn first_doc_sentence_reads_a_wrapped_paragraph() {
    let source =
        "/// One claim\n/// on two lines.\n///\n/// More.\npub fn x() {}\n";
    assert_eq!(
        first_doc_sentence(source, "x").as_deref(),
        Some("One claim on two lines.")
    );
}
