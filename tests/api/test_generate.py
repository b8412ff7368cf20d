"""Generated grids: previews cover the community exactly and write nothing; commit replaces."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from sqlalchemy import func, select

from app.models import Area
from app.services.assignment import assign_all
from tests.api.test_areas_write import call
from tests.conftest import login
from tests.factories import STEP, X0, Y0, add_households, add_user, build_world, current_grid_codes

C = "511381001001"
COMMUNITY = shapely.box(X0, Y0, X0 + 2 * STEP, Y0 + 2 * STEP)


@pytest.fixture
def world(session, client):
    rng = np.random.default_rng(5)
    points = np.column_stack(
        [rng.uniform(X0, X0 + 2 * STEP, 200), rng.uniform(Y0, Y0 + 2 * STEP, 200)]
    )
    world = build_world(session)
    world.households = add_households(session, [tuple(p) for p in points])
    add_user(session, "planner", "planner")
    assign_all(session)
    session.commit()
    login(client, "planner")
    return world


def live_grid_codes(session) -> list[str]:
    return session.scalars(
        select(Area.code).where(Area.level == "grid", Area.valid_to.is_(None)).order_by(Area.code)
    ).all()


def check_plan(plan: dict, households: int) -> list:
    cells = [shapely.geometry.shape(f["geometry"]) for f in plan["features"]]
    union = shapely.union_all(cells)
    # Within 1e-7 of the area (0.4 m² of 4 km²): clipping adds vertices along the edges.
    assert union.symmetric_difference(COMMUNITY).area < 1e-7 * COMMUNITY.area
    assert sum(c.area for c in cells) == pytest.approx(COMMUNITY.area, rel=1e-7)  # no overlap
    counts = [f["properties"]["households"] for f in plan["features"]]
    assert sum(counts) == plan["summary"]["households"] == households
    codes = [f["properties"]["code"] for f in plan["features"]]
    assert codes == [f"{C}{n:03d}" for n in range(5, 5 + len(codes))]
    # The first code is the cell furthest north (row by row from the north).
    assert cells[0].centroid.y == pytest.approx(max(c.centroid.y for c in cells), abs=STEP / 2)
    return cells


@pytest.mark.parametrize(
    ("body", "grids"),
    [({"kind": "square", "cell_m": 500}, 20), ({"kind": "hexagon", "resolution": 8}, None)],
)
def test_previews_cover_the_community_and_write_nothing(client, session, world, body, grids):
    before = live_grid_codes(session)
    response = call(client, "POST", f"/api/v1/areas/{C}/generate", body)
    assert response.status_code == 200, response.json
    cells = check_plan(response.json, 200)
    if grids is not None:
        assert len(cells) == grids
    from geo.crs import area_m2

    nominal = 500 * 500 if body["kind"] == "square" else 737_327.6  # H3 res 8 average
    assert min(area_m2(np.asarray(cells, dtype=object))) >= 0.2 * nominal
    assert live_grid_codes(session) == before


def test_balanced_preview_then_commit_replaces_the_grids(client, session, world):
    preview = call(
        client,
        "POST",
        f"/api/v1/areas/{C}/generate",
        {"kind": "balanced", "target_households": 50, "seed": 3},
    )
    check_plan(preview.json, 200)
    counts = [f["properties"]["households"] for f in preview.json["features"]]
    assert len(counts) == 4 and min(counts) >= 25 and max(counts) <= 75
    done = call(
        client,
        "POST",
        f"/api/v1/areas/{C}/generate",
        {"kind": "balanced", "target_households": 50, "seed": 3, "commit": True},
    )
    assert done.status_code == 201, done.json
    assert done.json["retired"] == [f"{C}{n:03d}" for n in range(1, 5)]
    assert done.json["created"] == [f"{C}{n:03d}" for n in range(5, 9)]
    assert live_grid_codes(session) == done.json["created"]
    assigned = current_grid_codes(session, world.households)
    per_grid = {code: list(assigned.values()).count(code) for code in done.json["created"]}
    assert list(per_grid.values()) == counts


@pytest.mark.parametrize(
    ("code", "body", "status", "field"),
    [
        (C, {"kind": "triangle"}, 422, "kind"),
        (C, {"kind": "square", "cell_m": 10}, 422, "cell_m"),
        (C, {"kind": "square", "cell_m": "big"}, 422, "cell_m"),  # refused by the schema
        (C, {"kind": "hexagon", "resolution": 13}, 422, "resolution"),
        (C, {"kind": "balanced", "target_households": 0}, 422, "target_households"),
        ("511381001", {"kind": "square", "cell_m": 500}, 422, None),
        ("999", {"kind": "square", "cell_m": 500}, 404, None),
    ],
)
def test_bad_generator_requests(client, session, world, code, body, status, field):
    response = call(client, "POST", f"/api/v1/areas/{code}/generate", body)
    assert response.status_code == status
    if field:
        assert response.json["error"]["details"]["field"] == field
    assert (
        session.scalar(
            select(func.count())
            .select_from(Area)
            .where(Area.level == "grid", Area.valid_to.is_(None))
        )
        == 4
    )
