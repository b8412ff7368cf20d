"""The grid worker's page: my grids, their households (masked), my open incidents, locate.

Phone first.  Nothing personal goes into the page or its map: the map gets only each
household's coordinates and whether it is vulnerable; the list shows addresses with masked
names and phone numbers.  Admins and leaders open a worker's page read-only with ?user=.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from geoalchemy2.shape import to_shape
from shapely import union_all
from sqlalchemy import select

from app.auth import current_scope, roles_required
from app.converters import INT4_MAX
from app.errors import BadRequest, Forbidden, NotFound
from app.extensions import db
from app.i18n import N_
from app.models import VULNERABLE_TAGS, Area, User, WorkerGrid
from app.services import incident_reads
from app.services.privacy import mask_free_text, mask_name, mask_phone
from app.services.workflow import STATUS_LABELS
from app.store.households import households_in_scope
from app.store.scope import Scope
from app.store.users import worker_grid_ids
from app.web import bp
from app.web.folium_kit import new_map, render
from geo.geojson import mapping

MAX_HOUSEHOLD_POINTS = 5000
MAX_HOUSEHOLD_ROWS = 500
# Labels are English message ids, translated in the template.
CRS_CHOICES = [
    ("wgs84", N_("WGS84 (GPS)")),
    ("gcj02", N_("GCJ-02 (AMap, Tencent, WeChat)")),
    ("bd09", N_("BD-09 (Baidu)")),
    ("cgcs2000", N_("CGCS2000 (Tianditu)")),
]


@dataclass(frozen=True)
class HouseholdLine:
    address: str
    head_name: str  # masked
    phone: str  # masked
    members: int
    vulnerable: bool


def _viewed_worker() -> tuple[User, bool]:
    """The worker whose page this is, and whether the viewer only looks (read-only)."""
    raw = request.args.get("user")
    if current_user.role == "worker":
        if raw not in (None, "", str(current_user.id)):
            raise Forbidden(_("A grid worker can only open their own page."))
        return current_user, False
    if not (raw and raw.isascii() and raw.isdigit() and int(raw) <= INT4_MAX):  # users.id
        raise BadRequest("user must be a worker id.", details={"field": "user"})
    worker_id = int(raw)
    worker = db.session.get(User, worker_id)
    if worker is None or worker.role != "worker":
        raise NotFound(f"No grid worker {worker_id}.")
    return worker, True


def _worker_grids(worker: User, viewer_scope: Scope) -> list[Area]:
    ids = worker_grid_ids(db.session, worker.id)
    if viewer_scope.restricted and not ids & viewer_scope.grid_ids:
        raise NotFound(f"No grid worker {worker.id} in your area.")
    return list(db.session.scalars(select(Area).where(Area.id.in_(ids)).order_by(Area.code)))


def _grid_features(grids: list[Area]) -> tuple[dict, tuple | None]:
    shapes = [to_shape(g.geom) for g in grids]
    features = [
        {
            "type": "Feature",
            "properties": {"code": g.code, "name": g.name},
            "geometry": mapping(shape),
        }
        for g, shape in zip(grids, shapes)
    ]
    bounds = union_all(shapes).bounds if shapes else None
    return {"type": "FeatureCollection", "features": features}, bounds


def _households(worker: User, grids: list[Area]):
    """Points (lon, lat, vulnerable 0/1) for the map and masked lines for the list."""
    scope = Scope(
        user_id=worker.id, grid_ids=frozenset(g.id for g in grids), sees_personal_data=False
    )
    rows, total = households_in_scope(db.session, scope, limit=MAX_HOUSEHOLD_POINTS)
    vulnerable = set(VULNERABLE_TAGS)
    points = [[round(r.lon, 6), round(r.lat, 6), int(bool(vulnerable & set(r.tags)))] for r in rows]
    lines = [
        HouseholdLine(
            mask_free_text(r.address),
            mask_name(r.head_name),
            mask_phone(r.phone),
            r.members,
            bool(vulnerable & set(r.tags)),
        )
        for r in sorted(rows, key=lambda r: r.address)[:MAX_HOUSEHOLD_ROWS]
    ]
    return points, lines, total


def _queue_for_viewer(worker: User, viewer_scope: Scope) -> list[dict]:
    """The worker's open incidents as a supervisor sees them, without any contact."""
    masked = Scope(viewer_scope.user_id, viewer_scope.grid_ids, sees_personal_data=False)
    items = incident_reads.worker_queue(db.session, worker, masked)
    for item in items:
        item.pop("contact", None)
    return items


def _workers_in_scope(scope: Scope) -> list[tuple[User, int]]:
    """Grid workers holding a grid in the scope, with how many of its grids each holds."""
    stmt = (
        select(User, WorkerGrid.grid_id)
        .join(WorkerGrid, WorkerGrid.user_id == User.id)
        .join(Area, Area.id == WorkerGrid.grid_id)
        .where(User.role == "worker", User.active, Area.valid_to.is_(None))
        .order_by(User.display_name, User.id)
    )
    if scope.restricted:
        stmt = stmt.where(WorkerGrid.grid_id.in_(scope.grid_ids))
    counts: dict[int, list] = {}
    for user, _grid_id in db.session.execute(stmt):
        counts.setdefault(user.id, [user, 0])[1] += 1
    return [(user, n) for user, n in counts.values()]


@bp.get("/worker")
@roles_required("worker", "admin", "leader")
def worker_page():
    if current_user.role != "worker" and not request.args.get("user"):
        workers = _workers_in_scope(current_scope())
        return render_template("worker_choose.html", workers=workers)
    worker, read_only = _viewed_worker()
    grids = _worker_grids(worker, current_scope())
    grid_geojson, bounds = _grid_features(grids)
    points, households, household_total = _households(worker, grids)
    m = new_map(bounds)
    return render_template(
        "worker.html",
        parts=render(m),
        map_name=m.get_name(),
        worker=worker,
        read_only=read_only,
        grids=grids,
        grid_geojson=grid_geojson,
        household_points=points,
        households=households,
        household_total=household_total,
        queue=_queue_for_viewer(worker, current_scope()) if read_only else None,
        crs_choices=CRS_CHOICES,
        status_names={s.value: _(label) for s, label in STATUS_LABELS.items()},
    )
