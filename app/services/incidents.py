"""Incidents: intake from every channel, routing, duplicates, the workflow and re-routing.

Every function here is one transaction: it checks everything first, then writes the
incident, its timeline entry, its photos, the notices and the webhook outbox together, and
commits once.  Bad input raises before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from geoalchemy2.shape import from_shape
from shapely import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import BadRequest, Conflict, Forbidden, InvalidData, NotFound
from app.models import (
    CHANNELS,
    OPEN_STATUSES,
    Incident,
    IncidentCategory,
    IncidentEvent,
    IncidentPhoto,
    Status,
    User,
)
from app.services import notifications, workflow
from app.services.locate import parse_lon_lat
from app.services.photos import PhotoUpload, check_photos
from app.store import incidents as store
from app.store.calendar import load_calendar
from app.store.locate import Location, locate_point
from app.store.scope import Scope

MAX_DESCRIPTION = 2000
MAX_NOTE = 1000

__all__ = ["PhotoUpload", "Intake", "submit_incident", "transition", "reroute"]


@dataclass
class Intake:
    incident: Incident
    location: Location
    duplicates: list[store.PossibleDuplicate]


def _setting(name: str, default):
    return current_app.config.get(name, default) if current_app else default


def _category(session: Session, code: str | None) -> IncidentCategory:
    if code is None or not str(code).strip():
        raise BadRequest("A category is required.", details={"field": "category"})
    category = session.scalar(select(IncidentCategory).where(IncidentCategory.code == code))
    if category is None:
        known = session.scalars(select(IncidentCategory.code).order_by(IncidentCategory.code))
        raise InvalidData(
            f"Unknown category {code!r}; known categories: {', '.join(known)}.",
            details={"field": "category"},
            code="unknown_category",
        )
    return category


def _text(value: str | None, field: str, limit: int, *, required: bool) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise BadRequest(f"{field} is required.", details={"field": field})
        return None
    if len(value) > limit:
        raise InvalidData(
            f"{field} is {len(value)} characters long; the limit is {limit}.",
            details={"field": field},
        )
    return value


def _route(session: Session, x: float, y: float, allow_unrouted: bool) -> Location:
    location = locate_point(session, x, y)
    if location.grid is not None:
        return location
    if location.district is not None and allow_unrouted:
        return location
    where = "inside the district but in no grid" if location.district else "outside the district"
    raise InvalidData(
        f"The point {x:.6f},{y:.6f} (WGS84) is {where}: no grid can take this incident.",
        details={"field": "location", "location": [x, y]},
        code="outside_grids",
    )


def submit_incident(
    session: Session,
    *,
    category_code: str | None,
    description: str | None,
    lon: object,
    lat: object,
    crs: str | None,
    channel: str,
    reporter_id: int | None = None,
    photos: Sequence[PhotoUpload] = (),
    address: str | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    open311_client_id: int | None = None,
    allow_unrouted: bool = False,
    description_required: bool = True,
    max_description: int = MAX_DESCRIPTION,
    now: datetime | None = None,
) -> Intake:
    """Take in one incident: check it, locate and route it, set its deadline, commit.

    ``allow_unrouted`` (the resident form) accepts a point inside the district that no grid
    covers; the incident is then flagged ``needs_review`` for a supervisor to route.
    Open311 makes the description optional and allows 4,000 characters
    (``description_required``, ``max_description``).
    """
    now = now or datetime.now(UTC)
    if channel not in CHANNELS:
        raise BadRequest(f"Unknown channel {channel!r}.", details={"field": "channel"})
    category = _category(session, category_code)
    description = _text(description, "description", max_description, required=description_required)
    address = _text(address, "address", 300, required=False)
    contact_name = _text(contact_name, "contact_name", 100, required=False)
    contact_phone = _text(contact_phone, "contact_phone", 32, required=False)
    x, y = parse_lon_lat(lon, lat, crs)
    location = _route(session, x, y, allow_unrouted)
    checked = check_photos(
        photos,
        max_count=_setting("WANGGE_MAX_PHOTOS", 5),
        max_bytes=_setting("WANGGE_MAX_PHOTO_MB", 5) * 1024 * 1024,
    )
    duplicates = store.possible_duplicates(
        session,
        lon=x,
        lat=y,
        category_id=category.id,
        since=now - timedelta(days=_setting("WANGGE_DUPLICATE_DAYS", 30)),
        radius_m=_setting("WANGGE_DUPLICATE_RADIUS_M", 250),
    )
    worker_id = location.workers[0].id if location.workers else None
    incident = Incident(
        geom=from_shape(Point(x, y), srid=4326),
        category_id=category.id,
        description=description or "",
        status=Status.SUBMITTED.value,
        channel=channel,
        reporter_id=reporter_id,
        grid_id=location.grid.id if location.grid else None,
        community_id=location.community.id if location.community else None,
        street_id=location.street.id if location.street else None,
        worker_id=worker_id,
        department_id=category.department_id,
        created_at=now,
        updated_at=now,
        deadline_at=load_calendar(session).add_working_days(now, category.deadline_days),
        address=address,
        contact_name=contact_name,
        contact_phone=contact_phone,
        near_boundary=location.near_boundary,
        candidate_grid_ids=[c.grid.id for c in location.candidates],
        needs_review=location.grid is None,
        open311_client_id=open311_client_id,
    )
    session.add(incident)
    session.flush()
    event = _event(session, incident, None, Status.SUBMITTED.value, reporter_id, "", now)
    _attach(session, incident, event, checked)
    where = location.grid.name if location.grid else "待人工分派"
    notifications.notify(
        session,
        [worker_id],
        kind="assigned",
        message=f"新事件 #{incident.id}（{category.name}，{where}）",
        incident_id=incident.id,
    )
    notifications.queue_webhook(
        session,
        category.department_id,
        event="incident.created",
        payload=_public_payload(incident, category),
        incident_id=incident.id,
    )
    session.commit()
    return Intake(incident, location, duplicates)


def _event(session, incident, from_status, to_status, actor_id, note, now) -> IncidentEvent:
    event = IncidentEvent(
        incident_id=incident.id,
        from_status=from_status,
        to_status=to_status,
        actor_id=actor_id,
        note=note or "",
        created_at=now,
    )
    session.add(event)
    session.flush()
    return event


def _attach(session, incident, event, checked) -> None:
    session.add_all(
        IncidentPhoto(
            incident_id=incident.id,
            event_id=event.id,
            content_type=photo.content_type,
            size=photo.size,
            sha256=photo.sha256,
            data=photo.data,
        )
        for photo in checked
    )


def _public_payload(incident: Incident, category: IncidentCategory) -> dict:
    """What an outside system is told: no names, no phones."""
    return {
        "incident_id": incident.id,
        "status": incident.status,
        "category": category.code,
        "description": incident.description,
        "address": incident.address,
        "grid_id": incident.grid_id,
        "deadline_at": incident.deadline_at.isoformat() if incident.deadline_at else None,
    }


SUPERVISORS = ("admin", "leader")


def visible(
    scope: Scope,
    role: str,
    grid_id: int | None,
    reporter_id: int | None,
    *,
    unrouted_in_scope: bool = False,
) -> bool:
    """Whether a user sees an incident: its grid is in their scope, they reported it, or it
    waits outside every grid, in their streets (``unrouted_in_scope``), for a supervisor
    (admin or leader) to route it."""
    return (
        scope.allows_grid(grid_id)
        or (scope.user_id is not None and reporter_id == scope.user_id)
        or (grid_id is None and role in SUPERVISORS and unrouted_in_scope)
    )


def may_see(session: Session, user: User, scope: Scope, incident) -> bool:
    """``visible`` for a loaded incident (a row or a model with id, grid_id, reporter_id)."""
    waiting = incident.grid_id is None and store.unrouted_in_scope(session, scope, incident.id)
    return visible(
        scope, user.role, incident.grid_id, incident.reporter_id, unrouted_in_scope=waiting
    )


def load_for_update(session: Session, user: User, scope: Scope, incident_id: int) -> Incident:
    """The incident, row-locked, if it exists and the user sees it (404 otherwise)."""
    incident = session.scalar(select(Incident).where(Incident.id == incident_id).with_for_update())
    if incident is None or not may_see(session, user, scope, incident):
        raise NotFound(f"No incident {incident_id} in your area.")
    return incident


def transition(
    session: Session,
    user: User,
    scope: Scope,
    incident_id: int,
    *,
    to: str,
    note: str | None = None,
    rating: int | None = None,
    duplicate_of: int | None = None,
    photos: Sequence[PhotoUpload] = (),
    now: datetime | None = None,
) -> Incident:
    """Take one workflow step; a rating at or below the reopen threshold reopens the case."""
    now = now or datetime.now(UTC)
    note = _text(note, "note", MAX_NOTE, required=False) or ""
    incident = load_for_update(session, user, scope, incident_id)
    workflow.check_step(incident.status, to, user.role)
    if not scope.allows_grid(incident.grid_id) and incident.grid_id is not None:
        raise Forbidden("Only the grid's own worker or the command centre may take this step.")
    checked = check_photos(
        photos,
        max_count=_setting("WANGGE_MAX_PHOTOS", 5),
        max_bytes=_setting("WANGGE_MAX_PHOTO_MB", 5) * 1024 * 1024,
    )
    if to == Status.RATED:
        _check_rating(rating)
        incident.rating = rating
    elif rating is not None:
        raise BadRequest(
            "A rating is only given with the step to rated.", details={"field": "rating"}
        )
    if to == Status.DUPLICATE:
        _link_duplicate(session, incident, duplicate_of)
    elif duplicate_of is not None:
        raise BadRequest(
            "duplicate_of is only given with the step to duplicate.",
            details={"field": "duplicate_of"},
        )
    from_status = incident.status
    event = _event(session, incident, from_status, to, user.id, note, now)
    _attach(session, incident, event, checked)
    incident.status = to
    incident.updated_at = now
    if to in workflow.CLOSING:
        incident.closed_at = now
    if to == Status.DISPATCHED:
        _notify_worker(session, incident, "dispatched", f"事件 #{incident.id} 已派遣给您")
    if to == Status.RATED and rating <= _setting("WANGGE_REOPEN_RATING", 2):
        _reopen(session, incident, user, now, f"评价 {rating} 分，自动重新打开")
    elif to == Status.REOPENED:
        _reopen(session, incident, user, now, None)
    notifications.queue_webhook(
        session,
        incident.department_id,
        event="incident.status",
        payload=_public_payload(incident, session.get(IncidentCategory, incident.category_id))
        | {"from_status": from_status},
        incident_id=incident.id,
    )
    session.commit()
    return incident


def _check_rating(rating: object) -> None:
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise InvalidData(
            f"A rating must be a whole number from 1 to 5, got {rating!r}.",
            details={"field": "rating"},
        )


def _link_duplicate(session: Session, incident: Incident, duplicate_of: int | None) -> None:
    if duplicate_of is None:
        raise BadRequest(
            "Say which incident this one duplicates (duplicate_of).",
            details={"field": "duplicate_of"},
        )
    original = session.get(Incident, duplicate_of)
    if original is None or original.id == incident.id:
        raise InvalidData(
            f"Incident {duplicate_of} cannot be the original of incident {incident.id}.",
            details={"field": "duplicate_of"},
        )
    if original.status not in OPEN_STATUSES or original.category_id != incident.category_id:
        raise Conflict(
            f"Incident {duplicate_of} is not an open incident of the same category.",
            details={"field": "duplicate_of"},
        )
    incident.duplicate_of_id = original.id


def _reopen(session, incident, user, now, note) -> None:
    """Back to work: the deadline starts again and the worker is told."""
    if incident.status != Status.REOPENED:
        _event(session, incident, incident.status, Status.REOPENED.value, user.id, note, now)
        incident.status = Status.REOPENED.value
    category = session.get(IncidentCategory, incident.category_id)
    incident.closed_at = None
    incident.escalation_level = None
    incident.escalated_at = None
    incident.deadline_at = load_calendar(session).add_working_days(now, category.deadline_days)
    _notify_worker(session, incident, "reopened", f"事件 #{incident.id} 已重新打开")


def _notify_worker(session, incident, kind, message) -> None:
    notifications.notify(
        session, [incident.worker_id], kind=kind, message=message, incident_id=incident.id
    )


def reroute(
    session: Session,
    user: User,
    scope: Scope,
    incident_id: int,
    *,
    grid_code: str,
    note: str | None = None,
    now: datetime | None = None,
) -> Incident:
    """Move an incident to another grid in one action.

    A worker may move a near-boundary incident to one of its candidate grids; the command
    centre and leaders may route any open incident (e.g. one accepted outside every grid)
    to any grid in their area.
    """
    now = now or datetime.now(UTC)
    note = _text(note, "note", MAX_NOTE, required=False) or ""
    incident = load_for_update(session, user, scope, incident_id)
    # Its reporter sees an incident anywhere, but only whoever holds its grid moves it.
    if not scope.allows_grid(incident.grid_id) and incident.grid_id is not None:
        raise Forbidden("Only the grid's own worker or the command centre may move this incident.")
    if incident.status not in OPEN_STATUSES:
        raise Conflict(f"Incident {incident_id} is {incident.status}; only open ones move.")
    target = store.grid_chain(session, grid_code)
    if target is None:
        raise InvalidData(f"No current grid {grid_code!r}.", details={"field": "grid"})
    if target.id == incident.grid_id:
        raise Conflict(f"Incident {incident_id} is already in grid {grid_code}.")
    if user.role == "worker":
        if target.id not in (incident.candidate_grid_ids or []):
            raise Forbidden(
                "A worker may only move an incident to one of its near-boundary candidates.",
                details={"candidates": incident.candidate_grid_ids},
            )
    elif user.role not in ("admin", "leader") or not scope.allows_grid(target.id):
        raise Forbidden(f"Grid {grid_code} is not in your area.")
    old = store.grid_codes(session, [incident.grid_id]).get(incident.grid_id, ("—", "未分派"))
    incident.grid_id = target.id
    incident.community_id = target.community_id
    incident.street_id = target.street_id
    incident.worker_id = target.worker_id
    incident.needs_review = False
    incident.updated_at = now
    text_note = f"改派：{old[1]} → {target.name}" + (f"；{note}" if note else "")
    _event(session, incident, incident.status, incident.status, user.id, text_note, now)
    _notify_worker(session, incident, "assigned", f"事件 #{incident.id} 改派到您的网格")
    session.commit()
    return incident
