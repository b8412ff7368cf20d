"""Users, tokens and the grids each worker holds."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models import ApiToken, Area, User, WorkerGrid


def user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def user_by_token_sha256(session: Session, digest: str) -> User | None:
    return session.scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_sha256 == digest, ApiToken.revoked_at.is_(None))
    )


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


def touch_token(session: Session, digest: str) -> bool:
    """Record a token's use unless it was recorded within TOKEN_TOUCH_INTERVAL."""
    result = session.execute(
        text(
            "UPDATE api_tokens SET last_used_at = now() WHERE token_sha256 = :d "
            f"AND (last_used_at IS NULL OR last_used_at < now() - interval '{TOKEN_TOUCH_INTERVAL}')"
        ),
        {"d": digest},
    )
    return result.rowcount > 0
