//! `cargo xtask`: the project's automation, one subcommand per job.
//!
//! Each job lives in its own module; this file only dispatches.

mod book_browser;
mod excerpts;
mod matrix;

fn main() {
    let mut args = std::env::args().skip(1);
    let job = args.next().unwrap_or_default();
    let code = match job.as_str() {
        "book-browser" => book_browser::main(args),
        "excerpts" => excerpts::main(args),
        "matrix" => matrix::main(args),
        _ => {
            eprintln!(
                "xtask: unknown job {job:?}; jobs: book-browser, excerpts, \
                 matrix"
            );
            2
        }
    };
    std::process::exit(code);
}
