"""Intake: routing to grid, community, street, worker and department; duplicates; photos;
near-boundary candidates; refusals that store nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.errors import BadRequest, InvalidData, PayloadTooLarge
from app.models import Incident, IncidentEvent, IncidentPhoto, Notification, WebhookDelivery
from app.services.incidents import submit_incident
from app.services.photos import PhotoUpload
from geo import crs as geocrs
from tests.factories import (
    STEP,
    X0,
    Y0,
    add_category,
    add_department,
    add_user,
    build_world,
    image_bytes,
)

# Monday 2026-03-02 10:00 in Shanghai: no holiday nearby.
MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
NW_CENTRE = (X0 + STEP / 2, Y0 + 1.5 * STEP)


@pytest.fixture
def world(session):
    world = build_world(session)
    world.users["w1"] = add_user(session, "w1", "worker", grids=[world.grids["NW"]])
    world.users["w2"] = add_user(session, "w2", "worker", grids=[world.grids["NE"]])
    department = add_department(session, webhook_url="http://127.0.0.1:9/hook")
    add_category(session, "road", "道路破损", deadline_days=3, department=department)
    add_category(session, "litter", "垃圾堆放", deadline_days=1)
    return world


def submit(session, **values):
    args = {
        "category_code": "road",
        "description": "路面塌陷",
        "lon": NW_CENTRE[0],
        "lat": NW_CENTRE[1],
        "crs": None,
        "channel": "patrol",
        "now": MONDAY,
    }
    return submit_incident(session, **(args | values))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_intake_routes_to_grid_community_street_worker_and_department(session, world):
    intake = submit(session, reporter_id=world.users["w1"].id)
    incident = intake.incident
    assert incident.grid_id == world.grids["NW"].id
    assert incident.community_id == world.community.id
    assert incident.street_id == world.street.id
    assert incident.worker_id == world.users["w1"].id
    assert incident.department_id is not None
    assert incident.status == "submitted"
    assert incident.near_boundary is False and incident.candidate_grid_ids == []
    # Three working days after Monday: the end of Thursday, Shanghai time.
    assert incident.deadline_at == datetime(2026, 3, 5, 16, 0, tzinfo=UTC)
    events = session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id))
    assert [(e.from_status, e.to_status) for e in events] == [(None, "submitted")]
    notices = session.scalars(select(Notification).where(Notification.incident_id == incident.id))
    assert [(n.user_id, n.kind) for n in notices] == [(world.users["w1"].id, "assigned")]
    hooks = session.scalars(select(WebhookDelivery)).all()
    assert [(h.event, h.payload["incident_id"]) for h in hooks] == [
        ("incident.created", incident.id)
    ]


def test_gcj02_input_is_converted_before_routing(session, world):
    gx, gy = (float(v) for v in geocrs.wgs84_to_gcj02(*NW_CENTRE))
    incident = submit(session, lon=gx, lat=gy, crs="gcj02").incident
    assert incident.grid_id == world.grids["NW"].id
    stored = session.execute(
        select(func.ST_X(Incident.geom), func.ST_Y(Incident.geom)).where(Incident.id == incident.id)
    ).one()
    assert stored[0] == pytest.approx(NW_CENTRE[0], abs=1e-7)
    assert stored[1] == pytest.approx(NW_CENTRE[1], abs=1e-7)


def test_a_point_near_a_boundary_is_flagged_with_both_grids(session, world):
    # 10 m west of the NW/NE edge, inside NW.
    x = X0 + STEP - 10 / 94_800
    incident = submit(session, lon=x, lat=NW_CENTRE[1]).incident
    assert incident.grid_id == world.grids["NW"].id
    assert incident.near_boundary is True
    assert incident.candidate_grid_ids == [world.grids["NW"].id, world.grids["NE"].id]


def test_possible_duplicates_are_open_same_category_within_250m_and_30_days(session, world):
    first = submit(session).incident
    # 150 m east: a duplicate candidate.
    near = (NW_CENTRE[0] + 150 / 94_800, NW_CENTRE[1])
    second = submit(session, lon=near[0], lat=near[1], now=MONDAY + timedelta(days=1))
    assert [d.id for d in second.duplicates] == [first.id]
    assert second.duplicates[0].distance_m == pytest.approx(150, abs=2)
    # Another category at the same place: not a duplicate.
    other = submit(session, category_code="litter", now=MONDAY + timedelta(days=1))
    assert other.duplicates == []
    # 31 days later: too old.
    late = submit(session, lon=near[0], lat=near[1], now=MONDAY + timedelta(days=31))
    assert [d.id for d in late.duplicates] == [second.incident.id]
    # 400 m away: too far.
    far = submit(session, lon=NW_CENTRE[0], lat=NW_CENTRE[1] - 400 / 111_320)
    assert first.id not in [d.id for d in far.duplicates]


def test_a_closed_incident_is_not_a_duplicate_candidate(session, world):
    first = submit(session).incident
    first.status = "closed"
    session.flush()
    assert submit(session, now=MONDAY + timedelta(hours=1)).duplicates == []


def test_photos_are_stored_with_the_first_timeline_entry(session, world):
    photos = [PhotoUpload("a.png", image_bytes("PNG")), PhotoUpload("b.jpg", image_bytes("JPEG"))]
    incident = submit(session, photos=photos).incident
    stored = session.scalars(
        select(IncidentPhoto)
        .where(IncidentPhoto.incident_id == incident.id)
        .order_by(IncidentPhoto.id)
    ).all()
    assert [p.content_type for p in stored] == ["image/png", "image/jpeg"]
    assert stored[0].data == photos[0].data and stored[0].event_id is not None


@pytest.mark.parametrize(
    ("values", "error", "field"),
    [
        ({"category_code": None}, BadRequest, "category"),
        ({"category_code": "ufo"}, InvalidData, "category"),
        ({"description": "  "}, BadRequest, "description"),
        ({"lon": "east"}, InvalidData, "lon"),
        ({"crs": "wgs72"}, InvalidData, "crs"),
        ({"lon": 120.0, "lat": 30.0}, InvalidData, "location"),
        ({"photos": [PhotoUpload("x.txt", b"hello, not an image")]}, InvalidData, "photos"),
        (
            {"photos": [PhotoUpload("fake.jpg", b"\xff\xd8\xff" + b"0" * 100)]},
            InvalidData,
            "photos",
        ),
        (
            {"photos": [PhotoUpload(f"{i}.png", image_bytes()) for i in range(6)]},
            InvalidData,
            "photos",
        ),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(session, world, values, error, field):
    before = [count(session, m) for m in (Incident, IncidentEvent, IncidentPhoto, Notification)]
    with pytest.raises(error) as caught:
        submit(session, **values)
    assert caught.value.details["field"] == field
    after = [count(session, m) for m in (Incident, IncidentEvent, IncidentPhoto, Notification)]
    assert after == before


def test_an_oversize_photo_is_413(session, world, app):
    app.config["WANGGE_MAX_PHOTO_MB"] = 1
    try:
        with pytest.raises(PayloadTooLarge, match="limit is 1 MB"):
            submit(session, photos=[PhotoUpload("big.png", image_bytes() + b"\0" * 1_100_000)])
    finally:
        app.config["WANGGE_MAX_PHOTO_MB"] = 5
    assert count(session, Incident) == 0


def test_outside_every_grid_the_resident_form_accepts_it_for_review(session, world):
    # Inside the district and street, west of the community: no grid.
    x, y = X0 - 0.02, Y0 + 0.01
    with pytest.raises(InvalidData) as caught:
        submit(session, lon=x, lat=y)
    assert caught.value.code == "outside_grids"
    incident = submit(session, lon=x, lat=y, channel="web", allow_unrouted=True).incident
    assert incident.grid_id is None and incident.needs_review is True
    assert incident.street_id == world.street.id and incident.community_id is None
    # Outside the district even the resident form refuses it.
    with pytest.raises(InvalidData, match="outside the district"):
        submit(session, lon=120.0, lat=30.0, channel="web", allow_unrouted=True)
