"""Areas as GeoJSON features; planners' edits with optimistic concurrency (ETag / If-Match)."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import current_user

from app.api import bp, params
from app.auth import current_scope, roles_required
from app.errors import BadRequest, NotFound
from app.extensions import db
from app.models import LEVEL_VALUES
from app.services import areas as service
from app.services import exports
from app.services import generate as generator
from app.services.imports import areas as area_imports
from app.store import areas as store

EDITORS = ("admin", "planner")


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object (Content-Type: application/json).")
    return body


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
def list_areas():
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


@bp.get("/areas/<code>")
def get_area(code: str):
    feature = store.area_feature(db.session, code)
    if feature is None:
        raise NotFound(f"No area with code {code!r}.")
    response = jsonify(feature)
    response.headers["ETag"] = f'"{feature["properties"]["version"]}"'
    return response


@bp.post("/areas")
@roles_required(*EDITORS)
def create_area():
    body = _body()
    change = service.create_area(
        db.session,
        current_user.id,
        level=body.get("level", "grid"),
        parent_code=body.get("parent"),
        geometry=body.get("geometry"),
        crs=body.get("crs"),
        name=body.get("name"),
        max_vertices=_max_vertices(),
    )
    return _changed(change, 201)


@bp.patch("/areas/<code>")
@roles_required(*EDITORS)
def update_area(code: str):
    body = _body()
    change = service.update_area(
        db.session,
        current_user.id,
        code,
        _expected_version(),
        geometry=body.get("geometry"),
        name=body.get("name"),
        crs=body.get("crs"),
        max_vertices=_max_vertices(),
    )
    return _changed(change)


@bp.delete("/areas/<code>")
@roles_required(*EDITORS)
def retire_area(code: str):
    return _changed(service.retire_area(db.session, current_user.id, code, _expected_version()))


@bp.post("/areas/<code>/split")
@roles_required(*EDITORS)
def split_area(code: str):
    body = _body()
    change = service.split_area(
        db.session,
        current_user.id,
        code,
        _expected_version(),
        line=body.get("line"),
        parts=body.get("parts"),
        crs=body.get("crs"),
    )
    return _changed(change, 201)


@bp.post("/areas/merge")
@roles_required(*EDITORS)
def merge_areas():
    body = _body()
    versions = body.get("versions")
    if versions is not None and not isinstance(versions, dict):
        raise BadRequest("versions must map area codes to the versions you loaded.")
    change = service.merge_areas(
        db.session, current_user.id, body.get("codes"), versions, name=body.get("name")
    )
    return _changed(change, 201)


@bp.get("/areas/<code>/history")
def area_history(code: str):
    return jsonify(service.area_history(db.session, code))


@bp.post("/areas/<code>/restore")
@roles_required(*EDITORS)
def restore_area(code: str):
    body = _body()
    version = body.get("version")
    if not isinstance(version, int):
        raise BadRequest(
            "Send the version to restore as a whole number.", details={"field": "version"}
        )
    change = service.restore_version(
        db.session,
        current_user.id,
        code,
        _expected_version(),
        version,
        max_vertices=_max_vertices(),
    )
    return _changed(change)


@bp.get("/areas/export")
def export_areas():
    export = exports.export_areas(
        db.session,
        current_scope(),
        request.args.get("format", "geojson"),
        level=request.args.get("level", "grid") or None,
        parent_code=request.args.get("parent") or None,
    )
    response = current_app.response_class(export.data, mimetype=export.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response.headers["X-Feature-Count"] = str(export.count)
    return response


@bp.post("/areas/import")
@roles_required(*EDITORS)
def import_areas():
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
def generate_grids(code: str):
    """Preview generated grids for a community; with "commit": true, replace its grids."""
    body = _body()
    kind = body.get("kind")
    if body.get("commit") is True:
        change = generator.commit_grids(db.session, current_user.id, code, kind, body)
        return _changed(change, 201)
    return jsonify(generator.plan_grids(db.session, code, kind, body).to_dict())
