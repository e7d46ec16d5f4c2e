//! What the figures are drawn from, read without I/O (plumbing of
//! `cargo xtask figures`): the kernel excerpts of `book/excerpts/`,
//! whose code the labels must quote, and the stacks the tracing claims
//! recorded in `book/verified/report.json`.
//!
//! Every label a figure shows is looked up here first: a label that its
//! excerpt does not contain is an error, collected with the others, so
//! that a figure cannot name code the kernel of the book does not have.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::matrix::report::KernelRun;

/// The excerpts, by file name (`next_tgid.c`), with the kernel they
/// quote.
#[derive(Debug)]
pub(crate) struct Excerpts {
    /// `6.12.117`: the release every excerpt names.
    pub(crate) version: String,
    bodies: BTreeMap<String, String>,
    /// Labels that their excerpt did not contain.
    missing: RefCell<Vec<String>>,
}

impl Excerpts {
    /// Reads `(file name, text)` pairs: a header line `/* path:line
    /// what | Linux <version> */`, then the kernel's lines.
    pub(crate) fn parse(
        files: &[(String, String)],
    ) -> Result<Excerpts, String> {
        let mut bodies = BTreeMap::new();
        let mut version: Option<String> = None;
        for (name, text) in files {
            let (header, body) = text.split_once('\n').unwrap_or((text, ""));
            let release = header
                .split_once("| Linux ")
                .and_then(|(_, rest)| rest.strip_suffix("*/"))
                .map(str::trim)
                .ok_or_else(|| {
                    format!(
                        "book/excerpts/{name}: no `| Linux <version> */` at \
                         the end of its first line"
                    )
                })?;
            match &version {
                Some(v) if v != release => {
                    return Err(format!(
                        "book/excerpts/{name} quotes Linux {release}, the \
                         others {v}"
                    ));
                }
                _ => version = Some(release.to_string()),
            }
            bodies.insert(name.clone(), body.to_string());
        }
        Ok(Excerpts {
            version: version.ok_or("book/excerpts/ has no excerpt")?,
            bodies,
            missing: RefCell::new(Vec::new()),
        })
    }

    /// `code`, after checking that excerpt `name` contains it (white
    /// space aside, so that a label may be broken over lines). A
    /// label that is not there is recorded, and [`Excerpts::verdict`]
    /// reports it.
    pub(crate) fn quote<'a>(&self, name: &str, code: &'a str) -> &'a str {
        let squeeze = |s: &str| -> String {
            s.chars().filter(|c| !c.is_whitespace()).collect()
        };
        let found = (self.bodies.get(name))
            .is_some_and(|body| squeeze(body).contains(&squeeze(code)));
        if !found {
            let why = match self.bodies.contains_key(name) {
                true => format!(
                    "book/excerpts/{name} does not contain `{code}`, which a \
                     figure shows"
                ),
                false => format!(
                    "a figure quotes `{code}` from book/excerpts/{name}, \
                     which does not exist"
                ),
            };
            self.missing.borrow_mut().push(why);
        }
        code
    }

    /// The lines of a label, each quoted from excerpt `name` as one.
    pub(crate) fn quote_lines<'a>(
        &self,
        name: &str,
        lines: &'a [&'a str],
    ) -> &'a [&'a str] {
        self.quote(name, &lines.join(" "));
        lines
    }

    /// The value of `#define <name>` in excerpt `file`, as written.
    pub(crate) fn define(&self, file: &str, name: &str) -> Option<String> {
        let body = self.bodies.get(file)?;
        let mut text = String::new();
        let mut lines = body.lines();
        let first = lines.find_map(|line| {
            line.trim_start()
                .strip_prefix("#define ")?
                .trim_start()
                .strip_prefix(name)
                .filter(|rest| rest.starts_with([' ', '\t']))
        })?;
        text += first;
        // A definition continued with backslashes.
        let mut continued = first.trim_end().ends_with('\\');
        while continued {
            let Some(next) = lines.next() else { break };
            continued = next.trim_end().ends_with('\\');
            text.push(' ');
            text += next;
        }
        Some(
            text.replace('\\', " ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    /// Every label that was not found, as one error.
    pub(crate) fn verdict(&self) -> Result<(), String> {
        let missing = self.missing.borrow();
        if missing.is_empty() {
            return Ok(());
        }
        Err(missing.join("\n"))
    }
}

/// An integer expression of a `#define`, with the names it uses known:
/// numbers, names, `+ - * /` and parentheses.
pub(crate) fn evaluate(
    expr: &str,
    names: &BTreeMap<&str, i64>,
) -> Result<i64, String> {
    let tokens = tokenize(expr)?;
    let mut at = 0;
    let value = binary(&tokens, &mut at, names, 0)?;
    if at != tokens.len() {
        return Err(format!("cannot read `{expr}` past `{}`", tokens[at]));
    }
    Ok(value)
}

fn tokenize(expr: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    let mut chars = expr.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let mut word = String::new();
            while let Some(&c) = chars
                .peek()
                .filter(|c| c.is_ascii_alphanumeric() || **c == '_')
            {
                word.push(c);
                chars.next();
            }
            tokens.push(word);
        } else if "+-*/()".contains(c) {
            tokens.push(c.to_string());
            chars.next();
        } else {
            return Err(format!("cannot read `{c}` in `{expr}`"));
        }
    }
    Ok(tokens)
}

