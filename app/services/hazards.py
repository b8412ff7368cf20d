"""Hazard zones and points, and who is exposed to them (impact analysis with door-knock lists).

Geometry arrives as GeoJSON in a named coordinate system and is converted to WGS84 at the edge;
polygons are validated by ``geo.validate`` (reason and location of a fault, nothing repaired).
An impact run stores its inputs and figures, and only household ids for the door-knock list:
names and phones are re-read, and masked for the viewer, each time the run is shown.
"""

from __future__ import annotations

import io
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np
import shapely
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app.errors import BadRequest, Conflict, InvalidData, NotFound
from app.i18n import N_
from app.models.hazards import HAZARD_CLASSES
from app.models.households import HOUSEHOLD_TAGS, VULNERABLE_TAGS
from app.services.areas import parse_geometry
from app.services.exports import append_row
from app.services.imports.common import refuse
from app.services.locate import parse_bbox
from app.services.privacy import log_personal_read, mask_free_text, mask_name, mask_phone
from app.services.readers import copy_upload, file_kind, read_geojson, read_vector, remove
from app.services.write_scope import require_stored_writable, require_writable, write_faults
from app.store import hazards as store
from app.store.scope import Scope, grid_codes
from geo import crs as geocrs
from geo.validate import GeometryError, check_polygonal, parse_point, parse_polygonal

CLASS_LABELS = {
    "flood": "洪涝",
    "landslide": "地质灾害（滑坡）",
    "earthquake": "地震损毁",
    "fire": "火灾",
    "security": "治安",
    "construction": "施工",
}
# Chinese early-warning levels: 4 is the most severe (I 级, red).
SEVERITY_LABELS = {4: "特别严重（I级）", 3: "严重（II级）", 2: "较重（III级）", 1: "一般（IV级）"}
SEVERITY_COLORS = {4: "#d7191c", 3: "#fd8d3c", 2: "#f5d300", 1: "#2c7bb6"}
MAX_BUFFER_M = 5000
FILTERS = ("class", "severity", "bbox", "retired")
NO_WORKER = _l("(no grid worker)")
NO_GRID = _l("(in no grid)")
# Household tags as English message ids, for the door-knock list in the reader's language.
TAG_NAMES = {
    "elderly_alone": N_("elderly living alone"),
    "disabled": N_("disabled"),
    "low_income": N_("low income"),
    "relocated": N_("relocated"),
    "key_person": N_("key person"),
    "left_behind_child": N_("left-behind child"),
    "veteran": N_("veteran"),
}


# --- parsing ---------------------------------------------------------------------------------


def parse_class(value: object, field: str = "hazard_class") -> str:
    if value not in HAZARD_CLASSES:
        raise InvalidData(
            f"Unknown hazard class {value!r}; expected one of {', '.join(HAZARD_CLASSES)}.",
            details={"field": field},
        )
    return str(value)


def parse_severity(value: object, field: str = "severity") -> int:
    """1 (一般, IV) to 4 (特别严重, I); numeric strings are accepted (form fields, files)."""
    number = None
    text = value.strip() if isinstance(value, str) else None
    if isinstance(value, bool):
        pass
    elif isinstance(value, numbers.Integral) or (
        # no float() of a huge integer (OverflowError), no int() of inf or nan
        isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer()
    ):
        number = int(value)
    elif text and text.isascii() and text.isdigit():
        number = int(text)  # ASCII only: int() refuses "²", which isdigit() accepts
    if number is None or not 1 <= number <= 4:
        raise InvalidData(
            f"severity must be an integer from 1 (一般) to 4 (特别严重), got {value!r}.",
            details={"field": field},
        )
    return number


def parse_buffer(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidData(
            "buffer_m must be a finite number of metres.", details={"field": "buffer_m"}
        )
    if not 0 <= value <= MAX_BUFFER_M:
        raise InvalidData(
            f"buffer_m must be between 0 and {MAX_BUFFER_M} metres, got {value}.",
            details={"field": "buffer_m"},
        )
    return float(value)


def _point_from_geojson(raw: Mapping) -> shapely.Point:
    coords = raw.get("coordinates")
    if (
        not isinstance(coords, list)
        or len(coords) not in (2, 3)
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords)
    ):
        raise GeometryError(
            "malformed", "A Point needs coordinates [lon, lat] of two numbers.", path="coordinates"
        )
    return shapely.Point(*parse_point(coords[0], coords[1]))


