//! `cargo xtask`'s jobs and the workspace's exit statuses: every status
//! of a job's list (`xtask/src/statuses.rs`, from which its `--help`
//! paragraph is generated) is reached here by a real run of the xtask
//! binary; the matrix's ok and failed through `--merge` of
//! slices' reports written here, since booting kernels needs QEMU
//! (`xtask/tests/matrix.rs` and the end-to-end test in
//! `xtask/src/matrix` boot them; `just matrix` runs them all).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use exit_status::Statuses;
use support::{command, text, workspace};

#[path = "../src/statuses.rs"]
mod statuses;

/// Run `xtask args`, with `env` set, and return the output.
fn xtask(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = command(args);
    command.envs(env.iter().copied());
    command.output().expect("xtask runs")
}

fn code(output: &Output) -> Option<i32> {
    output.status.code()
}

/// A job's list as the exit codes of the runs that reach its statuses,
/// in order.
fn codes(statuses: &Statuses) -> Vec<Option<i32>> {
    (statuses.iter())
        .map(|(status, _)| Some(i32::from(status.code())))
        .collect()
}

/// A scratch directory of this process's, empty.
fn scratch(name: &str) -> PathBuf {
    let pid = std::process::id();
    support::scratch(&format!("xtask-statuses/{name}-{pid}"))
}

/// A kernel tree made of the book's own excerpts: each file holds the
/// excerpts that name it at the lines they name, and the Makefile says
/// 6.12.117. Every excerpt matches it; altering one line breaks one.
fn tree_of_the_excerpts(dir: &Path) {
    let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(workspace().join("book/excerpts")).unwrap()
    {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "c") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        let place = header.trim_start_matches("/* ").split(' ').next();
        let (file, line) = place.unwrap().rsplit_once(':').unwrap();
        let start: usize = line.parse().unwrap();
        let kernel = files.entry(file.to_string()).or_default();
        for (at, body) in lines.enumerate() {
            let index = start - 1 + at;
            if kernel.len() <= index {
                kernel.resize(index + 1, String::new());
            }
            kernel[index] = body.to_string();
        }
    }
    for (file, lines) in files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
    }
    std::fs::write(
        dir.join("Makefile"),
        "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 117\n",
    )
    .unwrap();
}

