"""Flask-side authentication: session login for pages, Bearer tokens for API clients."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, g
from flask_login import current_user

from app.errors import Forbidden
from app.extensions import db, login_manager
from app.models import User
from app.services import auth as auth_service
from app.store.scope import Scope


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    login_manager.login_message = "请先登录。"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.active else None

    @login_manager.request_loader
    def load_user_from_bearer(req) -> User | None:
        header = req.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        user, recorded = auth_service.user_for_token(
            db.session, header.removeprefix("Bearer ").strip()
        )
        if user is not None:
            g.bearer_auth = True
            if recorded:
                db.session.commit()  # keeps last_used_at even if the request only reads
        return user


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
