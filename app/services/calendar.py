"""The Chinese working-day calendar: deadlines, their colours and the holiday files.

Pure: no Flask, no database.  A working day is Monday to Friday unless the calendar says
otherwise: each year the State Council publishes the statutory holidays (法定节假日), which
make weekdays days off, and the make-up working days (调休上班), which make a Saturday or a
Sunday a working day.  ``WorkCalendar`` is built from those exceptions only.

Days are local days in Asia/Shanghai.  A deadline is an instant: the end (24:00) of a local
day, returned as an aware datetime.  Every datetime passed in must be aware.

>>> from datetime import date, datetime
>>> cal = WorkCalendar({date(2026, 2, 16): False, date(2026, 2, 14): True})
>>> cal.is_workday(date(2026, 2, 14)), cal.is_workday(date(2026, 2, 16))
(True, False)
>>> start = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)  # a Monday
>>> cal.add_working_days(start, 3).isoformat()
'2026-03-06T00:00:00+08:00'
>>> cal.deadline_state(cal.add_working_days(start, 3), start)
'ok'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
ONE_DAY = timedelta(days=1)
HOLIDAY_DIR = Path(__file__).resolve().parents[2] / "data" / "holidays"
DEADLINE_STATES = ("ok", "near", "overdue", "done")


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value


def local_day(instant: datetime) -> date:
    """The Asia/Shanghai calendar day an instant falls on."""
    return _aware(instant, "instant").astimezone(SHANGHAI).date()


def start_of(day: date) -> datetime:
    """00:00 of ``day`` in Asia/Shanghai."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


def end_of(day: date) -> datetime:
    """24:00 of ``day`` in Asia/Shanghai, i.e. 00:00 of the next day."""
    return start_of(day + ONE_DAY)


def deadline_day(deadline: datetime) -> date:
    """The local day a deadline closes: a deadline at 24:00 belongs to the day it ends."""
    return local_day(_aware(deadline, "deadline") - timedelta(microseconds=1))


