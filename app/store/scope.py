"""What a user may see and where they may write, passed into every query as a parameter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Scope:
    """The grids a user's queries are limited to, and whether they see personal data.

    ``grid_ids`` is None for an unrestricted scope (the whole district).
    """

    user_id: int | None
    grid_ids: frozenset[int] | None
    sees_personal_data: bool

    @classmethod
    def everything(cls, *, user_id: int | None = None, personal: bool = True) -> Scope:
        return cls(user_id=user_id, grid_ids=None, sees_personal_data=personal)

    @property
    def restricted(self) -> bool:
        return self.grid_ids is not None

    def allows_grid(self, grid_id: int | None) -> bool:
        return self.grid_ids is None or grid_id in self.grid_ids


# The areas a restricted scope may see: its grids, the micro-grids inside them and the areas
# above them (community, street, district), never a sibling's.  The one rule for every read
# of an area: lists, details, history, exports, OGC items, tiles, coverage.
_VISIBLE_AREA_IDS = """
    WITH RECURSIVE up AS (
        SELECT id, parent_id FROM areas WHERE id = ANY(:scope_grid_ids)
        UNION
        SELECT p.id, p.parent_id FROM areas p JOIN up ON p.id = up.parent_id
    )
    SELECT id FROM up
    UNION ALL SELECT id FROM areas WHERE parent_id = ANY(:scope_grid_ids)
"""


def visible_areas_sql(grid_ids: frozenset[int] | None, column: str) -> tuple[str, dict]:
    """A SQL condition on ``column`` (an area id), true for the areas a scope limited to
    ``grid_ids`` may see (None: every area)."""
    if grid_ids is None:
        return "true", {}
    return f"{column} IN ({_VISIBLE_AREA_IDS})", {"scope_grid_ids": sorted(grid_ids)}


def area_visible(session: Session, scope: Scope, area_id: int) -> bool:
    """True when ``scope`` may see the area ``area_id``."""
    condition, params = visible_areas_sql(scope.grid_ids, ":area_id")
    return bool(session.scalar(text(f"SELECT {condition}"), {**params, "area_id": area_id}))


def visible_geometry_sql(grid_ids: frozenset[int] | None, column: str) -> tuple[str, dict]:
    """A SQL condition on ``column`` (a geometry: a hazard, a site, an analysed zone), true
    where it touches one of ``grid_ids`` (None: everywhere)."""
    if grid_ids is None:
        return "true", {}
    condition = (
        "EXISTS (SELECT 1 FROM areas sg WHERE sg.id = ANY(:scope_grid_ids) "
        f"AND ST_Intersects(sg.geom, {column}))"
    )
    return condition, {"scope_grid_ids": sorted(grid_ids)}


def grid_codes(session: Session, grid_ids: frozenset[int]) -> frozenset[str]:
    """The codes of the grids ``grid_ids``."""
    rows = session.scalars(
        text("SELECT code FROM areas WHERE id = ANY(:ids)"), {"ids": list(grid_ids)}
    )
    return frozenset(rows)


def unrouted_visible_sql(grid_ids: frozenset[int] | None, column: str) -> tuple[str, dict]:
    """A SQL condition on ``column`` (the point of an incident in no grid), true where it lies
    in a street or community a scope limited to ``grid_ids`` may see (None: everywhere)."""
    if grid_ids is None:
        return "true", {}
    condition, params = visible_areas_sql(grid_ids, "v.id")
    return (
        "EXISTS (SELECT 1 FROM areas v WHERE v.level IN ('street', 'community') "
        f"AND v.valid_to IS NULL AND {condition} AND ST_Intersects(v.geom, {column}))"
    ), params


def visible_area_ids(session: Session, grid_ids: frozenset[int] | None) -> frozenset[int] | None:
    """The ids of the areas a scope limited to ``grid_ids`` may see (None: every area)."""
    if grid_ids is None:
        return None
    condition, params = visible_areas_sql(grid_ids, "id")
    return frozenset(session.scalars(text(f"SELECT id FROM areas WHERE {condition}"), params))


# The writer's region, as ``auth.scope_for`` draws what they see: a worker's own grids, the
# area a leader or planner was given (create-user --area), else the whole district.  NULL
# (nowhere) for a worker without grids.
_REGION = """
    SELECT CASE
        WHEN NOT :restricted THEN (SELECT district FROM district)
        ELSE COALESCE(
            (SELECT a.geom FROM users u JOIN areas a ON a.id = u.area_id
             WHERE u.id = :user_id AND u.role <> 'worker'),
            (SELECT ST_Union(geom) FROM areas WHERE id = ANY(:grid_ids) AND valid_to IS NULL))
    END
