"""Areas as GeoJSON features; planners' edits with optimistic concurrency (ETag / If-Match)."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import current_user

from app.api import bp, params, schemas
from app.api.openapi import documented
from app.api.schemas import parse_body
from app.auth import current_scope, roles_required
from app.errors import BadRequest, NotFound
from app.extensions import db
from app.headers import attachment
from app.models import LEVEL_VALUES
from app.services import areas as service
from app.services import exports
from app.services import generate as generator
from app.services.imports import areas as area_imports
from app.store import areas as store

EDITORS = ("admin", "planner")


def _expected_version() -> int | None:
    header = request.headers.get("If-Match")
    return service.parse_version(header) if header else None


def _max_vertices() -> int:
    return current_app.config["WANGGE_MAX_VERTICES"]


def _changed(change: service.AreaChange, status: int = 200):
    response = jsonify(change.to_dict())
    if change.area:
        response.headers["ETag"] = f'"{change.area["properties"]["version"]}"'
    return response, status


@bp.get("/areas")
@documented(query=("level", "parent", "bbox", "limit", "offset"))
def list_areas():
    """Live areas as a GeoJSON FeatureCollection, paged."""
    level = request.args.get("level") or None
    if level and level not in LEVEL_VALUES:
        raise BadRequest(
            f"Unknown level {level!r}; expected one of {', '.join(LEVEL_VALUES)}.",
            details={"field": "level"},
        )
    limit, offset = params.page()
    features, total = store.area_features(
        db.session,
        level=level,
        parent_code=request.args.get("parent") or None,
        bbox=params.bbox(),
        grid_ids=current_scope().grid_ids,
        limit=limit,
        offset=offset,
    )
    return jsonify(
        {
            "type": "FeatureCollection",
            "features": features,
            **params.page_links(total, limit, offset),
        }
    )


def _require_visible(code: str) -> None:
    if not service.area_visible(db.session, current_scope(), code):
        raise NotFound(f"No area with code {code!r}.")


@bp.get("/areas/<code>")
def get_area(code: str):
    """One area as a GeoJSON Feature, with its version as ETag."""
    _require_visible(code)
    feature = store.area_feature(db.session, code)
    if feature is None:
        raise NotFound(f"No area with code {code!r}.")
    response = jsonify(feature)
    response.headers["ETag"] = f'"{feature["properties"]["version"]}"'
    return response


@bp.post("/areas")
@roles_required(*EDITORS)
@documented(body=schemas.AreaCreate, status=201)
def create_area():
    """Draw a new area; its households are assigned at once."""
    body = parse_body(schemas.AreaCreate)
    change = service.create_area(
        db.session,
        current_user.id,
        level=body.level,
        parent_code=body.parent,
        geometry=body.geometry,
        crs=body.crs,
        name=body.name,
        max_vertices=_max_vertices(),
    )
    return _changed(change, 201)


@bp.patch("/areas/<code>")
@roles_required(*EDITORS)
@documented(body=schemas.AreaPatch, if_match=True)
def update_area(code: str):
    """Change an area's geometry or name (If-Match required)."""
    body = parse_body(schemas.AreaPatch)
    change = service.update_area(
        db.session,
        current_user.id,
        code,
        _expected_version(),
        geometry=body.geometry,
        name=body.name,
        crs=body.crs,
        max_vertices=_max_vertices(),
    )
    return _changed(change)


@bp.delete("/areas/<code>")
@roles_required(*EDITORS)
@documented(if_match=True)
def retire_area(code: str):
    """Retire an area; its code is never reused (If-Match required)."""
    return _changed(service.retire_area(db.session, current_user.id, code, _expected_version()))


@bp.post("/areas/<code>/split")
@roles_required(*EDITORS)
@documented(body=schemas.AreaSplit, status=201, if_match=True)
def split_area(code: str):
    """Split an area by a line or into balanced parts (If-Match required)."""
    body = parse_body(schemas.AreaSplit)
    change = service.split_area(
        db.session,
        current_user.id,
        code,
        _expected_version(),
        line=body.line,
        parts=body.parts,
        crs=body.crs,
    )
    return _changed(change, 201)


@bp.post("/areas/merge")
@roles_required(*EDITORS)
@documented(body=schemas.AreaMerge, status=201)
def merge_areas():
    """Merge adjacent sibling areas into a new one."""
    body = parse_body(schemas.AreaMerge)
    change = service.merge_areas(
        db.session, current_user.id, body.codes, body.versions, name=body.name
    )
    return _changed(change, 201)


@bp.get("/areas/<code>/history")
def area_history(code: str):
    """Every version of an area, with who changed it and when."""
    _require_visible(code)
    return jsonify(service.area_history(db.session, code))


@bp.post("/areas/<code>/restore")
@roles_required(*EDITORS)
@documented(body=schemas.AreaRestore, if_match=True)
def restore_area(code: str):
    """Bring back an earlier version as a new version (If-Match required)."""
    body = parse_body(schemas.AreaRestore)
    change = service.restore_version(
        db.session,
        current_user.id,
        code,
        _expected_version(),
        body.version,
        max_vertices=_max_vertices(),
    )
    return _changed(change)


@bp.get("/areas/export")
@documented(query=("format", "level", "parent"))
def export_areas():
    """Download areas as GeoJSON, GeoPackage, zipped Shapefile, KML, CSV or Excel."""
    export = exports.export_areas(
        db.session,
        current_scope(),
        request.args.get("format", "geojson"),
        level=request.args.get("level", "grid") or None,
        parent_code=request.args.get("parent") or None,
    )
    response = current_app.response_class(export.data, mimetype=export.mimetype)
    response.headers["Content-Disposition"] = attachment(export.filename)
    response.headers["X-Feature-Count"] = str(export.count)
    return response


@bp.post("/areas/import")
@roles_required(*EDITORS)
@documented(upload=True, status=201)
def import_areas():
    """Import areas from an uploaded file: every feature checked, all or none."""
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest(
            "Send the file as multipart/form-data field 'file'.", details={"field": "file"}
        )
    form = request.form
    result = area_imports.import_uploaded_areas(
        db.session,
        upload.stream,
        upload.filename,
        current_app.config["MAX_CONTENT_LENGTH"],
        level=form.get("level", "grid"),
        crs=form.get("crs", "wgs84"),
        parent_code=form.get("parent") or None,
        code_field=form.get("code_field") or None,
        name_field=form.get("name_field") or None,
        actor_id=current_user.id,
        max_vertices=_max_vertices(),
    )
    body = {"created": result.codes, "households": None}
    if result.reassignment:
        body["households"] = {
            "moved": result.reassignment.households.moved,
            "uncovered": result.reassignment.households.uncovered,
        }
    return jsonify(body), 201


@bp.post("/areas/<code>/generate")
@roles_required(*EDITORS)
@documented(body=schemas.GridGeneration)
def generate_grids(code: str):
    """Preview generated grids for a community; with commit, replace its grids."""
    body = parse_body(schemas.GridGeneration)
    options = body.model_dump(exclude_none=True)
    if body.commit:
        change = generator.commit_grids(db.session, current_user.id, code, body.kind, options)
        return _changed(change, 201)
    return jsonify(generator.plan_grids(db.session, code, body.kind, options).to_dict())
