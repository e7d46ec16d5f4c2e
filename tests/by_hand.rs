//! The article's experiment by hand: the shell commands a reader types,
//! run for real against the demo, as a transcript the book includes.

use std::process::Command;

use crate::support::{Redactor, live_target, run};

#[test]
fn the_commands_by_hand_match_their_snapshot() {
    let target = live_target(1);
    let (pid, tid) = (target.pid, target.threads[0].tid);
    let commands = [
        format!("ls /proc | grep -w {tid}"),
        format!("ls /proc | grep -w {pid}"),
        format!("cat /proc/{tid}/comm"),
        format!("grep -E '^(Tgid|Pid):' /proc/{tid}/status"),
        format!("ls /proc/{pid}/task"),
    ];
    let mut transcript = String::new();
    for command in &commands {
        let output = run(Command::new("sh").args(["-c", command]));
        transcript += &format!("$ {command}\n");
        transcript += &String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            let code = output.status.code().unwrap_or(-1);
            transcript += &format!("(no output; exit status {code})\n");
        }
    }
    // The thread is missing from the listing, yet readable by name.
    assert!(transcript.contains("exit status 1"), "{transcript}");
    insta::assert_snapshot!(
        "ls_and_cat",
        Redactor::default()
            .target(&target)
            .with_numbers()
            .redact(&transcript)
    );
}
