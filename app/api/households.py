"""Households, scoped and masked by role."""

from __future__ import annotations

from dataclasses import asdict

from flask import current_app, jsonify, request

from app.api import bp, params, schemas
from app.api.openapi import documented
from app.auth import current_scope, roles_required
from app.errors import BadRequest
from app.extensions import db
from app.services.households import create_household, import_household_file, list_households


@bp.get("/households")
@documented(query=("grid", "limit", "offset"))
def households_view():
    """Households in your scope; names and phones masked unless your role needs them."""
    limit, offset = params.page()
    items, total = list_households(
        db.session,
        current_scope(),
        grid_code=request.args.get("grid") or None,
        limit=limit,
        offset=offset,
    )
    return jsonify({"items": items, **params.page_links(total, limit, offset)})


@bp.post("/households")
@roles_required("admin", "planner", "worker")
@documented(body=schemas.HouseholdCreate, status=201)
def create_household_view():
    """Add one household; it is assigned to its grid at once."""
    payload = request.get_json(silent=True)
    if payload is None:
        raise BadRequest("The body must be JSON (Content-Type: application/json).")
    item = create_household(db.session, current_scope(), payload)
    return jsonify(item), 201


@bp.post("/households/import")
@roles_required("admin", "planner")
@documented(upload=True, status=201)
def import_households_view():
    """Import households from an uploaded CSV, GeoJSON or GeoPackage: all rows or none."""
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest(
            "Send the file as multipart/form-data field 'file'.", details={"field": "file"}
        )
    result = import_household_file(
        db.session,
        current_scope(),
        upload.stream,
        upload.filename,
        request.form.get("crs", "wgs84"),
        current_app.config["MAX_CONTENT_LENGTH"],
    )
    return jsonify(asdict(result)), 201
