"""Mapbox vector tiles made by PostGIS (ST_AsMVT), one query per tile and layer.

Every tile is cut from ``ST_TileEnvelope(z, x, y)`` (Web Mercator); the areas and households
are stored in 4326 and reprojected only for the features that touch the tile. Area layers
carry figures summed over the grids of each unit; the household layer never carries a name,
phone, address or id: below ``POINT_ZOOM`` it is counts per square cell, from there on
anonymous points.
"""

from __future__ import annotations

import math

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models import VULNERABLE_TAGS

EXTENT = 4096  # tile coordinate space
BUFFER = 64  # pixels of geometry kept beyond the tile edge, so that strokes join up
POINT_ZOOM = 15  # households as points from this zoom; counted per cell below it
CELLS_PER_TILE = 64  # cells per tile side for the household counts (at most 4,096 a tile)
AREA_LEVELS = {"grids": "grid", "communities": "community", "streets": "street"}
AREA_TOLERANCE_PX = 0.5  # simplification, in tile pixels, for low zooms

# The tile's envelope in Web Mercator and, with the buffer, in 4326 for the index probes
# (computed in Python: reprojecting it in SQL costs more than some whole tiles).
_ENVELOPE = """
    envelope AS (
      SELECT ST_TileEnvelope(:z, :x, :y) AS merc,
             ST_MakeEnvelope(:west, :south, :east, :north, 4326) AS geo
    )
"""

# Per unit (a grid, community or street): its grids in scope, households, vulnerable
# households, active workers and grids without one. The caller defines ``grid_units``
# (unit_id, grid_id), each pair once. Households come from ``grid_counts`` (kept by the
# database); workers are counted live (a few per grid), with set-wide joins, not per grid.
_UNIT_FIGURES = """
    grid_stats AS (
      SELECT gu.unit_id, COALESCE(gc.households, 0) AS households,
             COALESCE(gc.vulnerable, 0) AS vulnerable
      FROM grid_units gu LEFT JOIN grid_counts gc ON gc.grid_id = gu.grid_id
    ),
    unit_workers AS (
      SELECT gu.unit_id, count(DISTINCT wg.user_id) AS workers,
             count(DISTINCT wg.grid_id) AS staffed_grids
      FROM grid_units gu
      JOIN worker_grids wg ON wg.grid_id = gu.grid_id
      JOIN users u ON u.id = wg.user_id AND u.active
      GROUP BY gu.unit_id
    ),
    unit_figures AS (
      SELECT s.unit_id, count(*)::int AS grids, sum(s.households)::int AS households,
             sum(s.vulnerable)::int AS vulnerable,
             COALESCE(max(w.workers), 0)::int AS workers,
             (count(*) - COALESCE(max(w.staffed_grids), 0))::int AS grids_without_worker
      FROM grid_stats s
      LEFT JOIN unit_workers w ON w.unit_id = s.unit_id
      GROUP BY s.unit_id
    )
"""

GRID_COLUMN = {"grid": "u.id", "community": "g.id", "street": "g.id"}
# From each unit down to its grids, without recursion (so the planner has real estimates).
_GRID_UNITS = {
    "grid": "SELECT u.id AS unit_id, u.id AS grid_id FROM units u WHERE true",
    "community": """
        SELECT u.id AS unit_id, g.id AS grid_id FROM units u
        JOIN areas g ON g.parent_id = u.id AND g.level = 'grid' AND g.valid_to IS NULL
        WHERE true""",
    "street": """
        SELECT u.id AS unit_id, g.id AS grid_id FROM units u
        JOIN areas c ON c.parent_id = u.id AND c.level = 'community' AND c.valid_to IS NULL
        JOIN areas g ON g.parent_id = c.id AND g.level = 'grid' AND g.valid_to IS NULL
        WHERE true""",
}


def _scope_sql(grid_ids: frozenset[int] | None, column: str) -> str:
    return "" if grid_ids is None else f"AND {column} = ANY(:grid_ids)"


def _params(z: int, x: int, y: int, grid_ids: frozenset[int] | None) -> dict:
    west, south, east, north = tile_bounds(z, x, y, margin=BUFFER / EXTENT)
    params = {
        "z": z,
        "x": x,
        "y": y,
        "west": west,
        "south": south,
        "east": east,
        "north": north,
        "extent": EXTENT,
        "buffer": BUFFER,
        "vulnerable_tags": list(VULNERABLE_TAGS),
    }
    if grid_ids is not None:
        params["grid_ids"] = list(grid_ids)
    return params


