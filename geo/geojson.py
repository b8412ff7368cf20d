"""Geometry as GeoJSON (RFC 7946) writes it: rings wound by the right-hand rule, 7 decimals.

RFC 7946 §3.1.6: an exterior ring is counter-clockwise, a hole clockwise. §11.2: six decimals
of a degree are about 10 cm; seven (1 cm) is what every output of ours carries, and no more.
The SQL side does the same with ``ST_ForcePolygonCCW`` and ``ST_AsGeoJSON(..., 7)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

__all__ = ["DECIMALS", "for_output", "mapping"]

DECIMALS = 7


def for_output(geometries: ArrayLike, decimals: int = DECIMALS) -> NDArray[np.object_]:
    """Geometries rounded to ``decimals`` and oriented counter-clockwise (holes clockwise).

    Vectorized over an array of geometries; points and lines are only rounded. Rounding comes
    first so that the orientation holds for the coordinates that are written.

    Parameters
    ----------
    geometries : array_like of shapely geometries (None allowed)
    decimals : int
        Decimal places kept.

    Returns
    -------
    numpy.ndarray of shapely geometries

    Examples
    --------
    >>> clockwise = shapely.Polygon([(0, 0), (0, 1.123456789), (1, 1), (1, 0)])
    >>> [ccw] = for_output([clockwise])
    >>> ccw.exterior.is_ccw, ccw.exterior.coords[2]
    (True, (1.0, 1.0))
    >>> for_output([shapely.Point(104.123456789, 30.5)])[0].wkt
    'POINT (104.1234568 30.5)'
    >>> for_output([]).size
    0
    """
    array = np.asarray(geometries, dtype=object)
    if array.size == 0:
        return array
    rounded = shapely.transform(array, lambda xy: np.round(xy, decimals))
    return shapely.orient_polygons(rounded, exterior_cw=False)


def mapping(geometry: BaseGeometry, decimals: int = DECIMALS) -> dict[str, Any]:
    """One geometry as a GeoJSON geometry object, written as :func:`for_output` prepares it.

    Examples
    --------
    >>> mapping(shapely.box(0, 0, 1, 1))["coordinates"][0][:3]
    ((1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    >>> mapping(shapely.Polygon())
    {'type': 'Polygon', 'coordinates': ()}
    """
    return shapely.geometry.mapping(for_output([geometry], decimals)[0])