def parse_hazard_geometry(raw: object, crs: str | None, *, max_vertices: int):
    """A GeoJSON Point, Polygon or MultiPolygon (or a Feature of one) in ``crs``, as WGS84
    shapely geometry; 422 with the reason and location of a fault."""
    geometry = (
        raw.get("geometry") if isinstance(raw, dict) and raw.get("type") == "Feature" else raw
    )
    if not isinstance(geometry, dict):
        raise InvalidData(
            "geometry must be a GeoJSON Point, Polygon or MultiPolygon.",
            details={"field": "geometry", "reason": "malformed"},
        )
    if geometry.get("type") != "Point":
        return parse_geometry(geometry, crs, max_vertices=max_vertices)
    try:
        system = geocrs.parse_crs(crs)
    except ValueError as exc:
        raise InvalidData(str(exc), details={"field": "crs"}) from None
    try:
        point = _point_from_geojson(geometry)
    except GeometryError as fault:
        raise InvalidData(
            f"Invalid geometry: {fault.message}", details={"field": "geometry", **fault.to_dict()}
        ) from None
    return geocrs.geometry_to_wgs84(point, system)


# --- reading ---------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def feature(row, scope: Scope | None = None) -> dict:
    """A hazard row as a GeoJSON Feature with Chinese labels and its severity colour; phone
    and ID numbers in the description are masked unless ``scope`` sees personal data."""
    personal = scope is not None and scope.sees_personal_data
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": row.geometry,
        "properties": {
            "id": row.id,
            "name": row.name,
            "hazard_class": row.hazard_class,
            "class_label": CLASS_LABELS[row.hazard_class],
            "severity": row.severity,
            "severity_label": SEVERITY_LABELS[row.severity],
            "color": SEVERITY_COLORS[row.severity],
            "description": row.description if personal else mask_free_text(row.description),
            "created_at": _iso(row.created_at),
            "updated_at": _iso(row.updated_at),
            "valid_to": _iso(row.valid_to),
        },
    }


def _split(raw: str) -> list[str]:
    return [v.strip() for v in raw.split(",") if v.strip()]


def parse_filter(args: Mapping[str, str]) -> store.HazardFilter:
    """Query parameters as a filter; 400 naming any unknown parameter or value."""
    unknown = sorted(set(args) - set(FILTERS))
    if unknown:
        raise BadRequest(
            f"Unknown filter(s): {', '.join(unknown)}; use {', '.join(FILTERS)}.",
            details={"fields": unknown},
        )
    classes = _split(args.get("class", ""))
    bad = [c for c in classes if c not in HAZARD_CLASSES]
    if bad:
        raise BadRequest(
            f"Unknown hazard class(es) {', '.join(bad)}; expected {', '.join(HAZARD_CLASSES)}.",
            details={"field": "class"},
        )
    severities = _split(args.get("severity", ""))
    if any(s not in ("1", "2", "3", "4") for s in severities):
        raise BadRequest(
            "severity must be comma-separated integers from 1 to 4.", details={"field": "severity"}
        )
    retired = args.get("retired", "false").lower()
    if retired not in ("true", "false", "1", "0"):
        raise BadRequest("retired must be true or false.", details={"field": "retired"})
    return store.HazardFilter(
        classes=tuple(classes),
        severities=tuple(int(s) for s in severities),
        bbox=parse_bbox(args.get("bbox")),
        include_retired=retired in ("true", "1"),
    )


def _grids(scope: Scope | None) -> frozenset[int] | None:
    """The grids a reader is limited to: a hazard or run touching none of them is not theirs."""
    return scope.grid_ids if scope is not None else None


def list_hazards(session: Session, args: Mapping[str, str], scope: Scope | None = None) -> dict:
    rows = store.hazard_rows(session, replace(parse_filter(args), grid_ids=_grids(scope)))
    return {"type": "FeatureCollection", "features": [feature(r, scope) for r in rows]}


def get_hazard(session: Session, hazard_id: int, scope: Scope | None = None) -> dict:
    row = store.hazard_row(session, hazard_id, _grids(scope))
    if row is None:
        raise NotFound(f"No hazard with id {hazard_id}.")
    return feature(row, scope)


