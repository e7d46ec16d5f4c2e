//! The program of Daniel Xu's article "/proc/[pid] and the missing
//! threads" (<https://dxuuu.xyz/proc-threads.html>), line for line, as
//! the book's first chapter shows it: `cargo run -p demo-spawner
//! --example article`. It prints two ids, then waits until Ctrl-C.

// ANCHOR: article
use std::time;
use std::thread;

fn main() {
    println!("My TID: {}", nix::unistd::gettid());

    let child = thread::spawn(move || {
        println!("My thread's TID: {}", nix::unistd::gettid());
        loop {
            thread::sleep(time::Duration::from_secs(1));
        }
    });

    child.join().unwrap();
}
// ANCHOR_END: article
