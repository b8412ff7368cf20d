"""Users, roles, API tokens, grid workers and departments."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column


class Role(enum.StrEnum):
    ADMIN = "admin"
    PLANNER = "planner"
    LEADER = "leader"
    WORKER = "worker"


ROLE_VALUES = tuple(role.value for role in Role)


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN {ROLE_VALUES!r}", name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    # The area a leader or planner is responsible for; None means the whole district.
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(server_default="true")
    created_at: Mapped[datetime] = created_at_column()

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    # Every token expires; issue-token sets the lifetime (the default is a fallback).
    expires_at: Mapped[datetime] = mapped_column(server_default=text("now() + interval '90 days'"))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class UserSession(Base):
    """A browser login. The signed cookie carries a random id whose SHA-256 is kept here, so
    that logging out, a password change or a deactivation ends it on the server."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sid_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    last_seen_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None]


class WorkerGrid(Base):
    """A grid worker's assignment to a grid (a worker may hold several grids)."""

    __tablename__ = "worker_grids"
    __table_args__ = (Index("ix_worker_grids_grid_id", "grid_id"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    grid_id: Mapped[int] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True
    )
    since: Mapped[datetime] = created_at_column()


class Department(Base):
    """A department (城管, 公安, 消防 …) handling categories of incidents in an area."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    webhook_url: Mapped[str | None] = mapped_column(String(500))


class PersonalDataRead(Base):
    """Audit log: every read of names, phone numbers or ID numbers, by whom and of what."""

    __tablename__ = "personal_data_reads"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(32))  # e.g. "households"
    subject_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    purpose: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at_column()
