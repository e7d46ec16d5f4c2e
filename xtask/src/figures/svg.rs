//! A small SVG writer for the book's figures (plumbing of `cargo xtask
//! figures`): boxes, text, lines and arrows on a fixed grid, nothing
//! more. Layout is done by the figures themselves, in CSS pixels of
//! the `viewBox`.
//!
//! Every element carries a class that `book/theme/figures.css` colours
//! per mdBook theme (light and dark), and presentation attributes with
//! light defaults, so that a committed `.svg` also reads on its own
//! (CSS in the page overrides presentation attributes).
//!
//! The output is one element per line and never has a blank line: the
//! book includes a figure into Markdown, where a blank line would end
//! the HTML block and turn the rest into paragraphs.

use std::fmt::Write;

/// Monospace text: the advance of one character, in em. Source Code
/// Pro (the book's code font) and DejaVu Sans Mono both have 0.6.
pub(crate) const MONO_ADVANCE: f64 = 0.6;
/// The font families, code first: the book loads Source Code Pro.
const MONO: &str = "'Source Code Pro', Consolas, 'DejaVu Sans Mono', \
                    monospace";
const SANS: &str = "'Open Sans', 'Helvetica Neue', Arial, sans-serif";

/// The light defaults for standalone viewing; `figures.css` overrides
/// them in the book, per theme.
const INK: &str = "#1f2328";
const MUTED: &str = "#57606a";
const PAPER: &str = "#f6f8fa";
const CHANGED: &str = "#8250df";

/// How wide `text` is in monospace at `size` px.
pub(crate) fn mono_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * MONO_ADVANCE
}

/// Escapes text for an SVG text node or attribute value.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out += "&amp;",
            '<' => out += "&lt;",
            '>' => out += "&gt;",
            '"' => out += "&quot;",
            c => out.push(c),
        }
    }
    out
}

/// One text element.
#[derive(Debug, Clone)]
pub(crate) struct Text<'a> {
    x: f64,
    y: f64,
    text: &'a str,
    class: &'a str,
    /// [`MONO`] for code (function names, fields, constants), [`SANS`]
    /// for titles and notes.
    family: &'static str,
    size: f64,
    /// The `text-anchor` attribute; none for the start.
    anchor: &'static str,
    bold: bool,
}

impl<'a> Text<'a> {
    /// Code text, 12 px, anchored at its start.
    pub(crate) fn code(x: f64, y: f64, text: &'a str) -> Text<'a> {
        Text {
            x,
            y,
            text,
            class: "fig-text",
            family: MONO,
            size: 12.0,
            anchor: "",
            bold: false,
        }
    }

    /// Prose text, 12 px, anchored at its start.
    pub(crate) fn prose(x: f64, y: f64, text: &'a str) -> Text<'a> {
        Text {
            family: SANS,
            ..Text::code(x, y, text)
        }
    }

    pub(crate) fn class(mut self, class: &'a str) -> Text<'a> {
        self.class = class;
        self
    }

    pub(crate) fn size(mut self, size: f64) -> Text<'a> {
        self.size = size;
        self
    }

    pub(crate) fn middle(mut self) -> Text<'a> {
        self.anchor = " text-anchor=\"middle\"";
        self
    }

    pub(crate) fn end(mut self) -> Text<'a> {
        self.anchor = " text-anchor=\"end\"";
        self
    }

    pub(crate) fn bold(mut self) -> Text<'a> {
        self.bold = true;
        self
    }

    /// In the muted colour of notes and legends.
    pub(crate) fn muted(self) -> Text<'a> {
        self.class("fig-text fig-muted")
    }
}

/// A figure being drawn.
#[derive(Debug)]
pub(crate) struct Svg {
    /// The element id; every id inside is prefixed with it, so that
    /// several figures can share a page.
    id: String,
    width: f64,
    /// How much wider than its `viewBox` the figure is shown where
    /// there is room (a laptop), for text of a comfortable size.
    scale: f64,
    title: String,
    desc: String,
    body: String,
}

impl Svg {
    /// A figure `width` px wide (its `viewBox`), shown `scale` times
    /// larger where the page has room.
    pub(crate) fn new(id: &str, width: f64, scale: f64) -> Svg {
        Svg {
            id: id.to_string(),
            width,
            scale,
            title: String::new(),
            desc: String::new(),
            body: String::new(),
        }
    }

    /// The short text alternative (`<title>`) and the long one
    /// (`<desc>`), which together say what the picture shows.
    pub(crate) fn describe(&mut self, title: &str, desc: &str) {
        self.title = title.to_string();
        self.desc = desc.to_string();
    }

