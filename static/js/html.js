// Building page content from data in our scripts: every value from the server or the user is
// text, never markup. Prefer el() (DOM nodes with textContent); where a library takes an HTML
// string (Leaflet's bindTooltip, bindPopup and setContent do), pass escapeHtml(text) or a node.
(function () {
  "use strict";

  const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const URL_ATTRIBUTES = new Set(["href", "src", "action", "formaction"]);

  /** ``value`` as HTML text: & < > " ' escaped; null and undefined are empty. */
  function escapeHtml(value) {
    const text = value === null || value === undefined ? "" : String(value);
    return text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
  }

  /** A link target that cannot run script: a path on this site, a fragment or http(s). */
  function safeUrl(value) {
    const url = String(value).trim();
    if (/^(\/(?!\/)|#|\?)/.test(url)) return url;
    if (/^https?:\/\//i.test(url)) return url;
    return "#";
  }

  /** An element: attrs are attributes ("class", and "text" for its text), children are
   *  nodes or strings (added as text). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v === null || v === undefined ? "" : String(v);
      else if (URL_ATTRIBUTES.has(k)) node.setAttribute(k, safeUrl(v));
      else node.setAttribute(k, v);
    }
    for (const child of children) if (child != null) node.append(child);
    return node;
  }

  window.Wangge = Object.assign(window.Wangge || {}, { escapeHtml, el, safeUrl });
})();
