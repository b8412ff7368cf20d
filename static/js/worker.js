// The grid worker's page: grid boundaries, household points (no personal data), my open
// incidents coloured by deadline, and the locate box (map click, typed coordinates, address).
(function () {
  "use strict";

  const { api, errorText, say, el, escapeHtml, shanghai, STATE } = window.Wangge;
  const root = document.getElementById("worker");
  const map = window[root.dataset.map];
  const data = JSON.parse(document.getElementById("worker-data").textContent);
  const $ = (id) => document.getElementById(id);

  const COLOURS = { ok: "#2e7d32", near: "#f9a825", overdue: "#c62828" };
  const GRID_STYLE = { color: "#1f4e79", weight: 3, fillColor: "#9ecae1", fillOpacity: 0.15 };
  const canvas = L.canvas({ padding: 0.5 });

  // --- grids and households -----------------------------------------------------------------

  const grids = L.geoJSON(data.grids, {
    style: () => GRID_STYLE,
    onEachFeature: (f, layer) => layer.bindTooltip(escapeHtml(area(f.properties))),
    interactive: false,
  }).addTo(map);
  if (grids.getLayers().length) map.fitBounds(grids.getBounds(), { padding: [8, 8] });
  else map.setView([31.58, 105.97], 13);
  root.dataset.grids = String(grids.getLayers().length);

  const households = L.layerGroup().addTo(map);
  for (const [lon, lat, vulnerable] of data.households) {
    L.circleMarker([lat, lon], {
      renderer: canvas, radius: vulnerable ? 5 : 3.5, weight: 1, interactive: false,
      color: vulnerable ? "#6a1b9a" : "#546e7a", fillColor: vulnerable ? "#ab47bc" : "#90a4ae",
      fillOpacity: 0.9,
    }).addTo(households);
  }

  // --- my open incidents --------------------------------------------------------------------

  const incidents = L.layerGroup().addTo(map);

  // Status names in the page's language (the API's status_name is Chinese).
  const statusName = (item) => (data.statuses && data.statuses[item.status]) || item.status_name;

  function byDeadline(a, b) {
    if (!a.deadline_at) return 1;
    if (!b.deadline_at) return -1;
    return new Date(a.deadline_at) - new Date(b.deadline_at) || a.id - b.id;
  }

  function showQueue(items) {
    items = items.slice().sort(byDeadline);
    const list = $("queue");
    list.replaceChildren();
    incidents.clearLayers();
    $("queue-count").textContent = String(items.length);
    for (const item of items) {
      const state = item.deadline_state || "none";
      const label = `#${item.id} ${item.category.name}`;
      list.append(el("li", { class: `state-${state}`, "data-id": String(item.id), "data-state": state },
        el("a", { href: `/incidents/${item.id}`, class: "row-link" },
          el("strong", { text: label }),
          el("span", { class: "status", text: statusName(item) }),
          el("span", { class: "deadline", text: _("Deadline %(time)s (%(state)s)", { time: shanghai(item.deadline_at), state: STATE[state] || "—" }) }),
          item.address ? el("span", { class: "muted", text: item.address }) : null)));
      L.circleMarker([item.lat, item.lon], {
        radius: 9, color: "#fff", weight: 2, fillColor: COLOURS[state] || "#757575", fillOpacity: 1,
        className: `incident-marker state-${state}`,
      }).bindPopup(el("div", {}, el("a", { href: `/incidents/${item.id}`, text: label }), el("br"),
                      statusName(item)))
        .addTo(incidents);
    }
    if (!items.length) list.append(el("li", { class: "muted", text: _("No incident to handle.") }));
    root.dataset.queue = String(items.length);
  }

  async function loadQueue() {
    if (data.queue) return showQueue(data.queue);
    try {
      const page = await api("GET", root.dataset.queueUrl);
      showQueue(page.items);
    } catch (error) {
      say($("queue-message"), errorText(error, error.status), "error");
    }
  }

  // --- locate -------------------------------------------------------------------------------

  const pin = L.layerGroup().addTo(map);
  const resultBox = $("locate-result");

  function area(a) {
    return a ? _("%(name)s (%(code)s)", { name: a.name, code: a.code }) : "—";
  }

  function showLocation(loc, heading) {
    pin.clearLayers();
    L.circleMarker([loc.lat, loc.lon], { radius: 8, color: "#0d47a1", weight: 3, fillOpacity: 0.2 })
      .addTo(pin);
    const rows = [
      [_("Grid"), loc.grid ? area(loc.grid) : _("Not in any grid")],
      [_("Community"), area(loc.community)],
      [_("Street"), area(loc.street)],
      [_("Responsible grid worker"), loc.workers.map((w) => w.name).join(_(", ")) || _("None yet")],
      [_("Coordinates (WGS84)"), `${loc.lon.toFixed(6)}, ${loc.lat.toFixed(6)}`],
    ];
    const list = el("dl", { class: "pairs" });
    for (const [k, v] of rows) list.append(el("dt", { text: k }), el("dd", { text: v }));
    resultBox.replaceChildren(el("strong", { text: heading }), list);
    if (loc.candidates && loc.candidates.length) {
      const near = el("ul", { class: "candidates" });
      for (const c of loc.candidates) {
        near.append(el("li", { text: _("%(name)s (%(code)s) %(m)s m", { name: c.grid.name, code: c.grid.code, m: c.distance_m.toFixed(0) }) }));
      }
      resultBox.append(el("p", { class: "warn", text: _("Near a grid boundary (within 30 m); candidate grids:") }), near);
    }
    resultBox.hidden = false;
    resultBox.dataset.grid = loc.grid ? loc.grid.code : "";
  }

  function showError(error) {
    resultBox.replaceChildren(el("p", { class: "message error", text: errorText(error, error.status) }));
    resultBox.hidden = false;
    resultBox.dataset.grid = "";
  }

  async function locate(lon, lat, crs, heading) {
    const query = new URLSearchParams({ lon, lat, crs });
    try {
      const loc = await api("GET", `/api/v1/locate?${query}`);
      showLocation(loc, heading);
      map.panTo([loc.lat, loc.lon]);
    } catch (error) {
      showError(error);
    }
  }

  map.on("click", (e) =>
    locate(e.latlng.lng.toFixed(7), e.latlng.lat.toFixed(7), "wgs84", _("Point clicked on the map")));

  $("coord-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const f = e.target.elements;
    locate(f.lon.value.trim(), f.lat.value.trim(), f.crs.value, _("Coordinates typed in"));
  });

  $("address-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const results = $("address-results");
    results.replaceChildren();
    try {
      const page = await api("GET", `/api/v1/locate/address?${new URLSearchParams({ q: e.target.elements.q.value.trim() })}`);
      if (!page.items.length) results.append(el("li", { class: "muted", text: _("No such address found.") }));
      for (const item of page.items) {
        const button = el("button", { type: "button", class: "row-link" },
          el("strong", { text: item.address }),
          el("span", { class: "muted", text: item.grid_name ? `${item.grid_name} · ${item.workers.join(_(", ")) || _("No grid worker yet")}` : _("Not in any grid") }));
        button.addEventListener("click", () =>
          locate(item.lon.toFixed(7), item.lat.toFixed(7), "wgs84", item.address));
        results.append(el("li", {}, button));
      }
    } catch (error) {
      results.append(el("li", { class: "message error", text: errorText(error, error.status) }));
    }
  });

  loadQueue().then(() => (root.dataset.ready = "true"));
})();