    /// A rectangle with rounded corners.
    pub(crate) fn rect(
        &mut self,
        (x, y, w, h): (f64, f64, f64, f64),
        class: &str,
        dashed: bool,
    ) {
        let dash = dash(dashed);
        // A changed frame stands out on its own too, without the
        // book's style sheet.
        let stroke = match class.contains("fig-changed") {
            true => format!("{CHANGED}\" stroke-width=\"2.5"),
            false => MUTED.to_string(),
        };
        let _ = writeln!(
            self.body,
            "<rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"{}\" \
             height=\"{}\" rx=\"4\" fill=\"{PAPER}\" \
             stroke=\"{stroke}\"{dash}/>",
            num(x),
            num(y),
            num(w),
            num(h)
        );
    }

    /// A text element.
    pub(crate) fn text(&mut self, t: Text<'_>) {
        let weight = if t.bold { " font-weight=\"bold\"" } else { "" };
        let fill = if t.class.contains("muted") {
            MUTED
        } else {
            INK
        };
        let _ = writeln!(
            self.body,
            "<text class=\"{}\" x=\"{}\" y=\"{}\" font-family=\"{}\" \
             font-size=\"{}\"{}{weight} fill=\"{fill}\">{}</text>",
            t.class,
            num(t.x),
            num(t.y),
            t.family,
            num(t.size),
            t.anchor,
            escape(t.text)
        );
    }

    /// A note: muted prose, `size` px.
    pub(crate) fn note(&mut self, (x, y): (f64, f64), text: &str, size: f64) {
        self.text(Text::prose(x, y, text).muted().size(size));
    }

    /// A straight line, with an arrowhead at its end if `arrow`.
    pub(crate) fn line(
        &mut self,
        (x1, y1): (f64, f64),
        (x2, y2): (f64, f64),
        class: &str,
        arrow: bool,
    ) {
        let d = format!("M{},{} L{},{}", num(x1), num(y1), num(x2), num(y2));
        self.path(&d, class, arrow, false);
    }

    /// A path (`d` in SVG's syntax), with an arrowhead at its end if
    /// `arrow`, dashed if `dashed`.
    pub(crate) fn path(
        &mut self,
        d: &str,
        class: &str,
        arrow: bool,
        dashed: bool,
    ) {
        let head = if arrow {
            format!(" marker-end=\"url(#{}-arrow)\"", self.id)
        } else {
            String::new()
        };
        let dash = dash(dashed);
        let _ = writeln!(
            self.body,
            "<path class=\"{class}\" d=\"{d}\" fill=\"none\" \
             stroke=\"{MUTED}\" stroke-width=\"1.5\"{dash}{head}/>"
        );
    }

    /// A small circle, filled or hollow.
    pub(crate) fn dot(
        &mut self,
        (x, y): (f64, f64),
        class: &str,
        filled: bool,
    ) {
        let (fill, class) = match filled {
            true => (MUTED, class.to_string()),
            false => ("none", format!("{class} fig-hollow")),
        };
        let _ = writeln!(
            self.body,
            "<circle class=\"{class}\" cx=\"{}\" cy=\"{}\" r=\"3.5\" \
             fill=\"{fill}\" stroke=\"{MUTED}\" stroke-width=\"1.5\"/>",
            num(x),
            num(y)
        );
    }

    /// The finished figure, `height` px tall.
    pub(crate) fn finish(self, height: f64) -> String {
        let id = &self.id;
        let mut out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"fig\" \
             id=\"{id}\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" \
             role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\n",
            num(self.width),
            num(height),
            num(self.width * self.scale),
            num(height * self.scale)
        );
        let _ = writeln!(
            out,
            "<title id=\"{id}-title\">{}</title>",
            escape(&self.title)
        );
        let _ = writeln!(
            out,
            "<desc id=\"{id}-desc\">{}</desc>",
            escape(&self.desc)
        );
        let _ = writeln!(
            out,
            "<defs><marker id=\"{id}-arrow\" viewBox=\"0 0 8 8\" refX=\"7\" \
             refY=\"4\" markerWidth=\"5.5\" markerHeight=\"5.5\" \
             orient=\"auto-start-reverse\"><path class=\"fig-arrowhead\" \
             d=\"M0,0 L8,4 L0,8 z\" fill=\"{MUTED}\"/></marker></defs>"
        );
        out += &self.body;
        out += "</svg>\n";
        out
    }
}

/// The attribute of a dashed stroke, if `dashed`.
fn dash(dashed: bool) -> &'static str {
    if dashed {
        " stroke-dasharray=\"4 3\""
    } else {
        ""
    }
}

/// A coordinate: whole numbers without a fraction, others to one
/// decimal, so that the output is stable and short.
pub(crate) fn num(x: f64) -> String {
    let rounded = (x * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_numbers_are_short() {
        assert_eq!(escape("a<b> & \"c\""), "a&lt;b&gt; &amp; &quot;c&quot;");
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.25), "12.3");
        assert_eq!(num(-0.04), "0");
    }
}
