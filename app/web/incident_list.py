"""The incident list for the command centre and leaders: everything in their area, the cases
waiting for a grid, the overdue ones and the ones escalated to them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.auth import current_scope, roles_required
from app.extensions import db
from app.i18n import N_
from app.models import OPEN_STATUSES, STATUS_VALUES, IncidentCategory
from app.services import incident_reads
from app.services.workflow import STATUS_LABELS
from app.store.incidents import IncidentFilter
from app.web import bp

PAGE = 50
# Names are English message ids, translated in the template.
VIEWS = {
    "open": (N_("Open"), lambda now: IncidentFilter(statuses=OPEN_STATUSES)),
    "review": (
        N_("Waiting for a grid"),
        lambda now: IncidentFilter(statuses=OPEN_STATUSES, needs_review=True),
    ),
    "overdue": (N_("Overdue"), lambda now: IncidentFilter(overdue_at=now)),
    "escalated": (
        N_("Escalated"),
        lambda now: IncidentFilter(statuses=OPEN_STATUSES, escalated=True),
    ),
    "all": (N_("All"), lambda now: IncidentFilter()),
}
LEVEL_NAMES = {"community": N_("community"), "street": N_("street"), "district": N_("district")}


def _filter(view: str, now: datetime) -> IncidentFilter:
    base = VIEWS[view][1](now)
    status = request.args.get("status") or None
    category = request.args.get("category") or None
    if status and status not in STATUS_VALUES:
        abort(400, _("Unknown status %(status)s.", status=status))
    return IncidentFilter(
        statuses=(status,) if status else base.statuses,
        category_codes=(category,) if category else (),
        needs_review=base.needs_review,
        escalated=base.escalated,
        overdue_at=base.overdue_at,
    )


@bp.get("/incidents")
@roles_required("admin", "leader")
def incident_list_page():
    view = request.args.get("view", "open")
    if view not in VIEWS:
        abort(400, _("Unknown view %(view)s.", view=view))
    raw_page = request.args.get("page", "1")
    if not re.fullmatch(r"-?[0-9]{1,9}", raw_page):  # ASCII digits; past 10^9 no page is full
        abort(400, _("page must be a positive whole number."))
    page = max(1, int(raw_page))
    now = datetime.now(UTC)
    items, total = incident_reads.list_incidents(
        db.session,
        current_user,
        current_scope(),
        _filter(view, now),
        order="deadline" if view != "all" else "newest",
        limit=PAGE,
        offset=(page - 1) * PAGE,
        now=now,
    )
    categories = db.session.execute(
        select(IncidentCategory.code, IncidentCategory.name).order_by(IncidentCategory.code)
    ).all()
    return render_template(
        "incident_list.html",
        items=items,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE)),
        view=view,
        views={k: v[0] for k, v in VIEWS.items()},
        categories=categories,
        statuses={s.value: label for s, label in STATUS_LABELS.items()},
        level_names=LEVEL_NAMES,
        args=request.args,
        page_url=lambda n: url_for(
            "web.incident_list_page", **(request.args.to_dict() | {"page": n})
        ),
    )
