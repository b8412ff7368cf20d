"""``grid_counts`` stays equal to a count made from scratch, whatever wrote the households or
their assignments: both bulk paths (which swap ``household_grid`` for a rebuilt table),
incremental reassignment, tag edits and deletions."""

from __future__ import annotations

from shapely import box
from sqlalchemy import text

from app.models import VULNERABLE_TAGS
from app.services import assignment
from tests.factories import STEP, X0, Y0, add_households, build_world

SW_POINT = (X0 + 0.005, Y0 + 0.005)
NE_POINT = (X0 + 0.015, Y0 + 0.015)


def from_scratch(session) -> dict[int, tuple[int, int]]:
    """(households, vulnerable) of every grid, counted here without the table."""
    rows = session.execute(
        text(
            """
            SELECT g.id, count(h.id) AS households,
                   count(h.id) FILTER (WHERE h.tags && CAST(:tags AS varchar[])) AS vulnerable
            FROM areas g
            LEFT JOIN household_grid hg ON hg.grid_id = g.id
            LEFT JOIN households h ON h.id = hg.household_id
            WHERE g.level = 'grid' GROUP BY g.id
            """
        ),
        {"tags": list(VULNERABLE_TAGS)},
    )
    return {r.id: (r.households, r.vulnerable) for r in rows}


def kept(session) -> dict[int, tuple[int, int]]:
    rows = session.execute(text("SELECT grid_id, households, vulnerable FROM grid_counts"))
    return {r.grid_id: (r.households, r.vulnerable) for r in rows}


def counts_of(session, world, key: str) -> tuple[int, int]:
    return kept(session).get(world.grids[key].id, (0, 0))


def household_grid_triggers(session) -> set[str]:
    return set(
        session.scalars(
            text(
                "SELECT tgname FROM pg_trigger "
                "WHERE tgrelid = 'household_grid'::regclass AND NOT tgisinternal"
            )
        )
    )


def household_grid_columns(session) -> list[str]:
    return session.scalars(
        text(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'household_grid' ORDER BY ordinal_position"
        )
    ).all()


def test_the_database_knows_the_same_vulnerable_tags_as_the_code(session):
    assert tuple(session.scalar(text("SELECT wangge_vulnerable_tags()"))) == VULNERABLE_TAGS
    # parallel safe ('s'), or the bulk assignment that calls it would lose its parallel plan
    assert (
        session.scalar(
            text("SELECT proparallel FROM pg_proc WHERE proname = 'wangge_vulnerable_tags'")
        )
        == "s"
    )


def test_bulk_assignment_from_empty_counts_every_grid_and_keeps_the_triggers(session):
    world = build_world(session)
    add_households(session, [SW_POINT] * 3)
    add_households(session, [SW_POINT], tags=["disabled"])
    add_households(session, [NE_POINT] * 2, tags=["low_income", "party_member"])
    add_households(session, [(X0 - 0.02, Y0 - 0.02)], tags=["disabled"])  # in no grid
    before = household_grid_triggers(session)
    assignment.assign_all(session)
    # the rebuilt table has the columns the migrations made, in their order
    assert household_grid_columns(session) == ["household_id", "grid_id", "valid_from"]
    assert counts_of(session, world, "SW") == (4, 1)
    assert counts_of(session, world, "NE") == (2, 2)
    assert counts_of(session, world, "NW") == (0, 0)
    assert kept(session) == from_scratch(session)
    assert (
        before
        == household_grid_triggers(session)
        == {
            "grid_counts_inserted",
            "grid_counts_deleted",
            "grid_counts_updated",
        }
    )


