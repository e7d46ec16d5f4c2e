//! The book's pictures, drawn from what the workspace verifies (the
//! figures of "The listing path", "The lookup path", the introduction
//! and "Verified on"; plumbing of `cargo xtask figures`).
//!
//! - [`two_paths`]: the two call chains of the book's kernel, each box a
//!   frame the tracer recorded in `book/verified/report.json`, then
//!   the calls below them that the excerpts show, ending at one
//!   `struct pid`.
//! - [`kernel_stacks`]: the same chains for one recorded kernel, with
//!   what differs from the book's kernel marked.
//! - [`struct_pid`]: the task lists of the `struct pid` of a process
//!   and of its thread, and which path asks which list.
//! - [`positions`]: where each entry of a `/proc` listing sits, from
//!   the constants of the excerpts.
//!
//! Every label that names kernel code is quoted through
//! [`Excerpts::quote`], which fails the drawing if the excerpt of the
//! book's kernel does not contain it.

use std::collections::BTreeMap;

use super::inputs::{Chain, Excerpts, Kernel, chain, evaluate, second_open};
use super::svg::{Svg, Text, mono_width, num};

/// The ids of the book's example: a process, and one of its threads
/// (the mystery chapter's `My TID: 4242`, `My thread's TID: 4244`).
pub(crate) const PROCESS: i64 = 4242;
pub(crate) const THREAD: i64 = 4244;

/// The claims whose evidence holds the recorded stacks.
pub(crate) fn listing_claim() -> &'static str {
    checker::claims::listing_passes_through_proc_pid_readdir::CLAIM.id
}
pub(crate) fn lookup_claim() -> &'static str {
    checker::claims::tid_lookup_passes_through_proc_pid_lookup::CLAIM.id
}
pub(crate) fn cached_claim() -> &'static str {
    checker::claims::cached_dentry_skips_proc_root_lookup::CLAIM.id
}

/// Vertical space between two boxes of a column, for the arrow.
const GAP: f64 = 14.0;

/// Which of the two paths a box belongs to; each has a colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Listing,
    Lookup,
}

impl Path {
    fn class(self) -> &'static str {
        match self {
            Path::Listing => "fig-listing",
            Path::Lookup => "fig-lookup",
        }
    }
}

/// One box of a column.
#[derive(Debug, Clone)]
struct Node {
    lines: Vec<String>,
    /// A frame the tracer recorded (solid), or a call an excerpt shows
    /// (dashed).
    recorded: bool,
    /// Not in the book's kernel's stack.
    changed: bool,
    /// Entered by a tail call from the box above.
    tail_call: bool,
}

impl Node {
    fn frame(name: &str, tail_call: bool) -> Node {
        Node {
            lines: vec![name.to_string()],
            recorded: true,
            changed: false,
            tail_call,
        }
    }

    fn excerpt(lines: &[&str]) -> Node {
        Node {
            lines: lines.iter().map(|l| l.to_string()).collect(),
            recorded: false,
            changed: false,
            tail_call: false,
        }
    }

    fn height(&self, size: f64) -> f64 {
        8.0 + (size + 3.0) * self.lines.len() as f64
    }
}

fn column_height(nodes: &[Node], size: f64) -> f64 {
    let boxes: f64 = nodes.iter().map(|n| n.height(size)).sum();
    boxes + GAP * nodes.len().saturating_sub(1) as f64
}