/// The operations of `level` (0: `+ -`, 1: `* /`) between operands of
/// the level above, left to right.
fn binary(
    t: &[String],
    at: &mut usize,
    names: &BTreeMap<&str, i64>,
    level: usize,
) -> Result<i64, String> {
    let operand = |at: &mut usize| match level {
        0 => binary(t, at, names, 1),
        _ => atom(t, at, names),
    };
    let ops = [["+", "-"], ["*", "/"]][level];
    let mut value = operand(at)?;
    while let Some(op) = t.get(*at).filter(|op| ops.contains(&op.as_str())) {
        *at += 1;
        let rhs = operand(at)?;
        value = match op.as_str() {
            "+" => value + rhs,
            "-" => value - rhs,
            "*" => value * rhs,
            _ if rhs != 0 => value / rhs,
            _ => return Err("division by zero".to_string()),
        };
    }
    Ok(value)
}

fn atom(
    t: &[String],
    at: &mut usize,
    names: &BTreeMap<&str, i64>,
) -> Result<i64, String> {
    let token = t.get(*at).ok_or("the expression ends too early")?;
    *at += 1;
    if token == "(" {
        let value = binary(t, at, names, 0)?;
        if t.get(*at).map(String::as_str) != Some(")") {
            return Err("a `(` is not closed".to_string());
        }
        *at += 1;
        return Ok(value);
    }
    if let Ok(n) = token.parse::<i64>() {
        return Ok(n);
    }
    names
        .get(token.as_str())
        .copied()
        .ok_or_else(|| format!("`{token}` is not a known constant"))
}

/// The upstream release of a recorded kernel (`6.12.117`), for titles.
pub(crate) fn upstream(kernel: &KernelRun) -> &str {
    kernel.upstream().unwrap_or("")
}

/// What `uname -r` said on a recorded kernel.
pub(crate) fn release(kernel: &KernelRun) -> &str {
    kernel.release.as_deref().unwrap_or("")
}

/// One path as the tracer recorded it, from the system call down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chain {
    pub(crate) frames: Vec<Frame>,
    /// Whether it reaches up to a system call's handler; on 5.10 the
    /// tracer recorded some calls with their caller only.
    pub(crate) complete: bool,
}

/// One function of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) name: String,
    /// Entered after the frame above returned into the same caller:
    /// `proc_root_readdir()` ends in `return proc_pid_readdir(...)`, a
    /// tail call, so the stack shows `iterate_dir` as the caller.
    pub(crate) tail_call: bool,
}

/// The chain in a tracing claim's evidence: `4 stacks; a <- b <- c;
/// then d <- b <- c` or `opening /proc/[TID]/comm (thread [TID]): a <-
/// b <- c`, each stack innermost first. `None` if it names no stack or
/// its stacks do not join into one path.
pub(crate) fn chain(evidence: &str) -> Option<Chain> {
    let mut stacks: Vec<Vec<String>> = Vec::new();
    for part in evidence.split("; ") {
        let part = part.strip_prefix("then ").unwrap_or(part);
        let part = part.rsplit_once("): ").map_or(part, |(_, s)| s);
        if !part.contains(" <- ") {
            continue;
        }
        let mut frames: Vec<String> =
            part.split(" <- ").map(|f| f.trim().to_string()).collect();
        frames.reverse();
        stacks.push(frames);
    }
    let mut stacks = stacks.into_iter();
    let first = stacks.next()?;
    let mut frames: Vec<Frame> = first
        .iter()
        .map(|name| Frame {
            name: name.clone(),
            tail_call: false,
        })
        .collect();
    for stack in stacks {
        let names: Vec<&str> =
            frames.iter().map(|f| f.name.as_str()).collect();
        let (head, last) = stack.split_at(stack.len() - 1);
        if stack.first().map(String::as_str) == names.last().copied() {
            // A call with its caller: the chain goes on.
            frames.extend(stack[1..].iter().map(|name| Frame {
                name: name.clone(),
                tail_call: false,
            }));
        } else if names.len() == stack.len() && names[..head.len()] == *head {
            // The same callers, another function: entered after.
            frames.push(Frame {
                name: last[0].clone(),
                tail_call: true,
            });
        } else {
            return None;
        }
    }
    let complete = frames.first().is_some_and(|f| f.name.contains("_sys_"));
    Some(Chain { frames, complete })
}

