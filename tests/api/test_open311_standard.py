"""Open311 GeoReport v2 as the specification words it: a location by address instead of
lat/long, an optional description of up to 4,000 characters, the spec's statuses, every error
in its own format (JSON and XML, 404, 405 and 429 included), element names exactly the
spec's, and a discovery changeset that follows the services."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select, text
from werkzeug.exceptions import TooManyRequests

from app.models import Incident
from app.open311.clients import issue_key
from tests.factories import STEP, X0, Y0, add_category, add_department, add_households, build_world

NE = (X0 + 1.5 * STEP, Y0 + 1.5 * STEP)
SW = (X0 + 0.5 * STEP, Y0 + 0.5 * STEP)

# GeoReport v2's element names: each element and the children it may hold.
SPEC = {
    "discovery": {"changeset", "contact", "key_service", "endpoints"},
    "endpoints": {"endpoint"},
    "endpoint": {"specification", "url", "changeset", "type", "formats"},
    "formats": {"format"},
    "services": {"service"},
    "service": {
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    },
    "service_definition": {"service_code", "attributes"},
    "attributes": {"attribute"},
    "attribute": {
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
        "values",
    },
    "values": {"value"},
    "value": {"key", "name"},
    "service_requests": {"request"},
    "request": {
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
        "account_id",
        "token",
    },
    "errors": {"error"},
    "error": {"code", "description"},
}


def assert_spec_elements(element: ET.Element) -> None:
    """Every element is one the spec names, under the parent the spec puts it in."""
    allowed = SPEC.get(element.tag, set())
    for child in element:
        assert child.tag in allowed, f"<{child.tag}> inside <{element.tag}>"
        assert_spec_elements(child)


@pytest.fixture
def world(session):
    world = build_world(session)
    department = add_department(session, "cg", "城管执法局")
    add_category(session, "road", "道路破损", deadline_days=3, department=department)
    add_category(session, "light", "路灯故障", deadline_days=5)
    add_households(session, [NE], address="南街12号")
    add_households(session, [(NE[0] + 0.0001, NE[1])], address="南街12号3栋101")
    add_households(session, [SW], address="北街7号")
    add_households(session, [(SW[0], SW[1] + 0.0002)], address="北街7号2单元")
    add_households(session, [NE], address="东街1号")
    add_households(session, [SW], address="东街1号附楼")  # same name, 1.5 km away
    session.execute(
        text("UPDATE households SET external_id = 'ADDR-' || id WHERE address = '北街7号'")
    )
    session.commit()
    world.key = issue_key(session, "12345热线")
    world.sw_address_id = session.scalar(
        text("SELECT external_id FROM households WHERE address = '北街7号'")
    )
    return world


def post(client, world, fmt="json", **values):
    body = {"api_key": world.key, "service_code": "road"} | values
    return client.post(f"/open311/v2/requests.{fmt}", data=body)


def incident_of(session, response) -> Incident:
    assert response.status_code == 201, response.get_data(as_text=True)
    if response.content_type.startswith("text/xml"):
        request_id = ET.fromstring(response.data).findtext("request/service_request_id")
    else:
        request_id = response.json[0]["service_request_id"]
    return session.get(Incident, int(request_id))


def test_a_request_without_description_is_taken(client, session, world):
    incident = incident_of(session, post(client, world, lat=NE[1], long=NE[0]))
    assert incident.description == ""
    assert incident.grid_id == world.grids["NE"].id
    read = client.get(f"/open311/v2/requests/{incident.id}.json").json[0]
    assert read["description"] == ""


def test_a_description_of_4000_characters_is_taken(client, session, world):
    text_ = "路" * 4000
    incident = incident_of(session, post(client, world, lat=NE[1], long=NE[0], description=text_))
    assert incident.description == text_


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_address_string_locates_through_the_address_index(client, session, world, fmt):
    incident = incident_of(session, post(client, world, fmt, address_string="北街7号"))
    assert (to_shape(incident.geom).x, to_shape(incident.geom).y) == pytest.approx(SW)
    assert incident.grid_id == world.grids["SW"].id
    assert incident.address == "北街7号"
    # Several addresses of one building: the shortest, when they lie together.
    incident = incident_of(session, post(client, world, fmt, address_string="南街12"))
    assert incident.grid_id == world.grids["NE"].id


def test_address_id_locates_the_register_entry(client, session, world):
    incident = incident_of(session, post(client, world, address_id=world.sw_address_id))
    assert incident.grid_id == world.grids["SW"].id
    assert (to_shape(incident.geom).x, to_shape(incident.geom).y) == pytest.approx(SW)


@pytest.mark.parametrize(
    ("values", "field", "reason"),
    [
        ({"address_string": "西街99号"}, "address_string", "matches no known address"),
        ({"address_string": "东街1号附"}, None, None),  # one match: taken
        ({"address_string": "东街"}, "address_string", "matches 2 addresses in different"),
        ({"address_id": "ADDR-0"}, "address_id", "No address with address_id 'ADDR-0'"),
        ({}, "lat", "A location is required: lat and long, address_string or address_id"),
        ({"lat": NE[1]}, "long", "long is required"),
    ],
)
def test_locations_that_cannot_be_found_are_a_400(client, session, world, values, field, reason):
    before = session.scalar(select(func.count()).select_from(Incident))
    response = post(client, world, **values)
    if reason is None:
        assert incident_of(session, response).grid_id == world.grids["SW"].id
        return
    assert response.status_code == 400
    (error,) = response.json
    assert error["code"] == 400 and reason in error["description"]
    assert session.scalar(select(func.count()).select_from(Incident)) == before


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/open311/v2/requests.json", {"GET", "HEAD", "OPTIONS", "POST"}),
        ("DELETE", "/open311/v2/requests/1.xml", {"GET", "HEAD", "OPTIONS"}),
        ("POST", "/open311/v2/services.xml", {"GET", "HEAD", "OPTIONS"}),
        ("PATCH", "/open311/v2/discovery.json", {"GET", "HEAD", "OPTIONS"}),
    ],
)
def test_a_wrong_method_is_a_405_in_open311s_format(client, world, method, path, allow):
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == allow
    if path.endswith(".xml"):
        root = ET.fromstring(response.data)
        assert root.tag == "errors" and root.findtext("error/code") == "405"
        assert_spec_elements(root)
    else:
        assert response.json == [{"code": 405, "description": response.json[0]["description"]}]
        assert "not allowed" in response.json[0]["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_paths_and_ids_are_a_404_in_the_asked_format(client, world, fmt):
    for path in (f"/open311/v2/nothing.{fmt}", f"/open311/v2/requests/999.{fmt}"):
        response = client.get(path)
        assert response.status_code == 404
        if fmt == "xml":
            root = ET.fromstring(response.data)
            assert root.tag == "errors" and root.findtext("error/code") == "404"
        else:
            assert response.json[0]["code"] == 404


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_429_is_rendered_in_open311s_format_with_retry_after(app, world, fmt):
    with app.test_request_context(f"/open311/v2/requests.{fmt}", method="POST"):
        response = app.make_response(app.handle_user_exception(TooManyRequests(retry_after=30)))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    if fmt == "xml":
        root = ET.fromstring(response.get_data())
        assert root.findtext("error/code") == "429"
    else:
        assert response.json[0]["code"] == 429


def test_every_xml_document_uses_the_specs_element_names(client, session, world):
    incident = incident_of(session, post(client, world, "xml", lat=SW[1], long=SW[0]))
    created = post(client, world, "xml", lat=SW[1], long=SW[0], description="井盖缺失")
    for path in (
        "/open311/v2/discovery.xml",
        "/open311/v2/services.xml",
        "/open311/v2/services/road.xml",
        "/open311/v2/requests.xml",
        f"/open311/v2/requests/{incident.id}.xml",
        "/open311/v2/services/nosuch.xml",
    ):
        root = ET.fromstring(client.get(path).data)
        assert root.tag in SPEC, path
        assert_spec_elements(root)
    assert_spec_elements(ET.fromstring(created.data))
    listed = ET.fromstring(client.get("/open311/v2/requests.xml").data)
    assert len(listed.findall("request")) == 2
    assert {r.findtext("description") for r in listed} == {"井盖缺失", ""}


def test_every_json_document_uses_the_specs_names(client, session, world):
    incident = incident_of(session, post(client, world, lat=SW[1], long=SW[0]))
    assert set(client.get("/open311/v2/discovery.json").json) <= SPEC["discovery"]
    for service in client.get("/open311/v2/services.json").json:
        assert set(service) == SPEC["service"]
    definition = client.get("/open311/v2/services/road.json").json
    assert set(definition) == SPEC["service_definition"]
    for attribute in definition["attributes"]:
        assert set(attribute) <= SPEC["attribute"]
    (read,) = client.get(f"/open311/v2/requests/{incident.id}.json").json
    assert set(read) <= SPEC["request"]


def test_the_discovery_changeset_follows_the_services(client, session, world):
    def changeset() -> str:
        body = client.get("/open311/v2/discovery.json").json
        assert body["endpoints"][0]["changeset"] == body["changeset"]
        root = ET.fromstring(client.get("/open311/v2/discovery.xml").data)
        assert root.findtext("changeset") == body["changeset"]
        return body["changeset"]

    first = changeset()
    assert first == changeset()
    session.execute(text("UPDATE incident_categories SET name = '路面破损' WHERE code = 'road'"))
    session.commit()
    renamed = changeset()
    assert renamed != first
    add_category(session, "tree", "树木倒伏", deadline_days=2)
    session.commit()
    assert changeset() not in (first, renamed)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unexpected_error_is_an_open311_500_without_internals(app, world, fmt):
    with app.test_request_context(f"/open311/v2/services.{fmt}"):
        response = app.make_response(app.handle_user_exception(RuntimeError("password=hunter2")))
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "hunter2" not in body and "Internal server error." in body
    if fmt == "xml":
        assert ET.fromstring(body).findtext("error/code") == "500"
    else:
        assert response.json == [{"code": 500, "description": "Internal server error."}]
