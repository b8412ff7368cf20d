"""Every ``bbox`` filter selects what intersects the box, not what its envelope reaches:
areas (API and OGC, in test_ogc.py), hazards and reconstruction sites."""

from __future__ import annotations

from datetime import date

import pytest
import shapely
from geoalchemy2.shape import from_shape

from app.models.hazards import Hazard, ReconstructionSite
from tests.conftest import login
from tests.factories import X0, Y0, add_user, build_world

# The triangle under the diagonal of a 0.01-degree square; its envelope is the whole square.
TRIANGLE = shapely.MultiPolygon([shapely.Polygon([(X0, Y0), (X0 + 0.01, Y0), (X0, Y0 + 0.01)])])
CORNER = f"{X0 + 0.007},{Y0 + 0.007},{X0 + 0.0095},{Y0 + 0.0095}"  # in the envelope only
INSIDE = f"{X0 + 0.001},{Y0 + 0.001},{X0 + 0.003},{Y0 + 0.003}"


@pytest.fixture
def world(session, client):
    world = build_world(session)
    geom = from_shape(TRIANGLE, 4326)
    session.add(Hazard(name="滑坡", hazard_class="landslide", severity=3, geom=geom))
    session.add(
        ReconstructionSite(
            name="学校",
            site_type="school",
            owner="教育局",
            geom=geom,
            planned_start=date(2026, 1, 1),
            planned_end=date(2026, 12, 31),
        )
    )
    add_user(session, "planner", "planner")
    session.commit()
    login(client, "planner")
    return world


@pytest.mark.parametrize("path", ["/api/v1/hazards", "/api/v1/sites"])
def test_bbox_selects_what_intersects_the_box(client, world, path):
    def names(bbox: str) -> list[str]:
        response = client.get(f"{path}?bbox={bbox}")
        assert response.status_code == 200, response.get_data(as_text=True)[:200]
        return [f["properties"]["name"] for f in response.json["features"]]

    assert names(CORNER) == []
    assert len(names(INSIDE)) == 1