# --- writing ---------------------------------------------------------------------------------


def _name(value: object, default: str) -> str:
    name = str(value or "").strip() or default
    if len(name) > 200:
        raise InvalidData("name must be at most 200 characters.", details={"field": "name"})
    return name


def create_hazard(session: Session, scope: Scope, body, *, max_vertices: int) -> dict:
    """A new hazard from a validated ``HazardCreate`` body; committed."""
    hazard_class = parse_class(body.hazard_class)
    severity = parse_severity(body.severity)
    geom = parse_hazard_geometry(body.geometry, body.crs, max_vertices=max_vertices)
    require_writable(session, scope, geom, what="The hazard")
    item = {
        "name": _name(body.name, CLASS_LABELS[hazard_class]),
        "hazard_class": hazard_class,
        "severity": severity,
        "description": body.description or "",
        "wkb": shapely.to_wkb(geom),
    }
    (hazard_id,) = store.insert_hazards(session, [item], scope.user_id)
    session.commit()
    return get_hazard(session, hazard_id, scope)


def _live_row(session: Session, hazard_id: int):
    row = store.hazard_row(session, hazard_id)
    if row is None:
        raise NotFound(f"No hazard with id {hazard_id}.")
    if row.valid_to is not None:
        raise Conflict(f"Hazard {hazard_id} was retired on {row.valid_to:%Y-%m-%d}.")
    return row


def update_hazard(
    session: Session, scope: Scope, hazard_id: int, body, *, max_vertices: int
) -> dict:
    """Change a live hazard's name, class, severity, description and/or geometry; committed."""
    _live_row(session, hazard_id)
    require_stored_writable(session, scope, "hazards", hazard_id, what=f"Hazard {hazard_id}")
    values: dict = {}
    if body.hazard_class is not None:
        values["hazard_class"] = parse_class(body.hazard_class)
    if body.severity is not None:
        values["severity"] = parse_severity(body.severity)
    if body.name is not None:
        values["name"] = _name(body.name, "")
        if not values["name"]:
            raise InvalidData("name must not be blank.", details={"field": "name"})
    if body.description is not None:
        values["description"] = body.description
    if body.geometry is not None:
        geom = parse_hazard_geometry(body.geometry, body.crs, max_vertices=max_vertices)
        require_writable(session, scope, geom, what="The new geometry")
        values["wkb"] = shapely.to_wkb(geom)
    if not values:
        raise BadRequest("Nothing to change: send name, hazard_class, severity or geometry.")
    store.update_hazard(session, hazard_id, values)
    session.commit()
    return get_hazard(session, hazard_id, scope)


def retire_hazard(session: Session, scope: Scope, hazard_id: int) -> dict:
    """Retire a hazard (``valid_to`` = now): kept for history and past impact runs."""
    _live_row(session, hazard_id)
    require_stored_writable(session, scope, "hazards", hazard_id, what=f"Hazard {hazard_id}")
    store.retire_hazard(session, hazard_id)
    session.commit()
    return get_hazard(session, hazard_id, scope)


# --- import ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportDefaults:
    """Values for features whose properties do not give them (form fields of the upload)."""

    hazard_class: str | None = None
    severity: str | None = None
    name: str | None = None
    crs: str | None = None


def _geometry_of(value, max_vertices: int):
    """A shapely geometry read from a file, checked: a point, or a valid polygonal geometry."""
    if isinstance(value, shapely.Point):
        if value.is_empty:
            raise GeometryError("empty", "The point is empty.")
        return shapely.Point(*parse_point(value.x, value.y))
    return check_polygonal(value, max_vertices=max_vertices)


def _geojson_geometry(feature_: object, max_vertices: int):
    geometry = feature_.get("geometry") if isinstance(feature_, dict) else None
    if isinstance(geometry, dict) and geometry.get("type") == "Point":
        return _point_from_geojson(geometry)
    return parse_polygonal(feature_, max_vertices=max_vertices)


