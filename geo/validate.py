"""Validation of planner and import geometry that names the reason and the location of a fault.

Bad geometry is rejected, never repaired: a repaired grid is a grid nobody drew. Raw GeoJSON is
checked before shapely sees it, because shapely silently closes rings and accepts anything that
converts to a float.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

from geo.crs import Geometries

__all__ = [
    "REASONS",
    "WORLD_BOUNDS",
    "GeometryError",
    "check_polygonal",
    "parse_point",
    "parse_polygonal",
    "point_faults",
    "validity_reasons",
]

REASONS = (
    "empty",
    "wrong_type",
    "unclosed_ring",
    "too_few_points",
    "nan_coordinate",
    "out_of_range",
    "too_many_vertices",
    "self_intersection",
    "ring_self_intersection",
    "invalid",
    "malformed",
)
WORLD_BOUNDS = (-180.0, -90.0, 180.0, 90.0)
_POLYGONAL_TYPE_IDS = (3, 6)  # Polygon, MultiPolygon
_MIN_RING_POSITIONS = 4
# GEOS reasons look like "Ring Self-intersection[106.1 31.5]"; the bracket is optional.
_GEOS_REASON = re.compile(r"^(?P<text>[^\[]*?)\s*(?:\[(?P<x>\S+) (?P<y>\S+)(?: \S+)?\])?$")
_GEOS_CODES = (
    (
        "Ring Self-intersection",
        "ring_self_intersection",
        "A ring touches or crosses itself",
    ),
    ("Self-intersection", "self_intersection", "Boundaries cross or overlap"),
    ("Too few points", "too_few_points", "A ring has fewer than 4 distinct positions"),
    ("Invalid Coordinate", "nan_coordinate", "A coordinate is not a finite number"),
    ("Ring is not closed", "unclosed_ring", "A ring is not closed"),
)


class GeometryError(ValueError):
    """A geometry that cannot be accepted, with a machine reason and where the fault is.

    Attributes
    ----------
    reason : str
        One of :data:`REASONS`.
    message : str
        An English sentence for people.
    location : tuple of float or None
        ``(lon, lat)`` of the fault when it has one.
    path : str or None
        Where in the input the fault is, e.g. ``"coordinates[0][2][5]"``.

    Examples
    --------
    >>> err = GeometryError("empty", "The geometry is empty.")
    >>> err.to_dict()
    {'reason': 'empty', 'message': 'The geometry is empty.', 'location': None, 'path': None}
    """

    def __init__(
        self,
        reason: str,
        message: str,
        location: tuple[float, float] | None = None,
        path: str | None = None,
    ) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown geometry fault reason {reason!r}")
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.location = location
        self.path = path

    def to_dict(self) -> dict[str, Any]:
        """The fault as plain JSON-ready data."""
        return {
            "reason": self.reason,
            "message": self.message,
            "location": (
                [round(v, 7) for v in self.location] if self.location is not None else None
            ),
            "path": self.path,
        }

    def __repr__(self) -> str:
        return (
            f"GeometryError({self.reason!r}, {self.message!r}, "
            f"location={self.location!r}, path={self.path!r})"
        )


def _fmt(value: float) -> str:
    """A coordinate to 7 decimals (about 1 cm), without trailing zeros."""
    text = f"{value:.7f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _at(location: tuple[float, float] | None) -> str:
    return "" if location is None else f" at ({_fmt(location[0])}, {_fmt(location[1])})"


# --- raw GeoJSON --------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _is_position(value: object) -> bool:
    return (
        isinstance(value, list | tuple)
        and 2 <= len(value) <= 3
        and all(_is_number(v) for v in value)
    )


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return f"an array of {len(value)} items"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _position_fault(ring: Sequence[Any], path: str) -> GeometryError:
    """Explain the first position of ``ring`` that is not 2 or 3 numbers."""
    for v, position in enumerate(ring):
        where = f"{path}[{v}]"
        if not isinstance(position, list | tuple):
            return GeometryError(
                "malformed",
                f"{where} must be a position [lon, lat], got {_describe(position)}.",
                path=where,
            )
        if not 2 <= len(position) <= 3:
            return GeometryError(
                "malformed",
                f"{where} must hold 2 or 3 numbers, got {len(position)}.",
                path=where,
            )
        for k, value in enumerate(position):
            if not _is_number(value):
                return GeometryError(
                    "malformed",
                    f"{where}[{k}] must be a number, got {_describe(value)}.",
                    path=f"{where}[{k}]",
                )
    raise AssertionError("no malformed position found")  # pragma: no cover


def _unwrap(obj: object) -> tuple[Mapping[str, Any], str]:
    """The geometry mapping of a GeoJSON geometry or Feature, and the path prefix to it."""
    if not isinstance(obj, Mapping):
        raise GeometryError(
            "malformed", f"Expected a GeoJSON object, got {_describe(obj)}.", path=""
        )
    if obj.get("type") != "Feature":
        return obj, ""
    geometry = obj.get("geometry")
    if geometry is None:
        raise GeometryError("empty", "The feature has no geometry.", path="geometry")
    if not isinstance(geometry, Mapping):
        raise GeometryError(
            "malformed",
            f"The feature's geometry must be an object, got {_describe(geometry)}.",
            path="geometry",
        )
    return geometry, "geometry."


def _collect_rings(
    geometry: Mapping[str, Any], prefix: str, max_vertices: int
) -> tuple[list[Sequence[Any]], list[str], list[int]]:
    """Rings, their paths and their polygon numbers, counting vertices before reading any."""
    kind = geometry.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise GeometryError(
            "wrong_type",
            f"Expected a Polygon or MultiPolygon, got {kind!r}.",
            path=f"{prefix}type",
        )
    coordinates = geometry.get("coordinates")
    where = f"{prefix}coordinates"
    if not isinstance(coordinates, list | tuple):
        raise GeometryError(
            "malformed",
            f"{where} must be an array, got {_describe(coordinates)}.",
            path=where,
        )
    if not coordinates:
        raise GeometryError("empty", "The geometry has no coordinates.", path=where)
    polygons = [coordinates] if kind == "Polygon" else coordinates
    # Each ring needs at least 4 positions: more parts than that cannot fit in the budget.
    max_parts = max(max_vertices // _MIN_RING_POSITIONS, 1)
    if len(polygons) > max_parts:
        raise GeometryError(
            "too_many_vertices",
            f"The geometry has {len(polygons)} polygons; at most {max_parts} fit in the limit "
            f"of {max_vertices} vertices.",
            path=where,
        )
    rings: list[Sequence[Any]] = []
    paths: list[str] = []
    owners: list[int] = []
    total = 0
    for p, polygon in enumerate(polygons):
        polygon_path = where if kind == "Polygon" else f"{where}[{p}]"
        if not isinstance(polygon, list | tuple):
            raise GeometryError(
                "malformed",
                f"{polygon_path} must be an array of rings, got {_describe(polygon)}.",
                path=polygon_path,
            )
        if not polygon:
            raise GeometryError("empty", f"{polygon_path} has no rings.", path=polygon_path)
        if len(rings) + len(polygon) > max_parts:
            raise GeometryError(
                "too_many_vertices",
                f"The geometry has more than {max_parts} rings, more than fit in the limit of "
                f"{max_vertices} vertices.",
                path=polygon_path,
            )
        for r, ring in enumerate(polygon):
            ring_path = f"{polygon_path}[{r}]"
            if not isinstance(ring, list | tuple):
                raise GeometryError(
                    "malformed",
                    f"{ring_path} must be an array of positions, got {_describe(ring)}.",
                    path=ring_path,
                )
            total += len(ring)
            if total > max_vertices:
                raise GeometryError(
                    "too_many_vertices",
                    f"The geometry has more than {max_vertices} vertices.",
                    path=ring_path,
                )
            rings.append(ring)
            paths.append(ring_path)
            owners.append(p)
    return rings, paths, owners


def _ring_coordinates(
    rings: list[Sequence[Any]], paths: list[str]
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """All positions as one (n, 2) array (Z dropped) and the ring number of each."""
    for ring, path in zip(rings, paths, strict=True):
        if not all(_is_position(position) for position in ring):
            raise _position_fault(ring, path)
    sizes = np.fromiter((len(ring) for ring in rings), dtype=np.intp, count=len(rings))
    try:
        xy = np.array(
            [(position[0], position[1]) for ring in rings for position in ring],
            dtype=np.float64,
        ).reshape(-1, 2)
    except OverflowError:
        raise GeometryError(
            "out_of_range", "A coordinate is too large to be a number of degrees."
        ) from None
    return xy, np.repeat(np.arange(len(rings)), sizes)


def _check_positions(
    xy: NDArray[np.float64],
    ring_of: NDArray[np.intp],
    paths: list[str],
    bounds: tuple[float, float, float, float],
) -> None:
    starts = np.searchsorted(ring_of, np.arange(len(paths)))

    def vertex_path(i: int) -> str:
        ring = int(ring_of[i])
        return f"{paths[ring]}[{i - starts[ring]}]"

    bad = np.flatnonzero(~np.isfinite(xy).all(axis=1))
    if bad.size:
        where = vertex_path(int(bad[0]))
        raise GeometryError(
            "nan_coordinate",
            f"The position {where} is not a finite number.",
            path=where,
        )
    minx, miny, maxx, maxy = bounds
    x, y = xy[:, 0], xy[:, 1]
    bad = np.flatnonzero((x < minx) | (x > maxx) | (y < miny) | (y > maxy))
    if bad.size:
        i = int(bad[0])
        where = vertex_path(i)
        location = (float(x[i]), float(y[i]))
        raise GeometryError(
            "out_of_range",
            f"The position {where}{_at(location)} is outside "
            f"[{_fmt(minx)}, {_fmt(maxx)}] x [{_fmt(miny)}, {_fmt(maxy)}].",
            location=location,
            path=where,
        )


def _check_rings(
    rings: list[Sequence[Any]],
    paths: list[str],
    xy: NDArray[np.float64],
    ring_of: NDArray[np.intp],
) -> None:
    sizes = np.bincount(ring_of, minlength=len(rings))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    short = np.flatnonzero(sizes < _MIN_RING_POSITIONS)
    if short.size:
        r = int(short[0])
        x, y = xy[starts[r]] if sizes[r] else (math.nan, math.nan)
        raise GeometryError(
            "too_few_points",
            f"The ring {paths[r]} has {sizes[r]} positions; a ring needs at least "
            f"{_MIN_RING_POSITIONS} (the last repeating the first).",
            location=(float(x), float(y)) if sizes[r] else None,
            path=paths[r],
        )
    first = xy[starts]
    last = xy[starts + sizes - 1]
    unclosed = np.flatnonzero((first != last).any(axis=1))
    if unclosed.size:
        r = int(unclosed[0])
        location = (float(first[r, 0]), float(first[r, 1]))
        raise GeometryError(
            "unclosed_ring",
            f"The ring {paths[r]} is not closed: its last position "
            f"({_fmt(last[r, 0])}, {_fmt(last[r, 1])}) differs from its first{_at(location)}.",
            location=location,
            path=paths[r],
        )


def parse_polygonal(
    obj: object,
    *,
    max_vertices: int = 10_000,
    bounds: tuple[float, float, float, float] = WORLD_BOUNDS,
) -> shapely.MultiPolygon:
    """Parse a GeoJSON Polygon or MultiPolygon (or a Feature of one) into a valid MultiPolygon.

    The raw coordinates are checked first, in this order: the type; the vertex count (before
    anything is built, so that a vertex bomb costs nothing); the structure (arrays of positions
    of 2 or 3 numbers; booleans and strings are not numbers); finite numbers; ``bounds``; each
    ring at least 4 positions; each ring closed. Then the geometry is built and GEOS validity is
    checked. Nothing is repaired. Z values are dropped.

    Parameters
    ----------
    obj : mapping
        A GeoJSON geometry object or a Feature whose geometry is polygonal.
    max_vertices : int, default 10000
        The most positions accepted, all rings together.
    bounds : tuple of 4 floats, default (-180, -90, 180, 90)
        ``(minx, miny, maxx, maxy)`` every position must fall in.

    Returns
    -------
    shapely.MultiPolygon
        With exteriors counter-clockwise and holes clockwise, as RFC 7946 asks.

    Raises
    ------
    GeometryError
        With ``reason``, ``message``, ``location`` and ``path`` of the first fault found.

    Examples
    --------
    >>> square = {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}
    >>> parse_polygonal(square).wkt
    'MULTIPOLYGON (((0 0, 1 0, 1 1, 0 1, 0 0)))'
    >>> bow_tie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    >>> parse_polygonal(bow_tie)
    Traceback (most recent call last):
    ...
    geo.validate.GeometryError: Boundaries cross or overlap at (0.5, 0.5).
    >>> parse_polygonal({"type": "Polygon", "coordinates": []})
    Traceback (most recent call last):
    ...
    geo.validate.GeometryError: The geometry has no coordinates.
    """
    if max_vertices < _MIN_RING_POSITIONS:
        raise ValueError(f"max_vertices must be at least {_MIN_RING_POSITIONS}, got {max_vertices}")
    geometry, prefix = _unwrap(obj)
    rings, paths, owners = _collect_rings(geometry, prefix, max_vertices)
    xy, ring_of = _ring_coordinates(rings, paths)
    _check_positions(xy, ring_of, paths, bounds)
    _check_rings(rings, paths, xy, ring_of)
    built_rings = np.asarray(shapely.linearrings(xy, indices=ring_of), dtype=object)
    polygons = np.asarray(shapely.polygons(built_rings, indices=owners), dtype=object)
    multipolygon = shapely.MultiPolygon(polygons.tolist())
    fault = _geos_fault(multipolygon, built_rings, paths)
    if fault is not None:
        raise fault
    return shapely.orient_polygons(multipolygon, exterior_cw=False)


# --- shapely geometries -------------------------------------------------------------------


def _rings_with_paths(geom: BaseGeometry) -> tuple[NDArray[np.object_], list[str]]:
    """The rings of a Polygon or MultiPolygon with their GeoJSON coordinate paths."""
    if shapely.get_type_id(geom) == 3:
        rings = shapely.get_rings(geom)
        return rings, [f"coordinates[{r}]" for r in range(len(rings))]
    parts = shapely.get_parts(geom)
    rings, owner = shapely.get_rings(parts, return_index=True)
    ring_number = np.arange(len(owner)) - np.searchsorted(owner, owner)
    return rings, [f"coordinates[{p}][{r}]" for p, r in zip(owner, ring_number, strict=True)]


def _vertex_path(geom: BaseGeometry, index: int) -> str:
    """The GeoJSON path of the ``index``-th coordinate of a Polygon or MultiPolygon."""
    rings, paths = _rings_with_paths(geom)
    ends = np.cumsum(shapely.get_num_coordinates(rings))
    r = int(np.searchsorted(ends, index, side="right"))
    start = int(ends[r - 1]) if r else 0
    return f"{paths[r]}[{index - start}]"


def _geos_fault(
    geom: BaseGeometry,
    rings: NDArray[np.object_] | None = None,
    paths: list[str] | None = None,
    reason_text: str | None = None,
) -> GeometryError | None:
    """Turn GEOS's validity reason into a GeometryError, locating the ring at fault."""
    text = reason_text if reason_text is not None else shapely.is_valid_reason(geom)
    if text is None or text == "Valid Geometry":
        return None
    match = _GEOS_REASON.match(text)
    label = match.group("text") if match else text
    location: tuple[float, float] | None = None
    if match and match.group("x") is not None:
        try:
            x, y = float(match.group("x")), float(match.group("y"))
        except ValueError:
            x = y = math.nan
        if math.isfinite(x) and math.isfinite(y):
            location = (x, y)
    reason, sentence = "invalid", f"The geometry is invalid ({label})"
    for prefix, code, description in _GEOS_CODES:
        if label.startswith(prefix):
            reason, sentence = code, description
            break
    path = None
    if location is not None:
        if rings is None or paths is None:
            rings, paths = _rings_with_paths(geom)
        if len(rings):
            distances = shapely.distance(rings, shapely.Point(location))
            nearest = int(np.argmin(distances))
            scale = max(1.0, abs(location[0]), abs(location[1]))
            if distances[nearest] <= 1e-9 * scale:
                path = paths[nearest]
    return GeometryError(reason, f"{sentence}{_at(location)}.", location=location, path=path)


