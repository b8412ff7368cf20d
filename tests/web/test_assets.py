"""Maps load every script, stylesheet, font and image from static/, never from a CDN.

Pure: no database and no Flask app, but static/vendor/ must have been installed by
scripts/provision-assets.sh (the Makefile's set-up does it).
"""

from __future__ import annotations

import re
from pathlib import Path

import branca.colormap
import folium
import folium.plugins
import pytest

from app.web.assets import LOCAL_ASSETS, ExternalAssetError, external_urls, self_host

STATIC = Path(__file__).resolve().parents[2] / "static"
LANGZHONG = (31.558, 105.975)


def static_url(path: str) -> str:
    return "/static/" + path


def busy_map() -> folium.Map:
    """A map with every kind of element Wangge's pages use."""
    m = folium.Map(location=LANGZHONG, zoom_start=13)
    lat, lon = LANGZHONG
    points = [[lat + i * 0.001, lon + i * 0.001, 1.0 + i] for i in range(5)]
    folium.plugins.HeatMap(points, name="incidents").add_to(m)
    cluster = folium.plugins.MarkerCluster(name="households").add_to(m)
    folium.Marker(LANGZHONG, icon=folium.Icon(icon="house", prefix="fa", angle=30)).add_to(cluster)
    folium.Marker(LANGZHONG, icon=folium.Icon(icon="info-sign")).add_to(cluster)
    folium.plugins.Draw(export=False).add_to(m)
    if hasattr(folium.plugins, "GeoMan"):
        folium.plugins.GeoMan().add_to(m)
    folium.plugins.HeatMapWithTime(
        [[p[:2] for p in points], [p[:2] for p in points[2:]]],
        index=["2024-01", "2024-02"],
        name="incidents by month",
    ).add_to(m)
    grid = {
        "type": "Feature",
        "properties": {"code": "511381001001001", "households": 120},
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [
                    [lon, lat],
                    [lon + 0.01, lat],
                    [lon + 0.01, lat + 0.01],
                    [lon, lat + 0.01],
                    [lon, lat],
                ]
            ],
        },
    }
    folium.GeoJson(
        {"type": "FeatureCollection", "features": [grid]},
        name="grids",
        tooltip=folium.GeoJsonTooltip(fields=["code", "households"]),
    ).add_to(m)
    folium.plugins.VectorGridProtobuf("/tiles/grids/{z}/{x}/{y}.pbf", "grid tiles").add_to(m)
    folium.plugins.Fullscreen().add_to(m)
    folium.plugins.LocateControl().add_to(m)
    branca.colormap.LinearColormap(
        ["#1a9850", "#fee08b", "#d73027"],
        vmin=0,
        vmax=100,
        caption="households per grid",
    ).add_to(m)
    folium.LayerControl().add_to(m)
    return m


@pytest.fixture(scope="module")
def html() -> str:
    m = busy_map()
    self_host(m, static_url)
    return m.get_root().render()


def referenced_static_files(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="/static/([^"]+)"', html)


def css_references(css: Path) -> list[str]:
    """The files a stylesheet loads: url(...) and @import targets, without data: URIs."""
    refs = re.findall(
        r"""url\(\s*['"]?([^'")]+?)['"]?\s*\)|@import\s+['"]([^'"]+)""", css.read_text()
    )
    found = [a or b for a, b in refs]
    return [ref for ref in found if not ref.startswith(("data:", "#", "%23"))]


def test_self_hosted_map_loads_nothing_external(html):
    assert external_urls(html) == []


def test_self_hosted_map_keeps_its_basemap(html):
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in html


def test_every_referenced_static_file_exists(html):
    referenced = referenced_static_files(html)
    assert "vendor/leaflet/leaflet.js" in referenced
    assert "vendor/folium/leaflet_heat.min.js" in referenced
    assert "vendor/d3/d3.min.js" in referenced  # added by the colormap while rendering
    missing = [path for path in referenced if not (STATIC / path).is_file()]
    assert missing == [], f"missing under {STATIC} (run scripts/provision-assets.sh): {missing}"


def test_every_local_asset_exists():
    missing = [path for path in sorted(set(LOCAL_ASSETS.values())) if not (STATIC / path).is_file()]
    assert missing == [], f"missing under {STATIC} (run scripts/provision-assets.sh): {missing}"


def test_stylesheets_load_only_local_files():
    problems = []
    for path in sorted(set(LOCAL_ASSETS.values())):
        css = STATIC / path
        if css.suffix != ".css" or not css.is_file():
            continue
        for ref in css_references(css):
            target = ref.split("?")[0].split("#")[0]
            if ref.startswith(("http:", "https:", "//")):
                problems.append(f"{path} loads {ref}")
            elif not (css.parent / target).is_file():
                problems.append(f"{path} refers to missing {ref}")
    assert problems == []


def test_unmapped_plugin_is_refused():
    m = folium.Map(location=LANGZHONG)
    folium.plugins.MiniMap().add_to(m)
    with pytest.raises(ExternalAssetError, match=r"MiniMap links https://\S+Control\.MiniMap\.js"):
        self_host(m, static_url)


def test_plugin_added_after_self_host_is_localized_or_refused():
    m = folium.Map(location=LANGZHONG)
    self_host(m, static_url)
    folium.plugins.Fullscreen().add_to(m)
    html = m.get_root().render()
    assert "/static/vendor/leaflet.fullscreen/Control.FullScreen.js" in html
    assert external_urls(html) == []

    m = folium.Map(location=LANGZHONG)
    self_host(m, static_url)
    folium.plugins.MiniMap().add_to(m)
    with pytest.raises(ExternalAssetError, match="Control.MiniMap"):
        m.get_root().render()


def test_self_host_changes_only_the_given_map():
    self_host(busy_map(), static_url)
    html = folium.Map(location=LANGZHONG).get_root().render()
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in external_urls(html)


def test_external_urls_finds_links_and_styles_but_not_script_data():
    page = """<html><head>
    <script src="https://cdn.example.org/a.js"></script>
    <script src="/static/vendor/b.js"></script>
    <link rel="stylesheet" href="//cdn.example.org/c.css"/>
    <style>@import "https://fonts.example.org/d.css"; .x { background: url('/static/e.png') }</style>
    </head><body><script>L.tileLayer("https://tile.example.org/{z}/{x}/{y}.png")</script></body></html>"""
    assert external_urls(page) == [
        "https://cdn.example.org/a.js",
        "//cdn.example.org/c.css",
        "https://fonts.example.org/d.css",
    ]
    assert external_urls("") == []
