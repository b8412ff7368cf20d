"""Open311 GeoReport v2, posting: a keyed outside system reports an incident that is routed
to its grid; every refusal (400, 403, 404, 413) is in Open311's error format and stores
nothing; keys are issued once and revoked from the CLI."""

from __future__ import annotations

import hashlib
from xml.etree import ElementTree as ET

import pytest
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select

from app.models import Incident, IncidentEvent, Open311Client
from app.open311.clients import issue_key, revoke_key
from geo.crs import wgs84_to_gcj02
from tests.factories import STEP, X0, Y0, add_category, add_department, build_world

NE = (X0 + 1.5 * STEP, Y0 + 1.5 * STEP)
SW = (X0 + 0.5 * STEP, Y0 + 0.5 * STEP)
FAR_AWAY = (104.06, 30.67)  # Chengdu: no grid of ours


@pytest.fixture
def world(session):
    world = build_world(session)
    department = add_department(session, "cg", "城管执法局")
    add_category(session, "road", "道路破损", deadline_days=3, department=department)
    add_category(session, "light", "路灯故障", deadline_days=5)
    session.commit()
    world.key = issue_key(session, "12345热线")
    return world


def fields(world, **values) -> dict:
    base = {
        "api_key": world.key,
        "service_code": "road",
        "lat": NE[1],
        "long": NE[0],
        "description": "人行道地砖松动",
    }
    return {k: v for k, v in (base | values).items() if v is not None}


def incidents(session) -> int:
    return session.scalar(select(func.count()).select_from(Incident))


def test_a_form_post_creates_an_incident_routed_to_its_grid(client, session, world):
    response = client.post(
        "/open311/v2/requests.json",
        data=fields(
            world,
            first_name="三",
            last_name="张",
            phone="13812345678",
            email="zhang@example.com",
            address_string="保宁街道 南街 12 号",
            media_url="http://example.com/photo.jpg",
            **{"attribute[address_detail]": "3栋2单元"},
        ),
    )
    assert response.status_code == 201, response.data
    assert response.content_type.startswith("application/json")
    (created,) = response.json
    assert created["account_id"] is None
    assert created["service_notice"].startswith("已受理，预计 ")
    incident = session.get(Incident, int(created["service_request_id"]))
    assert incident.channel == "open311"
    assert incident.grid_id == world.grids["NE"].id
    assert incident.community_id == world.community.id
    assert incident.status == "submitted"
    assert incident.description == "人行道地砖松动"
    assert incident.address == "保宁街道 南街 12 号 3栋2单元"
    assert (incident.contact_name, incident.contact_phone) == ("张三", "13812345678")
    client_row = session.scalar(select(Open311Client).where(Open311Client.name == "12345热线"))
    assert incident.open311_client_id == client_row.id
    point = to_shape(incident.geom)
    assert (point.x, point.y) == pytest.approx(NE)
    events = session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id))
    assert [e.to_status for e in events] == ["submitted"]


def test_the_contact_is_stored_but_never_read_back(client, session, world):
    response = client.post(
        "/open311/v2/requests.json",
        data=fields(world, first_name="小明", last_name="王", phone="13912345678"),
    )
    request_id = response.json[0]["service_request_id"]
    assert "王小明" not in response.get_data(as_text=True)
    for path in (
        f"/open311/v2/requests/{request_id}.json",
        f"/open311/v2/requests/{request_id}.xml",
        "/open311/v2/requests.json",
        "/open311/v2/requests.xml",
    ):
        page = client.get(path).get_data(as_text=True)
        assert request_id in page
        assert "王小明" not in page and "小明" not in page and "13912345678" not in page


