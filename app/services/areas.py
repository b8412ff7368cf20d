"""Planners' edits of areas: create, update, retire, split, merge, history and restore.

Every write locks the parent row first (siblings are checked one writer at a time), fits the
geometry into place (inside the parent within 0.5 m, vertices within 1 m of a neighbour
snapped onto it), refuses overlaps with siblings (409, with the overlapping geometry), keeps
the old version in ``area_versions`` and reassigns only the households in the changed region.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import mapping
from shapely.ops import split as split_by_line
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.errors import (
    BadRequest,
    Conflict,
    InvalidData,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from app.models import CODE_LENGTHS, LEVEL_VALUES, Area, AreaVersion, Level, default_area_name
from app.services.assignment import Reassignment, reassign_region
from app.services.write_scope import require_area_writable
from app.store import areas as store
from app.store.scope import Scope, visible_area_ids
from app.store.scope import area_visible as _area_id_visible
from geo import crs as geocrs
from geo import geojson, partition
from geo.coverage import children_outside
from geo.topology import fit_inside, snap_to_neighbours
from geo.validate import GeometryError, check_polygonal, parse_polygonal

CHILD_TOLERANCE_M = 0.5
SNAP_TOLERANCE_M = 1.0
MIN_OVERLAP_M2 = 0.01  # below this an "overlap" is floating-point noise along a shared edge
MAX_SPLIT_PARTS = 50


@dataclass
class AreaChange:
    """What an edit did: the areas created and retired, and who moved where."""

    area: dict | None
    created: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    reassignment: Reassignment | None = None

    def to_dict(self) -> dict:
        moved = self.reassignment
        return {
            "area": self.area,
            "created": self.created,
            "retired": self.retired,
            "households": None
            if moved is None
            else {
                "moved": moved.households.moved,
                "uncovered": moved.households.uncovered,
                "moves": [vars(m) for m in moved.households.moves],
            },
            "open_incidents": None
            if moved is None
            else {
                "moved": moved.incidents_moved,
                "moves": [vars(m) for m in moved.incidents],
            },
        }


# --- parsing ---------------------------------------------------------------------------------


def parse_geometry(raw: object, crs: str | None, *, max_vertices: int) -> shapely.MultiPolygon:
    """A GeoJSON polygon in ``crs`` as a valid WGS84 MultiPolygon, or 422 naming the fault."""
    try:
        system = geocrs.parse_crs(crs)
    except ValueError as exc:
        raise InvalidData(str(exc), details={"field": "crs"}) from None
    try:
        geom = parse_polygonal(raw, max_vertices=max_vertices)
    except GeometryError as fault:
        raise InvalidData(f"Invalid geometry: {fault.message}", details=fault.to_dict()) from None
    return geocrs.geometry_to_wgs84(geom, system)


def parse_line(raw: object, crs: str | None) -> shapely.LineString:
    system = geocrs.parse_crs(crs) if crs else "wgs84"
    if not isinstance(raw, dict) or raw.get("type") != "LineString":
        raise InvalidData("The split line must be a GeoJSON LineString.", details={"field": "line"})
    try:
        line = shapely.geometry.shape(raw)
    except (ValueError, TypeError, AttributeError, IndexError):
        raise InvalidData("The split line is malformed.", details={"field": "line"}) from None
    if line.is_empty or len(line.coords) < 2 or not np.isfinite(line.coords).all():
        raise InvalidData(
            "The split line needs at least two finite positions.", details={"field": "line"}
        )
    return geocrs.geometry_to_wgs84(line, system)


# ``If-Match: *`` (RFC 9110 13.1.1): whatever the current version is.
ANY_VERSION = -1


def parse_version(if_match: str | None) -> int:
    """The area version an ``If-Match`` header names (``"3"``, ``W/"3"`` or ``3``), or
    ANY_VERSION for ``*``."""
    if not if_match:
        raise PreconditionRequired("Send If-Match with the area's ETag (its version) to change it.")
    if if_match.strip() == "*":
        return ANY_VERSION
    value = if_match.strip().removeprefix("W/").strip('"')
    # ASCII digits within the column's range: a header is Latin-1, where "²" is a digit too.
    if not (value.isascii() and value.isdigit() and len(value) <= 9):
        raise BadRequest(f'If-Match must be an area ETag such as "3", got {if_match!r}.')
    return int(value)


# --- fitting into place ---------------------------------------------------------------------


def _location(geom) -> list[float]:
    spot = shapely.point_on_surface(geom)
    return [round(spot.x, 7), round(spot.y, 7)]


def _fit(session: Session, geom, level: str, parent: Area | None, exclude: list[int]):
    """Inside the parent, snapped to neighbours, overlapping no sibling; or an error."""
    parent_shape = to_shape(parent.geom) if parent is not None else None
    if parent_shape is not None:
        geom, outside = fit_inside(geom, parent_shape, tolerance_m=CHILD_TOLERANCE_M)
        if outside is not None:
            raise InvalidData(
                f"The area reaches outside its parent {parent.code} by more than "
                f"{CHILD_TOLERANCE_M} m.",
                details={
                    "reason": "outside_parent",
                    "location": _location(outside),
                    "area_m2": round(float(geocrs.area_m2(outside)), 2),
                    "geometry": geojson.mapping(outside),
                },
            )
    neighbours = [
        shapely.from_wkb(w)
        for w in store.sibling_geometries(
            session, parent.id if parent else None, level, shapely.to_wkb(geom), exclude
        )
    ]
    if parent_shape is not None:
        neighbours.append(parent_shape)
    geom = snap_to_neighbours(geom, neighbours, tolerance_m=SNAP_TOLERANCE_M)
    if parent_shape is not None:
        geom = shapely.MultiPolygon(partition.polygonal_parts_of(geom.intersection(parent_shape)))
    try:
        geom = check_polygonal(geom)
    except GeometryError as fault:
        raise InvalidData(
            f"Snapping to the neighbouring areas made the geometry invalid: {fault.message}",
            details=fault.to_dict(),
        ) from None
    overlaps = store.sibling_overlaps(
        session,
        parent.id if parent else None,
        level,
        [shapely.to_wkb(geom)],
        MIN_OVERLAP_M2,
        exclude,
    )
    if overlaps:
        shapes = [(code, shapely.from_wkb(wkb)) for _, code, wkb in overlaps]
        raise Conflict(
            f"The area overlaps {', '.join(code for code, _ in shapes)}.",
            details={
                "overlaps": [
                    {
                        "code": code,
                        "area_m2": round(float(geocrs.area_m2(shape)), 2),
                        "location": _location(shape),
                        "geometry": geojson.mapping(shape),
                    }
                    for code, shape in shapes
                ]
            },
        )
    return geom


def _children_still_inside(session: Session, area: Area, new_geom) -> None:
    """A new boundary must keep the area's live children inside it (within 0.5 m)."""
    children = session.execute(
        select(Area.code, Area.geom).where(Area.parent_id == area.id, Area.valid_to.is_(None))
    ).all()
    if not children:
        return
    shapes = np.asarray([to_shape(g) for _, g in children], dtype=object)
    outside = children_outside(
        new_geom, shapes, [c for c, _ in children], tolerance_m=CHILD_TOLERANCE_M
    )
    if outside:
        raise Conflict(
            f"The new boundary would leave {', '.join(o.id for o in outside)} partly outside "
            f"{area.code}; change them first.",
            details={
                "outside": [
                    {
                        "code": o.id,
                        "area_m2": round(o.area_m2, 2),
                        "location": _location(o.geometry),
                        "geometry": geojson.mapping(o.geometry),
                    }
                    for o in outside
                ]
            },
        )