def validity_reasons(
    geoms: Geometries,
    *,
    max_vertices: int = 10_000,
    bounds: tuple[float, float, float, float] = WORLD_BOUNDS,
) -> NDArray[np.object_]:
    """Check many polygonal geometries at once: None for each good one, else its GeometryError.

    The checks are those of :func:`check_polygonal`, run as array operations; Python only touches
    the faulty geometries, to describe them.

    Parameters
    ----------
    geoms : array_like of shapely.Geometry
        Missing values (None) are reported as ``empty``.
    max_vertices : int, default 10000
    bounds : tuple of 4 floats, default (-180, -90, 180, 90)

    Returns
    -------
    ndarray of object
        Of the input's shape.

    Examples
    --------
    >>> from shapely import Point, Polygon, box
    >>> bow_tie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    >>> faults = validity_reasons([box(0, 0, 1, 1), bow_tie, Point(0, 0), None])
    >>> [None if f is None else f.reason for f in faults]
    [None, 'self_intersection', 'wrong_type', 'empty']
    >>> validity_reasons([])
    array([], dtype=object)
    """
    values = np.asarray(geoms, dtype=object)
    flat = values.ravel()
    faults = np.full(flat.shape, None, dtype=object)
    todo = np.ones(flat.shape, dtype=bool)

    def refuse(mask: NDArray[np.bool_], make: Any) -> None:
        for i in np.flatnonzero(mask & todo):
            faults[i] = make(int(i))
        todo[mask] = False

    def pending() -> NDArray[np.object_]:
        """The geometries not refused yet, None in place of the others."""
        rest = np.full(flat.shape, None, dtype=object)
        rest[todo] = flat[todo]
        return rest

    is_geometry = shapely.is_geometry(flat)
    refuse(
        ~is_geometry & shapely.is_missing(flat),
        lambda i: GeometryError("empty", "The feature has no geometry."),
    )
    refuse(
        ~is_geometry,
        lambda i: GeometryError(
            "wrong_type", f"Expected a shapely geometry, got {type(flat[i]).__name__}."
        ),
    )
    refuse(
        np.asarray(shapely.is_empty(pending())),
        lambda i: GeometryError("empty", "The geometry is empty."),
    )
    type_ids = np.asarray(shapely.get_type_id(pending()))
    refuse(
        ~np.isin(type_ids, _POLYGONAL_TYPE_IDS),
        lambda i: GeometryError(
            "wrong_type",
            f"Expected a Polygon or MultiPolygon, got a {type(flat[i]).__name__}.",
        ),
    )
    counts = np.asarray(shapely.get_num_coordinates(pending()))
    refuse(
        counts > max_vertices,
        lambda i: GeometryError(
            "too_many_vertices",
            f"The geometry has {counts[i]} vertices; at most {max_vertices} are accepted.",
        ),
    )
    _refuse_coordinates(flat, todo, faults, bounds)
    candidates = np.flatnonzero(todo)
    if candidates.size:
        invalid = candidates[~shapely.is_valid(flat[candidates])]
        for i, text in zip(invalid, shapely.is_valid_reason(flat[invalid]), strict=True):
            faults[i] = _geos_fault(flat[i], reason_text=text)
    return faults.reshape(values.shape)