#[test]
fn excerpts_reaches_every_status_it_documents() {
    let tree = scratch("tree");
    tree_of_the_excerpts(&tree);
    let source = tree.to_str().unwrap();
    let ok = xtask(&["excerpts", "--source", source], &[]);
    assert_eq!(code(&ok), Some(0), "{}", text(&ok));
    // One line of name_to_int() changed: that excerpt no longer matches.
    let util = tree.join("fs/proc/util.c");
    let changed = std::fs::read_to_string(&util).unwrap().replacen(
        "const char *name",
        "const char *nom",
        1,
    );
    std::fs::write(&util, changed).unwrap();
    let failed = xtask(&["excerpts", "--source", source], &[]);
    assert_eq!(code(&failed), Some(1), "{}", text(&failed));
    assert!(text(&failed).contains("FAIL book/excerpts/name_to_int.c"));
    let usage = xtask(&["excerpts", "--bogus"], &[]);
    assert_eq!(code(&usage), Some(2), "{}", text(&usage));
    let missing = tree.join("missing");
    let cannot =
        xtask(&["excerpts", "--source", missing.to_str().unwrap()], &[]);
    assert_eq!(code(&cannot), Some(3), "{}", text(&cannot));
    // No cached source and no apt-get: nothing can be verified.
    let empty = scratch("target");
    let skipped = xtask(
        &["excerpts"],
        &[("PATH", ""), ("CARGO_TARGET_DIR", empty.to_str().unwrap())],
    );
    assert_eq!(code(&skipped), Some(4), "{}", text(&skipped));
    assert!(text(&skipped).contains("skipped: `apt-get` is not installed"));
    let runs = [&ok, &failed, &usage, &cannot, &skipped];
    assert_eq!(codes(statuses::EXCERPTS), runs.map(code));
    let _ = std::fs::remove_dir_all(&tree);
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn book_browser_reaches_the_statuses_that_need_no_book() {
    // 0 and 1 need a built book: `.ci/book` runs them.
    let usage = xtask(&["book-browser", "--bogus"], &[]);
    assert_eq!(code(&usage), Some(2), "{}", text(&usage));
    let skipped = xtask(&["book-browser"], &[("PATH", ""), ("CHROMIUM", "")]);
    assert_eq!(code(&skipped), Some(4), "{}", text(&skipped));
    let empty = scratch("book");
    let cannot = xtask(
        &["book-browser", "--build-dir", empty.to_str().unwrap()],
        &[("CHROMIUM", "/bin/true")],
    );
    assert_eq!(code(&cannot), Some(3), "{}", text(&cannot));
    assert!(text(&cannot).contains("has no index.html"));
    let runs = [&usage, &cannot, &skipped];
    assert_eq!(codes(&statuses::BOOK_BROWSER[2..]), runs.map(code));
    let _ = std::fs::remove_dir_all(&empty);
}

/// A copy of what `cargo xtask figures` reads, in a scratch book.
fn book_of_the_inputs(dir: &Path) {
    let book = workspace().join("book");
    std::fs::create_dir_all(dir.join("verified")).unwrap();
    std::fs::create_dir_all(dir.join("excerpts")).unwrap();
    std::fs::copy(
        book.join("verified/report.json"),
        dir.join("verified/report.json"),
    )
    .unwrap();
    for entry in std::fs::read_dir(book.join("excerpts")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(
            &path,
            dir.join("excerpts").join(path.file_name().unwrap()),
        )
        .unwrap();
    }
}

#[test]
fn figures_reaches_every_status_it_documents() {
    let book = scratch("figures");
    book_of_the_inputs(&book);
    let dir = book.to_str().unwrap();
    // Nothing drawn yet: stale; drawn: current.
    let stale = xtask(&["figures", "--check", "--book", dir], &[]);
    assert_eq!(code(&stale), Some(1), "{}", text(&stale));
    assert!(text(&stale).contains("run `cargo xtask figures`"));
    let drawn = xtask(&["figures", "--book", dir], &[]);
    assert_eq!(code(&drawn), Some(0), "{}", text(&drawn));
    let ok = xtask(&["figures", "--check", "--book", dir], &[]);
    assert_eq!(code(&ok), Some(0), "{}", text(&ok));
    // A figure edited by hand is stale.
    let svg = book.join("figures/two-paths.svg");
    let edited = std::fs::read_to_string(&svg)
        .unwrap()
        .replace("walk_component", "walk_components");
    std::fs::write(&svg, edited).unwrap();
    let failed = xtask(&["figures", "--check", "--book", dir], &[]);
    assert_eq!(code(&failed), Some(1), "{}", text(&failed));
    assert!(text(&failed).contains("figures/two-paths.svg is stale"));
    let usage = xtask(&["figures", "--bogus"], &[]);
    assert_eq!(code(&usage), Some(2), "{}", text(&usage));
    let missing = book.join("missing");
    let cannot = xtask(&["figures", "--book", missing.to_str().unwrap()], &[]);
    assert_eq!(code(&cannot), Some(3), "{}", text(&cannot));
    let runs = [&drawn, &stale, &usage, &cannot];
    assert_eq!(codes(statuses::FIGURES), runs.map(code));
    let _ = std::fs::remove_dir_all(&book);
}

#[test]
fn the_matrix_reaches_usage_and_could_not_run() {
    let usage = xtask(&["matrix", "--record", "--no-host"], &[]);
    assert_eq!(code(&usage), Some(2), "{}", text(&usage));
    assert!(text(&usage).starts_with("xtask: the argument '--record'"));
    // No QEMU on the PATH: the runner cannot run.
    let cannot = xtask(&["matrix", "--no-host"], &[("PATH", "")]);
    assert_eq!(code(&cannot), Some(3), "{}", text(&cannot));
    // The kernel job's usage error; building needs the source (`.ci/run`).
    let kernel = xtask(&["kernel", "--bogus"], &[]);
    assert_eq!(code(&kernel), Some(2), "{}", text(&kernel));
    assert!(codes(statuses::KERNEL).contains(&code(&kernel)));
}

#[test]
fn a_file_that_is_not_a_kernel_image_is_a_usage_error_in_one_line() {
    let output = xtask(&["matrix", "--image", "/etc/passwd"], &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(code(&output), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "matrix: --image /etc/passwd: not a kernel image: neither an ELF \
             vmlinux nor a bzImage"
        ),
        "{stderr}"
    );
}

#[test]
fn an_unknown_job_is_a_usage_error() {
    let output = xtask(&["no-such-job"], &[]);
    assert_eq!(code(&output), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.ends_with("see 'cargo xtask --help'\n"), "{stderr}");
}

#[test]
fn every_jobs_help_fits_80_columns() {
    for job in [
        "",
        "matrix",
        "kernel",
        "excerpts",
        "book-browser",
        "figures",
    ] {
        let args: Vec<&str> = [job, "--help"]
            .into_iter()
            .filter(|arg| !arg.is_empty())
            .collect();
        let output = xtask(&args, &[]);
        assert_eq!(code(&output), Some(0), "{}", text(&output));
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            assert!(line.chars().count() <= 80, "{job} --help: {line}");
        }
    }
}

