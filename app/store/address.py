"""Finding households' addresses: where a typed address is, which grid, who answers for it.

Only the address, the point and the grid with its workers' names come back: never a head of
household's name or phone number.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

_SEARCH = text(
    r"""
    SELECT DISTINCT ON (length(h.address), h.address)
           h.address, ST_X(h.geom) AS lon, ST_Y(h.geom) AS lat,
           g.code AS grid_code, g.name AS grid_name,
           (SELECT coalesce(array_agg(u.display_name ORDER BY u.display_name), '{}')
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


def like_pattern(query: str) -> str:
    """``query`` as a case-insensitive substring pattern, its wildcards taken literally."""
    escaped = query.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
    return f"%{escaped}%"


def search_addresses(session: Session, query: str, *, limit: int = 20) -> list[AddressMatch]:
    """Distinct household addresses containing ``query``, the shortest (closest) first."""
    rows = session.execute(_SEARCH, {"pattern": like_pattern(query), "limit": limit})
    return [
        AddressMatch(
            r.address, float(r.lon), float(r.lat), r.grid_code, r.grid_name, list(r.workers)
        )
        for r in rows
    ]
