"""The report form and one incident's page (its steps, re-routing and duplicates go through
the JSON API from the page's script)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_login import current_user
from sqlalchemy import func, select

from app.auth import current_scope, roles_required
from app.extensions import db
from app.i18n import N_
from app.models import Area, IncidentCategory
from app.services import incident_reads
from app.services.workflow import STATUS_LABELS
from app.web import bp
from app.web.folium_kit import new_map, render

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Names are English message ids, translated in the templates.
STATE_NAMES = {
    "ok": N_("On time"),
    "near": N_("Near the deadline"),
    "overdue": N_("Overdue"),
    "done": N_("Closed"),
}
CHANNEL_NAMES = {
    "patrol": N_("Grid worker’s patrol"),
    "web": N_("Resident, on the web"),
    "hotline": N_("12345 hotline"),
    "api": N_("API"),
    "open311": N_("Open311"),
}
# The words on each workflow step's button.
STEP_LABELS = {
    "accepted": N_("Accept"),
    "registered": N_("Register"),
    "dispatched": N_("Dispatch"),
    "in_progress": N_("Start work"),
    "reported_back": N_("Report the result"),
    "verified": N_("Pass the check"),
    "closed": N_("Close"),
    "rated": N_("Rate"),
    "rejected": N_("Reject"),
    "duplicate": N_("Mark as duplicate"),
    "reopened": N_("Reopen"),
}


@bp.app_template_filter("shanghai")
def shanghai_time(value: str | datetime | None) -> str:
    """An ISO string or datetime as Asia/Shanghai local time, e.g. 2026-11-30 18:40."""
    if not value:
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def categories() -> list[IncidentCategory]:
    return list(db.session.scalars(select(IncidentCategory).order_by(IncidentCategory.code)))


def photo_limits() -> dict:
    return {
        "max_photos": current_app.config.get("WANGGE_MAX_PHOTOS", 5),
        "max_photo_mb": current_app.config.get("WANGGE_MAX_PHOTO_MB", 5),
        "max_upload_mb": current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
    }


def _scope_bounds() -> tuple[float, float, float, float] | None:
    """The extent of the live grids in the user's scope (a worker's: their own grids)."""
    scope = current_scope()
    extent = func.ST_Extent(Area.geom)
    stmt = select(
        func.ST_XMin(extent), func.ST_YMin(extent), func.ST_XMax(extent), func.ST_YMax(extent)
    ).where(Area.level == "grid", Area.valid_to.is_(None))
    if scope.restricted:
        stmt = stmt.where(Area.id.in_(scope.grid_ids))
    row = db.session.execute(stmt).one()
    return None if row[0] is None else tuple(float(v) for v in row)


@bp.get("/incidents/new")
@roles_required("worker", "leader", "admin")
def new_incident_page():
    m = new_map(_scope_bounds())
    return render_template(
        "incident_new.html",
        parts=render(m),
        map_name=m.get_name(),
        categories=categories(),
        limits=photo_limits(),
    )


@bp.get("/incidents/<int:incident_id>")
@roles_required("worker", "leader", "admin")
def incident_page(incident_id: int):
    item = incident_reads.incident_detail(db.session, current_user, current_scope(), incident_id)
    m = new_map(None, location=[item["lat"], item["lon"]], zoom_start=17)
    return render_template(
        "incident.html",
        parts=render(m),
        map_name=m.get_name(),
        incident=item,
        status_names={s.value: label for s, label in STATUS_LABELS.items()},
        state_names=STATE_NAMES,
        channel_names=CHANNEL_NAMES,
        step_labels=STEP_LABELS,
        limits=photo_limits(),
    )
