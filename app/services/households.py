"""Listing households: scoped by the data layer, masked by role, reads of personal data logged."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.errors import BadRequest, Forbidden, InvalidData
from app.services.imports import HOUSEHOLD_COLUMNS, import_households, load_household_frame
from app.services.privacy import log_personal_read, mask_free_text, mask_name, mask_phone
from app.services.readers import copy_upload, remove
from app.services.write_scope import OUTSIDE_REGION
from app.store import households as store
from app.store.scope import Scope


def list_households(
    session: Session, scope: Scope, *, grid_code: str | None, limit: int, offset: int
) -> tuple[list[dict], int]:
    rows, total = store.households_in_scope(
        session, scope, grid_code=grid_code, limit=limit, offset=offset
    )
    items = [asdict(row) for row in rows]
    if scope.sees_personal_data:
        log_personal_read(session, scope, "households", [r.id for r in rows], "household list")
        session.commit()
    else:
        for item in items:
            item["head_name"] = mask_name(item["head_name"])
            item["phone"] = mask_phone(item["phone"])
            item["address"] = mask_free_text(item["address"])
    return items, total


ALLOWED_FIELDS = {
    "external_id",
    "lon",
    "lat",
    "crs",
    "address",
    "head_name",
    "phone",
    "members",
    "tags",
}


def _as_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def create_household(session: Session, scope: Scope, payload: object) -> dict:
    """Add one household from a JSON object, checked exactly as a file import is."""
    if not isinstance(payload, dict):
        raise BadRequest("The body must be a JSON object.")
    unknown = sorted(set(payload) - ALLOWED_FIELDS)
    if unknown:
        raise BadRequest(f"Unknown field(s): {', '.join(unknown)}.", details={"fields": unknown})
    missing = [f for f in ("lon", "lat") if payload.get(f) in (None, "")]
    if missing:
        raise InvalidData(f"Missing field(s): {', '.join(missing)}.", details={"fields": missing})
    crs = payload.get("crs") or "wgs84"
    if not isinstance(crs, str):
        raise InvalidData("crs must be the name of a coordinate system.", details={"field": "crs"})
    row = {column: _as_cell(payload.get(column)) for column in HOUSEHOLD_COLUMNS}
    frame = pd.DataFrame([row], index=[1])
    try:
        load_household_frame(session, frame, unit="item", scope=scope, crs=crs)
    except InvalidData as refused:
        # One household, so a point outside the writer's area is a refusal of the request.
        faults = refused.details if isinstance(refused.details, list) else []
        if any(f.get("message") == f"the point {OUTSIDE_REGION}" for f in faults):
            raise Forbidden(f"The household {OUTSIDE_REGION}.") from None
        raise
    household_id = session.scalar(text("SELECT household_id FROM imported_households"))
    rows, _ = store.households_in_scope(session, Scope.everything(), household_id=household_id)
    created = rows[0]
    session.commit()
    item = asdict(created)
    if not scope.sees_personal_data:
        item["head_name"], item["phone"] = mask_name(item["head_name"]), mask_phone(item["phone"])
        item["address"] = mask_free_text(item["address"])
    return item


def import_household_file(
    session: Session, scope: Scope, upload, filename: str, crs: str, limit: int
):
    """Import an uploaded file (CSV, GeoJSON, GeoPackage); all rows or none."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in (".csv", ".geojson", ".json", ".gpkg"):
        raise BadRequest("Upload a .csv, .geojson or .gpkg file.", details={"field": "file"})
    path = copy_upload(upload, suffix, limit)
    try:
        return import_households(session, path, scope=scope, crs=crs or "wgs84")
    finally:
        remove(path)
