"""Generating grids inside a community: square, hexagonal (H3) or balanced on households.

Every generator clips its cells to the parent and merges slivers (cells smaller than 20% of
the nominal cell) into the neighbour they share the longest edge with, so that no grid is a
leftover crumb along the boundary.
"""

from __future__ import annotations

import h3
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geo import crs as geocrs
from geo import partition

SLIVER_SHARE = 0.2


def merge_slivers(
    cells: ArrayLike, nominal_m2: float, *, share: float = SLIVER_SHARE
) -> NDArray[np.object_]:
    """Merge each cell under ``share`` of ``nominal_m2`` into its longest-edge neighbour.

    Slivers are merged smallest first; a sliver with no neighbour is kept (it is an island
    of the parent, and a grid of its own).

    Examples
    --------
    >>> from shapely import box
    >>> cells = [box(106, 31, 106.01, 31.01), box(106.01, 31, 106.0105, 31.01)]
    >>> merged = merge_slivers(cells, nominal_m2=1e6)
    >>> len(merged), [round(b, 4) for b in merged[0].bounds]
    (1, [106.0, 31.0, 106.0105, 31.01])
    >>> len(merge_slivers([], 1.0))
    0
    """
    cells = list(np.asarray(cells, dtype=object).ravel())
    while True:
        if len(cells) < 2:
            break
        areas = np.asarray(geocrs.area_m2(np.asarray(cells, dtype=object)))
        small = [i for i in np.argsort(areas) if areas[i] < share * nominal_m2]
        merged = False
        for i in small:
            shared = [
                (shapely.length(shapely.intersection(cells[i].boundary, other.boundary)), j)
                for j, other in enumerate(cells)
                if j != i and cells[i].intersects(other)
            ]
            shared = [(length, j) for length, j in shared if length > 0]
            if not shared:
                continue
            _, j = max(shared)
            cells[j] = shapely.union(cells[j], cells[i])
            del cells[i]
            merged = True
            break
        if not merged:
            break
    return np.asarray(cells, dtype=object)


def square_cells(polygon: shapely.Geometry, cell_m: float) -> NDArray[np.object_]:
    """Square cells of ``cell_m`` metres, clipped to the polygon, slivers merged.

    Examples
    --------
    >>> from shapely import box
    >>> area = box(106.0, 31.0, 106.0105, 31.009)
    >>> cells = square_cells(area, 500)  # 8 raw cells: the 4 thin ones join their neighbours
    >>> len(cells), round(float(sum(c.area for c in cells)) / area.area, 6)
    (4, 1.0)
    """
    if not cell_m > 0:
        raise ValueError(f"cell_m must be positive, got {cell_m}")
    cells = partition.square_grid(polygon, cell_m)
    return merge_slivers(cells, cell_m * cell_m)


def hexagon_cells(polygon: shapely.Geometry, resolution: int) -> NDArray[np.object_]:
    """H3 cells at ``resolution`` covering the polygon, clipped to it, slivers merged.

    Examples
    --------
    >>> from shapely import box
    >>> area = box(106.0, 31.0, 106.02, 31.02)
    >>> cells = hexagon_cells(area, 8)
    >>> len(cells) > 4, round(float(sum(c.area for c in cells)) / area.area, 6)
    (True, 1.0)
    """
    if not 0 <= resolution <= 15:
        raise ValueError(f"resolution must be 0..15, got {resolution}")
    # Cells whose centre is inside, plus a ring around them, then clipped: full coverage.
    seeds = h3.geo_to_cells(polygon.buffer(0), resolution) or {
        h3.latlng_to_cell(polygon.centroid.y, polygon.centroid.x, resolution)
    }
    ids = set(seeds)
    for cell in seeds:
        ids.update(h3.grid_disk(cell, 1))
    shapes = [shapely.geometry.shape(h3.cells_to_geo([cell])) for cell in sorted(ids)]
    clipped = [
        c
        for c in shapely.intersection(np.asarray(shapes, dtype=object), polygon)
        if not c.is_empty and c.area > 0
    ]
    pieces = [p for c in clipped for p in partition.polygonal_parts_of(c)]
    nominal = h3.average_hexagon_area(resolution, unit="m^2")
    return merge_slivers(pieces, nominal)


def balanced_cells(
    polygon: shapely.Geometry, households: ArrayLike, target: int, rng: np.random.Generator
) -> NDArray[np.object_]:
    """About ``len(households) / target`` cells around k-means centres of the households.

    Examples
    --------
    >>> from shapely import box
    >>> rng = np.random.default_rng(1)
    >>> pts = np.column_stack([rng.uniform(106, 106.01, 400), rng.uniform(31, 31.01, 400)])
    >>> len(balanced_cells(box(106, 31, 106.01, 31.01), pts, 100, rng))
    4
    """
    points = np.asarray(households, dtype=float).reshape(-1, 2)
    if target < 1:
        raise ValueError(f"target must be at least 1, got {target}")
    k = max(1, int(round(len(points) / target)))
    if k == 1:
        return np.asarray([polygon], dtype=object)
    return partition.split_around_points(polygon, points, k, rng)
