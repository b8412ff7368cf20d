"""Small hand-made worlds for tests: square grids whose every figure is known in advance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from geoalchemy2.shape import from_shape
from shapely import MultiPolygon, Point, box
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models import (
    Area,
    Department,
    Hazard,
    Household,
    Incident,
    IncidentCategory,
    ReconstructionSite,
    User,
    WorkerGrid,
)
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


def add_category(
    session: Session,
    code: str = "road",
    name: str = "道路破损",
    *,
    deadline_days: int = 3,
    department: Department | None = None,
) -> IncidentCategory:
    category = IncidentCategory(
        code=code,
        name=name,
        deadline_days=deadline_days,
        department_id=department.id if department else None,
    )
    session.add(category)
    session.flush()
    return category


def add_department(session: Session, code: str = "cg", name: str = "城管", **values) -> Department:
    department = Department(code=code, name=name, **values)
    session.add(department)
    session.flush()
    return department


def add_incident(
    session: Session,
    world: World,
    grid_key: str,
    category: IncidentCategory,
    *,
    point: tuple[float, float] | None = None,
    **values,
) -> Incident:
    """An incident routed to one of the world's grids (its centre unless ``point`` is given).

    ``values`` sets any other column (status, created_at, deadline_at, closed_at, rating …).
    """
    grid = world.grids[grid_key]
    if point is None:
        from geoalchemy2.shape import to_shape

        centre = to_shape(grid.geom).centroid
        point = (centre.x, centre.y)
    incident = Incident(
        geom=from_shape(__import__("shapely").Point(*point), srid=4326),
        category_id=category.id,
        description=values.pop("description", "测试事件"),
        channel=values.pop("channel", "patrol"),
        grid_id=grid.id,
        community_id=world.community.id,
        street_id=world.street.id,
        department_id=category.department_id,
        **values,
    )
    session.add(incident)
    session.flush()
    return incident


def add_hazard(session: Session, name: str = "测试洪水区", **values) -> Hazard:
    """A flood zone over the NW grid (``values`` sets any other column)."""
    hazard = Hazard(
        name=name,
        hazard_class=values.pop("hazard_class", "flood"),
        severity=values.pop("severity", 3),
        geom=values.pop(
            "geom", from_shape(MultiPolygon([box(X0, Y0, X0 + STEP, Y0 + STEP)]), srid=4326)
        ),
        **values,
    )
    session.add(hazard)
    session.flush()
    return hazard


def add_site(session: Session, name: str = "安置房一期", **values) -> ReconstructionSite:
    """A housing site at the corner the four grids share, planned 30 days ago for 90 days."""
    site = ReconstructionSite(
        name=name,
        site_type=values.pop("site_type", "housing"),
        owner=values.pop("owner", "住建局"),
        geom=values.pop("geom", from_shape(Point(X0 + STEP, Y0 + STEP), srid=4326)),
        planned_start=values.pop("planned_start", date.today() - timedelta(days=30)),
        planned_end=values.pop("planned_end", date.today() + timedelta(days=60)),
        **values,
    )
    session.add(site)
    session.flush()
    return site


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (8, 8)) -> bytes:
    """A small real image (PNG, JPEG or WEBP) for upload tests."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()
