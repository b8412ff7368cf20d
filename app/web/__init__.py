"""HTML pages and Folium maps; every page is behind login."""

from __future__ import annotations

from flask import Blueprint, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.i18n import DEFAULT_LOCALE, LANGUAGES, html_lang, js_catalogue

bp = Blueprint("web", __name__, template_folder="../templates")

ROLE_NAMES = {
    "admin": _l("administrator"),
    "planner": _l("planner"),
    "leader": _l("leader"),
    "worker": _l("grid worker"),
}
PUBLIC_ENDPOINTS = {"web.login", "web.set_language", "static"}


@bp.before_app_request
def require_login_for_pages():
    """Pages need a logged-in user; the API answers 401 itself."""
    if request.blueprint == "web" and request.endpoint not in PUBLIC_ENDPOINTS:
        return login_required(lambda: None)()
    return None


@bp.app_context_processor
def role_names() -> dict:
    locale = str(get_locale() or DEFAULT_LOCALE)
    return {
        "role_names": ROLE_NAMES,
        "current_user": current_user,
        "languages": LANGUAGES,
        "locale": locale,
        "html_lang": html_lang(locale),
        "js_messages": js_catalogue(locale),
    }


from app.web import (  # noqa: E402,F401  (routes register on bp)
    dashboard,
    hazards_map,
    incident_list,
    incident_maps,
    incident_pages,
    maps,
    pages,
    planner,
    reconstruction,
    worker,
)
