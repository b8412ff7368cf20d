"""Households and their effective-dated assignment to grids."""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, created_at_column

# Vulnerable and key groups a household can be tagged with (stored as these codes).
HOUSEHOLD_TAGS = {
    "elderly_alone": "独居老人",
    "disabled": "残疾人",
    "low_income": "低保户",
    "relocated": "易地搬迁户",
    "key_person": "重点人员",
    "left_behind_child": "留守儿童",
    "veteran": "退役军人",
}
VULNERABLE_TAGS = ("elderly_alone", "disabled", "low_income", "left_behind_child")


class Household(Base):
    __tablename__ = "households"
    __table_args__ = (
        CheckConstraint("members >= 1 AND members <= 100", name="members_range"),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        Index("ix_households_geom", "geom", postgresql_using="gist"),
        Index("ix_households_tags", "tags", postgresql_using="gin"),
        # Address search (ILIKE '%…%') for the workers' locate box; migration 0003.
        Index(
            "ix_households_address_trgm",
            "address",
            postgresql_using="gin",
            postgresql_ops={"address": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    address: Mapped[str] = mapped_column(Text, server_default="")
    head_name: Mapped[str] = mapped_column(String(100), server_default="")
    phone: Mapped[str] = mapped_column(String(32), server_default="")
    members: Mapped[int] = mapped_column(server_default="1")
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(32)), server_default="{}")
    created_at: Mapped[datetime] = created_at_column()


class HouseholdGrid(Base):
    """The current grid of a household: one narrow row per covered household.

    A household with no row is uncovered.  Kept narrow so that bulk assignment can rebuild it
    set-based; past assignments live in ``household_grid_history``.
    """

    __tablename__ = "household_grid"
    __table_args__ = (Index("ix_household_grid_grid_id", "grid_id"),)

    household_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("households.id", ondelete="CASCADE"), primary_key=True
    )
    grid_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    valid_from: Mapped[datetime]


class GridCounts(Base):
    """Households and vulnerable households per grid, for the maps and their tables.

    Written only by the database: triggers on ``household_grid`` and ``households`` recount
    the grids a statement touched (migration 0004), so no code path can leave them stale.
    """

    __tablename__ = "grid_counts"

    grid_id: Mapped[int] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True
    )
    households: Mapped[int] = mapped_column(server_default="0")
    vulnerable: Mapped[int] = mapped_column(server_default="0")


class HouseholdGridHistory(Base):
    """A closed period during which a household belonged to a grid."""

    __tablename__ = "household_grid_history"
    __table_args__ = (
        CheckConstraint("valid_to >= valid_from", name="valid_period"),
        Index("ix_household_grid_history_household", "household_id", "valid_from"),
        Index("ix_household_grid_history_grid", "grid_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    household_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("households.id", ondelete="CASCADE")
    )
    grid_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime]


class AssignmentRun(Base):
    """One (re)assignment: what triggered it and what moved."""

    __tablename__ = "assignment_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # bulk | incremental
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    assigned: Mapped[int]
    uncovered: Mapped[int]
    moved: Mapped[int]
    seconds: Mapped[float]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
