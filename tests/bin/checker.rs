//! The checker as the tests run it: the same entry point as `checker`.

fn main() -> std::process::ExitCode {
    checker::main()
}
