"""OGC API - Features (Part 1: Core, GeoJSON), read-only, for the areas.

QGIS ("WFS / OGC API - Features") and GDAL's OAPIF driver open the grids from here; send a
bearer token (QGIS: an authentication configuration with an HTTP header; GDAL:
``GDAL_HTTP_HEADERS="Authorization: Bearer <token>" ogrinfo OAPIF:http://host/ogc``).  One
collection per area level. The API definition (OpenAPI 3.0) is at ``/ogc/api``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import current_user

from app.api import params
from app.auth import current_scope
from app.errors import BadRequest, NotFound, Unauthorized
from app.extensions import csrf, db
from app.services import areas as area_service
from app.services.locate import parse_bbox
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
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
# bbox-crs values understood, and whether the box is then given latitude first (EPSG:4326's
# axis order) rather than longitude first (CRS84).
BBOX_CRS = {CRS84: False, EPSG4326: True}
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
QUERY_PARAMETERS = {"bbox", "bbox-crs", "limit", "offset", "f"}


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
    extent = store.area_extent(db.session, level=level, grid_ids=current_scope().grid_ids)
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
    if extent is not None:
        body["extent"] = {"spatial": {"bbox": [list(extent)], "crs": CRS84}}
    return body


def _known(collection_id: str) -> str:
    if collection_id not in COLLECTIONS:
        raise NotFound(f"No collection {collection_id!r}; there are {', '.join(COLLECTIONS)}.")
    return COLLECTIONS[collection_id][0]


def _bbox(raw: str | None, crs: str | None) -> tuple[float, float, float, float] | None:
    """The ``bbox`` parameter as (minlon, minlat, maxlon, maxlat).

    Four numbers, or six with heights (``minx,miny,minz,maxx,maxy,maxz``: the heights are
    ignored, areas are flat); in CRS84, or latitude first with ``bbox-crs`` EPSG:4326.
    """
    crs = crs or CRS84
    if crs not in BBOX_CRS:
        raise BadRequest(f"bbox-crs must be {CRS84} or {EPSG4326}.", details={"field": "bbox-crs"})
    if not raw:
        return None
    parts = raw.split(",")
    if len(parts) not in (4, 6):
        raise BadRequest(
            "bbox must be four numbers (minlon,minlat,maxlon,maxlat) or six "
            "(minlon,minlat,minheight,maxlon,maxlat,maxheight).",
            details={"field": "bbox"},
        )
    if len(parts) == 6:
        parts = parts[0:2] + parts[3:5]
    if BBOX_CRS[crs]:
        parts = [parts[1], parts[0], parts[3], parts[2]]
    return parse_bbox(",".join(parts))


@bp.get("")
@bp.get("/")
def landing():
    return jsonify(
        {
            "title": "Wangge 网格",
            "description": "Grid-governance areas: districts, streets, communities, grids.",
            "links": [
                _link("ogc.landing", "self"),
                _link("ogc.api", "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
                _link("ogc.api_docs", "service-doc", "text/html", "The API documentation"),
                _link("ogc.conformance", "conformance", title="Conformance classes"),
                _link("ogc.collections", "data", title="The area collections"),
            ],
        }
    )


@bp.get("/api")
def api():
    response = jsonify(_definition())
    response.headers["Content-Type"] = OPENAPI
    return response


@bp.get("/api.html")
def api_docs():
    return render_template("api_docs.html", spec_url=url_for("ogc.api"))


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
    unknown = set(request.args) - QUERY_PARAMETERS
    if unknown:
        raise BadRequest(f"Unknown parameter(s): {', '.join(sorted(unknown))}.")
    # Part 1: a limit above the maximum is served at the maximum, not refused.
    limit = min(params.integer("limit", DEFAULT_LIMIT), MAX_LIMIT)
    offset = params.integer("offset", 0)
    if limit < 1 or offset < 0:
        raise BadRequest(f"limit must be 1..{MAX_LIMIT} and offset not negative.")
    features, total = store.area_features(
        db.session,
        level=level,
        bbox=_bbox(request.args.get("bbox"), request.args.get("bbox-crs")),
        grid_ids=current_scope().grid_ids,
        limit=limit,
        offset=offset,
    )
    query = {**request.args, "limit": limit}
    links = [
        _link("ogc.items", "self", GEOJSON, collection_id=collection_id, **query),
        _link("ogc.collection", "collection", collection_id=collection_id),
    ]
    if offset + limit < total:
        following = {**query, "offset": offset + limit}
        links.append(_link("ogc.items", "next", GEOJSON, collection_id=collection_id, **following))
    response = jsonify(
        {
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": total,
            "numberReturned": len(features),
            "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
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
    if not area_service.area_visible(db.session, current_scope(), feature_id):
        raise NotFound(f"No feature {feature_id!r} in {collection_id}.")
    feature["links"] = [
        _link("ogc.item", "self", GEOJSON, collection_id=collection_id, feature_id=feature_id),
        _link("ogc.collection", "collection", collection_id=collection_id),
    ]
    response = jsonify(feature)
    response.mimetype = GEOJSON
    return response


def _json(description: str, schema: dict | None = None, mime: str = "application/json") -> dict:
    return {"description": description, "content": {mime: {"schema": schema or {"type": "object"}}}}


def _definition() -> dict:
    """The OpenAPI 3.0 document of this API (the landing page's ``service-desc``)."""
    error = _json("See error.message", {"$ref": "#/components/schemas/error"})
    collection_id = {
        "name": "collectionId",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": list(COLLECTIONS)},
    }
    common = {"401": error, "404": error}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Wangge 网格: OGC API - Features",
            "version": "1.0.0",
            "description": "Read-only areas: one collection per level. Bearer token required.",
        },
        "servers": [{"url": url_for("ogc.landing", _external=True)}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "error": {
                    "type": "object",
                    "properties": {"error": {"type": "object"}},
                    "required": ["error"],
                }
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/": {"get": {"summary": "Landing page", "responses": {"200": _json("Links")}}},
            "/api": {
                "get": {"summary": "This document", "responses": {"200": _json("OpenAPI 3.0")}}
            },
            "/conformance": {
                "get": {"summary": "Conformance classes", "responses": {"200": _json("List")}}
            },
            "/collections": {
                "get": {"summary": "The collections", "responses": {"200": _json("List")}}
            },
            "/collections/{collectionId}": {
                "get": {
                    "summary": "One collection",
                    "parameters": [collection_id],
                    "responses": {"200": _json("The collection"), **common},
                }
            },
            "/collections/{collectionId}/items": {
                "get": {
                    "summary": "The collection's features, in pages",
                    "parameters": [
                        collection_id,
                        {
                            "name": "limit",
                            "in": "query",
                            "style": "form",
                            "explode": False,
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": MAX_LIMIT,
                                "default": DEFAULT_LIMIT,
                            },
                        },
                        {
                            "name": "offset",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0, "default": 0},
                        },
                        {
                            "name": "bbox",
                            "in": "query",
                            "style": "form",
                            "explode": False,
                            "schema": {
                                "type": "array",
                                "minItems": 4,
                                "maxItems": 6,
                                "items": {"type": "number"},
                            },
                        },
                        {
                            "name": "bbox-crs",
                            "in": "query",
                            "schema": {"type": "string", "enum": list(BBOX_CRS), "default": CRS84},
                        },
                    ],
                    "responses": {
                        "200": _json("A GeoJSON FeatureCollection", mime=GEOJSON),
                        "400": error,
                        **common,
                    },
                }
            },
            "/collections/{collectionId}/items/{featureId}": {
                "get": {
                    "summary": "One feature (an area, by its code)",
                    "parameters": [
                        collection_id,
                        {
                            "name": "featureId",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {"200": _json("A GeoJSON Feature", mime=GEOJSON), **common},
                }
            },
        },
    }