/// Draws `nodes` top-down from `top`, joined by arrows; returns the
/// bottom of the last box.
fn column(
    svg: &mut Svg,
    nodes: &[Node],
    path: Path,
    (x, w): (f64, f64),
    top: f64,
    size: f64,
) -> f64 {
    let cx = x + w / 2.0;
    let mut y = top;
    for (i, node) in nodes.iter().enumerate() {
        if i > 0 {
            let edge = format!("fig-edge {}", path.class());
            svg.path(
                &format!(
                    "M{},{} L{},{}",
                    num(cx),
                    num(y - GAP),
                    num(cx),
                    num(y - 1.0)
                ),
                &edge,
                true,
                node.tail_call,
            );
            if node.tail_call {
                svg.text(
                    Text::prose(cx + 6.0, y - GAP / 2.0 + 3.5, "tail call")
                        .class("fig-text fig-muted")
                        .size(10.0),
                );
            }
        }
        let h = node.height(size);
        let mut class = format!("fig-box {}", path.class());
        class += if node.recorded {
            " fig-recorded"
        } else {
            " fig-excerpt"
        };
        if node.changed {
            class += " fig-changed";
        }
        svg.rect((x, y, w, h), &class, !node.recorded);
        for (j, line) in node.lines.iter().enumerate() {
            let baseline = y + 4.0 + (size + 3.0) * (j as f64 + 1.0) - 3.0;
            svg.text(Text::code(cx, baseline, line).size(size).middle());
        }
        y += h + GAP;
    }
    y - GAP
}

/// The recorded chain of claim `id` on `kernel`, if the claim passed.
fn recorded(kernel: &Kernel, id: &str) -> Option<Chain> {
    match kernel.claim(id) {
        Some(("pass", evidence)) => chain(evidence),
        _ => None,
    }
}

fn names(chain: &Chain) -> Vec<&str> {
    chain.frames.iter().map(|f| f.name.as_str()).collect()
}

