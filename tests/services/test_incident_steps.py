"""Workflow steps in the database: timeline, roles and scope, rating, duplicates, re-routing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.errors import Conflict, Forbidden, InvalidData, NotFound
from app.models import IncidentEvent, Notification
from app.services.auth import scope_for
from app.services.incidents import reroute, submit_incident, transition
from tests.factories import STEP, X0, Y0, add_category, add_user, build_world

MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
NEAR_EDGE = (X0 + STEP - 10 / 94_800, Y0 + 1.5 * STEP)  # in NW, 10 m from NE


@pytest.fixture
def world(session):
    world = build_world(session)
    world.users["w1"] = add_user(session, "w1", "worker", grids=[world.grids["NW"]])
    world.users["w2"] = add_user(session, "w2", "worker", grids=[world.grids["NE"]])
    world.users["boss"] = add_user(session, "boss", "leader", area=world.street)
    world.users["admin"] = add_user(session, "admin", "admin")
    add_category(session, "road", "道路破损", deadline_days=3)
    return world


def new_incident(session, point=NEAR_EDGE):
    return submit_incident(
        session,
        category_code="road",
        description="井盖缺失",
        lon=point[0],
        lat=point[1],
        crs=None,
        channel="patrol",
        now=MONDAY,
    ).incident


def step(session, world, who, incident, to, **values):
    user = world.users[who]
    return transition(
        session, user, scope_for(session, user), incident.id, to=to, now=MONDAY, **values
    )


def timeline(session, incident):
    events = session.scalars(
        select(IncidentEvent)
        .where(IncidentEvent.incident_id == incident.id)
        .order_by(IncidentEvent.id)
    )
    return [(e.from_status, e.to_status, e.actor_id) for e in events]


def test_a_full_case_leaves_one_timeline_entry_per_step(session, world):
    incident = new_incident(session)
    w1, boss = world.users["w1"].id, world.users["boss"].id
    for who, to in [
        ("w1", "accepted"),
        ("w1", "registered"),
        ("boss", "dispatched"),
        ("w1", "in_progress"),
        ("w1", "reported_back"),
        ("w1", "verified"),
        ("boss", "closed"),
    ]:
        step(session, world, who, incident, to, note=f"{to} note")
    step(session, world, "w1", incident, "rated", rating=5)
    assert incident.status == "rated" and incident.rating == 5
    assert incident.closed_at == MONDAY
    assert [t[1] for t in timeline(session, incident)] == [
        "submitted", "accepted", "registered", "dispatched", "in_progress",
        "reported_back", "verified", "closed", "rated",
    ]  # fmt: skip
    assert timeline(session, incident)[3] == ("registered", "dispatched", boss)
    assert timeline(session, incident)[1] == ("submitted", "accepted", w1)
    kinds = session.scalars(
        select(Notification.kind).where(Notification.incident_id == incident.id)
    ).all()
    assert sorted(kinds) == ["assigned", "dispatched"]


def test_a_low_rating_reopens_the_case_with_a_new_deadline(session, world):
    incident = new_incident(session)
    incident.status = "closed"
    session.flush()
    later = MONDAY + timedelta(days=7)
    user = world.users["w1"]
    transition(
        session, user, scope_for(session, user), incident.id, to="rated", rating=2, now=later
    )
    assert incident.status == "reopened" and incident.rating == 2
    assert incident.closed_at is None
    assert incident.deadline_at == datetime(2026, 3, 12, 16, 0, tzinfo=UTC)
    assert [t[1] for t in timeline(session, incident)][-2:] == ["rated", "reopened"]


@pytest.mark.parametrize("rating", [0, 6, "5", None])
def test_a_rating_must_be_1_to_5(session, world, rating):
    incident = new_incident(session)
    incident.status = "closed"
    session.flush()
    with pytest.raises(InvalidData):
        step(session, world, "w1", incident, "rated", rating=rating)
    assert incident.status == "closed" and len(timeline(session, incident)) == 1


def test_illegal_steps_and_foreign_workers_are_refused(session, world):
    incident = new_incident(session)
    with pytest.raises(Conflict):
        step(session, world, "w1", incident, "closed")
    with pytest.raises(NotFound):  # not in w2's grids
        step(session, world, "w2", incident, "accepted")
    assert incident.status == "submitted" and len(timeline(session, incident)) == 1


def test_marking_a_duplicate_links_the_two(session, world):
    first = new_incident(session)
    second = new_incident(session)
    step(session, world, "w1", second, "duplicate", duplicate_of=first.id)
    assert second.status == "duplicate" and second.duplicate_of_id == first.id
    with pytest.raises(Conflict):  # the original must be open
        third = new_incident(session)
        step(session, world, "w1", third, "duplicate", duplicate_of=second.id)


def test_a_worker_reroutes_to_a_candidate_in_one_action(session, world):
    incident = new_incident(session)
    user = world.users["w1"]
    reroute(session, user, scope_for(session, user), incident.id, grid_code=world.grids["NE"].code)
    assert incident.grid_id == world.grids["NE"].id
    assert incident.worker_id == world.users["w2"].id
    assert timeline(session, incident)[-1] == ("submitted", "submitted", user.id)
    notice = session.scalars(
        select(Notification).where(Notification.user_id == world.users["w2"].id)
    ).one()
    assert notice.incident_id == incident.id


def test_a_worker_may_not_reroute_to_a_grid_that_is_not_a_candidate(session, world):
    incident = new_incident(session)
    user = world.users["w1"]
    with pytest.raises(Forbidden):
        reroute(
            session, user, scope_for(session, user), incident.id, grid_code=world.grids["SE"].code
        )
    assert incident.grid_id == world.grids["NW"].id


def test_a_leader_routes_an_unrouted_incident(session, world):
    incident = submit_incident(
        session,
        category_code="road",
        description="村道积水",
        lon=X0 - 0.02,
        lat=Y0 + 0.01,
        crs=None,
        channel="web",
        allow_unrouted=True,
        now=MONDAY,
    ).incident
    boss = world.users["boss"]
    reroute(session, boss, scope_for(session, boss), incident.id, grid_code=world.grids["SW"].code)
    assert incident.grid_id == world.grids["SW"].id and incident.needs_review is False
    assert incident.community_id == world.community.id and incident.street_id == world.street.id
