"""Cutting an area into cells, sampling points in it, and numbering cells north to south.

Used by the demo-city builder and by grid generators.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.crs import SEGMENT_DEG, Geometries, from_metric, local_metric_crs, to_metric
from geo.parts import polygonal_parts

__all__ = [
    "order_north_to_south_west_to_east",
    "sample_points_in",
    "square_grid",
    "voronoi_partition",
]

_MAX_CELLS = 1_000_000
_MAX_BATCH = 1_000_000  # candidate points drawn at once
_MAX_DRAWS_PER_POINT = 1000
_METRES_PER_DEGREE = 111_320.0  # at the equator; good enough to size a sampling cluster


def _polygonal(polygon: object) -> shapely.Polygon | shapely.MultiPolygon:
    if not isinstance(polygon, shapely.Polygon | shapely.MultiPolygon):
        raise TypeError(f"expected a Polygon or MultiPolygon, got {type(polygon).__name__}")
    if polygon.is_empty or polygon.area <= 0.0:
        raise ValueError("the polygon is empty or has no area")
    return polygon


def voronoi_partition(
    polygon: shapely.Polygon | shapely.MultiPolygon, seeds: ArrayLike
) -> NDArray[np.object_]:
    """One cell per seed: the part of ``polygon`` closer to that seed than to any other.

    The cells cover the polygon without overlapping. A cell that the polygon cuts into pieces is
    a MultiPolygon; lines and points left by the clipping are dropped.

    Parameters
    ----------
    polygon : shapely.Polygon or shapely.MultiPolygon
    seeds : array_like, shape (n, 2)
        Distinct points inside (or on the boundary of) the polygon.

    Returns
    -------
    ndarray of object
        ``n`` polygonal cells; cell ``i`` contains seed ``i``.

    Raises
    ------
    TypeError
        If ``polygon`` is not polygonal.
    ValueError
        For a polygon without area, seeds of the wrong shape, non-finite, repeated or outside
        the polygon.

    Examples
    --------
    >>> from shapely import box
    >>> cells = voronoi_partition(box(0, 0, 2, 1), [[0.5, 0.5], [1.5, 0.5]])
    >>> [c.bounds for c in cells]
    [(0.0, 0.0, 1.0, 1.0), (1.0, 0.0, 2.0, 1.0)]
    >>> voronoi_partition(box(0, 0, 2, 1), np.empty((0, 2)))
    array([], dtype=object)
    """
    area = _polygonal(polygon)
    points = np.asarray(seeds, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"seeds must be an (n, 2) array, got shape {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError("seeds must be finite numbers")
    if len(np.unique(points, axis=0)) != len(points):
        raise ValueError("seeds must be distinct")
    shapely.prepare(area)
    outside = np.flatnonzero(~shapely.covers(area, shapely.points(points)))
    if outside.size:
        raise ValueError(f"seed {outside[0]} at {tuple(points[outside[0]])} is outside the polygon")
    if len(points) <= 1:
        return np.full(len(points), area, dtype=object)
    # ordered=True returns cell i for seed i, so no spatial matching is needed afterwards.
    diagram = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=area, ordered=True)
    cells = shapely.get_parts(diagram)
    return polygonal_parts(shapely.intersection(cells, area))


def _inside_batches(
    polygon: shapely.Polygon | shapely.MultiPolygon,
    count: int,
    draw: Callable[[int], tuple[NDArray[np.float64], NDArray[np.float64]]],
) -> NDArray[np.float64]:
    """Call ``draw(size)`` for batches of candidates until ``count`` fall inside ``polygon``.

    Gives up when fewer than one candidate in a thousand falls inside.
    """
    chosen: list[NDArray[np.float64]] = [np.empty((0, 2))]
    have = drawn = 0
    acceptance = 0.5
    while have < count:
        if drawn > _MAX_DRAWS_PER_POINT * count + _MAX_BATCH:
            raise ValueError("too few sampled points fall inside the polygon")
        size = min(int((count - have) / acceptance * 1.2) + 16, _MAX_BATCH)
        x, y = draw(size)
        inside = shapely.contains_xy(polygon, x, y)
        acceptance = max(float(inside.mean()), 1.0 / _MAX_DRAWS_PER_POINT)
        hits = np.flatnonzero(inside)[: count - have]
        chosen.append(np.column_stack([x[hits], y[hits]]))
        have += len(hits)
        drawn += size
    return np.concatenate(chosen)


def _gaussian(
    rng: np.random.Generator, lon: float, lat: float, sigma_m: float
) -> Callable[[int], tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """A sampler of points around (lon, lat); metres become degrees at the cluster's latitude."""
    sigma_lat = sigma_m / _METRES_PER_DEGREE
    sigma_lon = sigma_lat / max(float(np.cos(np.radians(lat))), 1e-6)
    return lambda size: (rng.normal(lon, sigma_lon, size), rng.normal(lat, sigma_lat, size))


