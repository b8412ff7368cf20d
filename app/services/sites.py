"""Post-disaster reconstruction sites (重建项目): registration, progress, the "three colours".

The colour rule (``site_status``) is pure: dates, percentages and thresholds in, a colour and
its reasons out.  Planned progress runs linearly from 0 % on ``planned_start`` to 100 % on
``planned_end``; actual progress is the latest reported percent.  A site is

* red (风险) more than ``red_points`` behind plan, or with a milestone more than ``late_days``
  days late;
* yellow (滞后) more than ``yellow_points`` behind, or with a milestone 1..``late_days`` late;
* green (正常) otherwise.

A milestone is late when its planned date has passed and it is not done.  The contact person
of a site is personal data: masked for roles that do not need it and never public.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import shapely
from geoalchemy2.shape import from_shape
from sqlalchemy.orm import Session

from app.errors import BadRequest, InvalidData, NotFound
from app.models.hazards import SITE_TYPES
from app.services.hazards import parse_hazard_geometry
from app.services.locate import parse_bbox
from app.services.photos import PhotoUpload, check_photos
from app.services.privacy import log_personal_read, mask_free_text, mask_name, mask_phone
from app.services.write_scope import may_change_stored, require_stored_writable, require_writable
from app.store import sites as store
from app.store.scope import Scope

TYPE_LABELS = {
    "housing": "安置住房",
    "road": "道路桥梁",
    "school": "学校",
    "public_facility": "公共设施",
}
COLOURS = ("green", "yellow", "red")
COLOUR_LABELS = {"green": "正常", "yellow": "滞后", "red": "风险"}
COLOUR_HEX = {"green": "#1a9641", "yellow": "#e6b800", "red": "#d7191c"}
FILTERS = ("type", "status", "owner", "bbox")
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """Today in Asia/Shanghai, the day progress is measured against."""
    return datetime.now(SHANGHAI).date()


# --- the three-colour rule (pure) ------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    yellow_points: float = 10
    red_points: float = 25
    late_days: int = 14

    @classmethod
    def from_config(cls, config: Mapping) -> Thresholds:
        return cls(
            yellow_points=float(config.get("WANGGE_SITE_YELLOW_POINTS", 10)),
            red_points=float(config.get("WANGGE_SITE_RED_POINTS", 25)),
            late_days=int(config.get("WANGGE_SITE_LATE_DAYS", 14)),
        )


@dataclass(frozen=True)
class Milestone:
    name: str
    planned_date: date
    done_date: date | None = None


@dataclass(frozen=True)
class SiteStatus:
    colour: str
    planned_percent: float
    actual_percent: float
    behind_points: float
    late_milestones: tuple[tuple[str, int], ...] = ()
    reasons: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return COLOUR_LABELS[self.colour]

    def to_dict(self) -> dict:
        return {
            "colour": self.colour,
            "label": self.label,
            "planned_percent": self.planned_percent,
            "actual_percent": self.actual_percent,
            "behind_points": self.behind_points,
            "late_milestones": [{"name": n, "days_late": d} for n, d in self.late_milestones],
            "reasons": list(self.reasons),
        }


def planned_percent(planned_start: date, planned_end: date, on: date) -> float:
    """Linear plan: 0 on ``planned_start``, 100 on ``planned_end``, clamped in between.

    >>> planned_percent(date(2025, 1, 1), date(2025, 1, 11), date(2025, 1, 2))
    10.0
    """
    span = (planned_end - planned_start).days
    if span <= 0:
        return 100.0 if on >= planned_end else 0.0
    return min(100.0, max(0.0, 100.0 * (on - planned_start).days / span))


def site_status(
    planned_start: date,
    planned_end: date,
    actual: float | None,
    milestones: Iterable[Milestone],
    on: date,
    thresholds: Thresholds = Thresholds(),
) -> SiteStatus:
    """The colour of a site on day ``on`` and why (no report yet counts as 0 %)."""
    planned = round(planned_percent(planned_start, planned_end, on), 2)
    actual_pct = round(float(actual or 0.0), 2)
    # Rounded so that "exactly 10 points behind" is not 10.000000001 behind.
    behind = round(planned - actual_pct, 2)
    late = tuple(
        (m.name, (on - m.planned_date).days)
        for m in milestones
        if m.done_date is None and m.planned_date < on
    )
    worst_late = max((days for _, days in late), default=0)
    reasons = []
    if behind > thresholds.yellow_points:
        reasons.append(f"落后计划 {behind:g} 个百分点（计划 {planned:g}%，实际 {actual_pct:g}%）")
    reasons += [f"里程碑“{name}”逾期 {days} 天" for name, days in late]
    if behind > thresholds.red_points or worst_late > thresholds.late_days:
        colour = "red"
    elif behind > thresholds.yellow_points or worst_late >= 1:
        colour = "yellow"
    else:
        colour = "green"
        reasons = [f"按计划推进（计划 {planned:g}%，实际 {actual_pct:g}%）"]
    return SiteStatus(colour, planned, actual_pct, behind, late, tuple(reasons))


# --- parsing ---------------------------------------------------------------------------------


def _split(raw: str) -> list[str]:
    return [v.strip() for v in raw.split(",") if v.strip()]


@dataclass(frozen=True)
class ListQuery:
    where: store.SiteFilter
    colours: tuple[str, ...] = ()


def parse_filter(args: Mapping[str, str]) -> ListQuery:
    """Query parameters as a filter; 400 naming any unknown parameter or value."""
    unknown = sorted(set(args) - set(FILTERS))
    if unknown:
        raise BadRequest(
            f"Unknown filter(s): {', '.join(unknown)}; use {', '.join(FILTERS)}.",
            details={"fields": unknown},
        )
    types = _split(args.get("type", ""))
    if bad := [t for t in types if t not in SITE_TYPES]:
        raise BadRequest(
            f"Unknown site type(s) {', '.join(bad)}; expected {', '.join(SITE_TYPES)}.",
            details={"field": "type"},
        )
    colours = _split(args.get("status", ""))
    if bad := [c for c in colours if c not in COLOURS]:
        raise BadRequest(
            f"Unknown status colour(s) {', '.join(bad)}; expected green, yellow or red.",
            details={"field": "status"},
        )
    owner = (args.get("owner") or "").strip() or None
    return ListQuery(
        store.SiteFilter(tuple(types), owner, parse_bbox(args.get("bbox"))), tuple(colours)
    )


def _check_date(value: date, field_name: str) -> date:
    if not EARLIEST <= value <= LATEST:
        raise InvalidData(
            f"{field_name} must be between {EARLIEST} and {LATEST}, got {value}.",
            details={"field": field_name},
        )
    return value


def _done_date(value: date | None, field_name: str, start: date, on: date) -> date | None:
    if value is None:
        return None
    if value > on:
        raise InvalidData(f"{field_name} {value} is in the future.", details={"field": field_name})
    if value < start:
        raise InvalidData(
            f"{field_name} {value} is before the planned start {start}.",
            details={"field": field_name},
        )
    return value


def parse_milestones(raw: Sequence, start: date, end: date, on: date) -> list[dict]:
    """Milestones dated within the planned period; 422 naming the faulty one."""
    out = []
    for i, m in enumerate(raw):
        where = f"milestones.{i}.planned_date"
        if not start <= m.planned_date <= end:
            raise InvalidData(
                f"Milestone {i + 1} ({m.name}) is planned for {m.planned_date}, outside the "
                f"planned period {start} to {end}.",
                details={"field": where},
            )
        done = _done_date(m.done_date, f"milestones.{i}.done_date", start, on)
        out.append({"name": m.name.strip(), "planned_date": m.planned_date, "done_date": done})
    return out


def _site_geometry(raw: dict, crs: str | None, max_vertices: int):
    """A Point or MultiPolygon in WGS84, ready to store."""
    geom = parse_hazard_geometry(raw, crs, max_vertices=max_vertices)
    if isinstance(geom, shapely.Polygon):
        geom = shapely.MultiPolygon([geom])
    return from_shape(geom, srid=4326)


# --- reading ---------------------------------------------------------------------------------


def _milestone_values(rows) -> list[Milestone]:
    return [Milestone(r.name, r.planned_date, r.done_date) for r in rows]


def status_of(row, milestones, thresholds: Thresholds, on: date) -> SiteStatus:
    return site_status(
        row.planned_start,
        row.planned_end,
        row.actual_percent,
        _milestone_values(milestones),
        on,
        thresholds,
    )


def _contact(row, scope: Scope | None) -> dict:
    if scope is not None and scope.sees_personal_data:
        return {"contact_name": row.contact_name, "contact_phone": row.contact_phone}
    return {
        "contact_name": mask_name(row.contact_name) or None,
        "contact_phone": mask_phone(row.contact_phone) or None,
    }


def _public_properties(row, status: SiteStatus) -> dict:
    """What anyone may see of a site: no contact person, no reporter."""
    return {
        "id": row.id,
        "name": row.name,
        "site_type": row.site_type,
        "type_label": TYPE_LABELS[row.site_type],
        "owner": row.owner,
        "lon": round(row.lon, 6),
        "lat": round(row.lat, 6),
        "planned_start": row.planned_start.isoformat(),
        "planned_end": row.planned_end.isoformat(),
        "last_reported_on": row.last_reported_on.isoformat() if row.last_reported_on else None,
        "status": status.to_dict(),
        "color": COLOUR_HEX[status.colour],
    }


def feature(row, status: SiteStatus, scope: Scope | None) -> dict:
    """A site as a GeoJSON Feature; the contact is masked unless ``scope`` sees personal data."""
    personal = scope is not None and scope.sees_personal_data
    description = row.description if personal else mask_free_text(row.description)
    props = _public_properties(row, status) | {"description": description}
    props |= _contact(row, scope)
    return {"type": "Feature", "id": row.id, "geometry": row.geometry, "properties": props}


@dataclass(frozen=True)
class SiteListing:
    rows: list
    statuses: list[SiteStatus]


def _listing(session: Session, query: ListQuery, thresholds: Thresholds) -> SiteListing:
    rows = store.site_rows(session, query.where)
    milestones = store.milestones_by_site(session, [r.id for r in rows])
    on = today()
    pairs = [(r, status_of(r, milestones.get(r.id, []), thresholds, on)) for r in rows]
    if query.colours:
        pairs = [(r, s) for r, s in pairs if s.colour in query.colours]
    return SiteListing([r for r, _ in pairs], [s for _, s in pairs])


def list_sites(
    session: Session, scope: Scope, args: Mapping[str, str], thresholds: Thresholds
) -> dict:
    """Sites matching ``args`` (type, status, owner, bbox) as a FeatureCollection."""
    listing = _listing(session, _scoped(parse_filter(args), scope), thresholds)
    features = [feature(r, s, scope) for r, s in zip(listing.rows, listing.statuses)]
    if scope.sees_personal_data:
        ids = [r.id for r in listing.rows if r.contact_name or r.contact_phone]
        log_personal_read(session, scope, "sites", ids, "site list")
        session.commit()
    return {"type": "FeatureCollection", "features": features, "counts": _counts(listing)}


def _counts(listing: SiteListing) -> dict[str, int]:
    counts = dict.fromkeys(COLOURS, 0)
    for s in listing.statuses:
        counts[s.colour] += 1
    return counts


def _scoped(query: ListQuery, scope: Scope | None) -> ListQuery:
    """The query limited to the sites touching the reader's grids (a scope's, else all)."""
    if scope is None:
        return query
    return replace(query, where=replace(query.where, grid_ids=scope.grid_ids))


def site_map_data(
    session: Session, args: Mapping[str, str], thresholds: Thresholds, scope: Scope | None = None
) -> dict:
    """The map page's sites (filtered like the API), without contact details."""
    listing = _listing(session, _scoped(parse_filter(args), scope), thresholds)
    features = [feature(r, s, None) for r, s in zip(listing.rows, listing.statuses)]
    for f in features:
        f["properties"].pop("contact_name")
        f["properties"].pop("contact_phone")
    return {"features": features, "counts": _counts(listing)}