def _read_features(path: Path, max_vertices: int) -> tuple[list, list[dict]]:
    """[(number, geometry or GeometryError, properties)] for every feature of the file."""
    out = []
    if file_kind(path) == "geojson":
        for number, item in enumerate(read_geojson(path), start=1):
            props = (item.get("properties") or {}) if isinstance(item, dict) else {}
            try:
                out.append((number, _geojson_geometry(item, max_vertices), props))
            except GeometryError as fault:
                out.append((number, fault, props))
        return out
    frame = read_vector(path)
    if frame.crs is not None and frame.crs.to_epsg() not in (4326, 4490):
        frame = frame.to_crs(4326)
    records = frame.drop(columns="geometry").to_dict("records")
    for number, (geom, props) in enumerate(zip(frame.geometry.values, records), start=1):
        try:
            out.append((number, _geometry_of(geom, max_vertices), props))
        except GeometryError as fault:
            out.append((number, fault, props))
    return out


def _property(props: dict, *names: str):
    for name in names:
        value = props.get(name)
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        if not missing and str(value).strip():
            return value
    return None


def _check_feature(number: int, geom, props: dict, defaults: ImportDefaults, faults: list):
    """The hazard a feature describes, or None with its faults appended."""
    if isinstance(geom, GeometryError):
        faults.append({"feature": number, "field": "geometry", **geom.to_dict()})
        return None
    item, ok = {"wkb": geom}, True
    raw_class = _property(props, "class", "hazard_class") or defaults.hazard_class
    raw_severity = _property(props, "severity") or defaults.severity
    for field, parse, raw in (
        ("hazard_class", parse_class, raw_class),
        ("severity", parse_severity, raw_severity),
    ):
        try:
            item[field] = parse(raw, field)
        except InvalidData as exc:
            faults.append({"feature": number, "field": field, "message": exc.message})
            ok = False
    if not ok:
        return None
    raw_name = _property(props, "name") or defaults.name
    item["name"] = str(raw_name or CLASS_LABELS[item["hazard_class"]]).strip()[:200]
    item["description"] = str(_property(props, "description") or "")
    return item


