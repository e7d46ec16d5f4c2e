//! Parsing an instance's `trace` file into call stacks, and the pure
//! helpers the tracing claims assert with (the book's "Tracing the
//! kernel" chapter).
//!
//! No I/O here: [`parse_trace`] takes the file's text, so it is tested
//! on made-up traces here, and in tests/trace.rs on traces captured from
//! the VM kernels of `just matrix` (`samples/*.txt`).
//!
//! With the function tracer and `options/func_stack_trace`, each call
//! of a filtered function writes two records, one after the other, on
//! the CPU that made the call:
//!
//! ```text
//!  checker-1  [000] .....  2.512: proc_pid_lookup <-proc_root_lookup
//!  checker-1  [000] .....  2.512: <stack trace>
//!  => proc_pid_lookup
//!  => proc_root_lookup
//!  => __lookup_slow
//!  ...
//! ```
//!
//! The first is the call itself (function and its caller), the second
//! the kernel stack at that moment, innermost frame first.

/// One captured kernel stack, innermost frame first, function names
/// only (offsets like `+0x1a/0x60` and module suffixes stripped).
///
/// **Invariant:** when the trace named the traced function (it always
/// does with the function tracer), it is `frames[0]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    /// Innermost (the traced function) first, the system call entry
    /// last. Names are symbols as the kernel prints them, so they may
    /// carry a compiler suffix such as `.isra.0`; compare them with
    /// [`contains_in_order`], which ignores those.
    pub frames: Vec<String>,
}

/// Parses the text of an instance's `trace` file (function tracer with
/// `func_stack_trace`) into stacks, in the order they were recorded.
///
/// Lines that are neither a function call, a `<stack trace>` marker
/// nor a frame (the `#` header, `[LOST n EVENTS]`, `CPU n buffer
/// started`) are skipped. A call without a stack after it (the option
/// was off, or the stack was lost) becomes a two-frame stack of the
/// function and its caller, which is all the trace knows.
pub fn parse_trace(text: &str) -> Vec<Stack> {
    let mut stacks = Vec::new();
    // The call whose stack comes next: (function, caller).
    let mut call: Option<(String, Option<String>)> = None;
    // The stack being read, if the last record was `<stack trace>`.
    let mut open: Option<(Option<String>, Vec<String>)> = None;
    for line in text.lines() {
        if let Some(frame) = line.trim_start().strip_prefix("=>") {
            if let Some((_, frames)) = &mut open {
                frames.extend(frame_name(frame));
            }
            continue;
        }
        // Any other line ends the stack being read.
        if let Some((func, frames)) = open.take() {
            stacks.push(finish(func, frames));
        }
        match record(line) {
            Some(Record::StackTrace) => {
                let func = call.take().map(|(f, _)| f);
                open = Some((func, Vec::new()));
            }
            Some(Record::Call { func, caller }) => {
                if let Some((f, c)) = call.replace((func, caller)) {
                    stacks.push(finish(Some(f), c.into_iter().collect()));
                }
            }
            None => {}
        }
    }
    if let Some((func, frames)) = open.take() {
        stacks.push(finish(func, frames));
    }
    if let Some((f, c)) = call.take() {
        stacks.push(finish(Some(f), c.into_iter().collect()));
    }
    stacks
}

/// True when `wanted` appears in `stack.frames` as an ordered
/// subsequence, innermost first like the frames themselves.
///
/// So `["proc_pid_lookup", "proc_root_lookup", "__lookup_slow"]` reads
/// "`proc_pid_lookup` was called, maybe through frames not listed, by
/// `proc_root_lookup`, which was called by `__lookup_slow`". Frames in
/// between are allowed because inlining differs between kernels and
/// compilers; the order is not. Names compare without compiler
/// suffixes (`lookup_fast.isra.0` matches `lookup_fast`). An empty
/// `wanted` is contained in every stack.
pub fn contains_in_order(stack: &Stack, wanted: &[&str]) -> bool {
    let mut frames = stack.frames.iter().map(|f| base_name(f));
    wanted.iter().all(|w| frames.any(|f| f == base_name(w)))
}