def test_a_bulk_rebuild_of_a_full_table_recounts(session):
    world = build_world(session)
    add_households(session, [SW_POINT] * 5, tags=["elderly_alone"])
    assignment.assign_all(session)
    # Every household moves: SW now covers the whole block, the others retire.
    session.execute(
        text("UPDATE areas SET valid_to = valid_from + interval '1 second' WHERE id = ANY(:ids)"),
        {"ids": [world.grids[k].id for k in ("NW", "NE", "SE")]},
    )
    session.execute(
        text("UPDATE areas SET geom = ST_Multi(ST_GeomFromText(:wkt, 4326)) WHERE id = :id"),
        {"id": world.grids["SW"].id, "wkt": box(X0, Y0, X0 + 2 * STEP, Y0 + 2 * STEP).wkt},
    )
    add_households(session, [NE_POINT] * 7)
    result = assignment.assign_all(session)
    assert result.moved == 7  # all new: more than 5% of the table, so it is rebuilt
    assert counts_of(session, world, "SW") == (12, 5)
    assert kept(session) == from_scratch(session)
    assert len(household_grid_triggers(session)) == 3
    assert household_grid_columns(session) == ["household_id", "grid_id", "valid_from"]


def test_incremental_reassignment_moves_the_counts(session):
    world = build_world(session)
    add_households(session, [(X0 + 0.0125, Y0 + 0.005)] * 4, tags=["left_behind_child"])
    add_households(session, [(X0 + 0.018, Y0 + 0.005)] * 2)
    assignment.assign_all(session)
    assert counts_of(session, world, "SE") == (6, 4)
    # Move the SW|SE edge east: the strip at x = 0.0125 becomes SW.
    session.execute(
        text("UPDATE areas SET geom = ST_Multi(ST_GeomFromText(:wkt, 4326)) WHERE id = :id"),
        [
            {"id": world.grids["SW"].id, "wkt": box(X0, Y0, X0 + 0.014, Y0 + STEP).wkt},
            {"id": world.grids["SE"].id, "wkt": box(X0 + 0.014, Y0, X0 + 0.02, Y0 + STEP).wkt},
        ],
    )
    region = session.scalar(
        text("SELECT ST_AsEWKT(ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))"),
        {"x0": X0 + STEP, "y0": Y0, "x1": X0 + 0.014, "y1": Y0 + STEP},
    )
    assignment.reassign_region(session, region)
    assert counts_of(session, world, "SW") == (4, 4)
    assert counts_of(session, world, "SE") == (2, 0)
    assert kept(session) == from_scratch(session)


def test_tag_edits_change_the_vulnerable_count_only_when_the_status_changes(session):
    world = build_world(session)
    ids = add_households(session, [SW_POINT] * 3, tags=["party_member"])
    assignment.assign_all(session)
    assert counts_of(session, world, "SW") == (3, 0)
    session.execute(
        text("UPDATE households SET tags = ARRAY['disabled'] WHERE id = ANY(:ids)"),
        {"ids": ids[:2]},
    )
    assert counts_of(session, world, "SW") == (3, 2)
    session.execute(
        text("UPDATE households SET tags = ARRAY['disabled', 'low_income'] WHERE id = :id"),
        {"id": ids[0]},
    )
    session.execute(text("UPDATE households SET address = 'x' WHERE id = :id"), {"id": ids[2]})
    assert counts_of(session, world, "SW") == (3, 2)
    session.execute(text("UPDATE households SET tags = '{}' WHERE id = :id"), {"id": ids[1]})
    assert counts_of(session, world, "SW") == (3, 1)
    assert kept(session) == from_scratch(session)


def test_deleting_households_takes_them_off_their_grid(session):
    world = build_world(session)
    ids = add_households(session, [NE_POINT] * 3, tags=["elderly_alone"])
    add_households(session, [NE_POINT])
    assignment.assign_all(session)
    session.execute(text("DELETE FROM households WHERE id = ANY(:ids)"), {"ids": ids[:2]})
    assert counts_of(session, world, "NE") == (2, 1)
    assert kept(session) == from_scratch(session)


def test_a_statement_that_changes_no_assignment_recounts_nothing(session):
    world = build_world(session)
    add_households(session, [SW_POINT] * 2)
    assignment.assign_all(session)
    # Tamper with the stored count: only a recount of SW would put it right.
    session.execute(
        text("UPDATE grid_counts SET households = 99 WHERE grid_id = :id"),
        {"id": world.grids["SW"].id},
    )
    session.execute(text("DELETE FROM household_grid WHERE grid_id = -1"))
    session.execute(text("UPDATE households SET address = 'y'"))
    assert counts_of(session, world, "SW") == (99, 0)
