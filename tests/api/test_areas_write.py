"""Planners' grid edits over the API: topology, snapping, versions, split, merge, history."""

from __future__ import annotations

import pytest
import shapely
from pyproj import Geod
from shapely import box
from sqlalchemy import func, select

from app.models import Area
from tests.conftest import csrf_token, login
from tests.factories import STEP, X0, Y0, add_households, add_user, build_world, current_grid_codes

GEOD = Geod(ellps="WGS84")
C = "511381001001"
NW, NE, SW, SE = (f"{C}{i:03d}" for i in range(1, 5))
DEG_PER_M = 1 / 111_320  # north-south


def geojson(geom) -> dict:
    return shapely.geometry.mapping(geom)


@pytest.fixture
def world(session, client):
    world = build_world(session)
    add_user(session, "planner", "planner")
    add_user(session, "leader", "leader")
    session.commit()
    login(client, "planner")
    return world


def call(client, method: str, url: str, body=None, version=None):
    headers = {"X-CSRFToken": csrf_token(client, "/")}
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return client.open(url, method=method, json=body, headers=headers)


def stored(session, code: str):
    wkt = session.scalar(select(func.ST_AsText(Area.geom)).where(Area.code == code))
    return shapely.from_wkt(wkt)


def retire_ne(client) -> None:
    response = call(client, "DELETE", f"/api/v1/areas/{NE}", version=1)
    assert response.status_code == 200, response.json


def test_retire_then_draw_a_grid_gets_a_new_code_and_its_households(client, session, world):
    inside_ne = add_households(session, [(X0 + 0.015, Y0 + 0.015)] * 3)
    from app.services.assignment import assign_all

    assign_all(session)
    retire_ne(client)
    assert current_grid_codes(session, inside_ne) == {i: None for i in inside_ne}
    ne_cell = box(X0 + STEP, Y0 + STEP, X0 + 2 * STEP, Y0 + 2 * STEP)
    response = call(
        client,
        "POST",
        "/api/v1/areas",
        {"level": "grid", "parent": C, "geometry": geojson(ne_cell), "name": "新网格"},
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["created"] == [f"{C}005"]  # 004 is retired and never reused
    assert body["area"]["properties"]["name"] == "新网格"
    assert response.headers["ETag"] == '"1"'
    assert body["households"]["moves"] == [
        {"from_grid": None, "to_grid": f"{C}005", "households": 3}
    ]
    assert current_grid_codes(session, inside_ne) == {i: f"{C}005" for i in inside_ne}


def test_drawing_over_a_sibling_is_a_409_with_the_overlap(client, session, world):
    retire_ne(client)
    # Reaches 0.002 degrees west into NW.
    drawn = box(X0 + STEP - 0.002, Y0 + STEP, X0 + 2 * STEP, Y0 + 2 * STEP)
    response = call(
        client, "POST", "/api/v1/areas", {"level": "grid", "parent": C, "geometry": geojson(drawn)}
    )
    assert response.status_code == 409
    [overlap] = response.json["error"]["details"]["overlaps"]
    expected = box(X0 + STEP - 0.002, Y0 + STEP, X0 + STEP, Y0 + 2 * STEP)
    assert overlap["code"] == NW
    assert overlap["area_m2"] == pytest.approx(
        abs(GEOD.geometry_area_perimeter(expected)[0]), rel=2e-3
    )
    assert expected.contains(shapely.Point(overlap["location"]))
    assert (
        session.scalar(
            select(func.count())
            .select_from(Area)
            .where(Area.level == "grid", Area.valid_to.is_(None))
        )
        == 3
    )


@pytest.mark.parametrize("offset_m", [0.6, -0.6])
def test_edges_within_a_metre_of_a_neighbour_are_snapped_onto_it(client, session, world, offset_m):
    """A gap or an overlap of 0.6 m along NW's edge is closed by snapping, not refused."""
    retire_ne(client)
    x = X0 + STEP + offset_m * DEG_PER_M / 0.855  # metres east-west at 31.58N
    drawn = box(x, Y0 + STEP, X0 + 2 * STEP, Y0 + 2 * STEP)
    response = call(
        client, "POST", "/api/v1/areas", {"level": "grid", "parent": C, "geometry": geojson(drawn)}
    )
    assert response.status_code == 201, response.json
    new = stored(session, f"{C}005")
    assert new.bounds[0] == X0 + STEP  # bit for bit the neighbour's edge
    from app.services.coverage import coverage_report

    report = coverage_report(session, C)
    assert (report.gaps, report.overlaps) == ([], [])


def test_invalid_geometry_is_422_with_reason_and_location(client, world):
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[X0, Y0], [X0 + 0.01, Y0 + 0.01], [X0 + 0.01, Y0], [X0, Y0 + 0.01], [X0, Y0]]
        ],
    }
    response = call(
        client, "POST", "/api/v1/areas", {"level": "grid", "parent": C, "geometry": bowtie}
    )
    assert response.status_code == 422
    details = response.json["error"]["details"]
    assert details["reason"] == "self_intersection"
    assert details["location"] == pytest.approx([X0 + 0.005, Y0 + 0.005])


