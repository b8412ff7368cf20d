"""Assignment of points (households, incidents) to the grid polygons that cover them."""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.crs import Geometries

__all__ = ["UNCOVERED", "as_points", "assign_points"]

#: The assignment of a point that no polygon covers.
UNCOVERED = -1


def as_points(points: ArrayLike) -> NDArray[np.object_]:
    """Points as a 1-D array of shapely Points, from Points or an ``(n, 2)`` lon / lat array.

    Parameters
    ----------
    points : array_like
        Shapely Points, or an ``(n, 2)`` array of longitude / latitude.

    Returns
    -------
    ndarray of object

    Raises
    ------
    ValueError
        For any other shape.

    Examples
    --------
    >>> as_points([[106.0, 31.5]])
    array([<POINT (106 31.5)>], dtype=object)
    >>> as_points(np.empty((0, 2)))
    array([], dtype=object)
    """
    values = np.asarray(points)
    if values.size == 0:
        return np.empty(0, dtype=object)
    if values.dtype == object:
        if values.ndim != 1:
            raise ValueError(f"expected a 1-D array of points, got shape {values.shape}")
        return values
    if values.ndim != 2 or values.shape[1] != 2:
        raise ValueError(f"expected an (n, 2) array of lon / lat, got shape {values.shape}")
    return np.asarray(shapely.points(values.astype(np.float64)), dtype=object)


def _ranks(tie_keys: ArrayLike | None, count: int) -> NDArray[np.int64]:
    """Rank of each polygon's tie key: 0 for the smallest."""
    if tie_keys is None:
        return np.arange(count, dtype=np.int64)
    keys = np.asarray(tie_keys)
    if keys.shape != (count,):
        raise ValueError(f"expected {count} tie keys, one per polygon, got shape {keys.shape}")
    order = np.argsort(keys, kind="stable")
    ranks = np.empty(count, dtype=np.int64)
    ranks[order] = np.arange(count)
    return ranks


def assign_points(
    points: ArrayLike,
    polygons: Geometries,
    tie_keys: ArrayLike | None = None,
) -> NDArray[np.int64]:
    """Index of the polygon covering each point, or :data:`UNCOVERED`.

    A polygon covers a point in its interior or on its boundary. A point on an edge or a vertex
    shared by several polygons goes to exactly one of them: **the polygon with the smallest tie
    key wins** (with grid codes as keys: the smallest grid code wins on a shared edge). The
    database side applies the same rule, so both agree on every point. The result does not depend
    on the order the polygons are given in, as long as the keys are distinct; equal keys fall
    back to the smaller index.

    Parameters
    ----------
    points : array_like
        Shapely Points, or an ``(n, 2)`` array of lon / lat.
    polygons : array_like of shapely.Geometry
        Missing values (None) cover nothing.
    tie_keys : array_like, optional
        One sortable key per polygon (numbers or strings, e.g. grid codes). Default: the
        polygon's index.

    Returns
    -------
    ndarray of int64
        One index into ``polygons`` per point.

    Raises
    ------
    ValueError
        If the points are not Points or an (n, 2) array, or the tie keys do not match the
        polygons.

    Examples
    --------
    >>> from shapely import box
    >>> grids = [box(1, 0, 2, 1), box(0, 0, 1, 1)]
    >>> assign_points([[0.5, 0.5], [1.0, 0.5], [5.0, 5.0]], grids, tie_keys=["002", "001"])
    array([ 1,  1, -1])
    >>> assign_points(np.empty((0, 2)), grids)
    array([], dtype=int64)
    """
    point_array = as_points(points)
    polygon_array = np.asarray(polygons, dtype=object)
    if polygon_array.ndim != 1:
        raise ValueError(f"expected a 1-D array of polygons, got shape {polygon_array.shape}")
    ranks = _ranks(tie_keys, len(polygon_array))
    result = np.full(len(point_array), UNCOVERED, dtype=np.int64)
    if not len(point_array) or not len(polygon_array):
        return result
    tree = shapely.STRtree(polygon_array)
    point_index, polygon_index = tree.query(point_array, predicate="intersects")
    # Sort the (point, polygon) pairs by point, then by rank: the first pair of each point wins.
    order = np.lexsort((ranks[polygon_index], point_index))
    point_index = point_index[order]
    polygon_index = polygon_index[order]
    first = np.ones(len(point_index), dtype=bool)
    first[1:] = point_index[1:] != point_index[:-1]
    result[point_index[first]] = polygon_index[first]
    return result
