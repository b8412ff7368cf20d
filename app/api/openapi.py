"""The OpenAPI 3.1 document of /api/v1, built from the routes and the body schemas.

Each JSON view may carry ``@documented(...)`` metadata (its body model, query parameters,
success status); its summary is the first line of its docstring.  Nothing is written twice:
a new route appears in the document as soon as it is registered.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from werkzeug.routing import IntegerConverter

from app.api import schemas

QUERY = {
    "limit": ("integer", "Page size, 1 to 1000 (default 100)."),
    "offset": ("integer", "Rows to skip (default 0)."),
    "bbox": ("string", "minlon,minlat,maxlon,maxlat (WGS84)."),
    "level": ("string", "district, street, community, grid or microgrid."),
    "parent": ("string", "Code of the parent area."),
    "lon": ("number", "Longitude in the system named by crs."),
    "lat": ("number", "Latitude in the system named by crs."),
    "crs": ("string", "wgs84 (default), cgcs2000, gcj02 or bd09."),
    "grid": ("string", "Only this grid's rows (grid code)."),
    "status": ("string", "Comma-separated statuses, e.g. submitted,dispatched."),
    "category": ("string", "Comma-separated category codes."),
    "mine": ("boolean", "Only incidents assigned to me."),
    "overdue": ("boolean", "Only open incidents past their deadline."),
    "needs_review": ("boolean", "Only incidents accepted outside every grid (or not)."),
    "escalated": ("boolean", "Only overdue incidents escalated to a level above the grid."),
    "since": ("string", "From this day (YYYY-MM-DD, Asia/Shanghai)."),
    "until": ("string", "Up to and including this day (YYYY-MM-DD)."),
    "order": ("string", "newest (default) or deadline."),
    "q": ("string", "Text to search for."),
    "class": (
        "string",
        "Hazard class: flood, landslide, earthquake, fire, security, construction.",
    ),
    "severity": ("integer", "Severity 1 (IV, blue) to 4 (I, red)."),
    "retired": ("boolean", "Include retired hazards."),
    "area": ("string", "Code of the area to check (default: everything)."),
    "format": ("string", "geojson, gpkg, shp (zipped), kml, csv (WKT) or xlsx."),
}
ERRORS = {
    "400": "Malformed request",
    "401": "Not logged in, or no valid bearer token",
    "403": "Your role may not do this",
    "404": "No such area",
    "409": "Conflict: the change would overlap a sibling (the overlap is in details)",
    "412": "The area changed since you loaded it (If-Match is stale)",
    "413": "The body is larger than the limit",
    "422": "Valid JSON, invalid data or geometry (reason and location in details)",
    "428": "If-Match is required",
}


def documented(
    *,
    body: type | None = None,
    query: tuple[str, ...] = (),
    status: int = 200,
    if_match: bool = False,
    upload: bool = False,
    photos: bool = False,
) -> Callable:
    def decorate(view: Callable) -> Callable:
        view.openapi = {
            "body": body,
            "query": query,
            "status": status,
            "if_match": if_match,
            "upload": upload,
            "photos": photos,
        }
        return view

    return decorate


def _operation(view: Callable, path_params: dict[str, str]) -> dict:
    meta = getattr(view, "openapi", {})
    doc = (view.__doc__ or view.__name__.replace("_", " ")).strip().splitlines()
    status = str(meta.get("status", 200))
    operation: dict = {
        "summary": doc[0],
        "operationId": view.__name__,
        "parameters": [
            {"name": p, "in": "path", "required": True, "schema": {"type": kind}}
            for p, kind in path_params.items()
        ]
        + [
            {
                "name": q,
                "in": "query",
                "required": q in ("lon", "lat"),
                "schema": {"type": QUERY[q][0]},
                "description": QUERY[q][1],
            }
            for q in meta.get("query", ())
        ],
        "responses": {status: {"description": "Success"}}
        | {
            code: {
                "description": text,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
            for code, text in ERRORS.items()
        },
    }
    if meta.get("if_match"):
        operation["parameters"].append(
            {
                "name": "If-Match",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": 'The area\'s ETag, e.g. "3".',
            }
        )
    if meta.get("body") is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{meta['body'].__name__}"}
                }
            },
        }
    if meta.get("photos") and meta.get("body") is not None:
        # The same fields as a form, with up to five image files in ``photos``.
        operation["requestBody"]["content"]["multipart/form-data"] = {
            "schema": {
                "allOf": [
                    {"$ref": f"#/components/schemas/{meta['body'].__name__}"},
                    {
                        "type": "object",
                        "properties": {
                            "photos": {
                                "type": "array",
                                "maxItems": 5,
                                "items": {"type": "string", "format": "binary"},
                                "description": "JPEG, PNG or WebP images.",
                            }
                        },
                    },
                ]
            }
        }
    if meta.get("upload"):
        operation["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "crs": {"type": "string"},
                            "level": {"type": "string"},
                            "parent": {"type": "string"},
                            "code_field": {"type": "string"},
                            "name_field": {"type": "string"},
                        },
                    }
                }
            },
        }
    return operation


def build_document(app: Flask) -> dict:
    paths: dict[str, dict] = {}
    bodies: set[type] = {schemas.Error}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("api.") or rule.endpoint == "api.openapi":
            continue
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        params = {
            name: "integer" if isinstance(converter, IntegerConverter) else "string"
            for name, converter in rule._converters.items()
        }
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(view, params)
        if getattr(view, "openapi", {}).get("body") is not None:
            bodies.add(view.openapi["body"])
    components = {}
    for model in sorted(bodies, key=lambda m: m.__name__):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Wangge 网格 API",
            "version": "1",
            "description": "Grid-governance areas, households and coverage. Errors are "
            'always {"error": {"code", "message", "details"}}.',
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `flask --app app wangge issue-token`.",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "The browser session; writes also need X-CSRFToken.",
                },
            },
        },
    }
