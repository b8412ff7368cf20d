/* The leaders' coverage map: vector tiles of streets, communities or grids classed by
   households per worker, household density, vulnerable and uncovered households (counts
   per cell from the server, never personal data), a level switch, popups and the table. */
(function () {
  "use strict";

  // Leaflet.VectorGrid 1.3 calls L.DomEvent.fakeStop on a click on a canvas tile, which
  // Leaflet 1.9 no longer has: mark the event stopped the 1.9 way, so the map does not
  // also take the click (and close the popup it opens).
  if (!L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function (event) {
      event._stopped = true;
    };
  }

  function classColor(classes, value) {
    if (value === null || value === undefined) return null;
    for (let i = 0; i < classes.breaks.length; i++) {
      if (value <= classes.breaks[i]) return classes.colors[i];
    }
    return classes.colors[classes.colors.length - 1];
  }

  const { el } = window.Wangge; // html.js

  function popupTable(settings, properties) {
    const rows = settings.figures
      .filter(([key]) => key in properties)
      .map(([key, label]) => {
        let value = properties[key];
        if (key === "households_per_worker" && (value === null || value === undefined)) value = "—";
        return el("tr", {}, el("th", { text: label }), el("td", { text: value }));
      });
    return el("table", { class: "coverage-popup" }, el("tbody", {}, ...rows));
  }

  function areaStyle(settings, level) {
    const classes = settings.classes[level];
    return function (properties) {
      const fill = classColor(classes, properties.households_per_worker);
      const noWorker = properties.workers === 0;
      return {
        fill: true,
        fillColor: fill || "#ffffff",
        fillOpacity: fill ? 0.65 : 0.2,
        color: noWorker ? settings.colors.noWorker : "#555555",
        weight: noWorker ? 3 : level === "grid" ? 0.6 : 1.5,
        dashArray: noWorker ? "6 4" : null,
      };
    };
  }

  function cellRadius(count, zoom) {
    return zoom >= 15 ? 3 : Math.min(12, 1.5 + Math.sqrt(count) / 2);
  }

  function pointLayer(settings, style) {
    return L.vectorGrid.protobuf(settings.tiles.replace("{layer}", "households"), {
      vectorTileLayerStyles: { households: style },
      rendererFactory: L.canvas.tile,
      maxNativeZoom: 18,
      interactive: false,
    });
  }

  function markLoaded(map, name, layer) {
    const frame = map.getContainer();
    layer.on("loading", () => frame.setAttribute(`data-${name}-loaded`, "0"));
    layer.on("load", () => frame.setAttribute(`data-${name}-loaded`, "1"));
  }

  function updateLegend(settings, level) {
    const legend = document.querySelector(".wangge-legend");
    if (!legend) return;
    const classRows = Array.from(legend.querySelectorAll("div")).slice(
      0, settings.classes[settings.level].colors.length
    );
    const classes = settings.classes[level];
    classRows.forEach((row, i) => {
      row.hidden = i >= classes.colors.length;
      if (!row.hidden) {
        row.querySelector("span").style.background = classes.colors[i];
        row.lastChild.textContent = classes.labels[i];
      }
    });
  }

  function levelControl(settings, onChange) {
    const control = L.control({ position: "topright" });
    control.onAdd = function () {
      const box = L.DomUtil.create("form", "leaflet-bar coverage-levels");
      box.setAttribute("aria-label", _("Level"));
      for (const l of settings.levels) {
        const radio = el("input", { type: "radio", name: "coverage-level", value: l.level });
        radio.checked = l.level === settings.level;
        box.append(el("label", {}, radio, ` ${l.name}`));
      }
      L.DomEvent.disableClickPropagation(box);
      box.addEventListener("change", (event) => onChange(event.target.value));
      return box;
    };
    return control;
  }

  function showTable(level) {
    document.querySelectorAll("[data-coverage-table]").forEach((table) => {
      table.hidden = table.getAttribute("data-coverage-table") !== level;
    });
  }

  function sortable(table) {
    table.querySelectorAll("th[data-sort]").forEach((th, column) => {
      th.addEventListener("click", () => {
        const body = table.tBodies[0];
        const numeric = th.getAttribute("data-sort") === "number";
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        table.querySelectorAll("th").forEach((h) => h.removeAttribute("aria-sort"));
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const key = (row) => {
          const text = row.cells[column].getAttribute("data-value") ?? row.cells[column].textContent;
          return numeric ? (text === "" ? -Infinity : Number(text)) : text;
        };
        const rows = Array.from(body.rows).sort((a, b) => {
          const x = key(a), y = key(b);
          const order = x < y ? -1 : x > y ? 1 : 0;
          return ascending ? order : -order;
        });
        rows.forEach((row) => body.appendChild(row));
      });
    });
  }

  window.wanggeCoverage = function (map, settings) {
    const frame = map.getContainer();
    const layers = {};
    let current = null;

    function areaLayer(level) {
      const entry = settings.levels.find((l) => l.level === level);
      const styles = {};
      styles[entry.layer] = areaStyle(settings, level);
      const layer = L.vectorGrid.protobuf(settings.tiles.replace("{layer}", entry.layer), {
        vectorTileLayerStyles: styles,
        rendererFactory: L.canvas.tile,
        className: "coverage-units",
        interactive: true,
        maxNativeZoom: 18,
        getFeatureId: (feature) => feature.properties.id,
      });
      layer.on("click", (event) => {
        L.popup().setLatLng(event.latlng).setContent(popupTable(settings, event.layer.properties)).openOn(map);
      });
      markLoaded(map, "units", layer);
      return layer;
    }

    function setLevel(level) {
      if (current) map.removeLayer(layers[current]);
      layers[level] = layers[level] || areaLayer(level);
      layers[level].addTo(map);
      layers[level].bringToBack();
      current = level;
      frame.setAttribute("data-level", level);
      updateLegend(settings, level);
      showTable(level);
    }

    const density = pointLayer(settings, (p, zoom) => ({
      radius: cellRadius(p.count, zoom),
      fill: true,
      fillColor: settings.colors.density,
      fillOpacity: 0.45,
      stroke: false,
    }));
    const vulnerable = pointLayer(settings, (p, zoom) =>
      p.vulnerable > 0
        ? { radius: cellRadius(p.vulnerable, zoom) + 1, fill: true, fillColor: settings.colors.vulnerable, fillOpacity: 0.8, stroke: false }
        : { stroke: false, fill: false, radius: 0 }
    );
    const uncovered = pointLayer(settings, (p, zoom) =>
      p.uncovered > 0
        ? { radius: cellRadius(p.uncovered, zoom) + 1, fill: true, fillColor: settings.colors.uncovered, fillOpacity: 0.85, stroke: false }
        : { stroke: false, fill: false, radius: 0 }
    );
    // Off at first: the leaders' first view is the units; the household layers are a tick away.
    markLoaded(map, "density", density);
    markLoaded(map, "uncovered", uncovered);

    // A level the leader picks stays in the address, for reloads and shared links.
    function pickLevel(level) {
      setLevel(level);
      const url = new URL(window.location.href);
      url.searchParams.set("level", level);
      window.history.replaceState(null, "", url);
    }

    setLevel(settings.level);
    levelControl(settings, pickLevel).addTo(map);
    L.control
      .layers(
        null,
        {
          [_("Household density")]: density,
          [_("Density of vulnerable households")]: vulnerable,
          [_("Households in no grid")]: uncovered,
        },
        { collapsed: false }
      )
      .addTo(map);
    document.querySelectorAll("[data-coverage-table]").forEach(sortable);
    document.querySelectorAll("[data-coverage-level]").forEach((button) =>
      button.addEventListener("click", () => {
        const level = button.getAttribute("data-coverage-level");
        const radio = frame.querySelector(`input[name="coverage-level"][value="${level}"]`);
        if (radio) radio.checked = true;
        pickLevel(level);
      })
    );
  };
})();