def _refuse_coordinates(
    flat: NDArray[np.object_],
    todo: NDArray[np.bool_],
    faults: NDArray[np.object_],
    bounds: tuple[float, float, float, float],
) -> None:
    """Mark geometries with a non-finite coordinate or one outside ``bounds``."""
    rows = np.flatnonzero(todo)
    if not rows.size:
        return
    xy, owner = shapely.get_coordinates(flat[rows], return_index=True)
    offsets = np.searchsorted(owner, np.arange(len(rows)))
    minx, miny, maxx, maxy = bounds
    not_finite = ~np.isfinite(xy).all(axis=1)
    x, y = xy[:, 0], xy[:, 1]
    outside = ~not_finite & ((x < minx) | (x > maxx) | (y < miny) | (y > maxy))
    for mask, reason in ((not_finite, "nan_coordinate"), (outside, "out_of_range")):
        hits = np.flatnonzero(mask)
        owners, first = np.unique(owner[hits], return_index=True)
        for k, j in zip(owners, hits[first], strict=True):
            i = rows[k]
            if not todo[i]:
                continue
            where = _vertex_path(flat[i], int(j - offsets[k]))
            if reason == "nan_coordinate":
                faults[i] = GeometryError(
                    reason, f"The position {where} is not a finite number.", path=where
                )
            else:
                location = (float(x[j]), float(y[j]))
                faults[i] = GeometryError(
                    reason,
                    f"The position {where}{_at(location)} is outside "
                    f"[{_fmt(minx)}, {_fmt(maxx)}] x [{_fmt(miny)}, {_fmt(maxy)}].",
                    location=location,
                    path=where,
                )
            todo[i] = False