def sample_points_in(
    polygon: shapely.Polygon | shapely.MultiPolygon,
    n: int,
    rng: np.random.Generator,
    *,
    clusters: Sequence[tuple[float, float, float, float]] | None = None,
) -> NDArray[np.float64]:
    """``n`` random points inside a polygon, uniform or gathered in gaussian clusters.

    Uniform points are uniform in longitude / latitude (rejection sampling in the bounding box,
    in vectorized batches). Clustered points pick a cluster by weight, then fall around its centre
    with a standard deviation of ``sigma_m`` metres; those falling outside the polygon are drawn
    again. The same generator state gives the same points.

    Parameters
    ----------
    polygon : shapely.Polygon or shapely.MultiPolygon
        In WGS84.
    n : int
        How many points.
    rng : numpy.random.Generator
    clusters : sequence of (lon, lat, sigma_m, weight), optional
        Gaussian clusters; weights need not sum to 1.

    Returns
    -------
    ndarray, shape (n, 2)
        Longitude and latitude.

    Raises
    ------
    ValueError
        For a polygon without area, a negative ``n``, malformed clusters, or a cluster too far
        from the polygon to put points in it.

    Examples
    --------
    >>> from shapely import box
    >>> points = sample_points_in(box(106.0, 31.0, 106.1, 31.1), 3, np.random.default_rng(7))
    >>> points.shape, bool(((points >= [106.0, 31.0]) & (points <= [106.1, 31.1])).all())
    ((3, 2), True)
    >>> sample_points_in(box(106.0, 31.0, 106.1, 31.1), 0, np.random.default_rng(7)).shape
    (0, 2)
    """
    area = _polygonal(polygon)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    shapely.prepare(area)
    if clusters is None:
        minx, miny, maxx, maxy = area.bounds
        return _inside_batches(
            area, n, lambda size: (rng.uniform(minx, maxx, size), rng.uniform(miny, maxy, size))
        )
    spec = np.asarray(clusters, dtype=np.float64)
    if spec.ndim != 2 or spec.shape[1] != 4 or not len(spec):
        raise ValueError("clusters must be a non-empty list of (lon, lat, sigma_m, weight)")
    if not np.isfinite(spec).all() or (spec[:, 2:] <= 0.0).any():
        raise ValueError("cluster sigma_m and weight must be finite and positive")
    labels = rng.choice(len(spec), size=n, p=spec[:, 3] / spec[:, 3].sum())
    points = np.empty((n, 2))
    for label, (lon, lat, sigma_m, _) in enumerate(spec):  # one pass per cluster, not per point
        rows = np.flatnonzero(labels == label)
        try:
            points[rows] = _inside_batches(area, len(rows), _gaussian(rng, lon, lat, sigma_m))
        except ValueError:
            raise ValueError(
                f"cluster {label} at ({lon}, {lat}) puts almost no points inside the polygon"
            ) from None
    return points


def square_grid(
    polygon: shapely.Polygon | shapely.MultiPolygon, cell_m: float
) -> NDArray[np.object_]:
    """Square cells of ``cell_m`` metres covering a polygon, clipped to it.

    The squares are laid out in the polygon's UTM zone from its north-west corner, and returned
    row by row from north to south, west to east within a row (the order of
    :func:`order_north_to_south_west_to_east`). Cells the polygon only touches are left out.

    Parameters
    ----------
    polygon : shapely.Polygon or shapely.MultiPolygon
        In WGS84.
    cell_m : float
        Side of a square in metres.

    Returns
    -------
    ndarray of object
        WGS84 Polygons (MultiPolygons where the polygon cuts a square in pieces).

    Raises
    ------
    ValueError
        For a polygon without area, a non-positive size, or more than a million cells.

    Examples
    --------
    >>> from shapely import box
    >>> cells = square_grid(box(106.0, 31.0, 106.01, 31.01), 500.0)
    >>> len(cells)
    6
    >>> square_grid(box(106.0, 31.0, 106.01, 31.01), 0.0)
    Traceback (most recent call last):
    ...
    ValueError: cell_m must be a positive number of metres, got 0.0
    """
    area = _polygonal(polygon)
    if not cell_m > 0.0 or not np.isfinite(cell_m):
        raise ValueError(f"cell_m must be a positive number of metres, got {cell_m!r}")
    crs = local_metric_crs(area)
    # Densified, the projected outline keeps the edges where the data has them (straight in
    # degrees), so that the clipped cells add up to the polygon itself.
    area_m = to_metric(shapely.segmentize(area, SEGMENT_DEG), crs)
    minx, miny, maxx, maxy = area_m.bounds
    columns = max(int(np.ceil((maxx - minx) / cell_m)), 1)
    rows = max(int(np.ceil((maxy - miny) / cell_m)), 1)
    if rows * columns > _MAX_CELLS:
        raise ValueError(f"{rows * columns} cells of {cell_m} m is more than {_MAX_CELLS}")
    left, top = np.meshgrid(minx + np.arange(columns) * cell_m, maxy - np.arange(rows) * cell_m)
    squares = shapely.box(left, top - cell_m, left + cell_m, top).ravel()
    shapely.prepare(area_m)
    squares = squares[shapely.intersects(area_m, squares)]
    cut = ~shapely.covers(area_m, squares)
    squares[cut] = polygonal_parts(shapely.intersection(squares[cut], area_m))
    squares = squares[shapely.area(squares) > 0.0]
    return from_metric(squares, crs)


