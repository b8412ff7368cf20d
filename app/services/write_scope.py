"""Where a user may write: one rule for every write path (API, pages, imports, CLI).

A writer's region is drawn as their read scope is (``auth.scope_for``): a worker writes in their
own grids, a leader or planner given an area (``create-user --area``) in that area, everyone
else and the CLI anywhere in the district.  Nothing is written outside the district, for
anyone: 422 with the reason.  A write inside the district but outside the writer's region is
403, and the message names only the writer's own limits, never what lies beyond them.

Which roles may write which things at all is decided by the views (``roles_required``); see the
README's table.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from geoalchemy2 import WKBElement
from sqlalchemy.orm import Session

from app.errors import Forbidden, InvalidData
from app.store import areas as area_store
from app.store import scope as store
from app.store.scope import Scope

OUTSIDE_DISTRICT = "lies outside the district"
OUTSIDE_REGION = "lies outside the area you may edit"


def _wkb(geom) -> bytes:
    if isinstance(geom, bytes | memoryview):
        return bytes(geom)
    if isinstance(geom, WKBElement):
        return bytes(geom.data)
    return shapely.to_wkb(geom)


def write_faults(session: Session, scope: Scope, geoms: Sequence) -> list[str | None]:
    """For each geometry (shapely or WKB, WGS84): None if the writer may write there, else
    why not (``OUTSIDE_DISTRICT`` or ``OUTSIDE_REGION``)."""
    checks = store.geometries_inside(session, scope, [_wkb(g) for g in geoms])
    return [
        None if region and district else OUTSIDE_DISTRICT if not district else OUTSIDE_REGION
        for district, region in checks
    ]


def point_write_faults(session: Session, scope: Scope, x, y) -> np.ndarray:
    """``write_faults`` for many WGS84 points at once (arrays of lon and lat), in memory:
    an object array of None, ``OUTSIDE_DISTRICT`` or ``OUTSIDE_REGION``."""
    district, region = store.write_regions_wkb(session, scope)
    if district is None:
        raise InvalidData("There is no district boundary yet: import the district first.")
    faults = np.full(len(x), None, dtype=object)
    in_district = shapely.intersects_xy(shapely.from_wkb(district), x, y)
    if not scope.restricted:
        in_region = in_district  # the region is the district
    elif region is not None:
        in_region = shapely.intersects_xy(shapely.from_wkb(region), x, y)
    else:
        in_region = np.zeros(len(x), dtype=bool)
    faults[~in_region] = OUTSIDE_REGION
    faults[~in_district] = OUTSIDE_DISTRICT
    return faults


def require_writable(session: Session, scope: Scope, geom, *, what: str) -> None:
    """Raise unless ``scope`` may write ``geom``: 422 outside the district, 403 outside the
    writer's region.  ``what`` names the thing in the message ("The hazard")."""
    [fault] = write_faults(session, scope, [geom])
    if fault == OUTSIDE_DISTRICT:
        raise InvalidData(
            f"{what} {OUTSIDE_DISTRICT}: nothing is written outside it.",
            details={"field": "geometry"},
            code="outside_district",
        )
    if fault is not None:
        raise Forbidden(f"{what} {OUTSIDE_REGION}.")


def may_change_stored(session: Session, scope: Scope, table: str, row_id: int) -> bool:
    """Whether ``scope`` may change the stored hazard or site ``row_id``.

    An unrestricted writer may change (or retire) anything already stored, even a row that an
    older version let in from outside the district; a restricted one only what lies wholly
    in their region."""
    if not scope.restricted:
        return True
    wkb = store.stored_geometry_wkb(session, table, row_id)
    return wkb is None or write_faults(session, scope, [bytes(wkb)]) == [None]


def require_stored_writable(
    session: Session, scope: Scope, table: str, row_id: int, *, what: str
) -> None:
    """Raise 403 unless ``scope`` may change the stored hazard or site ``row_id``."""
    if not may_change_stored(session, scope, table, row_id):
        raise Forbidden(f"{what} {OUTSIDE_REGION}.")


def require_area_writable(session: Session, actor_id: int | None, area_id: int, code: str):
    """Areas: the same region, told by the hierarchy (an area lies inside its parent): a
    planner given an area edits at or below it; the CLI (no actor) anywhere."""
    limit = store.writing_area_id(session, actor_id)
    if limit is not None and not area_store.is_within(session, area_id, limit):
        raise Forbidden(f"{code} {OUTSIDE_REGION}.")
