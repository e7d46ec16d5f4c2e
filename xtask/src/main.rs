//! `cargo xtask`: the project's automation, one subcommand per job.
//!
//! Each job lives in its own module; this file only dispatches.

mod excerpts;
mod matrix;

fn main() {
    let mut args = std::env::args().skip(1);
    let job = args.next().unwrap_or_default();
    let code = match job.as_str() {
        "excerpts" => excerpts::main(args),
        "matrix" => matrix::main(args),
        _ => {
            eprintln!("xtask: unknown job {job:?}; jobs: (none yet)");
            2
        }
    };
    std::process::exit(code);
}
