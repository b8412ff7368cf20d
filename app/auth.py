"""Flask-side authentication: session login for pages, Bearer tokens for API clients."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from flask import Flask, current_app, g, session
from flask_login import current_user, login_user, logout_user
from werkzeug.middleware.proxy_fix import ProxyFix

from app import ratelimit
from app.errors import Forbidden
from app.extensions import db, login_manager
from app.models import User
from app.services import auth as auth_service
from app.store.scope import Scope

SESSION_KEY = "sid"  # the login session's id in the signed cookie


def init_app(app: Flask) -> None:
    if hops := app.config.get("WANGGE_PROXY_HOPS"):
        # Behind a TLS-terminating proxy: the client's address and scheme as the proxy saw them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    ratelimit.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    login_manager.login_message = "请先登录。"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        sid = session.get(SESSION_KEY)
        if not isinstance(sid, str):
            return None
        config = current_app.config
        user, recorded = auth_service.user_for_session(
            db.session,
            sid,
            idle=timedelta(hours=config["WANGGE_SESSION_IDLE_HOURS"]),
            lifetime=timedelta(days=config["WANGGE_SESSION_MAX_DAYS"]),
        )
        if user is None or str(user.id) != user_id:
            return None
        if recorded:
            db.session.commit()  # keeps last_seen_at even if the request only reads
        return user

    @login_manager.request_loader
    def load_user_from_bearer(req) -> User | None:
        header = req.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        user, recorded = auth_service.user_for_token(
            db.session, header.removeprefix("Bearer ").strip()
        )
        if user is None:
            g.bearer_invalid = True  # the 401 says so (WWW-Authenticate: error="invalid_token")
            return None
        g.bearer_auth = True
        if recorded:
            db.session.commit()  # keeps last_used_at even if the request only reads
        return user


def start_session(user: User) -> None:
    """Log ``user`` in: a new server-side session whose id the signed cookie carries."""
    session.clear()  # nothing of an earlier visitor's cookie carries over
    session[SESSION_KEY] = auth_service.open_session(db.session, user)
    session.permanent = True  # the cookie expires with WANGGE_SESSION_MAX_DAYS
    login_user(user)


def end_session() -> None:
    """Log out: the session ends on the server, so a copy of the cookie is worthless."""
    sid = session.get(SESSION_KEY)
    if isinstance(sid, str):
        auth_service.close_session(db.session, sid)
    logout_user()
    session.clear()


def bearer_rejected() -> bool:
    """True when this request sent a bearer token that is unknown, expired or revoked."""
    return bool(g.get("bearer_invalid"))


def bearer_authenticated() -> bool:
    """True only when this request was authenticated by a valid token (not a cookie that
    happens to travel with an Authorization header): only then may it skip CSRF."""
    return bool(g.get("bearer_auth"))


def current_scope() -> Scope:
    """The scope of the logged-in user, computed once per request."""
    if "scope" not in g:
        g.scope = auth_service.scope_for(db.session, current_user)
    return g.scope


def roles_required(*roles: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                raise Forbidden(
                    f"This needs one of the roles {', '.join(roles)}; you are {current_user.role}."
                )
            return view(*args, **kwargs)

        return wrapped

    return decorator
