from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.crs import area_m2
from geo.partition import (
    order_north_to_south_west_to_east,
    sample_points_in,
    square_grid,
    voronoi_partition,
)

# An irregular town boundary near Langzhong, with a hole (a lake), and an L-shaped area whose
# arms make some Voronoi cells come out in two pieces.
TOWN = shapely.Polygon(
    [(105.90, 31.50), (106.02, 31.48), (106.08, 31.55), (106.03, 31.62), (105.95, 31.60)],
    [[(105.99, 31.54), (106.01, 31.54), (106.00, 31.56), (105.99, 31.54)]],
)
L_SHAPE = shapely.Polygon(
    [(106.0, 31.5), (106.1, 31.5), (106.1, 31.51), (106.01, 31.51), (106.01, 31.6), (106.0, 31.6)]
)


def assert_partition(polygon: shapely.Geometry, cells: np.ndarray) -> None:
    """The cells cover the polygon exactly and do not overlap."""
    union = shapely.union_all(cells)
    assert shapely.symmetric_difference(union, polygon).area < 1e-6 * polygon.area
    left, right = shapely.STRtree(cells).query(cells, predicate="intersects")
    pairs = left < right
    shared = shapely.area(shapely.intersection(cells[left[pairs]], cells[right[pairs]]))
    assert (shared < 1e-9 * polygon.area).all()
    assert set(shapely.get_type_id(cells)) <= {3, 6}  # polygons only


# --- Voronoi ---------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 60))
def test_voronoi_cells_partition_the_polygon_and_hold_their_seeds(seed: int, n: int) -> None:
    polygon = TOWN if seed % 2 else L_SHAPE
    seeds = sample_points_in(polygon, n, np.random.default_rng(seed))
    cells = voronoi_partition(polygon, seeds)
    assert cells.shape == (n,)
    assert_partition(polygon, cells)
    assert shapely.covers(cells, shapely.points(seeds)).all()


def test_a_cell_cut_in_two_by_the_polygon_is_a_multipolygon() -> None:
    two_parts = shapely.MultiPolygon(
        [shapely.box(106.0, 31.5, 106.01, 31.51), shapely.box(106.03, 31.5, 106.04, 31.51)]
    )
    cells = voronoi_partition(two_parts, [[106.002, 31.505], [106.008, 31.505]])
    assert_partition(two_parts, cells)
    assert [c.geom_type for c in cells] == ["Polygon", "MultiPolygon"]
    assert cells[1].area == pytest.approx(0.005 * 0.01 + 0.01 * 0.01)


def test_voronoi_edge_cases() -> None:
    (only,) = voronoi_partition(TOWN, [[106.0, 31.52]])
    assert only.equals(TOWN)
    assert voronoi_partition(TOWN, np.empty((0, 2))).shape == (0,)
    on_boundary = voronoi_partition(shapely.box(0, 0, 2, 1), [[0, 0], [2, 1]])
    assert_partition(shapely.box(0, 0, 2, 1), on_boundary)


