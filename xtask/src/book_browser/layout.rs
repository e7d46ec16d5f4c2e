//! "Readable on any screen", as rules on what `measure.js` found in a
//! page at one width (plumbing of `cargo xtask book-browser`; pure, so
//! that the unit tests below need no browser).
//!
//! At a desktop width nothing may be cut off: no code block, output
//! block, table or text is wider than its box. At a phone width, prose
//! and tables must fit too, and only a code block may be wider, if it
//! scrolls sideways (a visible scroll bar, not clipped text). At no width
//! may the page itself scroll sideways.

/// A screen width the book is checked at.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Width {
    /// Names the screenshot directory: `target/book-screenshots/<name>`.
    pub(crate) name: &'static str,
    /// The window's width in CSS pixels.
    pub(crate) px: u32,
    /// Whether a code block may be wider than its box, scrolling.
    pub(crate) code_may_scroll: bool,
    /// Whether the browser emulates a phone (touch, mobile viewport).
    pub(crate) mobile: bool,
}

/// A laptop's window, and a phone's (390 px: an iPhone 12 to 15),
/// emulated as a mobile device.
pub(crate) const WIDTHS: [Width; 2] = [
    Width {
        name: "desktop-1280",
        px: 1280,
        code_may_scroll: false,
        mobile: false,
    },
    Width {
        name: "phone-390",
        px: 390,
        code_may_scroll: true,
        mobile: true,
    },
];

/// What `measure.js` reports for one page at one width.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Measure {
    /// The page's full height, for the screenshot.
    pub(crate) height: u32,
    /// The document's scroll width and client width.
    pub(crate) page: (u32, u32),
    /// Every element wider than its box.
    pub(crate) over: Vec<Over>,
}

/// One element wider than its box.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Over {
    /// `code block`, `table` or `text`.
    pub(crate) what: String,
    /// Its content's width, and its box's, in CSS pixels.
    pub(crate) scroll: u32,
    pub(crate) client: u32,
    /// Whether it scrolls sideways (overflow-x auto or scroll).
    pub(crate) scrolls: bool,
    /// The start of its text, to find it in the page.
    pub(crate) start: String,
}

/// Reads the report `measure.js` returns.
pub(crate) fn from_value(
    value: &serde_json::Value,
) -> Result<Measure, String> {
    if !value.is_object() {
        return Err(format!("the layout measure returned {value}"));
    }
    let number = |v: &serde_json::Value| {
        v.as_f64().map(|n| n.round().max(0.0) as u32).unwrap_or(0)
    };
    let page = &value["page"];
    let over = value["over"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| Over {
                    what: item["what"].as_str().unwrap_or("?").to_string(),
                    scroll: number(&item["scroll"]),
                    client: number(&item["client"]),
                    scrolls: item["scrolls"].as_bool().unwrap_or(false),
                    start: item["start"].as_str().unwrap_or("").to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Measure {
        height: number(&value["height"]),
        page: (number(&page[0]), number(&page[1])),
        over,
    })
}

/// What breaks the rules at `width`, one sentence each.
pub(crate) fn problems(measure: &Measure, width: Width) -> Vec<String> {
    let mut found = Vec::new();
    let (scroll, client) = measure.page;
    if scroll > client + 1 {
        found.push(format!(
            "at {} px the page is {scroll} px wide: it scrolls sideways",
            width.px
        ));
    }
    for over in &measure.over {
        let allowed =
            over.what == "code block" && width.code_may_scroll && over.scrolls;
        if allowed {
            continue;
        }
        let how = match (over.what.as_str(), over.scrolls) {
            ("code block", true) => "needs a sideways scroll",
            ("code block", false) => "is cut off",
            _ => "does not fit",
        };
        found.push(format!(
            "at {} px a {} {how}: {} px in a {} px box, starting \"{}\"",
            width.px, over.what, over.scroll, over.client, over.start
        ));
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
        }
    }

    #[test]
    fn at_the_desktop_width_nothing_may_be_wider_than_its_box() {
        let [desktop, _] = WIDTHS;
        let wide = page(vec![over("code block", true), over("table", false)]);
        let found = problems(&wide, desktop);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("a code block needs a sideways scroll"));
        assert!(found[1].contains("a table does not fit: 900 px in a 700"));
        assert!(problems(&page(vec![]), desktop).is_empty());
    }

    #[test]
    fn at_the_phone_width_only_code_may_scroll_and_visibly() {
        let [_, phone] = WIDTHS;
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
        let [_, phone] = WIDTHS;
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
                      "scrolls": false, "start": "claim 5.10"}]
        });
        let measure = from_value(&value).unwrap();
        assert_eq!(measure.height, 2400);
        assert_eq!(measure.over[0].what, "table");
        assert_eq!(measure.over[0].start, "claim 5.10");
        assert!(from_value(&serde_json::Value::Null).is_err());
    }
}
