//! "Readable on any screen", as rules on what `measure.js` found in a
//! page at one width (plumbing of `cargo xtask book-browser`; pure, so
//! that the unit tests below need no browser).
//!
//! At a desktop width nothing may be cut off: no code block, output
//! block, table or text is wider than its box. At a phone width, prose
//! must fit too, and only a code block or a table may be wider, if it
//! scrolls sideways (a scroll bar, not clipped text). At no width may
//! the page itself scroll sideways.
//!
//! No word may be broken inside itself: a table keeps its words whole
//! (on a phone it scrolls instead), and prose breaks a word only if the
//! word is wider than its whole line. A figure fits its box, and its
//! smallest text is drawn at [`MIN_FIGURE_TEXT`] px or more.

use serde::{Deserialize, Deserializer};

/// A screen width the book is checked at.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Width {
    /// Names the screenshot directory: `target/book-screenshots/<name>`.
    pub(crate) name: &'static str,
    /// The window's width in CSS pixels.
    pub(crate) px: u32,
    /// Whether a code block or a table may be wider than its box,
    /// scrolling.
    pub(crate) may_scroll: bool,
    /// Whether the browser emulates a phone (touch, mobile viewport).
    pub(crate) mobile: bool,
    /// Whether the reader's system asks for a dark colour scheme, so
    /// that the book opens in its dark theme.
    pub(crate) dark: bool,
}

impl Width {
    /// `1280 px`, or `1280 px in the dark theme`, for messages.
    pub(crate) fn label(self) -> String {
        match self.dark {
            true => format!("{} px in the dark theme", self.px),
            false => format!("{} px", self.px),
        }
    }
}

/// A laptop's window, a phone's (390 px: an iPhone 12 to 15), emulated
/// as a mobile device, and the laptop's again in the dark theme, where
/// the figures take other colours.
pub(crate) const WIDTHS: [Width; 3] = [
    Width {
        name: "desktop-1280",
        px: 1280,
        may_scroll: false,
        mobile: false,
        dark: false,
    },
    Width {
        name: "phone-390",
        px: 390,
        may_scroll: true,
        mobile: true,
        dark: false,
    },
    Width {
        name: "dark-1280",
        px: 1280,
        may_scroll: false,
        mobile: false,
        dark: true,
    },
];

/// What `measure.js` reports for one page at one width.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Measure {
    /// The page's full height, for the screenshot.
    #[serde(deserialize_with = "px")]
    pub(crate) height: u32,
    /// The document's scroll width and client width.
    #[serde(deserialize_with = "px_pair")]
    pub(crate) page: (u32, u32),
    /// Every element wider than its box.
    pub(crate) over: Vec<Over>,
    /// Every word laid out on more than one line.
    pub(crate) broken: Vec<Broken>,
    /// Every figure, as drawn.
    pub(crate) figures: Vec<DrawnFigure>,
}

/// The smallest text a figure may show, in CSS pixels as drawn.
pub(crate) const MIN_FIGURE_TEXT: f64 = 9.0;

/// A word the page laid out on more than one line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Broken {
    /// The word, with `/` where the line ends: `looku/p`.
    pub(crate) word: String,
    /// Whether it is in a table.
    pub(crate) table: bool,
    /// The width of its whole token (up to the spaces around it),
    /// unbroken, and the width of the line it is in.
    #[serde(deserialize_with = "float")]
    pub(crate) width: f64,
    #[serde(deserialize_with = "float")]
    pub(crate) line: f64,
    /// The start of its cell or paragraph, to find it in the page.
    pub(crate) start: String,
}

/// A figure (`svg.fig`) as the page drew it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct DrawnFigure {
    pub(crate) id: String,
    /// Its width, and its box's.
    #[serde(deserialize_with = "float")]
    pub(crate) width: f64,
    #[serde(deserialize_with = "float")]
    pub(crate) client: f64,
    /// Its smallest text, in CSS pixels as drawn.
    #[serde(deserialize_with = "float")]
    pub(crate) text: f64,
}