@pytest.mark.parametrize(
    ("seeds", "message"),
    [
        ([[106.0, 31.52], [106.0, 31.52]], "distinct"),
        ([[106.0, 31.52], [107.0, 31.52]], "seed 1 .* outside"),
        ([[106.0, 31.52, 0.0]], r"\(n, 2\)"),
        ([[np.nan, 31.52]], "finite"),
    ],
)
def test_voronoi_refuses_bad_seeds(seeds: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        voronoi_partition(TOWN, seeds)


def test_voronoi_refuses_what_is_not_an_area() -> None:
    with pytest.raises(TypeError):
        voronoi_partition(shapely.Point(0, 0), [[0, 0]])
    with pytest.raises(ValueError, match="no area"):
        voronoi_partition(shapely.Polygon(), [[0, 0]])


# --- sampling --------------------------------------------------------------------------------


def test_uniform_sampling_is_deterministic_and_inside() -> None:
    first = sample_points_in(TOWN, 5000, np.random.default_rng(42))
    again = sample_points_in(TOWN, 5000, np.random.default_rng(42))
    other = sample_points_in(TOWN, 5000, np.random.default_rng(43))
    assert first.shape == (5000, 2)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert shapely.contains_xy(TOWN, first[:, 0], first[:, 1]).all()
    lake = shapely.Polygon(TOWN.interiors[0])
    assert not shapely.contains_xy(lake, first[:, 0], first[:, 1]).any()


def test_uniform_sampling_is_roughly_uniform() -> None:
    points = sample_points_in(
        shapely.box(106.0, 31.5, 106.1, 31.6), 20_000, np.random.default_rng(1)
    )
    west = (points[:, 0] < 106.05).mean()
    assert west == pytest.approx(0.5, abs=0.02)


def test_clustered_sampling_is_deterministic_inside_and_clustered() -> None:
    clusters = [(106.0, 31.55, 300.0, 3.0), (106.05, 31.52, 800.0, 1.0)]
    first = sample_points_in(TOWN, 4000, np.random.default_rng(7), clusters=clusters)
    again = sample_points_in(TOWN, 4000, np.random.default_rng(7), clusters=clusters)
    assert np.array_equal(first, again)
    assert shapely.contains_xy(TOWN, first[:, 0], first[:, 1]).all()
    near_first = np.hypot(first[:, 0] - 106.0, first[:, 1] - 31.55) < 0.01  # ~1 km
    near_second = np.hypot(first[:, 0] - 106.05, first[:, 1] - 31.52) < 0.025
    assert near_first.mean() == pytest.approx(0.75, abs=0.05)
    assert (near_first | near_second).mean() > 0.95


def test_a_cluster_centred_outside_is_resampled_inside() -> None:
    clusters = [(105.905, 31.495, 500.0, 1.0)]  # just outside the south-west corner
    points = sample_points_in(TOWN, 500, np.random.default_rng(3), clusters=clusters)
    assert shapely.contains_xy(TOWN, points[:, 0], points[:, 1]).all()


@pytest.mark.parametrize(
    "clusters",
    [[], [(106.0, 31.5, 100.0)], [(106.0, 31.5, -1.0, 1.0)], [(106.0, 31.5, 100.0, 0.0)]],
)
def test_bad_clusters_are_refused(clusters: list) -> None:
    with pytest.raises(ValueError):
        sample_points_in(TOWN, 10, np.random.default_rng(0), clusters=clusters)


def test_a_cluster_far_from_the_polygon_is_refused() -> None:
    with pytest.raises(ValueError, match="cluster 0"):
        sample_points_in(TOWN, 10, np.random.default_rng(0), clusters=[(120.0, 40.0, 100.0, 1.0)])


def test_sampling_arguments() -> None:
    assert sample_points_in(TOWN, 0, np.random.default_rng(0)).shape == (0, 2)
    with pytest.raises(ValueError):
        sample_points_in(TOWN, -1, np.random.default_rng(0))
    with pytest.raises(TypeError):
        sample_points_in(TOWN, 1, 42)  # type: ignore[arg-type]


# --- square grids and numbering --------------------------------------------------------------


def test_square_grid_covers_the_polygon_with_cells_of_the_right_size() -> None:
    cells = square_grid(TOWN, 1000.0)
    assert_partition(TOWN, cells)
    areas = area_m2(cells)
    assert areas.max() == pytest.approx(1e6, rel=1e-3)
    assert (areas > 0).all()
    assert shapely.coverage_is_valid(cells)


def test_square_grid_comes_numbered_north_to_south_west_to_east() -> None:
    cells = square_grid(TOWN, 1000.0)
    assert order_north_to_south_west_to_east(cells, band_m=1000.0).tolist() == list(
        range(len(cells))
    )
    assert order_north_to_south_west_to_east(cells).tolist() == list(range(len(cells)))
    centroids = shapely.get_coordinates(shapely.centroid(cells))
    assert centroids[0, 1] > centroids[-1, 1]  # first north, last south


@pytest.mark.parametrize("lon", [102.05, 105.0, 107.95])  # zone edge, central meridian, zone edge
def test_numbering_keeps_rows_of_a_tilted_grid_together(lon: float) -> None:
    # 30 km wide at 45 N: in degrees the rows of a metric grid tilt by far more than a cell
    region = shapely.box(lon - 0.2, 45.0, lon + 0.2, 45.1)
    cells = square_grid(region, 500.0)
    shuffled = np.random.default_rng(0).permutation(len(cells))
    order = order_north_to_south_west_to_east(cells[shuffled], band_m=500.0)
    assert shuffled[order].tolist() == list(range(len(cells)))


def test_numbering_of_plain_rows_and_columns() -> None:
    boxes = [shapely.box(106 + c * 0.01, 31.5 - r * 0.01, 106.01 + c * 0.01, 31.51 - r * 0.01)
             for r in range(3) for c in range(4)]  # fmt: skip
    reverse = np.array(boxes[::-1], dtype=object)
    order = order_north_to_south_west_to_east(reverse)
    assert order.tolist() == list(range(11, -1, -1))


def test_numbering_edge_cases() -> None:
    assert order_north_to_south_west_to_east([]).shape == (0,)
    points = [shapely.Point(106.0, 31.5), shapely.Point(106.1, 31.6), shapely.Point(105.9, 31.5)]
    # points have no height: without a band each northing is a row of its own
    assert order_north_to_south_west_to_east(points, band_m=1000.0).tolist() == [1, 2, 0]
    assert order_north_to_south_west_to_east(points[:2]).tolist() == [1, 0]
    with pytest.raises(ValueError, match="empty"):
        order_north_to_south_west_to_east([shapely.Polygon()])
    with pytest.raises(ValueError, match="band_m"):
        order_north_to_south_west_to_east(points, band_m=0.0)


def test_square_grid_refusals() -> None:
    with pytest.raises(ValueError, match="cell_m"):
        square_grid(TOWN, -5.0)
    with pytest.raises(ValueError, match="more than"):
        square_grid(TOWN, 1.0)
    with pytest.raises(TypeError):
        square_grid(shapely.LineString([(0, 0), (1, 1)]), 100.0)
