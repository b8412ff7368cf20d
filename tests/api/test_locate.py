"""GET /api/v1/locate on the factory world: grids, shared edges, uncovered points, points near a
boundary (distances checked against pyproj's geodesics), GCJ-02 / BD-09 input, bad input and
authentication."""

from __future__ import annotations

import math

import pytest
from pyproj import Geod
from sqlalchemy import select, update

from app.models import ApiToken
from app.services.auth import issue_token
from geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from tests.conftest import login
from tests.factories import STEP, X0, Y0, add_user, build_world

NW, NE, SW, SE = (f"511381001001{i:03d}" for i in range(1, 5))
NAMES = {NW: "第1网格", NE: "第2网格", SW: "第3网格", SE: "第4网格"}
COMMUNITY = ("511381001001", "测试社区")
STREET = ("511381001", "保宁街道")
DISTRICT = ("511381", "阆中市")
CENTRES = {
    NW: (X0 + STEP / 2, Y0 + 1.5 * STEP),
    NE: (X0 + 1.5 * STEP, Y0 + 1.5 * STEP),
    SW: (X0 + STEP / 2, Y0 + STEP / 2),
    SE: (X0 + 1.5 * STEP, Y0 + STEP / 2),
}
MIDDLE = (X0 + STEP, Y0 + STEP)  # the corner the four grids share
WGS84 = Geod(ellps="WGS84")


@pytest.fixture
def world(session):
    world = build_world(session)
    add_user(session, "wang", "worker", grids=[world.grids["NW"]])
    add_user(session, "leader", "leader")
    session.commit()
    return world


@pytest.fixture
def token(world, session) -> str:
    token = issue_token(session, "leader")
    session.commit()
    return token