class WorkCalendar:
    """Working days: Monday to Friday, except where ``exceptions`` says otherwise.

    ``exceptions`` maps a day to whether it is a working day (False for a statutory holiday on
    a weekday, True for a make-up working day on a weekend).  Days outside it follow the
    Monday-Friday week, so a year without a holiday file still has sensible deadlines.
    """

    def __init__(self, exceptions: Mapping[date, bool] | None = None):
        self._exceptions = dict(exceptions or {})

    def __repr__(self) -> str:
        return f"WorkCalendar({len(self._exceptions)} exceptions)"

    @property
    def years(self) -> list[int]:
        """The years the calendar holds exceptions for."""
        return sorted({day.year for day in self._exceptions})

    def is_workday(self, day: date) -> bool:
        if day in self._exceptions:
            return self._exceptions[day]
        return day.weekday() < 5

    def next_workday(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += ONE_DAY
        while not self.is_workday(day):
            day += ONE_DAY
        return day

    def nth_workday_after(self, day: date, n: int) -> date:
        """The ``n``-th working day strictly after ``day`` (``day`` itself when n is 0)."""
        if n < 0:
            raise ValueError(f"a number of working days cannot be negative, got {n}")
        for _ in range(n):
            day = self.next_workday(day)
        return day

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The deadline of a case taken in at ``start`` with ``days`` working days to finish.

        It is the end (24:00 Asia/Shanghai) of the ``days``-th working day after the local day
        of ``start``.  The intake day itself never counts, whatever its time and whether or
        not it is a working day; ``days=0`` gives the end of the intake day.

        >>> cal = WorkCalendar()
        >>> friday_evening = datetime(2026, 3, 6, 21, 30, tzinfo=SHANGHAI)
        >>> cal.add_working_days(friday_evening, 1).isoformat()  # Monday, 24:00
        '2026-03-10T00:00:00+08:00'
        """
        return end_of(self.nth_workday_after(local_day(start), days))

    def working_days_left(self, deadline: datetime, now: datetime) -> int:
        """Working days after today up to and including the deadline's day.

        0 when the deadline closes today (or on a day off before the next working day), or
        has passed; 1 when it closes at the end of the next working day; and so on.
        """
        today, last = local_day(now), deadline_day(deadline)
        count, day = 0, today
        while True:
            day = self.next_workday(day)
            if day > last:
                return count
            count += 1

    def working_days_overdue(self, deadline: datetime, now: datetime) -> int:
        """Whole working days that have ended since the deadline's day (0 if not overdue).

        A case is overdue by more than ``n`` working days exactly when this is at least
        ``n`` (and it is overdue at all): the ``n``-th working day after the deadline has
        ended, so the case is late by ``n`` full working days and then some.
        """
        if now <= deadline:
            return 0
        count, day = 0, deadline_day(deadline)
        while True:
            day = self.next_workday(day)
            if end_of(day) >= now:
                return count
            count += 1

    def overdue_cutoff(self, now: datetime, working_days: int) -> datetime:
        """The latest deadline that is overdue by more than ``working_days`` at ``now``.

        A deadline ``d`` with ``d <= cutoff`` (and ``d < now``) has had ``working_days``
        whole working days end after its day, i.e. ``working_days_overdue(d, now) >=
        working_days``.  One instant per threshold lets a database select such cases with
        a plain ``deadline_at <= :cutoff``, however many there are.
        """
        day = local_day(now)
        while now <= end_of(self.nth_workday_after(day, working_days)):
            day -= ONE_DAY
        return end_of(day)

    def deadline_state(
        self, deadline_at: datetime, now: datetime, closed_at: datetime | None = None
    ) -> str:
        """The colour of a case's deadline at ``now``.

        - ``"done"``: the case is closed (``closed_at`` set), on time or not (see
          ``closed_on_time``);
        - ``"overdue"`` (red): ``now`` is after the deadline;
        - ``"near"`` (yellow): not yet overdue, and the deadline closes within the current
          working day or the next one: ``working_days_left(deadline_at, now) <= 1``.  On a
          Thursday a deadline at the end of Friday is near, one at the end of Monday is not;
          on a Friday or over the weekend a deadline at the end of Monday is near;
        - ``"ok"``: otherwise.
        """
        _aware(deadline_at, "deadline_at")
        if closed_at is not None:
            return "done"
        if now > deadline_at:
            return "overdue"
        if self.working_days_left(deadline_at, now) <= 1:
            return "near"
        return "ok"


def closed_on_time(deadline_at: datetime | None, closed_at: datetime | None) -> bool | None:
    """Whether a closed case was closed by its deadline (None if open or without one)."""
    if deadline_at is None or closed_at is None:
        return None
    return closed_at <= deadline_at


# -- The year files (data/holidays/YYYY.json) ------------------------------------------------


@dataclass(frozen=True)
class CalendarEntry:
    day: date
    is_workday: bool
    name: str


@dataclass(frozen=True)
class HolidayYear:
    """One year's exceptions as published by the State Council, with the notice they follow."""

    year: int
    source: str
    entries: tuple[CalendarEntry, ...]

    @property
    def holidays(self) -> int:
        return sum(not e.is_workday for e in self.entries)

    @property
    def makeup_workdays(self) -> int:
        return sum(e.is_workday for e in self.entries)


def _describe_source(source: Any) -> str:
    if isinstance(source, str) and source.strip():
        return source.strip()
    if isinstance(source, dict) and isinstance(source.get("title"), str):
        parts = [source["title"], source.get("document"), source.get("date")]
        return " ".join(str(p) for p in parts if p)
    raise ValueError('"source" must name the notice: a string or {"title", "document", "date"}')


def _entry(index: int, raw: Any, year: int) -> CalendarEntry:
    where = f"entry {index} ({json.dumps(raw, ensure_ascii=False)})"
    if not isinstance(raw, dict) or set(raw) != {"date", "workday", "name"}:
        raise ValueError(f'{where}: must be an object with exactly "date", "workday", "name"')
    try:
        day = date.fromisoformat(raw["date"]) if isinstance(raw["date"], str) else None
    except ValueError:
        day = None
    if day is None or len(raw["date"]) != 10:
        raise ValueError(f"{where}: date must be a YYYY-MM-DD day")
    if day.year != year:
        raise ValueError(f"{where}: {day} is not in {year}")
    if not isinstance(raw["workday"], bool):
        raise ValueError(f"{where}: workday must be true or false")
    if not isinstance(raw["name"], str) or not raw["name"].strip() or len(raw["name"]) > 100:
        raise ValueError(f"{where}: name must be a non-empty text of at most 100 characters")
    if raw["workday"] and day.weekday() < 5:
        raise ValueError(
            f"{where}: {day} is a weekday, which is a working day anyway; "
            "a make-up working day (调休上班) falls on a Saturday or Sunday"
        )
    return CalendarEntry(day, raw["workday"], raw["name"].strip())


def parse_year(data: Any, *, year: int | None = None) -> HolidayYear:
    """Check one year's holiday data and return it; ValueError names the first bad entry.

    ``data`` is ``{"year": 2025, "source": ..., "days": [{"date": "2025-01-28",
    "workday": false, "name": "春节"}, ...]}``.  A holiday on a weekend is allowed (it is
    simply not a working day); a "workday" on a weekday, a day outside the year, a day listed
    twice, or a year other than ``year`` (when given) are errors.

    >>> parse_year({"year": 2025, "source": "notice", "days": []}).entries
    ()
    >>> parse_year({"year": 2025, "source": "notice", "days": [
    ...     {"date": "2025-01-27", "workday": True, "name": "春节"}]})
    Traceback (most recent call last):
    ...
    ValueError: entry 0 ({"date": "2025-01-27", "workday": true, "name": "春节"}): 2025-01-27 is a weekday, which is a working day anyway; a make-up working day (调休上班) falls on a Saturday or Sunday
    """  # noqa: E501
    if not isinstance(data, dict):
        raise ValueError('a holiday file must be a JSON object with "year", "source", "days"')
    found = data.get("year")
    if not isinstance(found, int) or isinstance(found, bool) or not 1949 < found < 2200:
        raise ValueError(f'"year" must be a year such as 2025, got {found!r}')
    if year is not None and found != year:
        raise ValueError(f"the file is for {found}, not {year}")
    source = _describe_source(data.get("source"))
    if not isinstance(data.get("days"), list):
        raise ValueError('"days" must be a list of {"date", "workday", "name"} entries')
    entries: list[CalendarEntry] = []
    seen: dict[date, int] = {}
    for index, raw in enumerate(data["days"]):
        entry = _entry(index, raw, found)
        if entry.day in seen:
            raise ValueError(
                f"entry {index}: {entry.day} is listed twice (first as entry {seen[entry.day]})"
            )
        seen[entry.day] = index
        entries.append(entry)
    return HolidayYear(found, source, tuple(sorted(entries, key=lambda e: e.day)))


def read_year_file(path: Path | str, *, year: int | None = None) -> HolidayYear:
    """Read and check a holiday file; ValueError names the file and the bad entry."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return parse_year(data, year=year)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise ValueError(f"{path.name}: {exc}") from None


def read_year_files(paths: Iterable[Path | str], *, year: int | None = None) -> list[HolidayYear]:
    """Read and check several files, all before anything is used; one year per file."""
    years: dict[int, Path] = {}
    loaded = []
    for path in paths:
        holiday_year = read_year_file(path, year=year)
        if holiday_year.year in years:
            raise ValueError(
                f"{Path(path).name}: {holiday_year.year} is also given by {years[holiday_year.year].name}"
            )
        years[holiday_year.year] = Path(path)
        loaded.append(holiday_year)
    return loaded


def shipped_year_files(year: int | None = None) -> list[Path]:
    """The holiday files shipped in data/holidays (only ``YEAR.json`` when a year is given)."""
    if year is not None:
        return [HOLIDAY_DIR / f"{year}.json"]
    return sorted(HOLIDAY_DIR.glob("[0-9][0-9][0-9][0-9].json"))
