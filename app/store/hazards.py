"""Hazards and their impact on households, queried in PostGIS.

Buffers are computed in metres in the UTM zone of each hazard (WGS84 / UTM, EPSG 326xx north,
327xx south), never in degrees or Web Mercator, and the analysed zone is brought back to 4326.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models.households import VULNERABLE_TAGS
from app.store.fragments import WORKERS_PER_GRID, geojson, touches_box
from app.store.scope import visible_geometry_sql

# The UTM zone of a geometry's centroid, as an EPSG code.
UTM_SRID = """
    (CASE WHEN ST_Y(ST_Centroid({g})) >= 0 THEN 32600 ELSE 32700 END
     + LEAST(60, floor((ST_X(ST_Centroid({g})) + 180) / 6)::int + 1))
"""


def analysed_zone_sql(geom: str, buffer: str) -> str:
    """SQL for ``geom`` grown by ``buffer`` metres in its local UTM zone (as is when 0)."""
    srid = UTM_SRID.format(g=geom)
    return f"""
        CASE WHEN {buffer} > 0
             THEN ST_Multi(ST_Transform(
                      ST_Buffer(ST_Transform({geom}, {srid}), {buffer}, 'quad_segs=16'), 4326))
             ELSE {geom} END
    """


FEATURE_COLUMNS = f"""
    h.id, h.name, h.hazard_class, h.severity, h.description, h.created_at, h.updated_at,
    h.valid_to, {geojson("h.geom")}::json AS geometry