def test_a_json_body_is_accepted_and_xml_answered(client, session, world):
    response = client.post(
        "/open311/v2/requests.xml",
        json=fields(world, service_code="light", lat=SW[1], long=SW[0]),
    )
    assert response.status_code == 201
    assert response.content_type.startswith("text/xml")
    root = ET.fromstring(response.data)
    assert root.tag == "service_requests"
    request_id = root.findtext("request/service_request_id")
    assert root.find("request/account_id").text is None
    incident = session.get(Incident, int(request_id))
    assert incident.grid_id == world.grids["SW"].id
    assert incident.department_id is None


def test_gcj02_coordinates_are_converted_before_routing(client, session, world):
    x, y = wgs84_to_gcj02([SW[0]], [SW[1]])
    response = client.post(
        "/open311/v2/requests.json",
        data=fields(world, long=float(x[0]), lat=float(y[0]), crs="gcj02"),
    )
    assert response.status_code == 201, response.data
    incident = session.get(Incident, int(response.json[0]["service_request_id"]))
    point = to_shape(incident.geom)
    assert point.x == pytest.approx(SW[0], abs=1e-7)
    assert point.y == pytest.approx(SW[1], abs=1e-7)
    assert incident.grid_id == world.grids["SW"].id


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"service_code": None}, "service_code is required"),
        ({"lat": "abc"}, "lat must be a number"),
        ({"lat": None}, "lat is required"),
        ({"long": "200"}, "long must be between -180 and 180"),
        ({"crs": "utm"}, "unknown coordinate system"),
        ({"lat": None, "long": None}, "A location is required: lat and long, address_string"),
        ({"description": "长" * 4001}, "description is 4001 characters long; the limit is 4000"),
        ({"attribute[colour]": "red"}, "Unknown attribute 'colour'"),
    ],
)
def test_bad_fields_are_a_400_with_the_reason(client, session, world, values, reason):
    before = incidents(session)
    response = client.post("/open311/v2/requests.json", data=fields(world, **values))
    assert response.status_code == 400
    (error,) = response.json
    assert error["code"] == 400
    assert reason in error["description"]
    assert incidents(session) == before


def test_a_400_in_xml(client, session, world):
    response = client.post("/open311/v2/requests.xml", data=fields(world, lat="abc"))
    assert response.status_code == 400
    root = ET.fromstring(response.data)
    assert root.tag == "errors"
    assert root.findtext("error/code") == "400"
    assert "lat must be a number" in root.findtext("error/description")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_code_is_a_404(client, session, world, fmt):
    # GeoReport v2, POST Service Request: "404 - service_code ... provided were not found".
    before = incidents(session)
    response = client.post(f"/open311/v2/requests.{fmt}", data=fields(world, service_code="x"))
    assert response.status_code == 404
    if fmt == "json":
        (error,) = response.json
    else:
        root = ET.fromstring(response.data)
        assert root.tag == "errors"
        error = {"code": int(root.findtext("error/code")), "description": ""}
        error["description"] = root.findtext("error/description")
    assert error["code"] == 404
    assert "Unknown service_code 'x'; known service codes: light, road" in error["description"]
    assert incidents(session) == before


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"description": {"text": "x"}}, "description must be text"),
        ({"lat": True}, "lat must be a number"),
        ({"phone": ["138"]}, "phone must be text"),
        ({"description": "bad\x00byte"}, "description contains a NUL character"),
        ({"attribute": {"address_detail": 3}}, "attribute[address_detail] must be text"),
        ({"attribute": "5栋"}, "attribute must be an object"),
    ],
)
def test_hostile_json_fields_are_a_400(client, session, world, values, reason):
    before = incidents(session)
    response = client.post("/open311/v2/requests.json", json=fields(world, **values))
    assert response.status_code == 400
    assert reason in response.json[0]["description"]
    assert incidents(session) == before


def test_a_json_attribute_object_fills_the_address_detail(client, session, world):
    response = client.post(
        "/open311/v2/requests.json",
        json=fields(world, address_string="南街", attribute={"address_detail": "5栋"}),
    )
    assert response.status_code == 201
    incident = session.get(Incident, int(response.json[0]["service_request_id"]))
    assert incident.address == "南街 5栋"