def reassign_if_grid(session: Session, level: str, region, actor_id) -> Reassignment | None:
    if level != Level.GRID.value or region is None or region.is_empty:
        return None
    return reassign_region(session, f"SRID=4326;{region.wkt}", actor_id=actor_id)


def wall_clock(session: Session):
    """The wall clock, not the transaction start: an area created and changed in one
    transaction still gets periods that end after they begin."""
    return session.scalar(select(func.clock_timestamp()))


def _archive(session: Session, area: Area, actor_id: int | None, now, note: str) -> None:
    session.add(
        AreaVersion(
            area_id=area.id,
            version=area.version,
            name=area.name,
            parent_id=area.parent_id,
            geom=area.geom,
            valid_from=area.valid_from,
            valid_to=now,
            changed_by=actor_id,
            change_note=note,
        )
    )


def require_editable(session: Session, actor_id: int | None, area: Area) -> None:
    """A planner given an area (``create-user --area``) edits only at or below it."""
    require_area_writable(session, actor_id, area.id, area.code)


def _locked_for_change(
    session: Session, code: str, expected_version: int | None, actor_id: int | None = None
) -> Area:
    """The live area, its siblings locked, checked against the version the client saw."""
    probe = store.live_area(session, code)
    if probe is None:
        raise NotFound(f"No live area with code {code!r}.")
    require_editable(session, actor_id, probe)
    if expected_version is None:
        raise PreconditionRequired("Send If-Match with the area's ETag (its version) to change it.")
    store.lock_children_of(session, probe.parent_id)
    area = store.lock_area(session, code)
    if area is None:
        raise NotFound(f"Area {code} was retired meanwhile.")
    session.refresh(area)
    if expected_version not in (ANY_VERSION, area.version):
        raise PreconditionFailed(
            f"Area {code} has changed since you loaded it (version {area.version}, you sent "
            f"{expected_version}); reload it and apply your edit again.",
            details={"current_version": area.version},
        )
    return area


