"""Request bodies of the JSON API: checked at the edge and turned into the OpenAPI document.

Types and shapes are checked here; values (a level that exists, a valid polygon, a cell size
in range) are checked by the services, which know the reasons to give.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.converters import BIGINT_MAX, INT4_MAX
from app.errors import BadRequest, InvalidData
from app.models import HAZARD_CLASSES, SITE_TYPES
from app.services.hazards import MAX_BUFFER_M
from geo.crs import SUPPORTED_CRS

# Ids as the columns hold them: a number past the column's range is refused here, not by
# PostgreSQL.
Int4Id = Annotated[int, Field(ge=1, le=INT4_MAX)]
BigintId = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
AreaCode = Annotated[str, Field(min_length=1, max_length=20)]
CRS = Field(
    None,
    max_length=32,
    description="Coordinate system of the input: wgs84 (default), cgcs2000, "
    "gcj02 (AMap, Tencent, WeChat) or bd09 (Baidu).",
    examples=["gcj02"],
    # The names the server knows (it also takes them in any case); null means wgs84.
    json_schema_extra={"enum": [*SUPPORTED_CRS, "EPSG:4326", "EPSG:4490", None]},
)
POLYGON = Field(description="GeoJSON Polygon or MultiPolygon (or a Feature holding one).")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class AreaCreate(Body):
    """A new area drawn by a planner (typically a grid inside a community)."""

    level: str = Field(
        "grid",
        description="grid, microgrid, community or street.",
        json_schema_extra={"enum": ["grid", "microgrid", "community", "street"]},
    )
    parent: AreaCode = Field(description="Code of the parent area.", examples=["511381001001"])
    geometry: dict[str, Any] = POLYGON
    crs: str | None = CRS
    name: str | None = Field(None, max_length=200)


class AreaPatch(Body):
    """New geometry and/or name; send If-Match with the ETag you loaded."""

    geometry: dict[str, Any] | None = POLYGON
    name: str | None = Field(None, max_length=200)
    crs: str | None = CRS


class AreaSplit(Body):
    """Split by a GeoJSON LineString crossing the area, or into ``parts`` balanced parts."""

    line: dict[str, Any] | None = Field(None, description="GeoJSON LineString.")
    parts: int | None = Field(
        None, ge=2, le=50, description="2 to 50 parts, balanced on households."
    )
    crs: str | None = CRS


class AreaMerge(Body):
    """Adjacent siblings to merge into one new area."""

    codes: list[AreaCode] = Field(min_length=2, max_length=50)
    versions: dict[str, Int4Id] | None = Field(
        None, description="The version of each area as you loaded it: 412 if one changed."
    )
    name: str | None = Field(None, max_length=200)


class AreaRestore(Body):
    version: Int4Id = Field(description="The earlier version to bring back.")


class GridGeneration(Body):
    """Generate a community's grids: a preview, or with commit=true a replacement."""

    kind: str = Field(
        description="square, hexagon (H3) or balanced (on households).",
        json_schema_extra={"enum": ["square", "hexagon", "balanced"]},
    )
    cell_m: float | None = Field(None, description="Square cell size, 50 to 5000 m.")
    resolution: int | None = Field(None, ge=0, le=15, description="H3 resolution, 6 to 11.")
    target_households: int | None = Field(
        None, ge=1, le=INT4_MAX, description="Households per grid, 20 to 5000."
    )
    seed: int = Field(0, ge=0, le=2**32 - 1)
    commit: bool = False


class HouseholdCreate(Body):
    """One household; the same fields and checks as a row of the CSV import."""

    external_id: str | None = Field(None, max_length=64)
    lon: float | Annotated[str, Field(max_length=40)]
    lat: float | Annotated[str, Field(max_length=40)]
    crs: str | None = CRS
    address: str | None = Field(None, max_length=500)
    head_name: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=32)
    members: (
        Annotated[int, Field(ge=0, le=INT4_MAX)] | Annotated[str, Field(max_length=12)] | None
    ) = None
    tags: (
        list[Annotated[str, Field(max_length=32)]] | Annotated[str, Field(max_length=1000)] | None
    ) = None


M = TypeVar("M", bound=Body)


class IncidentCreate(Body):
    """A new incident.  Send JSON, or multipart/form-data with the same fields and up to five
    files in ``photos`` (JPEG, PNG or WebP)."""

    category: str = Field(
        max_length=32, description="Category code (see GET /api/v1/incidents/categories)."
    )
    description: str = Field(max_length=2000)
    lon: float = Field(description="Longitude in the system named by crs.")
    lat: float = Field(description="Latitude in the system named by crs.")
    crs: str | None = CRS
    address: str | None = Field(None, max_length=300)
    channel: str = Field(
        "api",
        description="patrol, hotline or api (default).",
        json_schema_extra={"enum": ["patrol", "hotline", "api"]},
    )
    contact_name: str | None = Field(None, max_length=100, description="Personal data.")
    contact_phone: str | None = Field(None, max_length=32, description="Personal data.")


