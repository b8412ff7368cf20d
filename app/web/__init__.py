"""HTML pages and Folium maps; every page is behind login."""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user, login_required

bp = Blueprint("web", __name__, template_folder="../templates")

ROLE_NAMES = {"admin": "管理员", "planner": "规划员", "leader": "领导", "worker": "网格员"}
PUBLIC_ENDPOINTS = {"web.login", "static"}


@bp.before_app_request
def require_login_for_pages():
    """Pages need a logged-in user; the API answers 401 itself."""
    if request.blueprint == "web" and request.endpoint not in PUBLIC_ENDPOINTS:
        return login_required(lambda: None)()
    return None


@bp.app_context_processor
def role_names() -> dict:
    return {"role_names": ROLE_NAMES, "current_user": current_user}


from app.web import maps, pages, planner, reconstruction  # noqa: E402,F401  (routes register on bp)