"""

# Polygons may stray by up to half a metre over the region's edge (a zone traced along a
# boundary), as areas may over their parent's; points and lines must lie inside or on it.
# Only the region near the polygon is buffered (its box grown by 0.0001 degrees, over 9 m
# anywhere below latitude 80): buffering a whole district takes a quarter of a second.
_COVERS = """
    CASE WHEN {region} IS NULL THEN false
         WHEN ST_Covers({region}, i.geom) THEN true
         WHEN ST_Dimension(i.geom) = 2
              THEN ST_Covers(
                  ST_Buffer(ST_Intersection({region}, ST_Expand(i.geom, 0.0001))::geography, 0.5)
                  ::geometry,
                  i.geom)
         ELSE false END
"""


def geometries_inside(
    session: Session, scope: Scope, wkbs: Sequence[bytes]
) -> list[tuple[bool, bool]]:
    """For each WKB geometry (SRID 4326): (inside the district, inside the writer's region)."""
    if not wkbs:
        return []
    rows = session.execute(
        text(
            f"""
            WITH district AS (
                SELECT ST_Union(geom) AS district FROM areas
                WHERE level = 'district' AND valid_to IS NULL
            ), region AS ({_REGION}) , items AS (
                SELECT n, ST_GeomFromWKB(wkb, 4326) AS geom
                FROM unnest(CAST(:wkbs AS bytea[])) WITH ORDINALITY AS t(wkb, n)
            )
            SELECT {_COVERS.format(region="(SELECT district FROM district)")} AS in_district,
                   {_COVERS.format(region="(SELECT * FROM region)")} AS in_region
            FROM items i ORDER BY n
            """
        ),
        {**_region_params(scope), "wkbs": [bytes(w) for w in wkbs]},
    )
    return [(bool(r.in_district), bool(r.in_region)) for r in rows]


def write_regions_wkb(session: Session, scope: Scope) -> tuple[bytes | None, bytes | None]:
    """The district and the writer's region as WKB, for checking many points at once."""
    row = session.execute(
        text(
            f"""
            WITH district AS (
                SELECT ST_Union(geom) AS district FROM areas
                WHERE level = 'district' AND valid_to IS NULL
            ), region AS ({_REGION})
            SELECT ST_AsBinary((SELECT district FROM district)) AS district,
                   ST_AsBinary((SELECT * FROM region)) AS region
            """
        ),
        _region_params(scope),
    ).one()
    return (
        bytes(row.district) if row.district is not None else None,
        bytes(row.region) if row.region is not None else None,
    )


def _region_params(scope: Scope) -> dict:
    return {
        "restricted": scope.restricted,
        "user_id": scope.user_id,
        "grid_ids": sorted(scope.grid_ids or ()),
    }


# The tables a stored row's geometry is read from; the lookup keeps any other name out of the SQL.
STORED_GEOMETRY = {"hazards": "hazards", "sites": "sites"}


def stored_geometry_wkb(session: Session, table: str, row_id: int) -> bytes | None:
    """The geometry of a hazard or site as WKB, to check a write to it."""
    return session.scalar(
        text(f"SELECT ST_AsBinary(geom) FROM {STORED_GEOMETRY[table]} WHERE id = :id"),
        {"id": row_id},
    )


def writing_area_id(session: Session, user_id: int | None) -> int | None:
    """The area a user may write within (None: no area given, or the CLI)."""
    if user_id is None:
        return None
    return session.scalar(text("SELECT area_id FROM users WHERE id = :id"), {"id": user_id})
