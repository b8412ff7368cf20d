"""Users, tokens and the grids each worker holds."""

from __future__ import annotations

from sqlalchemy import Boolean, column, select, text
from sqlalchemy.orm import Session

from app.models import Area, User, WorkerGrid


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
        WHERE token_sha256 = :digest AND revoked_at IS NULL
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
