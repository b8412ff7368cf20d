"""Reading areas; GeoJSON is produced in SQL."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models import CODE_LENGTHS, Area
from app.store.fragments import HOUSEHOLDS_PER_GRID, WORKERS_PER_GRID, geojson, touches_box
from app.store.scope import visible_areas_sql

_FEATURE = f"""
    json_build_object(
        'type', 'Feature',
        'id', a.code,
        'geometry', {geojson("a.geom")}::json,
        'properties', json_build_object(
            'code', a.code, 'name', a.name, 'level', a.level,
            'parent', p.code, 'version', a.version,
            'valid_from', a.valid_from, 'valid_to', a.valid_to
        )
    )
"""


def live_area(session: Session, code: str) -> Area | None:
    return session.scalar(select(Area).where(Area.code == code, Area.valid_to.is_(None)))


def area_by_code(session: Session, code: str) -> Area | None:
    return session.scalar(select(Area).where(Area.code == code))


def _live_areas_where(
    level: str | None,
    parent_code: str | None,
    bbox: tuple[float, float, float, float] | None,
    grid_ids: frozenset[int] | None,
) -> tuple[str, dict]:
    """The WHERE clause (over ``areas a LEFT JOIN areas p``) and its parameters."""
    where = ["a.valid_to IS NULL"]
    params: dict = {}
    if level:
        where.append("a.level = :level")
        params["level"] = level
    if parent_code:
        where.append("p.code = :parent")
        params["parent"] = parent_code
    if bbox:
        # OGC API - Features: the areas whose geometry intersects the box.
        where.append(touches_box("a.geom"))
        params.update(x0=bbox[0], y0=bbox[1], x1=bbox[2], y1=bbox[3])
    if grid_ids is not None:
        condition, scope_params = visible_areas_sql(grid_ids, "a.id")
        where.append(condition)
        params.update(scope_params)
    return " AND ".join(where), params


def area_features(
    session: Session,
    *,
    level: str | None = None,
    parent_code: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    grid_ids: frozenset[int] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[dict], int]:
    """Live areas as GeoJSON features (ordered by code) and the total that matched."""
    sql_where, params = _live_areas_where(level, parent_code, bbox, grid_ids)
    total = session.scalar(
        text(
            f"SELECT count(*) FROM areas a LEFT JOIN areas p ON p.id = a.parent_id WHERE {sql_where}"
        ),
        params,
    )
    rows = session.scalars(
        text(
            f"""
            SELECT {_FEATURE} FROM areas a LEFT JOIN areas p ON p.id = a.parent_id
            WHERE {sql_where} ORDER BY a.code LIMIT :limit OFFSET :offset
            """
        ),
        params | {"limit": limit, "offset": offset},
    )
    return list(rows), total or 0


def area_extent(
    session: Session, *, level: str, grid_ids: frozenset[int] | None
) -> tuple[float, float, float, float] | None:
    """(minlon, minlat, maxlon, maxlat) of the live areas of a level that a scope sees."""
    sql_where, params = _live_areas_where(level, None, None, grid_ids)
    row = session.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(a.geom) "
            f"AS e FROM areas a LEFT JOIN areas p ON p.id = a.parent_id WHERE {sql_where}) x"
        ),
        params,
    ).one()
    return None if row[0] is None else (row[0], row[1], row[2], row[3])


def area_feature(session: Session, code: str) -> dict | None:
    return session.scalar(
        text(
            f"SELECT {_FEATURE} FROM areas a LEFT JOIN areas p ON p.id = a.parent_id "
            "WHERE a.code = :code"
        ),
        {"code": code},
    )


def district_union_wkb(session: Session) -> bytes | None:
    """The union of live district boundaries, for checking that input lies inside them."""
    return session.scalar(
        text(
            "SELECT ST_AsBinary(ST_Union(geom)) FROM areas "
            "WHERE level = 'district' AND valid_to IS NULL"
        )
    )


def max_child_sequence(session: Session, parent_code: str, level: str) -> int:
    """Largest sequence number ever used under a parent (retired children included)."""
    width = CODE_LENGTHS[level] - len(parent_code)
    value = session.scalar(
        text(
            "SELECT max(substr(code, :start)::int) FROM areas "
            "WHERE code LIKE :prefix AND length(code) = :length AND level = :level"
        ),
        {
            "start": len(parent_code) + 1,
            "prefix": parent_code + "%",
            "length": len(parent_code) + width,
            "level": level,
        },
    )
    return value or 0


def existing_codes(session: Session, codes: list[str]) -> set[str]:
    if not codes:
        return set()
    return set(session.scalars(text("SELECT code FROM areas WHERE code = ANY(:c)"), {"c": codes}))


def parents_containing(session: Session, level: str, points_wkb: list[bytes]) -> list[int | None]:
    """For each point, the live area of ``level`` covering it (smallest code on an edge)."""
    rows = session.execute(
        text(
            """
            SELECT p.ord, a.id FROM unnest(CAST(:points AS bytea[])) WITH ORDINALITY AS p(wkb, ord)
            LEFT JOIN LATERAL (
                SELECT id FROM areas WHERE level = :level AND valid_to IS NULL
                AND ST_Intersects(geom, ST_GeomFromWKB(p.wkb, 4326)) ORDER BY code LIMIT 1
            ) a ON true ORDER BY p.ord
            """
        ),
        {"points": points_wkb, "level": level},
    )
    return [r.id for r in rows]


def sibling_overlaps(
    session: Session,
    parent_id: int | None,
    level: str,
    geoms_wkb: list[bytes],
    min_area_m2: float,
    exclude_ids: list[int] | None = None,
) -> list[tuple[int, str, bytes]]:
    """(index into geoms, existing sibling code, overlap WKB) for overlaps above a threshold."""
    rows = session.execute(
        text(
            """
            SELECT n.ord - 1 AS idx, a.code, ST_AsBinary(ST_Intersection(a.geom, n.geom)) AS wkb
            FROM (SELECT ST_GeomFromWKB(w, 4326) AS geom, ord
                  FROM unnest(CAST(:geoms AS bytea[])) WITH ORDINALITY AS t(w, ord)) n
            JOIN areas a ON a.level = :level AND a.valid_to IS NULL
                 AND a.parent_id IS NOT DISTINCT FROM :parent_id
                 AND a.id <> ALL(:exclude)
                 AND a.geom && n.geom AND ST_Relate(a.geom, n.geom, '2********')
            WHERE ST_Area(ST_Intersection(a.geom, n.geom)::geography) > :min_area
            ORDER BY n.ord, a.code
            """
        ),
        {
            "geoms": geoms_wkb,
            "level": level,
            "parent_id": parent_id,
            "min_area": min_area_m2,
            "exclude": exclude_ids or [],
        },
    )
    return [(r.idx, r.code, bytes(r.wkb)) for r in rows]


def lock_children_of(session: Session, parent_id: int | None) -> None:
    """Serialise edits among siblings: every write under a parent takes its row lock first.

    Two planners editing adjacent grids then check for overlaps one after the other, so
    neither can commit an overlap the other's check did not see.
    """
    if parent_id is None:
        session.execute(text("SELECT pg_advisory_xact_lock(511381)"))
    else:
        session.execute(text("SELECT id FROM areas WHERE id = :id FOR UPDATE"), {"id": parent_id})


def lock_area(session: Session, code: str) -> Area | None:
    return session.scalar(
        select(Area).where(Area.code == code, Area.valid_to.is_(None)).with_for_update()
    )


def sibling_geometries(
    session: Session, parent_id: int | None, level: str, near_wkb: bytes, exclude_ids: list[int]
) -> list[bytes]:
    """Live siblings within ~10 m of a geometry, as WKB (to snap to)."""
    return [
        bytes(w)
        for w in session.scalars(
            text(
                """
                SELECT ST_AsBinary(geom) FROM areas
                WHERE level = :level AND valid_to IS NULL
                  AND parent_id IS NOT DISTINCT FROM :parent_id AND id <> ALL(:exclude)
                  AND geom && ST_Expand(ST_GeomFromWKB(:g, 4326), 0.0001)
                """
            ),
            {"level": level, "parent_id": parent_id, "exclude": exclude_ids, "g": near_wkb},
        )
    ]


def live_children_count(session: Session, area_id: int) -> int:
    return (
        session.scalar(
            text("SELECT count(*) FROM areas WHERE parent_id = :id AND valid_to IS NULL"),
            {"id": area_id},
        )
        or 0
    )


def area_versions(session: Session, area_id: int) -> list[dict]:
    rows = session.execute(
        text(
            f"""
            SELECT v.version, v.name, v.valid_from, v.valid_to, u.username AS changed_by,
                   v.change_note, {geojson("v.geom")}::json AS geometry
            FROM area_versions v LEFT JOIN users u ON u.id = v.changed_by
            WHERE v.area_id = :id ORDER BY v.version
            """
        ),
        {"id": area_id},
    )
    return [dict(r._mapping) for r in rows]


def areas_for_export(
    session: Session,
    *,
    level: str | None,
    parent_code: str | None,
    grid_ids: frozenset[int] | None,
) -> list:
    """Live areas with the figures an export carries (households and workers for grids)."""
    where, params = ["a.valid_to IS NULL"], {}
    if level:
        where.append("a.level = :level")
        params["level"] = level
    if parent_code:
        where.append("p.code = :parent")
        params["parent"] = parent_code
    if grid_ids is not None:
        condition, scope_params = visible_areas_sql(grid_ids, "a.id")
        where.append(condition)
        params.update(scope_params)
    return list(
        session.execute(
            text(
                f"""
            SELECT a.code, a.name, a.level, p.code AS parent, p.name AS parent_name,
                   COALESCE(w.names, '') AS workers, COALESCE(n.households, 0) AS households,
                   round((ST_Area(a.geom::geography) / 1e6)::numeric, 4)::float AS area_km2,
                   a.version, ST_AsBinary(a.geom) AS wkb
            FROM areas a
            LEFT JOIN areas p ON p.id = a.parent_id
            LEFT JOIN ({HOUSEHOLDS_PER_GRID}) n ON n.grid_id = a.id
            LEFT JOIN ({WORKERS_PER_GRID}) w ON w.grid_id = a.id
            WHERE {" AND ".join(where)}
            ORDER BY a.code
            """
            ),
            params,
        )
    )


def is_within(session: Session, area_id: int, ancestor_id: int) -> bool:
    """True when ``area_id`` is ``ancestor_id`` or lies below it in the hierarchy."""
    return bool(
        session.scalar(
            text(
                """
            WITH RECURSIVE up AS (
                SELECT id, parent_id FROM areas WHERE id = :area
                UNION ALL
                SELECT p.id, p.parent_id FROM areas p JOIN up ON p.id = up.parent_id
            )
            SELECT EXISTS (SELECT FROM up WHERE id = :ancestor)
            """
            ),
            {"area": area_id, "ancestor": ancestor_id},
        )
    )


def editing_limit(session: Session, actor_id: int | None) -> int | None:
    """The area a user may edit within (None: anywhere, as for the CLI)."""
    if actor_id is None:
        return None
    return session.scalar(text("SELECT area_id FROM users WHERE id = :id"), {"id": actor_id})
