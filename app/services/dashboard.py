"""The leaders' dashboard and the incident maps: filters, figures and their definitions.

All figures are about the incidents *created in the period* (dates in Asia/Shanghai, both
ends included) and, when a category is chosen, of that category; incidents are counted in the
street, community and grid they were routed to on intake.

* resolution rate (办结率) = closed or rated / all incidents except rejected and duplicate;
* on-time rate (按期办结率) = closed with ``closed_at <= deadline_at`` / closed (an incident
  closed without a deadline is not on time);
* mean time to close (平均办结时长) = mean of ``closed_at - created_at`` over closed
  incidents, in hours;
* satisfaction (满意度) = mean rating (1..5) and the share of ratings of 4 or 5;
* overdue (超期) = open (``models.OPEN_STATUSES``) and now later than ``deadline_at``;
* households per worker (户/网格员) = households in the area's grids / distinct active
  workers assigned to them (none without a worker).

"Closed" means status closed (结案) or rated (评价).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.support import Translations
from flask import has_app_context
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app.errors import BadRequest
from app.i18n import DEFAULT_LOCALE, N_, TRANSLATIONS
from app.models import OPEN_STATUSES, STATUS_VALUES
from app.services.workflow import STATUS_LABELS
from app.store import dashboard as store
from app.store.dashboard import CLOSED_STATUSES, NOT_COUNTED_STATUSES, IncidentFilter
from app.store.scope import Scope, area_visible

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_DAYS = 90
MAX_DAYS = 731
LEVELS = ("street", "community", "grid")
# The level of a drill-down's parent for each level of rows.
PARENT_LEVEL = {"street": "district", "community": "street", "grid": "community"}
CHILD_LEVEL = {"street": "community", "community": "grid", "grid": None}
# Map filters: "open" and "done" stand for groups of statuses.
STATUS_GROUPS = {"open": OPEN_STATUSES, "done": CLOSED_STATUSES}
# Names are English message ids, translated where shown.
LEVEL_LABELS = {
    "district": N_("district"),
    "street": N_("street"),
    "community": N_("community"),
    "grid": N_("grid"),
}
STATUS_NAMES = {
    "open": N_("Not closed (all)"),
    "done": N_("Closed (closed or rated)"),
} | {status.value: label for status, label in STATUS_LABELS.items()}
MAP_VIEWS = {
    "heat": N_("Heat map"),
    "weekly": N_("Weekly heat"),
    "rate": N_("Incidents per 1,000 households"),
}
# Above this many incidents the heat map gets counts per cell instead of points.
MAX_HEAT_POINTS = 10_000
HEAT_CELL_DEGREES = 0.0005  # about 50 m at Langzhong's latitude
WEEKLY_CELL_DEGREES = 0.001
LATEST_INCIDENTS = 50


@functools.cache
def _default_translations() -> Translations:
    return Translations.load(str(TRANSLATIONS), [DEFAULT_LOCALE])


def _(message: str, **params) -> str:
    """``gettext`` in the request's language; in the default language outside the app (the
    parsers also serve scripts and tests that run without one)."""
    if has_app_context():
        return gettext(message, **params)
    text = _default_translations().ugettext(message)
    return text % params if params else text


def _date(args: Mapping[str, str], name: str, default: date) -> date:
    value = (args.get(name) or "").strip()
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(
            _(
                "Date %(name)s=%(value)s is not understood; expected YYYY-MM-DD.",
                name=name,
                value=repr(value),
            ),
            details={"field": name, "value": value},
        ) from None


@dataclass(frozen=True)
class Period:
    """Whole days in Asia/Shanghai, ``first`` to ``last`` included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), SHANGHAI)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), SHANGHAI)

    @property
    def weeks(self) -> list[date]:
        """The Mondays of the weeks the period touches."""
        monday = self.first - timedelta(days=self.first.weekday())
        return [monday + timedelta(weeks=k) for k in range((self.last - monday).days // 7 + 1)]


def parse_period(args: Mapping[str, str], today: date) -> Period:
    """``from`` and ``to`` (YYYY-MM-DD); by default the last 90 days up to today."""
    last = _date(args, "to", today)
    first = _date(args, "from", last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise BadRequest(
            _("The start date %(first)s is after the end date %(last)s.", first=first, last=last),
            details={"field": "from", "value": first.isoformat()},
        )
    if (last - first).days >= MAX_DAYS:
        raise BadRequest(
            _("The period is at most %(days)d days long.", days=MAX_DAYS),
            details={"field": "from", "value": first.isoformat()},
        )
    return Period(first, last)


def _category_id(session: Session, code: str) -> int | None:
    if not code:
        return None
    category_id = store.category_id_by_code(session, code)
    if category_id is None:
        raise BadRequest(
            _("Unknown incident category: %(code)s.", code=repr(code)),
            details={"field": "category", "value": code},
        )
    return category_id


@dataclass(frozen=True)
class DashboardFilters:
    level: str
    parent_code: str
    period: Period
    category_code: str

    def query(self, **changes) -> dict[str, str]:
        """The filters as query parameters (for links, exports and drill-downs)."""
        values = {
            "level": self.level,
            "parent": self.parent_code,
            "from": self.period.first.isoformat(),
            "to": self.period.last.isoformat(),
            "category": self.category_code,
        } | changes
        return {k: v for k, v in values.items() if v}


def parse_dashboard_filters(args: Mapping[str, str], today: date) -> DashboardFilters:
    """The dashboard's query parameters as typed values; a 400 names a bad one."""
    level = (args.get("level") or "street").strip()
    if level not in LEVELS:
        raise BadRequest(
            _("Unknown level: %(level)s; expected street, community or grid.", level=repr(level)),
            details={"field": "level", "value": level},
        )
    return DashboardFilters(
        level=level,
        parent_code=(args.get("parent") or "").strip(),
        period=parse_period(args, today),
        category_code=(args.get("category") or "").strip(),
    )


@dataclass(frozen=True)
class Row:
    """One area's figures (``code`` None for the total row)."""

    code: str | None
    name: str
    counted: int
    open: int
    closed: int
    on_time: int
    hours_to_close: float | None
    mean_rating: float | None
    rated: int
    satisfied: int
    overdue: int
    households: int
    workers: int

    @property
    def resolution_rate(self) -> float | None:
        return self.closed / self.counted if self.counted else None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.closed if self.closed else None

    @property
    def satisfied_share(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None

    @property
    def households_per_worker(self) -> float | None:
        return self.households / self.workers if self.workers else None


@dataclass(frozen=True)
class Week:
    start: date
    opened: int
    closed: int
    on_time: int

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.closed if self.closed else None


@dataclass(frozen=True)
class Dashboard:
    filters: DashboardFilters
    rows: list[Row]
    total: Row
    weeks: list[Week]
    breadcrumbs: list[dict]  # the parent area and its ancestors, top first
    categories: list[dict]
    child_level: str | None
    now: datetime
    level_name: str = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "level_name", _(LEVEL_LABELS[self.filters.level]))


def _parent(
    session: Session, scope: Scope, filters: DashboardFilters
) -> tuple[int | None, list[dict]]:
    if not filters.parent_code:
        return None, []
    area = store.area_by_code(session, filters.parent_code)
    expected = PARENT_LEVEL[filters.level]
    if area is None or area["level"] != expected or not area_visible(session, scope, area["id"]):
        raise BadRequest(
            _(
                "Unknown parent area: %(code)s (expected the code of a %(level)s).",
                code=repr(filters.parent_code),
                level=_(LEVEL_LABELS[expected]),
            ),
            details={"field": "parent", "value": filters.parent_code},
        )
    return area["id"], store.area_chain(session, area["id"])


def dashboard(
    session: Session, scope: Scope, filters: DashboardFilters, now: datetime
) -> Dashboard:
    """The dashboard's table (one row per area of the level, and a total) and weekly trend."""
    parent_id, chain = _parent(session, scope, filters)
    incidents = IncidentFilter(
        filters.period.start,
        filters.period.end,
        _category_id(session, filters.category_code),
        None,
        scope.grid_ids,
    )
    raw = store.level_table(session, filters.level, parent_id, incidents, now)
    *rows, total = [Row(**{k: v for k, v in r.items() if k != "id"}) for r in raw]
    area_ids = [r["id"] for r in raw if r["id"] is not None]
    return Dashboard(
        filters=filters,
        rows=rows,
        total=Row(**(vars(total) | {"name": _("Total")})),
        weeks=_trend(session, filters, area_ids, incidents),
        breadcrumbs=chain,
        categories=store.categories(session),
        child_level=CHILD_LEVEL[filters.level],
        now=now,
    )


def _trend(
    session: Session, filters: DashboardFilters, area_ids: list[int], incidents: IncidentFilter
) -> list[Week]:
    """Every week of the period, weeks without incidents included."""
    counts = {
        w.pop("week"): w for w in store.weekly_trend(session, filters.level, area_ids, incidents)
    }
    empty = {"opened": 0, "closed": 0, "on_time": 0}
    return [Week(start, **counts.get(start, empty)) for start in filters.period.weeks]


# --- exports ---------------------------------------------------------------------------

# Lazy: each export is headed in the language of its request (Chinese by default).
EXPORT_HEADERS = [
    _l("Code"),
    _l("Name"),
    _l("Incidents (not counting rejected and duplicates)"),
    _l("Not closed"),
    _l("Closed"),
    _l("Resolution rate"),
    _l("On-time rate"),
    _l("Mean time to close (hours)"),
    _l("Mean rating"),
    _l("Satisfied share (4 or more)"),
    _l("Overdue"),
    _l("Number of households"),
    _l("Number of grid workers"),
    _l("Households per worker"),
]


def export_headers() -> list[str]:
    """The export's column headers in the current language."""
    return [str(header) for header in EXPORT_HEADERS]


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None or math.isnan(value) else round(value, digits)


def export_rows(report: Dashboard) -> list[list]:
    """The table as plain values (rates as fractions, 4 decimals), total row last."""
    return [
        [
            row.code or "",
            row.name,
            row.counted,
            row.open,
            row.closed,
            _rounded(row.resolution_rate, 4),
            _rounded(row.on_time_rate, 4),
            _rounded(row.hours_to_close, 1),
            _rounded(row.mean_rating, 2),
            _rounded(row.satisfied_share, 4),
            row.overdue,
            row.households,
            row.workers,
            _rounded(row.households_per_worker, 1),
        ]
        for row in [*report.rows, report.total]
    ]


# --- incident maps -----------------------------------------------------------------------


@dataclass(frozen=True)
class MapFilters:
    view: str
    period: Period
    category_code: str
    status: str

    def query(self, **changes) -> dict[str, str]:
        values = {
            "view": self.view,
            "from": self.period.first.isoformat(),
            "to": self.period.last.isoformat(),
            "category": self.category_code,
            "status": self.status,
        } | changes
        return {k: v for k, v in values.items() if v}


def parse_map_filters(args: Mapping[str, str], today: date) -> MapFilters:
    view = (args.get("view") or "heat").strip()
    if view not in MAP_VIEWS:
        raise BadRequest(
            _("Unknown map: %(view)s; expected heat, weekly or rate.", view=repr(view)),
            details={"field": "view", "value": view},
        )
    status = (args.get("status") or "").strip()
    if status and status not in STATUS_VALUES and status not in STATUS_GROUPS:
        raise BadRequest(
            _("Unknown incident status: %(status)s.", status=repr(status)),
            details={"field": "status", "value": status},
        )
    return MapFilters(view, parse_period(args, today), (args.get("category") or "").strip(), status)


@dataclass(frozen=True)
class IncidentMap:
    filters: MapFilters
    total: int
    heat: list[list[float]]  # [lat, lon] or [lat, lon, weight]
    aggregated: bool
    weeks: list[str]  # ISO dates of Mondays
    weekly: list[list[list[float]]]  # per week: [lat, lon, weight]
    grids: list[dict]  # GeoJSON features with incidents, households, rate
    latest: list[dict]
    categories: list[dict]
    bounds: tuple[float, float, float, float] | None


def _statuses(status: str) -> tuple[str, ...]:
    """The statuses a map filter stands for; by default all but rejected and duplicate."""
    if not status:
        return tuple(s for s in STATUS_VALUES if s not in NOT_COUNTED_STATUSES)
    return tuple(STATUS_GROUPS.get(status, (status,)))


def _heat(session: Session, incidents: IncidentFilter, total: int):
    if total <= MAX_HEAT_POINTS:
        return [[lat, lon] for lat, lon in store.incident_points(session, incidents)], False
    cells = store.incident_cells(session, incidents, HEAT_CELL_DEGREES)
    top = max((n for *_cell, n in cells), default=1)
    return [[lat, lon, round(n / top, 4)] for lat, lon, n in cells], True


def _weekly(session: Session, incidents: IncidentFilter, period: Period):
    rows = store.weekly_cells(session, incidents, WEEKLY_CELL_DEGREES)
    weeks = period.weeks
    per_week: dict[date, list[list[float]]] = {w: [] for w in weeks}
    top = max((n for *_, n in rows), default=1)
    for week, lat, lon, n in rows:
        per_week.setdefault(week, []).append([lat, lon, round(n / top, 4)])
    return [w.isoformat() for w in weeks], [per_week[w] for w in weeks]


def incident_map(session: Session, scope: Scope, filters: MapFilters) -> IncidentMap:
    """What the incident maps show: a heat map (points, or counts per ~50 m cell above
    10,000 incidents), weekly heat and incidents per 1,000 households per grid. Locations
    and counts only: no reporter, contact or household is read."""
    incidents = IncidentFilter(
        filters.period.start,
        filters.period.end,
        _category_id(session, filters.category_code),
        _statuses(filters.status),
        scope.grid_ids,
    )
    total = store.incident_count(session, incidents)
    heat, aggregated = _heat(session, incidents, total) if filters.view == "heat" else ([], False)
    weeks, weekly = (
        _weekly(session, incidents, filters.period) if filters.view == "weekly" else ([], [])
    )
    return IncidentMap(
        filters=filters,
        total=total,
        heat=heat,
        aggregated=aggregated,
        weeks=weeks,
        weekly=weekly,
        grids=store.grid_rates(session, incidents, simplify=0.00001),
        latest=[
            r | {"created_at": r["created_at"].astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")}
            for r in store.latest_incidents(session, incidents, LATEST_INCIDENTS)
        ],
        categories=store.categories(session),
        bounds=store.live_bounds(session, scope.grid_ids),
    )
