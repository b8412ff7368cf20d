"""Settings, read from the environment once, when the app is created."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULT_DATABASE_URL = "postgresql+psycopg://wangge:wangge@127.0.0.1:5432/wangge"
DEFAULT_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILES_ATTRIBUTION = "&copy; OpenStreetMap contributors"


def _secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the instance folder.

    Several gunicorn workers must share the key or sessions break between them.
    """
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance_path: str) -> dict:
    tiles = os.environ.get("WANGGE_TILES", DEFAULT_TILES).strip()
    return {
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL),
        # A connection the database closed while it sat in the pool is found at checkout by
        # a poll() of its socket (a few microseconds; see app.connections) and replaced. The
        # pre-ping, a round trip per checkout (0.2-0.4 ms on loopback, more over a network),
        # is only for networks that drop idle connections silently: WANGGE_DB_PRE_PING=1.
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": os.environ.get("WANGGE_DB_PRE_PING", "0") == "1",
            "pool_recycle": 1800,
        },
        "SECRET_KEY": _secret_key(instance_path),
        "WANGGE_TILES": tiles,
        "WANGGE_TILES_ATTRIBUTION": os.environ.get(
            "WANGGE_TILES_ATTRIBUTION",
            DEFAULT_TILES_ATTRIBUTION if tiles == DEFAULT_TILES else "",
        ),
        # Tianditu serves {s} as t0..t7; OpenStreetMap-style servers as a, b, c.
        "WANGGE_TILES_SUBDOMAINS": os.environ.get(
            "WANGGE_TILES_SUBDOMAINS", "01234567" if "tianditu" in tiles else "abc"
        ),
        # Uploads are spooled here (mode 0700), never in the system temp folder; what a
        # killed process left is removed at the next start (see app.spool).
        "WANGGE_UPLOAD_TMP": os.environ.get(
            "WANGGE_UPLOAD_TMP", str(Path(instance_path) / "uploads-tmp")
        ),
        # Request bodies above this are refused with 413 before they are read.
        "MAX_CONTENT_LENGTH": int(os.environ.get("WANGGE_MAX_UPLOAD_MB", "32")) * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "zh_Hans_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        # Largest polygon a planner or an import may send, in vertices.
        "WANGGE_MAX_VERTICES": 10_000,
        # Photos attached to an incident or a progress report: how many, how large each.
        "WANGGE_MAX_PHOTOS": 5,
        "WANGGE_MAX_PHOTO_MB": int(os.environ.get("WANGGE_MAX_PHOTO_MB", "5")),
        # Reconstruction sites, the "three colours": yellow more than this many points behind
        # plan (or a milestone late), red more than that many behind or a milestone later
        # than WANGGE_SITE_LATE_DAYS.
        "WANGGE_SITE_YELLOW_POINTS": float(os.environ.get("WANGGE_SITE_YELLOW_POINTS", "10")),
        "WANGGE_SITE_RED_POINTS": float(os.environ.get("WANGGE_SITE_RED_POINTS", "25")),
        "WANGGE_SITE_LATE_DAYS": int(os.environ.get("WANGGE_SITE_LATE_DAYS", "14")),
        # Incidents: a possible duplicate is this close and this recent; near a boundary is this close.
        "WANGGE_DUPLICATE_RADIUS_M": 250,
        "WANGGE_DUPLICATE_DAYS": 30,
        # A rating at or below this reopens the case.
        "WANGGE_REOPEN_RATING": 2,
        # An overdue incident goes to its community at once, to its street once overdue by
        # more than this many working days, to the district after more than that many.
        "WANGGE_ESCALATE_STREET_DAYS": int(os.environ.get("WANGGE_ESCALATE_STREET_DAYS", "1")),
        "WANGGE_ESCALATE_DISTRICT_DAYS": int(os.environ.get("WANGGE_ESCALATE_DISTRICT_DAYS", "3")),
        # Who outside systems call about the Open311 endpoint (its discovery document).
        "WANGGE_OPEN311_CONTACT": os.environ.get("WANGGE_OPEN311_CONTACT", ""),
    }