def new_codes(session: Session, parent: Area, level: str, geoms) -> list[str]:
    width = CODE_LENGTHS[level] - len(parent.code)
    start = store.max_child_sequence(session, parent.code, level) + 1
    order = partition.order_north_to_south_west_to_east(np.asarray(geoms, dtype=object))
    codes = [""] * len(geoms)
    for sequence, index in enumerate(order, start=start):
        codes[index] = f"{parent.code}{sequence:0{width}d}"
    return codes


def _feature(session: Session, code: str) -> dict | None:
    return store.area_feature(session, code)


# --- use cases ------------------------------------------------------------------------------


def create_area(
    session: Session,
    actor_id: int | None,
    *,
    level: str,
    parent_code: str | None,
    geometry: object,
    crs: str | None = None,
    name: str | None = None,
    max_vertices: int,
) -> AreaChange:
    """Add an area (typically a grid) drawn by a planner."""
    if level not in LEVEL_VALUES:
        raise InvalidData(
            f"Unknown level {level!r}; expected one of {', '.join(LEVEL_VALUES)}.",
            details={"field": "level"},
        )
    expected_parent = Level(level).depth - 1
    if expected_parent < 0:
        raise InvalidData("Districts are imported, not drawn.", details={"field": "level"})
    geom = parse_geometry(geometry, crs, max_vertices=max_vertices)
    parent = store.live_area(session, parent_code or "")
    if parent is None:
        raise InvalidData(
            f"No live parent area with code {parent_code!r}.", details={"field": "parent"}
        )
    if parent.level != list(Level)[expected_parent].value:
        raise InvalidData(
            f"A {level}'s parent must be a {list(Level)[expected_parent].value}; "
            f"{parent.code} is a {parent.level}.",
            details={"field": "parent"},
        )
    require_editable(session, actor_id, parent)
    store.lock_children_of(session, parent.id)
    session.refresh(parent)  # as it is now that we hold the lock
    if parent.valid_to is not None:
        raise Conflict(f"{parent.code} was retired meanwhile.")
    geom = _fit(session, geom, level, parent, exclude=[])
    [code] = new_codes(session, parent, level, [geom])
    area = Area(
        code=code,
        name=(name or default_area_name(code, level))[:200],
        level=level,
        parent_id=parent.id,
        geom=from_shape(geom, srid=4326),
        updated_by=actor_id,
    )
    session.add(area)
    session.flush()
    moved = reassign_if_grid(session, level, geom, actor_id)
    session.commit()
    return AreaChange(_feature(session, code), created=[code], reassignment=moved)