def check_polygonal(
    geom: object,
    *,
    max_vertices: int = 10_000,
    bounds: tuple[float, float, float, float] = WORLD_BOUNDS,
) -> shapely.MultiPolygon:
    """Accept a shapely Polygon or MultiPolygon (read from a file) as a valid MultiPolygon.

    Parameters
    ----------
    geom : shapely.Geometry
    max_vertices : int, default 10000
    bounds : tuple of 4 floats, default (-180, -90, 180, 90)

    Returns
    -------
    shapely.MultiPolygon
        Exteriors counter-clockwise, holes clockwise.

    Raises
    ------
    GeometryError
        For a missing, empty, non-polygonal or invalid geometry, with its location.

    Examples
    --------
    >>> from shapely import Polygon, box
    >>> check_polygonal(box(0, 0, 1, 1)).geom_type
    'MultiPolygon'
    >>> check_polygonal(Polygon())
    Traceback (most recent call last):
    ...
    geo.validate.GeometryError: The geometry is empty.
    """
    geoms = np.empty(1, dtype=object)
    geoms[0] = geom
    fault = validity_reasons(geoms, max_vertices=max_vertices, bounds=bounds)[0]
    if fault is not None:
        raise fault
    multipolygon = (
        geom
        if isinstance(geom, shapely.MultiPolygon)
        else shapely.MultiPolygon([cast(shapely.Polygon, geom)])
    )
    return shapely.orient_polygons(multipolygon, exterior_cw=False)


