"""Coordinate systems: WGS84 / CGCS2000, GCJ-02, BD-09 and local metric projections.

Everything is stored in WGS84 (EPSG:4326); CGCS2000 (EPSG:4490) differs from it by a few
centimetres and is treated as equal. GCJ-02 (AMap, Tencent, WeChat) and BD-09 (Baidu) are the
obfuscated systems of Chinese web maps, offset by a few hundred metres; their published forward
formulas are inverted here by fixed-point iteration to well under 1 cm.

Distances and areas are measured in the UTM zone of the geometry, never in degrees.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TypeVar, cast, overload

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

__all__ = [
    "CHINA_BOUNDS",
    "SEGMENT_DEG",
    "SUPPORTED_CRS",
    "area_m2",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_metric",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "geometry_to_wgs84",
    "in_china",
    "length_m",
    "local_metric_crs",
    "parse_crs",
    "to_metric",
    "to_wgs84",
    "utm_epsg",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

SUPPORTED_CRS = ("wgs84", "cgcs2000", "gcj02", "bd09")
_ALIASES = {"epsg:4326": "wgs84", "epsg:4490": "cgcs2000"}

#: The rough (minx, miny, maxx, maxy) box inside which GCJ-02 applies its offset.
CHINA_BOUNDS = (72.004, 0.8293, 137.8347, 55.8271)

# Krasovsky 1940 ellipsoid, as used by the published GCJ-02 formula.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0
# The offsets are at most ~0.02 degrees, so no point further than this from the box
# can be the image of a point inside it.
_OFFSET_MARGIN_DEG = 0.1
# 1e-9 degrees is 0.1 mm; the iteration contracts by a factor of ~0.01 per step.
_TOLERANCE_DEG = 1e-9
_MAX_ITERATIONS = 10
#: Edges are straight in degrees, as stored, but curved in a metric projection (about 5 cm off
#: over 2 km, 5 m over 20 km): they are cut into pieces this long (about 100 m) before being
#: projected wherever that matters.
SEGMENT_DEG = 0.001

Coords = tuple[NDArray[np.float64], NDArray[np.float64]]
#: An array of geometries, or a sequence of geometries and None that numpy makes one of.
Geometries = NDArray[np.object_] | Sequence[BaseGeometry | None]
GeometryOrArray = TypeVar("GeometryOrArray", BaseGeometry, NDArray[np.object_])


def parse_crs(name: str | None) -> str:
    """Return the canonical name of a coordinate system given by a user.

    Parameters
    ----------
    name : str or None
        ``wgs84``, ``cgcs2000``, ``gcj02`` or ``bd09`` in any case, or ``EPSG:4326`` /
        ``EPSG:4490``. None or an empty string mean ``wgs84``.

    Returns
    -------
    str
        One of :data:`SUPPORTED_CRS`.

    Raises
    ------
    ValueError
        If the name is not one of the supported systems.

    Examples
    --------
    >>> parse_crs("GCJ02")
    'gcj02'
    >>> parse_crs("EPSG:4490")
    'cgcs2000'
    >>> parse_crs(None), parse_crs("")
    ('wgs84', 'wgs84')
    """
    if name is None:
        return "wgs84"
    if not isinstance(name, str):
        raise TypeError(f"coordinate system must be a string, got {type(name).__name__}")
    key = name.strip().lower()
    if not key:
        return "wgs84"
    key = _ALIASES.get(key, key)
    if key not in SUPPORTED_CRS:
        raise ValueError(
            f"unknown coordinate system {name!r}; expected one of "
            f"{', '.join(SUPPORTED_CRS)} (or EPSG:4326, EPSG:4490)"
        )
    return key


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> Coords:
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return x.copy(), y.copy()


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Tell which points fall in the rough box where GCJ-02 applies its offset.

    Parameters
    ----------
    lon, lat : array_like
        Degrees.

    Returns
    -------
    ndarray of bool
        Of the broadcast shape; NaN coordinates are not in China.

    Examples
    --------
    >>> in_china([116.4, -0.1], [39.9, 51.5]).tolist()
    [True, False]
    >>> in_china([], []).shape
    (0,)
    """
    x, y = _as_arrays(lon, lat)
    minx, miny, maxx, maxy = CHINA_BOUNDS
    return (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)


