"""Keeping the polygonal part of overlay results (which GEOS returns as mixed collections)."""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray

from geo.crs import Geometries

__all__ = ["polygonal_parts"]

_POLYGON, _MULTIPOLYGON, _COLLECTION = 3, 6, 7
_MULTI_OR_COLLECTION = (4, 5, 6, 7)


def polygonal_parts(geoms: Geometries) -> NDArray[np.object_]:
    """The polygonal part of each geometry: points and lines dropped, polygons kept.

    Polygons and MultiPolygons are returned as they are; a GeometryCollection becomes the
    MultiPolygon of its (possibly nested) polygons; anything else becomes an empty MultiPolygon.
    Missing values (None) stay missing.

    Parameters
    ----------
    geoms : array_like of shapely.Geometry

    Returns
    -------
    ndarray of object
        Of the input's shape.

    Examples
    --------
    >>> from shapely import box, intersection
    >>> polygonal_parts([intersection(box(0, 0, 2, 2), box(1, 1, 3, 3))])[0].geom_type
    'Polygon'
    >>> mixed = box(0, 0, 2, 2).intersection(shapely.MultiPolygon([box(2, 0, 3, 0.5), box(1, 1, 3, 3)]))
    >>> mixed.geom_type, polygonal_parts([mixed])[0].geom_type
    ('GeometryCollection', 'MultiPolygon')
    >>> polygonal_parts([box(0, 0, 1, 1).boundary])
    array([<MULTIPOLYGON EMPTY>], dtype=object)
    >>> polygonal_parts([])
    array([], dtype=object)
    """
    values = np.asarray(geoms, dtype=object)
    flat = values.ravel().copy()
    types = shapely.get_type_id(flat)
    other = (types >= 0) & ~np.isin(types, (_POLYGON, _MULTIPOLYGON, _COLLECTION))
    flat[other] = shapely.MultiPolygon()
    collections = np.flatnonzero(types == _COLLECTION)
    if collections.size:
        parts, owner = shapely.get_parts(flat[collections], return_index=True)
        while np.isin(shapely.get_type_id(parts), _MULTI_OR_COLLECTION).any():
            parts, inner = shapely.get_parts(parts, return_index=True)
            owner = owner[inner]
        keep = (shapely.get_type_id(parts) == _POLYGON) & ~shapely.is_empty(parts)
        merged = np.empty(len(collections), dtype=object)
        merged[:] = shapely.MultiPolygon()
        if keep.any():
            shapely.multipolygons(parts[keep], indices=owner[keep], out=merged)
        flat[collections] = merged
    return flat.reshape(values.shape)
