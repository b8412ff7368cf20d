"""TileJSON 3.0.0 per vector-tile layer: a client loads it, fills in its tile template,
fetches a tile and finds the layer and fields the document announced."""

from __future__ import annotations

import gzip
import math

import mapbox_vector_tile
import pytest

from app.services.assignment import assign_all
from tests.conftest import login
from tests.factories import STEP, X0, Y0, add_households, add_user, build_world

LAYERS = ["grids", "communities", "streets", "households"]


@pytest.fixture
def world(session, client):
    world = build_world(session)
    add_households(session, [(X0 + STEP / 2, Y0 + 1.5 * STEP), (X0 + 1.5 * STEP, Y0 + STEP / 2)])
    add_user(session, "leader", "leader")
    add_user(session, "w", "worker", grids=[world.grids["SE"]])
    assign_all(session)
    session.commit()
    return world


def tile_of(lon: float, lat: float, z: int) -> dict:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return {"z": z, "x": x, "y": y}


def fetch_tile(client, template: str, address: dict) -> dict:
    url = template
    for key, value in address.items():
        url = url.replace("{" + key + "}", str(value))
    assert url.startswith("http://localhost/tiles/")
    response = client.get(url.removeprefix("http://localhost"))
    assert response.status_code == 200
    data = response.data
    if response.headers.get("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    return mapbox_vector_tile.decode(data)


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_has_tilejson_whose_template_serves_its_tiles(client, world, layer):
    login(client, "leader")
    response = client.get(f"/tiles/{layer}.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    doc = response.json
    assert doc["tilejson"] == "3.0.0"
    assert doc["scheme"] == "xyz"
    assert (doc["minzoom"], doc["maxzoom"]) == (0, 22)
    assert doc["bounds"] == pytest.approx([X0, Y0, X0 + 2 * STEP, Y0 + 2 * STEP])
    lon, lat, zoom = doc["center"]
    assert (lon, lat) == pytest.approx((X0 + STEP, Y0 + STEP))
    assert 0 <= zoom <= 22
    (template,) = doc["tiles"]
    assert template == f"http://localhost/tiles/{layer}/{{z}}/{{x}}/{{y}}.pbf"
    (announced,) = doc["vector_layers"]
    assert announced["id"] == layer
    tile = fetch_tile(client, template, tile_of(lon, lat, 12))
    assert list(tile) == [layer]
    features = tile[layer]["features"]
    assert features
    seen = set().union(*(f["properties"] for f in features))
    if layer != "households":
        seen.add("id")  # the feature id (ST_AsMVT's id column), listed as a field too
        assert all(isinstance(f["id"], int) and f["id"] > 0 for f in features)
    assert seen <= set(announced["fields"])
    # Every announced field is carried by some feature (households_per_worker only with one).
    assert set(announced["fields"]) - seen <= {"households_per_worker"}


def test_the_bounds_are_those_of_the_callers_scope(client, world):
    login(client, "w")
    doc = client.get("/tiles/grids.json").json
    assert doc["bounds"] == pytest.approx([X0 + STEP, Y0, X0 + 2 * STEP, Y0 + STEP])
    assert doc["center"][:2] == pytest.approx([X0 + 1.5 * STEP, Y0 + 0.5 * STEP])


def test_unknown_layer_and_anonymous_caller(client, world):
    assert client.get("/tiles/grids.json").status_code == 401
    login(client, "leader")
    missing = client.get("/tiles/roads.json")
    assert missing.status_code == 404
    assert "grids, communities, streets, households" in missing.json["error"]["message"]