/// One element wider than its box.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct Over {
    /// `code block`, `table` or `text`.
    pub(crate) what: String,
    /// Its content's width, and its box's, in CSS pixels.
    #[serde(deserialize_with = "px")]
    pub(crate) scroll: u32,
    #[serde(deserialize_with = "px")]
    pub(crate) client: u32,
    /// Whether it scrolls sideways (overflow-x auto or scroll).
    pub(crate) scrolls: bool,
    /// The start of its text, to find it in the page.
    pub(crate) start: String,
}

/// A number, 0 where the page gave none (JSON has no NaN: a division
/// by zero in `measure.js` arrives as `null`).
fn float<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Option::<f64>::deserialize(d).map(Option::unwrap_or_default)
}

/// A length in whole CSS pixels, from the fractions a browser gives.
fn px<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    float(d).map(|n| n.round().max(0.0) as u32)
}

fn px_pair<'de, D: Deserializer<'de>>(d: D) -> Result<(u32, u32), D::Error> {
    let (a, b) = <(Option<f64>, Option<f64>)>::deserialize(d)?;
    let px = |n: Option<f64>| n.unwrap_or_default().round().max(0.0) as u32;
    Ok((px(a), px(b)))
}

/// Reads the report `measure.js` returns.
pub(crate) fn from_value(
    value: &serde_json::Value,
) -> Result<Measure, String> {
    Measure::deserialize(value)
        .map_err(|e| format!("the layout measure returned {value}: {e}"))
}

