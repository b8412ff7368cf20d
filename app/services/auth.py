"""Users, roles, passwords, API tokens and the scope each role gets."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.errors import Conflict, InvalidData, NotFound
from app.models import ApiToken, Area, Role, User
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
    if len(password) < 8:
        raise InvalidData("The password must have at least 8 characters.")
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


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = user_store.user_by_username(session, username)
    if user and user.active and check_password_hash(user.password_hash, password):
        return user
    return None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, username: str) -> str:
    """A new bearer token for a user; only its digest is stored, so it is shown once."""
    user = user_store.user_by_username(session, username)
    if user is None:
        raise NotFound(f"No user {username!r}.")
    token = "wg_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_sha256=token_digest(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> tuple[User | None, bool]:
    """The active user a token belongs to, and whether its last use was recorded now
    (at most every few minutes, so that a client does not pay a write on every request)."""
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