/// True when the traced functions `functions` were entered in this
/// order (an ordered subsequence of each stack's first frame, in
/// recording order), whatever the stacks above them.
///
/// For calls that stacks cannot show: a tail call leaves no frame of
/// its caller. `proc_root_readdir` ends in `return
/// proc_pid_readdir(file, ctx);`, which the compiler turns into a
/// jump, so the stack of `proc_pid_readdir` goes straight to
/// `iterate_dir` on every kernel of the matrix. That `proc_root_readdir`
/// led to it shows in time instead:
/// `entered_in_order(&stacks, &["proc_root_readdir", "proc_pid_readdir"])`.
pub fn entered_in_order(stacks: &[Stack], functions: &[&str]) -> bool {
    let mut entered = stacks
        .iter()
        .filter_map(|s| s.frames.first())
        .map(|f| base_name(f));
    functions.iter().all(|w| entered.any(|f| f == base_name(w)))
}

/// A redacted, stable rendering of `stack` for snapshots and the book:
/// one name per line, innermost first, compiler suffixes dropped, and
/// cut after the system call's own handler (`__x64_sys_openat`).
///
/// What lies beyond that handler is entry code that differs between
/// kernel versions for no reason the book cares about (6.9 added
/// `x64_sys_call` between `do_syscall_64` and the handler), so it is
/// replaced by one `[ENTRY]` line. A stack that never reaches a system
/// call handler (an interrupt, a kernel thread) is kept whole.
pub fn redacted(stack: &Stack) -> String {
    let names: Vec<&str> = stack.frames.iter().map(|f| base_name(f)).collect();
    let cut = names.iter().position(|n| is_syscall_handler(n));
    let mut out = String::new();
    let kept = cut.map_or(names.len(), |i| i + 1);
    for name in &names[..kept] {
        out.push_str(name);
        out.push('\n');
    }
    if kept < names.len() {
        out.push_str("[ENTRY]\n");
    }
    out
}

/// One record line of the trace, reduced to what we use.
#[derive(Debug, PartialEq, Eq)]
enum Record {
    /// `func <-caller`: the function tracer saw a call.
    Call {
        func: String,
        caller: Option<String>,
    },
    /// `<stack trace>`: frames (`=> name` lines) follow.
    StackTrace,
}

/// Classifies a record line: `TASK-PID [CPU] FLAGS TIMESTAMP: BODY`.
///
/// The task's name may contain spaces, so the body is found after the
/// `[CPU]` field: the first `": "` after it ends the timestamp.
fn record(line: &str) -> Option<Record> {
    if line.starts_with('#') {
        return None;
    }
    let after_cpu = &line[line.find("] ")? + 2..];
    let body = after_cpu[after_cpu.find(": ")? + 2..].trim();
    if body == "<stack trace>" {
        return Some(Record::StackTrace);
    }
    let (func, caller) = match body.split_once(" <-") {
        Some((f, c)) => (f, Some(c)),
        None => (body, None),
    };
    // Other events (`tracing_mark_write: ...`) have spaces or colons.
    let func = frame_name(func)?;
    Some(Record::Call {
        func,
        caller: caller.and_then(frame_name),
    })
}

/// A frame's function name: ` proc_pid_lookup+0x5/0x120 [mod]` gives
/// `proc_pid_lookup`. An unresolved address (`0xffffffffc0a1b2c3`,
/// an ftrace trampoline) or anything not shaped like a symbol gives
/// `None`: it names no function.
fn frame_name(text: &str) -> Option<String> {
    let text = text.trim();
    // ` [module]` after the symbol.
    let text = text.split_once(' ').map_or(text, |(name, _)| name);
    // `+0x1a/0x60` after the symbol (the `sym-offset` option).
    let name = text.split_once('+').map_or(text, |(name, _)| name);
    let symbol = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    let address = name.starts_with("0x");
    (symbol && !address && !name.is_empty()).then(|| name.to_owned())
}

/// Drops what the compiler appends to a function it cloned or split:
/// `.isra.0`, `.constprop.0`, `.part.0`, `.cold`, `.llvm.123`. The rest
/// is the name in the source, which is what claims and the book name.
fn base_name(name: &str) -> &str {
    name.split_once('.').map_or(name, |(base, _)| base)
}

/// The kernel function that handles one system call on x86-64:
/// `__x64_sys_getdents64`, and `__ia32_sys_*` for 32-bit callers.
fn is_syscall_handler(name: &str) -> bool {
    name.starts_with("__x64_sys_") || name.starts_with("__ia32_sys_")
}

