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
from app.api.params import MAX_OFFSET, MAX_PAGE
from app.models import HAZARD_CLASSES, LEVEL_VALUES, STATUS_VALUES
from app.services.exports import FORMATS as EXPORT_FORMATS
from geo.crs import SUPPORTED_CRS as CRS_NAMES

_CODE = {"type": "string", "maxLength": 64}
_FLAG = {"type": "boolean"}
_DAY = {"type": "string", "format": "date", "pattern": "^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$"}
# Each query parameter as the server parses it (app.api.params and the views): a value
# outside these schemas is refused with 400.
QUERY = {
    "limit": ({"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 100},
              "Page size, 1 to 1000 (default 100)."),
    "offset": ({"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
               "Rows to skip (default 0)."),
    "bbox": ({"type": "string", "pattern": r"^-?[0-9.]+,-?[0-9.]+,-?[0-9.]+,-?[0-9.]+$"},
             "minlon,minlat,maxlon,maxlat (WGS84), minlon < maxlon, minlat < maxlat."),
    "level": ({"type": "string", "enum": list(LEVEL_VALUES)},
              "district, street, community, grid or microgrid."),
    "parent": (_CODE, "Code of the parent area."),
    "lon": ({"type": "number", "minimum": -180, "maximum": 180},
            "Longitude in the system named by crs."),
    "lat": ({"type": "number", "minimum": -90, "maximum": 90},
            "Latitude in the system named by crs."),
    "crs": ({"type": "string", "enum": list(CRS_NAMES)},
            "wgs84 (default), cgcs2000, gcj02 or bd09."),
    "grid": (_CODE, "Only this grid's rows (grid code)."),
    "status": ({"type": "string", "pattern": f"^({'|'.join(STATUS_VALUES)})(,({'|'.join(STATUS_VALUES)}))*$"},
               "Comma-separated statuses, e.g. submitted,dispatched."),
    "category": ({"type": "string", "maxLength": 200}, "Comma-separated category codes."),
    "mine": (_FLAG, "Only incidents assigned to me."),
    "overdue": (_FLAG, "Only open incidents past their deadline."),
    "needs_review": (_FLAG, "Only incidents accepted outside every grid (or not)."),
    "escalated": (_FLAG, "Only overdue incidents escalated to a level above the grid."),
    "since": (_DAY, "From this day (YYYY-MM-DD, Asia/Shanghai)."),
    "until": (_DAY, "Up to and including this day (YYYY-MM-DD)."),
    "order": ({"type": "string", "enum": ["newest", "deadline"]}, "newest (default) or deadline."),
    # The server strips the text before counting: no spaces at either end in the document.
    "q": ({"type": "string", "minLength": 2, "maxLength": 100, "pattern": r"^\S(.*\S)?$"},
          "Text to search for."),
    "class": ({"type": "string", "enum": list(HAZARD_CLASSES)},
              "Hazard class: flood, landslide, earthquake, fire, security, construction."),
    "severity": ({"type": "integer", "minimum": 1, "maximum": 4},
                 "Severity 1 (IV, blue) to 4 (I, red)."),
    "retired": (_FLAG, "Include retired hazards."),
    "area": (_CODE, "Code of the area to check (default: everything)."),
    "format": ({"type": "string", "enum": list(EXPORT_FORMATS)},
               "geojson, gpkg, shp (zipped), kml, csv (WKT) or xlsx."),
}  # fmt: skip
# Where one operation bounds a parameter differently from the rest.
QUERY_OVERRIDES = {
    ("locate_address_view", "limit"): {"type": "integer", "minimum": 1, "maximum": 50, "default": 20},
}  # fmt: skip
BINARY = {"schema": {"type": "string", "format": "binary"}}
IMAGES = {t: BINARY for t in ("image/jpeg", "image/png", "image/webp")}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The success answers of each operation: status -> component (JSON) or {media type: content}.
SUCCESS: dict[str, dict[str, str | dict]] = {
    "list_areas": {"200": "AreaPage"},
    "create_area": {"201": "AreaChange"},
    "get_area": {"200": "AreaFeature"},
    "update_area": {"200": "AreaChange"},
    "retire_area": {"200": "AreaChange"},
    "generate_grids": {"200": "GeneratedGrids", "201": "AreaChange"},
    "area_history": {"200": "AreaHistory"},
    "restore_area": {"200": "AreaChange"},
    "split_area": {"201": "AreaChange"},
    "merge_areas": {"201": "AreaChange"},
    "export_areas": {
        "200": {m.split(";")[0]: BINARY for m, _ in EXPORT_FORMATS.values()}
        | {"application/geo+json": {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}}
    },
    "import_areas": {"201": "AreaImport"},
    "coverage_view": {"200": "Coverage"},
    "list_hazards_view": {"200": "HazardCollection"},
    "create_hazard_view": {"201": "HazardFeature"},
    "get_hazard_view": {"200": "HazardFeature"},
    "update_hazard_view": {"200": "HazardFeature"},
    "retire_hazard_view": {"200": "HazardFeature"},
    "import_hazards_view": {"201": "HazardImport"},
    "impact_view": {"201": "ImpactRun"},
    "impact_of_set_view": {"201": "ImpactRun"},
    "impact_runs_view": {"200": "ImpactRuns"},
    "impact_run_view": {"200": "ImpactRun"},
    "door_knock_export_view": {"200": {XLSX: BINARY}},
    "households_view": {"200": "Households"},
    "create_household_view": {"201": "Household"},
    "import_households_view": {"201": "HouseholdImport"},
    "incidents_view": {"200": "IncidentPage"},
    "create_incident_view": {"201": "Incident"},
    "incident_view": {"200": "Incident"},
    "incident_transition_view": {"201": "Incident"},
    "incident_reroute_view": {"200": "Reroute"},
    "incident_photo_view": {"200": IMAGES},
    "incident_categories_view": {"200": "Categories"},
    "incident_queue_view": {"200": "IncidentList"},
    "escalated_incidents_view": {"200": "IncidentList"},
    "locate_view": {"200": "Location"},
    "locate_address_view": {"200": "AddressMatches"},
    "notifications_view": {"200": "Notifications"},
    "notifications_read_view": {"200": "NotificationsMarked"},
    "list_sites_view": {"200": "SiteCollection"},
    "create_site_view": {"201": "SiteFeature"},
    "get_site_view": {"200": "SiteFeature"},
    "update_site_view": {"200": "SiteFeature"},
    "report_progress_view": {"201": "SiteFeature"},
    "site_photo_view": {"200": IMAGES},
}
ERRORS = {
    "400": "Malformed request",
    "401": "Not logged in, or no valid bearer token",
    "403": "Your role may not do this",
    "404": "No such area, incident, hazard, site or photo (or not in your scope)",
    "405": "Method not allowed (a path such as /areas/merge is another operation)",
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


def _success(view: Callable, meta: dict) -> dict:
    answers = SUCCESS.get(view.__name__, {str(meta.get("status", 200)): {}})
    responses = {}
    for status, body in answers.items():
        if isinstance(body, str):
            body = {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}}
        responses[status] = {"description": "Success"} | ({"content": body} if body else {})
    return responses


# Query parameters the server refuses to go without (locate by point, search by text).
REQUIRED_QUERY = ("lon", "lat", "q")


def _query_parameter(view: Callable, name: str) -> dict:
    schema, description = QUERY[name]
    return {
        "name": name,
        "in": "query",
        "required": name in REQUIRED_QUERY,
        "schema": QUERY_OVERRIDES.get((view.__name__, name), schema),
        "description": description,
    }


def _operation(view: Callable, path_params: dict[str, dict]) -> dict:
    meta = getattr(view, "openapi", {})
    doc = (view.__doc__ or view.__name__.replace("_", " ")).strip().splitlines()
    operation: dict = {
        "summary": doc[0],
        "operationId": view.__name__,
        "parameters": [
            {"name": p, "in": "path", "required": True, "schema": schema}
            for p, schema in path_params.items()
        ]
        + [_query_parameter(view, q) for q in meta.get("query", ())],
        "responses": _success(view, meta)
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
                # What parse_version accepts: *, or a version as "3", W/"3" (or bare 3).
                "schema": {"type": "string", "pattern": r'^(\*|(W/)?"?[0-9]{1,9}"?)$'},
                "description": 'The area\'s ETag, e.g. "3", or * for whatever version.',
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


def _path_schema(converter) -> dict:
    """What the route's converter accepts (anything else is a 404 from the router)."""
    if isinstance(converter, IntegerConverter):
        return {"type": "integer", "minimum": converter.min or 0, "maximum": converter.max}
    return {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}


def build_document(app: Flask) -> dict:
    paths: dict[str, dict] = {}
    bodies: set[type] = {schemas.Error}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith("api.") or rule.endpoint == "api.openapi":
            continue
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        params = {name: _path_schema(converter) for name, converter in rule._converters.items()}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(view, params)
        if getattr(view, "openapi", {}).get("body") is not None:
            bodies.add(view.openapi["body"])
    components = {}
    for model in sorted(bodies, key=lambda m: m.__name__):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    components.update(schemas.RESPONSES)
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
