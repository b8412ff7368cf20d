"""Security headers on every response: a strict Content-Security-Policy, nosniff, no framing,
and a referrer policy.

Scripts run only from our own origin or, inline, with the request's nonce (``csp_nonce()`` in
templates: the Folium map scripts); never ``unsafe-inline`` or ``unsafe-eval`` for scripts, so
a name that slipped through unescaped still cannot run. Styles allow inline: Folium, Leaflet
and Swagger UI set ``style`` attributes and blocks, and CSS cannot run script in a current
browser. Images may come from the basemap's tile host (``WANGGE_TILES``).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, g

NONCE_BYTES = 18


def tile_sources(template: str) -> list[str]:
    """The CSP source expressions that let a map load tiles from the ``WANGGE_TILES`` template.

    A ``{s}`` (or any placeholder) in the host name becomes a ``*.`` wildcard for the labels
    to its left, the only place CSP allows one.

    Examples
    --------
    >>> tile_sources("https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    ['https://tile.openstreetmap.org']
    >>> tile_sources("https://t{s}.tianditu.gov.cn/img_w/wmts?tk=KEY&x={x}")
    ['https://*.tianditu.gov.cn']
    >>> tile_sources("none"), tile_sources("/tiles/{z}/{x}/{y}.png")
    ([], [])
    """
    parts = urlsplit(template.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return []  # "none", or tiles served by Wangge itself ('self')
    host, _sep, port = parts.netloc.rpartition("@")[2].partition(":")
    labels = host.split(".")
    templated = [i for i, label in enumerate(labels) if "{" in label or "}" in label]
    if templated:
        rest = labels[templated[-1] + 1 :]
        if len(rest) < 2:
            return []  # a placeholder for the whole domain cannot be allowed safely
        host = "*." + ".".join(rest)
    port = f":{port}" if port and "{" not in port else ""
    return [f"{parts.scheme}://{host}{port}"]


def policy(tiles: str, nonce: str | None) -> str:
    """The Content-Security-Policy for a response; ``nonce`` allows the page's inline scripts."""
    scripts = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    images = " ".join(["'self'", "data:", "blob:", *tile_sources(tiles)])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "script-src-attr 'none'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {images}",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def csp_nonce() -> str:
    """This request's script nonce, made when a template first asks for it."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(NONCE_BYTES)
    return g.csp_nonce


def init_app(app: Flask) -> None:
    tiles = app.config["WANGGE_TILES"]
    without_nonce = policy(tiles, None)
    fixed = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        nonce = g.get("csp_nonce")
        response.headers["Content-Security-Policy"] = (
            policy(tiles, nonce) if nonce else without_nonce
        )
        for name, value in fixed.items():
            response.headers.setdefault(name, value)
        return response

    app.jinja_env.globals["csp_nonce"] = csp_nonce
