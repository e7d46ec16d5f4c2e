// Evaluated by `cargo xtask book-browser` in each page once it has
// loaded: what does not fit its box, which words the page broke across
// lines, how small each figure's text is drawn, and the page's own
// size. Returns the report (see layout.rs for the rules applied to it).
(function () {
  function over(element, box) {
    return element.scrollWidth > box.clientWidth + 1;
  }
  function start(element) {
    return (element.textContent || "").trim().replace(/\s+/g, " ").slice(0, 70);
  }
  function scrolls(element) {
    var x = getComputedStyle(element).overflowX;
    return x === "auto" || x === "scroll";
  }
  var found = [];
  var main = document.querySelector("main") || document.body;
  main.querySelectorAll("pre > code").forEach(function (code) {
    if (over(code, code)) {
      found.push({ what: "code block", scroll: code.scrollWidth,
        client: code.clientWidth, scrolls: scrolls(code),
        start: start(code) });
    }
  });
  main.querySelectorAll("table").forEach(function (table) {
    var box = table.parentElement || table;
    var width = Math.round(table.getBoundingClientRect().width);
    if (width > box.clientWidth + 1) {
      found.push({ what: "table", scroll: width, client: box.clientWidth,
        scrolls: scrolls(box), start: start(table) });
    }
  });
  main.querySelectorAll("p, li, h1, h2, h3, h4, blockquote, dd").forEach(function (el) {
    if (over(el, el)) {
      found.push({ what: "text", scroll: el.scrollWidth, client: el.clientWidth,
        scrolls: false, start: start(el) });
    }
  });

  // Words broken across lines: a run of letters or digits whose
  // characters the browser laid out on more than one line ("looku" /
  // "p"). A line may still end after a hyphen, a slash or an
  // underscore: those end a run. Code blocks and figures are left out
  // (code scrolls; a figure's text is placed, not wrapped).
  var broken = [];
  var word = /[\p{L}\p{N}]+/gu;
  var range = document.createRange();
  var walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  function rects(node, from, to) {
    range.setStart(node, from);
    range.setEnd(node, to);
    return Array.prototype.filter.call(range.getClientRects(), function (r) {
      return r.width > 0.5;
    });
  }
  while (walker.nextNode() && broken.length < 50) {
    var node = walker.currentNode;
    var parent = node.parentElement;
    if (!parent || parent.closest("pre, svg, script, style")) {
      continue;
    }
    word.lastIndex = 0;
    var m;
    while ((m = word.exec(node.data))) {
      if (m[0].length < 2) {
        continue;
      }
      var all = rects(node, m.index, m.index + m[0].length);
      if (all.length < 2) {
        continue;
      }
      var top = all[0].top;
      if (!all.some(function (r) { return Math.abs(r.top - top) > 2; })) {
        continue;
      }
      var at = 1;
      for (; at < m[0].length; at++) {
        var one = rects(node, m.index + at, m.index + at + 1)[0];
        if (one && Math.abs(one.top - top) > 2) {
          break;
        }
      }
      // How wide its whole token (up to the spaces around it) is: one
      // wider than its line has to break somewhere.
      var from = m.index, to = m.index + m[0].length;
      while (from > 0 && !/\s/.test(node.data[from - 1])) {
        from--;
      }
      while (to < node.data.length && !/\s/.test(node.data[to])) {
        to++;
      }
      var block = parent.closest("td, th, p, li, h1, h2, h3, h4, dd, figcaption") || parent;
      broken.push({
        word: m[0].slice(0, at) + "/" + m[0].slice(at),
        table: !!parent.closest("table"),
        width: rects(node, from, to).reduce(function (sum, r) {
          return sum + r.width;
        }, 0),
        line: block.clientWidth,
        start: start(block)
      });
    }
  }

  // Each figure: how wide it is drawn against its box, and the size of
  // its smallest text as drawn (its font size times its scale).
  var figures = [];
  main.querySelectorAll("svg.fig").forEach(function (svg) {
    var view = svg.viewBox && svg.viewBox.baseVal;
    var box = svg.getBoundingClientRect();
    if (!view || !view.width || !box.width) {
      return;
    }
    var smallest = Infinity;
    svg.querySelectorAll("text").forEach(function (text) {
      var size = parseFloat(text.getAttribute("font-size") || "16");
      smallest = Math.min(smallest, size);
    });
    figures.push({ id: svg.id, width: box.width,
      client: (svg.parentElement || svg).clientWidth,
      text: smallest * box.width / view.width });
  });

  var root = document.documentElement;
  return { width: window.innerWidth, height: root.scrollHeight,
    page: [root.scrollWidth, root.clientWidth], over: found,
    broken: broken, figures: figures };
})()
