"""Building blocks shared by the Folium maps: base map, legend, tooltips and popups, classing,
rendering.

Folium's templates do not escape what they put into HTML (branca renders without autoescape,
and ``GeoJsonTooltip`` / ``GeoJsonPopup`` write feature properties into ``innerHTML``). Names
come from users, so every map here shows them through :class:`TextTooltip` and
:class:`TextPopup` (which set text, never markup) and every string Python puts into a map's
HTML goes through :func:`html_text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import folium
import numpy as np
from branca.element import MacroElement, Template
from flask import current_app, url_for
from flask_babel import gettext as _
from folium.plugins import GeoMan
from folium.template import Template as FoliumTemplate
from markupsafe import Markup, escape

from app.security_headers import csp_nonce
from app.web.assets import self_host
from geo.classify import fisher_jenks

# ColorBrewer YlOrRd, light to dark.
MAX_JENKS = 500
MAX_ZOOM = 19
SEQUENTIAL = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]


def new_map(bounds: tuple[float, float, float, float] | None, **kwargs) -> folium.Map:
    """A map with the configured basemap (``WANGGE_TILES``; ``none`` for no basemap)."""
    tiles = current_app.config["WANGGE_TILES"]
    m = folium.Map(tiles=None, control_scale=True, max_zoom=MAX_ZOOM, **kwargs)
    if tiles.lower() != "none":
        folium.TileLayer(
            tiles=tiles,
            attr=current_app.config["WANGGE_TILES_ATTRIBUTION"] or "basemap",
            name=_("Basemap"),
            max_zoom=MAX_ZOOM,
            subdomains=current_app.config["WANGGE_TILES_SUBDOMAINS"],
        ).add_to(m)
    if bounds:
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return m


def without_marker_assets(m: folium.Map) -> None:
    """Load Leaflet alone: jQuery, Bootstrap and the icon fonts (480 KB) serve Folium's
    markers and icons, which a map of areas and vector tiles does not draw."""
    m.default_js = [(name, url) for name, url in m.default_js if name == "leaflet"]
    m.default_css = [(name, url) for name, url in m.default_css if name == "leaflet_css"]


def polygon_drawing(m: folium.Map) -> None:
    """GeoMan's tools for drawing polygons and rectangles, and nothing else: the page's own
    buttons do the editing, so the map offers no tool that would bypass them."""
    GeoMan(
        position="topleft",
        drawMarker=False,
        drawCircleMarker=False,
        drawCircle=False,
        drawText=False,
        drawPolyline=False,
        editMode=False,
        dragMode=False,
        cutPolygon=False,
        removalMode=False,
        rotateMode=False,
    ).add_to(m)


@dataclass(frozen=True)
class Classes:
    """Upper bounds of each class and their colours (as many colours as classes)."""

    bins: list[float]
    colors: list[str]

    def color(self, value: float) -> str:
        index = int(np.searchsorted(self.bins, value, side="left"))
        return self.colors[min(index, len(self.colors) - 1)]

    def labels(self, minimum: float) -> list[str]:
        lows = [minimum] + [b + 1 for b in self.bins[:-1]]
        return [
            f"{int(lo)}" if lo == hi else f"{int(lo)}–{int(hi)}" for lo, hi in zip(lows, self.bins)
        ]


def classify(values: list[float], k: int = 5) -> Classes:
    """Fisher-Jenks natural breaks, the classing of ``mapclassify.FisherJenks`` (fewer
    classes when there are fewer distinct values).

    Fisher-Jenks is quadratic, so above ``MAX_JENKS`` values it runs on evenly spaced
    quantiles of the sorted values: deterministic, and the breaks barely move.
    """
    distinct = np.unique(values)
    if len(distinct) == 0:
        return Classes([0.0], SEQUENTIAL[:1])
    k = int(min(k, len(distinct)))
    if k == 1:
        return Classes([float(distinct[0])], SEQUENTIAL[-1:])
    sample = np.asarray(values, dtype=float)
    if len(sample) > MAX_JENKS:
        sample = np.quantile(sample, np.linspace(0, 1, MAX_JENKS))
    bins = fisher_jenks(sample, k)
    colors = SEQUENTIAL[-k:] if k < len(SEQUENTIAL) else SEQUENTIAL
    return Classes(bins, colors)


def html_text(value: object) -> str:
    """``value`` as text for HTML that a Folium or branca template builds: ``& < > " '`` escaped.

    >>> html_text('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&#34;alert(1)&#34;&gt;'
    >>> html_text("")
    ''
    """
    return str(escape(value))


# The body of a tooltip's or popup's function: a table of (alias, property) rows built as DOM
# nodes with textContent, so a property is always text (Folium's own concatenates HTML).
_TEXT_TABLE = """
    function (layer) {
      const div = L.DomUtil.create("div");
      const table = L.DomUtil.create("table", "", div);
      const fields = {{ this.fields | tojson }};
      const aliases = {{ this.aliases | tojson }};
      fields.forEach(function (field, i) {
        const row = table.insertRow();
        {% if this.labels %}
        const th = document.createElement("th");
        th.textContent = aliases[i];
        row.appendChild(th);
        {% endif %}
        let value = layer.feature.properties[field];
        if (value === null || value === undefined) value = "";
        else if (typeof value === "object") value = JSON.stringify(value);
        {% if this.localize %}else if (typeof value === "number") value = value.toLocaleString();{% endif %}
        row.insertCell().textContent = String(value);
      });
      return div;
    }
"""


class TextTooltip(folium.GeoJsonTooltip):
    """``folium.GeoJsonTooltip`` that shows each property as text."""

    _template = FoliumTemplate(
        "{% macro script(this, kwargs) %}{{ this._parent.get_name() }}.bindTooltip("
        + _TEXT_TABLE
        + ", {{ this.tooltip_options | tojavascript }});{% endmacro %}"
    )


class TextPopup(folium.GeoJsonPopup):
    """``folium.GeoJsonPopup`` that shows each property as text."""

    _template = FoliumTemplate(
        "{% macro script(this, kwargs) %}{{ this._parent.get_name() }}.bindPopup("
        + _TEXT_TABLE
        + ", {{ this.popup_options | tojavascript }});{% endmacro %}"
    )


class Legend(MacroElement):
    """A fixed legend box: a title and (swatch, label) rows, in the page's language."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <div class="wangge-legend" role="group" aria-label="{{ this.title }}"
             style="position:absolute; z-index:1000; {{ this.position }}; background:#fff;
                    padding:6px 10px; border-radius:4px; box-shadow:0 1px 4px rgba(0,0,0,.3);
                    font:12px/1.5 sans-serif; max-width:14rem;">
          <strong>{{ this.title }}</strong>
          {% for swatch, label in this.entries %}
          <div><span style="display:inline-block; width:14px; height:14px; margin-right:6px;
                 vertical-align:middle; {{ swatch }}"></span>{{ label }}</div>
          {% endfor %}
        </div>
        {% endmacro %}
        """
    )

    def __init__(
        self, title: str, entries: list[tuple[str, str]], position: str = "bottom:24px; right:10px"
    ):
        super().__init__()
        self._name = "Legend"
        self.title = html_text(title)
        # swatches are our own CSS; labels may name data
        self.entries = [(swatch, html_text(label)) for swatch, label in entries]
        self.position = position


@dataclass(frozen=True)
class MapParts:
    header: Markup
    html: Markup
    script: Markup


_INLINE_SCRIPT = re.compile(r"<script>")


def render(m: folium.Map) -> MapParts:
    """Render a map into parts for our page template, every asset served by the app.

    The page puts ``script`` into ``<script nonce="{{ csp_nonce() }}">``; the header's own
    inline script (Folium's Leaflet switches) gets the nonce here. The header holds only
    Folium's links, styles and that script, never data.
    """
    self_host(m, lambda path: url_for("static", filename=path))
    root = m.get_root()
    root.render()
    header = _INLINE_SCRIPT.sub(f'<script nonce="{csp_nonce()}">', root.header.render())
    return MapParts(Markup(header), Markup(root.html.render()), Markup(root.script.render()))
