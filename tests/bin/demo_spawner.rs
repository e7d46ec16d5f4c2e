//! demo-spawner as the tests run it: the same entry point as
//! `demo-spawner`.

fn main() -> std::process::ExitCode {
    demo_spawner::main()
}
