"""Importing areas and households from files: every feature checked, all or nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from geoalchemy2.shape import from_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import BadRequest, InvalidData
from app.models import HOUSEHOLD_TAGS, LEVEL_VALUES, Area, Level
from app.services.assignment import Reassignment, assign_households, reassign_region
from app.services.readers import file_kind, read_geojson, read_vector
from app.store import areas as area_store
from app.store import households as household_store
from geo import coverage as geocoverage
from geo import crs as geocrs
from geo import partition
from geo.validate import GeometryError, check_polygonal, parse_polygonal, point_faults

Progress = Callable[[int, int], None]
MAX_REPORTED_FAULTS = 200
LEVEL_NAMES = {
    "district": "区县",
    "street": "街道",
    "community": "社区",
    "grid": "网格",
    "microgrid": "微网格",
}
HOUSEHOLD_COLUMNS = (
    "external_id",
    "lon",
    "lat",
    "address",
    "head_name",
    "phone",
    "members",
    "tags",
)
POINT_FAULTS = {
    "malformed": "lon and lat must be numbers",
    "nan_coordinate": "lon and lat are missing or not finite",
    "out_of_range": "lon must be in [-180, 180] and lat in [-90, 90]",
    "outside_bounds": "the point lies outside the district",
}
PHONE = re.compile(r"^[0-9+\- ]{0,20}$")
TAG_SEPARATORS = re.compile(r"[;|；]")


def _no_progress(done: int, total: int) -> None:
    pass


def _refuse(faults: list[dict], total: int, unit: str) -> None:
    if faults:
        shown = sorted(faults, key=lambda f: f.get("row") or f.get("feature") or 0)
        raise InvalidData(
            f"{len({f.get('row') or f.get('feature') for f in faults})} of {total} {unit} are "
            "invalid; nothing was imported.",
            details=shown[:MAX_REPORTED_FAULTS],
        )


# --- areas ---------------------------------------------------------------------------------


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
                    "location": [spot.x, spot.y],
                    "path": None,
                }
            )
        else:
            item.parent = parents[parent_id]
            kept.append(item)
    return kept


def _assign_codes_and_names(session, level, items, code_field, name_field, faults) -> None:
    length = area_store.CODE_LENGTHS[level]
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
                item.name = f"{item.code[-3:].lstrip('0') or '0'}号{LEVEL_NAMES[level]}"
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
                        "location": [spot.x, spot.y],
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
                        "location": [spot.x, spot.y],
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
                    "location": [spot.x, spot.y],
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
    progress: Progress = _no_progress,
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
    _assign_codes_and_names(session, level, candidates, code_field, name_field, faults)
    progress(2, 4)
    _check_topology(session, level, candidates, faults)
    _refuse(faults, total, "features")
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


# --- households ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdImport:
    imported: int
    assigned: int
    uncovered: int


def _read_household_table(path: Path) -> tuple[pd.DataFrame, str]:
    """The rows as strings, and what a row number counts ('row' = line in a CSV file)."""
    if file_kind(path) == "csv":
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
                break
            except UnicodeDecodeError:
                continue
            except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
                raise BadRequest(f"{path.name} is not a readable CSV file: {exc}") from None
        else:
            raise BadRequest(f"{path.name} is neither UTF-8 nor GB18030 text.")
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        missing = [c for c in HOUSEHOLD_COLUMNS if c not in frame.columns]
        if missing:
            raise InvalidData(
                f"{path.name} lacks the column(s) {', '.join(missing)}; expected "
                f"{','.join(HOUSEHOLD_COLUMNS)}.",
                details={"missing": missing},
            )
        frame.index = frame.index + 2  # line numbers: the header is line 1
        return frame, "row"
    vector = read_vector(path)
    if vector.crs is not None and vector.crs.to_epsg() not in (4326, 4490):
        vector = vector.to_crs(4326)
    kinds = set(vector.geom_type.dropna().unique())
    if not kinds <= {"Point"}:
        raise InvalidData(f"Household features must be points, not {', '.join(sorted(kinds))}.")
    frame = pd.DataFrame(vector.drop(columns="geometry")).astype(str).replace("None", "")
    frame["lon"] = vector.geometry.x.astype(str).values
    frame["lat"] = vector.geometry.y.astype(str).values
    for column in HOUSEHOLD_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    frame.index = frame.index + 1
    return frame, "feature"


def _household_faults(session, frame: pd.DataFrame, unit: str, system: str):
    faults: list[dict] = []

    def fault(rows, field: str, message: str) -> None:
        faults.extend({unit: int(r), "field": field, "message": message} for r in rows)

    reasons = point_faults(frame["lon"].values, frame["lat"].values)
    for reason in {r for r in reasons if r}:
        fault(frame.index[reasons == reason], "lon/lat", POINT_FAULTS[reason])
    good = reasons == None  # noqa: E711  (element-wise)
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy()
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy()
    x, y = lon.copy(), lat.copy()
    if good.any():
        x[good], y[good] = geocrs.to_wgs84(lon[good], lat[good], system)
        district = area_store.district_union_wkb(session)
        if district is None:
            raise InvalidData("There is no district boundary yet: import the district first.")
        inside = shapely.contains_xy(shapely.from_wkb(bytes(district)), x, y)
        fault(frame.index[good & ~inside], "lon/lat", "the point lies outside the district")
    members = pd.to_numeric(frame["members"].replace("", "1"), errors="coerce")
    bad = members.isna() | (members % 1 != 0) | (members < 1) | (members > 100)
    fault(frame.index[bad.to_numpy()], "members", "members must be a whole number from 1 to 100")
    bad_phone = ~frame["phone"].str.fullmatch(PHONE)
    fault(
        frame.index[bad_phone.to_numpy()],
        "phone",
        "the phone number has characters other than digits, +, - and spaces, or more than 20",
    )
    tags = frame["tags"].map(lambda s: [t.strip() for t in TAG_SEPARATORS.split(s) if t.strip()])
    unknown = tags.map(lambda ts: [t for t in ts if t not in HOUSEHOLD_TAGS])
    for row, names in unknown[unknown.map(bool)].items():
        fault(
            [row], "tags", f"unknown tag(s) {', '.join(names)}; known: {', '.join(HOUSEHOLD_TAGS)}"
        )
    ids = frame["external_id"].str.strip()
    duplicated = ids.ne("") & ids.duplicated(keep="first")
    fault(
        frame.index[duplicated.to_numpy()], "external_id", "the external_id repeats an earlier row"
    )
    taken = household_store.existing_external_ids(session, [i for i in ids.unique() if i])
    fault(
        frame.index[ids.isin(taken).to_numpy()],
        "external_id",
        "a household with this external_id already exists",
    )
    for column in ("address", "head_name"):
        too_long = frame[column].str.len() > (500 if column == "address" else 100)
        fault(frame.index[too_long.to_numpy()], column, f"{column} is too long")
    return faults, x, y, members, tags, ids


def import_households(
    session: Session, path: Path, *, crs: str = "wgs84", progress: Progress = _no_progress
) -> HouseholdImport:
    """Check every row and import them all, or none (listing each bad row and why)."""
    result = load_households(session, path, crs=crs, progress=progress)
    session.commit()
    return result


def load_households(
    session: Session, path: Path, *, crs: str = "wgs84", progress: Progress = _no_progress
) -> HouseholdImport:
    """Check every row and add them all, or none; the caller commits."""
    frame, unit = _read_household_table(Path(path))
    return load_household_frame(session, frame, unit=unit, crs=crs, progress=progress)


def load_household_frame(
    session: Session,
    frame: pd.DataFrame,
    *,
    unit: str,
    crs: str = "wgs84",
    progress: Progress = _no_progress,
) -> HouseholdImport:
    """Check rows of strings (HOUSEHOLD_COLUMNS) and add them all, or none; the caller commits.

    The index numbers the rows in faults (``unit`` says what a number counts).
    """
    try:
        system = geocrs.parse_crs(crs)
    except ValueError as exc:
        raise InvalidData(str(exc), details={"field": "crs"}) from None
    if frame.empty:
        raise InvalidData("The file has no households.")
    faults, x, y, members, tags, ids = _household_faults(session, frame, unit, system)
    _refuse(faults, len(frame), f"{unit}s")
    rows = zip(
        [i or None for i in ids],
        x,
        y,
        frame["address"].str.strip(),
        frame["head_name"].str.strip(),
        frame["phone"].str.strip(),
        members.astype(int),
        tags,
    )
    imported = household_store.copy_households(session, rows, len(frame), progress)
    result = assign_households(session, "SELECT household_id FROM imported_households", {})
    return HouseholdImport(imported, result.assigned, result.uncovered)