class IncidentStep(Body):
    """One workflow step.  JSON, or multipart/form-data with up to five ``photos``."""

    to: str = Field(
        max_length=16, description="The next status, e.g. accepted, dispatched, closed, rated."
    )
    note: str | None = Field(None, max_length=1000)
    rating: int | None = Field(
        None, ge=1, le=5, description="1 to 5, with to=rated; 1-2 reopens the case."
    )
    duplicate_of: BigintId | None = Field(None, description="The original, with to=duplicate.")


class IncidentReroute(Body):
    """Move an incident to another grid (a near-boundary candidate, or any grid for leaders)."""

    grid: AreaCode = Field(description="Code of the grid to move it to.")
    note: str | None = Field(None, max_length=1000)


class NotificationsRead(Body):
    ids: list[BigintId] | None = Field(
        None, max_length=1000, description="Which to mark read; all when omitted."
    )


class ErrorDetail(BaseModel):
    code: str = Field(examples=["invalid_data"])
    message: str
    details: Any = Field(None, description="The faults: fields, rows, locations, geometries.")


class Error(BaseModel):
    """Every error has this shape, with the HTTP status that fits."""

    error: ErrorDetail


def parse_body(model: type[M], *, form: bool = False) -> M:
    """The request's JSON body as ``model``, or 400 (not JSON) / 422 (wrong shape).

    With ``form``, a multipart or url-encoded form is read the same way (files aside).
    """
    if form and request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        payload = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
    else:
        payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise BadRequest("The body must be a JSON object (Content-Type: application/json).")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        faults = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        raise InvalidData(
            f"The request body is not a valid {model.__name__}: "
            f"{faults[0]['field']}: {faults[0]['message']}.",
            details={"field": faults[0]["field"], "errors": faults},
        ) from None


class HazardCreate(Body):
    """A hazard zone (Polygon / MultiPolygon) or point of risk."""

    name: str | None = Field(None, max_length=200)
    hazard_class: str = Field(
        description="flood, landslide, earthquake, fire, security or construction.",
        json_schema_extra={"enum": list(HAZARD_CLASSES)},
    )
    severity: int = Field(
        description="1 一般 (IV, blue) to 4 特别严重 (I, red).",
        json_schema_extra={"minimum": 1, "maximum": 4},
    )
    geometry: dict[str, Any] = Field(
        description="GeoJSON Point, Polygon or MultiPolygon (or a Feature holding one)."
    )
    crs: str | None = CRS
    description: str | None = Field(None, max_length=2000)


class HazardPatch(Body):
    """Any of a hazard's name, class, severity, description and geometry."""

    name: str | None = Field(None, max_length=200)
    hazard_class: str | None = Field(None, json_schema_extra={"enum": list(HAZARD_CLASSES)})
    severity: int | None = Field(None, json_schema_extra={"minimum": 1, "maximum": 4})
    geometry: dict[str, Any] | None = None
    crs: str | None = CRS
    description: str | None = Field(None, max_length=2000)


# Documented only: the hazard service checks the range and says why.
BUFFER_M = {"minimum": 0, "maximum": MAX_BUFFER_M}


class ImpactRequest(Body):
    """Grow the zone by ``buffer_m`` metres (0 to 5000, in a local metric projection)."""

    buffer_m: float = Field(
        0, description="Buffer in metres, 0 to 5000.", json_schema_extra=BUFFER_M
    )


class ImpactSetRequest(Body):
    """Several hazards at once (all active hazards when ``hazard_ids`` is omitted)."""

    hazard_ids: list[Int4Id] | None = Field(None, max_length=1000)
    buffer_m: float = Field(
        0, description="Buffer in metres, 0 to 5000.", json_schema_extra=BUFFER_M
    )


class SiteMilestoneIn(Body):
    """A planned milestone of a reconstruction site (done_date once it is reached)."""

    name: str = Field(min_length=1, max_length=200)
    planned_date: date
    done_date: date | None = None


