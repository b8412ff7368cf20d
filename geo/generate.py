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


UNIT_RESOLUTION = 10  # H3 cells of ~15,000 m² (edges ~66 m): a block or two


def balanced_cells(
    polygon: shapely.Geometry,
    households: ArrayLike,
    target: int,
    rng: np.random.Generator,
    *,
    unit_resolution: int = UNIT_RESOLUTION,
) -> NDArray[np.object_]:
    """About ``len(households) / target`` grids, each a union of small base units.

    The polygon is cut into H3 base units (``hexagon_cells`` at ``unit_resolution``); each
    unit joins the nearest of k-means centres of the households; a piece cut off from its
    grid joins the neighbour it shares the longest edge with.  Because every grid is a union
    of units, rebalancing can later move units from grid to grid.

    Examples
    --------
    >>> from shapely import box
    >>> rng = np.random.default_rng(1)
    >>> area = box(106, 31, 106.01, 31.01)
    >>> pts = np.column_stack([rng.uniform(106, 106.01, 400), rng.uniform(31, 31.01, 400)])
    >>> grids = balanced_cells(area, pts, 100, rng)
    >>> len(grids), round(float(sum(g.area for g in grids)) / area.area, 6)
    (4, 1.0)
    """
    points = np.asarray(households, dtype=float).reshape(-1, 2)
    if target < 1:
        raise ValueError(f"target must be at least 1, got {target}")
    k = max(1, int(round(len(points) / target)))
    if k == 1:
        return np.asarray([polygon], dtype=object)
    units = hexagon_cells(polygon, unit_resolution)
    if len(units) <= k:
        return partition.split_around_points(polygon, points, k, rng)
    from geo.cluster import kmeans_centres

    centres = kmeans_centres(points, k, rng)
    spots = shapely.point_on_surface(units)
    xy = np.column_stack([shapely.get_x(spots), shapely.get_y(spots)])
    scale = np.array([np.cos(np.radians(xy[:, 1].mean())), 1.0])
    distance = (((xy[:, None, :] - centres[None, :, :]) * scale) ** 2).sum(axis=2)
    label = distance.argmin(axis=1)
    grids = [shapely.union_all(units[label == j]) for j in range(k) if (label == j).any()]
    # Keep each grid's largest piece; the pieces cut off join a neighbour.
    pieces = []
    for grid in grids:
        parts = sorted(partition.polygonal_parts_of(grid), key=lambda p: -p.area)
        pieces.append(parts[0])
        pieces.extend(parts[1:])
    keep = len(grids)
    return _absorb(np.asarray(pieces, dtype=object), keep)


def _absorb(pieces: NDArray[np.object_], keep: int) -> NDArray[np.object_]:
    """Merge ``pieces[keep:]`` into the piece among the first ``keep`` (as grown so far)
    with which each shares the longest edge; a piece touching none is kept as it is."""
    grids = list(pieces[:keep])
    for extra in pieces[keep:]:
        shared = [
            (shapely.length(shapely.intersection(extra.boundary, g.boundary)), i)
            for i, g in enumerate(grids)
        ]
        length, i = max(shared)
        if length > 0:
            grids[i] = shapely.union(grids[i], extra)
        else:
            grids.append(extra)
    return np.asarray(grids, dtype=object)
