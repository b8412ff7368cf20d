"""Mapbox vector tiles from PostGIS: /tiles/{layer}/{z}/{x}/{y}.pbf."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tiles", __name__, url_prefix="/tiles")
