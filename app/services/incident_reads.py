"""Reading incidents: lists, one case with its timeline and next steps, a worker's queue.

Contacts (a resident's name and phone) are personal data: shown to the roles that need them
(reads logged), masked for the others.  Deadline colours follow the working-day calendar.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.models import OPEN_STATUSES, User
from app.services import workflow
from app.services.incidents import SUPERVISORS, may_see
from app.services.privacy import log_personal_read, mask_free_text, mask_name, mask_phone
from app.store import incidents as store
from app.store.calendar import load_calendar
from app.store.scope import Scope


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _area(code: str | None, name: str | None) -> dict | None:
    return {"code": code, "name": name} if code else None


def _item(row, scope: Scope, calendar, now: datetime) -> dict:
    personal = scope.sees_personal_data
    return {
        "id": row.id,
        "status": row.status,
        "status_name": workflow.STATUS_NAMES.get(row.status, row.status),
        "channel": row.channel,
        "category": {"code": row.category_code, "name": row.category_name},
        "description": row.description if personal else mask_free_text(row.description),
        "address": row.address if personal else mask_free_text(row.address),
        "lon": round(row.lon, 7),
        "lat": round(row.lat, 7),
        "grid": _area(row.grid_code, row.grid_name),
        "community": _area(row.community_code, row.community_name),
        "street": _area(row.street_code, row.street_name),
        "worker": {"id": row.worker_id, "name": row.worker_name} if row.worker_id else None,
        "department": (
            {"id": row.department_id, "name": row.department_name} if row.department_id else None
        ),
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "deadline_at": _iso(row.deadline_at),
        "deadline_state": calendar.deadline_state(row.deadline_at, now, row.closed_at)
        if row.deadline_at
        else None,
        "closed_at": _iso(row.closed_at),
        "rating": row.rating,
        "near_boundary": row.near_boundary,
        "needs_review": row.needs_review,
        "duplicate_of": row.duplicate_of_id,
        "escalation_level": row.escalation_level,
        "photo_count": row.photo_count,
        "contact": {
            "name": row.contact_name if personal else mask_name(row.contact_name),
            "phone": row.contact_phone if personal else mask_phone(row.contact_phone),
        }
        if (row.contact_name or row.contact_phone)
        else None,
    }


def _log_contacts(session: Session, scope: Scope, rows, purpose: str) -> None:
    ids = [r.id for r in rows if r.contact_name or r.contact_phone]
    if scope.sees_personal_data and ids:
        log_personal_read(session, scope, "incidents", ids, purpose)
        session.commit()


def list_incidents(
    session: Session,
    user: User,
    scope: Scope,
    f: store.IncidentFilter,
    *,
    order: str = "newest",
    limit: int = 100,
    offset: int = 0,
    now: datetime | None = None,
) -> tuple[list[dict], int]:
    now = now or datetime.now(UTC)
    rows, total = store.incidents(
        session,
        scope,
        f,
        unrouted=user.role in SUPERVISORS,
        order=order,
        limit=limit,
        offset=offset,
    )
    calendar = load_calendar(session)
    items = [_item(r, scope, calendar, now) for r in rows]
    _log_contacts(session, scope, rows, "incident list")
    return items, total


def worker_queue(session: Session, user: User, scope: Scope, *, now=None) -> list[dict]:
    """My open incidents, the nearest deadline first."""
    items, _ = list_incidents(
        session,
        user,
        scope,
        store.IncidentFilter(statuses=OPEN_STATUSES, worker_id=user.id),
        order="deadline",
        limit=500,
        now=now,
    )
    return items


def incident_detail(
    session: Session, user: User, scope: Scope, incident_id: int, *, now=None
) -> dict:
    """One incident with its timeline, photos, candidates, possible duplicates, next steps."""
    now = now or datetime.now(UTC)
    row = store.incident_row(session, incident_id)
    if row is None or not may_see(session, user, scope, row):
        raise NotFound(f"No incident {incident_id} in your area.")
    item = _item(row, scope, load_calendar(session), now)
    item["timeline"] = [
        {
            "from_status": e.from_status,
            "to_status": e.to_status,
            "to_name": workflow.STATUS_NAMES.get(e.to_status, e.to_status),
            "note": e.note if scope.sees_personal_data else mask_free_text(e.note),
            "at": _iso(e.created_at),
            "by": {"id": e.actor_id, "name": e.actor_name, "role": e.actor_role}
            if e.actor_id
            else None,
            "photo_ids": list(e.photo_ids),
        }
        for e in store.timeline(session, incident_id)
    ]
    item["photo_ids"] = store.photo_ids(session, incident_id)
    names = store.grid_codes(session, list(row.candidate_grid_ids or []))
    item["candidates"] = [
        {"id": gid, "code": names[gid][0], "name": names[gid][1]}
        for gid in row.candidate_grid_ids or []
        if gid in names
    ]
    acts = scope.allows_grid(row.grid_id) or (row.grid_id is None and user.role in SUPERVISORS)
    item["next_steps"] = workflow.allowed_next(row.status, user.role) if acts else []
    days = current_app.config.get("WANGGE_DUPLICATE_DAYS", 30)
    item["possible_duplicates"] = (
        [
            {"id": d.id, "status": d.status, "distance_m": round(d.distance_m, 1)}
            for d in store.possible_duplicates(
                session,
                lon=row.lon,
                lat=row.lat,
                category_id=row.category_id,
                since=row.created_at - timedelta(days=days),
                radius_m=current_app.config.get("WANGGE_DUPLICATE_RADIUS_M", 250),
                exclude=row.id,
            )
            if d.created_at <= row.created_at
        ]
        if row.status in OPEN_STATUSES
        else []
    )
    _log_contacts(session, scope, [row], "incident page")
    return item