/// Completes one stack: the traced function becomes the first frame.
///
/// The unwinder starts inside ftrace itself on some kernels, so frames
/// before the traced function are ftrace's own and are dropped; if the
/// function is missing altogether (it can be, on kernels that skip one
/// frame too many), it is put in front.
fn finish(func: Option<String>, mut frames: Vec<String>) -> Stack {
    if let Some(func) = func {
        match frames.iter().position(|f| *f == func) {
            Some(i) => {
                frames.drain(..i);
            }
            None => frames.insert(0, func),
        }
    }
    Stack { frames }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(frames: &[&str]) -> Stack {
        Stack {
            frames: frames.iter().map(|f| (*f).to_owned()).collect(),
        }
    }

    #[test]
    fn frame_names_lose_offsets_modules_and_addresses() {
        let name = |t| frame_name(t);
        assert_eq!(name(" proc_pid_lookup"), Some("proc_pid_lookup".into()));
        assert_eq!(name(" iterate_dir+0x1a/0x60"), Some("iterate_dir".into()));
        assert_eq!(
            name(" ext4_lookup+0x5/0x9 [ext4]"),
            Some("ext4_lookup".into())
        );
        assert_eq!(name(" 0xffffffffc0a1b2c3"), None);
        assert_eq!(name(" <stack trace>"), None);
    }

    #[test]
    fn records_are_found_after_the_cpu_field() {
        // A task name with a space and a colon in it.
        let line = "  my task: x-42  [001] d..1.  12.5: f <-g";
        assert_eq!(
            record(line),
            Some(Record::Call {
                func: "f".into(),
                caller: Some("g".into())
            })
        );
        let line = "  init-1  [000] .....  3.000001: <stack trace>";
        assert_eq!(record(line), Some(Record::StackTrace));
        assert_eq!(record("# tracer: function"), None);
        assert_eq!(record("CPU:0 [LOST 12 EVENTS]"), None);
        let mark = "  sh-9  [000] .....  3.1: tracing_mark_write: hi there";
        assert_eq!(record(mark), None);
    }

    #[test]
    fn a_stack_starts_at_the_traced_function() {
        let text = "\
# tracer: function
  init-1  [000] .....  3.1: proc_pid_lookup <-proc_root_lookup
  init-1  [000] .....  3.2: <stack trace>
 => function_trace_call
 => proc_pid_lookup+0x5/0x120
 => proc_root_lookup+0x1d/0x40
 => __lookup_slow+0x8a/0x140
  init-1  [000] .....  3.3: proc_root_lookup <-__lookup_slow
";
        let stacks = parse_trace(text);
        assert_eq!(
            stacks,
            vec![
                stack(&[
                    "proc_pid_lookup",
                    "proc_root_lookup",
                    "__lookup_slow"
                ]),
                // No stack followed: the call and its caller.
                stack(&["proc_root_lookup", "__lookup_slow"]),
            ]
        );
    }

    #[test]
    fn a_missing_traced_function_is_put_in_front() {
        let text = "\
  init-1  [000] .....  3.1: proc_pid_readdir <-proc_root_readdir
  init-1  [000] .....  3.2: <stack trace>
 => proc_root_readdir
 => iterate_dir
";
        assert_eq!(
            parse_trace(text),
            vec![stack(&[
                "proc_pid_readdir",
                "proc_root_readdir",
                "iterate_dir"
            ])]
        );
    }

    #[test]
    fn order_is_innermost_first_and_gaps_are_allowed() {
        let s = stack(&[
            "proc_pid_lookup",
            "proc_root_lookup",
            "__lookup_slow",
            "walk_component.isra.0",
            "path_openat",
        ]);
        let has = |w: &[&str]| contains_in_order(&s, w);
        assert!(has(&["proc_pid_lookup", "__lookup_slow"]));
        assert!(has(&["proc_root_lookup", "walk_component"]));
        assert!(has(&[]));
        // Caller before callee is the wrong order.
        assert!(!has(&["__lookup_slow", "proc_root_lookup"]));
        assert!(!has(&["proc_pid_lookup", "proc_pid_lookup"]));
        assert!(!has(&["lookup_fast"]));
    }

    #[test]
    fn redaction_cuts_after_the_syscall_handler() {
        let s = stack(&[
            "proc_pid_readdir",
            "iterate_dir.part.0",
            "__x64_sys_getdents64",
            "x64_sys_call",
            "do_syscall_64",
            "entry_SYSCALL_64_after_hwframe",
        ]);
        assert_eq!(
            redacted(&s),
            "proc_pid_readdir\niterate_dir\n__x64_sys_getdents64\n[ENTRY]\n"
        );
        let irq = stack(&["f", "g"]);
        assert_eq!(redacted(&irq), "f\ng\n");
    }
}
