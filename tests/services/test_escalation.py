"""Escalation of overdue incidents in the database: levels by overdue working days, the
timeline entry, notices to the right leaders, idempotency, the leaders' lists; and
deadlines recomputed from the calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from shapely import box
from sqlalchemy import select

from app.models import CalendarDay, IncidentEvent, Notification
from app.services.calendar import SHANGHAI, end_of, read_year_file, shipped_year_files
from app.services.escalation import escalate_overdue, escalated_to
from app.store.calendar import load_calendar, recompute_deadlines, replace_year
from tests.factories import X0, Y0, add_area, add_category, add_incident, add_user, build_world

# Wednesday 11 March 2026, 10:00 in Shanghai.
NOW = datetime(2026, 3, 11, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def world(session):
    replace_year(session, 2026, read_year_file(shipped_year_files(2026)[0]).entries)
    world = build_world(session)
    other = add_area(
        session, "511381001002", "另一社区", "community", box(X0 - 0.03, Y0, X0, Y0 + 0.02),
        world.street,
    )  # fmt: skip
    users = {
        "worker": add_user(session, "w1", "worker", grids=[world.grids["NW"]]),
        "community": add_user(session, "c_lead", "leader", area=world.community),
        "street": add_user(session, "s_lead", "leader", area=world.street),
        "district": add_user(session, "d_lead", "leader", area=world.district),
        "everywhere": add_user(session, "all_lead", "leader"),
        "admin": add_user(session, "admin", "admin"),
        "other": add_user(session, "o_lead", "leader", area=other),
        "planner": add_user(session, "planner", "planner", area=world.community),
        "retired": add_user(session, "retired", "leader", area=world.community),
    }
    users["retired"].active = False
    world.users = users
    world.category = add_category(session, "road", "道路破损", deadline_days=3)
    session.flush()
    return world


def incident(session, world, deadline_day: date | None, **values):
    values.setdefault("status", "dispatched")
    deadline = end_of(deadline_day) if deadline_day else None
    return add_incident(session, world, "NW", world.category, deadline_at=deadline, **values)


def recipients(session, world, incident_id) -> set[str]:
    by_id = {u.id: key for key, u in world.users.items()}
    user_ids = session.scalars(
        select(Notification.user_id).where(
            Notification.incident_id == incident_id, Notification.kind == "escalated"
        )
    ).all()
    assert len(user_ids) == len(set(user_ids)), "one notice per user and run"
    return {by_id[u] for u in user_ids}


def escalation_events(session, incident_id) -> list[tuple[str, str, str | None, str]]:
    events = session.scalars(
        select(IncidentEvent)
        .where(IncidentEvent.incident_id == incident_id)
        .order_by(IncidentEvent.id)
    )
    return [(e.from_status, e.to_status, e.actor_id, e.note) for e in events]


def test_overdue_incidents_go_up_by_overdue_working_days(session, world):
    community = incident(session, world, date(2026, 3, 10))  # Tuesday: 0 whole days late
    street = incident(session, world, date(2026, 3, 9), status="in_progress")  # Tuesday ended
    still_street = incident(session, world, date(2026, 3, 6))  # Mon, Tue ended: 2
    district = incident(session, world, date(2026, 3, 5))  # Fri, Mon, Tue ended: 3
    due_today = incident(session, world, date(2026, 3, 11))
    closed = incident(session, world, date(2026, 3, 2), status="closed")
    no_deadline = incident(session, world, None)

    result = escalate_overdue(session, NOW)

    assert result == {
        "overdue": 4,
        "escalated": 4,
        "community": 1,
        "street": 2,
        "district": 1,
        "notified": 2 + 3 + 3 + 5,
    }
    levels = {
        community.id: "community",
        street.id: "street",
        still_street.id: "street",
        district.id: "district",
        due_today.id: None,
        closed.id: None,
        no_deadline.id: None,
    }
    for case in (community, street, still_street, district, due_today, closed, no_deadline):
        session.refresh(case)
        assert case.escalation_level == levels[case.id]
        assert case.escalated_at == (NOW if levels[case.id] else None)
    assert escalation_events(session, street.id) == [
        ("in_progress", "in_progress", None, "逾期升级至街道")
    ]
    assert escalation_events(session, community.id) == [
        ("dispatched", "dispatched", None, "逾期升级至社区")
    ]
    assert escalation_events(session, due_today.id) == []
    assert recipients(session, world, community.id) == {"community", "admin"}
    assert recipients(session, world, street.id) == {"community", "street", "admin"}
    assert recipients(session, world, district.id) == {
        "community",
        "street",
        "district",
        "everywhere",
        "admin",
    }
    message = session.scalar(
        select(Notification.message).where(Notification.incident_id == district.id).limit(1)
    )
    assert message == f"事件 #{district.id}（道路破损）逾期未办结，已升级至区县"


def test_running_again_escalates_nothing_more(session, world):
    cases = [incident(session, world, date(2026, 3, d)) for d in (5, 9, 10)]
    first = escalate_overdue(session, NOW)
    assert first["escalated"] == 3
    events = session.query(IncidentEvent).count()
    notices = session.query(Notification).count()

    again = escalate_overdue(session, NOW)

    assert again == first | {"escalated": 0, "community": 0, "street": 0, "district": 0,
                             "notified": 0}  # fmt: skip
    assert session.query(IncidentEvent).count() == events
    assert session.query(Notification).count() == notices
    for case in cases:
        session.refresh(case)
        assert case.escalated_at == NOW


def test_a_later_run_moves_a_case_one_level_up_and_tells_only_the_new_level(session, world):
    case = incident(session, world, date(2026, 3, 10))
    escalate_overdue(session, NOW)
    session.refresh(case)
    assert case.escalation_level == "community"

    friday = datetime(2026, 3, 13, 9, 0, tzinfo=SHANGHAI)  # Wednesday and Thursday ended
    result = escalate_overdue(session, friday)

    assert (result["street"], result["escalated"], result["notified"]) == (1, 1, 2)
    session.refresh(case)
    assert (case.escalation_level, case.escalated_at) == ("street", friday)
    assert [e[3] for e in escalation_events(session, case.id)] == [
        "逾期升级至社区",
        "逾期升级至街道",
    ]
    rows = session.execute(
        select(Notification.user_id, Notification.created_at).where(
            Notification.incident_id == case.id
        )
    ).all()
    later = {u for u, at in rows if at == friday}
    assert later == {world.users["street"].id, world.users["admin"].id}


def test_weekends_and_the_spring_festival_do_not_count_as_overdue_days(session, world):
    before_festival = incident(session, world, date(2026, 2, 13))  # Friday before the holiday
    two_days = incident(session, world, date(2026, 2, 12))
    tuesday_after = datetime(2026, 2, 24, 10, 0, tzinfo=SHANGHAI)  # ten calendar days later

    result = escalate_overdue(session, tuesday_after)

    # Only Saturday 14 Feb (a make-up working day) has ended since Friday's deadline.
    assert (
        load_calendar(session).working_days_overdue(end_of(date(2026, 2, 13)), tuesday_after) == 1
    )
    assert (result["street"], result["district"]) == (2, 0)
    session.refresh(before_festival)
    session.refresh(two_days)
    assert before_festival.escalation_level == two_days.escalation_level == "street"


def test_without_the_holidays_the_same_cases_would_reach_the_district(session, world):
    session.execute(CalendarDay.__table__.delete())
    case = incident(session, world, date(2026, 2, 13))
    escalate_overdue(session, datetime(2026, 2, 24, 10, 0, tzinfo=SHANGHAI))
    session.refresh(case)
    assert case.escalation_level == "district"


def test_thresholds_are_parameters(session, world):
    case = incident(session, world, date(2026, 3, 10))
    result = escalate_overdue(session, NOW, street_days=0, district_days=0)
    session.refresh(case)
    assert case.escalation_level == "district" and result["district"] == 1
    with pytest.raises(ValueError, match="street \\(2\\) <= district \\(1\\)"):
        escalate_overdue(session, NOW, street_days=2, district_days=1)


def test_the_thresholds_come_from_the_settings(app, session, world):
    case = incident(session, world, date(2026, 3, 10))
    app.config["WANGGE_ESCALATE_STREET_DAYS"] = 0
    try:
        escalate_overdue(session, NOW)
    finally:
        app.config["WANGGE_ESCALATE_STREET_DAYS"] = 1
    session.refresh(case)
    assert case.escalation_level == "street"


def test_a_reopened_case_escalates_again_from_the_start(session, world):
    case = incident(session, world, date(2026, 3, 5), status="reopened")
    escalate_overdue(session, NOW)
    session.refresh(case)
    assert case.escalation_level == "district"
    assert escalation_events(session, case.id) == [("reopened", "reopened", None, "逾期升级至区县")]


def test_each_leader_sees_what_was_escalated_to_their_level(session, world):
    community = incident(session, world, date(2026, 3, 10))
    street = incident(session, world, date(2026, 3, 9))
    district = incident(session, world, date(2026, 3, 5))
    closed_district = incident(session, world, date(2026, 3, 4))
    escalate_overdue(session, NOW)
    closed_district.status = "closed"
    session.flush()

    def ids(key):
        return [row["id"] for row in escalated_to(session, world.users[key])]

    assert ids("community") == [district.id, street.id, community.id]
    assert ids("street") == [district.id, street.id]
    assert ids("district") == [district.id]
    assert ids("everywhere") == [district.id]
    assert ids("admin") == [district.id]
    assert ids("other") == [] and ids("worker") == []
    row = escalated_to(session, world.users["street"])[1]
    assert row["level_name"] == "街道" and row["category_name"] == "道路破损"
    assert row["community_name"] == "测试社区" and row["grid_code"] == world.grids["NW"].code
    assert "contact_name" not in row and "contact_phone" not in row


def test_recomputed_deadlines_follow_the_calendar_from_the_local_intake_day(session, world):
    quick = add_category(session, "litter", "垃圾堆放", deadline_days=1)
    before_festival = incident(
        session, world, None, created_at=datetime(2026, 2, 13, 10, 0, tzinfo=SHANGHAI)
    )
    friday_early = incident(
        session, world, None, created_at=datetime(2026, 3, 5, 16, 30, tzinfo=UTC)
    )
    litter = add_incident(
        session, world, "NE", quick, created_at=datetime(2026, 3, 6, 20, 0, tzinfo=SHANGHAI)
    )

    assert recompute_deadlines(session, load_calendar(session)) == 3

    for case in (before_festival, friday_early, litter):
        session.refresh(case)
    assert before_festival.deadline_at == end_of(date(2026, 2, 25))  # Sat 14, Tue 24, Wed 25
    assert friday_early.deadline_at == end_of(date(2026, 3, 11))  # Friday in Shanghai
    assert litter.deadline_at == end_of(date(2026, 3, 9))
