"""Incident queries: possible duplicates, lists in a scope, one incident with its timeline."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models import OPEN_STATUSES
from app.store.locate import METRES_PER_DEGREE_LAT
from app.store.scope import Scope, unrouted_visible_sql

_DUPLICATES = text(
    """
    SELECT i.id, i.status, i.description, i.created_at,
           ST_Distance(i.geom::geography, p.geom::geography) AS distance_m
    FROM incidents i,
         (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geom) p
    WHERE i.category_id = :category_id
      AND i.status = ANY(:open)
      AND i.created_at >= :since
      AND i.id <> coalesce(:exclude, -1)
      AND i.geom && ST_Expand(p.geom, :dlon, :dlat)
      AND ST_DWithin(i.geom::geography, p.geom::geography, :radius)
    ORDER BY distance_m, i.id
    LIMIT 20
    """
)


@dataclass(frozen=True)
class PossibleDuplicate:
    id: int
    status: str
    description: str
    created_at: datetime
    distance_m: float


def possible_duplicates(
    session: Session,
    *,
    lon: float,
    lat: float,
    category_id: int,
    since: datetime,
    radius_m: float,
    exclude: int | None = None,
) -> list[PossibleDuplicate]:
    """Open incidents of a category within ``radius_m`` of a point, reported since ``since``."""
    dlat = 1.5 * radius_m / METRES_PER_DEGREE_LAT
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    rows = session.execute(
        _DUPLICATES,
        {
            "lon": lon,
            "lat": lat,
            "category_id": category_id,
            "open": list(OPEN_STATUSES),
            "since": since,
            "exclude": exclude,
            "dlon": dlon,
            "dlat": dlat,
            "radius": radius_m,
        },
    )
    return [
        PossibleDuplicate(r.id, r.status, r.description, r.created_at, float(r.distance_m))
        for r in rows
    ]


# Every column a list or a page shows, with the names of what the ids point at.
_SELECT = """
    SELECT i.id, i.status, i.channel, i.description, i.address,
           ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,
           i.created_at, i.updated_at, i.deadline_at, i.closed_at, i.rating,
           i.near_boundary, i.candidate_grid_ids, i.needs_review, i.duplicate_of_id,
           i.escalation_level, i.escalated_at, i.contact_name, i.contact_phone,
           i.reporter_id,
           c.id AS category_id, c.code AS category_code, c.name AS category_name,
           g.id AS grid_id, g.code AS grid_code, g.name AS grid_name,
           cm.code AS community_code, cm.name AS community_name,
           st.code AS street_code, st.name AS street_name,
           w.id AS worker_id, w.display_name AS worker_name,
           d.id AS department_id, d.name AS department_name,
           (SELECT count(*) FROM incident_photos ph WHERE ph.incident_id = i.id) AS photo_count
    FROM incidents i
    JOIN incident_categories c ON c.id = i.category_id
    LEFT JOIN areas g ON g.id = i.grid_id
    LEFT JOIN areas cm ON cm.id = i.community_id
    LEFT JOIN areas st ON st.id = i.street_id
    LEFT JOIN users w ON w.id = i.worker_id
    LEFT JOIN departments d ON d.id = i.department_id
