"""The public listing of reconstruction sites (项目公示, /public/sites); no login.

Only what a notice board would show: name, type, owning organisation, location, planned
dates, progress and colour. Never the contact person, nor who reported progress.
"""

from __future__ import annotations

from flask import current_app, jsonify, render_template

from app.extensions import db
from app.public import bp
from app.services import sites as service
from app.web.reconstruction import COLOUR_NAMES, TYPE_NAMES, colour_choices


def _thresholds() -> service.Thresholds:
    return service.Thresholds.from_config(current_app.config)


def _sites() -> list[dict]:
    return service.public_sites(db.session, _thresholds())


@bp.get("/sites")
def sites_page():
    sites = _sites()
    counts = {c: sum(1 for s in sites if s["status"]["colour"] == c) for c in service.COLOURS}
    return render_template(
        "public_sites.html",
        sites=sites,
        counts=counts,
        colours=colour_choices(),
        colour_names=COLOUR_NAMES,
        type_names=TYPE_NAMES,
        today=service.today().isoformat(),
        thresholds=_thresholds(),
    )


@bp.get("/sites.json")
def sites_json():
    return jsonify({"items": _sites()})
