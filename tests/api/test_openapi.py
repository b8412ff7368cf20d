"""The OpenAPI document covers every route, and its body schemas are the ones enforced."""

from __future__ import annotations

import re

import pytest

from tests.conftest import csrf_token, login
from tests.factories import add_user, build_world


@pytest.fixture
def document(client, session):
    build_world(session)
    add_user(session, "p", "planner")
    session.commit()
    login(client, "p")
    return client.get("/api/v1/openapi.json").json


def resolve(document: dict, ref: str) -> dict:
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_every_api_route_is_in_the_document(app, document):
    expected = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint.startswith("api."):
            if rule.endpoint == "api.openapi":
                continue
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            expected |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    found = {(path, method) for path, item in document["paths"].items() for method in item}
    assert found == expected
    assert document["openapi"] == "3.1.0"


def test_refs_resolve_and_bodies_name_their_required_fields(document):
    create = document["paths"]["/api/v1/areas"]["post"]
    schema = resolve(
        document, create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    )
    assert set(schema["required"]) == {"parent", "geometry"}
    assert schema["additionalProperties"] is False
    patch = document["paths"]["/api/v1/areas/{code}"]["patch"]
    assert {
        k: v
        for k, v in next(p for p in patch["parameters"] if p["in"] == "header").items()
        if k in ("name", "in", "required")
    } == {"name": "If-Match", "in": "header", "required": True}
    assert patch["responses"]["412"]["content"]["application/json"]["schema"]["$ref"] == (
        "#/components/schemas/Error"
    )
    for item in document["paths"].values():
        for operation in item.values():
            for response in operation["responses"].values():
                for content in response.get("content", {}).values():
                    if "$ref" in content["schema"]:  # else a binary download (see below)
                        resolve(document, content["schema"]["$ref"])
    locate = document["paths"]["/api/v1/locate"]["get"]
    assert [p["name"] for p in locate["parameters"]] == ["lon", "lat", "crs"]


def test_the_schema_is_what_the_api_enforces(client, document):
    body = {"parent": "511381001001", "geometry": {"type": "Polygon"}, "colour": "red"}
    response = client.post(
        "/api/v1/areas", json=body, headers={"X-CSRFToken": csrf_token(client, "/")}
    )
    assert response.status_code == 422
    assert response.json["error"]["details"]["field"] == "colour"
    assert "AreaCreate" in response.json["error"]["message"]


def test_the_docs_page_is_self_hosted(client, document):
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    from app.web.assets import external_urls

    assert external_urls(html) == []


def test_the_document_states_the_limits_the_server_enforces(document):
    households = document["paths"]["/api/v1/households"]["get"]
    by_name = {p["name"]: p["schema"] for p in households["parameters"]}
    assert by_name["limit"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 1000,
        "default": 100,
    }
    assert by_name["offset"]["maximum"] == 2**31 - 1
    address = document["paths"]["/api/v1/locate/address"]["get"]
    assert {p["name"]: p["schema"] for p in address["parameters"]}["limit"]["maximum"] == 50
    incident = document["paths"]["/api/v1/incidents/{incident_id}"]["get"]["parameters"][0]
    assert incident["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
    hazard = document["paths"]["/api/v1/hazards/{hazard_id}"]["get"]["parameters"][0]
    assert hazard["schema"]["maximum"] == 2**31 - 1
    step = document["components"]["schemas"]["IncidentStep"]["properties"]
    assert {"maximum": 5, "minimum": 1, "type": "integer"} in step["rating"]["anyOf"]
    hazards = document["paths"]["/api/v1/hazards"]["get"]["parameters"]
    assert {p["name"]: p["schema"] for p in hazards}["class"]["enum"][0] == "flood"


def test_every_operation_declares_its_success_answer(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            success = [s for s in operation["responses"] if s.startswith("2")]
            assert success, (method, path)
            for status in success:
                content = operation["responses"][status]["content"]
                for media in content.values():
                    schema = media["schema"]
                    if "$ref" in schema:
                        assert resolve(document, schema["$ref"]), (method, path)
                    else:
                        assert schema == {"type": "string", "format": "binary"}, (method, path)
    export = document["paths"]["/api/v1/areas/export"]["get"]["responses"]["200"]["content"]
    assert export["application/geo+json"]["schema"]["$ref"].endswith("/FeatureCollection")
    assert "application/geopackage+sqlite3" in export
    listed = document["paths"]["/api/v1/areas"]["get"]["responses"]["200"]["content"]
    page = resolve(document, listed["application/json"]["schema"]["$ref"])
    assert {"type", "features", "total", "limit", "offset", "next_offset"} <= set(page["required"])


def test_the_document_refuses_what_the_server_refuses(document):
    """Header, query and body rules the server applies are in the document too."""
    from app.errors import BadRequest
    from app.services.areas import parse_version

    split = document["paths"]["/api/v1/areas/{code}/split"]["post"]["parameters"]
    if_match = re.compile(next(p for p in split if p["name"] == "If-Match")["schema"]["pattern"])
    for value in ('"3"', 'W/"3"', "3", "*", '"123456789"'):
        assert if_match.search(value), value
        parse_version(value)
    for value in ('""', 'W/""', '"TRUE"', '"e"', '"1", "2"', "W/", ""):
        assert not if_match.search(value), value
        with pytest.raises(Exception) as refused:
            parse_version(value)
        assert isinstance(refused.value, BadRequest) or value == ""
    address = document["paths"]["/api/v1/locate/address"]["get"]["parameters"]
    q = next(p for p in address if p["name"] == "q")["schema"]
    assert (q["minLength"], q["maxLength"]) == (2, 100)
    assert next(p for p in address if p["name"] == "q")["required"] is True
    for value, ok in (("ab", True), ("a b", True), (" a", False), ("a ", False), ("  ", False)):
        assert bool(re.search(q["pattern"], value)) is ok, value
    for name in ("ImpactRequest", "ImpactSetRequest"):
        buffer_m = document["components"]["schemas"][name]["properties"]["buffer_m"]
        assert (buffer_m["minimum"], buffer_m["maximum"]) == (0, 5000)
    from geo.crs import parse_crs

    for name in ("AreaCreate", "HazardCreate", "HouseholdCreate", "SiteCreate"):
        crs = document["components"]["schemas"][name]["properties"]["crs"]
        assert set(crs["enum"]) == {
            "wgs84",
            "cgcs2000",
            "gcj02",
            "bd09",
            "EPSG:4326",
            "EPSG:4490",
            None,
        }
        assert all(parse_crs(value) for value in crs["enum"])
