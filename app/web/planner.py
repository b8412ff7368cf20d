"""The planner's map: draw, edit, split, merge, retire and generate grids of a community."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from folium.plugins import Fullscreen
from geoalchemy2.shape import to_shape

from app.auth import current_scope, roles_required
from app.errors import NotFound
from app.extensions import db
from app.services.areas import visible_communities
from app.web import bp
from app.web.folium_kit import new_map, polygon_drawing, render


@bp.get("/planner")
@roles_required("admin", "planner")
def planner():
    communities = visible_communities(db.session, current_scope())
    code = request.args.get("community") or (communities[0].code if communities else None)
    community = next((c for c in communities if c.code == code), None)
    if code and community is None:
        raise NotFound(f"No live community with code {code!r}.")
    bounds = to_shape(community.geom).bounds if community else None
    m = new_map(bounds)
    # Drawing tools only: editing, splitting and merging go through the side panel's buttons.
    polygon_drawing(m)
    Fullscreen(title=_("Full screen"), title_cancel=_("Leave full screen")).add_to(m)
    return render_template(
        "planner.html",
        parts=render(m),
        map_name=m.get_name(),
        communities=communities,
        community=community,
    )
