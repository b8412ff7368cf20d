"""Hazard zones and points, and their impact analysis."""

from __future__ import annotations

from flask import current_app, jsonify, request

from app.api import bp, schemas
from app.api.openapi import documented
from app.api.schemas import parse_body
from app.auth import current_scope, roles_required
from app.errors import BadRequest
from app.extensions import db
from app.headers import attachment
from app.services import hazards as service

EDITORS = ("admin", "leader", "planner")
ANALYSTS = ("admin", "leader", "planner", "worker")


def _max_vertices() -> int:
    return current_app.config["WANGGE_MAX_VERTICES"]


@bp.get("/hazards")
@documented(query=("class", "severity", "bbox", "retired"))
def list_hazards_view():
    """Hazards as a GeoJSON FeatureCollection (filters: class, severity, bbox, retired)."""
    return jsonify(service.list_hazards(db.session, request.args, current_scope()))


@bp.post("/hazards")
@roles_required(*EDITORS)
@documented(body=schemas.HazardCreate, status=201)
def create_hazard_view():
    """Create a hazard zone or point; geometry in the system named by crs."""
    body = parse_body(schemas.HazardCreate)
    item = service.create_hazard(db.session, current_scope(), body, max_vertices=_max_vertices())
    return jsonify(item), 201


@bp.post("/hazards/import")
@roles_required(*EDITORS)
@documented(upload=True, status=201)
def import_hazards_view():
    """Import hazards from GeoJSON, GeoPackage or a zipped Shapefile: all features or none."""
    upload = request.files.get("file")
    if upload is None:
        raise BadRequest(
            "Send the file as multipart/form-data field 'file'.", details={"field": "file"}
        )
    defaults = service.ImportDefaults(
        hazard_class=request.form.get("class") or None,
        severity=request.form.get("severity") or None,
        name=request.form.get("name") or None,
        crs=request.form.get("crs") or None,
    )
    result = service.import_hazard_file(
        db.session,
        current_scope(),
        upload.stream,
        upload.filename,
        defaults,
        limit=current_app.config["MAX_CONTENT_LENGTH"],
        max_vertices=_max_vertices(),
    )
    return jsonify(result), 201


@bp.post("/hazards/impact")
@roles_required(*ANALYSTS)
@documented(body=schemas.ImpactSetRequest, status=201)
def impact_of_set_view():
    """Impact of several hazards (all active ones by default), per hazard class and grid."""
    body = parse_body(schemas.ImpactSetRequest)
    run = service.run_impact(db.session, current_scope(), body.hazard_ids, body.buffer_m)
    return jsonify(run), 201


@bp.get("/hazards/<int4:hazard_id>")
def get_hazard_view(hazard_id: int):
    """One hazard as a GeoJSON Feature."""
    return jsonify(service.get_hazard(db.session, hazard_id, current_scope()))


@bp.patch("/hazards/<int4:hazard_id>")
@roles_required(*EDITORS)
@documented(body=schemas.HazardPatch)
def update_hazard_view(hazard_id: int):
    """Change a live hazard's name, class, severity, description or geometry."""
    body = parse_body(schemas.HazardPatch)
    item = service.update_hazard(
        db.session, current_scope(), hazard_id, body, max_vertices=_max_vertices()
    )
    return jsonify(item)


@bp.delete("/hazards/<int4:hazard_id>")
@roles_required(*EDITORS)
def retire_hazard_view(hazard_id: int):
    """Retire a hazard (sets valid_to); its impact runs are kept."""
    return jsonify(service.retire_hazard(db.session, current_scope(), hazard_id))


@bp.post("/hazards/<int4:hazard_id>/impact")
@roles_required(*ANALYSTS)
@documented(body=schemas.ImpactRequest, status=201)
def impact_view(hazard_id: int):
    """Households, people and vulnerable households inside the zone plus a buffer in metres."""
    body = parse_body(schemas.ImpactRequest)
    run = service.run_impact(db.session, current_scope(), [hazard_id], body.buffer_m)
    return jsonify(run), 201


@bp.get("/hazards/<int4:hazard_id>/impact")
def impact_runs_view(hazard_id: int):
    """The stored impact runs of a hazard, newest first."""
    return jsonify({"items": service.impact_runs(db.session, hazard_id, current_scope())})


@bp.get("/impact-runs/<int4:run_id>")
def impact_run_view(run_id: int):
    """One stored impact run, its door-knock list masked for your role."""
    return jsonify(service.show_impact_run(db.session, current_scope(), run_id))


@bp.get("/impact-runs/<int4:run_id>/door-knock.xlsx")
def door_knock_export_view(run_id: int):
    """The door-knock list of an impact run as an Excel workbook."""
    view = service.show_impact_run(db.session, current_scope(), run_id)
    response = current_app.response_class(
        service.door_knock_workbook(view),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response.headers["Content-Disposition"] = attachment(f"door-knock-{run_id}.xlsx")
    return response
