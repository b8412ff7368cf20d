"""The holiday calendar table (calendar_days) and deadlines computed from it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete, extract, insert, select, text
from sqlalchemy.orm import Session

from app.models import CalendarDay
from app.services.calendar import CalendarEntry, WorkCalendar, end_of


def load_calendar(session: Session) -> WorkCalendar:
    """The working-day calendar from calendar_days (a few hundred rows at most)."""
    rows = session.execute(select(CalendarDay.day, CalendarDay.is_workday))
    return WorkCalendar({day: is_workday for day, is_workday in rows})


def replace_year(session: Session, year: int, days: Iterable[CalendarEntry]) -> int:
    """Replace one year's exceptions with ``days``; returns how many rows were written.

    Does not commit: loading several years is one transaction of the caller.
    """
    rows = [{"day": d.day, "is_workday": d.is_workday, "name": d.name} for d in days]
    outside = [r["day"] for r in rows if r["day"].year != year]
    if outside:
        raise ValueError(f"{outside[0]} is not in {year}")
    session.execute(delete(CalendarDay).where(extract("year", CalendarDay.day) == year))
    if rows:
        session.execute(insert(CalendarDay), rows)
    return len(rows)


def year_counts(session: Session) -> dict[int, tuple[int, int]]:
    """Per year held: (days off, make-up working days)."""
    rows = session.execute(
        text(
            "SELECT extract(year FROM day)::int AS year, count(*) FILTER (WHERE NOT is_workday), "
            "count(*) FILTER (WHERE is_workday) FROM calendar_days GROUP BY 1 ORDER BY 1"
        )
    )
    return {year: (off, on) for year, off, on in rows}


def recompute_deadlines(session: Session, calendar: WorkCalendar) -> int:
    """Set every incident's deadline from its intake time and its category's working days.

    A deadline depends only on the local intake day and the number of days, so it is
    computed once per distinct pair and written with one UPDATE, however many incidents
    there are.  Returns how many incidents were updated.
    """
    pairs = session.execute(
        text(
            """
            SELECT DISTINCT (i.created_at AT TIME ZONE 'Asia/Shanghai')::date AS day,
                   c.deadline_days
            FROM incidents i JOIN incident_categories c ON c.id = i.category_id
            """
        )
    ).all()
    if not pairs:
        return 0
    days: list[date] = [p.day for p in pairs]
    counts = [p.deadline_days for p in pairs]
    deadlines = [end_of(calendar.nth_workday_after(p.day, p.deadline_days)) for p in pairs]
    return session.execute(
        text(
            """
            UPDATE incidents i SET deadline_at = d.deadline_at
            FROM incident_categories c,
                 unnest(CAST(:days AS date[]), CAST(:counts AS int[]),
                        CAST(:deadlines AS timestamptz[])) AS d(day, deadline_days, deadline_at)
            WHERE c.id = i.category_id AND c.deadline_days = d.deadline_days
              AND (i.created_at AT TIME ZONE 'Asia/Shanghai')::date = d.day
            """
        ),
        {"days": days, "counts": counts, "deadlines": deadlines},
    ).rowcount
