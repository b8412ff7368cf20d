"""GET /api/v1/coverage: the coverage report of an area, each fault with its geometry."""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp
from app.extensions import db
from app.services.coverage import coverage_report


@bp.get("/coverage")
def coverage_view():
    return jsonify(coverage_report(db.session, request.args.get("area") or None).to_dict())
