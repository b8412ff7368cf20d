"""Areas as GeoJSON features."""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp, params
from app.auth import current_scope
from app.errors import BadRequest, NotFound
from app.extensions import db
from app.models import LEVEL_VALUES
from app.store import areas as store


@bp.get("/areas")
def list_areas():
    level = request.args.get("level") or None
    if level and level not in LEVEL_VALUES:
        raise BadRequest(
            f"Unknown level {level!r}; expected one of {', '.join(LEVEL_VALUES)}.",
            details={"field": "level"},
        )
    limit, offset = params.page()
    features, total = store.area_features(
        db.session,
        level=level,
        parent_code=request.args.get("parent") or None,
        bbox=params.bbox(),
        grid_ids=current_scope().grid_ids,
        limit=limit,
        offset=offset,
    )
    return jsonify(
        {
            "type": "FeatureCollection",
            "features": features,
            **params.page_links(total, limit, offset),
        }
    )


@bp.get("/areas/<code>")
def get_area(code: str):
    feature = store.area_feature(db.session, code)
    if feature is None:
        raise NotFound(f"No area with code {code!r}.")
    return jsonify(feature)