"""


@dataclass(frozen=True)
class IncidentFilter:
    statuses: tuple[str, ...] = ()
    category_codes: tuple[str, ...] = ()
    grid_code: str | None = None
    worker_id: int | None = None
    overdue_at: datetime | None = None  # only open incidents past their deadline at this time
    needs_review: bool | None = None
    escalated: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    ids: tuple[int, ...] = ()


def _where(scope: Scope, f: IncidentFilter, unrouted: bool) -> tuple[str, dict]:
    clauses, params = ["TRUE"], {}
    if scope.grid_ids is not None:
        # A restricted scope sees its grids' incidents and the ones it reported itself;
        # supervisors also see the ones waiting outside every grid in their streets.
        waiting, waiting_params = unrouted_visible_sql(scope.grid_ids, "i.geom")
        clauses.append(
            "(i.grid_id = ANY(:scope_grids) OR i.reporter_id = :scope_user"
            + (f" OR (i.grid_id IS NULL AND {waiting}))" if unrouted else ")")
        )
        params |= {"scope_grids": list(scope.grid_ids), "scope_user": scope.user_id}
        params |= waiting_params if unrouted else {}
    if f.statuses:
        clauses.append("i.status = ANY(:statuses)")
        params["statuses"] = list(f.statuses)
    if f.category_codes:
        clauses.append("c.code = ANY(:categories)")
        params["categories"] = list(f.category_codes)
    if f.grid_code:
        clauses.append("g.code = :grid_code")
        params["grid_code"] = f.grid_code
    if f.worker_id is not None:
        clauses.append("i.worker_id = :worker_id")
        params["worker_id"] = f.worker_id
    if f.overdue_at is not None:
        clauses.append("i.status = ANY(:open) AND i.deadline_at < :overdue_at")
        params |= {"open": list(OPEN_STATUSES), "overdue_at": f.overdue_at}
    if f.needs_review is not None:
        clauses.append("i.needs_review = :needs_review")
        params["needs_review"] = f.needs_review
    if f.escalated is not None:
        clauses.append(f"i.escalation_level IS {'NOT ' if f.escalated else ''}NULL")
    if f.since is not None:
        clauses.append("i.created_at >= :since")
        params["since"] = f.since
    if f.until is not None:
        clauses.append("i.created_at < :until")
        params["until"] = f.until
    if f.ids:
        clauses.append("i.id = ANY(:ids)")
        params["ids"] = list(f.ids)
    return " AND ".join(clauses), params


def incidents(
    session: Session,
    scope: Scope,
    f: IncidentFilter,
    *,
    unrouted: bool = False,
    order: str = "newest",
    limit: int = 100,
    offset: int = 0,
) -> tuple[list, int]:
    """A page of incidents in a scope, and how many match in all."""
    where, params = _where(scope, f, unrouted)
    order_by = {
        "newest": "i.created_at DESC, i.id DESC",
        "deadline": "i.deadline_at ASC NULLS LAST, i.id",
    }[order]
    rows = session.execute(
        text(f"{_SELECT} WHERE {where} ORDER BY {order_by} LIMIT :limit OFFSET :offset"),
        params | {"limit": limit, "offset": offset},
    ).all()
    total = session.scalar(
        text(
            "SELECT count(*) FROM incidents i JOIN incident_categories c ON c.id = i.category_id "
            f"LEFT JOIN areas g ON g.id = i.grid_id WHERE {where}"
        ),
        params,
    )
    return rows, total


def incident_row(session: Session, incident_id: int):
    return session.execute(text(f"{_SELECT} WHERE i.id = :id"), {"id": incident_id}).one_or_none()


def timeline(session: Session, incident_id: int) -> list:
    return session.execute(
        text(
            """
            SELECT e.id, e.from_status, e.to_status, e.note, e.created_at,
                   u.id AS actor_id, u.display_name AS actor_name, u.role AS actor_role,
                   (SELECT coalesce(array_agg(p.id ORDER BY p.id), '{}')
                    FROM incident_photos p WHERE p.event_id = e.id) AS photo_ids
            FROM incident_events e LEFT JOIN users u ON u.id = e.actor_id
            WHERE e.incident_id = :id ORDER BY e.created_at, e.id
            """
        ),
        {"id": incident_id},
    ).all()


def photo_ids(session: Session, incident_id: int) -> list[int]:
    return list(
        session.scalars(
            text("SELECT id FROM incident_photos WHERE incident_id = :id ORDER BY id"),
            {"id": incident_id},
        )
    )


def grid_chain(session: Session, grid_code: str):
    """A current grid's id and the ids of its community, street and first active worker."""
    return session.execute(
        text(
            """
            SELECT g.id, g.code, g.name, c.id AS community_id, c.parent_id AS street_id,
                   (SELECT wg.user_id FROM worker_grids wg JOIN users u ON u.id = wg.user_id
                    WHERE wg.grid_id = g.id AND u.active
                    ORDER BY u.display_name, u.id LIMIT 1) AS worker_id
            FROM areas g LEFT JOIN areas c ON c.id = g.parent_id
            WHERE g.code = :code AND g.level = 'grid' AND g.valid_to IS NULL
            """
        ),
        {"code": grid_code},
    ).one_or_none()


def grid_codes(session: Session, ids: list[int]) -> dict[int, tuple[str, str]]:
    rows = session.execute(
        text("SELECT id, code, name FROM areas WHERE id = ANY(:ids)"), {"ids": ids}
    )
    return {r.id: (r.code, r.name) for r in rows}


def unrouted_in_scope(session: Session, scope: Scope, incident_id: int) -> bool:
    """True when the incident lies in a street or community ``scope`` may see."""
    condition, params = unrouted_visible_sql(scope.grid_ids, "i.geom")
    return bool(
        session.scalar(
            text(f"SELECT {condition} FROM incidents i WHERE i.id = :id"),
            {**params, "id": incident_id},
        )
    )
