"""The residents' report form (/public/report) and its status page; no login.

A report is taken in like any other incident (channel ``web``), with one difference: a point
inside the district that no grid covers is accepted and flagged for a supervisor to route
(``allow_unrouted``), since a resident cannot be expected to know where grids end; a point
outside the district is refused with the reason.  The name and phone a resident may leave
are stored for the staff who need them and never shown on a public page.
"""

from __future__ import annotations

import re

from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from app import ratelimit
from app.errors import BadRequest, InvalidData, NotFound, TooManyRequests, WanggeError
from app.extensions import db
from app.models import Area, Incident, IncidentCategory
from app.public import bp
from app.services.incidents import submit_incident
from app.services.photos import PhotoUpload
from app.services.workflow import STATUS_LABELS
from app.web.folium_kit import new_map, render

MAX_PUBLIC_PHOTOS = 3
HONEYPOT = "website"  # hidden from people; a bot that fills every field fills it
PHONE = re.compile(r"^\+?[\d\s()-]{5,32}$")


def _categories() -> list[IncidentCategory]:
    return list(db.session.scalars(select(IncidentCategory).order_by(IncidentCategory.code)))


def _district_bounds() -> tuple[float, float, float, float] | None:
    extent = func.ST_Extent(Area.geom)
    row = db.session.execute(
        select(
            func.ST_XMin(extent), func.ST_YMin(extent), func.ST_XMax(extent), func.ST_YMax(extent)
        ).where(Area.level == "district", Area.valid_to.is_(None))
    ).one()
    return None if row[0] is None else tuple(float(v) for v in row)


def _limits() -> dict:
    return {
        "max_photos": MAX_PUBLIC_PHOTOS,
        "max_photo_mb": current_app.config.get("WANGGE_MAX_PHOTO_MB", 5),
        "max_upload_mb": current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
    }


def _form_page(error: str | None = None, status: int = 200):
    m = new_map(_district_bounds())
    page = render_template(
        "public_report.html",
        parts=render(m),
        map_name=m.get_name(),
        categories=_categories(),
        limits=_limits(),
        error=error,
    )
    return page, status


def _photos() -> list[PhotoUpload]:
    files = [f for f in request.files.getlist("photos") if f.filename]
    if len(files) > MAX_PUBLIC_PHOTOS:
        raise InvalidData(
            f"At most {MAX_PUBLIC_PHOTOS} photos may be attached; {len(files)} were sent.",
            details={"field": "photos"},
        )
    return [PhotoUpload(f.filename, f.read()) for f in files]


def _contact_phone() -> str | None:
    phone = request.form.get("contact_phone", "").strip()
    if phone and not PHONE.match(phone):
        raise InvalidData(
            "contact_phone must be a phone number (digits, spaces, +, -, parentheses).",
            details={"field": "contact_phone"},
        )
    return phone or None


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.get("/report")
def report_form():
    return _form_page()


@bp.post("/report")
def submit_report():
    """Take in a resident's report; JSON for the page's script, a redirect for a plain form."""
    form = request.form
    try:
        ratelimit.hit("report_client", ratelimit.client_address())
        if form.get(HONEYPOT):
            raise BadRequest("The form was not sent by a person.", details={"field": HONEYPOT})
        intake = submit_incident(
            db.session,
            category_code=form.get("category") or None,
            description=form.get("description"),
            lon=form.get("lon"),
            lat=form.get("lat"),
            crs=form.get("crs") or "wgs84",
            channel="web",
            photos=_photos(),
            address=form.get("address"),
            contact_name=form.get("contact_name"),
            contact_phone=_contact_phone(),
            allow_unrouted=True,
        )
    except WanggeError as exc:
        db.session.rollback()
        if _wants_json():
            return jsonify(exc.to_dict()), exc.status, exc.headers
        if isinstance(exc, TooManyRequests):
            page, status = _form_page(exc.page_message, exc.status)
            return page, status, exc.headers
        return _form_page(_("Not sent: %(reason)s", reason=exc.message), exc.status)
    page_url = url_for("public.report_status", incident_id=intake.incident.id, new=1)
    if _wants_json():
        return jsonify({"id": intake.incident.id, "page_url": page_url}), 201
    return redirect(page_url, 303)


def _public_status(incident_id: int) -> dict:
    """What anyone may know of a resident's report: never its description or contact."""
    row = db.session.execute(
        select(
            Incident.id,
            Incident.status,
            Incident.created_at,
            Incident.updated_at,
            Incident.closed_at,
            IncidentCategory.name.label("category"),
            Area.name.label("grid"),
        )
        .join(IncidentCategory, IncidentCategory.id == Incident.category_id)
        .outerjoin(Area, Area.id == Incident.grid_id)
        .where(Incident.id == incident_id, Incident.channel == "web")
    ).one_or_none()
    if row is None:
        raise NotFound(_("There is no resident’s report numbered %(n)s.", n=incident_id))
    label = STATUS_LABELS.get(row.status)
    return dict(row._mapping) | {"status_name": _(label) if label else row.status}


@bp.get("/report/track")
def track_report():
    """The status page of the tracking number typed into the form."""
    number = request.args.get("n", "").strip()
    if not (number.isascii() and number.isdigit()):
        raise BadRequest(_("Type the tracking number in digits."), details={"field": "n"})
    return redirect(url_for("public.report_status", incident_id=int(number)))


@bp.get("/report/<int:incident_id>")
def report_status(incident_id: int):
    return render_template(
        "public_report_status.html",
        report=_public_status(incident_id),
        new=request.args.get("new") == "1",
    )
