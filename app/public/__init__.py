"""Pages anyone may open without logging in: they never carry personal data."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/public", template_folder="../templates")


from app.public import report, sites  # noqa: E402,F401  (routes register on bp)