def test_vertex_bomb_is_refused_before_it_is_built(client, world):
    ring = [[X0 + 0.01 * i / 200_000, Y0] for i in range(200_000)]
    bomb = {"type": "Polygon", "coordinates": [ring + [[X0, Y0 + 0.01], ring[0]]]}
    response = call(
        client, "POST", "/api/v1/areas", {"level": "grid", "parent": C, "geometry": bomb}
    )
    assert response.status_code == 422
    assert response.json["error"]["details"]["reason"] == "too_many_vertices"


def test_outside_the_community_beyond_half_a_metre_is_refused_within_it_clipped(
    client, session, world
):
    retire_ne(client)
    far = box(X0 + STEP, Y0 + STEP, X0 + 2 * STEP + 10 * DEG_PER_M, Y0 + 2 * STEP)
    response = call(
        client, "POST", "/api/v1/areas", {"level": "grid", "parent": C, "geometry": geojson(far)}
    )
    assert response.status_code == 422
    details = response.json["error"]["details"]
    assert details["reason"] == "outside_parent"
    assert details["location"][0] > X0 + 2 * STEP
    near = box(X0 + STEP, Y0 + STEP, X0 + 2 * STEP + 0.3 * DEG_PER_M, Y0 + 2 * STEP)
    ok = call(
        client, "POST", "/api/v1/areas", {"level": "grid", "parent": C, "geometry": geojson(near)}
    )
    assert ok.status_code == 201
    assert stored(session, f"{C}005").bounds[2] == X0 + 2 * STEP


def test_patch_needs_if_match_refuses_stale_versions_and_keeps_history(client, session, world):
    households = add_households(session, [(X0 + 0.0195, Y0 + 0.005)] * 2)  # in SE, near SE's east
    from app.services.assignment import assign_all

    assign_all(session)
    # SW takes over SE's western half; SE shrinks first.
    se_east = box(X0 + 1.5 * STEP, Y0, X0 + 2 * STEP, Y0 + STEP)
    missing = call(client, "PATCH", f"/api/v1/areas/{SE}", {"geometry": geojson(se_east)})
    assert missing.status_code == 428
    stale = call(client, "PATCH", f"/api/v1/areas/{SE}", {"geometry": geojson(se_east)}, version=7)
    assert stale.status_code == 412
    assert stale.json["error"]["details"] == {"current_version": 1}
    done = call(client, "PATCH", f"/api/v1/areas/{SE}", {"geometry": geojson(se_east)}, version=1)
    assert done.status_code == 200, done.json
    assert done.headers["ETag"] == '"2"'
    assert done.json["households"]["moved"] == 0  # they are in the half SE keeps
    sw_wide = box(X0, Y0, X0 + 1.5 * STEP, Y0 + STEP)
    grown = call(
        client,
        "PATCH",
        f"/api/v1/areas/{SW}",
        {"geometry": geojson(sw_wide), "name": "扩大的网格"},
        version=1,
    )
    assert grown.status_code == 200
    assert current_grid_codes(session, households) == {i: SE for i in households}
    history = client.get(f"/api/v1/areas/{SE}/history").json["versions"]
    assert [v["version"] for v in history] == [1, 2]
    assert history[0]["changed_by"] == "planner" and history[1]["current"] is True
    restored = call(client, "POST", f"/api/v1/areas/{SE}/restore", {"version": 1}, version=2)
    assert restored.status_code == 409  # SW now covers SE's old western half


