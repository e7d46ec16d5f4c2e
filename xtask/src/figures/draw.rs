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

use super::inputs::{
    Chain, Excerpts, chain, evaluate, release, second_open, upstream,
};
use super::svg::{Svg, Text, mono_width, num};
use crate::matrix::report::{ClaimOutcome, KernelRun};

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
/// The listing's, the lookup's and the cached dentry's.
pub(crate) fn traced() -> [&'static str; 3] {
    [listing_claim(), lookup_claim(), cached_claim()]
}

/// The width of a figure in the text's column (its `viewBox`, in px).
const WIDE: f64 = 380.0;
/// The width of a kernel's stacks: five side by side fill the book's
/// 900 px column.
const NARROW: f64 = 170.0;

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

    /// The class of a cell of this path's colour.
    fn cell(self) -> String {
        format!("fig-box fig-cell {}", self.class())
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
            let (from, to) = (num(y - GAP), num(y - 1.0));
            let d = format!("M{x},{from} L{x},{to}", x = num(cx));
            svg.path(&d, &edge, true, node.tail_call);
            if node.tail_call {
                let at = (cx + 6.0, y - GAP / 2.0 + 3.5);
                svg.note(at, "tail call", 10.0);
            }
        }
        let h = node.height(size);
        let kind = if node.recorded { "recorded" } else { "excerpt" };
        let changed = if node.changed { " fig-changed" } else { "" };
        let class = format!("fig-box {} fig-{kind}{changed}", path.class());
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
fn recorded(kernel: &KernelRun, id: &str) -> Option<Chain> {
    match kernel.outcome(id) {
        Some((ClaimOutcome::Pass, evidence)) => chain(evidence),
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
    kernel: &KernelRun,
) -> Result<String, String> {
    let (listing, lookup) = book_chains(kernel)?;
    x.quote("proc_root_readdir.c", "return proc_pid_readdir(file, ctx);");
    let tgid_call =
        x.quote_lines("next_tgid.c", &["pid_task(pid,", "PIDTYPE_TGID)"]);
    let pid_call = x.quote_lines(
        "find_task_by_pid_ns.c",
        &["pid_task(", "find_pid_ns(nr, ns),", "PIDTYPE_PID)"],
    );
    let frames = |chain: &Chain| -> Vec<Node> {
        (chain.frames.iter())
            .map(|f| Node::frame(&f.name, f.tail_call))
            .collect()
    };
    let mut left = frames(&listing);
    left.push(Node::excerpt(
        x.quote_lines("proc_pid_readdir.c", &["next_tgid(ns, iter)"]),
    ));
    left.push(Node::excerpt(tgid_call));
    let mut right = frames(&lookup);
    right.push(Node::excerpt(x.quote_lines(
        "proc_pid_lookup.c",
        &["find_task_by_pid_ns(", "tgid, ns)"],
    )));
    right.push(Node::excerpt(pid_call));
    let (tgid_list, pid_list) = task_lists(x);

    let mut svg = Svg::new("fig-two-paths", WIDE, 1.3);
    let bottom = both_paths(&mut svg, &left, &right);
    let legend = thread_pid(&mut svg, bottom, (&tgid_list, &pid_list));
    let version = &x.version;
    let solid = format!("recorded by the tracer on Linux {version}");
    let dashed = format!("called in the excerpt of the box above ({version})");
    legend_row(&mut svg, legend, false, &solid);
    legend_row(&mut svg, legend + 18.0, true, &dashed);
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
            spoken(&listing),
            spoken(&lookup)
        ),
    );
    x.verdict()?;
    Ok(svg.finish(legend + 18.0 + 12.0))
}

/// The listing's and the lookup's chains as the book's kernel recorded
/// them: whole, from the system call down to `proc_pid_readdir` and
/// `proc_pid_lookup`.
fn book_chains(kernel: &KernelRun) -> Result<(Chain, Chain), String> {
    let complete = |claim: &str| {
        recorded(kernel, claim).filter(|c| c.complete).ok_or_else(|| {
            format!(
                "book/verified/report.json has no passing `{claim}` with a \
                 complete stack for {}; run `just matrix --record`",
                release(kernel)
            )
        })
    };
    let listing = complete(listing_claim())?;
    let lookup = complete(lookup_claim())?;
    let ends =
        |chain: &Chain, last: &str| names(chain).last().copied() == Some(last);
    if !ends(&listing, "proc_pid_readdir") || !ends(&lookup, "proc_pid_lookup")
    {
        return Err(format!(
            "the recorded stacks of {} do not end in proc_pid_readdir and \
             proc_pid_lookup: {} / {}",
            release(kernel),
            names(&listing).join(" -> "),
            names(&lookup).join(" -> ")
        ));
    }
    Ok((listing, lookup))
}

