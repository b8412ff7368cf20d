"""Fitting an edited area into place: inside its parent, edges snapped to its neighbours."""

from __future__ import annotations

import math

import numpy as np
import shapely
from numpy.typing import ArrayLike

from geo.coverage import children_outside
from geo.parts import polygonal_parts

METRES_PER_DEGREE = 111_320.0


def snap_tolerance_degrees(metres: float, lat: float) -> float:
    """Degrees that span ``metres`` east-west at latitude ``lat``.

    Snapping runs on the stored degrees so that snapped vertices are copied exactly from the
    neighbour; the tolerance therefore reaches ``metres`` east-west and ``metres / cos(lat)``
    north-south (1.17 m for 1 m at 31°N).

    Examples
    --------
    >>> round(snap_tolerance_degrees(1.0, 0.0) * METRES_PER_DEGREE, 6)
    1.0
    >>> round(snap_tolerance_degrees(1.0, 60.0) * METRES_PER_DEGREE, 6)
    2.0
    """
    return metres / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 1e-6))


def _as_multipolygon(geom: shapely.Geometry) -> shapely.MultiPolygon:
    part = polygonal_parts([geom])[0]
    if isinstance(part, shapely.Polygon):
        part = shapely.MultiPolygon([part])
    return shapely.orient_polygons(part)


def snap_to_neighbours(
    geom: shapely.Geometry, neighbours: ArrayLike, *, tolerance_m: float = 1.0
) -> shapely.MultiPolygon:
    """Move the vertices of ``geom`` that lie within ``tolerance_m`` of a neighbour's
    boundary onto it, so shared edges match and no sliver gap or overlap is left.

    Parameters
    ----------
    geom : shapely.Polygon or shapely.MultiPolygon
        The edited area, WGS84.
    neighbours : array_like of shapely geometries
        Areas (or lines) to snap to, WGS84: the siblings and the parent.
    tolerance_m : float
        How far a vertex may move.

    Returns
    -------
    shapely.MultiPolygon
        Possibly invalid if snapping folded a ring: check it before storing.

    Examples
    --------
    >>> from shapely import box
    >>> west = box(106.0, 31.0, 106.01, 31.01)
    >>> drawn = box(106.010004, 31.0, 106.02, 31.01)  # 0.4 m east of west's edge
    >>> snapped = snap_to_neighbours(drawn, [west])
    >>> round(snapped.bounds[0], 6)
    106.01
    >>> snap_to_neighbours(drawn, []).equals(drawn)
    True
    """
    neighbours = np.asarray(neighbours, dtype=object).ravel()
    if not len(neighbours):
        return _as_multipolygon(geom)
    reference = shapely.union_all(shapely.boundary(neighbours[shapely.area(neighbours) > 0]))
    lines = neighbours[shapely.area(neighbours) == 0]
    if len(lines):
        reference = shapely.union_all([reference, *lines])
    lat = shapely.centroid(geom).y
    snapped = shapely.snap(geom, reference, snap_tolerance_degrees(tolerance_m, lat))
    return _as_multipolygon(snapped)


def fit_inside(
    geom: shapely.Geometry, parent: shapely.Geometry, *, tolerance_m: float = 0.5
) -> tuple[shapely.MultiPolygon, shapely.Geometry | None]:
    """Clip a child to its parent if it reaches out by at most ``tolerance_m``.

    Returns
    -------
    (clipped, outside)
        ``outside`` is None when the child fits; otherwise it is the part beyond the
        tolerance and ``clipped`` is the input unchanged.

    Examples
    --------
    >>> from shapely import box
    >>> parent = box(106.0, 31.0, 106.01, 31.01)
    >>> fits, outside = fit_inside(box(106.0, 31.0, 106.010003, 31.01), parent)
    >>> round(fits.bounds[2], 6), outside
    (106.01, None)
    >>> _, outside = fit_inside(box(106.0, 31.0, 106.02, 31.01), parent)
    >>> outside.geom_type
    'Polygon'
    """
    beyond = children_outside(parent, [geom], [0], tolerance_m=tolerance_m)
    if beyond:
        return _as_multipolygon(geom), beyond[0].geometry
    return _as_multipolygon(shapely.intersection(geom, parent)), None
