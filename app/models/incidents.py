"""Incident categories, incidents and their timeline."""

from __future__ import annotations

import enum
from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column


class Status(enum.StrEnum):
    SUBMITTED = "submitted"  # 上报
    ACCEPTED = "accepted"  # 受理
    REGISTERED = "registered"  # 立案
    DISPATCHED = "dispatched"  # 派遣
    IN_PROGRESS = "in_progress"  # 处置
    REPORTED_BACK = "reported_back"  # 反馈
    VERIFIED = "verified"  # 核查
    CLOSED = "closed"  # 结案
    RATED = "rated"  # 评价
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    REOPENED = "reopened"


STATUS_VALUES = tuple(s.value for s in Status)
OPEN_STATUSES = tuple(
    s.value
    for s in Status
    if s not in (Status.CLOSED, Status.RATED, Status.REJECTED, Status.DUPLICATE)
)
CHANNELS = ("patrol", "web", "hotline", "api", "open311")


class IncidentCategory(Base):
    __tablename__ = "incident_categories"
    __table_args__ = (CheckConstraint("deadline_days > 0", name="deadline_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # Working days on the Chinese calendar.
    deadline_days: Mapped[int] = mapped_column(SmallInteger)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUS_VALUES!r}", name="status_known"),
        CheckConstraint(f"channel IN {CHANNELS!r}", name="channel_known"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        Index("ix_incidents_geom", "geom", postgresql_using="gist"),
        Index("ix_incidents_grid_status", "grid_id", "status"),
        Index("ix_incidents_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    category_id: Mapped[int] = mapped_column(ForeignKey("incident_categories.id"))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default=Status.SUBMITTED.value)
    channel: Mapped[str] = mapped_column(String(16))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    street_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    created_at: Mapped[datetime] = created_at_column()
    deadline_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    rating: Mapped[int | None] = mapped_column(SmallInteger)


class IncidentEvent(Base):
    """One step of an incident's timeline: who moved it from which status to which, and when."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = created_at_column()
