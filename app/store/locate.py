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


# One statement, one round trip: the covering grid (smallest code on a shared edge), its
# parents, its workers, the areas above when no grid covers the point, and every other grid
# within near_m metres (an index box in degrees first, then geodesic distance).
_LOCATE = text(
    """
    WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS geom),
    grid AS (
        SELECT g.id, g.code, g.name, g.parent_id,
               ST_Distance(ST_Boundary(g.geom)::geography, pt.geom::geography) AS edge_m
        FROM areas g, pt
        WHERE g.level = 'grid' AND g.valid_to IS NULL AND ST_Intersects(g.geom, pt.geom)
        ORDER BY g.code LIMIT 1
    )
    SELECT
      (SELECT json_build_object(
          'grid', json_build_object('id', grid.id, 'code', grid.code, 'name', grid.name),
          'edge_m', grid.edge_m,
          'community', CASE WHEN c.id IS NOT NULL THEN
                       json_build_object('id', c.id, 'code', c.code, 'name', c.name) END,
          'street', CASE WHEN s.id IS NOT NULL THEN
                    json_build_object('id', s.id, 'code', s.code, 'name', s.name) END,
          'district', CASE WHEN d.id IS NOT NULL THEN
                      json_build_object('id', d.id, 'code', d.code, 'name', d.name) END,
          'workers', (SELECT coalesce(json_agg(json_build_object(
                          'id', u.id, 'name', u.display_name, 'phone', u.phone)
                          ORDER BY u.display_name), '[]'::json)
                      FROM worker_grids wg JOIN users u ON u.id = wg.user_id
                      WHERE wg.grid_id = grid.id AND u.active))
       FROM grid
       LEFT JOIN areas c ON c.id = grid.parent_id
       LEFT JOIN areas s ON s.id = c.parent_id
       LEFT JOIN areas d ON d.id = s.parent_id) AS chain,
      (SELECT json_object_agg(level, json_build_object('id', id, 'code', code, 'name', name))
       FROM (SELECT DISTINCT ON (level) level, id, code, name FROM areas, pt
             WHERE NOT EXISTS (SELECT FROM grid)
               AND level IN ('community', 'street', 'district') AND valid_to IS NULL
               AND ST_Intersects(areas.geom, pt.geom)
             ORDER BY level, code) a) AS above,
      (SELECT coalesce(json_agg(json_build_object(
                 'id', n.id, 'code', n.code, 'name', n.name, 'distance_m', n.distance_m)
                 ORDER BY n.distance_m, n.code), '[]'::json)
       FROM (SELECT g.id, g.code, g.name,
                    ST_Distance(g.geom::geography, pt.geom::geography) AS distance_m
             FROM areas g, pt
             WHERE g.level = 'grid' AND g.valid_to IS NULL
               AND g.id <> coalesce((SELECT id FROM grid), -1)
               AND g.geom && ST_Expand(pt.geom, :dlon, :dlat)
               AND ST_DWithin(g.geom::geography, pt.geom::geography, :near_m)) n) AS nearby
    """
)


def _ref(value: dict | None) -> AreaRef | None:
    return AreaRef(value["id"], value["code"], value["name"]) if value else None


def locate_point(session: Session, lon: float, lat: float, *, near_m: float = 30.0) -> Location:
    """Locate a WGS84 point; grids within ``near_m`` metres of it are candidates."""
    # Expand the index box by near_m in degrees, with margin, at this latitude.
    dlat = 1.5 * near_m / METRES_PER_DEGREE_LAT
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    row = session.execute(
        _LOCATE, {"lon": lon, "lat": lat, "dlon": dlon, "dlat": dlat, "near_m": near_m}
    ).one()
    if row.chain:
        chain = row.chain
        grid = _ref(chain["grid"])
        levels = {k: _ref(chain[k]) for k in ("community", "street", "district")}
        workers = [WorkerRef(w["id"], w["name"], w["phone"]) for w in chain["workers"]]
    else:
        grid, workers = None, []
        levels = {k: _ref((row.above or {}).get(k)) for k in ("community", "street", "district")}
    nearby = [
        Candidate(AreaRef(n["id"], n["code"], n["name"]), float(n["distance_m"]))
        for n in row.nearby
    ]
    candidates = []
    if nearby:
        own = [Candidate(grid, float(row.chain["edge_m"]))] if grid else []
        candidates = own + nearby
    return Location(
        lon,
        lat,
        grid,
        levels["community"],
        levels["street"],
        levels["district"],
        workers,
        near_boundary=bool(nearby),
        candidates=candidates,
    )
