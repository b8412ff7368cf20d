"""The worker's page, the incident pages and the residents' report form through the test client:
who may open them, what they show, that no personal data leaks into them, and what the public
form refuses (nothing of a refused report is stored)."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from shapely import box
from sqlalchemy import func, select

from app.models import Incident, IncidentPhoto, Notification, PersonalDataRead
from app.services.assignment import assign_all
from app.web.assets import external_urls
from tests.conftest import csrf_token, login
from tests.factories import (
    STEP,
    X0,
    Y0,
    add_area,
    add_category,
    add_households,
    add_incident,
    add_user,
    build_world,
    image_bytes,
)

NW, NE, SW, SE = (f"511381001001{i:03d}" for i in range(1, 5))
# Households: name, phone, ID-like external id, position, tags.  3 in NW, 1 in SE.
PEOPLE = [
    ("张三", "13812341234", (X0 + 0.002, Y0 + STEP + 0.002), ["elderly_alone"]),
    ("欧阳娜娜", "15900005678", (X0 + 0.004, Y0 + STEP + 0.004), []),
    ("李四", "13600001111", (X0 + 0.006, Y0 + STEP + 0.006), ["key_person"]),
    ("赵六", "18800003333", (X0 + STEP + 0.005, Y0 + 0.005), []),
]
# Not inside an ASCII token (a hex element id can hold a run of digits); Chinese text around
# a number does not hide it.
PHONE_NUMBER = re.compile(r"(?<![0-9A-Za-z_.])1[3-9]\d{9}(?![0-9A-Za-z_])")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z_.])\d{17}[\dXx](?![0-9A-Za-z_])")
NW_CENTRE = (X0 + 0.5 * STEP, Y0 + 1.5 * STEP)
IN_DISTRICT_NO_GRID = (X0 - 0.02, Y0 - 0.02)
OUTSIDE_DISTRICT = (X0 + 1.0, Y0 + 1.0)
CONTACT_PHONE = "13987654321"


@pytest.fixture
def world(session):
    world = build_world(session)
    for number, (name, phone, point, tags) in enumerate(PEOPLE, start=1):
        add_households(session, [point], head_name=name, phone=phone, address=f"幸福路{number}号",
                       tags=tags)  # fmt: skip
    world.users = {
        "wang": add_user(session, "wang", "worker", grids=[world.grids["NW"]]),
        "li": add_user(session, "li", "worker", grids=[world.grids["SE"]]),
        "leader": add_user(session, "leader", "leader"),
        "admin": add_user(session, "admin", "admin"),
        "planner": add_user(session, "planner", "planner"),
    }
    world.category = add_category(session)
    assign_all(session)  # commits
    return world


def html_of(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    return response.get_data(as_text=True)


def embedded(html: str) -> dict:
    match = re.search(
        r'<script type="application/json" id="worker-data">(.*?)</script>', html, re.S
    )
    return json.loads(match.group(1))


def assert_no_personal_data(html: str) -> None:
    assert PHONE_NUMBER.findall(html) == []
    assert ID_NUMBER.findall(html) == []
    for name, *_ in PEOPLE:
        assert name not in html
        assert json.dumps(name)[1:-1] not in html  # nor \\uXXXX-escaped in a script


def queue_incident(session, world, *, hours: float, **values) -> Incident:
    now = datetime.now(UTC)
    return add_incident(
        session, world, "NW", world.category, status="dispatched",
        worker_id=world.users["wang"].id, created_at=now - timedelta(days=1),
        deadline_at=now + timedelta(hours=hours), **values,
    )  # fmt: skip


# --- the worker's page -------------------------------------------------------------------------


def test_worker_page_shows_my_grid_masked_households_and_points_without_personal_data(
    client, world
):
    login(client, "wang")
    html = html_of(client, "/worker")
    data = embedded(html)
    assert [f["properties"]["code"] for f in data["grids"]["features"]] == [NW]
    assert data["grids"]["features"][0]["geometry"]["type"] == "MultiPolygon"
    # Only the three NW households, as (lon, lat, vulnerable): 张三 lives alone, elderly.
    assert sorted(data["households"]) == sorted(
        [[round(p[0], 6), round(p[1], 6), int(t == ["elderly_alone"])] for _, _, p, t in PEOPLE[:3]]
    )
    assert data["queue"] is None  # my own queue comes from /api/v1/incidents/queue
    assert "张*" in html and "欧***" in html and "李*" in html
    assert "138****1234" in html and "159****5678" in html
    assert "幸福路4号" not in html  # SE is not wang's grid
    assert_no_personal_data(html)
    assert external_urls(html) == []
    assert 'id="bell"' in html


def test_worker_page_reads_no_personal_data(client, world, session):
    before = session.scalar(select(func.count()).select_from(PersonalDataRead))
    login(client, "wang")
    html_of(client, "/worker")
    assert session.scalar(select(func.count()).select_from(PersonalDataRead)) == before


def test_worker_page_is_for_workers_leaders_and_admins(client, world):
    assert client.get("/worker").status_code == 302  # to the login page
    login(client, "planner")
    assert "needs one of the roles" in html_of(client, "/worker", 403)


def test_a_worker_cannot_open_another_workers_page(client, world):
    login(client, "wang")
    html_of(client, f"/worker?user={world.users['li'].id}", 403)
    html_of(client, f"/worker?user={world.users['wang'].id}")


def test_a_leader_picks_a_worker_then_sees_the_page_read_only_without_contacts(
    client, world, session
):
    overdue = queue_incident(
        session, world, hours=-5, contact_name="钱八", contact_phone=CONTACT_PHONE
    )
    later = queue_incident(session, world, hours=200)
    session.commit()
    login(client, "leader")
    chooser = html_of(client, "/worker")
    assert f"/worker?user={world.users['wang'].id}" in chooser
    assert f"/worker?user={world.users['li'].id}" in chooser

    html = html_of(client, f"/worker?user={world.users['wang'].id}")
    assert "只读查看" in html
    data = embedded(html)
    assert [item["id"] for item in data["queue"]] == [overdue.id, later.id]
    assert data["queue"][0]["deadline_state"] == "overdue"
    assert all("contact" not in item for item in data["queue"])
    assert "钱八" not in html and CONTACT_PHONE not in html
    assert_no_personal_data(html)


def test_an_admin_sees_a_worker_page_masked_too(client, world, session):
    queue_incident(session, world, hours=30, contact_name="钱八", contact_phone=CONTACT_PHONE)
    session.commit()
    login(client, "admin")
    html = html_of(client, f"/worker?user={world.users['wang'].id}")
    assert_no_personal_data(html)
    assert "钱八" not in html


def test_a_leader_of_another_area_does_not_see_the_worker(client, world, session):
    other = add_area(session, "511381002", "七里街道", "street",
                     box(X0 + 0.03, Y0 + 0.03, X0 + 0.04, Y0 + 0.04), world.district)  # fmt: skip
    add_user(session, "far", "leader", area=other)
    session.commit()
    login(client, "far")
    html_of(client, f"/worker?user={world.users['wang'].id}", 404)
    assert "/worker?user=" not in html_of(client, "/worker")


def test_unknown_or_malformed_worker_ids_are_refused(client, world):
    login(client, "leader")
    html_of(client, "/worker?user=abc", 400)
    html_of(client, f"/worker?user={world.users['planner'].id}", 404)


def test_worker_queue_api_lists_my_open_incidents_by_deadline(client, world, session):
    later = queue_incident(session, world, hours=200)
    sooner = queue_incident(session, world, hours=-2)
    add_incident(session, world, "NW", world.category, status="closed",
                 worker_id=world.users["wang"].id)  # fmt: skip
    session.commit()
    login(client, "wang")
    body = client.get("/api/v1/incidents/queue").json
    assert [i["id"] for i in body["items"]] == [sooner.id, later.id]
    assert [i["deadline_state"] for i in body["items"]] == ["overdue", "ok"]


# --- address search ---------------------------------------------------------------------------


def test_address_search_answers_grid_and_workers_without_names_or_phones(client, world):
    login(client, "li")
    body = client.get("/api/v1/locate/address?q=路1号").json
    assert body["total"] == 1
    item = body["items"][0]
    assert item == {
        "address": "幸福路1号",
        "lon": pytest.approx(PEOPLE[0][2][0]),
        "lat": pytest.approx(PEOPLE[0][2][1]),
        "grid_code": NW,
        "grid_name": "第1网格",
        "workers": ["wang"],
    }
    everyone = client.get("/api/v1/locate/address?q=幸福路").json
    assert everyone["total"] == 4
    assert PHONE_NUMBER.findall(json.dumps(everyone)) == []


def test_address_search_refuses_short_queries_and_takes_wildcards_literally(client, world):
    assert client.get("/api/v1/locate/address?q=幸福路").status_code == 401
    login(client, "wang")
    short = client.get("/api/v1/locate/address?q=a")
    assert short.status_code == 400
    assert short.json["error"]["details"] == {"field": "q"}
    assert client.get("/api/v1/locate/address?q=%25%25").json["total"] == 0
    assert client.get("/api/v1/locate/address?q=__").json["total"] == 0
    assert client.get("/api/v1/locate/address?q=幸福&limit=0").status_code == 400


# --- the report form and the incident page ------------------------------------------------------


def test_report_form_renders_for_staff_with_categories_and_photo_limits(client, world):
    login(client, "wang")
    html = html_of(client, "/incidents/new")
    assert '<option value="road">道路破损</option>' in html
    assert 'accept="image/*"' in html and "capture" in html
    assert 'data-max-photos="5"' in html
    assert 'name="channel" value="patrol"' in html
    assert external_urls(html) == []


def test_report_form_is_not_for_planners(client, world):
    login(client, "planner")
    html_of(client, "/incidents/new", 403)


def test_incident_page_shows_status_deadline_places_timeline_and_next_steps(client, world, session):
    login(client, "wang")
    token = csrf_token(client, "/incidents/new")
    created = client.post(
        "/api/v1/incidents",
        data={"category": "road", "description": "路面塌陷", "lon": NW_CENTRE[0],
              "lat": NW_CENTRE[1], "channel": "patrol",
              "photos": [(io.BytesIO(image_bytes()), "a.png")]},
        headers={"X-CSRFToken": token},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert created.status_code == 201, created.json
    incident_id = created.json["id"]
    photo_id = created.json["photo_ids"][0]
    html = html_of(client, f"/incidents/{incident_id}")
    assert f"#{incident_id} 道路破损" in html
    assert '<span class="status-badge" id="status-name">上报</span>' in html
    assert f"第1网格（{NW}）" in html
    assert "测试社区" in html and "保宁街道" in html
    assert f"/api/v1/incidents/{incident_id}/photos/{photo_id}" in html
    assert re.search(r'<li data-to="submitted">\s*<strong>上报</strong>', html)
    for step in ("accepted", "rejected"):
        assert f'data-step="{step}"' in html
    assert external_urls(html) == []


def test_incident_page_times_are_in_shanghai(client, world, session):
    incident = add_incident(session, world, "NW", world.category, status="submitted",
                            created_at=datetime(2026, 3, 2, 1, 30, tzinfo=UTC))  # fmt: skip
    session.commit()
    login(client, "wang")
    assert "2026-03-02 09:30" in html_of(client, f"/incidents/{incident.id}")


def test_incident_page_offers_reroute_and_duplicates(client, world, session):
    original = add_incident(session, world, "NW", world.category, status="dispatched",
                            point=(X0 + STEP - 0.0001, Y0 + 1.5 * STEP))  # fmt: skip
    near = add_incident(session, world, "NW", world.category, status="submitted",
                        point=(X0 + STEP - 0.0001, Y0 + 1.5 * STEP + 0.0002),
                        near_boundary=True,
                        candidate_grid_ids=[world.grids["NW"].id, world.grids["NE"].id])  # fmt: skip
    session.commit()
    login(client, "wang")
    html = html_of(client, f"/incidents/{near.id}")
    assert f'data-reroute="{NE}"' in html and f'data-reroute="{NW}"' not in html
    assert f'data-duplicate-of="{original.id}"' in html


def test_another_workers_incident_is_not_found(client, world, session):
    incident = add_incident(session, world, "SE", world.category, status="submitted")
    session.commit()
    login(client, "wang")
    html_of(client, f"/incidents/{incident.id}", 404)


def test_notifications_feed_the_bell(client, world, session):
    incident = queue_incident(session, world, hours=48)
    session.add(Notification(user_id=world.users["wang"].id, kind="dispatched",
                             message=f"事件 #{incident.id} 已派遣给您", incident_id=incident.id))  # fmt: skip
    session.commit()
    login(client, "wang")
    body = client.get("/api/v1/notifications").json
    assert body["unread"] == 1
    assert body["items"][0]["incident_id"] == incident.id
    token = csrf_token(client, "/worker")
    assert client.post("/api/v1/notifications/read", headers={"X-CSRFToken": token}).json == {
        "marked": 1,
        "unread": 0,
    }


# --- the residents' form ------------------------------------------------------------------------


def public_post(client, *, point=NW_CENTRE, json_answer=True, token=None, **fields):
    data = {
        "category": "road",
        "description": "路灯不亮",
        "lon": str(point[0]),
        "lat": str(point[1]),
        "crs": "wgs84",
        "contact_name": "钱八",
        "contact_phone": CONTACT_PHONE,
        "csrf_token": token or csrf_token(client, "/public/report"),
    } | fields
    headers = {"Accept": "application/json"} if json_answer else {}
    return client.post("/public/report", data=data, headers=headers,
                       content_type="multipart/form-data")  # fmt: skip


def count_incidents(session) -> int:
    return session.scalar(select(func.count()).select_from(Incident))


def test_public_form_needs_no_login_and_carries_no_personal_data(client, world):
    html = html_of(client, "/public/report")
    assert '<option value="road">道路破损</option>' in html
    assert 'name="website"' in html  # the honeypot
    assert 'data-max-photos="3"' in html
    assert 'id="bell"' not in html
    assert_no_personal_data(html)
    assert external_urls(html) == []


def test_a_resident_report_is_routed_stored_and_tracked_without_contacts(client, world, session):
    answer = public_post(client, photos=[(io.BytesIO(image_bytes()), "p.png")])
    assert answer.status_code == 201, answer.json
    incident = session.get(Incident, answer.json["id"])
    assert answer.json["page_url"] == f"/public/report/{incident.id}?new=1"
    assert (incident.channel, incident.status, incident.reporter_id) == ("web", "submitted", None)
    assert (incident.contact_name, incident.contact_phone) == ("钱八", CONTACT_PHONE)
    assert incident.grid_id == world.grids["NW"].id and not incident.needs_review
    assert (
        session.scalar(
            select(func.count())
            .select_from(IncidentPhoto)
            .where(IncidentPhoto.incident_id == incident.id)
        )
        == 1
    )
    # The worker of the grid is told.
    assert (
        session.scalar(
            select(Notification.message).where(Notification.user_id == world.users["wang"].id)
        )
        == f"新事件 #{incident.id}（道路破损，第1网格）"
    )

    status = html_of(client, answer.json["page_url"])
    assert f'<span id="tracking-number">{incident.id}</span>' in status
    assert '<dd id="public-status">上报</dd>' in status
    assert '<dd id="public-grid">第1网格</dd>' in status
    assert "道路破损" in status
    assert "钱八" not in status and CONTACT_PHONE not in status and "路灯不亮" not in status
    assert_no_personal_data(status)


def test_a_plain_form_post_is_redirected_to_the_status_page(client, world, session):
    answer = public_post(client, json_answer=False)
    assert answer.status_code == 303
    incident_id = session.scalar(select(func.max(Incident.id)))
    assert answer.headers["Location"] == f"/public/report/{incident_id}?new=1"


def test_a_point_in_the_district_but_in_no_grid_is_accepted_for_a_supervisor(
    client, world, session
):
    answer = public_post(client, point=IN_DISTRICT_NO_GRID)
    assert answer.status_code == 201, answer.json
    incident = session.get(Incident, answer.json["id"])
    assert incident.grid_id is None and incident.needs_review
    assert '<dd id="public-grid">待分派</dd>' in html_of(client, answer.json["page_url"])


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        ({"point": OUTSIDE_DISTRICT}, 422, "location"),
        ({"category": "nonsense"}, 422, "category"),
        ({"category": ""}, 400, "category"),
        ({"description": "  "}, 400, "description"),
        ({"lon": "east"}, 422, "lon"),
        ({"crs": "mercator"}, 422, "crs"),
        ({"contact_phone": "call me"}, 422, "contact_phone"),
        ({"website": "http://spam.example"}, 400, "website"),
    ],
)
def test_public_form_refusals_say_why_and_store_nothing(
    client, world, session, fields, status, field
):
    before = count_incidents(session)
    answer = public_post(client, **fields)
    assert answer.status_code == status, answer.json
    assert answer.json["error"]["details"]["field"] == field
    assert answer.json["error"]["message"]
    assert count_incidents(session) == before


def test_public_form_refuses_more_than_three_photos_and_non_images(client, world, session):
    before = count_incidents(session)
    four = [(io.BytesIO(image_bytes()), f"p{i}.png") for i in range(4)]
    answer = public_post(client, photos=four)
    assert answer.status_code == 422
    assert "At most 3 photos" in answer.json["error"]["message"]
    fake = public_post(client, photos=[(io.BytesIO(b"GIF89a not really"), "x.gif")])
    assert fake.status_code == 422
    assert fake.json["error"]["details"]["field"] == "photos"
    assert count_incidents(session) == before


def test_public_form_shows_the_reason_on_a_plain_form_post(client, world, session):
    answer = public_post(client, json_answer=False, point=OUTSIDE_DISTRICT)
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert "未能提交：" in html and "outside the district" in html
    assert CONTACT_PHONE not in html and "钱八" not in html


def test_public_form_needs_its_csrf_token(client, world, session):
    before = count_incidents(session)
    answer = public_post(client, token="forged")
    assert answer.status_code == 400
    assert count_incidents(session) == before


def test_public_form_refuses_a_body_over_the_limit(app, client, world, session, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    before = count_incidents(session)
    big = (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 100_000), "big.png")
    answer = public_post(client, photos=[big])
    assert answer.status_code == 413
    assert count_incidents(session) == before


def test_status_page_shows_only_resident_reports(client, world, session):
    patrol = add_incident(session, world, "NW", world.category, status="submitted")
    session.commit()
    html_of(client, f"/public/report/{patrol.id}", 404)
    html_of(client, "/public/report/999999", 404)
    assert client.get("/public/report/track?n=12").headers["Location"] == "/public/report/12"
    html_of(client, "/public/report/track?n=abc", 400)
