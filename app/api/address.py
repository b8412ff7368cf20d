"""GET /api/v1/locate/address: find a household's address and the grid that answers for it."""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp, params
from app.api.openapi import documented
from app.auth import current_scope
from app.errors import BadRequest
from app.extensions import db
from app.services.locate import find_addresses

MIN_QUERY, MAX_QUERY, MAX_RESULTS = 2, 100, 50


def address_query() -> str:
    query = (request.args.get("q") or "").strip()
    if not MIN_QUERY <= len(query) <= MAX_QUERY:
        raise BadRequest(
            f"q must be {MIN_QUERY} to {MAX_QUERY} characters of an address, got {len(query)}.",
            details={"field": "q"},
        )
    return query


@bp.get("/locate/address")
@documented(query=("q", "limit"))
def locate_address_view():
    """Addresses of households containing ?q=, with their point, grid and workers' names."""
    query = address_query()
    limit = params.integer("limit", 20)
    if not 1 <= limit <= MAX_RESULTS:
        raise BadRequest(f"limit must be 1 to {MAX_RESULTS}.", details={"field": "limit"})
    matches = find_addresses(db.session, current_scope(), query, limit=limit)
    return jsonify({"items": matches, "total": len(matches)})
