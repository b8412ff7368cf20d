"""Post-disaster reconstruction sites (重建项目): register, list, progress with photos."""

from __future__ import annotations

from flask import Response, current_app, jsonify, request

from app.api import bp, params, schemas
from app.api.openapi import documented
from app.api.schemas import parse_body
from app.auth import current_scope, roles_required
from app.extensions import db
from app.services import sites as service

EDITORS = ("admin", "leader", "planner")
REPORTERS = ("admin", "leader", "planner", "worker")


def _thresholds() -> service.Thresholds:
    return service.Thresholds.from_config(current_app.config)


def _site(site_id: int) -> dict:
    return service.get_site(db.session, current_scope(), site_id, _thresholds())


@bp.get("/sites")
@documented(query=("bbox",))
def list_sites_view():
    """Sites as a GeoJSON FeatureCollection (filters: type, status colour, owner, bbox)."""
    return jsonify(service.list_sites(db.session, current_scope(), request.args, _thresholds()))


@bp.post("/sites")
@roles_required(*EDITORS)
@documented(body=schemas.SiteCreate, status=201)
def create_site_view():
    """Register a site (Point, Polygon or MultiPolygon in the system named by crs)."""
    body = parse_body(schemas.SiteCreate)
    site_id = service.create_site(
        db.session, current_scope(), body, max_vertices=current_app.config["WANGGE_MAX_VERTICES"]
    )
    return jsonify(_site(site_id)), 201


@bp.get("/sites/<int4:site_id>")
@documented()
def get_site_view(site_id: int):
    """One site: milestones, progress history with photo URLs, status colour and why."""
    return jsonify(_site(site_id))


@bp.patch("/sites/<int4:site_id>")
@roles_required(*REPORTERS)
@documented(body=schemas.SitePatch)
def update_site_view(site_id: int):
    """Set or clear the done dates of a site's milestones."""
    service.update_milestones(db.session, current_scope(), site_id, parse_body(schemas.SitePatch))
    return jsonify(_site(site_id))


@bp.post("/sites/<int4:site_id>/progress")
@roles_required(*REPORTERS)
@documented(status=201)
def report_progress_view(site_id: int):
    """Report progress (multipart: percent, reported_on, note, up to 5 photos)."""
    report = service.ProgressReport(
        percent=request.form.get("percent"),
        reported_on=request.form.get("reported_on"),
        note=request.form.get("note", ""),
        photos=params.uploaded_photos(),
    )
    service.report_progress(
        db.session,
        current_scope(),
        site_id,
        report,
        max_photos=current_app.config["WANGGE_MAX_PHOTOS"],
        max_photo_bytes=current_app.config["WANGGE_MAX_PHOTO_MB"] * 1024 * 1024,
    )
    return jsonify(_site(site_id)), 201


@bp.get("/sites/photos/<int4:photo_id>")
@documented()
def site_photo_view(photo_id: int):
    """A progress photo's bytes with its content type."""
    photo = service.site_photo(db.session, photo_id)
    response = Response(photo.data, mimetype=photo.content_type)
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.set_etag(photo.sha256)
    return response.make_conditional(request)