def update_area(
    session: Session,
    actor_id: int | None,
    code: str,
    expected_version: int | None,
    *,
    geometry: object = None,
    name: str | None = None,
    crs: str | None = None,
    max_vertices: int,
    note: str = "",
) -> AreaChange:
    """Change an area's geometry and/or name; 412 if someone else changed it first."""
    if geometry is None and name is None:
        raise BadRequest("Nothing to change: send geometry and/or name.")
    new_geom = parse_geometry(geometry, crs, max_vertices=max_vertices) if geometry else None
    area = _locked_for_change(session, code, expected_version, actor_id)
    old_geom = to_shape(area.geom)
    parent = session.get(Area, area.parent_id) if area.parent_id else None
    now = wall_clock(session)
    _archive(session, area, actor_id, now, note or "edit")
    if new_geom is not None:
        new_geom = _fit(session, new_geom, area.level, parent, exclude=[area.id])
        _children_still_inside(session, area, new_geom)
        area.geom = from_shape(new_geom, srid=4326)
    if name is not None:
        if not name.strip():
            raise InvalidData("The name must not be empty.", details={"field": "name"})
        area.name = name.strip()[:200]
    area.version += 1
    area.valid_from = now
    area.updated_by = actor_id
    session.flush()
    region = old_geom.symmetric_difference(new_geom) if new_geom is not None else None
    moved = reassign_if_grid(session, area.level, region, actor_id)
    session.commit()
    return AreaChange(_feature(session, code), reassignment=moved)


def retire_area(
    session: Session, actor_id: int | None, code: str, expected_version: int | None
) -> AreaChange:
    """Retire an area (its code is never reused); its households become uncovered."""
    area = _locked_for_change(session, code, expected_version, actor_id)
    if store.live_children_count(session, area.id):
        raise Conflict(f"{code} still has live children; retire or move them first.")
    area.valid_to = wall_clock(session)
    area.updated_by = actor_id
    session.flush()
    moved = reassign_if_grid(session, area.level, to_shape(area.geom), actor_id)
    session.commit()
    return AreaChange(_feature(session, code), retired=[code], reassignment=moved)


def _replace(session, actor_id, originals: list[Area], pieces, names) -> AreaChange:
    """Retire ``originals`` and add ``pieces`` under the same parent, in one transaction."""
    if originals[0].parent_id is None:
        raise InvalidData("Districts are imported, not split or merged.")
    parent = session.get(Area, originals[0].parent_id)
    level = originals[0].level
    now = wall_clock(session)
    for area in originals:
        area.valid_to = now
        area.updated_by = actor_id
    session.flush()
    exclude = [a.id for a in originals]
    fitted = [_fit(session, piece, level, parent, exclude=exclude) for piece in pieces]
    codes = new_codes(session, parent, level, fitted)
    for code, geom, name in zip(codes, fitted, names):
        session.add(
            Area(
                code=code,
                name=(name or default_area_name(code, level))[:200],
                level=level,
                parent_id=parent.id,
                geom=from_shape(geom, srid=4326),
                updated_by=actor_id,
            )
        )
    session.flush()
    region = shapely.union_all([to_shape(a.geom) for a in originals])
    moved = reassign_if_grid(session, level, region, actor_id)
    session.commit()
    return AreaChange(
        None, created=sorted(codes), retired=[a.code for a in originals], reassignment=moved
    )


def split_area(
    session: Session,
    actor_id: int | None,
    code: str,
    expected_version: int | None,
    *,
    line: object = None,
    parts: int | None = None,
    crs: str | None = None,
    seed: int = 0,
) -> AreaChange:
    """Split an area by a drawn line, or into ``parts`` cells balanced on its households."""
    if (line is None) == (parts is None):
        raise BadRequest("Send either a line or a number of parts.")
    cutter = parse_line(line, crs) if line is not None else None
    if parts is not None and not (isinstance(parts, int) and 2 <= parts <= MAX_SPLIT_PARTS):
        raise InvalidData(
            f"parts must be a whole number from 2 to {MAX_SPLIT_PARTS}.", details={"field": "parts"}
        )
    area = _locked_for_change(session, code, expected_version, actor_id)
    if store.live_children_count(session, area.id):
        raise Conflict(f"{code} has live children; split them instead.")
    geom = to_shape(area.geom)
    if cutter is not None:
        pieces = [p for p in split_by_line(geom, cutter).geoms if p.area > 0]
        if len(pieces) < 2:
            raise InvalidData(
                "The line does not cut the area in two: it must cross it from edge to edge.",
                details={
                    "reason": "line_does_not_split",
                    "location": list(cutter.interpolate(0.5, normalized=True).coords[0]),
                },
            )
    else:
        points = np.array(
            session.execute(
                text(
                    "SELECT ST_X(h.geom), ST_Y(h.geom) FROM households h "
                    "WHERE ST_Intersects(h.geom, (SELECT geom FROM areas WHERE id = :id))"
                ),
                {"id": area.id},
            ).all(),
            dtype=float,
        ).reshape(-1, 2)
        pieces = list(
            partition.split_around_points(geom, points, parts, np.random.default_rng(seed))
        )
    names = [None] * len(pieces)
    return _replace(session, actor_id, [area], pieces, names)


