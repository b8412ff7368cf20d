"""Parsing query parameters into typed values, with the reason when they are wrong."""

from __future__ import annotations

from flask import request

from app.errors import BadRequest
from app.services.locate import parse_bbox
from app.services.photos import PhotoUpload

MAX_PAGE = 1000


def page() -> tuple[int, int]:
    """(limit, offset) from ?limit=&offset=, limit 1..1000 (default 100)."""
    limit = integer("limit", 100)
    offset = integer("offset", 0)
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(
            f"limit must be between 1 and {MAX_PAGE}.", details={"field": "limit"}
        ) from None
    if offset < 0:
        raise BadRequest("offset must not be negative.", details={"field": "offset"}) from None
    return limit, offset


def integer(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(
            f"{name} must be an integer, got {raw!r}.", details={"field": name}
        ) from None


def bbox() -> tuple[float, float, float, float] | None:
    return parse_bbox(request.args.get("bbox"))


def page_links(total: int, limit: int, offset: int) -> dict:
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if offset + limit < total else None,
    }


def uploaded_photos(field: str = "photos") -> list[PhotoUpload]:
    """The image files of a multipart request, in order (checked later by the service)."""
    return [
        PhotoUpload(f.filename or f"photo-{i + 1}", f.read())
        for i, f in enumerate(request.files.getlist(field))
        if f.filename or f.content_length
    ]
