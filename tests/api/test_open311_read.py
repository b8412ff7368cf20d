"""Open311 GeoReport v2, reading: discovery, services, service definitions and requests in
JSON and XML, the filters and defaults of the request list, and nothing personal in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import text

from app.services.calendar import SHANGHAI
from geo.crs import gcj02_to_wgs84
from tests import factories
from tests.factories import add_category, add_department, build_world

NOW = datetime.now(UTC)


def add_incident(*args, **values):
    """A resident's report (the public channels are the ones Open311 lists)."""
    return factories.add_incident(*args, **({"channel": "web"} | values))


@pytest.fixture
def world(session):
    world = build_world(session)
    department = add_department(session, "cg", "城管执法局")
    world.road = add_category(session, "road", "道路破损", deadline_days=3, department=department)
    world.light = add_category(session, "light", "路灯故障", deadline_days=5)
    session.commit()
    return world


def xml(response) -> ET.Element:
    assert response.content_type.startswith("text/xml"), response.content_type
    return ET.fromstring(response.data)


def test_discovery_json_names_this_endpoint(client, world):
    response = client.get("/open311/v2/discovery.json")
    assert response.status_code == 200
    assert response.content_type.startswith("application/json")
    body = response.json
    assert body["changeset"] and body["contact"] and "api_key" in body["key_service"]
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://localhost/open311/v2"
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]


def test_discovery_names_the_configured_contact(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "WANGGE_OPEN311_CONTACT", "12345 热线中心 0817-12345")
    assert client.get("/open311/v2/discovery.json").json["contact"] == "12345 热线中心 0817-12345"
    root = xml(client.get("/open311/v2/discovery.xml"))
    assert root.findtext("contact") == "12345 热线中心 0817-12345"


def test_discovery_xml_has_the_same_document(client, world):
    root = xml(client.get("/open311/v2/discovery.xml"))
    assert root.tag == "discovery"
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url") == "http://localhost/open311/v2"
    assert endpoint.findtext("type") == "production"
    assert [f.text for f in endpoint.findall("formats/format")] == [
        "text/xml",
        "application/json",
    ]


def test_services_json_lists_one_service_per_category(client, world):
    body = client.get("/open311/v2/services.json").json
    assert [s["service_code"] for s in body] == ["light", "road"]
    road = body[1]
    assert road["service_name"] == "道路破损"
    assert road["group"] == "城管执法局"
    assert road["metadata"] is True and road["type"] == "realtime"
    assert road["keywords"] == "道路破损,road"
    assert "城管执法局" in road["description"] and "3 个工作日" in road["description"]
    assert body[0]["group"] is None


def test_services_xml_lists_the_same_services(client, world):
    root = xml(client.get("/open311/v2/services.xml"))
    assert root.tag == "services"
    services = {s.findtext("service_code"): s for s in root.findall("service")}
    assert set(services) == {"light", "road"}
    assert services["road"].findtext("service_name") == "道路破损"
    assert services["road"].findtext("group") == "城管执法局"
    assert services["road"].findtext("metadata") == "true"
    assert services["road"].findtext("type") == "realtime"


