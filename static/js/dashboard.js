// Sortable tables: a click on a column header sorts the body rows by that column
// (numbers by value, empty cells last); a second click reverses the order.
(function () {
  "use strict";

  function cellValue(row, index, type) {
    const cell = row.cells[index];
    const raw = cell ? (cell.dataset.value ?? cell.textContent.trim()) : "";
    if (type === "number") {
      return raw === "" ? null : Number(raw);
    }
    return raw;
  }

  function compare(a, b, type) {
    if (a === null && b === null) return 0;
    if (a === null) return 1;
    if (b === null) return -1;
    return type === "number" ? a - b : String(a).localeCompare(String(b), "zh-CN");
  }

  function sortBy(table, header, index) {
    const type = header.dataset.type || "text";
    const ascending = header.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("thead th").forEach((th) => th.removeAttribute("aria-sort"));
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows).filter((row) => row.cells.length > 1);
    rows.sort((r1, r2) => {
      const order = compare(cellValue(r1, index, type), cellValue(r2, index, type), type);
      return ascending ? order : -order;
    });
    rows.forEach((row) => body.appendChild(row));
  }

  document.querySelectorAll("table.sortable").forEach((table) => {
    table.querySelectorAll("thead th").forEach((header, index) => {
      header.tabIndex = 0;
      header.title = _("Click to sort");
      header.addEventListener("click", () => sortBy(table, header, index));
      header.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sortBy(table, header, index);
        }
      });
    });
  });
})();