class SiteCreate(Body):
    """A post-disaster reconstruction site (重建项目) with its planned milestones."""

    name: str = Field(min_length=1, max_length=200)
    site_type: str = Field(
        description="housing, road, school or public_facility.",
        json_schema_extra={"enum": list(SITE_TYPES)},
    )
    owner: str = Field(min_length=1, max_length=200, description="The owning organisation.")
    geometry: dict[str, Any] = Field(
        description="GeoJSON Point, Polygon or MultiPolygon (or a Feature holding one)."
    )
    crs: str | None = CRS
    planned_start: date
    planned_end: date
    description: str | None = Field(None, max_length=2000)
    contact_name: str | None = Field(None, max_length=100)
    contact_phone: str | None = Field(None, max_length=32)
    milestones: list[SiteMilestoneIn] = Field(default_factory=list, max_length=50)


class SiteMilestoneDone(Body):
    """Set (a date) or clear (null) the done date of one milestone."""

    id: Int4Id
    done_date: date | None


class SitePatch(Body):
    """Done dates of a site's milestones."""

    milestones: list[SiteMilestoneDone] = Field(min_length=1, max_length=50)


# --- What the API answers ------------------------------------------------------------------
# JSON Schemas of the success bodies, by component name (OpenAPI 3.1 is JSON Schema 2020-12).
# They name the fields clients rely on and their types; objects may carry more fields.

_NULLABLE_STR = {"type": ["string", "null"]}
_CODE_NAME = {
    "type": ["object", "null"],
    "required": ["code", "name"],
    "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
}
_GEOMETRY = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {
            "enum": [
                "Point",
                "MultiPoint",
                "LineString",
                "MultiLineString",
                "Polygon",
                "MultiPolygon",
                "GeometryCollection",
            ]
        },  # fmt: skip
        "coordinates": {"type": "array"},
    },
}


def _feature(properties: dict, required: list[str]) -> dict:
    return {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"const": "Feature"},
            "id": {"type": ["string", "integer"]},
            "geometry": {"oneOf": [{"$ref": "#/components/schemas/Geometry"}, {"type": "null"}]},
            "properties": {"type": "object", "required": required, "properties": properties},
        },
    }


def _collection(feature_ref: str, **extra: dict) -> dict:
    return {
        "type": "object",
        "required": ["type", "features", *extra],
        "properties": {
            "type": {"const": "FeatureCollection"},
            "features": {"type": "array", "items": {"$ref": f"#/components/schemas/{feature_ref}"}},
            **extra,
        },
    }


_PAGE = {
    "total": {"type": "integer", "minimum": 0},
    "limit": {"type": "integer", "minimum": 1},
    "offset": {"type": "integer", "minimum": 0},
    "next_offset": {"type": ["integer", "null"]},
}
_INCIDENT = {
    "type": "object",
    "required": ["id", "status", "category", "description", "lon", "lat", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string"},
        "status_name": {"type": "string"},
        "category": _CODE_NAME,
        "description": {"type": "string"},
        "channel": {"type": "string"},
        "lon": {"type": "number"},
        "lat": {"type": "number"},
        "address": _NULLABLE_STR,
        "grid": _CODE_NAME,
        "community": _CODE_NAME,
        "street": _CODE_NAME,
        "created_at": {"type": "string"},
        "deadline_at": _NULLABLE_STR,
        "closed_at": _NULLABLE_STR,
        "near_boundary": {"type": "boolean"},
        "needs_review": {"type": "boolean"},
        "photo_count": {"type": "integer"},
        "rating": {"type": ["integer", "null"]},
    },
}


def _items(item: dict, **extra: dict) -> dict:
    return {
        "type": "object",
        "required": ["items", *extra],
        "properties": {"items": {"type": "array", "items": item}, **extra},
    }


