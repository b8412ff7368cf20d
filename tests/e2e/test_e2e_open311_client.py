"""A GeoReport v2 client from PyPI (``georeport``) reads the live server in JSON and in XML,
as an outside system would."""

from __future__ import annotations

import pytest
import requests
from georeport import GeoReport

from app.open311.clients import issue_key
from tests.factories import STEP, X0, Y0, add_category, add_department, build_world

SW = (X0 + 0.5 * STEP, Y0 + 0.5 * STEP)


@pytest.fixture
def posted(session, live_server):
    build_world(session)
    department = add_department(session, "cg", "城管执法局")
    add_category(session, "road", "道路破损", deadline_days=3, department=department)
    add_category(session, "light", "路灯故障", deadline_days=5)
    session.commit()
    key = issue_key(session, "12345热线")
    created = requests.post(
        f"{live_server}/open311/v2/requests.json",
        data={"api_key": key, "service_code": "light", "lat": SW[1], "long": SW[0]},
        timeout=20,
    )
    assert created.status_code == 201, created.text
    return created.json()[0]["service_request_id"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_client_reads_every_document(live_server, posted, fmt):
    client = GeoReport(f"{live_server}/open311/v2", output_format=fmt)
    services = client.get_service_list()
    assert [s["service_code"] for s in services] == ["light", "road"]
    assert services[1]["group"] == "城管执法局"
    definition = client.get_service_definition("road")
    assert definition["service_code"] == "road"
    attributes = definition["attributes"]
    if fmt == "xml":
        attributes = attributes["attribute"]
    assert {a["code"] for a in attributes} == {"report_guide", "address_detail"}
    listed = client.get_service_requests(service_code="light", status="open")
    if fmt == "xml":  # xmltodict gives one element as a mapping, several as a list
        listed = [listed] if isinstance(listed, dict) else listed
    assert [r["service_request_id"] for r in listed] == [posted]
    one = client.get_service_request(posted)
    assert one["service_code"] == "light" and one["status"] == "open"
    assert float(one["lat"]) == pytest.approx(SW[1]) and float(one["long"]) == pytest.approx(SW[0])
    with pytest.raises(requests.HTTPError) as refused:
        client.get_service_definition("nosuch")
    assert refused.value.response.status_code == 404