/// Where the two columns of [`two_paths`] stand, and how wide they are.
const LEFT: f64 = 10.0;
const RIGHT: f64 = 198.0;
const COL: f64 = 172.0;

/// The two columns under their commands, bottoms aligned; returns the
/// bottom.
fn both_paths(svg: &mut Svg, left: &[Node], right: &[Node]) -> f64 {
    const SIZE: f64 = 12.0;
    const TOP: f64 = 34.0;
    let (lh, rh) = (column_height(left, SIZE), column_height(right, SIZE));
    let tall = lh.max(rh);
    let (ltop, rtop) = (TOP + tall - lh, TOP + tall - rh);
    let cat = format!("cat /proc/{THREAD}/comm");
    for (x, top, command, path) in [
        (LEFT, ltop, "ls /proc", Path::Listing),
        (RIGHT, rtop, cat.as_str(), Path::Lookup),
    ] {
        let class = format!("fig-text {}", path.class());
        let title = Text::code(x + COL / 2.0, top - 10.0, command);
        svg.text(title.class(&class).middle().bold());
    }
    column(svg, left, Path::Listing, (LEFT, COL), ltop, SIZE);
    column(svg, right, Path::Lookup, (RIGHT, COL), rtop, SIZE)
}

/// The `struct pid` of the thread id under both columns, one cell per
/// task list, and what each path gets from it; returns where the
/// legend goes.
fn thread_pid(svg: &mut Svg, bottom: f64, lists: (&str, &str)) -> f64 {
    let top = bottom + 26.0;
    let cells = top + 24.0;
    svg.rect((4.0, top, WIDE - 8.0, 80.0), "fig-box fig-pid", false);
    let pid_title = format!("struct pid of {THREAD}");
    let title = Text::code(WIDE / 2.0, top + 16.0, &pid_title);
    svg.text(title.middle().bold());
    let answers = top + 80.0 + 22.0;
    let skipped = format!("NULL: {THREAD} is not listed");
    let found = format!("found: /proc/{THREAD} opens");
    let paths = [
        (LEFT, Path::Listing, lists.0, "empty: no task", skipped),
        (RIGHT, Path::Lookup, lists.1, "the thread's task", found),
    ];
    for (x0, path, list, holds, _) in &paths {
        let cx = x0 + COL / 2.0;
        let class = path.class();
        let edge = format!("fig-edge {class}");
        svg.line((cx, bottom), (cx, cells - 1.0), &edge, true);
        svg.rect((*x0, cells, COL, 48.0), &path.cell(), false);
        svg.text(Text::code(cx, cells + 18.0, list).middle());
        svg.text(Text::prose(cx, cells + 36.0, holds).middle().size(11.5));
    }
    for (x0, path, _, _, answer) in &paths {
        let class = format!("fig-text {}", path.class());
        let text = Text::prose(x0 + COL / 2.0, answers, answer);
        svg.text(text.class(&class).middle().bold());
    }
    answers + 26.0
}

