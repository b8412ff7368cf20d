"""Open311 GeoReport v2 under /open311/v2: residents' and outside systems' service requests."""

from __future__ import annotations

from flask import Blueprint

from app.extensions import csrf

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(bp)

from app.open311 import views  # noqa: E402,F401  (routes register on bp)
