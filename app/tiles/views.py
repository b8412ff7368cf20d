"""One route: a layer's tile, scoped to the user, with a short private cache and an ETag."""

from __future__ import annotations

from flask import Response, request

from app.auth import current_scope
from app.extensions import db
from app.services.coverage_map import coverage_tile
from app.tiles import bp

MAX_AGE_SECONDS = 60
MVT_TYPE = "application/vnd.mapbox-vector-tile"


@bp.get("/<layer>/<z>/<x>/<y>.pbf")
def tile(layer: str, z: str, x: str, y: str) -> Response:
    body = coverage_tile(db.session, current_scope(), layer, z, x, y)
    response = Response(body, status=200 if body else 204, mimetype=MVT_TYPE)
    response.cache_control.private = True
    response.cache_control.max_age = MAX_AGE_SECONDS
    response.vary.update(("Cookie", "Authorization"))
    response.add_etag()
    return response.make_conditional(request)
