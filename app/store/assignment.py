"""Set-based household-to-grid assignment in PostGIS.

The rule, shared with ``geo.assign``: a household belongs to the live grid that covers its
point (boundary included); on a shared edge the grid with the smallest code wins.  A
household no live grid covers is uncovered and has no row in ``household_grid``.

Every function here fills or reads the temporary table ``fresh_assignment``
(household_id, grid_id) for a set of candidate households, then ``apply_fresh_assignment``
turns the differences into history rows and current rows.  Nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

CLOSED_STATUSES = "('closed', 'rated', 'rejected', 'duplicate')"
LIVE_GRIDS = "SELECT id, code, geom FROM areas WHERE level = 'grid' AND valid_to IS NULL"


@dataclass(frozen=True)
class Move:
    from_grid: str | None  # grid code, None for "was uncovered"
    to_grid: str | None  # grid code, None for "now uncovered"
    households: int


@dataclass(frozen=True)
class AssignmentResult:
    candidates: int  # households looked at
    assigned: int  # of those, covered by a grid now
    uncovered: int  # of those, in no grid now
    moved: int  # households whose grid changed (including to or from uncovered)
    moves: list[Move]


def _create_fresh_table(session: Session) -> None:
    session.execute(text("DROP TABLE IF EXISTS fresh_assignment"))
    session.execute(
        text(
            "CREATE TEMP TABLE fresh_assignment "
            "(household_id bigint NOT NULL, grid_id integer NOT NULL) ON COMMIT DROP"
        )
    )


def compute_all(session: Session) -> None:
    """Assign every household, driven from the grids.

    Looping over grids lets PostGIS prepare each polygon once and probe the household index
    with it; driving from households instead costs a full point-in-polygon per household.
    DISTINCT ON keeps the smallest code for points on shared edges.
    """
    _create_fresh_table(session)
    session.execute(
        text(
            f"""
            INSERT INTO fresh_assignment (household_id, grid_id)
            SELECT DISTINCT ON (h.id) h.id, g.id
            FROM ({LIVE_GRIDS}) g
            CROSS JOIN LATERAL (
                SELECT id FROM households h WHERE ST_Intersects(g.geom, h.geom)
            ) h
            ORDER BY h.id, g.code
            """
        )
    )


def compute_in_region(session: Session, region_ewkt: str) -> None:
    """Assign the households inside a region (e.g. the part of the map an edit changed).

    Fills ``candidate_households`` too, since households that became uncovered have no row
    in ``fresh_assignment``.
    """
    _create_fresh_table(session)
    session.execute(text("DROP TABLE IF EXISTS candidate_households"))
    session.execute(
        text(
            """
            CREATE TEMP TABLE candidate_households ON COMMIT DROP AS
            SELECT h.id AS household_id, h.geom FROM households h
            WHERE ST_Intersects(h.geom, ST_GeomFromEWKT(:region))
            """
        ),
        {"region": region_ewkt},
    )
    session.execute(
        text(
            f"""
            INSERT INTO fresh_assignment (household_id, grid_id)
            SELECT DISTINCT ON (c.household_id) c.household_id, g.id
            FROM candidate_households c
            JOIN ({LIVE_GRIDS}) g ON ST_Intersects(g.geom, c.geom)
            ORDER BY c.household_id, g.code
            """
        )
    )


def compute_for_households(session: Session, household_ids_sql: str, params: dict) -> None:
    """Assign the households selected by a subquery returning ``id`` (e.g. a fresh import)."""
    _create_fresh_table(session)
    session.execute(text("DROP TABLE IF EXISTS candidate_households"))
    session.execute(
        text(
            f"""
            CREATE TEMP TABLE candidate_households ON COMMIT DROP AS
            SELECT h.id AS household_id, h.geom FROM households h
            WHERE h.id IN ({household_ids_sql})
            """
        ),
        params,
    )
    session.execute(
        text(
            f"""
            INSERT INTO fresh_assignment (household_id, grid_id)
            SELECT DISTINCT ON (c.household_id) c.household_id, g.id
            FROM candidate_households c
            JOIN ({LIVE_GRIDS}) g ON ST_Intersects(g.geom, c.geom)
            ORDER BY c.household_id, g.code
            """
        )
    )


def apply_fresh_assignment(
    session: Session, *, now: datetime, all_households: bool
) -> AssignmentResult:
    """Write the differences between ``fresh_assignment`` and ``household_grid``.

    Only changed households are touched: their old period is closed into the history and
    their current row replaced (or removed when they became uncovered).
    """
    candidates = "households" if all_households else "candidate_households"
    candidate_id = "id" if all_households else "household_id"
    session.execute(text("DROP TABLE IF EXISTS assignment_changes"))
    session.execute(
        text(
            f"""
            CREATE TEMP TABLE assignment_changes ON COMMIT DROP AS
            SELECT c.{candidate_id} AS household_id,
                   cur.grid_id AS old_grid_id, cur.valid_from AS old_valid_from,
                   f.grid_id AS new_grid_id
            FROM {candidates} c
            LEFT JOIN household_grid cur ON cur.household_id = c.{candidate_id}
            LEFT JOIN fresh_assignment f ON f.household_id = c.{candidate_id}
            WHERE cur.grid_id IS DISTINCT FROM f.grid_id
            """
        )
    )
    session.execute(
        text(
            """
            INSERT INTO household_grid_history (household_id, grid_id, valid_from, valid_to)
            SELECT household_id, old_grid_id, old_valid_from, :now
            FROM assignment_changes WHERE old_grid_id IS NOT NULL
            """
        ),
        {"now": now},
    )
    session.execute(
        text(
            """
            DELETE FROM household_grid cur USING assignment_changes ch
            WHERE cur.household_id = ch.household_id AND ch.new_grid_id IS NULL
            """
        )
    )
    session.execute(
        text(
            """
            INSERT INTO household_grid (household_id, grid_id, valid_from)
            SELECT household_id, new_grid_id, :now
            FROM assignment_changes WHERE new_grid_id IS NOT NULL
            ON CONFLICT (household_id)
            DO UPDATE SET grid_id = EXCLUDED.grid_id, valid_from = EXCLUDED.valid_from
            """
        ),
        {"now": now},
    )
    counts = session.execute(
        text(
            f"""
            SELECT (SELECT count(*) FROM {candidates}),
                   (SELECT count(*) FROM fresh_assignment)
            """
        )
    ).one()
    moves = [
        Move(from_grid=row.from_code, to_grid=row.to_code, households=row.n)
        for row in session.execute(
            text(
                """
                SELECT o.code AS from_code, n.code AS to_code, count(*) AS n
                FROM assignment_changes ch
                LEFT JOIN areas o ON o.id = ch.old_grid_id
                LEFT JOIN areas n ON n.id = ch.new_grid_id
                GROUP BY o.code, n.code
                ORDER BY count(*) DESC, o.code NULLS FIRST, n.code NULLS FIRST
                """
            )
        )
    ]
    candidates_n, assigned = counts
    return AssignmentResult(
        candidates=candidates_n,
        assigned=assigned,
        uncovered=candidates_n - assigned,
        moved=sum(m.households for m in moves),
        moves=moves,
    )


def reroute_open_incidents(session: Session, region_ewkt: str) -> list[Move]:
    """Re-locate the open incidents inside a changed region; returns what moved where."""
    rows = session.execute(
        text(
            f"""
            WITH relocated AS (
                SELECT i.id, i.grid_id AS old_grid_id, g.id AS new_grid_id,
                       g.parent_id AS new_community_id
                FROM incidents i
                LEFT JOIN LATERAL (
                    SELECT g.id, g.parent_id FROM areas g
                    WHERE g.level = 'grid' AND g.valid_to IS NULL
                      AND ST_Intersects(g.geom, i.geom)
                    ORDER BY g.code LIMIT 1
                ) g ON true
                WHERE i.status NOT IN {CLOSED_STATUSES}
                  AND ST_Intersects(i.geom, ST_GeomFromEWKT(:region))
            ), updated AS (
                UPDATE incidents i
                SET grid_id = r.new_grid_id,
                    community_id = COALESCE(r.new_community_id, i.community_id)
                FROM relocated r
                WHERE i.id = r.id AND r.new_grid_id IS DISTINCT FROM r.old_grid_id
                RETURNING r.old_grid_id, r.new_grid_id
            )
            SELECT o.code AS from_code, n.code AS to_code, count(*) AS n
            FROM updated u
            LEFT JOIN areas o ON o.id = u.old_grid_id
            LEFT JOIN areas n ON n.id = u.new_grid_id
            GROUP BY o.code, n.code ORDER BY count(*) DESC
            """
        ),
        {"region": region_ewkt},
    )
    return [Move(r.from_code, r.to_code, r.n) for r in rows]