/// `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The two paths on the book's kernel, meeting at the `struct pid` of
/// a thread id.
pub(crate) fn two_paths(
    x: &Excerpts,
    kernel: &Kernel,
) -> Result<String, String> {
    let missing = |what: &str| {
        format!(
            "book/verified/report.json has no passing `{what}` with a \
             complete stack for {}; run `just matrix --record`",
            kernel.release
        )
    };
    let listing = recorded(kernel, listing_claim())
        .filter(|c| c.complete)
        .ok_or_else(|| missing(listing_claim()))?;
    let lookup = recorded(kernel, lookup_claim())
        .filter(|c| c.complete)
        .ok_or_else(|| missing(lookup_claim()))?;
    let ends =
        |chain: &Chain, last: &str| names(chain).last().copied() == Some(last);
    if !ends(&listing, "proc_pid_readdir") || !ends(&lookup, "proc_pid_lookup")
    {
        return Err(format!(
            "the recorded stacks of {} do not end in proc_pid_readdir and \
             proc_pid_lookup: {} / {}",
            kernel.release,
            names(&listing).join(" -> "),
            names(&lookup).join(" -> ")
        ));
    }
    x.quote("proc_root_readdir.c", "return proc_pid_readdir(file, ctx);");
    let tgid_call =
        x.quote_lines("next_tgid.c", &["pid_task(pid,", "PIDTYPE_TGID)"]);
    let pid_call = x.quote_lines(
        "find_task_by_pid_ns.c",
        &["pid_task(", "find_pid_ns(nr, ns),", "PIDTYPE_PID)"],
    );
    let mut left: Vec<Node> = (listing.frames.iter())
        .map(|f| Node::frame(&f.name, f.tail_call))
        .collect();
    left.push(Node::excerpt(
        x.quote_lines("proc_pid_readdir.c", &["next_tgid(ns, iter)"]),
    ));
    left.push(Node::excerpt(tgid_call));
    let mut right: Vec<Node> = (lookup.frames.iter())
        .map(|f| Node::frame(&f.name, f.tail_call))
        .collect();
    right.push(Node::excerpt(x.quote_lines(
        "proc_pid_lookup.c",
        &["find_task_by_pid_ns(", "tgid, ns)"],
    )));
    right.push(Node::excerpt(pid_call));
    let (tgid_list, pid_list) = task_lists(x);

    const W: f64 = 380.0;
    const COL: f64 = 172.0;
    const LEFT: f64 = 10.0;
    const RIGHT: f64 = 198.0;
    const SIZE: f64 = 12.0;
    const TOP: f64 = 34.0;
    let mut svg = Svg::new("fig-two-paths", W, 1.3);
    let (lh, rh) = (column_height(&left, SIZE), column_height(&right, SIZE));
    let tall = lh.max(rh);
    let (ltop, rtop) = (TOP + tall - lh, TOP + tall - rh);
    let ls = "ls /proc".to_string();
    let cat = format!("cat /proc/{THREAD}/comm");
    svg.text(
        Text::code(LEFT + COL / 2.0, ltop - 10.0, &ls)
            .class("fig-text fig-listing")
            .middle()
            .bold(),
    );
    svg.text(
        Text::code(RIGHT + COL / 2.0, rtop - 10.0, &cat)
            .class("fig-text fig-lookup")
            .middle()
            .bold(),
    );
    column(&mut svg, &left, Path::Listing, (LEFT, COL), ltop, SIZE);
    let bottom =
        column(&mut svg, &right, Path::Lookup, (RIGHT, COL), rtop, SIZE);

    // The struct pid of the thread id, one cell per list.
    let top = bottom + 26.0;
    let cells = top + 24.0;
    svg.rect((4.0, top, W - 8.0, 80.0), "fig-box fig-pid", false);
    let pid_title = format!("struct pid of {THREAD}");
    svg.text(Text::code(W / 2.0, top + 16.0, &pid_title).middle().bold());
    for (x0, path, list, holds) in [
        (LEFT, Path::Listing, &tgid_list, "empty: no task"),
        (RIGHT, Path::Lookup, &pid_list, "the thread's task"),
    ] {
        let cx = x0 + COL / 2.0;
        svg.line(
            (cx, bottom),
            (cx, cells - 1.0),
            &format!("fig-edge {}", path.class()),
            true,
        );
        svg.rect(
            (x0, cells, COL, 48.0),
            &format!("fig-box fig-cell {}", path.class()),
            false,
        );
        svg.text(Text::code(cx, cells + 18.0, list).middle());
        svg.text(Text::prose(cx, cells + 36.0, holds).middle().size(11.5));
    }
    let answers = top + 80.0 + 22.0;
    let skipped = format!("NULL: {THREAD} is not listed");
    let found = format!("found: /proc/{THREAD} opens");
    svg.text(
        Text::prose(LEFT + COL / 2.0, answers, &skipped)
            .class("fig-text fig-listing")
            .middle()
            .bold(),
    );
    svg.text(
        Text::prose(RIGHT + COL / 2.0, answers, &found)
            .class("fig-text fig-lookup")
            .middle()
            .bold(),
    );
    let legend = answers + 26.0;
    let version = &x.version;
    let solid = format!("recorded by the tracer on Linux {version}");
    let dashed = format!("called in the excerpt of the box above ({version})");
    legend_row(&mut svg, legend, false, &solid);
    legend_row(&mut svg, legend + 18.0, true, &dashed);

    let frames = |chain: &Chain| -> String {
        let mut out = Vec::new();
        for f in &chain.frames {
            out.push(match f.tail_call {
                true => format!("then, by a tail call, {}", f.name),
                false => f.name.clone(),
            });
        }
        out.join(", ")
    };
    svg.describe(
        &format!(
            "The two paths on Linux {version}: listing /proc and opening \
             /proc/{THREAD}/comm end at the same struct pid"
        ),
        &format!(
            "Two call chains, recorded by the function tracer on Linux \
             {version}. Listing /proc: {}; proc_pid_readdir calls \
             next_tgid(ns, iter), which asks pid_task(pid, PIDTYPE_TGID). \
             Opening /proc/{THREAD}/comm: {}; proc_pid_lookup calls \
             find_task_by_pid_ns(tgid, ns), which asks pid_task(\
             find_pid_ns(nr, ns), PIDTYPE_PID). Both questions go to the \
             struct pid of {THREAD}, a thread id: its {tgid_list} list is \
             empty, so the listing gets NULL and leaves {THREAD} out; its \
             {pid_list} list holds the thread's task, so the lookup finds \
             it and /proc/{THREAD} opens.",
            frames(&listing),
            frames(&lookup)
        ),
    );
    x.verdict()?;
    Ok(svg.finish(legend + 18.0 + 12.0))
}

