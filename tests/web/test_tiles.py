"""Vector tiles of /tiles and the coverage page: figures per unit, scope, no personal data,
bad addresses, login."""

from __future__ import annotations

import gzip
import math
import re

import mapbox_vector_tile
import pytest

from app.services.assignment import assign_all
from tests.conftest import login
from tests.factories import STEP, X0, Y0, add_households, add_user, build_world

NAMES = ("李四", "王五")
PHONE = "13912345678"
ID_NUMBER = "51138119800101123X"
# Standalone phone and ID numbers (the 15-digit grid codes contain phone-like runs).
PERSONAL = [
    re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"),
    re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"),
    *map(re.compile, NAMES),
]
# Households per grid: NW 3 (one vulnerable), NE 2, SW 1, SE 0; one more in no grid.
CENTRES = {
    "NW": (X0 + STEP / 2, Y0 + 1.5 * STEP),
    "NE": (X0 + 1.5 * STEP, Y0 + 1.5 * STEP),
    "SW": (X0 + STEP / 2, Y0 + STEP / 2),
}
UNCOVERED = (X0 - 0.02, Y0 - 0.02)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


# Zoom 12 and 11 tiles holding the four grids (zoom 11: every household too); from zoom 15
# households are points.
WHOLE = tile_of(X0 + STEP, Y0 + STEP, 12)
ALL_HOUSEHOLDS = tile_of(X0 + STEP, Y0 + STEP, 11)


@pytest.fixture
def world(session):
    world = build_world(session)
    nw, ne, sw = CENTRES["NW"], CENTRES["NE"], CENTRES["SW"]
    add_households(
        session,
        [nw, (nw[0] + 0.001, nw[1])],
        head_name=NAMES[0],
        phone=PHONE,
        address=f"身份证 {ID_NUMBER}",
    )
    add_households(session, [(nw[0] - 0.001, nw[1])], head_name=NAMES[1], tags=["elderly_alone"])
    add_households(session, [ne, (ne[0] + 0.001, ne[1])], head_name=NAMES[1], phone=PHONE)
    add_households(session, [sw, UNCOVERED], head_name=NAMES[0], phone=PHONE)
    world.users["leader"] = add_user(session, "leader", "leader")
    world.users["wang"] = add_user(session, "wang", "worker", grids=[world.grids["NW"]])
    assign_all(session)
    return world


def get_tile(client, layer: str, z: int, x: int, y: int):
    return client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf")


def features(response, layer: str) -> list[dict]:
    if response.status_code == 204:
        return []
    assert response.status_code == 200, response.get_data(as_text=True)
    decoded = mapbox_vector_tile.decode(response.data)
    return decoded[layer]["features"] if layer in decoded else []


def by_code(feats: list[dict]) -> dict[str, dict]:
    return {f["properties"]["code"]: f["properties"] for f in feats}


def assert_no_personal_data(payload: bytes | str) -> None:
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
    for pattern in PERSONAL:
        assert not pattern.search(text), f"{pattern.pattern} found"


def test_grid_tile_carries_each_grids_figures(world, client):
    login(client, "leader")
    response = get_tile(client, "grids", *WHOLE)
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    grids = by_code(features(response, "grids"))
    assert set(grids) == {world.grids[k].code for k in ("NW", "NE", "SW", "SE")}
    nw, ne = grids[world.grids["NW"].code], grids[world.grids["NE"].code]
    assert (nw["households"], nw["workers"], nw["vulnerable"]) == (3, 1, 1)
    assert nw["households_per_worker"] == 3.0
    assert nw["name"] == "第1网格" and nw["grids_without_worker"] == 0
    assert (ne["households"], ne["workers"], ne["grids_without_worker"]) == (2, 0, 1)
    assert "households_per_worker" not in ne  # no worker: no ratio
    assert grids[world.grids["SE"].code]["households"] == 0
    assert_no_personal_data(response.data)


def test_grid_tiles_count_vulnerable_households_at_every_zoom(world, client):
    login(client, "leader")
    nw_code = world.grids["NW"].code
    for z in (11, 12, 14, 15, 16):
        grids = by_code(features(get_tile(client, "grids", *tile_of(*CENTRES["NW"], z)), "grids"))
        assert (grids[nw_code]["households"], grids[nw_code]["vulnerable"]) == (3, 1), z
        assert all(g["vulnerable"] == 0 for code, g in grids.items() if code != nw_code), z


def test_community_and_street_tiles_sum_their_grids(world, client):
    login(client, "leader")
    (community,) = features(get_tile(client, "communities", *WHOLE), "communities")
    assert community["properties"]["code"] == world.community.code
    assert {
        k: community["properties"][k]
        for k in ("grids", "households", "workers", "vulnerable", "grids_without_worker")
    } == {"grids": 4, "households": 6, "workers": 1, "vulnerable": 1, "grids_without_worker": 3}
    assert community["properties"]["households_per_worker"] == 6.0
    (street,) = features(get_tile(client, "streets", *WHOLE), "streets")
    assert street["properties"]["households"] == 6 and street["properties"]["grids"] == 4


