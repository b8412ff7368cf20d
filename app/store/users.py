"""Users, tokens and the grids each worker holds."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Boolean, column, func, select, text, update
from sqlalchemy.orm import Session

from app.models import ApiToken, Area, User, UserSession, WorkerGrid


def user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def worker_grid_ids(session: Session, user_id: int) -> frozenset[int]:
    rows = session.scalars(
        select(WorkerGrid.grid_id)
        .join(Area, Area.id == WorkerGrid.grid_id)
        .where(WorkerGrid.user_id == user_id, Area.valid_to.is_(None))
    )
    return frozenset(rows)


def grid_ids_under(session: Session, area_id: int) -> frozenset[int]:
    """Live grids (and micro-grids) at or below an area of any level."""
    rows = session.execute(
        text(
            """
            WITH RECURSIVE tree AS (
                SELECT id, level FROM areas WHERE id = :area_id
                UNION ALL
                SELECT a.id, a.level FROM areas a JOIN tree t ON a.parent_id = t.id
                WHERE a.valid_to IS NULL
            )
            SELECT id FROM tree WHERE level IN ('grid', 'microgrid')
            """
        ),
        {"area_id": area_id},
    ).scalars()
    return frozenset(rows)


TOKEN_TOUCH_INTERVAL = "5 minutes"

_TOKEN_USER = text(
    f"""
    WITH token AS (
        SELECT id, user_id, last_used_at FROM api_tokens
        WHERE token_sha256 = :digest AND revoked_at IS NULL AND expires_at > now()
    ), touched AS (
        UPDATE api_tokens t SET last_used_at = now() FROM token
        WHERE t.id = token.id AND (token.last_used_at IS NULL
              OR token.last_used_at < now() - interval '{TOKEN_TOUCH_INTERVAL}')
        RETURNING t.id
    )
    SELECT users.*, EXISTS (SELECT FROM touched) AS touched
    FROM users JOIN token ON users.id = token.user_id
    """
).columns(*User.__table__.columns, column("touched", Boolean))


def user_by_token(session: Session, digest: str) -> tuple[User | None, bool]:
    """The user a token belongs to, recording the token's use at most every few minutes,
    in one round trip (an API client pays it on every request). Returns (user, recorded)."""
    row = session.execute(
        select(User, _TOKEN_USER.selected_columns.touched).from_statement(_TOKEN_USER),
        {"digest": digest},
    ).one_or_none()
    return (row[0], row[1]) if row else (None, False)


def revoke_tokens(
    session: Session, *, user_id: int | None = None, token_id: int | None = None
) -> int:
    """Revoke one token (of a user), or all of a user's; how many were still live."""
    statement = update(ApiToken).where(ApiToken.revoked_at.is_(None))
    if user_id is not None:
        statement = statement.where(ApiToken.user_id == user_id)
    if token_id is not None:
        statement = statement.where(ApiToken.id == token_id)
    return session.execute(statement.values(revoked_at=func.now())).rowcount


SESSION_TOUCH_INTERVAL = "1 minute"

_SESSION_USER = text(
    f"""
    WITH live AS (
        SELECT id, user_id, last_seen_at FROM user_sessions
        WHERE sid_sha256 = :digest AND revoked_at IS NULL
          AND last_seen_at > now() - make_interval(secs => :idle)
          AND created_at > now() - make_interval(secs => :lifetime)
    ), touched AS (
        UPDATE user_sessions s SET last_seen_at = now() FROM live
        WHERE s.id = live.id AND live.last_seen_at < now() - interval '{SESSION_TOUCH_INTERVAL}'
        RETURNING s.id
    )
    SELECT users.*, EXISTS (SELECT FROM touched) AS touched
    FROM users JOIN live ON users.id = live.user_id
    """
).columns(*User.__table__.columns, column("touched", Boolean))


def user_by_session(
    session: Session, digest: str, *, idle: timedelta, lifetime: timedelta
) -> tuple[User | None, bool]:
    """The user of a live login session (not revoked, used within ``idle``, younger than
    ``lifetime``), recording its use at most once a minute. Returns (user, recorded)."""
    row = session.execute(
        select(User, _SESSION_USER.selected_columns.touched).from_statement(_SESSION_USER),
        {
            "digest": digest,
            "idle": idle.total_seconds(),
            "lifetime": lifetime.total_seconds(),
        },
    ).one_or_none()
    return (row[0], row[1]) if row else (None, False)


def revoke_sessions(
    session: Session, *, user_id: int | None = None, digest: str | None = None
) -> int:
    """End one login session (by its digest) or every one of a user; how many were live."""
    statement = update(UserSession).where(UserSession.revoked_at.is_(None))
    if user_id is not None:
        statement = statement.where(UserSession.user_id == user_id)
    if digest is not None:
        statement = statement.where(UserSession.sid_sha256 == digest)
    return session.execute(statement.values(revoked_at=func.now())).rowcount
