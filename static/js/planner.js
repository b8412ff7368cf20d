// The planner's map: every action goes through the JSON API; errors are shown on the map at
// the place of the fault. Leaflet and Leaflet-Geoman are loaded by the Folium page.
(function () {
  "use strict";

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
    409: "与相邻网格重叠，未保存。",
    412: "该网格已被他人修改，请刷新后再编辑。",
    422: "数据无效，未保存。",
    428: "缺少版本信息，请刷新后再编辑。",
  };

  function showFault(error) {
    faults.clearLayers();
    say(`${MESSAGES[error.status] || "操作失败。"}${error.message ? "（" + error.message + "）" : ""}`,
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
        .setContent(place.code ? `与 ${place.code} 重叠` : (error.message || "错误位置"))
        .addTo(faults);
    }
  }

  function describe(change) {
    const parts = [];
    if (change.created && change.created.length) parts.push(`新建 ${change.created.join("、")}`);
    if (change.retired && change.retired.length) parts.push(`退役 ${change.retired.join("、")}`);
    if (change.households) parts.push(`住户调整 ${change.households.moved} 户`);
    if (change.open_incidents) parts.push(`在办事件调整 ${change.open_incidents.moved} 件`);
    return parts.join("，") || "已保存";
  }

  // --- grids on the map --------------------------------------------------------------------

  function bindGrid(feature, layer) {
    const p = feature.properties;
    layer.bindTooltip(`${p.name}<br>${p.code}`, { sticky: true });
    layer.on("click", () => toggle(p.code, layer));
  }

  function labelPreview(feature, layer) {
    layer.bindTooltip(`${feature.properties.code}：${feature.properties.households} 户`,
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
    $("selected-list").innerHTML = "";
    for (const [code, layer] of selected) {
      const li = document.createElement("li");
      li.textContent = `${layer.feature.properties.name}（${code}，版本 ${layer.feature.properties.version}）`;
      $("selected-list").appendChild(li);
    }
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
      ["重叠", report.overlaps.length],
      ["缝隙", `${report.gaps.length}（${Math.round(report.gaps.reduce((s, g) => s + g.area_m2, 0))} 平方米）`],
      ["超出社区", report.outside_parent.length],
      ["未入格住户", report.uncovered_households],
      ["无网格员网格", report.grids_without_worker.map((g) => g.code).join("、") || "无"],
    ];
    $("coverage").innerHTML = rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("");
    for (const gap of report.gaps) {
      L.geoJSON(gap.geometry, { style: { color: "#ff7f00", weight: 1, fillOpacity: 0.5 } })
        .bindTooltip(`缝隙 ${Math.round(gap.area_m2)} 平方米`).addTo(faults);
    }
    for (const overlap of report.overlaps) {
      L.geoJSON(overlap.geometry, { style: { color: "#e31a1c", weight: 1, fillOpacity: 0.6 } })
        .bindTooltip(`重叠 ${overlap.a} × ${overlap.b}`).addTo(faults);
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
    say("拖动顶点修改边界，完成后点“保存修改”。", "ok");
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
    say("画一条穿过所选网格的线，双击结束。", "ok");
  });

  $("btn-merge").addEventListener("click", () => {
    const versions = {};
    for (const [code, layer] of selected) versions[code] = layer.feature.properties.version;
    act(() => api("POST", "/api/v1/areas/merge", { codes: [...selected.keys()], versions }));
  });

  $("btn-retire").addEventListener("click", () => {
    const target = only();
    if (!window.confirm(`退役网格 ${target.code}？其住户将变为未入格。`)) return;
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
        `预览：${s.grids} 个网格，每格住户 ${s.min}–${s.max}（平均 ${s.mean}）`;
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