/// A chain as a sentence: its frames in order, tail calls said.
fn spoken(chain: &Chain) -> String {
    let frames: Vec<String> = (chain.frames.iter())
        .map(|f| match f.tail_call {
            true => format!("then, by a tail call, {}", f.name),
            false => f.name.clone(),
        })
        .collect();
    frames.join(", ")
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
    svg.note((40.0, y), text, 11.0);
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
    kernel: &KernelRun,
    reference: &KernelRun,
    id: &str,
) -> Result<String, String> {
    let mut svg = Svg::new(id, NARROW, 1.0);
    let (upstream, origin) = (upstream(kernel), kernel.kind.origin());
    let (title, mid) = (format!("Linux {upstream}"), NARROW / 2.0);
    svg.text(Text::prose(mid, 18.0, &title).middle().bold().size(13.5));
    svg.text(Text::prose(mid, 34.0, origin).muted().middle().size(11.0));
    let mut stacks = Stacks {
        svg,
        y: 40.0,
        said: Vec::new(),
        notes: Vec::new(),
    };
    for (path, what, claim) in [
        (Path::Listing, "ls /proc", listing_claim()),
        (Path::Lookup, "cat /proc/<TID>/comm", lookup_claim()),
    ] {
        let chain = recorded(kernel, claim).ok_or_else(|| {
            format!("{}: `{claim}` did not pass with stacks", release(kernel))
        })?;
        stacks.chain(
            &chain,
            path,
            what,
            recorded(reference, claim),
            reference,
        );
    }
    let cached = kernel.outcome(cached_claim());
    if let Some(second) = cached.and_then(|(_, e)| second_open(e)) {
        stacks.notes.push(format!("second open: {second}"));
        stacks.said.push(format!("A second open recorded {second}"));
    }
    let Stacks {
        mut svg,
        mut y,
        said,
        notes,
    } = stacks;
    y += 6.0;
    for line in notes.iter().flat_map(|note| wrap(note, 28)) {
        y += 15.0;
        svg.note((STACKS_X, y), &line, 11.0);
    }
    svg.describe(
        &format!("The recorded stacks on Linux {upstream}, {origin}"),
        &format!(
            "Linux {upstream} ({}, {origin}). {}.",
            release(kernel),
            said.join(". ")
        ),
    );
    Ok(svg.finish(y + 10.0))
}

/// Where the column of [`kernel_stacks`] stands.
const STACKS_X: f64 = 7.0;

/// A [`kernel_stacks`] figure as it is drawn.
#[derive(Debug)]
struct Stacks {
    svg: Svg,
    /// The bottom of what is drawn.
    y: f64,
    /// The text alternative, a sentence per chain.
    said: Vec<String>,
    /// The notes under the chains.
    notes: Vec<String>,
}

impl Stacks {
    /// One recorded chain under its command (`what`), each frame the
    /// book's kernel (`ours`, of `reference`) did not record marked.
    fn chain(
        &mut self,
        chain: &Chain,
        path: Path,
        what: &str,
        ours: Option<Chain>,
        reference: &KernelRun,
    ) {
        let theirs: Vec<&str> = ours.as_ref().map(names).unwrap_or_default();
        // A chain of callers only (5.10) cannot say what is missing.
        let nodes: Vec<Node> = (chain.frames.iter())
            .map(|f| Node {
                changed: chain.complete && !theirs.contains(&f.name.as_str()),
                ..Node::frame(&f.name, f.tail_call)
            })
            .collect();
        self.y += 22.0;
        let command = Text::code(STACKS_X, self.y, what);
        self.svg.text(command.muted().size(11.0));
        self.y += 8.0;
        let at = (STACKS_X, 156.0);
        self.y = column(&mut self.svg, &nodes, path, at, self.y, 11.0);
        let new: Vec<String> = (nodes.iter())
            .filter(|n| n.changed)
            .map(|n| n.lines[0].clone())
            .collect();
        let gone: Vec<String> = (theirs.iter())
            .filter(|n| chain.complete && !names(chain).contains(n))
            .map(|n| n.to_string())
            .collect();
        let mut sentence = format!("{what}: {}", spoken(chain));
        if !gone.is_empty() {
            self.notes.push(format!("no {}", and_list(&gone)));
        }
        if !chain.complete {
            self.notes
                .push("only the callers were recorded".to_string());
            sentence += " (each call recorded with its caller only)";
        }
        let book = upstream(reference);
        if !new.is_empty() {
            let new = and_list(&new);
            sentence += &format!("; not in Linux {book}'s stack: {new}");
        }
        if !gone.is_empty() {
            let gone = and_list(&gone);
            sentence +=
                &format!("; in Linux {book}'s stack but not here: {gone}");
        }
        self.said.push(sentence);
    }
}

