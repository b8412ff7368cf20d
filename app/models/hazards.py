"""Hazard zones and points, and post-disaster reconstruction sites."""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, SmallInteger, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column

HAZARD_CLASSES = ("flood", "landslide", "earthquake", "fire", "security", "construction")
SITE_TYPES = ("housing", "road", "school", "public_facility")
POINT_OR_POLYGON = "GeometryType(geom) IN ('POINT', 'MULTIPOLYGON')"


class Hazard(Base):
    __tablename__ = "hazards"
    __table_args__ = (
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        CheckConstraint(POINT_OR_POLYGON, name="geom_type"),
        CheckConstraint(f"hazard_class IN {HAZARD_CLASSES!r}", name="class_known"),
        CheckConstraint("severity BETWEEN 1 AND 4", name="severity_range"),
        Index("ix_hazards_geom", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    hazard_class: Mapped[str] = mapped_column(String(16))
    # 1 low (IV, blue) .. 4 extreme (I, red), as in Chinese early-warning practice.
    severity: Mapped[int] = mapped_column(SmallInteger)
    geom: Mapped[WKBElement] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False))
    description: Mapped[str] = mapped_column(Text, server_default="")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    valid_to: Mapped[datetime | None]


class ImpactRun(Base):
    """One impact analysis of a hazard, stored with its inputs so it can be shown again."""

    __tablename__ = "impact_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazards.id", ondelete="CASCADE"), index=True)
    buffer_m: Mapped[float] = mapped_column(server_default="0")
    # The zone as analysed (hazard geometry plus buffer) at the time of the run.
    geom: Mapped[WKBElement] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False))
    params: Mapped[dict] = mapped_column(JSONB)
    result: Mapped[dict] = mapped_column(JSONB)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()


class ReconstructionSite(Base):
    __tablename__ = "sites"
    __table_args__ = (
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        CheckConstraint(POINT_OR_POLYGON, name="geom_type"),
        CheckConstraint(f"site_type IN {SITE_TYPES!r}", name="type_known"),
        CheckConstraint("planned_end > planned_start", name="planned_period"),
        Index("ix_sites_geom", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    site_type: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(200))
    geom: Mapped[WKBElement] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False))
    planned_start: Mapped[date]
    planned_end: Mapped[date]
    description: Mapped[str] = mapped_column(Text, server_default="")
    # The owner's contact person: personal data, never in the public listing.
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = created_at_column()


class SiteMilestone(Base):
    __tablename__ = "site_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    planned_date: Mapped[date]
    done_date: Mapped[date | None]


class SiteProgress(Base):
    __tablename__ = "site_progress"
    __table_args__ = (CheckConstraint("percent BETWEEN 0 AND 100", name="percent_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    reported_on: Mapped[date]
    percent: Mapped[float]
    note: Mapped[str] = mapped_column(Text, server_default="")
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SitePhoto(Base):
    """A photo attached to a progress report, kept in the database with the report."""

    __tablename__ = "site_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    progress_id: Mapped[int] = mapped_column(
        ForeignKey("site_progress.id", ondelete="CASCADE"), index=True
    )
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = created_at_column()
