"""The incidents API: intake as JSON and multipart, lists and filters, one case, steps,
re-routing, photos, notifications; every refusal a 4xx that stores nothing."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.models import Incident, IncidentCategory, IncidentEvent, IncidentPhoto
from app.services.auth import issue_token
from app.services.escalation import escalate_overdue
from tests.conftest import csrf_token, login
from tests.factories import (
    STEP,
    X0,
    Y0,
    add_category,
    add_incident,
    add_user,
    build_world,
    image_bytes,
)

NW = (X0 + STEP / 2, Y0 + 1.5 * STEP)
NEAR_EDGE = (X0 + STEP - 10 / 94_800, Y0 + 1.5 * STEP)


@pytest.fixture
def world(session):
    world = build_world(session)
    world.users["w1"] = add_user(session, "w1", "worker", grids=[world.grids["NW"]])
    world.users["w2"] = add_user(session, "w2", "worker", grids=[world.grids["NE"]])
    world.users["boss"] = add_user(session, "boss", "leader")
    world.users["plan"] = add_user(session, "plan", "planner")
    add_category(session, "road", "道路破损", deadline_days=3)
    return world


def bearer(session, username):
    return {"Authorization": f"Bearer {issue_token(session, username)}"}


def report(client, headers, **values):
    body = {"category": "road", "description": "路灯不亮", "lon": NW[0], "lat": NW[1]} | values
    return client.post("/api/v1/incidents", json=body, headers=headers)


def count(session, model=Incident) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_json_intake_answers_with_the_routed_case(client, session, world):
    response = report(
        client, bearer(session, "w1"), contact_name="李四", contact_phone="13912345678"
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert response.headers["Location"] == f"/api/v1/incidents/{body['id']}"
    assert body["status"] == "submitted" and body["channel"] == "api"
    assert body["grid"]["code"] == world.grids["NW"].code
    assert body["community"]["code"] == world.community.code
    assert body["street"]["code"] == world.street.code
    assert body["worker"] == {"id": world.users["w1"].id, "name": "w1"}
    assert body["deadline_state"] in ("ok", "near")
    assert [t["to_status"] for t in body["timeline"]] == ["submitted"]
    # A worker sees the contact; a leader sees it masked.
    assert body["contact"] == {"name": "李四", "phone": "13912345678"}
    seen = client.get(f"/api/v1/incidents/{body['id']}", headers=bearer(session, "boss")).json
    assert seen["contact"] == {"name": "李*", "phone": "139****5678"}


def test_multipart_intake_with_photos_and_a_photo_read_back(client, session, world):
    headers = bearer(session, "w1")
    data = {
        "category": "road",
        "description": "井盖缺失",
        "lon": str(NW[0]),
        "lat": str(NW[1]),
        "photos": [
            (io.BytesIO(image_bytes("PNG")), "a.png"),
            (io.BytesIO(image_bytes("WEBP")), "b.webp"),
        ],
    }
    response = client.post("/api/v1/incidents", data=data, headers=headers)
    assert response.status_code == 201, response.json
    ids = response.json["photo_ids"]
    assert len(ids) == 2 and response.json["timeline"][0]["photo_ids"] == ids
    photo = client.get(f"/api/v1/incidents/{response.json['id']}/photos/{ids[1]}", headers=headers)
    assert photo.status_code == 200 and photo.mimetype == "image/webp"
    assert photo.data == image_bytes("WEBP")
    other = client.get(
        f"/api/v1/incidents/{response.json['id']}/photos/{ids[1]}", headers=bearer(session, "w2")
    )
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("values", "status", "field"),
    [
        ({"category": None}, 422, "category"),
        ({"category": "ufo"}, 422, "category"),
        ({"lon": 120.0, "lat": 30.0}, 422, "location"),
        ({"crs": "wgs72"}, 422, "crs"),
        ({"lat": 95}, 422, "lat"),
        ({"channel": "open311"}, 400, "channel"),
        ({"surprise": 1}, 422, "surprise"),
    ],
)
def test_bad_intake_is_a_4xx_with_the_field_and_stores_nothing(
    client, session, world, values, status, field
):
    before = count(session)
    response = report(client, bearer(session, "w1"), **values)
    assert response.status_code == status, response.json
    assert response.json["error"]["details"]["field"] == field
    assert count(session) == before


def test_a_non_image_photo_is_refused_and_nothing_is_stored(client, session, world):
    data = {
        "category": "road",
        "description": "x",
        "lon": str(NW[0]),
        "lat": str(NW[1]),
        "photos": [(io.BytesIO(b"%PDF-1.4 not an image"), "scan.jpg")],
    }
    response = client.post("/api/v1/incidents", data=data, headers=bearer(session, "w1"))
    assert response.status_code == 422
    assert "scan.jpg" in response.json["error"]["message"]
    assert count(session) == 0 and count(session, IncidentPhoto) == 0


def test_planners_do_not_report(client, session, world):
    assert report(client, bearer(session, "plan")).status_code == 403


def test_list_filters_and_scope(client, session, world):
    headers = bearer(session, "w1")
    first = report(client, headers).json["id"]
    report(client, bearer(session, "w2"), lon=NW[0] + STEP, lat=NW[1])
    mine = client.get("/api/v1/incidents", headers=headers).json
    assert [i["id"] for i in mine["items"]] == [first] and mine["total"] == 1
    everything = client.get("/api/v1/incidents?status=submitted", headers=bearer(session, "boss"))
    assert everything.json["total"] == 2
    assert client.get("/api/v1/incidents?status=accepted", headers=headers).json["total"] == 0
    queue = client.get("/api/v1/incidents/queue", headers=headers).json
    assert [i["id"] for i in queue["items"]] == [first]


@pytest.mark.parametrize(
    ("query", "field"),
    [("colour=red", "colour"), ("status=done", "status"), ("since=yesterday", "since"),
     ("overdue=maybe", "overdue"), ("order=oldest", "order")],
)  # fmt: skip
def test_unknown_filters_are_400(client, session, world, query, field):
    response = client.get(f"/api/v1/incidents?{query}", headers=bearer(session, "boss"))
    assert response.status_code == 400
    assert response.json["error"]["details"]["field"] == field


def test_steps_over_the_api_and_illegal_ones(client, session, world):
    w1, boss = bearer(session, "w1"), bearer(session, "boss")
    case = report(client, w1).json["id"]
    url = f"/api/v1/incidents/{case}/transitions"
    accepted = client.post(url, json={"to": "accepted", "note": "已受理"}, headers=w1)
    assert accepted.status_code == 201
    assert accepted.json["status"] == "accepted"
    assert accepted.json["timeline"][-1]["note"] == "已受理"
    assert accepted.json["timeline"][-1]["by"]["name"] == "w1"
    assert accepted.json["next_steps"] == ["registered", "rejected", "duplicate"]
    illegal = client.post(url, json={"to": "closed"}, headers=w1)
    assert illegal.status_code == 409
    assert illegal.json["error"]["code"] == "illegal_transition"
    assert (
        client.post(url, json={"to": "accepted"}, headers=bearer(session, "w2")).status_code == 404
    )
    events = session.scalar(
        select(func.count()).select_from(IncidentEvent).where(IncidentEvent.incident_id == case)
    )
    assert events == 2
    assert client.post(url, json={"to": "registered"}, headers=w1).status_code == 201
    assert client.post(url, json={"to": "dispatched"}, headers=boss).status_code == 201
    bell = client.get("/api/v1/notifications", headers=w1).json
    assert bell["unread"] == 2
    assert [n["kind"] for n in bell["items"]] == ["dispatched", "assigned"]
    read = client.post("/api/v1/notifications/read", json={}, headers=w1)
    assert read.json == {"marked": 2, "unread": 0}


def test_reroute_over_the_api(client, session, world):
    w1 = bearer(session, "w1")
    case = report(client, w1, lon=NEAR_EDGE[0], lat=NEAR_EDGE[1]).json
    assert case["near_boundary"] is True
    assert [c["code"] for c in case["candidates"]] == [
        world.grids["NW"].code,
        world.grids["NE"].code,
    ]
    moved = client.post(
        f"/api/v1/incidents/{case['id']}/reroute",
        json={"grid": world.grids["NE"].code},
        headers=w1,
    )
    # The incident left w1's grid; w1 reported it, so still sees it.
    assert moved.status_code == 200, moved.json
    assert moved.json["grid"]["code"] == world.grids["NE"].code
    assert moved.json["worker"]["name"] == "w2"


def test_cookie_sessions_need_the_csrf_token(client, session, world):
    login(client, "w1")
    body = {"category": "road", "description": "x", "lon": NW[0], "lat": NW[1]}
    assert client.post("/api/v1/incidents", json=body).status_code == 400
    token = csrf_token(client, "/")
    ok = client.post("/api/v1/incidents", json=body, headers={"X-CSRFToken": token})
    assert ok.status_code == 201


def test_categories_are_listed(client, session, world):
    body = client.get("/api/v1/incidents/categories", headers=bearer(session, "w1")).json
    assert body == [{"code": "road", "name": "道路破损", "deadline_days": 3, "department": None}]


def test_a_worker_moving_a_case_out_of_their_grids_is_told_where_it_went(client, session, world):
    boss, w1 = bearer(session, "boss"), bearer(session, "w1")
    case = report(client, boss, lon=NEAR_EDGE[0], lat=NEAR_EDGE[1]).json
    assert case["worker"]["name"] == "w1"
    moved = client.post(
        f"/api/v1/incidents/{case['id']}/reroute", json={"grid": world.grids["NE"].code}, headers=w1
    )
    assert moved.status_code == 200, moved.json
    assert moved.json == {
        "id": case["id"],
        "grid": {"code": world.grids["NE"].code},
        "in_your_area": False,
    }
    assert client.get(f"/api/v1/incidents/{case['id']}", headers=w1).status_code == 404
    seen = client.get(f"/api/v1/incidents/{case['id']}", headers=bearer(session, "w2")).json
    assert seen["worker"]["name"] == "w2"


def test_a_leader_reads_the_cases_escalated_to_their_street(client, session, world):
    world.users["chief"] = add_user(session, "chief", "leader", area=world.street)
    category = session.scalar(select(IncidentCategory).where(IncidentCategory.code == "road"))
    late = add_incident(
        session, world, "NW", category, status="dispatched",
        deadline_at=datetime.now(UTC) - timedelta(days=10),
    )  # fmt: skip
    add_incident(session, world, "NE", category, deadline_at=datetime.now(UTC) + timedelta(days=3))
    escalate_overdue(session)
    body = client.get("/api/v1/incidents/escalated", headers=bearer(session, "chief")).json
    assert [i["id"] for i in body["items"]] == [late.id]
    assert body["items"][0]["escalation_level"] in ("street", "district")
    assert client.get("/api/v1/incidents/escalated", headers=bearer(session, "w1")).json == {
        "items": [],
        "total": 0,
    }