"""


@dataclass(frozen=True)
class HazardFilter:
    classes: tuple[str, ...] = ()
    severities: tuple[int, ...] = ()
    bbox: tuple[float, float, float, float] | None = None
    include_retired: bool = False
    # The reader's grids (None: the whole district): a hazard touching none of them is not theirs.
    grid_ids: frozenset[int] | None = None


def hazard_rows(session: Session, where: HazardFilter) -> list:
    """Hazards matching the filter, most severe first."""
    clauses, params = ["true"], {}
    if not where.include_retired:
        clauses.append("h.valid_to IS NULL")
    if where.classes:
        clauses.append("h.hazard_class = ANY(:classes)")
        params["classes"] = list(where.classes)
    if where.severities:
        clauses.append("h.severity = ANY(:severities)")
        params["severities"] = list(where.severities)
    if where.bbox:
        clauses.append(touches_box("h.geom"))
        params.update(zip(("x0", "y0", "x1", "y1"), where.bbox))
    visible, scope_params = visible_geometry_sql(where.grid_ids, "h.geom")
    clauses.append(visible)
    params.update(scope_params)
    sql = f"""
        SELECT {FEATURE_COLUMNS} FROM hazards h
        WHERE {" AND ".join(clauses)} ORDER BY h.severity DESC, h.id
    """
    return list(session.execute(text(sql), params))


def hazard_row(session: Session, hazard_id: int, grid_ids: frozenset[int] | None = None):
    visible, params = visible_geometry_sql(grid_ids, "h.geom")
    return session.execute(
        text(f"SELECT {FEATURE_COLUMNS} FROM hazards h WHERE h.id = :id AND {visible}"),
        {**params, "id": hazard_id},
    ).first()


def active_hazard_ids(session: Session) -> list[int]:
    return list(session.scalars(text("SELECT id FROM hazards WHERE valid_to IS NULL ORDER BY id")))


def existing_hazard_ids(session: Session, ids: list[int]) -> dict[int, bool]:
    """{id: active} for those of ``ids`` that exist."""
    rows = session.execute(
        text("SELECT id, valid_to IS NULL AS active FROM hazards WHERE id = ANY(:ids)"),
        {"ids": ids},
    )
    return {r.id: r.active for r in rows}


def insert_hazards(session: Session, items: list[dict], user_id: int | None) -> list[int]:
    """Insert hazards given as dicts with name, hazard_class, severity, description, wkb."""
    ids = []
    for item in items:
        ids.append(
            session.scalar(
                text(
                    """
                    INSERT INTO hazards (name, hazard_class, severity, description, geom,
                                         created_by)
                    VALUES (:name, :hazard_class, :severity, :description,
                            ST_GeomFromWKB(:wkb, 4326), :user_id)
                    RETURNING id
                    """
                ),
                {**item, "user_id": user_id},
            )
        )
    return ids


def update_hazard(session: Session, hazard_id: int, values: dict) -> None:
    sets = [f"{name} = :{name}" for name in values if name != "wkb"]
    if "wkb" in values:
        sets.append("geom = ST_GeomFromWKB(:wkb, 4326)")
    sets.append("updated_at = now()")
    session.execute(
        text(f"UPDATE hazards SET {', '.join(sets)} WHERE id = :id"), {**values, "id": hazard_id}
    )


def retire_hazard(session: Session, hazard_id: int) -> None:
    session.execute(
        text("UPDATE hazards SET valid_to = now(), updated_at = now() WHERE id = :id"),
        {"id": hazard_id},
    )


# --- impact ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImpactFigures:
    households: int
    people: int
    vulnerable_households: int


def stage_impact(session: Session, hazard_ids: list[int], buffer_m: float) -> None:
    """Compute the analysed zones and the households inside them once, into temporary tables
    (``impact_zone``, ``impact_hit``, dropped at commit) that the figures below read."""
    session.execute(text("DROP TABLE IF EXISTS impact_hit, impact_zone"))
    session.execute(
        text(
            f"""
            CREATE TEMP TABLE impact_zone ON COMMIT DROP AS
            SELECT h.id AS hazard_id, h.hazard_class,
                   {analysed_zone_sql("h.geom", "CAST(:buffer_m AS float8)")} AS geom
            FROM hazards h WHERE h.id = ANY(:hazard_ids)
            """
        ),
        {"hazard_ids": hazard_ids, "buffer_m": buffer_m},
    )
    session.execute(
        text(
            """
            CREATE TEMP TABLE impact_hit ON COMMIT DROP AS
            SELECT z.hazard_class, hh.id AS household_id, hh.members,
                   hh.tags && CAST(:vulnerable AS varchar[]) AS vulnerable
            FROM impact_zone z JOIN households hh ON ST_Intersects(z.geom, hh.geom)
            """
        ),
        {"vulnerable": list(VULNERABLE_TAGS)},
    )


_DISTINCT_HIT = "(SELECT DISTINCT household_id, members, vulnerable FROM impact_hit)"


def analysed_zone_geojson(session: Session) -> str:
    """The union of the staged analysed zones as GeoJSON (7 decimals)."""
    return session.scalar(text(f"SELECT {geojson('ST_Union(geom)')} FROM impact_zone"))


def impact_totals(session: Session) -> ImpactFigures:
    """Distinct households, people and vulnerable households inside any staged zone."""
    row = session.execute(
        text(
            f"""
            SELECT count(*) AS households, coalesce(sum(members), 0) AS people,
                   count(*) FILTER (WHERE vulnerable) AS vulnerable_households
            FROM {_DISTINCT_HIT} d
            """
        )
    ).one()
    return ImpactFigures(int(row.households), int(row.people), int(row.vulnerable_households))


def impact_by_class(session: Session) -> list[dict]:
    """Per hazard class: how many hazards, and the distinct households inside their zones."""
    rows = session.execute(
        text(
            """
            WITH per_class AS (
                SELECT hazard_class, count(*) AS households, sum(members) AS people,
                       count(*) FILTER (WHERE vulnerable) AS vulnerable_households
                FROM (SELECT DISTINCT hazard_class, household_id, members, vulnerable
                      FROM impact_hit) d
                GROUP BY hazard_class
            ),
            classes AS (
                SELECT hazard_class, count(*) AS hazards FROM impact_zone GROUP BY hazard_class
            )
            SELECT c.hazard_class, c.hazards, coalesce(p.households, 0) AS households,
                   coalesce(p.people, 0) AS people,
                   coalesce(p.vulnerable_households, 0) AS vulnerable_households
            FROM classes c LEFT JOIN per_class p USING (hazard_class)
            ORDER BY c.hazard_class
            """
        )
    )
    return [dict(r._mapping) for r in rows]


def impact_by_grid(session: Session) -> list[dict]:
    """Per current grid (None for households in no grid), with the grid's workers."""
    rows = session.execute(
        text(
            f"""
            SELECT g.code AS grid_code, g.name AS grid_name,
                   coalesce(w.names, '') AS workers,
                   count(*) AS households, sum(d.members) AS people,
                   count(*) FILTER (WHERE d.vulnerable) AS vulnerable_households
            FROM {_DISTINCT_HIT} d
            LEFT JOIN household_grid hg ON hg.household_id = d.household_id
            LEFT JOIN areas g ON g.id = hg.grid_id
            LEFT JOIN ({WORKERS_PER_GRID}) w ON w.grid_id = g.id
            GROUP BY g.code, g.name, w.names
            ORDER BY g.code NULLS LAST
            """
        )
    )
    return [dict(r._mapping) for r in rows]


def impact_by_grid_class(session: Session) -> list[dict]:
    """Per current grid and hazard class: distinct households, people and vulnerable ones; what
    a reader limited to some grids is shown of a run in place of the district-wide figures."""
    rows = session.execute(
        text(
            """
            SELECT g.code AS grid_code, d.hazard_class, count(*) AS households,
                   sum(d.members) AS people,
                   count(*) FILTER (WHERE d.vulnerable) AS vulnerable_households
            FROM (SELECT DISTINCT hazard_class, household_id, members, vulnerable
                  FROM impact_hit) d
            JOIN household_grid hg ON hg.household_id = d.household_id
            JOIN areas g ON g.id = hg.grid_id
            GROUP BY g.code, d.hazard_class
            ORDER BY g.code, d.hazard_class
            """
        )
    )
    return [dict(r._mapping) for r in rows]


