"""HTTP as clients read it: downloads named through one RFC 6266 function that no value can
break, WWW-Authenticate on every 401, Allow on every 405, If-Match: *, and exactly one
charset on every text response."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from shapely.geometry import box, mapping
from werkzeug.datastructures import Headers
from werkzeug.http import parse_options_header

from app.headers import attachment
from tests.conftest import csrf_token, login
from tests.factories import STEP, X0, Y0, add_user, build_world

C = "511381001001"
NW = f"{C}001"

HOSTILE_NAMES = [
    "a\r\nSet-Cookie: x=1.csv",
    'a"; filename="evil.exe',
    "a;b=c.csv",
    "网格导出.xlsx",
    "ǅ😀\u2028\u0085.geojson",
    "nul\x00byte.csv",
    "\ud800lone-surrogate.csv",
    "../../etc/passwd",
    "",
    "   ",
    "tab\there.kml",
    "percent%20and'quote.csv",
]


def parsed_filename(value: str) -> str:
    """The file name an RFC 6266 parser reads from a header value (filename* preferred)."""
    disposition, options = parse_options_header(value)
    assert disposition == "attachment" and set(options) == {"filename"}, options
    return options["filename"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_attachment_is_one_safe_header_value_for_any_name(name):
    value = attachment(name)
    Headers().add("Content-Disposition", value)  # werkzeug refuses newlines: this must not raise
    value.encode("ascii")  # nothing outside ASCII: latin-1 servers cannot choke on it
    assert value.startswith('attachment; filename="')
    # Exactly the two parameters we wrote, whatever the name held.
    fallback = value.split('filename="', 1)[1].split('"', 1)[0]
    rest = value.split(f'filename="{fallback}"', 1)[1]
    assert rest == "" or (rest.startswith("; filename*=UTF-8''") and ";" not in rest[2:])
    assert all(ch.isalnum() or ch in "._-" for ch in fallback) and fallback
    read = parsed_filename(value)
    assert "\r" not in read and "\n" not in read and "/" not in read and "\x00" not in read


def test_attachment_keeps_a_non_ascii_name_exactly_in_filename_star():
    value = attachment("朗中市-网格 (2026).xlsx")
    assert value == (
        'attachment; filename="2026.xlsx"; '
        "filename*=UTF-8''" + quote("朗中市-网格 (2026).xlsx", safe="")
    )
    assert parsed_filename(value) == "朗中市-网格 (2026).xlsx"
    assert attachment("door-knock-7.xlsx") == 'attachment; filename="door-knock-7.xlsx"'


@pytest.fixture
def world(session, client):
    world = build_world(session)
    add_user(session, "planner", "planner")
    add_user(session, "leader", "leader")
    session.commit()
    return world


@pytest.mark.parametrize(
    "parent",
    [f"{C}\r\nX-Evil: 1", f'{C}"; filename="evil.exe', "网格", "\u2028", C + "%0d%0a"],
)
def test_a_hostile_export_parent_never_breaks_the_header(client, world, parent):
    login(client, "planner")
    response = client.get("/api/v1/areas/export", query_string={"format": "csv", "parent": parent})
    assert response.status_code in (200, 400, 404, 422), response.get_data(as_text=True)[:300]
    assert "X-Evil" not in response.headers
    if response.status_code == 200:
        disposition = response.headers["Content-Disposition"]
        assert disposition.count("filename=") == 1 and disposition.count("filename*=") <= 1
        # The quote and semicolon stay inside the name: no parameter of their own.
        assert disposition.count('"') == 2 and disposition.count(";") <= 2


def test_the_areas_export_names_its_file_with_the_parent(client, world):
    login(client, "planner")
    response = client.get("/api/v1/areas/export", query_string={"format": "csv", "parent": C})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="{C}-grid.csv"'


def test_dashboard_downloads_use_the_same_header(client, world):
    login(client, "leader")
    for suffix in ("csv", "xlsx"):
        response = client.get(f"/dashboard.{suffix}?from=2026-06-01&to=2026-06-30")
        assert response.status_code == 200
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="dashboard-street-2026-06-01-2026-06-30.{suffix}"'
        )


# --- 401 and 405 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/api/v1/areas", "/api/v1/locate?lon=1&lat=2", "/ogc/collections", "/tiles/grids/14/1/1.pbf"],
)
def test_every_401_says_how_to_authenticate(client, world, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="wangge"'


def test_a_failed_login_page_401_carries_a_challenge_too(client, world):
    response = client.post(
        "/login",
        data={"username": "planner", "password": "wrong-one", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/locate", {"GET", "HEAD", "OPTIONS"}),
        ("DELETE", "/api/v1/areas", {"GET", "HEAD", "OPTIONS", "POST"}),
        ("PUT", "/open311/v2/requests.json", {"GET", "HEAD", "OPTIONS", "POST"}),
        ("POST", "/dashboard", {"GET", "HEAD", "OPTIONS"}),
        ("GET", "/logout", {"OPTIONS", "POST"}),
    ],
)
def test_every_405_lists_the_allowed_methods(client, world, method, path, allowed):
    login(client, "planner")
    response = client.open(path, method=method, headers={"X-CSRFToken": csrf_token(client, "/")})
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == allowed


def test_an_api_405_keeps_the_json_envelope(client, world):
    login(client, "planner")
    response = client.put("/api/v1/locate", headers={"X-CSRFToken": csrf_token(client, "/")})
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"


# --- If-Match: * ----------------------------------------------------------------------------


def test_if_match_star_matches_whatever_version_is_current(client, session, world):
    login(client, "planner")
    token = csrf_token(client, "/")

    def patch(name: str, if_match: str | None):
        headers = {"X-CSRFToken": token} | ({"If-Match": if_match} if if_match else {})
        body = {"name": name, "geometry": mapping(box(X0, Y0 + STEP, X0 + STEP, Y0 + 2 * STEP))}
        return client.patch(f"/api/v1/areas/{NW}", json=body, headers=headers)

    assert patch("一", None).status_code == 428
    first = patch("一", "*")
    assert first.status_code == 200, first.get_json()
    assert first.headers["ETag"] == '"2"'
    second = patch("二", "*")
    assert (second.status_code, second.headers["ETag"]) == (200, '"3"')
    assert patch("三", '"2"').status_code == 412
    assert client.get(f"/api/v1/areas/{NW}").get_json()["properties"]["name"] == "二"
    assert patch("四", "**").status_code == 400


# --- charset --------------------------------------------------------------------------------


def assert_one_charset(response, mimetype: str) -> None:
    content_type = response.headers["Content-Type"]
    assert response.mimetype == mimetype, content_type
    assert content_type.lower().count("charset=") == 1, content_type
    assert content_type.lower().endswith("charset=utf-8"), content_type


def test_every_text_response_has_exactly_one_charset(client, world):
    login(client, "planner")
    point = {"lon": X0 + 0.5 * STEP, "lat": Y0 + 1.5 * STEP}
    assert_one_charset(client.get("/api/v1/locate", query_string=point), "application/json")
    assert_one_charset(client.get("/api/v1/areas"), "application/json")
    assert_one_charset(client.get("/ogc/collections/grids/items"), "application/geo+json")
    assert_one_charset(client.get("/api/v1/areas/nope"), "application/json")
    assert_one_charset(client.get("/dashboard"), "text/html")
    assert_one_charset(client.get("/open311/v2/services.xml"), "text/xml")
    assert_one_charset(client.get("/open311/v2/services.json"), "application/json")
    assert_one_charset(
        client.get("/api/v1/areas/export", query_string={"format": "csv", "parent": C}), "text/csv"
    )
    assert_one_charset(
        client.get("/api/v1/areas/export", query_string={"format": "geojson", "parent": C}),
        "application/geo+json",
    )
    assert_one_charset(client.get("/ogc/collections"), "application/json")
    login(client, "leader")
    assert_one_charset(client.get("/dashboard.csv"), "text/csv")


def test_a_binary_response_gets_no_charset(client, world):
    login(client, "leader")
    response = client.get("/dashboard.xlsx")
    assert response.status_code == 200
    assert "charset" not in response.headers["Content-Type"]
