// The page's translations of script messages (English ids), rendered by the server into
// <script id="i18n" type="application/json">. _("Saved %(n)s", {n: 3}) fills in parameters.
(function () {
  "use strict";
  const node = document.getElementById("i18n");
  const catalogue = node ? JSON.parse(node.textContent) : {};
  window._ = function (message, params) {
    const text = catalogue[message] || message;
    if (!params) return text;
    return text.replace(/%\((\w+)\)[sd]/g, (all, name) => (name in params ? String(params[name]) : all));
  };
})();
