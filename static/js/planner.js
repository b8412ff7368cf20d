// The planner's map: every action goes through the JSON API; errors are shown on the map at
// the place of the fault. Leaflet and Leaflet-Geoman are loaded by the Folium page.
(function () {
  "use strict";

  const { el, escapeHtml } = window.Wangge; // html.js
  const root = document.getElementById("planner");
  const map = window[root.dataset.map];
  const community = root.dataset.community;
  const csrf = root.dataset.csrf;
  const $ = (id) => document.getElementById(id);

  const STYLE = { color: "#1f4e79", weight: 1.5, fillColor: "#9ecae1", fillOpacity: 0.35 };
  const SELECTED = { color: "#c0392b", weight: 3, fillColor: "#f5b7b1", fillOpacity: 0.5 };
  const PREVIEW = { color: "#7b3294", weight: 2, dashArray: "5 4", fillOpacity: 0.1 };

  const grids = L.geoJSON(null, { style: () => STYLE, onEachFeature: bindGrid }).addTo(map);
  const outline = L.geoJSON(null, { style: { color: "#000", weight: 3, fill: false } }).addTo(map);
  const faults = L.layerGroup().addTo(map);
  const preview = L.geoJSON(null, { style: () => PREVIEW, onEachFeature: labelPreview });
  const selected = new Map(); // code -> layer
  let editing = null;
  let splitting = null;
  let previewed = null; // the generator parameters of the preview on the map

  // Another community: the page reloads on it.
  const choice = $("community-choice");
  if (choice) choice.addEventListener("change", () => choice.form.submit());

  map.pm.setGlobalOptions({ snappable: true, snapDistance: 15, allowSelfIntersection: false });
  map.pm.setLang("zh");

  // --- talking to the API ----------------------------------------------------------------

  async function api(method, url, body, version) {
    const headers = { "X-CSRFToken": csrf, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (version !== undefined) headers["If-Match"] = `"${version}"`;
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
    const box = $("planner-message");
    box.textContent = text;
    box.className = `message ${kind || "ok"}`;
    box.hidden = false;
  }

  const MESSAGES = {
    409: _("It overlaps a neighbouring grid; not saved."),
    412: _("Someone else changed this grid; reload before editing."),
    422: _("Invalid data; not saved."),
    428: _("The version is missing; reload before editing."),
  };

  function showFault(error) {
    faults.clearLayers();
    const summary = MESSAGES[error.status] || _("The action failed.");
    say(error.message ? _("%(summary)s (%(reason)s)", { summary, reason: error.message }) : summary,
        "error");
    const details = error.details || {};
    const places = [];
    if (details.location) places.push({ at: details.location, geometry: details.geometry });
    for (const overlap of details.overlaps || []) {
      places.push({ at: overlap.location, geometry: overlap.geometry, code: overlap.code });
    }
    for (const place of places) {
      if (place.geometry) {
        L.geoJSON(place.geometry, { style: { color: "#e31a1c", weight: 2, fillOpacity: 0.6 } })
          .addTo(faults);
      }
      L.popup({ className: "fault-popup", autoClose: false, closeOnClick: false })
        .setLatLng([place.at[1], place.at[0]])
        .setContent(escapeHtml(place.code ? _("Overlaps %(code)s", { code: place.code }) : (error.message || _("Fault here"))))
        .addTo(faults);
    }
  }

  function describe(change) {
    const parts = [];
    if (change.created && change.created.length) parts.push(_("Created %(codes)s", { codes: change.created.join(_(", ")) }));
    if (change.retired && change.retired.length) parts.push(_("Retired %(codes)s", { codes: change.retired.join(_(", ")) }));
    if (change.households) parts.push(_("%(n)s households moved", { n: change.households.moved }));
    if (change.open_incidents) parts.push(_("%(n)s open incidents moved", { n: change.open_incidents.moved }));
    // The separator of a list of changes: "; " in English, "，" in Chinese.
    return parts.join(_("; ")) || _("Saved");
  }

  // --- grids on the map --------------------------------------------------------------------

  function bindGrid(feature, layer) {
    const p = feature.properties;
    layer.bindTooltip(el("span", {}, p.name, el("br"), p.code), { sticky: true });
    layer.on("click", () => toggle(p.code, layer));
  }

  function labelPreview(feature, layer) {
    layer.bindTooltip(escapeHtml(_("%(code)s: %(n)s households", { code: feature.properties.code, n: feature.properties.households })),
                      { permanent: true, direction: "center", className: "preview-label" });
  }

  function toggle(code, layer) {
    if (editing) return;
    if (selected.has(code)) {
      selected.delete(code);
      layer.setStyle(STYLE);
    } else {
      selected.set(code, layer);
      layer.setStyle(SELECTED);
    }
    refreshButtons();
  }

  function refreshButtons() {
    const n = selected.size;
    $("selected-count").textContent = String(n);
    $("selected-list").replaceChildren(...Array.from(selected, ([code, layer]) => el("li", {
      text: _("%(name)s (%(code)s, version %(version)s)", { name: layer.feature.properties.name, code, version: layer.feature.properties.version }),
    })));
    $("btn-edit").disabled = n !== 1 || editing !== null;
    $("btn-save").disabled = editing === null;
    $("btn-split").disabled = n !== 1 || editing !== null;
    $("btn-merge").disabled = n < 2 || editing !== null;
    $("btn-retire").disabled = n !== 1 || editing !== null;
  }

  async function load() {
    if (!community) return;
    const [area, page] = await Promise.all([
      api("GET", `/api/v1/areas/${community}`),
      api("GET", `/api/v1/areas?level=grid&parent=${community}&limit=1000`),
    ]);
    // Grids first: Geoman breaks ties between equally near layers by layer id, and a corner on
    // the border must snap to the neighbouring grid's corner, not onto the outline's edge.
    grids.clearLayers().addData(page.features);
    outline.clearLayers().addData(area);
    selected.clear();
    editing = null;
    refreshButtons();
    root.dataset.grids = String(page.features.length);
    await loadCoverage();
  }

  async function loadCoverage() {
    const report = await api("GET", `/api/v1/coverage?area=${community}`);
    const rows = [
      [_("Overlaps"), report.overlaps.length],
      [_("Gaps"), _("%(n)s (%(m2)s m²)", { n: report.gaps.length, m2: Math.round(report.gaps.reduce((s, g) => s + g.area_m2, 0)) })],
      [_("Outside the community"), report.outside_parent.length],
      [_("Households in no grid"), report.uncovered_households],
      [_("Grids without a worker"), report.grids_without_worker.map((g) => g.code).join(_(", ")) || _("none")],
    ];
    $("coverage").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
    for (const gap of report.gaps) {
      L.geoJSON(gap.geometry, { style: { color: "#ff7f00", weight: 1, fillOpacity: 0.5 } })
        .bindTooltip(escapeHtml(_("Gap of %(m2)s m²", { m2: Math.round(gap.area_m2) }))).addTo(faults);
    }
    for (const overlap of report.overlaps) {
      L.geoJSON(overlap.geometry, { style: { color: "#e31a1c", weight: 1, fillOpacity: 0.6 } })
        .bindTooltip(escapeHtml(_("Overlap %(a)s × %(b)s", { a: overlap.a, b: overlap.b }))).addTo(faults);
    }
  }

  async function act(work) {
    try {
      const change = await work();
      faults.clearLayers();
      await load();
      say(describe(change || {}), "ok");
      return change;
    } catch (error) {
      showFault(error);
      return null;
    }
  }

  function only() {
    const [code, layer] = selected.entries().next().value;
    return { code, layer, version: layer.feature.properties.version };
  }

  // --- actions -------------------------------------------------------------------------------

  map.on("pm:create", async (event) => {
    const layer = event.layer;
    const geometry = layer.toGeoJSON().geometry;
    map.removeLayer(layer);
    if (splitting && event.shape === "Line") {
      const target = splitting;
      splitting = null;
      await act(() => api("POST", `/api/v1/areas/${target.code}/split`, { line: geometry },
                          target.version));
      return;
    }
    await act(() => api("POST", "/api/v1/areas", { level: "grid", parent: community, geometry }));
  });

  // Another drawing tool gives up the split.
  map.on("pm:drawstart", (event) => {
    if (event.shape !== "Line") splitting = null;
  });

  $("btn-edit").addEventListener("click", () => {
    editing = only();
    editing.layer.pm.enable({ allowSelfIntersection: false, snappable: true });
    say(_("Drag the vertices to change the boundary, then press “Save changes”."), "ok");
    refreshButtons();
  });

  $("btn-save").addEventListener("click", async () => {
    const target = editing;
    if (!target) return;
    target.layer.pm.disable();
    editing = null;
    refreshButtons();
    await act(() => api("PATCH", `/api/v1/areas/${target.code}`,
                        { geometry: target.layer.toGeoJSON().geometry }, target.version));
  });

  $("btn-split").addEventListener("click", () => {
    splitting = only();
    map.pm.enableDraw("Line", { snappable: true });
    say(_("Draw a line across the selected grid; double-click to finish."), "ok");
  });

  $("btn-merge").addEventListener("click", () => {
    const versions = {};
    for (const [code, layer] of selected) versions[code] = layer.feature.properties.version;
    act(() => api("POST", "/api/v1/areas/merge", { codes: [...selected.keys()], versions }));
  });

  $("btn-retire").addEventListener("click", () => {
    const target = only();
    if (!window.confirm(_("Retire grid %(code)s? Its households will be in no grid.", { code: target.code }))) return;
    act(() => api("DELETE", `/api/v1/areas/${target.code}`, undefined, target.version));
  });

  function generatorBody() {
    const form = $("generate-form");
    const kind = form.elements.kind.value;
    const value = Number(form.elements.value.value);
    const key = { balanced: "target_households", square: "cell_m", hexagon: "resolution" }[kind];
    return { kind, [key]: value };
  }

  $("generate-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const body = generatorBody();
      const plan = await api("POST", `/api/v1/areas/${community}/generate`, body);
      previewed = body;
      preview.clearLayers().addData(plan.features).addTo(map);
      const s = plan.summary;
      $("generate-summary").textContent =
        _("Preview: %(grids)s grids, %(min)s–%(max)s households each (mean %(mean)s)", s);
      $("btn-generate").disabled = false;
    } catch (error) {
      showFault(error);
    }
  });

  $("btn-generate").addEventListener("click", async () => {
    // Commit exactly what was previewed, even if the form changed since.
    const change = await act(() => api("POST", `/api/v1/areas/${community}/generate`,
                                       { ...previewed, commit: true }));
    if (change) {
      previewed = null;
      map.removeLayer(preview);
      $("btn-generate").disabled = true;
      $("generate-summary").textContent = "";
    }
  });

  load().then(() => { root.dataset.ready = "true"; }).catch(showFault);
})();
