"""GET /api/v1/coverage: the coverage report of an area, each fault with its geometry."""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp
from app.api.openapi import documented
from app.auth import current_scope
from app.extensions import db
from app.services.coverage import coverage_report


@bp.get("/coverage")
@documented(query=("area",))
def coverage_view():
    """Overlaps, gaps, children outside parents, uncovered households, unstaffed grids."""
    report = coverage_report(db.session, request.args.get("area") or None, current_scope())
    return jsonify(report.to_dict())
