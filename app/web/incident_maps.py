"""Incident maps: a heat map, a weekly heat map and incidents per 1,000 households per grid."""

from __future__ import annotations

from datetime import datetime

import folium
from branca.element import MacroElement, Template
from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import pgettext
from folium.plugins import Fullscreen, HeatMap, HeatMapWithTime

from app.auth import current_scope, roles_required
from app.extensions import db
from app.services import dashboard as service
from app.web import bp
from app.web.folium_kit import (
    Classes,
    Legend,
    MapParts,
    TextTooltip,
    classify,
    new_map,
    render,
)

NO_DATA = "#d9d9d9"
# The heat maps' colour ramp (low to high), shown in their legends.
HEAT_GRADIENT = {0.2: "#2c7bb6", 0.4: "#abd9e9", 0.6: "#ffffbf", 0.8: "#fdae61", 1.0: "#d7191c"}


@bp.get("/map/incidents")
@roles_required("leader", "admin")
def incident_map_page():
    today = datetime.now(service.SHANGHAI).date()
    filters = service.parse_map_filters(request.args, today)
    data = service.incident_map(db.session, current_scope(), filters)
    return render_template(
        "incident_map.html",
        data=data,
        parts=BUILDERS[filters.view](data),
        views=service.MAP_VIEWS,  # translated in the template
        statuses=service.STATUS_NAMES,
    )


class ShowWeek(MacroElement):
    """Open a HeatMapWithTime on its ``week``-th frame (1-based) instead of the first."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.timeDimension.setCurrentTime({{ this.week }});
        {% endmacro %}
        """
    )

    def __init__(self, week: int):
        super().__init__()
        self._name = "ShowWeek"
        self.week = int(week)


def _heat_legend(title: str, note: str, position: str = "bottom:24px; right:10px") -> Legend:
    colors = list(HEAT_GRADIENT.values())
    ramp = f"background:linear-gradient(to right, {', '.join(colors)}); width:90px"
    return Legend(title, [(ramp, _("few → many")), ("", note)], position=position)


def _grid_outlines(m: folium.Map, data: service.IncidentMap) -> None:
    folium.GeoJson(
        {"type": "FeatureCollection", "features": data.grids},
        name=_("Grid boundaries"),
        style_function=lambda f: {"fill": False, "color": "#555", "weight": 1},
    ).add_to(m)


def heat_map(data: service.IncidentMap) -> MapParts:
    m = new_map(data.bounds)
    _grid_outlines(m, data)
    HeatMap(
        data.heat,
        name=_("Incident heat"),
        radius=18,
        blur=14,
        min_opacity=0.3,
        gradient=HEAT_GRADIENT,
    ).add_to(m)
    note = _("Summed in cells of about 50 m") if data.aggregated else _("One point per incident")
    _heat_legend(_("Incident heat (%(total)s)", total=data.total), note).add_to(m)
    return _finish(m)


def weekly_map(data: service.IncidentMap) -> MapParts:
    m = new_map(data.bounds)
    _grid_outlines(m, data)
    HeatMapWithTime(
        data.weekly,
        index=[_("Week from %(monday)s", monday=week) for week in data.weeks],
        name=_("Weekly incident heat"),
        radius=25,
        min_opacity=0.2,
        max_opacity=0.8,
        gradient=HEAT_GRADIENT,
        auto_play=False,
        position="bottomleft",
    ).add_to(m)
    if data.weeks:
        ShowWeek(len(data.weeks)).add_to(m)  # the latest week first
    # Above the time control, which takes the bottom of the map.
    legend = _heat_legend(
        _("Weekly incident heat (%(total)s)", total=data.total),
        _("Summed in cells of about 100 m"),
        "top:10px; right:56px",
    )
    legend.add_to(m)
    return _finish(m)


def _rate_labels(classes: Classes, minimum: float) -> list[str]:
    lows = [minimum] + classes.bins[:-1]
    return [f"{lo:.1f}–{hi:.1f}" for lo, hi in zip(lows, classes.bins)]


def rate_map(data: service.IncidentMap) -> MapParts:
    m = new_map(data.bounds)
    rates = [f["properties"]["rate"] for f in data.grids if f["properties"]["rate"] is not None]
    classes = classify(rates)

    def style(feature: dict) -> dict:
        rate = feature["properties"]["rate"]
        fill = NO_DATA if rate is None else classes.color(rate)
        return {"fillColor": fill, "fillOpacity": 0.7, "color": "#555", "weight": 1}

    folium.GeoJson(
        {"type": "FeatureCollection", "features": data.grids},
        name=_("Rate per 1,000 households"),
        style_function=style,
        highlight_function=lambda f: {"weight": 3, "color": "#000"},
        tooltip=TextTooltip(
            ["name", "incidents", "households", "rate"],
            aliases=[
                _("Grid"),
                pgettext("count", "Incidents"),
                _("Households"),
                _("Incidents per 1,000 households"),
            ],
        )
        if data.grids
        else None,
    ).add_to(m)
    entries = [
        (f"background:{color}; border:1px solid #555", label)
        for color, label in zip(classes.colors, _rate_labels(classes, min(rates, default=0)))
    ]
    if not rates:
        entries = []
    entries.append((f"background:{NO_DATA}; border:1px solid #555", _("No data (no households)")))
    Legend(_("Rate per 1,000 households"), entries).add_to(m)
    return _finish(m)


def _finish(m: folium.Map) -> MapParts:
    Fullscreen(title=_("Full screen"), title_cancel=_("Leave full screen")).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return render(m)


BUILDERS = {"heat": heat_map, "weekly": weekly_map, "rate": rate_map}
