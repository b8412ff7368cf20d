"""Phone and ID numbers typed into free text never leave, in any spelling, for a role without
personal data or for the public: incident descriptions, addresses and timeline notes (API and
pages), the Open311 feed in JSON and XML, webhooks, hazard and site descriptions, progress
notes, household addresses."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import shapely
from shapely import box
from sqlalchemy import select

from app.models import IncidentEvent, WebhookDelivery
from app.services.assignment import assign_all
from app.services.incidents import submit_incident
from app.services.sites import today
from tests.conftest import csrf_token, login
from tests.factories import (
    X0,
    Y0,
    add_category,
    add_department,
    add_households,
    add_incident,
    add_user,
    build_world,
)

# (as typed, the digits it spells, as it must appear masked)
SPELLINGS = [
    ("+8613512340002", "13512340002", "135****0002"),
    ("008613512340003", "13512340003", "135****0003"),
    ("135.1234.0005", "13512340005", "135****0005"),
    ("１３５１２３４０００６", "13512340006", "135****0006"),
    ("1 3 5 1 2 3 4 0 0 0 7", "13512340007", "135****0007"),
    ("0817-6230010", "08176230010", "081****0010"),
    ("(0817)6230011", "08176230011", "081****0011"),
    ("5113 8119 8001 0112 3X", "51138119800101123X", "511***********123X"),
    ("511381-19800101-1234", "511381198001011234", "511***********1234"),
]
DESCRIPTION = "井盖丢失，联系 " + "；".join(typed for typed, _, _ in SPELLINGS)


def assert_masked(page: str) -> None:
    folded = re.sub(
        r"[^0-9X]", "", page.translate(str.maketrans("０１２３４５６７８９Ｘ", "0123456789X"))
    )
    for typed, digits, masked in SPELLINGS:
        assert typed not in page, typed
        assert digits not in folded, typed
        assert masked in page, masked


@pytest.fixture
def world(session):
    world = build_world(session)
    department = add_department(session, "cg", "城管执法局", webhook_url="http://127.0.0.1:9/h")
    world.road = add_category(session, "road", "道路破损", department=department)
    world.users["admin"] = add_user(session, "admin", "admin")
    world.users["leader"] = add_user(session, "leader", "leader")
    world.users["planner"] = add_user(session, "planner", "planner")
    session.commit()
    return world


def resident_report(session, world):
    return add_incident(
        session,
        world,
        "NW",
        world.road,
        channel="web",
        description=DESCRIPTION,
        address="保宁路1号 " + SPELLINGS[0][0],
    )


@pytest.mark.parametrize(
    "path",
    [
        "/open311/v2/requests/{id}.json",
        "/open311/v2/requests/{id}.xml",
        "/open311/v2/requests.json",
        "/open311/v2/requests.xml",
    ],
)
def test_the_open311_feed_masks_every_spelling(client, session, world, path):
    incident = resident_report(session, world)
    session.commit()
    page = client.get(path.format(id=incident.id)).get_data(as_text=True)
    assert f"{incident.id}" in page
    assert "井盖丢失" in page
    assert_masked(page)


@pytest.mark.parametrize("username", ["leader", "planner"])
def test_incident_api_and_page_mask_free_text_for_roles_without_personal_data(
    client, session, world, username
):
    incident = resident_report(session, world)
    session.add(
        IncidentEvent(
            incident_id=incident.id,
            from_status="submitted",
            to_status="accepted",
            note="已电话联系 " + DESCRIPTION,
        )
    )
    session.commit()
    login(client, username)
    detail = client.get(f"/api/v1/incidents/{incident.id}")
    assert detail.status_code == 200
    assert_masked(detail.json["description"])
    assert_masked(detail.json["timeline"][0]["note"])
    assert "135****0002" in detail.json["address"]
    listing = json.dumps(client.get("/api/v1/incidents").json, ensure_ascii=False)
    assert "井盖丢失" in listing
    assert_masked(listing)
    if username == "leader":  # planners have no incident pages
        page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
        assert "井盖丢失" in page
        assert_masked(page)


def test_an_admin_sees_the_description_as_typed(client, session, world):
    incident = resident_report(session, world)
    session.commit()
    login(client, "admin")
    assert client.get(f"/api/v1/incidents/{incident.id}").json["description"] == DESCRIPTION


def test_webhook_payloads_are_masked_before_they_are_queued(session, world):
    submit_incident(
        session,
        category_code="road",
        description=DESCRIPTION,
        lon=X0 + 0.005,
        lat=Y0 + 0.015,
        crs="wgs84",
        channel="web",
        address="保宁路1号 " + SPELLINGS[1][0],
    )
    delivery = session.scalars(select(WebhookDelivery)).one()
    assert "井盖丢失" in delivery.payload["description"]
    assert_masked(delivery.payload["description"])
    assert delivery.payload["address"] == "保宁路1号 135****0003"


def test_hazard_descriptions_are_masked_for_roles_without_personal_data(client, session, world):
    login(client, "leader")
    headers = {"X-CSRFToken": csrf_token(client, "/")}
    zone = box(X0 + 0.002, Y0 + 0.012, X0 + 0.008, Y0 + 0.018)
    created = client.post(
        "/api/v1/hazards",
        json={
            "hazard_class": "flood",
            "severity": 2,
            "geometry": shapely.geometry.mapping(zone),
            "description": "巡查员 " + DESCRIPTION,
        },
        headers=headers,
    )
    assert created.status_code == 201
    assert_masked(created.json["properties"]["description"])
    assert_masked(client.get("/api/v1/hazards").get_data(as_text=True))
    assert_masked(client.get(f"/api/v1/hazards/{created.json['id']}").get_data(as_text=True))
    assert_masked(client.get("/map/hazards").get_data(as_text=True))


def test_site_description_and_progress_notes_are_masked(client, session, world):
    login(client, "leader")
    headers = {"X-CSRFToken": csrf_token(client, "/")}
    site = client.post(
        "/api/v1/sites",
        json={
            "name": "城北安置房",
            "site_type": "housing",
            "owner": "住建局",
            "geometry": {"type": "Point", "coordinates": [X0 + 0.005, Y0 + 0.005]},
            "planned_start": (today() - timedelta(days=10)).isoformat(),
            "planned_end": (today() + timedelta(days=10)).isoformat(),
            "description": DESCRIPTION,
        },
        headers=headers,
    ).json
    report = client.post(
        f"/api/v1/sites/{site['id']}/progress",
        data={"percent": "10", "note": DESCRIPTION},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert report.status_code == 201
    assert_masked(report.json["properties"]["description"])
    assert_masked(report.json["progress"][0]["note"])
    page = client.get(f"/sites/{site['id']}").get_data(as_text=True)
    assert "井盖丢失" in page
    assert_masked(page)


def test_household_addresses_are_masked_for_roles_without_personal_data(client, session, world):
    add_households(session, [(X0 + 0.005, Y0 + 0.005)], address="3栋 " + SPELLINGS[2][0])
    assign_all(session)
    session.commit()
    login(client, "leader")
    (item,) = client.get("/api/v1/households").json["items"]
    assert item["address"] == "3栋 135****0005"
