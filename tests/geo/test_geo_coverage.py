"""Coverage fixtures are drawn in degrees near Langzhong (lat 31.5), where 0.01 degrees is about
950 m east-west and 1109 m north-south; areas are checked against the area of the expected shape
measured independently, and against rough figures in square metres."""

from __future__ import annotations

import math

import numpy as np
import pyproj
import pytest
import shapely

from geo.coverage import Gap, Outside, Overlap, children_outside, find_gaps, find_overlaps

LON, LAT = 106.0, 31.5
STEP = 0.01
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT))
GEOD = pyproj.Geod(ellps="WGS84")


def geodesic_area(geom: shapely.Geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0])


def cell(col: float, row: float, width: float = 1.0, height: float = 1.0) -> shapely.Polygon:
    """A rectangle of ``width`` x ``height`` cells whose south-west corner is cell (col, row)."""
    x, y = LON + col * STEP, LAT + row * STEP
    return shapely.box(x, y, x + width * STEP, y + height * STEP)


def tiling(shift: float = 0.0) -> np.ndarray:
    """A 2 x 2 tiling; the south-west cell moved ``shift`` cells east."""
    return np.array([cell(shift, 0), cell(1, 0), cell(0, 1), cell(1, 1)], dtype=object)


IDS = ["sw", "se", "nw", "ne"]
PARENT = cell(0, 0, 2, 2)


def test_a_clean_tiling_has_no_overlaps_no_gaps_and_nothing_outside() -> None:
    assert find_overlaps(tiling(), IDS) == []
    assert find_gaps(PARENT, tiling()) == []
    assert children_outside(PARENT, tiling(), IDS) == []


def test_a_shifted_cell_overlaps_its_neighbour_by_the_exact_area() -> None:
    overlaps = find_overlaps(tiling(shift=0.1), IDS)
    assert len(overlaps) == 1
    (overlap,) = overlaps
    assert isinstance(overlap, Overlap)
    assert (overlap.a_id, overlap.b_id) == ("sw", "se")
    expected = cell(1, 0, 0.1, 1)
    assert overlap.geometry.normalize().equals_exact(expected.normalize(), 1e-12)
    assert overlap.area_m2 == pytest.approx(geodesic_area(expected), rel=1e-3)
    assert overlap.area_m2 == pytest.approx(0.1 * STEP * M_PER_DEG_LON * 1109, rel=5e-3)


def test_overlap_threshold_is_in_square_metres() -> None:
    cells = tiling(shift=0.0005)  # a sliver about 0.5 m x 1109 m: 527 m2
    assert [round(o.area_m2, -1) for o in find_overlaps(cells, IDS)] == [530]
    assert find_overlaps(cells, IDS, min_area_m2=600.0) == []


def test_containment_is_an_overlap_and_touching_corners_are_not() -> None:
    big, inner, corner = cell(0, 0), cell(0.2, 0.2, 0.1, 0.1), cell(1, 1)
    overlaps = find_overlaps([big, inner, corner], ["big", "inner", "corner"])
    assert [(o.a_id, o.b_id) for o in overlaps] == [("big", "inner")]
    assert overlaps[0].area_m2 == pytest.approx(geodesic_area(inner), rel=1e-3)


def test_find_overlaps_checks_its_arguments() -> None:
    assert find_overlaps([], []) == []
    assert find_overlaps([cell(0, 0)], ["x"]) == []
    with pytest.raises(ValueError, match="ids"):
        find_overlaps(tiling(), IDS[:2])
    with pytest.raises(ValueError, match="min_area_m2"):
        find_overlaps(tiling(), IDS, min_area_m2=-1.0)
    with pytest.raises(ValueError, match="None"):
        find_overlaps([cell(0, 0), None], ["a", "b"])


def test_a_missing_cell_is_one_gap_of_known_area() -> None:
    children = tiling()[[0, 1, 3]]  # no north-west cell
    gaps = find_gaps(PARENT, children)
    assert len(gaps) == 1
    (gap,) = gaps
    assert isinstance(gap, Gap)
    assert gap.geometry.normalize().equals_exact(cell(0, 1).normalize(), 1e-12)
    assert gap.area_m2 == pytest.approx(geodesic_area(cell(0, 1)), rel=1e-3)
    assert gap.area_m2 == pytest.approx(STEP * M_PER_DEG_LON * 1109, rel=5e-3)
    assert gap.centroid == pytest.approx((LON + STEP / 2, LAT + 1.5 * STEP), abs=1e-12)


def test_gaps_are_found_when_children_overlap_too() -> None:
    # not a valid coverage (overlap), so the generic union is used
    children = tiling(shift=0.1)
    (gap,) = find_gaps(PARENT, children)
    assert gap.geometry.normalize().equals_exact(cell(0, 0, 0.1, 1).normalize(), 1e-12)
    assert find_gaps(PARENT, children, min_area_m2=200_000) == []


def test_gaps_are_sorted_largest_first_and_no_children_leave_the_parent() -> None:
    gaps = find_gaps(PARENT, [cell(0.5, 0, 1.4, 2)])
    expected = [cell(0, 0, 0.5, 2), cell(1.9, 0, 0.1, 2)]
    assert len(gaps) == 2
    for gap, shape in zip(gaps, expected, strict=True):
        assert gap.geometry.normalize().equals_exact(shape.normalize(), 1e-12)
        assert gap.area_m2 == pytest.approx(geodesic_area(shape), rel=1e-3)
    (everything,) = find_gaps(PARENT, [])
    assert everything.area_m2 == pytest.approx(geodesic_area(PARENT), rel=1e-3)


def test_a_child_ten_metres_out_is_flagged_and_one_twenty_centimetres_out_is_not() -> None:
    ten_m, twenty_cm = 10 / M_PER_DEG_LON / STEP, 0.2 / M_PER_DEG_LON / STEP  # in cells
    children = [cell(1, 0, 1 + ten_m, 1), cell(1, 1, 1 + twenty_cm, 1), cell(0, 1)]
    outside = children_outside(PARENT, children, ["far", "near", "in"])
    assert len(outside) == 1
    (finding,) = outside
    assert isinstance(finding, Outside)
    assert finding.id == "far"
    assert finding.area_m2 == pytest.approx(10 * 1109, rel=5e-3)
    assert finding.geometry.bounds == pytest.approx(cell(2, 0, ten_m, 1).bounds, abs=1e-9)
    flagged = children_outside(PARENT, children, ["far", "near", "in"], tolerance_m=0.1)
    assert [f.id for f in flagged] == ["far", "near"]
    assert flagged[1].area_m2 == pytest.approx(0.2 * 1109, rel=5e-3)


def test_children_outside_checks_its_arguments() -> None:
    assert children_outside(PARENT, [], []) == []
    with pytest.raises(ValueError, match="ids"):
        children_outside(PARENT, tiling(), ["a"])
    with pytest.raises(ValueError, match="tolerance_m"):
        children_outside(PARENT, tiling(), IDS, tolerance_m=float("nan"))


def test_long_straight_parent_edges_do_not_flag_children_lying_on_them() -> None:
    # 20 km edges, straight in degrees, bow by about 5 m in a metric projection
    county = cell(0, 0, 20, 20)
    children = [cell(0, 0, 10, 10), cell(10, 10, 10, 10), cell(9.5, 0, 1, 0.5)]
    assert children_outside(county, children, ["sw", "ne", "south edge"]) == []
    assert find_gaps(county, [*children[:2], cell(10, 0, 10, 10), cell(0, 10, 10, 10)]) == []
