"""The working-day calendar: deadlines around statutory holidays, deadline colours, overdue
working days, and the checks on the holiday files (pure: no database)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from app.services.calendar import (
    SHANGHAI,
    WorkCalendar,
    closed_on_time,
    end_of,
    parse_year,
    read_year_file,
    read_year_files,
    shipped_year_files,
)


def sh(*args) -> datetime:
    """A time in Asia/Shanghai."""
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    years = read_year_files(shipped_year_files())
    return WorkCalendar({e.day: e.is_workday for y in years for e in y.entries})


# -- add_working_days ------------------------------------------------------------------------


def test_a_plain_week_counts_monday_to_friday():
    monday = sh(2026, 3, 2, 10, 0)
    assert WorkCalendar().add_working_days(monday, 3) == sh(2026, 3, 6)  # Thursday 24:00
    assert WorkCalendar().add_working_days(monday, 5) == sh(2026, 3, 10)  # next Monday 24:00
    assert sh(2026, 3, 6).astimezone(UTC) == datetime(2026, 3, 5, 16, 0, tzinfo=UTC)


def test_a_deadline_spanning_the_2026_spring_festival(cal):
    # Friday 13 Feb: Sat 14 is a make-up working day, 15-23 Feb are off, work resumes Tue 24.
    intake = sh(2026, 2, 13, 10, 0)
    assert cal.add_working_days(intake, 1) == end_of(date(2026, 2, 14))
    assert cal.add_working_days(intake, 2) == end_of(date(2026, 2, 24))
    assert cal.add_working_days(intake, 3) == sh(2026, 2, 26)
    # Without the holiday data the same case would be due on Wednesday 18 Feb.
    assert WorkCalendar().add_working_days(intake, 3) == sh(2026, 2, 19)


def test_a_make_up_weekend_day_is_a_working_day(cal):
    assert cal.is_workday(date(2026, 2, 14)) and cal.is_workday(date(2026, 2, 28))
    assert cal.is_workday(date(2025, 1, 26))  # a Sunday
    assert not cal.is_workday(date(2026, 2, 21))  # an ordinary Saturday inside the holiday
    assert not cal.is_workday(date(2026, 2, 16))  # a Monday of the holiday
    # Thursday 12 Feb + 2 working days: Friday 13, then Saturday 14.
    assert cal.add_working_days(sh(2026, 2, 12, 9, 0), 2) == sh(2026, 2, 15)
    # Friday 24 Jan 2025 + 1: Sunday 26 Jan 2025 (Saturday 25 is an ordinary day off).
    assert cal.add_working_days(sh(2025, 1, 24, 17, 0), 1) == sh(2025, 1, 27)


def test_friday_evening_intake_is_due_at_the_end_of_monday(cal):
    assert cal.add_working_days(sh(2026, 3, 6, 23, 30), 1) == sh(2026, 3, 10)
    # 16:30 UTC on Thursday is already Friday 00:30 in Shanghai: the local day counts.
    thursday_utc = datetime(2026, 3, 5, 16, 30, tzinfo=UTC)
    assert cal.add_working_days(thursday_utc, 1) == sh(2026, 3, 10)
    assert cal.add_working_days(datetime(2026, 3, 5, 15, 59, tzinfo=UTC), 1) == sh(2026, 3, 7)


def test_intake_on_a_holiday_counts_from_the_first_working_day_after_it(cal):
    # Friday 3 Oct 2025, National Day: off until Wednesday 8; Saturday 11 is a make-up day.
    intake = sh(2025, 10, 3, 8, 0)
    assert cal.add_working_days(intake, 1) == end_of(date(2025, 10, 9))
    assert cal.add_working_days(intake, 3) == end_of(date(2025, 10, 11))
    assert cal.add_working_days(intake, 4) == end_of(date(2025, 10, 13))


def test_the_intake_day_never_counts_even_a_make_up_working_day(cal):
    # Sunday 4 Jan 2026 is a make-up working day: a case taken in that day is due Monday.
    assert cal.add_working_days(sh(2026, 1, 4, 9, 0), 1) == end_of(date(2026, 1, 5))
    assert cal.add_working_days(sh(2026, 1, 4, 9, 0), 0) == end_of(date(2026, 1, 4))


def test_the_2025_national_day_and_labour_day_arrangements(cal):
    assert [d for d in _days(date(2025, 9, 27), date(2025, 10, 12)) if cal.is_workday(d)] == [
        date(2025, 9, 28),
        date(2025, 9, 29),
        date(2025, 9, 30),
        date(2025, 10, 9),
        date(2025, 10, 10),
        date(2025, 10, 11),
    ]
    assert cal.is_workday(date(2025, 4, 27)) and not cal.is_workday(date(2025, 5, 5))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="negative"):
        WorkCalendar().add_working_days(sh(2026, 3, 2), -1)
    with pytest.raises(ValueError, match="timezone-aware"):
        WorkCalendar().add_working_days(datetime(2026, 3, 2, 10, 0), 1)


# -- deadline_state and the days left ----------------------------------------------------------


def test_deadline_state_near_means_the_current_or_next_working_day(cal):
    thursday = sh(2026, 3, 5, 10, 0)
    assert cal.deadline_state(end_of(date(2026, 3, 5)), thursday) == "near"  # today
    assert cal.deadline_state(end_of(date(2026, 3, 6)), thursday) == "near"  # Friday
    assert cal.deadline_state(end_of(date(2026, 3, 9)), thursday) == "ok"  # Monday
    friday = sh(2026, 3, 6, 10, 0)
    assert cal.deadline_state(end_of(date(2026, 3, 9)), friday) == "near"
    assert cal.deadline_state(end_of(date(2026, 3, 10)), friday) == "ok"
    saturday = sh(2026, 3, 7, 10, 0)
    assert cal.deadline_state(end_of(date(2026, 3, 9)), saturday) == "near"
    assert cal.deadline_state(end_of(date(2026, 3, 10)), saturday) == "ok"


def test_deadline_state_skips_holidays_when_judging_near(cal):
    deadline = end_of(date(2026, 2, 24))  # the first working day after the Spring Festival
    assert cal.deadline_state(deadline, sh(2026, 2, 13, 10, 0)) == "ok"  # Sat 14 comes first
    assert cal.deadline_state(deadline, sh(2026, 2, 14, 10, 0)) == "near"
    assert cal.deadline_state(deadline, sh(2026, 2, 18, 10, 0)) == "near"


def test_deadline_state_boundaries_overdue_and_done(cal):
    deadline = end_of(date(2026, 3, 5))
    assert cal.deadline_state(deadline, deadline) == "near"
    assert cal.deadline_state(deadline, deadline + timedelta(microseconds=1)) == "overdue"
    late = deadline + timedelta(days=2)
    assert cal.deadline_state(deadline, late, closed_at=late) == "done"
    assert cal.deadline_state(deadline, late, closed_at=deadline) == "done"
    assert closed_on_time(deadline, deadline) is True
    assert closed_on_time(deadline, deadline + timedelta(seconds=1)) is False
    assert closed_on_time(deadline, None) is None and closed_on_time(None, deadline) is None


def test_working_days_left(cal):
    assert cal.working_days_left(end_of(date(2026, 3, 9)), sh(2026, 3, 5, 10, 0)) == 2
    assert cal.working_days_left(end_of(date(2026, 3, 5)), sh(2026, 3, 5, 10, 0)) == 0
    assert cal.working_days_left(end_of(date(2026, 3, 2)), sh(2026, 3, 5, 10, 0)) == 0
    # Friday before the Spring Festival to Thursday after it: Sat 14, Tue 24 … Thu 26.
    assert cal.working_days_left(end_of(date(2026, 2, 26)), sh(2026, 2, 13, 10, 0)) == 4


# -- overdue working days and the cutoff used to escalate -------------------------------------


def test_working_days_overdue_counts_whole_working_days_after_the_deadline(cal):
    deadline = end_of(date(2026, 3, 6))  # Friday 24:00
    assert cal.working_days_overdue(deadline, sh(2026, 3, 5, 12, 0)) == 0
    assert cal.working_days_overdue(deadline, sh(2026, 3, 9, 23, 59)) == 0  # Monday running
    assert cal.working_days_overdue(deadline, sh(2026, 3, 10, 0, 0, 1)) == 1
    assert cal.working_days_overdue(deadline, sh(2026, 3, 12, 9, 0)) == 3
    # Over the Spring Festival only Sat 14 and Tue 24 Feb count.
    assert cal.working_days_overdue(end_of(date(2026, 2, 13)), sh(2026, 2, 25, 9, 0)) == 2


def test_the_cutoff_agrees_with_working_days_overdue(cal):
    deadlines = [end_of(d) for d in _days(date(2025, 9, 20), date(2025, 10, 15))]
    nows = [sh(2025, 9, 20) + timedelta(hours=5 * k) for k in range(6 * 30)]
    nows.append(sh(2025, 10, 10))  # exactly a deadline
    for n in range(5):
        for now in nows:
            cutoff = cal.overdue_cutoff(now, n)
            for deadline in deadlines:
                by_cutoff = deadline <= cutoff and deadline < now
                by_count = now > deadline and cal.working_days_overdue(deadline, now) >= n
                assert by_cutoff == by_count, (n, now, deadline)


# -- the holiday files -------------------------------------------------------------------------


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def _span(first: str, last: str) -> set[date]:
    return set(_days(date.fromisoformat(first), date.fromisoformat(last)))


EXPECTED = {
    2024: (
        {"2024-02-04", "2024-02-18", "2024-04-07", "2024-04-28", "2024-05-11", "2024-09-14",
         "2024-09-29", "2024-10-12"},
        [("2024-01-01", "2024-01-01"), ("2024-02-10", "2024-02-17"), ("2024-04-04", "2024-04-06"),
         ("2024-05-01", "2024-05-05"), ("2024-06-10", "2024-06-10"), ("2024-09-15", "2024-09-17"),
         ("2024-10-01", "2024-10-07")],
        251,
    ),
    2025: (
        {"2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"},
        [("2025-01-01", "2025-01-01"), ("2025-01-28", "2025-02-04"), ("2025-04-04", "2025-04-06"),
         ("2025-05-01", "2025-05-05"), ("2025-05-31", "2025-06-02"), ("2025-10-01", "2025-10-08")],
        248,
    ),
    2026: (
        {"2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"},
        [("2026-01-01", "2026-01-03"), ("2026-02-15", "2026-02-23"), ("2026-04-04", "2026-04-06"),
         ("2026-05-01", "2026-05-05"), ("2026-06-19", "2026-06-21"), ("2026-09-25", "2026-09-27"),
         ("2026-10-01", "2026-10-07")],
        248,
    ),
}  # fmt: skip


@pytest.mark.parametrize("year", sorted(EXPECTED))
def test_the_shipped_year_files_match_the_state_council_notices(cal, year):
    path = shipped_year_files(year)[0]
    holiday_year = read_year_file(path)
    assert path.stem == str(year) and holiday_year.year == year
    assert holiday_year.source.startswith(f"国务院办公厅关于{year}年部分节假日安排的通知")
    makeup, spans, workdays = EXPECTED[year]
    assert {e.day for e in holiday_year.entries if e.is_workday} == {
        date.fromisoformat(d) for d in makeup
    }
    assert {e.day for e in holiday_year.entries if not e.is_workday} == set().union(
        *(_span(a, b) for a, b in spans)
    )
    assert all(e.name for e in holiday_year.entries)
    year_days = _days(date(year, 1, 1), date(year, 12, 31))
    assert sum(cal.is_workday(d) for d in year_days) == workdays


def test_the_shipped_files_are_every_year_file_in_the_folder():
    assert [p.name for p in shipped_year_files()] == ["2024.json", "2025.json", "2026.json"]


def year_data(*days, year=2025):
    return {
        "year": year,
        "source": "国务院办公厅关于2025年部分节假日安排的通知",
        "days": list(days),
    }


def day(date_text, workday=False, name="春节"):
    return {"date": date_text, "workday": workday, "name": name}


def test_a_holiday_on_a_weekend_is_allowed_and_entries_come_back_sorted():
    parsed = parse_year(year_data(day("2025-02-01"), day("2025-01-28"), day("2025-01-26", True)))
    assert [(e.day, e.is_workday) for e in parsed.entries] == [
        (date(2025, 1, 26), True),
        (date(2025, 1, 28), False),
        (date(2025, 2, 1), False),
    ]
    assert (parsed.holidays, parsed.makeup_workdays) == (2, 1)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (day("2025-02-30"), r'entry 1 \(\{"date": "2025-02-30".*date must be a YYYY-MM-DD day'),
        (day("20250128"), "entry 1 .*YYYY-MM-DD"),
        (day(20250128), "entry 1 .*YYYY-MM-DD"),
        (day("2024-12-31"), "entry 1 .*2024-12-31 is not in 2025"),
        (day("2025-01-27", True), "entry 1 .*2025-01-27 is a weekday"),
        (day("2025-01-28", "false"), "entry 1 .*workday must be true or false"),
        (day("2025-01-28", False, ""), "entry 1 .*name must be"),
        ({"date": "2025-01-28", "workday": False}, "entry 1 .*exactly"),
        ("2025-01-28", "entry 1 .*must be an object"),
        (day("2025-01-01", name="元旦"), "entry 1: 2025-01-01 is listed twice .*entry 0"),
    ],
)
def test_a_bad_entry_is_named(entry, message):
    with pytest.raises(ValueError, match=message):
        parse_year(year_data(day("2025-01-01", name="元旦"), entry))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "must be a JSON object"),
        ({"source": "x", "days": []}, '"year" must be a year'),
        ({"year": "2025", "source": "x", "days": []}, '"year" must be a year'),
        ({"year": 2025, "days": []}, '"source" must name the notice'),
        ({"year": 2025, "source": "x", "days": {}}, '"days" must be a list'),
    ],
)
def test_a_bad_file_shape_is_refused(data, message):
    with pytest.raises(ValueError, match=message):
        parse_year(data)


def test_a_file_for_another_year_is_refused():
    with pytest.raises(ValueError, match="the file is for 2025, not 2026"):
        parse_year(year_data(), year=2026)


def test_file_errors_name_the_file(tmp_path):
    broken = tmp_path / "2025.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"^2025\.json: Expecting property name"):
        read_year_file(broken)
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for path in (first, second):
        path.write_text(json.dumps(year_data(day("2025-01-28"))), encoding="utf-8")
    with pytest.raises(ValueError, match=r"b\.json: 2025 is also given by a\.json"):
        read_year_files([first, second])
    with pytest.raises(ValueError, match="missing.json"):
        read_year_file(tmp_path / "missing.json")