def area_tile(
    session: Session, layer: str, z: int, x: int, y: int, grid_ids: frozenset[int] | None
) -> bytes:
    """Grids, communities or streets touching the tile, with their figures.

    Each feature: ``id`` (the area's id, as the feature id and a property), ``code``,
    ``name``, ``grids``, ``households``, ``workers``, ``households_per_worker`` (absent when
    no worker), ``vulnerable``, ``grids_without_worker``. A restricted scope sees only units
    holding one of its grids, and figures summed over its grids only.
    """
    level = AREA_LEVELS[layer]
    sql = f"""
        WITH {_ENVELOPE},
        units AS (
          SELECT a.id, a.code, a.name, a.geom FROM areas a, envelope e
          WHERE a.level = :level AND a.valid_to IS NULL AND a.geom && e.geo
        ),
        grid_units AS ({_GRID_UNITS[level]} {_scope_sql(grid_ids, GRID_COLUMN[level])}),
        {_UNIT_FIGURES},
        -- MATERIALIZED: inlined, the geometry would be cut twice (for the filter below and
        -- for the output). ST_Simplify keeps tiny polygons (true) and is several times
        -- cheaper than ST_SimplifyPreserveTopology; ST_AsMVTGeom makes its output valid.
        features AS MATERIALIZED (
          SELECT u.id, u.code, u.name, f.grids, f.households, f.workers,
                 CASE WHEN f.workers > 0
                      THEN round(f.households::numeric / f.workers, 1)::float END
                   AS households_per_worker,
                 f.vulnerable, f.grids_without_worker,
                 ST_AsMVTGeom(
                   ST_Transform(
                     CASE WHEN :z < 14 THEN ST_Simplify(u.geom, :tolerance, true) ELSE u.geom END,
                     3857),
                   e.merc, :extent, :buffer, true) AS geom
          FROM units u JOIN unit_figures f ON f.unit_id = u.id, envelope e
        )
        SELECT ST_AsMVT(features, :layer, :extent, 'geom', 'id') FROM features
        WHERE geom IS NOT NULL
    """
    params = _params(z, x, y, grid_ids) | {
        "level": level,
        "layer": layer,
        "tolerance": _degrees_per_pixel(z) * AREA_TOLERANCE_PX,
    }
    return _run(session, sql, params)


def household_tile(
    session: Session, z: int, x: int, y: int, grid_ids: frozenset[int] | None
) -> bytes:
    """Households touching the tile, without any personal data.

    Below ``POINT_ZOOM``: one point per square cell (1/``CELLS_PER_TILE`` of the tile side)
    at the cell's centre, with ``count``, ``vulnerable`` and ``uncovered`` (households in no
    grid). From ``POINT_ZOOM``: one point per household with ``count`` = 1 and ``vulnerable``
    and ``uncovered`` flags (0/1); no id. A restricted scope sees only the households of its
    grids (so never an uncovered one).
    """
    scope = (
        ""
        if grid_ids is None
        else "AND EXISTS (SELECT 1 FROM household_grid s WHERE s.household_id = h.id "
        "AND s.grid_id = ANY(:grid_ids))"
    )
    params = _params(z, x, y, grid_ids)
    inside = f"""
        SELECT h.geom, (h.tags && CAST(:vulnerable_tags AS varchar[]))::int AS vulnerable,
               (NOT EXISTS (SELECT 1 FROM household_grid hg WHERE hg.household_id = h.id))::int
                 AS uncovered
        FROM households h, envelope e WHERE h.geom && e.geo {scope}
    """
    if z >= POINT_ZOOM:
        sql = f"""
            WITH {_ENVELOPE}, inside AS ({inside}),
            features AS MATERIALIZED (  -- cut once (see area_tile)
              SELECT 1 AS count, vulnerable, uncovered,
                     ST_AsMVTGeom(ST_Transform(geom, 3857), e.merc, :extent, :buffer, true)
                       AS geom
              FROM inside, envelope e
            )
            SELECT ST_AsMVT(features, 'households', :extent, 'geom') FROM features
            WHERE geom IS NOT NULL
        """
    else:
        # Cells are counted in tile pixels: Web Mercator x is linear in longitude, y is
        # computed from latitude with the Mercator formula (cheaper than ST_Transform).
        sql = f"""
            WITH {_ENVELOPE}, inside AS ({inside}),
            bounds AS (
              SELECT ST_XMin(merc) AS x0, ST_YMax(merc) AS y1,
                     (ST_XMax(merc) - ST_XMin(merc)) / :cells AS cell FROM envelope
            ),
            cells AS (
              SELECT floor((6378137 * radians(ST_X(i.geom)) - b.x0) / b.cell) AS cx,
                     floor((b.y1 - 6378137 * ln(tan(pi() / 4 + radians(ST_Y(i.geom)) / 2)))
                           / b.cell) AS cy,
                     count(*) AS count, sum(i.vulnerable)::int AS vulnerable,
                     sum(i.uncovered)::int AS uncovered
              FROM inside i, bounds b GROUP BY 1, 2
            ),
            features AS MATERIALIZED (
              SELECT c.count::int AS count, c.vulnerable, c.uncovered,
                     ST_AsMVTGeom(
                       ST_SetSRID(ST_MakePoint(b.x0 + (c.cx + 0.5) * b.cell,
                                               b.y1 - (c.cy + 0.5) * b.cell), 3857),
                       ST_TileEnvelope(:z, :x, :y), :extent, 0, true) AS geom
              FROM cells c, bounds b
            )
            SELECT ST_AsMVT(features, 'households', :extent, 'geom') FROM features
            WHERE geom IS NOT NULL
        """
        params["cells"] = CELLS_PER_TILE
    return _run(session, sql, params)