def test_household_tile_is_counts_per_cell_below_zoom_15(world, client):
    login(client, "leader")
    response = get_tile(client, "households", *ALL_HOUSEHOLDS)
    cells = features(response, "households")
    assert sum(c["properties"]["count"] for c in cells) == 7
    assert sum(c["properties"]["vulnerable"] for c in cells) == 1
    assert sum(c["properties"]["uncovered"] for c in cells) == 1
    assert len(cells) < 7  # the NW and NE households share cells
    assert {key for c in cells for key in c["properties"]} == {"count", "vulnerable", "uncovered"}
    assert all(c.get("id") in (None, 0) for c in cells)
    assert_no_personal_data(response.data)


def test_household_tile_from_zoom_15_is_anonymous_points(world, client):
    login(client, "leader")
    response = get_tile(client, "households", *tile_of(*CENTRES["NW"], 16))
    points = features(response, "households")
    assert len(points) == 3
    assert sorted(p["properties"]["vulnerable"] for p in points) == [0, 0, 1]
    assert all(
        p["properties"] == {"count": 1, "vulnerable": p["properties"]["vulnerable"], "uncovered": 0}
        for p in points
    )
    assert all(p["geometry"]["type"] == "Point" for p in points)
    assert_no_personal_data(response.data)


def test_a_worker_sees_only_his_grids(world, client):
    login(client, "wang")
    grids = by_code(features(get_tile(client, "grids", *WHOLE), "grids"))
    assert list(grids) == [world.grids["NW"].code]
    (community,) = features(get_tile(client, "communities", *WHOLE), "communities")
    assert community["properties"]["households"] == 3 and community["properties"]["grids"] == 1
    cells = features(get_tile(client, "households", *ALL_HOUSEHOLDS), "households")
    assert sum(c["properties"]["count"] for c in cells) == 3
    assert sum(c["properties"]["uncovered"] for c in cells) == 0


def test_an_empty_tile_is_204_and_tiles_are_privately_cached(world, client):
    login(client, "leader")
    empty = get_tile(client, "grids", 12, 0, 0)
    assert empty.status_code == 204 and empty.data == b""
    full = get_tile(client, "grids", *WHOLE)
    assert full.headers["Cache-Control"] in ("private, max-age=60", "max-age=60, private")
    etag = full.headers["ETag"]
    again = client.get("/tiles/grids/{}/{}/{}.pbf".format(*WHOLE), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_tiles_are_gzipped_for_clients_that_accept_it(world, client):
    login(client, "leader")
    plain = get_tile(client, "grids", *WHOLE)
    packed = client.get(
        "/tiles/grids/{}/{}/{}.pbf".format(*WHOLE), headers={"Accept-Encoding": "gzip, br"}
    )
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data)
    assert packed.headers["ETag"] != plain.headers["ETag"]
    again = client.get(
        "/tiles/grids/{}/{}/{}.pbf".format(*WHOLE),
        headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]},
    )
    assert again.status_code == 304


def test_tiles_need_a_login(world, client):
    response = get_tile(client, "grids", *WHOLE)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/tiles/grids/23/0/0.pbf", 404, "z"),
        ("/tiles/grids/2/4/0.pbf", 404, "x"),
        ("/tiles/grids/2/0/4.pbf", 404, "y"),
        ("/tiles/grids/a/0/0.pbf", 400, "z"),
        ("/tiles/grids/1/-1/0.pbf", 400, "x"),
        ("/tiles/parcels/1/0/0.pbf", 404, "layer"),
    ],
)
def test_bad_tile_addresses_are_refused_with_the_reason(world, client, path, status, field):
    login(client, "leader")
    response = client.get(path)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["details"] == {"field": field} and error["message"]


def test_coverage_page_has_figures_and_no_personal_data(world, client):
    login(client, "leader")
    response = client.get("/map/coverage")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-grids="4"' in html and 'data-households="6"' in html
    assert "Leaflet.VectorGrid.bundled.min.js" in html and "js/coverage.js" in html
    assert "/tiles/{layer}/{z}/{x}/{y}.pbf" in html
    assert "每名网格员服务住户数" in html
    # the table: one row per grid, the NW grid with its figures
    nw_code = world.grids["NW"].code
    row = re.search(rf"<td>{nw_code}</td>(.*?)</tr>", html, re.S).group(1)
    assert re.findall(r">([^<>]+)</td>", row) == ["第1网格", "3", "1", "3.0", "1"]
    assert_no_personal_data(html)
    assert "https://unpkg.com" not in html
