"""The reconstruction map (/map/reconstruction) and a site's page (/sites/<id>).

The map and the list carry no contact details; a site's page shows the contact person
masked for the roles that do not need it, as the API does.
"""

from __future__ import annotations

from datetime import date

import folium
from flask import current_app, render_template, request
from flask_login import current_user
from folium.plugins import Fullscreen
from markupsafe import Markup, escape

from app.auth import current_scope
from app.errors import BadRequest
from app.extensions import db
from app.models.hazards import SITE_TYPES
from app.services import sites as service
from app.web import bp
from app.web.folium_kit import Legend, MapParts, new_map, render

POPUP_FIELDS = (
    ["name", "type_label", "owner", "status_label", "actual", "planned"],
    ["项目", "类型", "建设单位", "状态", "实际进度", "计划进度"],
)
# Langzhong, for a map without sites.
DEFAULT_CENTRE = (31.58, 105.97)
REPORTERS = ("admin", "leader", "planner", "worker")


def _thresholds() -> service.Thresholds:
    return service.Thresholds.from_config(current_app.config)


def _style(feature: dict) -> dict:
    color = feature["properties"]["color"]
    return {"color": color, "weight": 2, "fillColor": color, "fillOpacity": 0.45}


def _popup_ready(features: list[dict]) -> list[dict]:
    for f in features:
        props = f["properties"]
        props["status_label"] = props["status"]["label"]
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
        popup=folium.GeoJsonPopup(fields, aliases=aliases) if features else None,
        tooltip=folium.GeoJsonTooltip(["name"], aliases=["项目"]) if features else None,
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
    _layer(zones, f"项目用地（{len(zones)}）").add_to(m)
    _layer(
        points,
        f"项目点位（{len(points)}）",
        marker=folium.CircleMarker(radius=8, weight=2, fill=True, fill_opacity=0.85),
    ).add_to(m)
    entries = [
        (f"background:{service.COLOUR_HEX[c]}; border:1px solid #555", service.COLOUR_LABELS[c])
        for c in service.COLOURS
    ]
    Legend("项目状态", entries).add_to(m)
    Fullscreen(title="全屏", title_cancel="退出全屏").add_to(m)
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
    data = service.site_map_data(db.session, filters, _thresholds())
    return render_template(
        "reconstruction.html",
        parts=site_map(data["features"]),
        sites=[f["properties"] for f in data["features"]],
        counts=data["counts"],
        filters=filters,
        types=[(t, service.TYPE_LABELS[t]) for t in SITE_TYPES],
        colours=[(c, service.COLOUR_LABELS[c], service.COLOUR_HEX[c]) for c in service.COLOURS],
    )


# --- the progress chart: a small inline SVG ---------------------------------------------------

WIDTH, HEIGHT, PAD = 560, 220, 36


def progress_chart(site: dict, on: date) -> Markup:
    """Planned (dashed line) against reported progress (points), with today marked."""
    props = site["properties"]
    start = date.fromisoformat(props["planned_start"])
    end = date.fromisoformat(props["planned_end"])
    reports = [(date.fromisoformat(p["reported_on"]), p["percent"]) for p in site["progress"]]
    first = min([start, on] + [d for d, _ in reports])
    last = max([end, on] + [d for d, _ in reports])
    span = max(1, (last - first).days)

    def x(day: date) -> float:
        return round(PAD + (WIDTH - 2 * PAD) * (day - first).days / span, 1)

    def y(percent: float) -> float:
        return round(HEIGHT - PAD - (HEIGHT - 2 * PAD) * percent / 100, 1)

    parts = [
        f'<svg class="progress-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="进度曲线：计划与实际">'
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
            f"<title>{d.isoformat()}：{p:g}%</title></circle>"
            for d, p in reports
        ]
    parts.append(
        f'<line class="today" x1="{x(on)}" x2="{x(on)}" y1="{PAD - 8}" y2="{HEIGHT - PAD}"/>'
        f'<text x="{x(on)}" y="{PAD - 12}" text-anchor="middle">今天</text>'
        f'<text x="{x(first)}" y="{HEIGHT - 12}">{escape(first.isoformat())}</text>'
        f'<text x="{x(last)}" y="{HEIGHT - 12}" text-anchor="end">{escape(last.isoformat())}</text>'
        "</svg>"
    )
    return Markup("".join(parts))


@bp.get("/sites/<int:site_id>")
def site_page(site_id: int):
    site = service.get_site(db.session, current_scope(), site_id, _thresholds())
    return render_template(
        "reconstruction_site.html",
        site=site,
        props=site["properties"],
        chart=progress_chart(site, service.today()),
        today=service.today().isoformat(),
        can_report=current_user.role in REPORTERS,
        max_photos=current_app.config["WANGGE_MAX_PHOTOS"],
        max_photo_mb=current_app.config["WANGGE_MAX_PHOTO_MB"],
    )