def test_service_definition_in_both_formats(client, world):
    body = client.get("/open311/v2/services/road.json").json
    assert body["service_code"] == "road"
    codes = [(a["code"], a["variable"], a["required"]) for a in body["attributes"]]
    assert codes == [("report_guide", False, False), ("address_detail", True, False)]
    assert "lat/long" in body["attributes"][0]["description"]

    root = xml(client.get("/open311/v2/services/road.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "road"
    attributes = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attributes] == ["report_guide", "address_detail"]
    assert attributes[1].findtext("variable") == "true"
    assert attributes[1].findtext("datatype") == "string"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_is_a_404_in_open311_format(client, world, fmt):
    response = client.get(f"/open311/v2/services/nosuch.{fmt}")
    assert response.status_code == 404
    if fmt == "json":
        assert response.json == [
            {"code": 404, "description": "No service with service_code 'nosuch'."}
        ]
    else:
        root = xml(response)
        assert root.tag == "errors"
        assert root.findtext("error/code") == "404"
        assert "nosuch" in root.findtext("error/description")


def test_an_unsupported_format_is_refused_with_the_reason(client, world):
    response = client.get("/open311/v2/services.csv")
    assert response.status_code == 404
    assert response.json[0]["code"] == 404
    assert ".json or .xml" in response.json[0]["description"]


def test_an_unknown_path_answers_in_open311_format(client, world):
    response = client.get("/open311/v2/tokens.json")
    assert response.status_code == 404
    assert "discovery.json" in response.json[0]["description"]


def ids(response) -> list[str]:
    assert response.status_code == 200, response.data[:300]
    return [r["service_request_id"] for r in response.json]


def test_a_request_reports_its_public_fields(client, session, world):
    deadline = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
    incident = add_incident(
        session,
        world,
        "NW",
        world.road,
        status="dispatched",
        address="保宁街道 南街 12 号",
        deadline_at=deadline,
        created_at=NOW - timedelta(days=1),
        updated_at=NOW - timedelta(hours=2),
    )
    response = client.get(f"/open311/v2/requests/{incident.id}.json")
    assert response.status_code == 200
    (body,) = response.json
    assert body["service_request_id"] == str(incident.id)
    assert body["status"] == "open"
    assert body["status_notes"] == "dispatched 派遣"
    assert body["service_code"] == "road" and body["service_name"] == "道路破损"
    assert body["agency_responsible"] == "城管执法局"
    assert body["description"] == "测试事件"
    assert body["address"] == "保宁街道 南街 12 号"
    assert body["expected_datetime"] == "2026-12-04T00:00:00+08:00"
    requested = datetime.fromisoformat(body["requested_datetime"])
    assert requested.utcoffset() == timedelta(hours=8)
    assert abs(requested - (NOW - timedelta(days=1))) < timedelta(seconds=1)
    assert body["lat"] == pytest.approx(31.585) and body["long"] == pytest.approx(105.965)
    assert body["zipcode"] is None and body["media_url"] is None


@pytest.mark.parametrize(
    ("status", "open311"),
    [
        ("submitted", "open"),
        ("in_progress", "open"),
        ("reopened", "open"),
        ("closed", "closed"),
        ("rated", "closed"),
        ("rejected", "closed"),
        ("duplicate", "closed"),
    ],
)
def test_our_workflow_maps_to_open_or_closed(client, session, world, status, open311):
    incident = add_incident(session, world, "SE", world.road, status=status)
    (body,) = client.get(f"/open311/v2/requests/{incident.id}.json").json
    assert body["status"] == open311
    assert body["status_notes"].startswith(status.replace("_", " ") + " ")


def test_a_request_in_xml(client, session, world):
    incident = add_incident(session, world, "NE", world.light, status="closed")
    root = xml(client.get(f"/open311/v2/requests/{incident.id}.xml"))
    assert root.tag == "service_requests"
    (request,) = root.findall("request")
    assert request.findtext("service_request_id") == str(incident.id)
    assert request.findtext("status") == "closed"
    assert request.findtext("status_notes") == "closed 结案"
    assert request.findtext("service_code") == "light"
    assert request.find("agency_responsible").text is None  # present, empty
    assert float(request.findtext("lat")) == pytest.approx(31.585)
    assert float(request.findtext("long")) == pytest.approx(105.975)


@pytest.mark.parametrize("path", ["requests/999999999.json", "requests/abc.json"])
def test_an_unknown_request_is_a_404(client, world, path):
    response = client.get(f"/open311/v2/{path}")
    assert response.status_code == 404
    assert response.json[0]["code"] == 404
    assert "No service request" in response.json[0]["description"]


def test_unknown_request_in_xml(client, world):
    response = client.get("/open311/v2/requests/424242424.xml")
    assert response.status_code == 404
    assert xml(response).findtext("error/code") == "404"


def test_the_list_defaults_to_the_last_90_days_newest_first(client, session, world):
    old = add_incident(session, world, "NW", world.road, created_at=NOW - timedelta(days=100))
    older = add_incident(session, world, "NW", world.road, created_at=NOW - timedelta(days=20))
    newer = add_incident(session, world, "SW", world.light, created_at=NOW - timedelta(days=2))
    assert ids(client.get("/open311/v2/requests.json")) == [str(newer.id), str(older.id)]

    since = (NOW - timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
    listed = ids(client.get(f"/open311/v2/requests.json?start_date={since}"))
    assert listed == [str(newer.id), str(older.id), str(old.id)]


def test_the_date_range_filters_by_requested_time(client, session, world):
    first = add_incident(
        session, world, "NW", world.road, created_at=datetime(2026, 3, 1, 2, tzinfo=UTC)
    )
    march = add_incident(
        session, world, "NW", world.road, created_at=datetime(2026, 3, 10, 2, tzinfo=UTC)
    )
    add_incident(session, world, "NW", world.road, created_at=datetime(2026, 4, 1, 2, tzinfo=UTC))
    query = "start_date=2026-03-05T00:00:00%2B08:00&end_date=2026-03-20"
    assert ids(client.get(f"/open311/v2/requests.json?{query}")) == [str(march.id)]
    # Only an end date: the 90 days before it.
    end_only = ids(client.get("/open311/v2/requests.json?end_date=2026-03-20T00:00:00Z"))
    assert end_only == [str(march.id), str(first.id)]


def test_status_and_service_code_filters(client, session, world):
    open_road = add_incident(session, world, "NW", world.road, status="accepted")
    closed_road = add_incident(session, world, "NW", world.road, status="closed")
    open_light = add_incident(session, world, "NE", world.light, status="submitted")
    everything = {str(i.id) for i in (open_road, closed_road, open_light)}

    assert set(ids(client.get("/open311/v2/requests.json?status=open"))) == {
        str(open_road.id),
        str(open_light.id),
    }
    assert ids(client.get("/open311/v2/requests.json?status=closed")) == [str(closed_road.id)]
    assert set(ids(client.get("/open311/v2/requests.json?status=open,closed"))) == everything
    assert set(ids(client.get("/open311/v2/requests.json?service_code=light"))) == {
        str(open_light.id)
    }
    both = ids(client.get("/open311/v2/requests.json?service_code=road,light&status=open"))
    assert set(both) == {str(open_road.id), str(open_light.id)}


def test_request_ids_override_every_other_filter(client, session, world):
    old = add_incident(
        session, world, "NW", world.road, status="closed", created_at=NOW - timedelta(days=400)
    )
    recent = add_incident(session, world, "SE", world.light)
    add_incident(session, world, "SE", world.light)
    query = f"service_request_id={old.id},{recent.id}&status=open&service_code=light"
    assert ids(client.get(f"/open311/v2/requests.json?{query}")) == [str(recent.id), str(old.id)]


def test_the_list_in_xml(client, session, world):
    first = add_incident(session, world, "NW", world.road, created_at=NOW - timedelta(days=3))
    second = add_incident(session, world, "SE", world.light, created_at=NOW - timedelta(days=1))
    root = xml(client.get("/open311/v2/requests.xml"))
    assert root.tag == "service_requests"
    requests = root.findall("request")
    assert [r.findtext("service_request_id") for r in requests] == [str(second.id), str(first.id)]
    assert [r.findtext("service_code") for r in requests] == ["light", "road"]


def test_the_list_stops_at_1000_requests(client, session, world):
    incident = add_incident(session, world, "NW", world.road)
    session.execute(
        text(
            "INSERT INTO incidents (geom, category_id, description, channel, grid_id, created_at)"
            " SELECT geom, category_id, description, channel, grid_id, created_at - n * interval"
            " '1 minute' FROM incidents, generate_series(1, 1005) AS n WHERE id = :id"
        ),
        {"id": incident.id},
    )
    listed = ids(client.get("/open311/v2/requests.json"))
    assert len(listed) == 1000
    assert listed[0] == str(incident.id)


def test_coordinates_can_be_returned_in_gcj02_for_chinese_map_apps(client, session, world):
    incident = add_incident(session, world, "NW", world.road)
    (wgs,) = client.get(f"/open311/v2/requests/{incident.id}.json").json
    (gcj,) = client.get(f"/open311/v2/requests/{incident.id}.json?crs=gcj02").json
    assert (gcj["long"], gcj["lat"]) != pytest.approx((wgs["long"], wgs["lat"]), abs=1e-3)
    back = gcj02_to_wgs84([gcj["long"]], [gcj["lat"]])
    assert float(back[0][0]) == pytest.approx(wgs["long"], abs=1e-6)
    assert float(back[1][0]) == pytest.approx(wgs["lat"], abs=1e-6)
    (listed,) = client.get("/open311/v2/requests.json?crs=gcj02").json
    assert (listed["long"], listed["lat"]) == (gcj["long"], gcj["lat"])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=pending", "status"),
        ("start_date=yesterday", "start_date"),
        ("start_date=2026-03-02&end_date=2026-03-01", "start_date"),
        ("service_request_id=1,x", "service_request_id"),
        ("crs=utm", "crs"),
    ],
)
def test_bad_list_parameters_are_a_400_with_the_reason(client, world, query, field):
    response = client.get(f"/open311/v2/requests.json?{query}")
    assert response.status_code == 400
    (error,) = response.json
    assert error["code"] == 400
    assert field.split("_")[0] in error["description"]


