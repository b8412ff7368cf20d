"""Parsing query parameters into typed values, bounded, with the reason when they are wrong.

Integers are ASCII digits within a range (int() would take "٣" and any length) and dates
are ISO days.  A failure is a 400 that names the parameter.  (NUL characters
never get this far: ``app.input_guard`` refuses them for every request.)
"""

from __future__ import annotations

import contextlib
import re
from datetime import date

from flask import request

from app.errors import BadRequest
from app.services.locate import parse_bbox
from app.services.photos import PhotoUpload

MAX_PAGE = 1000
MAX_OFFSET = 2**31 - 1
# Days a filter may name: a day next to date.min or date.max would overflow in time zone
# arithmetic.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")


def _raw(name: str) -> str | None:
    raw = request.args.get(name)
    return None if raw is None or raw == "" else raw


def page() -> tuple[int, int]:
    """(limit, offset) from ?limit=&offset=, limit 1..1000 (default 100)."""
    limit = integer("limit", 100, minimum=1, maximum=MAX_PAGE)
    offset = integer("offset", 0, minimum=0, maximum=MAX_OFFSET)
    return limit, offset


def parse_integer(name: str, raw: str, *, minimum: int, maximum: int) -> int:
    """``raw`` as an integer in [minimum, maximum], or a 400 naming ``name``."""
    if not _INTEGER.fullmatch(raw):
        raise BadRequest(f"{name} must be an integer, got {raw[:40]!r}.", details={"field": name})
    value = int(raw)
    if not minimum <= value <= maximum:
        raise BadRequest(
            f"{name} must be between {minimum} and {maximum}.", details={"field": name}
        )
    return value


def integer(
    name: str, default: int, *, minimum: int = -MAX_OFFSET, maximum: int = MAX_OFFSET
) -> int:
    raw = _raw(name)
    return default if raw is None else parse_integer(name, raw, minimum=minimum, maximum=maximum)


def day(name: str) -> date | None:
    """A YYYY-MM-DD parameter, or None when absent."""
    raw = _raw(name)
    if raw is None:
        return None
    if len(raw) == 10 and raw.isascii():
        with contextlib.suppress(ValueError):
            if FIRST_DAY <= (day := date.fromisoformat(raw)) <= LAST_DAY:
                return day
    raise BadRequest(
        f"{name} must be a date (YYYY-MM-DD) from {FIRST_DAY} to {LAST_DAY}, got {raw[:40]!r}.",
        details={"field": name},
    )


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
