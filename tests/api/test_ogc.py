"""The OGC API - Features documents themselves: links, paging, errors."""

from __future__ import annotations

import pytest

from tests.conftest import login
from tests.factories import add_user, build_world

C = "511381001001"


def test_landing_conformance_collections_and_paging(client, session):
    build_world(session)
    add_user(session, "p", "planner")
    session.commit()
    assert client.get("/ogc").status_code == 401
    login(client, "p")
    landing = client.get("/ogc").json
    assert {link["rel"] for link in landing["links"]} == {"self", "conformance", "data"}
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
    assert client.get("/ogc/collections/grids/items?sortby=code").status_code == 400