def import_hazard_file(
    session: Session,
    scope: Scope,
    upload,
    filename: str,
    defaults: ImportDefaults,
    *,
    limit: int,
    max_vertices: int,
) -> dict:
    """Import every feature of a GeoJSON, GeoPackage or zipped Shapefile, or none of them."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in (".geojson", ".json", ".gpkg", ".zip"):
        raise BadRequest(
            "Upload a .geojson, .gpkg or zipped Shapefile (.zip).", details={"field": "file"}
        )
    try:
        system = geocrs.parse_crs(defaults.crs)
    except ValueError as exc:
        raise InvalidData(str(exc), details={"field": "crs"}) from None
    path = copy_upload(upload, suffix, limit)
    try:
        features = _read_features(path, max_vertices)
    finally:
        remove(path)
    if not features:
        raise InvalidData("The file holds no features.", details={"field": "file"})
    faults: list[dict] = []
    items = [_check_feature(n, g, p, defaults, faults) for n, g, p in features]
    refuse(faults, len(features), "features")
    geoms = geocrs.geometry_to_wgs84(np.array([i["wkb"] for i in items], dtype=object), system)
    for item, geom in zip(items, geoms):
        item["wkb"] = shapely.to_wkb(geom)
    where = write_faults(session, scope, [i["wkb"] for i in items])
    for (number, *_rest), fault in zip(features, where):
        if fault:
            faults.append(
                {"feature": number, "field": "geometry", "message": f"the feature {fault}"}
            )
    refuse(faults, len(features), "features")
    ids = store.insert_hazards(session, items, scope.user_id)
    session.commit()
    return {"imported": len(ids), "ids": ids}


# --- impact ----------------------------------------------------------------------------------


def _figures(figures: store.ImpactFigures) -> dict:
    return {
        "households": figures.households,
        "people": figures.people,
        "vulnerable_households": figures.vulnerable_households,
    }


def _chosen_hazards(session: Session, scope: Scope, hazard_ids: list[int] | None) -> list[int]:
    if hazard_ids is None:
        rows = store.hazard_rows(session, store.HazardFilter(grid_ids=scope.grid_ids))
        ids = sorted(r.id for r in rows)
        if not ids:
            raise InvalidData(
                "There is no active hazard to analyse.", details={"field": "hazard_ids"}
            )
        return ids
    if not hazard_ids:
        raise InvalidData("hazard_ids must not be empty.", details={"field": "hazard_ids"})
    ids = sorted(set(hazard_ids))
    found = store.existing_hazard_ids(session, ids)
    if scope.restricted:
        visible = store.hazard_rows(
            session, store.HazardFilter(include_retired=True, grid_ids=scope.grid_ids)
        )
        found = {i: active for i, active in found.items() if i in {r.id for r in visible}}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(
            f"No hazard with id {', '.join(map(str, missing))}.", details={"ids": missing}
        )
    return ids


def run_impact(
    session: Session, scope: Scope, hazard_ids: list[int] | None, buffer_m: object
) -> dict:
    """Analyse the households inside the chosen hazards (grown by ``buffer_m`` metres), store
    the run with its inputs, and return it as the viewer may see it; committed."""
    buffer = parse_buffer(buffer_m)
    ids = _chosen_hazards(session, scope, hazard_ids)
    hazards = [get_hazard(session, i)["properties"] for i in ids]
    store.stage_impact(session, ids, buffer)
    by_class = store.impact_by_class(session)
    for row in by_class:
        row["label"] = CLASS_LABELS[row["hazard_class"]]
    result = {
        "hazards": [{k: h[k] for k in ("id", "name", "hazard_class", "severity")} for h in hazards],
        "totals": _figures(store.impact_totals(session)),
        "by_class": by_class,
        "by_grid": store.impact_by_grid(session),
        "by_grid_class": store.impact_by_grid_class(session),
        # Ids only: names and phones are re-read (and masked for the viewer) when shown.
        "household_ids": store.impacted_household_ids(session),
    }
    params = {"hazard_ids": ids, "buffer_m": buffer, "vulnerable_tags": list(VULNERABLE_TAGS)}
    zone = store.analysed_zone_geojson(session)
    run_id, _created = store.insert_impact_run(
        session, ids[0], buffer, zone, params, result, scope.user_id
    )
    view = impact_run_view(session, scope, run_id)
    session.commit()
    return view


def _run_summary(row, result: dict) -> dict:
    return {
        "id": row.id,
        "hazard_ids": row.params.get("hazard_ids", [row.hazard_id]),
        "buffer_m": row.buffer_m,
        "created_at": _iso(row.created_at),
        "created_by": row.created_by_name,
        "totals": result.get("totals"),
    }


FIGURES = ("households", "people", "vulnerable_households")


@dataclass(frozen=True)
class _ReaderLimits:
    """What a reader limited to some grids may see of stored runs: their grids' codes and the
    hazards that touch them (None for an unrestricted reader). Read once per request."""

    grid_codes: frozenset[str] | None
    hazard_ids: frozenset[int] | None

    @classmethod
    def of(cls, session: Session, scope: Scope) -> _ReaderLimits:
        if not scope.restricted:
            return cls(None, None)
        filter_ = store.HazardFilter(include_retired=True, grid_ids=scope.grid_ids)
        return cls(
            frozenset(grid_codes(session, scope.grid_ids)),
            frozenset(r.id for r in store.hazard_rows(session, filter_)),
        )


def _result_for(limits: _ReaderLimits, row) -> dict:
    """A stored run's figures as a reader may see them: for a reader limited to some grids,
    only those grids' households count, in the totals and per class as in the grid table."""
    result = {k: v for k, v in row.result.items() if k != "by_grid_class"}
    codes = limits.grid_codes
    if codes is None:
        return result
    by_grid = [g for g in result.get("by_grid", []) if g.get("grid_code") in codes]
    per_class: dict[str, dict] = {}
    for g in row.result.get("by_grid_class", []):  # runs stored before it have none
        if g["grid_code"] in codes:
            figures = per_class.setdefault(g["hazard_class"], dict.fromkeys(FIGURES, 0))
            for key in FIGURES:
                figures[key] += g[key] or 0
    hazards = [h for h in result.get("hazards", []) if h["id"] in limits.hazard_ids]
    classes = {h["hazard_class"] for h in hazards}
    return result | {
        "hazards": hazards,
        "totals": {key: sum(g[key] or 0 for g in by_grid) for key in FIGURES},
        "by_class": [
            {
                **c,
                **per_class.get(c["hazard_class"], dict.fromkeys(FIGURES, 0)),
                "hazards": sum(h["hazard_class"] == c["hazard_class"] for h in hazards),
            }
            for c in result.get("by_class", [])
            if c["hazard_class"] in classes
        ],
        "by_grid": by_grid,
    }


