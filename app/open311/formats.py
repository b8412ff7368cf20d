"""Rendering Open311 documents as JSON or XML, and errors in Open311's own error format.

GeoReport v2 puts the format in the path (``services.json``, ``services.xml``).  XML is built
with :mod:`xml.etree.ElementTree`, which escapes text, so no value can break the document.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from xml.etree import ElementTree as ET

from flask import Response

from app.errors import NotFound

FORMATS = {
    "json": "application/json; charset=utf-8",
    "xml": "text/xml; charset=utf-8",
}

# The element each item of a list becomes, named after the list that holds it.
ITEM_TAGS = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "services": "service",
    "service_requests": "request",
    "errors": "error",
}


def check_format(fmt: str) -> str:
    """The format named by a path's extension, or a 404 that says which ones exist."""
    if fmt not in FORMATS:
        raise NotFound(
            f"Unsupported format {fmt!r}: use .json or .xml.",
            details={"field": "format"},
            code="unsupported_format",
        )
    return fmt


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _append(parent: ET.Element, tag: str, value: Any) -> None:
    element = ET.SubElement(parent, tag)
    _fill(element, tag, value)


def _fill(element: ET.Element, tag: str, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, list | tuple):
        item_tag = ITEM_TAGS.get(tag, "item")
        for item in value:
            _append(element, item_tag, item)
    else:
        element.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    """``value`` as an XML document under ``root``; lists repeat their item element.

    >>> to_xml("services", [{"service_code": "a<b"}]).partition(b"?>")[2].strip()
    b'<services><service><service_code>a&lt;b</service_code></service></services>'
    """
    element = ET.Element(root)
    _fill(element, root, value)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def render(fmt: str, root: str, value: Any, status: int = 200) -> Response:
    """One response: ``value`` as JSON, or as XML under the element ``root``."""
    if fmt == "xml":
        body = to_xml(root, value)
    else:
        body = json.dumps(value, ensure_ascii=False).encode("utf-8")
    return Response(body, status=status, content_type=FORMATS[fmt])


def render_error(fmt: str, status: int, description: str) -> Response:
    """Open311's error list: ``[{"code": 403, "description": "..."}]`` or ``<errors>``."""
    return render(fmt, "errors", [{"code": status, "description": description}], status)