RESPONSES: dict[str, dict] = {
    "Geometry": _GEOMETRY,
    "AreaFeature": _feature(
        {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "level": {"type": "string"},
            "parent": _NULLABLE_STR,
            "version": {"type": "integer"},
            "valid_from": {"type": "string"},
            "valid_to": _NULLABLE_STR,
        },
        ["code", "name", "level", "version"],
    ),
    "AreaPage": _collection("AreaFeature", **_PAGE),
    "AreaChange": {
        "type": "object",
        "required": ["area", "created", "retired", "households", "open_incidents"],
        "properties": {
            "area": {"oneOf": [{"$ref": "#/components/schemas/AreaFeature"}, {"type": "null"}]},
            "created": {"type": "array", "items": {"type": "string"}},
            "retired": {"type": "array", "items": {"type": "string"}},
            "households": {"type": ["object", "null"]},
            "open_incidents": {"type": ["object", "null"]},
        },
    },
    "AreaHistory": {
        "type": "object",
        "required": ["code", "versions"],
        "properties": {
            "code": {"type": "string"},
            "versions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["version", "name", "valid_from", "current"],
                    "properties": {
                        "version": {"type": "integer"},
                        "name": {"type": "string"},
                        "valid_from": {"type": "string"},
                        "valid_to": _NULLABLE_STR,
                        "current": {"type": "boolean"},
                    },
                },
            },
        },
    },
    "AreaImport": {
        "type": "object",
        "required": ["created"],
        "properties": {
            "created": {"type": "array", "items": {"type": "string"}},
            "households": {"type": ["object", "null"]},
        },
    },
    "GeneratedGrids": _collection("Feature", summary={"type": "object"}),
    "Feature": _feature({}, []),
    "FeatureCollection": _collection("Feature"),
    "Coverage": {
        "type": "object",
        "required": ["areas_checked", "overlaps", "gaps", "uncovered_households"],
        "properties": {
            "area": _NULLABLE_STR,
            "areas_checked": {"type": "integer"},
            "overlaps": {"type": "array"},
            "gaps": {"type": "array"},
            "outside_parent": {"type": "array"},
            "uncovered_households": {"type": "integer"},
            "grids_without_worker": {"type": "array", "items": _CODE_NAME},
        },
    },
    "HazardFeature": _feature(
        {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "hazard_class": {
                "enum": ["flood", "landslide", "earthquake", "fire", "security", "construction"]
            },
            "severity": {"type": "integer", "minimum": 1, "maximum": 4},
            "valid_to": _NULLABLE_STR,
        },
        ["id", "hazard_class", "severity"],
    ),  # fmt: skip
    "HazardCollection": _collection("HazardFeature"),
    "HazardImport": {
        "type": "object",
        "required": ["imported", "ids"],
        "properties": {
            "imported": {"type": "integer"},
            "ids": {"type": "array", "items": {"type": "integer"}},
        },
    },
    "ImpactRun": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}},
    "ImpactRuns": _items({"$ref": "#/components/schemas/ImpactRun"}),
    "Households": _items({"type": "object"}, **_PAGE),
    "Household": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}},
    "HouseholdImport": {"type": "object"},
    "Incident": _INCIDENT,
    "IncidentPage": _items({"$ref": "#/components/schemas/Incident"}, **_PAGE),
    "IncidentList": _items(
        {"$ref": "#/components/schemas/Incident"}, total={"type": "integer", "minimum": 0}
    ),
    "Reroute": {
        "type": "object",
        "required": ["id", "grid", "in_your_area"],
        "properties": {
            "id": {"type": "integer"},
            "grid": _CODE_NAME,
            "in_your_area": {"type": "boolean"},
        },
    },
    "Categories": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["code", "name", "deadline_days"],
            "properties": {
                "code": {"type": "string"},
                "name": {"type": "string"},
                "deadline_days": {"type": "integer"},
            },
        },
    },
    "Location": {
        "type": "object",
        "required": ["lon", "lat", "covered", "grid", "workers", "candidates"],
        "properties": {
            "lon": {"type": "number"},
            "lat": {"type": "number"},
            "covered": {"type": "boolean"},
            "grid": {"type": ["object", "null"]},
            "community": {"type": ["object", "null"]},
            "street": {"type": ["object", "null"]},
            "district": {"type": ["object", "null"]},
            "workers": {"type": "array"},
            "candidates": {"type": "array"},
            "near_boundary": {"type": "boolean"},
        },
    },
    "AddressMatches": _items({"type": "object"}, total={"type": "integer", "minimum": 0}),
    "Notifications": _items(
        {
            "type": "object",
            "required": ["id", "kind", "message", "created_at", "read"],
            "properties": {
                "id": {"type": "integer"},
                "kind": {"type": "string"},
                "message": {"type": "string"},
                "incident_id": {"type": ["integer", "null"]},
                "created_at": {"type": "string"},
                "read": {"type": "boolean"},
            },
        },
        unread={"type": "integer", "minimum": 0},
    ),
    "NotificationsMarked": {
        "type": "object",
        "required": ["marked", "unread"],
        "properties": {"marked": {"type": "integer"}, "unread": {"type": "integer"}},
    },
    "SiteFeature": _feature(
        {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "site_type": {"enum": ["housing", "road", "school", "public_facility"]},
            "owner": {"type": "string"},
            "status": {"type": "object"},
        },
        ["id", "name", "site_type", "owner", "status"],
    ),
    "SiteCollection": _collection(
        "SiteFeature",
        counts={
            "type": "object",
            "required": ["green", "yellow", "red"],
            "properties": {c: {"type": "integer"} for c in ("green", "yellow", "red")},
        },
    ),
}
