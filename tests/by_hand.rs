//! The article's experiment by hand: the shell commands a reader types,
//! run for real against the demo, as a transcript the book includes.

use std::process::Command;

use crate::support::{Redactor, live_target, run};

#[test]
fn the_commands_by_hand_match_their_snapshot() {
    let target = live_target(1);
    let (pid, tid) = (target.pid, target.threads[0]);
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
    let redacted = Redactor::default()
        .target(&target)
        .with_numbers()
        .redact(&transcript);
    insta::assert_snapshot!("ls_and_cat", sorted_after(&redacted, "task"));
}

/// `transcript` with the output of the command that ends in `command`
/// sorted again, as `ls` sorts names: `ls` sorted the real ids, which can
/// differ in length (9998 and 10001 sort as "10001", "9998") where their
/// stand-ins (4242, 4244) do not.
fn sorted_after(transcript: &str, command: &str) -> String {
    // Each command with the lines it printed.
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    for line in transcript.lines() {
        match blocks.last_mut() {
            Some(block) if !line.starts_with("$ ") => block.push(line),
            _ => blocks.push(vec![line]),
        }
    }
    for block in blocks.iter_mut().filter(|b| b[0].ends_with(command)) {
        block[1..].sort_unstable();
    }
    let lines = blocks.concat();
    lines.iter().map(|line| format!("{line}\n")).collect()
}
