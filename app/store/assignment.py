"""Set-based household-to-grid assignment in PostGIS.

The rule, shared with ``geo.assign``: a household belongs to the live grid that covers its
point (boundary included); on a shared edge the grid with the smallest code wins.  A
household no live grid covers is uncovered and has no row in ``household_grid``.

``assign_everything`` reassigns every household at once.  The incremental functions fill the
temporary tables ``candidate_households`` and ``fresh_assignment`` (household_id, grid_id),
then ``apply_fresh_assignment`` turns the differences into history rows and current rows.
Nothing here commits.
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


# Settings for one bulk run; SET LOCAL ends them with the transaction.
BULK_SETTINGS = (
    "SET LOCAL jit = off",  # compiling these plans costs 0.1-0.5 s and gains nothing
    "SET LOCAL work_mem = '256MB'",  # the DISTINCT ON sort stays in memory
    "SET LOCAL maintenance_work_mem = '256MB'",  # so do the index builds
    # The grids table is small; let its scan be split among parallel workers anyway.
    "SET LOCAL min_parallel_table_scan_size = 0",
    "SET LOCAL parallel_setup_cost = 0",
    "SET LOCAL parallel_tuple_cost = 0.001",
)

# Grid-driven and parallel.  ST_Multi(g.geom) is g.geom (a MULTIPOLYGON column) but no index
# matches it, so the planner cannot drive the join from the households (one grid-index probe
# and one unprepared point-in-polygon test per household: 58 s for 1M x 10k); it loops over
# the grids, each polygon prepared once and probing the household index.  Unlike a LATERAL
# (... OFFSET 0) fence, this plain join can be split among parallel workers, and CREATE TABLE
# AS runs parallel plans where INSERT ... SELECT does not.
FRESH_SELECT = """
    SELECT DISTINCT ON (h.id) h.id AS household_id, g.id AS grid_id
    FROM areas g
    JOIN households h ON ST_Intersects(ST_Multi(g.geom), h.geom)
    WHERE g.level = 'grid' AND g.valid_to IS NULL
    ORDER BY h.id, g.code
