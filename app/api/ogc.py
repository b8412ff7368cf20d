"""OGC API - Features (Part 1: Core, GeoJSON), read-only, for the areas.

QGIS ("WFS / OGC API - Features") and GDAL's OAPIF driver open the grids from here; send a
bearer token (QGIS: an authentication configuration with an HTTP header; GDAL:
``GDAL_HTTP_AUTH=BEARER GDAL_HTTP_BEARER=<token> ogrinfo OAPIF:http://host/ogc``).  One collection per area level.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from flask_login import current_user
from sqlalchemy import text

from app.api import params
from app.auth import current_scope
from app.errors import BadRequest, NotFound, Unauthorized
from app.extensions import csrf, db
from app.store import areas as store

bp = Blueprint("ogc", __name__, url_prefix="/ogc")
csrf.exempt(bp)

COLLECTIONS = {
    "districts": ("district", "区县"),
    "streets": ("street", "街道/镇"),
    "communities": ("community", "社区/村"),
    "grids": ("grid", "网格"),
    "microgrids": ("microgrid", "微网格"),
}
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GEOJSON = "application/geo+json"
MAX_LIMIT = 10_000


@bp.before_request
def require_login() -> None:
    if not current_user.is_authenticated:
        raise Unauthorized("Send 'Authorization: Bearer <token>' (or log in).")


def _link(endpoint: str, rel: str, mime: str = "application/json", title: str = "", **values):
    link = {"href": url_for(endpoint, _external=True, **values), "rel": rel, "type": mime}
    if title:
        link["title"] = title
    return link


def _collection(collection_id: str) -> dict:
    level, title = COLLECTIONS[collection_id]
    extent = db.session.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            "(SELECT ST_Extent(geom) AS e FROM areas WHERE level = :l AND valid_to IS NULL) x"
        ),
        {"l": level},
    ).one()
    body = {
        "id": collection_id,
        "title": title,
        "itemType": "feature",
        "crs": [CRS84],
        "links": [
            _link("ogc.collection", "self", collection_id=collection_id),
            _link("ogc.items", "items", GEOJSON, title, collection_id=collection_id),
        ],
    }
    if extent[0] is not None:
        body["extent"] = {"spatial": {"bbox": [list(extent)], "crs": CRS84}}
    return body


def _known(collection_id: str) -> str:
    if collection_id not in COLLECTIONS:
        raise NotFound(f"No collection {collection_id!r}; there are {', '.join(COLLECTIONS)}.")
    return COLLECTIONS[collection_id][0]


@bp.get("")
@bp.get("/")
def landing():
    return jsonify(
        {
            "title": "Wangge 网格",
            "description": "Grid-governance areas: districts, streets, communities, grids.",
            "links": [
                _link("ogc.landing", "self"),
                _link("ogc.conformance", "conformance"),
                _link("ogc.collections", "data"),
            ],
        }
    )


@bp.get("/conformance")
def conformance():
    return jsonify({"conformsTo": CONFORMANCE})


@bp.get("/collections")
def collections():
    return jsonify(
        {
            "links": [_link("ogc.collections", "self")],
            "collections": [_collection(c) for c in COLLECTIONS],
        }
    )


@bp.get("/collections/<collection_id>")
def collection(collection_id: str):
    _known(collection_id)
    return jsonify(_collection(collection_id))


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str):
    level = _known(collection_id)
    unknown = set(request.args) - {"bbox", "limit", "offset", "f", "bbox-crs"}
    if unknown:
        raise BadRequest(f"Unknown parameter(s): {', '.join(sorted(unknown))}.")
    if request.args.get("bbox-crs", CRS84) != CRS84:
        raise BadRequest(f"bbox-crs must be {CRS84}.")
    limit = params.integer("limit", 100)
    offset = params.integer("offset", 0)
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise BadRequest(f"limit must be 1..{MAX_LIMIT} and offset not negative.")
    features, total = store.area_features(
        db.session,
        level=level,
        bbox=params.bbox(),
        grid_ids=current_scope().grid_ids,
        limit=limit,
        offset=offset,
    )
    links = [_link("ogc.items", "self", GEOJSON, collection_id=collection_id, **request.args)]
    if offset + limit < total:
        following = {**request.args, "offset": offset + limit, "limit": limit}
        links.append(_link("ogc.items", "next", GEOJSON, collection_id=collection_id, **following))
    response = jsonify(
        {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": total,
            "numberReturned": len(features),
            "links": links,
        }
    )
    response.mimetype = GEOJSON
    return response


@bp.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str):
    level = _known(collection_id)
    feature = store.area_feature(db.session, feature_id)
    if (
        feature is None
        or feature["properties"]["level"] != level
        or (feature["properties"]["valid_to"] is not None)
    ):
        raise NotFound(f"No feature {feature_id!r} in {collection_id}.")
    scope = current_scope()
    if scope.grid_ids is not None and level in ("grid", "microgrid"):
        area = store.live_area(db.session, feature_id)
        if area is None or (area.id not in scope.grid_ids and area.parent_id not in scope.grid_ids):
            raise NotFound(f"No feature {feature_id!r} in {collection_id}.")
    feature["links"] = [
        _link("ogc.item", "self", GEOJSON, collection_id=collection_id, feature_id=feature_id),
        _link("ogc.collection", "collection", collection_id=collection_id),
    ]
    response = jsonify(feature)
    response.mimetype = GEOJSON
    return response