def merge_areas(
    session: Session,
    actor_id: int | None,
    codes: list[str],
    versions: dict[str, int] | None = None,
    *,
    name: str | None = None,
) -> AreaChange:
    """Merge adjacent siblings into one new area (the originals are retired)."""
    if not isinstance(codes, list) or len(set(codes)) < 2:
        raise InvalidData("Name at least two different areas to merge.", details={"field": "codes"})
    probes = [store.live_area(session, c) for c in codes]
    missing = [c for c, a in zip(codes, probes) if a is None]
    if missing:
        raise NotFound(f"No live area with code {', '.join(missing)}.")
    for probe in probes:
        require_editable(session, actor_id, probe)
    if len({(a.parent_id, a.level) for a in probes}) != 1:
        raise InvalidData(
            "Only siblings (same parent and level) can be merged.", details={"field": "codes"}
        )
    store.lock_children_of(session, probes[0].parent_id)
    areas = [store.lock_area(session, c) for c in codes]
    if None in areas:
        raise NotFound("An area to merge was retired meanwhile; reload and try again.")
    for area in areas:
        session.refresh(area)
        expected = (versions or {}).get(area.code)
        if expected is not None and expected != area.version:
            raise PreconditionFailed(
                f"Area {area.code} has changed since you loaded it.",
                details={"current_version": area.version, "code": area.code},
            )
        if store.live_children_count(session, area.id):
            raise Conflict(f"{area.code} has live children; merge them first.")
    union = shapely.union_all([to_shape(a.geom) for a in areas])
    if len(shapely.get_parts(union)) != 1:
        raise InvalidData(
            "The areas are not adjacent: they must share an edge to be merged.",
            details={"reason": "not_adjacent", "location": _location(union)},
        )
    return _replace(session, actor_id, areas, [union], [name])


def area_history(session: Session, code: str) -> dict:
    area = store.area_by_code(session, code)
    if area is None:
        raise NotFound(f"No area with code {code!r}.")
    current = {
        "version": area.version,
        "name": area.name,
        "valid_from": area.valid_from,
        "valid_to": area.valid_to,
        "changed_by": None,
        "change_note": None,
        "geometry": geojson.mapping(to_shape(area.geom)),
        "current": True,
    }
    if area.updated_by:
        current["changed_by"] = session.scalar(
            text("SELECT username FROM users WHERE id = :id"), {"id": area.updated_by}
        )
    return {"code": code, "versions": store.area_versions(session, area.id) + [current]}


def restore_version(
    session: Session,
    actor_id: int | None,
    code: str,
    expected_version: int | None,
    version: int,
    *,
    max_vertices: int,
) -> AreaChange:
    """Bring back an earlier version's geometry and name, as a new version."""
    area = store.area_by_code(session, code)
    if area is None:
        raise NotFound(f"No area with code {code!r}.")
    old = session.scalar(
        select(AreaVersion).where(AreaVersion.area_id == area.id, AreaVersion.version == version)
    )
    if old is None:
        raise NotFound(f"Area {code} has no version {version}.")
    return update_area(
        session,
        actor_id,
        code,
        expected_version,
        geometry=mapping(to_shape(old.geom)),
        name=old.name,
        max_vertices=max_vertices,
        note=f"restored version {version}",
    )


def area_visible(session: Session, scope: Scope, code: str) -> bool:
    """True when the area ``code`` exists and ``scope`` may see it (its grids, what lies
    below them and the areas above them)."""
    area = store.area_by_code(session, code)
    return area is not None and _area_id_visible(session, scope, area.id)


def visible_communities(session: Session, scope: Scope) -> list[Area]:
    """The live communities ``scope`` may see, by code."""
    stmt = select(Area).where(Area.level == "community", Area.valid_to.is_(None))
    visible = visible_area_ids(session, scope.grid_ids)
    if visible is not None:
        stmt = stmt.where(Area.id.in_(visible))
    return list(session.scalars(stmt.order_by(Area.code)))
