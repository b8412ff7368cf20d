"""GeoReport v2 endpoints: ``discovery``, ``services``, ``requests`` in ``.json`` or ``.xml``.

Reading needs no key; posting needs an ``api_key``.  Errors are Open311's list of
``{code, description}`` in the format of the request, with the HTTP status of our error.
"""

from __future__ import annotations

import logging

from flask import current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from app import ratelimit
from app.errors import BadRequest, NotFound, PayloadTooLarge, WanggeError
from app.extensions import db
from app.open311 import bp, catalog
from app.open311 import service_requests as requests_service
from app.open311.formats import FORMATS, check_format, render, render_error

log = logging.getLogger(__name__)

# Requests carry text only (media_url is a link, never an upload): a small body suffices.
MAX_BODY = 1024 * 1024


def _body_limit() -> int:
    return min(MAX_BODY, current_app.config.get("MAX_CONTENT_LENGTH") or MAX_BODY)


@bp.before_request
def refuse_large_bodies():
    limit = _body_limit()
    request.max_content_length = limit  # also bounds chunked bodies while they are read
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(
            f"The request body is {request.content_length} bytes; the limit is {limit} bytes.",
        )


def _error_format() -> str:
    """The format the client asked for: the path's extension (.json unless .xml)."""
    fmt = (request.view_args or {}).get("fmt") or request.path.rpartition(".")[2]
    return fmt if fmt in FORMATS else "json"


def _open311_status(status: int) -> int:
    # GeoReport answers bad input with 400; it has no 422 (valid syntax, invalid data).
    return 400 if status == 422 else status


@bp.errorhandler(WanggeError)
def open311_error(exc: WanggeError):
    db.session.rollback()  # nothing of a refused request is kept
    response = render_error(_error_format(), _open311_status(exc.status), exc.message)
    response.headers.update(exc.headers)
    return response


@bp.errorhandler(HTTPException)
def open311_http_error(exc: HTTPException):
    status = exc.code or 500
    if status >= 500:
        return open311_unexpected(exc)
    description = exc.description or exc.name
    if status == 413:
        description = f"The request body is larger than the {_body_limit()} bytes limit."
    response = render_error(_error_format(), status, description)
    # Allow (405), Retry-After (429) and the like travel with the error.
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers.add(name, value)
    return response


@bp.errorhandler(Exception)
def open311_unexpected(exc: Exception):
    db.session.rollback()
    log.exception("unhandled error on %s %s", request.method, request.path)
    return render_error(_error_format(), 500, "Internal server error.")


def _form() -> dict:
    """The POST fields: form-encoded as GeoReport says, or a JSON object."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise BadRequest("The JSON body must be an object of GeoReport fields.")
        return body
    return request.form.to_dict()


@bp.get("/discovery.<fmt>")
def discovery(fmt: str):
    base_url = request.url_root.rstrip("/") + bp.url_prefix
    contact = current_app.config.get("WANGGE_OPEN311_CONTACT")
    return render(check_format(fmt), "discovery", catalog.discovery(db.session, base_url, contact))


@bp.get("/services.<fmt>")
def services(fmt: str):
    check_format(fmt)
    return render(fmt, "services", catalog.services(db.session))


@bp.get("/services/<service_code>.<fmt>")
def service_definition(service_code: str, fmt: str):
    check_format(fmt)
    return render(fmt, "service_definition", catalog.service_definition(db.session, service_code))


@bp.post("/requests.<fmt>")
def post_request(fmt: str):
    check_format(fmt)
    if "api_key" in request.args:
        # A key in the URL ends up in proxy and server logs and in browser history.
        raise BadRequest("Send api_key in the request body, never in the query string.")
    ratelimit.hit("open311_client", ratelimit.client_address())
    form = _form()
    api_key = form.pop("api_key", None)
    if isinstance(api_key, str) and api_key:
        ratelimit.hit("open311_key", api_key)
    created = requests_service.submit_request(db.session, api_key, form)
    return render(fmt, "service_requests", created, status=201)


@bp.get("/requests.<fmt>")
def get_requests(fmt: str):
    check_format(fmt)
    selection = requests_service.parse_filter(request.args)
    return render(fmt, "service_requests", requests_service.list_requests(db.session, selection))


@bp.get("/requests/<request_id>.<fmt>")
def get_request(request_id: str, fmt: str):
    check_format(fmt)
    found = requests_service.get_request(db.session, request_id, request.args.get("crs"))
    return render(fmt, "service_requests", found)


# Every method: a path of ours asked with another method is answered here (405 with Allow),
# so that it, too, gets Open311's error format rather than the site's.
@bp.route("/<path:anything>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(anything: str):
    allowed = _methods_for_path()
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise NotFound(
        f"No Open311 resource {anything[:100]!r}: see discovery.json for the endpoints.",
    )


def _methods_for_path() -> list[str]:
    """The methods another Open311 route accepts for this request's path."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in ("GET", "HEAD", "POST"):
        try:
            endpoint, _ = adapter.match(method=method)
        except HTTPException:
            continue
        if endpoint != request.endpoint:
            allowed.append(method)
    # Flask answers OPTIONS on every route it has.
    return [*allowed, "OPTIONS"] if allowed else []