/// The task lists of the `struct pid` of a process and of its thread.
pub(crate) fn struct_pid(x: &Excerpts) -> Result<String, String> {
    let lists = task_lists(x);
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
    let mut svg = Svg::new("fig-struct-pid", WIDE, 1.3);
    pid_and_task(&mut svg, 8.0, PROCESS, "the leader", &lists);
    pid_and_task(&mut svg, 8.0 + 82.0, THREAD, "a thread", &lists);
    // Which path asks which list, and who fills them.
    let mut y = 8.0 + 2.0 * 82.0 + 10.0;
    for (path, who, code, answer) in [
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
    ] {
        let (cell, text) = (path.cell(), format!("fig-text {}", path.class()));
        svg.rect((10.0, y - 9.0, 10.0, 10.0), &cell, false);
        svg.text(Text::prose(26.0, y, who).class(&text).bold().size(12.0));
        svg.text(Text::code(26.0, y + 16.0, code).size(11.0));
        svg.note((26.0, y + 31.0), &answer, 11.0);
        y += 53.0;
    }
    let version = format!("Linux {}", x.version);
    for (i, line) in [
        "copy_process() attaches every task:",
        "attach_pid(p, PIDTYPE_PID);",
        "and a thread-group leader also:",
        "attach_pid(p, PIDTYPE_TGID);",
        &version,
    ]
    .into_iter()
    .enumerate()
    {
        match i % 2 == 1 {
            true => svg.text(Text::code(26.0, y, line).size(11.0)),
            false => svg.note((10.0, y), line, 11.0),
        }
        y += 15.0;
    }
    let (tgid_list, pid_list) = lists;
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

/// The `struct pid` of `id` at `y`, its two task lists, and the task on
/// the right with the lists that hold it: both for a leader, only the
/// PID list for a thread, whose TGID list is empty.
fn pid_and_task(
    svg: &mut Svg,
    y: f64,
    id: i64,
    who: &str,
    (tgid_list, pid_list): &(String, String),
) {
    const BOX: f64 = 196.0;
    const TASK_X: f64 = 262.0;
    const TASK_W: f64 = 110.0;
    let title = format!("struct pid {id}");
    svg.rect((10.0, y, BOX, 70.0), "fig-box fig-pid", false);
    svg.text(
        Text::code(10.0 + BOX / 2.0, y + 16.0, &title)
            .middle()
            .bold(),
    );
    for (top, path, list) in [
        (y + 22.0, Path::Lookup, pid_list),
        (y + 45.0, Path::Listing, tgid_list),
    ] {
        svg.rect((14.0, top, BOX - 8.0, 21.0), &path.cell(), false);
        let class = format!("fig-text {}", path.class());
        svg.text(Text::code(22.0, top + 15.0, list).class(&class));
    }
    let (task, ty, mid) =
        (format!("task {id}"), y + 18.0, TASK_X + TASK_W / 2.0);
    svg.rect((TASK_X, ty, TASK_W, 40.0), "fig-box fig-task", false);
    svg.text(Text::code(mid, ty + 17.0, &task).middle().bold());
    svg.text(Text::prose(mid, ty + 32.0, who).middle().size(11.0));
    let from = 10.0 + BOX - 4.0;
    let (lookup, listing) = ("fig-edge fig-lookup", "fig-edge fig-listing");
    svg.line((from, y + 32.5), (TASK_X - 1.0, ty + 14.0), lookup, true);
    if id == PROCESS {
        svg.line((from, y + 55.5), (TASK_X - 1.0, ty + 28.0), listing, true);
        return;
    }
    svg.line((from, y + 55.5), (212.0, y + 55.5), listing, false);
    // Clear of the task box at TASK_X: "empty" is about 38 px.
    let empty = Text::prose(216.0, y + 59.5, "empty");
    svg.text(empty.class("fig-text fig-listing").size(11.5).bold());
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

/// A row of an entry the listing emits at `position`.
fn row(position: Option<i64>, name: &str, how: &str) -> Row {
    Row {
        position,
        name: name.to_string(),
        how: how.to_string(),
        absent: false,
    }
}

/// Where each entry of a `/proc` listing sits.
pub(crate) fn positions(x: &Excerpts) -> Result<String, String> {
    let c = constants(x)?;
    for (file, code) in [
        ("dir_emit_dots.c", "if (ctx->pos == 0) {"),
        (
            "dir_emit_dots.c",
            "return ctx->actor(ctx, \".\", 1, ctx->pos,",
        ),
        ("dir_emit_dots.c", "if (ctx->pos == 1) {"),
        (
            "dir_emit_dots.c",
            "return ctx->actor(ctx, \"..\", 2, ctx->pos,",
        ),
        (
            "proc_root_readdir.c",
            "if (ctx->pos < FIRST_PROCESS_ENTRY) {",
        ),
        ("proc_pid_readdir.c", "if (pos == TGID_OFFSET - 2) {"),
        ("proc_pid_readdir.c", "dir_emit(ctx, \"self\", 4,"),
        ("proc_pid_readdir.c", "if (pos == TGID_OFFSET - 1) {"),
        ("proc_pid_readdir.c", "dir_emit(ctx, \"thread-self\", 11,"),
        ("proc_pid_readdir.c", "ctx->pos = iter.tgid + TGID_OFFSET;"),
        (
            "proc_pid_readdir.c",
            "ctx->pos = PID_MAX_LIMIT + TGID_OFFSET;",
        ),
        ("next_tgid.c", "iter.task = pid_task(pid, PIDTYPE_TGID);"),
    ] {
        x.quote(file, code);
    }
    let index = x.quote("proc_readdir_de.c", "i = ctx->pos - 2;");
    draw_positions(x, &c, &rows(&c, index))
}

/// The rows of the positions figure, in two groups: what
/// `proc_readdir()` emits, and what `proc_pid_readdir()` does.
fn rows(c: &Constants, index: &str) -> [(String, Vec<Row>); 2] {
    let t = c.tgid_offset;
    let first = c.first_process_entry;
    let gap = || row(None, "", "");
    [
        (
            format!("proc_readdir(): positions below {first}"),
            vec![
                row(Some(0), ".", "dir_emit_dots()"),
                row(Some(1), "..", "dir_emit_dots()"),
                row(
                    Some(2),
                    "first fixed entry",
                    &format!("{index} an index"),
                ),
                row(None, "more fixed entries", "meminfo, sys, ..."),
                row(
                    None,
                    "nothing",
                    &format!("after the last one, up to {}", first - 1),
                ),
            ],
        ),
        (
            format!("proc_pid_readdir(): from {first} on"),
            vec![
                row(Some(t - 2), "self", "TGID_OFFSET - 2"),
                row(Some(t - 1), "thread-self", "TGID_OFFSET - 1"),
                row(Some(t + 1), "1", "TGID_OFFSET + 1: process 1"),
                gap(),
                row(
                    Some(t + PROCESS),
                    &PROCESS.to_string(),
                    &format!("TGID_OFFSET + {PROCESS}: a process"),
                ),
                Row {
                    absent: true,
                    ..row(
                        Some(t + THREAD),
                        &format!("({THREAD})"),
                        "not listed: next_tgid() skips a thread",
                    )
                },
                gap(),
                row(
                    Some(c.pid_max_limit + t),
                    "end",
                    "PID_MAX_LIMIT + TGID_OFFSET",
                ),
            ],
        ),
    ]
}

/// The positions figure: each group of rows on an axis, then the sums
/// that give its constants.
fn draw_positions(
    x: &Excerpts,
    c: &Constants,
    groups: &[(String, Vec<Row>)],
) -> Result<String, String> {
    const AXIS: f64 = 74.0;
    let mut svg = Svg::new("fig-positions", WIDE, 1.3);
    let mut y = 6.0;
    let mut said = Vec::new();
    for (header, rows) in groups {
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
                let p = p.to_string();
                svg.text(Text::code(AXIS - 10.0, mid + 4.0, &p).end());
                svg.dot((AXIS, mid), "fig-dot", !row.absent);
            }
            if !row.name.is_empty() {
                let name = Text::code(AXIS + 14.0, mid - 1.0, &row.name);
                svg.text(match row.absent {
                    true => name.muted().bold(),
                    false => name.bold(),
                });
            }
            if !row.how.is_empty() {
                let how = Text::code(AXIS + 14.0, mid + 12.0, &row.how);
                svg.text(how.muted().size(10.5));
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
        format!("TGID_OFFSET = FIRST_PROCESS_ENTRY + 2 = {}", c.tgid_offset),
        format!("PID_MAX_LIMIT = {} (64-bit,", c.pid_max_limit),
        format!("without CONFIG_BASE_SMALL; Linux {})", x.version),
    ];
    for line in &sums {
        y += 14.0;
        svg.text(Text::code(10.0, y, line).muted().size(10.5));
    }
    let width = sums.iter().map(|l| mono_width(l, 10.5)).fold(0.0, f64::max);
    debug_assert!(width < WIDE - 10.0);
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
