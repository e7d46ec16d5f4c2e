// Evaluated by `cargo xtask book-browser` in each page once it has
// loaded: what does not fit its box, and the page's own size. Returns
// the report (see layout.rs for the rules applied to it).
(function () {
  function over(element, box) {
    return element.scrollWidth > box.clientWidth + 1;
  }
  function start(element) {
    return (element.textContent || "").trim().replace(/\s+/g, " ").slice(0, 70);
  }
  var found = [];
  var main = document.querySelector("main") || document.body;
  main.querySelectorAll("pre > code").forEach(function (code) {
    if (over(code, code)) {
      var x = getComputedStyle(code).overflowX;
      found.push({ what: "code block", scroll: code.scrollWidth,
        client: code.clientWidth, scrolls: x === "auto" || x === "scroll",
        start: start(code) });
    }
  });
  main.querySelectorAll("table").forEach(function (table) {
    var box = table.parentElement || table;
    var width = Math.round(table.getBoundingClientRect().width);
    if (width > box.clientWidth + 1) {
      found.push({ what: "table", scroll: width, client: box.clientWidth,
        scrolls: false, start: start(table) });
    }
  });
  main.querySelectorAll("p, li, h1, h2, h3, h4, blockquote, dd").forEach(function (el) {
    if (over(el, el)) {
      found.push({ what: "text", scroll: el.scrollWidth, client: el.clientWidth,
        scrolls: false, start: start(el) });
    }
  });
  var root = document.documentElement;
  return { width: window.innerWidth, height: root.scrollHeight,
    page: [root.scrollWidth, root.clientWidth], over: found };
})()
