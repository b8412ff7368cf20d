"""Coverage checks of a level of areas: overlaps, gaps, children outside their parent.

Every finding carries its geometry (WGS84) so that it can be drawn on the planner's map, and its
area in square metres, measured in a local metric projection. Thresholds are in metres, never
degrees. Overlays run on the stored WGS84 geometries themselves (as PostGIS would), so that a
vertex lying on a neighbour's edge in the data stays on it; only measuring and buffering happen in
metres.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geo.crs import SEGMENT_DEG, Geometries, area_m2, from_metric, local_metric_crs, to_metric
from geo.parts import polygonal_parts

__all__ = ["Gap", "Outside", "Overlap", "children_outside", "find_gaps", "find_overlaps"]


@dataclass(frozen=True, slots=True)
class Overlap:
    """Two areas whose interiors overlap: ``geometry`` is the shared part."""

    a_id: Hashable
    b_id: Hashable
    geometry: BaseGeometry
    area_m2: float


@dataclass(frozen=True, slots=True)
class Gap:
    """A part of the parent that no child covers."""

    geometry: shapely.Polygon
    area_m2: float
    centroid: tuple[float, float]


@dataclass(frozen=True, slots=True)
class Outside:
    """The part of a child that lies outside its parent."""

    id: Hashable
    geometry: BaseGeometry
    area_m2: float


def _geometries(geoms: Geometries, name: str) -> NDArray[np.object_]:
    values = np.asarray(geoms, dtype=object)
    if values.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of geometries, got shape {values.shape}")
    if not shapely.is_geometry(values).all():
        raise ValueError(f"{name} must hold shapely geometries only (no None)")
    return values


def _ids(ids: Sequence[Hashable], count: int) -> list[Hashable]:
    id_list = list(ids)
    if len(id_list) != count:
        raise ValueError(f"expected {count} ids, one per geometry, got {len(id_list)}")
    return id_list


def _not_negative(value: float, name: str) -> None:
    if not value >= 0.0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")


def find_overlaps(
    geoms: Geometries, ids: Sequence[Hashable], *, min_area_m2: float = 1.0
) -> list[Overlap]:
    """Pairs of areas whose interiors overlap by more than ``min_area_m2``.

    Shared edges and vertices are not overlaps. Candidate pairs come from an STRtree; only pairs
    whose interiors meet in two dimensions are intersected.

    Parameters
    ----------
    geoms : array_like of shapely.Geometry
        Valid WGS84 polygons (e.g. the grids of one community).
    ids : sequence
        One id per geometry (e.g. grid codes), reported in the findings.
    min_area_m2 : float, default 1.0
        Overlaps of this area or less are ignored.

    Returns
    -------
    list of Overlap
        One per overlapping pair ``(a, b)``, ``a`` before ``b`` in the input.

    Examples
    --------
    >>> from shapely import box
    >>> cells = [box(106.0, 31.0, 106.01, 31.01), box(106.005, 31.0, 106.015, 31.01),
    ...          box(106.015, 31.0, 106.02, 31.01)]
    >>> [(o.a_id, o.b_id, round(o.area_m2)) for o in find_overlaps(cells, ["A", "B", "C"])]
    [('A', 'B', 529398)]
    >>> find_overlaps([], [])
    []
    """
    _not_negative(min_area_m2, "min_area_m2")
    geometries = _geometries(geoms, "geoms")
    id_list = _ids(ids, len(geometries))
    if len(geometries) < 2:
        return []
    a, b = shapely.STRtree(geometries).query(geometries, predicate="intersects")
    a, b = a[a < b], b[a < b]
    interiors_meet = shapely.relate_pattern(geometries[a], geometries[b], "2********")
    a, b = a[interiors_meet], b[interiors_meet]
    shared = polygonal_parts(shapely.intersection(geometries[a], geometries[b]))
    areas = np.asarray(area_m2(shared))
    keep = np.flatnonzero(areas > min_area_m2)
    return [
        Overlap(id_list[a[k]], id_list[b[k]], shared[k], float(areas[k]))
        for k in keep  # the findings only, not the layer
    ]


def _union(children: NDArray[np.object_]) -> BaseGeometry:
    if not len(children):
        return shapely.MultiPolygon()
    if shapely.coverage_is_valid(children):
        return shapely.coverage_union_all(children)
    return shapely.union_all(children)


def find_gaps(parent: BaseGeometry, children: Geometries, *, min_area_m2: float = 1.0) -> list[Gap]:
    """Parts of ``parent`` that no child covers, larger than ``min_area_m2``.

    The children are merged with the fast coverage union when they form a valid coverage
    (exactly matching edges, no overlap), else with a generic union.

    Parameters
    ----------
    parent : shapely.Geometry
        A valid WGS84 polygon (e.g. a community).
    children : array_like of shapely.Geometry
        Its children (e.g. its grids).
    min_area_m2 : float, default 1.0
        Gaps of this area or less (slivers) are ignored.

    Returns
    -------
    list of Gap
        One per connected part of the uncovered area, largest first.

    Examples
    --------
    >>> from shapely import box
    >>> community = box(106.0, 31.0, 106.02, 31.01)
    >>> gaps = find_gaps(community, [box(106.0, 31.0, 106.01, 31.01)])
    >>> [(round(g.area_m2), tuple(round(c, 6) for c in g.centroid)) for g in gaps]
    [(1058796, (106.015, 31.005))]
    >>> find_gaps(community, [community])
    []
    """
    _not_negative(min_area_m2, "min_area_m2")
    child_array = _geometries(children, "children")
    rest = polygonal_parts([shapely.difference(parent, _union(child_array))])[0]
    pieces = shapely.get_parts(rest)
    areas = np.asarray(area_m2(pieces))
    keep = np.flatnonzero(areas > min_area_m2)
    keep = keep[np.argsort(-areas[keep], kind="stable")]
    centroids = shapely.get_coordinates(shapely.centroid(pieces[keep]))
    return [
        Gap(pieces[k], float(areas[k]), (float(x), float(y)))
        for k, (x, y) in zip(keep, centroids, strict=True)
    ]


def _buffer_in_metres(geom: BaseGeometry, distance_m: float) -> BaseGeometry:
    """``geom`` grown by ``distance_m`` in its local metric CRS, back in WGS84.

    The edges are first cut into pieces of ~100 m: an edge straight in degrees is curved in a
    metric projection (by ~5 cm over 2 km, ~5 m over 20 km), more than a tolerance of a metre.
    """
    crs = local_metric_crs(geom)
    dense = shapely.segmentize(geom, SEGMENT_DEG)
    return from_metric(shapely.buffer(to_metric(dense, crs), distance_m), crs)


def children_outside(
    parent: BaseGeometry,
    children: Geometries,
    ids: Sequence[Hashable],
    *,
    tolerance_m: float = 0.5,
) -> list[Outside]:
    """Children that stick out of their parent by more than ``tolerance_m``.

    A child is flagged when some of it lies beyond the parent buffered by ``tolerance_m`` in the
    parent's local metric projection; the finding then reports all of the child outside the
    (unbuffered) parent, and that part's area.

    Parameters
    ----------
    parent : shapely.Geometry
        A valid WGS84 polygon.
    children : array_like of shapely.Geometry
    ids : sequence
        One id per child.
    tolerance_m : float, default 0.5
        How far outside a child may reach without being flagged (digitising noise).

    Returns
    -------
    list of Outside
        In the order of the children.

    Examples
    --------
    >>> from shapely import box
    >>> community = box(106.0, 31.0, 106.01, 31.01)
    >>> grids = [box(106.0, 31.0, 106.005, 31.01), box(106.005, 31.0, 106.011, 31.01)]
    >>> [(o.id, round(o.area_m2)) for o in children_outside(community, grids, ["A", "B"])]
    [('B', 105880)]
    >>> children_outside(community, [], [])
    []
    """
    _not_negative(tolerance_m, "tolerance_m")
    child_array = _geometries(children, "children")
    id_list = _ids(ids, len(child_array))
    if not len(child_array):
        return []
    allowed = _buffer_in_metres(parent, tolerance_m)
    shapely.prepare(allowed)
    suspects = np.flatnonzero(~shapely.covered_by(child_array, allowed))
    beyond = polygonal_parts(shapely.difference(child_array[suspects], allowed))
    flagged = suspects[shapely.area(beyond) > 0.0]
    outside = polygonal_parts(shapely.difference(child_array[flagged], parent))
    areas = np.asarray(area_m2(outside))
    return [Outside(id_list[i], outside[k], float(areas[k])) for k, i in enumerate(flagged)]
