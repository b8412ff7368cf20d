"""The leaders' coverage map: streets, communities or grids classed by households per worker,
drawn from vector tiles (``/tiles``), with household density, vulnerable households and
households outside every grid aggregated on the server.

The page holds no geometry and no personal data: only the classes, the layer settings and
the figures of the table beside the map. Leaflet.VectorGrid (self-hosted) draws the tiles and
``static/js/coverage.js`` styles them, switches the level and opens the popups.
"""

from __future__ import annotations

from branca.element import MacroElement, Template
from flask import url_for
from flask_babel import gettext as _
from folium.elements import JSCSSMixin
from folium.plugins import Fullscreen

from app.i18n import N_
from app.services.coverage_map import LEVELS, CoverageMapData
from app.web.folium_kit import Legend, MapParts, classify, new_map, render, without_marker_assets

NO_WORKER = "#7b3294"
UNCOVERED = "#111111"
DENSITY = "#2c7fb8"
VULNERABLE = "#d7301f"
# Names are English message ids, translated where shown.
LEVEL_NAMES = {"street": N_("Streets"), "community": N_("Communities"), "grid": N_("Grids")}
LEVEL_LAYERS = {"street": "streets", "community": "communities", "grid": "grids"}
LEGEND_TITLE = N_("Households per grid worker")
# Popup rows: (property, label)
FIGURES = [
    ("code", N_("Code")),
    ("name", N_("Name")),
    ("grids", N_("Number of grids")),
    ("households", N_("Number of households")),
    ("workers", N_("Grid workers")),
    ("households_per_worker", N_("Households for each worker")),
    ("vulnerable", N_("Households in vulnerable groups")),
    ("grids_without_worker", N_("Grids without a worker")),
]
VECTORGRID_JS = "https://unpkg.com/leaflet.vectorgrid@latest/dist/Leaflet.VectorGrid.bundled.js"


class CoverageLayers(JSCSSMixin, MacroElement):
    """Loads Leaflet.VectorGrid and coverage.js, and hands them the map and its settings."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.wanggeCoverage({{ this._parent.get_name() }}, {{ this.settings | tojson }});
        {% endmacro %}
        """
    )
    default_js = [("leaflet.vectorgrid", VECTORGRID_JS)]

    def __init__(self, settings: dict, script_url: str):
        super().__init__()
        self._name = "CoverageLayers"
        self.settings = settings
        # a new list: the class attribute is shared by every map
        self.default_js = [*self.default_js, ("wangge.coverage", script_url)]


def level_classes(data: CoverageMapData) -> dict[str, dict]:
    """Fisher-Jenks classes of households per worker at each level, with their labels."""
    result = {}
    for level in LEVELS:
        values = data.per_worker(level)
        classes = classify(values)
        minimum = min(values) if values else 0
        result[level] = {
            "breaks": classes.bins,
            "colors": classes.colors,
            "labels": classes.labels(minimum),
        }
    return result


def coverage_map(data: CoverageMapData, level: str) -> MapParts:
    """The map opening on ``level`` (street, community or grid)."""
    m = new_map(data.bounds)
    without_marker_assets(m)
    classes = level_classes(data)
    settings = {
        "tiles": url_for("tiles.tile", layer="LAYER", z=0, x=0, y=0)
        .replace("LAYER", "{layer}")
        .replace("/0/0/0.pbf", "/{z}/{x}/{y}.pbf"),
        "level": level,
        "levels": [
            {"level": level, "layer": LEVEL_LAYERS[level], "name": _(LEVEL_NAMES[level])}
            for level in LEVELS
        ],
        "classes": classes,
        "figures": [(key, _(label)) for key, label in FIGURES],
        "colors": {
            "noWorker": NO_WORKER,
            "uncovered": UNCOVERED,
            "density": DENSITY,
            "vulnerable": VULNERABLE,
        },
        "legendTitle": _(LEGEND_TITLE),
    }
    CoverageLayers(settings, url_for("static", filename="js/coverage.js")).add_to(m)
    initial = classes[level]
    Legend(_(LEGEND_TITLE), legend_entries(initial["colors"], initial["labels"])).add_to(m)
    Fullscreen(title=_("Full screen"), title_cancel=_("Leave full screen")).add_to(m)
    return render(m)


def legend_entries(colors: list[str], labels: list[str]) -> list[tuple[str, str]]:
    entries = [
        (f"background:{color}; border:1px solid #555", label)
        for color, label in zip(colors, labels)
    ]
    entries.append((f"border:3px dashed {NO_WORKER}", _("No grid worker")))
    entries.append((f"background:{UNCOVERED}; border-radius:50%", _("Households in no grid")))
    entries.append((f"background:{DENSITY}; border-radius:50%; opacity:.6", _("Household density")))
    entries.append(
        (f"background:{VULNERABLE}; border-radius:50%", _("Households in vulnerable groups"))
    )
    return entries