def locate(client, token: str | None, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    query = {k: repr(v) if isinstance(v, float) else v for k, v in params.items()}
    return client.get("/api/v1/locate", query_string=query, headers=headers)


def located(client, token: str, lon: float, lat: float, **params) -> dict:
    response = locate(client, token, lon=lon, lat=lat, **params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def ref(area: dict | None) -> tuple[str, str] | None:
    return None if area is None else (area["code"], area["name"])


def candidates(body: dict) -> list[tuple[str, float]]:
    return [(c["grid"]["code"], c["distance_m"]) for c in body["candidates"]]


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance on the WGS84 ellipsoid, independent of PostGIS."""
    return WGS84.inv(a[0], a[1], b[0], b[1])[2]


def offset(point: tuple[float, float], east_m: float, north_m: float) -> tuple[float, float]:
    """The point ``east_m`` east and ``north_m`` north of ``point`` (two geodesic steps)."""
    lon, lat, _ = WGS84.fwd(point[0], point[1], 90.0, east_m)
    lon, lat, _ = WGS84.fwd(lon, lat, 0.0, north_m)
    return lon, lat


# --- points inside grids, on shared edges, outside every grid -----------------------------


@pytest.mark.parametrize("code", [NW, NE, SW, SE])
def test_a_point_inside_a_grid_gets_the_grid_and_its_whole_chain(client, token, code):
    lon, lat = CENTRES[code]
    body = located(client, token, lon, lat)
    assert body["covered"] is True
    assert (body["lon"], body["lat"]) == (lon, lat)
    assert ref(body["grid"]) == (code, NAMES[code])
    assert (ref(body["community"]), ref(body["street"]), ref(body["district"])) == (
        COMMUNITY,
        STREET,
        DISTRICT,
    )
    # ~475 m from the nearest edge: not near a boundary.
    assert (body["near_boundary"], body["candidates"]) == (False, [])
    expected_workers = [("wang", "13900001111")] if code == NW else []
    assert [(w["name"], w["phone"]) for w in body["workers"]] == expected_workers


@pytest.mark.parametrize(
    ("where", "point", "grid", "others"),
    [
        ("NW|NE edge", (X0 + STEP, Y0 + 1.5 * STEP), NW, [NE]),
        ("SW|SE edge", (X0 + STEP, Y0 + 0.5 * STEP), SW, [SE]),
        ("NE|SE edge", (X0 + 1.5 * STEP, Y0 + STEP), NE, [SE]),
        ("NW|SW edge", (X0 + 0.5 * STEP, Y0 + STEP), NW, [SW]),
        ("corner of all four", MIDDLE, NW, [NE, SW, SE]),
    ],
)
def test_a_point_on_a_shared_edge_goes_to_the_smallest_code(
    client, token, where, point, grid, others
):
    body = located(client, token, *point)
    assert ref(body["grid"]) == (grid, NAMES[grid]), where
    # On the edge the point is 0 m from its own boundary and from every grid it touches
    # (within 0.5 m: PostGIS measures along geodesics, which bow ~1 cm off a 1 km parallel).
    assert body["near_boundary"] is True
    got = candidates(body)
    assert [code for code, _ in got] == [grid, *others]
    assert [distance for _, distance in got] == pytest.approx([0.0] * len(got), abs=0.5)


def test_a_point_in_the_district_but_in_no_grid_is_uncovered(client, token):
    body = located(client, token, X0 - 0.02, Y0 - 0.02)
    assert body["covered"] is False
    assert (body["grid"], body["community"]) == (None, None)
    assert (ref(body["street"]), ref(body["district"])) == (STREET, DISTRICT)
    assert (body["workers"], body["near_boundary"], body["candidates"]) == ([], False, [])


def test_a_point_outside_the_district_has_no_area_at_all(client, token):
    body = located(client, token, 100.0, 30.0)
    assert body == {
        "lon": 100.0,
        "lat": 30.0,
        "covered": False,
        "grid": None,
        "community": None,
        "street": None,
        "district": None,
        "workers": [],
        "near_boundary": False,
        "candidates": [],
    }


# --- near a boundary ------------------------------------------------------------------------


def test_a_point_near_the_shared_corner_lists_every_grid_within_30_m_with_distances(client, token):
    # In the NW grid, 20 m west of its east edge and 15 m north of its south edge.
    point = offset(MIDDLE, east_m=-20.0, north_m=15.0)
    body = located(client, token, *point)
    assert ref(body["grid"]) == (NW, NAMES[NW])
    assert body["near_boundary"] is True

    to_south_edge = metres(point, (point[0], MIDDLE[1]))  # NW's south edge = SW's north edge
    to_east_edge = metres(point, (MIDDLE[0], point[1]))  # NW's east edge = NE's west edge
    to_corner = metres(point, MIDDLE)  # SE touches only the corner
    assert (round(to_south_edge), round(to_east_edge), round(to_corner)) == (15, 20, 25)
    expected = [
        (NW, min(to_south_edge, to_east_edge)),  # its own grid first: the distance to its edge
        (SW, to_south_edge),
        (NE, to_east_edge),
        (SE, to_corner),
    ]
    got = candidates(body)
    assert [code for code, _ in got] == [code for code, _ in expected]
    for (code, distance), (_, reference) in zip(got, expected):
        assert distance == pytest.approx(reference, abs=0.5), code


def test_a_point_outside_every_grid_but_near_one_lists_it(client, token):
    # 10 m west of the NW grid's west edge: outside the community.
    point = offset((X0, Y0 + 1.5 * STEP), east_m=-10.0, north_m=0.0)
    body = located(client, token, *point)
    assert (body["covered"], body["grid"], body["community"]) == (False, None, None)
    assert body["near_boundary"] is True
    [(code, distance)] = candidates(body)
    assert code == NW
    assert distance == pytest.approx(metres(point, (X0, point[1])), abs=0.5)
    assert distance == pytest.approx(10.0, abs=0.5)


def test_a_point_40_m_from_every_other_grid_is_not_near_a_boundary(client, token):
    point = offset(MIDDLE, east_m=-40.0, north_m=40.0)
    body = located(client, token, *point)
    assert ref(body["grid"]) == (NW, NAMES[NW])
    assert (body["near_boundary"], body["candidates"]) == (False, [])


# --- coordinate systems ---------------------------------------------------------------------

# A WGS84 point in the SW grid whose GCJ-02 numbers, read as WGS84, fall south of every grid
# and whose BD-09 numbers fall in the SE grid: only a correct conversion finds SW.
SW_POINT = (X0 + 0.007, Y0 + 0.002)


@pytest.mark.parametrize(
    ("crs", "forward", "grid_if_misread"),
    [("gcj02", wgs84_to_gcj02, None), ("bd09", wgs84_to_bd09, SE), ("GCJ02", wgs84_to_gcj02, None)],
)
def test_gcj02_and_bd09_input_is_converted_to_wgs84(client, token, crs, forward, grid_if_misread):
    lon, lat = (float(v) for v in forward(*SW_POINT))
    shift = metres(SW_POINT, (lon, lat))
    assert 300 < shift < 1400, shift  # the offset the systems are known for
    misread = located(client, token, lon, lat)  # no crs: taken as WGS84
    assert (misread["grid"] or {}).get("code") == grid_if_misread

    body = located(client, token, lon, lat, crs=crs)
    assert ref(body["grid"]) == (SW, NAMES[SW])
    assert body == {**located(client, token, *SW_POINT), "lon": body["lon"], "lat": body["lat"]}
    # The answer carries the converted WGS84 point, to better than a millimetre.
    assert metres((body["lon"], body["lat"]), SW_POINT) < 0.001


@pytest.mark.parametrize("crs", ["wgs84", "WGS84", "cgcs2000", "EPSG:4326", "EPSG:4490", ""])
def test_wgs84_and_cgcs2000_are_taken_as_they_are(client, token, crs):
    body = located(client, token, *CENTRES[SE], crs=crs)
    assert (ref(body["grid"]), body["lon"], body["lat"]) == ((SE, NAMES[SE]), *CENTRES[SE])


# --- bad input ------------------------------------------------------------------------------


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_an_unknown_crs_is_refused_with_the_allowed_values(client, token):
    error = error_of(locate(client, token, lon=105.97, lat=31.58, crs="utm48"), 422)
    assert error["code"] == "invalid_data"
    assert error["details"] == {"field": "crs"}
    assert "'utm48'" in error["message"]
    assert "wgs84, cgcs2000, gcj02, bd09" in error["message"]


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"lat": "31.58"}, "lon", "lon must be a number"),
        ({"lon": "105.97"}, "lat", "lat must be a number"),
        ({}, "lon", "lon must be a number"),
        ({"lon": "", "lat": "31.58"}, "lon", "lon must be a number"),
        ({"lon": "abc", "lat": "31.58"}, "lon", "'abc'"),
        ({"lon": "105.97", "lat": "31,58"}, "lat", "'31,58'"),
        ({"lon": "nan", "lat": "31.58"}, "lon", "finite"),
        ({"lon": "105.97", "lat": "inf"}, "lat", "finite"),
        ({"lon": "105.97", "lat": "95"}, "lat", "between -90 and 90"),
        ({"lon": "105.97", "lat": "-90.0001"}, "lat", "between -90 and 90"),
        ({"lon": "181", "lat": "31.58"}, "lon", "between -180 and 180"),
    ],
)
def test_a_bad_coordinate_is_refused_with_the_field_and_the_reason(
    client, token, params, field, words
):
    error = error_of(
        client.get(
            "/api/v1/locate", query_string=params, headers={"Authorization": f"Bearer {token}"}
        ),
        422,
    )
    assert error["code"] == "invalid_data"
    assert error["details"] == {"field": field}
    assert words in error["message"]


# --- authentication -------------------------------------------------------------------------


def test_without_credentials_the_answer_is_401(client, world):
    error = error_of(locate(client, None, lon=105.965, lat=31.575), 401)
    assert error["code"] == "unauthorized"
    assert "Bearer" in error["message"]
    assert error["details"] is None


def test_a_bearer_token_works_and_its_use_is_recorded(client, token, session):
    assert session.scalar(select(ApiToken.last_used_at)) is None
    body = located(client, token, *CENTRES[NE])
    assert ref(body["grid"]) == (NE, NAMES[NE])
    assert session.scalar(select(ApiToken.last_used_at)) is not None


def test_a_session_cookie_works(client, world):
    login(client, "wang")
    body = located(client, None, *CENTRES[SW])
    assert ref(body["grid"]) == (SW, NAMES[SW])


@pytest.mark.parametrize("credentials", ["revoked", "garbage", "empty", "basic"])
def test_a_revoked_or_garbage_token_gets_401(client, token, session, credentials):
    # The valid token works first, in the same test: nothing of that request may linger.
    assert located(client, token, *CENTRES[NE])["grid"]["code"] == NE
    if credentials == "revoked":
        session.execute(update(ApiToken).values(revoked_at=ApiToken.created_at))
        session.commit()
        header = f"Bearer {token}"
    else:
        header = {
            "garbage": "Bearer wg_not-a-token",
            "empty": "Bearer ",
            "basic": "Basic bGVhZGVyOnBhc3N3b3JkLTEyMw==",
        }[credentials]
    response = client.get(
        "/api/v1/locate",
        query_string={"lon": "105.975", "lat": "31.585"},
        headers={"Authorization": header},
    )
    error = error_of(response, 401)
    assert error["code"] == "unauthorized"


def test_distances_are_metres_not_degrees(client, token):
    # 25 m from the corner is ~0.00026 degrees: a result in degrees would be far below 1.
    point = offset(MIDDLE, east_m=-20.0, north_m=15.0)
    distances = [d for _, d in candidates(located(client, token, *point))]
    assert all(10 < d < 30 for d in distances)
    assert math.isclose(max(distances), 25.0, abs_tol=0.5)