"""
# Below this share of changed households, changing rows one by one beats rebuilding.
REBUILD_ABOVE = 0.05


@dataclass(frozen=True)
class _TableSchema:
    """NOT NULLs, constraints, indexes and triggers of a table, as the migrations made them."""

    not_null: tuple[str, ...]
    constraints: tuple[tuple[str, str], ...]  # (name, definition), primary key first
    indexes: tuple[str, ...]  # CREATE INDEX statements of indexes no constraint owns
    triggers: tuple[str, ...]  # CREATE TRIGGER statements (not the foreign keys' own)

    @classmethod
    def read(cls, session: Session, table: str) -> _TableSchema:
        params = {"t": table}
        not_null = session.scalars(
            text(
                "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
                "AND attnum > 0 AND attnotnull AND NOT attisdropped ORDER BY attnum"
            ),
            params,
        ).all()
        constraints = session.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'f', 'u', 'c') "
                "ORDER BY contype = 'p' DESC, conname"
            ),
            params,
        ).all()
        indexes = session.scalars(
            text(
                "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = CAST(:t AS regclass) AND NOT EXISTS "
                "(SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1"
            ),
            params,
        ).all()
        triggers = session.scalars(
            text(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal ORDER BY tgname"
            ),
            params,
        ).all()
        return cls(tuple(not_null), tuple(map(tuple, constraints)), tuple(indexes), tuple(triggers))

    def restore(self, session: Session, table: str) -> None:
        """Keys in one ALTER TABLE (one scan), foreign keys NOT VALID, then the indexes
        and the triggers.

        The foreign keys need no validation scan: every row was just read from households
        and areas under the lock taken first.  They are enforced for every later write, and
        ``ALTER TABLE household_grid VALIDATE CONSTRAINT ...`` confirms them without blocking.
        """
        keys = [(n, d) for n, d in self.constraints if not d.startswith("FOREIGN KEY")]
        foreign = [(n, d) for n, d in self.constraints if d.startswith("FOREIGN KEY")]
        actions = [f'ALTER COLUMN "{column}" SET NOT NULL' for column in self.not_null]
        actions += [f'ADD CONSTRAINT "{name}" {definition}' for name, definition in keys]
        session.execute(text(f"ALTER TABLE {table} " + ", ".join(actions)))
        for name, definition in foreign:
            session.execute(
                text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition} NOT VALID')
            )
        for definition in self.indexes + self.triggers:
            session.execute(text(definition))


def assign_everything(session: Session, now: datetime) -> AssignmentResult:
    """Assign every household, rebuilding ``household_grid`` when much of it changes.

    The fresh assignment is written once, in parallel, into a new table.  From an empty
    ``household_grid`` that table replaces it; otherwise the differences go to the history,
    and are applied row by row when few households changed, or the new table (unchanged rows
    keeping the start of their period) replaces the old one.  Nothing may depend on
    ``household_grid`` (no view, no foreign key to it) for the swap to work.
    """
    for setting in BULK_SETTINGS:
        session.execute(text(setting))
    # Writers wait until we commit (readers go on): nothing changes under the rebuild.
    session.execute(text("LOCK TABLE household_grid IN EXCLUSIVE MODE"))
    was_empty = not session.scalar(text("SELECT EXISTS (SELECT FROM household_grid)"))
    schema = _TableSchema.read(session, "household_grid")
    session.execute(text("DROP TABLE IF EXISTS household_grid_next"))
    assigned = session.execute(
        text(
            "CREATE TABLE household_grid_next AS SELECT f.household_id, f.grid_id, "
            f"CAST(:now AS timestamptz) AS valid_from FROM ({FRESH_SELECT}) f"
        ),
        {"now": now},
    ).rowcount
    if was_empty:
        _count_grids_from_next(session)
        moves = [
            Move(None, r.code, r.households)
            for r in session.execute(
                text(
                    "SELECT a.code, c.households FROM grid_counts c "
                    "JOIN areas a ON a.id = c.grid_id "
                    "WHERE c.households > 0 ORDER BY c.households DESC, a.code"
                )
            )
        ]
        replacement = "household_grid_next"
    else:
        session.execute(text("DROP TABLE IF EXISTS assignment_changes"))
        session.execute(
            text(
                """
            CREATE TEMP TABLE assignment_changes ON COMMIT DROP AS
            SELECT coalesce(f.household_id, cur.household_id) AS household_id,
                   cur.grid_id AS old_grid_id, cur.valid_from AS old_valid_from,
                   f.grid_id AS new_grid_id
            FROM household_grid_next f
            FULL JOIN household_grid cur ON cur.household_id = f.household_id
            WHERE cur.grid_id IS DISTINCT FROM f.grid_id
            """
            )
        )
        _close_history(session, now)
        moves = _moves(session)
        changed = sum(m.households for m in moves)
        current = session.scalar(text("SELECT count(*) FROM household_grid"))
        if changed <= REBUILD_ABOVE * current:
            _apply_changes(session, now)
            session.execute(text("DROP TABLE household_grid_next"))
            replacement = None
        else:
            session.execute(
                text(
                    "CREATE TABLE household_grid_final AS "
                    "SELECT n.household_id, n.grid_id, CASE WHEN cur.grid_id = n.grid_id "
                    "THEN cur.valid_from ELSE n.valid_from END AS valid_from "
                    "FROM household_grid_next n "
                    "LEFT JOIN household_grid cur ON cur.household_id = n.household_id "
                    "ORDER BY n.household_id"
                )
            )
            _count_grids_from_next(session)
            session.execute(text("DROP TABLE household_grid_next"))
            replacement = "household_grid_final"
    if replacement:
        session.execute(text("DROP TABLE household_grid"))
        session.execute(text(f"ALTER TABLE {replacement} RENAME TO household_grid"))
        schema.restore(session, "household_grid")
    candidates = session.scalar(text("SELECT count(*) FROM households"))
    return AssignmentResult(
        candidates=candidates,
        assigned=assigned,
        uncovered=candidates - assigned,
        moved=sum(m.households for m in moves),
        moves=moves,
    )


def _count_grids_from_next(session: Session) -> None:
    """Households and vulnerable households per grid, from ``household_grid_next``.

    A rebuilt ``household_grid`` is written without the triggers that keep ``grid_counts``.
    One parallel pass over the new (narrow) table, with the few vulnerable households found
    through the tags' GIN index, instead of ``recount_grid_counts(NULL)`` joining a million
    households again. (CREATE TABLE AS runs parallel plans, INSERT ... SELECT does not.)
    """
    session.execute(text("DROP TABLE IF EXISTS fresh_counts"))
    session.execute(
        text(
            """
        CREATE TEMP TABLE fresh_counts ON COMMIT DROP AS
        SELECT n.grid_id, count(*) AS households, count(v.id) AS vulnerable
        FROM household_grid_next n
        LEFT JOIN (SELECT id FROM households WHERE tags && wangge_vulnerable_tags()) v
          ON v.id = n.household_id
        GROUP BY n.grid_id
        """
        )
    )
    session.execute(
        text(
            """
        INSERT INTO grid_counts (grid_id, households, vulnerable)
        SELECT g.id, COALESCE(c.households, 0), COALESCE(c.vulnerable, 0)
        FROM areas g LEFT JOIN fresh_counts c ON c.grid_id = g.id
        WHERE g.level = 'grid'
        ON CONFLICT (grid_id) DO UPDATE
          SET households = EXCLUDED.households, vulnerable = EXCLUDED.vulnerable
        """
        )
    )


def _close_history(session: Session, now: datetime) -> None:
    session.execute(
        text(
            "INSERT INTO household_grid_history (household_id, grid_id, valid_from, valid_to) "
            "SELECT household_id, old_grid_id, old_valid_from, :now "
            "FROM assignment_changes WHERE old_grid_id IS NOT NULL"
        ),
        {"now": now},
    )


def _moves(session: Session) -> list[Move]:
    # Group first, then name the grids: thousands of groups joined to areas, not every row.
    rows = session.execute(
        text(
            """
        SELECT o.code AS from_code, n.code AS to_code, m.n
        FROM (SELECT old_grid_id, new_grid_id, count(*) AS n FROM assignment_changes
              GROUP BY old_grid_id, new_grid_id) m
        LEFT JOIN areas o ON o.id = m.old_grid_id
        LEFT JOIN areas n ON n.id = m.new_grid_id
        ORDER BY m.n DESC, o.code NULLS FIRST, n.code NULLS FIRST
        """
        )
    )
    return [Move(r.from_code, r.to_code, r.n) for r in rows]


def _apply_changes(session: Session, now: datetime) -> None:
    session.execute(
        text(
            "DELETE FROM household_grid cur USING assignment_changes ch "
            "WHERE cur.household_id = ch.household_id AND ch.new_grid_id IS NULL"
        )
    )
    session.execute(
        text(
            "INSERT INTO household_grid (household_id, grid_id, valid_from) "
            "SELECT household_id, new_grid_id, :now FROM assignment_changes "
            "WHERE new_grid_id IS NOT NULL ON CONFLICT (household_id) "
            "DO UPDATE SET grid_id = EXCLUDED.grid_id, valid_from = EXCLUDED.valid_from"
        ),
        {"now": now},
    )


def _assign_candidates(session: Session, where_sql: str, params: dict) -> None:
    """Fill ``candidate_households`` with the households matching ``where_sql`` (on ``h``),
    and ``fresh_assignment`` with the grid of each (none for the uncovered)."""
    # Before reading household_grid: wait for a bulk rebuild (EXCLUSIVE, then dropping the
    # table) instead of holding a read lock it must wait for while we wait for it.
    session.execute(text("LOCK TABLE household_grid IN ROW EXCLUSIVE MODE"))
    _create_fresh_table(session)
    session.execute(text("DROP TABLE IF EXISTS candidate_households"))
    session.execute(
        text(
            f"""
            CREATE TEMP TABLE candidate_households ON COMMIT DROP AS
            SELECT h.id AS household_id, h.geom FROM households h WHERE {where_sql}
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


