"""The JSON API under /api/v1: parse -> one service call -> serialize."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from app.auth import bearer_authenticated, bearer_rejected
from app.errors import Unauthorized
from app.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.before_request
def require_login() -> None:
    if not current_user.is_authenticated:
        if bearer_rejected():
            raise Unauthorized("The bearer token is unknown, expired or revoked.")
        raise Unauthorized("Log in, or send 'Authorization: Bearer <token>'.")
    # Browser sessions must prove the request came from our pages; token clients need not.
    if request.method not in ("GET", "HEAD", "OPTIONS") and not bearer_authenticated():
        csrf.protect()


from app.api import (  # noqa: E402,F401  (routes register on bp)
    address,
    areas,
    coverage,
    hazards,
    households,
    incidents,
    locate,
    notifications,
    sites,
)


@bp.get("/openapi.json")
def openapi():
    """This API's OpenAPI document."""
    from flask import current_app, jsonify

    from app.api.openapi import build_document

    return jsonify(build_document(current_app))