#[test]
fn the_plan_has_a_slice_per_kernel_line_and_mutant() {
    let output = xtask(&["matrix", "--slices"], &[]);
    assert_eq!(code(&output), Some(0), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.lines().count(), 1, "one line of JSON: {stdout}");
    let slices: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let kinds: Vec<&str> = (slices.as_array().unwrap().iter())
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    let list =
        std::fs::read_to_string(workspace().join("matrix/kernels.list"))
            .unwrap();
    let lines = (list.lines())
        .filter(|l| !l.split('#').next().unwrap().trim().is_empty())
        .count();
    let patches = std::fs::read_dir(workspace().join("matrix/mutants"))
        .unwrap()
        .filter(|e| {
            e.as_ref().unwrap().path().extension() == Some("patch".as_ref())
        })
        .count();
    let count = |kind| kinds.iter().filter(|k| **k == kind).count();
    assert_eq!(kinds[0], "host");
    assert_eq!(count("debian"), lines);
    assert_eq!(count("source"), 1);
    assert_eq!(count("mutant"), patches);
    assert_eq!(kinds.len(), 2 + lines + patches);
    for slice in slices.as_array().unwrap() {
        let needs =
            matches!(slice["kind"].as_str(), Some("source" | "mutant"));
        assert_eq!(slice["source_build"], needs, "{slice}");
    }
    let unknown = xtask(&["matrix", "--slice", "no-such-slice"], &[]);
    assert_eq!(code(&unknown), Some(2), "{}", text(&unknown));
    assert!(text(&unknown).contains("--slice no-such-slice: no such slice"));
}

/// A slice's report as `cargo xtask matrix --slice host` writes it,
/// with every claim of the registry passing on release `release`.
fn host_slice(dir: &Path, release: &str, outcome: &str) -> PathBuf {
    let claims: Vec<serde_json::Value> = (checker::claims::CLAIMS.iter())
        .map(|c| {
            serde_json::json!({"id": c.id, "outcome": outcome,
                               "evidence": "seen"})
        })
        .collect();
    let report = serde_json::json!({
        "slice": "host", "accel": "tcg", "wall_seconds": 1.5,
        "kernels": [{
            "label": "host", "kind": "host", "suite": null,
            "package": null, "version": null, "release": release,
            "how": "native", "seconds": 1.2, "status": "reported",
            "claims": claims,
        }],
    });
    let path = dir.join(format!("{outcome}.json"));
    std::fs::write(&path, report.to_string()).unwrap();
    path
}