def impact_runs(session: Session, hazard_id: int, scope: Scope | None = None) -> list[dict]:
    get_hazard(session, hazard_id, scope)
    limits = _ReaderLimits.of(session, scope or Scope.everything())
    return [
        _run_summary(r, _result_for(limits, r)) for r in store.impact_runs_of(session, hazard_id)
    ]


def _door_knock(session: Session, scope: Scope, household_ids: list[int]) -> list[dict]:
    """Households to visit grouped by worker, masked unless the scope sees personal data."""
    rows = store.door_knock_rows(session, household_ids, scope.grid_ids)
    if scope.sees_personal_data:
        log_personal_read(
            session, scope, "households", sorted({r.id for r in rows}), "hazard door-knock list"
        )
    groups: dict[str, list[dict]] = {}
    for r in rows:
        worker = r.worker_name or str(NO_WORKER if r.grid_code else NO_GRID)
        personal = scope.sees_personal_data
        groups.setdefault(worker, []).append(
            {
                "household_id": r.id,
                "grid_code": r.grid_code,
                "grid_name": r.grid_name,
                "address": r.address if personal else mask_free_text(r.address),
                "head_name": r.head_name if personal else mask_name(r.head_name),
                "phone": r.phone if personal else mask_phone(r.phone),
                "members": r.members,
                "vulnerable": bool(set(r.tags) & set(VULNERABLE_TAGS)),
                "tags": [_tag_name(t) for t in r.tags],
            }
        )
    return [{"worker": name, "households": items} for name, items in groups.items()]


def _tag_name(tag: str) -> str:
    return _(TAG_NAMES[tag]) if tag in TAG_NAMES else HOUSEHOLD_TAGS.get(tag, tag)


def impact_run_view(session: Session, scope: Scope, run_id: int) -> dict:
    """A stored run with its door-knock list re-read for (and masked for) the viewer."""
    row = store.impact_run(session, run_id, scope.grid_ids)
    if row is None:
        raise NotFound(f"No impact run with id {run_id}.")
    result = _result_for(_ReaderLimits.of(session, scope), row)
    household_ids = result.pop("household_ids", [])
    zone = row.zone
    if scope.restricted and zone is not None:
        zone = store.run_zone_within_grids(session, run_id, scope.grid_ids)
    return {
        **_run_summary(row, result),
        **result,
        "zone": zone,
        "personal_data": "shown" if scope.sees_personal_data else "masked",
        "door_knock": _door_knock(session, scope, household_ids),
    }


def show_impact_run(session: Session, scope: Scope, run_id: int) -> dict:
    """One stored run again; the read of personal data is logged and committed."""
    view = impact_run_view(session, scope, run_id)
    session.commit()
    return view


DOOR_KNOCK_HEADERS = (
    _l("Grid worker"),
    _l("Grid code"),
    _l("Grid name"),
    _l("Address"),
    _l("Head of household"),
    _l("Phone"),
    _l("Members"),
    _l("Key groups"),
)


def door_knock_workbook(view: dict) -> bytes:
    """The door-knock list of a run view as an Excel workbook, headed in the current language
    (Chinese by default)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = _("Door-knock list")
    append_row(sheet, [str(header) for header in DOOR_KNOCK_HEADERS])
    for group in view["door_knock"]:
        for h in group["households"]:
            append_row(
                sheet,
                (
                    group["worker"],
                    h["grid_code"] or "",
                    h["grid_name"] or "",
                    h["address"],
                    h["head_name"],
                    h["phone"],
                    h["members"],
                    _(", ").join(h["tags"]),
                ),
            )
    for column, width in zip("ABCDEFGH", (12, 18, 12, 30, 10, 14, 6, 20)):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class HazardMapData:
    features: list[dict]
    bounds: tuple[float, float, float, float] | None


def hazard_map_data(session: Session, scope: Scope | None = None) -> HazardMapData:
    """The active hazards for the map page, each with its bounding box for the list."""
    rows = store.hazard_rows(session, store.HazardFilter(grid_ids=_grids(scope)))
    features = []
    for row in rows:
        item = feature(row)
        item["properties"]["bbox"] = list(shapely.geometry.shape(row.geometry).bounds)
        features.append(item)
    return HazardMapData(features, store.map_extent(session))
