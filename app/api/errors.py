"""Rendering every error as the one JSON envelope (API) or an error page (HTML)."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.errors import TooManyRequests, WanggeError, internal_error_envelope
from app.extensions import db

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_data",
    428: "precondition_required",
    429: "too_many_requests",
}


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/ogc", "/open311/", "/tiles/"))


def _render(status: int, code: str, message: str, details=None):
    if wants_json():
        body = {"error": {"code": code, "message": message, "details": details}}
        return jsonify(body), status
    return render_template("error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(WanggeError)
    def handle_wangge_error(exc: WanggeError):
        db.session.rollback()  # nothing of a refused request is kept
        message = exc.message
        if isinstance(exc, TooManyRequests) and not wants_json():
            message = exc.page_message
        body, status = _render(exc.status, exc.code, message, exc.details)
        return body, status, exc.headers

    @app.errorhandler(CSRFError)
    def handle_csrf(exc: CSRFError):
        return _render(400, "csrf_failed", f"CSRF check failed: {exc.description}")

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        status = exc.code or 500
        if status >= 500:
            return handle_unexpected(exc)
        message = exc.description or exc.name
        if status == 413:
            limit = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
            message = f"The request body is larger than the {limit} MB limit."
        return _render(status, _CODES.get(status, "http_error"), message)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return jsonify(internal_error_envelope()), 500
        return render_template("error.html", status=500, message="服务器内部错误。"), 500
