"""Two planners at the same moment, on real concurrent transactions (committed data).

These tests cannot run inside the usual rolled-back transaction: each thread needs its own
connection and its own commit. They build a world, commit it, and remove it afterwards.
"""

from __future__ import annotations

import threading

import pytest
import shapely
from shapely import box
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from app.errors import Conflict, PreconditionFailed
from app.services import areas
from tests.factories import STEP, X0, Y0, build_world

C = "511381001001"
NE, SE = f"{C}002", f"{C}004"
TABLES = (
    "areas, area_versions, households, household_grid, household_grid_history, "
    "assignment_runs, users"
)


@pytest.fixture
def engine(app, database_url):
    engine = create_engine(database_url, pool_size=4)
    with Session(engine) as session:
        build_world(session)
        session.execute(text("DELETE FROM areas WHERE code = :c"), {"c": NE})
        session.commit()
    yield engine
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    engine.dispose()


def race(engine, *jobs):
    """Run each job(session) in its own thread and transaction, released at the same instant."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[object] = [None] * len(jobs)

    def run(i, job):
        with Session(engine) as session:
            barrier.wait()
            try:
                outcomes[i] = job(session)
            except (Conflict, PreconditionFailed) as exc:
                outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def live_overlaps(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(
            text(
                "SELECT count(*) FROM areas a JOIN areas b ON a.id < b.id "
                "AND a.level = 'grid' AND b.level = 'grid' AND a.valid_to IS NULL "
                "AND b.valid_to IS NULL AND ST_Relate(a.geom, b.geom, '2********')"
            )
        )


@pytest.mark.parametrize("attempt", range(3))
def test_adjacent_drawings_at_the_same_moment_never_commit_an_overlap(engine, attempt):
    # Two planners each draw two thirds of the empty NE cell: either alone is fine.
    west_two_thirds = box(X0 + STEP, Y0 + STEP, X0 + STEP + 2 * STEP / 3, Y0 + 2 * STEP)
    east_two_thirds = box(X0 + STEP + STEP / 3, Y0 + STEP, X0 + 2 * STEP, Y0 + 2 * STEP)

    def draw(geom):
        return lambda session: areas.create_area(
            session,
            None,
            level="grid",
            parent_code=C,
            geometry=shapely.geometry.mapping(geom),
            max_vertices=10_000,
        )

    outcomes = race(engine, draw(west_two_thirds), draw(east_two_thirds))
    assert sorted(type(o).__name__ for o in outcomes) == ["AreaChange", "Conflict"]
    assert live_overlaps(engine) == 0


def test_the_same_grid_edited_twice_at_once_gives_one_success_and_one_412(engine):
    shrunk = shapely.geometry.mapping(box(X0 + 1.5 * STEP, Y0, X0 + 2 * STEP, Y0 + STEP))
    renamed = "重新命名"

    def edit(**change):
        return lambda session: areas.update_area(
            session, None, SE, 1, max_vertices=10_000, **change
        )

    outcomes = race(engine, edit(geometry=shrunk), edit(name=renamed))
    kinds = sorted(type(o).__name__ for o in outcomes)
    assert kinds == ["AreaChange", "PreconditionFailed"]
    failed = next(o for o in outcomes if isinstance(o, PreconditionFailed))
    assert failed.details == {"current_version": 2}
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT version FROM areas WHERE code = :c"), {"c": SE}) == 2
