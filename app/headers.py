"""HTTP headers every response gets right in one place: the download header, and the headers
RFC 9110 asks of a 401 (``WWW-Authenticate``) and a 405 (``Allow``), and one ``charset`` on
every text response."""

from __future__ import annotations

import re
import unicodedata
from email.utils import encode_rfc2231

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import dump_options_header, parse_options_header

REALM = "wangge"
UNSAFE_FALLBACK = re.compile(r"[^A-Za-z0-9._-]+")


def attachment(filename: str) -> str:
    """The ``Content-Disposition`` value of a download named ``filename`` (RFC 6266).

    An ASCII ``filename`` for old clients and, when the name is not plain ASCII, the exact
    name as ``filename*=UTF-8''…``. No character of the name (CR, LF, quotes, semicolons,
    non-Latin-1) can end the header or add a parameter.

    >>> attachment("网格.csv")
    'attachment; filename="download.csv"; filename*=UTF-8\\'\\'%E7%BD%91%E6%A0%BC.csv'
    >>> attachment('a";b\\r\\nX: y.csv')
    'attachment; filename="a_b__X_y.csv"; filename*=UTF-8\\'\\'a%22%3Bb__X%3A%20y.csv'
    """
    name = "".join(ch if ch.isprintable() else "_" for ch in filename)
    name = name.replace("/", "_").replace("\\", "_").strip()
    name = name.encode("utf-8", "replace").decode("utf-8") or "download"
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    ascii_stem = UNSAFE_FALLBACK.sub("_", ascii_stem).strip("._-") or "download"
    ascii_extension = UNSAFE_FALLBACK.sub("", extension)
    fallback = ascii_stem + ("." + ascii_extension if ascii_extension else "")
    value = f'attachment; filename="{fallback}"'
    if fallback != name:
        value += "; filename*=" + encode_rfc2231(name, "UTF-8")
    return value


TEXT_TYPES = frozenset({"application/json", "application/xml", "application/javascript"})


def _is_text(mimetype: str) -> bool:
    return (
        mimetype.startswith("text/")
        or mimetype in TEXT_TYPES
        or mimetype.endswith(("+json", "+xml"))
    )


def _one_charset(response: Response) -> None:
    content_type = response.headers.get("Content-Type")
    if not content_type or content_type.lower().count("charset=") == 1:
        return  # the common case, one string scan: JSON, HTML and XML already say utf-8
    mimetype, options = parse_options_header(content_type)
    if not _is_text(mimetype):
        return
    options = {k: v for k, v in options.items() if k.lower() != "charset"}
    response.headers["Content-Type"] = dump_options_header(
        mimetype, {**options, "charset": "utf-8"}
    )


def _challenge() -> str:
    value = f'Bearer realm="{REALM}"'
    if g.get("bearer_invalid"):
        value += (
            ', error="invalid_token", error_description="The token is unknown, expired or revoked"'
        )
    return value


def _allowed_methods() -> list[str]:
    try:
        adapter = current_app.create_url_adapter(request)
        return sorted(adapter.allowed_methods()) if adapter is not None else []
    except HTTPException:
        return []


def complete_headers(response: Response) -> Response:
    status = response.status_code
    if status == 401 and "WWW-Authenticate" not in response.headers:
        response.headers["WWW-Authenticate"] = _challenge()
    elif status == 405 and "Allow" not in response.headers and (methods := _allowed_methods()):
        response.headers["Allow"] = ", ".join(methods)
    _one_charset(response)
    return response


def init_app(app: Flask) -> None:
    # JSON is UTF-8 (RFC 8259); saying so keeps clients that default to Latin-1 right.
    app.json.mimetype = "application/json; charset=utf-8"
    app.after_request(complete_headers)
