"""Map pages."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from app.auth import current_scope
from app.extensions import db
from app.services.coverage_map import choose_level, coverage_map_data
from app.web import bp
from app.web.coverage_map import LEVEL_NAMES, coverage_map


@bp.get("/map/coverage")
def coverage_map_page():
    data = coverage_map_data(db.session, current_scope())
    initial = choose_level(request.args.get("level"), data.grid_count)
    return render_template(
        "coverage_map.html",
        title=_("Grid coverage"),
        parts=coverage_map(data, initial),
        data=data,
        levels=[(level, _(name)) for level, name in LEVEL_NAMES.items()],
        initial_level=initial,
    )
