"""The hazard map: zones and points coloured by severity, impact analysis, drawing new zones.

The page holds hazards only (no household data): the impact result with its door-knock list is
fetched from the API after the user runs an analysis, masked for the user's role there.
"""

from __future__ import annotations

import folium
from flask import render_template
from flask_babel import gettext as _
from folium.plugins import Fullscreen

from app.auth import current_scope, roles_required
from app.extensions import db
from app.i18n import N_
from app.models.hazards import HAZARD_CLASSES
from app.services.hazards import MAX_BUFFER_M, SEVERITY_COLORS, HazardMapData, hazard_map_data
from app.web import bp
from app.web.folium_kit import (
    Legend,
    MapParts,
    TextPopup,
    TextTooltip,
    new_map,
    polygon_drawing,
    render,
)

# The page's names for classes and severities, English message ids translated when shown
# (the API's features carry Chinese labels as data).
CLASS_NAMES = {
    "flood": N_("Flood"),
    "landslide": N_("Geological hazard (landslide)"),
    "earthquake": N_("Earthquake damage"),
    "fire": N_("Fire"),
    "security": N_("Public security"),
    "construction": N_("Construction"),
}
# Chinese early-warning levels: 4 is the most severe (level I, red).
SEVERITY_NAMES = {
    4: N_("Extremely severe (level I)"),
    3: N_("Severe (level II)"),
    2: N_("Fairly severe (level III)"),
    1: N_("Ordinary (level IV)"),
}
POPUP_FIELDS = ["name", "class_label", "severity_label"]


def _labelled(feature: dict) -> dict:
    """A hazard feature whose class and severity labels are in the page's language."""
    properties = feature["properties"] | {
        "class_label": _(CLASS_NAMES[feature["properties"]["hazard_class"]]),
        "severity_label": _(SEVERITY_NAMES[feature["properties"]["severity"]]),
    }
    return feature | {"properties": properties}


def _style(feature: dict) -> dict:
    color = feature["properties"]["color"]
    return {"color": color, "weight": 2, "fillColor": color, "fillOpacity": 0.35}


def _layer(features: list[dict], name: str, **kwargs) -> folium.GeoJson:
    aliases = [_("Name"), _("Class"), _("Severity")]
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        style_function=_style,
        # Folium refuses popup fields on an empty layer.
        popup=TextPopup(POPUP_FIELDS, aliases=aliases) if features else None,
        tooltip=TextTooltip(["name"], aliases=[_("Hazard")]) if features else None,
        **kwargs,
    )


def hazard_map(features: list[dict], bounds) -> tuple[MapParts, str]:
    m = new_map(bounds)
    zones = [f for f in features if f["geometry"]["type"] != "Point"]
    points = [f for f in features if f["geometry"]["type"] == "Point"]
    _layer(zones, _("Hazard zones (%(n)s)", n=len(zones))).add_to(m)
    _layer(
        points,
        _("Hazard points (%(n)s)", n=len(points)),
        marker=folium.CircleMarker(radius=8, weight=2, fill=True, fill_opacity=0.8),
    ).add_to(m)
    entries = [
        (f"background:{SEVERITY_COLORS[level]}; border:1px solid #555", _(SEVERITY_NAMES[level]))
        for level in (4, 3, 2, 1)
    ]
    Legend(_("Hazard severity"), entries).add_to(m)
    # Drawing a new zone only; its attributes are asked for beside the map.
    polygon_drawing(m)
    Fullscreen(title=_("Full screen"), title_cancel=_("Leave full screen")).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return render(m), m.get_name()


@bp.get("/map/hazards")
@roles_required("admin", "leader", "planner")
def hazards_map_page():
    data: HazardMapData = hazard_map_data(db.session, current_scope())
    features = [_labelled(f) for f in data.features]
    parts, map_name = hazard_map(features, data.bounds)
    return render_template(
        "hazards.html",
        parts=parts,
        map_name=map_name,
        hazards=[f["properties"] for f in features],
        classes=[(c, _(CLASS_NAMES[c])) for c in HAZARD_CLASSES],
        severities=[(level, _(SEVERITY_NAMES[level])) for level in (4, 3, 2, 1)],
        max_buffer=MAX_BUFFER_M,
    )
