"""Security headers through the test client: every HTML, JSON, XML, tile, file and error response
carries the Content-Security-Policy and the other headers; scripts run only from our origin or
with the request's nonce; pages carry no inline event handler; and the sources that build HTML
keep names as text (Folium tooltips and popups, scripts, templates)."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import folium
import pytest

from app import security_headers
from app.security_headers import policy, tile_sources
from app.services.assignment import assign_all
from app.web import folium_kit
from tests.conftest import login
from tests.factories import (
    STEP,
    X0,
    Y0,
    add_category,
    add_hazard,
    add_households,
    add_incident,
    add_site,
    add_user,
    build_world,
)

ROOT = Path(__file__).resolve().parents[2]
FIXED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
REQUIRED_DIRECTIVES = {
    "default-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "connect-src": "'self'",
    "script-src-attr": "'none'",
}
PAGES = ["/", "/map/coverage", "/map/coverage?level=grid", "/map/incidents?view=heat",
         "/map/incidents?view=weekly", "/map/incidents?view=rate", "/map/hazards",
         "/map/reconstruction", "/planner", "/dashboard", "/incidents", "/incidents/new",
         "/incidents/{incident}", "/worker", "/worker?user={worker}", "/sites/{site}",
         "/api/v1/docs"]  # fmt: skip
PUBLIC_PAGES = ["/login", "/public/report", "/public/report/{incident}", "/public/sites"]
OTHER = {
    "/api/v1/openapi.json": "application/json",
    "/api/v1/areas?level=grid": "application/json",
    "/api/v1/locate?lon=105.965&lat=31.585": "application/json",
    "/api/v1/areas/999999999": "application/json",  # 404 envelope
    "/api/v1/incidents/not-a-number": None,  # 404
    "/ogc/collections": "application/json",
    "/open311/v2/services.json": "application/json",
    "/open311/v2/services.xml": "text/xml",
    "/public/sites.json": "application/json",
    "/tiles/grids/14/13209/6666.pbf": None,
    "/static/js/html.js": None,
    "/no-such-page": None,  # 404
    "/dashboard.csv": "text/csv",
}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)([^>]*)>", re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


@pytest.fixture
def world(session):
    world = build_world(session)
    add_households(session, [(X0 + 0.003, Y0 + STEP + 0.003)])
    road = add_category(session, "road", "道路破损")
    incident = add_incident(session, world, "NW", road, status="dispatched", channel="web")
    add_hazard(session)
    site = add_site(session)
    add_user(session, "admin", "admin")
    worker = add_user(session, "wang", "worker", grids=[world.grids["NW"]])
    session.flush()
    values = {"incident": incident.id, "site": site.id, "worker": worker.id}
    assign_all(session)  # commits
    return values


def directives(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    pairs = (d.strip().split(" ", 1) for d in header.split(";") if d.strip())
    return {name: value for name, value in pairs}


def check_headers(response, path: str) -> dict[str, str]:
    for name, value in FIXED.items():
        assert response.headers.get(name) == value, (path, name)
    csp = directives(response)
    for name, value in REQUIRED_DIRECTIVES.items():
        assert csp.get(name) == value, (path, name, csp.get(name))
    assert "'unsafe-inline'" not in csp["script-src"], path
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"], path
    assert csp["script-src"].split()[0] == "'self'", path
    return csp


def test_every_page_carries_the_headers_and_nonces_its_inline_scripts(client, world):
    login(client, "admin")
    nonces = set()
    for path in [p.format(**world) for p in PAGES]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "text/html", path
        csp = check_headers(response, path)
        html = response.get_data(as_text=True)
        assert not EVENT_HANDLER.search(html), (path, EVENT_HANDLER.search(html))
        inline = INLINE_SCRIPT.findall(html)
        if inline:
            nonce = re.search(r"'nonce-([\w-]+)'", csp["script-src"]).group(1)
            assert all(f'nonce="{nonce}"' in attributes for attributes in inline), path
            nonces.add(nonce)
        else:
            assert "'nonce-" not in csp["script-src"], path
    assert len(nonces) > 5  # one per page that has inline script, never reused


def test_public_pages_carry_the_headers(client, world):
    for path in [p.format(**world) for p in PUBLIC_PAGES]:
        response = client.get(path)
        assert response.status_code == 200, path
        check_headers(response, path)
        html = response.get_data(as_text=True)
        assert not EVENT_HANDLER.search(html), path
        assert all("nonce=" in a for a in INLINE_SCRIPT.findall(html)), path


def test_json_files_tiles_and_errors_carry_the_headers(client, world):
    login(client, "admin")
    for path, mimetype in OTHER.items():
        response = client.get(path)
        if mimetype:
            assert response.mimetype == mimetype, (path, response.status_code)
        check_headers(response, path)
    assert client.get("/no-such-page").status_code == 404
    response = client.get("/api/v1/areas/999999999")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_anonymous_json_and_refusals_carry_the_headers(client, world):
    response = client.get("/api/v1/areas")
    assert response.status_code == 401
    check_headers(response, "/api/v1/areas (anonymous)")
    response = client.post("/public/report", data={}, headers={"Accept": "application/json"})
    assert response.status_code == 400  # no CSRF token
    check_headers(response, "/public/report (no CSRF token)")


# --- the policy's images: the basemap's tile host ------------------------------------------


@pytest.mark.parametrize(
    ("tiles", "sources"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", ["https://tile.openstreetmap.org"]),
        ("https://{s}.tile.osm.example:8443/{z}/{x}/{y}.png", ["https://*.tile.osm.example:8443"]),
        ("http://t{s}.tianditu.gov.cn/vec_w/wmts?tk=K&TILECOL={x}", ["http://*.tianditu.gov.cn"]),
        ("none", []),
        ("/basemap/{z}/{x}/{y}.png", []),
        ("https://{s}.example/{z}.png", []),  # a wildcard over a whole domain: refused
    ],
)
def test_images_may_come_from_the_tile_host(tiles, sources):
    assert tile_sources(tiles) == sources
    images = next(d for d in policy(tiles, None).split("; ") if d.startswith("img-src"))
    assert images == " ".join(["img-src 'self' data: blob:", *sources])


def test_the_configured_tile_host_is_allowed(app, client, world):
    images = directives(client.get("/login"))["img-src"].split()
    assert images[:3] == ["'self'", "data:", "blob:"]
    assert images[3:] == tile_sources(app.config["WANGGE_TILES"])


# --- the sources that build HTML keep names as text ----------------------------------------


def test_folium_maps_show_properties_as_text_only_through_our_tooltip_and_popup():
    """Folium's GeoJsonTooltip/GeoJsonPopup, Tooltip and Popup put strings into innerHTML."""
    offenders = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        text = path.read_text()
        for match in re.finditer(r"folium\.(GeoJsonTooltip|GeoJsonPopup|Tooltip|Popup)\(", text):
            if path.name != "folium_kit.py":
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert offenders == []