def public_sites(session: Session, thresholds: Thresholds) -> list[dict]:
    """The public listing (项目公示): no contact person, no reporter, nothing personal."""
    listing = _listing(session, ListQuery(store.SiteFilter()), thresholds)
    return [_public_properties(r, s) for r, s in zip(listing.rows, listing.statuses)]


def _photo_url(photo_id: int) -> str:
    return f"/api/v1/sites/photos/{photo_id}"


def get_site(session: Session, scope: Scope, site_id: int, thresholds: Thresholds) -> dict:
    """One site with its milestones, progress history (with photo URLs) and status."""
    row = store.site_row(session, site_id, scope.grid_ids)
    if row is None:
        raise NotFound(f"No reconstruction site with id {site_id}.")
    milestones = store.milestones_by_site(session, [site_id]).get(site_id, [])
    on = today()
    status = status_of(row, milestones, thresholds, on)
    item = feature(row, status, scope)
    item["milestones"] = [
        {
            "id": m.id,
            "name": m.name,
            "planned_date": m.planned_date.isoformat(),
            "done_date": m.done_date.isoformat() if m.done_date else None,
            "days_late": (on - m.planned_date).days
            if m.done_date is None and m.planned_date < on
            else 0,
        }
        for m in milestones
    ]
    item["progress"] = [
        {
            "id": p.id,
            "reported_on": p.reported_on.isoformat(),
            "percent": p.percent,
            "planned_percent": round(
                planned_percent(row.planned_start, row.planned_end, p.reported_on), 1
            ),
            "note": p.note if scope.sees_personal_data else mask_free_text(p.note),
            "photos": [_photo_url(i) for i in p.photo_ids],
        }
        for p in store.progress_history(session, site_id)
    ]
    if scope.sees_personal_data and (row.contact_name or row.contact_phone):
        log_personal_read(session, scope, "sites", [site_id], "site page")
        session.commit()
    return item


