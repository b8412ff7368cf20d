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
        **_session_settings(),
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
        **_rate_limit_settings(),
    }


def _session_settings() -> dict:
    """Login sessions live on the server (they end at logout); cookies only carry their id."""
    secure = os.environ.get("WANGGE_SECURE_COOKIES", "0") == "1"
    max_days = float(os.environ.get("WANGGE_SESSION_MAX_DAYS", "3"))
    return {
        # Behind TLS: cookies go over HTTPS only.
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WANGGE_SECURE_COOKIES": secure,
        # A login ends after this long without a request, and after WANGGE_SESSION_MAX_DAYS
        # whatever happens; the cookie itself expires with the latter.
        "WANGGE_SESSION_IDLE_HOURS": float(os.environ.get("WANGGE_SESSION_IDLE_HOURS", "12")),
        "WANGGE_SESSION_MAX_DAYS": max_days,
        "PERMANENT_SESSION_LIFETIME": int(max_days * 86400),
        # API tokens expire after this many days unless issue-token says otherwise.
        "WANGGE_TOKEN_DAYS": int(os.environ.get("WANGGE_TOKEN_DAYS", "90")),
        # Proxies in front of the app that set X-Forwarded-For/-Proto/-Host (a TLS-terminating
        # nginx: 1). 0 trusts no such header.
        "WANGGE_PROXY_HOPS": int(os.environ.get("WANGGE_PROXY_HOPS", "0")),
    }


def _rate_limit_settings() -> dict:
    """Limits shared by every worker and server through Redis (see app.ratelimit)."""
    env = os.environ.get
    return {
        "WANGGE_RATELIMIT_STORAGE_URL": env(
            "WANGGE_RATELIMIT_STORAGE_URL", "redis://127.0.0.1:6379/0"
        ),
        "WANGGE_RATELIMIT_PREFIX": env("WANGGE_RATELIMIT_PREFIX", "wangge"),
        # Failed logins for one user name, and from one client address.
        "WANGGE_LOGIN_LIMIT_ACCOUNT": env("WANGGE_LOGIN_LIMIT_ACCOUNT", "10 per 15 minutes"),
        "WANGGE_LOGIN_LIMIT_CLIENT": env("WANGGE_LOGIN_LIMIT_CLIENT", "30 per 15 minutes"),
        # Anonymous resident reports from one client address.
        "WANGGE_REPORT_LIMIT_CLIENT": env("WANGGE_REPORT_LIMIT_CLIENT", "20 per hour"),
        # Open311 posts per api_key, and from one client address.
        "WANGGE_OPEN311_LIMIT_KEY": env("WANGGE_OPEN311_LIMIT_KEY", "300 per hour"),
        "WANGGE_OPEN311_LIMIT_CLIENT": env("WANGGE_OPEN311_LIMIT_CLIENT", "100 per hour"),
    }
