"""Request bodies of the JSON API: checked at the edge and turned into the OpenAPI document.

Types and shapes are checked here; values (a level that exists, a valid polygon, a cell size
in range) are checked by the services, which know the reasons to give.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.errors import BadRequest, InvalidData

CRS = Field(
    None,
    description="Coordinate system of the input: wgs84 (default), cgcs2000, "
    "gcj02 (AMap, Tencent, WeChat) or bd09 (Baidu).",
    examples=["gcj02"],
)
POLYGON = Field(description="GeoJSON Polygon or MultiPolygon (or a Feature holding one).")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AreaCreate(Body):
    """A new area drawn by a planner (typically a grid inside a community)."""

    level: str = Field("grid", description="grid, microgrid, community or street.")
    parent: str = Field(description="Code of the parent area.", examples=["511381001001"])
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
    parts: int | None = Field(None, description="2 to 50 parts, balanced on households.")
    crs: str | None = CRS


class AreaMerge(Body):
    """Adjacent siblings to merge into one new area."""

    codes: list[str] = Field(min_length=2)
    versions: dict[str, int] | None = Field(
        None, description="The version of each area as you loaded it: 412 if one changed."
    )
    name: str | None = Field(None, max_length=200)


class AreaRestore(Body):
    version: int = Field(description="The earlier version to bring back.")


class GridGeneration(Body):
    """Generate a community's grids: a preview, or with commit=true a replacement."""

    kind: str = Field(description="square, hexagon (H3) or balanced (on households).")
    cell_m: float | None = Field(None, description="Square cell size, 50 to 5000 m.")
    resolution: int | None = Field(None, description="H3 resolution, 6 to 11.")
    target_households: int | None = Field(None, description="Households per grid, 20 to 5000.")
    seed: int = 0
    commit: bool = False


class HouseholdCreate(Body):
    """One household; the same fields and checks as a row of the CSV import."""

    external_id: str | None = None
    lon: float | str
    lat: float | str
    crs: str | None = CRS
    address: str | None = None
    head_name: str | None = None
    phone: str | None = None
    members: int | str | None = None
    tags: list[str] | str | None = None


M = TypeVar("M", bound=Body)


class IncidentCreate(Body):
    """A new incident.  Send JSON, or multipart/form-data with the same fields and up to five
    files in ``photos`` (JPEG, PNG or WebP)."""

    category: str = Field(description="Category code (see GET /api/v1/incidents/categories).")
    description: str = Field(max_length=2000)
    lon: float = Field(description="Longitude in the system named by crs.")
    lat: float = Field(description="Latitude in the system named by crs.")
    crs: str | None = CRS
    address: str | None = Field(None, max_length=300)
    channel: str = Field("api", description="patrol, hotline or api (default).")
    contact_name: str | None = Field(None, max_length=100, description="Personal data.")
    contact_phone: str | None = Field(None, max_length=32, description="Personal data.")


class IncidentStep(Body):
    """One workflow step.  JSON, or multipart/form-data with up to five ``photos``."""

    to: str = Field(description="The next status, e.g. accepted, dispatched, closed, rated.")
    note: str | None = Field(None, max_length=1000)
    rating: int | None = Field(None, description="1 to 5, with to=rated; 1-2 reopens the case.")
    duplicate_of: int | None = Field(None, description="The original, with to=duplicate.")


class IncidentReroute(Body):
    """Move an incident to another grid (a near-boundary candidate, or any grid for leaders)."""

    grid: str = Field(description="Code of the grid to move it to.")
    note: str | None = Field(None, max_length=1000)


class NotificationsRead(Body):
    ids: list[int] | None = Field(None, description="Which to mark read; all when omitted.")


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
        description="flood, landslide, earthquake, fire, security or construction."
    )
    severity: int = Field(description="1 一般 (IV, blue) to 4 特别严重 (I, red).")
    geometry: dict[str, Any] = Field(
        description="GeoJSON Point, Polygon or MultiPolygon (or a Feature holding one)."
    )
    crs: str | None = CRS
    description: str | None = Field(None, max_length=2000)


class HazardPatch(Body):
    """Any of a hazard's name, class, severity, description and geometry."""

    name: str | None = Field(None, max_length=200)
    hazard_class: str | None = None
    severity: int | None = None
    geometry: dict[str, Any] | None = None
    crs: str | None = CRS
    description: str | None = Field(None, max_length=2000)


class ImpactRequest(Body):
    """Grow the zone by ``buffer_m`` metres (0 to 5000, in a local metric projection)."""

    buffer_m: float = Field(0, description="Buffer in metres, 0 to 5000.")


class ImpactSetRequest(Body):
    """Several hazards at once (all active hazards when ``hazard_ids`` is omitted)."""

    hazard_ids: list[int] | None = None
    buffer_m: float = Field(0, description="Buffer in metres, 0 to 5000.")


class SiteMilestoneIn(Body):
    """A planned milestone of a reconstruction site (done_date once it is reached)."""

    name: str = Field(min_length=1, max_length=200)
    planned_date: date
    done_date: date | None = None


class SiteCreate(Body):
    """A post-disaster reconstruction site (重建项目) with its planned milestones."""

    name: str = Field(min_length=1, max_length=200)
    site_type: str = Field(description="housing, road, school or public_facility.")
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

    id: int
    done_date: date | None


class SitePatch(Body):
    """Done dates of a site's milestones."""

    milestones: list[SiteMilestoneDone] = Field(min_length=1, max_length=50)
