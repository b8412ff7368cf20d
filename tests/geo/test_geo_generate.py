"""Generated grids: exact cover of the parent, slivers merged, balanced grids made of units."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely import box

from geo import crs as geocrs
from geo.generate import balanced_cells, hexagon_cells, merge_slivers, square_cells

AREA = box(106.0, 31.0, 106.021, 31.019)


def assert_exact_cover(cells, parent=AREA) -> None:
    union = shapely.union_all(cells)
    assert union.symmetric_difference(parent).area < 1e-7 * parent.area
    assert sum(c.area for c in cells) == pytest.approx(parent.area, rel=1e-7)


@pytest.mark.parametrize("make", [lambda: square_cells(AREA, 400), lambda: hexagon_cells(AREA, 9)])
def test_square_and_hexagon_grids_cover_exactly_without_slivers(make):
    cells = make()
    assert_exact_cover(cells)
    nominal = 400 * 400 if len(cells) < 40 else None
    if nominal:
        assert min(geocrs.area_m2(np.asarray(cells, dtype=object))) >= 0.2 * nominal


def test_a_sliver_joins_the_neighbour_with_the_longest_shared_edge():
    big_west = box(106.0, 31.0, 106.01, 31.01)
    small = box(106.01, 31.009, 106.0101, 31.01)  # shares 0.001 deg with west, 0.0005 with east
    east = box(106.0101, 31.0, 106.02, 31.0095)
    merged = merge_slivers([big_west, small, east], nominal_m2=1e6)
    assert len(merged) == 2
    assert merged[0].equals(shapely.union(big_west, small))
    assert merged[1].equals(east)


def test_balanced_grids_are_unions_of_whole_units_and_near_the_target():
    rng = np.random.default_rng(7)
    points = np.column_stack([rng.normal(106.008, 0.004, 900), rng.normal(31.01, 0.004, 900)])
    points = points[shapely.contains_xy(AREA, points[:, 0], points[:, 1])]
    grids = balanced_cells(AREA, points, 150, np.random.default_rng(3))
    assert_exact_cover(grids)
    assert len(grids) == round(len(points) / 150)
    units = hexagon_cells(AREA, 10)
    for unit in units:
        homes = [g for g in grids if g.intersection(unit).area > 1e-6 * unit.area]
        assert len(homes) == 1, "a unit is split between grids"
    counts = np.bincount(
        [next(i for i, g in enumerate(grids) if g.covers(shapely.Point(p))) for p in points],
        minlength=len(grids),
    )
    assert counts.min() > 0.4 * 150 and counts.max() < 1.9 * 150
