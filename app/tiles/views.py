"""A layer's tile, scoped to the user, gzipped, with a short private cache and an ETag; and
each layer's TileJSON (``/tiles/{layer}.json``) for MapLibre, QGIS and other clients."""

from __future__ import annotations

import gzip

from flask import Response, jsonify, request, url_for

from app.auth import current_scope
from app.extensions import db
from app.services.coverage_map import coverage_tile
from app.services.tilejson import tilejson
from app.tiles import bp

MAX_AGE_SECONDS = 60
MVT_TYPE = "application/vnd.mapbox-vector-tile"
# Level 1 of 9: a 130 KB grid tile shrinks to 57 KB in 4 ms (level 6: 53 KB in 9 ms).
GZIP_LEVEL = 1


@bp.get("/<layer>/<z>/<x>/<y>.pbf")
def tile(layer: str, z: str, x: str, y: str) -> Response:
    body = coverage_tile(db.session, current_scope(), layer, z, x, y)
    response = Response(status=200 if body else 204, mimetype=MVT_TYPE)
    if body and "gzip" in request.accept_encodings:
        body = gzip.compress(body, GZIP_LEVEL, mtime=0)  # mtime=0: same tile, same ETag
        response.content_encoding = "gzip"
    response.set_data(body)
    response.cache_control.private = True
    response.cache_control.max_age = MAX_AGE_SECONDS
    response.vary.update(("Cookie", "Authorization", "Accept-Encoding"))
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/<layer>.json")
def layer_tilejson(layer: str) -> Response:
    template = url_for("tiles.tile", layer=layer, z="0", x="0", y="0", _external=True)
    template = template.removesuffix("/0/0/0.pbf") + "/{z}/{x}/{y}.pbf"
    response = jsonify(tilejson(db.session, current_scope(), layer, template))
    response.cache_control.private = True
    response.cache_control.max_age = MAX_AGE_SECONDS
    response.vary.update(("Cookie", "Authorization"))
    return response
