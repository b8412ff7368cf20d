"""`wangge load-holidays` and `wangge escalate`: what they print, store and refuse."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import func, select

from app.models import CalendarDay
from app.services.calendar import SHANGHAI, end_of
from tests.factories import add_category, add_incident, add_user, build_world


def invoke(runner, *args):
    return runner.invoke(args=["wangge", *args])


def calendar_rows(session, year: int | None = None) -> dict[date, tuple[bool, str]]:
    query = select(CalendarDay)
    if year is not None:
        query = query.where(func.extract("year", CalendarDay.day) == year)
    return {row.day: (row.is_workday, row.name) for row in session.scalars(query)}


def write(path, days, year=2025):
    path.write_text(
        json.dumps({"year": year, "source": "测试通知", "days": days}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


def test_load_holidays_loads_every_shipped_year(runner, session):
    result = invoke(runner, "load-holidays")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "2024: 28 days off, 8 make-up working days "
        "(国务院办公厅关于2024年部分节假日安排的通知 国办发明电〔2023〕7号 2023-10-25)"
    )
    assert lines[1].startswith("2025: 28 days off, 5 make-up working days (国务院办公厅关于2025年")
    assert lines[2].startswith("2026: 33 days off, 6 make-up working days (国务院办公厅关于2026年")
    rows = calendar_rows(session)
    assert len(rows) == 36 + 33 + 39
    assert rows[date(2026, 2, 14)] == (True, "春节调休上班")
    assert rows[date(2026, 2, 16)] == (False, "春节")
    # Loading again replaces, it does not duplicate.
    assert invoke(runner, "load-holidays").exit_code == 0
    assert len(calendar_rows(session)) == 108


def test_load_holidays_for_one_year(runner, session):
    result = invoke(runner, "load-holidays", "--year", "2026")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2026: 33 days off, 6 make-up working days")
    assert {d.year for d in calendar_rows(session)} == {2026}


def test_a_file_replaces_its_year_only(runner, session, tmp_path):
    assert invoke(runner, "load-holidays").exit_code == 0
    path = write(tmp_path / "mine.json", [{"date": "2025-01-28", "workday": False, "name": "春节"}])
    result = invoke(runner, "load-holidays", str(path))
    assert result.exit_code == 0, result.output
    assert result.output == "2025: 1 days off, 0 make-up working days (测试通知)\n"
    assert calendar_rows(session, 2025) == {date(2025, 1, 28): (False, "春节")}
    assert len(calendar_rows(session, 2026)) == 39


def test_a_bad_entry_is_named_and_nothing_is_stored(runner, session, tmp_path):
    assert invoke(runner, "load-holidays", "--year", "2025").exit_code == 0
    before = calendar_rows(session)
    good = write(tmp_path / "2027.json", [], year=2027)
    bad = write(
        tmp_path / "2025.json",
        [
            {"date": "2025-01-28", "workday": False, "name": "春节"},
            {"date": "2025-01-27", "workday": True, "name": "春节调休上班"},
        ],
    )
    result = invoke(runner, "load-holidays", str(good), str(bad))
    assert result.exit_code == 1
    assert "nothing loaded: 2025.json: entry 1" in result.output
    assert '"date": "2025-01-27"' in result.output and "is a weekday" in result.output
    assert calendar_rows(session) == before


def test_a_file_for_another_year_than_asked_is_refused(runner, session, tmp_path):
    path = write(tmp_path / "x.json", [])
    result = invoke(runner, "load-holidays", str(path), "--year", "2026")
    assert result.exit_code == 1
    assert "x.json: the file is for 2025, not 2026" in result.output
    assert calendar_rows(session) == {}
    missing = invoke(runner, "load-holidays", "--year", "2031")
    assert missing.exit_code == 1 and "2031.json" in missing.output


def test_escalate_prints_counts(runner, session):
    assert invoke(runner, "load-holidays", "--year", "2026").exit_code == 0
    world = build_world(session)
    add_user(session, "c_lead", "leader", area=world.community)
    category = add_category(session)
    for day in (date(2026, 3, 5), date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11)):
        add_incident(session, world, "NW", category, status="dispatched", deadline_at=end_of(day))
    session.commit()

    result = invoke(runner, "escalate", "--now", "2026-03-11T10:00")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "overdue open incidents: 3",
        "escalated 3: community 1, street 1, district 1",
        "notices: 3",
    ]
    again = invoke(runner, "escalate", "--now", "2026-03-11T02:00:00+00:00")
    assert again.output.splitlines()[1] == "escalated 0: community 0, street 0, district 0"


def test_escalate_refuses_a_bad_time(runner, session):
    result = invoke(runner, "escalate", "--now", "yesterday")
    assert result.exit_code == 2
    assert "not an ISO date-time: 'yesterday'" in result.output


def test_escalate_without_now_uses_the_current_time(runner, session):
    world = build_world(session)
    category = add_category(session)
    past = datetime(2020, 1, 6, tzinfo=SHANGHAI)
    add_incident(session, world, "NW", category, status="accepted", deadline_at=past)
    result = invoke(runner, "escalate")
    assert result.exit_code == 0, result.output
    assert "escalated 1: community 0, street 0, district 1" in result.output
