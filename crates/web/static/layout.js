/* minzheng layout on a phone: the menu button and list tables as cards.

   - The 菜单 button (#menu-toggle) opens and closes the navigation (#site-nav). On a narrow
     screen the navigation is closed until the button is pressed; on a wide screen the button
     is hidden and the navigation always shown (app.css).
   - Every table with column headings (its <thead>) is marked "row-cards" and each body cell
     gets the heading of its column as data-label (colspan and rowspan counted; a cell that
     already has a data-label keeps it; a cell across every column, such as "暂无记录", gets
     none; a table marked data-cards="off" is left as it is). On a narrow screen (app.css) each row is a card and each cell shows its heading
     before its value; on a wide screen nothing changes. Tables that arrive later (htmx) are
     marked too.
   No dependency. */
(function () {
  "use strict";

  function menu() {
    var button = document.getElementById("menu-toggle");
    var nav = document.getElementById("site-nav");
    if (!button || !nav || button.getAttribute("data-ready")) return;
    button.setAttribute("data-ready", "1");
    var header = button.closest("header") || document.body;
    function set(open) {
      header.classList.toggle("menu-open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }
    button.addEventListener("click", function () {
      set(!header.classList.contains("menu-open"));
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && header.classList.contains("menu-open")) {
        set(false);
        button.focus();
      }
    });
  }

  /* Calls visit(cell, column, span) for each cell of `rows`, where column is the cell's first
     column counting the cells that reach into its row from above (rowspan). */
  function place(rows, visit) {
    var taken = [];
    for (var r = 0; r < rows.length; r++) {
      taken[r] = taken[r] || {};
      var col = 0;
      var cells = rows[r].cells;
      for (var i = 0; i < cells.length; i++) {
        var cell = cells[i];
        while (taken[r][col]) col++;
        var cs = Math.max(1, cell.colSpan || 1);
        var rs = Math.max(1, cell.rowSpan || 1);
        visit(cell, col, cs);
        for (var y = r; y < r + rs && y < rows.length; y++) {
          taken[y] = taken[y] || {};
          for (var x = col; x < col + cs; x++) taken[y][x] = true;
        }
        col += cs;
      }
    }
  }

  function headings(table) {
    var head = table.tHead;
    if (!head || !head.rows.length) return null;
    var names = [];
    var count = 0;
    place(head.rows, function (cell, col, span) {
      var text = (cell.textContent || "").replace(/\s+/g, " ").trim();
      for (var x = col; x < col + span; x++) names[x] = text;
      count = Math.max(count, col + span);
    });
    // A table whose only heading spans it all is a titled box, not a list.
    var distinct = 0;
    place([head.rows[head.rows.length - 1]], function () { distinct++; });
    if (count < 2 || distinct < 2) return null;
    return { names: names, count: count };
  }

  function label(table) {
    if (table.getAttribute("data-cards") === "off") return;
    var h = headings(table);
    if (!h) return;
    var rows = [];
    for (var b = 0; b < table.tBodies.length; b++) {
      var body = table.tBodies[b].rows;
      for (var i = 0; i < body.length; i++) rows.push(body[i]);
    }
    if (table.tFoot) {
      for (var f = 0; f < table.tFoot.rows.length; f++) rows.push(table.tFoot.rows[f]);
    }
    place(rows, function (cell, col, span) {
      if (cell.hasAttribute("data-label")) return;
      if (span >= h.count && h.count > 1) return;
      var name = h.names[col] || "";
      cell.setAttribute("data-label", name);
    });
    table.classList.add("row-cards");
  }

  function tables(root) {
    var found = (root || document).querySelectorAll("table");
    for (var i = 0; i < found.length; i++) label(found[i]);
  }

  function ready() {
    menu();
    tables(document);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
  document.addEventListener("htmx:load", function (e) {
    var el = e.target;
    if (el && el.querySelectorAll) {
      var around = el.closest ? el.closest("table") : null;
      if (around) label(around);
      tables(el);
    }
  });
})();
