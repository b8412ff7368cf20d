"""Bulk and incremental assignment in PostGIS, on a 2x2 block of known grids."""

from __future__ import annotations

from shapely import box
from sqlalchemy import func, select, text

from app.models import HouseholdGridHistory
from app.services import assignment
from tests.factories import STEP, X0, Y0, add_households, build_world, current_grid_codes

NW, NE, SW, SE = (f"511381001001{i:03d}" for i in range(1, 5))


def test_bulk_assigns_each_household_to_the_grid_covering_it(session):
    build_world(session)
    ids = add_households(
        session,
        [
            (X0 + 0.005, Y0 + 0.015),  # NW
            (X0 + 0.015, Y0 + 0.015),  # NE
            (X0 + 0.005, Y0 + 0.005),  # SW
            (X0 + 0.015, Y0 + 0.005),  # SE
            (X0 + 0.015, Y0 + 0.006),  # SE
            (X0 - 0.02, Y0 - 0.02),  # in the district, in no grid
        ],
    )
    result = assignment.assign_all(session)
    assert (result.candidates, result.assigned, result.uncovered, result.moved) == (6, 5, 1, 5)
    assert current_grid_codes(session, ids) == dict(zip(ids, [NW, NE, SW, SE, SE, None]))
    moves = {(m.from_grid, m.to_grid): m.households for m in result.moves}
    assert moves == {(None, NW): 1, (None, NE): 1, (None, SW): 1, (None, SE): 2}


def test_points_on_shared_edges_and_corners_go_to_the_smallest_code(session):
    build_world(session)
    ids = add_households(
        session,
        [
            (X0 + STEP, Y0 + 0.015),  # edge NW|NE
            (X0 + 0.015, Y0 + STEP),  # edge NE|SE
            (X0 + STEP, Y0 + STEP),  # corner of all four
            (X0 + 0.015, Y0 + 2 * STEP),  # outer edge of NE only
        ],
    )
    assignment.assign_all(session)
    assert current_grid_codes(session, ids) == dict(zip(ids, [NW, NE, NW, NE]))


def test_second_bulk_run_moves_nothing_and_writes_no_history(session):
    build_world(session)
    add_households(session, [(X0 + 0.005, Y0 + 0.005)] * 3)
    assignment.assign_all(session)
    again = assignment.assign_all(session)
    assert (again.assigned, again.moved, again.moves) == (3, 0, [])
    assert session.scalar(select(func.count()).select_from(HouseholdGridHistory)) == 0


def test_incremental_reassignment_touches_only_the_changed_region(session):
    world = build_world(session)
    in_strip = add_households(session, [(X0 + 0.0125, Y0 + 0.005)] * 4)  # SE, x in (0.011, 0.014)
    elsewhere = add_households(session, [(X0 + 0.005, Y0 + 0.015), (X0 + 0.018, Y0 + 0.005)])
    assignment.assign_all(session)

    # Move the SW|SE edge east by 0.004 degrees: the strip [0.010, 0.014] becomes SW.
    sym = session.scalar(
        text("SELECT ST_AsEWKT(ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))"),
        {"x0": X0 + STEP, "y0": Y0, "x1": X0 + 0.014, "y1": Y0 + STEP},
    )
    session.execute(
        text("UPDATE areas SET geom = ST_Multi(ST_GeomFromText(:wkt, 4326)) WHERE id = :id"),
        [
            {"id": world.grids["SW"].id, "wkt": box(X0, Y0, X0 + 0.014, Y0 + STEP).wkt},
            {"id": world.grids["SE"].id, "wkt": box(X0 + 0.014, Y0, X0 + 0.02, Y0 + STEP).wkt},
        ],
    )
    result = assignment.reassign_region(session, sym)
    assert result.households.candidates == 4
    assert result.households.moved == 4
    assert [(m.from_grid, m.to_grid, m.households) for m in result.households.moves] == [
        (SE, SW, 4)
    ]
    codes = current_grid_codes(session, in_strip + elsewhere)
    assert [codes[i] for i in in_strip] == [SW] * 4
    assert [codes[i] for i in elsewhere] == [NW, SE]
    history = session.execute(
        select(HouseholdGridHistory.household_id, HouseholdGridHistory.grid_id)
    ).all()
    assert sorted(h for h, _ in history) == sorted(in_strip)
    assert {g for _, g in history} == {world.grids["SE"].id}


def test_retiring_a_grid_leaves_its_households_uncovered(session):
    world = build_world(session)
    ids = add_households(session, [(X0 + 0.005, Y0 + 0.015)] * 2)
    assignment.assign_all(session)
    nw = world.grids["NW"]
    region = session.scalar(select(func.ST_AsEWKT(nw.geom)))
    session.execute(
        text("UPDATE areas SET valid_to = now() + interval '1 second' WHERE id = :id"),
        {"id": nw.id},
    )
    result = assignment.reassign_region(session, region)
    assert (result.households.uncovered, result.households.moved) == (2, 2)
    assert current_grid_codes(session, ids) == {i: None for i in ids}