# --- writing ---------------------------------------------------------------------------------


def create_site(session: Session, scope: Scope, body, *, max_vertices: int) -> int:
    """Register a site from a validated ``SiteCreate`` body with its milestones; committed."""
    if body.site_type not in SITE_TYPES:
        raise InvalidData(
            f"Unknown site type {body.site_type!r}; expected one of {', '.join(SITE_TYPES)}.",
            details={"field": "site_type"},
        )
    start = _check_date(body.planned_start, "planned_start")
    end = _check_date(body.planned_end, "planned_end")
    if end <= start:
        raise InvalidData(
            f"planned_end ({end}) must be after planned_start ({start}).",
            details={"field": "planned_end"},
        )
    for name in ("name", "owner"):
        if not getattr(body, name).strip():
            raise InvalidData(f"{name} must not be blank.", details={"field": name})
    milestones = parse_milestones(body.milestones, start, end, today())
    geom = _site_geometry(body.geometry, body.crs, max_vertices)
    require_writable(session, scope, geom, what="The site")
    values = {
        "name": body.name.strip(),
        "site_type": body.site_type,
        "owner": body.owner.strip(),
        "geom": geom,
        "planned_start": start,
        "planned_end": end,
        "description": body.description or "",
        "contact_name": (body.contact_name or "").strip() or None,
        "contact_phone": (body.contact_phone or "").strip() or None,
    }
    site_id = store.insert_site(session, values, milestones)
    session.commit()
    return site_id