def test_a_body_that_is_not_a_json_object_is_a_400(client, session, world):
    response = client.post(
        "/open311/v2/requests.json", data="[1, 2]", content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON body must be an object" in response.json[0]["description"]


@pytest.mark.parametrize("key", [None, "", "not-a-key"])
def test_a_missing_or_wrong_key_is_a_403_and_stores_nothing(client, session, world, key):
    before = incidents(session)
    response = client.post("/open311/v2/requests.json", data=fields(world, api_key=key))
    assert response.status_code == 403
    (error,) = response.json
    assert error["code"] == 403 and "api_key" in error["description"]
    assert incidents(session) == before


def test_a_revoked_key_is_a_403_in_xml(client, session, world):
    revoke_key(session, "12345热线")
    before = incidents(session)
    response = client.post("/open311/v2/requests.xml", data=fields(world))
    assert response.status_code == 403
    root = ET.fromstring(response.data)
    assert root.findtext("error/code") == "403"
    assert "revoked" in root.findtext("error/description")
    assert incidents(session) == before


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_point_outside_every_grid_is_a_400(client, session, world, fmt):
    # GeoReport has no 422: a request it cannot take is a 400 ("general service error").
    before = incidents(session)
    response = client.post(
        f"/open311/v2/requests.{fmt}", data=fields(world, long=FAR_AWAY[0], lat=FAR_AWAY[1])
    )
    assert response.status_code == 400
    if fmt == "json":
        (error,) = response.json
        assert error["code"] == 400 and "no grid" in error["description"]
    else:
        assert ET.fromstring(response.data).findtext("error/code") == "400"
    assert incidents(session) == before


def test_a_body_over_the_limit_is_a_413(client, session, world):
    before = incidents(session)
    response = client.post(
        "/open311/v2/requests.json", data=fields(world, description="x" * (1024 * 1024 + 1))
    )
    assert response.status_code == 413
    (error,) = response.json
    assert error["code"] == 413 and "limit is 1048576 bytes" in error["description"]
    assert incidents(session) == before


def test_the_cli_issues_a_key_once_and_revokes_it(client, runner, session, world):
    result = runner.invoke(args=["wangge", "issue-open311-key", "wechat-mini"])
    assert result.exit_code == 0, result.output
    key = result.output.strip()
    assert len(key) >= 40
    row = session.scalar(select(Open311Client).where(Open311Client.name == "wechat-mini"))
    assert row.key_sha256 == hashlib.sha256(key.encode()).hexdigest()
    assert key not in row.key_sha256
    posted = client.post("/open311/v2/requests.json", data=fields(world, api_key=key))
    assert posted.status_code == 201

    again = runner.invoke(args=["wangge", "issue-open311-key", "wechat-mini"])
    assert again.exit_code != 0 and "already has an active key" in again.output

    revoked = runner.invoke(args=["wangge", "issue-open311-key", "wechat-mini", "--revoke"])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    session.refresh(row)
    assert row.revoked_at is not None
    refused = client.post("/open311/v2/requests.json", data=fields(world, api_key=key))
    assert refused.status_code == 403

    renewed = runner.invoke(args=["wangge", "issue-open311-key", "wechat-mini"])
    new_key = renewed.output.strip()
    assert renewed.exit_code == 0 and new_key != key
    assert (
        client.post("/open311/v2/requests.json", data=fields(world, api_key=key)).status_code == 403
    )
    accepted = client.post("/open311/v2/requests.json", data=fields(world, api_key=new_key))
    assert accepted.status_code == 201


def test_revoking_an_unknown_client_fails_with_the_reason(runner, world):
    result = runner.invoke(args=["wangge", "issue-open311-key", "nobody", "--revoke"])
    assert result.exit_code != 0
    assert "No Open311 client named 'nobody'" in result.output
