"""The coverage map: grids classed by households, communities, gaps in staffing and coverage."""

from __future__ import annotations

import folium
from folium.plugins import Fullscreen

from app.services.coverage_map import CoverageMapData
from app.web.folium_kit import Legend, MapParts, classify, new_map, render

NO_WORKER = "#7b3294"
UNCOVERED = "#111111"


def coverage_map(data: CoverageMapData) -> MapParts:
    m = new_map(data.bounds)
    counts = [f["properties"]["households"] for f in data.grids]
    classes = classify(counts)
    grids = {"type": "FeatureCollection", "features": data.grids}

    folium.GeoJson(
        grids,
        name="网格（按住户数）",
        style_function=lambda f: {
            "fillColor": classes.color(f["properties"]["households"]),
            "fillOpacity": 0.65,
            "color": "#555",
            "weight": 1,
        },
        highlight_function=lambda f: {"weight": 3, "color": "#000"},
        # Folium refuses tooltip fields on an empty layer, hence the conditions.
        tooltip=folium.GeoJsonTooltip(["name", "households"], aliases=["网格", "住户"])
        if data.grids
        else None,
        popup=folium.GeoJsonPopup(
            ["code", "name", "community", "workers", "households"],
            aliases=["编码", "名称", "社区", "网格员", "住户数"],
        )
        if data.grids
        else None,
    ).add_to(m)

    folium.GeoJson(
        {"type": "FeatureCollection", "features": data.communities},
        name="社区边界",
        style_function=lambda f: {"fill": False, "color": "#1f4e79", "weight": 2.5},
        tooltip=folium.GeoJsonTooltip(["name"], aliases=["社区"]) if data.communities else None,
    ).add_to(m)

    folium.GeoJson(
        {"type": "FeatureCollection", "features": data.grids_without_worker},
        name=f"无网格员网格（{len(data.grids_without_worker)}）",
        style_function=lambda f: {
            "fill": False,  # an outline only: clicks reach the grid underneath
            "color": NO_WORKER,
            "weight": 3,
            "dashArray": "6 4",
        },
        tooltip=folium.GeoJsonTooltip(["name"], aliases=["无网格员"])
        if data.grids_without_worker
        else None,
    ).add_to(m)

    if data.uncovered:
        folium.GeoJson(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "Point", "coordinates": [x, y]},
                    }
                    for x, y in data.uncovered
                ],
            },
            name=f"未入格住户（{data.uncovered_total}）",
            marker=folium.CircleMarker(radius=3, color=UNCOVERED, fill=True, fill_opacity=0.8),
        ).add_to(m)

    minimum = min(counts) if counts else 0
    entries = [
        (f"background:{color}; border:1px solid #555", label)
        for color, label in zip(classes.colors, classes.labels(minimum))
    ]
    entries.append((f"border:3px dashed {NO_WORKER}", "无网格员"))
    entries.append((f"background:{UNCOVERED}; border-radius:50%", "未入格住户"))
    Legend("每网格住户数", entries).add_to(m)
    Fullscreen(title="全屏", title_cancel="退出全屏").add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return render(m)
