"""Finding households' addresses: where a typed address is, which grid, who answers for it.

Only the address, the point and the grid with its workers' names come back: never a head of
household's name or phone number.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.store.fragments import rounded

_SEARCH = text(
    rf"""
    SELECT DISTINCT ON (length(h.address), h.address)
           h.address, {rounded("ST_X(h.geom)")} AS lon, {rounded("ST_Y(h.geom)")} AS lat,
           g.id AS grid_id, g.code AS grid_code, g.name AS grid_name,
           (SELECT coalesce(array_agg(u.display_name ORDER BY u.display_name), '{{}}')
            FROM worker_grids wg JOIN users u ON u.id = wg.user_id
            WHERE wg.grid_id = g.id AND u.active) AS workers
    FROM households h
    LEFT JOIN household_grid hg ON hg.household_id = h.id
    LEFT JOIN areas g ON g.id = hg.grid_id
    WHERE h.address ILIKE :pattern ESCAPE '\'
    ORDER BY length(h.address), h.address, h.id
    LIMIT :limit
    """
)


@dataclass(frozen=True)
class AddressMatch:
    address: str
    lon: float
    lat: float
    grid_code: str | None
    grid_name: str | None
    workers: list[str]
    grid_id: int | None = None


def like_pattern(query: str) -> str:
    """``query`` as a case-insensitive substring pattern, its wildcards taken literally."""
    escaped = query.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
    return f"%{escaped}%"


def search_addresses(session: Session, query: str, *, limit: int = 20) -> list[AddressMatch]:
    """Distinct household addresses containing ``query``, the shortest (closest) first."""
    rows = session.execute(_SEARCH, {"pattern": like_pattern(query), "limit": limit})
    return [
        AddressMatch(
            r.address,
            float(r.lon),
            float(r.lat),
            r.grid_code,
            r.grid_name,
            list(r.workers),
            r.grid_id,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class AddressPoint:
    """Where a typed address is: the best match's point, how many distinct addresses
    matched, and how far (m) the matches lie from that point."""

    lon: float
    lat: float
    exact: bool
    addresses: int
    spread_m: float


_POINT = text(
    r"""
    WITH matches AS (
        SELECT h.address, h.geom, lower(h.address) = lower(:exact) AS exact
        FROM households h WHERE h.address ILIKE :pattern ESCAPE '\'
        ORDER BY lower(h.address) = lower(:exact) DESC, length(h.address), h.id
        LIMIT :limit
    ),
    best AS (
        SELECT geom, exact FROM matches
        ORDER BY exact DESC, length(address), ST_X(geom), ST_Y(geom) LIMIT 1
    )
    SELECT ST_X(b.geom) AS lon, ST_Y(b.geom) AS lat, b.exact,
           count(DISTINCT m.address) AS addresses,
           max(ST_Distance(b.geom::geography, m.geom::geography)) AS spread_m
    FROM best b, matches m GROUP BY b.geom, b.exact
    """
)


def address_point(session: Session, query: str, *, limit: int = 200) -> AddressPoint | None:
    """The household address equal to ``query`` (else the shortest containing it), or None.

    The caller decides, from ``addresses`` and ``spread_m``, whether the match is precise
    enough to act on.
    """
    row = session.execute(
        _POINT, {"pattern": like_pattern(query), "exact": query, "limit": limit}
    ).first()
    if row is None:
        return None
    return AddressPoint(
        float(row.lon), float(row.lat), bool(row.exact), int(row.addresses), float(row.spread_m)
    )


def household_point(session: Session, external_id: str) -> tuple[float, float] | None:
    """(lon, lat) of the household whose external id (the address register's id) is given."""
    row = session.execute(
        text("SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat FROM households WHERE external_id = :i"),
        {"i": external_id},
    ).first()
    return None if row is None else (float(row.lon), float(row.lat))
