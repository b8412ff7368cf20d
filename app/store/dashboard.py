"""Set-based queries behind the leaders' dashboard and the incident maps.

Every query takes an :class:`IncidentFilter` (period, category, statuses, the user's grids)
and aggregates in PostgreSQL: one query for a whole dashboard table (its total row comes from
``GROUP BY ROLLUP``), one for its weekly trend, one per map layer. No personal data
(reporters' names or phones, households' names) is ever selected here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models import OPEN_STATUSES
from app.store.fragments import HOUSEHOLDS_PER_GRID, geojson

TIMEZONE = "Asia/Shanghai"
CLOSED_STATUSES = ("closed", "rated")
NOT_COUNTED_STATUSES = ("rejected", "duplicate")

# The incident column and the grid-side expression that name an area of each level.
LEVEL_KEYS = {
    "street": ("i.street_id", "c.parent_id"),
    "community": ("i.community_id", "g.parent_id"),
    "grid": ("i.grid_id", "g.id"),
}


@dataclass(frozen=True)
class IncidentFilter:
    """Incidents created in ``[start, end)``, optionally of one category, some statuses and
    within some grids (``grid_ids`` None: everywhere)."""

    start: datetime
    end: datetime
    category_id: int | None = None
    statuses: tuple[str, ...] | None = None
    grid_ids: frozenset[int] | None = None

    def where(self, alias: str = "i") -> tuple[str, dict]:
        """SQL conditions (joined by AND) and their parameters."""
        sql = [f"{alias}.created_at >= :start", f"{alias}.created_at < :end"]
        params: dict = {"start": self.start, "end": self.end}
        if self.category_id is not None:
            sql.append(f"{alias}.category_id = :category_id")
            params["category_id"] = self.category_id
        if self.statuses is not None:
            sql.append(f"{alias}.status = ANY(:statuses)")
            params["statuses"] = list(self.statuses)
        if self.grid_ids is not None:
            sql.append(f"{alias}.grid_id = ANY(:grid_ids)")
            params["grid_ids"] = list(self.grid_ids)
        return " AND ".join(sql), params


def area_by_code(session: Session, code: str) -> dict | None:
    row = session.execute(
        text("SELECT id, code, name, level, parent_id FROM areas WHERE code = :code"),
        {"code": code},
    ).first()
    return row._asdict() if row else None


def area_chain(session: Session, area_id: int) -> list[dict]:
    """The area and its ancestors, from the top (district) down."""
    rows = session.execute(
        text(
            """
            WITH RECURSIVE chain AS (
              SELECT id, code, name, level, parent_id, 0 AS depth FROM areas WHERE id = :id
              UNION ALL
              SELECT a.id, a.code, a.name, a.level, a.parent_id, chain.depth + 1
              FROM areas a JOIN chain ON a.id = chain.parent_id
            )
            SELECT id, code, name, level FROM chain ORDER BY depth DESC
            """
        ),
        {"id": area_id},
    )
    return [r._asdict() for r in rows]


def category_id_by_code(session: Session, code: str) -> int | None:
    return session.scalar(
        text("SELECT id FROM incident_categories WHERE code = :code"), {"code": code}
    )


def categories(session: Session) -> list[dict]:
    rows = session.execute(text("SELECT code, name FROM incident_categories ORDER BY code"))
    return [r._asdict() for r in rows]


def level_table(
    session: Session,
    level: str,
    parent_id: int | None,
    incidents: IncidentFilter,
    now: datetime,
) -> list[dict]:
    """One row per live area of ``level`` (under ``parent_id`` and within the filter's grids)
    with its raw incident counts, households and workers, then a total row (``id`` None).

    Counts are of incidents created in the period and routed to the area; the total row is
    the ``ROLLUP`` of the same counts, so it is never a sum of rounded rates.
    """
    incident_column, grid_key = LEVEL_KEYS[level]
    where, params = incidents.where()
    params |= {
        "level": level,
        "parent_id": parent_id,
        "now": now,
        "open": list(OPEN_STATUSES),
        "closed": list(CLOSED_STATUSES),
        "not_counted": list(NOT_COUNTED_STATUSES),
    }
    scope_grids = "" if incidents.grid_ids is None else "AND g.id = ANY(:grid_ids)"
    parent_sql = "" if parent_id is None else "AND a.parent_id = :parent_id"
    # The top of the dashboard (no parent) lists every area of its level: one pass over the
    # period's incidents, grouped, then the listed areas' groups kept (0.2 s at 356,000
    # incidents, where probing the index for each of 280 grids took 0.65 s). A drill-down
    # lists a few areas: their incidents are found through the index. per_status must stay
    # MATERIALIZED, or the planner pushes the groups' condition down into the scan.
    if parent_id is None:
        incident_areas = f"{incident_column} IS NOT NULL"
        listed_groups = "key IN (SELECT id FROM rows)"
    else:
        incident_areas, listed_groups = f"{incident_column} IN (SELECT id FROM rows)", "true"
    sql = f"""
        WITH grids AS (
          SELECT g.id AS grid_id, {grid_key} AS key
          FROM areas g JOIN areas c ON c.id = g.parent_id
          WHERE g.level = 'grid' AND g.valid_to IS NULL {scope_grids}
        ),
        rows AS (
          SELECT a.id, a.code, a.name FROM areas a
          WHERE a.level = :level AND a.valid_to IS NULL {parent_sql}
            AND a.id IN (SELECT key FROM grids)
        ),
        households AS MATERIALIZED (
          SELECT grids.key, sum(n.households)::int AS households
          FROM grids JOIN ({HOUSEHOLDS_PER_GRID}) n ON n.grid_id = grids.grid_id
          WHERE grids.key IN (SELECT id FROM rows)
          GROUP BY ROLLUP (grids.key)
        ),
        workers AS MATERIALIZED (
          SELECT grids.key, count(DISTINCT wg.user_id)::int AS workers
          FROM grids
          JOIN worker_grids wg ON wg.grid_id = grids.grid_id
          JOIN users u ON u.id = wg.user_id AND u.active
          WHERE grids.key IN (SELECT id FROM rows)
          GROUP BY ROLLUP (grids.key)
        ),
        -- Grouped by status too, so that the scan of incidents runs no status test per row;
        -- the statuses are classed below, on a few rows per area.
        per_status AS MATERIALIZED (
          SELECT {incident_column} AS key, i.status, count(*) AS n,
            count(*) FILTER (WHERE i.closed_at <= i.deadline_at) AS on_time,
            -- date_part gives float8 (extract gives numeric, several times slower to sum)
            sum(date_part('epoch', i.closed_at - i.created_at) / 3600) AS hours_sum,
            count(i.closed_at) AS hours_n,
            sum(i.rating) AS rating_sum,
            count(i.rating) AS rated,
            count(*) FILTER (WHERE i.rating >= 4) AS satisfied,
            count(*) FILTER (WHERE i.deadline_at < :now) AS past_deadline
          FROM incidents i
          WHERE {where} AND {incident_areas}
          GROUP BY {incident_column}, i.status
        ),
        figures AS MATERIALIZED (
          SELECT key,
            sum(n) FILTER (WHERE status <> ALL(:not_counted))::int AS counted,
            sum(n) FILTER (WHERE status = ANY(:open))::int AS open,
            sum(n) FILTER (WHERE status = ANY(:closed))::int AS closed,
            sum(on_time) FILTER (WHERE status = ANY(:closed))::int AS on_time,
            (sum(hours_sum) FILTER (WHERE status = ANY(:closed))
              / NULLIF(sum(hours_n) FILTER (WHERE status = ANY(:closed)), 0))::float8
              AS hours_to_close,
            (sum(rating_sum)::numeric / NULLIF(sum(rated), 0))::float8 AS mean_rating,
            sum(rated)::int AS rated, sum(satisfied)::int AS satisfied,
            sum(past_deadline) FILTER (WHERE status = ANY(:open))::int AS overdue
          FROM per_status
          WHERE {listed_groups}
          GROUP BY ROLLUP (key)
        ),
        listed AS (
          SELECT r.id, r.code, r.name, 0 AS total_row FROM rows r
          UNION ALL SELECT NULL, NULL, NULL, 1
        )
        SELECT l.id, l.code, l.name,
          COALESCE(f.counted, 0) AS counted, COALESCE(f.open, 0) AS open,
          COALESCE(f.closed, 0) AS closed, COALESCE(f.on_time, 0) AS on_time,
          f.hours_to_close, f.mean_rating, COALESCE(f.rated, 0) AS rated,
          COALESCE(f.satisfied, 0) AS satisfied, COALESCE(f.overdue, 0) AS overdue,
          COALESCE(h.households, 0) AS households, COALESCE(w.workers, 0) AS workers
        FROM listed l
        LEFT JOIN figures f ON f.key IS NOT DISTINCT FROM l.id
        LEFT JOIN households h ON h.key IS NOT DISTINCT FROM l.id
        LEFT JOIN workers w ON w.key IS NOT DISTINCT FROM l.id
        ORDER BY l.total_row, l.code
    """
    return [r._asdict() for r in session.execute(text(sql), params)]


def weekly_trend(
    session: Session, level: str, area_ids: list[int], incidents: IncidentFilter
) -> list[dict]:
    """Per week (Monday, Asia/Shanghai) of the period: incidents opened (except rejected
    and duplicate), incidents closed and of those closed on time. Opened counts by
    ``created_at``, closed by ``closed_at``; both within the period, the category, the
    user's grids and the listed areas."""
    incident_column, _ = LEVEL_KEYS[level]
    opened_where, params = incidents.where()
    closed_filter = IncidentFilter(
        incidents.start, incidents.end, incidents.category_id, None, incidents.grid_ids
    )
    closed_where, _ = closed_filter.where()
    closed_where = closed_where.replace("i.created_at", "i.closed_at")
    params |= {
        "area_ids": area_ids,
        "tz": TIMEZONE,
        "closed": list(CLOSED_STATUSES),
        "not_counted": list(NOT_COUNTED_STATUSES),
    }
    # One pass per kind, no calendar join: weeks without incidents are filled in by the caller.
    sql = f"""
        SELECT week::date AS week, sum(opened)::int AS opened, sum(closed)::int AS closed,
               sum(on_time)::int AS on_time
        FROM (
          SELECT date_trunc('week', i.created_at AT TIME ZONE :tz) AS week,
                 1 AS opened, 0 AS closed, 0 AS on_time
          FROM incidents i
          WHERE {opened_where} AND {incident_column} = ANY(:area_ids)
            AND i.status <> ALL(:not_counted)
          UNION ALL
          SELECT date_trunc('week', i.closed_at AT TIME ZONE :tz), 0, 1,
                 (i.closed_at <= i.deadline_at)::int
          FROM incidents i
          WHERE {closed_where} AND i.status = ANY(:closed)
            AND {incident_column} = ANY(:area_ids)
        ) events
        GROUP BY week
        ORDER BY week
    """
    return [r._asdict() for r in session.execute(text(sql), params)]


# --- incident maps -----------------------------------------------------------------------


def incident_count(session: Session, incidents: IncidentFilter) -> int:
    where, params = incidents.where()
    return session.scalar(text(f"SELECT count(*) FROM incidents i WHERE {where}"), params)


def incident_points(session: Session, incidents: IncidentFilter) -> list[tuple[float, float]]:
    """(lat, lon) of each incident, rounded to 5 decimals (about a metre)."""
    where, params = incidents.where()
    rows = session.execute(
        text(
            f"SELECT round(ST_Y(i.geom)::numeric, 5)::float8, round(ST_X(i.geom)::numeric, 5)::float8 "
            f"FROM incidents i WHERE {where}"
        ),
        params,
    )
    return [(lat, lon) for lat, lon in rows]


def incident_cells(
    session: Session, incidents: IncidentFilter, cell_degrees: float
) -> list[tuple[float, float, int]]:
    """(lat, lon, count) per square cell of ``cell_degrees``, at the centre of each cell.

    Cells are integer indices (cheaper to group than snapped geometries)."""
    where, params = incidents.where()
    rows = session.execute(
        text(
            f"""
            SELECT round(((iy + 0.5) * :cell)::numeric, 6)::float8,
                   round(((ix + 0.5) * :cell)::numeric, 6)::float8, n::int FROM (
              SELECT floor(ST_X(i.geom) / :cell)::int AS ix, floor(ST_Y(i.geom) / :cell)::int AS iy,
                     count(*) AS n
              FROM incidents i WHERE {where} GROUP BY 1, 2) cells
            """
        ),
        params | {"cell": cell_degrees},
    )
    return [(lat, lon, n) for lat, lon, n in rows]


def weekly_cells(
    session: Session, incidents: IncidentFilter, cell_degrees: float
) -> list[tuple[date, float, float, int]]:
    """(week, lat, lon, count) per week (Monday, Asia/Shanghai) and square cell."""
    where, params = incidents.where()
    rows = session.execute(
        text(
            f"""
            SELECT week::date, round(((iy + 0.5) * :cell)::numeric, 6)::float8,
                   round(((ix + 0.5) * :cell)::numeric, 6)::float8,
                   n::int
            FROM (
              SELECT date_trunc('week', i.created_at AT TIME ZONE :tz) AS week,
                     floor(ST_X(i.geom) / :cell)::int AS ix, floor(ST_Y(i.geom) / :cell)::int AS iy,
                     count(*) AS n
              FROM incidents i WHERE {where} GROUP BY 1, 2, 3) cells
            ORDER BY week
            """
        ),
        params | {"cell": cell_degrees, "tz": TIMEZONE},
    )
    return [tuple(r) for r in rows]


def grid_rates(session: Session, incidents: IncidentFilter, simplify: float) -> list[dict]:
    """Live grids (within the filter's grids) as GeoJSON features with their incidents in
    the filter, households and incidents per 1,000 households (null without households)."""
    where, params = incidents.where()
    scope_sql = "" if incidents.grid_ids is None else "AND g.id = ANY(:grid_ids)"
    rows = session.scalars(
        text(
            f"""
            WITH counts AS MATERIALIZED (  -- once, not once per grid
              SELECT i.grid_id, count(*) AS incidents FROM incidents i
              WHERE {where} GROUP BY i.grid_id
            )
            SELECT json_build_object(
              'type', 'Feature',
              'geometry', {geojson("ST_SimplifyPreserveTopology(g.geom, :simplify)", 6)}::json,
              'properties', json_build_object(
                'code', g.code, 'name', g.name, 'community', c.name,
                'incidents', COALESCE(k.incidents, 0),
                'households', COALESCE(n.households, 0),
                'rate', CASE WHEN COALESCE(n.households, 0) > 0
                             THEN round(1000.0 * COALESCE(k.incidents, 0) / n.households, 1)
                        END))
            FROM areas g
            LEFT JOIN areas c ON c.id = g.parent_id
            LEFT JOIN ({HOUSEHOLDS_PER_GRID}) n ON n.grid_id = g.id
            LEFT JOIN counts k ON k.grid_id = g.id
            WHERE g.level = 'grid' AND g.valid_to IS NULL {scope_sql}
            ORDER BY g.code
            """
        ),
        params | {"simplify": simplify},
    )
    return list(rows)


def latest_incidents(session: Session, incidents: IncidentFilter, limit: int) -> list[dict]:
    """The newest incidents in the filter: number, category, status, time and grid only."""
    where, params = incidents.where()
    rows = session.execute(
        text(
            f"""
            SELECT i.id, cat.name AS category, i.status, i.created_at, g.name AS grid
            FROM incidents i
            JOIN incident_categories cat ON cat.id = i.category_id
            LEFT JOIN areas g ON g.id = i.grid_id
            WHERE {where}
            ORDER BY i.created_at DESC, i.id DESC LIMIT :limit
            """
        ),
        params | {"limit": limit},
    )
    return [r._asdict() for r in rows]


def live_bounds(
    session: Session, grid_ids: frozenset[int] | None
) -> tuple[float, float, float, float] | None:
    """The extent of the live grids (within ``grid_ids``): (west, south, east, north)."""
    scope_sql = "" if grid_ids is None else "AND id = ANY(:grid_ids)"
    row = session.execute(
        text(
            f"""
            SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (
              SELECT ST_Extent(geom) AS e FROM areas
              WHERE level = 'grid' AND valid_to IS NULL {scope_sql}) x
            """
        ),
        {} if grid_ids is None else {"grid_ids": list(grid_ids)},
    ).first()
    return None if row is None or row[0] is None else tuple(float(v) for v in row)
