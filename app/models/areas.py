"""The area hierarchy: district > street/town > community/village > grid > micro-grid."""

from __future__ import annotations

import enum
from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base


class Level(enum.StrEnum):
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    GRID = "grid"
    MICROGRID = "microgrid"

    @property
    def depth(self) -> int:
        return list(Level).index(self)

    @property
    def child(self) -> Level | None:
        members = list(Level)
        return members[self.depth + 1] if self.depth + 1 < len(members) else None


LEVEL_VALUES = tuple(level.value for level in Level)
# GB/T 2260 county code (6) + street (3) + community (3) + grid sequence (3) + micro-grid (2).
CODE_LENGTHS = {"district": 6, "street": 9, "community": 12, "grid": 15, "microgrid": 17}
LEVEL_NAMES = {
    "district": "区县",
    "street": "街道",
    "community": "社区",
    "grid": "网格",
    "microgrid": "微网格",
}


def default_area_name(code: str, level: str) -> str:
    """``5号网格`` for grid ...005, ``1号微网格`` for micro-grid ...01."""
    parent_length = CODE_LENGTHS[list(Level)[Level(level).depth - 1].value]
    return f"{int(code[parent_length:])}号{LEVEL_NAMES[level]}"


class Area(Base):
    """One area of any level; retired areas keep their row (``valid_to`` set) and their code."""

    __tablename__ = "areas"
    __table_args__ = (
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        CheckConstraint(f"level IN {LEVEL_VALUES!r}", name="level_known"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_period"),
        Index("ix_areas_geom", "geom", postgresql_using="gist"),
        Index("ix_areas_parent_id", "parent_id"),
        Index("ix_areas_level_live", "level", postgresql_where="valid_to IS NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique over all time: a retired grid's code is never given to another grid.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)
    )
    version: Mapped[int] = mapped_column(server_default="1")
    valid_from: Mapped[datetime] = mapped_column(server_default=func.now())
    valid_to: Mapped[datetime | None]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    parent: Mapped[Area | None] = relationship(remote_side=[id])


class AreaVersion(Base):
    """A past state of an area: geometry and name with the period they were in force."""

    __tablename__ = "area_versions"
    __table_args__ = (
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        Index("ix_area_versions_geom", "geom", postgresql_using="gist"),
        Index("ix_area_versions_area_id", "area_id", "version", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)
    )
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime]
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    change_note: Mapped[str | None] = mapped_column(Text)