def test_assign_area_reassigns_inside_that_area_only(session):
    world = build_world(session)
    ids = add_households(session, [(X0 + 0.005, Y0 + 0.005)])
    result = assignment.assign_area(session, world.community.code)
    assert result.households.assigned == 1
    assert current_grid_codes(session, ids) == {ids[0]: SW}


def test_a_bulk_run_that_moves_most_households_rebuilds_the_table_and_keeps_its_keys(session):
    """Above 5% changed, household_grid is rebuilt and swapped in; its schema must survive."""
    world = build_world(session)
    ids = add_households(session, [(X0 + 0.005, Y0 + 0.005)] * 3 + [(X0 + 0.005, Y0 + 0.015)])
    assignment.assign_all(session)
    kept_since = session.scalar(
        text("SELECT valid_from FROM household_grid WHERE household_id = :id"), {"id": ids[3]}
    )
    # SW and SE swap places: the three SW households now lie in SE.
    sw, se = world.grids["SW"], world.grids["SE"]
    session.execute(
        text("UPDATE areas SET geom = ST_Translate(geom, :dx, 0) WHERE id = :id"),
        [{"dx": STEP, "id": sw.id}, {"dx": -STEP, "id": se.id}],
    )
    result = assignment.assign_all(session)
    assert (result.moved, [(m.from_grid, m.to_grid) for m in result.moves]) == (3, [(SW, SE)])
    assert current_grid_codes(session, ids) == dict(zip(ids, [SE, SE, SE, NW]))
    assert (
        session.scalar(
            text("SELECT valid_from FROM household_grid WHERE household_id = :id"), {"id": ids[3]}
        )
        == kept_since
    )
    assert session.scalar(select(func.count()).select_from(HouseholdGridHistory)) == 3
    constraints = set(
        session.scalars(
            text("SELECT conname FROM pg_constraint WHERE conrelid = 'household_grid'::regclass")
        )
    )
    assert constraints == {
        "pk_household_grid",
        "fk_household_grid_household_id_households",
        "fk_household_grid_grid_id_areas",
    }
    indexes = set(
        session.scalars(text("SELECT indexname FROM pg_indexes WHERE tablename = 'household_grid'"))
    )
    assert indexes == {"pk_household_grid", "ix_household_grid_grid_id"}
    # The foreign key still cascades: deleting a household removes its assignment.
    session.execute(
        text("DELETE FROM household_grid_history WHERE household_id = :id"), {"id": ids[0]}
    )
    session.execute(text("DELETE FROM households WHERE id = :id"), {"id": ids[0]})
    assert session.scalar(text("SELECT count(*) FROM household_grid")) == 3


def test_open_incidents_in_a_changed_region_change_grid_worker_and_street(session):
    from app.models import Incident, IncidentCategory
    from tests.factories import add_user

    world = build_world(session)
    ne_worker = add_user(session, "ne-worker", "worker", grids=[world.grids["NE"]])
    category = IncidentCategory(code="x", name="x", deadline_days=3)
    session.add(category)
    session.flush()
    point = f"SRID=4326;POINT({X0 + 0.0125} {Y0 + 0.015})"  # in NE, in the strip NW will take
    session.add_all(
        [
            Incident(
                geom=point,
                category_id=category.id,
                description="open",
                channel="web",
                status="dispatched",
                grid_id=world.grids["NE"].id,
                worker_id=ne_worker.id,
                community_id=world.community.id,
                street_id=world.street.id,
            ),
            Incident(
                geom=point,
                category_id=category.id,
                description="closed",
                channel="web",
                status="closed",
                grid_id=world.grids["NE"].id,
                worker_id=ne_worker.id,
            ),
        ]
    )
    session.flush()
    session.execute(
        text("UPDATE areas SET geom = ST_Multi(ST_GeomFromText(:wkt, 4326)) WHERE id = :id"),
        [
            {"id": world.grids["NW"].id, "wkt": box(X0, Y0 + STEP, X0 + 0.014, Y0 + 2 * STEP).wkt},
            {
                "id": world.grids["NE"].id,
                "wkt": box(X0 + 0.014, Y0 + STEP, X0 + 2 * STEP, Y0 + 2 * STEP).wkt,
            },
        ],
    )
    strip = f"SRID=4326;{box(X0 + STEP, Y0 + STEP, X0 + 0.014, Y0 + 2 * STEP).wkt}"
    result = assignment.reassign_region(session, strip)
    assert [(m.from_grid, m.to_grid, m.households) for m in result.incidents] == [(NE, NW, 1)]
    rows = session.execute(
        text(
            "SELECT description, grid_id, worker_id, street_id FROM incidents ORDER BY description"
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        ("closed", world.grids["NE"].id, ne_worker.id, None),  # closed cases stay as they were
        ("open", world.grids["NW"].id, None, world.street.id),  # NW has no worker
    ]
