from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.assign import UNCOVERED, as_points, assign_points

# A 2 x 2 tiling of unit squares, keyed so that index order and key order differ:
#   +-----+-----+
#   | "c" | "a" |   row y 1..2
#   +-----+-----+
#   | "d" | "b" |   row y 0..1
#   +-----+-----+
TILES = np.array(
    [
        shapely.box(0, 1, 1, 2),
        shapely.box(1, 1, 2, 2),
        shapely.box(0, 0, 1, 1),
        shapely.box(1, 0, 2, 1),
    ]
)
KEYS = np.array(["c", "a", "d", "b"])


def chosen_keys(points, polygons, keys) -> list[str | None]:
    result = assign_points(points, polygons, keys)
    return [None if i == UNCOVERED else str(keys[i]) for i in result]


def test_interior_points_go_to_their_tile() -> None:
    points = [[0.5, 1.5], [1.5, 1.5], [0.5, 0.5], [1.5, 0.5]]
    assert assign_points(points, TILES, KEYS).tolist() == [0, 1, 2, 3]


def test_shared_edges_and_vertices_go_to_the_smallest_key() -> None:
    points = {
        (1.0, 1.0): "a",  # the centre vertex, shared by all four
        (1.0, 1.5): "a",  # edge c | a
        (1.0, 0.5): "b",  # edge d | b
        (0.5, 1.0): "c",  # edge c / d
        (1.5, 1.0): "a",  # edge a / b
        (1.0, 2.0): "a",  # outer vertex shared by c and a
        (0.0, 1.0): "c",  # outer vertex shared by c and d
        (0.0, 0.0): "d",  # corner of d alone
        (2.0, 0.5): "b",  # outer edge of b alone
    }
    assert chosen_keys(list(points), TILES, KEYS) == list(points.values())


def test_default_keys_are_the_polygon_indices() -> None:
    assert assign_points([[1.0, 1.0], [1.0, 0.5]], TILES).tolist() == [0, 2]


def test_points_outside_are_uncovered() -> None:
    points = [[-0.5, 0.5], [2.000001, 1.0], [1.0, 3.0]]
    assert assign_points(points, TILES, KEYS).tolist() == [UNCOVERED] * 3


def test_shapely_points_are_accepted() -> None:
    points = np.array([shapely.Point(1.0, 1.0), shapely.Point(5, 5)])
    assert assign_points(points, TILES, KEYS).tolist() == [1, UNCOVERED]


def test_empty_inputs_give_empty_or_uncovered_results() -> None:
    result = assign_points(np.empty((0, 2)), TILES, KEYS)
    assert result.dtype == np.int64 and result.shape == (0,)
    assert assign_points(np.array([], dtype=object), []).shape == (0,)
    assert assign_points([], TILES).shape == (0,)
    assert assign_points([[0.5, 0.5]], []).tolist() == [UNCOVERED]


def test_missing_polygons_cover_nothing() -> None:
    polygons = np.array([None, TILES[2]], dtype=object)
    assert assign_points([[0.5, 0.5]], polygons).tolist() == [1]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="tie keys"):
        assign_points([[0.5, 0.5]], TILES, ["a"])
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        assign_points([1.0, 2.0, 3.0], TILES)
    with pytest.raises(ValueError, match="1-D"):
        as_points(np.array([[shapely.Point(0, 0)]], dtype=object))


# A 3 x 3 tiling plus one square straddling it: points land in interiors, on edges, on vertices,
# in overlaps and outside.
GRID = [shapely.box(x, y, x + 1, y + 1) for x in range(3) for y in range(3)] + [
    shapely.box(0.5, 0.5, 1.5, 1.5)
]
coordinate = st.one_of(
    st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]), st.floats(-0.5, 3.5, allow_nan=False)
)
point_sets = st.lists(st.tuples(coordinate, coordinate), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    points=point_sets,
    order=st.permutations(range(len(GRID))),
    keys=st.lists(
        st.text("0123456789", min_size=3, max_size=3),
        min_size=len(GRID),
        max_size=len(GRID),
        unique=True,
    ),
)
def test_the_chosen_key_does_not_depend_on_the_polygon_order(points, order, keys) -> None:
    polygons = np.array(GRID, dtype=object)
    key_array = np.array(keys)
    permuted = np.array(order)
    assert chosen_keys(points, polygons, key_array) == chosen_keys(
        points, polygons[permuted], key_array[permuted]
    )


@settings(max_examples=100, deadline=None)
@given(points=point_sets, keys=st.permutations(range(len(GRID))))
def test_the_chosen_polygon_is_the_covering_one_with_the_smallest_key(points, keys) -> None:
    polygons = np.array(GRID, dtype=object)
    key_array = np.array(keys)
    result = assign_points(points, polygons, key_array)
    for (x, y), chosen in zip(points, result, strict=True):
        covering = [i for i, p in enumerate(GRID) if p.covers(shapely.Point(x, y))]
        if covering:
            assert chosen == min(covering, key=lambda i: keys[i])
        else:
            assert chosen == UNCOVERED


def test_two_hundred_thousand_points_in_ten_thousand_cells() -> None:
    x0, y0 = np.meshgrid(np.arange(100) * 0.01 + 105.0, np.arange(100) * 0.01 + 31.0)
    cells = shapely.box(x0.ravel(), y0.ravel(), x0.ravel() + 0.01, y0.ravel() + 0.01)
    keys = np.char.zfill(np.arange(len(cells)).astype(str), 15)
    rng = np.random.default_rng(5)
    points = np.column_stack(
        [rng.uniform(104.95, 106.05, 200_000), rng.uniform(30.95, 32.05, 200_000)]
    )
    result = assign_points(points, cells, keys)
    inside = (points >= [105.0, 31.0]).all(axis=1) & (points <= [106.0, 32.0]).all(axis=1)
    assert ((result != UNCOVERED) == inside).all()
    column = np.clip(np.floor((points[inside, 0] - 105.0) / 0.01), 0, 99).astype(int)
    row = np.clip(np.floor((points[inside, 1] - 31.0) / 0.01), 0, 99).astype(int)
    # away from cell edges the chosen cell is simply the one containing the point
    clear = (np.abs((points[inside] - [105.0, 31.0]) / 0.01 % 1 - 0.5) < 0.49).all(axis=1)
    assert (result[inside][clear] == (row * 100 + column)[clear]).all()