def run_zone_within_grids(session: Session, run_id: int, grid_ids: frozenset[int]):
    """The part of a stored run's zone that lies in the given grids, as GeoJSON (a dict)."""
    return session.scalar(
        text(
            f"""
            SELECT {geojson("ST_CollectionExtract(ST_Intersection(r.geom, g.geom), 3)")}::json
            FROM impact_runs r,
                 (SELECT ST_Union(geom) AS geom FROM areas WHERE id = ANY(:grid_ids)) g
            WHERE r.id = :id
            """
        ),
        {"id": run_id, "grid_ids": sorted(grid_ids)},
    )


def impacted_household_ids(session: Session) -> list[int]:
    return list(session.scalars(text("SELECT DISTINCT household_id FROM impact_hit ORDER BY 1")))


def insert_impact_run(
    session: Session,
    hazard_id: int,
    buffer_m: float,
    zone_geojson: str,
    params: dict,
    result: dict,
    user_id: int | None,
) -> tuple[int, object]:
    row = session.execute(
        text(
            """
            INSERT INTO impact_runs (hazard_id, buffer_m, geom, params, result, created_by)
            VALUES (:hazard_id, :buffer_m, ST_SetSRID(ST_GeomFromGeoJSON(:zone), 4326),
                    CAST(:params AS jsonb), CAST(:result AS jsonb), :user_id)
            RETURNING id, created_at
            """
        ),
        {
            "hazard_id": hazard_id,
            "buffer_m": buffer_m,
            "zone": zone_geojson,
            "params": json.dumps(params),
            "result": json.dumps(result),
            "user_id": user_id,
        },
    ).one()
    return row.id, row.created_at


_RUN_COLUMNS = f"""
    r.id, r.hazard_id, r.buffer_m, r.params, r.result, r.created_at, r.created_by,
    u.display_name AS created_by_name, {geojson("r.geom")}::json AS zone
"""


def impact_runs_of(session: Session, hazard_id: int) -> list:
    """Runs that analysed this hazard (alone or in a set), newest first."""
    return list(
        session.execute(
            text(
                f"""
                SELECT {_RUN_COLUMNS} FROM impact_runs r
                LEFT JOIN users u ON u.id = r.created_by
                WHERE r.params -> 'hazard_ids' @> to_jsonb(CAST(:id AS int))
                ORDER BY r.created_at DESC, r.id DESC
                """
            ),
            {"id": hazard_id},
        )
    )


def impact_run(session: Session, run_id: int, grid_ids: frozenset[int] | None = None):
    visible, params = visible_geometry_sql(grid_ids, "r.geom")
    return session.execute(
        text(
            f"""
            SELECT {_RUN_COLUMNS} FROM impact_runs r
            LEFT JOIN users u ON u.id = r.created_by WHERE r.id = :id AND {visible}
            """
        ),
        {**params, "id": run_id},
    ).first()


def door_knock_rows(session: Session, household_ids: list[int], grid_ids) -> list:
    """The households to visit with their current grid and each of its workers (one row per
    household and worker; worker NULL for a grid without one), limited to ``grid_ids``."""
    where = "" if grid_ids is None else "AND hg.grid_id = ANY(:grid_ids)"
    return list(
        session.execute(
            text(
                f"""
                SELECT h.id, h.address, h.head_name, h.phone, h.members, h.tags,
                       ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat,
                       g.code AS grid_code, g.name AS grid_name,
                       u.id AS worker_id, u.display_name AS worker_name
                FROM households h
                LEFT JOIN household_grid hg ON hg.household_id = h.id
                LEFT JOIN areas g ON g.id = hg.grid_id
                LEFT JOIN worker_grids wg ON wg.grid_id = hg.grid_id
                LEFT JOIN users u ON u.id = wg.user_id AND u.active
                WHERE h.id = ANY(:ids) {where}
                ORDER BY u.display_name NULLS LAST, g.code NULLS LAST, h.address, h.id
                """
            ),
            {"ids": household_ids, "grid_ids": list(grid_ids or [])},
        )
    )


def map_extent(session: Session) -> tuple[float, float, float, float] | None:
    """The extent of the active hazards, else of the live districts (for an empty map)."""
    row = session.execute(
        text(
            """
            SELECT ST_XMin(e) AS x0, ST_YMin(e) AS y0, ST_XMax(e) AS x1, ST_YMax(e) AS y1
            FROM (SELECT coalesce(
                (SELECT ST_Extent(geom) FROM hazards WHERE valid_to IS NULL),
                (SELECT ST_Extent(geom) FROM areas WHERE level = 'district' AND valid_to IS NULL)
            ) AS e) x
            """
        )
    ).one()
    return None if row.x0 is None else (row.x0, row.y0, row.x1, row.y1)
