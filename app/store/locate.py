"""Which grid, community, street and worker answer for a point."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.orm import Session

METRES_PER_DEGREE_LAT = 111_320.0


@dataclass(frozen=True)
class AreaRef:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class WorkerRef:
    id: int
    name: str
    phone: str | None


@dataclass(frozen=True)
class Candidate:
    grid: AreaRef
    distance_m: float  # to the grid (0 inside it); for the covering grid: to its boundary


@dataclass(frozen=True)
class Location:
    lon: float
    lat: float
    grid: AreaRef | None
    community: AreaRef | None
    street: AreaRef | None
    district: AreaRef | None
    workers: list[WorkerRef] = field(default_factory=list)
    near_boundary: bool = False
    candidates: list[Candidate] = field(default_factory=list)


_CHAIN = text(
    """
    WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geom),
    grid AS (
        SELECT g.id, g.code, g.name, g.parent_id,
               ST_Distance(ST_Boundary(g.geom)::geography, pt.geom::geography) AS edge_m
        FROM areas g, pt
        WHERE g.level = 'grid' AND g.valid_to IS NULL AND ST_Intersects(g.geom, pt.geom)
        ORDER BY g.code LIMIT 1
    )
    SELECT grid.id AS g_id, grid.code AS g_code, grid.name AS g_name, grid.edge_m,
           c.id AS c_id, c.code AS c_code, c.name AS c_name,
           s.id AS s_id, s.code AS s_code, s.name AS s_name,
           d.id AS d_id, d.code AS d_code, d.name AS d_name
    FROM grid
    LEFT JOIN areas c ON c.id = grid.parent_id
    LEFT JOIN areas s ON s.id = c.parent_id
    LEFT JOIN areas d ON d.id = s.parent_id
    """
)

# Without a grid, the community / street / district still answer where one covers the point.
_UNGRIDDED = text(
    """
    SELECT DISTINCT ON (level) level, id, code, name FROM areas
    WHERE level IN ('community', 'street', 'district') AND valid_to IS NULL
      AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
    ORDER BY level, code
    """
)

_NEARBY = text(
    """
    SELECT g.id, g.code, g.name,
           ST_Distance(g.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)
             AS distance_m
    FROM areas g
    WHERE g.level = 'grid' AND g.valid_to IS NULL AND g.id <> :own
      AND g.geom && ST_Expand(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :dlon, :dlat)
      AND ST_DWithin(g.geom::geography,
                     ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :near_m)
    ORDER BY distance_m, g.code
    """
)

_WORKERS = text(
    """
    SELECT u.id, u.display_name, u.phone FROM worker_grids wg JOIN users u ON u.id = wg.user_id
    WHERE wg.grid_id = :grid_id AND u.active ORDER BY u.display_name
    """
)


def _ref(row, prefix: str) -> AreaRef | None:
    area_id = getattr(row, f"{prefix}_id")
    if area_id is None:
        return None
    return AreaRef(area_id, getattr(row, f"{prefix}_code"), getattr(row, f"{prefix}_name"))


def locate_point(session: Session, lon: float, lat: float, *, near_m: float = 30.0) -> Location:
    """Locate a WGS84 point; grids within ``near_m`` metres of it are candidates."""
    row = session.execute(_CHAIN, {"lon": lon, "lat": lat}).one_or_none()
    if row is None:
        levels = {
            r.level: AreaRef(r.id, r.code, r.name)
            for r in session.execute(_UNGRIDDED, {"lon": lon, "lat": lat})
        }
        own_id, own_edge_m = -1, None
        location = Location(
            lon, lat, None, levels.get("community"), levels.get("street"), levels.get("district")
        )
    else:
        own_id, own_edge_m = row.g_id, row.edge_m
        workers = [
            WorkerRef(w.id, w.display_name, w.phone)
            for w in session.execute(_WORKERS, {"grid_id": row.g_id})
        ]
        location = Location(
            lon, lat, _ref(row, "g"), _ref(row, "c"), _ref(row, "s"), _ref(row, "d"), workers
        )
    # Expand the index box by near_m in degrees, with margin, at this latitude.
    dlat = 1.5 * near_m / METRES_PER_DEGREE_LAT
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    nearby = [
        Candidate(AreaRef(r.id, r.code, r.name), float(r.distance_m))
        for r in session.execute(
            _NEARBY,
            {"lon": lon, "lat": lat, "own": own_id, "dlon": dlon, "dlat": dlat, "near_m": near_m},
        )
    ]
    if not nearby:
        return location
    own = [Candidate(location.grid, float(own_edge_m))] if location.grid else []
    return Location(
        location.lon,
        location.lat,
        location.grid,
        location.community,
        location.street,
        location.district,
        location.workers,
        near_boundary=True,
        candidates=own + nearby,
    )