# --- points -------------------------------------------------------------------------------


def _coordinate(value: object, name: str) -> float:
    if value is None or isinstance(value, bool | np.bool_):
        raise GeometryError("malformed", f"{name} must be a number, got {_describe(value)}.")
    if isinstance(value, str):
        if not value.strip():
            raise GeometryError("malformed", f"{name} is blank.")
    elif not _is_number(value):
        raise GeometryError("malformed", f"{name} must be a number, got {_describe(value)}.")
    try:
        return float(value)  # type: ignore[arg-type]
    except (ValueError, OverflowError):
        raise GeometryError("malformed", f"{name} must be a number, got {value!r}.") from None


def parse_point(
    lon: object,
    lat: object,
    *,
    bounds: tuple[float, float, float, float] = WORLD_BOUNDS,
) -> tuple[float, float]:
    """Parse a longitude / latitude pair (numbers or numeric strings, as in a query string).

    Parameters
    ----------
    lon, lat : float or str
    bounds : tuple of 4 floats, default (-180, -90, 180, 90)
        ``(minx, miny, maxx, maxy)`` the point must fall in.

    Returns
    -------
    tuple of float
        ``(lon, lat)``.

    Raises
    ------
    GeometryError
        ``malformed`` for a missing or non-numeric value, ``nan_coordinate`` for NaN or infinity,
        ``out_of_range`` outside ``bounds``.

    Examples
    --------
    >>> parse_point("106.0", 31.58)
    (106.0, 31.58)
    >>> parse_point(200, 0)
    Traceback (most recent call last):
    ...
    geo.validate.GeometryError: The point (200, 0) is outside [-180, 180] x [-90, 90].
    >>> parse_point("", 31.5)
    Traceback (most recent call last):
    ...
    geo.validate.GeometryError: lon is blank.
    """
    x, y = _coordinate(lon, "lon"), _coordinate(lat, "lat")
    if not (math.isfinite(x) and math.isfinite(y)):
        raise GeometryError(
            "nan_coordinate", f"The point ({x}, {y}) is not made of finite numbers."
        )
    minx, miny, maxx, maxy = bounds
    if not (minx <= x <= maxx and miny <= y <= maxy):
        raise GeometryError(
            "out_of_range",
            f"The point ({_fmt(x)}, {_fmt(y)}) is outside "
            f"[{_fmt(minx)}, {_fmt(maxx)}] x [{_fmt(miny)}, {_fmt(maxy)}].",
            location=(x, y),
        )
    return x, y