#[test]
fn the_merge_reaches_every_status_and_names_the_slice() {
    let dir = scratch("merge");
    let out = dir.join("out");
    let out = out.to_str().unwrap();
    // A merge of `reports` into the plan of `plan`'s options.
    let merge_into = |plan: &[&str], reports: &[&Path]| {
        let mut args = vec!["matrix"];
        args.extend(plan.iter().chain(&["--out", out, "--merge"]));
        args.extend(reports.iter().map(|p| p.to_str().unwrap()));
        xtask(&args, &[])
    };
    let merge = |reports: &[&Path]| {
        merge_into(&["--no-debian", "--no-source"], reports)
    };
    let pass = host_slice(&dir, "0.0.0-merge-test", "pass");
    let ok = merge(&[&pass]);
    assert_eq!(code(&ok), Some(0), "{}", text(&ok));
    assert!(text(&ok).contains("[merge] all 1 slices reported"));
    let written = std::fs::read_to_string(dir.join("out/report.json"));
    let written: serde_json::Value =
        serde_json::from_str(&written.unwrap()).unwrap();
    assert_eq!(written["kernels"][0]["release"], "0.0.0-merge-test");
    assert_eq!(written.get("slice"), None, "a merge is not a slice");

    let fail = host_slice(&dir, "0.0.0-merge-test", "fail");
    let failed = merge(&[&fail]);
    assert_eq!(code(&failed), Some(1), "{}", text(&failed));
    assert!(text(&failed).contains("[merge] slice host failed: host: "));

    // A plan with an image too: its slice has no report.
    let image = ["--no-debian", "--no-source", "--image", "elsewhere/bz"];
    let missing = merge_into(&image, &[&pass]);
    assert_eq!(code(&missing), Some(1), "{}", text(&missing));
    assert!(
        text(&missing).contains(
            "[merge] slice image-bz failed: no report from bz: missing: no \
             report of slice image-bz among the merged ones"
        ),
        "{}",
        text(&missing)
    );

    // A slice of another plan is a mistake of the command line.
    let no_host = ["--no-host", "--no-debian", "--no-source"];
    let unknown = merge_into(&no_host, &[&pass]);
    assert_eq!(code(&unknown), Some(2), "{}", text(&unknown));
    assert!(text(&unknown).contains("slice host is not in the plan"));

    let twice = merge(&[&pass, &fail]);
    assert_eq!(code(&twice), Some(2), "{}", text(&twice));
    assert!(text(&twice).contains("slice host is given twice"));
    let nothing = dir.join("nothing.json");
    let cannot = merge(&[&nothing]);
    assert_eq!(code(&cannot), Some(3), "{}", text(&cannot));
    assert!(text(&cannot).contains("cannot read"));
    let runs = [&ok, &failed, &twice, &cannot];
    assert_eq!(codes(statuses::MATRIX), runs.map(code));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Run `xtask args` with stdout going to `stdout`.
fn xtask_into(args: &[&str], stdout: std::process::Stdio) -> Output {
    command(args)
        .stdin(std::process::Stdio::null())
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("xtask runs")
}

#[test]
fn help_into_a_closed_pipe_is_quiet_and_into_a_full_disk_one_line() {
    // The workspace's one rule for output errors
    // (`exit_status::after_write`), which `--help` obeys too.
    for args in [&["--help"][..], &["matrix", "--help"]] {
        let (read, write) = nix::unistd::pipe().expect("a pipe");
        drop(read);
        let closed = xtask_into(args, write.into());
        assert_eq!(code(&closed), Some(0), "{args:?}: {}", text(&closed));
        assert!(closed.stderr.is_empty(), "{args:?}: {}", text(&closed));

        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let full = xtask_into(args, full.into());
        assert_eq!(code(&full), Some(3), "{args:?}: {}", text(&full));
        assert_eq!(
            String::from_utf8_lossy(&full.stderr),
            "xtask: cannot write to stdout: No space left on device (os \
             error 28)\n"
        );
    }
}
