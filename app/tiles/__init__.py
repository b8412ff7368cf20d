"""Mapbox vector tiles from PostGIS: /tiles/{layer}/{z}/{x}/{y}.pbf, for logged-in users."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from app.errors import Unauthorized

bp = Blueprint("tiles", __name__, url_prefix="/tiles")


@bp.before_request
def require_login() -> None:
    if not current_user.is_authenticated:
        raise Unauthorized("Log in, or send 'Authorization: Bearer <token>'.")


from app.tiles import views  # noqa: E402,F401  (routes register on bp)
