//! The workshop as the tests run it: the same entry point as
//! `workshop`.

fn main() -> std::process::ExitCode {
    workshop::main()
}