def compute_in_region(session: Session, region_ewkt: str) -> None:
    """Assign the households inside a region (e.g. the part of the map an edit changed)."""
    _assign_candidates(
        session, "ST_Intersects(h.geom, ST_GeomFromEWKT(:region))", {"region": region_ewkt}
    )


def compute_for_households(session: Session, household_ids_sql: str, params: dict) -> None:
    """Assign the households selected by a subquery returning ids (e.g. a fresh import)."""
    _assign_candidates(session, f"h.id IN ({household_ids_sql})", params)


def apply_fresh_assignment(session: Session, *, now: datetime) -> AssignmentResult:
    """Write the differences between ``fresh_assignment`` and ``household_grid`` for the
    ``candidate_households``: old periods closed into the history, current rows replaced
    (or removed when the household became uncovered).  Only changed households are touched.
    """
    session.execute(text("DROP TABLE IF EXISTS assignment_changes"))
    session.execute(
        text(
            """
            CREATE TEMP TABLE assignment_changes ON COMMIT DROP AS
            SELECT c.household_id,
                   cur.grid_id AS old_grid_id, cur.valid_from AS old_valid_from,
                   f.grid_id AS new_grid_id
            FROM candidate_households c
            LEFT JOIN household_grid cur ON cur.household_id = c.household_id
            LEFT JOIN fresh_assignment f ON f.household_id = c.household_id
            WHERE cur.grid_id IS DISTINCT FROM f.grid_id
            """
        )
    )
    _close_history(session, now)
    _apply_changes(session, now)
    candidates, assigned = session.execute(
        text(
            "SELECT (SELECT count(*) FROM candidate_households), "
            "(SELECT count(*) FROM fresh_assignment)"
        )
    ).one()
    moves = _moves(session)
    return AssignmentResult(
        candidates=candidates,
        assigned=assigned,
        uncovered=candidates - assigned,
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
                       c.id AS community_id, c.parent_id AS street_id,
                       (SELECT min(w.user_id) FROM worker_grids w JOIN users u
                        ON u.id = w.user_id AND u.active WHERE w.grid_id = g.id) AS worker_id
                FROM incidents i
                LEFT JOIN LATERAL (
                    SELECT g.id, g.parent_id FROM areas g
                    WHERE g.level = 'grid' AND g.valid_to IS NULL
                      AND ST_Intersects(g.geom, i.geom)
                    ORDER BY g.code LIMIT 1
                ) g ON true
                -- The grid's community; for a point now in no grid, the community around it.
                LEFT JOIN LATERAL (
                    SELECT c.id, c.parent_id FROM areas c
                    WHERE c.level = 'community' AND c.valid_to IS NULL
                      AND (c.id = g.parent_id OR (g.id IS NULL AND ST_Intersects(c.geom, i.geom)))
                    ORDER BY c.code LIMIT 1
                ) c ON true
                WHERE i.status NOT IN {CLOSED_STATUSES}
                  AND ST_Intersects(i.geom, ST_GeomFromEWKT(:region))
            ), updated AS (
                -- Whoever answers for the new grid takes the case over.
                UPDATE incidents i
                SET grid_id = r.new_grid_id, community_id = r.community_id,
                    street_id = r.street_id, worker_id = r.worker_id
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
