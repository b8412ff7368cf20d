"""Rate limits kept in Redis, so that every worker process and every server counts together.

Only the requests an attacker would repeat are counted: failed logins (per account and per
client address), anonymous resident reports (per client) and Open311 posts (per key and per
client). Nothing else pays for a limit: an API read never touches Redis.

The thresholds are settings in ``limits``' notation ("10 per 15 minutes"). If Redis cannot be
reached the request is let through and the failure logged: an outage of the counter must not
lock every resident and worker out.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import Flask, current_app, request
from flask_babel import gettext as _
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.errors import TooManyRequests

log = logging.getLogger(__name__)

# name -> the setting that holds its threshold
LIMIT_SETTINGS = {
    "login_account": "WANGGE_LOGIN_LIMIT_ACCOUNT",
    "login_client": "WANGGE_LOGIN_LIMIT_CLIENT",
    "report_client": "WANGGE_REPORT_LIMIT_CLIENT",
    "open311_key": "WANGGE_OPEN311_LIMIT_KEY",
    "open311_client": "WANGGE_OPEN311_LIMIT_CLIENT",
}
EXTENSION = "wangge_ratelimit"


def init_app(app: Flask) -> None:
    for setting in LIMIT_SETTINGS.values():
        parse(app.config[setting])  # a typo in a threshold fails at start, not on a request
    storage = storage_from_string(
        app.config["WANGGE_RATELIMIT_STORAGE_URL"],
        key_prefix=app.config["WANGGE_RATELIMIT_PREFIX"],
        wrap_exceptions=True,
    )
    app.extensions[EXTENSION] = MovingWindowRateLimiter(storage)


def client_address() -> str:
    """The client's address (the proxy's view of it when WANGGE_PROXY_HOPS is set)."""
    return request.remote_addr or "unknown"


def _limiter() -> MovingWindowRateLimiter:
    return current_app.extensions[EXTENSION]


def _item(name: str) -> RateLimitItem:
    return parse(current_app.config[LIMIT_SETTINGS[name]])


def _key(value: str) -> str:
    """A fixed-size key for any value (user names and API keys are not stored as such)."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _refuse(name: str, item: RateLimitItem, key: str) -> TooManyRequests:
    try:
        reset = _limiter().get_window_stats(item, name, key).reset_time
    except StorageError:
        reset = time.time() + item.get_expiry()
    retry_after = max(1, math.ceil(reset - time.time()))
    minutes = max(1, math.ceil(retry_after / 60))
    return TooManyRequests(
        f"Too many requests ({item}); try again in {retry_after} seconds.",
        retry_after=retry_after,
        page_message=_(
            "Too many attempts. Please try again in %(minutes)s minutes.", minutes=minutes
        ),
    )


def _apply(name: str, value: str, *, count: bool) -> None:
    item, key = _item(name), _key(value)
    try:
        allowed = _limiter().hit(item, name, key) if count else _limiter().test(item, name, key)
    except StorageError:
        log.exception("rate-limit store unreachable; %s not limited", name)
        return
    if not allowed:
        raise _refuse(name, item, key)


def hit(name: str, value: str) -> None:
    """Count one request against the limit ``name`` for ``value``; TooManyRequests if over."""
    _apply(name, value, count=True)


def check(name: str, value: str) -> None:
    """TooManyRequests if the limit ``name`` is already used up for ``value`` (counts nothing)."""
    _apply(name, value, count=False)


def check_login(username: str) -> None:
    """Before a password is checked: refuse if the account or the client failed too often."""
    check("login_account", username)
    check("login_client", client_address())


def count_failed_login(username: str) -> None:
    for name, value in (("login_account", username), ("login_client", client_address())):
        try:
            _limiter().hit(_item(name), name, _key(value))
        except StorageError:
            log.exception("rate-limit store unreachable; failed login not counted")
            return
