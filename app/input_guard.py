"""Refusing hostile input before any view sees it: NUL characters and deeply nested JSON.

PostgreSQL text cannot hold a NUL character, so one in a path, query, form or JSON string
would fail deep in a query; Python's JSON parser recurses once per nesting level, so a body
of ten thousand ``[`` would end in a RecursionError.  Both are a 400 here, naming the
parameter, for every blueprint (pages, API, OGC, Open311, tiles).
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

from flask import Flask, request

from app.errors import BadRequest

MAX_JSON_DEPTH = 32
# A JSON string, escapes included; possessive so that a long string costs no backtracking.
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def init_app(app: Flask) -> None:
    app.before_request(refuse_hostile_input)


def refuse_hostile_input() -> None:
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and "\x00" in value:
            _nul("path parameter", name)
    if "\x00" in request.path:
        _nul("path", "path")
    for name, value in request.args.items(multi=True):
        if _has_nul(name, value):
            _nul("query parameter", name)
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        for name, value in request.form.items(multi=True):
            if _has_nul(name, value):
                _nul("form field", name)
        for name, upload in request.files.items(multi=True):
            if _has_nul(name, upload.filename):
                _nul("file name", name)
    elif request.is_json and request.content_length != 0:
        data = request.get_data(cache=True)
        if json_depth(data) > MAX_JSON_DEPTH:
            raise BadRequest(
                f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.",
                details={"field": "body"},
            )
        field = nul_field(request.get_json(silent=True))
        if field is not None:
            _nul("JSON field", field)


def json_depth(data: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest, without parsing it.

    >>> json_depth(b'{"a": [1, "]]]"]}')
    2
    """
    if data.count(b"[") + data.count(b"{") <= MAX_JSON_DEPTH:
        return 0  # cannot be deeper than the limit
    brackets = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(accumulate(_STEP[b] for b in brackets), default=0)


def nul_field(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (or key) holding a NUL character, else None."""
    if isinstance(value, str):
        return (path or "body") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return where.replace("\x00", "\\0")
            if (found := nul_field(item, where)) is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if (found := nul_field(item, f"{path}[{i}]")) is not None:
                return found
    return None


def _has_nul(*texts: str | None) -> bool:
    return any("\x00" in text for text in texts if text)


def _nul(kind: str, field: str | None) -> None:
    field = (field or "").replace("\x00", "\\0")
    raise BadRequest(
        f"{field} contains a NUL character ({kind}); NUL is not allowed in text.",
        details={"field": field},
    )