/// `tasks[PIDTYPE_TGID]` and `tasks[PIDTYPE_PID]`, after checking that
/// the excerpts have the field and the types.
fn task_lists(x: &Excerpts) -> (String, String) {
    x.quote("pid_task.c", "&pid->tasks[type]");
    x.quote("copy_process-attach_pid.c", "attach_pid(p, PIDTYPE_TGID);");
    x.quote("copy_process-attach_pid.c", "attach_pid(p, PIDTYPE_PID);");
    (
        "tasks[PIDTYPE_TGID]".to_string(),
        "tasks[PIDTYPE_PID]".to_string(),
    )
}

/// One line of a legend: a small box, solid or dashed, then its text.
fn legend_row(svg: &mut Svg, y: f64, dashed: bool, text: &str) {
    let class = match dashed {
        true => "fig-box fig-excerpt",
        false => "fig-box fig-recorded",
    };
    svg.rect((10.0, y - 10.0, 22.0, 13.0), class, dashed);
    svg.text(
        Text::prose(40.0, y, text)
            .class("fig-text fig-muted")
            .size(11.0),
    );
}

/// Words wrapped into lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(line)
                if line.chars().count() + 1 + word.chars().count()
                    <= width =>
            {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// The chains of one recorded kernel, marked where they differ from
/// the book's kernel; `id` names the figure.
pub(crate) fn kernel_stacks(
    kernel: &Kernel,
    reference: &Kernel,
    id: &str,
) -> Result<String, String> {
    let chains = [
        (Path::Listing, "ls /proc", listing_claim()),
        (Path::Lookup, "cat /proc/<TID>/comm", lookup_claim()),
    ];
    // Five side by side fill the book's 900 px column.
    const W: f64 = 170.0;
    const X: f64 = 7.0;
    const COL: f64 = 156.0;
    const SIZE: f64 = 11.0;
    let mut svg = Svg::new(id, W, 1.0);
    let title = format!("Linux {}", kernel.upstream());
    svg.text(
        Text::prose(W / 2.0, 18.0, &title)
            .middle()
            .bold()
            .size(13.5),
    );
    svg.text(
        Text::prose(W / 2.0, 34.0, kernel.origin())
            .class("fig-text fig-muted")
            .middle()
            .size(11.0),
    );
    let mut y = 40.0;
    let mut said = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for (path, what, claim) in chains {
        let Some(chain) = recorded(kernel, claim) else {
            return Err(format!(
                "{}: `{claim}` did not pass with stacks",
                kernel.release
            ));
        };
        let ours = recorded(reference, claim);
        let theirs: Vec<&str> = ours.as_ref().map(names).unwrap_or_default();
        let mut nodes: Vec<Node> = (chain.frames.iter())
            .map(|f| Node {
                changed: !theirs.contains(&f.name.as_str()),
                ..Node::frame(&f.name, f.tail_call)
            })
            .collect();
        if !chain.complete {
            for node in &mut nodes {
                node.changed = false;
            }
        }
        y += 22.0;
        svg.text(
            Text::code(X, y, what)
                .class("fig-text fig-muted")
                .size(11.0),
        );
        y += 8.0;
        y = column(&mut svg, &nodes, path, (X, COL), y, SIZE);
        let new: Vec<String> = (nodes.iter())
            .filter(|n| n.changed)
            .map(|n| n.lines[0].clone())
            .collect();
        let gone: Vec<String> = match chain.complete {
            true => (theirs.iter())
                .filter(|n| !names(&chain).contains(n))
                .map(|n| n.to_string())
                .collect(),
            false => Vec::new(),
        };
        if !gone.is_empty() {
            notes.push(format!("no {}", and_list(&gone)));
        }
        if !chain.complete {
            notes.push("only the callers were recorded".to_string());
        }
        let mut sentence = format!(
            "{what}: {}",
            (chain.frames.iter())
                .map(|f| match f.tail_call {
                    true => format!("then, by a tail call, {}", f.name),
                    false => f.name.clone(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
        if !chain.complete {
            sentence += " (each call recorded with its caller only)";
        }
        if !new.is_empty() {
            sentence += &format!(
                "; not in Linux {}'s stack: {}",
                reference.upstream(),
                and_list(&new)
            );
        }
        if !gone.is_empty() {
            sentence += &format!(
                "; in Linux {}'s stack but not here: {}",
                reference.upstream(),
                and_list(&gone)
            );
        }
        said.push(sentence);
    }
    if let Some((_, evidence)) = kernel.claim(cached_claim()) {
        if let Some(second) = second_open(evidence) {
            notes.push(format!("second open: {second}"));
            said.push(format!("A second open recorded {second}"));
        }
    }
    y += 6.0;
    for note in &notes {
        for line in wrap(note, 28) {
            y += 15.0;
            svg.text(
                Text::prose(X, y, &line)
                    .class("fig-text fig-muted")
                    .size(11.0),
            );
        }
    }
    svg.describe(
        &format!(
            "The recorded stacks on Linux {}, {}",
            kernel.upstream(),
            kernel.origin()
        ),
        &format!(
            "Linux {} ({}, {}). {}.",
            kernel.upstream(),
            kernel.release,
            kernel.origin(),
            said.join(". ")
        ),
    );
    Ok(svg.finish(y + 10.0))
}

/// The task lists of the `struct pid` of a process and of its thread.
pub(crate) fn struct_pid(x: &Excerpts) -> Result<String, String> {
    let (tgid_list, pid_list) = task_lists(x);
    x.quote(
        "pid_task.c",
        "struct task_struct *pid_task(struct pid *pid, enum pid_type type)",
    );
    let tgid_ask = x.quote("next_tgid.c", "pid_task(pid, PIDTYPE_TGID)");
    let pid_ask = x.quote(
        "find_task_by_pid_ns.c",
        "pid_task(find_pid_ns(nr, ns), PIDTYPE_PID)",
    );
    x.quote("copy_process-attach_pid.c", "if (thread_group_leader(p)) {");
    const W: f64 = 380.0;
    const BOX: f64 = 196.0;
    const TASK_X: f64 = 262.0;
    const TASK_W: f64 = 110.0;
    let mut svg = Svg::new("fig-struct-pid", W, 1.3);
    let mut y = 8.0;
    for (id, who, tgid_holds) in
        [(PROCESS, "the leader", true), (THREAD, "a thread", false)]
    {
        let title = format!("struct pid {id}");
        svg.rect((10.0, y, BOX, 70.0), "fig-box fig-pid", false);
        svg.text(
            Text::code(10.0 + BOX / 2.0, y + 16.0, &title)
                .middle()
                .bold(),
        );
        let rows = [
            (y + 22.0, Path::Lookup, &pid_list),
            (y + 45.0, Path::Listing, &tgid_list),
        ];
        for (top, path, list) in rows {
            svg.rect(
                (14.0, top, BOX - 8.0, 21.0),
                &format!("fig-box fig-cell {}", path.class()),
                false,
            );
            svg.text(
                Text::code(22.0, top + 15.0, list)
                    .class(&format!("fig-text {}", path.class())),
            );
        }
        // The task, on the right, and the lists that hold it.
        let task = format!("task {id}");
        let (ty, th) = (y + 18.0, 40.0);
        svg.rect((TASK_X, ty, TASK_W, th), "fig-box fig-task", false);
        svg.text(
            Text::code(TASK_X + TASK_W / 2.0, ty + 17.0, &task)
                .middle()
                .bold(),
        );
        svg.text(
            Text::prose(TASK_X + TASK_W / 2.0, ty + 32.0, who)
                .middle()
                .size(11.0),
        );
        svg.line(
            (10.0 + BOX - 4.0, y + 32.5),
            (TASK_X - 1.0, ty + 14.0),
            "fig-edge fig-lookup",
            true,
        );
        if tgid_holds {
            svg.line(
                (10.0 + BOX - 4.0, y + 55.5),
                (TASK_X - 1.0, ty + 28.0),
                "fig-edge fig-listing",
                true,
            );
        } else {
            svg.line(
                (10.0 + BOX - 4.0, y + 55.5),
                (212.0, y + 55.5),
                "fig-edge fig-listing",
                false,
            );
            // Clear of the task box at TASK_X: "empty" is about 38 px.
            svg.text(
                Text::prose(216.0, y + 59.5, "empty")
                    .class("fig-text fig-listing")
                    .size(11.5)
                    .bold(),
            );
        }
        y += 82.0;
    }
    // Which path asks which list, and who fills them.
    y += 10.0;
    let asks = [
        (
            Path::Listing,
            "listing: next_tgid() asks",
            tgid_ask,
            format!("{PROCESS}: its leader; {THREAD}: NULL, left out"),
        ),
        (
            Path::Lookup,
            "lookup: find_task_by_pid_ns() asks",
            pid_ask,
            format!("{PROCESS}: its leader; {THREAD}: the thread"),
        ),
    ];
    for (path, who, code, answer) in asks {
        svg.rect(
            (10.0, y - 9.0, 10.0, 10.0),
            &format!("fig-box fig-cell {}", path.class()),
            false,
        );
        svg.text(
            Text::prose(26.0, y, who)
                .class(&format!("fig-text {}", path.class()))
                .bold()
                .size(12.0),
        );
        y += 16.0;
        svg.text(Text::code(26.0, y, code).size(11.0));
        y += 15.0;
        svg.text(
            Text::prose(26.0, y, &answer)
                .class("fig-text fig-muted")
                .size(11.0),
        );
        y += 22.0;
    }
    let fill = [
        "copy_process() attaches every task:".to_string(),
        "attach_pid(p, PIDTYPE_PID);".to_string(),
        "and a thread-group leader also:".to_string(),
        "attach_pid(p, PIDTYPE_TGID);".to_string(),
        format!("Linux {}", x.version),
    ];
    for (i, line) in fill.iter().enumerate() {
        let t = match i % 2 == 1 {
            true => Text::code(26.0, y, line).size(11.0),
            false => Text::prose(10.0, y, line)
                .class("fig-text fig-muted")
                .size(11.0),
        };
        svg.text(t);
        y += 15.0;
    }
    svg.describe(
        &format!(
            "The struct pid of process {PROCESS} and of its thread {THREAD}"
        ),
        &format!(
            "Two struct pids, one per id. struct pid {PROCESS} holds its \
             task, the leader, on two lists: {pid_list} and {tgid_list}. \
             struct pid {THREAD} holds the thread's task on {pid_list} \
             only; its {tgid_list} list is empty. The listing's \
             next_tgid() asks {tgid_ask}: the leader for {PROCESS}, NULL \
             for {THREAD}, which is left out. The lookup's \
             find_task_by_pid_ns() asks {pid_ask}: a task for both. \
             copy_process() attaches every task with attach_pid(p, \
             PIDTYPE_PID), and a thread-group leader also with \
             attach_pid(p, PIDTYPE_TGID). Linux {}.",
            x.version
        ),
    );
    x.verdict()?;
    Ok(svg.finish(y))
}

/// The constants of the positions, read from the excerpts.
struct Constants {
    first_process_entry: i64,
    tgid_offset: i64,
    pid_max_limit: i64,
}

fn constants(x: &Excerpts) -> Result<Constants, String> {
    let read = |file: &str, name: &str| {
        x.define(file, name).ok_or_else(|| {
            format!("book/excerpts/{file} has no `#define {name}`")
        })
    };
    let mut names = BTreeMap::new();
    let fpe = evaluate(
        &read("FIRST_PROCESS_ENTRY.c", "FIRST_PROCESS_ENTRY")?,
        &names,
    )?;
    names.insert("FIRST_PROCESS_ENTRY", fpe);
    let tgid = evaluate(&read("TGID_OFFSET.c", "TGID_OFFSET")?, &names)?;
    // PID_MAX_LIMIT on a 64-bit kernel without CONFIG_BASE_SMALL: the
    // branch after `sizeof(long) > 4 ?`.
    let limit = read("PID_MAX_LIMIT.c", "PID_MAX_LIMIT")?;
    let wide = limit
        .split_once("sizeof(long) > 4 ?")
        .and_then(|(_, rest)| rest.split_once(':'))
        .map(|(branch, _)| branch.trim())
        .ok_or_else(|| {
            format!(
                "cannot find the 64-bit value in book/excerpts/\
                 PID_MAX_LIMIT.c: `{limit}`"
            )
        })?;
    let pid_max_limit = evaluate(wide, &names)?;
    Ok(Constants {
        first_process_entry: fpe,
        tgid_offset: tgid,
        pid_max_limit,
    })
}

/// One row of the positions figure.
struct Row {
    /// The position, or `None` for a gap (`⋮`).
    position: Option<i64>,
    name: String,
    /// How the kernel computes it.
    how: String,
    /// Never emitted: the thread id.
    absent: bool,
}

/// Where each entry of a `/proc` listing sits.
pub(crate) fn positions(x: &Excerpts) -> Result<String, String> {
    let c = constants(x)?;
    let t = c.tgid_offset;
    x.quote("dir_emit_dots.c", "if (ctx->pos == 0) {");
    x.quote(
        "dir_emit_dots.c",
        "return ctx->actor(ctx, \".\", 1, ctx->pos,",
    );
    x.quote("dir_emit_dots.c", "if (ctx->pos == 1) {");
    x.quote(
        "dir_emit_dots.c",
        "return ctx->actor(ctx, \"..\", 2, ctx->pos,",
    );
    let index = x.quote("proc_readdir_de.c", "i = ctx->pos - 2;");
    x.quote(
        "proc_root_readdir.c",
        "if (ctx->pos < FIRST_PROCESS_ENTRY) {",
    );
    x.quote("proc_pid_readdir.c", "if (pos == TGID_OFFSET - 2) {");
    x.quote("proc_pid_readdir.c", "dir_emit(ctx, \"self\", 4,");
    x.quote("proc_pid_readdir.c", "if (pos == TGID_OFFSET - 1) {");
    x.quote("proc_pid_readdir.c", "dir_emit(ctx, \"thread-self\", 11,");
    x.quote("proc_pid_readdir.c", "ctx->pos = iter.tgid + TGID_OFFSET;");
    x.quote(
        "proc_pid_readdir.c",
        "ctx->pos = PID_MAX_LIMIT + TGID_OFFSET;",
    );
    x.quote("next_tgid.c", "iter.task = pid_task(pid, PIDTYPE_TGID);");
    let first = c.first_process_entry;
    let groups: [(String, Vec<Row>); 2] = [
        (
            format!("proc_readdir(): positions below {first}"),
            vec![
                Row {
                    position: Some(0),
                    name: ".".into(),
                    how: "dir_emit_dots()".into(),
                    absent: false,
                },
                Row {
                    position: Some(1),
                    name: "..".into(),
                    how: "dir_emit_dots()".into(),
                    absent: false,
                },
                Row {
                    position: Some(2),
                    name: "first fixed entry".into(),
                    how: format!("{index} an index"),
                    absent: false,
                },
                Row {
                    position: None,
                    name: "more fixed entries".into(),
                    how: "meminfo, sys, ...".into(),
                    absent: false,
                },
                Row {
                    position: None,
                    name: "nothing".into(),
                    how: format!("after the last one, up to {}", first - 1),
                    absent: false,
                },
            ],
        ),
        (
            format!("proc_pid_readdir(): from {first} on"),
            vec![
                Row {
                    position: Some(t - 2),
                    name: "self".into(),
                    how: "TGID_OFFSET - 2".into(),
                    absent: false,
                },
                Row {
                    position: Some(t - 1),
                    name: "thread-self".into(),
                    how: "TGID_OFFSET - 1".into(),
                    absent: false,
                },
                Row {
                    position: Some(t + 1),
                    name: "1".into(),
                    how: "TGID_OFFSET + 1: process 1".into(),
                    absent: false,
                },
                Row {
                    position: None,
                    name: String::new(),
                    how: String::new(),
                    absent: false,
                },
                Row {
                    position: Some(t + PROCESS),
                    name: PROCESS.to_string(),
                    how: format!("TGID_OFFSET + {PROCESS}: a process"),
                    absent: false,
                },
                Row {
                    position: Some(t + THREAD),
                    name: format!("({THREAD})"),
                    how: "not listed: next_tgid() skips a thread".into(),
                    absent: true,
                },
                Row {
                    position: None,
                    name: String::new(),
                    how: String::new(),
                    absent: false,
                },
                Row {
                    position: Some(c.pid_max_limit + t),
                    name: "end".into(),
                    how: "PID_MAX_LIMIT + TGID_OFFSET".into(),
                    absent: false,
                },
            ],
        ),
    ];
    const W: f64 = 380.0;
    const AXIS: f64 = 74.0;
    let mut svg = Svg::new("fig-positions", W, 1.3);
    let mut y = 6.0;
    let mut said = Vec::new();
    for (header, rows) in &groups {
        y += 16.0;
        svg.text(Text::code(10.0, y, header).bold().size(12.0));
        said.push(format!("{header}:"));
        y += 8.0;
        for (i, row) in rows.iter().enumerate() {
            let mid = y + 14.0;
            // The axis: solid through a position, dotted over a gap.
            let from = if i == 0 { mid } else { y };
            let to = if i + 1 == rows.len() { mid } else { y + 32.0 };
            let d = format!("M{AXIS},{} L{AXIS},{}", num(from), num(to));
            svg.path(&d, "fig-axis", false, row.position.is_none());
            if let Some(p) = row.position {
                svg.text(
                    Text::code(AXIS - 10.0, mid + 4.0, &p.to_string()).end(),
                );
                svg.dot((AXIS, mid), "fig-dot", !row.absent);
            }
            let class = match row.absent {
                true => "fig-text fig-muted",
                false => "fig-text",
            };
            if !row.name.is_empty() {
                svg.text(
                    Text::code(AXIS + 14.0, mid - 1.0, &row.name)
                        .class(class)
                        .bold(),
                );
            }
            if !row.how.is_empty() {
                svg.text(
                    Text::code(AXIS + 14.0, mid + 12.0, &row.how)
                        .class("fig-text fig-muted")
                        .size(10.5),
                );
            }
            said.push(match row.position {
                Some(p) => format!("{p}: {}, {}", row.name, row.how),
                None if row.name.is_empty() => "...".to_string(),
                None => format!("then {}, {}", row.name, row.how),
            });
            y += 32.0;
        }
    }
    y += 10.0;
    let sums = [
        format!("TGID_OFFSET = FIRST_PROCESS_ENTRY + 2 = {t}"),
        format!("PID_MAX_LIMIT = {} (64-bit,", c.pid_max_limit),
        format!("without CONFIG_BASE_SMALL; Linux {})", x.version),
    ];
    for line in &sums {
        y += 14.0;
        svg.text(
            Text::code(10.0, y, line)
                .class("fig-text fig-muted")
                .size(10.5),
        );
    }
    let width = sums.iter().map(|l| mono_width(l, 10.5)).fold(0.0, f64::max);
    debug_assert!(width < W - 10.0);
    svg.describe(
        "Positions in a /proc listing",
        &format!(
            "The position of each entry of a /proc listing, Linux {}. {} \
             {}.",
            x.version,
            said.join(" "),
            sums.join(" ")
        ),
    );
    x.verdict()?;
    Ok(svg.finish(y + 8.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_wrapped_at_spaces() {
        assert_eq!(
            wrap("no walk_component and do_filp_open", 20),
            ["no walk_component", "and do_filp_open"]
        );
        assert_eq!(
            and_list(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
    }
}
