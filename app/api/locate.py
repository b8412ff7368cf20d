"""GET /api/v1/locate: which grid and who is responsible for a point."""

from __future__ import annotations

from dataclasses import asdict

from flask import jsonify, request

from app.api import bp
from app.api.openapi import documented
from app.extensions import db
from app.services.locate import locate
from app.transactions import autocommit


@bp.get("/locate")
@autocommit  # the token check and one statement
@documented(query=("lon", "lat", "crs"))
def locate_view():
    """The grid, community, street and workers for a point, and near-boundary candidates."""
    args = request.args
    location = locate(db.session, args.get("lon"), args.get("lat"), args.get("crs"))
    body = asdict(location)
    body["covered"] = location.grid is not None
    return jsonify(body)