def _run(session: Session, sql: str, params: dict) -> bytes:
    # The planner cannot see how few rows a tile holds (recursive CTEs, ANY(:grid_ids)) and
    # would JIT-compile the query: seconds of compiling for milliseconds of work.
    session.execute(text("SET LOCAL jit = off"))
    return bytes(session.scalar(text(sql), params) or b"")


def tile_bounds(z: int, x: int, y: int, margin: float = 0.0) -> tuple[float, ...]:
    """(west, south, east, north) in degrees of tile z/x/y, grown by ``margin`` tile sides."""
    n = 2**z

    def lon(column: float) -> float:
        return column / n * 360.0 - 180.0

    def lat(row: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    west, east = lon(x - margin), lon(x + 1 + margin)
    north, south = lat(max(y - margin, 0)), lat(min(y + 1 + margin, n))
    return west, south, east, north


def _degrees_per_pixel(z: int) -> float:
    """Longitude degrees per tile pixel at zoom ``z`` (256-pixel tiles)."""
    return 360.0 / (256 * 2**z)


def unit_figures(session: Session, grid_ids: frozenset[int] | None) -> dict[str, list[dict]]:
    """Level ('street', 'community', 'grid') -> the figures of every live unit of that level
    holding grids in scope, ordered by code: the area tiles' properties, summed the same way,
    without geometry, for the table beside the map and the classes of its legend.

    One query for the three levels: their (unit, grid) pairs side by side feed one pass of
    ``_UNIT_FIGURES`` (area ids are unique across levels).
    """
    grid_units = " UNION ALL ".join(
        f"({_GRID_UNITS[level]} AND u.level = '{level}' {_scope_sql(grid_ids, GRID_COLUMN[level])})"
        for level in AREA_LEVELS.values()
    )
    sql = f"""
        WITH units AS (
          SELECT a.id, a.level, a.code, a.name FROM areas a
          WHERE a.level IN ('street', 'community', 'grid') AND a.valid_to IS NULL
        ),
        grid_units AS ({grid_units}),
        {_UNIT_FIGURES}
        SELECT u.level, u.id, u.code, u.name, f.grids, f.households, f.workers,
               CASE WHEN f.workers > 0
                    THEN round(f.households::numeric / f.workers, 1)::float END
                 AS households_per_worker,
               f.vulnerable, f.grids_without_worker
        FROM units u JOIN unit_figures f ON f.unit_id = u.id
        ORDER BY u.code
    """
    params: dict = {}
    if grid_ids is not None:
        params["grid_ids"] = list(grid_ids)
    session.execute(text("SET LOCAL jit = off"))  # 10,000 rows: compiling costs more than it saves
    result = session.execute(text(sql), params)
    names = list(result.keys())[1:]
    by_level: dict[str, list[dict]] = {level: [] for level in AREA_LEVELS.values()}
    for level, *values in result.all():  # fetched at once: 10,000 rows one by one cost 0.1 s
        by_level[level].append(dict(zip(names, values)))
    return by_level