def _parse_one(value: object) -> tuple[float, bool]:
    """One cell as (number, malformed): blank cells are NaN, non-numbers are malformed."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return math.nan, False
    if isinstance(value, bool | np.bool_):
        return math.nan, True
    try:
        return float(value), False  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return math.nan, True


def _as_floats(values: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Numbers from a column, and which cells were not numbers at all."""
    column = np.asarray(values)
    if column.dtype.kind in "iuf":
        return column.astype(np.float64), np.zeros(column.shape, dtype=bool)
    if column.dtype.kind == "b":
        return np.full(column.shape, np.nan), np.ones(column.shape, dtype=bool)
    if column.dtype.kind in "US":
        try:
            return column.astype(np.float64), np.zeros(column.shape, dtype=bool)
        except ValueError:
            pass  # some cell is blank or not a number: sort them out one by one
    numbers, malformed = np.frompyfunc(_parse_one, 1, 2)(column.astype(object))
    return np.asarray(numbers, dtype=np.float64), np.asarray(malformed, dtype=bool)


def point_faults(
    lon: ArrayLike,
    lat: ArrayLike,
    bounds: tuple[float, float, float, float] | None = None,
) -> NDArray[np.object_]:
    """Check many points at once, as read from a CSV file of households.

    Parameters
    ----------
    lon, lat : array_like
        Numbers, or strings as read from a file (blank cells count as missing).
    bounds : tuple of 4 floats, optional
        ``(minx, miny, maxx, maxy)`` of the expected area, e.g. the district.

    Returns
    -------
    ndarray of object
        None for a good point, else the first fault among ``"malformed"`` (not a number),
        ``"nan_coordinate"`` (blank, NaN or infinite), ``"out_of_range"`` (not a longitude /
        latitude) and ``"outside_bounds"``.

    Examples
    --------
    >>> point_faults([106.0, np.nan, 200.0, 120.0], [31.5, 31.5, 31.5, 31.5],
    ...              bounds=(105, 31, 107, 32)).tolist()
    [None, 'nan_coordinate', 'out_of_range', 'outside_bounds']
    >>> point_faults(["106.0", "", "east"], ["31.5", "31.5", "31.5"]).tolist()
    [None, 'nan_coordinate', 'malformed']
    >>> point_faults([], [])
    array([], dtype=object)
    """
    x, bad_x = _as_floats(lon)
    y, bad_y = _as_floats(lat)
    if x.shape != y.shape:
        raise ValueError(f"lon and lat must have the same shape, got {x.shape} and {y.shape}")
    faults = np.full(x.shape, None, dtype=object)
    malformed = bad_x | bad_y
    not_finite = ~malformed & ~(np.isfinite(x) & np.isfinite(y))
    ok = ~malformed & ~not_finite
    out_of_range = ok & ((np.abs(x) > 180.0) | (np.abs(y) > 90.0))
    faults[out_of_range] = "out_of_range"
    if bounds is not None:
        minx, miny, maxx, maxy = bounds
        outside = ok & ~out_of_range & ((x < minx) | (x > maxx) | (y < miny) | (y > maxy))
        faults[outside] = "outside_bounds"
    faults[not_finite] = "nan_coordinate"
    faults[malformed] = "malformed"
    return faults
