"""The reconstruction map (/map/reconstruction) and a site's page (/sites/<id>).

The map and the list carry no contact details; a site's page shows the contact person
masked for the roles that do not need it, as the API does.
"""

from __future__ import annotations

from datetime import date

import folium
from flask import current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from folium.plugins import Fullscreen
from markupsafe import Markup, escape

from app.auth import current_scope
from app.errors import BadRequest
from app.extensions import db
from app.i18n import N_
from app.models.hazards import SITE_TYPES
from app.services import sites as service
from app.web import bp
from app.web.folium_kit import Legend, MapParts, TextPopup, TextTooltip, new_map, render

POPUP_FIELDS = (
    ["name", "type_label", "owner", "status_label", "actual", "planned"],
    [
        N_("Project"),
        N_("Type"),
        N_("Owner"),
        N_("Status"),
        N_("Actual progress"),
        N_("Planned progress"),
    ],
)
# The API's labels are Chinese data; pages name colours and types in the chosen language.
COLOUR_NAMES = {"green": N_("On schedule"), "yellow": N_("Lagging"), "red": N_("At risk")}
TYPE_NAMES = {
    "housing": N_("Resettlement housing"),
    "road": N_("Roads and bridges"),
    "school": N_("School"),
    "public_facility": N_("Public facility"),
}
# Langzhong, for a map without sites.
DEFAULT_CENTRE = (31.58, 105.97)
REPORTERS = ("admin", "leader", "planner", "worker")


def _thresholds() -> service.Thresholds:
    return service.Thresholds.from_config(current_app.config)


def _style(feature: dict) -> dict:
    color = feature["properties"]["color"]
    return {"color": color, "weight": 2, "fillColor": color, "fillOpacity": 0.45}


def colour_name(colour: str) -> str:
    """A status colour's name in the chosen language."""
    return _(COLOUR_NAMES[colour])


def type_name(site_type: str) -> str:
    """A site type's name in the chosen language."""
    return _(TYPE_NAMES[site_type])


def _percent(value: float) -> str:
    return f"{value:g}"


def status_reasons(status: dict, thresholds: service.Thresholds) -> list[str]:
    """Why a site has its colour, in the chosen language (the API's ``reasons`` are Chinese).

    The same rule as ``services.sites.site_status``, read back from the status it returned.
    """
    planned, actual = _percent(status["planned_percent"]), _percent(status["actual_percent"])
    if status["colour"] == "green":
        return [_("On schedule (planned %(planned)s%%, actual %(actual)s%%)", planned=planned, actual=actual)]  # fmt: skip
    reasons = []
    if status["behind_points"] > thresholds.yellow_points:
        reasons.append(
            _(
                "%(points)s percentage points behind plan (planned %(planned)s%%, actual %(actual)s%%)",
                points=_percent(status["behind_points"]),
                planned=planned,
                actual=actual,
            )
        )
    reasons += [
        ngettext(
            "Milestone “%(name)s” is %(num)d day late",
            "Milestone “%(name)s” is %(num)d days late",
            m["days_late"],
            name=m["name"],
        )
        for m in status["late_milestones"]
    ]
    return reasons


def _popup_ready(features: list[dict]) -> list[dict]:
    for f in features:
        props = f["properties"]
        props["status_label"] = colour_name(props["status"]["colour"])
        props["type_label"] = type_name(props["site_type"])
        props["actual"] = f"{props['status']['actual_percent']:g}%"
        props["planned"] = f"{props['status']['planned_percent']:g}%"
        props.pop("status")  # nested values do not belong in a Leaflet popup
    return features


def _layer(features: list[dict], name: str, **kwargs) -> folium.GeoJson:
    fields, aliases = POPUP_FIELDS
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        style_function=_style,
        popup=TextPopup(fields, aliases=[_(a) for a in aliases]) if features else None,
        tooltip=TextTooltip(["name"], aliases=[_("Project")]) if features else None,
        **kwargs,
    )


def _bounds(features: list[dict]) -> tuple[float, float, float, float] | None:
    if not features:
        return None
    lons = [f["properties"]["lon"] for f in features]
    lats = [f["properties"]["lat"] for f in features]
    pad = 0.005
    return min(lons) - pad, min(lats) - pad, max(lons) + pad, max(lats) + pad


def site_map(features: list[dict]) -> MapParts:
    bounds = _bounds(features)
    extra = {} if bounds else {"location": DEFAULT_CENTRE, "zoom_start": 11}
    m = new_map(bounds, **extra)
    features = _popup_ready([dict(f, properties=dict(f["properties"])) for f in features])
    zones = [f for f in features if f["geometry"]["type"] != "Point"]
    points = [f for f in features if f["geometry"]["type"] == "Point"]
    _layer(zones, _("Project land (%(n)s)", n=len(zones))).add_to(m)
    _layer(
        points,
        _("Project points (%(n)s)", n=len(points)),
        marker=folium.CircleMarker(radius=8, weight=2, fill=True, fill_opacity=0.85),
    ).add_to(m)
    entries = [
        (f"background:{service.COLOUR_HEX[c]}; border:1px solid #555", colour_name(c))
        for c in service.COLOURS
    ]
    Legend(_("Project status"), entries).add_to(m)
    Fullscreen(title=_("Full screen"), title_cancel=_("Leave full screen")).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return render(m)