def may_report(session: Session, scope: Scope, site_id: int) -> bool:
    """Whether the viewer may report progress on (and set milestones of) a site."""
    return may_change_stored(session, scope, "sites", site_id)


def update_milestones(session: Session, scope: Scope, site_id: int, body) -> None:
    """Set or clear the done dates of a site's milestones, all or none; committed."""
    row = store.site_row(session, site_id)
    if row is None:
        raise NotFound(f"No reconstruction site with id {site_id}.")
    require_stored_writable(session, scope, "sites", site_id, what=f"Site {site_id}")
    if not body.milestones:
        raise BadRequest("Nothing to change: send milestones [{id, done_date}].")
    on = today()
    for i, m in enumerate(body.milestones):
        done = _done_date(m.done_date, f"milestones.{i}.done_date", row.planned_start, on)
        if not store.set_milestone_done(session, site_id, m.id, done):
            session.rollback()
            raise InvalidData(
                f"Site {site_id} has no milestone {m.id}.", details={"field": f"milestones.{i}.id"}
            )
    session.commit()


@dataclass(frozen=True)
class ProgressReport:
    percent: str | None
    reported_on: str | None
    note: str
    photos: list[PhotoUpload]


def _percent(raw: str | None) -> float:
    try:
        value = float(raw) if raw not in (None, "") else None
    except ValueError:
        value = None
    if value is None or not 0 <= value <= 100:
        raise InvalidData(
            f"percent must be a number from 0 to 100, got {raw!r}.", details={"field": "percent"}
        )
    return round(value, 1)


def _reported_on(raw: str | None, start: date, on: date) -> date:
    if not raw:
        return on
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise InvalidData(
            f"reported_on must be a date YYYY-MM-DD, got {raw!r}.",
            details={"field": "reported_on"},
        ) from None
    if value > on:
        raise InvalidData(
            f"reported_on {value} is in the future.", details={"field": "reported_on"}
        )
    if value < start:
        raise InvalidData(
            f"reported_on {value} is before the planned start {start}.",
            details={"field": "reported_on"},
        )
    return value


def report_progress(
    session: Session,
    scope: Scope,
    site_id: int,
    report: ProgressReport,
    *,
    max_photos: int,
    max_photo_bytes: int,
) -> int:
    """Record a progress report with its photos, all or nothing; committed."""
    row = store.site_row(session, site_id)
    if row is None:
        raise NotFound(f"No reconstruction site with id {site_id}.")
    require_stored_writable(session, scope, "sites", site_id, what=f"Site {site_id}")
    values = {
        "percent": _percent(report.percent),
        "reported_on": _reported_on(report.reported_on, row.planned_start, today()),
        "note": report.note.strip()[:2000],
        "reported_by": scope.user_id,
    }
    photos = check_photos(report.photos, max_count=max_photos, max_bytes=max_photo_bytes)
    progress_id = store.insert_progress(session, site_id, values, photos)
    session.commit()
    return progress_id


def site_photo(session: Session, photo_id: int):
    photo = store.photo(session, photo_id)
    if photo is None:
        raise NotFound(f"No site photo with id {photo_id}.")
    return photo
