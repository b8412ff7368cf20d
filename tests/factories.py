"""Small hand-made worlds for tests: square grids whose every figure is known in advance."""

from __future__ import annotations

from dataclasses import dataclass, field

from geoalchemy2.shape import from_shape
from shapely import MultiPolygon, box
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models import Area, Household, User, WorkerGrid
from app.services.auth import create_user

# A 2x2 block of 0.01-degree grids near Langzhong's old town:
#   grid ...001 (NW) | ...002 (NE)
#   grid ...003 (SW) | ...004 (SE)
X0, Y0, STEP = 105.96, 31.57, 0.01


def multipolygon(geom) -> MultiPolygon:
    return geom if isinstance(geom, MultiPolygon) else MultiPolygon([geom])


def add_area(session: Session, code: str, name: str, level: str, geom, parent: Area | None = None):
    area = Area(
        code=code,
        name=name,
        level=level,
        parent_id=parent.id if parent else None,
        geom=from_shape(multipolygon(geom), srid=4326),
    )
    session.add(area)
    session.flush()
    return area


def add_households(session: Session, points: list[tuple[float, float]], **values) -> list[int]:
    rows = [
        Household(
            geom=from_shape(__import__("shapely").Point(x, y), srid=4326),
            address=values.get("address", f"测试路{i}号"),
            head_name=values.get("head_name", "张三"),
            phone=values.get("phone", "13812341234"),
            members=values.get("members", 3),
            tags=values.get("tags", []),
        )
        for i, (x, y) in enumerate(points)
    ]
    session.add_all(rows)
    session.flush()
    return [r.id for r in rows]


@dataclass
class World:
    district: Area
    street: Area
    community: Area
    grids: dict[str, Area]  # "NW", "NE", "SW", "SE"
    users: dict[str, User] = field(default_factory=dict)


def build_world(session: Session) -> World:
    """District > street > community (0.02 x 0.02 degrees) > four square grids."""
    outer = box(X0 - 0.05, Y0 - 0.05, X0 + 0.07, Y0 + 0.07)
    district = add_area(session, "511381", "阆中市", "district", outer)
    street = add_area(session, "511381001", "保宁街道", "street", outer, district)
    community = add_area(
        session,
        "511381001001",
        "测试社区",
        "community",
        box(X0, Y0, X0 + 2 * STEP, Y0 + 2 * STEP),
        street,
    )
    cells = {
        "NW": box(X0, Y0 + STEP, X0 + STEP, Y0 + 2 * STEP),
        "NE": box(X0 + STEP, Y0 + STEP, X0 + 2 * STEP, Y0 + 2 * STEP),
        "SW": box(X0, Y0, X0 + STEP, Y0 + STEP),
        "SE": box(X0 + STEP, Y0, X0 + 2 * STEP, Y0 + STEP),
    }
    grids = {
        key: add_area(session, f"511381001001{i:03d}", f"第{i}网格", "grid", geom, community)
        for i, (key, geom) in enumerate(cells.items(), start=1)
    }
    return World(district, street, community, grids)


def add_user(session: Session, username: str, role: str, *, grids: list[Area] = (), area=None):
    user = create_user(
        session,
        username,
        role=role,
        password="password-123",
        display_name=username,
        area_code=area.code if area else None,
        phone="13900001111",
    )
    for grid in grids:
        session.add(WorkerGrid(user_id=user.id, grid_id=grid.id))
    session.flush()
    return user


def current_grid_codes(session: Session, household_ids: list[int]) -> dict[int, str | None]:
    rows = session.execute(
        text(
            """
            SELECT h.id, g.code FROM households h
            LEFT JOIN household_grid hg ON hg.household_id = h.id
            LEFT JOIN areas g ON g.id = hg.grid_id
            WHERE h.id = ANY(:ids)
            """
        ),
        {"ids": household_ids},
    )
    return {r.id: r.code for r in rows}