def _page_filters() -> dict[str, str]:
    """The list's filters from the query string (empty values dropped)."""
    args = {k: v for k, v in request.args.items() if v}
    if set(args) - {"type", "status"}:
        raise BadRequest("This page filters by type and status only.")
    return args


@bp.get("/map/reconstruction")
def reconstruction_map_page():
    filters = _page_filters()
    data = service.site_map_data(db.session, filters, _thresholds(), current_scope())
    return render_template(
        "reconstruction.html",
        parts=site_map(data["features"]),
        sites=[f["properties"] for f in data["features"]],
        counts=data["counts"],
        filters=filters,
        types=[(t, type_name(t)) for t in SITE_TYPES],
        colours=colour_choices(),
        type_names=TYPE_NAMES,
        colour_names=COLOUR_NAMES,
    )


def colour_choices() -> list[tuple[str, str, str]]:
    """(colour, its name in the chosen language, its hex) in the order green, yellow, red."""
    return [(c, colour_name(c), service.COLOUR_HEX[c]) for c in service.COLOURS]


# --- the progress chart: a small inline SVG ---------------------------------------------------

WIDTH, HEIGHT, PAD = 560, 220, 36


def _point_title(day: date, percent: float) -> str:
    value = f"{percent:g}%"
    return _("%(day)s: %(percent)s", day=day.isoformat(), percent=value)


def progress_chart(site: dict, on: date) -> Markup:
    """Planned (dashed line) against reported progress (points), with today marked."""
    props = site["properties"]
    start = date.fromisoformat(props["planned_start"])
    end = date.fromisoformat(props["planned_end"])
    reports = [(date.fromisoformat(p["reported_on"]), p["percent"]) for p in site["progress"]]
    days = [d for d, _percent in reports]
    first = min([start, on, *days])
    last = max([end, on, *days])
    label = escape(_("Progress curve: planned and actual"))
    today_label = escape(_("Today"))
    span = max(1, (last - first).days)

    def x(day: date) -> float:
        return round(PAD + (WIDTH - 2 * PAD) * (day - first).days / span, 1)

    def y(percent: float) -> float:
        return round(HEIGHT - PAD - (HEIGHT - 2 * PAD) * percent / 100, 1)

    parts = [
        f'<svg class="progress-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{label}">'
    ]
    for pct in (0, 50, 100):
        parts.append(
            f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y(pct)}" y2="{y(pct)}" class="grid"/>'
            f'<text x="{PAD - 4}" y="{y(pct) + 4}" text-anchor="end">{pct}%</text>'
        )
    parts.append(
        f'<polyline class="planned" points="{x(first)},{y(0)} {x(start)},{y(0)} '
        f'{x(end)},{y(100)} {x(last)},{y(100)}"/>'
    )
    if reports:
        line = " ".join(f"{x(d)},{y(p)}" for d, p in reports)
        parts.append(f'<polyline class="actual" points="{line}"/>')
        parts += [
            f'<circle class="actual" cx="{x(d)}" cy="{y(p)}" r="3.5">'
            f"<title>{escape(_point_title(d, p))}</title></circle>"
            for d, p in reports
        ]
    parts.append(
        f'<line class="today" x1="{x(on)}" x2="{x(on)}" y1="{PAD - 8}" y2="{HEIGHT - PAD}"/>'
        f'<text x="{x(on)}" y="{PAD - 12}" text-anchor="middle">{today_label}</text>'
        f'<text x="{x(first)}" y="{HEIGHT - 12}">{escape(first.isoformat())}</text>'
        f'<text x="{x(last)}" y="{HEIGHT - 12}" text-anchor="end">{escape(last.isoformat())}</text>'
        "</svg>"
    )
    return Markup("".join(parts))


@bp.get("/sites/<int4:site_id>")
def site_page(site_id: int):
    site = service.get_site(db.session, current_scope(), site_id, _thresholds())
    props = site["properties"]
    return render_template(
        "reconstruction_site.html",
        site=site,
        props=props,
        status_name=colour_name(props["status"]["colour"]),
        type_label=type_name(props["site_type"]),
        reasons=status_reasons(props["status"], _thresholds()),
        chart=progress_chart(site, service.today()),
        today=service.today().isoformat(),
        can_report=current_user.role in REPORTERS
        and service.may_report(db.session, current_scope(), site_id),
        max_photos=current_app.config["WANGGE_MAX_PHOTOS"],
        max_photo_mb=current_app.config["WANGGE_MAX_PHOTO_MB"],
    )
