// The hazard map: run an impact analysis and show its figures, its door-knock list and the
// analysed zone; draw a new hazard zone. Leaflet and Leaflet-Geoman come with the Folium page.
(function () {
  "use strict";

  const root = document.getElementById("hazards");
  const map = window[root.dataset.map];
  const csrf = root.dataset.csrf;
  const $ = (id) => document.getElementById(id);

  const analysed = L.geoJSON(null, {
    style: { color: "#6a3d9a", weight: 2, dashArray: "6 4", fillOpacity: 0.08 },
  }).addTo(map);
  let drawn = null;

  map.pm.setLang(document.documentElement.lang.startsWith("zh") ? "zh" : "en");
  map.pm.setGlobalOptions({ allowSelfIntersection: false });

  async function api(method, url, body) {
    const headers = { "X-CSRFToken": csrf, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const error = (data && data.error) || { message: `HTTP ${response.status}` };
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function say(text, kind) {
    const box = $("hazard-message");
    box.textContent = text;
    box.className = `message ${kind || "ok"}`;
    box.hidden = false;
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "" : String(text);
    row.appendChild(td);
  }

  // The class names in the page's language, from the new-zone form's choices.
  const classNames = new Map(
    Array.from(document.querySelectorAll("#create-form [name=hazard_class] option"),
               (option) => [option.value, option.textContent]),
  );

  function fillTable(id, rows, columns) {
    const body = $(id).querySelector("tbody");
    body.replaceChildren();
    for (const item of rows) {
      const tr = document.createElement("tr");
      for (const column of columns) cell(tr, column(item));
      body.appendChild(tr);
    }
  }

  // --- the list beside the map --------------------------------------------------------------

  for (const item of document.querySelectorAll("#hazard-list li")) {
    item.querySelector(".zoom").addEventListener("click", () => {
      const [x0, y0, x1, y1] = item.dataset.bbox.split(",").map(Number);
      map.fitBounds([[y0, x0], [y1, x1]], { maxZoom: 17, padding: [20, 20] });
      $("impact-hazard").value = item.dataset.id;
    });
  }

  // --- impact analysis ----------------------------------------------------------------------

  function showTotals(totals) {
    const box = $("impact-totals");
    box.replaceChildren();
    for (const [label, value] of [[_("Household count"), totals.households],
                                  [_("People"), totals.people],
                                  [_("Vulnerable households"), totals.vulnerable_households]]) {
      const div = document.createElement("div");
      const strong = document.createElement("strong");
      strong.textContent = String(value);
      div.append(strong, label);
      box.appendChild(div);
    }
  }

  function showDoorKnock(groups, personal) {
    const box = $("impact-door-knock");
    box.replaceChildren();
    if (!groups.length) {
      box.textContent = _("No household in the zone.");
      return;
    }
    if (personal === "masked") {
      const note = document.createElement("p");
      note.className = "hint";
      note.textContent = _("Names and phones are masked for your role.");
      box.appendChild(note);
    }
    for (const group of groups) {
      const section = document.createElement("div");
      section.className = "worker-group";
      const title = document.createElement("h3");
      title.textContent = _("%(worker)s (households: %(n)s)",
                            { worker: group.worker, n: group.households.length });
      const table = document.createElement("table");
      table.className = "data";
      const head = table.createTHead().insertRow();
      for (const name of [_("Address"), _("Head of household"), _("Phone"), _("Members"),
                          _("Key groups")]) {
        const th = document.createElement("th");
        th.textContent = name;
        head.appendChild(th);
      }
      const body = table.createTBody();
      for (const h of group.households) {
        const tr = document.createElement("tr");
        for (const value of [h.address, h.head_name, h.phone, h.members, h.tags.join(_(", "))]) {
          cell(tr, value);
        }
        body.appendChild(tr);
      }
      section.append(title, table);
      box.appendChild(section);
    }
  }

  function showRun(run) {
    showTotals(run.totals);
    fillTable("impact-classes", run.by_class, [
      (r) => classNames.get(r.hazard_class) || r.label, (r) => r.hazards, (r) => r.households, (r) => r.people,
      (r) => r.vulnerable_households,
    ]);
    fillTable("impact-grids", run.by_grid, [
      (r) => (r.grid_code ? _("%(name)s (%(code)s)", { name: r.grid_name, code: r.grid_code })
                          : _("in no grid")),
      (r) => r.workers, (r) => r.households, (r) => r.people, (r) => r.vulnerable_households,
    ]);
    showDoorKnock(run.door_knock, run.personal_data);
    $("impact-export").href = `/api/v1/impact-runs/${run.id}/door-knock.xlsx`;
    analysed.clearLayers();
    if (run.zone) {
      analysed.addData(run.zone);
      const bounds = analysed.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 17, padding: [20, 20] });
    }
    $("impact-result").hidden = false;
  }

  $("impact-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const hazard = $("impact-hazard").value;
    const buffer = Number($("impact-buffer").value || 0);
    const url = hazard === "all" ? "/api/v1/hazards/impact" : `/api/v1/hazards/${hazard}/impact`;
    $("btn-impact").disabled = true;
    $("impact-progress").hidden = false;
    $("impact-result").hidden = true;
    try {
      const run = await api("POST", url, { buffer_m: buffer });
      showRun(run);
      say(_("Analysis done: %(households)s household(s), %(people)s people affected.",
            { households: run.totals.households, people: run.totals.people }));
    } catch (error) {
      say(_("Analysis failed: %(reason)s", { reason: error.message }), "error");
    } finally {
      $("impact-progress").hidden = true;
      $("btn-impact").disabled = false;
    }
  });

  // --- drawing a new zone -------------------------------------------------------------------

  function stopDrawing() {
    if (drawn) map.removeLayer(drawn);
    drawn = null;
    $("create-form").hidden = true;
    $("draw-hint").hidden = false;
  }

  map.on("pm:create", (event) => {
    if (drawn) map.removeLayer(drawn);
    drawn = event.layer;
    $("create-form").hidden = false;
    $("draw-hint").hidden = true;
    $("create-form").querySelector("[name=name]").focus();
  });

  $("btn-cancel-draw").addEventListener("click", stopDrawing);

  $("create-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!drawn) return;
    const form = new FormData(event.target);
    try {
      const created = await api("POST", "/api/v1/hazards", {
        name: form.get("name"),
        hazard_class: form.get("hazard_class"),
        severity: Number(form.get("severity")),
        geometry: drawn.toGeoJSON().geometry,
      });
      say(_("Hazard “%(name)s” added.", { name: created.properties.name }));
      window.location.reload();
    } catch (error) {
      say(_("Saving failed: %(reason)s", { reason: error.message }), "error");
    }
  });
})();