def test_scripts_never_hand_markup_built_from_strings_to_the_page():
    """No innerHTML and its kin in our scripts; Leaflet's tooltips, popups and setContent
    (which treat a string as HTML) get a node or escapeHtml(...), never a template string,
    a string literal or a translated message with data in it."""
    offenders = []
    leaflet_html = re.compile(r"\.(bindTooltip|bindPopup|setContent)\(\s*(`|\"|'|_\()")
    sinks = re.compile(r"\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write")
    for path in sorted((ROOT / "static/js").glob("*.js")):
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            if sinks.search(line) or leaflet_html.search(line):
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert offenders == []


def test_templates_have_no_inline_handler_and_no_script_without_the_nonce():
    offenders = []
    for path in sorted((ROOT / "app/templates").glob("*.html")):
        text = path.read_text()
        offenders += [f"{path.name}: {m.group(0)}" for m in EVENT_HANDLER.finditer(text)]
        for match in INLINE_SCRIPT.finditer(text):
            if "nonce=" not in match.group(1):
                offenders.append(f"{path.name}: {match.group(0)}")
        offenders += [f"{path.name}: |safe" for m in re.finditer(r"\|\s*safe\b", text)]
    assert offenders == []


def test_docstring_examples_hold():
    for module in (security_headers, folium_kit):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_a_folium_map_holds_names_as_data_and_shows_them_as_text(app):
    name = '<img src=x onerror="alert(1)">'
    feature = {
        "type": "Feature",
        "properties": {"name": name},
        "geometry": {"type": "Point", "coordinates": [X0, Y0]},
    }
    with app.test_request_context("/"):
        m = folium_kit.new_map(None, location=[Y0, X0])
        folium.GeoJson(
            {"type": "FeatureCollection", "features": [feature]},
            tooltip=folium_kit.TextTooltip(["name"], aliases=[name]),
            popup=folium_kit.TextPopup(["name"], aliases=[name]),
        ).add_to(m)
        folium_kit.Legend(name, [("background:#fff", name)]).add_to(m)
        parts = folium_kit.render(m)
    assert "<img" not in parts.html and "&lt;img src=x" in parts.html  # the legend
    assert "<img" not in parts.script  # the data and the aliases, JSON-escaped
    assert "innerHTML" not in parts.script and parts.script.count("textContent") == 4
    assert "bindTooltip(" in parts.script and "bindPopup(" in parts.script