def _near_china(
    x: NDArray[np.float64], y: NDArray[np.float64], m: float = _OFFSET_MARGIN_DEG
) -> NDArray[np.bool_]:
    minx, miny, maxx, maxy = CHINA_BOUNDS
    return (x >= minx - m) & (x <= maxx + m) & (y >= miny - m) & (y <= maxy + m)


def _gcj_offset(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> Coords:
    """The published GCJ-02 offset in degrees, without the China box test."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lat += common
    d_lat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    d_lon += common
    d_lon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = d_lat * 180.0 / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * pi)
    d_lon = d_lon * 180.0 / (_KRASOVSKY_A / sqrt_magic * np.cos(rad_lat) * pi)
    return d_lon, d_lat


def _gcj_forward(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> Coords:
    d_lon, d_lat = _gcj_offset(lon, lat)
    return lon + d_lon, lat + d_lat


def _bd_forward(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> Coords:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_closed_inverse(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> Coords:
    x = lon - 0.0065
    y = lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: Callable[[NDArray[np.float64], NDArray[np.float64]], Coords],
    target_x: NDArray[np.float64],
    target_y: NDArray[np.float64],
    start: Coords,
) -> Coords:
    """Solve ``forward(x, y) == target`` by the fixed-point iteration ``x -= forward(x) - target``.

    It converges because both forward maps are the identity plus a slowly varying offset.
    """
    x, y = start
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(x, y)
        dx = fx - target_x
        dy = fy - target_y
        x = x - dx
        y = y - dy
        finite = np.isfinite(dx) & np.isfinite(dy)
        step = np.max(np.maximum(np.abs(dx), np.abs(dy)), initial=0.0, where=finite)
        if step < _TOLERANCE_DEG:
            break
    return x, y


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert WGS84 longitude / latitude to GCJ-02.

    Outside :data:`CHINA_BOUNDS` the coordinates are returned unchanged, as every published
    implementation does.

    Parameters
    ----------
    lon, lat : array_like
        Degrees; scalars or arrays of the same (broadcastable) shape.

    Returns
    -------
    tuple of ndarray
        GCJ-02 longitude and latitude, float64 arrays of the broadcast shape (0-d for scalars).

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.397428, 39.90923)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.403672, 39.910634)
    >>> wgs84_to_gcj02([], [])
    (array([], dtype=float64), array([], dtype=float64))
    """
    x, y = _as_arrays(lon, lat)
    inside = in_china(x, y)
    d_lon, d_lat = _gcj_offset(x[inside], y[inside])
    x[inside] += d_lon
    y[inside] += d_lat
    return x, y


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert GCJ-02 longitude / latitude to WGS84 by iterating the forward formula.

    The result ``w`` satisfies ``wgs84_to_gcj02(w) == (lon, lat)`` to better than 1e-9 degrees
    (0.1 mm) inside China. Points whose inverse lies outside :data:`CHINA_BOUNDS` are returned
    unchanged. Close to the box edge a GCJ-02 point can have two preimages, one inside the box and
    the identity outside it; the one inside China is returned.

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 degrees; scalars or arrays.

    Returns
    -------
    tuple of ndarray
        WGS84 longitude and latitude, float64 arrays of the broadcast shape.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(116.403672, 39.910634)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.397428, 39.90923)
    >>> gcj02_to_wgs84(-0.1276, 51.5072)
    (array(-0.1276), array(51.5072))
    >>> gcj02_to_wgs84([], [])
    (array([], dtype=float64), array([], dtype=float64))
    """
    gx, gy = _as_arrays(lon, lat)
    near = _near_china(gx, gy)
    tx, ty = gx[near], gy[near]
    d_lon, d_lat = _gcj_offset(tx, ty)
    wx, wy = _invert(_gcj_forward, tx, ty, start=(tx - d_lon, ty - d_lat))
    # The tolerance keeps preimages that converged onto the box edge from either side.
    keep = _near_china(wx, wy, _TOLERANCE_DEG) | in_china(tx, ty)
    gx[near] = np.where(keep, wx, tx)
    gy[near] = np.where(keep, wy, ty)
    return gx, gy


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert GCJ-02 to BD-09 with Baidu's published formula (applied everywhere).

    Parameters
    ----------
    lon, lat : array_like
        Degrees in GCJ-02; scalars or arrays of broadcastable shapes.

    Returns
    -------
    tuple of ndarray
        BD-09 longitude and latitude, float64 arrays of the broadcast shape.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.403672, 39.910634)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.410044, 39.916973)
    >>> gcj02_to_bd09([], [])
    (array([], dtype=float64), array([], dtype=float64))
    """
    x, y = _as_arrays(lon, lat)
    bx, by = _bd_forward(x, y)
    return np.asarray(bx), np.asarray(by)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert BD-09 to GCJ-02: the usual closed form, refined by iteration.

    The closed form alone is off by up to about a metre; the refinement makes
    ``gcj02_to_bd09(bd09_to_gcj02(p)) == p`` to better than 1e-9 degrees.

    Parameters
    ----------
    lon, lat : array_like
        Degrees in BD-09; scalars or arrays of broadcastable shapes.

    Returns
    -------
    tuple of ndarray
        GCJ-02 longitude and latitude, float64 arrays of the broadcast shape.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(116.410044, 39.916973)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.403672, 39.910634)
    >>> bd09_to_gcj02([], [])
    (array([], dtype=float64), array([], dtype=float64))
    """
    x, y = _as_arrays(lon, lat)
    gx, gy = _invert(_bd_forward, x, y, start=_bd_closed_inverse(x, y))
    return np.asarray(gx), np.asarray(gy)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert WGS84 to BD-09 (through GCJ-02).

    Parameters
    ----------
    lon, lat : array_like
        Degrees; scalars or arrays of broadcastable shapes.

    Returns
    -------
    tuple of ndarray
        BD-09 longitude and latitude, float64 arrays of the broadcast shape.

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(116.397428, 39.90923)
    >>> round(float(lon), 6), round(float(lat), 6)
    (116.410044, 39.916973)
    >>> wgs84_to_bd09([], [])
    (array([], dtype=float64), array([], dtype=float64))
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Convert BD-09 to WGS84 (through GCJ-02), both steps iterative.

    Parameters
    ----------
    lon, lat : array_like
        Degrees in BD-09; scalars or arrays of broadcastable shapes.

    Returns
    -------
    tuple of ndarray
        WGS84 longitude and latitude, float64 arrays of the broadcast shape.

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(106.0, 31.58))
    >>> round(float(lon), 9), round(float(lat), 9)
    (106.0, 31.58)
    >>> bd09_to_wgs84([], [])
    (array([], dtype=float64), array([], dtype=float64))
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84: dict[str, Callable[[ArrayLike, ArrayLike], Coords]] = {
    "wgs84": _as_arrays,
    "cgcs2000": _as_arrays,
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str | None) -> Coords:
    """Convert coordinates given in a named system to WGS84.

    Parameters
    ----------
    lon, lat : array_like
        Degrees in the system ``crs``.
    crs : str or None
        Any name accepted by :func:`parse_crs`; CGCS2000 is taken as equal to WGS84.

    Returns
    -------
    tuple of ndarray
        WGS84 longitude and latitude (new arrays, never the inputs).

    Raises
    ------
    ValueError
        If ``crs`` is not supported.

    Examples
    --------
    >>> to_wgs84(106.0, 31.5, "cgcs2000")
    (array(106.), array(31.5))
    >>> lon, lat = to_wgs84([116.403672], [39.910634], "gcj02")
    >>> lon.round(6).tolist(), lat.round(6).tolist()
    ([116.397428], [39.90923])
    >>> to_wgs84([], [], "bd09")
    (array([], dtype=float64), array([], dtype=float64))
    """
    return _TO_WGS84[parse_crs(crs)](lon, lat)


def _apply_to_xy(
    convert: Callable[[NDArray[np.float64], NDArray[np.float64]], tuple[ArrayLike, ArrayLike]],
) -> Callable[[NDArray[np.float64]], NDArray[np.float64]]:
    """Lift a ``(x, y) -> (x, y)`` function to shapely's ``(N, 2|3)`` coordinate arrays."""

    def transform(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        out = coords.copy()
        x, y = convert(coords[:, 0], coords[:, 1])
        out[:, 0] = x
        out[:, 1] = y
        return out

    return transform


def geometry_to_wgs84(geom: GeometryOrArray, crs: str | None) -> GeometryOrArray:
    """Convert a geometry, or an array of geometries, from a named system to WGS84.

    Every vertex is converted at once; Z values are kept; missing values (None) stay missing.

    Parameters
    ----------
    geom : shapely.Geometry or ndarray of shapely.Geometry
    crs : str or None
        Any name accepted by :func:`parse_crs`.

    Returns
    -------
    shapely.Geometry or ndarray
        Of the same shape as the input; the input itself for WGS84 and CGCS2000.

    Examples
    --------
    >>> from shapely import Point
    >>> shapely.get_coordinates(geometry_to_wgs84(Point(116.403672, 39.910634), "gcj02")).round(6)
    array([[116.397428,  39.90923 ]])
    >>> geometry_to_wgs84(np.array([], dtype=object), "bd09")
    array([], dtype=object)
    """
    code = parse_crs(crs)
    if code in ("wgs84", "cgcs2000"):
        return geom
    converted = shapely.transform(  # type: ignore[call-overload]  # stubs lack include_z=None
        geom, _apply_to_xy(_TO_WGS84[code]), include_z=None
    )
    return cast(GeometryOrArray, converted)


# --- local metric projections -------------------------------------------------------------


@lru_cache(maxsize=1)
def _wgs84() -> pyproj.CRS:
    return pyproj.CRS.from_epsg(4326)


@lru_cache(maxsize=128)
def _crs_from_epsg(epsg: int) -> pyproj.CRS:
    return pyproj.CRS.from_epsg(epsg)


@lru_cache(maxsize=128)
def _transformer(source: pyproj.CRS, target: pyproj.CRS) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def _utm_epsg_array(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.int64]:
    zone = np.clip(np.floor((lon + 180.0) / 6.0).astype(np.int64) + 1, 1, 60)
    return np.where(lat >= 0.0, 32600, 32700) + zone


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 / UTM zone containing a point (no Norway/Svalbard exceptions).

    Parameters
    ----------
    lon, lat : float
        Degrees.

    Returns
    -------
    int
        32601-32660 north of the equator, 32701-32760 south of it.

    Raises
    ------
    ValueError
        If the point is not a finite longitude / latitude.

    Examples
    --------
    >>> utm_epsg(106.0, 31.58), utm_epsg(-70.6, -33.4)
    (32648, 32719)
    """
    if not (np.isfinite(lon) and np.isfinite(lat)) or abs(lon) > 180.0 or abs(lat) > 90.0:
        raise ValueError(f"({lon}, {lat}) is not a longitude / latitude")
    return int(_utm_epsg_array(np.asarray(lon), np.asarray(lat)))


def _reference_point(geom_or_bounds: object) -> tuple[float, float]:
    if isinstance(geom_or_bounds, BaseGeometry):
        if geom_or_bounds.is_empty:
            raise ValueError("cannot choose a metric projection for an empty geometry")
        centroid = shapely.centroid(geom_or_bounds)
        return centroid.x, centroid.y
    values = np.asarray(geom_or_bounds)
    if values.dtype == object:
        minx, miny, maxx, maxy = shapely.total_bounds(values)
    elif values.shape == (4,) and values.dtype.kind in "iuf":
        minx, miny, maxx, maxy = values.astype(np.float64)
        if not (minx <= maxx and miny <= maxy):
            raise ValueError(f"bounds must be (minx, miny, maxx, maxy), got {tuple(values)}")
    else:
        raise ValueError(
            "expected a shapely geometry, an array of geometries or a bounds tuple "
            f"(minx, miny, maxx, maxy), got {type(geom_or_bounds).__name__}"
        )
    if not np.isfinite([minx, miny, maxx, maxy]).all():
        raise ValueError("cannot choose a metric projection for empty geometries")
    return (minx + maxx) / 2.0, (miny + maxy) / 2.0


def local_metric_crs(geom_or_bounds: object) -> pyproj.CRS:
    """The WGS84 / UTM zone in which to measure a geometry, a layer or a bounding box.

    The zone is that of the centroid of a single geometry, or of the centre of the bounds of an
    array of geometries or of a ``(minx, miny, maxx, maxy)`` tuple in degrees. UTM scales lengths
    by 0.9996 on the zone's central meridian and up to ~1.001 at its edges: good for buffers and
    tolerances; :func:`area_m2` and :func:`length_m` correct for it.

    Parameters
    ----------
    geom_or_bounds : shapely.Geometry, array of shapely.Geometry or tuple of 4 floats

    Returns
    -------
    pyproj.CRS
        EPSG:326xx north of the equator, EPSG:327xx south of it.

    Raises
    ------
    ValueError
        For an empty geometry, an array of only empty geometries, or a malformed bounds tuple.

    Examples
    --------
    >>> local_metric_crs((105.9, 31.5, 106.1, 31.7)).to_epsg()
    32648
    >>> from shapely import Point
    >>> local_metric_crs(Point(-70.6, -33.4)).to_epsg()
    32719
    >>> local_metric_crs(Point())
    Traceback (most recent call last):
    ...
    ValueError: cannot choose a metric projection for an empty geometry
    """
    lon, lat = _reference_point(geom_or_bounds)
    return _crs_from_epsg(utm_epsg(lon, lat))


def _project(geoms: GeometryOrArray, transformer: pyproj.Transformer) -> GeometryOrArray:
    converted = shapely.transform(  # type: ignore[call-overload]  # stubs lack include_z=None
        geoms, _apply_to_xy(transformer.transform), include_z=None
    )
    return cast(GeometryOrArray, converted)


def to_metric(geoms: GeometryOrArray, crs: pyproj.CRS | str | int | None = None) -> GeometryOrArray:
    """Project WGS84 geometries to a metric CRS (by default their :func:`local_metric_crs`).

    To come back with :func:`from_metric`, choose the CRS first and pass it to both.

    Parameters
    ----------
    geoms : shapely.Geometry or ndarray of shapely.Geometry
        In WGS84.
    crs : pyproj.CRS, str or int, optional
        Anything ``pyproj.CRS.from_user_input`` reads; default ``local_metric_crs(geoms)``.

    Returns
    -------
    shapely.Geometry or ndarray
        Of the same shape, vertices projected (edges stay straight between them).

    Examples
    --------
    >>> from shapely import Point
    >>> crs = local_metric_crs(Point(106.0, 31.58))
    >>> shapely.get_coordinates(to_metric(Point(105.0, 0.0), crs)).round(3)
    array([[500000.,      0.]])
    >>> to_metric(np.array([], dtype=object), crs)
    array([], dtype=object)
    """
    target = local_metric_crs(geoms) if crs is None else pyproj.CRS.from_user_input(crs)
    return _project(geoms, _transformer(_wgs84(), target))


def from_metric(geoms: GeometryOrArray, crs: pyproj.CRS | str | int) -> GeometryOrArray:
    """Project geometries from a metric CRS back to WGS84.

    Parameters
    ----------
    geoms : shapely.Geometry or ndarray of shapely.Geometry
        In ``crs``.
    crs : pyproj.CRS, str or int
        Anything ``pyproj.CRS.from_user_input`` reads.

    Returns
    -------
    shapely.Geometry or ndarray
        Of the same shape, in WGS84.

    Examples
    --------
    >>> from shapely import Point
    >>> shapely.get_coordinates(from_metric(Point(500000, 0), 32648)).round(9)
    array([[105.,   0.]])
    >>> from_metric(np.array([], dtype=object), 32648)
    array([], dtype=object)
    """
    return _project(geoms, _transformer(pyproj.CRS.from_user_input(crs), _wgs84()))


@lru_cache(maxsize=128)
def _proj(epsg: int) -> pyproj.Proj:
    return pyproj.Proj(_crs_from_epsg(epsg))


def _measure(
    geoms: BaseGeometry | Geometries,
    measure: Callable[[NDArray[np.object_]], NDArray[np.float64]],
    dimensions: int,
) -> float | NDArray[np.float64]:
    """Measure geometries in their UTM zones, corrected by the zone's scale at their centroid.

    UTM stretches lengths by 0.9996 on the central meridian up to ~1.001 at the zone edges;
    dividing by the point scale factor (``dimensions`` times) leaves an error of a few parts per
    million on a geometry of a few kilometres.
    """
    values = np.asarray(geoms, dtype=object)
    flat = values.ravel()
    out = np.full(flat.shape, np.nan)
    present = ~shapely.is_missing(flat)
    out[present & shapely.is_empty(flat)] = 0.0
    todo = np.flatnonzero(present & ~shapely.is_empty(flat))
    if todo.size:
        centroids = shapely.centroid(flat[todo])
        lon, lat = shapely.get_x(centroids), shapely.get_y(centroids)
        zones = _utm_epsg_array(lon, lat)
        # one projection per UTM zone present (a handful), not one per geometry
        for epsg in np.unique(zones):
            here = zones == epsg
            rows = todo[here]
            transformer = _transformer(_wgs84(), _crs_from_epsg(int(epsg)))
            dense = shapely.segmentize(flat[rows], SEGMENT_DEG)
            scale = _proj(int(epsg)).get_factors(lon[here], lat[here]).meridional_scale
            out[rows] = measure(_project(dense, transformer)) / np.asarray(scale) ** dimensions
    if values.ndim == 0:
        return float(out[0])
    return out.reshape(values.shape)


@overload
def area_m2(geoms: BaseGeometry) -> float: ...
@overload
def area_m2(geoms: Geometries) -> NDArray[np.float64]: ...
def area_m2(geoms: BaseGeometry | Geometries) -> float | NDArray[np.float64]:
    """Area in square metres of WGS84 geometries, each measured in its own UTM zone.

    Edges are taken to be straight in degrees, as the data stores them (and PostGIS reads them):
    they are cut into ~100 m pieces before being projected, so that a sliver of no width in
    degrees has no area in metres either. The result is divided by the zone's scale factor at the
    centroid; it agrees with the geodesic area to ~1e-8 for a grid and ~1e-5 for a county.

    Parameters
    ----------
    geoms : shapely.Geometry or array_like of shapely.Geometry

    Returns
    -------
    float or ndarray
        A float for one geometry, else an array of the input's shape; 0 for empty geometries and
        NaN for missing ones (None).

    Examples
    --------
    >>> from shapely import box
    >>> round(area_m2(box(106.0, 31.0, 106.01, 31.01)))
    1058796
    >>> area_m2([box(0, 0, 1, 1), None]).round(-6)
    array([1.2309e+10,        nan])
    >>> area_m2([])
    array([], dtype=float64)
    """
    return _measure(geoms, shapely.area, 2)


@overload
def length_m(geoms: BaseGeometry) -> float: ...
@overload
def length_m(geoms: Geometries) -> NDArray[np.float64]: ...
def length_m(geoms: BaseGeometry | Geometries) -> float | NDArray[np.float64]:
    """Length (perimeter for polygons) in metres of WGS84 geometries, in their UTM zones.

    Measured as :func:`area_m2` measures areas.

    Parameters
    ----------
    geoms : shapely.Geometry or array_like of shapely.Geometry

    Returns
    -------
    float or ndarray
        A float for one geometry, else an array of the input's shape; 0 for empty geometries and
        NaN for missing ones.

    Examples
    --------
    >>> from shapely import LineString
    >>> round(length_m(LineString([(106.0, 31.0), (106.0, 31.01)])), 1)
    1108.7
    >>> length_m([])
    array([], dtype=float64)
    """
    return _measure(geoms, shapely.length, 1)
