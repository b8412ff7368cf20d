"""The coverage report finds each planted fault, with its size checked independently."""

from __future__ import annotations

import pytest
from pyproj import Geod
from shapely import box
from sqlalchemy import text

from app.errors import NotFound
from app.services.coverage import coverage_report
from tests.factories import STEP, X0, Y0, add_households, add_user, build_world

GEOD = Geod(ellps="WGS84")


def geodesic_area(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def set_geom(session, area, geom) -> None:
    session.execute(
        text("UPDATE areas SET geom = ST_Multi(ST_GeomFromText(:w, 4326)) WHERE id = :id"),
        {"w": geom.wkt, "id": area.id},
    )


def test_a_clean_world_reports_only_staffing_and_uncovered_households(session):
    world = build_world(session)
    add_user(session, "w1", "worker", grids=[world.grids["NW"], world.grids["NE"]])
    add_households(session, [(X0 - 0.01, Y0 - 0.01)])
    report = coverage_report(session, world.community.code)
    assert (report.overlaps, report.gaps, report.outside_parent) == ([], [], [])
    assert [g["code"] for g in report.grids_without_worker] == [
        world.grids["SW"].code,
        world.grids["SE"].code,
    ]
    # The household lies outside the community: the community report does not count it.
    assert report.uncovered_households == 0
    assert coverage_report(session).uncovered_households == 1


def test_overlap_gap_and_outside_parent_are_found_with_their_areas(session):
    world = build_world(session)
    # SE grows 0.002 degrees west into SW and 0.001 degrees east out of the community;
    # NE is shrunk to its western half, leaving a gap.
    set_geom(
        session, world.grids["SE"], box(X0 + STEP - 0.002, Y0, X0 + 2 * STEP + 0.001, Y0 + STEP)
    )
    set_geom(session, world.grids["NE"], box(X0 + STEP, Y0 + STEP, X0 + 1.5 * STEP, Y0 + 2 * STEP))
    report = coverage_report(session, world.community.code)

    [overlap] = report.overlaps
    assert {overlap["a"], overlap["b"]} == {world.grids["SW"].code, world.grids["SE"].code}
    assert overlap["area_m2"] == pytest.approx(
        geodesic_area(box(X0 + STEP - 0.002, Y0, X0 + STEP, Y0 + STEP)), rel=2e-3
    )

    [outside] = report.outside_parent
    assert outside["code"] == world.grids["SE"].code
    assert outside["area_m2"] == pytest.approx(
        geodesic_area(box(X0 + 2 * STEP, Y0, X0 + 2 * STEP + 0.001, Y0 + STEP)), rel=2e-3
    )

    [gap] = report.gaps
    expected_gap = box(X0 + 1.5 * STEP, Y0 + STEP, X0 + 2 * STEP, Y0 + 2 * STEP)
    assert gap["area_m2"] == pytest.approx(geodesic_area(expected_gap), rel=2e-3)
    assert gap["centroid"] == pytest.approx(
        [expected_gap.centroid.x, expected_gap.centroid.y], abs=1e-6
    )
    assert gap["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_an_unknown_area_is_not_found(session):
    build_world(session)
    with pytest.raises(NotFound):
        coverage_report(session, "999")
