"""Households, scoped and masked by role."""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp, params
from app.auth import current_scope
from app.extensions import db
from app.services.households import list_households


@bp.get("/households")
def households_view():
    limit, offset = params.page()
    items, total = list_households(
        db.session,
        current_scope(),
        grid_code=request.args.get("grid") or None,
        limit=limit,
        offset=offset,
    )
    return jsonify({"items": items, **params.page_links(total, limit, offset)})