def test_split_by_line_and_into_parts(client, session, world):
    west = add_households(session, [(X0 + 0.002, Y0 + 0.005)])
    east = add_households(session, [(X0 + 0.008, Y0 + 0.005)])
    from app.services.assignment import assign_all

    assign_all(session)
    line = {
        "type": "LineString",
        "coordinates": [[X0 + 0.005, Y0 - 0.001], [X0 + 0.005, Y0 + STEP + 0.001]],
    }
    response = call(client, "POST", f"/api/v1/areas/{SW}/split", {"line": line}, version=1)
    assert response.status_code == 201, response.json
    assert response.json["retired"] == [SW]
    assert response.json["created"] == [f"{C}005", f"{C}006"]  # west first in a row
    assert current_grid_codes(session, west + east) == {west[0]: f"{C}005", east[0]: f"{C}006"}
    miss = {
        "type": "LineString",
        "coordinates": [[X0 + 0.015, Y0 + 0.002], [X0 + 0.016, Y0 + 0.003]],
    }
    refused = call(client, "POST", f"/api/v1/areas/{SE}/split", {"line": miss}, version=1)
    assert refused.status_code == 422
    assert refused.json["error"]["details"]["reason"] == "line_does_not_split"
    parts = call(client, "POST", f"/api/v1/areas/{SE}/split", {"parts": 3}, version=1)
    assert parts.status_code == 201
    assert len(parts.json["created"]) == 3
    total = sum(stored(session, c).area for c in parts.json["created"])
    assert total == pytest.approx(STEP * STEP, rel=1e-9)


def test_merge_adjacent_grids_only(client, session, world):
    households = add_households(session, [(X0 + 0.005, Y0 + 0.015), (X0 + 0.015, Y0 + 0.015)])
    from app.services.assignment import assign_all

    assign_all(session)
    corner = call(client, "POST", "/api/v1/areas/merge", {"codes": [NW, SE]})
    assert corner.status_code == 422
    assert corner.json["error"]["details"]["reason"] == "not_adjacent"
    merged = call(client, "POST", "/api/v1/areas/merge", {"codes": [NW, NE], "name": "北片网格"})
    assert merged.status_code == 201, merged.json
    assert merged.json["retired"] == [NW, NE] and merged.json["created"] == [f"{C}005"]
    assert current_grid_codes(session, households) == {i: f"{C}005" for i in households}
    assert stored(session, f"{C}005").equals(box(X0, Y0 + STEP, X0 + 2 * STEP, Y0 + 2 * STEP))


def test_leaders_cannot_edit(client, world):
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "leader")
    response = call(client, "DELETE", f"/api/v1/areas/{NE}", version=1)
    assert response.status_code == 403


def test_shrinking_a_community_under_its_grids_is_refused_with_the_places(client, session, world):
    west_half = box(X0, Y0, X0 + STEP, Y0 + 2 * STEP)
    response = call(
        client, "PATCH", f"/api/v1/areas/{C}", {"geometry": geojson(west_half)}, version=1
    )
    assert response.status_code == 409, response.json
    outside = response.json["error"]["details"]["outside"]
    assert [o["code"] for o in outside] == [NE, SE]
    assert all(o["location"][0] > X0 + STEP for o in outside)
    assert stored(session, C).equals(box(X0, Y0, X0 + 2 * STEP, Y0 + 2 * STEP))


def test_a_planner_limited_to_an_area_edits_only_inside_it(client, session, world):
    add_user(session, "nw-planner", "planner", area=world.grids["NW"])
    session.commit()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login(client, "nw-planner")
    refused = call(client, "DELETE", f"/api/v1/areas/{NE}", version=1)
    assert refused.status_code == 403
    assert refused.json["error"]["message"] == f"{NE} lies outside the area you may edit."
    merge = call(client, "POST", "/api/v1/areas/merge", {"codes": [NW, NE]})
    assert merge.status_code == 403
    allowed = call(client, "DELETE", f"/api/v1/areas/{NW}", version=1)
    assert allowed.status_code == 200
    assert session.scalar(select(Area.valid_to).where(Area.code == NE)) is None


@pytest.mark.parametrize(
    "if_match", ['"²"', "\u00b2", '"99999999999999999999"', '"1 2"', 'W/"x"', '""']
)
def test_an_if_match_that_names_no_version_is_a_400_and_changes_nothing(
    client, session, world, if_match
):
    headers = {"X-CSRFToken": csrf_token(client, "/"), "If-Match": if_match}
    response = client.delete(f"/api/v1/areas/{NE}", headers=headers)
    assert response.status_code == 400, response.data
    assert "If-Match" in response.json["error"]["message"]
    assert session.scalar(select(Area.valid_to).where(Area.code == NE)) is None
