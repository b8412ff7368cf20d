"""Users, roles, passwords, API tokens and the scope each role gets."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug import security
from werkzeug.security import check_password_hash, generate_password_hash

from app.errors import Conflict, InvalidData, NotFound
from app.models import ApiToken, Area, Role, User, UserSession
from app.store import users as user_store
from app.store.scope import Scope

# Roles that see names and phone numbers (of the households in their scope).
ROLES_WITH_PERSONAL_DATA = frozenset({Role.ADMIN.value, Role.WORKER.value})


def create_user(
    session: Session,
    username: str,
    *,
    role: str,
    password: str,
    display_name: str | None = None,
    area_code: str | None = None,
    phone: str | None = None,
) -> User:
    if role not in {r.value for r in Role}:
        raise InvalidData(
            f"Unknown role {role!r}; expected one of {', '.join(r.value for r in Role)}."
        )
    _check_password_rules(password)
    if user_store.user_by_username(session, username):
        raise Conflict(f"User {username!r} already exists.")
    area_id = None
    if area_code:
        area_id = session.scalar(select(Area.id).where(Area.code == area_code))
        if area_id is None:
            raise NotFound(f"No area with code {area_code!r}.")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=generate_password_hash(password),
        role=role,
        area_id=area_id,
        phone=phone,
    )
    session.add(user)
    session.flush()
    return user


def _check_password_rules(password: str) -> None:
    if len(password) < 8:
        raise InvalidData("The password must have at least 8 characters.")


@cache
def _unknown_user_hash() -> str:
    """A hash of a random password, made the way real ones are, for users that do not exist."""
    return security.generate_password_hash(secrets.token_urlsafe(16))


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, else None.

    Every attempt checks one password hash, whether the user exists, is inactive or not,
    so that the time a wrong login takes does not tell which user names exist.
    """
    user = user_store.user_by_username(session, username)
    password_hash = user.password_hash if user is not None else _unknown_user_hash()
    matches = check_password_hash(password_hash, password)
    if user is not None and matches and user.active:
        return user
    return None


def set_password(session: Session, username: str, password: str) -> int:
    """Change a user's password and end every login session of theirs; how many ended."""
    user = _user(session, username)
    _check_password_rules(password)
    user.password_hash = generate_password_hash(password)
    ended = user_store.revoke_sessions(session, user_id=user.id)
    session.commit()
    return ended


def deactivate_user(session: Session, username: str) -> int:
    """Refuse a user from now on: sessions ended, tokens revoked; how many sessions ended."""
    user = _user(session, username)
    user.active = False
    ended = user_store.revoke_sessions(session, user_id=user.id)
    user_store.revoke_tokens(session, user_id=user.id)
    session.commit()
    return ended


def _user(session: Session, username: str) -> User:
    user = user_store.user_by_username(session, username)
    if user is None:
        raise NotFound(f"No user {username!r}.")
    return user


# --- browser login sessions ------------------------------------------------------------------


def open_session(session: Session, user: User) -> str:
    """Start a login session for ``user``; returns the id for the (signed) cookie."""
    sid = secrets.token_urlsafe(32)
    session.add(UserSession(user_id=user.id, sid_sha256=token_digest(sid)))
    session.commit()
    return sid


def user_for_session(
    session: Session, sid: str, *, idle: timedelta, lifetime: timedelta
) -> tuple[User | None, bool]:
    """The active user of a live session, and whether its use was recorded now."""
    user, recorded = user_store.user_by_session(
        session, token_digest(sid), idle=idle, lifetime=lifetime
    )
    if user is None or not user.active:
        return None, False
    return user, recorded


def close_session(session: Session, sid: str) -> None:
    """Log out: the session id no longer works, whoever holds a copy of the cookie."""
    user_store.revoke_sessions(session, digest=token_digest(sid))
    session.commit()


# --- API tokens ------------------------------------------------------------------------------

DEFAULT_TOKEN_DAYS = 90


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(
    session: Session, username: str, *, days: int = DEFAULT_TOKEN_DAYS
) -> tuple[ApiToken, str]:
    """A new bearer token for a user, valid ``days`` days; only its digest is stored, so the
    token itself is shown once. Returns the stored row (its id names it for revocation)."""
    user = _user(session, username)
    if days < 1:
        raise InvalidData("A token must be valid for at least one day.")
    token = "wg_" + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_sha256=token_digest(token),
        expires_at=datetime.now().astimezone() + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    return row, token


def issue_token(session: Session, username: str, *, days: int = DEFAULT_TOKEN_DAYS) -> str:
    return create_token(session, username, days=days)[1]


def revoke_tokens(
    session: Session, *, token_id: int | None = None, username: str | None = None
) -> int:
    """Revoke one token by its id, or every token of a user; how many were live."""
    if token_id is None and username is None:
        raise InvalidData("Name a token id or a user.")
    user_id = _user(session, username).id if username is not None else None
    revoked = user_store.revoke_tokens(session, user_id=user_id, token_id=token_id)
    if token_id is not None and revoked == 0:
        raise NotFound(
            f"No live token with id {token_id}" + (f" of {username}." if username else ".")
        )
    session.commit()
    return revoked


def user_for_token(session: Session, token: str) -> tuple[User | None, bool]:
    """The active user a live (unrevoked, unexpired) token belongs to, and whether its last
    use was recorded now (at most every few minutes, so that a client does not pay a write on
    every request)."""
    user, recorded = user_store.user_by_token(session, token_digest(token))
    if user is None or not user.active:
        return None, False
    return user, recorded


def scope_for(session: Session, user: User) -> Scope:
    """Workers see their own grids; others their area (or the whole district)."""
    personal = user.role in ROLES_WITH_PERSONAL_DATA
    if user.role == Role.WORKER.value:
        grids = user_store.worker_grid_ids(session, user.id)
        return Scope(user_id=user.id, grid_ids=grids, sees_personal_data=personal)
    if user.area_id is not None:
        grids = user_store.grid_ids_under(session, user.area_id)
        return Scope(user_id=user.id, grid_ids=grids, sees_personal_data=personal)
    return Scope.everything(user_id=user.id, personal=personal)