def test_nothing_personal_appears_in_the_public_output(client, session, world):
    incident = add_incident(
        session,
        world,
        "NW",
        world.road,
        contact_name="王小明",
        contact_phone="13812345678",
        description="井盖丢失，请打 13987654321 联系，身份证 51138119800101123X",
        channel="open311",
    )
    for path in (
        f"/open311/v2/requests/{incident.id}.json",
        f"/open311/v2/requests/{incident.id}.xml",
        "/open311/v2/requests.json",
        "/open311/v2/requests.xml",
    ):
        page = client.get(path).get_data(as_text=True)
        assert str(incident.id) in page
        for secret in ("王小明", "13812345678", "13987654321", "51138119800101123X", "contact"):
            assert secret not in page, (path, secret)
        assert "139****4321" in page and "511***********123X" in page


def test_times_are_shown_in_shanghai_time(client, session, world):
    created = datetime(2026, 11, 1, 20, 30, tzinfo=UTC)
    incident = add_incident(session, world, "NW", world.road, created_at=created)
    (body,) = client.get(f"/open311/v2/requests/{incident.id}.json").json
    assert body["requested_datetime"] == "2026-11-02T04:30:00+08:00"
    assert datetime.fromisoformat(body["requested_datetime"]) == created.astimezone(SHANGHAI)


def test_workers_patrol_reports_are_not_public(client, session, world):
    public = add_incident(session, world, "NW", world.road, channel="hotline")
    patrol = add_incident(session, world, "NW", world.road, channel="patrol")
    listed = client.get("/open311/v2/requests.json").get_json()
    assert [r["service_request_id"] for r in listed] == [str(public.id)]
    assert client.get(f"/open311/v2/requests/{patrol.id}.json").status_code == 404
