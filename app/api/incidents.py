"""Incidents: intake, lists, one case, workflow steps, re-routing, photos, categories."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Response, jsonify, request
from flask_login import current_user
from sqlalchemy import select

from app.api import bp, params, schemas
from app.api.openapi import documented
from app.auth import current_scope, roles_required
from app.errors import BadRequest, NotFound
from app.extensions import db
from app.models import STATUS_VALUES, Department, IncidentCategory, IncidentPhoto
from app.services import incident_reads, incidents
from app.store.incidents import IncidentFilter

SHANGHAI = ZoneInfo("Asia/Shanghai")
LIST_FILTERS = {
    "status", "category", "grid", "mine", "overdue", "needs_review", "escalated", "since",
    "until", "order", "limit", "offset",
}  # fmt: skip
API_CHANNELS = ("patrol", "hotline", "api")


def _csv(name: str, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    values = tuple(v.strip() for v in request.args.get(name, "").split(",") if v.strip())
    if allowed is not None:
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise BadRequest(
                f"Unknown {name} {', '.join(unknown)}; use {', '.join(allowed)}.",
                details={"field": name},
            )
    return values


def _flag(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    if raw.lower() in ("1", "true", "yes"):
        return True
    if raw.lower() in ("0", "false", "no"):
        return False
    raise BadRequest(f"{name} must be true or false, got {raw!r}.", details={"field": name})


def _day(name: str, *, end: bool = False) -> datetime | None:
    """A YYYY-MM-DD parameter as the start of that day in Shanghai (of the next day: ``end``)."""
    day = params.day(name)
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=int(end)), time(), SHANGHAI)


def list_filter() -> IncidentFilter:
    unknown = sorted(set(request.args) - LIST_FILTERS)
    if unknown:
        raise BadRequest(
            f"Unknown filter {', '.join(unknown)}; use {', '.join(sorted(LIST_FILTERS))}.",
            details={"field": unknown[0]},
        )
    overdue = _flag("overdue")
    return IncidentFilter(
        statuses=_csv("status", STATUS_VALUES),
        category_codes=_csv("category"),
        grid_code=request.args.get("grid") or None,
        worker_id=current_user.id if _flag("mine") else None,
        overdue_at=datetime.now(SHANGHAI) if overdue else None,
        needs_review=_flag("needs_review"),
        escalated=_flag("escalated"),
        since=_day("since"),
        until=_day("until", end=True),
    )


@bp.get("/incidents")
@documented(
    query=("status", "category", "grid", "mine", "overdue", "needs_review", "escalated",
           "since", "until", "order", "limit", "offset")
)  # fmt: skip
def incidents_view():
    """Incidents in your area, newest first (or order=deadline); contacts masked by role."""
    f = list_filter()
    order = request.args.get("order", "newest")
    if order not in ("newest", "deadline"):
        raise BadRequest("order must be newest or deadline.", details={"field": "order"})
    limit, offset = params.page()
    items, total = incident_reads.list_incidents(
        db.session, current_user, current_scope(), f, order=order, limit=limit, offset=offset
    )
    return jsonify({"items": items, **params.page_links(total, limit, offset)})


@bp.get("/incidents/queue")
@documented()
def incident_queue_view():
    """My open incidents, the nearest deadline first."""
    items = incident_reads.worker_queue(db.session, current_user, current_scope())
    return jsonify({"items": items, "total": len(items)})


@bp.get("/incidents/escalated")
@documented()
def escalated_incidents_view():
    """Open incidents escalated to my level (community, street or district) in my area."""
    from app.services.escalation import escalated_to

    items = escalated_to(db.session, current_user)
    for item in items:
        for key in ("escalated_at", "deadline_at", "created_at"):
            item[key] = item[key].isoformat() if item[key] else None
    return jsonify({"items": items, "total": len(items)})


@bp.post("/incidents")
@roles_required("admin", "leader", "worker")
@documented(body=schemas.IncidentCreate, status=201, photos=True)
def create_incident_view():
    """Report an incident: located to its grid, community, street, worker and department."""
    body = schemas.parse_body(schemas.IncidentCreate, form=True)
    if body.channel not in API_CHANNELS:
        raise BadRequest(
            f"channel must be one of {', '.join(API_CHANNELS)}.", details={"field": "channel"}
        )
    intake = incidents.submit_incident(
        db.session,
        category_code=body.category,
        description=body.description,
        lon=body.lon,
        lat=body.lat,
        crs=body.crs,
        channel=body.channel,
        reporter_id=current_user.id,
        photos=params.uploaded_photos(),
        address=body.address,
        contact_name=body.contact_name,
        contact_phone=body.contact_phone,
    )
    item = incident_reads.incident_detail(
        db.session, current_user, current_scope(), intake.incident.id
    )
    item["possible_duplicates"] = [
        {"id": d.id, "status": d.status, "distance_m": round(d.distance_m, 1)}
        for d in intake.duplicates
    ]
    response = jsonify(item)
    response.headers["Location"] = f"/api/v1/incidents/{intake.incident.id}"
    return response, 201


@bp.get("/incidents/<int:incident_id>")
@documented()
def incident_view(incident_id: int):
    """One incident: timeline, photos, near-boundary candidates, duplicates, your next steps."""
    return jsonify(
        incident_reads.incident_detail(db.session, current_user, current_scope(), incident_id)
    )


@bp.post("/incidents/<int:incident_id>/transitions")
@roles_required("admin", "leader", "worker")
@documented(body=schemas.IncidentStep, status=201, photos=True)
def incident_transition_view(incident_id: int):
    """Take one workflow step (409 if the workflow has no such step, 403 if not yours)."""
    body = schemas.parse_body(schemas.IncidentStep, form=True)
    incidents.transition(
        db.session,
        current_user,
        current_scope(),
        incident_id,
        to=body.to,
        note=body.note,
        rating=body.rating,
        duplicate_of=body.duplicate_of,
        photos=params.uploaded_photos(),
    )
    item = incident_reads.incident_detail(db.session, current_user, current_scope(), incident_id)
    return jsonify(item), 201


@bp.post("/incidents/<int:incident_id>/reroute")
@roles_required("admin", "leader", "worker")
@documented(body=schemas.IncidentReroute)
def incident_reroute_view(incident_id: int):
    """Move an incident to another grid in one action.

    A worker who moves a case into a neighbour's grid no longer sees it: the answer then says
    only where it went (``in_your_area`` false)."""
    body = schemas.parse_body(schemas.IncidentReroute)
    scope = current_scope()
    incident = incidents.reroute(
        db.session, current_user, scope, incident_id, grid_code=body.grid, note=body.note
    )
    if not incidents.visible(scope, current_user.role, incident.grid_id, incident.reporter_id):
        # Moved out of the worker's own grids: say where it went, not 404.
        return jsonify({"id": incident_id, "grid": {"code": body.grid}, "in_your_area": False})
    item = incident_reads.incident_detail(db.session, current_user, scope, incident_id)
    return jsonify(item | {"in_your_area": True})


@bp.get("/incidents/<int:incident_id>/photos/<int:photo_id>")
@documented()
def incident_photo_view(incident_id: int, photo_id: int):
    """A photo of an incident in your area."""
    incident_reads.incident_detail(db.session, current_user, current_scope(), incident_id)
    photo = db.session.get(IncidentPhoto, photo_id)
    if photo is None or photo.incident_id != incident_id:
        raise NotFound(f"Incident {incident_id} has no photo {photo_id}.")
    response = Response(photo.data, mimetype=photo.content_type)
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(photo.sha256)
    return response.make_conditional(request)


@bp.get("/incidents/categories")
@documented()
def incident_categories_view():
    """Incident categories, their deadline in working days and their department."""
    rows = db.session.execute(
        select(IncidentCategory, Department.name)
        .outerjoin(Department, Department.id == IncidentCategory.department_id)
        .order_by(IncidentCategory.code)
    )
    return jsonify(
        [
            {
                "code": c.code,
                "name": c.name,
                "deadline_days": c.deadline_days,
                "department": department,
            }
            for c, department in rows
        ]
    )
