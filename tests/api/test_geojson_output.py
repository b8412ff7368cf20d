"""Every GeoJSON geometry Wangge writes follows RFC 7946: exterior rings counter-clockwise,
holes clockwise (§3.1.6), at most 7 decimals; the other vector exports wind the same way.

The world's areas are stored the other way round (clockwise, with a counter-clockwise hole)
and with coordinates of 12 decimals, so every output has to do the work itself.
"""

from __future__ import annotations

import json
import re
import zipfile
from datetime import date

import geopandas as gpd
import pytest
import shapely
from geoalchemy2.shape import from_shape
from sqlalchemy import text

from app.models.hazards import Hazard, ReconstructionSite
from app.services.assignment import assign_all
from tests.conftest import login
from tests.factories import X0, Y0, add_households, add_user, build_world

C = "511381001001"
NW = f"{C}001"
NUMBER = re.compile(r"-?\d+\.(\d+)")


def signed_area(ring) -> float:
    """Shoelace: positive for counter-clockwise."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:])) / 2


def polygons(geometry: dict) -> list:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["coordinates"]
    if geometry["type"] == "GeometryCollection":
        return [p for g in geometry["geometries"] for p in polygons(g)]
    return []


def assert_rfc7946(geometry: dict, holes: int | None = None) -> None:
    found = 0
    for rings in polygons(geometry):
        assert signed_area(rings[0]) > 0, "exterior ring is clockwise"
        for hole in rings[1:]:
            assert signed_area(hole) < 0, "hole is counter-clockwise"
            found += 1
    if holes is not None:
        assert found == holes
    decimals = max(len(d) for d in NUMBER.findall(json.dumps(geometry)))
    assert decimals <= 7, f"{decimals} decimals"


def geometries(body) -> list[dict]:
    """Every ``geometry`` (or impact ``zone``) object anywhere in a JSON document."""
    found = []
    if isinstance(body, dict):
        for key, value in body.items():
            if key in ("geometry", "zone") and isinstance(value, dict) and "type" in value:
                found.append(value)
            else:
                found += geometries(value)
    elif isinstance(body, list):
        for item in body:
            found += geometries(item)
    return found


@pytest.fixture
def world(session, client):
    world = build_world(session)
    # Stored clockwise, with 12 decimals; the NW grid gets a counter-clockwise hole.
    session.execute(
        text(
            "UPDATE areas SET geom = ST_Multi(ST_ForcePolygonCW(ST_Translate(geom, 1.23456789e-9, "
            "-9.87654321e-10)))"
        )
    )
    session.execute(
        text(
            """
            UPDATE areas SET geom = ST_Multi(ST_ForcePolygonCW(ST_Difference(
                geom, ST_Buffer(ST_Centroid(geom), 0.001, 8))))
            WHERE code = :code
            """
        ),
        {"code": NW},
    )
    add_households(session, [(X0 + 0.002123456789, Y0 + 0.018123456789)], address="南街12号")
    add_user(session, "planner", "planner")
    assign_all(session)
    zone = shapely.MultiPolygon(
        [
            shapely.Polygon(
                [
                    (X0 + 0.001, Y0 + 0.011),
                    (X0 + 0.001, Y0 + 0.0191234567891),
                    (X0 + 0.009, Y0 + 0.011),
                ]
            )
        ]
    )
    assert not zone.geoms[0].exterior.is_ccw
    session.add(
        Hazard(name="滑坡", hazard_class="landslide", severity=3, geom=from_shape(zone, 4326))
    )
    session.add(
        ReconstructionSite(
            name="学校",
            site_type="school",
            owner="教育局",
            geom=from_shape(zone, 4326),
            planned_start=date(2026, 1, 1),
            planned_end=date(2026, 12, 31),
        )
    )
    session.commit()
    login(client, "planner")
    return world


def test_the_stored_rings_are_the_wrong_way_round(session, world):
    row = session.execute(
        text("SELECT ST_AsGeoJSON(geom)::json AS g FROM areas WHERE code = :c"), {"c": NW}
    ).one()
    with pytest.raises(AssertionError):
        assert_rfc7946(row.g)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/areas?level=grid",
        f"/api/v1/areas/{NW}",
        f"/api/v1/areas/{NW}/history",
        "/ogc/collections/grids/items",
        "/ogc/collections/districts/items",
        f"/ogc/collections/grids/items/{NW}",
        "/api/v1/hazards",
        "/api/v1/sites",
        "/api/v1/coverage",
        "/api/v1/areas/export?format=geojson",
    ],
)
def test_json_outputs_wind_and_round_as_rfc7946_says(client, world, path):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    found = geometries(json.loads(response.data))
    assert found, "no geometry in the response"
    for geometry in found:
        assert_rfc7946(geometry)
    if "grid" in path or "format" in path or path.endswith(NW) or "history" in path:
        assert any(h for g in found for p in polygons(g) for h in p[1:]), "the hole is lost"


def test_the_hazard_impact_zone_winds_counter_clockwise(client, world, session):
    from tests.conftest import csrf_token

    hazard_id = session.scalar(text("SELECT id FROM hazards"))
    headers = {"X-CSRFToken": csrf_token(client, "/")}
    run = client.post(f"/api/v1/hazards/{hazard_id}/impact", json={}, headers=headers)
    assert run.status_code in (200, 201), run.get_data(as_text=True)[:300]
    zones = geometries(run.json)
    assert zones
    for zone in zones:
        assert_rfc7946(zone)


@pytest.mark.parametrize(
    "path", ["/api/v1/households", "/api/v1/locate/address?q=南街", "/api/v1/sites"]
)
def test_points_are_written_with_at_most_7_decimals(client, world, path):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body = response.get_data(as_text=True)
    assert re.search(r"105\.96\d+", body), "no coordinate in the response"
    decimals = max(len(d) for d in NUMBER.findall(body))
    assert decimals <= 7, body[:400]


def test_an_import_fault_is_located_with_at_most_7_decimals(client, world):
    from tests.conftest import csrf_token

    far = shapely.box(100.123456789, 30.123456789, 100.223456789, 30.223456789)
    upload = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": "x"},
                    "geometry": shapely.geometry.mapping(far),
                }
            ],
        }
    ).encode()
    import io

    response = client.post(
        "/api/v1/areas/import",
        data={"file": (io.BytesIO(upload), "far.geojson"), "level": "grid"},
        headers={"X-CSRFToken": csrf_token(client, "/")},
        content_type="multipart/form-data",
    )
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    body = response.get_data(as_text=True)
    assert "location" in body and re.search(r"100\.1\d+", body), body[:400]
    assert max(len(d) for d in NUMBER.findall(body)) <= 7, body[:400]


@pytest.mark.parametrize("fmt", ["gpkg", "kml", "shp"])
def test_vector_exports_wind_as_their_format_says(client, world, tmp_path, fmt):
    response = client.get(f"/api/v1/areas/export?format={fmt}")
    assert response.status_code == 200
    path = tmp_path / f"areas.{fmt}"
    path.write_bytes(response.data)
    if fmt == "shp":
        with zipfile.ZipFile(path) as archive:
            archive.extractall(tmp_path / "shp")
        path = tmp_path / "shp" / "areas.shp"
    frame = gpd.read_file(path)
    assert len(frame) == 4
    holes = 0
    for geom in frame.geometry:
        for part in shapely.get_parts(geom):
            # ESRI's Shapefile is the one format whose exteriors run clockwise.
            assert part.exterior.is_ccw is (fmt != "shp")
            for ring in part.interiors:
                assert ring.is_ccw is (fmt == "shp")
                holes += 1
    assert holes == 1
    if fmt == "kml":
        coordinates = re.findall(r"<coordinates>([^<]*)</coordinates>", response.data.decode())
        decimals = max(len(d) for c in coordinates for d in NUMBER.findall(c))
        assert decimals <= 7