/// What the cached-dentry claim saw on the second open: `0 stacks`.
pub(crate) fn second_open(evidence: &str) -> Option<&str> {
    let rest = evidence.split_once("second open: ")?.1;
    Some(rest.split([',', ';']).next().unwrap_or(rest).trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpts() -> Excerpts {
        let files = [
            (
                "a.c".to_string(),
                "/* fs/a.c:1 a() | Linux 6.12.117 */\nint a(void)\n{\n\
                 \treturn pid_task(pid,\n\t\tPIDTYPE_TGID);\n}\n\
                 #define LIMIT (sizeof(long) > 4 ? \\\n\t4 * 1024 : 8)\n"
                    .to_string(),
            ),
            (
                "b.c".to_string(),
                "/* fs/b.c:9 b | Linux 6.12.117 */\n#define B (A + 2)\n"
                    .to_string(),
            ),
        ];
        Excerpts::parse(&files).unwrap()
    }

    #[test]
    fn labels_are_checked_against_their_excerpt() {
        let e = excerpts();
        assert_eq!(e.version, "6.12.117");
        e.quote("a.c", "pid_task(pid, PIDTYPE_TGID)");
        e.quote_lines("a.c", &["pid_task(pid,", "PIDTYPE_TGID)"]);
        assert_eq!(e.verdict(), Ok(()));
        e.quote("a.c", "pid_task(pid, PIDTYPE_PID)");
        e.quote("z.c", "x");
        let why = e.verdict().unwrap_err();
        assert!(
            why.contains(
                "book/excerpts/a.c does not contain `pid_task(pid, \
                          PIDTYPE_PID)`"
            ),
            "{why}"
        );
        assert!(why.contains("z.c, which does not exist"), "{why}");
    }

    #[test]
    fn excerpts_must_quote_one_kernel() {
        let files = [
            (
                "a.c".to_string(),
                "/* a | Linux 6.1.192 */\nx\n".to_string(),
            ),
            (
                "b.c".to_string(),
                "/* b | Linux 6.12.117 */\ny\n".to_string(),
            ),
        ];
        let why = Excerpts::parse(&files).unwrap_err();
        assert!(why.contains("quotes Linux 6.12.117, the others 6.1.192"));
    }

    #[test]
    fn defines_are_read_and_evaluated() {
        let e = excerpts();
        assert_eq!(e.define("b.c", "B").as_deref(), Some("(A + 2)"));
        assert_eq!(
            e.define("a.c", "LIMIT").as_deref(),
            Some("(sizeof(long) > 4 ? 4 * 1024 : 8)")
        );
        assert_eq!(e.define("b.c", "C"), None);
        let names = BTreeMap::from([("A", 256)]);
        assert_eq!(evaluate("(A + 2)", &names), Ok(258));
        assert_eq!(evaluate("4 * 1024 * 1024", &names), Ok(4_194_304));
        assert_eq!(evaluate("A - 2 * (3 - 1)", &names), Ok(252));
        assert!(evaluate("B + 1", &names).is_err());
        assert!(evaluate("(1 + 2", &names).is_err());
    }

    /// The chains of the recorded evidence, a listing's that ends in a
    /// tail call (6.12), a whole lookup (6.12) and a lookup of links
    /// joined, callers only (5.10), and the second open's count, are in
    /// the committed figures, which the_committed_figures_are_current
    /// requires (two-paths.svg, stacks-5.10.262.svg, stacks-*.svg).
    /// What those do not show: evidence that gives no chain.
    #[test]
    fn evidence_without_one_path_gives_no_chain() {
        assert_eq!(chain("no stack recorded"), None);
        assert_eq!(chain("a <- b; then c <- d"), None);
        assert_eq!(second_open("skipped"), None);
    }
}
