"""The OGC API - Features documents themselves: links, paging, errors."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import login
from tests.factories import add_user, build_world

C = "511381001001"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def test_landing_conformance_collections_and_paging(client, session):
    build_world(session)
    add_user(session, "p", "planner")
    session.commit()
    assert client.get("/ogc").status_code == 401
    login(client, "p")
    landing = client.get("/ogc").json
    rels = {link["rel"]: link for link in landing["links"]}
    assert set(rels) == {"self", "service-desc", "service-doc", "conformance", "data"}
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    definition = client.get(rels["service-desc"]["href"].replace("http://localhost", ""))
    assert definition.mimetype == "application/vnd.oai.openapi+json"
    assert definition.mimetype_params["version"] == "3.0"
    assert definition.json["openapi"] == "3.0.3"
    assert set(definition.json["paths"]) == {
        "/",
        "/api",
        "/conformance",
        "/collections",
        "/collections/{collectionId}",
        "/collections/{collectionId}/items",
        "/collections/{collectionId}/items/{featureId}",
    }
    docs = client.get(rels["service-doc"]["href"].replace("http://localhost", ""))
    assert docs.status_code == 200 and b'data-spec="/ogc/api"' in docs.data
    conformance = client.get("/ogc/conformance").json["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conformance
    grids = client.get("/ogc/collections/grids").json
    assert grids["extent"]["spatial"]["bbox"][0] == pytest.approx([105.96, 31.57, 105.98, 31.59])
    page = client.get("/ogc/collections/grids/items?limit=3")
    assert page.mimetype == "application/geo+json"
    assert (page.json["numberMatched"], page.json["numberReturned"]) == (4, 3)
    following = next(link for link in page.json["links"] if link["rel"] == "next")["href"]
    rest = client.get(following.replace("http://localhost", "")).json
    assert [f["id"] for f in rest["features"]] == [f"{C}004"]
    assert not [link for link in rest["links"] if link["rel"] == "next"]
    item = client.get(f"/ogc/collections/grids/items/{C}002").json
    assert item["properties"]["name"] == "第2网格"
    assert client.get(f"/ogc/collections/streets/items/{C}002").status_code == 404
    unknown = client.get("/ogc/collections/roads")
    assert unknown.status_code == 404 and "grids" in unknown.json["error"]["message"]
    assert client.get("/ogc/collections/grids/items?limit=0").status_code == 400
    # Part 1, /req/core/fc-limit-response-1: above the maximum is served at the maximum.
    clamped = client.get("/ogc/collections/grids/items?limit=20000")
    assert clamped.status_code == 200 and clamped.json["numberReturned"] == 4
    assert "limit=10000" in clamped.json["links"][0]["href"]
    assert client.get("/ogc/collections/grids/items?sortby=code").status_code == 400


@pytest.fixture
def triangle_world(session, client):
    """The NW grid cut to the triangle under its diagonal (its envelope is still the square)."""
    world = build_world(session)
    session.execute(
        text(
            "UPDATE areas SET geom = ST_Multi(ST_GeomFromText("
            "'POLYGON((105.96 31.58, 105.97 31.58, 105.96 31.59, 105.96 31.58))', 4326)) "
            "WHERE code = :code"
        ),
        {"code": f"{C}001"},
    )
    add_user(session, "p", "planner")
    add_user(session, "w", "worker", grids=[world.grids["SE"]])
    session.commit()
    return world


CORNER = "105.967,31.587,105.9695,31.5895"  # in the triangle's envelope, not in the triangle
DIAGONAL = "105.961,31.581,105.963,31.583"


@pytest.mark.parametrize("path", ["/ogc/collections/grids/items", "/api/v1/areas"])
def test_bbox_selects_the_areas_that_intersect_it(client, triangle_world, path):
    login(client, "p")
    level = "&level=grid" if path.startswith("/api") else ""

    def codes(query: str) -> list[str]:
        response = client.get(f"{path}?{query}{level}")
        assert response.status_code == 200, response.get_data(as_text=True)[:200]
        return [f["id"] for f in response.json["features"]]

    assert codes(f"bbox={CORNER}") == []
    assert codes(f"bbox={DIAGONAL}") == [f"{C}001"]


def test_bbox_with_heights_and_in_epsg_4326(client, triangle_world):
    login(client, "p")
    items = "/ogc/collections/grids/items"

    def codes(query: str) -> list[str]:
        response = client.get(f"{items}?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)[:200]
        return [f["id"] for f in response.json["features"]]

    assert codes("bbox=105.961,31.581,-10,105.963,31.583,50") == [f"{C}001"]
    assert codes("bbox=105.967,31.587,0,105.9695,31.5895,9") == []
    epsg = "http://www.opengis.net/def/crs/EPSG/0/4326"
    assert codes(f"bbox=31.581,105.961,31.583,105.963&bbox-crs={epsg}") == [f"{C}001"]
    assert codes(f"bbox=105.961,31.571,105.979,31.579&bbox-crs={CRS84}") == [f"{C}003", f"{C}004"]
    for bad in ("bbox=1,2,3", "bbox=1,2,3,4,5", "bbox=105.9,31.5,106&bbox-crs=EPSG:3857"):
        response = client.get(f"{items}?{bad}")
        assert response.status_code == 400
        assert response.json["error"]["details"]["field"] in ("bbox", "bbox-crs")


def test_the_collection_extent_is_that_of_the_callers_areas(client, triangle_world):
    login(client, "w")
    grids = client.get("/ogc/collections/grids").json
    assert grids["extent"]["spatial"]["bbox"][0] == pytest.approx([105.97, 31.57, 105.98, 31.58])
    listed = client.get("/ogc/collections").json["collections"]
    extent = next(c for c in listed if c["id"] == "grids")["extent"]["spatial"]["bbox"][0]
    assert extent == pytest.approx([105.97, 31.57, 105.98, 31.58])
    login(client, "p")
    grids = client.get("/ogc/collections/grids").json
    assert grids["extent"]["spatial"]["bbox"][0] == pytest.approx([105.96, 31.57, 105.98, 31.59])
