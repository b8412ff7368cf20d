"""Grids with their figures, community outlines and uncovered households, for maps."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.store.fragments import HOUSEHOLDS_PER_GRID, WORKERS_PER_GRID, geojson

# ~1 m at Langzhong's latitude: invisible at street zoom, a third of the page weight.
SIMPLIFY_DEGREES = 0.00001
# Six decimals (10 cm) for the page's GeoJSON: finer than the simplification above.
_GRID_GEOMETRY = geojson(f"ST_SimplifyPreserveTopology(g.geom, {SIMPLIFY_DEGREES})", 6)
_COMMUNITY_GEOMETRY = geojson(f"ST_SimplifyPreserveTopology(c.geom, {SIMPLIFY_DEGREES})", 6)


def grid_features(session: Session, grid_ids: frozenset[int] | None) -> list[dict]:
    """Live grids as GeoJSON features with households, workers and community name."""
    scope_sql = "" if grid_ids is None else "AND g.id = ANY(:grid_ids)"
    return list(
        session.scalars(
            text(
                f"""
                SELECT json_build_object(
                  'type', 'Feature',
                  'geometry', {_GRID_GEOMETRY}::json,
                  'properties', json_build_object(
                    'code', g.code, 'name', g.name, 'community', c.name,
                    'workers', COALESCE(w.names, ''), 'has_worker', w.names IS NOT NULL,
                    'households', COALESCE(n.households, 0)))
                FROM areas g
                LEFT JOIN areas c ON c.id = g.parent_id
                LEFT JOIN ({HOUSEHOLDS_PER_GRID}) n ON n.grid_id = g.id
                LEFT JOIN ({WORKERS_PER_GRID}) w ON w.grid_id = g.id
                WHERE g.level = 'grid' AND g.valid_to IS NULL {scope_sql}
                ORDER BY g.code
                """
            ),
            {} if grid_ids is None else {"grid_ids": list(grid_ids)},
        )
    )


def community_features(session: Session, grid_ids: frozenset[int] | None) -> list[dict]:
    scope_sql = (
        ""
        if grid_ids is None
        else "AND c.id IN (SELECT parent_id FROM areas WHERE id = ANY(:grid_ids))"
    )
    return list(
        session.scalars(
            text(
                f"""
                SELECT json_build_object(
                  'type', 'Feature',
                  'geometry', {_COMMUNITY_GEOMETRY}::json,
                  'properties', json_build_object('code', c.code, 'name', c.name))
                FROM areas c WHERE c.level = 'community' AND c.valid_to IS NULL {scope_sql}
                ORDER BY c.code
                """
            ),
            {} if grid_ids is None else {"grid_ids": list(grid_ids)},
        )
    )


def uncovered_points(session: Session, limit: int) -> tuple[list[tuple[float, float]], int]:
    """Positions (only) of households in no grid, at most ``limit``, and how many there are."""
    total = session.scalar(
        text(
            "SELECT count(*) FROM households h WHERE NOT EXISTS "
            "(SELECT 1 FROM household_grid hg WHERE hg.household_id = h.id)"
        )
    )
    rows = session.execute(
        text(
            """
            SELECT round(ST_X(h.geom)::numeric, 6)::float, round(ST_Y(h.geom)::numeric, 6)::float
            FROM households h WHERE NOT EXISTS
              (SELECT 1 FROM household_grid hg WHERE hg.household_id = h.id)
            ORDER BY h.id LIMIT :limit
            """
        ),
        {"limit": limit},
    )
    return [tuple(r) for r in rows], total or 0


def live_bounds(session: Session, grid_ids: frozenset[int] | None) -> tuple | None:
    """(minx, miny, maxx, maxy) of the live grids in scope, else of the communities."""
    scope_sql = "" if grid_ids is None else "AND id = ANY(:grid_ids)"
    row = session.execute(
        text(
            f"""
            SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (
              SELECT COALESCE(
                (SELECT ST_Extent(geom) FROM areas WHERE level = 'grid' AND valid_to IS NULL
                 {scope_sql}),
                (SELECT ST_Extent(geom) FROM areas WHERE level IN ('community', 'district')
                 AND valid_to IS NULL)) AS e) b
            """
        ),
        {} if grid_ids is None else {"grid_ids": list(grid_ids)},
    ).one()
    return None if row[0] is None else tuple(float(v) for v in row)


def live_areas_under(session: Session, root_code: str | None) -> list:
    """(id, code, name, level, parent_id, wkb) of live areas at or below a root (or all)."""
    if root_code is None:
        sql = (
            "SELECT id, code, name, level, parent_id, ST_AsBinary(geom) AS wkb FROM areas "
            "WHERE valid_to IS NULL ORDER BY code"
        )
        return list(session.execute(text(sql)))
    return list(
        session.execute(
            text(
                """
                WITH RECURSIVE tree AS (
                    SELECT id, code, name, level, parent_id, geom FROM areas
                    WHERE code = :root AND valid_to IS NULL
                    UNION ALL
                    SELECT a.id, a.code, a.name, a.level, a.parent_id, a.geom
                    FROM areas a JOIN tree t ON a.parent_id = t.id WHERE a.valid_to IS NULL
                )
                SELECT id, code, name, level, parent_id, ST_AsBinary(geom) AS wkb
                FROM tree ORDER BY code
                """
            ),
            {"root": root_code},
        )
    )


def uncovered_household_count(
    session: Session, root_code: str | None, area_ids: frozenset[int] | None = None
) -> int:
    """Households in no grid, in the area ``root_code`` (or anywhere) and, when ``area_ids``
    is given, in one of those areas below the district."""
    if root_code is None and area_ids is None:
        # A household has at most one assignment (the key) and an assignment always has its
        # household (the foreign key cascades); grid_counts sums the assignments per grid.
        return (
            session.scalar(
                text(
                    "SELECT (SELECT count(*) FROM households)"
                    " - (SELECT COALESCE(sum(households), 0) FROM grid_counts)"
                )
            )
            or 0
        )
    region = (
        ""
        if root_code is None
        else ("AND ST_Intersects(h.geom, (SELECT geom FROM areas WHERE code = :root))")
    )
    if area_ids is not None:
        region += (
            " AND EXISTS (SELECT 1 FROM areas v WHERE v.id = ANY(:area_ids)"
            " AND v.level <> 'district' AND ST_Intersects(h.geom, v.geom))"
        )
    return (
        session.scalar(
            text(
                f"""
            SELECT count(*) FROM households h
            WHERE NOT EXISTS (SELECT 1 FROM household_grid hg WHERE hg.household_id = h.id)
            {region}
            """
            ),
            {"root": root_code, "area_ids": sorted(area_ids or ())},
        )
        or 0
    )


def grids_without_worker(session: Session, grid_ids: list[int]) -> list[tuple[str, str]]:
    rows = session.execute(
        text(
            """
            SELECT code, name FROM areas a WHERE a.id = ANY(:ids)
            AND NOT EXISTS (SELECT 1 FROM worker_grids w JOIN users u ON u.id = w.user_id
                            WHERE w.grid_id = a.id AND u.active)
            ORDER BY code
            """
        ),
        {"ids": grid_ids},
    )
    return [(r.code, r.name) for r in rows]