/// What breaks the rules at `width`, one sentence each.
pub(crate) fn problems(measure: &Measure, width: Width) -> Vec<String> {
    let mut found = Vec::new();
    let (scroll, client) = measure.page;
    if scroll > client + 1 {
        found.push(format!(
            "at {} the page is {scroll} px wide: it scrolls sideways",
            width.label()
        ));
    }
    for over in &measure.over {
        let scroller = over.what == "code block" || over.what == "table";
        let allowed = scroller && width.may_scroll && over.scrolls;
        if allowed {
            continue;
        }
        let how = match (over.what.as_str(), over.scrolls) {
            ("code block", true) => "needs a sideways scroll",
            ("code block", false) => "is cut off",
            _ => "does not fit",
        };
        found.push(format!(
            "at {} a {} {how}: {} px in a {} px box, starting \"{}\"",
            width.label(),
            over.what,
            over.scroll,
            over.client,
            over.start
        ));
    }
    for word in &measure.broken {
        // Prose may break a word that no line could hold; a table
        // never: it scrolls.
        if !word.table && word.width > word.line + 1.0 {
            continue;
        }
        let place = if word.table { "a table" } else { "text" };
        found.push(format!(
            "at {} a word is broken inside itself in {place}: \"{}\" \
             ({} px wide, on a {} px line), in \"{}\"",
            width.label(),
            word.word,
            word.width.round(),
            word.line.round(),
            word.start
        ));
    }
    for figure in &measure.figures {
        if figure.width > figure.client + 1.0 {
            found.push(format!(
                "at {} figure {} is {} px wide in a {} px box",
                width.label(),
                figure.id,
                figure.width.round(),
                figure.client.round()
            ));
        }
        if figure.text < MIN_FIGURE_TEXT {
            found.push(format!(
                "at {} figure {} draws text at {:.1} px, below \
                 {MIN_FIGURE_TEXT} px: draw it narrower or with larger text",
                width.label(),
                figure.id,
                figure.text
            ));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn over(what: &str, scrolls: bool) -> Over {
        Over {
            what: what.to_string(),
            scroll: 900,
            client: 700,
            scrolls,
            start: "struct proc_dir_entry".to_string(),
        }
    }

    fn page(over: Vec<Over>) -> Measure {
        Measure {
            height: 3000,
            page: (1280, 1280),
            over,
            broken: Vec::new(),
            figures: Vec::new(),
        }
    }

    fn broken(word: &str, table: bool, width: f64) -> Broken {
        Broken {
            word: word.to_string(),
            table,
            width,
            line: 120.0,
            start: "lookup pass".to_string(),
        }
    }

    #[test]
    fn a_word_broken_in_a_table_fails_and_in_prose_only_if_it_fits_a_line() {
        let [desktop, phone, _] = WIDTHS;
        let mut m = page(vec![]);
        m.broken = vec![broken("looku/p", true, 50.0)];
        let found = problems(&m, desktop);
        assert_eq!(
            found,
            ["at 1280 px a word is broken inside itself in a table: \
              \"looku/p\" (50 px wide, on a 120 px line), in \"lookup \
              pass\""]
        );
        // A table cell is never too narrow for its words: it scrolls.
        m.broken = vec![broken("pid_ma/x", true, 500.0)];
        assert_eq!(problems(&m, phone).len(), 1);
        // Prose: a word that fits a line must not break; one wider
        // than any line may.
        m.broken = vec![broken("kern/el", false, 40.0)];
        assert!(problems(&m, phone)[0].contains("in text: \"kern/el\""));
        m.broken = vec![broken("lookup_is_relative/_to", false, 400.0)];
        assert!(problems(&m, phone).is_empty());
    }

    #[test]
    fn a_table_may_scroll_on_a_phone_but_not_on_a_laptop() {
        let [desktop, phone, _] = WIDTHS;
        let wide = page(vec![over("table", true)]);
        assert!(problems(&wide, phone).is_empty());
        assert!(problems(&wide, desktop)[0].contains("a table does not fit"));
        let clipped = page(vec![over("table", false)]);
        assert!(problems(&clipped, phone)[0].contains("a table does not fit"));
    }

    #[test]
    fn a_figure_must_fit_and_keep_its_text_readable() {
        let [_, phone, _] = WIDTHS;
        let mut m = page(vec![]);
        m.figures = vec![DrawnFigure {
            id: "fig-x".to_string(),
            width: 360.0,
            client: 358.0,
            text: 8.2,
        }];
        let found = problems(&m, phone);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("figure fig-x is 360 px wide in a 358 px"));
        assert!(found[1].contains("draws text at 8.2 px, below 9 px"));
    }

    #[test]
    fn at_the_desktop_width_nothing_may_be_wider_than_its_box() {
        let [desktop, _, _] = WIDTHS;
        let wide = page(vec![over("code block", true), over("table", false)]);
        let found = problems(&wide, desktop);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("a code block needs a sideways scroll"));
        assert!(found[1].contains("a table does not fit: 900 px in a 700"));
        assert!(problems(&page(vec![]), desktop).is_empty());
    }

    #[test]
    fn at_the_phone_width_only_code_may_scroll_and_visibly() {
        let [_, phone, _] = WIDTHS;
        assert!(
            problems(&page(vec![over("code block", true)]), phone).is_empty()
        );
        let clipped = problems(&page(vec![over("code block", false)]), phone);
        assert!(clipped[0].contains("is cut off"), "{clipped:?}");
        let text = problems(&page(vec![over("text", false)]), phone);
        assert!(text[0].contains("a text does not fit"), "{text:?}");
    }

    #[test]
    fn a_page_that_scrolls_sideways_fails() {
        let [_, phone, _] = WIDTHS;
        let mut wide = page(vec![]);
        wide.page = (520, 390);
        let found = problems(&wide, phone);
        assert_eq!(
            found,
            ["at 390 px the page is 520 px wide: it scrolls \
                            sideways"]
        );
    }

    #[test]
    fn the_report_is_read_back() {
        let value = serde_json::json!({
            "width": 390, "height": 2400.4, "page": [390, 390],
            "over": [{"what": "table", "scroll": 512, "client": 360,
                      "scrolls": false, "start": "claim 5.10"}],
            "broken": [{"word": "pa/ss", "table": true, "width": 30.5,
                        "line": 20, "start": "pass"}],
            "figures": [{"id": "fig-a", "width": 551, "client": 900,
                         "text": 15.95}]
        });
        let measure = from_value(&value).unwrap();
        assert_eq!(measure.broken[0].word, "pa/ss");
        assert!(measure.broken[0].table);
        assert_eq!(measure.figures[0].text, 15.95);
        assert_eq!(measure.height, 2400);
        assert_eq!(measure.over[0].what, "table");
        assert_eq!(measure.over[0].start, "claim 5.10");
        assert!(from_value(&serde_json::Value::Null).is_err());
    }
}