def order_north_to_south_west_to_east(
    geoms: Geometries, *, band_m: float | None = None
) -> NDArray[np.int64]:
    """The order in which to number areas: rows from north to south, west to east in a row.

    The banding rule: the geometries are projected to their local metric CRS; rows are bands of
    height ``band_m`` (default: the median height of the geometries' bounding boxes) counted
    down from the northernmost edge of the layer; a geometry belongs to the band holding its
    centroid; within a band, geometries go by the easting of their centroid (then by input order).
    Metric coordinates are used rather than degrees because a grid laid out in a metric
    projection is slightly tilted in degrees, which would mix its rows.

    Parameters
    ----------
    geoms : array_like of shapely.Geometry
        WGS84 geometries, none empty or missing.
    band_m : float, optional
        Row height in metres, e.g. the cell size of a square grid.

    Returns
    -------
    ndarray of int64
        Indices into ``geoms``: ``geoms[order[0]]`` gets sequence number 1.

    Examples
    --------
    >>> from shapely import box
    >>> cells = [box(106.01, 31.0, 106.02, 31.01), box(106.0, 31.0, 106.01, 31.01),
    ...          box(106.01, 31.01, 106.02, 31.02), box(106.0, 31.01, 106.01, 31.02)]
    >>> order_north_to_south_west_to_east(cells)
    array([3, 2, 1, 0])
    >>> order_north_to_south_west_to_east([])
    array([], dtype=int64)
    """
    values = np.asarray(geoms, dtype=object)
    if values.ndim != 1:
        raise ValueError(f"expected a 1-D array of geometries, got shape {values.shape}")
    if not len(values):
        return np.empty(0, dtype=np.int64)
    if not shapely.is_geometry(values).all() or shapely.is_empty(values).any():
        raise ValueError("cannot order missing or empty geometries")
    if band_m is not None and not band_m > 0.0:
        raise ValueError(f"band_m must be a positive number of metres, got {band_m!r}")
    metric = to_metric(values, local_metric_crs(values))
    bounds = shapely.bounds(metric)
    centroids = shapely.get_coordinates(shapely.centroid(metric))
    height = float(np.median(bounds[:, 3] - bounds[:, 1])) if band_m is None else band_m
    depth = bounds[:, 3].max() - centroids[:, 1]
    # Points have no height: then every distinct northing is a row of its own.
    row = np.floor(depth / height) if height > 0.0 else depth
    return np.lexsort((np.arange(len(values)), centroids[:, 0], row)).astype(np.int64)


def split_around_points(
    polygon: shapely.Geometry, points: ArrayLike, k: int, rng: np.random.Generator
) -> NDArray[np.object_]:
    """Cut a polygon into ``k`` cells around k-means centres of the points inside it.

    Cells come out small where points (households) are dense.  With fewer than ``k`` points
    inside, random points fill in.  A centre that falls outside a concave polygon is moved to
    the nearest point inside.

    Examples
    --------
    >>> from shapely import box
    >>> rng = np.random.default_rng(0)
    >>> pts = np.array([[0.1, 0.1], [0.12, 0.1], [0.9, 0.9], [0.88, 0.9]])
    >>> cells = split_around_points(box(0, 0, 1, 1), pts, 2, rng)
    >>> len(cells), round(float(sum(c.area for c in cells)), 9)
    (2, 1.0)
    """
    from geo.cluster import kmeans_centres

    geom = _polygonal(polygon)
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    inside = points[shapely.contains_xy(geom, points[:, 0], points[:, 1])]
    if len(inside) < k:
        inside = np.vstack([inside, sample_points_in(geom, k, rng)])
    centres = kmeans_centres(inside, k, rng)
    outside = ~shapely.contains_xy(geom, centres[:, 0], centres[:, 1])
    for i in np.flatnonzero(outside):
        centres[i] = inside[((inside - centres[i]) ** 2).sum(axis=1).argmin()]
    # Two centres can land on the same household; nudge duplicates apart.
    _, first = np.unique(centres, axis=0, return_index=True)
    for i in sorted(set(range(k)) - set(first.tolist())):
        others = inside[~(inside == centres[i]).all(axis=1)]
        centres[i] = others[rng.integers(len(others))]
    return voronoi_partition(geom, centres)


def polygonal_parts_of(geom: shapely.Geometry) -> list[shapely.Polygon]:
    """The non-empty polygons of any geometry (an overlay can leave lines and points).

    Examples
    --------
    >>> from shapely import box
    >>> [p.area for p in polygonal_parts_of(box(0, 0, 1, 1).intersection(box(1, 0, 2, 1)))]
    []
    >>> [p.area for p in polygonal_parts_of(box(0, 0, 2, 1).intersection(box(1, 0, 3, 1)))]
    [1.0]
    """
    return [
        p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon) and not p.is_empty
    ] + [
        q
        for p in shapely.get_parts(geom)
        if isinstance(p, shapely.GeometryCollection)
        for q in polygonal_parts_of(p)
    ]
