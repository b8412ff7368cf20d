"""Incident categories, incidents and their timeline."""

from __future__ import annotations

import enum
from datetime import date, datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
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
# Who an overdue incident has been escalated to, in order.
ESCALATION_LEVELS = ("community", "street", "district")


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
        Index("ix_incidents_worker_status", "worker_id", "status"),
        Index("ix_incidents_category_created", "category_id", "created_at"),
        CheckConstraint(
            f"escalation_level IS NULL OR escalation_level IN {ESCALATION_LEVELS!r}",
            name="escalation_known",
        ),
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
    address: Mapped[str | None] = mapped_column(String(300))
    # A resident's or outside system's contact: personal data, masked like a household's.
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    # Within 30 m of a grid boundary: the grids it could belong to, for one-click re-routing.
    near_boundary: Mapped[bool] = mapped_column(server_default="false")
    candidate_grid_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default="{}")
    # Accepted outside every grid (resident form): a supervisor must route it by hand.
    needs_review: Mapped[bool] = mapped_column(server_default="false")
    duplicate_of_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("incidents.id", ondelete="SET NULL")
    )
    escalation_level: Mapped[str | None] = mapped_column(String(16))
    escalated_at: Mapped[datetime | None]
    open311_client_id: Mapped[int | None] = mapped_column(ForeignKey("open311_clients.id"))
    updated_at: Mapped[datetime] = created_at_column()


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


class IncidentPhoto(Base):
    """A photo of an incident, kept in the database so an intake is all-or-nothing."""

    __tablename__ = "incident_photos"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("incident_events.id", ondelete="SET NULL")
    )
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = created_at_column()


class CalendarDay(Base):
    """An exception to the Monday-Friday week: a statutory holiday or a make-up working day."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    is_workday: Mapped[bool]
    name: Mapped[str] = mapped_column(String(100))


class Notification(Base):
    """An in-app notice: something was assigned or escalated to a user."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    incident_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("incidents.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    read_at: Mapped[datetime | None]


class WebhookDelivery(Base):
    """Outbox of webhook calls to departments' outside systems, sent after commit."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_pending", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    incident_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("incidents.id", ondelete="CASCADE")
    )
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JSONB)
    attempts: Mapped[int] = mapped_column(server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    next_attempt_at: Mapped[datetime] = created_at_column()
    delivered_at: Mapped[datetime | None]


class Open311Client(Base):
    """An outside system (12345 hotline, a mini-program) allowed to post Open311 requests."""

    __tablename__ = "open311_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None]
