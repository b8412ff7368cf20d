"""Importing areas from files: every feature checked, all or nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from geoalchemy2.shape import from_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import BadRequest, Forbidden, InvalidData
from app.models import CODE_LENGTHS, LEVEL_VALUES, Area, Level, default_area_name
from app.services.assignment import Reassignment, reassign_region
from app.services.imports.common import Progress, no_progress, refuse
from app.services.readers import (
    copy_upload,
    file_kind,
    read_geojson,
    read_vector,
    read_wkt_csv,
    remove,
)
from app.services.write_scope import OUTSIDE_REGION, require_area_writable
from app.store import areas as area_store
from geo import coverage as geocoverage
from geo import crs as geocrs
from geo import partition
from geo.validate import GeometryError, check_polygonal, parse_polygonal


@dataclass(frozen=True)
class AreaImport:
    codes: list[str]
    reassignment: Reassignment | None


@dataclass
class _Candidate:
    number: int  # 1-based feature number in the file
    geom: shapely.MultiPolygon
    properties: dict
    parent: Area | None = None
    code: str | None = None
    name: str | None = None


def _read_polygons(path: Path, crs: str, max_vertices: int) -> tuple[list, list[dict], int]:
    """(candidates, faults, feature count) with geometries checked and converted to WGS84."""
    system = geocrs.parse_crs(crs)
    candidates, faults = [], []
    if file_kind(path) == "geojson":
        features = read_geojson(path)
        for number, feature in enumerate(features, start=1):
            try:
                geom = parse_polygonal(feature, max_vertices=max_vertices)
            except GeometryError as fault:
                faults.append({"feature": number, **fault.to_dict()})
                continue
            props = feature.get("properties") or {} if isinstance(feature, dict) else {}
            candidates.append(_Candidate(number, geom, dict(props)))
        total = len(features)
    elif file_kind(path) == "csv":
        frame = read_wkt_csv(path)
        total = len(frame)
        geoms = shapely.from_wkt(frame["wkt"].values, on_invalid="ignore")
        for number, (geom, props) in enumerate(
            zip(geoms, frame.drop(columns="wkt").to_dict("records")), start=1
        ):
            try:
                if geom is None:
                    raise GeometryError("malformed", "The wkt column is not valid WKT.", path="wkt")
                checked = check_polygonal(geom, max_vertices=max_vertices)
            except GeometryError as fault:
                faults.append({"feature": number, **fault.to_dict()})
                continue
            candidates.append(_Candidate(number, checked, props))
    else:
        frame = read_vector(path)
        if frame.crs is not None and frame.crs.to_epsg() not in (4326, 4490):
            if system in ("gcj02", "bd09"):
                raise BadRequest(
                    f"{path.name} is in {frame.crs.name}; --crs {system} applies "
                    "only to longitude/latitude data."
                )
            frame = frame.to_crs(4326)
        total = len(frame)
        for number, (geom, props) in enumerate(
            zip(frame.geometry.values, frame.drop(columns="geometry").to_dict("records")), start=1
        ):
            try:
                checked = check_polygonal(geom, max_vertices=max_vertices)
            except GeometryError as fault:
                faults.append({"feature": number, **fault.to_dict()})
                continue
            candidates.append(_Candidate(number, checked, props))
    if system in ("gcj02", "bd09") and candidates:
        converted = geocrs.geometry_to_wgs84(np.array([c.geom for c in candidates]), system)
        for candidate, geom in zip(candidates, converted):
            candidate.geom = geom
    return candidates, faults, total


def _resolve_parents(session: Session, level: str, parent_code: str | None, items, faults) -> list:
    parent_level = Level(level).depth - 1
    if parent_level < 0:
        if parent_code:
            raise BadRequest("A district has no parent: drop --parent.")
        return items
    expected = list(Level)[parent_level].value
    if parent_code:
        parent = area_store.live_area(session, parent_code)
        if parent is None:
            raise InvalidData(f"No live area with code {parent_code!r} to import into.")
        if parent.level != expected:
            raise InvalidData(
                f"A {level}'s parent must be a {expected}; {parent_code} is a {parent.level}."
            )
        for item in items:
            item.parent = parent
        return items
    points = [shapely.to_wkb(shapely.point_on_surface(i.geom)) for i in items]
    parent_ids = area_store.parents_containing(session, expected, points)
    parents = {
        a.id: a
        for a in session.scalars(
            select(Area).where(Area.id.in_([p for p in parent_ids if p is not None]))
        )
    }
    kept = []
    for item, parent_id in zip(items, parent_ids):
        if parent_id is None:
            spot = shapely.point_on_surface(item.geom)
            faults.append(
                {
                    "feature": item.number,
                    "reason": "no_parent",
                    "message": f"No {expected} covers this feature; give --parent.",
                    "location": [round(spot.x, 7), round(spot.y, 7)],
                    "path": None,
                }
            )
        else:
            item.parent = parents[parent_id]
            kept.append(item)
    return kept


def _assign_codes_and_names(session, level, items, code_field, name_field, faults) -> None:
    length = CODE_LENGTHS[level]
    by_parent: dict[int | None, list[_Candidate]] = {}
    for item in items:
        by_parent.setdefault(item.parent.id if item.parent else None, []).append(item)
    for siblings in by_parent.values():
        parent = siblings[0].parent
        if code_field:
            for item in siblings:
                item.code = str(item.properties.get(code_field, "")).strip()
        elif parent is None:
            raise BadRequest(f"Importing {level} areas needs --code-field.")
        else:
            start = area_store.max_child_sequence(session, parent.code, level) + 1
            width = length - len(parent.code)
            order = partition.order_north_to_south_west_to_east(
                np.array([item.geom for item in siblings])
            )
            for sequence, index in enumerate(order, start=start):
                siblings[index].code = f"{parent.code}{sequence:0{width}d}"
        for item in siblings:
            if name_field:
                item.name = str(item.properties.get(name_field) or "").strip() or None
            if not item.name:
                item.name = default_area_name(item.code, level)
    seen: dict[str, int] = {}
    taken = area_store.existing_codes(session, [i.code for i in items if i.code])
    for item in items:
        problem = None
        if not re.fullmatch(rf"\d{{{length}}}", item.code or ""):
            problem = f"the code {item.code!r} is not {length} digits"
        elif item.parent is not None and not item.code.startswith(item.parent.code):
            problem = (
                f"the code {item.code} does not start with its parent's code {item.parent.code}"
            )
        elif item.code in taken:
            problem = f"the code {item.code} is already used (codes are never reused)"
        elif item.code in seen:
            problem = f"the code {item.code} is used by feature {seen[item.code]} too"
        seen.setdefault(item.code, item.number)
        if problem:
            faults.append(
                {
                    "feature": item.number,
                    "reason": "bad_code",
                    "message": problem,
                    "location": None,
                    "path": None,
                }
            )


def _check_topology(session, level, items, faults) -> None:
    """Children inside their parent (0.5 m), no overlap among siblings or with existing ones."""
    by_parent: dict[int | None, list[_Candidate]] = {}
    for item in items:
        by_parent.setdefault(item.parent.id if item.parent else None, []).append(item)
    for parent_id, siblings in by_parent.items():
        geoms = np.array([s.geom for s in siblings])
        numbers = [s.number for s in siblings]
        parent = siblings[0].parent
        if parent is not None:
            parent_geom = shapely.from_wkb(bytes(parent.geom.data))
            for outside in geocoverage.children_outside(
                parent_geom, geoms, numbers, tolerance_m=0.5
            ):
                spot = shapely.point_on_surface(outside.geometry)
                faults.append(
                    {
                        "feature": outside.id,
                        "reason": "outside_parent",
                        "message": f"{outside.area_m2:.1f} m² lies outside the parent "
                        f"{parent.code}",
                        "location": [round(spot.x, 7), round(spot.y, 7)],
                        "path": None,
                    }
                )
        for overlap in geocoverage.find_overlaps(geoms, numbers, min_area_m2=1.0):
            spot = shapely.point_on_surface(overlap.geometry)
            for number, other in ((overlap.a_id, overlap.b_id), (overlap.b_id, overlap.a_id)):
                faults.append(
                    {
                        "feature": number,
                        "reason": "overlap",
                        "message": f"overlaps feature {other} by {overlap.area_m2:.1f} m²",
                        "location": [round(spot.x, 7), round(spot.y, 7)],
                        "path": None,
                    }
                )
        wkbs = [shapely.to_wkb(g) for g in geoms]
        for index, code, wkb in area_store.sibling_overlaps(session, parent_id, level, wkbs, 1.0):
            spot = shapely.point_on_surface(shapely.from_wkb(wkb))
            faults.append(
                {
                    "feature": numbers[index],
                    "reason": "overlap",
                    "message": f"overlaps the existing {level} {code}",
                    "location": [round(spot.x, 7), round(spot.y, 7)],
                    "path": None,
                }
            )


def load_areas(
    session: Session,
    path: Path,
    *,
    level: str,
    crs: str = "wgs84",
    parent_code: str | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    max_vertices: int = 10_000,
    actor_id: int | None = None,
    progress: Progress = no_progress,
) -> AreaImport:
    """Check every feature of a file and add them all, or none; the caller commits."""
    if level not in LEVEL_VALUES:
        raise BadRequest(f"Unknown level {level!r}; expected one of {', '.join(LEVEL_VALUES)}.")
    try:
        candidates, faults, total = _read_polygons(Path(path), crs, max_vertices)
    except ValueError as exc:  # an unknown crs
        raise InvalidData(str(exc), details={"field": "crs"}) from None
    if total == 0:
        raise InvalidData("The file has no features.")
    progress(1, 4)
    candidates = _resolve_parents(session, level, parent_code, candidates, faults)
    if area_store.editing_limit(session, actor_id) is not None:
        for item in candidates:
            if item.parent is None:
                raise Forbidden(f"Feature {item.number} {OUTSIDE_REGION}.")
            require_area_writable(session, actor_id, item.parent.id, f"Feature {item.number}")
    # Sibling checks and code numbering run one writer at a time under each parent.
    for parent_id in sorted({c.parent.id for c in candidates if c.parent is not None}):
        area_store.lock_children_of(session, parent_id)
    _assign_codes_and_names(session, level, candidates, code_field, name_field, faults)
    progress(2, 4)
    _check_topology(session, level, candidates, faults)
    refuse(faults, total, "features")
    progress(3, 4)
    areas = [
        Area(
            code=c.code,
            name=c.name[:200],
            level=level,
            updated_by=actor_id,
            parent_id=c.parent.id if c.parent else None,
            geom=from_shape(c.geom, srid=4326),
        )
        for c in candidates
    ]
    session.add_all(areas)
    session.flush()
    reassignment = None
    if level == Level.GRID.value:
        region = shapely.to_wkt(shapely.union_all([c.geom for c in candidates]))
        reassignment = reassign_region(session, f"SRID=4326;{region}", actor_id=actor_id)
    progress(4, 4)
    return AreaImport([a.code for a in areas], reassignment)


def import_areas(session: Session, path: Path, **options) -> AreaImport:
    """Import every feature of a file, or none (with every fault listed), in one transaction."""
    result = load_areas(session, path, **options)
    session.commit()
    return result


UPLOAD_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".kml", ".csv")


def import_uploaded_areas(session: Session, stream, filename: str | None, limit: int, **options):
    """Import an uploaded file: saved privately with a size cap, read, then deleted."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise BadRequest(f"Upload one of {', '.join(UPLOAD_SUFFIXES)}.", details={"field": "file"})
    path = copy_upload(stream, suffix, limit)
    try:
        return import_areas(session, path, **options)
    finally:
        remove(path)
